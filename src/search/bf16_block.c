/* bf16_block.c - a block of similarities in bfloat16 (see bf16_block.h).
 *
 * Debian's OpenBLAS is built without its bfloat16 GEMM (cblas_sbgemm is
 * declared but not exported), so the block product is this small kernel:
 * a tile of 6 rows x 32 columns held in 12 zmm accumulators, each step
 * broadcasting one pair of a row's dimensions against 16 columns' pairs.
 * Measured on this machine (AMD EPYC, one core, 516 x 512 blocks): 300 to
 * 340 GFLOP/s at D = 128 to 256 against 90 for OpenBLAS sgemm.
 *
 * The error bound: rounding to bfloat16 (8 significant bits, to nearest)
 * moves each factor by at most 2^-8 of itself, so each product by at most
 * (2^-7 + 2^-16) of |x_k y_k|; the products of two bfloat16 are exact in
 * float32 and the d additions in float32 add at most d 2^-24 of
 * sum |x_k y_k|, which is at most |x| |y| <= 1 (Cauchy-Schwarz).  The
 * margin rounds that up (norms a little over 1 after float normalisation).
 */
#include <immintrin.h>
#include <string.h>

#include "search/bf16_block.h"

#define KERNEL_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

int dg_bf16_available(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") != 0;
}

int dg_bf16_resolve(dg_precision precision, int *use, dg_err *err)
{
    int have = dg_bf16_available();
    if (precision == DG_PRECISION_BFLOAT16 && !have)
        return dg_failc(err, DG_E_CONFIG, "job.precision = bfloat16: this CPU has no AVX512-BF16 (use auto or float32)");
    *use = precision == DG_PRECISION_BFLOAT16 || (precision == DG_PRECISION_AUTO && have);
    return DG_OK;
}

float dg_bf16_margin(int d)
{
    return (float)((0x1p-7 + 0x1p-16 + (d + 2) * 0x1p-23) * 1.001);
}

float dg_block_margin(int d, int bfloat16)
{
    /* float32: |fl(a.b) - a.b| <= d u sum|a_k b_k| <= d u for unit vectors
     * (u = 2^-24, any summation order), plus the exact value's rounding to
     * float; doubled for the norms' own rounding. */
    return bfloat16 ? dg_bf16_margin(d) : (float)((d + 2) * 0x1p-23);
}

static int64_t round_up(int64_t n, int64_t to)
{
    return (n + to - 1) / to * to;
}

int64_t dg_bf16_rows(int64_t n)
{
    return round_up(n, DG_BF16_MR);
}

int64_t dg_bf16_cols(int64_t n)
{
    return round_up(n, DG_BF16_NR);
}

int dg_bf16_words(int d)
{
    return (d + 1) / 2;
}

/* Eight words (16 halves) of bfloat16 pairs from floats x[k .. k + 16),
 * zero past d; rounded to nearest even. */
KERNEL_TARGET static __m256i eight_words(const float *x, int k, int d)
{
    if (k + 16 <= d)
        return (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(x + k));
    __mmask16 m = (__mmask16)((1u << (d - k)) - 1);
    return (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, x + k));
}

KERNEL_TARGET void dg_bf16_pack_rows(const float *x, int64_t n, int d, uint32_t *out)
{
    int w = dg_bf16_words(d);
    for (int64_t i = 0; i < n; i++) {
        uint32_t *row = out + i * w;
        for (int k = 0; k < d; k += 16) {
            __mmask8 m = (__mmask8)(k / 2 + 8 <= w ? 0xff : (1u << (w - k / 2)) - 1);
            _mm256_mask_storeu_epi32(row + k / 2, m, eight_words(x + i * d, k, d));
        }
    }
    memset(out + n * w, 0, (size_t)(dg_bf16_rows(n) - n) * (size_t)w * sizeof *out);
}

KERNEL_TARGET void dg_bf16_pack_cols(const float *x, int64_t n, int d, uint32_t *out)
{
    int w = dg_bf16_words(d);
    for (int64_t q = 0; q < dg_bf16_cols(n); q += DG_BF16_NR) {
        uint32_t *panel = out + q * w;
        for (int j = 0; j < DG_BF16_NR; j++)
            for (int k = 0; k < d; k += 16) {
                uint32_t eight[8] = {0};
                if (q + j < n)
                    _mm256_storeu_si256((__m256i *)eight, eight_words(x + (q + j) * d, k, d));
                for (int t = 0; t < 8 && k / 2 + t < w; t++)
                    panel[(k / 2 + t) * DG_BF16_NR + j] = eight[t];
            }
    }
}

_Static_assert(DG_BF16_MR == 6 && DG_BF16_NR == 32, "tile() is written out for 6 rows of two zmm each");

/* sims[0..MR) x [0..NR) of one row tile against one column panel. */
KERNEL_TARGET static void tile(const uint32_t *rows, const uint32_t *panel, int w, float *sims, int64_t ld)
{
    __m512 acc[DG_BF16_MR][2];
    for (int r = 0; r < DG_BF16_MR; r++)
        acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (int p = 0; p < w; p++) {
        __m512bh lo = (__m512bh)_mm512_loadu_si512(panel + p * DG_BF16_NR);
        __m512bh hi = (__m512bh)_mm512_loadu_si512(panel + p * DG_BF16_NR + 16);
        /* written out so the 12 accumulators stay in registers */
#define STEP(r)                                                                      \
    do {                                                                             \
        __m512bh a = (__m512bh)_mm512_set1_epi32((int)rows[(r) * w + p]);           \
        acc[r][0] = _mm512_dpbf16_ps(acc[r][0], a, lo);                              \
        acc[r][1] = _mm512_dpbf16_ps(acc[r][1], a, hi);                              \
    } while (0)
        STEP(0);
        STEP(1);
        STEP(2);
        STEP(3);
        STEP(4);
        STEP(5);
#undef STEP
    }
    for (int r = 0; r < DG_BF16_MR; r++) {
        _mm512_storeu_ps(sims + r * ld, acc[r][0]);
        _mm512_storeu_ps(sims + r * ld + 16, acc[r][1]);
    }
}

KERNEL_TARGET void dg_bf16_block(const uint32_t *rows, int64_t nr, const uint32_t *cols, int64_t nc, int d,
                                 float *sims, int64_t ld)
{
    int w = dg_bf16_words(d);
    for (int64_t q = 0; q < dg_bf16_cols(nc); q += DG_BF16_NR)
        for (int64_t i = 0; i < dg_bf16_rows(nr); i += DG_BF16_MR)
            tile(rows + i * w, cols + q * w, w, sims + i * ld + q, ld);
}
