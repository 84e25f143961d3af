// A sublayer: one function f of a layer (self-attention, cross-attention, a feed-forward
// block, or an application's own), run over packed activations. How f(x) joins the residual
// stream is the Layer's business (residual.hpp), not the sublayer's: a sublayer only writes or
// adds f(in) to its output. Run-time polymorphism at this granularity costs one virtual call
// per sublayer per forward call; the hot loops are inside.
#pragma once

#include <span>
#include <vector>

#include "tessera/blocks/attention.hpp"
#include "tessera/blocks/mlp.hpp"

namespace tessera {

// A run of consecutive rows that belong to one sequence.
struct Segment {
  int64_t offset = 0, length = 0;  // rows in the packed activations
  int64_t pos0 = 0;                // position of the first row within its sequence
  // The sequence's self-attention caches, one per layer run (LayerCall::slot picks one).
  // Empty: the rows are the whole sequence and bidirectional attention reads them in place.
  std::span<KvCache> caches;
  // Cross-attention keys/values, one per decoder layer (LayerCall::layer picks one).
  std::span<const KvCache> memory;
  // The sequence's conditioning vector (modulated layers: DiT's timestep/class embedding).
  const float* condition = nullptr;
};

// Scratch buffers a Session owns so the layer loop does not allocate once warmed up.
struct LayerScratch {
  std::vector<float> h, qkv, attn, mlp, q, out, x0, mod;
};

// What a sublayer is told about the call it is part of.
struct LayerCall {
  const std::vector<Segment>& segs;
  LayerScratch& scratch;
  int64_t slot = 0;       // which of each segment's caches this run of the layer uses
  int64_t layer = 0;      // which of the stack's layers runs (each segment's memory by layer)
  int64_t ffn_width = 0;  // > 0: feed-forward blocks use only their first ffn_width hidden units
};

class Sublayer {
 public:
  virtual ~Sublayer() = default;
  // out[m, hidden] = f(in[m, hidden]), or out += f(in) when accumulate. `in` and `out` may be
  // the same rows: an implementation reads all of `in` before it writes `out`.
  virtual void forward(const float* in, int64_t m, float* out, bool accumulate, const LayerCall& call) const = 0;
  // The self-attention whose keys/values a session caches for this sublayer (null: none).
  virtual const Attention* self_attention() const { return nullptr; }
  // The cross-attention whose keys/values are projected from the encoder memory (null: none).
  virtual const Attention* cross_attention() const { return nullptr; }
};

// Self-attention: causal over each segment's KV cache, or bidirectional in place when the
// segment has no caches. q/k/v are fused into one weight when they can share a packing.
class SelfAttention final : public Sublayer {
 public:
  explicit SelfAttention(Attention a) : attn_(std::move(a)) { attn_.fuse_projections(); }
  const Attention* self_attention() const override { return &attn_; }

  void forward(const float* in, int64_t m, float* out, bool accumulate, const LayerCall& call) const override {
    LayerScratch& s = call.scratch;
    const int64_t w = attn_.qkv_width(), qw = attn_.q_width();
    s.qkv.resize(size_t(m * w));
    s.attn.resize(size_t(m * qw));
    attn_.project(in, m, s.qkv.data());
    for (const Segment& g : call.segs) {
      float* qkv = s.qkv.data() + g.offset * w;
      float* o = s.attn.data() + g.offset * qw;
      if (g.caches.empty()) {
        attn_.attend_in_place(qkv, g.length, g.pos0, o);
      } else {
        TESSERA_CHECK(call.slot >= 0 && call.slot < int64_t(g.caches.size()),
                      "self-attention: layer slot {} but the sequence has {} caches", call.slot, g.caches.size());
        attn_.attend(qkv, g.length, g.pos0, g.caches[size_t(call.slot)], o);
      }
    }
    attn_.o.forward(s.attn.data(), m, out, -1, -1, accumulate);
  }

 private:
  Attention attn_;
};

// Cross-attention: queries from the rows, keys/values from each segment's memory (projected
// once per source with Attention::project_memory).
class CrossAttention final : public Sublayer {
 public:
  explicit CrossAttention(Attention a) : attn_(std::move(a)) {}
  const Attention* cross_attention() const override { return &attn_; }

  void forward(const float* in, int64_t m, float* out, bool accumulate, const LayerCall& call) const override {
    LayerScratch& s = call.scratch;
    const int64_t qw = attn_.q_width();
    s.q.resize(size_t(m * qw));
    s.attn.resize(size_t(m * qw));
    attn_.q.forward(in, m, s.q.data());
    for (const Segment& g : call.segs) {
      TESSERA_CHECK(call.layer >= 0 && call.layer < int64_t(g.memory.size()),
                    "cross-attention: layer {} but the sequence has {} memories (no source set?)", call.layer,
                    g.memory.size());
      attn_.attend_cached(s.q.data() + g.offset * qw, qw, g.length, g.pos0, g.memory[size_t(call.layer)],
                          s.attn.data() + g.offset * qw);
    }
    attn_.o.forward(s.attn.data(), m, out, -1, -1, accumulate);
  }

 private:
  Attention attn_;
};

// A feed-forward block (dense, gated or a mixture of experts).
class FeedForward final : public Sublayer {
 public:
  explicit FeedForward(MLP mlp) : mlp_(std::move(mlp)) { mlp_.fuse_projections(); }
  const MLP& mlp() const { return mlp_; }

  void forward(const float* in, int64_t m, float* out, bool accumulate, const LayerCall& call) const override {
    mlp_.forward(in, m, out, call.scratch.mlp, accumulate);
  }

 private:
  MLP mlp_;
};

}  // namespace tessera
