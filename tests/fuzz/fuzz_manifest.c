/* fuzz_manifest.c - libFuzzer harness for the manifest reader
 * (dg_manifest_read): line splitting, CRLF, blank and comment lines, NUL
 * bytes, over-long lines and paths, resolution against the manifest's
 * folder, and the [lo, hi) share.
 *
 * Input: two bytes choosing lo and hi, then the manifest's bytes, in which
 * each 0x01 byte stands for 1024 'x' (so lines near DG_PATH_MAX are within
 * reach of small inputs).  The result is compared with a naive reading of
 * the rules in embed.h: the same failure, or the same entry count and the
 * same resolved paths of the share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input/manifest.h"

#define EXPAND 1024

/* The naive reading: entries' resolved paths, or failed = 1. */
typedef struct naive {
    int failed;
    int64_t n;
    char **path;
} naive;

static void check(int ok, const char *what, const char *detail)
{
    if (!ok) {
        fprintf(stderr, "fuzz_manifest: %s (%s)\n", what, detail);
        abort();
    }
}

static char *expand(const uint8_t *data, size_t size, size_t *len)
{
    size_t n = 0;
    for (size_t i = 0; i < size; i++)
        n += data[i] == 1 ? EXPAND : 1;
    char *text = malloc(n + 1);
    if (!text)
        return NULL;
    char *p = text;
    for (size_t i = 0; i < size; i++) {
        if (data[i] == 1) {
            memset(p, 'x', EXPAND);
            p += EXPAND;
        } else {
            *p++ = (char)data[i];
        }
    }
    *p = '\0';
    *len = n;
    return text;
}

/* One line of the naive reading; returns 0 when the manifest must fail. */
static int naive_line(naive *nv, const char *line, size_t len, const char *base)
{
    if (memchr(line, '\0', len) || len > DG_PATH_MAX)
        return 0;
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len == 0 || line[0] == '#' || strspn(line, " \t") >= len)
        return 1;
    size_t prefix = line[0] == '/' ? 0 : strlen(base);
    if (prefix + len >= DG_PATH_MAX)
        return 0;
    char *p = malloc(prefix + len + 1);
    check(p != NULL, "out of memory", "");
    memcpy(p, base, prefix);
    memcpy(p + prefix, line, len);
    p[prefix + len] = '\0';
    nv->path = realloc(nv->path, sizeof(char *) * (size_t)(nv->n + 1));
    check(nv->path != NULL, "out of memory", "");
    nv->path[nv->n++] = p;
    return 1;
}

static void naive_read(naive *nv, const char *text, size_t len, const char *base)
{
    memset(nv, 0, sizeof *nv);
    for (size_t at = 0; at < len && !nv->failed;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - text) : len;
        nv->failed = !naive_line(nv, text + at, end - at, base);
        at = end + 1;
    }
}

static void naive_free(naive *nv)
{
    for (int64_t i = 0; i < nv->n; i++)
        free(nv->path[i]);
    free(nv->path);
}

static void compare(const naive *nv, const dg_pathlist *pl, int rc, const dg_err *err, int64_t lo, int64_t hi)
{
    check((rc != DG_OK) == nv->failed, nv->failed ? "accepted a manifest it must refuse" : "refused a good manifest",
          err->msg);
    if (rc != DG_OK) {
        check(err->msg[0] != '\0', "failure without a reason", "");
        return;
    }
    int64_t h = hi < 0 || hi > nv->n ? nv->n : hi, l = lo < 0 ? 0 : lo > h ? h : lo;
    check(pl->n_total == nv->n, "entry count differs", "");
    check(pl->lo == l && pl->n == h - l, "share differs", "");
    for (int64_t i = 0; i < pl->n; i++)
        check(strcmp(pl->path[i], nv->path[l + i]) == 0, "path differs", pl->path[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int64_t lo = data[0] % 8, hi = (int64_t)(data[1] % 10) - 1;
    size_t len = 0;
    char *text = expand(data + 2, size - 2, &len);
    if (!text)
        return 0;
    char dir[128], path[160];
    snprintf(dir, sizeof dir, "%s/dg-fuzz-manifest-%ld", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp",
             (long)getpid());
    snprintf(path, sizeof path, "%s/list.txt", dir);
    mkdir(dir, 0700);
    FILE *f = fopen(path, "wb");
    check(f && fwrite(text, 1, len, f) == len && fclose(f) == 0, "cannot write the manifest", path);

    char base[160];
    snprintf(base, sizeof base, "%s/", dir);
    naive nv;
    naive_read(&nv, text, len, base);
    dg_pathlist pl;
    dg_err err = {0};
    int rc = dg_manifest_read(path, lo, hi, &pl, &err);
    compare(&nv, &pl, rc, &err, lo, hi);
    if (rc == DG_OK)
        dg_pathlist_free(&pl);
    naive_free(&nv);
    free(text);
    unlink(path);
    rmdir(dir);
    return 0;
}
