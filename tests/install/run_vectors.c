/* run_vectors.c - a program a user would write against the installed
 * library (tests/e2e_install.py builds it with `pkg-config dupgraph`): every
 * rank makes its share of N vectors in memory, 200 of them near-copies of
 * others, and runs the job on them through the public API alone.
 *   mpirun -np P run_vectors OUT.h5
 */
#include <dupgraph/dupgraph.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define N 4000
#define D 32
#define COPIES 200 /* item N - 1 - i copies item i for i < COPIES */

/* Vector of item `id`: a hash-seeded Gaussian-ish direction; copies add a
 * little noise to their original's vector. */
static void make_vector(int64_t id, float *out)
{
    int64_t base = id >= N - COPIES ? N - 1 - id : id;
    for (int j = 0; j < D; j++) {
        uint64_t h = dg_mix64((uint64_t)base * D + (uint64_t)j);
        out[j] = (float)(dg_unit(h) + dg_unit(dg_mix64(h)) - 1.0);
        if (base != id)
            out[j] += 0.01f * (float)(dg_unit(dg_mix64(h ^ 0x5bd1e995u)) - 0.5);
    }
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    dg_ctx ctx;
    dg_ctx_init(&ctx, MPI_COMM_WORLD, 10.0);
    int status = 2;
    if (argc == 2) {
        char out_set[DG_PATH_MAX + 16];
        snprintf(out_set, sizeof out_set, "output.path=%s", argv[1]);
        const char *sets[] = {out_set};
        dg_config cfg;
        dg_err err = {0};
        int64_t lo = dg_range_lo(N, ctx.size, ctx.rank), n = dg_range_lo(N, ctx.size, ctx.rank + 1) - lo;
        float *vec = malloc((size_t)(n > 0 ? n : 1) * D * sizeof *vec);
        int rc = vec ? dg_config_load_text(&cfg, "[pairs]\nthreshold = 0.97\n", sets, 1, &err)
                     : dg_failc(&err, DG_E_MEMORY, "out of memory");
        for (int64_t i = 0; rc == DG_OK && i < n; i++)
            make_vector(lo + i, vec + i * D);
        if (rc == DG_OK)
            rc = dg_job_run_vectors(&ctx, &cfg, DG_MODE_RUN, vec, n, D, &err);
        status = rc == DG_OK ? 0 : dg_exit_status(err.code);
        if (rc != DG_OK && ctx.rank == 0)
            fprintf(stderr, "run_vectors: %s\n", err.msg);
        free(vec);
    } else if (ctx.rank == 0) {
        fprintf(stderr, "usage: run_vectors OUT.h5\n");
    }
    MPI_Finalize();
    return status;
}
