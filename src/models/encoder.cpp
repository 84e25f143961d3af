#include "tessera/models/encoder.hpp"

#include "tessera/image/image.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

namespace tessera {
namespace {

// Encoders keep no state between calls; the session exists so every Model has one.
class EncoderSession final : public Session {
 public:
  explicit EncoderSession(int64_t capacity) : capacity_(capacity) {}
  int64_t position() const override { return 0; }
  void reset() override {}
  int64_t capacity() const override { return capacity_; }

 private:
  int64_t capacity_;
};

int64_t total_of(const std::vector<int64_t>& lengths) { return std::accumulate(lengths.begin(), lengths.end(), int64_t(0)); }

}  // namespace

std::unique_ptr<Session> EncoderModel::new_session(const SessionOptions& options) const {
  // Encoders keep no cache: only the negative-value checks apply.
  refuse_elastic_depth(options, meta.dir, "an encoder");
  return std::make_unique<EncoderSession>(session_capacity(options, meta.dir, meta.max_positions, 0, 0));
}

int64_t EncoderModel::max_tokens() const {
  if (patches) return 1 + patches->register_count(meta.hidden_size) + patches->patches();
  const int64_t rows = stack.positions.limit();
  if (rows == 0) return std::numeric_limits<int64_t>::max();
  if (position_ids == PositionIds::AfterPadding) return std::max<int64_t>(0, rows - padding_idx - 1);
  return rows;
}

void EncoderModel::run_layers(float* x, const std::vector<int64_t>& lengths) const {
  const int64_t m = total_of(lengths);
  // Every sequence a segment without caches: bidirectional attention over its own rows.
  std::vector<Segment> segs;
  int64_t offset = 0;
  for (int64_t len : lengths) {
    if (len > 0) segs.push_back(Segment{offset, len, 0, {}, {}, nullptr});
    offset += len;
  }
  LayerScratch scratch;
  if (m > 0) stack.run_layers(x, m, segs, scratch);
  if (stack.final_norm) stack.final_norm->forward(x, x, m);
}

Tensor EncoderModel::encode(const std::vector<std::vector<int32_t>>& batch) const { return encode_text(batch, nullptr); }

Tensor EncoderModel::encode_text(const std::vector<std::vector<int32_t>>& batch,
                                 const std::vector<std::vector<int32_t>>* token_types) const {
  if (!takes_text())
    fail("{} ({}) takes images (pixel_values), not token ids", meta.dir, meta.architecture);
  if (token_types && token_types->size() != batch.size())
    fail("encode: {} rows of token type ids for {} sequences", token_types->size(), batch.size());
  const int64_t d = meta.hidden_size, limit = max_tokens();
  std::vector<int64_t> lengths;
  for (size_t r = 0; r < batch.size(); ++r) {
    const int64_t len = int64_t(batch[r].size());
    if (len > limit)
      fail("sequence {} has {} tokens; {} allows at most {} (max_position_embeddings)", r, len, meta.dir, limit);
    if (token_types && (*token_types)[r].size() != batch[r].size())
      fail("encode: sequence {} has {} tokens but {} token type ids", r, len, (*token_types)[r].size());
    lengths.push_back(len);
  }
  const int64_t m = total_of(lengths);
  Tensor out = Tensor::zeros(DType::F32, {m, d});
  float* x = out.data<float>();
  int64_t row = 0;
  for (size_t r = 0; r < batch.size(); ++r) {
    int64_t running = 0;  // RoBERTa: real (non-pad) tokens so far
    for (size_t i = 0; i < batch[r].size(); ++i, ++row) {
      const int32_t id = batch[r][i];
      if (id < 0 || id >= meta.vocab_size)
        fail("token id {} at position {} of sequence {} is outside the vocabulary [0, {})", id, i, r, meta.vocab_size);
      float* xr = x + row * d;
      stack.embed->lookup(id, xr);
      if (token_type_embed) {
        const int32_t t = token_types ? (*token_types)[r][i] : 0;
        if (t < 0 || t >= token_type_embed->rows())
          fail("token type id {} at position {} of sequence {} is outside [0, {}) (type_vocab_size)", t, i, r,
               token_type_embed->rows());
        token_type_embed->lookup(t, xr, 1.0f, /*accumulate=*/true);
      } else if (token_types && (*token_types)[r][i] != 0) {
        fail("token type id {} at position {} of sequence {}: the model has no token type embeddings",
             (*token_types)[r][i], i, r);
      }
      int64_t pos = int64_t(i);
      if (position_ids == PositionIds::AfterPadding) pos = id == padding_idx ? padding_idx : padding_idx + ++running;
      stack.positions.add(pos, xr);
    }
  }
  if (stack.embed_norm) stack.embed_norm->forward(x, x, m);
  run_layers(x, lengths);
  return out;
}

Tensor EncoderModel::encode_images(const Tensor& pixel_values) const {
  if (!patches) fail("{} ({}) takes token ids, not images (pixel_values)", meta.dir, meta.architecture);
  const PatchEmbedding& pe = *patches;
  if (pixel_values.rank() != 4)
    fail("input 'pixel_values': expected rank 4 [batch, channels, height, width], found shape {}",
         shape_str(pixel_values.shape()));
  const int64_t b = pixel_values.dim(0), c = pixel_values.dim(1), h = pixel_values.dim(2), w = pixel_values.dim(3);
  const int64_t p = pe.patch;
  if (pe.resize_positions) {
    if (c != pe.channels || h < p || w < p || h > (1 << 14) || w > (1 << 14))
      fail("input 'pixel_values': shape {} does not fit the model's [batch, {}, height, width] with height and width "
           "in [{}, 16384] (num_channels, patch_size)",
           shape_str(pixel_values.shape()), pe.channels, p);
  } else if (c != pe.channels || h != pe.image_height || w != pe.image_width) {
    fail("input 'pixel_values': shape {} does not match the model's [batch, {}, {}, {}] (num_channels, image_size)",
         shape_str(pixel_values.shape()), pe.channels, pe.image_height, pe.image_width);
  }
  if (pixel_values.dtype() != DType::F32 && pixel_values.dtype() != DType::F16 && pixel_values.dtype() != DType::BF16 &&
      pixel_values.dtype() != DType::F64)
    fail("input 'pixel_values': dtype {} is not a float type", dtype_name(pixel_values.dtype()));
  const Tensor px = pixel_values.to_f32();
  const float* src = px.data<float>();
  const int64_t d = meta.hidden_size, gh = h / p, gw = w / p, np = gh * gw, k = c * p * p;
  const int64_t regs = pe.register_count(d), seq = 1 + regs + np;
  // Positions for this patch grid: the stored table, or (DINOv2) its grid resized when the
  // image has another number of patches or is not square, as interpolate_pos_encoding decides.
  std::vector<float> resized;
  const float* pos = pe.positions.data();
  if (np != pe.patches() || (pe.resize_positions && h != w)) {
    const int64_t stored = int64_t(pe.positions.size()) / d - 1, g = int64_t(std::lround(std::sqrt(double(stored))));
    if (g * g != stored)
      fail("{}: the position table holds {} patch positions, not a square grid to resize", meta.dir, stored);
    std::vector<float> planes(size_t(d * stored)), out(size_t(d * np));
    for (int64_t i = 0; i < stored; ++i)
      for (int64_t j = 0; j < d; ++j) planes[size_t(j * stored + i)] = pe.positions[size_t((1 + i) * d + j)];
    resize_planes(planes.data(), d, g, g, gh, gw, Resample::Bicubic, out.data());
    resized.resize(size_t((1 + np) * d));
    std::copy_n(pe.positions.begin(), d, resized.begin());
    for (int64_t i = 0; i < np; ++i)
      for (int64_t j = 0; j < d; ++j) resized[size_t((1 + i) * d + j)] = out[size_t(j * np + i)];
    pos = resized.data();
  }
  Tensor out = Tensor::zeros(DType::F32, {b * seq, d});
  float* x = out.data<float>();
  std::vector<float> flat(size_t(np * k));
  for (int64_t img = 0; img < b; ++img) {
    // The stride-p convolution is a GEMM of the flattened [c, ky, kx] patches with the kernel.
    const float* im = src + img * c * h * w;
    for (int64_t n = 0; n < np; ++n) {
      const int64_t y0 = (n / gw) * p, x0 = (n % gw) * p;
      float* f = flat.data() + n * k;
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t ky = 0; ky < p; ++ky)
          std::memcpy(f + (ch * p + ky) * p, im + (ch * h + y0 + ky) * w + x0, size_t(p) * sizeof(float));
    }
    // Rows: CLS + position 0, the registers (no positions), patches + their positions.
    float* xi = x + img * seq * d;
    for (int64_t j = 0; j < d; ++j) xi[j] = pe.cls[size_t(j)] + pos[j];
    std::copy(pe.registers.begin(), pe.registers.end(), xi + d);
    float* xp = xi + (1 + regs) * d;
    pe.projection.forward(flat.data(), np, xp);
    for (int64_t i = 0; i < np * d; ++i) xp[i] += pos[d + i];
  }
  run_layers(x, std::vector<int64_t>(size_t(b), seq));
  return out;
}

