// AVX-512 element-wise kernels and attention: elementwise_impl.inc and attention_impl.inc
// compiled over the AVX-512 vocabulary (avx512_vec.hpp). Built with -mavx512*; every helper
// stays in an anonymous namespace and only the table's plain function pointers leave this TU
// (see DESIGN.md, "Lessons").
// GCC 12's AVX-512 headers trip -W(maybe-)uninitialized on their own _mm512_undefined_ps
// (GCC PR 105593, fixed in 13); the warning is about the header, not this code.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <cmath>
#include <cstdint>
#include <cstring>

#include "avx512_vec.hpp"

namespace tessera::kernels::avx512 {
namespace {

#include "../elementwise_impl.inc"

// Attention's register tile: 4 rows x 4 zmm = 16 accumulators (of 32 registers).
constexpr int kAttRows = 4;
#include "simd_attention.inc"

}  // namespace

KernelTable make_table() {
  KernelTable t{};
  fill_gemm(t);
  // The quantized GEMM: the AVX2 kernels with VNNI's dot products where the CPU has them.
  if (cpu_has_avx512_vnni()) fill_quant(t);
  else avx2::fill_quant(t);
  fill_elementwise(t);
  t.attention_block = attention_block;
  t.attention_merge = attention_merge;
  return t;
}

}  // namespace tessera::kernels::avx512
