// SentencePiece's precompiled charsmap, applied grapheme by grapheme exactly as tokenizers'
// Precompiled normalizer does (including its use of the shortest prefix match).
#include "precompiled.hpp"

#include <unicode/brkiter.h>
#include <unicode/utext.h>

#include <cstring>
#include <memory>

#include "tessera/core/error.hpp"
#include "unicode.hpp"

namespace tessera::text {

std::string base64_decode(std::string_view b64, const JsonPath& where) {
  std::string out;
  out.reserve(b64.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : b64) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+' || c == '-') v = 62;
    else if (c == '/' || c == '_') v = 63;
    else if (c == '=' || c == '\n' || c == '\r' || c == ' ') continue;
    else where.fail("is not valid base64");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

PrecompiledCharsmap PrecompiledCharsmap::from_base64(std::string_view b64, const JsonPath& where) {
  const std::string blob = base64_decode(b64, where);
  if (blob.size() < 4) where.fail("is too short to be a precompiled charsmap");
  uint32_t trie_size;
  std::memcpy(&trie_size, blob.data(), 4);
  if (trie_size % 4 != 0 || static_cast<size_t>(trie_size) + 4 > blob.size())
    where.fail(fmt::format("has a trie of {} bytes that does not fit in {} bytes", trie_size, blob.size()));
  PrecompiledCharsmap m;
  m.trie_.resize(trie_size / 4);
  std::memcpy(m.trie_.data(), blob.data() + 4, trie_size);
  m.normalized_ = blob.substr(4 + trie_size);
  if (m.trie_.empty()) where.fail("has an empty trie");
  return m;
}

std::string_view PrecompiledCharsmap::transform(std::string_view s, size_t* matched_len) const {
  const auto offset = [](uint32_t unit) -> size_t { return (unit >> 10) << ((unit & (1u << 9)) >> 6); };
  const auto label = [](uint32_t unit) -> uint32_t { return unit & ((1u << 31) | 0xFFu); };
  const auto has_leaf = [](uint32_t unit) { return ((unit >> 8) & 1u) == 1u; };
  const auto value = [](uint32_t unit) -> size_t { return unit & ((1u << 31) - 1); };
  size_t node = 0;
  uint32_t unit = trie_[node];
  node ^= offset(unit);
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0) break;
    node ^= c;
    if (node >= trie_.size()) return {};
    unit = trie_[node];
    if (label(unit) != c) return {};
    node ^= offset(unit);
    if (node >= trie_.size()) return {};
    if (has_leaf(unit)) {
      const size_t index = value(trie_[node]);
      if (index >= normalized_.size()) return {};
      size_t end = index;
      while (end < normalized_.size() && normalized_[end] != '\0') ++end;
      *matched_len = i + 1;
      return std::string_view(normalized_).substr(index, end - index);
    }
  }
  return {};
}

namespace {

void replace_part(std::vector<std::pair<char32_t, int>>& t, std::string_view old_part, std::string_view new_part) {
  const auto old_count = static_cast<int>(count_cps(old_part));
  const auto new_count = static_cast<int>(count_cps(new_part));
  const int diff = new_count - old_count;
  size_t i = 0;
  while (i < new_part.size()) t.emplace_back(next_cp(new_part, i), 0);
  if (diff > 0) {
    for (int k = 0; k < diff && k < static_cast<int>(t.size()); ++k) t[t.size() - 1 - static_cast<size_t>(k)].second = 1;
  } else if (diff < 0 && !t.empty()) {
    t.back().second += diff;
  }
}

struct BreakIteratorDeleter {
  void operator()(icu::BreakIterator* b) const { delete b; }
};

}  // namespace

void PrecompiledCharsmap::normalize(NormalizedString& n) const {
  const std::string& s = n.get();
  if (s.empty()) return;
  thread_local std::unique_ptr<icu::BreakIterator, BreakIteratorDeleter> it;
  UErrorCode status = U_ZERO_ERROR;
  if (!it) {
    it.reset(icu::BreakIterator::createCharacterInstance(icu::Locale::getRoot(), status));
    if (U_FAILURE(status)) fail("ICU: cannot create a grapheme iterator ({})", u_errorName(status));
  }
  UText* ut = utext_openUTF8(nullptr, s.data(), static_cast<int64_t>(s.size()), &status);
  it->setText(ut, status);
  std::vector<std::pair<char32_t, int>> t;
  t.reserve(s.size());
  bool modified = false;
  int32_t start = it->first();
  for (int32_t end = it->next(); end != icu::BreakIterator::DONE; start = end, end = it->next()) {
    const std::string_view g = std::string_view(s).substr(static_cast<size_t>(start), static_cast<size_t>(end - start));
    size_t len = 0;
    if (g.size() < 6) {
      const std::string_view norm = transform(g, &len);
      if (len > 0) {
        modified = true;
        replace_part(t, g, norm);
        continue;
      }
    }
    size_t i = 0;
    while (i < g.size()) {
      const size_t cs = i;
      const char32_t c = next_cp(g, i);
      const std::string_view part = g.substr(cs, i - cs);
      len = 0;
      const std::string_view norm = transform(part, &len);
      if (len > 0) {
        modified = true;
        replace_part(t, part, norm);
      } else {
        t.emplace_back(c, 0);
      }
    }
  }
  utext_close(ut);
  if (modified) n.transform(t, 0);
}

}  // namespace tessera::text
