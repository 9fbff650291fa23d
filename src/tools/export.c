/* export.c - `dupgraph export`: the keep-list, the removed list and the edge
 * CSV written from an output file (see export.h for the formats).  It reads
 * the file through io/h5_file.h (the facts) and io/h5_columns.h (the rows)
 * in bounded row ranges and writes each list to a temporary name that is
 * renamed once the list is complete.  Choosing what
 * is kept is the graph stage's; this module only copies its decision.
 */
#include "tools/export.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dupgraph/config.h"
#include "io/h5_columns.h"
#include "io/h5_file.h"
#include "tools/remove_keys.h"

/* Bytes of item rows (paths, status, keep) read per round. */
#define ITEM_CHUNK_BYTES ((size_t)16 << 20)
/* Edge rows read per round. */
#define EDGE_CHUNK_ROWS ((int64_t)1 << 18)

/* A text file being written under "<name>.tmp". */
typedef struct out_file {
    const char *name;
    char tmp[DG_PATH_MAX + 8];
    FILE *f;
} out_file;

static int out_open(out_file *o, const char *name, dg_err *err)
{
    o->name = name;
    o->f = NULL;
    if (!name)
        return DG_OK;
    if ((size_t)snprintf(o->tmp, sizeof o->tmp, "%s.tmp", name) >= sizeof o->tmp)
        return dg_failc(err, DG_E_OUTPUT, "%s: path too long", name);
    o->f = fopen(o->tmp, "w");
    if (!o->f)
        return dg_failc(err, DG_E_OUTPUT, "%s: cannot create: %s", o->tmp, strerror(errno));
    return DG_OK;
}

/* Closes; on success renames into place, otherwise removes the temporary. */
static int out_close(out_file *o, int rc, dg_err *err)
{
    if (!o->f)
        return rc;
    int failed = ferror(o->f);
    if (fclose(o->f) != 0)
        failed = 1;
    o->f = NULL;
    if (rc == DG_OK && failed)
        rc = dg_failc(err, DG_E_OUTPUT, "%s: write failed: %s", o->tmp, strerror(errno));
    if (rc == DG_OK && rename(o->tmp, o->name) != 0)
        rc = dg_failc(err, DG_E_OUTPUT, "%s: cannot rename %s to it: %s", o->name, o->tmp, strerror(errno));
    if (rc != DG_OK)
        unlink(o->tmp);
    return rc;
}

/* One item's line: its path, or its id when it has none.  Write errors
 * surface when the file is closed. */
static int write_item(FILE *f, int64_t id, const char *path, dg_err *err)
{
    if (path[0] == '\0') {
        fprintf(f, "%lld\n", (long long)id);
        return DG_OK;
    }
    if (strchr(path, '\n'))
        return dg_failc(err, DG_E_OUTPUT, "item %lld: its path holds a newline and cannot be written one per line",
                       (long long)id);
    fputs(path, f);
    fputc('\n', f);
    return DG_OK;
}

/* Buffers for one round of item rows. */
typedef struct item_rows {
    int64_t cap;
    size_t stride;
    int8_t *status;
    int8_t *keep;
    char *path;
} item_rows;

static void item_rows_free(item_rows *r)
{
    free(r->status);
    free(r->keep);
    free(r->path);
}

static int item_rows_alloc(item_rows *r, size_t path_len, int64_t n, dg_err *err)
{
    r->stride = path_len + 1;
    r->cap = (int64_t)(ITEM_CHUNK_BYTES / (r->stride + 2));
    if (r->cap < 1)
        r->cap = 1;
    if (r->cap > n)
        r->cap = n;
    r->status = dg_alloc((size_t)r->cap, 1, err);
    r->keep = dg_alloc((size_t)r->cap, 1, err);
    r->path = dg_alloc((size_t)r->cap, r->stride, err);
    return r->status && r->keep && r->path ? DG_OK : DG_FAIL;
}

static int read_item_rows(const char *path, item_rows *r, int64_t lo, int64_t count, dg_err *err)
{
    if (dg_h5_read_item_column(path, "status", lo, count, DG_H5_INT8, r->status, err) != DG_OK ||
        dg_h5_read_item_column(path, "keep", lo, count, DG_H5_INT8, r->keep, err) != DG_OK)
        return DG_FAIL;
    return dg_h5_read_item_paths(path, lo, count, r->path, r->stride, err);
}

/* Sends every usable item of the round to the keep-list or the removed list. */
static int write_round(const item_rows *r, int64_t lo, int64_t count, out_file *keep, out_file *removed,
                       dg_export_counts *counts, dg_err *err)
{
    for (int64_t i = 0; i < count; i++) {
        if (!dg_status_usable(r->status[i]))
            continue;
        out_file *o = r->keep[i] ? keep : removed;
        *(r->keep[i] ? &counts->kept : &counts->removed) += 1;
        if (o->f && write_item(o->f, lo + i, r->path + (size_t)i * r->stride, err) != DG_OK)
            return DG_FAIL;
    }
    return DG_OK;
}

static int write_lists(const char *path, const dg_h5_facts *facts, out_file *keep, out_file *removed,
                       dg_export_counts *counts, dg_err *err)
{
    item_rows r = {0};
    int rc = item_rows_alloc(&r, facts->path_len, facts->n_items, err);
    for (int64_t lo = 0; rc == DG_OK && lo < facts->n_items; lo += r.cap) {
        int64_t count = facts->n_items - lo < r.cap ? facts->n_items - lo : r.cap;
        rc = read_item_rows(path, &r, lo, count, err);
        if (rc == DG_OK)
            rc = write_round(&r, lo, count, keep, removed, counts, err);
    }
    item_rows_free(&r);
    return rc;
}

