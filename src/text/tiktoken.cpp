// Tokenizer::from_tiktoken: a tiktoken rank file turned into the tokenizer.json that Hugging
// Face's TikTokenConverter writes (byte-level BPE, Split by the pattern, ignore_merges), with
// each token's merge recovered by running BPE on its bytes with the lower ranks only.
#include <fstream>
#include <unordered_map>

#include "byte_level.hpp"
#include "components.hpp"
#include "precompiled.hpp"
#include "tessera/core/error.hpp"
#include "tessera/text/tokenizer.hpp"

namespace tessera {

Tokenizer Tokenizer::from_tiktoken(const std::string& rank_file, std::string_view pattern,
                                   const std::vector<std::pair<std::string, int32_t>>& special_tokens) {
  std::ifstream f(rank_file, std::ios::binary);
  if (!f) fail("tokenizer: cannot open the tiktoken file '{}'", rank_file);
  std::vector<std::string> by_rank;
  std::unordered_map<std::string, int32_t> rank_of;
  std::string line;
  size_t line_no = 0;
  while (std::getline(f, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const size_t sp = line.find(' ');
    if (sp == std::string::npos) fail("{}: line {}: expected 'base64-token rank'", rank_file, line_no);
    const text::JsonPath where{rank_file, fmt::format("line {}", line_no)};
    std::string bytes = text::base64_decode(std::string_view(line).substr(0, sp), where);
    long rank = -1;
    try {
      rank = std::stol(line.substr(sp + 1));
    } catch (const std::exception&) {
    }
    if (rank < 0 || rank > INT32_MAX || bytes.empty()) fail("{}: line {}: bad token or rank", rank_file, line_no);
    // Ranks index a dense table: refuse one far beyond the lines read (a hostile file
    // would otherwise allocate gigabytes).
    if (rank >= long(line_no) + (1L << 20)) fail("{}: line {}: rank {} is far beyond the {} lines read", rank_file, line_no, rank, line_no);
    if (static_cast<size_t>(rank) >= by_rank.size()) by_rank.resize(static_cast<size_t>(rank) + 1);
    by_rank[static_cast<size_t>(rank)] = bytes;
    rank_of.emplace(std::move(bytes), static_cast<int32_t>(rank));
  }
  if (rank_of.empty()) fail("{}: no tokens", rank_file);

  const auto& table = text::byte_level_table();
  const auto to_level = [&](const std::string& b) {
    std::string s;
    for (unsigned char c : b) s += table.byte_to_utf8[c];
    return s;
  };
  text::json vocab = text::json::object();
  text::json merges = text::json::array();
  std::vector<std::string> parts;
  for (size_t r = 0; r < by_rank.size(); ++r) {
    const std::string& b = by_rank[r];
    if (b.empty()) continue;
    vocab[to_level(b)] = r;
    if (b.size() == 1) continue;
    parts.clear();
    for (char c : b) parts.emplace_back(1, c);
    while (parts.size() > 1) {  // BPE with only the ranks below r
      size_t best = parts.size();
      int32_t best_rank = INT32_MAX;
      for (size_t i = 0; i + 1 < parts.size(); ++i) {
        auto it = rank_of.find(parts[i] + parts[i + 1]);
        if (it != rank_of.end() && static_cast<size_t>(it->second) < r && it->second < best_rank) {
          best = i;
          best_rank = it->second;
        }
      }
      if (best == parts.size()) break;
      parts[best] += parts[best + 1];
      parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(best) + 1);
    }
    if (parts.size() != 2) fail("{}: token of rank {} is not the merge of two lower-ranked tokens", rank_file, r);
    merges.push_back({to_level(parts[0]), to_level(parts[1])});
  }
  text::json added = text::json::array();
  for (const auto& [content, id] : special_tokens) {
    vocab[content] = id;
    added.push_back({{"id", id}, {"content", content}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                     {"normalized", false}, {"special", true}});
  }
  const text::json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}};
  const text::json j = {
      {"version", "1.0"},
      {"added_tokens", added},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"}, {"pattern", {{"Regex", std::string(pattern)}}}, {"behavior", "Isolated"}, {"invert", false}},
          byte_level}}}},
      {"post_processor", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}},
      {"decoder", byte_level},
      {"model",
       {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}, {"ignore_merges", true}, {"byte_fallback", false},
        {"fuse_unk", false}}}};
  return from_json(j.dump(), rank_file);
}

}  // namespace tessera
