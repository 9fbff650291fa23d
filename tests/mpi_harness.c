/* mpi_harness.c - cmocka under MPI for the unit tests (see mpi_harness.h). */
#include "mpi_harness.h"

#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Failure details (set up by dgt_run): stderr on rank 0, elsewhere a copy of
 * the stderr the process started with (its own stderr is silenced). */
static FILE *diag;

int dgt_world_rank(void)
{
    int r;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

int dgt_all_ranks(int ok)
{
    int mine = ok != 0, all = 0;
    MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return all;
}

dg_ctx dgt_quiet_ctx(MPI_Comm comm)
{
    dg_ctx ctx;
    dg_ctx_init(&ctx, comm, 1e9);
    ctx.quiet = 1;
    return ctx;
}

FILE *dgt_diag(void)
{
    return diag ? diag : stderr;
}

int dgt_vnote(const char *fmt, va_list ap)
{
    FILE *f = dgt_diag();
    fprintf(f, "rank %d: ", dgt_world_rank());
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    fflush(f);
    return 0;
}

int dgt_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dgt_vnote(fmt, ap);
    va_end(ap);
    return 0;
}

int dgt_tmpdir(char *dir, size_t len, const char *tag, MPI_Comm comm)
{
    int rank, made = 0;
    MPI_Comm_rank(comm, &rank);
    if (rank == 0) {
        const char *base = getenv("TMPDIR");
        if (!base || !base[0])
            base = "/tmp";
        int n = snprintf(dir, len, "%s/dg_test_%s_XXXXXX", base, tag);
        made = n > 0 && (size_t)n < len && mkdtemp(dir) != NULL;
        if (!made)
            fprintf(dgt_diag(), "cannot make a scratch folder in %s: %s\n", base, strerror(errno));
    }
    MPI_Bcast(&made, 1, MPI_INT, 0, comm);
    if (!made)
        return -1;
    MPI_Bcast(dir, (int)len, MPI_CHAR, 0, comm);
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    if (remove(path) != 0) {
        fprintf(dgt_diag(), "cannot remove %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

int dgt_rmtree(const char *dir, MPI_Comm comm)
{
    int rank, gone = 0;
    MPI_Barrier(comm);
    MPI_Comm_rank(comm, &rank);
    if (rank == 0)
        gone = nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 || errno == ENOENT;
    MPI_Bcast(&gone, 1, MPI_INT, 0, comm);
    return gone ? 0 : -1;
}

void dgt_path(char *out, size_t len, const char *dir, const char *name)
{
    int n = snprintf(out, len, "%s/%s", dir, name);
    assert_true(n > 0 && (size_t)n < len);
}

int dgt_run(int *argc, char ***argv, const char *name, const struct CMUnitTest *tests, size_t n,
            CMFixtureFunction setup, CMFixtureFunction teardown)
{
    MPI_Init(argc, argv);
    cmocka_set_message_output(CM_OUTPUT_STDOUT);
    diag = stderr;
    int rank = dgt_world_rank();
    if (rank != 0) {
        FILE *copy = fdopen(dup(fileno(stderr)), "w");
        if (!copy || !freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
            MPI_Abort(MPI_COMM_WORLD, 1);
        setvbuf(copy, NULL, _IOLBF, 0);
        diag = copy;
    }
    int failed = _cmocka_run_group_tests(name, tests, n, setup, teardown);
    int any = 0;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (rank == 0 && any && !failed)
        printf("[  FAILED  ] %s: passed on rank 0, failed on another rank (its \"rank R:\" lines on stderr)\n", name);
    if (rank != 0) {
        fclose(diag);
        diag = NULL;
    }
    MPI_Finalize();
    return any ? 1 : 0;
}
