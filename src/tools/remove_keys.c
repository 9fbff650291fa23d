/* remove_keys.c - the removal lists of a shards output, per shard: reads
 * /shards/path, then /items/{status,keep,shard,key} in bounded row ranges,
 * keeps the keys of removed items (usable, not kept: the --removed list's
 * items) per shard, sorts them and writes each shard's file as
 * "<name>.tmp", renamed when complete.  See remove_keys.h. */
#include "tools/remove_keys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/h5_columns.h"
#include "io/h5_file.h"

/* Bytes of item rows read per round. */
#define CHUNK_BYTES ((size_t)16 << 20)

typedef struct key_list {
    char **key;
    int64_t n, cap;
} key_list;

static int push_key(key_list *l, const char *key, dg_err *err)
{
    if (l->n == l->cap) {
        int64_t cap = l->cap ? 2 * l->cap : 64;
        char **nk = realloc(l->key, sizeof(char *) * (size_t)cap);
        if (!nk)
            return dg_failc(err, DG_E_MEMORY, "out of memory collecting keys");
        l->key = nk;
        l->cap = cap;
    }
    if (!(l->key[l->n] = strdup(key)))
        return dg_failc(err, DG_E_MEMORY, "out of memory collecting keys");
    l->n++;
    return DG_OK;
}

void dg_remove_keys_name(const char *shard_path, char *out, size_t cap)
{
    static const char *const suffix[] = {".tar.gz", ".tgz", ".tar"};
    const char *base = strrchr(shard_path, '/');
    base = base ? base + 1 : shard_path;
    size_t len = strlen(base);
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        size_t sl = strlen(suffix[i]);
        if (len > sl && strcmp(base + len - sl, suffix[i]) == 0) {
            len -= sl;
            break;
        }
    }
    snprintf(out, cap, "%.*s.txt", (int)len, base);
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads every item row and files the removed items' keys by shard. */
static int collect(const char *path, int64_t n_items, int64_t n_shards, key_list *lists, dg_err *err)
{
    int64_t rows = 0;
    size_t key_len = 0;
    if (dg_h5_string_shape(path, "/items/key", &rows, &key_len, err) != DG_OK)
        return DG_FAIL;
    if (rows != n_items)
        return dg_failc(err, DG_E_INPUT, "%s: /items/key has %lld rows for %lld items", path, (long long)rows,
                        (long long)n_items);
    size_t stride = key_len + 1;
    int64_t cap = (int64_t)(CHUNK_BYTES / (stride + 6));
    cap = cap < 1 ? 1 : cap > n_items ? n_items : cap;
    int8_t *status = dg_alloc((size_t)cap + 1, 1, err), *keep = dg_alloc((size_t)cap + 1, 1, err);
    int32_t *shard = dg_alloc((size_t)cap + 1, sizeof(int32_t), err);
    char *key = dg_alloc((size_t)cap + 1, stride, err);
    int rc = status && keep && shard && key ? DG_OK : DG_FAIL;
    for (int64_t lo = 0; rc == DG_OK && lo < n_items; lo += cap) {
        int64_t count = n_items - lo < cap ? n_items - lo : cap;
        if (dg_h5_read_item_column(path, "status", lo, count, DG_H5_INT8, status, err) != DG_OK ||
            dg_h5_read_item_column(path, "keep", lo, count, DG_H5_INT8, keep, err) != DG_OK ||
            dg_h5_read_item_column(path, "shard", lo, count, DG_H5_INT32, shard, err) != DG_OK ||
            dg_h5_read_strings(path, "/items/key", lo, count, key, stride, err) != DG_OK) {
            rc = DG_FAIL;
            break;
        }
        for (int64_t i = 0; rc == DG_OK && i < count; i++) {
            if (!dg_status_usable(status[i]) || keep[i])
                continue;
            if (shard[i] < 0 || shard[i] >= n_shards)
                rc = dg_failc(err, DG_E_INPUT, "%s: item %lld names shard %d of %lld", path, (long long)(lo + i),
                              shard[i], (long long)n_shards);
            else
                rc = push_key(&lists[shard[i]], key + (size_t)i * stride, err);
        }
    }
    free(status);
    free(keep);
    free(shard);
    free(key);
    return rc;
}

