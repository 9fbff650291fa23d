/* common.c - error formatting, status names, rank ranges, checked
 * allocation, hashing of bytes (core/hash.h) and the clock: the small pieces
 * every module uses. */
#include "dupgraph/common.h"
#include "core/hash.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <time.h>

/* Requests from this size on are checked against the machine's memory. */
#define LARGE_REQUEST ((size_t)1 << 30)

/* Blocks from this size on ask for transparent huge pages (2 MiB). */
#define HUGE_PAGE ((size_t)2 << 20)
#define HUGE_REQUEST (4 * HUGE_PAGE)

static int vfail(dg_err *err, dg_code code, const char *fmt, va_list ap)
{
    if (err) {
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        err->code = code;
    }
    return DG_FAIL;
}

int dg_failc(dg_err *err, dg_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(err, code, fmt, ap);
    va_end(ap);
    return DG_FAIL;
}

int dg_fail(dg_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(err, DG_E_FAILED, fmt, ap);
    va_end(ap);
    return DG_FAIL;
}

const char *dg_code_name(dg_code code)
{
    static const char *const names[DG_E_COUNT] = {
        "none", "failed", "usage", "config", "input", "output", "memory", "checkpoint", "stopped",
    };
    return code >= 0 && code < DG_E_COUNT ? names[code] : "?";
}

int dg_exit_status(dg_code code)
{
    static const int status[DG_E_COUNT] = {0, 1, 2, 3, 4, 5, 6, 7, 75};
    return code >= 0 && code < DG_E_COUNT ? status[code] : 1;
}

const char *dg_status_name(dg_status st)
{
    static const char *const names[DG_ST_COUNT] = {
        "ok", "ok_with_warning", "missing", "unreadable", "empty",
        "corrupt", "not_image", "unsupported", "too_large", "bad_vector",
        "filtered",
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
        return dg_failc(err, DG_E_MEMORY, "size overflow: %zu x %zu", a, b);
    return DG_OK;
}

/* A request above the machine's memory and swap cannot be met in earnest:
 * it comes from a size claimed by a corrupt or hostile header.  Refusing it
 * gives a clear error instead of an overcommitted block the OOM killer
 * ends later (or, under ASan, an abort). */
static int beyond_machine(size_t bytes, dg_err *err)
{
    struct sysinfo si;
    if (bytes < LARGE_REQUEST || sysinfo(&si) != 0)
        return 0;
    unsigned long long total = ((unsigned long long)si.totalram + si.totalswap) * si.mem_unit;
    if (bytes <= total)
        return 0;
    dg_failc(err, DG_E_MEMORY, "out of memory: %zu bytes requested, more than this machine's %llu bytes of memory and swap",
            bytes, total);
    return 1;
}

/* Asks the kernel to back the whole 2 MiB pages inside a fresh block with
 * huge pages when they are first touched.  The job's large buffers (items,
 * exchange send/receive/bucket, similarity results) are filled once and
 * streamed through; with 4 KiB pages their first touch is one page fault
 * per 4 KiB, which in a virtual machine costs microseconds each.  Measured
 * at 1M x 128 on 2 ranks: the exchange took 25.7 s with 4 KiB pages and
 * 6.6 s with huge pages, peak RSS unchanged.  Only advice: where THP is off
 * (or the call fails) the block works as before. */
static void advise_huge_pages(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    if (bytes < HUGE_REQUEST)
        return;
    uintptr_t lo = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
    uintptr_t hi = ((uintptr_t)p + bytes) & ~(uintptr_t)(HUGE_PAGE - 1);
    if (hi > lo)
        (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}

void *dg_alloc(size_t count, size_t size, dg_err *err)
{
    size_t bytes;
    if (dg_mul_size(count, size, &bytes, err) != DG_OK || beyond_machine(bytes, err))
        return NULL;
    if (bytes == 0)
        bytes = 1;
    void *p = malloc(bytes);
    if (!p)
        dg_failc(err, DG_E_MEMORY, "out of memory allocating %zu bytes", bytes);
    else
        advise_huge_pages(p, bytes);
    return p;
}

void *dg_calloc(size_t count, size_t size, dg_err *err)
{
    size_t bytes;
    if (dg_mul_size(count, size, &bytes, err) != DG_OK || beyond_machine(bytes, err))
        return NULL;
    void *p = calloc(bytes ? bytes : 1, 1);
    if (!p)
        dg_failc(err, DG_E_MEMORY, "out of memory allocating %zu bytes", bytes);
    else
        advise_huge_pages(p, bytes);
    return p;
}

uint64_t dg_hash_bytes(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    h = dg_mix64(h ^ (uint64_t)n);
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = dg_mix64(h ^ w);
    }
    uint64_t tail = 0;
    memcpy(&tail, p, n);
    return dg_mix64(h ^ tail);
}

uint64_t dg_hash_string(uint64_t h, const char *s)
{
    return dg_hash_bytes(h, s, strlen(s));
}

double dg_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
