/* common.h - the conventions every dupgraph module shares.
 *
 * Errors: every fallible function returns DG_OK (0) or DG_FAIL (-1) and writes
 * a one-line reason and a dg_code into a caller-provided dg_err.  Nothing
 * below the job driver prints an error or exits; the command line turns the
 * code into the exit status (dg_exit_status).  Item statuses are the per-item outcome
 * recorded in /items/status of the output file.
 *
 * Items are numbered 0..N-1 in input order (the global id).  Rank r of P owns
 * the contiguous range dg_range_lo(N,P,r) .. dg_range_lo(N,P,r+1)-1.
 */
#ifndef DUPGRAPH_COMMON_H
#define DUPGRAPH_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "dupgraph/version.h" /* DG_VERSION */

#define DG_OK 0
#define DG_FAIL (-1)

/* Longest path (with its terminator) a config, manifest or output may name. */
#define DG_PATH_MAX 4096

#define DG_FORMAT_NAME "dupgraph"
/* 2 added /items/{filter_score, filtered, weight, class_prob} and the
 * status `filtered` (issue 8); 3 added the typed settings (mode, embedder,
 * pairs_threshold, cluster_k/_clusterings/_probes, graph_keep: h5_output.h);
 * 4 added /edges/verify and the verify attributes (issue 13);
 * readers accept DG_FORMAT_VERSION_MIN and up. */
#define DG_FORMAT_VERSION 4
#define DG_FORMAT_VERSION_MIN 1

/* The kind of a failure: what a caller (or a batch script, through the exit
 * status) can act on.  The message says what exactly went wrong. */
typedef enum dg_code {
    DG_E_NONE = 0,
    DG_E_FAILED,     /* anything else: MPI, a library, a bug (exit 1) */
    DG_E_USAGE,      /* bad command line (exit 2) */
    DG_E_CONFIG,     /* bad config file or --set value (exit 3) */
    DG_E_INPUT,      /* the input cannot be listed or read: manifest, folder,
                        embeddings file, network weights, a file given to a
                        tool (exit 4) */
    DG_E_OUTPUT,     /* the output or its folder cannot be written (exit 5) */
    DG_E_MEMORY,     /* job.max_memory refuses the job, or memory ran out (exit 6) */
    DG_E_CHECKPOINT, /* a saved stage matches but cannot be used (exit 7) */
    DG_E_STOPPED,    /* stopped by a signal, job.stop_at or job.stop_after; the
                        finished stages are saved: run again to resume (exit 75,
                        EX_TEMPFAIL) */
    DG_E_COUNT
} dg_code;

typedef struct dg_err {
    char msg[512];
    dg_code code;
} dg_err;

/* Formats the reason into err, sets its code and returns DG_FAIL, so a
 * caller can write `return dg_failc(err, DG_E_INPUT, "...", ...);`.
 * dg_fail is the same with DG_E_FAILED. */
int dg_failc(dg_err *err, dg_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int dg_fail(dg_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "config", "input", ... (the names tests and logs use). */
const char *dg_code_name(dg_code code);
/* The process exit status for a failure of this kind (0 for DG_E_NONE). */
int dg_exit_status(dg_code code);

/* Per-item outcome, stored as an HDF5 enum of int8 in /items/status. */
typedef enum dg_status {
    DG_ST_OK = 0,
    DG_ST_OK_WITH_WARNING = 1, /* decoded, but damage was recovered from, or only the first
                                  frame of an animation (APNG, animated WebP) was read */
    DG_ST_MISSING = 2,         /* file does not exist */
    DG_ST_UNREADABLE = 3,      /* exists but cannot be read (permissions, I/O error, not a file) */
    DG_ST_EMPTY = 4,           /* zero bytes */
    DG_ST_CORRUPT = 5,         /* truncated or corrupt JPEG, PNG or WebP data */
    DG_ST_NOT_IMAGE = 6,       /* no JPEG, PNG or WebP signature, nor another known image's
                                  (was "not_jpeg" before PNG and WebP were read: same value) */
    DG_ST_UNSUPPORTED = 7,     /* a variant we cannot decode (12-bit or lossless JPEG...) or an
                                  image format we do not read (GIF, BMP, TIFF) */
    DG_ST_TOO_LARGE = 8,       /* more pixels than embed.max_pixels */
    DG_ST_BAD_VECTOR = 9,      /* embedding row with NaN/Inf or zero norm */
    DG_ST_FILTERED = 10,       /* decoded, then removed by the content filter (not a failure) */
    DG_ST_COUNT = 11
} dg_status;

const char *dg_status_name(dg_status st);

/* An item is usable for the duplicate search. */
static inline int dg_status_usable(int8_t st)
{
    return st == DG_ST_OK || st == DG_ST_OK_WITH_WARNING;
}

/* First global id of rank r's share when n items are split over p ranks. */
static inline int64_t dg_range_lo(int64_t n, int p, int r)
{
    return (int64_t)(((__int128)n * r) / p);
}

/* Rank owning global id `id` under the same split (inverse of dg_range_lo). */
int dg_range_owner(int64_t n, int p, int64_t id);

/* Overflow-checked size arithmetic: DG_FAIL (with a reason) if a*b overflows. */
int dg_mul_size(size_t a, size_t b, size_t *out, dg_err *err);

/* malloc/calloc that return NULL for zero-size requests and record a reason. */
void *dg_alloc(size_t count, size_t size, dg_err *err);
void *dg_calloc(size_t count, size_t size, dg_err *err);

/* SplitMix64: the one hash/PRNG step used wherever randomness must be
 * reproducible from (seed, id) alone, independent of the rank layout. */
static inline uint64_t dg_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Uniform double in [0,1) from a 64-bit hash. */
static inline double dg_unit(uint64_t h)
{
    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

/* Monotonic wall clock in seconds. */
double dg_now(void);

#endif
