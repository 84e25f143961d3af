// The head-interleaved fused query_key_value of BLOOM and Falcon, in the [q | k | v] row order
// Attention's fused projection takes. Internal to the family loaders.
#pragma once

#include <string>
#include <vector>

#include "tessera/models/scope.hpp"

namespace tessera::families {

// The stored weight holds kv_heads groups, each `group` query heads then one key head and one
// value head of head_dim rows ([kv_heads][group + 2][head_dim]: BLOOM and Falcon without
// multi-query have group 1, Falcon's new decoder architecture one group per kv head). Loaded
// with its rows reordered to all queries, all keys, all values.
inline Linear load_grouped_qkv(const Scope& scope, const std::string& module, int64_t in, int64_t kv_heads,
                               int64_t group, int64_t head_dim, bool bias) {
  const int64_t per = (group + 2) * head_dim;  // rows of one kv group
  std::vector<int64_t> rows;
  for (int64_t g = 0; g < kv_heads; ++g)
    for (int64_t h = 0; h < group; ++h)
      for (int64_t t = 0; t < head_dim; ++t) rows.push_back(g * per + h * head_dim + t);
  for (int64_t part : {group, group + 1})  // the keys, then the values
    for (int64_t g = 0; g < kv_heads; ++g)
      for (int64_t t = 0; t < head_dim; ++t) rows.push_back(g * per + part * head_dim + t);
  return scope.linear_rows(module, in, kv_heads * per, rows, bias);
}

}  // namespace tessera::families
