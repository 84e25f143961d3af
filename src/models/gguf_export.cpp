// A Hugging Face decoder checkpoint written as the GGUF file llama.cpp's converter followed by
// `llama-quantize --pure TYPE` would make: llama.cpp's metadata keys and tensor names, q/k
// rows permuted for its interleaved RoPE, norms in F32, every weight matrix in TYPE (ggml's
// reference quantizers; rows that do not fit a K-quant's 256 fall back as llama-quantize does).
#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>

#include "gguf_names.hpp"
#include "tessera/models/hf_config.hpp"
#include "tessera/models/scope.hpp"
#include "tessera/blocks/linear.hpp"
#include "tessera/io/gguf.hpp"
#include "tessera/io/mmap.hpp"
#include "tessera/models/gguf_export.hpp"

namespace tessera {

namespace {

using namespace gguf_names;

// llama.cpp's llama_ftype for a file quantized to `type` (K-quants as the _M presets that
// llama-quantize's short names select).
uint32_t file_type(DType type) {
  switch (type) {
    case DType::F32: return 0;
    case DType::F16: return 1;
    case DType::Q4_0: return 2;
    case DType::Q4_1: return 3;
    case DType::Q8_0: return 7;
    case DType::Q5_0: return 8;
    case DType::Q5_1: return 9;
    case DType::Q2_K: return 10;
    case DType::Q3_K: return 12;
    case DType::Q4_K: return 15;
    case DType::Q5_K: return 17;
    case DType::Q6_K: return 18;
    case DType::BF16: return 32;
    default: fail("GGUF export: type {} cannot be written", dtype_name(type));
  }
}

// The pre-tokenizer name llama.cpp knows a byte-level BPE tokenizer.json's pre_tokenizer by.
std::string pre_tokenizer_name(const nlohmann::json& pre, const std::string& path) {
  static const std::string llama3 =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  static const std::string qwen2 =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  if (pre.is_object() && pre.value("type", "") == "ByteLevel" && pre.value("use_regex", true)) return "gpt-2";
  if (pre.is_object() && pre.value("type", "") == "Sequence" && pre.contains("pretokenizers")) {
    const auto& seq = pre["pretokenizers"];
    if (seq.is_array() && seq.size() == 2 && seq[0].value("type", "") == "Split" && seq[1].value("type", "") == "ByteLevel") {
      const auto& pattern = seq[0]["pattern"];
      const std::string regex = pattern.is_object() ? pattern.value("Regex", "") : "";
      if (regex == llama3) return "llama-bpe";
      if (regex == qwen2) return "qwen2";
    }
  }
  fail("{}: pre_tokenizer {} is not one llama.cpp names (supported: GPT-2's ByteLevel, Llama 3's and Qwen2's split)", path,
       pre.dump().substr(0, 200));
}

// tokenizer.json (byte-level BPE) → llama.cpp's tokenizer.ggml.* keys.
void write_tokenizer(GgufWriter& w, const std::string& dir, const JsonObject& cfg, int64_t vocab_size) {
  const std::string path = dir + "/tokenizer.json";
  const nlohmann::json tok = load_json_file(path);
  const auto& model = tok.at("model");
  if (model.value("type", "") != "BPE" || model.value("byte_fallback", false))
    fail("{}: only byte-level BPE tokenizers can be written to GGUF so far (found model type '{}')", path,
         model.value("type", "?"));
  std::vector<std::string> tokens(static_cast<size_t>(vocab_size));
  std::vector<int32_t> types(static_cast<size_t>(vocab_size), 0);
  auto place = [&](const std::string& text, int64_t id, int32_t type) {
    if (id < 0 || id >= vocab_size) fail("{}: token '{}' has id {}, outside the model's vocabulary of {}", path, text, id, vocab_size);
    tokens[size_t(id)] = text;
    types[size_t(id)] = type;
  };
  for (auto it = model.at("vocab").begin(); it != model.at("vocab").end(); ++it) place(it.key(), it.value().get<int64_t>(), 1);
  if (tok.contains("added_tokens"))
    for (const auto& a : tok["added_tokens"]) place(a.at("content"), a.at("id"), a.value("special", false) ? 3 : 4);
  for (int64_t i = 0; i < vocab_size; ++i)  // ids the tokenizer never produces, as the converter pads them
    if (types[size_t(i)] == 0) {
      tokens[size_t(i)] = fmt::format("[PAD{}]", i);
      types[size_t(i)] = 5;
    }
  std::vector<std::string> merges;
  for (const auto& m : model.at("merges"))
    merges.push_back(m.is_array() ? m[0].get<std::string>() + " " + m[1].get<std::string>() : m.get<std::string>());
  w.set("tokenizer.ggml.model", GgufValue(std::string("gpt2")));
  w.set("tokenizer.ggml.pre", GgufValue(std::string(pre_tokenizer_name(tok.value("pre_tokenizer", nlohmann::json()), path))));
  w.set("tokenizer.ggml.tokens", GgufValue::array(tokens));
  w.set("tokenizer.ggml.token_type", GgufValue::array(types));
  w.set("tokenizer.ggml.merges", GgufValue::array(merges));
  if (cfg.has("bos_token_id")) w.set("tokenizer.ggml.bos_token_id", GgufValue(uint32_t(cfg.get_int("bos_token_id"))));
  const auto eos = cfg.get_int_list("eos_token_id");
  if (!eos.empty()) w.set("tokenizer.ggml.eos_token_id", GgufValue(uint32_t(eos[0])));
  if (cfg.has("pad_token_id")) w.set("tokenizer.ggml.padding_token_id", GgufValue(uint32_t(cfg.get_int("pad_token_id"))));
  // Hugging Face's byte-level tokenizers add no BOS unless their post-processor does.
  const auto& post = tok.value("post_processor", nlohmann::json());
  const bool adds_bos = post.is_object() && post.value("type", "") == "TemplateProcessing";
  w.set("tokenizer.ggml.add_bos_token", GgufValue(adds_bos));
}

// Non-parameter buffers some checkpoints carry (causal masks, RoPE tables): not written.
bool is_buffer(std::string_view name) {
  return name.ends_with("rotary_emb.inv_freq") || name.ends_with(".attn.bias") || name.ends_with(".attn.masked_bias") ||
         name.ends_with(".attention.bias") || name.ends_with(".attention.masked_bias");
}

}  // namespace

void export_gguf(const std::string& dir, const std::string& out_path, const GgufExportOptions& options) {
  const std::string config_path = dir + "/config.json";
  if (!file_exists(config_path)) fail("{}: no config.json (expected a Hugging Face model directory)", dir);
  JsonObject cfg(load_json_file(config_path), config_path);
  const std::string type = cfg.get_string("model_type");
  // Hugging Face model_type -> GGUF architecture (the reverse of gguf_model.cpp's table).
  std::string arch;
  for (const auto& [a, spec] : architectures())
    if (type == spec.model_type) arch = a;
  if (type == "mistral" || type == "mixtral") arch = "llama";
  if (arch.empty())
    fail("{}: model_type '{}' cannot be written to GGUF yet (supported: llama, mistral, mixtral, qwen2, qwen3, gemma, "
         "gpt2, gpt_neox)",
         config_path, type);
  const ArchSpec& spec = architectures().at(arch);
  const WeightStore store = WeightStore::open_dir(dir);
  const bool gpt2 = spec.conv1d, neox = spec.grouped_qkv;

  // The dimensions under each family's config names.
  const int64_t d = cfg.get_size(gpt2 ? "n_embd" : "hidden_size");
  const int64_t heads = cfg.get_size(gpt2 ? "n_head" : "num_attention_heads");
  const int64_t kv_heads = gpt2 || neox ? heads : cfg.get_size("num_key_value_heads", heads, 1 << 20);
  const int64_t head_dim = cfg.has("head_dim") && !gpt2 && !neox ? cfg.get_size("head_dim") : d / heads;
  const int64_t layers = cfg.get_size(gpt2 ? "n_layer" : "num_hidden_layers"), vocab = cfg.get_size("vocab_size");
  const int64_t ffn = gpt2 ? cfg.get_size("n_inner", 4 * d, int64_t(1) << 31) : cfg.get_size("intermediate_size");
  const int64_t context = cfg.get_size(gpt2 ? "n_positions" : "max_position_embeddings");
  double theta = cfg.get_float("rope_theta", cfg.get_float("rotary_emb_base", 10000.0));
  if (auto p = cfg.get_object("rope_parameters")) theta = p->get_float("rope_theta", theta);

  GgufWriter w;
  auto key = [&](const char* k) { return arch + "." + k; };
  w.set("general.architecture", GgufValue(std::string(arch)));
  w.set("general.name", GgufValue(std::string(std::filesystem::path(dir).filename().string())));
  w.set(key("block_count"), GgufValue(uint32_t(layers)));
  w.set(key("context_length"), GgufValue(uint32_t(context)));
  w.set(key("embedding_length"), GgufValue(uint32_t(d)));
  w.set(key("feed_forward_length"), GgufValue(uint32_t(ffn)));
  w.set(key("attention.head_count"), GgufValue(uint32_t(heads)));
  if (gpt2 || neox) {  // LayerNorm families, as the converter writes them
    const char* eps = gpt2 ? "layer_norm_epsilon" : "layer_norm_eps";
    w.set(key("attention.layer_norm_epsilon"), GgufValue(float(cfg.get_float(eps, 1e-5))));
    if (gpt2) {
      const std::string act = cfg.get_string("activation_function", "gelu_new");
      if (act != "gelu_new" && act != "gelu_pytorch_tanh")
        fail("{}: activation_function '{}' cannot be written to GGUF (llama.cpp computes GPT-2 with tanh GELU)",
             config_path, act);
      if (cfg.get_bool("scale_attn_by_inverse_layer_idx", false) || !cfg.get_bool("scale_attn_weights", true))
        fail("{}: GPT-2's attention scaling options cannot be written to GGUF", config_path);
    } else {
      if (cfg.get_string("hidden_act", "gelu") != "gelu")
        fail("{}: hidden_act '{}' cannot be written to GGUF (the format records no activation; readers assume gelu)",
             config_path, cfg.get_string("hidden_act", "gelu"));
      if (!cfg.get_bool("attention_bias", true) || cfg.get_bool("tie_word_embeddings", false))
        fail("{}: GPT-NeoX without attention biases or with tied embeddings cannot be written to GGUF", config_path);
      w.set(key("use_parallel_residual"), GgufValue(cfg.get_bool("use_parallel_residual", true)));
    }
  } else {
    w.set(key("attention.head_count_kv"), GgufValue(uint32_t(kv_heads)));
    w.set(key("attention.layer_norm_rms_epsilon"), GgufValue(float(cfg.get_float("rms_norm_eps", 1e-6))));
    if (head_dim != d / heads) {
      w.set(key("attention.key_length"), GgufValue(uint32_t(head_dim)));
      w.set(key("attention.value_length"), GgufValue(uint32_t(head_dim)));
    }
  }
  const RopeSpec rope = gpt2 ? RopeSpec{} : hf::rope(cfg, head_dim);
  if (!gpt2) {
    w.set(key("rope.freq_base"), GgufValue(float(theta)));
    w.set(key("rope.dimension_count"), GgufValue(uint32_t(rope.rotary_dim)));
    if (rope.rotary_dim != head_dim && !neox)
      fail("{}: partial rotary embeddings cannot be written to GGUF yet for {}", config_path, type);
  }
  // RoPE scaling as llama.cpp's converter writes it: linear as metadata, llama3 as the
  // per-frequency divisors of a rope_freqs tensor.
  if (rope.type == RopeSpec::Type::Linear) {
    w.set(key("rope.scaling.type"), GgufValue(std::string("linear")));
    w.set(key("rope.scaling.factor"), GgufValue(float(rope.factor)));
  } else if (rope.type == RopeSpec::Type::Llama3) {
    std::vector<float> factors;
    const double low_wavelen = double(rope.original_max_positions) / rope.low_freq_factor;
    const double high_wavelen = double(rope.original_max_positions) / rope.high_freq_factor;
    for (int64_t i = 0; i < head_dim / 2; ++i) {
      const double freq = 1.0 / std::pow(rope.theta, double(2 * i) / double(head_dim)), wavelen = 2 * M_PI / freq;
      if (wavelen < high_wavelen) {
        factors.push_back(1.0f);
      } else if (wavelen > low_wavelen) {
        factors.push_back(float(rope.factor));
      } else {
        const double smooth = (double(rope.original_max_positions) / wavelen - rope.low_freq_factor) /
                              (rope.high_freq_factor - rope.low_freq_factor);
        factors.push_back(float(1.0 / ((1 - smooth) / rope.factor + smooth)));
      }
    }
    w.add_tensor("rope_freqs.weight", Tensor::from_f32({head_dim / 2}, factors));
  } else if (rope.type != RopeSpec::Type::Default) {
    fail("{}: this RoPE scaling cannot be written to GGUF yet (supported: default, linear, llama3)", config_path);
  }
  if ((type == "mistral" || type == "mixtral") && cfg.get_int("sliding_window", 0) > 0)
    w.set(key("attention.sliding_window"), GgufValue(uint32_t(cfg.get_int("sliding_window", 0))));
  w.set(key("vocab_size"), GgufValue(uint32_t(vocab)));
  w.set("general.file_type", GgufValue(file_type(options.type)));
  if (is_quantized(options.type)) w.set("general.quantization_version", GgufValue(uint32_t(2)));
  if (file_exists(dir + "/tokenizer.json")) write_tokenizer(w, dir, cfg, vocab);  // without one, llama.cpp cannot load it

  // Tensors: names from the shared table, q/k permuted, Gemma's norms as 1 + w, 2-D weights
  // quantized; a mixture of experts' matrices stacked into one 3-D tensor per kind.
  WeightStore quantizer = WeightStore::from_tensors("", {});
  quantizer.set_quantize(options.type);
  std::set<std::string> written;
  const size_t total = store.names().size();
  auto emit = [&](const std::string& gguf, std::string_view local, const std::vector<std::string>& hf_parts) {
    std::vector<Tensor> parts;
    for (const auto& hf : hf_parts) parts.push_back(store.get(hf));
    Tensor t = parts[0];
    if (parts.size() > 1) {  // experts: [E, rows, cols]
      Shape shape = {int64_t(parts.size()), t.dim(0), t.dim(1)};
      t = Tensor::zeros(t.dtype(), shape);
      for (size_t e = 0; e < parts.size(); ++e) {
        if (parts[e].shape() != parts[0].shape() || parts[e].dtype() != parts[0].dtype())
          fail("{}: tensor '{}' differs in shape or dtype from '{}'", store.file_of(hf_parts[e]), hf_parts[e], hf_parts[0]);
        std::memcpy(static_cast<unsigned char*>(t.raw()) + e * parts[0].nbytes(), parts[e].raw(), parts[0].nbytes());
      }
    }
    // Conv1D [in, out] -> [out, in], as the converter writes GPT-2's layer matrices.
    if (spec.conv1d && t.rank() == 2 && gguf.starts_with("blk.")) t = t.transposed();
    t = convert_rows(spec, local, t, head_dim, false);
    if (t.rank() == 1) {
      Tensor f = t.to_f32();
      if (spec.norm_plus_one && local.ends_with("norm.weight")) {
        if (f.raw() == t.raw()) f = Tensor::from_f32(t.shape(), std::vector<float>(t.data<float>(), t.data<float>() + t.numel()));
        for (int64_t i = 0; i < f.numel(); ++i) f.data<float>()[i] += 1.0f;
      }
      w.add_tensor(gguf, f);
    } else {
      const int64_t k = t.dim(-1), rows = t.numel() / k;
      const DType target = quantize_fallback(options.type, k);
      Tensor flat = t.reshaped({rows, k});
      if (target == DType::F32) flat = flat.to_f32();
      else if (target != flat.dtype()) flat = Scope(quantizer).quantized(flat);
      w.add_tensor(gguf, flat.reshaped(t.shape()));
    }
    for (const auto& hf : hf_parts) written.insert(hf);
    if (options.progress) options.progress(written.size(), total);
  };
  // GPT-2 checkpoints name their tensors with or without the "transformer." prefix.
  const bool bare = gpt2 && !store.has("transformer.wte.weight") && store.has("wte.weight");
  auto hf_name = [&](std::string n) { return bare && n.starts_with("transformer.") ? n.substr(12) : n; };
  for (const auto& [g, h] : spec.global_names)
    if (store.has(hf_name(h))) emit(g, g, {hf_name(h)});
  const bool moe = type == "mixtral";
  const int64_t experts = moe ? cfg.get_size("num_local_experts", 4096) : 0;
  if (moe) {
    w.set(key("expert_count"), GgufValue(uint32_t(experts)));
    w.set(key("expert_used_count"), GgufValue(uint32_t(cfg.get_size("num_experts_per_tok", experts))));
  }
  for (int64_t l = 0; l < layers; ++l) {
    const std::string b = fmt::format("blk.{}.", l), h = hf_name(fmt::format("{}{}.", spec.layer_prefix, l));
    for (const auto& [g, hf] : spec.layer_names)
      if (store.has(h + hf)) emit(b + g, g, {h + hf});
    if (!moe) continue;
    emit(b + "ffn_gate_inp.weight", "ffn_gate_inp.weight", {h + "block_sparse_moe.gate.weight"});
    const std::pair<const char*, const char*> kinds[] = {{"ffn_gate_exps", "w1"}, {"ffn_down_exps", "w2"}, {"ffn_up_exps", "w3"}};
    for (const auto& [g, part] : kinds) {
      std::vector<std::string> names;
      for (int64_t e = 0; e < experts; ++e) names.push_back(fmt::format("{}block_sparse_moe.experts.{}.{}.weight", h, e, part));
      emit(b + g + ".weight", g, names);
    }
  }
  for (const auto& hf : store.names())
    if (!written.count(hf) && !is_buffer(hf))
      fail("{}: tensor '{}' has no GGUF name for architecture '{}'", store.file_of(hf), hf, arch);
  w.write(out_path);
}

}  // namespace tessera
