/* common.c - error formatting, status names, rank ranges, checked
 * allocation and the clock: the small pieces every module uses. */
#include "dupgraph/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int dg_fail(dg_err *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return DG_FAIL;
}

const char *dg_status_name(dg_status st)
{
    static const char *const names[DG_ST_COUNT] = {
        "ok", "ok_with_warning", "missing", "unreadable", "empty",
        "corrupt", "not_jpeg", "unsupported", "too_large", "bad_vector",
    };
    if ((int)st < 0 || st >= DG_ST_COUNT)
        return "invalid";
    return names[st];
}

int dg_range_owner(int64_t n, int p, int64_t id)
{
    /* Start from the proportional guess and correct for rounding. */
    int r = (int)(((__int128)id * p) / (n > 0 ? n : 1));
    if (r >= p)
        r = p - 1;
    while (r > 0 && dg_range_lo(n, p, r) > id)
        r--;
    while (r + 1 < p && dg_range_lo(n, p, r + 1) <= id)
        r++;
    return r;
}

int dg_mul_size(size_t a, size_t b, size_t *out, dg_err *err)
{
    if (__builtin_mul_overflow(a, b, out))
        return dg_fail(err, "size overflow: %zu x %zu", a, b);
    return DG_OK;
}

void *dg_alloc(size_t count, size_t size, dg_err *err)
{
    size_t bytes;
    if (dg_mul_size(count, size, &bytes, err) != DG_OK)
        return NULL;
    if (bytes == 0)
        bytes = 1;
    void *p = malloc(bytes);
    if (!p)
        dg_fail(err, "out of memory allocating %zu bytes", bytes);
    return p;
}

void *dg_calloc(size_t count, size_t size, dg_err *err)
{
    size_t bytes;
    if (dg_mul_size(count, size, &bytes, err) != DG_OK)
        return NULL;
    void *p = calloc(bytes ? bytes : 1, 1);
    if (!p)
        dg_fail(err, "out of memory allocating %zu bytes", bytes);
    return p;
}

double dg_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
