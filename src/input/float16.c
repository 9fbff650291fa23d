/* float16.c - IEEE binary16 to float32 (see float16.h). */
#include <string.h>

#include "input/float16.h"

static float widen(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu, bits;
    if (exponent == 0x1f) {
        bits = sign | 0x7f800000u | (mantissa << 13); /* Inf, NaN */
    } else if (exponent != 0) {
        bits = sign | ((exponent + 112u) << 23) | (mantissa << 13); /* rebias 15 -> 127 */
    } else {
        float v = (float)mantissa * 0x1p-24f; /* zero and subnormals: exact in float32 */
        memcpy(&bits, &v, sizeof bits);
        bits |= sign;
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

void dg_half_to_float(const uint16_t *in, float *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint16_t h = in[i]; /* read before out[i] may overwrite it (in-place use) */
        out[i] = widen(h);
    }
}
