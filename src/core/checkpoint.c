/* checkpoint.c - what a resumed job may reuse: the checkpoint folder next to
 * the output, the fingerprints of config and input, saving and restoring the
 * embed/read stage and each clustering, and checking what is read back.
 * The file format is io/h5_checkpoint.c's; when to save and load is the job
 * driver's (job.c).  See checkpoint.h.
 */
#include "core/checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/hash.h"
#include "input/descriptor.h"
#include "input/embedder.h"
#include "input/signature.h"
#include "input/whitening.h"
#include "io/h5_checkpoint.h"

#define ITEMS_FILE "items.h5"

/* ---- fingerprints -------------------------------------------------------- */

/* Hash of the lines of the canonical config text that belong to the named
 * sections (their headers included). */
static uint64_t hash_sections(uint64_t h, const char *text, const char *const *sections, int n_sections)
{
    int inside = 0;
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (line[0] == '[') {
            inside = 0;
            for (int i = 0; i < n_sections; i++) {
                size_t sl = strlen(sections[i]);
                if (len == sl + 2 && strncmp(line + 1, sections[i], sl) == 0)
                    inside = 1;
            }
        }
        if (inside)
            h = dg_hash_bytes(h, line, len);
        line += len + (end ? 1 : 0);
    }
    return h;
}

static int hash_config(const dg_config *cfg, int exact_mode, dg_ckpt *ck, dg_err *err)
{
    static const char *const item_sections[] = {"input", "embed"};
    static const char *const search_sections[] = {"cluster", "pairs"};
    char *text = dg_config_to_text(cfg);
    if (!text)
        return dg_failc(err, DG_E_MEMORY, "out of memory formatting the config");
    uint64_t h = dg_hash_string(0x6475706772617068ULL, DG_VERSION);
    h = dg_hash_bytes(h, &(int){DG_DESC_VERSION}, sizeof(int));
    h = dg_hash_bytes(h, dg_whitening_matrix, sizeof dg_whitening_matrix); /* a regenerated table */
    /* the items stage makes signatures only with verification */
    h = dg_hash_bytes(h, &(int){cfg->verify_enabled ? DG_SIG_VERSION : 0}, sizeof(int));
    ck->config_items = hash_sections(h, text, item_sections, 2);
    h = dg_hash_string(h, exact_mode ? "exact" : "run");
    /* the search drops the candidates beyond the verifier's budget (search/candidate_bound.h) */
    int budget = cfg->verify_enabled && cfg->verify_max_held > 0 ? cfg->verify_max_candidates : 0;
    h = dg_hash_bytes(h, &budget, sizeof budget);
    if (budget > 0)
        h = dg_hash_bytes(h, &cfg->verify_accept_above, sizeof cfg->verify_accept_above);
    ck->config_search = hash_sections(h, text, search_sections, 2);
    free(text);
    return DG_OK;
}

static void set_fingerprints(dg_ckpt *ck, uint64_t input_id)
{
    ck->items_fp = dg_mix64(ck->config_items ^ dg_mix64(input_id));
    ck->search_fp = dg_mix64(ck->items_fp ^ ck->config_search);
    ck->have_input = 1;
}

/* Collective: the fingerprints once the embedder has named its input. */
static int identify(const dg_ctx *ctx, const dg_config *cfg, dg_ckpt *ck, dg_embedder *e, const dg_items *items,
                    dg_err *err)
{
    uint64_t id = 0;
    if (e->identify(e, ctx, cfg, items, &id, err) != DG_OK)
        return DG_FAIL;
    set_fingerprints(ck, id);
    return DG_OK;
}

int dg_ckpt_identify(const dg_ctx *ctx, const dg_config *cfg, dg_ckpt *ck, dg_embedder *e, const dg_items *items,
                     dg_err *err)
{
    return identify(ctx, cfg, ck, e, items, err);
}

/* ---- the folder ---------------------------------------------------------- */

