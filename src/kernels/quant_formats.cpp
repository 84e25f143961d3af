// ggml's block formats, element by element: dequantize_row and the reference quantizers
// (quantize_row) for Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K Q4_K Q5_K Q6_K Q8_K and F32/F16/BF16.
//
// This is load-time and reference code, written for clarity, not speed. It must be BIT-identical
// with ggml (ggml-quants.c: dequantize_row_*, quantize_row_*_ref), so every float expression below
// keeps ggml's operand order and types exactly: `a * l * l` is (a*float(l))*float(l), an int
// multiplier converts to float before the multiply, and nothing may be fused into an FMA or
// reassociated (contraction is switched off below; -ffast-math would still break the match, and
// tests/quant_formats_test.cpp would say so).
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "tessera/core/error.hpp"
#include "tessera/core/half.hpp"
#include "tessera/kernels/quant.hpp"

// No fused multiply-add, whatever flags the library is built with (-march=native turns on FMA
// and both GCC and Clang then contract a*b+c by default): ggml-base's reference code is compiled
// without FMA, and one fused rounding changes the bits.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace tessera::kernels {
namespace {

using namespace blocks;

// ggml treats a group whose largest magnitude is below this as all zero.
constexpr float kGroupMaxEps = 1e-15f;

// half.hpp's f16 -> f32 quiets a signalling NaN, as ggml's conversion does.
float f16_value(uint16_t h) { return f16_to_f32(h); }

// Round to nearest (ties to even) by adding 1.5 * 2^23 and reading the mantissa: exactly
// ggml's nearest_int, valid for |x| < 2^22 (every caller stays far inside that).
int nearest_int(float x) {
  const float biased = x + 12582912.0f;
  int32_t bits;
  std::memcpy(&bits, &biased, sizeof(bits));
  return (bits & 0x007fffff) - 0x00400000;
}

// The signed 6-bit scale of sub-block j (0..15) of a Q3_K super-block: low nibble from byte j
// (j < 8) or the high nibble of byte j-8, top two bits from byte 8 + j%4 at bit 2*(j/4).
int q3k_scale(int j, const uint8_t* s) {
  const int low = j < 8 ? (s[j] & 0x0f) : (s[j - 8] >> 4);
  const int high = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
  return (low | (high << 4)) - 32;
}

// ---------------------------------------------------------------------------------------------
// Scale searches (ggml's make_*_quants), restricted to the variants the reference quantizers use.

// The value of largest magnitude in x[0..n) (the first one on ties), with its sign.
float signed_absmax(const float* x, int n) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  return max;
}

// Symmetric quantization of x[0..n) to L in [0, 2*nmax) (value l - nmax) with an x^2-weighted
// least-squares scale, trying 18 perturbed inverse scales around -nmax/max (ggml's
// make_qx_quants with rmse_type 1 and no importance weights, as quantize_row_q6_K_ref calls it).
float symmetric_scale_search(int n, int nmax, const float* x, int8_t* L) {
  const float max = signed_absmax(x, n);
  if (std::fabs(max) < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.0f;
  }
  float iscale = float(-nmax) / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = std::max(-nmax, std::min(nmax - 1, nearest_int(iscale * x[i])));
    L[i] = int8_t(l + nmax);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * float(l);
    suml2 += w * float(l) * float(l);
  }
  float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int step = -9; step <= 9; ++step) {
    if (step == 0) continue;
    iscale = -(float(nmax) + 0.1f * float(step)) / max;
    sumlx = suml2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::max(-nmax, std::min(nmax - 1, nearest_int(iscale * x[i])));
      const float w = x[i] * x[i];
      sumlx += w * x[i] * float(l);
      suml2 += w * float(l) * float(l);
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i) {
        const int l = std::max(-nmax, std::min(nmax - 1, nearest_int(iscale * x[i])));
        L[i] = int8_t(l + nmax);
      }
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

