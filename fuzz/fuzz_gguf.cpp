// GGUF reader: any bytes give a file (every value readable, every tensor in bounds) or an Error;
// a file that opens goes on through the model translation and the tokenizer metadata, which
// either load or give an Error.
#include <cstring>

#include "fuzz_util.hpp"
#include "tessera/io/gguf.hpp"
#include "tessera/models/load.hpp"
#include "tessera/text/tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tessera::fuzz::MemFile file(data, size);
  try {
    auto f = tessera::GgufFile::open(file.path());
    // Every value through every accessor: wrong types are Errors, never reads out of range.
    for (const auto& key : f.keys()) {
      const tessera::GgufValue& v = f.get(key);
      try { (void)f.get_int(key); } catch (const tessera::Error&) {}
      try { (void)f.get_float(key); } catch (const tessera::Error&) {}
      try { (void)f.get_bool(key); } catch (const tessera::Error&) {}
      try { (void)f.get_string(key); } catch (const tessera::Error&) {}
      try { (void)f.get_int_array(key); } catch (const tessera::Error&) {}
      try { (void)f.get_float_array(key); } catch (const tessera::Error&) {}
      if (v.is_array() && v.elem_type() == tessera::GgufValue::Type::String) {
        size_t total = 0;
        for (const auto& s : v.strings()) total += s.size();
        if (total > size) __builtin_trap();  // strings are copies of bytes the file holds
      }
      if (v.is_array() && v.array_bytes().size() != v.size() * tessera::GgufValue::type_size(v.elem_type()) &&
          v.elem_type() != tessera::GgufValue::Type::String)
        __builtin_trap();
    }
    for (const auto& name : f.tensor_names()) {
      const auto& info = f.tensor_info(name);
      if (info.offset < f.data_offset() || info.offset > size || info.bytes > size - info.offset) __builtin_trap();
      tessera::Tensor t = f.tensor(name);
      // Touch every byte: a tensor that reaches past the mapping faults here.
      const auto* p = static_cast<const unsigned char*>(t.raw());
      unsigned sum = 0;
      for (size_t i = 0; i < t.nbytes(); ++i) sum += p[i];
      if (t.nbytes() != info.bytes) __builtin_trap();
      (void)sum;
    }
    try {
      (void)tessera::load_gguf(file.path());
    } catch (const tessera::Error&) {
    }
    try {
      auto tok = tessera::Tokenizer::from_file(file.path());
      (void)tok.encode("def f(x):\n    return x + 1  # ünï", false);
    } catch (const tessera::Error&) {
    }
  } catch (const tessera::Error&) {
  }
  return 0;
}
