/* quant_vectors.c — writes tests/data/quant/vectors.bin, the independent reference for
 * tests/quant_formats_test.cpp: ggml's own reference quantizers (quantize_row_*_ref, the
 * code `llama-quantize` runs when there is no importance matrix) and dequantizers
 * (dequantize_row_*), run on fixed inputs. This program is NOT part of the tessera build: it
 * links llama.cpp's ggml-base, built outside the repo, e.g.
 *
 *   cmake -S <ggml-wrapper> -B /work/peers/ggml-build -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF \
 *         -DBUILD_SHARED_LIBS=OFF && cmake --build /work/peers/ggml-build --target ggml-base
 *   (the wrapper is a two-line CMakeLists.txt doing add_subdirectory(/work/peers/llama.cpp/ggml ggml),
 *    because llama.cpp's copy of ggml lacks the files ggml's standalone build wants)
 *
 * and then, from the repository root (one line):
 *
 *   cc -O2 -std=gnu11 -I/work/peers/llama.cpp/ggml/include -I/work/peers/llama.cpp/ggml/src tools/peers/quant_vectors.c /work/peers/ggml-build/ggml/src/libggml-base.a -lstdc++ -lm -lpthread -fopenmp -o /tmp/quant_vectors && /tmp/quant_vectors tests/data/quant/vectors.bin tests/data/quant/bulk_hashes.txt
 *
 * ggml-base is compiled without FMA (GGML_NATIVE=OFF), so its float arithmetic is the plain
 * IEEE single-precision sequence of the C source, which tessera's scalar code must match bit for bit.
 *
 * File layout (little endian):
 *   "TQV1", u32 rows, u32 cols, f32 inputs[rows*cols]            -- the quantizer inputs
 *   u32 extra_rows, f32 extra[extra_rows*cols]                   -- more inputs, bytes only
 *   u32 n_entries, then per entry:
 *     char name[8] (tessera DType name, NUL padded), u32 kind, u32 rows, u32 cols, u32 row_bytes,
 *     kind 2 only: f32 src[rows*cols]                             -- the entry's own inputs
 *     u8 bytes[rows*row_bytes], f32 dequant[rows*cols] (kind 3: no dequant)
 *   kind 0: bytes = ggml quantizing the global inputs row by row; dequant = ggml dequantizing bytes.
 *   kind 1: bytes = arbitrary blocks (random bits, scale fields set to finite values);
 *           dequant = ggml dequantizing them (covers encodings the quantizer never writes).
 *   kind 2: like kind 0 but on the entry's own inputs (special floats: NaN, inf, subnormals).
 *   kind 3: bytes = ggml quantizing the extra inputs (weight-like rows: many more scale searches
 *           to catch rounding-order slips that the few rows above would miss); no dequant, to
 *           keep the file small.
 *
 * With a second argument it also writes BULK.txt: for each block type, 64-bit FNV-1a hashes of
 * ggml's bytes and dequantized floats for BULK_ROWS x BULK_COLS inputs that the test regenerates
 * itself (bulk_row below: integer PRNG and exact float operations only, no libm, so C and C++
 * produce the same floats). A million values per type catch rounding-order slips that show up
 * once in tens of thousands of blocks. Lines F16_ALL_PATTERNS / BF16_ALL_PATTERNS hash every
 * 16-bit pattern (bytes) and ggml's f32 values for them (floats).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ggml.h"
#include "ggml-quants.h"

enum { ROWS = 8, COLS = 512, RANDOM_ROWS = 2, EXTRA_ROWS = 64 };

typedef void (*quantize_fn)(const float *, void *, int64_t);
typedef void (*dequantize_fn)(const void *, float *, int64_t);

/* One row of a format: which tessera name, ggml's functions, the block geometry, and where
 * the f16 scale fields sit inside a block (so random blocks get finite scales). */
struct format {
    const char * name;
    quantize_fn quantize;
    dequantize_fn dequantize;
    int block_elems, block_bytes;
    int f16_offsets[2];  /* -1: none */
    int f32_offset;      /* Q8_K's float d, -1: none */
};

