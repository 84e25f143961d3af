// Tokenizer: loads tokenizer.json and runs the pipeline (added tokens, normalizer,
// pre-tokenizer, model, truncation, post-processor, padding), then decodes back.
#include "tessera/text/tokenizer.hpp"

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "added_vocabulary.hpp"
#include "components.hpp"
#include "dropout.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/parallel.hpp"
#include "tessera/io/gguf.hpp"
#include "tessera/text/gguf_tokenizer.hpp"
#include "unicode.hpp"

namespace tessera {

using text::json;
using text::JsonPath;

struct Tokenizer::Impl {
  std::string origin;
  std::unique_ptr<text::Normalizer> normalizer;
  std::unique_ptr<text::PreTokenizer> pre_tokenizer;
  std::unique_ptr<text::Model> model;
  std::unique_ptr<text::PostProcessor> post_processor;
  std::unique_ptr<text::Decoder> decoder;
  text::AddedVocabulary added;
  std::optional<TruncationParams> truncation;
  std::optional<PaddingParams> padding;
  std::optional<int32_t> bos, eos, pad;
  std::optional<std::string> chat_template;
  // The model when it draws random numbers (BPE dropout), else null; see set_dropout_seed.
  text::StochasticModel* stochastic = nullptr;
  uint64_t dropout_seed = 0;
  mutable std::atomic<uint64_t> dropout_calls{0};

  void find_stochastic() {
    auto* s = dynamic_cast<text::StochasticModel*>(model.get());
    stochastic = s && s->is_stochastic() ? s : nullptr;
  }
  // The generator for the next `n` calls (one per text of a batch): reserving call numbers
  // up front makes text i of a batch use stream base + i whichever thread encodes it.
  std::optional<uint64_t> reserve_calls(size_t n) const {
    if (!stochastic) return std::nullopt;
    return dropout_calls.fetch_add(n, std::memory_order_relaxed);
  }
  std::optional<text::DropoutRng> rng_for(std::optional<uint64_t> call) const {
    if (!call) return std::nullopt;
    return text::DropoutRng::for_call(dropout_seed, *call);
  }

  Encoding encode_single(std::string_view s, int32_t type_id, OffsetType unit, std::optional<text::DropoutRng>& rng) const {
    text::PreTokenizedString pts = added.extract_and_normalize(normalizer.get(), s);
    if (pre_tokenizer) pre_tokenizer->pre_tokenize(pts);
    // Tokenize every split first, so that the Encoding's vectors are allocated once at their
    // final size: growing them by doubling on a long text cost a large malloc, a move of every
    // token string and a free per doubling (5% of encode time in memmove alone).
    size_t n_tokens = 0;
    for (auto& split : pts.splits) {
      if (!split.tokens)
        split.tokens = rng ? stochastic->tokenize_random(split.normalized.get(), *rng) : model->tokenize(split.normalized.get());
      n_tokens += split.tokens->size();
    }
    Encoding e;
    e.ids.reserve(n_tokens);
    e.offsets.reserve(n_tokens);
    e.tokens.reserve(n_tokens);
    e.word_ids.reserve(n_tokens);
    for (size_t w = 0; w < pts.splits.size(); ++w) {
      auto& split = pts.splits[w];
      for (auto& t : *split.tokens) {
        e.ids.push_back(t.id);
        e.offsets.push_back(split.normalized.convert_offsets(t.offsets.first, t.offsets.second));
        e.tokens.push_back(std::move(t.value));
        e.word_ids.push_back(static_cast<uint32_t>(w));
      }
    }
    if (unit == OffsetType::kChar) e.offsets = char_offsets(s, e.offsets);
    e.type_ids.assign(e.ids.size(), type_id);
    e.special_mask.assign(e.ids.size(), 0);
    e.attention_mask.assign(e.ids.size(), 1);
    return e;
  }

  Encoding process(Encoding a, std::optional<Encoding> b, bool add_special) const {
    std::vector<Encoding> encs;
    encs.push_back(std::move(a));
    if (b) encs.push_back(std::move(*b));
    if (post_processor) encs = post_processor->process_encodings(std::move(encs), add_special);
    if (encs.size() == 1) return std::move(encs[0]);
    Encoding out = std::move(encs[0]);
    for (size_t i = 1; i < encs.size(); ++i) text::append_encoding(out, encs[i]);
    return out;
  }

