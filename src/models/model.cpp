#include "tessera/models/model.hpp"

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

}  // namespace tessera
