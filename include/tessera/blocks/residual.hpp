// How a sublayer's f joins the residual stream x. One general form,
//
//   x += gate ⊙ post( f( pre(x) ⊙ (1 + scale) + shift ) )
//
// where pre, post, the modulation (shift, scale, gate: chunks of the layer's Modulation, from a
// per-sequence conditioning vector) are each optional; plus BERT's post-norm, x = norm(x + f(x)),
// and the parallel residual, where f reads the layer input as the previous sublayer saw it
// (GPT-NeoX, GPT-J: x + attn(ln1 x) + mlp(ln2 x)). The named constructors give the layouts in
// use: pre-norm, post-norm, sandwich (Gemma 2, OLMo 2), parallel and modulated (DiT adaLN-Zero).
#pragma once

#include <optional>

#include "tessera/blocks/norm.hpp"

namespace tessera {

struct Residual {
  std::optional<Norm> pre, post;
  bool norm_sum = false;  // post normalises x + f(x) (post-norm), not f(x)
  bool parallel = false;  // f reads the input of the previous sublayer, not its output
  // Chunks of the layer's modulation vector (each `hidden` wide) used as shift, scale and
  // gate; -1: not used.
  int shift = -1, scale = -1, gate = -1;

  // x += f(pre(x)); without a norm, x += f(x).
  static Residual pre_norm(std::optional<Norm> norm = std::nullopt) {
    Residual r;
    r.pre = std::move(norm);
    return r;
  }
  // x = norm(x + f(x)) (BERT, BART, Marian).
  static Residual post_norm(Norm norm) {
    Residual r;
    r.post = std::move(norm);
    r.norm_sum = true;
    return r;
  }
  // x += post(f(pre(x))) (Gemma 2 with both norms, OLMo 2 without the pre-norm).
  static Residual sandwich(std::optional<Norm> pre, Norm post) {
    Residual r;
    r.pre = std::move(pre);
    r.post = std::move(post);
    return r;
  }
  // x += f(pre(x₀)) where x₀ is what the previous sublayer read (GPT-NeoX's second norm,
  // GPT-J's shared one).
  static Residual parallel_to_previous(std::optional<Norm> norm = std::nullopt) {
    Residual r = pre_norm(std::move(norm));
    r.parallel = true;
    return r;
  }
  // x += gate ⊙ f(norm(x) ⊙ (1 + scale) + shift), shift/scale/gate the given chunks of the
  // layer's modulation (DiT's adaLN-Zero: chunks 0-2 for attention, 3-5 for the MLP).
  static Residual modulated(Norm norm, int shift_chunk, int scale_chunk, int gate_chunk) {
    Residual r = pre_norm(std::move(norm));
    r.shift = shift_chunk;
    r.scale = scale_chunk;
    r.gate = gate_chunk;
    return r;
  }

  bool modulated_input() const { return shift >= 0 || scale >= 0; }
};

}  // namespace tessera
