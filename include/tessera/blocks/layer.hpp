// One transformer layer: a short list of sublayers (self-attention, cross-attention, a
// feed-forward block, or an application's own Sublayer), each joined to the residual stream by
// its Residual policy (pre-norm, post-norm, sandwich, parallel, modulated). Optionally a
// Modulation: DiT's adaLN, shift/scale/gate vectors computed per sequence from a conditioning
// vector. Runs on packed activations: m rows of several sequences, each a Segment with its own
// positions and caches.
//
// Sublayers are held by shared ownership and are immutable once added, so copying a Layer
// (looped depth: the same layer applied again) shares its weights and never leaves a pointer
// into the original behind.
#pragma once

#include <memory>
#include <optional>
#include <type_traits>
#include <vector>

#include "tessera/blocks/residual.hpp"
#include "tessera/blocks/sublayer.hpp"

namespace tessera {

// mod = proj(act(c)) for each sequence's conditioning vector c: `proj` [chunks·hidden, cond]
// gives the chunks Residual::shift/scale/gate index (DiT: SiLU then one Linear to 6·hidden).
struct Modulation {
  Linear proj;
  std::optional<kernels::Activation> act = kernels::Activation::Silu;
};

class Layer {
 public:
  struct Step {
    Residual residual;
    std::shared_ptr<const Sublayer> f;
  };

  Layer() = default;
  // A layer over activations of `hidden` features.
  explicit Layer(int64_t hidden) : hidden_(hidden) {
    TESSERA_CHECK(hidden > 0, "layer: the width must be positive, found {}", hidden);
  }

  // Appends a sublayer and its residual policy; checked against the layer's width.
  Layer& add(Residual residual, std::shared_ptr<const Sublayer> f) {
    TESSERA_CHECK(f != nullptr, "layer: a sublayer is missing");
    for (const std::optional<Norm>* n : {&residual.pre, &residual.post})
      TESSERA_CHECK(!*n || (*n)->size() == hidden_, "layer: a norm over {} features in a layer of width {}", (*n)->size(),
                    hidden_);
    TESSERA_CHECK(!residual.norm_sum || residual.post, "layer: a post-norm residual needs its norm");
    TESSERA_CHECK(!residual.parallel || !steps_.empty(), "layer: the first sublayer cannot be parallel to a previous one");
    TESSERA_CHECK(!residual.modulated_input() || residual.pre, "layer: modulation (shift/scale) applies to a pre-norm's output");
    for (int chunk : {residual.shift, residual.scale, residual.gate})
      TESSERA_CHECK(chunk < 0 || (modulation_ && int64_t(chunk + 1) * hidden_ <= modulation_->proj.out_features()),
                    "layer: modulation chunk {} but the layer's modulation gives {} chunks (set it first)", chunk,
                    modulation_ ? modulation_->proj.out_features() / hidden_ : 0);
    if (f->self_attention() != nullptr)
      TESSERA_CHECK(self_attention() == nullptr, "layer: at most one self-attention per layer (one KV cache each)");
    steps_.push_back(Step{std::move(residual), std::move(f)});
    return *this;
  }
  template <typename S, typename = std::enable_if_t<std::is_base_of_v<Sublayer, S>>>
  Layer& add(Residual residual, S sublayer) {
    return add(std::move(residual), std::make_shared<const S>(std::move(sublayer)));
  }

  // Sets the layer's conditioning projection (before adding modulated sublayers).
  Layer& modulate(Modulation m) {
    TESSERA_CHECK(m.proj.out_features() > 0 && m.proj.out_features() % hidden_ == 0,
                  "layer: the modulation gives {} values, not a whole number of {}-wide chunks", m.proj.out_features(),
                  hidden_);
    modulation_ = std::move(m);
    return *this;
  }

  int64_t hidden() const { return hidden_; }
  const std::vector<Step>& steps() const { return steps_; }
  const std::optional<Modulation>& modulation() const { return modulation_; }
  // The self-attention a session keeps a KV cache for (null: none).
  const Attention* self_attention() const {
    for (const Step& s : steps_)
      if (const Attention* a = s.f->self_attention()) return a;
    return nullptr;
  }
  const Attention* cross_attention() const {
    for (const Step& s : steps_)
      if (const Attention* a = s.f->cross_attention()) return a;
    return nullptr;
  }

