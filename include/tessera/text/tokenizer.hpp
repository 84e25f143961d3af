// tessera::Tokenizer: text ⇄ token ids from a Hugging Face tokenizer.json, producing the
// same ids and offsets as the `tokenizers` library (BPE, WordPiece, Unigram pipelines).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tessera {

// The result of encoding one text (or one pair of texts).
//
// Offsets are byte offsets [begin, end) into the input that was given to encode(); tokens
// added by post-processing ([CLS], <s>, ...) and padding have (0, 0). A token that covers
// only part of a multi-byte character (byte-level BPE) has the offsets of the whole
// character, exactly as Hugging Face reports them. char_offsets() converts to offsets in
// Unicode code points, as the Python and Node bindings report them.
//
// special_mask is 1 for the tokens the post-processor added (and padding), as in Hugging
// Face's special_tokens_mask; a special token written literally in the text is matched as
// that token but keeps mask 0.
struct Encoding {
  std::vector<int32_t> ids;
  std::vector<std::pair<size_t, size_t>> offsets;
  std::vector<uint8_t> special_mask;
  std::vector<int32_t> type_ids;        // segment ids: 0 for the first text, 1 for the pair
  std::vector<uint8_t> attention_mask;  // 0 for padding
  std::vector<std::string> tokens;      // the vocabulary strings of ids
  std::vector<std::optional<uint32_t>> word_ids;  // index of the pre-token each id came from
  std::vector<Encoding> overflowing;    // windows cut off by truncation

  size_t size() const { return ids.size(); }
};

// Units of Encoding::offsets. kChar gives code point offsets computed before post-processing,
// exactly what Hugging Face's Python and Node bindings report; it differs from converting byte
// offsets afterwards only where ByteLevel's trim_offsets cuts inside a multi-byte character.
enum class OffsetType { kByte, kChar };

// Converts byte offsets into `text` to code point offsets (text must be the encoded input).
std::vector<std::pair<size_t, size_t>> char_offsets(std::string_view text,
                                                    const std::vector<std::pair<size_t, size_t>>& byte_offsets);

struct TruncationParams {
  enum class Direction { kRight, kLeft };
  enum class Strategy { kLongestFirst, kOnlyFirst, kOnlySecond };
  size_t max_length = 512;
  size_t stride = 0;
  Strategy strategy = Strategy::kLongestFirst;
  Direction direction = Direction::kRight;
};

struct PaddingParams {
  enum class Direction { kRight, kLeft };
  std::optional<size_t> fixed_length;  // nullopt: pad a batch to its longest encoding
  size_t pad_to_multiple_of = 0;
  Direction direction = Direction::kRight;
  int32_t pad_id = 0;
  int32_t pad_type_id = 0;
  std::string pad_token = "[PAD]";
};

// Input text is UTF-8. Invalid UTF-8 is rejected with a tessera::Error that gives the byte
// offset of the first bad sequence (Hugging Face cannot receive such text either: Rust and
// JavaScript strings are always valid). decode() never fails on ids in range: byte
// sequences that are not valid UTF-8 come out as U+FFFD, as Rust's from_utf8_lossy does.
//
// A Tokenizer is immutable after loading and safe to use from many threads at once.
class Tokenizer {
 public:
  // Loads tokenizer.json; given a directory, reads DIR/tokenizer.json and, when present,
  // DIR/tokenizer_config.json (bos/eos/pad tokens). Throws Error naming the file and field.
  static Tokenizer from_file(const std::string& path_or_dir);
  // Loads from the text of a tokenizer.json (`origin` names it in error messages).
  static Tokenizer from_json(std::string_view json, const std::string& origin = "tokenizer.json",
                             std::string_view config_json = {});