// Q3_K's symmetric search (ggml's make_q3_quants with do_rmse): start from -nmax/max, then up to
// five coordinate-descent passes that move one L[i] at a time when that raises the x^2-weighted
// fit sumlx^2 / suml2. L ends in [0, 2*nmax).
float q3_scale_search(int n, int nmax, const float* x, int8_t* L) {
  const float max = signed_absmax(x, n);
  if (std::fabs(max) < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.0f;
  }
  const float iscale = float(-nmax) / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = std::max(-nmax, std::min(nmax - 1, nearest_int(iscale * x[i])));
    L[i] = int8_t(l);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * float(l);
    suml2 += w * float(l) * float(l);
  }
  for (int pass = 0; pass < 5; ++pass) {
    int changed = 0;
    for (int i = 0; i < n; ++i) {
      const float w = x[i] * x[i];
      float slx = sumlx - w * x[i] * float(L[i]);
      if (slx > 0) {
        float sl2 = suml2 - w * float(L[i]) * float(L[i]);
        int nl = nearest_int(x[i] * sl2 / slx);
        nl = std::max(-nmax, std::min(nmax - 1, nl));
        if (nl != L[i]) {
          slx += w * x[i] * float(nl);
          sl2 += w * float(nl) * float(nl);
          if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
            L[i] = int8_t(nl);
            sumlx = slx;
            suml2 = sl2;
            ++changed;
          }
        }
      }
    }
    if (changed == 0) break;
  }
  for (int i = 0; i < n; ++i) L[i] = int8_t(L[i] + nmax);
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

// Asymmetric quantization x ≈ scale * L - min_out with L in [0, nmax] (ggml's make_qkx2_quants):
// start from the [min(x,0), max(x)] range, then try nstep+1 inverse scales
// (rmin + rdelta*step + nmax) / range, each followed by the weighted least-squares (scale, min)
// for those L, keeping the one with the lowest weighted error (|diff| when use_mad, else diff^2).
// *min_out is returned as a non-negative offset (ggml's the_min = -min).
float asymmetric_scale_search(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* min_out,
                              float rmin, float rdelta, int nstep, bool use_mad) {
  uint8_t trial[32];
  float min = x[0], max = x[0];
  float sum_w = weights[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    sum_w += weights[i];
    sum_x += weights[i] * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    *min_out = -min;
    return 0.0f;
  }
  float iscale = float(nmax) / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    const int l = nearest_int(iscale * (x[i] - min));
    L[i] = uint8_t(std::max(0, std::min(nmax, l)));
    float diff = scale * float(L[i]) + min - x[i];
    diff = use_mad ? std::fabs(diff) : diff * diff;
    best_error += weights[i] * diff;
  }
  if (nstep < 1) {
    *min_out = -min;
    return scale;
  }
  for (int step = 0; step <= nstep; ++step) {
    iscale = (rmin + rdelta * float(step) + float(nmax)) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::max(0, std::min(nmax, nearest_int(iscale * (x[i] - min))));
      trial[i] = uint8_t(l);
      const float w = weights[i];
      sum_l += w * float(l);
      sum_l2 += w * float(l) * float(l);
      sum_xl += w * float(l) * x[i];
    }
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (det > 0) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
      if (this_min > 0) {
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      float error = 0;
      for (int i = 0; i < n; ++i) {
        float diff = this_scale * float(trial[i]) + this_min - x[i];
        diff = use_mad ? std::fabs(diff) : diff * diff;
        error += weights[i] * diff;
      }
      if (error < best_error) {
        for (int i = 0; i < n; ++i) L[i] = trial[i];
        best_error = error;
        scale = this_scale;
        min = this_min;
      }
    }
  }
  *min_out = -min;
  return scale;
}

// ---------------------------------------------------------------------------------------------
// Legacy 32-element blocks.

void quantize_q4_0(const float* x, Q4_0* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK) {
    const float d = signed_absmax(x, kQK) / -8.0f;  // the extreme maps to -8, the open end
    const float id = d != 0 ? 1.0f / d : 0.0f;
    y[i].d = f32_to_f16(d);
    for (int j = 0; j < kQK / 2; ++j) {
      // +8.5 then truncation rounds half up within [0, 16]; 16 folds to 15.
      const int q0 = std::min(15, int(int8_t(x[j] * id + 8.5f)));
      const int q1 = std::min(15, int(int8_t(x[j + kQK / 2] * id + 8.5f)));
      y[i].qs[j] = uint8_t(q0 | (q1 << 4));
    }
  }
}

