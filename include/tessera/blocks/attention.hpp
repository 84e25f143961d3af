// Multi-head attention over a KV cache: MHA, GQA and MQA (kv heads shared by groups of query
// heads, never copied), causal or bidirectional, sliding window, optional q/k RMSNorm
// (Qwen3), rotary positions, ALiBi slopes (BLOOM, Falcon) or an additive relative bias (T5).
// Cross-attention uses the same block with keys and values projected once from the encoder
// output. Keys and values come from a KvCache (decoding) or, for bidirectional attention over
// rows all in hand (encoders), straight from the projected rows.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "tessera/blocks/kv_cache.hpp"
#include "tessera/blocks/linear.hpp"
#include "tessera/blocks/norm.hpp"
#include "tessera/blocks/position.hpp"
#include "tessera/core/parallel.hpp"

namespace tessera {

struct AttentionConfig {
  int64_t hidden = 0;  // model width (input of q/k/v, output of o)
  int64_t heads = 0, kv_heads = 0, head_dim = 0;
  bool causal = true;
  int64_t window = 0;  // sliding window: a query at p sees keys p - window < j <= p (bidirectional: |j - p| < window); 0 = unlimited
  float scale = 1.0f;  // multiplies q·k
  float softcap = 0.0f;  // > 0: scores soft-capped to softcap·tanh(s / softcap) before the mask (Gemma 2)
  // ALiBi (BLOOM, Falcon): one slope per query head, empty = off; the score of key position j
  // for the query at i gets alibi_scale · (slope·j − slope·i) (alibi_bf16: each product rounded
  // to bf16 first, as Falcon); see kernels::AttentionArgs.
  std::vector<float> alibi_slopes = {};
  float alibi_scale = 1.0f;
  bool alibi_bf16 = false;
};

// An additive score bias b(head, query position, key position), e.g. T5's relative buckets.
using ScoreBias = std::function<float(int64_t head, int64_t qpos, int64_t kpos)>;

class Attention {
 public:
  Attention() = default;
  // Separate q [heads·head_dim, hidden], k and v [kv_heads·head_dim, hidden], o [hidden, heads·head_dim].
  Attention(const AttentionConfig& config, Linear q_proj, Linear k_proj, Linear v_proj, Linear o_proj)
      : cfg(config), q(std::move(q_proj)), k(std::move(k_proj)), v(std::move(v_proj)), o(std::move(o_proj)) {
    validate();
    check_shape(q, "q", q_width(), cfg.hidden);
    check_shape(k, "k", kv_width(), cfg.hidden);
    check_shape(v, "v", kv_width(), cfg.hidden);
    check_shape(o, "o", cfg.hidden, q_width());
  }
  // One projection whose rows are [q | k | v] (Phi-3's qkv_proj, GPT-2's c_attn).
  Attention(const AttentionConfig& config, Linear qkv_proj, Linear o_proj)
      : cfg(config), qkv(std::move(qkv_proj)), o(std::move(o_proj)) {
    validate();
    check_shape(*qkv, "qkv", qkv_width(), cfg.hidden);
    check_shape(o, "o", cfg.hidden, q_width());
  }

  AttentionConfig cfg;
  // Either separate projections or one fused [q | k | v] projection.
  std::optional<Linear> qkv;
  Linear q, k, v, o;
  // RMSNorm on q and k before RoPE: per head over head_dim (Qwen3) or over the whole
  // projection width (OLMo 2); the norm's size says which.
  std::optional<Norm> q_norm, k_norm;
  Rope rope;                           // disabled when rotary_dim == 0
  // An additive score bias (T5's relative buckets). Held by shared ownership: the layers of
  // a stack share one, and a copied layer keeps it alive.
  std::shared_ptr<const ScoreBias> bias;

  int64_t q_width() const { return cfg.heads * cfg.head_dim; }
  int64_t kv_width() const { return cfg.kv_heads * cfg.head_dim; }
  int64_t qkv_width() const { return q_width() + 2 * kv_width(); }

