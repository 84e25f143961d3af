// BPE model: merges applied by rank exactly as tokenizers' Word::merge_all does (a min-heap
// on (rank, position)), with unk / byte fallback, subword prefix/suffix, a word cache and
// BPE dropout.
#include <atomic>
#include <bit>
#include <cmath>
#include <memory>
#include <queue>
#include <unordered_map>

#include "components.hpp"
#include "dropout.hpp"
#include "tessera/core/error.hpp"
#include "unicode.hpp"

namespace tessera::text {
namespace {

struct Symbol {
  int32_t id;
  int32_t prev;
  int32_t next;
  uint32_t len;  // bytes of the word it covers; 0 once merged away
};

struct MergeCandidate {
  int32_t rank;
  int32_t pos;
  int32_t new_id;
  bool operator<(const MergeCandidate& o) const {  // priority_queue is a max-heap: invert
    return rank != o.rank ? rank > o.rank : pos > o.pos;
  }
};

inline uint64_t pair_key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

// The merge table, pair of ids → (rank, new id), as open addressing with linear probing in
// one flat array: merge_word looks a pair up for every adjacent symbol pair and after every
// merge, and std::unordered_map's bucket chains (a modulo by a prime, then a pointer chase to
// a heap node) made those lookups 11% of encode time in the profile.
class MergeTable {
 public:
  struct Value {
    int32_t rank;
    int32_t new_id;
  };
  void build(const std::unordered_map<uint64_t, Value>& merges) {
    // At most half full, so probes stay short; a power of two, so a shift picks the slot.
    size_t cap = 16;
    while (cap < 2 * merges.size()) cap *= 2;
    shift_ = 64 - std::countr_zero(cap);
    mask_ = cap - 1;
    slots_.assign(cap, Slot{kEmpty, {0, 0}});
    for (const auto& [key, v] : merges) {
      size_t i = slot_of(key);
      while (slots_[i].key != kEmpty) i = (i + 1) & mask_;
      slots_[i] = Slot{key, v};
    }
  }
  const Value* find(uint64_t key) const {
    for (size_t i = slot_of(key);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) return &s.value;
      if (s.key == kEmpty) return nullptr;
    }
  }

 private:
  // Ids are below 2^31, so no pair of them has all 64 bits set.
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  struct Slot {
    uint64_t key;
    Value value;
  };
  // Fibonacci hashing: the multiply spreads both ids over the top bits.
  size_t slot_of(uint64_t key) const { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_); }
  std::vector<Slot> slots_;
  int shift_ = 60;
  size_t mask_ = 15;
};

struct BpeStringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class Bpe final : public Model, public StochasticModel {
 public:
  std::unordered_map<std::string, int32_t, BpeStringHash, std::equal_to<>> vocab;
  std::vector<std::string> vocab_r;
  MergeTable merges;  // pair → (rank, new id)
  std::optional<std::string> unk_token;
  std::optional<std::string> prefix, suffix;
  bool fuse_unk = false, byte_fallback = false, ignore_merges = false;
  std::string byte_tokens[256];
  std::string origin;
  // Probability of skipping each merge; 0 when the file has none, null or 0.0 (tokenizers
  // treats 0.0 like no dropout: deterministic and cached).
  float dropout = 0.0f;

  bool is_stochastic() const override { return dropout > 0.0f; }
  float dropout_probability() const override { return dropout; }
  void set_dropout_probability(float p) override { dropout = p; }

  // As tokenizers 0.23: with dropout the word is always merged afresh (no cache: the result
  // is random) and ignore_merges is not consulted (checked against the npm package).
  std::vector<Token> tokenize_random(std::string_view w, DropoutRng& rng) const override {
    std::vector<Token> out;
    if (w.empty()) return out;
    return to_tokens(merge_word(w, &rng));
  }