static void f32_copy(const float * x, void * y, int64_t n) { memcpy(y, x, (size_t)n * 4); }
static void f32_copy_back(const void * x, float * y, int64_t n) { memcpy(y, x, (size_t)n * 4); }

#define Q(fn) ((quantize_fn)(fn))
#define DQ(fn) ((dequantize_fn)(fn))

static const struct format formats[] = {
    {"F32",  f32_copy,                      f32_copy_back,                 1,   4,   {-1, -1},   -1},
    {"F16",  Q(ggml_fp32_to_fp16_row),      DQ(ggml_fp16_to_fp32_row),     1,   2,   {-1, -1},   -1},
    {"BF16", Q(ggml_fp32_to_bf16_row_ref),  DQ(ggml_bf16_to_fp32_row),     1,   2,   {-1, -1},   -1},
    {"Q4_0", Q(quantize_row_q4_0_ref),      DQ(dequantize_row_q4_0),       32,  sizeof(block_q4_0), {0, -1}, -1},
    {"Q4_1", Q(quantize_row_q4_1_ref),      DQ(dequantize_row_q4_1),       32,  sizeof(block_q4_1), {0, 2},  -1},
    {"Q5_0", Q(quantize_row_q5_0_ref),      DQ(dequantize_row_q5_0),       32,  sizeof(block_q5_0), {0, -1}, -1},
    {"Q5_1", Q(quantize_row_q5_1_ref),      DQ(dequantize_row_q5_1),       32,  sizeof(block_q5_1), {0, 2},  -1},
    {"Q8_0", Q(quantize_row_q8_0_ref),      DQ(dequantize_row_q8_0),       32,  sizeof(block_q8_0), {0, -1}, -1},
    {"Q2_K", Q(quantize_row_q2_K_ref),      DQ(dequantize_row_q2_K),       256, sizeof(block_q2_K),
        {offsetof(block_q2_K, d), offsetof(block_q2_K, dmin)}, -1},
    {"Q3_K", Q(quantize_row_q3_K_ref),      DQ(dequantize_row_q3_K),       256, sizeof(block_q3_K),
        {offsetof(block_q3_K, d), -1}, -1},
    {"Q4_K", Q(quantize_row_q4_K_ref),      DQ(dequantize_row_q4_K),       256, sizeof(block_q4_K),
        {offsetof(block_q4_K, d), offsetof(block_q4_K, dmin)}, -1},
    {"Q5_K", Q(quantize_row_q5_K_ref),      DQ(dequantize_row_q5_K),       256, sizeof(block_q5_K),
        {offsetof(block_q5_K, d), offsetof(block_q5_K, dmin)}, -1},
    {"Q6_K", Q(quantize_row_q6_K_ref),      DQ(dequantize_row_q6_K),       256, sizeof(block_q6_K),
        {offsetof(block_q6_K, d), -1}, -1},
    {"Q8_K", Q(quantize_row_q8_K_ref),      DQ(dequantize_row_q8_K),       256, sizeof(block_q8_K),
        {-1, -1}, offsetof(block_q8_K, d)},
};
enum { N_FORMATS = sizeof(formats) / sizeof(formats[0]) };