static int write_edges(const char *path, const dg_h5_facts *facts, out_file *o, dg_export_counts *counts,
                       dg_err *err)
{
    int64_t cap = facts->n_edges < EDGE_CHUNK_ROWS ? facts->n_edges : EDGE_CHUNK_ROWS;
    int64_t *src = dg_alloc((size_t)cap, sizeof *src, err);
    int64_t *dst = dg_alloc((size_t)cap, sizeof *dst, err);
    float *sim = dg_alloc((size_t)cap, sizeof *sim, err);
    int rc = src && dst && sim ? DG_OK : DG_FAIL;
    if (rc == DG_OK)
        fputs("src,dst,sim\n", o->f);
    for (int64_t lo = 0; rc == DG_OK && lo < facts->n_edges; lo += cap) {
        int64_t count = facts->n_edges - lo < cap ? facts->n_edges - lo : cap;
        rc = dg_h5_read_edge_rows(path, lo, count, src, dst, sim, err);
        for (int64_t i = 0; rc == DG_OK && i < count; i++)
            fprintf(o->f, "%lld,%lld,%.9g\n", (long long)src[i], (long long)dst[i], (double)sim[i]);
        counts->edges += rc == DG_OK ? count : 0;
    }
    counts->forest = facts->settings.forest;
    free(src);
    free(dst);
    free(sim);
    return rc;
}

static int export_open(const char *path, const dg_h5_facts *facts, const dg_export_files *files,
                       dg_export_counts *counts, dg_err *err)
{
    out_file keep = {0}, removed = {0}, edges = {0};
    int rc = out_open(&keep, files->keep_list, err);
    if (rc == DG_OK)
        rc = out_open(&removed, files->removed, err);
    if (rc == DG_OK)
        rc = out_open(&edges, files->edges, err);
    if (rc == DG_OK && (keep.f || removed.f))
        rc = write_lists(path, facts, &keep, &removed, counts, err);
    if (rc == DG_OK && edges.f)
        rc = write_edges(path, facts, &edges, counts, err);
    rc = out_close(&keep, rc, err);
    rc = out_close(&removed, rc, err);
    rc = out_close(&edges, rc, err);
    if (rc == DG_OK && files->remove_keys)
        rc = dg_export_remove_keys(path, files->remove_keys, &counts->shards, &counts->keys, err);
    return rc;
}

int dg_export(const char *path, const dg_export_files *files, dg_export_counts *counts, dg_err *err)
{
    dg_h5_facts facts;
    memset(counts, 0, sizeof *counts);
    if (dg_h5_read_facts(path, &facts, err) != DG_OK)
        return DG_FAIL;
    int rc = export_open(path, &facts, files, counts, err);
    dg_h5_facts_free(&facts);
    return rc;
}

static int parse_args(int argc, char *const *argv, dg_export_files *files, dg_err *err)
{
    memset(files, 0, sizeof *files);
    if (argc < 1 || argv[0][0] == '-')
        return dg_failc(err, DG_E_USAGE, "export needs an output file: export OUT.h5 [--keep-list F] [--removed F] [--edges F] "
                                         "[--remove-keys DIR]");
    for (int i = 1; i < argc; i += 2) {
        const char **slot = !strcmp(argv[i], "--keep-list") ? &files->keep_list
                            : !strcmp(argv[i], "--removed") ? &files->removed
                            : !strcmp(argv[i], "--edges")   ? &files->edges
                            : !strcmp(argv[i], "--remove-keys") ? &files->remove_keys
                                                            : NULL;
        if (!slot)
            return dg_failc(err, DG_E_USAGE, "export: unknown option '%s' (see dupgraph --help)", argv[i]);
        if (i + 1 >= argc)
            return dg_failc(err, DG_E_USAGE, "export: %s needs a file name", argv[i]);
        *slot = argv[i + 1];
    }
    const char *names[3] = {files->keep_list, files->removed, files->edges};
    if (!names[0] && !names[1] && !names[2] && !files->remove_keys)
        return dg_failc(err, DG_E_USAGE, "export: nothing to write (give --keep-list, --removed, --edges and/or "
                                         "--remove-keys)");
    for (int a = 0; a < 3; a++)
        for (int b = a + 1; b < 3; b++)
            if (names[a] && names[b] && !strcmp(names[a], names[b]))
                return dg_failc(err, DG_E_USAGE, "export: '%s' is given for two outputs", names[a]);
    return DG_OK;
}

int dg_export_command(int argc, char *const *argv, FILE *out, dg_err *err)
{
    dg_export_files files;
    dg_export_counts counts;
    if (parse_args(argc, argv, &files, err) != DG_OK || dg_export(argv[0], &files, &counts, err) != DG_OK)
        return DG_FAIL;
    if (files.keep_list)
        fprintf(out, "keep-list: %s (%lld items)\n", files.keep_list, (long long)counts.kept);
    if (files.removed)
        fprintf(out, "removed: %s (%lld items)\n", files.removed, (long long)counts.removed);
    if (files.edges)
        fprintf(out, "edges: %s (%lld pairs%s)\n", files.edges, (long long)counts.edges,
                counts.forest ? ", a spanning forest of the duplicate pairs: graph.edges = forest" : "");
    if (files.remove_keys)
        fprintf(out, "remove-keys: %s (%lld shards, %lld keys)\n", files.remove_keys, (long long)counts.shards,
                (long long)counts.keys);
    return DG_OK;
}
