// Unigram model (T5, Marian, XLM-R, ALBERT): Viterbi best path over the vocabulary's
// log-probabilities, unknown characters fused into one unk token, optional byte fallback,
// following tokenizers' encode_optimized (itself SentencePiece's).
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <unordered_map>

#include "components.hpp"
#include "tessera/core/error.hpp"
#include "unicode.hpp"
#include "vocab.hpp"

namespace tessera::text {
namespace {

constexpr double kUnkPenalty = 10.0;

// The score as tokenizers holds it: serde_json (without float_roundtrip) parses a decimal as
// its digits (an integer, rounded to double) multiplied or divided by a power of ten, which
// is one ulp off the exact value for some 17-digit numbers. Ties between paths in the
// Viterbi search depend on those last bits. The file's text was the shortest round-trip
// form of the value (as every JSON writer prints), so it is rebuilt from the double.
double serde_json_double(double exact) {
  static const double kPow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14,
                                  1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  if (exact == 0 || !std::isfinite(exact)) return exact;
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), exact);
  if (ec != std::errc()) return exact;
  uint64_t significand = 0;
  int exponent = 0, digits = 0;
  bool negative = false, in_fraction = false;
  const char* p = buf;
  if (*p == '-') {
    negative = true;
    ++p;
  }
  for (; p < end && *p != 'e'; ++p) {
    if (*p == '.') {
      in_fraction = true;
      continue;
    }
    if (digits >= 19) return exact;  // not reached for doubles (17 digits at most)
    significand = significand * 10 + static_cast<uint64_t>(*p - '0');
    digits += significand != 0;
    if (in_fraction) --exponent;
  }
  if (p < end && *p == 'e') exponent += std::atoi(p + 1);
  double f = static_cast<double>(significand);
  const int a = exponent < 0 ? -exponent : exponent;
  if (a > 22) return exact;  // serde_json loops over 1e308 steps; scores never get here
  f = exponent >= 0 ? f * kPow10[a] : f / kPow10[a];
  return negative ? -f : f;
}

class Unigram final : public Model {
 public:
  std::vector<std::pair<std::string, double>> pieces;
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> ids;
  std::optional<int32_t> unk_id;
  bool byte_fallback = false;
  double min_score = 0;
  std::string origin;
  // Byte trie over all pieces: child of (node, byte) in one hash map; terminal piece ids.
  std::unordered_map<uint64_t, int32_t> children;
  std::vector<int32_t> terminal{-1};

  void insert(std::string_view s, int32_t id) {
    int32_t node = 0;
    for (unsigned char c : s) {
      const uint64_t key = (static_cast<uint64_t>(node) << 8) | c;
      auto it = children.find(key);
      if (it == children.end()) {
        const auto next = static_cast<int32_t>(terminal.size());
        terminal.push_back(-1);
        it = children.emplace(key, next).first;
      }
      node = it->second;
    }
    terminal[static_cast<size_t>(node)] = id;  // the last duplicate wins, as token_to_ids does
  }

