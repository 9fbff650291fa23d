/* test_vectors.c - dg_job_run_vectors, the job on vectors the caller holds
 * (1, 2, 4 ranks): on vectors with planted near-copies and bad rows its
 * output has the same edges, components, keeps, clusters and statuses as
 * the job on the same vectors from an HDF5 file (dg_job_run), in run and
 * exact mode; the planted copies are found; NaN and zero rows become
 * bad_vector items; a split other than dg_range_lo's, or a dimension that
 * differs between ranks, fails with DG_E_INPUT on every rank; a config
 * without input loads and dg_job_run refuses it with DG_E_CONFIG. */
#include "mpi_harness.h"

#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dupgraph/dupgraph.h"

#define N 600
#define D 24
#define COPY_EVERY 10 /* item i with i % COPY_EVERY == 1 is a near-copy of item i - 1 */
#define NAN_ROW 7
#define ZERO_ROW 13

static char dir[256];

static float uniform(uint64_t *s)
{
    *s = dg_mix64(*s + 0x9e3779b97f4a7c15ULL);
    return (float)((double)(*s >> 11) / 9007199254740992.0) * 2.0f - 1.0f;
}

/* The whole N x D matrix, identical on every rank. */
static float *make_vectors(void)
{
    float *v = malloc(sizeof(float) * N * D);
    uint64_t s = 12345;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++)
            v[i * D + j] = i % COPY_EVERY == 1 ? v[(i - 1) * D + j] + 0.01f * uniform(&s) : uniform(&s);
    for (int j = 0; j < D; j++) {
        v[NAN_ROW * D + j] = j == 3 ? NAN : 0.5f;
        v[ZERO_ROW * D + j] = 0.0f;
    }
    return v;
}

static void write_h5(const char *path, const float *v)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[2] = {N, D};
    hid_t space = H5Screate_simple(2, dims, NULL);
    hid_t ds = H5Dcreate2(f, "/embeddings", H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    H5Dclose(ds);
    H5Sclose(space);
    H5Fclose(f);
}

/* The dataset's raw bytes (serial read); NULL if it is missing. */
static unsigned char *read_raw(const char *path, const char *name, size_t *bytes)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return NULL;
    unsigned char *buf = NULL;
    *bytes = 0;
    if (H5Lexists(f, name, H5P_DEFAULT) > 0) {
        hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
        hid_t type = H5Dget_type(ds), space = H5Dget_space(ds);
        hid_t mem = H5Tget_native_type(type, H5T_DIR_ASCEND);
        *bytes = (size_t)H5Sget_simple_extent_npoints(space) * H5Tget_size(mem);
        buf = malloc(*bytes ? *bytes : 1);
        if (*bytes && H5Dread(ds, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
            free(buf);
            buf = NULL;
        }
        H5Tclose(mem);
        H5Tclose(type);
        H5Sclose(space);
        H5Dclose(ds);
    }
    H5Fclose(f);
    return buf;
}

static int same_dataset(const char *a, const char *b, const char *name)
{
    size_t na = 0, nb = 0;
    unsigned char *x = read_raw(a, name, &na), *y = read_raw(b, name, &nb);
    int ok = x && y && na == nb && memcmp(x, y, na) == 0;
    if (!ok)
        fprintf(dgt_diag(), "%s differs between %s and %s (%zu and %zu bytes)\n", name, a, b, na, nb);
    free(x);
    free(y);
    return ok;
}

static int load_config(dg_config *cfg, const char *input, const char *output, dg_err *err)
{
    char text[1024];
    snprintf(text, sizeof text,
             "%s%s%s[output]\npath = %s\n[pairs]\nthreshold = 0.97\n[cluster]\nk = 8\nprobes = 2\n"
             "clusterings = 2\n[job]\nresume = false\n",
             input ? "[input]\nembeddings = " : "", input ? input : "", input ? "\n" : "", output);
    return dg_config_load_text(cfg, text, NULL, 0, err);
}

/* Rank 0 checks the planted copies and the bad rows in the output. */
static int planted_found(const char *path)
{
    size_t ns = 0, nd = 0, nst = 0;
    int64_t *src = (int64_t *)read_raw(path, "/edges/src", &ns);
    int64_t *dst = (int64_t *)read_raw(path, "/edges/dst", &nd);
    int8_t *status = (int8_t *)read_raw(path, "/items/status", &nst);
    int ok = src && dst && status && nst == N;
    size_t n_edges = ns / sizeof(int64_t);
    for (int i = 1; ok && i < N; i += COPY_EVERY) {
        if (i - 1 == NAN_ROW || i - 1 == ZERO_ROW || i == NAN_ROW || i == ZERO_ROW)
            continue;
        int found = 0;
        for (size_t e = 0; e < n_edges && !found; e++)
            found = src[e] == i - 1 && dst[e] == i;
        if (!found)
            fprintf(dgt_diag(), "%s: the planted pair (%d, %d) is missing\n", path, i - 1, i);
        ok &= found;
    }
    ok = ok && status[NAN_ROW] == DG_ST_BAD_VECTOR && status[ZERO_ROW] == DG_ST_BAD_VECTOR;
    free(src);
    free(dst);
    free(status);
    return ok;
}

