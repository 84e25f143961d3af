// NormalizedString: alignment-tracking edits, following Hugging Face's rules so offsets match.
#include "normalized_string.hpp"

#include "unicode.hpp"

namespace tessera::text {

NormalizedString::NormalizedString(std::string_view original, size_t shift)
    : text_(original), orig_begin_(shift), orig_end_(shift + original.size()) {
  align_.resize(text_.size());
  size_t i = 0;
  while (i < text_.size()) {
    const size_t len = utf8_len(static_cast<unsigned char>(text_[i]));
    for (size_t k = 0; k < len && i + k < text_.size(); ++k) align_[i + k] = {shift + i, shift + i + len};
    i += len;
  }
}

Offsets NormalizedString::convert_offsets(size_t begin, size_t end) const {
  if (begin >= end || end > align_.size()) {
    if (text_.empty()) return {orig_begin_, orig_end_};
    const size_t at = begin < align_.size() ? align_[begin].first : orig_end_;
    return {at, at};
  }
  return {align_[begin].first, align_[end - 1].second};
}

void NormalizedString::transform_range(size_t begin, size_t end, const std::vector<std::pair<char32_t, int>>& chars,
                                       size_t initial_offset) {
  // Byte positions of the characters being replaced in [begin, end).
  std::vector<size_t> starts;
  for (size_t i = begin; i < end;) {
    starts.push_back(i);
    i += utf8_len(static_cast<unsigned char>(text_[i]));
  }
  size_t next_char = std::min(initial_offset, starts.size());
  size_t offset = next_char < starts.size() ? starts[next_char] : end;
  const auto char_end = [&](size_t k) { return k + 1 < starts.size() ? starts[k + 1] : end; };

  std::string out;
  std::vector<Offsets> out_align;
  out.reserve(end - begin);
  out_align.reserve(end - begin);
  for (const auto& [c, change] : chars) {
    Offsets a;
    if (change > 0) {
      a = offset >= 1 ? align_[offset - 1] : Offsets{orig_begin_, orig_begin_};
    } else {
      a = offset < align_.size() ? align_[offset] : Offsets{orig_end_, orig_end_};
      if (next_char < starts.size()) {
        offset = char_end(next_char);
        ++next_char;
      }
      for (int r = 0; r < -change && next_char < starts.size(); ++r) {
        offset = char_end(next_char);
        ++next_char;
      }
    }
    const size_t before = out.size();
    append_utf8(out, c);
    out_align.insert(out_align.end(), out.size() - before, a);
  }
  if (begin == 0 && end == text_.size()) {
    text_ = std::move(out);
    align_ = std::move(out_align);
    return;
  }
  text_.replace(begin, end - begin, out);
  align_.erase(align_.begin() + static_cast<std::ptrdiff_t>(begin), align_.begin() + static_cast<std::ptrdiff_t>(end));
  align_.insert(align_.begin() + static_cast<std::ptrdiff_t>(begin), out_align.begin(), out_align.end());
}

void NormalizedString::transform(const std::vector<std::pair<char32_t, int>>& chars, size_t initial_offset) {
  transform_range(0, text_.size(), chars, initial_offset);
}

void NormalizedString::prepend(std::string_view s) {
  if (text_.empty() || s.empty()) return;
  size_t i = 0;
  const char32_t first = next_cp(text_, i);
  std::vector<std::pair<char32_t, int>> t;
  size_t j = 0;
  while (j < s.size()) t.emplace_back(next_cp(s, j), t.empty() ? 0 : 1);
  t.emplace_back(first, 1);
  transform_range(0, i, t, 0);
}

void NormalizedString::append(std::string_view s) {
  if (text_.empty() || s.empty()) return;
  size_t i = text_.size();
  const char32_t last = prev_cp(text_, i);
  std::vector<std::pair<char32_t, int>> t{{last, 0}};
  size_t j = 0;
  while (j < s.size()) t.emplace_back(next_cp(s, j), 1);
  transform_range(i, text_.size(), t, 0);
}

void NormalizedString::lowercase() {
  bool ascii_upper = false, non_ascii = false;
  for (char ch : text_) {
    ascii_upper |= ch >= 'A' && ch <= 'Z';
    non_ascii |= static_cast<unsigned char>(ch) >= 0x80;
  }
  if (!non_ascii) {
    if (ascii_upper)
      for (char& ch : text_)
        if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch + 32);
    return;
  }
  std::vector<std::pair<char32_t, int>> t;
  t.reserve(text_.size());
  size_t i = 0;
  char32_t buf[4];
  while (i < text_.size()) {
    const size_t n = lowercase_count(next_cp(text_, i), buf);
    for (size_t k = 0; k < n; ++k) t.emplace_back(buf[k], k > 0 ? 1 : 0);
  }
  transform(t, 0);
}

