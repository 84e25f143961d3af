// AVX2+FMA+F16C element-wise kernels and attention: elementwise_impl.inc and
// attention_impl.inc compiled over the AVX2 vocabulary (avx2_vec.hpp). Built with -mavx2
// -mfma -mf16c; helpers stay in an anonymous namespace and only the table's plain function
// pointers leave this TU (see DESIGN.md, "Lessons").
#include <cmath>
#include <cstdint>
#include <cstring>

#include "avx2_vec.hpp"

namespace tessera::kernels::avx2 {
namespace {

#include "../elementwise_impl.inc"

// Attention's register tile: 2 rows x 4 ymm = 8 accumulators (16 registers in all: the
// four loaded vectors and a broadcast fit beside them).
constexpr int kAttRows = 2;
#include "simd_attention.inc"

}  // namespace

KernelTable make_table() {
  KernelTable t{};
  fill_gemm(t);
  fill_quant(t);
  fill_elementwise(t);
  t.attention_block = attention_block;
  t.attention_merge = attention_merge;
  return t;
}

}  // namespace tessera::kernels::avx2
