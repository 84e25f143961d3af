// Vocab: token ⇄ id tables read from tokenizer.json.
#include "vocab.hpp"

namespace tessera::text {

Vocab Vocab::from_object(const json& j, const JsonPath& p) {
  if (!j.is_object()) p.fail("must be an object {token: id}");
  Vocab v;
  v.map_.reserve(j.size());
  // Ids index a dense table: a few gaps are fine, an id far beyond the number of entries
  // would make a hostile file allocate gigabytes.
  const int64_t limit = int64_t(j.size()) + (int64_t(1) << 20);
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 || it.value().get<int64_t>() > INT32_MAX)
      p.fail("has token '" + it.key() + "' with id " + it.value().dump() + ", expected an integer in [0, 2^31)");
    if (it.value().get<int64_t>() >= limit)
      p.fail("has token '" + it.key() + "' with id " + it.value().dump() + ", but only " + std::to_string(j.size()) +
             " entries: ids must stay below " + std::to_string(limit));
    v.add(it.key(), static_cast<int32_t>(it.value().get<int64_t>()));
  }
  return v;
}

void Vocab::add(std::string token, int32_t id) {
  const auto i = static_cast<size_t>(id);
  if (i >= tokens_.size()) {
    tokens_.resize(i + 1);
    present_.resize(i + 1, false);
  }
  tokens_[i] = token;
  present_[i] = true;
  map_.insert_or_assign(std::move(token), id);
}

}  // namespace tessera::text
