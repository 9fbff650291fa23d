/* mpi_harness.h - the one way the unit tests run cmocka under MPI
 * (tests/mpi_harness.c, the static library dgt_harness of tests/meson.build).
 *
 * Every rank runs every test; a test that checks something on one rank
 * agrees on the outcome with dgt_all_ranks before asserting, so all ranks
 * fail (and leave) together instead of one hanging in a collective.  Rank 0
 * reports; the other ranks' cmocka output is silenced, and failure details a
 * test wants seen from any rank go to dgt_diag() or dgt_note() (stderr on
 * rank 0, a copy of the original stderr elsewhere).  The process fails if a
 * test (or a group fixture) failed on any rank.
 *
 *   int main(int argc, char **argv)
 *   {
 *       const struct CMUnitTest tests[] = {cmocka_unit_test(...), ...};
 *       return DGT_RUN(argc, argv, tests, setup, teardown);
 *   }
 *
 * Scratch folders: dgt_tmpdir makes one ($TMPDIR or /tmp) that every rank of
 * a communicator shares (MPI_COMM_SELF: one a rank), dgt_rmtree removes it
 * with everything in it, dgt_path names a file in it.
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

#include "dupgraph/context.h"

/* Initialises MPI, runs the group on every rank (rank 0 reports), finalises
 * MPI; 1 if a test failed on any rank, else 0.  Use DGT_RUN. */
int dgt_run(int *argc, char ***argv, const char *name, const struct CMUnitTest *tests, size_t n,
            CMFixtureFunction setup, CMFixtureFunction teardown);

#define DGT_RUN(argc, argv, tests, setup, teardown) \
    dgt_run(&(argc), &(argv), #tests, (tests), sizeof(tests) / sizeof((tests)[0]), (setup), (teardown))

/* This process's rank in MPI_COMM_WORLD. */
int dgt_world_rank(void);

/* 1 on every rank if ok is non-zero on every rank of MPI_COMM_WORLD, else 0
 * (collective). */
int dgt_all_ranks(int ok);

/* A context on comm that logs nothing. */
dg_ctx dgt_quiet_ctx(MPI_Comm comm);

/* Where failure details go, from any rank. */
FILE *dgt_diag(void);

/* Prints "rank R: " and the message with a newline to dgt_diag(); returns 0,
 * so that `ok = dgt_note(...)` records a mismatch and says what it was. */
int dgt_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int dgt_vnote(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Collective over comm: rank 0 of comm makes a new folder
 * $TMPDIR/dg_test_TAG_XXXXXX (/tmp without TMPDIR) and every rank of comm
 * gets its name in dir[len].  0 on every rank of comm if it was made, else -1. */
int dgt_tmpdir(char *dir, size_t len, const char *tag, MPI_Comm comm);

/* Collective over comm: after every rank of comm has arrived, rank 0 removes
 * dir and everything below it (links are removed, not followed).  0 on every
 * rank of comm if it is gone, else -1. */
int dgt_rmtree(const char *dir, MPI_Comm comm);

/* out[len] = dir/name; fails the test if it does not fit. */
void dgt_path(char *out, size_t len, const char *dir, const char *name);

#endif
