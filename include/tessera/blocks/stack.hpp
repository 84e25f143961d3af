// One transformer stack: embeddings → absolute positions → layers → final norm → head. The
// same stack serves decoders (token ids in, logits out, over KV caches), encoders (packed
// sequences, bidirectional attention in place, hidden states out) and both halves of an
// encoder-decoder; what differs is what a model feeds in and reads out, not the loop.
#pragma once

#include <algorithm>
#include <cmath>
#include <optional>
#include <span>
#include <vector>

#include "tessera/blocks/embedding.hpp"
#include "tessera/blocks/layer.hpp"
#include "tessera/blocks/position.hpp"

namespace tessera {

// What one run of a stack does with its layers; the defaults run every layer once.
struct StackOptions {
  int64_t layers = 0;     // > 0: exit after this many layer runs (then final norm and head)
  int64_t loops = 1;      // the layer list applied this many times (looped depth)
  int64_t ffn_width = 0;  // > 0: feed-forward blocks use only their first ffn_width hidden units
};

class Stack {
 public:
  // Input side. A stack without `embed` takes activations its model computed (ViT's patches,
  // Whisper's convolutions).
  std::optional<Embedding> embed;
  float embed_scale = 1.0f;          // Gemma sqrt(hidden), BART/Marian scale_embedding
  std::optional<Linear> project_in;  // OPT: embeddings narrower than the layers
  PositionInput positions;
  std::optional<Norm> embed_norm;    // BERT's and BART's embedding LayerNorm
  std::vector<Layer> layers;
  // Output side.
  std::optional<Norm> final_norm;
  std::optional<Linear> project_out;  // OPT: back to the embedding width before the head
  float output_scale = 1.0f;          // T5 with a tied head: d_model^-0.5
  std::optional<Linear> head;         // LM head (decoders); bias = BART's final_logits_bias
  float final_softcap = 0.0f;         // Gemma 2: logits become cap·tanh(logits / cap); 0 = off

  // Layer runs (cache slots) a call with these options makes.
  int64_t depth(const StackOptions& o = {}) const {
    TESSERA_CHECK(o.loops >= 1, "stack: loops must be at least 1, found {}", o.loops);
    TESSERA_CHECK(o.layers >= 0, "stack: the layer count must not be negative, found {}", o.layers);
    const int64_t all = int64_t(layers.size()) * o.loops;
    return o.layers > 0 ? std::min(o.layers, all) : all;
  }

  // x[m, hidden] = the input rows of token ids at positions pos0, pos0 + 1, ...: embeddings
  // (× embed_scale, through project_in), plus positions, then the embedding norm. `scratch`
  // holds project_in's input.
  void embed_tokens(std::span<const int32_t> ids, int64_t pos0, float* x, int64_t hidden, std::vector<float>& scratch) const {
    TESSERA_CHECK(embed.has_value(), "stack: this model takes no token ids");
    const int64_t m = int64_t(ids.size()), we = embed->dim();
    float* e = x;
    if (project_in) {
      scratch.resize(size_t(m * we));
      e = scratch.data();
    }
    for (int64_t i = 0; i < m; ++i) {
      const int32_t id = ids[size_t(i)];
      if (id < 0 || id >= embed->rows())
        fail("token id {} at input position {} is outside the vocabulary [0, {})", id, i, embed->rows());
      embed->lookup(id, e + i * we, embed_scale);
    }
    if (project_in) project_in->forward(e, m, x);
    add_positions(x, m, pos0, hidden);
    if (embed_norm) embed_norm->forward(x, x, m);
  }

  // x[m, hidden] += position embeddings of pos0, pos0 + 1, ...
  void add_positions(float* x, int64_t m, int64_t pos0, int64_t hidden) const {
    for (int64_t i = 0; i < m; ++i) positions.add(pos0 + i, x + i * hidden);
  }

  // x[m, hidden] ← the layers applied to x, segment by segment (each segment's caches are
  // indexed by layer run; without caches attention is bidirectional over the segment).
  void run_layers(float* x, int64_t m, const std::vector<Segment>& segs, LayerScratch& scratch,
                  const StackOptions& o = {}) const {
    const int64_t runs = depth(o), n = int64_t(layers.size());
    for (int64_t r = 0; r < runs; ++r) {
      LayerCall call{segs, scratch, r, r % n, o.ffn_width};
      layers[size_t(r % n)].forward(x, m, call);
    }
  }

  // y[rows, out] = final norm → project_out → × output_scale of x[rows, hidden] (x and y may
  // be the same rows when there is no project_out). `scratch` holds the normed rows.
  const float* output(const float* x, int64_t rows, int64_t hidden, std::vector<float>& scratch, std::vector<float>& y) const {
    if (!final_norm && !project_out && output_scale == 1.0f) return x;
    scratch.resize(size_t(rows * hidden));
    float* h = scratch.data();
    if (final_norm) final_norm->forward(x, h, rows);
    else std::copy(x, x + rows * hidden, h);
    int64_t w = hidden;
    if (project_out) {
      w = project_out->out_features();
      y.resize(size_t(rows * w));
      project_out->forward(h, rows, y.data());
      h = y.data();
    }
    if (output_scale != 1.0f)
      for (int64_t i = 0; i < rows * w; ++i) h[i] *= output_scale;
    return h;
  }

  // logits[rows, vocab] = head(output(x[rows, hidden])), soft-capped when final_softcap > 0.
  void logits(const float* x, int64_t rows, int64_t hidden, Tensor& logits, LayerScratch& s) const {
    TESSERA_CHECK(head.has_value(), "stack: this model has no head");
    const float* h = output(x, rows, hidden, s.h, s.out);
    const int64_t vocab = head->out_features();
    if (logits.empty() || logits.dtype() != DType::F32 || logits.numel() != rows * vocab || logits.rank() != 2)
      logits = Tensor::zeros(DType::F32, {rows, vocab});
    head->forward(h, rows, logits.data<float>());
    if (final_softcap > 0.0f) {
      float* z = logits.data<float>();
      for (int64_t i = 0; i < rows * vocab; ++i) z[i] = final_softcap * std::tanh(z[i] / final_softcap);
    }
  }

  // One self-attention KV cache per layer run, `capacity` positions in `type`.
  std::vector<KvCache> make_caches(int64_t capacity, DType type, const StackOptions& o = {}) const {
    std::vector<KvCache> caches;
    const int64_t runs = depth(o), n = int64_t(layers.size());
    for (int64_t r = 0; r < runs; ++r) {
      const Attention* a = layers[size_t(r % n)].self_attention();
      caches.push_back(a ? a->make_cache(capacity, type) : KvCache());
    }
    return caches;
  }

  // Bytes one position takes in the KV caches of the layer runs `o` makes (keys and values).
  int64_t kv_cache_bytes_per_position(DType type, const StackOptions& o = {}) const {
    int64_t bytes = 0;
    const int64_t runs = depth(o), n = int64_t(layers.size());
    for (int64_t r = 0; r < runs; ++r)
      if (const Attention* a = layers[size_t(r % n)].self_attention()) bytes += 2 * a->make_cache(0, type).row_bytes();
    return bytes;
  }
};

}  // namespace tessera