void quantize_q4_1(const float* x, Q4_1* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < kQK; ++j) {
      if (x[j] < min) min = x[j];
      if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / 15.0f;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    y[i].d = f32_to_f16(d);
    y[i].m = f32_to_f16(min);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = std::min(15, int(int8_t((x[j] - min) * id + 0.5f)));
      const int q1 = std::min(15, int(int8_t((x[j + kQK / 2] - min) * id + 0.5f)));
      y[i].qs[j] = uint8_t(q0 | (q1 << 4));
    }
  }
}

void quantize_q5_0(const float* x, Q5_0* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK) {
    const float d = signed_absmax(x, kQK) / -16.0f;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    y[i].d = f32_to_f16(d);
    uint32_t high = 0;  // bit 4 of element j, as bit j
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = std::min(31, int(int8_t(x[j] * id + 16.5f)));
      const int q1 = std::min(31, int(int8_t(x[j + kQK / 2] * id + 16.5f)));
      y[i].qs[j] = uint8_t((q0 & 0x0f) | ((q1 & 0x0f) << 4));
      high |= uint32_t(q0 >> 4) << j;
      high |= uint32_t(q1 >> 4) << (j + kQK / 2);
    }
    std::memcpy(y[i].qh, &high, 4);  // little endian, as ggml stores it
  }
}

void quantize_q5_1(const float* x, Q5_1* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < kQK; ++j) {
      if (x[j] < min) min = x[j];
      if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / 31.0f;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    y[i].d = f32_to_f16(d);
    y[i].m = f32_to_f16(min);
    uint32_t high = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = uint8_t((x[j] - min) * id + 0.5f);  // never above 31: no clamp in ggml either
      const int q1 = uint8_t((x[j + kQK / 2] - min) * id + 0.5f);
      y[i].qs[j] = uint8_t((q0 & 0x0f) | ((q1 & 0x0f) << 4));
      high |= uint32_t((q0 >> 4) & 1) << j;
      high |= uint32_t((q1 >> 4) & 1) << (j + kQK / 2);
    }
    std::memcpy(y[i].qh, &high, 4);
  }
}

void quantize_q8_0(const float* x, Q8_0* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK) {
    float amax = 0;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    y[i].d = f32_to_f16(d);
    for (int j = 0; j < kQK; ++j) y[i].qs[j] = int8_t(std::round(x[j] * id));  // half away from zero
  }
}

void dequantize_q4_0(const Q4_0* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const float d = f16_to_f32(x[i].d);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = float((x[i].qs[j] & 0x0f) - 8) * d;
      y[j + kQK / 2] = float((x[i].qs[j] >> 4) - 8) * d;
    }
  }
}

void dequantize_q4_1(const Q4_1* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const float d = f16_to_f32(x[i].d), m = f16_to_f32(x[i].m);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = float(x[i].qs[j] & 0x0f) * d + m;
      y[j + kQK / 2] = float(x[i].qs[j] >> 4) * d + m;
    }
  }
}

void dequantize_q5_0(const Q5_0* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const float d = f16_to_f32(x[i].d);
    uint32_t high;
    std::memcpy(&high, x[i].qh, 4);
    for (int j = 0; j < kQK / 2; ++j) {
      const int h0 = int((high >> j) & 1) << 4, h1 = int((high >> (j + kQK / 2)) & 1) << 4;
      y[j] = float(((x[i].qs[j] & 0x0f) | h0) - 16) * d;
      y[j + kQK / 2] = float(((x[i].qs[j] >> 4) | h1) - 16) * d;
    }
  }
}

void dequantize_q5_1(const Q5_1* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const float d = f16_to_f32(x[i].d), m = f16_to_f32(x[i].m);
    uint32_t high;
    std::memcpy(&high, x[i].qh, 4);
    for (int j = 0; j < kQK / 2; ++j) {
      const int h0 = int((high >> j) & 1) << 4, h1 = int((high >> (j + kQK / 2)) & 1) << 4;
      y[j] = float((x[i].qs[j] & 0x0f) | h0) * d + m;
      y[j + kQK / 2] = float((x[i].qs[j] >> 4) | h1) * d + m;
    }
  }
}

