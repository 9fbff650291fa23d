/* shards.c - WebDataset tar shards one at a time: their names from
 * input.shards (ranges, glob(3)), the split of the listing over ranks, the
 * kinds and keys of members, KEY.json sidecars (jansson) and walking an
 * archive with libarchive (tar only; any compression filter libarchive
 * knows).  It decodes no image and talks no MPI: shard_input.c builds the
 * job's plan and reader on it.  See shards.h. */
#include "input/shards.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* More names than this from one pattern is surely a mistake. */
#define MAX_SHARD_NAMES ((int64_t)1 << 22)

/* ---- naming the shards --------------------------------------------------- */

static int push_name(dg_pathlist *out, const char *name, dg_err *err)
{
    char **np = realloc(out->path, sizeof(char *) * (size_t)(out->n + 1));
    if (!np)
        return dg_failc(err, DG_E_INPUT, "out of memory naming shards");
    out->path = np;
    if (!(out->path[out->n] = strdup(name)))
        return dg_failc(err, DG_E_INPUT, "out of memory naming shards");
    out->n++;
    return DG_OK;
}

/* The first "{A..B}" of p with A, B digits: its start and end (one past
 * '}'), or 0. */
static int find_range(const char *p, const char **start, const char **end, long long *a, long long *b, int *width)
{
    for (const char *s = strchr(p, '{'); s; s = strchr(s + 1, '{')) {
        const char *q = s + 1;
        size_t na = strspn(q, "0123456789");
        if (na == 0 || na > 18 || strncmp(q + na, "..", 2) != 0)
            continue;
        const char *r = q + na + 2;
        size_t nb = strspn(r, "0123456789");
        if (nb == 0 || nb > 18 || r[nb] != '}')
            continue;
        *a = strtoll(q, NULL, 10);
        *b = strtoll(r, NULL, 10);
        *width = (int)na;
        *start = s;
        *end = r + nb + 1;
        return 1;
    }
    return 0;
}

static int expand(const char *pattern, dg_pathlist *out, int64_t max_names, dg_err *err)
{
    const char *s, *e;
    long long a, b;
    int width;
    if (!find_range(pattern, &s, &e, &a, &b, &width)) {
        if (out->n >= max_names)
            return dg_failc(err, DG_E_INPUT, "input.shards: more than %lld names", (long long)max_names);
        return push_name(out, pattern, err);
    }
    size_t head = (size_t)(s - pattern), len = strlen(pattern) + 32;
    char *buf = malloc(len);
    if (!buf)
        return dg_failc(err, DG_E_INPUT, "out of memory naming shards");
    int rc = DG_OK;
    long long step = a <= b ? 1 : -1;
    for (long long v = a; rc == DG_OK; v += step) {
        snprintf(buf, len, "%.*s%0*lld%s", (int)head, pattern, width, v, e);
        rc = expand(buf, out, max_names, err);
        if (v == b)
            break;
    }
    free(buf);
    return rc;
}

int dg_shards_expand_ranges(const char *pattern, dg_pathlist *out, int64_t max_names, dg_err *err)
{
    return expand(pattern, out, max_names, err);
}

static int has_wildcard(const char *s)
{
    return strpbrk(s, "*?[{") != NULL;
}