  std::vector<Token> tokenize(std::string_view w) const override {
    if (w.empty()) return {};
    if (ignore_merges) {
      if (auto it = vocab.find(w); it != vocab.end()) {
        std::vector<Token> out;
        out.push_back({it->second, std::string(w), {0, w.size()}});
        return out;
      }
    }
    if (w.size() >= kMaxCachedLength) return to_tokens(merge_word(w));
    WordCache& cache = thread_cache();
    if (auto it = cache.find(w); it != cache.end()) return to_tokens(it->second);
    auto word = merge_word(w);
    std::vector<Token> out = to_tokens(word);
    if (cache.size() < kCacheCapacity) cache.emplace(std::string(w), std::move(word));
    return out;
  }

  std::vector<Token> to_tokens(const std::vector<std::pair<int32_t, uint32_t>>& word) const {
    std::vector<Token> out;
    out.reserve(word.size());
    size_t pos = 0;
    for (const auto& [id, len] : word) {
      out.push_back({id, vocab_r[static_cast<size_t>(id)], {pos, pos + len}});
      pos += len;
    }
    return out;
  }

  std::optional<int32_t> token_to_id(std::string_view t) const override {
    if (auto it = vocab.find(t); it != vocab.end()) return it->second;
    return std::nullopt;
  }
  std::optional<std::string> id_to_token(int32_t id) const override {
    if (!has_id(id)) return std::nullopt;
    return vocab_r[static_cast<size_t>(id)];
  }
  size_t vocab_size() const override { return vocab_r.size(); }

  std::vector<bool> present;
  bool has_id(int32_t id) const { return id >= 0 && static_cast<size_t>(id) < present.size() && present[static_cast<size_t>(id)]; }

 private:
  int32_t unk_id() const {
    auto it = vocab.find(*unk_token);
    if (it == vocab.end())
      fail("{}: field 'model.unk_token' is '{}', which model.vocab lacks (needed for a character out of the vocabulary)", origin, *unk_token);
    return it->second;
  }

  // rng: null for plain BPE; with dropout, each merge popped from the queue is skipped with
  // probability `dropout`, and the skipped ones go back into the queue once a merge is not
  // skipped (tokenizers' Word::merge_all), so a skip delays a merge rather than forbidding it
  // unless nothing else is left to merge.
  std::vector<std::pair<int32_t, uint32_t>> merge_word(std::string_view w, DropoutRng* rng = nullptr) const {
    std::vector<Symbol> symbols;
    symbols.reserve(w.size());
    const auto add = [&](int32_t id, uint32_t len) {
      const auto n = static_cast<int32_t>(symbols.size());
      symbols.push_back({id, n - 1, n + 1, len});
    };
    bool have_unk = false;
    int32_t unk_tok = 0;
    uint32_t unk_len = 0;
    std::string s;
    size_t i = 0;
    while (i < w.size()) {
      const size_t start = i;
      i += utf8_len(static_cast<unsigned char>(w[i]));
      const bool is_first = start == 0, is_last = i >= w.size();
      const auto byte_len = static_cast<uint32_t>(i - start);
      std::string_view piece = w.substr(start, i - start);
      if ((!is_first && prefix) || (is_last && suffix)) {
        s.clear();
        if (!is_first && prefix) s += *prefix;
        s += piece;
        if (is_last && suffix) s += *suffix;
        piece = s;
      }
      if (auto it = vocab.find(piece); it != vocab.end()) {
        if (have_unk) {
          add(unk_tok, unk_len);
          have_unk = false;
        }
        add(it->second, byte_len);
        continue;
      }
      if (byte_fallback) {
        std::vector<int32_t> ids;
        for (unsigned char b : piece) {
          auto it = vocab.find(byte_tokens[b]);
          if (it == vocab.end()) break;
          ids.push_back(it->second);
        }
        if (ids.size() == piece.size()) {
          // tokenizers adds the byte tokens without flushing a pending unk first.
          for (int32_t id : ids) add(id, 1);
          continue;
        }
      }
      if (unk_token) {
        if (have_unk && fuse_unk) {
          unk_len += byte_len;
        } else {
          if (have_unk) add(unk_tok, unk_len);
          unk_tok = unk_id();
          unk_len = byte_len;
          have_unk = true;
        }
      }
    }
    if (have_unk) add(unk_tok, unk_len);
    if (!symbols.empty()) symbols.back().next = -1;

    std::priority_queue<MergeCandidate> queue;
    std::vector<MergeCandidate> skipped;
    for (size_t k = 0; k + 1 < symbols.size(); ++k) {
      if (const auto* m = merges.find(pair_key(symbols[k].id, symbols[k + 1].id)))
        queue.push({m->rank, static_cast<int32_t>(k), m->new_id});
    }
    while (!queue.empty()) {
      const MergeCandidate top = queue.top();
      queue.pop();
      if (rng) {
        if (rng->uniform() < dropout) {
          skipped.push_back(top);
          continue;
        }
        for (const auto& m : skipped) queue.push(m);
        skipped.clear();
      }
      Symbol& cur = symbols[static_cast<size_t>(top.pos)];
      if (cur.len == 0 || cur.next == -1) continue;
      const size_t next_pos = static_cast<size_t>(cur.next);
      const Symbol right = symbols[next_pos];
      const auto* found = merges.find(pair_key(cur.id, right.id));
      if (!found || found->new_id != top.new_id) continue;
      cur.id = top.new_id;
      cur.len += right.len;
      cur.next = right.next;
      symbols[next_pos].len = 0;
      if (right.next > -1 && static_cast<size_t>(right.next) < symbols.size())
        symbols[static_cast<size_t>(right.next)].prev = top.pos;
      if (cur.prev >= 0) {
        const Symbol& prev = symbols[static_cast<size_t>(cur.prev)];
        if (const auto* m = merges.find(pair_key(prev.id, cur.id))) queue.push({m->rank, cur.prev, m->new_id});
      }
      if (cur.next >= 0 && static_cast<size_t>(cur.next) < symbols.size()) {
        const Symbol& nxt = symbols[static_cast<size_t>(cur.next)];
        if (const auto* m = merges.find(pair_key(cur.id, nxt.id))) queue.push({m->rank, top.pos, m->new_id});
      }
    }
    std::vector<std::pair<int32_t, uint32_t>> out;
    for (const auto& sym : symbols)
      if (sym.len != 0) out.emplace_back(sym.id, sym.len);
    return out;
  }

