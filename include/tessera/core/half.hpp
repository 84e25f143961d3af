// IEEE binary16 and bfloat16 <-> float conversions, bit-exact with PyTorch's
// (round-to-nearest-even on the way down, exact on the way up).
#pragma once

#include <cstdint>
#include <cstring>

namespace tessera {

inline float bf16_to_f32(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline uint16_t f32_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return uint16_t((bits >> 16) | 0x40);  // quiet NaN
  uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return uint16_t((bits + rounding) >> 16);
}

inline float f16_to_f32(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t man = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      int e = -1;
      do {
        ++e;
        man <<= 1;
      } while ((man & 0x400u) == 0);
      bits = sign | uint32_t(127 - 15 - e) << 23 | (man & 0x3ffu) << 13;
    }
  } else if (exp == 31) {  // inf, or NaN made quiet as F16C's vcvtph2ps and ggml do
    bits = sign | 0x7f800000u | (man != 0 ? man | 0x200u : 0u) << 13;
  } else {
    bits = sign | (exp + 127 - 15) << 23 | man << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Giesen's float_to_half_fast3_rtne: the subnormal case lets the FPU do the rounding.
inline uint16_t f32_to_f16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = x & 0x80000000u;
  x ^= sign;
  uint16_t out;
  if (x >= 0x47800000u) {  // overflow to inf, or NaN
    out = x > 0x7f800000u ? 0x7e00 : 0x7c00;
  } else if (x < 0x38800000u) {  // subnormal or zero
    const uint32_t magic_bits = 126u << 23;
    float magic, v;
    std::memcpy(&magic, &magic_bits, 4);
    std::memcpy(&v, &x, 4);
    v += magic;
    uint32_t vb;
    std::memcpy(&vb, &v, 4);
    out = uint16_t(vb - magic_bits);
  } else {
    uint32_t mant_odd = (x >> 13) & 1u;
    x += (uint32_t(15 - 127) << 23) + 0xfffu + mant_odd;
    out = uint16_t(x >> 13);
  }
  return uint16_t(out | (sign >> 16));
}

}  // namespace tessera