static int glob_one(const char *name, dg_pathlist *out, dg_err *err)
{
    if (!has_wildcard(name))
        return push_name(out, name, err);
    glob_t g;
    int grc = glob(name, GLOB_BRACE | GLOB_NOSORT, NULL, &g);
    int rc = DG_OK;
    if (grc == GLOB_NOMATCH)
        rc = dg_failc(err, DG_E_INPUT, "input.shards: '%s' matches no file", name);
    else if (grc != 0)
        rc = dg_failc(err, DG_E_INPUT, "input.shards: cannot expand '%s'%s", name,
                      grc == GLOB_ABORTED ? " (a folder cannot be read)" : "");
    for (size_t i = 0; rc == DG_OK && grc == 0 && i < g.gl_pathc; i++)
        rc = push_name(out, g.gl_pathv[i], err);
    if (grc == 0)
        globfree(&g);
    return rc;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One comma-separated piece: ranges, then each name globbed. */
static int name_piece(const char *piece, dg_pathlist *out, dg_err *err)
{
    dg_pathlist names = {0};
    int rc = piece[0] ? expand(piece, &names, MAX_SHARD_NAMES, err) : DG_OK;
    for (int64_t i = 0; rc == DG_OK && i < names.n; i++)
        rc = glob_one(names.path[i], out, err);
    dg_pathlist_free(&names);
    return rc;
}

int dg_shards_names(const char *spec, dg_pathlist *out, dg_err *err)
{
    memset(out, 0, sizeof *out);
    size_t len = strlen(spec);
    char *piece = malloc(len + 1);
    if (!piece)
        return dg_failc(err, DG_E_INPUT, "out of memory naming shards");
    int rc = DG_OK, depth = 0;
    size_t k = 0;
    for (size_t i = 0; rc == DG_OK && i <= len; i++) {
        char c = spec[i];
        if (c == '{')
            depth++;
        else if (c == '}' && depth > 0)
            depth--;
        if (c == '\0' || (c == ',' && depth == 0)) {
            while (k > 0 && isspace((unsigned char)piece[k - 1]))
                k--;
            piece[k] = '\0';
            rc = name_piece(piece, out, err);
            k = 0;
        } else if (k > 0 || !isspace((unsigned char)c)) {
            piece[k++] = c;
        }
    }
    free(piece);
    if (rc == DG_OK && out->n == 0)
        rc = dg_failc(err, DG_E_INPUT, "input.shards '%s' names no shard", spec);
    if (rc != DG_OK) {
        dg_pathlist_free(out);
        return DG_FAIL;
    }
    qsort(out->path, (size_t)out->n, sizeof(char *), cmp_name);
    int64_t w = 0;
    for (int64_t i = 0; i < out->n; i++) {
        if (w > 0 && strcmp(out->path[w - 1], out->path[i]) == 0)
            free(out->path[i]);
        else
            out->path[w++] = out->path[i];
    }
    out->n = out->n_total = w;
    return DG_OK;
}

void dg_shards_split(const int64_t *bytes, int n, int parts, int *first)
{
    double total = 0.0;
    for (int i = 0; i < n; i++)
        total += (double)(bytes[i] > 0 ? bytes[i] : 0) + 1.0;
    /* part p starts at the first shard whose byte prefix reaches p/parts of
     * the total (p = 1..parts-1): monotone, contiguous, empty parts allowed */
    double prefix = 0.0;
    int s = 0;
    first[0] = 0;
    for (int p = 1; p < parts; p++) {
        double target = total * p / parts;
        while (s < n && prefix + 0.5 * ((double)(bytes[s] > 0 ? bytes[s] : 0) + 1.0) < target) {
            prefix += (double)(bytes[s] > 0 ? bytes[s] : 0) + 1.0;
            s++;
        }
        first[p] = s;
    }
    first[parts] = n;
}

/* ---- members --------------------------------------------------------------- */

static int ends_with(const char *name, const char *ext)
{
    size_t len = strlen(name), el = strlen(ext);
    return len > el && strcasecmp(name + len - el, ext) == 0;
}

dg_member_kind dg_shard_member_kind(const char *name)
{
    static const char *const image_ext[] = {".jpg", ".jpeg", ".jpe", ".png", ".webp"};
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    if (base[0] == '\0' || base[0] == '.')
        return DG_MEMBER_OTHER; /* no key */
    for (size_t i = 0; i < sizeof image_ext / sizeof image_ext[0]; i++)
        if (ends_with(base, image_ext[i]))
            return DG_MEMBER_IMAGE;
    return ends_with(base, ".json") ? DG_MEMBER_JSON : DG_MEMBER_OTHER;
}

void dg_shard_key(const char *name, char *key, size_t cap)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    const char *dot = strchr(base, '.');
    size_t len = dot ? (size_t)(dot - name) : strlen(name);
    if (cap == 0)
        return;
    if (len >= cap)
        len = cap - 1;
    memcpy(key, name, len);
    key[len] = '\0';
}

static void copy_field(json_t *root, const char *field, char *out, size_t cap)
{
    json_t *v = json_object_get(root, field);
    const char *s = json_is_string(v) ? json_string_value(v) : "";
    size_t len = strlen(s) < cap ? strlen(s) : cap - 1;
    memcpy(out, s, len);
    out[len] = '\0';
}

void dg_shard_sidecar(const char *text, size_t len, char *url, char *caption, size_t cap)
{
    url[0] = caption[0] = '\0';
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root && json_is_object(root)) {
        copy_field(root, "url", url, cap);
        copy_field(root, "caption", caption, cap);
    }
    json_decref(root);
}

/* ---- one archive ------------------------------------------------------------ */

struct dg_shard_walk {
    struct archive *a;
    int64_t headers; /* read so far */
};

static void set_status(dg_shard_listing *lst, dg_status st, const char *fmt, const char *what)
{
    lst->status = st;
    snprintf(lst->msg, sizeof lst->msg, fmt, what);
}

void dg_shard_open(const char *path, const void *buf, size_t len, dg_shard_walk **w, dg_shard_listing *lst)
{
    memset(lst, 0, sizeof *lst);
    *w = NULL;
    if (path) {
        struct stat st;
        if (stat(path, &st) != 0) {
            set_status(lst, errno == ENOENT || errno == ENOTDIR ? DG_ST_MISSING : DG_ST_UNREADABLE, "%s",
                       strerror(errno));
            return;
        }
        if (!S_ISREG(st.st_mode))
            return set_status(lst, DG_ST_UNREADABLE, "%s", "not a regular file");
        if (st.st_size == 0)
            return set_status(lst, DG_ST_EMPTY, "%s", "0 bytes");
    } else if (len == 0) {
        return set_status(lst, DG_ST_EMPTY, "%s", "0 bytes");
    }
    dg_shard_walk *sw = calloc(1, sizeof *sw);
    struct archive *a = archive_read_new();
    if (!sw || !a) {
        free(sw);
        if (a)
            archive_read_free(a);
        return set_status(lst, DG_ST_UNREADABLE, "%s", "out of memory");
    }
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    int rc = path ? archive_read_open_filename(a, path, 1 << 16) : archive_read_open_memory(a, buf, len);
    if (rc != ARCHIVE_OK) {
        /* the open reads the first header: a readable file of another
         * format fails here (libarchive's format errno is not public) */
        const char *why = archive_error_string(a) ? archive_error_string(a) : "cannot open";
        FILE *f = path ? fopen(path, "rb") : NULL;
        if (path && !f)
            set_status(lst, DG_ST_UNREADABLE, "%s", strerror(errno));
        else
            set_status(lst, DG_ST_UNSUPPORTED, "not a tar archive: %s", why);
        if (f)
            fclose(f);
        archive_read_free(a);
        free(sw);
        return;
    }
    sw->a = a;
    *w = sw;
}

int dg_shard_next(dg_shard_walk *w, dg_member *m, dg_shard_listing *lst)
{
    for (;;) {
        struct archive_entry *entry;
        int rc = archive_read_next_header(w->a, &entry);
        if (rc == ARCHIVE_EOF)
            return 0;
        if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
            const char *why = archive_error_string(w->a) ? archive_error_string(w->a) : "damaged archive";
            if (w->headers == 0)
                set_status(lst, DG_ST_UNSUPPORTED, "not a tar archive: %s", why);
            else
                set_status(lst, DG_ST_CORRUPT, "damaged after the members listed: %s", why);
            return -1;
        }
        w->headers++;
        const char *name = archive_entry_pathname(entry);
        if (!name)
            name = "";
        m->name = name;
        m->size = archive_entry_size_is_set(entry) ? archive_entry_size(entry) : 0;
        m->kind = archive_entry_filetype(entry) == AE_IFREG ? dg_shard_member_kind(name) : DG_MEMBER_OTHER;
        if (m->kind == DG_MEMBER_IMAGE)
            lst->images++;
        else
            lst->others++;
        return 1;
    }
}

int dg_shard_read(dg_shard_walk *w, int64_t size, unsigned char **buf, size_t *cap, char *msg, size_t msg_cap)
{
    size_t need = (size_t)size + 1; /* room for a terminator (JSON) */
    if (need > *cap) {
        unsigned char *nb = realloc(*buf, need);
        if (!nb) {
            snprintf(msg, msg_cap, "out of memory reading %lld bytes", (long long)size);
            return DG_FAIL;
        }
        *buf = nb;
        *cap = need;
    }
    int64_t got = 0;
    while (got < size) {
        la_ssize_t r = archive_read_data(w->a, *buf + got, (size_t)(size - got));
        if (r < 0) {
            snprintf(msg, msg_cap, "cut short after %lld of %lld bytes: %s", (long long)got, (long long)size,
                     archive_error_string(w->a) ? archive_error_string(w->a) : "read error");
            return DG_FAIL;
        }
        if (r == 0)
            break;
        got += r;
    }
    if (got < size) {
        snprintf(msg, msg_cap, "cut short after %lld of %lld bytes", (long long)got, (long long)size);
        return DG_FAIL;
    }
    (*buf)[size] = '\0';
    return DG_OK;
}

void dg_shard_close(dg_shard_walk *w)
{
    if (!w)
        return;
    archive_read_free(w->a);
    free(w);
}

void dg_shard_list(const char *path, const void *buf, size_t len, dg_shard_listing *lst)
{
    dg_shard_walk *w;
    dg_shard_open(path, buf, len, &w, lst);
    if (!w)
        return;
    dg_member m;
    while (dg_shard_next(w, &m, lst) > 0)
        ;
    dg_shard_close(w);
}
