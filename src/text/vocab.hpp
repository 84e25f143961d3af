// Vocab: token string ⇄ id tables shared by the WordPiece, WordLevel and Unigram models.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "components.hpp"

namespace tessera::text {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class Vocab {
 public:
  // From a JSON object {token: id}.
  static Vocab from_object(const json& j, const JsonPath& p);
  void add(std::string token, int32_t id);
  std::optional<int32_t> find(std::string_view t) const {
    auto it = map_.find(t);
    if (it == map_.end()) return std::nullopt;
    return it->second;
  }
  std::optional<std::string> token(int32_t id) const {
    if (id < 0 || static_cast<size_t>(id) >= tokens_.size() || !present_[static_cast<size_t>(id)]) return std::nullopt;
    return tokens_[static_cast<size_t>(id)];
  }
  size_t size() const { return tokens_.size(); }

 private:
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> map_;
  std::vector<std::string> tokens_;
  std::vector<bool> present_;
};

}  // namespace tessera::text