static int make_folder(const char *dir, dg_err *err)
{
    struct stat st;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return dg_failc(err, DG_E_OUTPUT, "cannot create the checkpoint folder %s: %s", dir, strerror(errno));
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return dg_failc(err, DG_E_OUTPUT, "checkpoint folder %s: exists and is not a folder", dir);
    if (access(dir, W_OK | X_OK) != 0)
        return dg_failc(err, DG_E_OUTPUT, "checkpoint folder %s is not writable", dir);
    return DG_OK;
}

int dg_ckpt_init(const dg_ctx *ctx, const dg_config *cfg, int exact_mode, dg_ckpt *ck, dg_err *err)
{
    memset(ck, 0, sizeof *ck);
    ck->resume = cfg->resume;
    int rc = DG_OK;
    if ((size_t)snprintf(ck->dir, sizeof ck->dir, "%s.ckpt", cfg->output_path) >= sizeof ck->dir - 32)
        rc = dg_failc(err, DG_E_OUTPUT, "output.path %s is too long for its checkpoint folder", cfg->output_path);
    if (rc == DG_OK)
        rc = hash_config(cfg, exact_mode, ck, err);
    if (rc == DG_OK && ctx->rank == 0)
        rc = make_folder(ck->dir, err);
    return dg_agree(ctx, rc, err);
}

static void file_path(const dg_ckpt *ck, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", ck->dir, name);
}

static void clustering_path(const dg_ckpt *ck, int c, char *out, size_t len)
{
    snprintf(out, len, "%s/clustering_%d.h5", ck->dir, c);
}

/* Whether rank 0 sees the file, told to every rank. */
static int exists_everywhere(const dg_ctx *ctx, const char *path)
{
    int exists = ctx->rank == 0 && access(path, F_OK) == 0;
    MPI_Bcast(&exists, 1, MPI_INT, 0, ctx->comm);
    return exists;
}

static int is_ours(const char *name)
{
    size_t len = strlen(name);
    int c;
    char tail[8];
    if (strcmp(name, ITEMS_FILE) == 0 || (len > 4 && strcmp(name + len - 4, ".tmp") == 0))
        return 1;
    return sscanf(name, "clustering_%d.h5%7s", &c, tail) == 1 && c >= 0;
}

void dg_ckpt_remove(const dg_ctx *ctx, const dg_ckpt *ck)
{
    if (ctx->rank == 0) {
        DIR *d = opendir(ck->dir);
        struct dirent *e;
        char path[DG_PATH_MAX + 300];
        while (d && (e = readdir(d)) != NULL) {
            if (!is_ours(e->d_name))
                continue;
            snprintf(path, sizeof path, "%s/%s", ck->dir, e->d_name);
            if (unlink(path) != 0)
                dg_log(ctx, "warning: cannot remove %s: %s", path, strerror(errno));
        }
        if (d)
            closedir(d);
        if (rmdir(ck->dir) != 0 && errno != ENOENT)
            dg_log(ctx, "warning: checkpoint folder %s left in place: %s", ck->dir, strerror(errno));
    }
    MPI_Barrier(ctx->comm);
}

void dg_ckpt_tidy(const dg_ctx *ctx, const dg_ckpt *ck)
{
    if (ctx->rank == 0 && ck->dir[0])
        rmdir(ck->dir); /* fails, as intended, unless the folder is empty */
    MPI_Barrier(ctx->comm);
}

/* ---- items --------------------------------------------------------------- */

static int check_statuses(const char *path, const dg_items *items, dg_err *err)
{
    for (int64_t i = 0; i < items->n; i++)
        if (items->status[i] < 0 || items->status[i] >= DG_ST_COUNT)
            return dg_failc(err, DG_E_CHECKPOINT, "checkpoint %s: item %lld has the impossible status %d", path,
                           (long long)(items->lo + i), items->status[i]);
    return DG_OK;
}

/* The signatures, saved when the stage made them (image input with
 * verify.enabled, which the items fingerprint includes). */
static dg_ck_array signature_array(const dg_items *items)
{
    return (dg_ck_array){"/items/signature", DG_CK_UINT8, items->n_total, DG_SIG_BYTES, items->lo, items->n,
                         items->sig};
}

