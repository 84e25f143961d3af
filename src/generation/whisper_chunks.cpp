#include "tessera/generation/whisper_chunks.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "tessera/core/error.hpp"

namespace tessera {
namespace {

// Python's round(x, 2): the exactly rounded decimal (ties to even on the binary value), which
// glibc's printf computes too.
double round2(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", x);
  return std::strtod(buf, nullptr);
}

}  // namespace

std::vector<AudioWindow> plan_audio_windows(int64_t n_samples, int64_t chunk_len, int64_t stride_left,
                                            int64_t stride_right) {
  TESSERA_CHECK(n_samples >= 0 && stride_left >= 0 && stride_right >= 0 && chunk_len > stride_left + stride_right,
                "audio windows: the window ({} samples) must be longer than its two strides ({} + {} samples)",
                chunk_len, stride_left, stride_right);
  std::vector<AudioWindow> out;
  const int64_t step = chunk_len - stride_left - stride_right;
  for (int64_t start = 0; start < n_samples; start += step) {
    const int64_t end = start + chunk_len;
    AudioWindow w;
    w.begin = start;
    w.end = std::min(end, n_samples);
    w.stride_left = start == 0 ? 0 : stride_left;
    w.is_last = end >= n_samples;
    w.stride_right = w.is_last ? 0 : stride_right;
    if (w.end - w.begin > w.stride_left) out.push_back(w);
    if (w.is_last) break;
  }
  return out;
}

std::vector<int32_t> find_longest_common_sequence(const std::vector<std::vector<int32_t>>& sequences) {
  if (sequences.empty()) return {};
  std::vector<int32_t> total, left = sequences[0];
  for (size_t s = 1; s < sequences.size(); ++s) {
    const std::vector<int32_t>& right = sequences[s];
    const int64_t ll = int64_t(left.size()), rl = int64_t(right.size());
    double best = 0.0;
    int64_t b_ls = ll, b_le = ll, b_rs = 0, b_re = 0;
    // Slide the right sequence along the left one: at offset i, the last i tokens of the left
    // face the first i of the right (clipped at both ends).
    for (int64_t i = 1; i < ll + rl; ++i) {
      const double eps = double(i) / 10000.0;  // favours longer perfect matches
      const int64_t ls = std::max<int64_t>(0, ll - i), le = std::min(ll, ll + rl - i);
      const int64_t rs = std::max<int64_t>(0, i - ll);
      int64_t matches = 0;
      for (int64_t k = 0; k < le - ls; ++k) matches += left[size_t(ls + k)] == right[size_t(rs + k)];
      const double matching = double(matches) / double(i) + eps;
      if (matches > 1 && matching > best) {
        best = matching;
        b_ls = ls, b_le = le, b_rs = rs, b_re = std::min(rl, i);
      }
    }
    // Trust the left window for the first half of the overlap, the right one for the second.
    const int64_t left_mid = (b_le + b_ls) / 2, right_mid = (b_re + b_rs) / 2;
    total.insert(total.end(), left.begin(), left.begin() + left_mid);
    left.assign(right.begin() + right_mid, right.end());
  }
  total.insert(total.end(), left.begin(), left.end());
  return total;
}

std::vector<TimedSegment> merge_window_tokens(const std::vector<WindowTokens>& windows, const WhisperTokenInfo& info,
                                              bool return_timestamps, int64_t segment_size) {
  TESSERA_CHECK(info.time_precision > 0, "Whisper time_precision must be positive, found {}", info.time_precision);
  const int32_t tb = info.timestamp_begin;
  const double tp = info.time_precision;
  auto is_special = [&](int32_t t) {
    return std::find(info.special_ids.begin(), info.special_ids.end(), t) != info.special_ids.end();
  };
  auto language_of = [&](int32_t t) -> const std::string* {
    for (const auto& [id, code] : info.languages)
      if (id == t) return &code;
    return nullptr;
  };

  // The state machine of HF _decode_asr, variable for variable.
  std::string last_language;
  auto new_segment = [&] {
    TimedSegment s;
    s.language = last_language;
    return s;
  };
  std::vector<TimedSegment> out;
  TimedSegment seg = new_segment();
  double time_offset = 0.0;
  std::vector<std::vector<int32_t>> previous;  // token runs of the open segment, one per window
  bool skip = false;
  auto close = [&](std::vector<int32_t>& current) {
    previous.push_back(current);
    seg.tokens = find_longest_common_sequence(previous);
    out.push_back(std::move(seg));
    previous.clear();
    current.clear();
    seg = new_segment();
  };

  for (const WindowTokens& w : windows) {
    const std::vector<int32_t>& ids = w.tokens;
    std::optional<int32_t> last_timestamp;  // the right-stride timestamps from here on are deferred
    double first_timestamp = tb;            // timestamps before it lie in the left stride
    double cur_max = 0.0, prev_segments_len = 0.0, penultimate = 0.0;

    time_offset -= w.stride_left;
    const double right_stride_start = w.length - w.stride_right;
    if (w.stride_left != 0) first_timestamp = w.stride_left / tp + tb;
    if (w.stride_right != 0)
      for (auto it = ids.rbegin(); it != ids.rend(); ++it)
        if (*it >= tb) {
          if (last_timestamp && double(*it - tb) * tp < right_stride_start) break;
          last_timestamp = *it;
        }

    std::vector<int32_t> current;
    for (size_t i = 0; i < ids.size(); ++i) {
      const int32_t token = ids[i];
      if (is_special(token)) {
        if (const std::string* lang = language_of(token)) {
          if (!last_language.empty() && *lang != last_language && !return_timestamps) close(current);
          seg.language = *lang;
          last_language = *lang;
        }
      } else if (token >= tb) {
        const double timestamp = double(token - tb) * tp;
        if (timestamp < cur_max) {  // a new 30 s segment of sequential long-form output began
          const bool single_ending = i >= 2 && !(ids[i - 1] >= tb && ids[i - 2] >= tb);
          if (single_ending) {
            prev_segments_len += tp * double(segment_size);
          } else {
            cur_max = penultimate;
            prev_segments_len += penultimate;
          }
        }
        penultimate = cur_max;
        cur_max = timestamp;
        const double time = round2(double(token - tb) * tp + time_offset + prev_segments_len);
        if (last_timestamp && token >= *last_timestamp) {
          skip = true;  // in the right stride: the next window will say it again
        } else if (skip || (!previous.empty() && token < first_timestamp)) {
          skip = false;
        } else if (!seg.start) {
          seg.start = time;
        } else if (time != *seg.start) {  // equal: a repeated start, not an end
          seg.end = time;
          close(current);
        }
      } else {
        current.push_back(token);
      }
    }
    time_offset += w.length - w.stride_right;
    if (!current.empty()) {
      previous.push_back(current);
    } else if (std::none_of(previous.begin(), previous.end(), [](const auto& p) { return !p.empty(); })) {
      seg = new_segment();
      previous.clear();
    }
  }
  if (!previous.empty()) {
    seg.tokens = find_longest_common_sequence(previous);
    out.push_back(std::move(seg));
  }
  if (!return_timestamps)
    for (TimedSegment& s : out) s.start.reset(), s.end.reset();
  return out;
}

}  // namespace tessera
