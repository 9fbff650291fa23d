/* verify_bench.h - dg-embed-bench's verifier timing (verify_bench.c): real
 * candidate pairs among the benchmark's files (a photo with a copy of it,
 * a photo with another), timed through dg_verify_score. */
#ifndef DUPGRAPH_APPS_VERIFY_BENCH_H
#define DUPGRAPH_APPS_VERIFY_BENCH_H

#include <stdint.h>

#include "dupgraph/common.h"

typedef struct vb_pairs {
    int64_t n, n_same; /* pairs; of them, pairs of one folder (dg-mkbench: one original's group) */
    int64_t *a, *b;    /* file indices */
    uint8_t *same;     /* 1: a pair of one folder */
} vb_pairs;

/* The pairs among the n files whose signature is present (sig: n x
 * DG_SIG_BYTES): the files sorted by path, each with the next one of its
 * folder (a copy of the same photo in a dg-mkbench corpus) and with the one
 * half the list away when that lies in another folder (another photo). */
int vb_pairs_make(char *const *path, int64_t n, const uint8_t *sig, vb_pairs *p, dg_err *err);
void vb_pairs_free(vb_pairs *p);

/* The verifier over every pair, `repeat` times: the fastest pass's thread
 * CPU and wall seconds, and how many pairs scored >= threshold. */
typedef struct vb_times {
    double cpu, wall;
    int64_t passed, passed_same;
} vb_times;

void vb_time(const vb_pairs *p, const uint8_t *sig, float threshold, long repeat, vb_times *t);

#endif
