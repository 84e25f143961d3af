// The user-facing model: immutable after loading and safe to share between threads.
// Everything that changes while running (KV caches, scratch, encoder memory) lives in a
// Session that each caller owns. Model is type-erased; tessera::load returns one.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tessera/core/error.hpp"
#include "tessera/core/tensor.hpp"

namespace tessera {

enum class ModelKind { Decoder, Encoder, EncoderDecoder };

struct ModelInfo {
  std::string family;        // "llama", "gpt2", ...
  std::string architecture;  // "LlamaForCausalLM", ...
  std::string dir;
  ModelKind kind = ModelKind::Decoder;
  int64_t vocab_size = 0, hidden_size = 0, num_layers = 0, max_positions = 0;
  std::vector<int64_t> eos_token_ids;
  std::optional<int64_t> bos_token_id, pad_token_id, decoder_start_token_id;
  std::string weight_dtype;  // e.g. "BF16", or "F32+F16" when mixed
  int64_t parameters = 0;
  size_t weight_bytes = 0;
};

struct SessionOptions {
  int64_t max_context = 0;  // 0: the model's max_position_embeddings (or 4096 when unbounded)
  // Most bytes the KV cache may take at full capacity (0: no limit). new_session() throws
  // when capacity × Model::kv_cache_bytes_per_position(kv_type) exceeds it; lower max_context then.
  int64_t kv_cache_bytes = 0;
  // The dtype keys and values are stored in: F16 (llama.cpp's default too), BF16, Q8_0
  // (ggml's blocks of 32, each head its own blocks) or F32 (exact; what the 1e-4 parity tests use).
  // Encoder-decoders' cross-attention memory stays f32.
  DType kv_type = DType::F16;
  // Elastic depth (decoders), on the loaded weights: the layer list applied `loops` times
  // (looped depth), and of those layer runs only the first `layers` (0: all), then the final
  // norm and the head (early exit). Fixed for the session's life: its KV cache keeps one
  // layer per run. Encoders and encoder-decoders refuse anything but the defaults.
  int64_t layers = 0;
  int64_t loops = 1;
};

// Per-caller state. Obtain one from Model::new_session.
class Session {
 public:
  virtual ~Session() = default;
  // Number of tokens the decoder has consumed.
  virtual int64_t position() const = 0;
  // Forget all tokens (and the encoder memory of encoder-decoders).
  virtual void reset() = 0;
  // Largest number of decoder positions this session can hold.
  virtual int64_t capacity() const = 0;
  // Pre-allocates cache storage for `positions` decoder positions (capped at capacity()),
  // so that decoding up to there does not touch the heap. generate() calls it.
  virtual void reserve(int64_t positions) { (void)positions; }
  // Beam search forks and reorders hypotheses: a copy of this session's state (the encoder
  // memory of encoder-decoders is shared, not copied), and overwriting this session's state
  // with another's of the same model (reusing storage).
  virtual std::unique_ptr<Session> clone() const { fail("this session type cannot be cloned"); }
  virtual void copy_from(const Session&) { fail("this session type cannot be copied"); }
};

class Model {
 public:
  virtual ~Model() = default;
  virtual const ModelInfo& info() const = 0;
  virtual std::unique_ptr<Session> new_session(const SessionOptions& options = {}) const = 0;

  // Decoders and encoder-decoders: feed `ids` at the session's current position and write
  // logits to `logits` ([ids.size(), vocab] when all_positions, else [1, vocab] for the last).
  virtual void decode(Session& session, std::span<const int32_t> ids, Tensor& logits, bool all_positions) const;

  // Encoders and encoder-decoders: the last hidden state of a batch of sequences (token ids
  // for text models), [total tokens, hidden] packed in input order.
  virtual Tensor encode(const std::vector<std::vector<int32_t>>& batch) const;
  // Encoder-decoders: compute the encoder memory for one source into the session.
  virtual void set_source(Session& session, std::span<const int32_t> source_ids) const;
  // Encoder-decoders with non-text input (Whisper): features [1, mel, frames].
  virtual void set_source_features(Session& session, const Tensor& features) const;

  // The parity interface behind tessera-forward: inputs by Hugging Face argument names
  // (input_ids, attention_mask, token_type_ids, pixel_values, input_features,
  // decoder_input_ids, prompt_ids, ...), outputs by Hugging Face output names (logits,
  // last_hidden_state, pooler_output, encoder_last_hidden_state, generated_ids, ...), f32
  // (ids int64). generate_tokens >= 0 also runs greedy generation (EOS ignored). The sessions
  // it makes take session_options (e.g. kv_type), with max_context sized to the inputs.
  virtual std::map<std::string, Tensor> forward_named(const std::map<std::string, Tensor>& inputs,
                                                      int64_t generate_tokens = -1,
                                                      const SessionOptions& session_options = {}) const = 0;

  // Bytes one position takes in a session's KV caches of dtype kv_type (keys and values of
  // every self-attention layer; 0 for encoders, which keep none).
  virtual int64_t kv_cache_bytes_per_position(DType kv_type) const {
    (void)kv_type;
    return 0;
  }
};

// Rows of a [B, L] integer tensor cut to the real tokens of a right-padded attention_mask
// (null: all tokens). Errors name `name` and say what is wrong (rank, left padding, ids < 0).
std::vector<std::vector<int32_t>> unpad_rows(const Tensor& ids, const Tensor* mask, const std::string& name);
// Refuses input names a model does not take (a misspelt 'input_id' must not be ignored),
// except Hugging Face output names (logits, generated_ids, last_hidden_state, ...), skipped
// so that a reference file of inputs and expected outputs can be fed back as it is.
void check_input_names(const std::map<std::string, Tensor>& inputs, const std::vector<std::string>& accepted,
                       const std::string& model_kind);
// The positions a new session holds: options.max_context (0: `default_capacity`), refused
// when negative, above `limit` (the model's learned positions; 0: none), or when its KV cache
// (`bytes_per_position` over all layers) would exceed options.kv_cache_bytes. `dir` names the
// model in errors. Every model's new_session() goes through here, so the limits mean the same.
int64_t session_capacity(const SessionOptions& options, const std::string& dir, int64_t default_capacity,
                         int64_t limit, int64_t bytes_per_position);
// Refuses elastic depth (SessionOptions::layers / loops) for a model kind that does not run it.
void refuse_elastic_depth(const SessionOptions& options, const std::string& dir, const std::string& model_kind);
// [1, n] int64 tensor of ids.
Tensor ids_tensor(const std::vector<int32_t>& ids);

// Options of load().
struct LoadOptions {
  // Quantize float weight matrices at load to this ggml type (Q8_0, Q4_0, Q4_K, ...), with
  // ggml's reference quantizer, as `llama-quantize --pure` would. Unset: the file's types.
  std::optional<DType> quantize;
};

// Loads a model: a Hugging Face directory (config.json + safetensors) or a GGUF file, and
// returns the right family, or an Error that says what is missing or unsupported.
std::shared_ptr<const Model> load(const std::string& path, const LoadOptions& options = {});

// "q8_0", "Q4_K", ... → the ggml type; an Error listing the accepted names otherwise.
DType quant_type_from_name(const std::string& name);
// "f32", "f16", "bf16", "q8_0" (any case) → the KV-cache dtype; an Error listing them otherwise.
DType kv_type_from_name(const std::string& name);

}  // namespace tessera