  void validate() const {
    TESSERA_CHECK(cfg.heads > 0 && cfg.kv_heads > 0 && cfg.head_dim > 0, "attention: heads, kv heads and head_dim must be positive");
    TESSERA_CHECK(cfg.heads % cfg.kv_heads == 0, "attention: {} query heads are not a multiple of {} key/value heads",
                  cfg.heads, cfg.kv_heads);
    TESSERA_CHECK(cfg.softcap >= 0.0f, "attention: soft-capping must be positive or 0 (off), found {}", cfg.softcap);
    TESSERA_CHECK(cfg.hidden > 0, "attention: the model width must be positive, found {}", cfg.hidden);
    TESSERA_CHECK(cfg.alibi_slopes.empty() || int64_t(cfg.alibi_slopes.size()) == cfg.heads,
                  "attention: {} ALiBi slopes for {} heads", cfg.alibi_slopes.size(), cfg.heads);
  }

  // Self-attention: q, k and v become one fused projection when they can share a packing
  // (Linear::fuse), so decode streams one weight per layer instead of three. Not for
  // cross-attention, whose k and v read the encoder memory, not the layer's input.
  void fuse_projections() {
    if (qkv) return;
    if (auto f = Linear::fuse({&q, &k, &v})) {
      qkv = std::move(f);
      q = k = v = Linear();
    }
  }

  // qkv_out[m, qkv_width] = [q | k | v] of m tokens.
  void project(const float* x, int64_t m, float* qkv_out) const {
    const int64_t w = qkv_width();
    if (qkv) {
      qkv->forward(x, m, qkv_out, -1, w);
      return;
    }
    q.forward(x, m, qkv_out, -1, w);
    k.forward(x, m, qkv_out + q_width(), -1, w);
    v.forward(x, m, qkv_out + q_width() + kv_width(), -1, w);
  }

  // Self-attention for m new tokens at positions pos0..pos0+m-1 whose projections are in
  // qkv[m, qkv_width]: normalises and rotates q and k, appends k and v to `cache`, and writes
  // the attention output (before o) to out[m, q_width].
  void attend(float* qkv, int64_t m, int64_t pos0, KvCache& cache, float* out) const {
    prepare(qkv, m, pos0);
    int64_t first = cache.append(m);
    TESSERA_CHECK(first == pos0, "attention: cache holds {} positions but the new tokens start at {}", first, pos0);
    const int64_t w = qkv_width();
    cache.write(first, m, qkv + q_width(), qkv + q_width() + kv_width(), w);
    attend_cached(qkv, w, m, pos0, cache, out);
  }

  // Self-attention of m rows that are a whole sequence (positions pos0..), keys and values
  // read in place from the projected rows: no cache. Bidirectional attention only (encoders):
  // a causal one must see earlier calls' keys, which only a cache holds.
  void attend_in_place(float* qkv, int64_t m, int64_t pos0, float* out) const {
    TESSERA_CHECK(!cfg.causal, "attention: causal attention needs a KV cache");
    prepare(qkv, m, pos0);
    const int64_t w = qkv_width();
    run(qkv, w, m, pos0, qkv + q_width(), qkv + q_width() + kv_width(), DType::F32, w * int64_t(sizeof(float)), m, out);
  }

  // A KV cache for this attention: `capacity` positions of keys and values in dtype `type`.
  KvCache make_cache(int64_t capacity, DType type = DType::F32) const {
    return KvCache(cfg.kv_heads, cfg.head_dim, capacity, type);
  }

  // Cross-attention: fill `cache` with k and v of the n encoder states (once per source).
  void project_memory(const float* memory, int64_t n, KvCache& cache) const {
    cache.clear();
    int64_t first = cache.append(n);
    std::vector<float> tmp(static_cast<size_t>(n * kv_width()));
    k.forward(memory, n, tmp.data());
    cache.write(first, n, tmp.data(), nullptr, kv_width());
    v.forward(memory, n, tmp.data());
    cache.write(first, n, nullptr, tmp.data(), kv_width());
  }