  Encoding post_process(Encoding a, std::optional<Encoding> b, bool add_special) const {
    if (truncation) {
      TruncationParams t = *truncation;
      const size_t n_added = add_special && post_processor ? post_processor->added_tokens(b.has_value()) : 0;
      if (n_added > 0) t.max_length = t.max_length > n_added ? t.max_length - n_added : 0;
      truncate_encodings(a, b, t, truncation->max_length);
    }
    // Overflowing windows are processed with the other sequence, as tokenizers does.
    std::vector<Encoding> a_over = std::move(a.overflowing);
    std::vector<Encoding> b_over;
    if (b) b_over = std::move(b->overflowing);
    a.overflowing.clear();
    std::vector<Encoding> overflowing;
    for (auto& oa : a_over) {
      overflowing.push_back(process(oa, b, add_special));
      for (auto& ob : b_over) overflowing.push_back(process(oa, ob, add_special));
    }
    for (auto& ob : b_over) overflowing.push_back(process(a, ob, add_special));
    Encoding out = process(std::move(a), std::move(b), add_special);
    out.overflowing = std::move(overflowing);
    if (padding) {  // as tokenizers: each encoding alone, then the batch together
      std::vector<Encoding> one;
      one.push_back(std::move(out));
      pad_encodings(one, *padding);
      out = std::move(one[0]);
    }
    return out;
  }

  static void truncate(Encoding& e, size_t max_len, size_t stride, TruncationParams::Direction dir) {
    const size_t n = e.ids.size();
    if (max_len >= n) return;
    if (max_len == 0) {
      Encoding whole = std::move(e);
      e = Encoding{};
      e.overflowing.push_back(std::move(whole));
      return;
    }
    if (stride >= max_len) fail("tokenizer: truncation stride ({}) must be less than the max length ({})", stride, max_len);
    const size_t step = max_len - stride;
    std::vector<std::pair<size_t, size_t>> parts;
    if (dir == TruncationParams::Direction::kRight) {
      for (size_t start = 0; start < n; start += step) {
        const size_t stop = std::min(start + max_len, n);
        parts.emplace_back(start, stop);
        if (stop == n) break;
      }
    } else {
      for (size_t k = n; k > 0;) {
        const size_t stop = k;
        const size_t start = stop > max_len ? stop - max_len : 0;
        parts.emplace_back(start, stop);
        if (start == 0) break;
        k = k > step ? k - step : 0;
      }
    }
    const auto slice = [&](size_t b, size_t s) {
      Encoding x;
      const auto sub = [&](const auto& v, auto& out) { out.assign(v.begin() + static_cast<std::ptrdiff_t>(b), v.begin() + static_cast<std::ptrdiff_t>(s)); };
      sub(e.ids, x.ids);
      sub(e.offsets, x.offsets);
      sub(e.special_mask, x.special_mask);
      sub(e.type_ids, x.type_ids);
      sub(e.attention_mask, x.attention_mask);
      sub(e.tokens, x.tokens);
      sub(e.word_ids, x.word_ids);
      return x;
    };
    Encoding first = slice(parts[0].first, parts[0].second);
    for (size_t i = 1; i < parts.size(); ++i) first.overflowing.push_back(slice(parts[i].first, parts[i].second));
    e = std::move(first);
  }

