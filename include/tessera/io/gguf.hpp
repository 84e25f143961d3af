// GGUF (llama.cpp's model file format, versions 2 and 3): reading over mmap without copying,
// and writing (tessera-quantize, test fixtures). Every count, length, type, dimension and
// offset in a file is validated before it is used; a hostile file gets an Error naming the
// file and the key or tensor, never an out-of-bounds read or an allocation sized by a lie.
//
// A GGUF file is: magic "GGUF", version, tensor count, key/value count, the key/values
// (typed metadata), the tensor infos (name, dims innermost first, ggml type, offset), padding
// to the alignment, then the data section holding each tensor at its (aligned) offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tessera/core/tensor.hpp"
#include "tessera/io/mmap.hpp"

namespace tessera {

// One metadata value: a scalar of one of GGUF's 13 value types, or an array of values of one
// (non-array) type. Numeric arrays keep their little-endian bytes as the file has them and
// strings are owned, so a 150k-entry vocabulary is one vector of strings and no per-value
// objects.
class GgufValue {
 public:
  enum class Type : uint32_t { U8 = 0, I8, U16, I16, U32, I32, F32, Bool, String, Array, U64, I64, F64 };

  GgufValue() : GgufValue(uint8_t(0)) {}
  // Scalars (each C++ type is its GGUF type).
  GgufValue(uint8_t v) : type_(Type::U8) { u_ = v; }
  GgufValue(int8_t v) : type_(Type::I8) { i_ = v; }
  GgufValue(uint16_t v) : type_(Type::U16) { u_ = v; }
  GgufValue(int16_t v) : type_(Type::I16) { i_ = v; }
  GgufValue(uint32_t v) : type_(Type::U32) { u_ = v; }
  GgufValue(int32_t v) : type_(Type::I32) { i_ = v; }
  GgufValue(uint64_t v) : type_(Type::U64) { u_ = v; }
  GgufValue(int64_t v) : type_(Type::I64) { i_ = v; }
  GgufValue(float v) : type_(Type::F32) { f_ = v; }
  GgufValue(double v) : type_(Type::F64) { f_ = v; }
  GgufValue(bool v) : type_(Type::Bool) { u_ = v ? 1 : 0; }
  GgufValue(std::string v) : type_(Type::String) { strings_.push_back(std::move(v)); }
  GgufValue(const char* v) : GgufValue(std::string(v)) {}
  // Arrays: of strings, or of any numeric/bool C++ type above (its GGUF type is the element type).
  static GgufValue array(std::vector<std::string> values);
  template <typename T>
  static GgufValue array(const std::vector<T>& values) {
    GgufValue v = numeric_array(element_type<T>(), values.size());
    if constexpr (std::is_same_v<T, bool>) {
      for (size_t i = 0; i < values.size(); ++i) v.bytes_[i] = values[i] ? 1 : 0;
    } else if (!values.empty()) {
      std::memcpy(v.bytes_.data(), values.data(), values.size() * sizeof(T));
    }
    return v;
  }
  // An array of `n` elements of numeric type `elem` from their little-endian bytes (the
  // reader's constructor; `bytes` must hold exactly n elements).
  static GgufValue array_from_bytes(Type elem, size_t n, const unsigned char* bytes);

  Type type() const { return type_; }
  bool is_array() const { return type_ == Type::Array; }
  // The element type of an array (for a scalar: its own type).
  Type elem_type() const { return is_array() ? elem_ : type_; }
  // Number of array elements (1 for a scalar).
  size_t size() const;

  // Scalars. Each throws an Error saying "expected X, found Y" when the type does not fit:
  // as_int takes any integer type whose value fits in int64, as_float F32/F64 and integers,
  // as_bool only Bool, as_string only String.
  int64_t as_int() const;
  // Any integer type whose value is >= 0 (the whole U64 range).
  uint64_t as_uint() const;
  double as_float() const;
  bool as_bool() const;
  const std::string& as_string() const;

  // Array elements, with the same type rules as the scalars (and a range check).
  int64_t int_at(size_t i) const;
  double float_at(size_t i) const;
  bool bool_at(size_t i) const;
  const std::string& string_at(size_t i) const;
  // All elements of an array of strings, without copying (Error for any other value).
  const std::vector<std::string>& strings() const;
  // The raw little-endian bytes of a numeric or bool array (size() * element size bytes).
  const std::vector<unsigned char>& array_bytes() const { return bytes_; }

  // "U32", "STRING", "array of STRING" (for messages).
  std::string type_name() const;
  static std::string_view type_name(Type t);
  // Bytes per element of a numeric/bool type; 0 for String and Array.
  static size_t type_size(Type t);