  // Loads a tiktoken rank file (lines of "base64-token rank", as cl100k_base.tiktoken) with
  // its pre-tokenization regex and special tokens, as the byte-level BPE tokenizer that
  // Hugging Face's converter makes of it (merges recovered from the ranks).
  static Tokenizer from_tiktoken(const std::string& rank_file, std::string_view pattern,
                                 const std::vector<std::pair<std::string, int32_t>>& special_tokens = {});

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  Encoding encode(std::string_view text, bool add_special_tokens = true) const;
  Encoding encode(std::string_view text, bool add_special_tokens, OffsetType offsets) const;
  // A pair of texts (question/context, sentence pairs): type_ids 0 then 1 where the
  // post-processor says so; each token's offsets are into the text it came from.
  Encoding encode_pair(std::string_view text, std::string_view pair, bool add_special_tokens = true,
                       OffsetType offsets = OffsetType::kByte) const;
  // Encodes on the library's thread pool; padding (if enabled) applies to the whole batch.
  std::vector<Encoding> encode_batch(const std::vector<std::string>& texts, bool add_special_tokens = true,
                                     OffsetType offsets = OffsetType::kByte) const;
  std::vector<Encoding> encode_pair_batch(const std::vector<std::pair<std::string, std::string>>& pairs,
                                          bool add_special_tokens = true,
                                          OffsetType offsets = OffsetType::kByte) const;

  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = false) const;
  std::vector<std::string> decode_batch(const std::vector<std::vector<int32_t>>& ids,
                                        bool skip_special_tokens = false) const;

  std::optional<int32_t> token_to_id(std::string_view token) const;
  std::string id_to_token(int32_t id) const;  // "" for an id out of range
  // Number of ids: the model's vocabulary plus added tokens (as get_vocab_size(true)).
  size_t vocab_size() const;

  std::optional<int32_t> bos_id() const;
  std::optional<int32_t> eos_id() const;
  std::optional<int32_t> pad_id() const;
  // The Jinja chat template: DIR/chat_template.jinja, else tokenizer_config.json's
  // "chat_template" (a string, or the entry named "default" of a list of named templates), or
  // a GGUF file's tokenizer.chat_template; nullopt when there is none. See chat_template.hpp.
  const std::optional<std::string>& chat_template() const;

  // Truncation and padding as in tokenizer.json; these replace what the file said.
  void set_truncation(std::optional<TruncationParams> params);
  void set_padding(std::optional<PaddingParams> params);
  const std::optional<TruncationParams>& truncation() const;

  // BPE dropout (https://arxiv.org/abs/1910.13267): a BPE model whose tokenizer.json has
  // "dropout": p in (0, 1] skips each merge with probability p, as Hugging Face tokenizers
  // does, so the same text gets different (always valid) segmentations; p = 1 applies no
  // merges at all. 0 and null mean no dropout; values outside [0, 1] are refused at load.
  //
  // Unlike tokenizers (which draws from an unseeded thread-local generator) the draws here
  // are reproducible: every encode call (and every text of a batch) takes the next call
  // number n of this Tokenizer and draws from a stream fixed by (seed, n). The default seed
  // is 0, so a freshly loaded tokenizer gives the same sequence of segmentations in every
  // run; call set_dropout_seed with a different (e.g. random) seed for different runs.
  // Text i of encode_batch uses call number base + i, whatever thread encodes it.
  // set_dropout_seed also resets the call counter (not safe while other threads encode).
  void set_dropout_seed(uint64_t seed);
  // The dropout in effect (nullopt: none). set_dropout(nullopt or 0) turns it off, e.g. to
  // run inference with a tokenizer.json saved for training; a value outside [0, 1], or
  // dropout > 0 on a model other than BPE, throws Error. Not safe while other threads encode.
  std::optional<float> dropout() const;
  void set_dropout(std::optional<float> p);
  const std::optional<PaddingParams>& padding() const;

  // Feeds ids one at a time and returns only complete text: never half a UTF-8 character,
  // and the same text, concatenated, as decode() of all ids (as tokenizers' DecodeStream).
  class StreamDecoder {
   public:
    std::string push(int32_t id);
    // Returns what is held back (an incomplete character comes out as U+FFFD) and resets.
    std::string flush();

   private:
    friend class Tokenizer;
    StreamDecoder(const Tokenizer* tokenizer, bool skip_special_tokens)
        : tokenizer_(tokenizer), skip_special_tokens_(skip_special_tokens) {}
    const Tokenizer* tokenizer_;
    bool skip_special_tokens_;
    std::vector<int32_t> ids_;
    std::string prefix_;
    size_t prefix_index_ = 0;
  };
  StreamDecoder stream_decoder(bool skip_special_tokens = true) const;

  struct Impl;

 private:
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera
