/* mkbench_photos.c - dg-mkbench's list of source photographs: walking a
 * folder or reading a manifest, and the rule that keeps one file per photo
 * when a package ships the same photo several times (several resolutions,
 * a light and a dark version in sibling folders, a screenshot/preview).
 * It reads JPEG headers only; decoding is mkbench_main.c's. */
#include "bench/mkbench_photos.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int push_path(mk_photos *ph, const char *path, dg_err *err)
{
    if (ph->n == ph->cap) {
        size_t cap = ph->cap ? 2 * ph->cap : 64;
        mk_photo *v = realloc(ph->v, cap * sizeof *v);
        if (!v)
            return dg_fail(err, "out of memory listing photos");
        ph->v = v;
        ph->cap = cap;
    }
    mk_photo *p = &ph->v[ph->n];
    memset(p, 0, sizeof *p);
    p->path = strdup(path);
    if (!p->path)
        return dg_fail(err, "out of memory listing photos");
    p->kept_as = -1;
    ph->n++;
    return DG_OK;
}

void mk_photos_free(mk_photos *ph)
{
    for (size_t i = 0; i < ph->n; i++)
        free(ph->v[i].path);
    free(ph->v);
    memset(ph, 0, sizeof *ph);
}

static int has_jpeg_ext(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"));
}

static char *join_path(const char *dir, const char *name, dg_err *err)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *s = dg_alloc(n, 1, err);
    if (s)
        snprintf(s, n, "%s%s%s", dir, (*dir && dir[strlen(dir) - 1] != '/') ? "/" : "", name);
    return s;
}

/* Recursive walk; symlinked folders are not followed (no cycles). */
static int walk(const char *dir, mk_photos *ph, dg_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return dg_fail(err, "%s: cannot open folder", dir);
    int rc = DG_OK;
    struct dirent *e;
    while (rc == DG_OK && (e = readdir(d)) != NULL) {
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        char *path = join_path(dir, e->d_name, err);
        if (!path) {
            rc = DG_FAIL;
            break;
        }
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            rc = walk(path, ph, err);
        else if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && has_jpeg_ext(e->d_name))
            rc = push_path(ph, path, err);
        free(path);
    }
    closedir(d);
    return rc;
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(((const mk_photo *)a)->path, ((const mk_photo *)b)->path);
}

/* A manifest line "PATH<TAB>cut=SPEC": the path is cut at the tab, SPEC kept. */
static int push_line(mk_photos *ph, char *line, const char *dir, dg_err *err)
{
    char *tab = strchr(line, '\t');
    const char *spec = "";
    if (tab) {
        *tab = '\0';
        spec = tab + 1;
        if (strncmp(spec, "cut=", 4) != 0 || strlen(spec + 4) >= sizeof ph->v[0].cut)
            return dg_fail(err, "%s: expected cut=tiles:CxR or cut=pan:N after the tab, got %s", line, spec);
        spec += 4;
    }
    char *path = line[0] == '/' ? strdup(line) : join_path(dir, line, err);
    int rc = path ? push_path(ph, path, err) : dg_fail(err, "out of memory");
    free(path);
    if (rc == DG_OK)
        snprintf(ph->v[ph->n - 1].cut, sizeof ph->v[0].cut, "%s", spec);
    return rc;
}

/* One path per line, relative paths against the manifest's folder; blank
 * lines and lines starting with '#' are skipped. */
