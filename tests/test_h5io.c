/* test_h5io.c - the HDF5 input and output of dupgraph, against files and
 * references built here with the plain HDF5 C API.
 *
 * Embeddings files (float32 and float16, with NaN/Inf/zero rows) are written
 * serially by rank 0 and read back collectively: every rank's rows must equal
 * the L2-normalised reference.  The probe must name the file, the dataset and
 * the problem.  Several files (a list, a glob pattern, a virtual dataset
 * over them) must read exactly as one file would.  Output files are written collectively from data that is a
 * function of the global id alone, then rank 0 reads every dataset and
 * attribute back serially and compares them with that reference, so the
 * result cannot depend on the number of ranks.  Failing writes must leave no
 * file.  Run under mpirun with 1, 2 and 4 ranks; every rank runs every test
 * and every assertion is on a value agreed by all ranks.
 */

#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "input/embeddings.h"
#include "input/float16.h"
#include "io/h5_output.h"
#include "io/h5_columns.h"
#include "io/h5_file.h"
#include "tools/info.h"
#include "mpi_harness.h"

enum { SEED = 977 };

/* ---- harness ------------------------------------------------------------- */

static char test_dir[256];

/* Counts failed expectations and prints the first few. */
typedef struct checker {
    int failures;
} checker;

static void expect(checker *ck, int cond, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void expect(checker *ck, int cond, const char *fmt, ...)
{
    if (cond || ck->failures++ >= 10)
        return;
    va_list ap;
    va_start(ap, fmt);
    dgt_vnote(fmt, ap);
    va_end(ap);
}

static void file_in_dir(char *buf, size_t len, const char *name)
{
    dgt_path(buf, len, test_dir, name);
}

static int exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* Files, datasets, groups and attributes left open by the library. */
static int open_hdf5_objects(void)
{
    return (int)H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL);
}

static int make_dir(void **state)
{
    (void)state;
    return dgt_tmpdir(test_dir, sizeof test_dir, "h5io", MPI_COMM_WORLD);
}

static int remove_dir(void **state)
{
    (void)state;
    return dgt_rmtree(test_dir, MPI_COMM_WORLD);
}

/* Rank 0 writes one dataset into a new file with the serial HDF5 API; the
 * others wait for it. */