static int write_list(const char *file, key_list *l, dg_err *err)
{
    char tmp[DG_PATH_MAX + 8];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", file) >= sizeof tmp)
        return dg_failc(err, DG_E_OUTPUT, "%s: path too long", file);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return dg_failc(err, DG_E_OUTPUT, "%s: cannot create: %s", tmp, strerror(errno));
    if (l->n > 1)
        qsort(l->key, (size_t)l->n, sizeof(char *), cmp_key);
    int rc = DG_OK;
    for (int64_t i = 0; rc == DG_OK && i < l->n; i++) {
        if (strchr(l->key[i], '\n'))
            rc = dg_failc(err, DG_E_OUTPUT, "%s: a key holds a newline", file);
        else
            fprintf(f, "%s\n", l->key[i]);
    }
    if (fclose(f) != 0 && rc == DG_OK)
        rc = dg_failc(err, DG_E_OUTPUT, "%s: write failed: %s", tmp, strerror(errno));
    if (rc == DG_OK && rename(tmp, file) != 0)
        rc = dg_failc(err, DG_E_OUTPUT, "%s: cannot rename %s to it: %s", file, tmp, strerror(errno));
    if (rc != DG_OK)
        unlink(tmp);
    return rc;
}

/* The shards' paths, and a check that their file names differ. */
static int read_shards(const char *path, char **buf, size_t *stride, int64_t *n, dg_err *err)
{
    size_t len = 0;
    if (dg_h5_string_shape(path, "/shards/path", n, &len, err) != DG_OK)
        return dg_failc(err, DG_E_INPUT, "%s: no /shards/path: --remove-keys needs the output of an input.shards run",
                        path);
    *stride = len + 1;
    if (!(*buf = dg_alloc((size_t)*n + 1, *stride, err)))
        return DG_FAIL;
    if (dg_h5_read_strings(path, "/shards/path", 0, *n, *buf, *stride, err) != DG_OK)
        return DG_FAIL;
    char a[DG_PATH_MAX], b[DG_PATH_MAX];
    for (int64_t i = 0; i < *n; i++) /* shards are few: quadratic is fine */
        for (int64_t j = i + 1; j < *n; j++) {
            dg_remove_keys_name(*buf + (size_t)i * *stride, a, sizeof a);
            dg_remove_keys_name(*buf + (size_t)j * *stride, b, sizeof b);
            if (strcmp(a, b) == 0)
                return dg_failc(err, DG_E_INPUT, "--remove-keys: shards %s and %s would both write %s",
                                *buf + (size_t)i * *stride, *buf + (size_t)j * *stride, a);
        }
    return DG_OK;
}

int dg_export_remove_keys(const char *path, const char *dir, int64_t *shards, int64_t *keys, dg_err *err)
{
    *shards = *keys = 0;
    dg_h5_facts facts;
    if (dg_h5_read_facts(path, &facts, err) != DG_OK)
        return DG_FAIL;
    int64_t n_items = facts.n_items, n = 0;
    dg_h5_facts_free(&facts);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return dg_failc(err, DG_E_OUTPUT, "--remove-keys %s: cannot create the folder: %s", dir, strerror(errno));
    char *names = NULL;
    size_t stride = 0;
    key_list *lists = NULL;
    int rc = read_shards(path, &names, &stride, &n, err);
    if (rc == DG_OK && !(lists = dg_calloc((size_t)n + 1, sizeof *lists, err)))
        rc = DG_FAIL;
    if (rc == DG_OK)
        rc = collect(path, n_items, n, lists, err);
    for (int64_t s = 0; rc == DG_OK && s < n; s++) {
        char name[DG_PATH_MAX], file[DG_PATH_MAX];
        dg_remove_keys_name(names + (size_t)s * stride, name, sizeof name);
        if ((size_t)snprintf(file, sizeof file, "%s/%s", dir, name) >= sizeof file)
            rc = dg_failc(err, DG_E_OUTPUT, "--remove-keys %s: path too long", dir);
        else
            rc = write_list(file, &lists[s], err);
        *shards += rc == DG_OK;
        *keys += rc == DG_OK ? lists[s].n : 0;
    }
    for (int64_t s = 0; lists && s < n; s++) {
        for (int64_t i = 0; i < lists[s].n; i++)
            free(lists[s].key[i]);
        free(lists[s].key);
    }
    free(lists);
    free(names);
    return rc;
}
