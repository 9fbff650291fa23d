/* verify_pairs_main.c - dg-verify-pairs: the verifier outside the job, on a
 * given list of pairs (jobs/verify_pairs.py measures verifier changes with
 * it in seconds instead of a benchmark run per setting).
 *   dg-verify-pairs [--max-pixels N] MANIFEST PAIRS
 *     MANIFEST: the image paths, read as the job reads input.manifest
 *     (entry k, from 0, is item k).  PAIRS: "i j" per line, item numbers.
 *     --max-pixels: as embed.max_pixels, images of more pixels get no
 *     signature (default: embed.max_pixels' default; 0: no limit).
 * Each image in a pair is decoded as the job's built-in embedder decodes it
 * (to the descriptor's raster size, content box, signature:
 * dg_signature_of_file); every pair is scored by dg_verify_score and
 * printed as one line, i < j
 *     i j score detail_diff probe_is_b mirror scale degrees tx ty
 * (score -1: an image without a signature, unreadable or too large, as in
 * the job).  On stderr: each image without a signature and why, then the
 * images decoded, the pairs, the scoring CPU time and microseconds per pair.
 * It owns no library code; it only drives it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apps/cli.h"
#include "dupgraph/config.h"
#include "graph/verify.h"
#include "input/decode.h"
#include "input/descriptor.h"
#include "input/manifest.h"
#include "input/signature.h"
#include "search/edges.h"

/* "i j" per line, both in [0, n_items): anything else stops with the line
 * named.  Kept as edges (src < dst, the order the output prints). */
static int read_pairs(const char *file, int64_t n_items, dg_edges *pairs)
{
    FILE *f = fopen(file, "r");
    if (!f) {
        fprintf(stderr, "dg-verify-pairs: %s: cannot open\n", file);
        return DG_FAIL;
    }
    long line_no = 0;
    long long a, b;
    int rc = DG_OK;
    char line[128], tail;
    dg_err err;
    while (rc == DG_OK && fgets(line, sizeof line, f)) {
        line_no++;
        if (sscanf(line, "%lld %lld %c", &a, &b, &tail) != 2 || a < 0 || b < 0 || a >= n_items || b >= n_items) {
            fprintf(stderr, "dg-verify-pairs: %s:%ld: expected two item numbers below %lld\n", file, line_no,
                    (long long)n_items);
            rc = DG_FAIL;
        } else if ((rc = dg_edges_push(pairs, a, b, 0.0f, &err)) != DG_OK) {
            fprintf(stderr, "dg-verify-pairs: %s\n", err.msg);
        }
    }
    fclose(f);
    return rc;
}

/* The signatures of the items in some pair (zeros for the others and for
 * images that cannot be decoded or have more than max_pixels pixels, which
 * the verifier scores -1). */
static int make_signatures(const dg_pathlist *paths, const dg_edges *pairs, int64_t max_pixels, uint8_t *sig,
                           long *decoded)
{
    char *need = calloc((size_t)paths->n + 1, 1);
    dg_decoder dec;
    dg_err err;
    if (!need || dg_decoder_init(&dec, max_pixels, DG_DESC_SIZE, &err) != DG_OK) {
        fprintf(stderr, "dg-verify-pairs: %s\n", need ? err.msg : "out of memory");
        free(need);
        return DG_FAIL;
    }
    for (int64_t k = 0; k < pairs->n; k++)
        need[pairs->src[k]] = need[pairs->dst[k]] = 1;
    *decoded = 0;
    for (int64_t k = 0; k < paths->n; k++) {
        if (!need[k])
            continue;
        dg_decode_result res;
        if (!dg_status_usable((int8_t)dg_signature_of_file(&dec, paths->path[k], sig + (size_t)k * DG_SIG_BYTES,
                                                            &res))) {
            fprintf(stderr, "dg-verify-pairs: %s: %s (no signature)\n", paths->path[k], res.msg);
            continue;
        }
        (*decoded)++;
    }
    dg_decoder_free(&dec);
    free(need);
    return DG_OK;
}

