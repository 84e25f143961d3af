// AddedVocabulary: matching added/special tokens in the text the way tokenizers does.
#include "added_vocabulary.hpp"

#include "unicode.hpp"

namespace tessera::text {

void AddedVocabulary::Trie::insert(std::string_view s, int32_t token) {
  if (s.empty()) return;
  int32_t node = 0;
  for (unsigned char c : s) {
    int32_t next = -1;
    for (const auto& [label, child] : nodes[static_cast<size_t>(node)].next)
      if (label == c) next = child;
    if (next < 0) {
      next = static_cast<int32_t>(nodes.size());
      nodes[static_cast<size_t>(node)].next.emplace_back(c, next);
      nodes.emplace_back();
    }
    node = next;
  }
  if (nodes[static_cast<size_t>(node)].token < 0) nodes[static_cast<size_t>(node)].token = token;  // first wins
}

int32_t AddedVocabulary::Trie::longest(std::string_view s, size_t i, size_t* end) const {
  int32_t node = 0, best = -1;
  for (size_t k = i; k < s.size(); ++k) {
    const auto c = static_cast<unsigned char>(s[k]);
    int32_t next = -1;
    for (const auto& [label, child] : nodes[static_cast<size_t>(node)].next)
      if (label == c) {
        next = child;
        break;
      }
    if (next < 0) break;
    node = next;
    if (nodes[static_cast<size_t>(node)].token >= 0) {
      best = nodes[static_cast<size_t>(node)].token;
      *end = k + 1;
    }
  }
  return best;
}

void AddedVocabulary::build(std::vector<AddedToken> tokens, const Normalizer* normalizer) {
  tokens_ = std::move(tokens);
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const AddedToken& t = tokens_[i];
    by_content_.insert_or_assign(t.content, t.id);
    by_id_.insert_or_assign(t.id, i);
  }
  // tokenizers puts the special tokens first, then the others, each in file order.
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < tokens_.size(); ++i) {
      const AddedToken& t = tokens_[i];
      if (t.special != (pass == 0)) continue;
      if (!t.normalized) {
        raw_.insert(t.content, static_cast<int32_t>(i));
      } else {
        NormalizedString n(t.content);
        if (normalizer) normalizer->normalize(n);
        normalized_.insert(n.get(), static_cast<int32_t>(i));
      }
    }
  }
}

std::optional<int32_t> AddedVocabulary::token_to_id(std::string_view t) const {
  auto it = by_content_.find(std::string(t));
  if (it == by_content_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> AddedVocabulary::id_to_token(int32_t id) const {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  return tokens_[it->second].content;
}

bool AddedVocabulary::is_special(int32_t id) const {
  auto it = by_id_.find(id);
  return it != by_id_.end() && tokens_[it->second].special;
}

namespace {

bool ends_with_word(std::string_view s) {
  if (s.empty()) return false;
  size_t i = s.size();
  return is_word_char(prev_cp(s, i));
}
bool starts_with_word(std::string_view s) {
  if (s.empty()) return false;
  size_t i = 0;
  return is_word_char(next_cp(s, i));
}

}  // namespace

std::vector<std::pair<Offsets, int32_t>> AddedVocabulary::find_matches(std::string_view s, const Trie& trie) const {
  std::vector<std::pair<Offsets, int32_t>> splits;
  if (s.empty()) {
    splits.push_back({{0, 0}, -1});
    return splits;
  }
  size_t start_offset = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t stop = 0;
    const int32_t tok = trie.longest(s, i, &stop);
    if (tok < 0) {
      ++i;
      continue;
    }
    size_t start = i;
    i = stop;  // the matcher moves past this match even when it is rejected below
    const AddedToken& t = tokens_[static_cast<size_t>(tok)];
    if (t.single_word) {
      const bool start_space = start == 0 || !ends_with_word(s.substr(0, start));
      const bool stop_space = stop == s.size() || !starts_with_word(s.substr(stop));
      if (!start_space || !stop_space) continue;
    }
    if (t.lstrip) {
      // The byte after the last non-whitespace character before the match.
      size_t k = start, newstart = 0;
      while (k > 0) {
        size_t j = k;
        const char32_t c = prev_cp(s, j);
        if (!is_whitespace(c)) {
          newstart = k;
          break;
        }
        k = j;
      }
      start = std::max(newstart, start_offset);
    }
    if (t.rstrip) {
      size_t k = stop;
      while (k < s.size()) {
        size_t j = k;
        if (!is_whitespace(next_cp(s, j))) break;
        k = j;
      }
      stop = k;
      i = std::max(i, stop);
    }
    if (start_offset < start) splits.push_back({{start_offset, start}, -1});
    splits.push_back({{start, stop}, tok});
    start_offset = stop;
  }
  if (start_offset != s.size()) splits.push_back({{start_offset, s.size()}, -1});
  return splits;
}

std::vector<Split> AddedVocabulary::split_with_indices(NormalizedString&& n, const Trie& trie) const {
  std::vector<Split> out;
  for (const auto& [o, tok] : find_matches(n.get(), trie)) {
    NormalizedString slice = n.slice(o.first, o.second);
    if (tok >= 0) {
      std::string value = slice.get();
      const size_t len = value.size();
      out.push_back({std::move(slice), std::vector<Token>{{tokens_[static_cast<size_t>(tok)].id, std::move(value), {0, len}}}});
    } else {
      out.push_back({std::move(slice), std::nullopt});
    }
  }
  return out;
}

PreTokenizedString AddedVocabulary::extract_and_normalize(const Normalizer* normalizer, std::string_view text) const {
  PreTokenizedString pts;
  pts.original = std::string(text);
  std::vector<Split> first;
  if (raw_.empty()) {
    if (!text.empty()) first.push_back({NormalizedString(text), std::nullopt});
  } else {
    for (auto& s : split_with_indices(NormalizedString(text), raw_))
      if (!s.normalized.empty()) first.push_back(std::move(s));
  }
  for (auto& s : first) {
    if (s.tokens) {
      pts.splits.push_back(std::move(s));
      continue;
    }
    if (normalizer) normalizer->normalize(s.normalized);
    if (normalized_.empty()) {
      if (!s.normalized.empty()) pts.splits.push_back(std::move(s));
      continue;
    }
    for (auto& x : split_with_indices(std::move(s.normalized), normalized_))
      if (!x.normalized.empty()) pts.splits.push_back(std::move(x));
  }
  return pts;
}

}  // namespace tessera::text