Tensor EncoderModel::gather_cls(const Tensor& hidden, const std::vector<int64_t>& lengths) const {
  const int64_t d = meta.hidden_size, b = int64_t(lengths.size());
  TESSERA_CHECK(hidden.rank() == 2 && hidden.dim(1) == d && hidden.dim(0) == total_of(lengths),
                "hidden states of shape {} do not hold {} sequences of {} tokens in total", shape_str(hidden.shape()), b,
                total_of(lengths));
  Tensor cls = Tensor::zeros(DType::F32, {b, d});
  int64_t offset = 0;
  for (int64_t r = 0; r < b; ++r) {
    if (lengths[size_t(r)] > 0)
      std::memcpy(cls.data<float>() + r * d, hidden.data<float>() + offset * d, size_t(d) * sizeof(float));
    offset += lengths[size_t(r)];
  }
  return cls;
}

Tensor EncoderModel::pool(const Tensor& hidden, const std::vector<int64_t>& lengths) const {
  if (!pooler && pooler_is_cls) return gather_cls(hidden, lengths);
  if (!pooler) fail("{} ({}) has no pooler (no pooler.dense weights)", meta.dir, meta.architecture);
  Tensor cls = gather_cls(hidden, lengths);
  const int64_t b = cls.dim(0), n = pooler->out_features();
  Tensor out = Tensor::zeros(DType::F32, {b, n});
  pooler->forward(cls.data<float>(), b, out.data<float>());
  float* y = out.data<float>();
  if (pooler_act) kernels::activate(*pooler_act, y, b * n);
  else
    for (int64_t i = 0; i < b * n; ++i) y[i] = std::tanh(y[i]);
  // An empty sequence has no CLS token: its row stays zero, like its hidden states.
  for (int64_t r = 0; r < b; ++r)
    if (lengths[size_t(r)] == 0) std::fill(y + r * n, y + (r + 1) * n, 0.0f);
  return out;
}