void dequantize_q8_0(const Q8_0* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const float d = f16_to_f32(x[i].d);
    for (int j = 0; j < kQK; ++j) y[j] = float(x[i].qs[j]) * d;
  }
}

// ---------------------------------------------------------------------------------------------
// K-quants: 256-element super-blocks of 16 or 32-element sub-blocks with quantized scales.

// Q2_K/Q3_K pack four 2-bit planes: byte l of each 32-byte group of qs holds elements l, l+32,
// l+64, l+96 of the 128-element half, at bits 0, 2, 4, 6.
void pack_2bit(const uint8_t* L, uint8_t* qs) {
  for (int half = 0; half < kQKK; half += 128) {
    for (int l = 0; l < 32; ++l) {
      qs[half / 4 + l] = uint8_t(L[half + l] | (L[half + l + 32] << 2) | (L[half + l + 64] << 4) |
                                 (L[half + l + 96] << 6));
    }
  }
}

void quantize_q2_k(const float* x, Q2_K* y, int64_t nb) {
  uint8_t L[kQKK];
  float weights[16], scales[kQKK / 16], mins[kQKK / 16];
  const float q4scale = 15.0f;  // sub-block scales and mins are 4-bit
  for (int64_t i = 0; i < nb; ++i, x += kQKK) {
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < kQKK / 16; ++j) {
      for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
      scales[j] = asymmetric_scale_search(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], -0.5f, 0.1f, 15, true);
      if (scales[j] > max_scale) max_scale = scales[j];
      if (mins[j] > max_min) max_min = mins[j];
    }
    if (max_scale > 0) {
      const float iscale = q4scale / max_scale;
      for (int j = 0; j < kQKK / 16; ++j) y[i].scales[j] = uint8_t(nearest_int(iscale * scales[j]));
      y[i].d = f32_to_f16(max_scale / q4scale);
    } else {
      for (int j = 0; j < kQKK / 16; ++j) y[i].scales[j] = 0;
      y[i].d = f32_to_f16(0.0f);
    }
    if (max_min > 0) {
      const float iscale = q4scale / max_min;
      for (int j = 0; j < kQKK / 16; ++j) y[i].scales[j] |= uint8_t(nearest_int(iscale * mins[j]) << 4);
      y[i].dmin = f32_to_f16(max_min / q4scale);
    } else {
      y[i].dmin = f32_to_f16(0.0f);
    }
    // Requantize against the scales as stored (f16 d times 4-bit multiplier).
    for (int j = 0; j < kQKK / 16; ++j) {
      const float d = f16_to_f32(y[i].d) * float(y[i].scales[j] & 0x0f);
      if (d == 0) continue;
      const float dm = f16_to_f32(y[i].dmin) * float(y[i].scales[j] >> 4);
      for (int l = 0; l < 16; ++l) {
        L[16 * j + l] = uint8_t(std::max(0, std::min(3, nearest_int((x[16 * j + l] + dm) / d))));
      }
    }
    pack_2bit(L, y[i].qs);
  }
}