static int read_manifest(const char *file, mk_photos *ph, dg_err *err)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return dg_fail(err, "%s: cannot open manifest", file);
    char *dir = strdup(file);
    if (!dir) {
        fclose(f);
        return dg_fail(err, "out of memory");
    }
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[1] = '\0';
    else
        dir[0] = '\0';
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = DG_OK;
    while (rc == DG_OK && (len = getline(&line, &cap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        rc = push_line(ph, line, dir, err);
    }
    free(line);
    free(dir);
    fclose(f);
    return rc;
}

int mk_photos_list(const char *src, mk_photos *ph, dg_err *err)
{
    struct stat st;
    memset(ph, 0, sizeof *ph);
    if (stat(src, &st) != 0)
        return dg_fail(err, "%s: no such file or folder", src);
    if (S_ISDIR(st.st_mode)) {
        if (walk(src, ph, err) != DG_OK)
            return DG_FAIL;
        qsort(ph->v, ph->n, sizeof *ph->v, cmp_path);
        return DG_OK;
    }
    return read_manifest(src, ph, err);
}

/* Length of a trailing "[_-]<digits>x<digits>" resolution token, or 0. */
static size_t resolution_suffix(const char *s, size_t n)
{
    size_t i = n, d2 = 0, d1 = 0;
    while (i > 0 && isdigit((unsigned char)s[i - 1]))
        i--, d2++;
    if (!d2 || i == 0 || (s[i - 1] != 'x' && s[i - 1] != 'X'))
        return 0;
    i--;
    while (i > 0 && isdigit((unsigned char)s[i - 1]))
        i--, d1++;
    if (!d1)
        return 0;
    if (i > 0 && (s[i - 1] == '_' || s[i - 1] == '-'))
        i--;
    return n - i;
}

/* Folder names that describe a layout, not a photo. */
static int generic_dir(const char *s, size_t n)
{
    return (n == 8 && !strncasecmp(s, "contents", 8)) || (n >= 6 && !strncasecmp(s, "images", 6)) ||
           (n > 0 && resolution_suffix(s, n) == n);
}

static int generic_stem(const char *s, size_t n)
{
    static const char *const names[] = {"screenshot", "preview", "thumbnail"};
    if (n == 0)
        return 1;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == n && !strncasecmp(s, names[i], n))
            return 1;
    return 0;
}

void mk_photo_key(const char *path, char *key, size_t len)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    n -= resolution_suffix(base, n);
    const char *name = base;
    /* A stem with no name of its own stands for the nearest folder that has one. */
    for (const char *end = base; generic_stem(name, n) && end > path + 1;) {
        const char *start = end - 1;
        while (start > path && start[-1] != '/')
            start--;
        size_t dn = (size_t)(end - 1 - start);
        end = start;
        if (dn && !generic_dir(start, dn)) {
            name = start;
            n = dn;
        }
    }
    size_t k = 0;
    for (; k < n && k + 1 < len; k++)
        key[k] = (char)tolower((unsigned char)name[k]);
    if (len)
        key[k] = '\0';
}

int mk_photos_dedupe(mk_photos *ph, dg_jpeg_codec *codec, FILE *warn, dg_err *err)
{
    for (size_t i = 0; i < ph->n; i++) {
        mk_photo *p = &ph->v[i];
        uint8_t *buf;
        size_t len;
        dg_err e;
        if (dg_read_file(p->path, &buf, &len, &e) != DG_OK ||
            dg_jpeg_header(codec, buf, len, &p->w, &p->h, &e) != DG_OK) {
            fprintf(warn, "dg-mkbench: skipping %s: %s\n", p->path, e.msg);
            p->unreadable = 1;
        }
        free(buf);
        mk_photo_key(p->path, p->key, sizeof p->key);
    }
    /* Keep the largest file of each key (the first one on ties). */
    for (size_t i = 0; i < ph->n; i++) {
        mk_photo *p = &ph->v[i];
        if (p->unreadable || p->kept_as >= 0)
            continue;
        size_t best = i;
        for (size_t j = i + 1; j < ph->n; j++) {
            const mk_photo *q = &ph->v[j];
            if (!q->unreadable && !strcmp(q->key, p->key) &&
                (int64_t)q->w * q->h > (int64_t)ph->v[best].w * ph->v[best].h)
                best = j;
        }
        for (size_t j = i; j < ph->n; j++)
            if (!ph->v[j].unreadable && !strcmp(ph->v[j].key, p->key))
                ph->v[j].kept_as = (int64_t)best;
    }
    size_t kept = 0;
    for (size_t i = 0; i < ph->n; i++)
        kept += ph->v[i].kept_as == (int64_t)i;
    if (kept == 0)
        return dg_fail(err, "no readable JPEG photo among %zu files", ph->n);
    return DG_OK;
}
