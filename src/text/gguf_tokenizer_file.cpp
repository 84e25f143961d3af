// Tokenizer::from_file on a .gguf file: the file's tokenizer.* metadata, as JSON, handed to
// tokenizer_from_gguf_metadata (gguf_tokenizer.cpp), which rebuilds the tokenizer.json.
#include <nlohmann/json.hpp>

#include "tessera/io/gguf.hpp"
#include "tessera/text/gguf_tokenizer.hpp"

namespace tessera {

nlohmann::json gguf_tokenizer_metadata(const GgufFile& f) {
  using T = GgufValue::Type;
  nlohmann::json meta = nlohmann::json::object();
  for (const auto& key : f.keys()) {
    if (!key.starts_with("tokenizer.")) continue;
    const GgufValue& v = f.get(key);
    switch (v.type()) {
      case T::String: meta[key] = f.get_string(key); break;
      case T::Bool: meta[key] = f.get_bool(key); break;
      case T::F32: case T::F64: meta[key] = f.get_float(key); break;
      case T::Array:
        switch (v.elem_type()) {
          case T::String: meta[key] = f.get_string_array(key); break;
          case T::F32: case T::F64: meta[key] = f.get_float_array(key); break;
          case T::Bool: case T::Array: fail("{}: key '{}': arrays of this type are not tokenizer data", f.path(), key);
          default: meta[key] = f.get_int_array(key); break;
        }
        break;
      default: meta[key] = f.get_int(key); break;
    }
  }
  return meta;
}

Tokenizer tokenizer_from_gguf_file(const std::string& path) {
  const GgufFile f = GgufFile::open(path);
  return tokenizer_from_gguf_metadata(gguf_tokenizer_metadata(f), path);
}

}  // namespace tessera
