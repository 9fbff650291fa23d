/* manifest.c - the list of input images: reading a manifest (serially, or
 * in parallel from byte offsets that rank 0 records while counting), walking
 * a folder, and handing each rank its contiguous share of the paths.  It
 * never opens an image; decode.c does.  The rules for lines, extensions and
 * order are documented in manifest.h. */
#include "input/manifest.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* Every MARK_STRIDE-th entry's byte offset is recorded by the indexing pass,
 * so a rank starts reading at most MARK_STRIDE - 1 entries before its own. */
#define MARK_STRIDE 4096

int dg_items_from_list(dg_items *items, dg_pathlist *pl, int d, dg_err *err)
{
    if (dg_items_alloc(items, pl->n_total, pl->lo, pl->n, d, 1, err) != DG_OK)
        return DG_FAIL;
    for (int64_t i = 0; i < pl->n; i++) {
        items->path[i] = pl->path ? pl->path[i] : NULL; /* shards: the decode loop names them */
        if (pl->path)
            pl->path[i] = NULL;
    }
    return DG_OK;
}

void dg_pathlist_free(dg_pathlist *pl)
{
    if (pl->path)
        for (int64_t i = 0; i < pl->n; i++)
            free(pl->path[i]);
    free(pl->path);
    memset(pl, 0, sizeof *pl);
}

/* Appends a path (copied) to a growing pathlist. */
static int pathlist_push(dg_pathlist *pl, int64_t *cap, const char *path, dg_err *err)
{
    if (pl->n == *cap) {
        int64_t ncap = *cap ? 2 * *cap : 256;
        char **np = realloc(pl->path, sizeof(char *) * (size_t)ncap);
        if (!np)
            return dg_failc(err, DG_E_INPUT, "out of memory listing %lld paths", (long long)ncap);
        pl->path = np;
        *cap = ncap;
    }
    pl->path[pl->n] = strdup(path);
    if (!pl->path[pl->n])
        return dg_failc(err, DG_E_INPUT, "out of memory listing paths");
    pl->n++;
    return DG_OK;
}

/* ---- manifest ----------------------------------------------------------- */

typedef struct line_reader {
    FILE *f;
    const char *name;
    int64_t line_no;  /* of the line just read */
    int64_t offset;   /* byte offset of the next line */
    char buf[DG_PATH_MAX + 1];
} line_reader;

/* Reads one line without its LF (and trailing CR) into r->buf.  Returns 1
 * for a line, 0 at the end, DG_FAIL for a malformed or unreadable file. */
static int read_line(line_reader *r, dg_err *err)
{
    size_t len = 0;
    int c, any = 0;
    while ((c = getc_unlocked(r->f)) != EOF) {
        any = 1;
        r->offset++;
        if (c == '\n')
            break;
        if (c == '\0')
            return dg_failc(err, DG_E_INPUT, "manifest %s, line %lld: NUL byte (is it a text file?)", r->name,
                           (long long)r->line_no + 1);
        if (len == DG_PATH_MAX)
            return dg_failc(err, DG_E_INPUT, "manifest %s, line %lld: longer than %d bytes", r->name,
                           (long long)r->line_no + 1, DG_PATH_MAX - 1);
        r->buf[len++] = (char)c;
    }
    if (ferror(r->f))
        return dg_failc(err, DG_E_INPUT, "manifest %s: read error: %s", r->name, strerror(errno));
    if (!any)
        return 0;
    if (len > 0 && r->buf[len - 1] == '\r')
        len--;
    r->buf[len] = '\0';
    r->line_no++;
    return 1;
}

static int is_entry(const char *line)
{
    if (line[0] == '#')
        return 0;
    return line[strspn(line, " \t")] != '\0';
}

/* The manifest's folder ("" when the name has no folder part). */
static void manifest_base(const char *manifest, char *base, size_t cap)
{
    const char *slash = strrchr(manifest, '/');
    size_t len = slash ? (size_t)(slash - manifest) + 1 : 0;
    if (len >= cap)
        len = 0;
    memcpy(base, manifest, len);
    base[len] = '\0';
}

static int resolve(const line_reader *r, const char *base, char *out, dg_err *err)
{
    const char *prefix = r->buf[0] == '/' ? "" : base;
    int len = snprintf(out, DG_PATH_MAX, "%s%s", prefix, r->buf);
    if (len < 0 || len >= DG_PATH_MAX)
        return dg_failc(err, DG_E_INPUT, "manifest %s, line %lld: resolved path longer than %d bytes", r->name,
                       (long long)r->line_no, DG_PATH_MAX - 1);
    return DG_OK;
}