static int read_item_arrays(const dg_ck_file *f, dg_items *items, int images, int with_sig, dg_err *err)
{
    dg_ck_array a[] = {
        {"/items/vec", DG_CK_FLOAT32, items->n_total, items->d, items->lo, items->n, items->vec},
        {"/items/status", DG_CK_INT8, items->n_total, 0, items->lo, items->n, items->status},
        {"/items/width", DG_CK_INT32, items->n_total, 0, items->lo, items->n, items->width},
        {"/items/height", DG_CK_INT32, items->n_total, 0, items->lo, items->n, items->height},
    };
    for (int i = 0; i < (images ? 4 : 2); i++)
        if (dg_h5_ckpt_read(f, &a[i], err) != DG_OK)
            return DG_FAIL;
    if (with_sig) {
        dg_ck_array s = signature_array(items);
        if (dg_h5_ckpt_read(f, &s, err) != DG_OK)
            return DG_FAIL;
    }
    return dg_agree(f->ctx, check_statuses(f->path, items, err), err);
}

/* Allocates this rank's share of the saved items and reads it, then what
 * the embedder saved beside them. */
static int read_items(const dg_ck_file *f, const dg_config *cfg, dg_embedder *e, dg_items *items, dg_err *err)
{
    const dg_ctx *ctx = f->ctx;
    int64_t n_total = 0, d = 0;
    int rc = dg_h5_ckpt_attr(f, "n_items", &n_total, err);
    if (rc == DG_OK)
        rc = dg_h5_ckpt_attr(f, "d", &d, err);
    if (rc == DG_OK && (n_total < 1 || d < 1 || d > 65536))
        rc = dg_failc(err, DG_E_CHECKPOINT, "checkpoint %s: impossible shape %lld x %lld", f->path, (long long)n_total, (long long)d);
    if (dg_agree(ctx, rc, err) != DG_OK)
        return DG_FAIL;
    int64_t lo = dg_range_lo(n_total, ctx->size, ctx->rank);
    rc = dg_items_alloc(items, n_total, lo, dg_range_lo(n_total, ctx->size, ctx->rank + 1) - lo, (int)d, e->images,
                        err);
    int with_sig = e->images && cfg->verify_enabled;
    if (rc == DG_OK && with_sig && items->n > 0 &&
        !(items->sig = dg_calloc((size_t)items->n, DG_SIG_BYTES, err)))
        rc = DG_FAIL;
    if (dg_agree(ctx, rc, err) != DG_OK)
        return DG_FAIL;
    if (read_item_arrays(f, items, e->images, with_sig, err) != DG_OK)
        return DG_FAIL;
    return e->load ? e->load(e, f, err) : DG_OK;
}

static int load_matching_items(const dg_ctx *ctx, const dg_config *cfg, dg_ckpt *ck, const char *path,
                               dg_embedder *e, dg_items *items, int *loaded, dg_err *err)
{
    dg_ck_file f;
    uint64_t fp = 0;
    if (dg_h5_ckpt_open(ctx, path, &f, &fp, err) != DG_OK)
        return DG_FAIL;
    if (fp != ck->items_fp) {
        dg_log(ctx, "checkpoint %s is from another input or configuration: recomputing the %s stage", path,
               e->stage);
        return dg_h5_ckpt_close(&f, DG_OK, err);
    }
    int rc = read_items(&f, cfg, e, items, err);
    if (rc == DG_OK && e->adopt)
        rc = dg_agree(ctx, e->adopt(e, items, path, err), err);
    rc = dg_h5_ckpt_close(&f, rc, err);
    if (rc != DG_OK) {
        dg_items_free(items);
        return DG_FAIL;
    }
    *loaded = 1;
    dg_log(ctx, "reusing checkpoint: %s stage (%lld items, %d dims) from %s", e->stage, (long long)items->n_total,
           items->d, path);
    return DG_OK;
}