Tensor EncoderModel::classify(const Tensor& hidden, const std::vector<int64_t>& lengths) const {
  if (!classifier) fail("{} ({}) has no classification head (no classifier weights)", meta.dir, meta.architecture);
  Tensor cls = gather_cls(hidden, lengths);
  if (classifier_mean_from > 0) {
    // [CLS, mean of the rows from classifier_mean_from on] (DINOv2: the patch rows, registers left out).
    const int64_t d = meta.hidden_size, b = cls.dim(0);
    Tensor in = Tensor::zeros(DType::F32, {b, 2 * d});
    int64_t offset = 0;
    for (int64_t r = 0; r < b; ++r) {
      const int64_t len = lengths[size_t(r)];
      float* y = in.data<float>() + r * 2 * d;
      std::memcpy(y, cls.data<float>() + r * d, size_t(d) * sizeof(float));
      if (len > classifier_mean_from) {
        std::vector<double> acc(size_t(d), 0.0);
        for (int64_t t = offset + classifier_mean_from; t < offset + len; ++t)
          for (int64_t i = 0; i < d; ++i) acc[size_t(i)] += hidden.data<float>()[t * d + i];
        for (int64_t i = 0; i < d; ++i) y[d + i] = float(acc[size_t(i)] / double(len - classifier_mean_from));
      }
      offset += len;
    }
    cls = std::move(in);
  }
  Tensor out = Tensor::zeros(DType::F32, {cls.dim(0), classifier->out_features()});
  classifier->forward(cls.data<float>(), cls.dim(0), out.data<float>());
  return out;
}