static void write_input(const char *path, const char *dataset, hid_t ftype, hid_t mtype, int rank,
                        const hsize_t *dims, const void *data)
{
    int me;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    int ok = 1;
    if (me == 0) {
        hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        hid_t space = H5Screate_simple(rank, dims, NULL);
        hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
        H5Pset_create_intermediate_group(lcpl, 1);
        hid_t dset = H5Dcreate2(file, dataset, ftype, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
        ok = file >= 0 && dset >= 0 && H5Dwrite(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0;
        H5Dclose(dset);
        H5Pclose(lcpl);
        H5Sclose(space);
        H5Fclose(file);
    }
    assert_true(dgt_all_ranks(ok));
}

/* ---- embeddings input ---------------------------------------------------- */

/* The normalised reference of n x d raw rows: status and unit rows. */
static void normalise_reference(const float *raw, int64_t n, int d, float *unit, int8_t *status)
{
    for (int64_t i = 0; i < n; i++) {
        const float *r = raw + i * d;
        double ss = 0.0;
        int finite = 1;
        for (int j = 0; j < d; j++) {
            finite &= isfinite(r[j]) != 0;
            ss += (double)r[j] * r[j];
        }
        int good = finite && ss > 0.0 && isfinite(ss);
        status[i] = good ? DG_ST_OK : DG_ST_BAD_VECTOR;
        for (int j = 0; j < d; j++)
            unit[i * d + j] = good ? (float)(r[j] / sqrt(ss)) : 0.0f;
    }
}

/* Reads `dataset` collectively and compares every rank's share with the
 * normalised reference of the raw rows. */
static void expect_rows(const char *path, const char *dataset, const float *raw, int64_t n, int d)
{
    dg_ctx ctx = dgt_quiet_ctx(MPI_COMM_WORLD);
    float *unit = malloc(sizeof(float) * (size_t)(n * d));
    int8_t *status = malloc((size_t)n);
    normalise_reference(raw, n, d, unit, status);
    dg_items items;
    dg_err err = {0};
    checker ck = {0};
    int rc = dg_h5_read_embeddings(&ctx, path, dataset, &items, &err);
    expect(&ck, rc == DG_OK, "read failed: %s", err.msg);
    int64_t lo = dg_range_lo(n, ctx.size, ctx.rank), hi = dg_range_lo(n, ctx.size, ctx.rank + 1);
    if (rc == DG_OK) {
        expect(&ck, items.n_total == n && items.lo == lo && items.n == hi - lo && items.d == d,
               "shape: n_total %lld lo %lld n %lld d %d", (long long)items.n_total, (long long)items.lo,
               (long long)items.n, items.d);
        for (int64_t i = 0; i < items.n && items.lo == lo; i++) {
            expect(&ck, items.status[i] == status[lo + i], "row %lld: status %d, expected %d", (long long)(lo + i),
                   items.status[i], status[lo + i]);
            for (int j = 0; j < d; j++)
                expect(&ck, fabsf(items.vec[i * d + j] - unit[(lo + i) * d + j]) <= 1e-6f,
                       "row %lld col %d: %g, expected %g", (long long)(lo + i), j, items.vec[i * d + j],
                       unit[(lo + i) * d + j]);
        }
        dg_items_free(&items);
    }
    expect(&ck, open_hdf5_objects() == 0, "%d HDF5 objects left open", open_hdf5_objects());
    free(unit);
    free(status);
    assert_true(dgt_all_ranks(ck.failures == 0));
}

/* Raw rows with a NaN row, an Inf row and an all-zero row among them. */
static float *raw_rows(int64_t n, int d)
{
    float *raw = malloc(sizeof(float) * (size_t)(n * d));
    for (int64_t i = 0; i < n * d; i++)
        raw[i] = (float)(8.0 * dg_unit(dg_mix64(SEED + (uint64_t)i)) - 4.0);
    if (n > 9) {
        raw[2 * d + 1] = NAN;
        raw[5 * d + 0] = INFINITY;
        memset(raw + 8 * d, 0, sizeof(float) * (size_t)d);
    }
    return raw;
}

static void embeddings_float32_rows_equal_normalised_reference(void **state)
{
    (void)state;
    const int64_t n = 23;
    const int d = 7;
    char path[512];
    file_in_dir(path, sizeof path, "f32.h5");
    float *raw = raw_rows(n, d);
    hsize_t dims[2] = {(hsize_t)n, (hsize_t)d};
    write_input(path, "/group/emb", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, dims, raw);
    expect_rows(path, "/group/emb", raw, n, d);
    free(raw);
}

/* Decodes IEEE binary16 independently of HDF5. */
static float half_to_float(uint16_t h)
{
    int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
    float v;
    if (exponent == 0)
        v = ldexpf((float)mantissa, -24);
    else if (exponent == 31)
        v = mantissa ? NAN : INFINITY;
    else
        v = ldexpf((float)(mantissa | 0x400), exponent - 25);
    return (h & 0x8000) ? -v : v;
}

/* IEEE binary16 as h5py writes it. */
static hid_t float16_type(void)
{
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    H5Tset_fields(t, 15, 10, 5, 0, 10);
    H5Tset_size(t, 2);
    H5Tset_precision(t, 16);
    H5Tset_ebias(t, 15);
    return t;
}

static void embeddings_float16_converted_and_normalised(void **state)
{
    (void)state;
    const int64_t n = 19;
    const int d = 6;
    char path[512];
    file_in_dir(path, sizeof path, "f16.h5");
    uint16_t *bits = malloc(sizeof(uint16_t) * (size_t)(n * d));
    float *raw = malloc(sizeof(float) * (size_t)(n * d));
    for (int64_t i = 0; i < n * d; i++) {
        uint64_t h = dg_mix64(SEED * 7 + (uint64_t)i);
        /* every sign, exponents 0 (subnormal) .. 30, any mantissa */
        bits[i] = (uint16_t)(((h & 1) << 15) | (((h >> 1) % 31) << 10) | ((h >> 8) & 0x3ff));
    }
    bits[1 * d + 2] = 0x7e00;                  /* NaN */
    bits[4 * d + 5] = 0xfc00;                  /* -Inf */
    for (int j = 0; j < d; j++)
        bits[7 * d + j] = j % 2 ? 0x8000 : 0; /* +-0 */
    for (int64_t i = 0; i < n * d; i++)
        raw[i] = half_to_float(bits[i]);
    hid_t f16 = float16_type();
    hsize_t dims[2] = {(hsize_t)n, (hsize_t)d};
    write_input(path, "emb16", f16, f16, 2, dims, bits);
    H5Tclose(f16);

    dg_err err = {0};
    int64_t pn = 0;
    int pd = 0;
    int rc = dg_h5_probe_embeddings(path, "emb16", &pn, &pd, &err);
    assert_true(dgt_all_ranks(rc == DG_OK && pn == n && pd == d));
    expect_rows(path, "emb16", raw, n, d);
    free(bits);
    free(raw);
}

/* float16.c widens every binary16 value to the float HDF5's own conversion
 * gives (NaN to some NaN), also in place from the buffer's second half as
 * embeddings.c uses it. */
static void float16_widening_matches_hdf5_for_every_value(void **state)
{
    (void)state;
    enum { ALL = 65536 };
    uint16_t *bits = malloc(sizeof(uint16_t) * ALL);
    float *ours = malloc(sizeof(float) * ALL), *ref = malloc(sizeof(float) * ALL), *in_place = malloc(sizeof(float) * ALL);
    assert_non_null(bits && ours && ref && in_place);
    for (int i = 0; i < ALL; i++)
        bits[i] = (uint16_t)i;
    dg_half_to_float(bits, ours, ALL);
    memcpy(ref, bits, sizeof(uint16_t) * ALL);
    hid_t f16 = float16_type();
    assert_true(H5Tconvert(f16, H5T_NATIVE_FLOAT, ALL, ref, NULL, H5P_DEFAULT) >= 0);
    H5Tclose(f16);
    memcpy((uint16_t *)in_place + ALL, bits, sizeof(uint16_t) * ALL);
    dg_half_to_float((const uint16_t *)in_place + ALL, in_place, ALL);
    int differ = 0;
    for (int i = 0; i < ALL; i++) {
        int same = isnan(ref[i]) ? isnan(ours[i]) : memcmp(&ours[i], &ref[i], sizeof(float)) == 0;
        differ += !same || memcmp(&ours[i], &in_place[i], sizeof(float)) != 0;
    }
    assert_int_equal(differ, 0);
    free(bits);
    free(ours);
    free(ref);
    free(in_place);
}

/* A 16-bit float that is not IEEE binary16 (bfloat16: 8 exponent bits) is
 * not taken for one: HDF5 converts it. */
static void embeddings_bfloat16_converted_by_hdf5(void **state)
{
    (void)state;
    const int64_t n = 11;
    const int d = 5;
    char path[512];
    file_in_dir(path, sizeof path, "bf16.h5");
    uint16_t *bits = malloc(sizeof(uint16_t) * (size_t)(n * d));
    float *raw = malloc(sizeof(float) * (size_t)(n * d));
    for (int64_t i = 0; i < n * d; i++) {
        uint64_t h = dg_mix64(SEED * 11 + (uint64_t)i);
        bits[i] = (uint16_t)(((h & 1) << 15) | ((100 + (h >> 1) % 50) << 7) | ((h >> 8) & 0x7f));
        uint32_t wide = (uint32_t)bits[i] << 16; /* bfloat16 is float32's high half */
        memcpy(&raw[i], &wide, sizeof wide);
    }
    hid_t bf16 = H5Tcopy(H5T_IEEE_F32LE);
    H5Tset_fields(bf16, 15, 7, 8, 0, 7);
    H5Tset_size(bf16, 2);
    H5Tset_precision(bf16, 16);
    H5Tset_ebias(bf16, 127);
    hsize_t dims[2] = {(hsize_t)n, (hsize_t)d};
    write_input(path, "bf16", bf16, bf16, 2, dims, bits);
    H5Tclose(bf16);
    expect_rows(path, "bf16", raw, n, d);
    free(bits);
    free(raw);
}

/* With fewer rows than ranks some ranks read nothing, and still take part. */
static void embeddings_fewer_rows_than_ranks(void **state)
{
    (void)state;
    char path[512];
    file_in_dir(path, sizeof path, "tiny.h5");
    for (int64_t n = 1; n <= 3; n++) {
        const int d = 3;
        float *raw = raw_rows(n, d);
        hsize_t dims[2] = {(hsize_t)n, (hsize_t)d};
        write_input(path, "/embeddings", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, dims, raw);
        expect_rows(path, "/embeddings", raw, n, d);
        free(raw);
    }
}

/* Probes a file on every rank and expects failure with all the fragments. */
static void expect_probe_error(const char *path, const char *dataset, const char *frag1, const char *frag2)
{
    dg_err err = {0};
    int64_t n = -1;
    int d = -1;
    int rc = dg_h5_probe_embeddings(path, dataset, &n, &d, &err);
    checker ck = {0};
    expect(&ck, rc == DG_FAIL, "probe of %s %s succeeded", path, dataset);
    expect(&ck, strstr(err.msg, path) && strstr(err.msg, frag1) && strstr(err.msg, frag2),
           "message '%s' lacks '%s' / '%s'", err.msg, frag1, frag2);
    expect(&ck, open_hdf5_objects() == 0, "HDF5 objects left open");
    assert_true(dgt_all_ranks(ck.failures == 0));
}

static void probe_names_file_dataset_and_problem(void **state)
{
    (void)state;
    char path[512], text[512];
    file_in_dir(path, sizeof path, "bad.h5");
    file_in_dir(text, sizeof text, "text.h5");
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0) {
        FILE *f = fopen(text, "w");
        fputs("not hdf5 at all\n", f);
        fclose(f);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    expect_probe_error(text, "/embeddings", "not an HDF5 file", "input.embeddings");

    file_in_dir(path, sizeof path, "missing.h5");
    expect_probe_error(path, "/embeddings", "No such file", "input.embeddings");

    file_in_dir(path, sizeof path, "bad.h5");
    float cube[24] = {0};
    hsize_t dims3[3] = {2, 3, 4};
    write_input(path, "/emb", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, dims3, cube);
    expect_probe_error(path, "/emb", "dataset /emb has rank 3", "expected 2 (N x D)");
    expect_probe_error(path, "/vectors", "no dataset /vectors", "input.embeddings");

    int32_t ints[6] = {0};
    hsize_t dims2[2] = {3, 2};
    write_input(path, "/emb", H5T_STD_I32LE, H5T_NATIVE_INT32, 2, dims2, ints);
    expect_probe_error(path, "/emb", "has dtype int32", "expected float32 or float16");

    double doubles[6] = {0};
    write_input(path, "/emb", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dims2, doubles);
    expect_probe_error(path, "/emb", "has dtype float64", "expected float32 or float16");

    hsize_t no_cols[2] = {3, 0};
    write_input(path, "/emb", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, no_cols, cube);
    expect_probe_error(path, "/emb", "0 columns", "(D)");

    hsize_t no_rows[2] = {0, 4};
    write_input(path, "/emb", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, no_rows, cube);
    expect_probe_error(path, "/emb", "no rows", "/emb");
}

static void read_embeddings_fails_on_every_rank(void **state)
{
    (void)state;
    char path[512];
    file_in_dir(path, sizeof path, "small.h5");
    float raw[6] = {1, 2, 3, 4, 5, 6};
    hsize_t dims[2] = {3, 2};
    write_input(path, "/embeddings", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, dims, raw);
    dg_ctx ctx = dgt_quiet_ctx(MPI_COMM_WORLD);
    dg_items items;
    dg_err err = {0};
    int rc = dg_h5_read_embeddings(&ctx, path, "/nothing/here", &items, &err);
    checker ck = {0};
    expect(&ck, rc == DG_FAIL && strstr(err.msg, "/nothing/here") && strstr(err.msg, path),
           "rc %d, message '%s'", rc, err.msg);
    expect(&ck, items.vec == NULL && items.n == 0, "items not cleared after failure");
    file_in_dir(path, sizeof path, "missing.h5");
    rc = dg_h5_read_embeddings(&ctx, path, "/embeddings", &items, &err);
    expect(&ck, rc == DG_FAIL && strstr(err.msg, path), "rc %d, message '%s'", rc, err.msg);
    expect(&ck, open_hdf5_objects() == 0, "HDF5 objects left open");
    assert_true(dgt_all_ranks(ck.failures == 0));
}

/* ---- several files, glob patterns, virtual datasets ----------------------- */

enum { PARTS = 3 };
static const int64_t part_rows[PARTS] = {10, 1, 26}; /* 37 rows: parts straddle every rank boundary */

/* Rank 0 writes a virtual dataset /embeddings in `path` that maps the parts'
 * /embeddings in order, by names relative to path's folder. */
static void write_vds(const char *path, char parts[][512], int d)
{
    int me;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    int ok = 1;
    if (me == 0) {
        hsize_t total[2] = {0, (hsize_t)d};
        for (int i = 0; i < PARTS; i++)
            total[0] += (hsize_t)part_rows[i];
        hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        hid_t vspace = H5Screate_simple(2, total, NULL);
        hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
        hsize_t lo = 0;
        for (int i = 0; i < PARTS; i++) {
            hsize_t start[2] = {lo, 0}, count[2] = {(hsize_t)part_rows[i], (hsize_t)d};
            hid_t src = H5Screate_simple(2, count, NULL);
            ok &= H5Sselect_hyperslab(vspace, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
                  H5Pset_virtual(dcpl, vspace, strrchr(parts[i], '/') + 1, "/embeddings", src) >= 0;
            H5Sclose(src);
            lo += count[0];
        }
        H5Sselect_all(vspace);
        hid_t dset = H5Dcreate2(file, "/embeddings", H5T_IEEE_F32LE, vspace, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        ok &= file >= 0 && dset >= 0;
        H5Dclose(dset);
        H5Pclose(dcpl);
        H5Sclose(vspace);
        H5Fclose(file);
    }
    assert_true(dgt_all_ranks(ok));
}

/* The parts shard_0.h5 .. shard_2.h5 of raw (n x d), written in reverse
 * order (glob must sort). */
static void write_parts(const float *raw, int d, char parts[][512])
{
    int64_t lo[PARTS] = {0, part_rows[0], part_rows[0] + part_rows[1]};
    for (int i = PARTS - 1; i >= 0; i--) {
        char name[32];
        snprintf(name, sizeof name, "shard_%d.h5", i);
        file_in_dir(parts[i], 512, name);
        hsize_t dims[2] = {(hsize_t)part_rows[i], (hsize_t)d};
        write_input(parts[i], "/embeddings", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, dims, raw + lo[i] * d);
    }
}

static void embeddings_list_glob_and_vds_read_as_one_file(void **state)
{
    (void)state;
    const int64_t n = 37;
    const int d = 5;
    float *raw = raw_rows(n, d);
    char parts[PARTS][512], list[3 * 512 + 4], pattern[512], vds[512];
    write_parts(raw, d, parts);
    snprintf(list, sizeof list, "%s,%s,%s", parts[0], parts[1], parts[2]);
    file_in_dir(pattern, sizeof pattern, "shard_*.h5");
    file_in_dir(vds, sizeof vds, "all_vds.h5");
    write_vds(vds, parts, d);
    expect_rows(list, "/embeddings", raw, n, d);
    expect_rows(pattern, "/embeddings", raw, n, d);
    expect_rows(vds, "/embeddings", raw, n, d);

    checker ck = {0};
    dg_err err = {0};
    dg_emb_sources s;
    int rc = dg_h5_probe_sources(pattern, "/embeddings", &s, &err);
    expect(&ck, rc == DG_OK && s.n_inputs == PARTS && s.n_segments == PARTS && s.n_total == n && s.d == d,
           "glob: rc %d, %d files, %d segments, %lld x %d (%s)", rc, s.n_inputs, s.n_segments, (long long)s.n_total,
           s.d, err.msg);
    if (rc == DG_OK) {
        expect(&ck, strcmp(s.inputs[0], parts[0]) == 0 && strcmp(s.inputs[2], parts[2]) == 0, "glob order: %s, ...",
               s.inputs[0]);
        int64_t ids[5] = {0, 9, 10, 11, 36};
        int want[5] = {0, 0, 1, 2, 2};
        for (int i = 0; i < 5; i++)
            expect(&ck, dg_emb_sources_input_of(&s, ids[i]) == want[i], "id %lld in file %d, expected %d",
                   (long long)ids[i], dg_emb_sources_input_of(&s, ids[i]), want[i]);
        dg_emb_sources_free(&s);
    }
    rc = dg_h5_probe_sources(vds, "/embeddings", &s, &err);
    /* the virtual file and its three sources are what the rows depend on */
    expect(&ck, rc == DG_OK && s.n_inputs == 1 && s.n_segments == PARTS && s.n_deps == PARTS + 1 &&
                    strcmp(s.seg[1].path, parts[1]) == 0 && s.seg[2].lo == 11,
           "vds: rc %d, %d files, %d segments, %d deps (%s)", rc, s.n_inputs, s.n_segments, s.n_deps, err.msg);
    if (rc == DG_OK)
        dg_emb_sources_free(&s);
    expect(&ck, open_hdf5_objects() == 0, "HDF5 objects left open");
    assert_true(dgt_all_ranks(ck.failures == 0));
    free(raw);
}

/* Probes spec and expects failure with `code` and both fragments. */
static void expect_spec_error(const char *spec, dg_code code, const char *frag1, const char *frag2)
{
    dg_err err = {0};
    int64_t n = -1;
    int d = -1;
    int rc = dg_h5_probe_embeddings(spec, "/embeddings", &n, &d, &err);
    checker ck = {0};
    expect(&ck, rc == DG_FAIL && err.code == code, "probe of %s: rc %d, code %d, expected %d", spec, rc, err.code, code);
    expect(&ck, strstr(err.msg, frag1) && strstr(err.msg, frag2), "message '%s' lacks '%s' / '%s'", err.msg, frag1,
           frag2);
    expect(&ck, open_hdf5_objects() == 0, "HDF5 objects left open");
    assert_true(dgt_all_ranks(ck.failures == 0));
}

static void embeddings_list_errors_name_the_file(void **state)
{
    (void)state;
    const int d = 5;
    float *raw = raw_rows(37, d);
    char parts[PARTS][512], other[512], missing[512], spec[2 * 512 + 4], vds[512];
    write_parts(raw, d, parts);
    file_in_dir(other, sizeof other, "other_d.h5");
    hsize_t dims[2] = {4, 4};
    write_input(other, "/embeddings", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, dims, raw);
    snprintf(spec, sizeof spec, "%s,%s", parts[0], other);
    expect_spec_error(spec, DG_E_INPUT, other, "has D = 4");

    file_in_dir(missing, sizeof missing, "gone.h5");
    snprintf(spec, sizeof spec, "%s,%s", parts[0], missing);
    expect_spec_error(spec, DG_E_INPUT, missing, "No such file");

    file_in_dir(spec, sizeof spec, "nothing_*.h5");
    expect_spec_error(spec, DG_E_INPUT, "nothing_*.h5", "no file matches");
    snprintf(spec, sizeof spec, "%s,,%s", parts[0], parts[1]);
    expect_spec_error(spec, DG_E_CONFIG, "empty entry", parts[1]);
    snprintf(spec, sizeof spec, "%s,%s", parts[1], parts[1]);
    expect_spec_error(spec, DG_E_CONFIG, parts[1], "listed twice");

    /* a virtual dataset whose source is gone */
    char gone_parts[PARTS][512];
    memcpy(gone_parts, parts, sizeof parts);
    snprintf(gone_parts[1], sizeof gone_parts[1], "%s", missing);
    file_in_dir(vds, sizeof vds, "gone_vds.h5");
    write_vds(vds, gone_parts, d);
    expect_spec_error(vds, DG_E_INPUT, missing, "No such file");
    free(raw);
}

/* ---- output: reference data, a function of the global id ---------------- */

typedef struct out_case {
    int64_t n;
    int d;
    int c;     /* clusterings */
    int64_t k;
    int paths; /* image input: paths, widths and heights; 2: paths of ~4 KB */
    int edges; /* 0: no edges at all */
    int embeddings;
} out_case;

static int8_t ref_status(int64_t i)
{
    return (int8_t)(dg_mix64(SEED ^ (uint64_t)i) % DG_ST_COUNT);
}

enum { REF_PATH_MAX = 4200 };

/* The path of item i, or "" for an item without one. */
static void ref_path(const out_case *oc, int64_t i, char *buf)
{
    int fill = oc->paths == 2 ? 3000 + (int)(i % 997) : (int)((i * 7) % 23);
    if (!oc->paths || i % 5 == 2) {
        buf[0] = '\0';
        return;
    }
    int at = snprintf(buf, REF_PATH_MAX, "dir/%lld/", (long long)i);
    memset(buf + at, 'a' + (int)(i % 26), (size_t)fill);
    snprintf(buf + at + fill, REF_PATH_MAX - (size_t)(at + fill), ".jpg");
}

static int64_t ref_component(int64_t i)
{
    return i - i % 3;
}

static int32_t ref_cluster(const out_case *oc, int64_t i, int c)
{
    return i % 6 == 5 ? -1 : (int32_t)((i * 31 + c * 7) % oc->k);
}

static float ref_vec(const out_case *oc, int64_t i, int j)
{
    return (float)dg_unit(dg_mix64(SEED * 3 + (uint64_t)(i * oc->d + j)));
}

static float ref_centroid(int64_t idx)
{
    return (float)dg_unit(dg_mix64(SEED * 5 + (uint64_t)idx));
}

/* Edge (i, j) for i < j <= i + 5 exists for about a third of the pairs. */
static int ref_edge(const out_case *oc, int64_t i, int64_t j, float *sim)
{
    uint64_t h = dg_mix64((uint64_t)(i * 1000003 + j));
    *sim = (float)(0.5 + 0.5 * dg_unit(h));
    return oc->edges && j < oc->n && h % 3 == 0;
}

static int64_t ref_edge_count(const out_case *oc, int64_t lo, int64_t hi)
{
    int64_t count = 0;
    float sim;
    for (int64_t i = lo; i < hi; i++)
        for (int64_t j = i + 1; j <= i + 5; j++)
            count += ref_edge(oc, i, j, &sim);
    return count;
}

static const char *const config_text = "[pairs]\nthreshold = 0.85\nblock = 512\n[cluster]\nk = 3\n";
static const dg_stage_time stage_times[] = {{"read", 1.5}, {"cluster", 2.25}, {"pairs", 0.125}};
static const float extra_matrix[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
static const float extra_mean[4] = {0.5f, -0.5f, 0.25f, -0.25f};
static const dg_extra_dataset extras[] = {
    {"/projection/matrix", 2, {3, 4}, extra_matrix},
    {"/projection/mean", 1, {4, 0}, extra_mean},
};

/* This rank's share of an output case. */
typedef struct out_data {
    dg_items items;
    int64_t *component;
    int8_t *keep;
    int32_t *cluster;
    float *centroids;
    dg_edges edges;
    dg_output out;
} out_data;

static void fill_items(const out_case *oc, dg_items *it)
{
    for (int64_t i = 0; i < it->n; i++) {
        int64_t g = it->lo + i;
        it->status[i] = ref_status(g);
        for (int j = 0; j < oc->d; j++)
            it->vec[i * oc->d + j] = ref_vec(oc, g, j);
        if (!oc->paths)
            continue;
        char path[REF_PATH_MAX];
        ref_path(oc, g, path);
        it->path[i] = path[0] ? strdup(path) : NULL;
        it->width[i] = (int32_t)(100 + g);
        it->height[i] = (int32_t)(200 + 2 * g);
    }
}

static void make_output(const dg_ctx *ctx, const out_case *oc, out_data *od)
{
    memset(od, 0, sizeof *od);
    dg_err err;
    int64_t lo = dg_range_lo(oc->n, ctx->size, ctx->rank), hi = dg_range_lo(oc->n, ctx->size, ctx->rank + 1);
    assert_int_equal(dg_items_alloc(&od->items, oc->n, lo, hi - lo, oc->d, oc->paths, &err), DG_OK);
    fill_items(oc, &od->items);
    int64_t n = hi - lo;
    od->component = malloc(sizeof(int64_t) * (size_t)(n + 1));
    od->keep = malloc((size_t)(n + 1));
    od->cluster = malloc(sizeof(int32_t) * (size_t)(n * oc->c + 1));
    od->centroids = malloc(sizeof(float) * (size_t)(oc->c * oc->k * oc->d + 1));
    for (int64_t i = 0; i < n; i++) {
        od->component[i] = ref_component(lo + i);
        od->keep[i] = (int8_t)((lo + i) % 3 == 0);
        for (int c = 0; c < oc->c; c++)
            od->cluster[i * oc->c + c] = ref_cluster(oc, lo + i, c);
    }
    for (int64_t x = 0; x < oc->c * oc->k * oc->d; x++)
        od->centroids[x] = ref_centroid(x);
    float sim;
    for (int64_t i = lo; i < hi; i++)
        for (int64_t j = i + 1; j <= i + 5; j++)
            if (ref_edge(oc, i, j, &sim))
                assert_int_equal(dg_edges_push(&od->edges, i, j, sim, &err), DG_OK);
    od->out = (dg_output){
        .config_text = config_text,
        .mode = "run",
        .embedder = "embeddings",
        .threshold = 0.85f,
        .probes = 2,
        .keep_policy = "first",
        .seed = 0xfedcba9876543210ULL,
        .items = &od->items,
        .component = od->component,
        .keep = od->keep,
        .cluster = od->cluster,
        .clusterings = oc->c,
        .k = oc->k,
        .centroids = oc->c ? od->centroids : NULL,
        .edges = &od->edges,
        .write_embeddings = oc->embeddings,
        .times = stage_times,
        .n_times = 3,
        .extra = extras,
        .n_extra = 2,
        .n_failed = 11,
        .n_edges = ref_edge_count(oc, 0, oc->n),
        .n_components = 22,
        .n_removed = 33,
    };
}

static void free_output(out_data *od)
{
    dg_items_free(&od->items);
    dg_edges_free(&od->edges);
    free(od->component);
    free(od->keep);
    free(od->cluster);
    free(od->centroids);
}

/* ---- output: serial reading with the plain HDF5 API ---------------------- */

/* The whole dataset if it has the expected shape, else NULL (noted). */
static void *read_all(checker *ck, hid_t file, const char *name, hid_t mtype, int rank, const hsize_t *dims)
{
    hid_t dset = H5Dopen2(file, name, H5P_DEFAULT);
    expect(ck, dset >= 0, "%s is missing", name);
    if (dset < 0)
        return NULL;
    hid_t space = H5Dget_space(dset);
    hsize_t got[3] = {0, 0, 0};
    int got_rank = H5Sget_simple_extent_dims(space, got, NULL);
    int same = got_rank == rank;
    size_t cells = 1;
    for (int i = 0; same && i < rank; i++) {
        same = got[i] == dims[i];
        cells *= dims[i];
    }
    expect(ck, same, "%s has rank %d shape %llu x %llu", name, got_rank, (unsigned long long)got[0],
           (unsigned long long)got[1]);
    void *buf = same ? calloc(cells + 1, H5Tget_size(mtype)) : NULL;
    if (buf && H5Dread(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        expect(ck, 0, "reading %s failed", name);
        free(buf);
        buf = NULL;
    }
    H5Sclose(space);
    H5Dclose(dset);
    return buf;
}

static int has_link(hid_t file, const char *name)
{
    return H5Lexists(file, name, H5P_DEFAULT) > 0;
}

static char *string_attr(hid_t file, const char *name)
{
    hid_t attr = H5Aopen(file, name, H5P_DEFAULT);
    hid_t type = attr < 0 ? -1 : H5Aget_type(attr);
    char *vl = NULL, *copy = NULL;
    if (type >= 0 && H5Tget_class(type) == H5T_STRING && H5Tis_variable_str(type) > 0 &&
        H5Aread(attr, type, &vl) >= 0) {
        copy = strdup(vl);
        H5free_memory(vl);
    }
    if (type >= 0)
        H5Tclose(type);
    if (attr >= 0)
        H5Aclose(attr);
    return copy;
}

/* A numeric attribute stored with exactly the file type `ftype`. */
static int numeric_attr(hid_t file, const char *name, hid_t ftype, hid_t mtype, void *value)
{
    hid_t attr = H5Aopen(file, name, H5P_DEFAULT);
    hid_t type = attr < 0 ? -1 : H5Aget_type(attr);
    int ok = type >= 0 && H5Tequal(type, ftype) > 0 && H5Aread(attr, mtype, value) >= 0;
    if (type >= 0)
        H5Tclose(type);
    if (attr >= 0)
        H5Aclose(attr);
    return ok;
}

static void check_attributes(checker *ck, hid_t file, const out_data *od, int ranks)
{
    char *format = string_attr(file, "format"), *program = string_attr(file, "program_version");
    char *config = string_attr(file, "config");
    expect(ck, format && strcmp(format, "dupgraph") == 0, "format = %s", format ? format : "(none)");
    expect(ck, program && strcmp(program, DG_VERSION) == 0, "program_version = %s", program ? program : "(none)");
    expect(ck, config && strcmp(config, config_text) == 0, "config differs");
    free(format);
    free(program);
    free(config);
    int32_t version = 0, nranks = 0;
    uint64_t seed = 0;
    expect(ck, numeric_attr(file, "format_version", H5T_STD_I32LE, H5T_NATIVE_INT32, &version) &&
                    version == DG_FORMAT_VERSION,
           "format_version");
    expect(ck, numeric_attr(file, "ranks", H5T_STD_I32LE, H5T_NATIVE_INT32, &nranks) && nranks == ranks, "ranks");
    expect(ck, numeric_attr(file, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, &seed) && seed == od->out.seed, "seed");
    for (int i = 0; i < 3; i++) {
        char name[64];
        double s = -1;
        snprintf(name, sizeof name, "seconds_%s", stage_times[i].name);
        expect(ck, numeric_attr(file, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &s) && s == stage_times[i].seconds,
               "%s = %g", name, s);
    }
    const char *names[] = {"n_items", "n_failed", "n_edges", "n_components", "n_removed"};
    int64_t want[] = {od->items.n_total, 11, od->out.n_edges, 22, 33};
    for (int i = 0; i < 5; i++) {
        int64_t v = -1;
        expect(ck, numeric_attr(file, names[i], H5T_STD_I64LE, H5T_NATIVE_INT64, &v) && v == want[i],
               "%s = %lld, expected %lld", names[i], (long long)v, (long long)want[i]);
    }
}

static void check_status_type(checker *ck, hid_t file)
{
    hid_t dset = H5Dopen2(file, "/items/status", H5P_DEFAULT);
    hid_t type = dset < 0 ? -1 : H5Dget_type(dset);
    expect(ck, type >= 0 && H5Tget_class(type) == H5T_ENUM && H5Tget_size(type) == 1, "status is not an int8 enum");
    for (int s = 0; type >= 0 && s < DG_ST_COUNT; s++) {
        int8_t v = (int8_t)s;
        char name[64] = "";
        H5Tenum_nameof(type, &v, name, sizeof name);
        expect(ck, strcmp(name, dg_status_name((dg_status)s)) == 0, "status %d is named '%s'", s, name);
    }
    if (type >= 0)
        H5Tclose(type);
    if (dset >= 0)
        H5Dclose(dset);
}

/* /items/path: NUL-padded fixed strings as long as the longest path. */
static void check_paths(checker *ck, hid_t file, const out_case *oc)
{
    size_t longest = 1;
    char ref[REF_PATH_MAX];
    for (int64_t i = 0; i < oc->n; i++) {
        ref_path(oc, i, ref);
        longest = strlen(ref) > longest ? strlen(ref) : longest;
    }
    hid_t dset = H5Dopen2(file, "/items/path", H5P_DEFAULT);
    hid_t type = dset < 0 ? -1 : H5Dget_type(dset);
    int fixed = type >= 0 && H5Tget_class(type) == H5T_STRING && H5Tis_variable_str(type) == 0 &&
                H5Tget_size(type) == longest && H5Tget_strpad(type) == H5T_STR_NULLPAD;
    expect(ck, fixed, "/items/path is not a NUL-padded string of %zu bytes", longest);
    hsize_t dims[1] = {(hsize_t)oc->n};
    char *buf = fixed ? read_all(ck, file, "/items/path", type, 1, dims) : NULL;
    char *padded = malloc(longest);
    for (int64_t i = 0; buf && i < oc->n; i++) {
        ref_path(oc, i, ref);
        memset(padded, 0, longest);
        memcpy(padded, ref, strlen(ref));
        expect(ck, memcmp(buf + i * longest, padded, longest) == 0, "path %lld differs from '%.40s'", (long long)i,
               ref);
    }
    free(padded);
    free(buf);
    if (type >= 0)
        H5Tclose(type);
    if (dset >= 0)
        H5Dclose(dset);
}

static void check_items(checker *ck, hid_t file, const out_case *oc)
{
    hsize_t n1[1] = {(hsize_t)oc->n}, nc[2] = {(hsize_t)oc->n, (hsize_t)oc->c};
    int64_t *id = read_all(ck, file, "/items/id", H5T_NATIVE_INT64, 1, n1);
    int8_t *status = read_all(ck, file, "/items/status", H5T_NATIVE_INT8, 1, n1);
    int32_t *width = read_all(ck, file, "/items/width", H5T_NATIVE_INT32, 1, n1);
    int32_t *height = read_all(ck, file, "/items/height", H5T_NATIVE_INT32, 1, n1);
    int64_t *component = read_all(ck, file, "/items/component", H5T_NATIVE_INT64, 1, n1);
    int8_t *keep = read_all(ck, file, "/items/keep", H5T_NATIVE_INT8, 1, n1);
    int32_t *cluster = oc->c ? read_all(ck, file, "/items/cluster", H5T_NATIVE_INT32, 2, nc) : NULL;
    expect(ck, oc->c > 0 || !has_link(file, "/items/cluster"), "/items/cluster written without clusterings");
    for (int64_t i = 0; id && status && width && height && component && keep && i < oc->n; i++) {
        expect(ck, id[i] == i, "id[%lld] = %lld", (long long)i, (long long)id[i]);
        expect(ck, status[i] == ref_status(i), "status[%lld] = %d", (long long)i, status[i]);
        expect(ck, width[i] == (oc->paths ? 100 + i : 0) && height[i] == (oc->paths ? 200 + 2 * i : 0),
               "size[%lld] = %d x %d", (long long)i, width[i], height[i]);
        expect(ck, component[i] == ref_component(i), "component[%lld]", (long long)i);
        expect(ck, keep[i] == (i % 3 == 0), "keep[%lld]", (long long)i);
        for (int c = 0; cluster && c < oc->c; c++)
            expect(ck, cluster[i * oc->c + c] == ref_cluster(oc, i, c), "cluster[%lld][%d]", (long long)i, c);
    }
    free(id);
    free(status);
    free(width);
    free(height);
    free(component);
    free(keep);
    free(cluster);
    check_status_type(ck, file);
    check_paths(ck, file, oc);
}

/* The reference edges in global (src, dst) order. */
static void ref_edges(const out_case *oc, dg_edges *e)
{
    dg_err err;
    float sim;
    for (int64_t i = 0; i < oc->n; i++)
        for (int64_t j = i + 1; j <= i + 5; j++)
            if (ref_edge(oc, i, j, &sim))
                dg_edges_push(e, i, j, sim, &err);
}

static void expect_same_edges(checker *ck, const dg_edges *got, const dg_edges *want, const char *what)
{
    expect(ck, got->n == want->n, "%s: %lld edges, expected %lld", what, (long long)got->n, (long long)want->n);
    for (int64_t i = 0; got->n == want->n && i < want->n; i++)
        expect(ck, got->src[i] == want->src[i] && got->dst[i] == want->dst[i] && got->sim[i] == want->sim[i],
               "%s: edge %lld is (%lld, %lld, %g)", what, (long long)i, (long long)got->src[i],
               (long long)got->dst[i], got->sim[i]);
}

static void check_edges(checker *ck, hid_t file, const char *path, const out_case *oc)
{
    dg_edges want = {0}, got = {0};
    ref_edges(oc, &want);
    hsize_t ne[1] = {(hsize_t)want.n};
    got.src = read_all(ck, file, "/edges/src", H5T_NATIVE_INT64, 1, ne);
    got.dst = read_all(ck, file, "/edges/dst", H5T_NATIVE_INT64, 1, ne);
    got.sim = read_all(ck, file, "/edges/sim", H5T_NATIVE_FLOAT, 1, ne);
    got.n = got.src && got.dst && got.sim ? want.n : -1;
    expect_same_edges(ck, &got, &want, "/edges");
    dg_edges_free(&got);
    dg_err err = {0};
    expect(ck, dg_h5_read_edges(path, &got, &err) == DG_OK, "dg_h5_read_edges: %s", err.msg);
    expect_same_edges(ck, &got, &want, "dg_h5_read_edges");
    dg_edges_free(&got);
    dg_edges_free(&want);
}

static void check_vectors(checker *ck, hid_t file, const out_case *oc)
{
    hsize_t ckd[3] = {(hsize_t)oc->c, (hsize_t)oc->k, (hsize_t)oc->d}, nd[2] = {(hsize_t)oc->n, (hsize_t)oc->d};
    float *centroids = oc->c ? read_all(ck, file, "/centroids", H5T_NATIVE_FLOAT, 3, ckd) : NULL;
    for (int64_t x = 0; centroids && x < oc->c * oc->k * oc->d; x++)
        expect(ck, centroids[x] == ref_centroid(x), "centroid value %lld", (long long)x);
    expect(ck, oc->c > 0 || !has_link(file, "/centroids"), "/centroids written without clusterings");
    float *emb = oc->embeddings ? read_all(ck, file, "/embeddings", H5T_NATIVE_FLOAT, 2, nd) : NULL;
    for (int64_t i = 0; emb && i < oc->n; i++)
        for (int j = 0; j < oc->d; j++)
            expect(ck, emb[i * oc->d + j] == ref_vec(oc, i, j), "embedding %lld,%d", (long long)i, j);
    expect(ck, oc->embeddings || !has_link(file, "/embeddings"), "/embeddings written when not asked for");
    hsize_t md[2] = {3, 4}, vd[1] = {4};
    float *matrix = read_all(ck, file, "/projection/matrix", H5T_NATIVE_FLOAT, 2, md);
    float *mean = read_all(ck, file, "/projection/mean", H5T_NATIVE_FLOAT, 1, vd);
    expect(ck, matrix && memcmp(matrix, extra_matrix, sizeof extra_matrix) == 0, "/projection/matrix differs");
    expect(ck, mean && memcmp(mean, extra_mean, sizeof extra_mean) == 0, "/projection/mean differs");
    free(centroids);
    free(emb);
    free(matrix);
    free(mean);
}

/* Rank 0 checks the file; every rank learns the verdict. */
static int output_matches(const char *path, const out_case *oc, const out_data *od)
{
    dg_ctx ctx = dgt_quiet_ctx(MPI_COMM_WORLD);
    checker ck = {0};
    if (ctx.rank == 0) {
        char tmp[600];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        expect(&ck, !exists(tmp), "%s remains", tmp);
        hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        expect(&ck, file >= 0, "cannot open %s", path);
        if (file >= 0) {
            check_attributes(&ck, file, od, ctx.size);
            check_items(&ck, file, oc);
            check_vectors(&ck, file, oc);
            check_edges(&ck, file, path, oc);
            H5Fclose(file);
        }
    }
    return dgt_all_ranks(ck.failures == 0);
}

static void write_and_check(const out_case *oc, const char *name)
{
    dg_ctx ctx = dgt_quiet_ctx(MPI_COMM_WORLD);
    char path[512];
    file_in_dir(path, sizeof path, name);
    out_data od;
    make_output(&ctx, oc, &od);
    dg_err err = {0};
    int rc = dg_h5_write_output(&ctx, path, &od.out, &err);
    if (rc != DG_OK)
        fprintf(dgt_diag(), "write failed: %s\n", err.msg);
    assert_true(dgt_all_ranks(rc == DG_OK && open_hdf5_objects() == 0));
    assert_true(output_matches(path, oc, &od));
    free_output(&od);
}

/* ---- output tests -------------------------------------------------------- */

static void output_round_trip_every_dataset_and_attribute(void **state)
{
    (void)state;
    out_case oc = {.n = 37, .d = 4, .c = 2, .k = 3, .paths = 1, .edges = 1, .embeddings = 1};
    write_and_check(&oc, "out_full.h5");
}

static void output_without_edges_clusterings_or_paths(void **state)
{
    (void)state;
    out_case oc = {.n = 13, .d = 5, .c = 0, .k = 0, .paths = 0, .edges = 0, .embeddings = 0};
    write_and_check(&oc, "out_exact.h5");
}

/* 40 MB of paths: written in several rounds of bounded size. */
static void output_with_long_paths(void **state)
{
    (void)state;
    out_case oc = {.n = 10000, .d = 2, .c = 1, .k = 2, .paths = 2, .edges = 1, .embeddings = 0};
    write_and_check(&oc, "out_long_paths.h5");
}

static void output_with_fewer_items_than_ranks(void **state)
{
    (void)state;
    out_case oc = {.n = 3, .d = 3, .c = 1, .k = 1, .paths = 1, .edges = 1, .embeddings = 1};
    write_and_check(&oc, "out_tiny.h5");
}

/* Runs dg_info_print on rank 0 with stdout captured in a file. */
static char *captured_info(const char *path, int *rc)
{
    char out_path[600];
    snprintf(out_path, sizeof out_path, "%s.info.txt", path);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, STDOUT_FILENO);
    close(fd);
    dg_err err = {0};
    *rc = dg_info_print(path, stdout, &err);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    FILE *f = fopen(out_path, "r");
    char *text = calloc(1, 8192);
    if (f) {
        size_t got = fread(text, 1, 8191, f);
        text[got] = '\0';
        fclose(f);
    }
    return text;
}

static void info_summarises_counts_shape_times_and_statuses(void **state)
{
    (void)state;
    dg_ctx ctx = dgt_quiet_ctx(MPI_COMM_WORLD);
    char path[512];
    file_in_dir(path, sizeof path, "out_info.h5");
    out_case oc = {.n = 37, .d = 4, .c = 2, .k = 3, .paths = 1, .edges = 1, .embeddings = 1};
    write_and_check(&oc, "out_info.h5");
    checker ck = {0};
    if (ctx.rank == 0) {
        int rc;
        char *text = captured_info(path, &rc);
        char line[128], version[64];
        snprintf(version, sizeof version, "format        dupgraph version %d", DG_FORMAT_VERSION);
        int64_t counts[DG_ST_COUNT] = {0};
        for (int64_t i = 0; i < oc.n; i++)
            counts[ref_status(i)]++;
        snprintf(line, sizeof line, " %s %lld", dg_status_name(DG_ST_BAD_VECTOR), (long long)counts[DG_ST_BAD_VECTOR]);
        const char *want[] = {"items         37 (11 failed)",
                              "removed       33 (89.19% of items)",
                              "C = 2 clusterings, K = 3 clusters, D = 4, threshold = 0.85",
                              "read 1.50, cluster 2.25, pairs 0.12 (total 3.88)",
                              version,
                              line};
        expect(&ck, rc == DG_OK, "print_info failed");
        for (size_t i = 0; i < sizeof want / sizeof *want; i++)
            expect(&ck, strstr(text, want[i]) != NULL, "info lacks '%s':\n%s", want[i], text);
        snprintf(line, sizeof line, "edges         %lld\n", (long long)ref_edge_count(&oc, 0, oc.n));
        expect(&ck, strstr(text, line) != NULL, "info lacks '%s'", line);
        free(text);
    }
    assert_true(dgt_all_ranks(ck.failures == 0));
}

/* Sets the format_version of an output file and, with drop_typed, removes
 * the typed settings of format 3 (as a file of format 1 or 2 is). */
static void rewrite_version(const char *path, int drop_typed, int version)
{
    static const char *const typed[] = {"mode", "embedder", "pairs_threshold", "cluster_k",
                                        "cluster_clusterings", "cluster_probes", "graph_keep"};
    hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t attr = H5Aopen(file, "format_version", H5P_DEFAULT);
    H5Awrite(attr, H5T_NATIVE_INT, &version);
    H5Aclose(attr);
    for (size_t i = 0; drop_typed && i < sizeof typed / sizeof *typed; i++)
        H5Adelete(file, typed[i]);
    H5Fclose(file);
}

static void facts_take_typed_settings_else_the_config_text(void **state)
{
    (void)state;
    dg_ctx ctx = dgt_quiet_ctx(MPI_COMM_WORLD);
    char path[512];
    file_in_dir(path, sizeof path, "out_facts.h5");
    out_case oc = {.n = 21, .d = 4, .c = 2, .k = 3, .paths = 1, .edges = 1, .embeddings = 1};
    write_and_check(&oc, "out_facts.h5");
    checker ck = {0};
    if (ctx.rank == 0) {
        dg_h5_facts f;
        dg_err err = {0};
        expect(&ck, dg_h5_read_facts(path, &f, &err) == DG_OK, "facts: %s", err.msg);
        const dg_h5_settings *s = &f.settings;
        expect(&ck, f.format_version == DG_FORMAT_VERSION && s->typed, "version %d, typed %d", f.format_version,
               s->typed);
        expect(&ck, s->threshold == 0.85f && s->k == 3 && s->clusterings == 2 && s->probes == 2,
               "threshold %g, K %lld, C %lld, m %lld", (double)s->threshold, (long long)s->k,
               (long long)s->clusterings, (long long)s->probes);
        expect(&ck, !strcmp(s->mode, "run") && !strcmp(s->embedder, "embeddings") && !strcmp(s->keep, "first"),
               "mode '%s', embedder '%s', keep '%s'", s->mode, s->embedder, s->keep);
        expect(&ck, f.centroid_dims[0] == 2 && f.centroid_dims[1] == 3 && f.centroid_dims[2] == 4 &&
                        f.embedding_dim == 4 && f.clusterings == 2,
               "shapes %lld x %lld x %lld, D %d, C %d", (long long)f.centroid_dims[0], (long long)f.centroid_dims[1],
               (long long)f.centroid_dims[2], f.embedding_dim, f.clusterings);
        dg_h5_facts_free(&f);

        /* format 2: the threshold from the config text, K from /centroids */
        rewrite_version(path, 1, 2);
        expect(&ck, dg_h5_read_facts(path, &f, &err) == DG_OK, "format 2 facts: %s", err.msg);
        expect(&ck, f.format_version == 2 && !s->typed && s->threshold == 0.85f && s->k == 3 && s->clusterings == 2 &&
                        !strcmp(s->mode, "?"),
               "format 2: version %d, typed %d, threshold %g, K %lld, C %lld, mode '%s'", f.format_version, s->typed,
               (double)s->threshold, (long long)s->k, (long long)s->clusterings, s->mode);
        dg_h5_facts_free(&f);
        int rc;
        char *text = captured_info(path, &rc);
        expect(&ck, rc == DG_OK && strstr(text, "dupgraph version 2,") && strstr(text, "threshold = 0.85"),
               "info of format 2:\n%s", text);
        free(text);

        /* format 3 without them is damaged */
        rewrite_version(path, 0, 3);
        expect(&ck, dg_h5_read_facts(path, &f, &err) == DG_FAIL && strstr(err.msg, "typed settings"), "'%s'",
               err.msg);
        expect(&ck, open_hdf5_objects() == 0, "HDF5 objects left open");
    }
    assert_true(dgt_all_ranks(ck.failures == 0));
}

static void output_to_missing_folder_fails_and_leaves_nothing(void **state)
{
    (void)state;
    dg_ctx ctx = dgt_quiet_ctx(MPI_COMM_WORLD);
    char path[512], tmp[600];
    file_in_dir(path, sizeof path, "no/such/out.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    out_case oc = {.n = 10, .d = 2, .c = 1, .k = 2, .paths = 0, .edges = 1, .embeddings = 0};
    out_data od;
    make_output(&ctx, &oc, &od);
    dg_err err = {0};
    int rc = dg_h5_write_output(&ctx, path, &od.out, &err);
    checker ck = {0};
    expect(&ck, rc == DG_FAIL && strstr(err.msg, path) != NULL, "rc %d, message '%s'", rc, err.msg);
    expect(&ck, !exists(path) && !exists(tmp), "a file was left behind");
    expect(&ck, open_hdf5_objects() == 0, "HDF5 objects left open");
    free_output(&od);
    assert_true(dgt_all_ranks(ck.failures == 0));
}

/* A failure after the file was created removes the temporary file and
 * leaves an earlier complete file untouched. */
static void failing_write_removes_temporary_and_keeps_old_file(void **state)
{
    (void)state;
    dg_ctx ctx = dgt_quiet_ctx(MPI_COMM_WORLD);
    out_case oc = {.n = 21, .d = 3, .c = 2, .k = 2, .paths = 1, .edges = 1, .embeddings = 0};
    write_and_check(&oc, "out_keep.h5");
    char path[512], tmp[600];
    file_in_dir(path, sizeof path, "out_keep.h5");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    out_data od;
    make_output(&ctx, &oc, &od);
    dg_extra_dataset clash[] = {{"/items/id", 1, {4, 0}, extra_mean}};
    od.out.extra = clash;
    od.out.n_extra = 1;
    dg_err err = {0};
    int rc = dg_h5_write_output(&ctx, path, &od.out, &err);
    checker ck = {0};
    expect(&ck, rc == DG_FAIL && strstr(err.msg, "/items/id") != NULL, "rc %d, message '%s'", rc, err.msg);
    expect(&ck, !exists(tmp), "%s remains", tmp);
    expect(&ck, open_hdf5_objects() == 0, "HDF5 objects left open");
    assert_true(dgt_all_ranks(ck.failures == 0));
    assert_true(output_matches(path, &oc, &od));
    free_output(&od);
}

static void inconsistent_counts_fail_before_writing(void **state)
{
    (void)state;
    dg_ctx ctx = dgt_quiet_ctx(MPI_COMM_WORLD);
    char path[512];
    file_in_dir(path, sizeof path, "out_bad_counts.h5");
    out_case oc = {.n = 9, .d = 2, .c = 1, .k = 2, .paths = 0, .edges = 1, .embeddings = 0};
    out_data od;
    make_output(&ctx, &oc, &od);
    od.out.n_edges += 1;
    dg_err err = {0};
    int rc = dg_h5_write_output(&ctx, path, &od.out, &err);
    checker ck = {0};
    expect(&ck, rc == DG_FAIL && strstr(err.msg, "n_edges") != NULL, "rc %d, message '%s'", rc, err.msg);
    expect(&ck, !exists(path), "a file was written");
    free_output(&od);
    assert_true(dgt_all_ranks(ck.failures == 0));
}

/* Writes a root attribute set that claims (or does not claim) the format. */
static void write_fake_output(const char *path, const char *format, int version)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Barrier(MPI_COMM_WORLD); /* nobody still reads the previous version */
    if (rank == 0) {
        hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        hid_t space = H5Screate(H5S_SCALAR);
        hid_t str = H5Tcopy(H5T_C_S1);
        H5Tset_size(str, strlen(format));
        hid_t a = H5Acreate2(file, "format", str, space, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, str, format);
        H5Aclose(a);
        a = H5Acreate2(file, "format_version", H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, H5T_NATIVE_INT, &version);
        H5Aclose(a);
        H5Tclose(str);
        H5Sclose(space);
        H5Fclose(file);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

static void readers_reject_other_files_and_versions(void **state)
{
    (void)state;
    char path[512];
    checker ck = {0};
    dg_edges e;
    dg_err err = {0};
    file_in_dir(path, sizeof path, "other.h5");
    write_fake_output(path, "something", 1);
    expect(&ck, dg_h5_read_edges(path, &e, &err) == DG_FAIL && strstr(err.msg, "not a dupgraph output file"),
           "other format: '%s'", err.msg);
    write_fake_output(path, "dupgraph", 99);
    expect(&ck, dg_h5_read_edges(path, &e, &err) == DG_FAIL && strstr(err.msg, "version 99"),
           "other version: '%s'", err.msg);
    expect(&ck, dg_info_print(path, stdout, &err) == DG_FAIL && strstr(err.msg, "version 99"), "info: '%s'", err.msg);
    file_in_dir(path, sizeof path, "text.h5");
    expect(&ck, dg_h5_read_edges(path, &e, &err) == DG_FAIL && strstr(err.msg, "not an HDF5 file"),
           "text file: '%s'", err.msg);
    expect(&ck, e.n == 0 && e.src == NULL, "edges not cleared after failure");
    expect(&ck, open_hdf5_objects() == 0, "HDF5 objects left open");
    assert_true(dgt_all_ranks(ck.failures == 0));
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(embeddings_float32_rows_equal_normalised_reference),
        cmocka_unit_test(embeddings_float16_converted_and_normalised),
        cmocka_unit_test(float16_widening_matches_hdf5_for_every_value),
        cmocka_unit_test(embeddings_bfloat16_converted_by_hdf5),
        cmocka_unit_test(embeddings_fewer_rows_than_ranks),
        cmocka_unit_test(probe_names_file_dataset_and_problem),
        cmocka_unit_test(read_embeddings_fails_on_every_rank),
        cmocka_unit_test(embeddings_list_glob_and_vds_read_as_one_file),
        cmocka_unit_test(embeddings_list_errors_name_the_file),
        cmocka_unit_test(output_round_trip_every_dataset_and_attribute),
        cmocka_unit_test(output_without_edges_clusterings_or_paths),
        cmocka_unit_test(output_with_fewer_items_than_ranks),
        cmocka_unit_test(output_with_long_paths),
        cmocka_unit_test(info_summarises_counts_shape_times_and_statuses),
        cmocka_unit_test(facts_take_typed_settings_else_the_config_text),
        cmocka_unit_test(output_to_missing_folder_fails_and_leaves_nothing),
        cmocka_unit_test(failing_write_removes_temporary_and_keeps_old_file),
        cmocka_unit_test(inconsistent_counts_fail_before_writing),
        cmocka_unit_test(readers_reject_other_files_and_versions),
    };
    return DGT_RUN(argc, argv, tests, make_dir, remove_dir);
}