  // A bounded cache of merged words (words under kMaxCachedLength bytes; the first
  // kCacheCapacity distinct ones are kept, like tokenizers' cache). Each thread has its own:
  // a cache shared by encode_batch's threads needed a lock on every word, and its
  // reader count bounced between the cores on every lookup (see docs/PERFORMANCE.md).
  static constexpr size_t kCacheCapacity = 10000;
  static constexpr size_t kMaxCachedLength = 256;
  using WordCache =
      std::unordered_map<std::string, std::vector<std::pair<int32_t, uint32_t>>, BpeStringHash, std::equal_to<>>;
  // Tells this model's caches from those of models destroyed since (whose address it may reuse).
  const uint64_t serial_ = next_serial();
  static uint64_t next_serial() {
    static std::atomic<uint64_t> n{0};
    return n.fetch_add(1, std::memory_order_relaxed);
  }
  WordCache& thread_cache() const {
    // A thread keeps the caches of the last few models it ran: a long-lived thread that
    // loads tokenizer after tokenizer holds at most kModels caches.
    constexpr size_t kModels = 4;
    thread_local std::vector<std::pair<uint64_t, std::unique_ptr<WordCache>>> caches;
    for (auto& [serial, cache] : caches)
      if (serial == serial_) return *cache;
    if (caches.size() == kModels) caches.erase(caches.begin());
    caches.emplace_back(serial_, std::make_unique<WordCache>());
    return *caches.back().second;
  }
};

}  // namespace