std::map<std::string, Tensor> EncoderModel::forward_named(const std::map<std::string, Tensor>& inputs,
                                                          int64_t generate_tokens, const SessionOptions&) const {
  if (generate_tokens >= 0) fail("{} ({}) is an encoder: it cannot generate", meta.dir, meta.architecture);
  std::map<std::string, Tensor> out;
  auto in = [&](const char* name) { return inputs.count(name) ? &inputs.at(name) : nullptr; };
  const int64_t d = meta.hidden_size;
  if (const Tensor* px = in("pixel_values")) {
    if (takes_text()) fail("{} ({}) takes input_ids, not pixel_values", meta.dir, meta.architecture);
    Tensor hidden = encode_images(*px);
    const int64_t b = px->dim(0), seq = hidden.dim(0) / std::max<int64_t>(b, 1);
    std::vector<int64_t> lengths(size_t(b), seq);
    if (pooler || pooler_is_cls) out["pooler_output"] = pool(hidden, lengths);
    if (classifier) out["logits"] = classify(hidden, lengths);
    out["last_hidden_state"] = hidden.reshaped({b, seq, d});
  }
  if (const Tensor* ids = in("input_ids")) {
    if (!takes_text()) fail("{} ({}) takes pixel_values, not input_ids", meta.dir, meta.architecture);
    auto rows = unpad_rows(*ids, in("attention_mask"), "input_ids");
    const int64_t b = ids->dim(0), l = ids->dim(1);
    std::vector<std::vector<int32_t>> types;
    if (const Tensor* tt = in("token_type_ids")) {
      if (tt->shape() != ids->shape())
        fail("input 'token_type_ids': shape {} does not match 'input_ids' {}", shape_str(tt->shape()),
             shape_str(ids->shape()));
      std::vector<int64_t> v = tt->to_i64();
      for (int64_t r = 0; r < b; ++r) {
        types.emplace_back();
        for (size_t j = 0; j < rows[size_t(r)].size(); ++j) {
          int64_t t = v[size_t(r * l) + j];
          if (t < 0 || t > INT32_MAX) fail("input 'token_type_ids': {} at [{}, {}] is not a valid type id", t, r, j);
          types.back().push_back(int32_t(t));
        }
      }
    }
    Tensor hidden = encode_text(rows, types.empty() ? nullptr : &types);
    std::vector<int64_t> lengths;
    for (const auto& r : rows) lengths.push_back(int64_t(r.size()));
    Tensor full = Tensor::zeros(DType::F32, {b, l, d});
    int64_t offset = 0;
    for (int64_t r = 0; r < b; ++r) {
      std::memcpy(full.data<float>() + r * l * d, hidden.data<float>() + offset * d,
                  size_t(lengths[size_t(r)] * d) * sizeof(float));
      offset += lengths[size_t(r)];
    }
    out["last_hidden_state"] = full;
    if (pooler) out["pooler_output"] = pool(hidden, lengths);
  }
  return out;
}

}  // namespace tessera