static void run_both(dg_mode mode)
{
    dg_ctx ctx = dgt_quiet_ctx(MPI_COMM_WORLD);
    float *v = make_vectors();
    char h5[320], out_file[320], out_vec[320];
    snprintf(h5, sizeof h5, "%s/vectors.h5", dir);
    snprintf(out_file, sizeof out_file, "%s/from_file_%d.h5", dir, (int)mode);
    snprintf(out_vec, sizeof out_vec, "%s/from_memory_%d.h5", dir, (int)mode);
    if (ctx.rank == 0)
        write_h5(h5, v);
    MPI_Barrier(MPI_COMM_WORLD);

    dg_config cfg;
    dg_err err = {0};
    int ok = load_config(&cfg, h5, out_file, &err) == DG_OK && dg_job_run(&ctx, &cfg, mode, &err) == DG_OK;
    if (!ok)
        fprintf(dgt_diag(), "file input: %s\n", err.msg);
    assert_true(dgt_all_ranks(ok));

    /* no input in the config: it loads, and the vectors need none */
    ok = load_config(&cfg, NULL, out_vec, &err) == DG_OK;
    int64_t lo = dg_range_lo(N, ctx.size, ctx.rank), hi = dg_range_lo(N, ctx.size, ctx.rank + 1);
    ok = ok && dg_job_run_vectors(&ctx, &cfg, mode, v + lo * D, hi - lo, D, &err) == DG_OK;
    if (!ok)
        fprintf(dgt_diag(), "vectors in memory: %s\n", err.msg);
    assert_true(dgt_all_ranks(ok));

    ok = 1;
    if (ctx.rank == 0) {
        static const char *const names[] = {"/edges/src", "/edges/dst", "/edges/sim", "/items/component",
                                            "/items/keep", "/items/status", "/items/cluster", "/centroids"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            ok &= same_dataset(out_file, out_vec, names[i]);
        ok &= planted_found(out_vec);
    }
    assert_true(dgt_all_ranks(ok));
    free(v);
}

static void test_run_mode_same_as_file(void **state)
{
    (void)state;
    run_both(DG_MODE_RUN);
}

static void test_exact_mode_same_as_file(void **state)
{
    (void)state;
    run_both(DG_MODE_EXACT);
}

/* Another split than dg_range_lo's, or a dimension differing between
 * ranks, fails on every rank with DG_E_INPUT before any work. */
static void test_wrong_split_fails_everywhere(void **state)
{
    (void)state;
    dg_ctx ctx = dgt_quiet_ctx(MPI_COMM_WORLD);
    float *v = make_vectors();
    char out[320];
    snprintf(out, sizeof out, "%s/wrong.h5", dir);
    dg_config cfg;
    dg_err err = {0};
    assert_int_equal(load_config(&cfg, NULL, out, &err), DG_OK);
    int64_t lo = dg_range_lo(N, ctx.size, ctx.rank), hi = dg_range_lo(N, ctx.size, ctx.rank + 1);
    int64_t n = hi - lo;
    if (ctx.size > 1) /* rank 0 passes one row fewer, rank 1 one more: same N, another split */
        n += ctx.rank == 0 ? -1 : ctx.rank == 1 ? 1 : 0;
    int rc = dg_job_run_vectors(&ctx, &cfg, DG_MODE_RUN, v + lo * D, n, ctx.size > 1 ? D : 0, &err);
    int ok = rc == DG_FAIL && err.code == DG_E_INPUT && access(out, F_OK) != 0;
    if (!ok)
        fprintf(dgt_diag(), "rank %d: rc %d code %d: %s\n", ctx.rank, rc, (int)err.code, err.msg);
    assert_true(dgt_all_ranks(ok));

    /* a dimension that differs between ranks */
    err = (dg_err){0};
    rc = dg_job_run_vectors(&ctx, &cfg, DG_MODE_RUN, v + lo * D, hi - lo, ctx.rank == 0 ? D : D - 1, &err);
    ok = ctx.size == 1 ? rc == DG_OK : rc == DG_FAIL && err.code == DG_E_INPUT;
    assert_true(dgt_all_ranks(ok));
    free(v);
}

/* dg_job_run on a config without input: DG_E_CONFIG, the same message as before. */
static void test_file_job_needs_an_input(void **state)
{
    (void)state;
    dg_ctx ctx = dgt_quiet_ctx(MPI_COMM_WORLD);
    char out[320];
    snprintf(out, sizeof out, "%s/none.h5", dir);
    dg_config cfg;
    dg_err err = {0};
    assert_int_equal(load_config(&cfg, NULL, out, &err), DG_OK);
    int rc = dg_job_run(&ctx, &cfg, DG_MODE_RUN, &err);
    int ok = rc == DG_FAIL && err.code == DG_E_CONFIG && strstr(err.msg, "no input: set one of") != NULL;
    assert_true(dgt_all_ranks(ok));
}

static int setup(void **state)
{
    (void)state;
    if (dgt_world_rank() == 0) {
        snprintf(dir, sizeof dir, "/tmp/dg-test-vectors-XXXXXX");
        if (!mkdtemp(dir))
            return -1;
    }
    MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, MPI_COMM_WORLD);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    MPI_Barrier(MPI_COMM_WORLD);
    if (dgt_world_rank() == 0) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", dir);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_mode_same_as_file),
        cmocka_unit_test(test_exact_mode_same_as_file),
        cmocka_unit_test(test_wrong_split_fails_everywhere),
        cmocka_unit_test(test_file_job_needs_an_input),
    };
    return DGT_RUN(argc, argv, tests, setup, teardown);
}