void quantize_q3_k(const float* x, Q3_K* y, int64_t nb) {
  int8_t L[kQKK];
  float scales[kQKK / 16];
  for (int64_t i = 0; i < nb; ++i, x += kQKK) {
    float max_scale = 0, amax = 0;  // the scale of largest magnitude, signed
    for (int j = 0; j < kQKK / 16; ++j) {
      scales[j] = q3_scale_search(16, 4, x + 16 * j, L + 16 * j);
      if (std::fabs(scales[j]) > amax) {
        amax = std::fabs(scales[j]);
        max_scale = scales[j];
      }
    }
    std::memset(y[i].scales, 0, sizeof(y[i].scales));
    if (max_scale != 0) {
      const float iscale = -32.0f / max_scale;
      for (int j = 0; j < kQKK / 16; ++j) {
        const int8_t raw = int8_t(nearest_int(iscale * scales[j]));
        const int l = std::max<int>(-32, std::min<int>(31, raw)) + 32;  // 6 bits
        if (j < 8) {
          y[i].scales[j] = uint8_t(l & 0x0f);
        } else {
          y[i].scales[j - 8] |= uint8_t((l & 0x0f) << 4);
        }
        y[i].scales[8 + j % 4] |= uint8_t((l >> 4) << (2 * (j / 4)));
      }
      y[i].d = f32_to_f16(1 / iscale);
    } else {
      y[i].d = f32_to_f16(0.0f);
    }
    for (int j = 0; j < kQKK / 16; ++j) {
      const float d = f16_to_f32(y[i].d) * float(int8_t(q3k_scale(j, y[i].scales)));
      if (d == 0) continue;
      for (int l = 0; l < 16; ++l) {
        L[16 * j + l] = int8_t(std::max(-4, std::min(3, nearest_int(x[16 * j + l] / d))) + 4);
      }
    }
    // Bit 2 of each 3-bit value goes to hmask: element j sets bit j/32 of byte j%32.
    std::memset(y[i].hmask, 0, sizeof(y[i].hmask));
    uint8_t low[kQKK];
    for (int j = 0; j < kQKK; ++j) {
      if (L[j] > 3) y[i].hmask[j % 32] |= uint8_t(1u << (j / 32));
      low[j] = uint8_t(L[j] > 3 ? L[j] - 4 : L[j]);
    }
    pack_2bit(low, y[i].qs);
  }
}

// Q4_K/Q5_K: eight 32-element sub-blocks, 6-bit scales and mins against f16 d and dmin.
// Returns the per-element levels L (0..nmax) after requantizing against the stored scales.
template <typename Block>
void quantize_k4_scales(const float* x, Block& b, uint8_t* L, int nmax, float rmin, int nstep) {
  float weights[32], scales[kQKK / 32], mins[kQKK / 32];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < kQKK / 32; ++j) {
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(x[32 * j + l]);
    scales[j] = asymmetric_scale_search(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], rmin, 0.1f, nstep, false);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
  const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
  for (int j = 0; j < kQKK / 32; ++j) {
    const uint8_t ls = std::min<uint8_t>(63, uint8_t(nearest_int(inv_scale * scales[j])));
    const uint8_t lm = std::min<uint8_t>(63, uint8_t(nearest_int(inv_min * mins[j])));
    if (j < 4) {
      b.scales[j] = ls;
      b.scales[j + 4] = lm;
    } else {
      b.scales[j + 4] = uint8_t((ls & 0x0f) | ((lm & 0x0f) << 4));
      b.scales[j - 4] |= uint8_t((ls >> 4) << 6);
      b.scales[j] |= uint8_t((lm >> 4) << 6);
    }
  }
  b.d = f32_to_f16(max_scale / 63.0f);
  b.dmin = f32_to_f16(max_min / 63.0f);
  for (int j = 0; j < kQKK / 32; ++j) {
    uint8_t sc, m;
    k4_scale_min(j, b.scales, &sc, &m);
    const float d = f16_to_f32(b.d) * float(sc);
    if (d == 0) continue;
    const float dm = f16_to_f32(b.dmin) * float(m);
    for (int l = 0; l < 32; ++l) {
      L[32 * j + l] = uint8_t(std::max(0, std::min(nmax, nearest_int((x[32 * j + l] + dm) / d))));
    }
  }
}

void quantize_q4_k(const float* x, Q4_K* y, int64_t nb) {
  uint8_t L[kQKK];
  for (int64_t i = 0; i < nb; ++i, x += kQKK) {
    quantize_k4_scales(x, y[i], L, 15, -1.0f, 20);
    // Each 64-element chunk: 32 bytes, low nibble element l, high nibble element l+32.
    for (int c = 0; c < kQKK / 64; ++c) {
      for (int l = 0; l < 32; ++l) y[i].qs[32 * c + l] = uint8_t(L[64 * c + l] | (L[64 * c + l + 32] << 4));
    }
  }
}