std::unique_ptr<Model> make_bpe(const json& j, const JsonPath& p) {
  auto m = std::make_unique<Bpe>();
  const json& vocab = req(j, "vocab", p);
  if (!vocab.is_object()) p.at("vocab").fail("must be an object {token: id}");
  int64_t max_id = -1;
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 || it.value().get<int64_t>() > INT32_MAX)
      p.at("vocab").fail("token '" + it.key() + "' has id " + it.value().dump() + ", expected an integer in [0, 2^31)");
    max_id = std::max(max_id, it.value().get<int64_t>());
  }
  // Ids index a dense table: an id far beyond the number of entries would make a hostile
  // file allocate gigabytes.
  if (max_id >= int64_t(vocab.size()) + (int64_t(1) << 20))
    p.at("vocab").fail("has an id of " + std::to_string(max_id) + " but only " + std::to_string(vocab.size()) +
                       " entries: ids must stay below " + std::to_string(int64_t(vocab.size()) + (int64_t(1) << 20)));
  m->vocab_r.resize(static_cast<size_t>(max_id + 1));
  m->present.assign(static_cast<size_t>(max_id + 1), false);
  m->vocab.reserve(vocab.size());
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    const auto id = static_cast<int32_t>(it.value().get<int64_t>());
    m->vocab.emplace(it.key(), id);
    m->vocab_r[static_cast<size_t>(id)] = it.key();
    m->present[static_cast<size_t>(id)] = true;
  }
  m->unk_token = opt_nullable_string(j, "unk_token", p);
  m->origin = p.file;
  m->prefix = opt_nullable_string(j, "continuing_subword_prefix", p);
  m->suffix = opt_nullable_string(j, "end_of_word_suffix", p);
  if (m->prefix && m->prefix->empty()) m->prefix.reset();
  if (m->suffix && m->suffix->empty()) m->suffix.reset();
  m->fuse_unk = opt_bool(j, "fuse_unk", p, false);
  m->byte_fallback = opt_bool(j, "byte_fallback", p, false);
  m->ignore_merges = opt_bool(j, "ignore_merges", p, false);
  if (auto it = j.find("dropout"); it != j.end() && !it->is_null()) {
    // tokenizers accepts [0, 1] (an f32); anything else would make every merge or none
    // happen silently, so it is refused like tokenizers refuses it.
    if (!it->is_number()) p.at("dropout").fail("is " + it->dump() + ", expected a number in [0, 1] or null");
    const double d = it->get<double>();
    if (!(d >= 0.0 && d <= 1.0)) p.at("dropout").fail("is " + it->dump() + ", expected a number in [0, 1] or null");
    m->dropout = static_cast<float>(d);
  }
  for (int b = 0; b < 256; ++b) m->byte_tokens[b] = fmt::format("<0x{:02X}>", b);

  const json& merges = req(j, "merges", p);
  if (!merges.is_array()) p.at("merges").fail("must be an array");
  const size_t prefix_len = m->prefix ? m->prefix->size() : 0;
  std::unordered_map<uint64_t, MergeTable::Value> merge_map;
  merge_map.reserve(merges.size());
  for (size_t r = 0; r < merges.size(); ++r) {
    const json& e = merges[r];
    std::string a, b;
    if (e.is_string()) {
      const std::string s = e.get<std::string>();
      const size_t sp = s.find(' ');
      if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
        p.at("merges").index(r).fail("is '" + s + "', expected two tokens separated by one space");
      a = s.substr(0, sp);
      b = s.substr(sp + 1);
    } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
      a = e[0].get<std::string>();
      b = e[1].get<std::string>();
    } else {
      p.at("merges").index(r).fail("must be \"a b\" or [\"a\", \"b\"]");
    }
    const auto ia = m->token_to_id(a), ib = m->token_to_id(b);
    if (!ia) p.at("merges").index(r).fail("token '" + a + "' is not in the vocabulary");
    if (!ib) p.at("merges").index(r).fail("token '" + b + "' is not in the vocabulary");
    std::string merged = a + (prefix_len && b.compare(0, prefix_len, *m->prefix) == 0 ? b.substr(prefix_len) : b);
    const auto id = m->token_to_id(merged);
    if (!id) p.at("merges").index(r).fail("the merged token '" + merged + "' is not in the vocabulary");
    merge_map.insert_or_assign(pair_key(*ia, *ib), MergeTable::Value{static_cast<int32_t>(r), *id});
  }
  m->merges.build(merge_map);
  return m;
}

}  // namespace tessera::text
