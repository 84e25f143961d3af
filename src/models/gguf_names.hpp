// The naming and layout conventions of llama.cpp's GGUF files that tessera reads (gguf_model.cpp)
// and writes (gguf_export.cpp): tensor names both ways, and the q/k row permutation.
// Internal to src/models.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "tessera/core/tensor.hpp"

namespace tessera::gguf_names {

// The architectures we translate, with the Hugging Face model_type each becomes.
struct ArchSpec {
  const char* model_type;
  bool permuted_qk;     // llama.cpp's converter permuted q/k rows for its interleaved RoPE
  bool norm_plus_one;   // the converter stored Gemma's (1 + w) norm scales as 1 + w
};

inline const std::map<std::string, ArchSpec>& architectures() {
  static const std::map<std::string, ArchSpec> a = {
      {"llama", {"llama", true, false}},  {"qwen2", {"qwen2", false, false}},
      {"qwen3", {"qwen3", false, false}}, {"gemma", {"gemma", false, true}},
  };
  return a;
}

// Tensor names: GGUF's (llama.cpp's LLM_TENSOR names) and Hugging Face's, whole-model and
// per layer (blk.N. / model.layers.N.). Mixture-of-experts tensors are mapped in translate().
inline constexpr std::pair<const char*, const char*> kGlobalNames[] = {
    {"token_embd.weight", "model.embed_tokens.weight"},
    {"output_norm.weight", "model.norm.weight"},
    {"output.weight", "lm_head.weight"},
};
inline constexpr std::pair<const char*, const char*> kLayerNames[] = {
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

inline bool is_permuted(std::string_view gguf_layer_name) {
  return gguf_layer_name.starts_with("attn_q.") || gguf_layer_name.starts_with("attn_k.");
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

// An owned copy of `t` (rows [n, ...]) whose row r is row source(r, head_dim) of `t`.
inline Tensor reorder_rows(const Tensor& t, int64_t head_dim, int64_t (*source)(int64_t, int64_t)) {
  const int64_t rows = t.dim(0);
  const size_t row_bytes = t.nbytes() / size_t(rows);
  Tensor out = Tensor::zeros(t.dtype(), t.shape());
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(static_cast<unsigned char*>(out.raw()) + size_t(r) * row_bytes,
                static_cast<const unsigned char*>(t.raw()) + size_t(source(r, head_dim)) * row_bytes, row_bytes);
  return out;
}

}  // namespace tessera::gguf_names