  // x[m, hidden] ← layer(x).
  void forward(float* x, int64_t m, const LayerCall& call) const {
    const int64_t d = hidden_;
    LayerScratch& s = call.scratch;
    if (modulation_) modulate_all(call);
    for (size_t i = 0; i < steps_.size(); ++i) {
      const Residual& r = steps_[i].residual;
      const Sublayer& f = *steps_[i].f;
      // The next sublayer reads what this one reads: keep a copy before x changes.
      if (!r.parallel && i + 1 < steps_.size() && steps_[i + 1].residual.parallel) s.x0.assign(x, x + m * d);
      const float* src = r.parallel ? s.x0.data() : x;
      const float* in = src;
      if (r.pre) {
        r.pre->forward(src, sized(s.h, m * d), m);
        in = s.h.data();
      }
      if (r.modulated_input()) shift_and_scale(s.h.data(), r, call);
      if (r.norm_sum) {  // x = norm(x + f(x))
        f.forward(in, m, x, /*accumulate=*/true, call);
        r.post->forward(x, x, m);
      } else if (r.post || r.gate >= 0) {  // x += gate ⊙ post(f(in))
        float* out = sized(s.out, m * d);
        f.forward(in, m, out, /*accumulate=*/false, call);
        if (r.post) r.post->forward(out, out, m);
        if (r.gate >= 0) apply_gate(out, r, call);
        kernels::axpy(1.0f, out, x, m * d);
      } else {  // x += f(in), the add fused into f's output projection
        f.forward(in, m, x, /*accumulate=*/true, call);
      }
    }
  }

 private:
  static float* sized(std::vector<float>& v, int64_t n) {
    v.resize(size_t(n));
    return v.data();
  }

  // s.mod[g] = proj(act(condition of segment g)), all segments in one GEMM.
  void modulate_all(const LayerCall& call) const {
    const Modulation& mod = *modulation_;
    const int64_t n = int64_t(call.segs.size()), c = mod.proj.in_features(), w = mod.proj.out_features();
    float* buf = sized(call.scratch.mod, n * (c + w));
    float* cond = buf + n * w;
    for (int64_t g = 0; g < n; ++g) {
      const float* src = call.segs[size_t(g)].condition;
      TESSERA_CHECK(src != nullptr, "layer: a modulated layer needs each sequence's conditioning vector (sequence {} has none)", g);
      std::copy(src, src + c, cond + g * c);
    }
    if (mod.act) kernels::activate(*mod.act, cond, n * c);
    mod.proj.forward(cond, n, buf);
  }

  const float* chunk(int64_t seg, int index, const LayerCall& call) const {
    return call.scratch.mod.data() + seg * modulation_->proj.out_features() + index * hidden_;
  }

  // h ← h ⊙ (1 + scale) + shift, row by row with each row's sequence's vectors.
  void shift_and_scale(float* h, const Residual& r, const LayerCall& call) const {
    for (size_t g = 0; g < call.segs.size(); ++g) {
      const Segment& seg = call.segs[g];
      const float* shift = r.shift >= 0 ? chunk(int64_t(g), r.shift, call) : nullptr;
      const float* scale = r.scale >= 0 ? chunk(int64_t(g), r.scale, call) : nullptr;
      for (int64_t i = seg.offset; i < seg.offset + seg.length; ++i) {
        float* row = h + i * hidden_;
        for (int64_t j = 0; j < hidden_; ++j) {
          if (scale) row[j] *= 1.0f + scale[j];
          if (shift) row[j] += shift[j];
        }
      }
    }
  }

  void apply_gate(float* out, const Residual& r, const LayerCall& call) const {
    for (size_t g = 0; g < call.segs.size(); ++g) {
      const Segment& seg = call.segs[g];
      const float* gate = chunk(int64_t(g), r.gate, call);
      for (int64_t i = seg.offset; i < seg.offset + seg.length; ++i)
        for (int64_t j = 0; j < hidden_; ++j) out[i * hidden_ + j] *= gate[j];
    }
  }

  int64_t hidden_ = 0;
  std::vector<Step> steps_;
  std::optional<Modulation> modulation_;
};

}  // namespace tessera