void NormalizedString::map_chars(const std::function<void(char32_t, std::vector<char32_t>&)>& fn) {
  std::vector<std::pair<char32_t, int>> t;
  t.reserve(text_.size());
  std::vector<char32_t> buf;
  size_t i = 0;
  int pending_removed = 0;  // characters mapped to nothing, attributed as HF's filter does
  size_t initial = 0;
  while (i < text_.size()) {
    const char32_t c = next_cp(text_, i);
    buf.clear();
    fn(c, buf);
    if (buf.empty()) {
      if (t.empty()) {
        ++initial;
      } else {
        ++pending_removed;
      }
      continue;
    }
    if (pending_removed > 0) {
      t.back().second -= pending_removed;
      pending_removed = 0;
    }
    for (size_t k = 0; k < buf.size(); ++k) t.emplace_back(buf[k], k > 0 ? 1 : 0);
  }
  if (pending_removed > 0 && !t.empty()) t.back().second -= pending_removed;
  transform(t, initial);
}

void NormalizedString::filter(const std::function<bool(char32_t)>& keep) {
  std::vector<std::pair<char32_t, int>> t;
  t.reserve(text_.size());
  int removed = 0;
  size_t removed_start = 0;
  bool have_last = false;
  char32_t last = 0;
  size_t i = 0;
  while (i < text_.size()) {
    const char32_t c = next_cp(text_, i);
    if (keep(c)) {
      if (have_last) {
        t.emplace_back(last, -removed);
      } else {
        removed_start = static_cast<size_t>(removed);
      }
      last = c;
      have_last = true;
      removed = 0;
    } else {
      ++removed;
    }
  }
  if (have_last) t.emplace_back(last, -removed);
  transform(t, removed_start);
}

void NormalizedString::strip(bool left, bool right) {
  std::vector<char32_t> cps;
  size_t i = 0;
  while (i < text_.size()) cps.push_back(next_cp(text_, i));
  size_t leading = 0, trailing = 0;
  if (left)
    while (leading < cps.size() && is_whitespace(cps[leading])) ++leading;
  if (right)
    while (trailing < cps.size() && is_whitespace(cps[cps.size() - 1 - trailing])) ++trailing;
  if (leading == 0 && trailing == 0) return;
  std::vector<std::pair<char32_t, int>> t;
  for (size_t k = 0; k < cps.size(); ++k) {
    if (k < leading || k + trailing >= cps.size()) continue;
    t.emplace_back(cps[k], 0);
  }
  transform(t, leading);
}

void NormalizedString::replace_matches(const std::vector<Offsets>& matches, std::string_view content) {
  if (matches.empty()) return;
  std::string out;
  std::vector<Offsets> out_align;
  out.reserve(text_.size());
  out_align.reserve(text_.size());
  size_t last = 0;
  for (const auto& [b, e] : matches) {
    out.append(text_, last, b - last);
    out_align.insert(out_align.end(), align_.begin() + static_cast<std::ptrdiff_t>(last),
                     align_.begin() + static_cast<std::ptrdiff_t>(b));
    const Offsets a = e >= 1 ? align_[e - 1] : Offsets{orig_begin_, orig_begin_};
    out.append(content);
    out_align.insert(out_align.end(), content.size(), a);
    last = e;
  }
  out.append(text_, last, std::string::npos);
  out_align.insert(out_align.end(), align_.begin() + static_cast<std::ptrdiff_t>(last), align_.end());
  text_ = std::move(out);
  align_ = std::move(out_align);
}

