#include "tessera/models/model.hpp"

#include <algorithm>

#include "tessera/core/error.hpp"
#include "tessera/kernels/kernels.hpp"

namespace tessera {

void Model::decode(Session&, std::span<const int32_t>, Tensor&, bool) const {
  fail("{} ({}) is an encoder: it has no decoder to generate with", info().dir, info().architecture);
}
Tensor Model::encode(const std::vector<std::vector<int32_t>>&) const {
  fail("{} ({}) has no text encoder", info().dir, info().architecture);
}
void Model::set_source(Session&, std::span<const int32_t>) const {
  fail("{} ({}) is not an encoder-decoder with a text encoder", info().dir, info().architecture);
}
void Model::set_source_features(Session&, const Tensor&) const {
  fail("{} ({}) does not take input features", info().dir, info().architecture);
}

int64_t session_capacity(const SessionOptions& options, const std::string& dir, int64_t default_capacity,
                         int64_t limit, int64_t bytes_per_position) {
  if (options.max_context < 0) fail("{}: max_context must be >= 0 (0: the model's default), found {}", dir, options.max_context);
  if (options.kv_cache_bytes < 0) fail("{}: kv_cache_bytes must be >= 0 (0: no limit), found {}", dir, options.kv_cache_bytes);
  if (!kernels::is_kv_type(options.kv_type))
    fail("{}: kv_type {} is not a KV cache type (F32, F16, BF16 or Q8_0)", dir, dtype_name(options.kv_type));
  int64_t cap = default_capacity;
  if (options.max_context > 0) {
    if (limit > 0 && options.max_context > limit)
      fail("{}: max_context {} exceeds the {} learned positions of this model", dir, options.max_context, limit);
    cap = options.max_context;
  }
  if (options.kv_cache_bytes > 0) {
    // In long double, so that an absurd max_context cannot overflow into a small number.
    const long double need = static_cast<long double>(cap) * static_cast<long double>(bytes_per_position);
    if (need > static_cast<long double>(options.kv_cache_bytes))
      fail("{}: a KV cache for {} positions needs {:.0f} bytes ({} bytes a position), more than kv_cache_bytes = {}; "
           "lower max_context to at most {}",
           dir, cap, double(need), bytes_per_position, options.kv_cache_bytes,
           bytes_per_position > 0 ? options.kv_cache_bytes / bytes_per_position : 0);
  }
  return cap;
}

void refuse_elastic_depth(const SessionOptions& options, const std::string& dir, const std::string& model_kind) {
  if (options.layers != 0 || options.loops != 1)
    fail("{}: layers = {} and loops = {} (elastic depth) are for decoder-only models, not {}", dir, options.layers,
         options.loops, model_kind);
}

std::vector<std::vector<int32_t>> unpad_rows(const Tensor& ids, const Tensor* mask, const std::string& name) {
  if (ids.rank() != 2) fail("input '{}': expected rank 2 [batch, length], found shape {}", name, shape_str(ids.shape()));
  if (is_float(ids.dtype())) fail("input '{}': expected an integer tensor (I64), found {}", name, dtype_name(ids.dtype()));
  const int64_t b = ids.dim(0), l = ids.dim(1);
  std::vector<int64_t> v = ids.to_i64(), m;
  if (mask) {
    if (mask->shape() != ids.shape())
      fail("input 'attention_mask': shape {} does not match '{}' {}", shape_str(mask->shape()), name, shape_str(ids.shape()));
    m = mask->to_i64();
  }
  std::vector<std::vector<int32_t>> rows(static_cast<size_t>(b));
  for (int64_t r = 0; r < b; ++r) {
    int64_t len = l;
    if (mask) {
      len = 0;
      while (len < l && m[size_t(r * l + len)] != 0) ++len;
      for (int64_t j = len; j < l; ++j)
        if (m[size_t(r * l + j)] != 0)
          fail("input 'attention_mask': row {} is not right-padded (a 1 after a 0); only right padding is supported", r);
    }
    for (int64_t j = 0; j < len; ++j) {
      int64_t id = v[size_t(r * l + j)];
      if (id < 0 || id > INT32_MAX) fail("input '{}': id {} at [{}, {}] is not a valid token id", name, id, r, j);
      rows[size_t(r)].push_back(int32_t(id));
    }
  }
  return rows;
}

void check_input_names(const std::map<std::string, Tensor>& inputs, const std::vector<std::string>& accepted,
                       const std::string& model_kind) {
  static const std::vector<std::string> outputs = {"logits", "generated_ids", "last_hidden_state", "pooler_output",
                                                   "encoder_last_hidden_state", "hidden_states", "past_key_values"};
  for (const auto& [name, t] : inputs) {
    if (std::find(accepted.begin(), accepted.end(), name) != accepted.end()) continue;
    if (std::find(outputs.begin(), outputs.end(), name) != outputs.end()) continue;
    std::string list;
    for (const auto& a : accepted) list += (list.empty() ? "" : ", ") + a;
    fail("input '{}' is not known to {} (inputs: {})", name, model_kind, list);
  }
}

Tensor ids_tensor(const std::vector<int32_t>& ids) {
  Tensor t = Tensor::zeros(DType::I64, {1, int64_t(ids.size())});
  for (size_t i = 0; i < ids.size(); ++i) t.data<int64_t>()[i] = ids[i];
  return t;
}

}  // namespace tessera
