// GGUF reading (validated, over mmap) and writing; see tessera/io/gguf.hpp for the layout.
// The checks follow ggml's own reader (gguf.cpp), plus the ones that reader leaves to its
// caller when a file is memory-mapped: offsets inside the data section and no overlaps.
#include "tessera/io/gguf.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <fstream>
#include <limits>

namespace tessera {

static_assert(std::endian::native == std::endian::little,
              "GGUF is read and written by memcpy of little-endian values");

namespace {

constexpr size_t kDefaultAlignment = 32;
constexpr size_t kMaxDims = 4;
constexpr size_t kMaxNameBytes = 63;  // ggml's GGML_MAX_NAME (64) less the terminating NUL
// Smallest possible encodings, to bound counts by the bytes left before looping over them:
// a key/value is a key length (8) + a value type (4) + a one-byte value; a tensor info is a
// name length (8) + n_dims (4) + one dimension (8) + a type (4) + an offset (8).
constexpr size_t kMinKvBytes = 8 + 4 + 1;
constexpr size_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;
constexpr uint32_t kNumValueTypes = 13;

using Type = GgufValue::Type;

// ggml's type names by id (ggml.h, GGML_TYPE_*), including the ids it has since removed,
// so that a file using any of them is refused by name.
constexpr std::string_view kGgmlTypeNames[] = {
    "F32",     "F16",      "Q4_0",     "Q4_1",    "Q4_2",       "Q4_3",       "Q5_0",       "Q5_1",
    "Q8_0",    "Q8_1",     "Q2_K",     "Q3_K",    "Q4_K",       "Q5_K",       "Q6_K",       "Q8_K",
    "IQ2_XXS", "IQ2_XS",   "IQ3_XXS",  "IQ1_S",   "IQ4_NL",     "IQ3_S",      "IQ2_S",      "IQ4_XS",
    "I8",      "I16",      "I32",      "I64",     "F64",        "IQ1_M",      "BF16",       "Q4_0_4_4",
    "Q4_0_4_8", "Q4_0_8_8", "TQ1_0",   "TQ2_0",   "IQ4_NL_4_4", "IQ4_NL_4_8", "IQ4_NL_8_8", "MXFP4",
    "NVFP4",   "Q1_0",     "Q2_0",
};

// The DTypes tessera reads from and writes to GGUF, with ggml's ids.
constexpr std::pair<DType, uint32_t> kSupported[] = {
    {DType::F32, 0},   {DType::F16, 1},   {DType::BF16, 30}, {DType::F64, 28},  {DType::I8, 24},
    {DType::I16, 25},  {DType::I32, 26},  {DType::I64, 27},  {DType::Q4_0, 2},  {DType::Q4_1, 3},
    {DType::Q5_0, 6},  {DType::Q5_1, 7},  {DType::Q8_0, 8},  {DType::Q2_K, 10}, {DType::Q3_K, 11},
    {DType::Q4_K, 12}, {DType::Q5_K, 13}, {DType::Q6_K, 14},
};

std::string supported_list() {
  std::string s;
  for (const auto& [dt, id] : kSupported) {
    if (!s.empty()) s += ", ";
    s += dtype_name(dt);
  }
  return s;
}

size_t pad_to(size_t n, size_t alignment) { return (n + alignment - 1) / alignment * alignment; }

bool is_integer(Type t) {
  return t == Type::U8 || t == Type::I8 || t == Type::U16 || t == Type::I16 || t == Type::U32 ||
         t == Type::I32 || t == Type::U64 || t == Type::I64;
}

// The magic's four bytes for a message: printable characters as they are, others as \xNN.
std::string printable(const unsigned char* p, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i)
    s += (p[i] >= 0x20 && p[i] < 0x7f) ? std::string(1, char(p[i])) : fmt::format("\\x{:02x}", p[i]);
  return s;
}

// Reads the header front to back; every read is bounds-checked against the mapping, and a
// short read names what was being read.
class Cursor {
 public:
  Cursor(const unsigned char* data, size_t size, const std::string& path) : d_(data), size_(size), path_(path) {}
  size_t pos() const { return pos_; }
  size_t left() const { return size_ - pos_; }