  static void truncate_encodings(Encoding& a, std::optional<Encoding>& b, const TruncationParams& p,
                                 size_t full_max_length) {
    if (p.max_length == 0) {
      truncate(a, 0, p.stride, p.direction);
      if (b) truncate(*b, 0, p.stride, p.direction);
      return;
    }
    const size_t total = a.ids.size() + (b ? b->ids.size() : 0);
    if (total <= p.max_length) return;
    const size_t to_remove = total - p.max_length;
    if (p.strategy == TruncationParams::Strategy::kLongestFirst) {
      if (b) {
        // tokenizers (0.23) compares the lengths capped at the full max_length (special
        // tokens included), as if each sequence had been cut to it first.
        size_t n1 = std::min(a.ids.size(), full_max_length), n2 = std::min(b->ids.size(), full_max_length);
        const bool swap = n1 > n2;
        if (swap) std::swap(n1, n2);
        if (n1 > p.max_length) {
          n2 = n1;
        } else {
          n2 = std::max(n1, p.max_length - n1);
        }
        if (n1 + n2 > p.max_length) {
          n1 = p.max_length / 2;
          n2 = n1 + p.max_length % 2;
        }
        if (swap) std::swap(n1, n2);
        truncate(a, n1, p.stride, p.direction);
        truncate(*b, n2, p.stride, p.direction);
      } else {
        truncate(a, total - to_remove, p.stride, p.direction);
      }
      return;
    }
    Encoding* target = &a;
    if (p.strategy == TruncationParams::Strategy::kOnlySecond) {
      if (!b) fail("tokenizer: truncation strategy only_second needs a pair of sequences");
      target = &*b;
    }
    const size_t len = target->ids.size();
    if (len <= to_remove)
      fail("tokenizer: the sequence to truncate has {} tokens, fewer than the {} to remove", len, to_remove);
    truncate(*target, len - to_remove, p.stride, p.direction);
  }

  static void pad_one(Encoding& e, size_t target, const PaddingParams& p) {
    for (auto& o : e.overflowing) pad_one(o, target, p);
    if (e.ids.size() >= target) return;
    const size_t n = target - e.ids.size();
    const bool left = p.direction == PaddingParams::Direction::kLeft;
    const auto pad = [&](auto& v, const auto& value) {
      using T = typename std::decay_t<decltype(v)>::value_type;
      v.insert(left ? v.begin() : v.end(), n, T(value));
    };
    pad(e.ids, p.pad_id);
    pad(e.type_ids, p.pad_type_id);
    pad(e.tokens, p.pad_token);
    e.word_ids.insert(left ? e.word_ids.begin() : e.word_ids.end(), n, std::nullopt);
    pad(e.attention_mask, uint8_t{0});
    pad(e.special_mask, uint8_t{1});
    pad(e.offsets, std::pair<size_t, size_t>{0, 0});
  }

  static void pad_encodings(std::vector<Encoding>& encs, const PaddingParams& p) {
    if (encs.empty()) return;
    size_t len = 0;
    if (p.fixed_length) {
      len = *p.fixed_length;
    } else {
      for (const auto& e : encs) len = std::max(len, e.ids.size());
    }
    if (p.pad_to_multiple_of > 0 && len % p.pad_to_multiple_of > 0) len += p.pad_to_multiple_of - len % p.pad_to_multiple_of;
    for (auto& e : encs) pad_one(e, len, p);
  }

