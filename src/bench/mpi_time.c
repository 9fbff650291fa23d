/* mpi_time.c - a PMPI shim that times the MPI calls the job makes.
 *
 * Preloaded into every rank (LD_PRELOAD=libdg_mpitime.so, see
 * jobs/weak_scaling.py), it wraps the collectives and the waits of the
 * point-to-point calls the job and parallel HDF5 use, adds up the seconds
 * and calls per function, and at MPI_Finalize writes one JSON object per
 * rank to $DG_MPITIME_DIR/rank_<r>.json: wall seconds from MPI_Init to
 * MPI_Finalize, seconds and calls per function, and their sum.  Time inside
 * a collective includes waiting for the slowest rank, as mpiP counts it.
 *
 * The totals are process-wide statics: a profiling layer sees only the MPI
 * calls, so it has nowhere else to keep them.  The library and the job do
 * not use this file. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

enum {
    F_ALLREDUCE, F_REDUCE, F_BCAST, F_BARRIER, F_ALLGATHER, F_ALLGATHERV, F_GATHER, F_GATHERV,
    F_ALLTOALL, F_ALLTOALLV, F_EXSCAN, F_SCAN, F_SCATTER, F_SCATTERV, F_SENDRECV, F_WAIT, F_WAITALL,
    F_FILE_WRITE_AT_ALL, F_FILE_READ_AT_ALL, F_COUNT
};

static const char *const fn_name[F_COUNT] = {
    "MPI_Allreduce", "MPI_Reduce", "MPI_Bcast", "MPI_Barrier", "MPI_Allgather", "MPI_Allgatherv", "MPI_Gather",
    "MPI_Gatherv", "MPI_Alltoall", "MPI_Alltoallv", "MPI_Exscan", "MPI_Scan", "MPI_Scatter", "MPI_Scatterv",
    "MPI_Sendrecv", "MPI_Wait", "MPI_Waitall", "MPI_File_write_at_all", "MPI_File_read_at_all",
};

static double fn_seconds[F_COUNT];
static long long fn_calls[F_COUNT];
static double init_time;

#define TIMED(f, call)                                                                                                 \
    do {                                                                                                               \
        double t0_ = PMPI_Wtime();                                                                                     \
        int rc_ = (call);                                                                                              \
        fn_seconds[f] += PMPI_Wtime() - t0_;                                                                           \
        fn_calls[f]++;                                                                                                 \
        return rc_;                                                                                                    \
    } while (0)

int MPI_Init(int *argc, char ***argv)
{
    int rc = PMPI_Init(argc, argv);
    init_time = PMPI_Wtime();
    return rc;
}

int MPI_Init_thread(int *argc, char ***argv, int required, int *provided)
{
    int rc = PMPI_Init_thread(argc, argv, required, provided);
    init_time = PMPI_Wtime();
    return rc;
}

int MPI_Allreduce(const void *s, void *r, int n, MPI_Datatype t, MPI_Op op, MPI_Comm c)
{
    TIMED(F_ALLREDUCE, PMPI_Allreduce(s, r, n, t, op, c));
}

int MPI_Reduce(const void *s, void *r, int n, MPI_Datatype t, MPI_Op op, int root, MPI_Comm c)
{
    TIMED(F_REDUCE, PMPI_Reduce(s, r, n, t, op, root, c));
}

int MPI_Bcast(void *b, int n, MPI_Datatype t, int root, MPI_Comm c)
{
    TIMED(F_BCAST, PMPI_Bcast(b, n, t, root, c));
}

int MPI_Barrier(MPI_Comm c)
{
    TIMED(F_BARRIER, PMPI_Barrier(c));
}

int MPI_Allgather(const void *s, int sn, MPI_Datatype st, void *r, int rn, MPI_Datatype rt, MPI_Comm c)
{
    TIMED(F_ALLGATHER, PMPI_Allgather(s, sn, st, r, rn, rt, c));
}

int MPI_Allgatherv(const void *s, int sn, MPI_Datatype st, void *r, const int *rn, const int *displ,
                   MPI_Datatype rt, MPI_Comm c)
{
    TIMED(F_ALLGATHERV, PMPI_Allgatherv(s, sn, st, r, rn, displ, rt, c));
}

int MPI_Gather(const void *s, int sn, MPI_Datatype st, void *r, int rn, MPI_Datatype rt, int root, MPI_Comm c)
{
    TIMED(F_GATHER, PMPI_Gather(s, sn, st, r, rn, rt, root, c));
}

int MPI_Gatherv(const void *s, int sn, MPI_Datatype st, void *r, const int *rn, const int *displ, MPI_Datatype rt,
                int root, MPI_Comm c)
{
    TIMED(F_GATHERV, PMPI_Gatherv(s, sn, st, r, rn, displ, rt, root, c));
}

int MPI_Alltoall(const void *s, int sn, MPI_Datatype st, void *r, int rn, MPI_Datatype rt, MPI_Comm c)
{
    TIMED(F_ALLTOALL, PMPI_Alltoall(s, sn, st, r, rn, rt, c));
}

int MPI_Alltoallv(const void *s, const int *sn, const int *sd, MPI_Datatype st, void *r, const int *rn,
                  const int *rd, MPI_Datatype rt, MPI_Comm c)
{
    TIMED(F_ALLTOALLV, PMPI_Alltoallv(s, sn, sd, st, r, rn, rd, rt, c));
}

int MPI_Exscan(const void *s, void *r, int n, MPI_Datatype t, MPI_Op op, MPI_Comm c)
{
    TIMED(F_EXSCAN, PMPI_Exscan(s, r, n, t, op, c));
}

int MPI_Scan(const void *s, void *r, int n, MPI_Datatype t, MPI_Op op, MPI_Comm c)
{
    TIMED(F_SCAN, PMPI_Scan(s, r, n, t, op, c));
}

int MPI_Scatter(const void *s, int sn, MPI_Datatype st, void *r, int rn, MPI_Datatype rt, int root, MPI_Comm c)
{
    TIMED(F_SCATTER, PMPI_Scatter(s, sn, st, r, rn, rt, root, c));
}

int MPI_Scatterv(const void *s, const int *sn, const int *displ, MPI_Datatype st, void *r, int rn, MPI_Datatype rt,
                 int root, MPI_Comm c)
{
    TIMED(F_SCATTERV, PMPI_Scatterv(s, sn, displ, st, r, rn, rt, root, c));
}

int MPI_Sendrecv(const void *s, int sn, MPI_Datatype st, int dest, int stag, void *r, int rn, MPI_Datatype rt,
                 int src, int rtag, MPI_Comm c, MPI_Status *status)
{
    TIMED(F_SENDRECV, PMPI_Sendrecv(s, sn, st, dest, stag, r, rn, rt, src, rtag, c, status));
}

int MPI_Wait(MPI_Request *req, MPI_Status *status)
{
    TIMED(F_WAIT, PMPI_Wait(req, status));
}

int MPI_Waitall(int n, MPI_Request reqs[], MPI_Status statuses[])
{
    TIMED(F_WAITALL, PMPI_Waitall(n, reqs, statuses));
}

int MPI_File_write_at_all(MPI_File fh, MPI_Offset off, const void *b, int n, MPI_Datatype t, MPI_Status *status)
{
    TIMED(F_FILE_WRITE_AT_ALL, PMPI_File_write_at_all(fh, off, b, n, t, status));
}

int MPI_File_read_at_all(MPI_File fh, MPI_Offset off, void *b, int n, MPI_Datatype t, MPI_Status *status)
{
    TIMED(F_FILE_READ_AT_ALL, PMPI_File_read_at_all(fh, off, b, n, t, status));
}

static void write_totals(int rank, double wall)
{
    const char *dir = getenv("DG_MPITIME_DIR");
    if (!dir)
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s/rank_%d.json", dir, rank);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "mpi_time: cannot write %s\n", path);
        return;
    }
    double total = 0.0;
    fprintf(f, "{\"rank\": %d, \"wall_seconds\": %.6f, \"functions\": {", rank, wall);
    int first = 1;
    for (int i = 0; i < F_COUNT; i++) {
        total += fn_seconds[i];
        if (fn_calls[i] == 0)
            continue;
        fprintf(f, "%s\"%s\": {\"seconds\": %.6f, \"calls\": %lld}", first ? "" : ", ", fn_name[i], fn_seconds[i],
                fn_calls[i]);
        first = 0;
    }
    fprintf(f, "}, \"mpi_seconds\": %.6f}\n", total);
    fclose(f);
}

int MPI_Finalize(void)
{
    int rank = 0;
    PMPI_Comm_rank(MPI_COMM_WORLD, &rank);
    write_totals(rank, PMPI_Wtime() - init_time);
    return PMPI_Finalize();
}