/* splitmix64: a fixed, portable stream (the generated numbers are stored, not re-derived). */
static uint64_t rng_state = 0x7e55e7a0ddba11ULL;
static uint64_t next_u64(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static double uniform01(void) { return (double)(next_u64() >> 11) * (1.0 / 9007199254740992.0); }
static double normal(void) {
    double u1 = uniform01(), u2 = uniform01();
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static void make_inputs(float * x) {
    for (int c = 0; c < COLS; ++c) {
        float * r = x + c;
        r[0 * COLS] = (float)normal();                                          /* normal */
        r[1 * COLS] = (float)(2.0 * uniform01() - 1.0);                          /* uniform */
        r[2 * COLS] = (float)(0.02 * normal() * (c % 37 == 5 ? 50.0 : 1.0));     /* weights with outliers */
        r[3 * COLS] = 0.0f;                                                      /* all zero */
        r[4 * COLS] = (float)(normal() * (c < 256 ? 1e-17 : 1e-6));              /* below ggml's eps; f16-subnormal scales */
        r[5 * COLS] = (float)(0.01 * normal());                                  /* one huge value (below) */
        r[6 * COLS] = (float)(0.5 + 1.5 * uniform01());                          /* positive only: min > 0 paths */
        r[7 * COLS] = (float)((c % 17) - 8) * 0.5f * (c % 64 < 32 ? 1.0f : 0.125f); /* exact ties */
    }
    x[5 * COLS + 100] = 30000.0f;
    x[5 * COLS + 301] = -21000.0f;
}

/* Weight-like rows of varied shape: each row one distribution, scaled per 32-element block. */
static void make_extra(float * x) {
    for (int r = 0; r < EXTRA_ROWS; ++r) {
        double block_scale = 1.0;
        for (int c = 0; c < COLS; ++c) {
            if (c % 32 == 0) block_scale = (r % 4 == 3) ? pow(10.0, 4.0 * uniform01() - 3.0) : 1.0;
            double v;
            switch (r % 8) {
                case 0: v = normal(); break;
                case 1: v = 0.02 * normal(); break;
                case 2: v = (uniform01() < 0.5 ? -1.0 : 1.0) * -log(1.0 - uniform01()); break;  /* laplace */
                case 3: {  /* student t(3): a normal over the root of a chi-square(3) / 3 */
                    double z = normal(), g1 = normal(), g2 = normal(), g3 = normal();
                    v = z / sqrt((g1 * g1 + g2 * g2 + g3 * g3) / 3.0 + 1e-12);
                    break;
                }
                case 4: v = 2.0 * uniform01() - 1.0; break;
                case 5: v = 0.05 * normal() + (uniform01() < 0.01 ? 3.0 * normal() : 0.0); break; /* sparse outliers */
                case 6: v = 0.3 + 0.1 * normal(); break;                                        /* biased: mostly positive */
                default: v = -0.2 + 0.05 * normal(); break;                                     /* biased: negative */
            }
            x[r * COLS + c] = (float)(v * block_scale);
            if (!isfinite(x[r * COLS + c])) { fprintf(stderr, "non-finite extra input\n"); exit(1); }
        }
    }
}

/* The bulk inputs: the test (tests/quant_formats_test.cpp, bulk_input) mirrors this exactly. */
enum { BULK_ROWS = 4096, BULK_COLS = 256 };
static uint64_t bulk_state;
static uint64_t bulk_next(void) {
    uint64_t z = (bulk_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static float bulk_u(void) { return (float)(bulk_next() >> 40) * 0x1p-24f; } /* exact, [0, 1) */
static void bulk_row(int r, float * x) {
    bulk_state = 0xb01dfaceULL + (uint64_t)r;
    float scale = 1.0f;
    for (int c = 0; c < BULK_COLS; ++c) {
        if (c % 32 == 0) {
            /* 2^k * (1 + u), k in [-14, 3]: exact, spans f16-subnormal to large scales */
            int k = (int)(bulk_next() % 18) - 14;
            scale = (1.0f + bulk_u()) * (k >= 0 ? (float)(1 << k) : 1.0f / (float)(1 << -k));
        }
        /* Irwin-Hall, ~normal; one draw per statement so the order is fixed */
        float u1 = bulk_u(), u2 = bulk_u(), u3 = bulk_u(), u4 = bulk_u();
        float ih = u1 + u2 + u3 + u4 - 2.0f;
        float v;
        switch (r % 5) {
            case 0: v = ih; break;
            case 1: v = 2.0f * bulk_u() - 1.0f; break;
            case 2: v = ih / (bulk_u() + 0.05f); break;  /* heavy tails */
            case 3: v = 0.2f * ih + 0.3f; break;            /* biased */
            default: v = (bulk_next() % 64 == 0) ? 8.0f * ih : 0.1f * ih; break; /* sparse outliers */
        }
        x[c] = v * scale;
    }
}
static uint64_t fnv1a(uint64_t h, const void * p, size_t n) {
    const uint8_t * b = (const uint8_t *)p;
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

/* Finite special values for the float conversions: every class the converters treat apart. */
static void make_specials(float * x, int n) {
    static const uint32_t fixed[] = {
        0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00000u, 0x7f800001u, 0x7fa00000u,
        0xff800001u, 0x00000001u, 0x807fffffu, 0x33000000u, 0x33000001u, 0x387fe000u, 0x38800000u, 0x477fe000u,
        0x477fefffu, 0x477ff000u, 0x47800000u, 0x3f800fffu, 0x3f801000u, 0x3f801001u, 0x3f803000u, 0x3f808000u,
        0x3f818000u, 0x7f7fffffu, 0x3f7fffffu, 0x33800000u, 0x337fffffu, 0x3380000u,  0xc77ff000u, 0x7fffffffu,
    };
    int nf = (int)(sizeof(fixed) / sizeof(fixed[0]));
    for (int i = 0; i < n; ++i) {
        uint32_t bits = i < nf ? fixed[i] : (uint32_t)next_u64();
        if (i >= nf && (i & 1)) bits = (bits & 0x8fffffffu) | 0x30000000u; /* half of them near f16's range */
        memcpy(&x[i], &bits, 4);
    }
}

static void put_u32(FILE * f, uint32_t v) { fwrite(&v, 4, 1, f); }

static void put_entry(FILE * f, const struct format * fmt, uint32_t kind, int rows, int cols,
                      const float * src, const uint8_t * bytes, const float * deq) {
    char name[8] = {0};
    memcpy(name, fmt->name, strlen(fmt->name));
    fwrite(name, 1, 8, f);
    put_u32(f, kind);
    put_u32(f, (uint32_t)rows);
    put_u32(f, (uint32_t)cols);
    size_t row_bytes = (size_t)cols / fmt->block_elems * fmt->block_bytes;
    put_u32(f, (uint32_t)row_bytes);
    if (kind == 2) fwrite(src, 4, (size_t)rows * cols, f);
    fwrite(bytes, 1, row_bytes * rows, f);
    if (kind != 3) fwrite(deq, 4, (size_t)rows * cols, f);
}

int main(int argc, char ** argv) {
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: %s OUT.bin [BULK.txt]\n", argv[0]);
        return 2;
    }
    static float inputs[ROWS * COLS], deq[ROWS * COLS], specials[ROWS * COLS], extra[EXTRA_ROWS * COLS];
    static uint8_t bytes[EXTRA_ROWS * COLS * 4];
    make_inputs(inputs);
    make_extra(extra);

    FILE * f = fopen(argv[1], "wb");
    if (!f) { perror(argv[1]); return 1; }
    fwrite("TQV1", 1, 4, f);
    put_u32(f, ROWS);
    put_u32(f, COLS);
    fwrite(inputs, 4, ROWS * COLS, f);
    put_u32(f, EXTRA_ROWS);
    fwrite(extra, 4, EXTRA_ROWS * COLS, f);
    /* Every type: kind 0; all but F32 also kind 1; F16/BF16 also kind 2; the block types kind 3. */
    put_u32(f, N_FORMATS + (N_FORMATS - 1) + 2 + (N_FORMATS - 3));

    for (int t = 0; t < N_FORMATS; ++t) {
        const struct format * fmt = &formats[t];
        size_t row_bytes = (size_t)COLS / fmt->block_elems * fmt->block_bytes;
        /* Zeroed first: quantize_row_q8_K_ref leaves bsums unwritten for an all-zero block. */
        memset(bytes, 0, sizeof(bytes));
        for (int r = 0; r < ROWS; ++r) {
            fmt->quantize(inputs + r * COLS, bytes + r * row_bytes, COLS);
            fmt->dequantize(bytes + r * row_bytes, deq + r * COLS, COLS);
        }
        put_entry(f, fmt, 0, ROWS, COLS, NULL, bytes, deq);
    }

    for (int t = 1; t < N_FORMATS; ++t) {
        const struct format * fmt = &formats[t];
        size_t row_bytes = (size_t)COLS / fmt->block_elems * fmt->block_bytes;
        size_t nbytes = row_bytes * RANDOM_ROWS;
        for (size_t i = 0; i < nbytes; ++i) bytes[i] = (uint8_t)next_u64();
        if (fmt->block_elems > 1) {
            for (size_t b = 0; b < nbytes / fmt->block_bytes; ++b) {
                uint8_t * blk = bytes + b * fmt->block_bytes;
                for (int k = 0; k < 2; ++k) {
                    if (fmt->f16_offsets[k] < 0) continue;
                    ggml_fp16_t h = ggml_fp32_to_fp16((float)(uniform01() * 0.2 - 0.05));
                    memcpy(blk + fmt->f16_offsets[k], &h, 2);
                }
                if (fmt->f32_offset >= 0) {
                    float d = (float)(uniform01() * 0.02 - 0.01);
                    memcpy(blk + fmt->f32_offset, &d, 4);
                }
            }
        }
        for (int r = 0; r < RANDOM_ROWS; ++r) fmt->dequantize(bytes + r * row_bytes, deq + r * COLS, COLS);
        put_entry(f, fmt, 1, RANDOM_ROWS, COLS, NULL, bytes, deq);
    }

    for (int t = 1; t <= 2; ++t) {  /* F16, BF16 on special floats */
        const struct format * fmt = &formats[t];
        make_specials(specials, ROWS * COLS);
        fmt->quantize(specials, bytes, ROWS * COLS);
        fmt->dequantize(bytes, deq, ROWS * COLS);
        put_entry(f, fmt, 2, ROWS, COLS, specials, bytes, deq);
    }

    for (int t = 3; t < N_FORMATS; ++t) {  /* the block types on the extra rows */
        const struct format * fmt = &formats[t];
        size_t row_bytes = (size_t)COLS / fmt->block_elems * fmt->block_bytes;
        memset(bytes, 0, sizeof(bytes));
        for (int r = 0; r < EXTRA_ROWS; ++r) fmt->quantize(extra + r * COLS, bytes + r * row_bytes, COLS);
        put_entry(f, fmt, 3, EXTRA_ROWS, COLS, NULL, bytes, NULL);
    }

    if (fclose(f) != 0) { perror(argv[1]); return 1; }

    if (argc == 3) {
        FILE * h = fopen(argv[2], "w");
        if (!h) { perror(argv[2]); return 1; }
        fprintf(h, "# tools/peers/quant_vectors.c: FNV-1a 64 of ggml's quantized bytes and dequantized floats\n");
        fprintf(h, "# for %d rows x %d bulk inputs (bulk_row), per type: name bytes_hash floats_hash\n", BULK_ROWS, BULK_COLS);
        static float row[BULK_COLS], back[BULK_COLS];
        static uint8_t q[BULK_COLS * 4];
        for (int t = 3; t < N_FORMATS; ++t) {
            const struct format * fmt = &formats[t];
            size_t row_bytes = (size_t)BULK_COLS / fmt->block_elems * fmt->block_bytes;
            uint64_t hb = 0xcbf29ce484222325ULL, hf = 0xcbf29ce484222325ULL;
            for (int r = 0; r < BULK_ROWS; ++r) {
                bulk_row(r, row);
                memset(q, 0, sizeof(q));
                fmt->quantize(row, q, BULK_COLS);
                fmt->dequantize(q, back, BULK_COLS);
                hb = fnv1a(hb, q, row_bytes);
                hf = fnv1a(hf, back, sizeof(back));
            }
            fprintf(h, "%s %016llx %016llx\n", fmt->name, (unsigned long long)hb, (unsigned long long)hf);
        }
        /* Every 16-bit pattern through ggml's f16 and bf16 -> f32 (NaN payloads, subnormals). */
        for (int t = 1; t <= 2; ++t) {
            static uint16_t all[65536];
            static float wide[65536];
            for (int i = 0; i < 65536; ++i) all[i] = (uint16_t)i;
            formats[t].dequantize(all, wide, 65536);
            fprintf(h, "%s_ALL_PATTERNS %016llx %016llx\n", formats[t].name,
                    (unsigned long long)fnv1a(0xcbf29ce484222325ULL, all, sizeof(all)),
                    (unsigned long long)fnv1a(0xcbf29ce484222325ULL, wide, sizeof(wide)));
        }
        if (fclose(h) != 0) { perror(argv[2]); return 1; }
    }
    return 0;
}