int dg_ckpt_load_items(const dg_ctx *ctx, const dg_config *cfg, dg_ckpt *ck, dg_embedder *e, dg_items *items,
                       int *loaded, dg_err *err)
{
    char path[DG_PATH_MAX + 32];
    file_path(ck, ITEMS_FILE, path, sizeof path);
    *loaded = 0;
    if (!ck->resume || !exists_everywhere(ctx, path))
        return DG_OK;
    if (identify(ctx, cfg, ck, e, NULL, err) != DG_OK)
        return DG_FAIL;
    return load_matching_items(ctx, cfg, ck, path, e, items, loaded, err);
}

int dg_ckpt_save_items(const dg_ctx *ctx, const dg_config *cfg, dg_ckpt *ck, dg_embedder *e, const dg_items *items,
                       dg_err *err)
{
    if (!ck->have_input && identify(ctx, cfg, ck, e, items, err) != DG_OK)
        return DG_FAIL;
    dg_ck_array a[5 + DG_EMBEDDER_MAX_SAVED] = {
        {"/items/vec", DG_CK_FLOAT32, items->n_total, items->d, items->lo, items->n, items->vec},
        {"/items/status", DG_CK_INT8, items->n_total, 0, items->lo, items->n, items->status},
        {"/items/width", DG_CK_INT32, items->n_total, 0, items->lo, items->n, items->width},
        {"/items/height", DG_CK_INT32, items->n_total, 0, items->lo, items->n, items->height},
    };
    dg_ck_attr attrs[2 + DG_EMBEDDER_MAX_SAVED] = {{"n_items", items->n_total}, {"d", items->d}};
    int n_arrays = e->images ? 4 : 2, n_attrs = 2;
    int with_sig = 0, any_sig = items->sig != NULL; /* a rank without items holds none */
    MPI_Allreduce(&any_sig, &with_sig, 1, MPI_INT, MPI_MAX, ctx->comm);
    if (with_sig)
        a[n_arrays++] = signature_array(items);
    dg_embedder_saved saved = {0};
    if (e->save) /* the descriptor's projection */
        e->save(e, ctx, &saved);
    for (int i = 0; i < saved.n_arrays; i++)
        a[n_arrays++] = saved.arrays[i];
    for (int i = 0; i < saved.n_attrs; i++)
        attrs[n_attrs++] = saved.attrs[i];
    char path[DG_PATH_MAX + 32];
    file_path(ck, ITEMS_FILE, path, sizeof path);
    return dg_h5_ckpt_write(ctx, path, ck->items_fp, attrs, n_attrs, a, n_arrays, err);
}

/* ---- clusterings --------------------------------------------------------- */

int dg_ckpt_save_clustering(const dg_ctx *ctx, const dg_ckpt *ck, const dg_items *items,
                            const dg_ckpt_clustering *cl, const dg_edges *edges, dg_err *err)
{
    int64_t n_edges = 0, edge_lo = 0;
    MPI_Allreduce(&edges->n, &n_edges, 1, MPI_INT64_T, MPI_SUM, ctx->comm);
    MPI_Exscan(&edges->n, &edge_lo, 1, MPI_INT64_T, MPI_SUM, ctx->comm);
    if (ctx->rank == 0)
        edge_lo = 0;
    int32_t *home = dg_alloc((size_t)items->n, sizeof *home, err);
    if (dg_agree(ctx, home ? DG_OK : DG_FAIL, err) != DG_OK) {
        free(home);
        return DG_FAIL;
    }
    for (int64_t i = 0; i < items->n; i++)
        home[i] = cl->cluster[i * cl->clusterings + cl->c];
    int64_t n = items->n, N = items->n_total;
    dg_ck_array a[] = {
        {"/centroids", DG_CK_FLOAT32, cl->k, items->d, 0, ctx->rank == 0 ? cl->k : 0, cl->centroids},
        {"/items/cluster", DG_CK_INT32, N, 0, items->lo, n, home},
        {"/edges/src", DG_CK_INT64, n_edges, 0, edge_lo, edges->n, edges->src},
        {"/edges/dst", DG_CK_INT64, n_edges, 0, edge_lo, edges->n, edges->dst},
        {"/edges/sim", DG_CK_FLOAT32, n_edges, 0, edge_lo, edges->n, edges->sim},
        {"/items/centrality", DG_CK_FLOAT32, N, 0, items->lo, n, cl->centrality},
    };
    dg_ck_attr attrs[] = {{"clustering", cl->c}, {"n_items", N}, {"d", items->d}, {"k", cl->k},
                          {"n_edges", n_edges}};
    char path[DG_PATH_MAX + 32];
    clustering_path(ck, cl->c, path, sizeof path);
    int rc = dg_h5_ckpt_write(ctx, path, ck->search_fp, attrs, 5, a, cl->c == 0 ? 6 : 5, err);
    free(home);
    return rc;
}