  std::optional<std::string> id_to_token(int32_t id) const {
    if (auto t = added.id_to_token(id)) return t;
    return model->id_to_token(id);
  }
  std::optional<int32_t> token_to_id(std::string_view t) const {
    if (auto id = added.token_to_id(t)) return id;
    return model->token_to_id(t);
  }
};

namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("tokenizer: cannot open '{}'", path);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::optional<std::string> special_content(const json& cfg, const char* key) {
  if (!cfg.is_object() || !cfg.contains(key)) return std::nullopt;
  const json& v = cfg[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return std::nullopt;
}

}  // namespace

namespace {
// Runs f(i) for i in [0, n) on the pool, each thread taking the next index from a shared
// counter. encode_batch's texts differ in length by orders of magnitude, and parallel_for's
// fixed contiguous chunks left one thread idle while the other still had the long texts.
// Outputs are written by index, so they do not depend on which thread ran what.
template <typename F>
void for_each_dynamic(size_t n, F&& f) {
  std::atomic<size_t> next{0};
  const auto workers = static_cast<int64_t>(std::min<size_t>(static_cast<size_t>(std::max(1, num_threads())), n));
  parallel_for(workers, [&](int64_t b, int64_t e) {
    for (int64_t w = b; w < e; ++w)
      for (size_t i = next.fetch_add(1, std::memory_order_relaxed); i < n; i = next.fetch_add(1, std::memory_order_relaxed)) f(i);
  });
}
}  // namespace

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::from_file(const std::string& path_or_dir) {
  namespace fs = std::filesystem;
  std::string path = path_or_dir;
  std::string config;
  std::error_code ec;
  if (fs::is_regular_file(path_or_dir, ec) && is_gguf_file(path_or_dir)) return tokenizer_from_gguf_file(path_or_dir);
  fs::path dir = fs::path(path_or_dir).parent_path();
  if (fs::is_directory(path_or_dir, ec)) {
    dir = fs::path(path_or_dir);
    path = (dir / "tokenizer.json").string();
    if (!fs::exists(path, ec))
      fail("tokenizer: '{}' has no tokenizer.json (only tokenizer.json files are supported)", path_or_dir);
  }
  const auto cfg = dir / "tokenizer_config.json";
  if (fs::exists(cfg, ec)) config = read_file(cfg.string());
  Tokenizer tok = from_json(read_file(path), path, config);
  // Newer repositories ship the template as chat_template.jinja, which transformers prefers
  // to tokenizer_config.json's "chat_template".
  const auto jinja = dir / "chat_template.jinja";
  if (fs::exists(jinja, ec)) tok.impl_->chat_template = read_file(jinja.string());
  return tok;
}

namespace {
// JSON nested deeper than any tokenizer.json needs is refused before parsing: nlohmann's
// recursive destructor would overflow the stack on a hostile file.
void check_nesting(std::string_view s, const std::string& origin) {
  constexpr int kMaxDepth = 256;
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) fail("{}: JSON nested more than {} levels deep (at byte {}); not a tokenizer.json", origin, kMaxDepth, i);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}
}  // namespace