  void need(size_t n, const std::string& what) const {
    if (n > left())
      fail("{}: truncated: {} needs {} bytes at offset {}, the file has {} left", path_, what, n, pos_, left());
  }
  template <typename T>
  T read(const std::string& what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, d_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  const unsigned char* take(size_t n, const std::string& what) {
    need(n, what);
    const unsigned char* p = d_ + pos_;
    pos_ += n;
    return p;
  }
  // Whether a whole string (length and bytes) follows, and that string when it does.
  bool fits_string() const {
    if (left() < 8) return false;
    uint64_t n;
    std::memcpy(&n, d_ + pos_, 8);
    return n <= left() - 8;
  }
  std::string read_string_unchecked() {
    uint64_t n;
    std::memcpy(&n, d_ + pos_, 8);
    std::string s(reinterpret_cast<const char*>(d_ + pos_ + 8), size_t(n));
    pos_ += 8 + size_t(n);
    return s;
  }
  // A GGUF string: u64 length, then the bytes (no terminator).
  std::string read_string(const std::string& what) {
    uint64_t n = read<uint64_t>("the length of " + what);
    if (n > left())
      fail("{}: {}: string of {} bytes at offset {} runs past the end of the file ({} bytes left)", path_, what, n,
           pos_, left());
    const unsigned char* p = take(size_t(n), what);
    return std::string(reinterpret_cast<const char*>(p), size_t(n));
  }

 private:
  const unsigned char* d_;
  size_t size_;
  size_t pos_ = 0;
  const std::string& path_;
};

Type read_value_type(Cursor& c, const std::string& path, const std::string& key, bool element) {
  uint32_t t = c.read<uint32_t>(fmt::format("the {}type of key '{}'", element ? "array element " : "value ", key));
  if (t >= kNumValueTypes)
    fail("{}: key '{}': {}type {} is not a GGUF value type (0..12)", path, key, element ? "array element " : "value ", t);
  return Type(t);
}

GgufValue read_scalar(Cursor& c, Type t, const std::string& path, const std::string& key) {
  const std::string what = fmt::format("the value of key '{}'", key);
  switch (t) {
    case Type::U8: return GgufValue(c.read<uint8_t>(what));
    case Type::I8: return GgufValue(c.read<int8_t>(what));
    case Type::U16: return GgufValue(c.read<uint16_t>(what));
    case Type::I16: return GgufValue(c.read<int16_t>(what));
    case Type::U32: return GgufValue(c.read<uint32_t>(what));
    case Type::I32: return GgufValue(c.read<int32_t>(what));
    case Type::U64: return GgufValue(c.read<uint64_t>(what));
    case Type::I64: return GgufValue(c.read<int64_t>(what));
    case Type::F32: return GgufValue(c.read<float>(what));
    case Type::F64: return GgufValue(c.read<double>(what));
    case Type::Bool: {
      uint8_t b = c.read<uint8_t>(what);
      if (b > 1) fail("{}: key '{}': bool value {}, expected 0 or 1", path, key, b);
      return GgufValue(b == 1);
    }
    case Type::String: return GgufValue(c.read_string(fmt::format("key '{}'", key)));
    case Type::Array: break;
  }
  fail("{}: key '{}': value type {} cannot be read as a scalar", path, key, uint32_t(t));
}

GgufValue read_value(Cursor& c, const std::string& path, const std::string& key) {
  Type t = read_value_type(c, path, key, false);
  if (t != Type::Array) return read_scalar(c, t, path, key);
  Type elem = read_value_type(c, path, key, true);
  if (elem == Type::Array) fail("{}: key '{}': arrays of arrays are not supported", path, key);
  uint64_t n = c.read<uint64_t>(fmt::format("the length of array '{}'", key));
  // Each element takes at least its size (strings: their 8-byte length): refuse a count the
  // file cannot hold before allocating anything for it.
  const size_t min_elem = elem == Type::String ? 8 : GgufValue::type_size(elem);
  if (n > c.left() / min_elem)
    fail("{}: key '{}': array of {} {} elements needs at least {} bytes each, the file has {} bytes left", path, key,
         n, GgufValue::type_name(elem), min_elem, c.left());
  if (elem == Type::String) {
    // (a vocabulary has 150k of these: the message is only formatted for a bad one)
    std::vector<std::string> v;
    v.reserve(size_t(n));
    for (uint64_t i = 0; i < n; ++i) {
      if (!c.fits_string()) v.push_back(c.read_string(fmt::format("key '{}' element {}", key, i)));  // throws
      else v.push_back(c.read_string_unchecked());
    }
    return GgufValue::array(std::move(v));
  }
  const size_t bytes = size_t(n) * min_elem;
  const unsigned char* p = c.take(bytes, fmt::format("array '{}'", key));
  if (elem == Type::Bool)
    for (size_t i = 0; i < size_t(n); ++i)
      if (p[i] > 1) fail("{}: key '{}': element {}: bool value {}, expected 0 or 1", path, key, i, p[i]);
  return GgufValue::array_from_bytes(elem, size_t(n), p);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// GgufValue

size_t GgufValue::type_size(Type t) {
  switch (t) {
    case Type::U8: case Type::I8: case Type::Bool: return 1;
    case Type::U16: case Type::I16: return 2;
    case Type::U32: case Type::I32: case Type::F32: return 4;
    case Type::U64: case Type::I64: case Type::F64: return 8;
    case Type::String: case Type::Array: return 0;
  }
  return 0;
}

std::string_view GgufValue::type_name(Type t) {
  switch (t) {
    case Type::U8: return "U8";
    case Type::I8: return "I8";
    case Type::U16: return "U16";
    case Type::I16: return "I16";
    case Type::U32: return "U32";
    case Type::I32: return "I32";
    case Type::F32: return "F32";
    case Type::Bool: return "BOOL";
    case Type::String: return "STRING";
    case Type::Array: return "ARRAY";
    case Type::U64: return "U64";
    case Type::I64: return "I64";
    case Type::F64: return "F64";
  }
  return "?";
}

std::string GgufValue::type_name() const {
  if (is_array()) return fmt::format("array of {}", type_name(elem_));
  return std::string(type_name(type_));
}

GgufValue GgufValue::array(std::vector<std::string> values) {
  GgufValue v;
  v.type_ = Type::Array;
  v.elem_ = Type::String;
  v.n_ = values.size();
  v.strings_ = std::move(values);
  return v;
}

GgufValue GgufValue::numeric_array(Type elem, size_t n) {
  if (elem == Type::String || elem == Type::Array)
    fail("GGUF array of {}: not a numeric element type", type_name(elem));
  GgufValue v;
  v.type_ = Type::Array;
  v.elem_ = elem;
  v.n_ = n;
  v.bytes_.assign(n * type_size(elem), 0);
  return v;
}

GgufValue GgufValue::array_from_bytes(Type elem, size_t n, const unsigned char* bytes) {
  GgufValue v = numeric_array(elem, n);
  if (n != 0) std::memcpy(v.bytes_.data(), bytes, v.bytes_.size());
  return v;
}

size_t GgufValue::size() const { return is_array() ? n_ : 1; }

void GgufValue::check_index(size_t i) const {
  if (!is_array()) fail("expected an array, found {}", type_name());
  if (i >= n_) fail("array index {} out of range: the array has {} elements", i, n_);
}

int64_t GgufValue::int_of(Type t, size_t i, const char* want) const {
  auto load = [&](auto zero) {
    decltype(zero) v;
    std::memcpy(&v, bytes_.data() + i * sizeof(v), sizeof(v));
    return v;
  };
  const bool scalar = !is_array();
  switch (t) {
    case Type::U8: return scalar ? int64_t(u_) : int64_t(load(uint8_t()));
    case Type::I8: return scalar ? i_ : int64_t(load(int8_t()));
    case Type::U16: return scalar ? int64_t(u_) : int64_t(load(uint16_t()));
    case Type::I16: return scalar ? i_ : int64_t(load(int16_t()));
    case Type::U32: return scalar ? int64_t(u_) : int64_t(load(uint32_t()));
    case Type::I32: return scalar ? i_ : int64_t(load(int32_t()));
    case Type::I64: return scalar ? i_ : load(int64_t());
    case Type::U64: {
      uint64_t u = scalar ? u_ : load(uint64_t());
      if (u > uint64_t(std::numeric_limits<int64_t>::max()))
        fail("expected {}, found U64 {} (too large for a 64-bit signed integer)", want, u);
      return int64_t(u);
    }
    default: break;
  }
  fail("expected {}, found {}", want, scalar ? type_name() : std::string(type_name(t)));
}

double GgufValue::float_of(Type t, size_t i) const {
  const bool scalar = !is_array();
  if (t == Type::F32) {
    if (scalar) return f_;
    float v;
    std::memcpy(&v, bytes_.data() + i * 4, 4);
    return v;
  }
  if (t == Type::F64) {
    if (scalar) return f_;
    double v;
    std::memcpy(&v, bytes_.data() + i * 8, 8);
    return v;
  }
  if (is_integer(t)) return double(int_of(t, i, "a number"));
  fail("expected a number, found {}", scalar ? type_name() : std::string(type_name(t)));
}

int64_t GgufValue::as_int() const {
  if (is_array()) fail("expected an integer, found {}", type_name());
  return int_of(type_, 0, "an integer");
}

uint64_t GgufValue::as_uint() const {
  if (type_ == Type::U64) return u_;
  const int64_t i = as_int();
  if (i < 0) fail("expected a non-negative integer, found {} {}", type_name(), i);
  return uint64_t(i);
}

double GgufValue::as_float() const {
  if (is_array()) fail("expected a number, found {}", type_name());
  return float_of(type_, 0);
}

bool GgufValue::as_bool() const {
  if (type_ != Type::Bool) fail("expected BOOL, found {}", type_name());
  return u_ != 0;
}

const std::string& GgufValue::as_string() const {
  if (type_ != Type::String) fail("expected STRING, found {}", type_name());
  return strings_[0];
}

int64_t GgufValue::int_at(size_t i) const {
  check_index(i);
  return int_of(elem_, i, "an integer");
}

double GgufValue::float_at(size_t i) const {
  check_index(i);
  return float_of(elem_, i);
}

bool GgufValue::bool_at(size_t i) const {
  check_index(i);
  if (elem_ != Type::Bool) fail("expected BOOL elements, found {}", type_name());
  return bytes_[i] != 0;
}

const std::string& GgufValue::string_at(size_t i) const {
  check_index(i);
  if (elem_ != Type::String) fail("expected STRING elements, found {}", type_name());
  return strings_[i];
}

const std::vector<std::string>& GgufValue::strings() const {
  if (!is_array() || elem_ != Type::String) fail("expected an array of STRING, found {}", type_name());
  return strings_;
}

// ---------------------------------------------------------------------------------------
// ggml type ids

std::string_view ggml_type_name(uint32_t ggml_type) {
  if (ggml_type >= std::size(kGgmlTypeNames)) return {};
  return kGgmlTypeNames[ggml_type];
}

uint32_t gguf_type_of(DType dtype) {
  for (const auto& [dt, id] : kSupported)
    if (dt == dtype) return id;
  fail("dtype {} cannot be stored in a GGUF file (supported: {})", dtype_name(dtype), supported_list());
}

DType dtype_from_gguf_type(uint32_t ggml_type, const std::string& what) {
  for (const auto& [dt, id] : kSupported)
    if (id == ggml_type) return dt;
  std::string_view name = ggml_type_name(ggml_type);
  if (name.empty())
    fail("{} has type {}, which is not a ggml type (supported: {})", what, ggml_type, supported_list());
  fail("{} has type {}, which tessera does not support (supported: {})", what, name, supported_list());
}

// ---------------------------------------------------------------------------------------
// GgufFile

GgufFile GgufFile::open(const std::string& path) {
  GgufFile f;
  f.path_ = path;
  f.file_ = MappedFile::open(path);
  const size_t size = f.file_->size();
  const unsigned char* data = f.file_->data();
  if (size < 4) fail("{}: not a GGUF file: {} bytes, too short for the magic 'GGUF'", path, size);
  if (std::memcmp(data, "GGUF", 4) != 0)
    fail("{}: not a GGUF file: it starts with '{}', expected 'GGUF'", path, printable(data, 4));
  Cursor c(data, size, path);
  c.take(4, "the magic");

  f.version_ = c.read<uint32_t>("the version");
  if (f.version_ == 0) fail("{}: GGUF version 0 is not a version", path);
  if ((f.version_ & 0xFFFFu) == 0)
    fail("{}: GGUF version {:#010x} looks byte-swapped: big-endian GGUF files are not supported", path, f.version_);
  if (f.version_ == 1)
    fail("{}: GGUF version 1 (the 2023 format with 32-bit lengths) is not supported: convert the model again", path);
  if (f.version_ > 3) fail("{}: GGUF version {} is not supported (tessera reads versions 2 and 3)", path, f.version_);

  const uint64_t n_tensors = c.read<uint64_t>("the tensor count");
  const uint64_t n_kv = c.read<uint64_t>("the key/value count");
  // (Nothing is reserved from a count; bounding them first gives the clearer message.)
  if (n_kv > c.left() / kMinKvBytes)
    fail("{}: key/value count {} is impossible: each key/value takes at least {} bytes and {} bytes follow the header",
         path, n_kv, kMinKvBytes, c.left());

  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key = c.read_string(fmt::format("the name of key #{}", i));
    if (key.empty()) fail("{}: key #{} has an empty name", path, i);
    if (f.index_.count(key)) fail("{}: duplicate key '{}' (keys #{} and #{})", path, key, f.index_.at(key), i);
    GgufValue v = read_value(c, path, key);
    f.index_.emplace(key, f.kv_.size());
    f.kv_.emplace_back(std::move(key), std::move(v));
  }

  if (n_tensors > c.left() / kMinTensorInfoBytes)
    fail("{}: tensor count {} is impossible: each tensor info takes at least {} bytes and {} bytes follow the "
         "key/values",
         path, n_tensors, kMinTensorInfoBytes, c.left());

  if (f.has("general.alignment")) {
    const GgufValue& a = f.get("general.alignment");
    if (a.type() != Type::U32)
      fail("{}: key 'general.alignment': expected U32, found {}", path, a.type_name());
    const uint64_t al = a.as_uint();
    if (al == 0 || (al & (al - 1)) != 0)
      fail("{}: key 'general.alignment': {} is not a nonzero power of two", path, al);
    f.alignment_ = size_t(al);
  }

  for (uint64_t i = 0; i < n_tensors; ++i) {
    TensorInfo t;
    t.name = c.read_string(fmt::format("the name of tensor #{}", i));
    if (t.name.size() > kMaxNameBytes)
      fail("{}: tensor #{}: name of {} bytes is longer than ggml's limit of {}", path, i, t.name.size(), kMaxNameBytes);
    if (f.tensor_index_.count(t.name))
      fail("{}: duplicate tensor name '{}' (tensors #{} and #{})", path, t.name, f.tensor_index_.at(t.name), i);
    const std::string what = fmt::format("tensor '{}'", t.name);
    const uint32_t n_dims = c.read<uint32_t>("the dimension count of " + what);
    if (n_dims < 1 || n_dims > kMaxDims)
      fail("{}: {}: {} dimensions, expected 1 to {}", path, what, n_dims, kMaxDims);
    std::vector<int64_t> ne(n_dims);
    for (uint32_t j = 0; j < n_dims; ++j) {
      ne[j] = c.read<int64_t>(fmt::format("dimension {} of {}", j, what));
      if (ne[j] < 0) fail("{}: {}: dimension ne[{}] is {}, expected >= 0", path, what, j, ne[j]);
    }
    int64_t numel = 1;
    for (int64_t d : ne) {
      if (d != 0 && numel > std::numeric_limits<int64_t>::max() / d)
        fail("{}: {}: dimensions (ne) [{}] have more elements than fit in 64 bits", path, what, fmt::join(ne, ", "));
      numel *= d;
    }
    const uint32_t type = c.read<uint32_t>("the type of " + what);
    t.dtype = dtype_from_gguf_type(type, path + ": " + what);
    const int64_t block = dtype_block_elems(t.dtype);
    if (ne[0] % block != 0)
      fail("{}: {} of type {} has {} elements per row (ne[0]), not a multiple of its block size {}", path, what,
           dtype_name(t.dtype), ne[0], block);
    const uint64_t blocks = uint64_t(numel / block);
    if (blocks > std::numeric_limits<size_t>::max() / dtype_block_bytes(t.dtype))
      fail("{}: {}: {} elements of {} need more than 2^64 bytes", path, what, numel, dtype_name(t.dtype));
    t.bytes = size_t(blocks) * dtype_block_bytes(t.dtype);
    t.shape.assign(ne.rbegin(), ne.rend());
    t.offset = size_t(c.read<uint64_t>("the data offset of " + what));  // relative until the data section is known
    f.tensor_index_.emplace(t.name, f.tensors_.size());
    f.tensors_.push_back(std::move(t));
  }

  // The data section starts at the next multiple of the alignment (ggml pads only when the
  // file has tensors).
  f.data_offset_ = f.tensors_.empty() ? c.pos() : pad_to(c.pos(), f.alignment_);
  if (f.data_offset_ > size)
    fail("{}: the data section starts at byte {} (the header padded to the alignment {}), past the end of the file "
         "({} bytes)",
         path, f.data_offset_, f.alignment_, size);
  const size_t data_size = size - f.data_offset_;
  std::vector<std::pair<size_t, size_t>> order;  // (relative offset, tensor index)
  for (size_t i = 0; i < f.tensors_.size(); ++i) {
    TensorInfo& t = f.tensors_[i];
    if (t.offset % f.alignment_ != 0)
      fail("{}: tensor '{}': offset {} is not a multiple of the alignment {}", path, t.name, t.offset, f.alignment_);
    if (t.offset > data_size || t.bytes > data_size - t.offset)
      fail("{}: tensor '{}': offset {} + {} bytes runs past the end of the {}-byte data section", path, t.name,
           t.offset, t.bytes, data_size);
    if (t.bytes != 0) order.emplace_back(t.offset, i);
    t.offset += f.data_offset_;
  }
  std::sort(order.begin(), order.end());
  for (size_t k = 1; k < order.size(); ++k) {
    const TensorInfo& a = f.tensors_[order[k - 1].second];
    const TensorInfo& b = f.tensors_[order[k].second];
    if (b.offset < a.offset + a.bytes)
      fail("{}: tensors '{}' (data bytes {}..{}) and '{}' ({}..{}) overlap", path, a.name, a.offset - f.data_offset_,
           a.offset - f.data_offset_ + a.bytes, b.name, b.offset - f.data_offset_, b.offset - f.data_offset_ + b.bytes);
  }
  return f;
}

std::string GgufFile::where(const std::string& key) const { return fmt::format("{}: key '{}'", path_, key); }

const GgufValue& GgufFile::get(const std::string& key) const {
  auto it = index_.find(key);
  if (it == index_.end()) fail("{}: missing key '{}'", path_, key);
  return kv_[it->second].second;
}

std::vector<std::string> GgufFile::keys() const {
  std::vector<std::string> out;
  out.reserve(kv_.size());
  for (const auto& [k, v] : kv_) out.push_back(k);
  return out;
}

namespace {
// Runs `f` (a GgufValue accessor) and puts the file and key in front of its message.
template <typename F>
auto with_key(const std::string& where, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    throw Error(where + ": " + e.what());
  }
}
}  // namespace

std::string GgufFile::get_string(const std::string& key) const {
  const GgufValue& v = get(key);
  return with_key(where(key), [&] { return v.as_string(); });
}
std::string GgufFile::get_string(const std::string& key, const std::string& fallback) const {
  return has(key) ? get_string(key) : fallback;
}
int64_t GgufFile::get_int(const std::string& key) const {
  const GgufValue& v = get(key);
  return with_key(where(key), [&] { return v.as_int(); });
}
int64_t GgufFile::get_int(const std::string& key, int64_t fallback) const {
  return has(key) ? get_int(key) : fallback;
}
double GgufFile::get_float(const std::string& key) const {
  const GgufValue& v = get(key);
  return with_key(where(key), [&] { return v.as_float(); });
}
double GgufFile::get_float(const std::string& key, double fallback) const {
  return has(key) ? get_float(key) : fallback;
}
bool GgufFile::get_bool(const std::string& key) const {
  const GgufValue& v = get(key);
  return with_key(where(key), [&] { return v.as_bool(); });
}
bool GgufFile::get_bool(const std::string& key, bool fallback) const { return has(key) ? get_bool(key) : fallback; }

std::vector<std::string> GgufFile::get_string_array(const std::string& key) const {
  const GgufValue& v = get(key);
  return with_key(where(key), [&] { return v.strings(); });
}

std::vector<float> GgufFile::get_float_array(const std::string& key) const {
  const GgufValue& v = get(key);
  return with_key(where(key), [&] {
    if (!v.is_array()) fail("expected an array of numbers, found {}", v.type_name());
    std::vector<float> out(v.size());
    for (size_t i = 0; i < out.size(); ++i) out[i] = float(v.float_at(i));
    return out;
  });
}

std::vector<int64_t> GgufFile::get_int_array(const std::string& key) const {
  const GgufValue& v = get(key);
  return with_key(where(key), [&] {
    if (!v.is_array()) fail("expected an array of integers, found {}", v.type_name());
    std::vector<int64_t> out(v.size());
    for (size_t i = 0; i < out.size(); ++i) out[i] = v.int_at(i);
    return out;
  });
}

const GgufFile::TensorInfo& GgufFile::tensor_info(const std::string& name) const {
  auto it = tensor_index_.find(name);
  if (it == tensor_index_.end()) fail("{}: no tensor named '{}'", path_, name);
  return tensors_[it->second];
}

std::vector<std::string> GgufFile::tensor_names() const {
  std::vector<std::string> out;
  out.reserve(tensors_.size());
  for (const auto& t : tensors_) out.push_back(t.name);
  return out;
}

Tensor GgufFile::tensor(const std::string& name) const {
  const TensorInfo& t = tensor_info(name);
  const unsigned char* p = file_->data() + t.offset;
  // Block structs are packed (kernels/quant.hpp); plain elements want their natural alignment,
  // which any general.alignment >= 8 gives. A file with a smaller one gets copies.
  const size_t need = is_quantized(t.dtype) ? 1 : dtype_size(t.dtype);
  if (reinterpret_cast<uintptr_t>(p) % need != 0) {
    Tensor copy = Tensor::zeros(t.dtype, t.shape);
    if (t.bytes != 0) std::memcpy(copy.raw(), p, t.bytes);
    return copy;
  }
  return Tensor::borrow(t.dtype, t.shape, p, file_);
}

void GgufFile::release(const std::string& name) const {
  auto it = tensor_index_.find(name);
  if (it != tensor_index_.end()) file_->release(tensors_[it->second].offset, tensors_[it->second].bytes);
}

// ---------------------------------------------------------------------------------------
// GgufWriter

void GgufWriter::set(const std::string& key, GgufValue value) {
  if (key.empty()) fail("GGUF writer: a key must have a name");
  auto it = index_.find(key);
  if (it != index_.end()) {
    kv_[it->second].second = std::move(value);
    return;
  }
  index_.emplace(key, kv_.size());
  kv_.emplace_back(key, std::move(value));
}

void GgufWriter::add_tensor(const std::string& name, const Tensor& t) {
  if (name.size() > kMaxNameBytes)
    fail("GGUF writer: tensor name '{}' has {} bytes, more than ggml's limit of {}", name, name.size(), kMaxNameBytes);
  if (tensor_index_.count(name)) fail("GGUF writer: tensor '{}' added twice", name);
  gguf_type_of(t.dtype());  // an Error for types GGUF cannot hold
  if (t.rank() < 1 || t.rank() > int(kMaxDims))
    fail("GGUF writer: tensor '{}' has rank {} (shape {}), GGUF holds ranks 1 to {}", name, t.rank(),
         shape_str(t.shape()), kMaxDims);
  if (t.shape().back() % dtype_block_elems(t.dtype()) != 0)
    fail("GGUF writer: tensor '{}' of type {} has rows of {} elements, not a multiple of its block size {}", name,
         dtype_name(t.dtype()), t.shape().back(), dtype_block_elems(t.dtype()));
  if (t.empty() && t.numel() != 0) fail("GGUF writer: tensor '{}' has no data", name);
  tensor_index_.emplace(name, tensors_.size());
  tensors_.emplace_back(name, t);
}

namespace {

class ByteSink {
 public:
  template <typename T>
  void put(T v) {
    const auto* p = reinterpret_cast<const char*>(&v);
    buf_.append(p, sizeof(T));
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    buf_ += s;
  }
  void put_bytes(const void* p, size_t n) { buf_.append(static_cast<const char*>(p), n); }
  void pad(size_t alignment) { buf_.resize(pad_to(buf_.size(), alignment), '\0'); }
  const std::string& str() const { return buf_; }

