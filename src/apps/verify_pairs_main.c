/* verify_pairs_main.c - dg-verify-pairs: the verifier outside the job, on a
 * given list of pairs (jobs/verify_pairs.py measures verifier changes with
 * it in seconds instead of a benchmark run per setting).
 *   dg-verify-pairs PATHS PAIRS
 *     PATHS: one image path per line, line k (from 0) is item k.
 *     PAIRS: "i j" per line, item numbers.
 * Each image in a pair is decoded as the job's built-in embedder decodes it
 * (to the descriptor's raster size, content box, signature); every pair is
 * scored by dg_verify_score and printed as one line
 *     i j score detail_diff probe_is_b mirror scale degrees tx ty
 * (score -1: an image without a signature, as in the job).  On stderr: the
 * images decoded, the pairs, the scoring time and microseconds per pair.
 * It owns no library code; it only drives it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graph/verify.h"
#include "input/decode.h"
#include "input/descriptor.h"
#include "input/signature.h"

typedef struct path_list {
    char **v;
    long n, cap;
} path_list;

static void paths_free(path_list *p)
{
    for (long i = 0; i < p->n; i++)
        free(p->v[i]);
    free(p->v);
    memset(p, 0, sizeof *p);
}

static int read_paths(const char *file, path_list *p)
{
    FILE *f = fopen(file, "r");
    if (!f) {
        fprintf(stderr, "dg-verify-pairs: %s: cannot open\n", file);
        return DG_FAIL;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = DG_OK;
    while (rc == DG_OK && (len = getline(&line, &cap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (p->n == p->cap) {
            long cap2 = p->cap ? 2 * p->cap : 1024;
            char **v = realloc(p->v, (size_t)cap2 * sizeof *v);
            if (!v) {
                rc = DG_FAIL;
                break;
            }
            p->v = v;
            p->cap = cap2;
        }
        if (!(p->v[p->n] = strdup(line)))
            rc = DG_FAIL;
        else
            p->n++;
    }
    free(line);
    fclose(f);
    if (rc != DG_OK)
        fprintf(stderr, "dg-verify-pairs: out of memory reading %s\n", file);
    return rc;
}

typedef struct pair_list {
    long *i, *j;
    long n;
} pair_list;

/* "i j" per line, both in [0, n_items): anything else stops with the line named. */
static int read_pairs(const char *file, long n_items, pair_list *pl)
{
    memset(pl, 0, sizeof *pl);
    FILE *f = fopen(file, "r");
    if (!f) {
        fprintf(stderr, "dg-verify-pairs: %s: cannot open\n", file);
        return DG_FAIL;
    }
    long cap = 0, line_no = 0, a, b;
    int rc = DG_OK;
    char line[128];
    while (rc == DG_OK && fgets(line, sizeof line, f)) {
        char tail;
        line_no++;
        if (sscanf(line, "%ld %ld %c", &a, &b, &tail) != 2 || a < 0 || b < 0 || a >= n_items || b >= n_items) {
            fprintf(stderr, "dg-verify-pairs: %s:%ld: expected two item numbers below %ld\n", file, line_no, n_items);
            rc = DG_FAIL;
            break;
        }
        if (pl->n == cap) {
            cap = cap ? 2 * cap : 4096;
            long *i2 = realloc(pl->i, (size_t)cap * sizeof *i2);
            if (i2)
                pl->i = i2;
            long *j2 = realloc(pl->j, (size_t)cap * sizeof *j2);
            if (j2)
                pl->j = j2;
            if (!i2 || !j2) {
                fprintf(stderr, "dg-verify-pairs: out of memory reading %s\n", file);
                rc = DG_FAIL;
                break;
            }
        }
        pl->i[pl->n] = a;
        pl->j[pl->n++] = b;
    }
    fclose(f);
    return rc;
}

/* The signatures of the items in some pair (zeros for the others and for
 * images that cannot be decoded, which the verifier scores -1). */
static int make_signatures(const path_list *paths, const pair_list *pl, uint8_t *sig, long *decoded)
{
    char *need = calloc((size_t)paths->n + 1, 1);
    dg_decoder dec;
    dg_err err;
    if (!need || dg_decoder_init(&dec, 0, DG_DESC_SIZE, &err) != DG_OK) {
        fprintf(stderr, "dg-verify-pairs: %s\n", need ? err.msg : "out of memory");
        free(need);
        return DG_FAIL;
    }
    for (long k = 0; k < pl->n; k++)
        need[pl->i[k]] = need[pl->j[k]] = 1;
    *decoded = 0;
    for (long k = 0; k < paths->n; k++) {
        if (!need[k])
            continue;
        dg_decode_result res;
        dg_decode_file(&dec, paths->v[k], &res);
        if (!dg_status_usable((int8_t)res.status)) {
            fprintf(stderr, "dg-verify-pairs: %s: %s (no signature)\n", paths->v[k], res.msg);
            continue;
        }
        int box[4];
        dg_content_box(&res.image, box);
        dg_signature_make(&res.image, box, sig + (size_t)k * DG_SIG_BYTES);
        (*decoded)++;
    }
    dg_decoder_free(&dec);
    free(need);
    return DG_OK;
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: dg-verify-pairs PATHS PAIRS\n"
                        "  PATHS: one image path per line; PAIRS: \"i j\" item numbers per line\n"
                        "  prints: i j score detail_diff probe_is_b mirror scale degrees tx ty\n");
        return 2;
    }
    path_list paths = {0};
    pair_list pl = {0};
    uint8_t *sig = NULL;
    long decoded = 0;
    int rc = read_paths(argv[1], &paths);
    if (rc == DG_OK)
        rc = read_pairs(argv[2], paths.n, &pl);
    if (rc == DG_OK && !(sig = calloc((size_t)paths.n + 1, DG_SIG_BYTES))) {
        fprintf(stderr, "dg-verify-pairs: out of memory\n");
        rc = DG_FAIL;
    }
    if (rc == DG_OK)
        rc = make_signatures(&paths, &pl, sig, &decoded);
    if (rc == DG_OK) {
        dg_verify_match *m = malloc(((size_t)pl.n + 1) * sizeof *m);
        if (!m) {
            fprintf(stderr, "dg-verify-pairs: out of memory\n");
            rc = DG_FAIL;
        } else {
            double t0 = seconds_now();
            for (long k = 0; k < pl.n; k++)
                dg_verify_score(sig + (size_t)pl.i[k] * DG_SIG_BYTES, sig + (size_t)pl.j[k] * DG_SIG_BYTES, &m[k]);
            double dt = seconds_now() - t0;
            for (long k = 0; k < pl.n; k++)
                printf("%ld %ld %.6f %.6f %d %d %.4f %.3f %.3f %.3f\n", pl.i[k], pl.j[k], m[k].score,
                       m[k].detail_diff, m[k].probe_is_b, m[k].mirror, m[k].scale, m[k].degrees, m[k].tx, m[k].ty);
            fprintf(stderr, "dg-verify-pairs: %ld images decoded, %ld pairs scored in %.2f s (%.1f us per pair)\n",
                    decoded, pl.n, dt, pl.n ? 1e6 * dt / (double)pl.n : 0.0);
            free(m);
            if (fflush(stdout) != 0 || ferror(stdout))
                rc = DG_FAIL;
        }
    }
    free(sig);
    free(pl.i);
    free(pl.j);
    paths_free(&paths);
    return rc == DG_OK ? 0 : 1;
}