Tokenizer Tokenizer::from_json(std::string_view json_text, const std::string& origin, std::string_view config_json) {
  check_nesting(json_text, origin);
  check_nesting(config_json, origin + " (tokenizer_config.json)");
  json j;
  try {
    j = json::parse(json_text.begin(), json_text.end());
  } catch (const json::exception& e) {
    fail("{}: not valid JSON: {}", origin, e.what());
  }
  const JsonPath root{origin, ""};
  if (!j.is_object()) root.fail("must be a JSON object");
  auto impl = std::make_unique<Impl>();
  impl->origin = origin;
  const auto get = [&](const char* key) -> const json& {
    static const json null_json;
    auto it = j.find(key);
    return it == j.end() ? null_json : *it;
  };
  impl->normalizer = text::make_normalizer(get("normalizer"), root.at("normalizer"));
  impl->pre_tokenizer = text::make_pre_tokenizer(get("pre_tokenizer"), root.at("pre_tokenizer"));
  impl->model = text::make_model(text::req(j, "model", root), root.at("model"));
  impl->post_processor = text::make_post_processor(get("post_processor"), root.at("post_processor"), *impl->model);
  impl->decoder = text::make_decoder(get("decoder"), root.at("decoder"));

  std::vector<text::AddedToken> added;
  if (const json& at = get("added_tokens"); !at.is_null()) {
    const JsonPath ap = root.at("added_tokens");
    if (!at.is_array()) ap.fail("must be an array");
    for (size_t i = 0; i < at.size(); ++i) {
      const JsonPath ep = ap.index(i);
      text::AddedToken t;
      t.content = text::req_string(at[i], "content", ep);
      const int64_t id = text::opt_int(at[i], "id", ep, -1);
      if (id < 0 || id > INT32_MAX) ep.at("id").fail("must be a non-negative integer");
      t.id = static_cast<int32_t>(id);
      t.special = text::opt_bool(at[i], "special", ep, false);
      t.single_word = text::opt_bool(at[i], "single_word", ep, false);
      t.lstrip = text::opt_bool(at[i], "lstrip", ep, false);
      t.rstrip = text::opt_bool(at[i], "rstrip", ep, false);
      t.normalized = text::opt_bool(at[i], "normalized", ep, !t.special);
      if (!t.content.empty()) added.push_back(std::move(t));
    }
  }
  impl->added.build(std::move(added), impl->normalizer.get());

  if (const json& tr = get("truncation"); !tr.is_null()) {
    const JsonPath tp = root.at("truncation");
    TruncationParams t;
    t.max_length = static_cast<size_t>(text::opt_int(tr, "max_length", tp, 512));
    t.stride = static_cast<size_t>(text::opt_int(tr, "stride", tp, 0));
    const std::string strat = text::opt_string(tr, "strategy", tp, "LongestFirst");
    if (strat == "LongestFirst") t.strategy = TruncationParams::Strategy::kLongestFirst;
    else if (strat == "OnlyFirst") t.strategy = TruncationParams::Strategy::kOnlyFirst;
    else if (strat == "OnlySecond") t.strategy = TruncationParams::Strategy::kOnlySecond;
    else tp.at("strategy").fail("is '" + strat + "', expected LongestFirst, OnlyFirst or OnlySecond");
    t.direction = text::opt_string(tr, "direction", tp, "Right") == "Left" ? TruncationParams::Direction::kLeft
                                                                           : TruncationParams::Direction::kRight;
    impl->truncation = t;
  }
  if (const json& pd = get("padding"); !pd.is_null()) {
    const JsonPath pp = root.at("padding");
    PaddingParams p;
    if (pd.contains("strategy")) {
      const json& s = pd["strategy"];
      if (s.is_object() && s.contains("Fixed") && s["Fixed"].is_number_integer())
        p.fixed_length = s["Fixed"].get<size_t>();
      else if (!(s.is_string() && s.get<std::string>() == "BatchLongest"))
        pp.at("strategy").fail("must be \"BatchLongest\" or {\"Fixed\": n}");
    }
    p.direction = text::opt_string(pd, "direction", pp, "Right") == "Left" ? PaddingParams::Direction::kLeft
                                                                           : PaddingParams::Direction::kRight;
    p.pad_to_multiple_of = static_cast<size_t>(text::opt_int(pd, "pad_to_multiple_of", pp, 0));
    p.pad_id = static_cast<int32_t>(text::opt_int(pd, "pad_id", pp, 0));
    p.pad_type_id = static_cast<int32_t>(text::opt_int(pd, "pad_type_id", pp, 0));
    p.pad_token = text::opt_string(pd, "pad_token", pp, "[PAD]");
    impl->padding = p;
  }

  // bos / eos / pad: tokenizer_config.json first, then the usual special token names.
  json cfg;
  if (!config_json.empty()) {
    try {
      cfg = json::parse(config_json.begin(), config_json.end());
    } catch (const json::exception& e) {
      fail("{}: tokenizer_config.json next to it is not valid JSON: {}", origin, e.what());
    }
  }
  const auto pick = [&](const char* key, std::initializer_list<const char*> names) -> std::optional<int32_t> {
    if (auto c = special_content(cfg, key)) return impl->token_to_id(*c);
    // "bos_token": null says there is none (Qwen2); guessing one by name would be wrong.
    if (cfg.is_object() && cfg.contains(key) && cfg[key].is_null()) return std::nullopt;
    for (const char* n : names)
      if (auto id = impl->added.token_to_id(n)) return id;
    return std::nullopt;
  };
  impl->bos = pick("bos_token", {"<s>", "<|begin_of_text|>", "<bos>", "[CLS]", "<|endoftext|>"});
  impl->eos = pick("eos_token", {"</s>", "<|end_of_text|>", "<eos>", "[SEP]", "<|endoftext|>"});
  impl->pad = pick("pad_token", {"<pad>", "[PAD]", "<|pad|>"});
  if (!impl->pad && impl->padding) impl->pad = impl->padding->pad_id;
  // A single template, or a list of named ones of which transformers uses "default" (it picks
  // "tool_use" only when asked for it by name or given tools; not done here).
  if (cfg.is_object() && cfg.contains("chat_template")) {
    const json& ct = cfg["chat_template"];
    if (ct.is_string()) impl->chat_template = ct.get<std::string>();
    if (ct.is_array())
      for (const json& t : ct)
        if (t.is_object() && t.value("name", "") == "default" && t.contains("template") && t["template"].is_string())
          impl->chat_template = t["template"].get<std::string>();
  }
  impl->find_stochastic();
  return Tokenizer(std::move(impl));
}

