/* fuzz_embeddings_h5.c - libFuzzer harness for the embeddings input: the
 * probe's validation (object kind, rank, dims, dtype, layout, filters) and
 * the collective hyperslab read with its normalisation, on one MPI rank
 * (singleton MPI_Init).  The file is built from the input by
 * fuzz_h5_build.h: the first byte picks the dataset name the job asks for,
 * the next what stands at /embeddings, the rest its type, shape and data.
 *
 * Checked beyond "no crash, no UB, no leak": a refusal has a reason; an
 * accepted file reads back with the probed shape, every row either
 * L2-normalised and finite with a usable status, or zero and bad_vector.
 */
#include <math.h>
#include <mpi.h>
#include <sanitizer/lsan_interface.h>

#include "fuzz_h5_build.h"
#include "input/embeddings.h"

static void check(int ok, const char *what, const char *detail)
{
    if (!ok) {
        fprintf(stderr, "fuzz_embeddings_h5: %s (%s)\n", what, detail);
        abort();
    }
}

static int build_file(fz_bytes *b, const char *path);

/* MPI_Init and the first MPI-IO open load Open MPI's components, whose
 * allocations live as long as the process and are not ours: they are made
 * here, once, with leak tracking off, so that libFuzzer's leak check after
 * each input sees only what that input allocated. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const uint8_t warm_up[] = {0, 1, 0, 1, 1, 3, 1, 3, 0, 0x3f, 0x80, 0, 0};
    __lsan_disable();
    MPI_Init(argc, argv);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    fz_bytes b = {warm_up + 1, sizeof warm_up - 1};
    char path[128];
    fz_path("emb", path, sizeof path);
    dg_ctx ctx;
    dg_ctx_init(&ctx, MPI_COMM_WORLD, 1e9);
    ctx.quiet = 1;
    dg_items items;
    dg_err err;
    if (build_file(&b, path) == 0 && dg_h5_read_embeddings(&ctx, path, "/embeddings", &items, &err) == DG_OK)
        dg_items_free(&items);
    unlink(path);
    __lsan_enable();
    return 0;
}

static int build_file(fz_bytes *b, const char *path)
{
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (file < 0)
        return -1;
    if (fz_take(b, 8))
        fz_dataset(b, file, "/embeddings", 2);
    else
        fz_not_dataset(b, file, "/embeddings");
    if (fz_take(b, 4) == 0)
        fz_dataset(b, file, "/g/e", -1);
    return H5Fclose(file) < 0 ? -1 : 0;
}

static void check_rows(const dg_items *it)
{
    for (int64_t i = 0; i < it->n; i++) {
        const float *row = it->vec + (size_t)i * (size_t)it->d;
        double ss = 0.0;
        for (int j = 0; j < it->d; j++) {
            check(isfinite(row[j]), "non-finite value after normalisation", "");
            ss += (double)row[j] * row[j];
        }
        if (dg_status_usable(it->status[i]))
            check(fabs(ss - 1.0) < 1e-3, "usable row is not unit length", "");
        else
            check(ss == 0.0 && it->status[i] == DG_ST_BAD_VECTOR, "unusable row is not a zero bad_vector", "");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"/embeddings", "embeddings", "/g/e", "/", "/embeddings/x", "/nope"};
    fz_bytes b = {data, size};
    const char *dataset = names[fz_take(&b, sizeof names / sizeof names[0])];
    char path[128];
    fz_path("emb", path, sizeof path);
    if (build_file(&b, path) != 0) {
        unlink(path);
        return 0;
    }
    int64_t n = 0;
    int d = 0;
    dg_err err = {0};
    if (dg_h5_probe_embeddings(path, dataset, &n, &d, &err) != DG_OK) {
        check(err.msg[0] != '\0', "probe failed without a reason", dataset);
    } else {
        dg_ctx ctx;
        dg_ctx_init(&ctx, MPI_COMM_WORLD, 1e9);
        ctx.quiet = 1;
        dg_items items;
        err.msg[0] = '\0';
        if (dg_h5_read_embeddings(&ctx, path, dataset, &items, &err) == DG_OK) {
            check(items.n_total == n && items.lo == 0 && items.n == n && items.d == d, "read shape != probed shape",
                  dataset);
            check_rows(&items);
            dg_items_free(&items);
        } else {
            check(err.msg[0] != '\0', "read failed without a reason", dataset);
        }
    }
    unlink(path);
    return 0;
}