 private:
  std::string buf_;
};

void put_value(ByteSink& out, const GgufValue& v) {
  out.put<uint32_t>(uint32_t(v.type()));
  if (v.is_array()) {
    out.put<uint32_t>(uint32_t(v.elem_type()));
    out.put<uint64_t>(v.size());
    if (v.elem_type() == Type::String) {
      for (const auto& s : v.strings()) out.put_string(s);
    } else {
      out.put_bytes(v.array_bytes().data(), v.array_bytes().size());
    }
    return;
  }
  switch (v.type()) {
    case Type::U8: out.put<uint8_t>(uint8_t(v.as_int())); break;
    case Type::I8: out.put<int8_t>(int8_t(v.as_int())); break;
    case Type::U16: out.put<uint16_t>(uint16_t(v.as_int())); break;
    case Type::I16: out.put<int16_t>(int16_t(v.as_int())); break;
    case Type::U32: out.put<uint32_t>(uint32_t(v.as_int())); break;
    case Type::I32: out.put<int32_t>(int32_t(v.as_int())); break;
    case Type::I64: out.put<int64_t>(v.as_int()); break;
    case Type::U64: out.put<uint64_t>(v.as_uint()); break;
    case Type::F32: out.put<float>(float(v.as_float())); break;
    case Type::F64: out.put<double>(v.as_float()); break;
    case Type::Bool: out.put<uint8_t>(v.as_bool() ? 1 : 0); break;
    case Type::String: out.put_string(v.as_string()); break;
    case Type::Array: break;
  }
}

}  // namespace

void GgufWriter::write(const std::string& path) const {
  size_t alignment = kDefaultAlignment;
  if (auto it = index_.find("general.alignment"); it != index_.end()) {
    const GgufValue& a = kv_[it->second].second;
    if (a.type() != Type::U32) fail("{}: key 'general.alignment': expected U32, found {}", path, a.type_name());
    const uint64_t al = a.as_uint();
    if (al == 0 || (al & (al - 1)) != 0)
      fail("{}: key 'general.alignment': {} is not a nonzero power of two", path, al);
    alignment = size_t(al);
  }
  ByteSink h;
  h.put_bytes("GGUF", 4);
  h.put<uint32_t>(3);
  h.put<uint64_t>(tensors_.size());
  h.put<uint64_t>(kv_.size());
  for (const auto& [key, value] : kv_) {
    h.put_string(key);
    put_value(h, value);
  }
  size_t offset = 0;
  for (const auto& [name, t] : tensors_) {
    h.put_string(name);
    h.put<uint32_t>(uint32_t(t.rank()));
    for (int j = t.rank() - 1; j >= 0; --j) h.put<int64_t>(t.dim(j));
    h.put<uint32_t>(gguf_type_of(t.dtype()));
    h.put<uint64_t>(offset);
    offset += pad_to(t.nbytes(), alignment);
  }
  if (!tensors_.empty()) h.pad(alignment);

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail("{}: cannot open for writing", path);
  out.write(h.str().data(), std::streamsize(h.str().size()));
  static const char zeros[256] = {};
  for (const auto& [name, t] : tensors_) {
    const size_t n = t.nbytes();
    if (n != 0) out.write(static_cast<const char*>(t.raw()), std::streamsize(n));
    for (size_t padding = pad_to(n, alignment) - n; padding > 0;) {
      const size_t chunk = std::min(padding, sizeof(zeros));
      out.write(zeros, std::streamsize(chunk));
      padding -= chunk;
    }
  }
  if (!out) fail("{}: write failed", path);
}

bool is_gguf_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::memcmp(magic, "GGUF", 4) == 0;
}

}  // namespace tessera