  // Attention of queries q[m, ldq] (head-major within a row) at positions pos0.. against the
  // keys/values already in `cache`; out[m, q_width].
  void attend_cached(const float* qs, int64_t ldq, int64_t m, int64_t pos0, const KvCache& cache, float* out) const {
    TESSERA_CHECK(cache.kv_heads() == cfg.kv_heads && cache.head_dim() == cfg.head_dim,
                  "attention: a KV cache of {} heads × {} does not fit {} kv heads × {}", cache.kv_heads(),
                  cache.head_dim(), cfg.kv_heads, cfg.head_dim);
    run(qs, ldq, m, pos0, cache.key_data(), cache.value_data(), cache.dtype(), cache.row_bytes(), cache.length(), out);
  }

 private:
  static void check_shape(const Linear& l, const char* what, int64_t out, int64_t in) {
    TESSERA_CHECK(l.out_features() == out && l.in_features() == in,
                  "attention: the {} projection is [{}, {}], expected [{}, {}]", what, l.out_features(), l.in_features(),
                  out, in);
  }

  // q/k norms (Qwen3), then RoPE, on the q and k parts of qkv[m, qkv_width] in place. Rows are
  // independent, so a prompt's rows are split between threads.
  void prepare(float* qkv, int64_t m, int64_t pos0) const {
    const int64_t w = qkv_width(), hd = cfg.head_dim;
    std::vector<float> freq_scratch;
    const std::vector<float>* freqs = nullptr;
    if (rope.enabled()) freqs = &rope.frequencies(pos0 + m - 1, freq_scratch);
    if (q_norm || k_norm || freqs)
      parallel_for(m, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          float* row = qkv + i * w;
          if (q_norm) q_norm->forward(row, row, q_width() / q_norm->size());
          if (k_norm) k_norm->forward(row + q_width(), row + q_width(), kv_width() / k_norm->size());
          if (freqs) {
            rope.apply(row, cfg.heads, hd, pos0 + i, *freqs);
            rope.apply(row + q_width(), cfg.kv_heads, hd, pos0 + i, *freqs);
          }
        }
      }, 16);
  }

  // kernels::attention: key tiles with an online softmax (memory O(tile), not O(L²)); GQA
  // reads each kv head in place for its whole group of query heads.
  void run(const float* qs, int64_t ldq, int64_t m, int64_t pos0, const void* keys, const void* values, DType kv_type,
           int64_t kv_stride, int64_t n_keys, float* out) const {
    kernels::AttentionArgs a;
    a.q = qs;
    a.ldq = ldq;
    a.k = keys;
    a.v = values;
    a.kv_type = kv_type;
    a.kv_stride = kv_stride;
    a.out = out;
    a.ldo = q_width();
    a.m = m;
    a.n_keys = n_keys;
    a.heads = cfg.heads;
    a.kv_heads = cfg.kv_heads;
    a.head_dim = cfg.head_dim;
    a.q_pos0 = pos0;
    a.causal = cfg.causal;
    a.window = cfg.window;
    a.scale = cfg.scale;
    a.softcap = cfg.softcap;
    if (!cfg.alibi_slopes.empty()) {
      a.alibi = cfg.alibi_slopes.data();
      a.alibi_scale = cfg.alibi_scale;
      a.alibi_bf16 = cfg.alibi_bf16;
    }
    if (bias && *bias) {
      a.bias = [](const void* ctx, int64_t h, int64_t qp, int64_t kp) { return (*static_cast<const ScoreBias*>(ctx))(h, qp, kp); };
      a.bias_ctx = bias.get();
    }
    kernels::attention(a);
  }
};

}  // namespace tessera
