// The public kernel entry points: argument checks, the threading plan for gemm, and a jump
// through the dispatch table. Built with baseline flags; the ISA code lives elsewhere.
#include "tessera/kernels/kernels.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include <sys/mman.h>

#include "dispatch.hpp"
#include "tessera/core/error.hpp"
#include "tessera/core/parallel.hpp"

namespace tessera::kernels {

// Storage for packed panels (float and quantized), 64-byte aligned and zeroed. Large buffers get their own anonymous
// mapping so that freeing one (fused projections replace their parts at load) hands the pages
// straight back to the system instead of leaving holes in the malloc heap. Those of 2 MiB and
// more are aligned to 2 MiB and asked for transparent huge pages: decode streams every weight
// once per token, and with 4 KiB pages it takes a TLB walk every 4 KiB of that stream
// (measured: decode +1% f32, +3% f16 at 1 thread, alternating A/B). Where THP is off or
// set to "never" the advice is ignored.
std::shared_ptr<void> alloc_panels(size_t bytes) {
  bytes = std::max<size_t>(bytes, 64);
  constexpr size_t kOwnMapping = size_t(1) << 20, kHuge = size_t(2) << 20;
  if (bytes >= kOwnMapping) {
    const size_t pad = bytes >= kHuge ? kHuge : 0, len = bytes + pad;
    void* mem = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    TESSERA_CHECK(mem != MAP_FAILED, "kernels: out of memory for {} bytes of weight panels", bytes);
    auto* base = static_cast<unsigned char*>(mem);
    unsigned char* start = base;
    if (pad) {
      start = base + (kHuge - reinterpret_cast<uintptr_t>(base) % kHuge) % kHuge;
#ifdef MADV_HUGEPAGE  // Linux only
      madvise(start, bytes, MADV_HUGEPAGE);  // advice only: failure leaves 4 KiB pages
#endif
    }
    // The deleter unmaps the whole mapping; the pointer handed out is the aligned start.
    return std::shared_ptr<void>(start, [base, len](void*) { munmap(base, len); });  // pages come zeroed
  }
  void* mem = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  TESSERA_CHECK(mem != nullptr, "kernels: out of memory for {} bytes of weight panels", bytes);
  std::memset(mem, 0, bytes);
  return std::shared_ptr<void>(mem, [](void* q) { std::free(q); });
}

namespace {

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};

// Packing buffers live per thread and are kept between calls, so the token loop does not
// allocate once they have grown to the largest shape. Slot 1 is a second buffer for a caller
// that also runs jobs using slot 0 (the split attention's slice states); it grows by half
// again each time, since a growing context asks for a little more every few hundred tokens.
float* thread_scratch(size_t floats, int slot = 0) {
  thread_local std::unique_ptr<float, FreeDeleter> buf[2];
  thread_local size_t cap[2] = {0, 0};
  if (cap[slot] < floats) {
    if (slot > 0) floats += floats / 2;
    size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    buf[slot].reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
    TESSERA_CHECK(buf[slot] != nullptr, "kernels: out of memory for a {}-byte scratch buffer", bytes);
    cap[slot] = floats;
  }
  return buf[slot].get();
}

bool is_weight_type(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

// Below this many multiply-adds a call is not worth waking the pool.
constexpr int64_t kMinParallelWork = int64_t(1) << 16;

}  // namespace

namespace {
// K = 0: the product is zero, so Y is the bias (plus Y when accumulating).
void empty_product(int64_t m, int64_t n, float* y, int64_t ldy, const float* bias, bool accumulate) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const float v = accumulate ? y[i * ldy + j] : 0.0f;
      y[i * ldy + j] = bias ? v + bias[j] : v;
    }
}
}  // namespace

