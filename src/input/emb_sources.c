/* emb_sources.c - the list of files and row segments behind input.embeddings:
 * expanding the value (comma-separated paths and glob patterns), building the
 * list, copying rank 0's list to every rank, and finding the file of an id.
 * Opening and checking the HDF5 files is embeddings.c's.  See emb_sources.h.
 */
#include "input/emb_sources.h"

#include <glob.h>
#include <stdlib.h>
#include <string.h>

void dg_emb_free_strings(char **s, int n)
{
    for (int i = 0; s && i < n; i++)
        free(s[i]);
    free(s);
}

static int push_string(char ***list, int *n, const char *value, dg_err *err)
{
    char **grown = realloc(*list, (size_t)(*n + 1) * sizeof *grown);
    char *copy = grown ? strdup(value) : NULL;
    if (grown)
        *list = grown;
    if (!copy)
        return dg_failc(err, DG_E_MEMORY, "out of memory listing the embeddings files");
    (*list)[(*n)++] = copy;
    return DG_OK;
}

static int has_magic(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

/* glob(3) sorts its matches (strcoll; the job runs in the C locale, so bytewise). */
static int expand_pattern(const char *pattern, char ***files, int *n, dg_err *err)
{
    glob_t g;
    int rc = glob(pattern, GLOB_ERR, NULL, &g);
    if (rc == GLOB_NOMATCH)
        return dg_failc(err, DG_E_INPUT, "input.embeddings %s: no file matches", pattern);
    if (rc != 0)
        return dg_failc(err, rc == GLOB_NOSPACE ? DG_E_MEMORY : DG_E_INPUT, "input.embeddings %s: cannot expand (%s)",
                        pattern, rc == GLOB_NOSPACE ? "out of memory" : "read error");
    int out = DG_OK;
    for (size_t i = 0; out == DG_OK && i < g.gl_pathc; i++)
        out = push_string(files, n, g.gl_pathv[i], err);
    globfree(&g);
    return out;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A file listed twice would make its rows two items each: refused. */
static int check_unique(char **files, int n, dg_err *err)
{
    char **sorted = dg_alloc((size_t)n, sizeof *sorted, err);
    if (!sorted)
        return DG_FAIL;
    memcpy(sorted, files, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_str);
    int rc = DG_OK;
    for (int i = 1; rc == DG_OK && i < n; i++)
        if (strcmp(sorted[i - 1], sorted[i]) == 0)
            rc = dg_failc(err, DG_E_CONFIG, "input.embeddings: %s is listed twice", sorted[i]);
    free(sorted);
    return rc;
}

int dg_emb_expand(const char *spec, char ***files, int *n_files, dg_err *err)
{
    *files = NULL;
    *n_files = 0;
    char *copy = strdup(spec);
    if (!copy)
        return dg_failc(err, DG_E_MEMORY, "out of memory listing the embeddings files");
    int rc = DG_OK;
    char *entry = copy;
    while (rc == DG_OK && entry) {
        char *comma = strchr(entry, ',');
        if (comma)
            *comma = '\0';
        if (!*entry)
            rc = dg_failc(err, DG_E_CONFIG, "input.embeddings = '%s': an empty entry in the comma-separated list", spec);
        else if (has_magic(entry))
            rc = expand_pattern(entry, files, n_files, err);
        else
            rc = push_string(files, n_files, entry, err);
        entry = comma ? comma + 1 : NULL;
    }
    free(copy);
    if (rc == DG_OK)
        rc = check_unique(*files, *n_files, err);
    if (rc != DG_OK) {
        dg_emb_free_strings(*files, *n_files);
        *files = NULL;
        *n_files = 0;
    }
    return rc;
}

int dg_emb_sources_add_input(dg_emb_sources *s, const char *path, int64_t rows, dg_err *err)
{
    int64_t *lo = realloc(s->input_lo, (size_t)(s->n_inputs + 2) * sizeof *lo);
    if (!lo)
        return dg_failc(err, DG_E_MEMORY, "out of memory listing the embeddings files");
    s->input_lo = lo;
    if (s->n_inputs == 0)
        lo[0] = 0;
    if (push_string(&s->inputs, &s->n_inputs, path, err) != DG_OK)
        return DG_FAIL;
    lo[s->n_inputs] = lo[s->n_inputs - 1] + rows;
    return DG_OK;
}

int dg_emb_sources_add_segment(dg_emb_sources *s, const char *path, const char *dataset, int64_t src_lo,
                               int64_t rows, dg_err *err)
{
    dg_emb_segment *seg = realloc(s->seg, (size_t)(s->n_segments + 1) * sizeof *seg);
    if (!seg)
        return dg_failc(err, DG_E_MEMORY, "out of memory listing the embeddings files");
    s->seg = seg;
    int64_t lo = s->n_segments ? seg[s->n_segments - 1].lo + seg[s->n_segments - 1].rows : 0;
    dg_emb_segment *e = &seg[s->n_segments];
    *e = (dg_emb_segment){strdup(path), strdup(dataset), src_lo, lo, rows};
    if (!e->path || !e->dataset) {
        free(e->path);
        free(e->dataset);
        return dg_failc(err, DG_E_MEMORY, "out of memory listing the embeddings files");
    }
    s->n_segments++;
    return DG_OK;
}

int dg_emb_sources_add_dep(dg_emb_sources *s, const char *path, dg_err *err)
{
    for (int i = 0; i < s->n_deps; i++)
        if (strcmp(s->deps[i], path) == 0)
            return DG_OK;
    return push_string(&s->deps, &s->n_deps, path, err);
}

void dg_emb_sources_free(dg_emb_sources *s)
{
    dg_emb_free_strings(s->inputs, s->n_inputs);
    dg_emb_free_strings(s->deps, s->n_deps);
    for (int i = 0; i < s->n_segments; i++) {
        free(s->seg[i].path);
        free(s->seg[i].dataset);
    }
    free(s->seg);
    free(s->input_lo);
    memset(s, 0, sizeof *s);
}

int dg_emb_sources_input_of(const dg_emb_sources *s, int64_t id)
{
    int a = 0, b = s->n_inputs - 1; /* input_lo[a] <= id < input_lo[b + 1] */
    while (a < b) {
        int mid = a + (b - a + 1) / 2;
        if (s->input_lo[mid] <= id)
            a = mid;
        else
            b = mid - 1;
    }
    return a;
}

/* ---- copying rank 0's list ------------------------------------------------ */

/* The list as numbers (counts, then the row figures) and strings (every
 * string NUL-terminated, in the order inputs, segment paths and datasets,
 * deps). */
enum { H_INPUTS, H_SEGMENTS, H_DEPS, H_D, H_TOTAL, H_CHARS, H_COUNT };

static size_t string_bytes(const dg_emb_sources *s)
{
    size_t n = 0;
    for (int i = 0; i < s->n_inputs; i++)
        n += strlen(s->inputs[i]) + 1;
    for (int i = 0; i < s->n_segments; i++)
        n += strlen(s->seg[i].path) + strlen(s->seg[i].dataset) + 2;
    for (int i = 0; i < s->n_deps; i++)
        n += strlen(s->deps[i]) + 1;
    return n;
}

static char *put(char *p, const char *str)
{
    size_t len = strlen(str) + 1;
    memcpy(p, str, len);
    return p + len;
}

static void pack(const dg_emb_sources *s, int64_t *num, char *chars)
{
    int64_t *q = num;
    for (int i = 0; i <= s->n_inputs; i++)
        *q++ = s->input_lo[i];
    for (int i = 0; i < s->n_segments; i++) {
        *q++ = s->seg[i].src_lo;
        *q++ = s->seg[i].rows;
    }
    char *p = chars;
    for (int i = 0; i < s->n_inputs; i++)
        p = put(p, s->inputs[i]);
    for (int i = 0; i < s->n_segments; i++)
        p = put(put(p, s->seg[i].path), s->seg[i].dataset);
    for (int i = 0; i < s->n_deps; i++)
        p = put(p, s->deps[i]);
}

static const char *take(const char **p)
{
    const char *str = *p;
    *p += strlen(str) + 1;
    return str;
}

static int unpack(dg_emb_sources *s, const int64_t *h, const int64_t *num, const char *chars, dg_err *err)
{
    const int64_t *q = num;
    const char *p = chars;
    int rc = DG_OK;
    for (int64_t i = 0; rc == DG_OK && i < h[H_INPUTS]; i++) {
        const char *path = take(&p);
        rc = dg_emb_sources_add_input(s, path, q[i + 1] - q[i], err);
    }
    q += h[H_INPUTS] + 1;
    for (int64_t i = 0; rc == DG_OK && i < h[H_SEGMENTS]; i++) {
        const char *path = take(&p);
        const char *dataset = take(&p);
        rc = dg_emb_sources_add_segment(s, path, dataset, q[2 * i], q[2 * i + 1], err);
    }
    for (int64_t i = 0; rc == DG_OK && i < h[H_DEPS]; i++)
        rc = dg_emb_sources_add_dep(s, take(&p), err);
    s->d = (int)h[H_D];
    s->n_total = h[H_TOTAL];
    return rc;
}

int dg_emb_sources_bcast(const dg_ctx *ctx, dg_emb_sources *s, int rc, dg_err *err)
{
    if (dg_agree(ctx, rc, err) != DG_OK)
        return DG_FAIL;
    int64_t h[H_COUNT] = {s->n_inputs, s->n_segments, s->n_deps, s->d, s->n_total, 0};
    if (ctx->rank == 0)
        h[H_CHARS] = (int64_t)string_bytes(s);
    MPI_Bcast(h, H_COUNT, MPI_INT64_T, 0, ctx->comm);
    size_t n_num = (size_t)(h[H_INPUTS] + 1 + 2 * h[H_SEGMENTS]);
    int64_t *num = dg_alloc(n_num, sizeof *num, err);
    char *chars = dg_alloc((size_t)h[H_CHARS] + 1, 1, err);
    if (dg_agree(ctx, num && chars ? DG_OK : DG_FAIL, err) != DG_OK || h[H_CHARS] > INT32_MAX) {
        free(num);
        free(chars);
        return h[H_CHARS] > INT32_MAX ? dg_failc(err, DG_E_INPUT, "input.embeddings: the file list is too long") : DG_FAIL;
    }
    if (ctx->rank == 0)
        pack(s, num, chars);
    MPI_Bcast(num, (int)n_num, MPI_INT64_T, 0, ctx->comm);
    MPI_Bcast(chars, (int)h[H_CHARS], MPI_CHAR, 0, ctx->comm);
    if (ctx->rank != 0)
        rc = unpack(s, h, num, chars, err);
    free(num);
    free(chars);
    return dg_agree(ctx, rc, err);
}