void quantize_q5_k(const float* x, Q5_K* y, int64_t nb) {
  uint8_t L[kQKK];
  for (int64_t i = 0; i < nb; ++i, x += kQKK) {
    quantize_k4_scales(x, y[i], L, 31, -0.5f, 15);
    // Low nibbles as Q4_K; bit 4 of element 64c+l goes to qh[l] bit 2c, of 64c+32+l to bit 2c+1.
    std::memset(y[i].qh, 0, sizeof(y[i].qh));
    for (int c = 0; c < kQKK / 64; ++c) {
      for (int l = 0; l < 32; ++l) {
        const int a = L[64 * c + l], b = L[64 * c + l + 32];
        y[i].qh[l] |= uint8_t(((a >> 4) << (2 * c)) | ((b >> 4) << (2 * c + 1)));
        y[i].qs[32 * c + l] = uint8_t((a & 0x0f) | ((b & 0x0f) << 4));
      }
    }
  }
}

void quantize_q6_k(const float* x, Q6_K* y, int64_t nb) {
  int8_t L[kQKK];
  float scales[kQKK / 16];
  for (int64_t i = 0; i < nb; ++i, x += kQKK) {
    float max_scale = 0, max_abs_scale = 0;
    for (int j = 0; j < kQKK / 16; ++j) {
      scales[j] = symmetric_scale_search(16, 32, x + 16 * j, L + 16 * j);
      if (std::fabs(scales[j]) > max_abs_scale) {
        max_abs_scale = std::fabs(scales[j]);
        max_scale = scales[j];
      }
    }
    if (max_abs_scale < kGroupMaxEps) {
      std::memset(&y[i], 0, sizeof(y[i]));
      continue;
    }
    const float iscale = -128.0f / max_scale;
    y[i].d = f32_to_f16(1 / iscale);
    for (int j = 0; j < kQKK / 16; ++j) y[i].scales[j] = int8_t(std::min(127, nearest_int(iscale * scales[j])));
    for (int j = 0; j < kQKK / 16; ++j) {
      const float d = f16_to_f32(y[i].d) * float(y[i].scales[j]);
      if (d == 0) continue;
      for (int l = 0; l < 16; ++l) {
        L[16 * j + l] = int8_t(std::max(-32, std::min(31, nearest_int(x[16 * j + l] / d))) + 32);
      }
    }
    // Per 128-element half: ql byte l holds elements l (low) and l+64 (high), byte l+32 holds
    // l+32 and l+96; qh byte l holds the top two bits of l, l+32, l+64, l+96 at bits 0, 2, 4, 6.
    for (int h = 0; h < 2; ++h) {
      const int8_t* q = L + 128 * h;
      uint8_t* ql = y[i].ql + 64 * h;
      uint8_t* qh = y[i].qh + 32 * h;
      for (int l = 0; l < 32; ++l) {
        ql[l] = uint8_t((q[l] & 0x0f) | ((q[l + 64] & 0x0f) << 4));
        ql[l + 32] = uint8_t((q[l + 32] & 0x0f) | ((q[l + 96] & 0x0f) << 4));
        qh[l] = uint8_t((q[l] >> 4) | ((q[l + 32] >> 4) << 2) | ((q[l + 64] >> 4) << 4) | ((q[l + 96] >> 4) << 6));
      }
    }
  }
}

void quantize_q8_k(const float* x, Q8_K* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQKK) {
    const float max = signed_absmax(x, kQKK);
    if (max == 0) {
      // ggml leaves bsums unwritten here; zeros are what they would sum to.
      std::memset(&y[i], 0, sizeof(y[i]));
      continue;
    }
    const float iscale = -127.0f / max;
    for (int j = 0; j < kQKK; ++j) y[i].qs[j] = int8_t(std::min(127, nearest_int(iscale * x[j])));
    for (int g = 0; g < kQKK / 16; ++g) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += y[i].qs[16 * g + l];
      y[i].bsums[g] = int16_t(sum);
    }
    y[i].d = 1 / iscale;
  }
}