PackedWeight PackedWeight::concat(const std::vector<const PackedWeight*>& parts) {
  TESSERA_CHECK(!parts.empty(), "PackedWeight::concat: no parts");
  PackedWeight p;
  p.type_ = parts[0]->type_;
  p.k_ = parts[0]->k_;
  for (size_t i = 0; i < parts.size(); ++i) {
    const PackedWeight& q = *parts[i];
    TESSERA_CHECK(!q.empty() && q.type_ == p.type_ && q.k_ == p.k_,
                  "PackedWeight::concat: part {} is empty or differs in dtype/K ({} K={} vs {} K={})", i,
                  dtype_name(q.type_), q.k_, dtype_name(p.type_), p.k_);
    TESSERA_CHECK(i + 1 == parts.size() || q.n_ % kPanel == 0,
                  "PackedWeight::concat: part {} has N={}, not a multiple of {}", i, q.n_, kPanel);
    p.n_ += q.n_;
  }
  p.data_ = alloc_panels(p.bytes());
  auto* dst = static_cast<unsigned char*>(p.data_.get());
  for (const PackedWeight* q : parts) {
    std::memcpy(dst, q->data(), q->bytes());
    dst += q->bytes();
  }
  return p;
}

PackedWeight PackedWeight::pack(const void* w, DType type, int64_t n, int64_t k) {
  TESSERA_CHECK(is_weight_type(type), "PackedWeight: weights must be F32, F16 or BF16, got {}", dtype_name(type));
  TESSERA_CHECK(n >= 0 && k >= 0, "PackedWeight: negative size N={} K={}", n, k);
  PackedWeight p;
  p.type_ = type;
  p.n_ = n;
  p.k_ = k;
  p.data_ = alloc_panels(p.bytes());
  void* mem = p.data_.get();
  const size_t es = dtype_size(type);
  TESSERA_CHECK(w != nullptr || n * k == 0, "PackedWeight: null weights");
  // dst[panel][kk][j] = W[panel*32 + j][kk]; 32 rows are read side by side, each sequentially.
  const int64_t panels = p.panels();
  parallel_for(panels, [&](int64_t b, int64_t e) {
    for (int64_t q = b; q < e; ++q) {
      const int64_t rows = std::min<int64_t>(kPanel, n - q * kPanel);
      auto* dst = static_cast<unsigned char*>(mem) + size_t(q * kPanel * k) * es;
      const auto* src = static_cast<const unsigned char*>(w) + size_t(q * kPanel * k) * es;
      if (es == 4) {
        auto* d = reinterpret_cast<float*>(dst);
        const auto* s = reinterpret_cast<const float*>(src);
        for (int64_t kk = 0; kk < k; ++kk)
          for (int64_t j = 0; j < rows; ++j) d[kk * kPanel + j] = s[j * k + kk];
      } else {
        auto* d = reinterpret_cast<uint16_t*>(dst);
        const auto* s = reinterpret_cast<const uint16_t*>(src);
        for (int64_t kk = 0; kk < k; ++kk)
          for (int64_t j = 0; j < rows; ++j) d[kk * kPanel + j] = s[j * k + kk];
      }
    }
  });
  return p;
}