  std::vector<Token> tokenize(std::string_view s) const override {
    std::vector<Token> out;
    if (s.empty()) return out;
    struct Node {
      int32_t id = -1;
      double score = 0;
      int64_t starts_at = -1;
    };
    const size_t size = s.size();
    std::vector<Node> best(size + 1);
    const double unk_score = min_score - kUnkPenalty;
    size_t start = 0;
    while (start < size) {
      const double here = best[start].score;
      bool has_single = false;
      const size_t mblen = utf8_len(static_cast<unsigned char>(s[start]));
      int32_t node = 0;
      for (size_t k = start; k < size; ++k) {
        auto it = children.find((static_cast<uint64_t>(node) << 8) | static_cast<unsigned char>(s[k]));
        if (it == children.end()) break;
        node = it->second;
        const int32_t id = terminal[static_cast<size_t>(node)];
        if (id < 0) continue;
        const size_t end = k + 1;
        const double cand = pieces[static_cast<size_t>(id)].second + here;
        Node& t = best[end];
        if (t.starts_at < 0 || cand > t.score) {
          t.score = cand;
          t.starts_at = static_cast<int64_t>(start);
          t.id = id;
        }
        if (end - start == mblen) has_single = true;
      }
      if (!has_single) {
        if (!unk_id) fail("{}: field 'model.unk_id' is null, but the text has a character that no piece covers", origin);
        Node& t = best[start + mblen];
        const double cand = unk_score + here;
        if (t.starts_at < 0 || cand > t.score) {
          t.score = cand;
          t.starts_at = static_cast<int64_t>(start);
          t.id = *unk_id;
        }
      }
      start += mblen;
    }
    // Walk back; consecutive unk pieces are fused into one.
    std::vector<std::pair<size_t, size_t>> ranges;
    size_t end = size;
    size_t unk_end = 0;
    bool in_unk = false;
    while (end > 0) {
      const Node& n = best[end];
      const auto b = static_cast<size_t>(n.starts_at);
      if (unk_id && n.id == *unk_id) {
        if (!in_unk) {
          unk_end = end;
          in_unk = true;
        }
      } else {
        if (in_unk) {
          ranges.emplace_back(end, unk_end);
          in_unk = false;
        }
        ranges.emplace_back(b, end);
      }
      end = b;
    }
    if (in_unk) ranges.emplace_back(0, unk_end);
    std::reverse(ranges.begin(), ranges.end());
    for (const auto& [b, e] : ranges) {
      const std::string_view piece = s.substr(b, e - b);
      if (auto it = ids.find(piece); it != ids.end()) {
        out.push_back({it->second, std::string(piece), {b, e}});
        continue;
      }
      if (byte_fallback) {
        std::vector<Token> bytes;
        for (unsigned char c : piece) {
          std::string name = fmt::format("<0x{:02X}>", c);
          auto it = ids.find(name);
          if (it == ids.end()) break;
          bytes.push_back({it->second, std::move(name), {b, e}});
        }
        if (bytes.size() == piece.size()) {
          out.insert(out.end(), bytes.begin(), bytes.end());
          continue;
        }
      }
      if (!unk_id) fail("{}: field 'model.unk_id' is null, but '{}' is not a piece", origin, piece);
      out.push_back({*unk_id, std::string(piece), {b, e}});
    }
    return out;
  }

  std::optional<int32_t> token_to_id(std::string_view t) const override {
    if (auto it = ids.find(t); it != ids.end()) return it->second;
    return std::nullopt;
  }
  std::optional<std::string> id_to_token(int32_t id) const override {
    if (id < 0 || static_cast<size_t>(id) >= pieces.size()) return std::nullopt;
    return pieces[static_cast<size_t>(id)].first;
  }
  size_t vocab_size() const override { return pieces.size(); }
};

}  // namespace

std::unique_ptr<Model> make_unigram(const json& j, const JsonPath& p) {
  auto m = std::make_unique<Unigram>();
  const json& vocab = req(j, "vocab", p);
  const JsonPath vp = p.at("vocab");
  if (!vocab.is_array()) vp.fail("must be an array of [piece, score]");
  m->pieces.reserve(vocab.size());
  double min_score = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < vocab.size(); ++i) {
    const json& e = vocab[i];
    if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_number()) vp.index(i).fail("must be [piece, score]");
    std::string piece = e[0].get<std::string>();
    const double score = e[1].is_number_float() ? serde_json_double(e[1].get<double>()) : e[1].get<double>();
    min_score = std::min(min_score, score);
    const auto id = static_cast<int32_t>(i);
    m->ids.insert_or_assign(piece, id);
    m->insert(piece, id);
    m->pieces.emplace_back(std::move(piece), score);
  }
  m->min_score = vocab.empty() ? 0.0 : min_score;
  if (j.contains("unk_id") && !j["unk_id"].is_null()) {
    const int64_t u = opt_int(j, "unk_id", p, 0);
    if (u < 0 || static_cast<size_t>(u) >= m->pieces.size())
      p.at("unk_id").fail(fmt::format("is {}, not an index into model.vocab ({} pieces)", u, m->pieces.size()));
    m->unk_id = static_cast<int32_t>(u);
  }
  m->byte_fallback = opt_bool(j, "byte_fallback", p, false);
  m->origin = p.file;
  return m;
}

}  // namespace tessera::text