void dequantize_q2_k(const Q2_K* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQKK) {
    const float d = f16_to_f32(x[i].d), dmin = f16_to_f32(x[i].dmin);
    for (int e = 0; e < kQKK; ++e) {
      // Element e: half e/128, bit plane (e%128)/32 of byte e%32 in that half's 32 bytes;
      // sub-block e/16 owns scale byte e/16.
      const int q = (x[i].qs[(e / 128) * 32 + e % 32] >> (2 * ((e % 128) / 32))) & 3;
      const uint8_t sc = x[i].scales[e / 16];
      const float dl = d * float(sc & 0x0f), ml = dmin * float(sc >> 4);
      y[e] = dl * float(q) - ml;
    }
  }
}

void dequantize_q3_k(const Q3_K* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQKK) {
    const float d = f16_to_f32(x[i].d);
    for (int e = 0; e < kQKK; ++e) {
      const int low = (x[i].qs[(e / 128) * 32 + e % 32] >> (2 * ((e % 128) / 32))) & 3;
      const bool high = (x[i].hmask[e % 32] >> (e / 32)) & 1;  // set: value is low, clear: low - 4
      const float dl = d * float(q3k_scale(e / 16, x[i].scales));
      y[e] = dl * float(low - (high ? 0 : 4));
    }
  }
}

void dequantize_q4_k(const Q4_K* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQKK) {
    const float d = f16_to_f32(x[i].d), dmin = f16_to_f32(x[i].dmin);
    for (int e = 0; e < kQKK; ++e) {
      const int sub = e / 32;  // 64-element chunk e/64: low nibbles first, then high nibbles
      const uint8_t byte = x[i].qs[(e / 64) * 32 + e % 32];
      const int q = sub % 2 == 0 ? (byte & 0x0f) : (byte >> 4);
      uint8_t sc, m;
      k4_scale_min(sub, x[i].scales, &sc, &m);
      y[e] = (d * float(sc)) * float(q) - dmin * float(m);
    }
  }
}

void dequantize_q5_k(const Q5_K* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQKK) {
    const float d = f16_to_f32(x[i].d), dmin = f16_to_f32(x[i].dmin);
    for (int e = 0; e < kQKK; ++e) {
      const int sub = e / 32;
      const uint8_t byte = x[i].qs[(e / 64) * 32 + e % 32];
      const int low = sub % 2 == 0 ? (byte & 0x0f) : (byte >> 4);
      const int high = (x[i].qh[e % 32] >> sub) & 1;
      uint8_t sc, m;
      k4_scale_min(sub, x[i].scales, &sc, &m);
      y[e] = (d * float(sc)) * float(low + 16 * high) - dmin * float(m);
    }
  }
}

void dequantize_q6_k(const Q6_K* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQKK) {
    const float d = f16_to_f32(x[i].d);
    for (int e = 0; e < kQKK; ++e) {
      const int h = e / 128, r = e % 128, l = r % 32, quarter = r / 32;  // quarter 0..3 of the half
      const uint8_t lbyte = x[i].ql[64 * h + l + 32 * (quarter % 2)];
      const int low = quarter < 2 ? (lbyte & 0x0f) : (lbyte >> 4);
      const int high = (x[i].qh[32 * h + l] >> (2 * quarter)) & 3;
      const int q = (low | (high << 4)) - 32;
      y[e] = d * float(x[i].scales[e / 16]) * float(q);
    }
  }
}

void dequantize_q8_k(const Q8_K* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQKK) {
    for (int j = 0; j < kQKK; ++j) y[j] = x[i].d * float(x[i].qs[j]);
  }
}

// Number of blocks in n elements of `type`; fails for n not a whole number of blocks.
int64_t block_count(DType type, int64_t n, const char* what) {
  const int64_t be = dtype_block_elems(type);
  if (n < 0 || n % be != 0) {
    fail("{}: {} row of {} elements is not a whole number of {}-element blocks", what, dtype_name(type), n, be);
  }
  return n / be;
}

}  // namespace

