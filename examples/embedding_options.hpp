// What sentence-transformers keeps beside an encoder (1_Pooling/config.json, modules.json,
// sentence_bert_config.json): the pooling, normalisation and length that tessera-embed and
// tessera-server's /v1/embeddings follow unless told otherwise.
#pragma once

#include <optional>
#include <string>

#include "tessera/core/error.hpp"
#include "tessera/io/json.hpp"
#include "tessera/io/mmap.hpp"

namespace tessera::tools {

// sentence-transformers keeps its pooling choice beside the model; follow it unless told.
inline std::optional<std::string> pooling_from_model(const std::string& dir) {
  const std::string path = dir + "/1_Pooling/config.json";
  if (!file_exists(path)) return std::nullopt;
  JsonObject cfg(load_json_file(path), path);
  if (cfg.get_bool("pooling_mode_cls_token", false)) return "cls";
  if (cfg.get_bool("pooling_mode_mean_tokens", false)) return "mean";
  fail("{}: only pooling_mode_cls_token and pooling_mode_mean_tokens are supported; pass --pooling to override", path);
}

inline bool normalize_from_model(const std::string& dir) {
  const std::string path = dir + "/modules.json";
  return file_exists(path) && read_text_file(path).find("sentence_transformers.models.Normalize") != std::string::npos;
}

inline int64_t max_length_from_model(const std::string& dir) {
  const std::string path = dir + "/sentence_bert_config.json";
  if (!file_exists(path)) return 0;
  JsonObject cfg(load_json_file(path), path);
  return cfg.get_int("max_seq_length", 0);
}

}  // namespace tessera::tools
