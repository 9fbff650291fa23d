/* mpi_harness.h - the one way the unit tests run cmocka under MPI.
 *
 * Every rank runs every test; a test that checks something on one rank
 * agrees on the outcome with dgt_all_ranks before asserting, so all ranks
 * fail (and leave) together instead of one hanging in a collective.  Rank 0
 * reports; the other ranks' cmocka output is silenced, and failure details a
 * test wants seen from any rank go to dgt_diag() (stderr on rank 0, a copy
 * of the original stderr elsewhere).  The process fails if a test failed on
 * any rank.
 *
 *   int main(int argc, char **argv)
 *   {
 *       const struct CMUnitTest tests[] = {cmocka_unit_test(...), ...};
 *       return DGT_RUN(argc, argv, tests, setup, teardown);
 *   }
 */
#ifndef DUPGRAPH_TESTS_MPI_HARNESS_H
#define DUPGRAPH_TESTS_MPI_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <mpi.h>
#include <stdio.h>
#include <unistd.h>

#include "dupgraph/context.h"

/* 1 on every rank if ok is non-zero on every rank (collective). */
static inline int dgt_all_ranks(int ok)
{
    int all = 0;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return all;
}

static inline int dgt_world_rank(void)
{
    int r;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

/* A context on comm that logs nothing. */
static inline dg_ctx dgt_quiet_ctx(MPI_Comm comm)
{
    dg_ctx ctx;
    dg_ctx_init(&ctx, comm, 1e9);
    ctx.quiet = 1;
    return ctx;
}

/* Where failure details go, from any rank (set up by dgt_run). */
static inline FILE **dgt_diag_slot(void)
{
    static FILE *diag;
    return &diag;
}

static inline FILE *dgt_diag(void)
{
    FILE *f = *dgt_diag_slot();
    return f ? f : stderr;
}

static inline int dgt_run(int *argc, char ***argv, const char *name, const struct CMUnitTest *tests, size_t n,
                          CMFixtureFunction setup, CMFixtureFunction teardown)
{
    MPI_Init(argc, argv);
    cmocka_set_message_output(CM_OUTPUT_STDOUT);
    *dgt_diag_slot() = stderr;
    if (dgt_world_rank() != 0) {
        FILE *copy = fdopen(dup(fileno(stderr)), "w");
        if (!copy || !freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
            MPI_Abort(MPI_COMM_WORLD, 1);
        setvbuf(copy, NULL, _IOLBF, 0);
        *dgt_diag_slot() = copy;
    }
    int failed = _cmocka_run_group_tests(name, tests, n, setup, teardown);
    int any = 0;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (dgt_world_rank() != 0)
        fclose(*dgt_diag_slot());
    MPI_Finalize();
    return any ? 1 : 0;
}

#define DGT_RUN(argc, argv, tests, setup, teardown) \
    dgt_run(&(argc), &(argv), #tests, (tests), sizeof(tests) / sizeof((tests)[0]), (setup), (teardown))

#endif
