#include "tessera/models/model.hpp"

#include <algorithm>

#include "tessera/core/error.hpp"

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