Encoding Tokenizer::encode(std::string_view s, bool add_special_tokens) const {
  return encode(s, add_special_tokens, OffsetType::kByte);
}

Encoding Tokenizer::encode(std::string_view s, bool add_special_tokens, OffsetType unit) const {
  text::check_utf8(s, "the text to encode");
  auto rng = impl_->rng_for(impl_->reserve_calls(1));
  return impl_->post_process(impl_->encode_single(s, 0, unit, rng), std::nullopt, add_special_tokens);
}

Encoding Tokenizer::encode_pair(std::string_view s, std::string_view pair, bool add_special_tokens, OffsetType unit) const {
  text::check_utf8(s, "the text to encode");
  text::check_utf8(pair, "the pair text to encode");
  // One stream for both texts, the first text drawing first (hence the named temporaries:
  // the order in which function arguments are evaluated is unspecified).
  auto rng = impl_->rng_for(impl_->reserve_calls(1));
  Encoding first = impl_->encode_single(s, 0, unit, rng);
  Encoding second = impl_->encode_single(pair, 1, unit, rng);
  return impl_->post_process(std::move(first), std::move(second), add_special_tokens);
}

std::vector<Encoding> Tokenizer::encode_batch(const std::vector<std::string>& texts, bool add_special_tokens,
                                              OffsetType unit) const {
  for (size_t i = 0; i < texts.size(); ++i) text::check_utf8(texts[i], fmt::format("text {} of the batch", i));
  std::vector<Encoding> out(texts.size());
  const auto base = impl_->reserve_calls(texts.size());
  for_each_dynamic(texts.size(), [&](size_t i) {
    auto rng = impl_->rng_for(base ? std::optional<uint64_t>(*base + i) : std::nullopt);
    out[i] = impl_->post_process(impl_->encode_single(texts[i], 0, unit, rng), std::nullopt, add_special_tokens);
  });
  if (impl_->padding) Impl::pad_encodings(out, *impl_->padding);
  return out;
}

std::vector<Encoding> Tokenizer::encode_pair_batch(const std::vector<std::pair<std::string, std::string>>& pairs,
                                                   bool add_special_tokens, OffsetType unit) const {
  for (size_t i = 0; i < pairs.size(); ++i) {
    text::check_utf8(pairs[i].first, fmt::format("text {} of the batch", i));
    text::check_utf8(pairs[i].second, fmt::format("pair text {} of the batch", i));
  }
  std::vector<Encoding> out(pairs.size());
  const auto base = impl_->reserve_calls(pairs.size());
  for_each_dynamic(pairs.size(), [&](size_t i) {
    const auto& p = pairs[i];
    auto rng = impl_->rng_for(base ? std::optional<uint64_t>(*base + i) : std::nullopt);
    Encoding first = impl_->encode_single(p.first, 0, unit, rng);
    Encoding second = impl_->encode_single(p.second, 1, unit, rng);
    out[i] = impl_->post_process(std::move(first), std::move(second), add_special_tokens);
  });
  if (impl_->padding) Impl::pad_encodings(out, *impl_->padding);
  return out;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    auto t = impl_->id_to_token(id);
    if (!t) continue;
    if (skip_special_tokens && impl_->added.is_special(id)) continue;
    tokens.push_back(std::move(*t));
  }
  if (impl_->decoder) return impl_->decoder->decode(std::move(tokens));
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i) out += ' ';
    out += tokens[i];
  }
  return out;
}

std::vector<std::string> Tokenizer::decode_batch(const std::vector<std::vector<int32_t>>& ids, bool skip_special_tokens) const {
  std::vector<std::string> out(ids.size());
  parallel_for(static_cast<int64_t>(ids.size()), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) out[static_cast<size_t>(i)] = decode(ids[static_cast<size_t>(i)], skip_special_tokens);
  });
  return out;
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view t) const { return impl_->token_to_id(t); }
std::string Tokenizer::id_to_token(int32_t id) const { return impl_->id_to_token(id).value_or(""); }