 private:
  template <typename T>
  static constexpr Type element_type() {
    if constexpr (std::is_same_v<T, uint8_t>) return Type::U8;
    else if constexpr (std::is_same_v<T, int8_t>) return Type::I8;
    else if constexpr (std::is_same_v<T, uint16_t>) return Type::U16;
    else if constexpr (std::is_same_v<T, int16_t>) return Type::I16;
    else if constexpr (std::is_same_v<T, uint32_t>) return Type::U32;
    else if constexpr (std::is_same_v<T, int32_t>) return Type::I32;
    else if constexpr (std::is_same_v<T, uint64_t>) return Type::U64;
    else if constexpr (std::is_same_v<T, int64_t>) return Type::I64;
    else if constexpr (std::is_same_v<T, float>) return Type::F32;
    else if constexpr (std::is_same_v<T, double>) return Type::F64;
    else if constexpr (std::is_same_v<T, bool>) return Type::Bool;
    else static_assert(sizeof(T) == 0, "GgufValue::array: not a GGUF element type");
  }
  static GgufValue numeric_array(Type elem, size_t n);
  // Element i of a numeric array (or the scalar) as the widest type of its kind.
  int64_t int_of(Type t, size_t i, const char* want) const;
  double float_of(Type t, size_t i) const;
  void check_index(size_t i) const;

  Type type_;
  Type elem_ = Type::U8;            // arrays: the element type
  uint64_t u_ = 0;                  // unsigned and bool scalars
  int64_t i_ = 0;                   // signed scalars
  double f_ = 0;                    // float scalars
  std::vector<std::string> strings_;   // a String scalar (one entry) or an array of strings
  std::vector<unsigned char> bytes_;   // a numeric or bool array
  size_t n_ = 0;                    // arrays: element count
};

// True when the file at `path` starts with GGUF's magic (so a tool can take a model
// directory or a .gguf file in one argument).
bool is_gguf_file(const std::string& path);

class GgufFile {
 public:
  // Maps `path` and validates the whole header and every tensor's place in the data section.
  static GgufFile open(const std::string& path);

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  // general.alignment, or 32 when the file does not set it.
  size_t alignment() const { return alignment_; }
  // Absolute file offset of the data section (the tensors' offsets count from here).
  size_t data_offset() const { return data_offset_; }

  // Metadata. get() throws an Error naming the key and the file when it is absent.
  bool has(const std::string& key) const { return index_.count(key) != 0; }
  const GgufValue& get(const std::string& key) const;
  std::vector<std::string> keys() const;  // in file order

  // Typed getters: any integer type whose value fits is an int, any float type (or integer)
  // a float; otherwise an Error "FILE: key 'K': expected T, found U". The variants with a
  // default return it when the key is absent (a present key of the wrong type is an Error).
  std::string get_string(const std::string& key) const;
  std::string get_string(const std::string& key, const std::string& fallback) const;
  int64_t get_int(const std::string& key) const;
  int64_t get_int(const std::string& key, int64_t fallback) const;
  double get_float(const std::string& key) const;
  double get_float(const std::string& key, double fallback) const;
  bool get_bool(const std::string& key) const;
  bool get_bool(const std::string& key, bool fallback) const;
  std::vector<std::string> get_string_array(const std::string& key) const;
  std::vector<float> get_float_array(const std::string& key) const;
  std::vector<int64_t> get_int_array(const std::string& key) const;

  struct TensorInfo {
    std::string name;
    DType dtype;
    // Row-major, i.e. GGUF's ne[] reversed: a weight with ne = [K, N] (K innermost) has
    // shape {N, K}, N rows of K elements.
    Shape shape;
    size_t offset;  // absolute offset of the first byte in the file
    size_t bytes;
  };
  bool has_tensor(const std::string& name) const { return tensor_index_.count(name) != 0; }
  // Error naming the tensor and the file when absent.
  const TensorInfo& tensor_info(const std::string& name) const;
  std::vector<std::string> tensor_names() const;  // in file order
  // The tensor's bytes in place (Tensor::borrow; the tensor keeps the mapping alive). An
  // aligned copy only when a file with general.alignment < the element's size misplaces it.
  Tensor tensor(const std::string& name) const;
  // Lets the tensor's pages leave memory (see MappedFile::release); the tensor stays valid.
  void release(const std::string& name) const;

 private:
  std::string where(const std::string& key) const;
  std::string path_;
  std::shared_ptr<const MappedFile> file_;
  uint32_t version_ = 0;
  size_t alignment_ = 32;
  size_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::unordered_map<std::string, size_t> index_;
  std::vector<TensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

// ggml's type id for a DType GGUF can hold (Error for U8, Bool and Q8_K), and back: the
// DType for a ggml type id, or an Error naming the type (e.g. "IQ2_XXS") and what tessera
// supports. `what` names the tensor for the message.
uint32_t gguf_type_of(DType dtype);
DType dtype_from_gguf_type(uint32_t ggml_type, const std::string& what);
// ggml's name for a type id ("Q4_K", "IQ2_XXS"), or "" for an id ggml never defined.
std::string_view ggml_type_name(uint32_t ggml_type);

// Writes a version 3, little-endian GGUF: the key/values in the order first set, then the
// tensors in the order added, each padded to the alignment (general.alignment when set, a
// U32 power of two; 32 otherwise).
class GgufWriter {
 public:
  // Sets (or replaces, keeping its place) a key.
  void set(const std::string& key, GgufValue value);
  // Adds a tensor of any DType GGUF holds (quantized included): rank 1..4, its last
  // dimension a multiple of the type's block size. The tensor is kept (not copied) until write.
  void add_tensor(const std::string& name, const Tensor& t);
  void write(const std::string& path) const;

 private:
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::map<std::string, size_t> index_;
  std::vector<std::pair<std::string, Tensor>> tensors_;
  std::map<std::string, size_t> tensor_index_;
};

}  // namespace tessera