/* CPU time of this thread: other processes on a shared host inflate it less than wall time */
static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void usage(long long max_pixels)
{
    fprintf(stderr,
            "usage: dg-verify-pairs [--max-pixels N] MANIFEST PAIRS\n"
            "  MANIFEST: image paths as the job's input.manifest; PAIRS: \"i j\" item numbers per line\n"
            "  --max-pixels: as embed.max_pixels, larger images get no signature (default %lld; 0: no limit)\n"
            "  prints: i j score detail_diff probe_is_b mirror scale degrees tx ty (i < j)\n",
            max_pixels);
}

/* The --max-pixels value (default: the job's), then the two files at argv[optind]. */
static int parse_args(int argc, char **argv, int64_t *max_pixels)
{
    static const struct option longopts[] = {{"max-pixels", required_argument, 0, 'P'}, {0, 0, 0, 0}};
    dg_config defaults;
    dg_config_defaults(&defaults);
    *max_pixels = defaults.max_pixels;
    int c;
    long v;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c != 'P' || cli_long(optarg, 0, 1000000000000L, &v) != DG_OK) {
            if (c == 'P')
                fprintf(stderr, "dg-verify-pairs: --max-pixels: expected 0..1000000000000, got %s\n", optarg);
            usage(defaults.max_pixels);
            return DG_FAIL;
        }
        *max_pixels = v;
    }
    if (argc - optind != 2) {
        usage(defaults.max_pixels);
        return DG_FAIL;
    }
    return DG_OK;
}

int main(int argc, char **argv)
{
    int64_t max_pixels;
    if (parse_args(argc, argv, &max_pixels) != DG_OK)
        return 2;
    const char *manifest = argv[optind], *pairs_file = argv[optind + 1];
    dg_pathlist paths = {0};
    dg_edges pairs = {0};
    uint8_t *sig = NULL;
    long decoded = 0;
    dg_err err;
    int rc = dg_manifest_read(manifest, 0, -1, &paths, &err);
    if (rc != DG_OK)
        fprintf(stderr, "dg-verify-pairs: %s\n", err.msg);
    if (rc == DG_OK)
        rc = read_pairs(pairs_file, paths.n, &pairs);
    if (rc == DG_OK && !(sig = calloc((size_t)paths.n + 1, DG_SIG_BYTES))) {
        fprintf(stderr, "dg-verify-pairs: out of memory\n");
        rc = DG_FAIL;
    }
    if (rc == DG_OK)
        rc = make_signatures(&paths, &pairs, max_pixels, sig, &decoded);
    if (rc == DG_OK) {
        dg_verify_match *m = malloc(((size_t)pairs.n + 1) * sizeof *m);
        if (!m) {
            fprintf(stderr, "dg-verify-pairs: out of memory\n");
            rc = DG_FAIL;
        } else {
            double t0 = cpu_seconds();
            for (int64_t k = 0; k < pairs.n; k++)
                dg_verify_score(sig + (size_t)pairs.src[k] * DG_SIG_BYTES, sig + (size_t)pairs.dst[k] * DG_SIG_BYTES,
                                &m[k]);
            double dt = cpu_seconds() - t0;
            for (int64_t k = 0; k < pairs.n; k++)
                printf("%lld %lld %.6f %.6f %d %d %.4f %.3f %.3f %.3f\n", (long long)pairs.src[k],
                       (long long)pairs.dst[k], m[k].score, m[k].detail_diff, m[k].probe_is_b, m[k].mirror, m[k].scale,
                       m[k].degrees, m[k].tx, m[k].ty);
            fprintf(stderr, "dg-verify-pairs: %ld images decoded, %lld pairs scored in %.2f s (%.1f us per pair)\n",
                    decoded, (long long)pairs.n, dt, pairs.n ? 1e6 * dt / (double)pairs.n : 0.0);
            free(m);
            if (fflush(stdout) != 0 || ferror(stdout))
                rc = DG_FAIL;
        }
    }
    free(sig);
    dg_edges_free(&pairs);
    dg_pathlist_free(&paths);
    return rc == DG_OK ? 0 : 1;
}