size_t Tokenizer::vocab_size() const {
  size_t n = impl_->model->vocab_size();
  for (const auto& t : impl_->added.tokens()) n = std::max(n, static_cast<size_t>(t.id) + 1);
  return n;
}

std::optional<int32_t> Tokenizer::bos_id() const { return impl_->bos; }
std::optional<int32_t> Tokenizer::eos_id() const { return impl_->eos; }
std::optional<int32_t> Tokenizer::pad_id() const { return impl_->pad; }
const std::optional<std::string>& Tokenizer::chat_template() const { return impl_->chat_template; }

void Tokenizer::set_truncation(std::optional<TruncationParams> p) { impl_->truncation = std::move(p); }
void Tokenizer::set_padding(std::optional<PaddingParams> p) { impl_->padding = std::move(p); }
void Tokenizer::set_dropout_seed(uint64_t seed) {
  impl_->dropout_seed = seed;
  impl_->dropout_calls.store(0, std::memory_order_relaxed);
}

std::optional<float> Tokenizer::dropout() const {
  auto* s = dynamic_cast<const text::StochasticModel*>(impl_->model.get());
  if (!s || !s->is_stochastic()) return std::nullopt;
  return s->dropout_probability();
}

void Tokenizer::set_dropout(std::optional<float> p) {
  auto* s = dynamic_cast<text::StochasticModel*>(impl_->model.get());
  if (p && !(*p >= 0.0f && *p <= 1.0f)) fail("tokenizer: dropout is {}, expected a probability in [0, 1]", *p);
  if (!s) {
    if (p && *p > 0.0f) fail("tokenizer: dropout {} was asked for, but only a BPE model has dropout", *p);
    return;
  }
  s->set_dropout_probability(p.value_or(0.0f));
  impl_->find_stochastic();
}

const std::optional<TruncationParams>& Tokenizer::truncation() const { return impl_->truncation; }
const std::optional<PaddingParams>& Tokenizer::padding() const { return impl_->padding; }

Tokenizer::StreamDecoder Tokenizer::stream_decoder(bool skip_special_tokens) const {
  return StreamDecoder(this, skip_special_tokens);
}

std::string Tokenizer::StreamDecoder::push(int32_t id) {
  ids_.push_back(id);
  const std::string s = tokenizer_->decode(ids_, skip_special_tokens_);
  const bool incomplete = s.size() >= 3 && s.compare(s.size() - 3, 3, "\xEF\xBF\xBD") == 0;
  if (s.size() > prefix_.size() && !incomplete && s.compare(0, prefix_.size(), prefix_) == 0) {
    std::string out = s.substr(prefix_.size());
    const size_t new_prefix_index = ids_.size() - prefix_index_;
    ids_.erase(ids_.begin(), ids_.begin() + static_cast<std::ptrdiff_t>(prefix_index_));
    prefix_ = tokenizer_->decode(ids_, skip_special_tokens_);
    prefix_index_ = new_prefix_index;
    return out;
  }
  return {};
}

std::string Tokenizer::StreamDecoder::flush() {
  const std::string s = tokenizer_->decode(ids_, skip_special_tokens_);
  std::string out = s.size() > prefix_.size() && s.compare(0, prefix_.size(), prefix_) == 0 ? s.substr(prefix_.size()) : "";
  ids_.clear();
  prefix_.clear();
  prefix_index_ = 0;
  return out;
}

std::vector<std::pair<size_t, size_t>> char_offsets(std::string_view s, const std::vector<std::pair<size_t, size_t>>& byte_offsets) {
  std::vector<size_t> chars_before(s.size() + 1, 0);
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    chars_before[i] = n;
    n += (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
  }
  chars_before[s.size()] = n;
  std::vector<std::pair<size_t, size_t>> out;
  out.reserve(byte_offsets.size());
  for (const auto& [b, e] : byte_offsets)
    out.emplace_back(chars_before[std::min(b, s.size())], chars_before[std::min(e, s.size())]);
  return out;
}

}  // namespace tessera