static int check_header(const dg_ck_file *f, const dg_items *items, const dg_ckpt_clustering *cl,
                        int64_t *n_edges, dg_err *err)
{
    int64_t v[4];
    const char *names[4] = {"clustering", "n_items", "d", "k"};
    const int64_t want[4] = {cl->c, items->n_total, items->d, cl->k};
    for (int i = 0; i < 4; i++) {
        if (dg_h5_ckpt_attr(f, names[i], &v[i], err) != DG_OK)
            return DG_FAIL;
        if (v[i] != want[i])
            return dg_failc(err, DG_E_CHECKPOINT, "checkpoint %s: %s is %lld, expected %lld", f->path, names[i], (long long)v[i],
                           (long long)want[i]);
    }
    if (dg_h5_ckpt_attr(f, "n_edges", n_edges, err) != DG_OK)
        return DG_FAIL;
    return *n_edges < 0 ? dg_failc(err, DG_E_CHECKPOINT, "checkpoint %s: negative n_edges", f->path) : DG_OK;
}

/* Home clusters read back into column c; -1 (unusable) or a cluster index. */
static int read_homes(const dg_ck_file *f, const dg_items *items, const dg_ckpt_clustering *cl, dg_err *err)
{
    int32_t *home = dg_alloc((size_t)items->n, sizeof *home, err);
    if (dg_agree(f->ctx, home ? DG_OK : DG_FAIL, err) != DG_OK) {
        free(home);
        return DG_FAIL;
    }
    dg_ck_array a = {"/items/cluster", DG_CK_INT32, items->n_total, 0, items->lo, items->n, home};
    int rc = dg_h5_ckpt_read(f, &a, err);
    if (rc == DG_OK) {
        for (int64_t i = 0; rc == DG_OK && i < items->n; i++) {
            if (home[i] < -1 || home[i] >= cl->k)
                rc = dg_failc(err, DG_E_CHECKPOINT, "checkpoint %s: item %lld has the impossible cluster %d", f->path,
                             (long long)(items->lo + i), home[i]);
            cl->cluster[i * cl->clusterings + cl->c] = home[i];
        }
        rc = dg_agree(f->ctx, rc, err);
    }
    free(home);
    return rc;
}

/* Saved edges are sorted and unique with src < dst < N; this rank's all
 * have their src in its item range. */
static int check_edges(const char *path, const dg_items *items, const int64_t *src, const int64_t *dst,
                       int64_t n, dg_err *err)
{
    for (int64_t i = 0; i < n; i++) {
        int in_range = src[i] >= items->lo && src[i] < items->lo + items->n && dst[i] > src[i] &&
                       dst[i] < items->n_total;
        int ordered = i == 0 || src[i] > src[i - 1] || (src[i] == src[i - 1] && dst[i] > dst[i - 1]);
        if (!in_range || !ordered)
            return dg_failc(err, DG_E_CHECKPOINT, "checkpoint %s: edge (%lld, %lld) is out of range or out of order", path,
                           (long long)src[i], (long long)dst[i]);
    }
    return DG_OK;
}

static int append_edges(dg_edges *edges, const int64_t *src, const int64_t *dst, const float *sim, int64_t n,
                        dg_err *err)
{
    for (int64_t i = 0; i < n; i++)
        if (dg_edges_push(edges, src[i], dst[i], sim[i], err) != DG_OK)
            return DG_FAIL;
    return DG_OK;
}