void dequantize_row(DType type, const void* src, float* dst, int64_t n) {
  if (!is_float(type) && !is_quantized(type)) fail("dequantize_row: unsupported type {}", dtype_name(type));
  const int64_t nb = block_count(type, n, "dequantize_row");
  switch (type) {
    case DType::F32: std::memcpy(dst, src, size_t(n) * sizeof(float)); return;
    case DType::F16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = f16_value(s[i]);
      return;
    }
    case DType::BF16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(s[i]);
      return;
    }
    case DType::Q4_0: dequantize_q4_0(static_cast<const Q4_0*>(src), dst, nb); return;
    case DType::Q4_1: dequantize_q4_1(static_cast<const Q4_1*>(src), dst, nb); return;
    case DType::Q5_0: dequantize_q5_0(static_cast<const Q5_0*>(src), dst, nb); return;
    case DType::Q5_1: dequantize_q5_1(static_cast<const Q5_1*>(src), dst, nb); return;
    case DType::Q8_0: dequantize_q8_0(static_cast<const Q8_0*>(src), dst, nb); return;
    case DType::Q2_K: dequantize_q2_k(static_cast<const Q2_K*>(src), dst, nb); return;
    case DType::Q3_K: dequantize_q3_k(static_cast<const Q3_K*>(src), dst, nb); return;
    case DType::Q4_K: dequantize_q4_k(static_cast<const Q4_K*>(src), dst, nb); return;
    case DType::Q5_K: dequantize_q5_k(static_cast<const Q5_K*>(src), dst, nb); return;
    case DType::Q6_K: dequantize_q6_k(static_cast<const Q6_K*>(src), dst, nb); return;
    case DType::Q8_K: dequantize_q8_k(static_cast<const Q8_K*>(src), dst, nb); return;
    default: break;
  }
  fail("dequantize_row: unsupported type {}", dtype_name(type));
}

void quantize_row(DType type, const float* src, void* dst, int64_t n) {
  if (!is_float(type) && !is_quantized(type)) fail("quantize_row: unsupported type {}", dtype_name(type));
  const int64_t nb = block_count(type, n, "quantize_row");
  switch (type) {
    case DType::F32: std::memcpy(dst, src, size_t(n) * sizeof(float)); return;
    case DType::F16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = f32_to_f16(src[i]);
      return;
    }
    case DType::BF16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = f32_to_bf16(src[i]);
      return;
    }
    case DType::Q4_0: quantize_q4_0(src, static_cast<Q4_0*>(dst), nb); return;
    case DType::Q4_1: quantize_q4_1(src, static_cast<Q4_1*>(dst), nb); return;
    case DType::Q5_0: quantize_q5_0(src, static_cast<Q5_0*>(dst), nb); return;
    case DType::Q5_1: quantize_q5_1(src, static_cast<Q5_1*>(dst), nb); return;
    case DType::Q8_0: quantize_q8_0(src, static_cast<Q8_0*>(dst), nb); return;
    case DType::Q2_K: quantize_q2_k(src, static_cast<Q2_K*>(dst), nb); return;
    case DType::Q3_K: quantize_q3_k(src, static_cast<Q3_K*>(dst), nb); return;
    case DType::Q4_K: quantize_q4_k(src, static_cast<Q4_K*>(dst), nb); return;
    case DType::Q5_K: quantize_q5_k(src, static_cast<Q5_K*>(dst), nb); return;
    case DType::Q6_K: quantize_q6_k(src, static_cast<Q6_K*>(dst), nb); return;
    case DType::Q8_K: quantize_q8_k(src, static_cast<Q8_K*>(dst), nb); return;
    default: break;
  }
  fail("quantize_row: unsupported type {}", dtype_name(type));
}

namespace blocks {
// j < 4 sit in the low 6 bits of bytes j and j+4; j >= 4 keep their low nibbles in byte j+4
// and their top two bits in the spare top bits of bytes j-4 (scale) and j (min).
void k4_scale_min(int j, const uint8_t* s, uint8_t* scale, uint8_t* min) {
  if (j < 4) {
    *scale = s[j] & 63;
    *min = s[j + 4] & 63;
  } else {
    *scale = uint8_t((s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4));
    *min = uint8_t((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
  }
}
}  // namespace blocks

}  // namespace tessera::kernels
