// CPU feature detection and the dispatch table. The table is picked once (CPUID, or the
// TESSERA_ISA override) and then only read; set_isa exists so tests can run every path.
#include "tessera/kernels/cpu.hpp"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "dispatch.hpp"
#include "tessera/core/error.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace tessera::kernels {
namespace {

#if defined(__x86_64__) || defined(__i386__)
// The OS must save the wider registers on context switch, or using them corrupts state:
// CPUID says what the core can do, XCR0 says what the OS enabled.
uint64_t read_xcr0() {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t(hi) << 32) | lo;
}

Isa detect() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return Isa::Scalar;
  const bool osxsave = c & (1u << 27), avx = c & (1u << 28), fma = c & (1u << 12),
             f16c = c & (1u << 29);
  if (!osxsave || !avx || !fma || !f16c) return Isa::Scalar;
  const uint64_t xcr0 = read_xcr0();
  if ((xcr0 & 0x6) != 0x6) return Isa::Scalar;  // XMM and YMM state
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return Isa::Scalar;
  const bool avx2 = b & (1u << 5);
  if (!avx2) return Isa::Scalar;
  const bool f = b & (1u << 16), dq = b & (1u << 17), bw = b & (1u << 30), vl = b & (1u << 31);
  const bool zmm_state = (xcr0 & 0xe0) == 0xe0;  // opmask, ZMM0-15 upper halves, ZMM16-31
  if (f && dq && bw && vl && zmm_state) return Isa::Avx512;
  return Isa::Avx2;
}
bool vnni() {
  unsigned a, b, c, d;
  return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (c & (1u << 11)) && detect() == Isa::Avx512;
}
#else
Isa detect() { return Isa::Scalar; }
bool vnni() { return false; }
#endif

KernelTable make(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return avx512::make_table();
    case Isa::Avx2: return avx2::make_table();
    case Isa::Scalar: break;
  }
  return scalar::make_table();
}

struct State {
  Isa detected;
  KernelTable tables[3];
  std::atomic<int> active;

  State() : detected(detect()) {
    for (int i = 0; i <= int(detected); ++i) tables[i] = make(Isa(i));
    Isa chosen = detected;
    if (const char* env = std::getenv("TESSERA_ISA"); env && *env) {
      const std::string s(env);
      if (s == "scalar") chosen = Isa::Scalar;
      else if (s == "avx2") chosen = Isa::Avx2;
      else if (s == "avx512") chosen = Isa::Avx512;
      else fail("TESSERA_ISA='{}' is not one of scalar, avx2, avx512", s);
      TESSERA_CHECK(int(chosen) <= int(detected),
                    "TESSERA_ISA={} asks for an ISA this CPU lacks (it supports up to {})", s,
                    isa_name(detected));
    }
    active.store(int(chosen), std::memory_order_relaxed);
  }
};

State& state() {
  static State s;
  return s;
}

}  // namespace

bool cpu_has_avx512_vnni() {
  static const bool v = vnni();
  return v;
}

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
  }
  return "?";
}

Isa detected_isa() { return state().detected; }

Isa active_isa() { return Isa(state().active.load(std::memory_order_relaxed)); }

void set_isa(Isa isa) {
  State& s = state();
  TESSERA_CHECK(int(isa) >= 0 && int(isa) <= 2, "unknown ISA {}", int(isa));
  TESSERA_CHECK(int(isa) <= int(s.detected), "this CPU does not support {} (it supports up to {})",
                isa_name(isa), isa_name(s.detected));
  s.active.store(int(isa), std::memory_order_relaxed);
}

const KernelTable& table() {
  State& s = state();
  return s.tables[s.active.load(std::memory_order_relaxed)];
}

}  // namespace tessera::kernels