static int open_manifest(line_reader *r, const char *manifest, int64_t offset, dg_err *err)
{
    memset(r, 0, sizeof *r);
    r->name = manifest;
    struct stat st;
    if (stat(manifest, &st) != 0)
        return dg_failc(err, DG_E_INPUT, "cannot read manifest %s: %s", manifest, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return dg_failc(err, DG_E_INPUT, "manifest %s is not a regular file", manifest);
    r->f = fopen(manifest, "rb");
    if (!r->f)
        return dg_failc(err, DG_E_INPUT, "cannot read manifest %s: %s", manifest, strerror(errno));
    if (offset > 0 && fseeko(r->f, (off_t)offset, SEEK_SET) != 0) {
        fclose(r->f);
        return dg_failc(err, DG_E_INPUT, "manifest %s: cannot seek to byte %lld", manifest, (long long)offset);
    }
    r->offset = offset;
    return DG_OK;
}

/* Counts the entries and records the byte offset of every MARK_STRIDE-th. */
static int manifest_index(const char *manifest, int64_t *n_total, int64_t **marks, int64_t *n_marks,
                          dg_err *err)
{
    line_reader r;
    if (open_manifest(&r, manifest, 0, err) != DG_OK)
        return DG_FAIL;
    char base[DG_PATH_MAX], path[DG_PATH_MAX];
    manifest_base(manifest, base, sizeof base);
    int64_t n = 0, cap = 0, nm = 0;
    int64_t *m = NULL;
    int rc;
    for (;;) {
        int64_t start = r.offset;
        rc = read_line(&r, err);
        if (rc <= 0)
            break;
        if (!is_entry(r.buf))
            continue;
        if ((rc = resolve(&r, base, path, err)) != DG_OK)
            break;
        if (n % MARK_STRIDE == 0) {
            if (nm == cap) {
                cap = cap ? 2 * cap : 64;
                int64_t *nmk = realloc(m, sizeof(int64_t) * (size_t)cap);
                if (!nmk) {
                    rc = dg_failc(err, DG_E_INPUT, "out of memory indexing manifest %s", manifest);
                    break;
                }
                m = nmk;
            }
            m[nm++] = start;
        }
        n++;
    }
    fclose(r.f);
    if (rc < 0) {
        free(m);
        return DG_FAIL;
    }
    *n_total = n;
    *marks = m;
    *n_marks = nm;
    return DG_OK;
}

/* Reads entries [lo, hi) starting at byte `offset`, where entry `first`
 * begins; the line numbers in messages then count from that offset. */
static int manifest_range(const char *manifest, int64_t offset, int64_t first, int64_t lo, int64_t hi,
                          dg_pathlist *out, dg_err *err)
{
    line_reader r;
    if (open_manifest(&r, manifest, offset, err) != DG_OK)
        return DG_FAIL;
    char base[DG_PATH_MAX], path[DG_PATH_MAX];
    manifest_base(manifest, base, sizeof base);
    int64_t idx = first, cap = 0;
    int rc = DG_OK;
    while (idx < hi) {
        int got = read_line(&r, err);
        if (got < 0) {
            rc = DG_FAIL;
            break;
        }
        if (got == 0)
            break;
        if (!is_entry(r.buf))
            continue;
        if (idx >= lo) {
            rc = resolve(&r, base, path, err);
            if (rc == DG_OK)
                rc = pathlist_push(out, &cap, path, err);
            if (rc != DG_OK)
                break;
        }
        idx++;
    }
    fclose(r.f);
    if (rc == DG_OK && idx < hi)
        rc = dg_failc(err, DG_E_INPUT, "manifest %s changed while it was read (entry %lld missing)", manifest,
                     (long long)idx);
    return rc;
}

int dg_manifest_read(const char *manifest, int64_t lo, int64_t hi, dg_pathlist *out, dg_err *err)
{
    memset(out, 0, sizeof *out);
    int64_t n_total, n_marks, *marks = NULL;
    if (manifest_index(manifest, &n_total, &marks, &n_marks, err) != DG_OK)
        return DG_FAIL;
    free(marks);
    if (hi < 0 || hi > n_total)
        hi = n_total;
    if (lo < 0)
        lo = 0;
    if (lo > hi)
        lo = hi;
    out->n_total = n_total;
    out->lo = lo;
    if (manifest_range(manifest, 0, 0, lo, hi, out, err) != DG_OK) {
        dg_pathlist_free(out);
        return DG_FAIL;
    }
    return DG_OK;
}

/* ---- folder ------------------------------------------------------------- */

/* The names a folder walk lists; the decoder then reads each file by its
 * content, whatever its name says. */
static int is_image_name(const char *name)
{
    static const char *const ext[] = {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp"};
    size_t len = strlen(name);
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        size_t el = strlen(ext[i]);
        if (len > el && strcasecmp(name + len - el, ext[i]) == 0)
            return 1;
    }
    return 0;
}

/* Sorts one directory entry: real folders go to `sub` (walked once this
 * folder is closed), image files (or links to regular files) to `out`. */
static int walk_entry(const char *path, const char *name, unsigned char type, dg_pathlist *out,
                      int64_t *cap, dg_pathlist *sub, int64_t *sub_cap, dg_err *err)
{
    struct stat st;
    if (type == DT_UNKNOWN) {
        if (lstat(path, &st) != 0)
            return dg_failc(err, DG_E_INPUT, "cannot read %s: %s", path, strerror(errno));
        type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISLNK(st.st_mode) ? DT_LNK : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
    }
    if (type == DT_DIR)
        return pathlist_push(sub, sub_cap, path, err);
    if (!is_image_name(name))
        return DG_OK;
    if (type == DT_LNK && (stat(path, &st) != 0 || !S_ISREG(st.st_mode)))
        return DG_OK; /* dangling, or a link to a folder or device */
    if (type != DT_REG && type != DT_LNK)
        return DG_OK;
    return pathlist_push(out, cap, path, err);
}

/* Lists one folder: its image files into out, its subfolders into sub. */
static int read_folder(const char *dir, dg_pathlist *out, int64_t *cap, dg_pathlist *sub, dg_err *err)
{
    char *path = dg_alloc(DG_PATH_MAX, 1, err);
    if (!path)
        return DG_FAIL;
    DIR *d = opendir(dir);
    if (!d) {
        free(path);
        return dg_failc(err, DG_E_INPUT, "cannot read folder %s: %s", dir, strerror(errno));
    }
    int rc = DG_OK;
    int64_t sub_cap = 0;
    struct dirent *e;
    errno = 0;
    while (rc == DG_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        int len = snprintf(path, DG_PATH_MAX, "%s/%s", dir, e->d_name);
        if (len < 0 || len >= DG_PATH_MAX)
            rc = dg_failc(err, DG_E_INPUT, "path under %s longer than %d bytes", dir, DG_PATH_MAX - 1);
        else
            rc = walk_entry(path, e->d_name, e->d_type, out, cap, sub, &sub_cap, err);
        errno = 0;
    }
    if (rc == DG_OK && errno != 0)
        rc = dg_failc(err, DG_E_INPUT, "cannot read folder %s: %s", dir, strerror(errno));
    closedir(d);
    free(path);
    return rc;
}

/* Depth first, with each folder closed before its subfolders are walked: a
 * folder may nest about DG_PATH_MAX / 2 levels deep, which must cost
 * neither one open descriptor nor a path buffer on the stack per level. */
static int walk(const char *dir, dg_pathlist *out, int64_t *cap, dg_err *err)
{
    dg_pathlist sub = {0};
    int rc = read_folder(dir, out, cap, &sub, err);
    for (int64_t i = 0; rc == DG_OK && i < sub.n; i++)
        rc = walk(sub.path[i], out, cap, err);
    dg_pathlist_free(&sub);
    return rc;
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int dg_dir_list(const char *dir, dg_pathlist *out, dg_err *err)
{
    memset(out, 0, sizeof *out);
    struct stat st;
    if (stat(dir, &st) != 0)
        return dg_failc(err, DG_E_INPUT, "cannot read folder %s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return dg_failc(err, DG_E_INPUT, "input folder %s is not a folder", dir);
    char root[DG_PATH_MAX];
    snprintf(root, sizeof root, "%s", dir);
    size_t len = strlen(root);
    while (len > 1 && root[len - 1] == '/')
        root[--len] = '\0';
    int64_t cap = 0;
    if (walk(root, out, &cap, err) != DG_OK) {
        dg_pathlist_free(out);
        return DG_FAIL;
    }
    if (out->n > 1)
        qsort(out->path, (size_t)out->n, sizeof(char *), cmp_path);
    out->n_total = out->n;
    return DG_OK;
}

/* ---- the collective listing ----------------------------------------------- */

static int list_manifest(const dg_ctx *ctx, const char *manifest, dg_pathlist *out, dg_err *err)
{
    int64_t head[2] = {0, 0}; /* n_total, n_marks */
    int64_t *marks = NULL;
    int rc = DG_OK;
    if (ctx->rank == 0)
        rc = manifest_index(manifest, &head[0], &marks, &head[1], err);
    if (dg_agree(ctx, rc, err) != DG_OK) {
        free(marks);
        return DG_FAIL;
    }
    MPI_Bcast(head, 2, MPI_INT64_T, 0, ctx->comm);
    if (ctx->rank != 0) {
        marks = dg_alloc((size_t)head[1], sizeof(int64_t), err);
        rc = marks ? DG_OK : DG_FAIL;
    }
    if (dg_agree(ctx, rc, err) != DG_OK) {
        free(marks);
        return DG_FAIL;
    }
    if (head[1] > 0)
        MPI_Bcast(marks, (int)head[1], MPI_INT64_T, 0, ctx->comm);
    int64_t n = head[0];
    int64_t lo = dg_range_lo(n, ctx->size, ctx->rank), hi = dg_range_lo(n, ctx->size, ctx->rank + 1);
    out->n_total = n;
    out->lo = lo;
    if (hi > lo) {
        int64_t m = lo / MARK_STRIDE;
        rc = manifest_range(manifest, marks[m], m * MARK_STRIDE, lo, hi, out, err);
    }
    free(marks);
    if (dg_agree(ctx, rc, err) != DG_OK) {
        dg_pathlist_free(out);
        return DG_FAIL;
    }
    return DG_OK;
}

/* Rank 0's full list packed as NUL-terminated strings per rank share. */
static int pack_shares(const dg_ctx *ctx, const dg_pathlist *all, char **buf, int *counts, int *displs,
                       dg_err *err)
{
    size_t total = 0;
    for (int r = 0; r < ctx->size; r++) {
        size_t bytes = 0;
        for (int64_t i = dg_range_lo(all->n, ctx->size, r); i < dg_range_lo(all->n, ctx->size, r + 1); i++)
            bytes += strlen(all->path[i]) + 1;
        if (bytes > (size_t)INT32_MAX || total > (size_t)INT32_MAX)
            return dg_failc(err, DG_E_INPUT, "folder listing too large to distribute (%zu bytes for rank %d); use input.manifest",
                           bytes, r);
        counts[r] = (int)bytes;
        displs[r] = (int)total;
        total += bytes;
    }
    *buf = dg_alloc(total, 1, err);
    if (!*buf)
        return DG_FAIL;
    char *p = *buf;
    for (int64_t i = 0; i < all->n; i++) {
        size_t len = strlen(all->path[i]) + 1;
        memcpy(p, all->path[i], len);
        p += len;
    }
    return DG_OK;
}

static int unpack_share(const char *buf, int bytes, dg_pathlist *out, dg_err *err)
{
    int64_t cap = 0;
    for (int off = 0; off < bytes;) {
        if (pathlist_push(out, &cap, buf + off, err) != DG_OK)
            return DG_FAIL;
        off += (int)strlen(buf + off) + 1;
    }
    return DG_OK;
}

static int list_dir(const dg_ctx *ctx, const char *dir, dg_pathlist *out, dg_err *err)
{
    dg_pathlist all = {0};
    char *packed = NULL, *mine = NULL;
    int *counts = dg_calloc((size_t)ctx->size, sizeof(int), err);
    int *displs = dg_calloc((size_t)ctx->size, sizeof(int), err);
    int rc = counts && displs ? DG_OK : DG_FAIL;
    if (rc == DG_OK && ctx->rank == 0) {
        rc = dg_dir_list(dir, &all, err);
        if (rc == DG_OK)
            rc = pack_shares(ctx, &all, &packed, counts, displs, err);
    }
    if ((rc = dg_agree(ctx, rc, err)) != DG_OK)
        goto done;
    int64_t n = all.n;
    MPI_Bcast(&n, 1, MPI_INT64_T, 0, ctx->comm);
    int bytes = 0;
    MPI_Scatter(counts, 1, MPI_INT, &bytes, 1, MPI_INT, 0, ctx->comm);
    mine = dg_alloc((size_t)bytes, 1, err);
    if ((rc = dg_agree(ctx, mine ? DG_OK : DG_FAIL, err)) != DG_OK)
        goto done;
    MPI_Scatterv(packed, counts, displs, MPI_CHAR, mine, bytes, MPI_CHAR, 0, ctx->comm);
    out->n_total = n;
    out->lo = dg_range_lo(n, ctx->size, ctx->rank);
    rc = unpack_share(mine, bytes, out, err);
    rc = dg_agree(ctx, rc, err);
    if (rc != DG_OK)
        dg_pathlist_free(out);
done:
    dg_pathlist_free(&all);
    free(packed);
    free(mine);
    free(counts);
    free(displs);
    return rc;
}

int dg_list_input(const dg_ctx *ctx, const dg_config *cfg, dg_pathlist *out, dg_err *err)
{
    memset(out, 0, sizeof *out);
    if (cfg->input_kind == DG_INPUT_MANIFEST)
        return list_manifest(ctx, cfg->input_path, out, err);
    if (cfg->input_kind == DG_INPUT_DIR)
        return list_dir(ctx, cfg->input_path, out, err);
    return dg_failc(err, DG_E_INPUT, "image input needs input.manifest or input.dir");
}