/* The saved edges whose src lies in this rank's item range. */
static int read_edges(const dg_ck_file *f, const dg_items *items, int64_t n_edges, dg_edges *edges, dg_err *err)
{
    int64_t row_lo = 0, row_hi = 0;
    int rc = dg_h5_ckpt_find_rows(f, "/edges/src", items->lo, items->lo + items->n, &row_lo, &row_hi, err);
    int64_t n = row_hi - row_lo;
    int64_t *src = rc == DG_OK ? dg_alloc((size_t)n, sizeof *src, err) : NULL;
    int64_t *dst = rc == DG_OK ? dg_alloc((size_t)n, sizeof *dst, err) : NULL;
    float *sim = rc == DG_OK ? dg_alloc((size_t)n, sizeof *sim, err) : NULL;
    if (rc == DG_OK && (!src || !dst || !sim))
        rc = DG_FAIL;
    rc = dg_agree(f->ctx, rc, err);
    dg_ck_array a[3] = {
        {"/edges/src", DG_CK_INT64, n_edges, 0, row_lo, n, src},
        {"/edges/dst", DG_CK_INT64, n_edges, 0, row_lo, n, dst},
        {"/edges/sim", DG_CK_FLOAT32, n_edges, 0, row_lo, n, sim},
    };
    for (int i = 0; rc == DG_OK && i < 3; i++)
        rc = dg_h5_ckpt_read(f, &a[i], err);
    if (rc == DG_OK) {
        rc = check_edges(f->path, items, src, dst, n, err);
        if (rc == DG_OK)
            rc = append_edges(edges, src, dst, sim, n, err);
        rc = dg_agree(f->ctx, rc, err);
    }
    free(src);
    free(dst);
    free(sim);
    return rc;
}

static int read_clustering(const dg_ck_file *f, const dg_items *items, const dg_ckpt_clustering *cl,
                           dg_edges *edges, dg_err *err)
{
    int64_t n_edges = 0;
    if (dg_agree(f->ctx, check_header(f, items, cl, &n_edges, err), err) != DG_OK)
        return DG_FAIL;
    dg_ck_array cent = {"/centroids", DG_CK_FLOAT32, cl->k, items->d, 0, cl->k, cl->centroids};
    dg_ck_array central = {"/items/centrality", DG_CK_FLOAT32, items->n_total, 0, items->lo, items->n,
                           cl->centrality};
    if (dg_h5_ckpt_read(f, &cent, err) != DG_OK || read_homes(f, items, cl, err) != DG_OK)
        return DG_FAIL;
    if (cl->c == 0 && dg_h5_ckpt_read(f, &central, err) != DG_OK)
        return DG_FAIL;
    return read_edges(f, items, n_edges, edges, err);
}

int dg_ckpt_load_clustering(const dg_ctx *ctx, const dg_ckpt *ck, const dg_items *items,
                            const dg_ckpt_clustering *cl, dg_edges *edges, int *loaded, dg_err *err)
{
    char path[DG_PATH_MAX + 32];
    clustering_path(ck, cl->c, path, sizeof path);
    *loaded = 0;
    if (!ck->resume || !exists_everywhere(ctx, path))
        return DG_OK;
    dg_ck_file f;
    uint64_t fp = 0;
    if (dg_h5_ckpt_open(ctx, path, &f, &fp, err) != DG_OK)
        return DG_FAIL;
    if (fp != ck->search_fp) {
        dg_log(ctx, "checkpoint %s is from another input or configuration: recomputing clustering %d", path,
               cl->c);
        return dg_h5_ckpt_close(&f, DG_OK, err);
    }
    int64_t before = edges->n;
    int rc = dg_h5_ckpt_close(&f, read_clustering(&f, items, cl, edges, err), err);
    if (rc != DG_OK)
        return DG_FAIL;
    int64_t mine = edges->n - before, total = 0;
    MPI_Allreduce(&mine, &total, 1, MPI_INT64_T, MPI_SUM, ctx->comm);
    *loaded = 1;
    dg_log(ctx, "reusing clustering %d: %lld edges from %s", cl->c, (long long)total, path);
    return DG_OK;
}