namespace {

// Rows [m0, m1) x panels [q0, q1) of a packed gemm. K is cut into kc blocks (the panel slice
// stays in L1 while every row tile of the A block passes over it), M into mc blocks (the
// packed A block stays in L2). Tiles that stick out of Y (last rows, last panel) run on a
// local 32-wide buffer, so the register tile itself never masks.
void packed_block(const KernelTable& t, const float* x, int64_t ldx, const PackedWeight& w, float* y, int64_t ldy,
                  const float* bias, bool accumulate, int64_t m0, int64_t m1, int64_t q0, int64_t q1, bool decode) {
  // TESSERA_PACKED_KC / TESSERA_PACKED_MC override the blocking (tuning experiments only).
  static const int64_t kc_env = std::getenv("TESSERA_PACKED_KC") ? std::atoll(std::getenv("TESSERA_PACKED_KC")) : 0;
  static const int64_t mc_env = std::getenv("TESSERA_PACKED_MC") ? std::atoll(std::getenv("TESSERA_PACKED_MC")) : 0;
  const int64_t k = w.k(), n = w.n(), mr = t.packed_mr;
  // Decode streams each panel whole (no K blocks: x is tiny, the panel is one sequential read).
  const int64_t kcb = decode ? k : kc_env > 0 ? kc_env : t.packed_kc;
  const int64_t mcb = mr * std::max<int64_t>(1, (mc_env > 0 ? mc_env : 336) / mr);
  const size_t es = dtype_size(w.dtype());
  const int64_t acap = std::min(mcb, (m1 - m0 + mr - 1) / mr * mr) * std::min(kcb, k);  // packed A block
  float* ap = thread_scratch(size_t(acap + 32 * mr + 32));
  float* edge = ap + acap;             // [mr][32]
  float* ebias = edge + 32 * mr;       // [32]
  const auto* wb = static_cast<const unsigned char*>(w.data());
  for (int64_t pc = 0; pc < k; pc += kcb) {
    const int64_t kc = std::min(kcb, k - pc);
    const bool load_c = pc > 0 || accumulate, last = pc + kc == k;
    for (int64_t ic = m0; ic < m1; ic += mcb) {
      const int64_t mc = std::min(mcb, m1 - ic);
      // Ap[tile][kk][mr] <- X rows; rows past mc stay unread by the tile (rows <= mc - tile).
      for (int64_t ir = 0; ir < mc; ir += mr) {
        const int64_t rows = std::min(mr, mc - ir);
        float* dst = ap + ir * kc;
        if (t.pack_a && !decode) {  // decode: a row or four, the plain copy is cheaper than transposes
          t.pack_a(x + (ic + ir) * ldx + pc, ldx, rows, kc, dst);
          continue;
        }
        for (int64_t r = 0; r < rows; ++r) {
          const float* src = x + (ic + ir) * ldx + r * ldx + pc;
          for (int64_t kk = 0; kk < kc; ++kk) dst[kk * mr + r] = src[kk];
        }
      }
      for (int64_t q = q0; q < q1; ++q) {
        const int64_t j0 = q * PackedWeight::kPanel, cols = std::min<int64_t>(32, n - j0);
        const void* bp = wb + size_t(q * 32 * k + pc * 32) * es;
        const float* bs = nullptr;
        if (last && bias) {
          if (cols == 32) {
            bs = bias + j0;
          } else {
            std::fill(ebias, ebias + 32, 0.0f);
            std::copy(bias + j0, bias + j0 + cols, ebias);
            bs = ebias;
          }
        }
        for (int64_t ir = 0; ir < mc; ir += mr) {
          const int64_t rows = std::min(mr, mc - ir);
          float* c = y + (ic + ir) * ldy + j0;
          if (!decode) {
            // The next tile's C rows (the next panel's first tile after the last): a tile
            // computes for ~1 µs, long enough to bring them in from L3 or DRAM, which it
            // would otherwise wait for at its first load (K blocks after the first) or
            // at its stores.
            const int64_t nr = ir + mr < mc ? ir + mr : 0, nj = ir + mr < mc ? j0 : j0 + 32;
            if (nj < n)
              for (int64_t r = 0; r < std::min(mr, mc - nr); ++r) {
                const float* nc = y + (ic + nr + r) * ldy + nj;
                __builtin_prefetch(nc, 1, 3);
                __builtin_prefetch(nc + 16, 1, 3);
                __builtin_prefetch(nc + 31, 1, 3);
              }
          }
          float* cc = c;
          int64_t ldc = ldy;
          if (cols < 32) {
            if (load_c)
              for (int64_t r = 0; r < rows; ++r) std::copy(c + r * ldy, c + r * ldy + cols, edge + r * 32);
            cc = edge;
            ldc = 32;
          }
          if (decode)
            t.packed_gemv(rows, kc, ap + ir * kc, bp, w.dtype(), cc, ldc, load_c, bs);
          else
            t.packed_tile(rows, kc, ap + ir * kc, bp, w.dtype(), cc, ldc, load_c, bs);
          if (cols < 32) {
            for (int64_t r = 0; r < rows; ++r) std::copy(edge + r * 32, edge + r * 32 + cols, c + r * ldy);
          }
        }
      }
    }
  }
}

}  // namespace

