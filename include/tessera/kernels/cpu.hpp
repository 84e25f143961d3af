// CPU feature detection and the ISA the kernels dispatch to. Chosen once at start-up from
// CPUID; TESSERA_ISA=scalar|avx2|avx512 forces a path (never one the CPU lacks).
#pragma once

#include <string_view>

namespace tessera::kernels {

enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2 };

std::string_view isa_name(Isa isa);
// The best ISA this CPU supports (AVX2 means AVX2+FMA+F16C; AVX-512 means F+BW+VL+DQ).
Isa detected_isa();
// The ISA in use now.
Isa active_isa();
// Switch the dispatch table (tests use it to run every path). Throws tessera::Error if the
// CPU lacks `isa`. Not thread-safe against kernels running at the same time.
void set_isa(Isa isa);

}  // namespace tessera::kernels
