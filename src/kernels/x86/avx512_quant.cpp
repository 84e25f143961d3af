// The quantized GEMM for AVX-512 machines with VNNI (AVX512_VNNI + VL): avx2_quant.cpp
// compiled again with vpdpbusd / vpdpwssd for its integer dot products (see there). Built with
// -mavx512vnni on top of the AVX-512 flags; chosen at run time only when CPUID reports VNNI.
#define TESSERA_QUANT_VNNI 1
#include "avx2_quant.cpp"
