// Models from GGUF files, as llama.cpp's converter writes them: the `{arch}.*` metadata is
// translated into the config.json Hugging Face would have, and the tensors are handed to
// the same family loader under Hugging Face's names (a name map, plus the few layout
// differences the converter introduced, undone here). Quantized tensors stay in the mapping.
#include <cstring>
#include <map>
#include <set>
#include <string_view>

#include "gguf_names.hpp"
#include "tessera/io/gguf.hpp"
#include "tessera/models/load.hpp"

namespace tessera {

namespace {

using namespace gguf_names;

// F32 copy of `t` minus one (Gemma's norm scales, which the converter stored as 1 + w).
Tensor minus_one(const Tensor& t) {
  Tensor f = Tensor::zeros(DType::F32, t.shape());
  for (int64_t i = 0; i < t.numel(); ++i) f.data<float>()[i] = t.get_f32(i) - 1.0f;
  return f;
}

// A row-major slice [i] of a 3-D tensor [e, n, k] (one expert's matrix), borrowed.
Tensor slice0(const Tensor& t, int64_t i) {
  const size_t bytes = t.nbytes() / size_t(t.dim(0));
  return Tensor::borrow(t.dtype(), {t.dim(1), t.dim(2)}, static_cast<const unsigned char*>(t.raw()) + size_t(i) * bytes,
                        t.keepalive());
}

struct Translation {
  nlohmann::json config;
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> gguf_name;  // HF name -> GGUF name, for release
};

// Llama-style RoPE metadata (base, scaling, Llama 3's rope_freqs) and Mistral's window into
// config `c`.
void llama_rope(const GgufFile& f, const std::string& arch, int64_t head_dim, nlohmann::json& c) {
  auto key = [&](const std::string& k) { return arch + "." + k; };
  // Not written by llama.cpp's converter for llama (it attends over the whole context); a
  // file tessera-quantize made from a Mistral checkpoint keeps Mistral's window.
  if (f.has(key("attention.sliding_window"))) {
    if (arch != "llama") fail("{}: {} is only supported for llama", f.path(), key("attention.sliding_window"));
    c["model_type"] = "mistral";
    c["sliding_window"] = f.get_int(key("attention.sliding_window"));
  }

  // RoPE: base, scaling (linear, yarn), llama3's per-frequency divisors (rope_freqs).
  nlohmann::json rope = {{"rope_theta", f.get_float(key("rope.freq_base"), 10000.0)}, {"rope_type", "default"}};
  const int64_t rope_dims = f.get_int(key("rope.dimension_count"), head_dim);
  if (rope_dims != head_dim) rope["partial_rotary_factor"] = double(rope_dims) / double(head_dim);
  const std::string scaling = f.get_string(key("rope.scaling.type"), "none");
  if (scaling == "linear" || scaling == "yarn") {
    rope["rope_type"] = scaling;
    rope["factor"] = f.get_float(key("rope.scaling.factor"));
    if (scaling == "yarn") {
      rope["original_max_position_embeddings"] = f.get_int(key("rope.scaling.original_context_length"));
      c["max_position_embeddings"] = f.get_int(key("context_length"));
    }
  } else if (scaling != "none") {
    fail("{}: {} = '{}' is not supported (supported: none, linear, yarn)", f.path(), key("rope.scaling.type"), scaling);
  }
  if (f.has_tensor("rope_freqs.weight")) {
    Tensor r = f.tensor("rope_freqs.weight");
    if (r.rank() != 1 || r.dim(0) != rope_dims / 2 || !is_float(r.dtype()))
      fail("{}: tensor 'rope_freqs.weight': expected {} float values (rotary dimension / 2), found shape {} of {}", f.path(),
           rope_dims / 2, shape_str(r.shape()), dtype_name(r.dtype()));
    std::vector<float> factors;
    for (int64_t i = 0; i < r.dim(0); ++i) factors.push_back(r.get_f32(i));
    rope["freq_factors"] = factors;
  }
  c["rope_parameters"] = rope;
}

Translation translate(const GgufFile& f) {
  const std::string arch = f.get_string("general.architecture");
  auto it = architectures().find(arch);
  if (it == architectures().end()) {
    std::string known;
    for (const auto& [k, v] : architectures()) known += (known.empty() ? "" : ", ") + k;
    fail("{}: general.architecture '{}' is not supported (supported: {})", f.path(), arch, known);
  }
  const ArchSpec& spec = it->second;
  auto key = [&](const std::string& k) { return arch + "." + k; };
  Translation t;
  nlohmann::json& c = t.config;

  const int64_t d = f.get_int(key("embedding_length"));
  const int64_t layers = f.get_int(key("block_count"));
  const int64_t heads = f.get_int(key("attention.head_count"));
  const int64_t kv_heads = f.get_int(key("attention.head_count_kv"), heads);
  if (heads <= 0 || kv_heads <= 0 || layers <= 0 || d <= 0)
    fail("{}: {} must be positive (found embedding_length {}, block_count {}, head_count {}, head_count_kv {})", f.path(),
         arch, d, layers, heads, kv_heads);
  const int64_t head_dim = f.get_int(key("attention.key_length"), d / heads);
  if (f.get_int(key("attention.value_length"), head_dim) != head_dim)
    fail("{}: {} differs from {}: separate key and value head sizes are not supported", f.path(),
         key("attention.value_length"), key("attention.key_length"));
  if (!f.has_tensor("token_embd.weight")) fail("{}: missing tensor 'token_embd.weight'", f.path());
  const Shape embd = f.tensor_info("token_embd.weight").shape;
  if (embd.size() != 2) fail("{}: tensor 'token_embd.weight' must have 2 dimensions, found {}", f.path(), embd.size());

  if ((spec.conv1d || spec.grouped_qkv) && (kv_heads != heads || head_dim * heads != d))
    fail("{}: {} with head_count_kv {} / key_length {} is not supported (expected {} / {})", f.path(), arch, kv_heads,
         head_dim, heads, d / heads);
  c["model_type"] = spec.model_type;
  c["vocab_size"] = embd[0];
  c["tie_word_embeddings"] = !f.has_tensor("output.weight");
  const int64_t experts = f.get_int(key("expert_count"), 0);
  if (arch == "gpt2") {
    c["n_embd"] = d;
    c["n_layer"] = layers;
    c["n_head"] = heads;
    c["n_positions"] = f.get_int(key("context_length"), 1024);
    c["layer_norm_epsilon"] = f.get_float(key("attention.layer_norm_epsilon"), 1e-5);
    c["activation_function"] = "gelu_new";  // what llama.cpp computes for gpt2 (tanh GELU)
  } else if (arch == "gptneox") {
    c["hidden_size"] = d;
    c["num_hidden_layers"] = layers;
    c["num_attention_heads"] = heads;
    c["max_position_embeddings"] = f.get_int(key("context_length"), 2048);
    c["layer_norm_eps"] = f.get_float(key("attention.layer_norm_epsilon"), 1e-5);
    c["use_parallel_residual"] = f.get_bool(key("use_parallel_residual"), true);
    c["attention_bias"] = f.has_tensor("blk.0.attn_qkv.bias");
    // GGUF does not record the activation; Pythia and every GPT-NeoX checkpoint the converter
    // takes use Hugging Face's default, exact GELU.
    c["hidden_act"] = "gelu";
    c["rope_parameters"] = {{"rope_theta", f.get_float(key("rope.freq_base"), 10000.0)},
                            {"partial_rotary_factor", double(f.get_int(key("rope.dimension_count"), head_dim)) / double(head_dim)}};
  } else {
    c["hidden_size"] = d;
    c["num_hidden_layers"] = layers;
    c["num_attention_heads"] = heads;
    c["num_key_value_heads"] = kv_heads;
    c["head_dim"] = head_dim;
    c["max_position_embeddings"] = f.get_int(key("context_length"), 4096);
    c["rms_norm_eps"] = f.get_float(key("attention.layer_norm_rms_epsilon"), 1e-6);
    // Biases are told by the tensors (Qwen2's q/k/v biases are implied by its model_type).
    c["attention_bias"] = f.has_tensor("blk.0.attn_output.bias") || (arch != "qwen2" && f.has_tensor("blk.0.attn_q.bias"));
    llama_rope(f, arch, head_dim, c);
  }
  // Tokens the tokenizer metadata names.
  if (f.has("tokenizer.ggml.bos_token_id")) c["bos_token_id"] = f.get_int("tokenizer.ggml.bos_token_id");
  if (f.has("tokenizer.ggml.eos_token_id")) {
    std::vector<int64_t> eos = {f.get_int("tokenizer.ggml.eos_token_id")};
    if (f.has("tokenizer.ggml.eot_token_id") && f.get_int("tokenizer.ggml.eot_token_id") != eos[0])
      eos.push_back(f.get_int("tokenizer.ggml.eot_token_id"));
    c["eos_token_id"] = eos;
  }
  if (f.has("tokenizer.ggml.padding_token_id")) c["pad_token_id"] = f.get_int("tokenizer.ggml.padding_token_id");

  // Tensors under Hugging Face's names.
  auto put = [&](const std::string& gguf, const std::string& hf, Tensor v) {
    t.tensors[hf] = std::move(v);
    t.gguf_name[hf] = gguf;
  };
  auto map = [&](const std::string& gguf, const std::string& hf) {
    if (f.has_tensor(gguf)) put(gguf, hf, f.tensor(gguf));
  };
  // Any tensor, with Gemma's norm scales shifted back.
  auto norm = [&](const std::string& gguf, const std::string& hf) {
    if (!f.has_tensor(gguf)) return;
    const bool shift = spec.norm_plus_one && std::string_view(gguf).ends_with("norm.weight");
    put(gguf, hf, shift ? minus_one(f.tensor(gguf)) : f.tensor(gguf));
  };
  for (const auto& [g, h] : spec.global_names) norm(g, h);
  const char* ffn_key = arch == "gpt2" ? "n_inner" : "intermediate_size";
  bool ffn_set = false;
  for (int64_t l = 0; l < layers; ++l) {
    const std::string b = fmt::format("blk.{}.", l), h = fmt::format("{}{}.", spec.layer_prefix, l);
    for (const auto& [g, hf] : spec.layer_names) {
      const std::string gn = b + g, hn = h + hf;
      if (!f.has_tensor(gn)) continue;
      Tensor v = convert_rows(spec, g, f.tensor(gn), head_dim, true);
      if (v.raw() != f.tensor(gn).raw()) put(gn, hn, std::move(v));
      else norm(gn, hn);
    }
    if (experts > 0) {
      map(b + "ffn_gate_inp.weight", h + "block_sparse_moe.gate.weight");
      const std::pair<const char*, const char*> parts[] = {{"ffn_gate", "w1"}, {"ffn_down", "w2"}, {"ffn_up", "w3"}};
      for (const auto& [g, w] : parts) {
        const std::string merged = b + g + "_exps.weight";
        if (f.has_tensor(merged)) {  // [experts, rows, cols] in one tensor
          Tensor m = f.tensor(merged);
          if (m.rank() != 3 || m.dim(0) != experts)
            fail("{}: tensor '{}': expected {} experts in the first dimension, found shape {}", f.path(), merged, experts,
                 shape_str(m.shape()));
          for (int64_t e = 0; e < experts; ++e)
            put(merged, fmt::format("{}block_sparse_moe.experts.{}.{}.weight", h, e, w), slice0(m, e));
        } else {  // older files: one tensor per expert
          for (int64_t e = 0; e < experts; ++e)
            map(fmt::format("{}{}.{}.weight", b, g, e), fmt::format("{}block_sparse_moe.experts.{}.{}.weight", h, e, w));
        }
      }
    } else {
      if (!ffn_set && f.has_tensor(b + "ffn_up.weight")) {
        c[ffn_key] = f.tensor_info(b + "ffn_up.weight").shape[0];
        ffn_set = true;
      }
    }
  }
  if (experts > 0) {
    if (arch != "llama") fail("{}: {} is only supported for llama", f.path(), key("expert_count"));
    c["model_type"] = "mixtral";
    c["num_local_experts"] = experts;
    c["num_experts_per_tok"] = f.get_int(key("expert_used_count"));
    c["intermediate_size"] = f.get_int(key("expert_feed_forward_length"), f.get_int(key("feed_forward_length")));
  } else if (!ffn_set) {
    c[ffn_key] = f.get_int(key("feed_forward_length"));
  }
  // Tensors the translation did not place would silently be ignored: refuse them by name.
  std::set<std::string> used;
  for (const auto& [hf, g] : t.gguf_name) used.insert(g);
  for (const auto& n : f.tensor_names())
    if (!used.count(n) && n != "rope_freqs.weight")
      fail("{}: tensor '{}' is not used by tessera's '{}' architecture (an unsupported variant of it?)", f.path(), n, arch);
  return t;
}

}  // namespace

std::shared_ptr<const Model> load_gguf(const std::string& path, const LoadOptions& options) {
  auto file = std::make_shared<GgufFile>(GgufFile::open(path));
  Translation t = translate(*file);
  std::map<std::string, std::string> names = std::move(t.gguf_name);
  WeightStore store = WeightStore::from_tensors(path, std::move(t.tensors), [file, names](const std::string& hf) {
    if (auto it = names.find(hf); it != names.end()) file->release(it->second);
  });
  store.set_quantize(options.quantize);
  // llama.cpp's converter transposed GPT-2's Conv1D matrices to [out, in].
  store.set_conv1d_transposed(architectures().at(file->get_string("general.architecture")).conv1d);
  return load_from(JsonObject(std::move(t.config), path + " (GGUF metadata)"), store, path);
}

}  // namespace tessera