void gemm_packed(const float* x, int64_t m, int64_t ldx, const PackedWeight& w, float* y, int64_t ldy,
                 const float* bias, bool accumulate) {
  const int64_t k = w.k(), n = w.n();
  TESSERA_CHECK(m >= 0, "gemm_packed: negative M={}", m);
  if (m == 0 || n == 0) return;
  TESSERA_CHECK(!w.empty() || k == 0, "gemm_packed: empty PackedWeight");
  TESSERA_CHECK(ldy >= n, "gemm_packed: ldy={} is smaller than N={}", ldy, n);
  TESSERA_CHECK(y != nullptr, "gemm_packed: null output");
  if (k == 0) return empty_product(m, n, y, ldy, bias, accumulate);
  TESSERA_CHECK(ldx >= k, "gemm_packed: ldx={} is smaller than K={}", ldx, k);
  TESSERA_CHECK(x != nullptr, "gemm_packed: null input");
  const KernelTable& t = table();
  const int64_t panels = w.panels();
  const int threads = m * n * k < kMinParallelWork ? 1 : num_threads();
  // M <= 4 with a decode tile: whole-K calls with split chains. Decided from M alone, so
  // every thread count takes the same path (and the decode split below is over panels only).
  const bool decode = t.packed_gemv != nullptr && m <= 4;
  auto run = [&](int64_t m0, int64_t m1, int64_t q0, int64_t q1) {
    packed_block(t, x, ldx, w, y, ldy, bias, accumulate, m0, m1, q0, q1, decode);
  };
  if (threads == 1) return run(0, m, 0, panels);
  // Split the panels (each thread streams its own part of W) unless there are too few of
  // them to share evenly; then split the rows.
  if (panels >= 4 * threads || m < 2 * t.packed_mr * threads) {
    parallel_for(panels, [&](int64_t b, int64_t e) { run(0, m, b, e); }, 1);
  } else {
    parallel_for(m, [&](int64_t b, int64_t e) { run(b, e, 0, panels); }, t.packed_mr);
  }
}

