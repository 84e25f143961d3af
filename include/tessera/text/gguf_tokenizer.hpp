// A tessera::Tokenizer from the tokenizer metadata of a GGUF file (llama.cpp's format): the
// metadata is translated into the tokenizer.json Hugging Face has for that model, which the
// tokenizer.json pipeline then loads, so GGUF and safetensors models share one tokenizer.
//
// Supported (tokenizer.ggml.model / tokenizer.ggml.pre):
//   "gpt2"  byte-level BPE with tokenizer.ggml.merges, pre-tokenized as `pre` says:
//           "gpt-2" (GPT-2's regex), "llama-bpe"/"llama3"/"llama-v3" (Llama 3's regex,
//           ignore_merges), "qwen2" (NFC, Qwen2's regex: single digits), "smaug-bpe" (Llama 3's
//           regex), "deepseek-llm" (its six regexes in turn), "default" or absent
//           (llama.cpp's fallback regexes).
//   "llama" SentencePiece BPE with scores and byte fallback (Llama 1/2, Mistral, Gemma): as
//           transformers' LlamaConverter, merges derived from the scores, "▁" for spaces, a
//           "▁" prepended when tokenizer.ggml.add_space_prefix (default true).
// Token types (tokenizer.ggml.token_type): 2 unknown and 3 control become special added
// tokens, 4 user-defined non-special added tokens (all matched in the text, as llama.cpp does
// with parse_special); 1 normal, 5 unused and 6 byte stay plain vocabulary.
// bos/eos/pad ids give Tokenizer::bos_id()/eos_id()/pad_id(); add_bos_token/add_eos_token
// (defaults as llama.cpp's: true/false for "llama" and Llama 3, false/false otherwise) give the
// post-processor; tokenizer.chat_template gives Tokenizer::chat_template().
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "tessera/text/tokenizer.hpp"

namespace tessera {

// `meta` is a JSON object whose keys are the GGUF keys ("tokenizer.ggml.model",
// "tokenizer.ggml.tokens" (array of strings), "tokenizer.ggml.scores", "tokenizer.ggml.token_type",
// "tokenizer.ggml.merges", "tokenizer.ggml.bos_token_id", ...); `origin` (the file) names it in
// errors. Bad or unsupported metadata throws Error naming origin, the key and the value.

// The tokenizer.json text equivalent to the metadata.
std::string tokenizer_json_from_gguf(const nlohmann::json& meta, const std::string& origin);
// The tokenizer_config.json text that goes with it: bos/eos/pad tokens and chat_template.
std::string tokenizer_config_json_from_gguf(const nlohmann::json& meta, const std::string& origin);
// Both, loaded.
Tokenizer tokenizer_from_gguf_metadata(const nlohmann::json& meta, const std::string& origin);

// The tokenizer of a GGUF file: its tokenizer.* keys as above (Tokenizer::from_file calls
// this for a .gguf path).
Tokenizer tokenizer_from_gguf_file(const std::string& path);

}  // namespace tessera
