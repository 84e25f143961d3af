// The naming and layout conventions of llama.cpp's GGUF files that tessera reads (gguf_model.cpp)
// and writes (gguf_export.cpp): tensor names both ways, and the q/k row permutation.
// Internal to src/models.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "tessera/core/tensor.hpp"

namespace tessera::gguf_names {

// Tensor names: GGUF's (llama.cpp's LLM_TENSOR names) and Hugging Face's, whole-model and
// per layer (blk.N. / the family's layer prefix). Mixture-of-experts tensors are mapped in
// translate().
struct NamePair {
  const char* gguf;
  const char* hf;
};

inline constexpr NamePair kLlamaGlobalNames[] = {
    {"token_embd.weight", "model.embed_tokens.weight"},
    {"output_norm.weight", "model.norm.weight"},
    {"output.weight", "lm_head.weight"},
};
inline constexpr NamePair kLlamaLayerNames[] = {
    {"attn_norm.weight", "input_layernorm.weight"},
    {"ffn_norm.weight", "post_attention_layernorm.weight"},
    {"attn_q.weight", "self_attn.q_proj.weight"},     {"attn_q.bias", "self_attn.q_proj.bias"},
    {"attn_k.weight", "self_attn.k_proj.weight"},     {"attn_k.bias", "self_attn.k_proj.bias"},
    {"attn_v.weight", "self_attn.v_proj.weight"},     {"attn_v.bias", "self_attn.v_proj.bias"},
    {"attn_output.weight", "self_attn.o_proj.weight"}, {"attn_output.bias", "self_attn.o_proj.bias"},
    {"attn_q_norm.weight", "self_attn.q_norm.weight"}, {"attn_k_norm.weight", "self_attn.k_norm.weight"},
    {"ffn_gate.weight", "mlp.gate_proj.weight"},
    {"ffn_up.weight", "mlp.up_proj.weight"},
    {"ffn_down.weight", "mlp.down_proj.weight"},
};

inline constexpr NamePair kGpt2GlobalNames[] = {
    {"token_embd.weight", "transformer.wte.weight"},    {"position_embd.weight", "transformer.wpe.weight"},
    {"output_norm.weight", "transformer.ln_f.weight"}, {"output_norm.bias", "transformer.ln_f.bias"},
    {"output.weight", "lm_head.weight"},
};
inline constexpr NamePair kGpt2LayerNames[] = {
    {"attn_norm.weight", "ln_1.weight"},          {"attn_norm.bias", "ln_1.bias"},
    {"attn_qkv.weight", "attn.c_attn.weight"},    {"attn_qkv.bias", "attn.c_attn.bias"},
    {"attn_output.weight", "attn.c_proj.weight"}, {"attn_output.bias", "attn.c_proj.bias"},
    {"ffn_norm.weight", "ln_2.weight"},           {"ffn_norm.bias", "ln_2.bias"},
    {"ffn_up.weight", "mlp.c_fc.weight"},         {"ffn_up.bias", "mlp.c_fc.bias"},
    {"ffn_down.weight", "mlp.c_proj.weight"},     {"ffn_down.bias", "mlp.c_proj.bias"},
};

inline constexpr NamePair kNeoxGlobalNames[] = {
    {"token_embd.weight", "gpt_neox.embed_in.weight"},
    {"output_norm.weight", "gpt_neox.final_layer_norm.weight"},
    {"output_norm.bias", "gpt_neox.final_layer_norm.bias"},
    {"output.weight", "embed_out.weight"},
};
inline constexpr NamePair kNeoxLayerNames[] = {
    {"attn_norm.weight", "input_layernorm.weight"},
    {"attn_norm.bias", "input_layernorm.bias"},
    {"attn_qkv.weight", "attention.query_key_value.weight"},
    {"attn_qkv.bias", "attention.query_key_value.bias"},
    {"attn_output.weight", "attention.dense.weight"},
    {"attn_output.bias", "attention.dense.bias"},
    {"ffn_norm.weight", "post_attention_layernorm.weight"},
    {"ffn_norm.bias", "post_attention_layernorm.bias"},
    {"ffn_up.weight", "mlp.dense_h_to_4h.weight"},
    {"ffn_up.bias", "mlp.dense_h_to_4h.bias"},
    {"ffn_down.weight", "mlp.dense_4h_to_h.weight"},
    {"ffn_down.bias", "mlp.dense_4h_to_h.bias"},
};

// How one GGUF architecture maps onto a Hugging Face family: the model_type it becomes, its
// tensor names, and the layout differences llama.cpp's converter introduced.
struct ArchSpec {
  const char* model_type;
  const char* layer_prefix;  // Hugging Face's per-layer prefix, before the layer number
  std::span<const NamePair> global_names, layer_names;
  bool permuted_qk = false;    // q/k rows permuted for llama.cpp's interleaved RoPE
  bool norm_plus_one = false;  // Gemma's (1 + w) norm scales stored as 1 + w
  bool conv1d = false;         // GPT-2's Conv1D [in, out] matrices stored as [out, in]
  bool grouped_qkv = false;    // GPT-NeoX's per-head [q k v] rows stored as [q all | k all | v all]
};

inline const std::map<std::string, ArchSpec>& architectures() {
  static const std::map<std::string, ArchSpec> a = {
      {"llama", {"llama", "model.layers.", kLlamaGlobalNames, kLlamaLayerNames, true}},
      {"qwen2", {"qwen2", "model.layers.", kLlamaGlobalNames, kLlamaLayerNames}},
      {"qwen3", {"qwen3", "model.layers.", kLlamaGlobalNames, kLlamaLayerNames}},
      {"gemma", {"gemma", "model.layers.", kLlamaGlobalNames, kLlamaLayerNames, false, true}},
      {"gpt2", {"gpt2", "transformer.h.", kGpt2GlobalNames, kGpt2LayerNames, false, false, true}},
      {"gptneox", {"gpt_neox", "gpt_neox.layers.", kNeoxGlobalNames, kNeoxLayerNames, false, false, false, true}},
  };
  return a;
}

// The converter's permute(): within each head, rows (i, hd/2 + i) of Hugging Face's
// rotate-half layout were interleaved to (2i, 2i + 1). Row r of the result is row
// unpermuted_source(r) of the file's tensor.
inline int64_t unpermuted_source(int64_t r, int64_t head_dim) {
  const int64_t h = r / head_dim, j = r % head_dim, half = head_dim / 2;
  return h * head_dim + (j < half ? 2 * j : 2 * (j - half) + 1);
}

// The inverse: row r of the file's tensor is row permuted_source(r) of Hugging Face's.
inline int64_t permuted_source(int64_t r, int64_t head_dim) {
  const int64_t h = r / head_dim, j = r % head_dim, half = head_dim / 2;
  return h * head_dim + (j % 2) * half + j / 2;
}

// GPT-NeoX's fused query_key_value: Hugging Face lays rows out per head as [q k v] (head h,
// part p, row i at (3h + p)·hd + i); llama.cpp's converter regrouped them as [q all | k all |
// v all] (at p·d + h·hd + i). Row r of Hugging Face's layout is row grouped_source(r) of the
// file's tensor, and the other way round.
inline int64_t grouped_source(int64_t r, int64_t head_dim, int64_t rows) {
  const int64_t h = r / (3 * head_dim), p = (r / head_dim) % 3, i = r % head_dim;
  return p * (rows / 3) + h * head_dim + i;
}
inline int64_t interleaved_source(int64_t r, int64_t head_dim, int64_t rows) {
  const int64_t d = rows / 3, p = r / d, h = (r % d) / head_dim, i = r % head_dim;
  return (3 * h + p) * head_dim + i;
}

// An owned copy of `t` (rows [n, ...], any dtype: whole rows move) whose row r is row
// source(r) of `t`.
template <class Source>
Tensor reorder_rows(const Tensor& t, Source source) {
  const int64_t rows = t.dim(0);
  const size_t row_bytes = t.nbytes() / size_t(rows);
  Tensor out = Tensor::zeros(t.dtype(), t.shape());
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(static_cast<unsigned char*>(out.raw()) + size_t(r) * row_bytes,
                static_cast<const unsigned char*>(t.raw()) + size_t(source(r)) * row_bytes, row_bytes);
  return out;
}

// A tensor with llama.cpp's row layout (`to_hf` false: from Hugging Face's) or back to Hugging
// Face's (`to_hf` true): q/k permutation or NeoX's regrouping, for the tensors they apply to
// (`local`: the name within a layer, "attn_q.weight"). Other tensors are returned as they are.
inline Tensor convert_rows(const ArchSpec& spec, std::string_view local, const Tensor& t, int64_t head_dim, bool to_hf) {
  if (spec.permuted_qk && (local.starts_with("attn_q.") || local.starts_with("attn_k.")))
    return reorder_rows(t, [&](int64_t r) { return to_hf ? unpermuted_source(r, head_dim) : permuted_source(r, head_dim); });
  if (spec.grouped_qkv && local.starts_with("attn_qkv.")) {
    const int64_t rows = t.dim(0);
    return reorder_rows(t, [&](int64_t r) {
      return to_hf ? grouped_source(r, head_dim, rows) : interleaved_source(r, head_dim, rows);
    });
  }
  return t;
}

}  // namespace tessera::gguf_names
