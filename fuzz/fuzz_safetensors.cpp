// safetensors reader: any bytes give a file (every tensor readable in bounds) or an Error.
#include <cstring>

#include "fuzz_util.hpp"
#include "tessera/io/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tessera::fuzz::MemFile file(data, size);
  try {
    auto f = tessera::SafetensorsFile::open(file.path());
    for (const auto& name : f.names()) {
      tessera::Tensor t = f.get(name);
      // Touch every byte: a tensor that reaches past the mapping faults here.
      const auto* p = static_cast<const unsigned char*>(t.raw());
      unsigned sum = 0;
      for (size_t i = 0; i < t.nbytes(); ++i) sum += p[i];
      if (t.nbytes() != size_t(t.numel()) * tessera::dtype_size(t.dtype())) __builtin_trap();
      (void)sum;
    }
  } catch (const tessera::Error&) {
  }
  return 0;
}