void attention(const AttentionArgs& a) {
  TESSERA_CHECK(a.heads > 0 && a.kv_heads > 0 && a.head_dim > 0 && a.heads % a.kv_heads == 0,
                "attention: bad head layout heads={} kv_heads={} head_dim={}", a.heads, a.kv_heads, a.head_dim);
  TESSERA_CHECK(is_kv_type(a.kv_type), "attention: keys/values of dtype {} are not supported (F32, F16, BF16, Q8_0)",
                dtype_name(a.kv_type));
  TESSERA_CHECK(a.n_keys <= 0 || a.kv_stride >= a.kv_heads * kv_head_bytes(a.kv_type, a.head_dim),
                "attention: key/value rows of {} bytes are shorter than {} heads of {}", a.kv_stride, a.kv_heads,
                kv_head_bytes(a.kv_type, a.head_dim));
  // The kernels read f32 / 16-bit values (and q8_0's f16 scales) in place: rows must keep
  // their element alignment, as a KvCache's do.
  const int64_t align = a.kv_type == DType::F32 ? 4 : 2;
  TESSERA_CHECK(a.kv_stride % align == 0 && reinterpret_cast<uintptr_t>(a.k) % uintptr_t(align) == 0 &&
                    reinterpret_cast<uintptr_t>(a.v) % uintptr_t(align) == 0,
                "attention: {} key/value rows must be {}-byte aligned (stride {} bytes)", dtype_name(a.kv_type), align,
                a.kv_stride);
  if (a.m <= 0) return;
  const KernelTable& t = table();
  const int64_t group = a.heads / a.kv_heads;
  // Query rows per job: each job transposes every K tile it reads, so more rows share that
  // cost (64 units instead of 16: attention_block's profile share fell by a fifth); a
  // 512-token prompt still makes 8 jobs per head.
  const int64_t rows_per = std::max<int64_t>(1, 64 / group);
  const int64_t blocks = (a.m + rows_per - 1) / rows_per;
  const int64_t jobs = a.kv_heads * blocks;
  const int64_t slices = std::max<int64_t>(1, (a.n_keys + kAttentionSlice - 1) / kAttentionSlice);
  const size_t scratch_floats = attention_scratch_floats(a, rows_per);
  const int64_t work = a.m * a.heads * std::max<int64_t>(a.n_keys, 1) * a.head_dim;
  const int threads = work < kMinParallelWork ? 1 : num_threads();
  if (threads > 1 && slices > 1 && jobs < 4 * threads) {
    // Too few (kv head, row block) jobs to keep the threads busy (decode steps: one row):
    // every slice of keys becomes a job of its own (flash-decoding), and the stored slice
    // states are folded in slice order afterwards, exactly as one job would have folded them.
    const int64_t part_floats = attention_part_floats(a, rows_per);
    float* parts = thread_scratch(size_t(jobs * slices * part_floats), 1);
    parallel_for(jobs * slices, [&](int64_t b, int64_t e) {
      float* scratch = thread_scratch(scratch_floats);
      for (int64_t job = b; job < e; ++job) {
        const int64_t j = job / slices, sl = job % slices, g = j / blocks, i0 = (j % blocks) * rows_per;
        t.attention_block(a, g, i0, std::min(a.m, i0 + rows_per), sl, sl + 1, parts + job * part_floats, part_floats,
                          scratch);
      }
    }, 1);
    parallel_for(jobs, [&](int64_t b, int64_t e) {
      float* scratch = thread_scratch(scratch_floats);
      for (int64_t j = b; j < e; ++j) {
        const int64_t g = j / blocks, i0 = (j % blocks) * rows_per;
        t.attention_merge(a, g, i0, std::min(a.m, i0 + rows_per), parts + j * slices * part_floats, slices,
                          part_floats, scratch);
      }
    }, 1);
    return;
  }
  auto body = [&](int64_t b, int64_t e) {
    float* scratch = thread_scratch(scratch_floats);
    for (int64_t job = b; job < e; ++job) {
      const int64_t g = job / blocks, i0 = (job % blocks) * rows_per;
      t.attention_block(a, g, i0, std::min(a.m, i0 + rows_per), 0, slices, nullptr, 0, scratch);
    }
  };
  if (threads == 1) return body(0, jobs);
  parallel_for(jobs, body, 1);
}

float dot(const float* a, const float* b, int64_t n) {
  if (n <= 0) return 0.0f;
  return table().dot(a, b, n);
}

void axpy(float a, const float* x, float* y, int64_t n) {
  if (n > 0) table().axpy(a, x, y, n);
}

void softmax(float* x, int64_t n) {
  if (n > 0) table().softmax(x, n);
}

void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps) {
  if (n > 0) table().rms_norm(x, w, y, n, eps);
}

void layer_norm(const float* x, const float* g, const float* b, float* y, int64_t n, float eps) {
  if (n > 0) table().layer_norm(x, g, b, y, n, eps);
}

void activate(Activation act, float* x, int64_t n) {
  if (n > 0 && act != Activation::Identity) table().activate(act, x, n);
}

void activate_mul(Activation act, float* x, const float* y, int64_t n) {
  if (n > 0) table().activate_mul(act, x, y, n);
}

void silu(float* x, int64_t n) { activate(Activation::Silu, x, n); }
void gelu(float* x, int64_t n) { activate(Activation::Gelu, x, n); }
void gelu_tanh(float* x, int64_t n) { activate(Activation::GeluTanh, x, n); }
void relu(float* x, int64_t n) { activate(Activation::Relu, x, n); }

void to_f32(const void* src, DType type, float* dst, int64_t n) {
  TESSERA_CHECK(is_weight_type(type), "to_f32: cannot convert {} to F32", dtype_name(type));
  if (n > 0) table().to_f32(src, type, dst, n);
}

}  // namespace tessera::kernels
