// One transformer layer: self-attention, optional cross-attention and a feed-forward block,
// wired pre-norm (GPT-2, Llama, T5, Whisper), post-norm (BERT, BART, Marian) or with the
// parallel residual of GPT-NeoX. Pre-norm layers may also normalise each sublayer's output
// before it joins the residual (sandwich norms: Gemma 2 with both, OLMo 2 without the pre-norms). Runs on packed activations: m rows of several sequences,
// each a Segment with its own positions and cache.
#pragma once

#include <vector>

#include "tessera/blocks/attention.hpp"
#include "tessera/blocks/mlp.hpp"

namespace tessera {

enum class Residual { PreNorm, PostNorm, Parallel };

// A run of consecutive rows that belong to one sequence.
struct Segment {
  int64_t offset = 0, length = 0;  // rows in the packed activations
  int64_t pos0 = 0;                // position of the first row within its sequence
  KvCache* cache = nullptr;        // self-attention keys/values of the sequence
  const KvCache* memory = nullptr; // cross-attention keys/values (encoder-decoders)
};

// Scratch buffers a Session owns so the layer loop does not allocate once warmed up.
struct LayerScratch {
  std::vector<float> h, qkv, attn, mlp, q, out;
};

class Layer {
 public:
  Residual residual = Residual::PreNorm;
  Norm attn_norm, mlp_norm;                      // pre-norms; PreNorm skips a disabled one
  std::optional<Norm> post_attn_norm, post_mlp_norm;  // PreNorm only: x += post(f(pre(x)))
  Attention attn;
  bool has_cross = false;
  Norm cross_norm;
  Attention cross;
  MLP mlp;
  const ScoreBias* self_bias = nullptr;  // T5's relative bias (owned by the model)

  // After loading: fuse q/k/v and gate/up where the weights allow (see Linear::fuse).
  void fuse_projections() {
    attn.fuse_projections();
    mlp.fuse_projections();
  }

  // x[m, hidden] ← layer(x).
  void forward(float* x, int64_t m, const std::vector<Segment>& segs, LayerScratch& s) const {
    const int64_t d = attn.cfg.hidden;
    s.h.resize(size_t(m * d));
    s.qkv.resize(size_t(m * attn.qkv_width()));
    s.attn.resize(size_t(m * attn.q_width()));
    float* h = s.h.data();

    if (residual == Residual::PostNorm) {
      self_attention(x, m, segs, s, x);  // x += attn(x)
      attn_norm.forward(x, x, m);
      if (has_cross) {
        cross_attention(x, m, segs, s, x);
        cross_norm.forward(x, x, m);
      }
      mlp.forward(x, m, x, s.mlp);  // x += mlp(x)
      mlp_norm.forward(x, x, m);
      return;
    }
    if (attn_norm.enabled()) attn_norm.forward(x, h, m);
    if (residual == Residual::Parallel) {
      std::vector<float>& h2 = s.q;
      h2.resize(size_t(m * d));
      mlp_norm.forward(x, h2.data(), m);
      self_attention(h, m, segs, s, x);
      mlp.forward(h2.data(), m, x, s.mlp);
      return;
    }
    // Pre-norm. A sublayer with a post-norm writes into s.out, normalised there before the
    // add; without one it adds straight into x.
    float* out = post_attn_norm || post_mlp_norm ? sized(s.out, m * d) : x;
    const float* in = attn_norm.enabled() ? h : x;
    if (post_attn_norm) {
      std::fill(out, out + m * d, 0.0f);
      self_attention(in, m, segs, s, out);
      post_attn_norm->forward(out, out, m);
      kernels::axpy(1.0f, out, x, m * d);
    } else {
      self_attention(in, m, segs, s, x);
    }
    if (has_cross) {
      cross_norm.forward(x, h, m);
      cross_attention(h, m, segs, s, x);
    }
    if (mlp_norm.enabled()) mlp_norm.forward(x, h, m);
    in = mlp_norm.enabled() ? h : x;
    if (post_mlp_norm) {
      std::fill(out, out + m * d, 0.0f);
      mlp.forward(in, m, out, s.mlp);
      post_mlp_norm->forward(out, out, m);
      kernels::axpy(1.0f, out, x, m * d);
    } else {
      mlp.forward(in, m, x, s.mlp);
    }
  }

 private:
  static float* sized(std::vector<float>& v, int64_t n) {
    v.resize(size_t(n));
    return v.data();
  }

  // out += o(attention(in)); `in` and `out` may alias (post-norm).
  void self_attention(const float* in, int64_t m, const std::vector<Segment>& segs, LayerScratch& s, float* out) const {
    attn.project(in, m, s.qkv.data());
    const int64_t w = attn.qkv_width(), qw = attn.q_width();
    for (const Segment& g : segs)
      attn.attend(s.qkv.data() + g.offset * w, g.length, g.pos0, *g.cache, s.attn.data() + g.offset * qw, self_bias);
    attn.o.forward(s.attn.data(), m, out, -1, -1, /*accumulate=*/true);
  }

  void cross_attention(const float* in, int64_t m, const std::vector<Segment>& segs, LayerScratch& s, float* out) const {
    const int64_t qw = cross.q_width();
    s.q.resize(size_t(m * qw));
    cross.q.forward(in, m, s.q.data());
    for (const Segment& g : segs)
      cross.attend_cached(s.q.data() + g.offset * qw, qw, g.length, g.pos0, *g.memory, s.attn.data() + g.offset * qw);
    cross.o.forward(s.attn.data(), m, out, -1, -1, /*accumulate=*/true);
  }
};

// Bytes one position takes in these layers' self-attention KV caches of dtype kv_type
// (keys and values).
inline int64_t kv_cache_bytes_per_position(const std::vector<Layer>& layers, DType kv_type) {
  int64_t bytes = 0;
  for (const Layer& l : layers) bytes += 2 * l.attn.make_cache(0, kv_type).row_bytes();
  return bytes;
}

}  // namespace tessera
