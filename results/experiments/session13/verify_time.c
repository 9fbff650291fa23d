/* verify_time.c - session-13 probe: thread CPU time of dg_verify_score on
 * pairs of stored signatures, with a checksum of the scores and detail
 * differences (equal checksums: the same results).  verify_time.sh builds
 * it with src/graph/verify.c as it is and with patches or flags.
 *   verify_time SIGNATURES PAIRS   (SIGNATURES: DG_SIG_BYTES per item, PAIRS: "i j" lines) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "graph/verify.h"
#include "input/signature.h"

#define MAX_PAIRS 200000

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: verify_time SIGNATURES PAIRS\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb"), *p = fopen(argv[2], "r");
    if (!f || !p) {
        fprintf(stderr, "verify_time: cannot open the inputs\n");
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f) / DG_SIG_BYTES;
    fseek(f, 0, SEEK_SET);
    uint8_t *sig = malloc((size_t)n * DG_SIG_BYTES);
    int *pi = malloc(MAX_PAIRS * sizeof *pi), *pj = malloc(MAX_PAIRS * sizeof *pj), np = 0;
    if (!sig || !pi || !pj || fread(sig, DG_SIG_BYTES, (size_t)n, f) != (size_t)n)
        return 1;
    while (np < MAX_PAIRS && fscanf(p, "%d %d", &pi[np], &pj[np]) == 2)
        if (pi[np] >= 0 && pi[np] < n && pj[np] >= 0 && pj[np] < n)
            np++;
    struct timespec a, b;
    double checksum = 0.0;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    for (int k = 0; k < np; k++) {
        dg_verify_match m;
        checksum += dg_verify_score(sig + (size_t)pi[k] * DG_SIG_BYTES, sig + (size_t)pj[k] * DG_SIG_BYTES, &m);
        checksum += m.detail_diff;
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    double t = (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);
    printf("%d pairs, %.1f us per pair, checksum %.9g\n", np, 1e6 * t / np, checksum);
    free(sig);
    free(pi);
    free(pj);
    fclose(f);
    fclose(p);
    return 0;
}