void NormalizedString::replace(std::string_view pattern, std::string_view content) {
  if (pattern.empty()) return;
  std::vector<Offsets> matches;
  size_t pos = 0;
  while ((pos = text_.find(pattern, pos)) != std::string::npos) {
    matches.emplace_back(pos, pos + pattern.size());
    pos += pattern.size();
  }
  replace_matches(matches, content);
}

NormalizedString NormalizedString::slice(size_t begin, size_t end) const {
  NormalizedString s;
  const Offsets o = convert_offsets(begin, end);
  s.text_ = text_.substr(begin, end - begin);
  s.align_.assign(align_.begin() + static_cast<std::ptrdiff_t>(begin), align_.begin() + static_cast<std::ptrdiff_t>(end));
  s.orig_begin_ = o.first;
  s.orig_end_ = o.second;
  return s;
}

std::vector<NormalizedString> NormalizedString::split(const std::vector<std::pair<Offsets, bool>>& matches,
                                                      SplitBehavior behavior) const {
  std::vector<std::pair<Offsets, bool>> splits;  // (range, remove)
  switch (behavior) {
    case SplitBehavior::kIsolated:
      for (const auto& [o, m] : matches) splits.emplace_back(o, false);
      break;
    case SplitBehavior::kRemoved:
      splits = matches;
      break;
    case SplitBehavior::kContiguous: {
      bool prev_match = false;
      for (const auto& [o, m] : matches) {
        if (m == prev_match && !splits.empty()) {
          splits.back().first.second = o.second;
        } else {
          splits.emplace_back(o, false);
        }
        prev_match = m;
      }
      break;
    }
    case SplitBehavior::kMergedWithPrevious: {
      bool prev_match = false;
      for (const auto& [o, m] : matches) {
        if (m && !prev_match && !splits.empty()) {
          splits.back().first.second = o.second;
        } else {
          splits.emplace_back(o, false);
        }
        prev_match = m;
      }
      break;
    }
    case SplitBehavior::kMergedWithNext: {
      bool prev_match = false;
      for (auto it = matches.rbegin(); it != matches.rend(); ++it) {
        if (it->second && !prev_match && !splits.empty()) {
          splits.back().first.first = it->first.first;
        } else {
          splits.emplace_back(it->first, false);
        }
        prev_match = it->second;
      }
      std::reverse(splits.begin(), splits.end());
      break;
    }
  }
  std::vector<NormalizedString> out;
  out.reserve(splits.size());
  for (const auto& [o, remove] : splits)
    if (!remove) out.push_back(slice(o.first, o.second));
  return out;
}

std::vector<std::pair<Offsets, bool>> char_matches(std::string_view s, const std::function<bool(char32_t)>& pred) {
  std::vector<std::pair<Offsets, bool>> out;
  if (s.empty()) {
    out.push_back({{0, 0}, false});
    return out;
  }
  size_t last = 0, i = 0;
  while (i < s.size()) {
    const size_t start = i;
    const char32_t c = next_cp(s, i);
    if (pred(c)) {
      if (last < start) out.push_back({{last, start}, false});
      out.push_back({{start, i}, true});
      last = i;
    }
  }
  if (last < s.size()) out.push_back({{last, s.size()}, false});
  return out;
}

std::vector<std::pair<Offsets, bool>> cover_matches(size_t size, const std::vector<Offsets>& matches) {
  std::vector<std::pair<Offsets, bool>> out;
  if (size == 0) {
    out.push_back({{0, 0}, false});
    return out;
  }
  size_t prev = 0;
  for (const auto& [b, e] : matches) {
    if (prev != b) out.push_back({{prev, b}, false});
    out.push_back({{b, e}, true});
    prev = e;
  }
  if (prev != size) out.push_back({{prev, size}, false});
  return out;
}

}  // namespace tessera::text
