/* config.c - the job's settings: defaults, the INI file (parsed by libinih),
 * `--set section.key=value` overrides, validation and the canonical text.
 *
 * Every key is described once in `keys[]` below; parsing, overriding and
 * printing all go through that table, so a key cannot be known to one and
 * missing from another.
 */
#include "dupgraph/config.h"
#include "dupgraph/context.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum { K_PATH, K_STRING, K_INT, K_AUTO_INT, K_U64, K_FLOAT, K_DOUBLE, K_BOOL, K_BYTES, K_KEEP, K_EMBOUT, K_STOP, K_STOP_AT, K_METHOD, K_OPT_PATH } key_type;

typedef struct key_spec {
    const char *section;
    const char *name;
    key_type type;
    size_t offset;
    size_t size;      /* buffer size for K_PATH/K_STRING */
    double min, max;  /* numeric range (inclusive) */
    const char *def;  /* the default, parsed like a user's value; NULL: unset
                         (the input keys).  configs/default.ini shows these
                         (tests/check_config_reference.py). */
} key_spec;

#define F(field) offsetof(dg_config, field), sizeof(((dg_config *)0)->field)

static const key_spec keys[] = {
    {"input", "embeddings", K_PATH, F(input_path), 0, 0, NULL},
    {"input", "manifest", K_PATH, F(input_path), 0, 0, NULL},
    {"input", "dir", K_PATH, F(input_path), 0, 0, NULL},
    {"input", "dataset", K_STRING, F(input_dataset), 0, 0, "/embeddings"},
    {"output", "path", K_STRING, F(output_path), 0, 0, "dupgraph.h5"},
    {"output", "embeddings", K_EMBOUT, F(output_embeddings), 0, 0, "none"},
    {"output", "summary", K_OPT_PATH, F(output_summary), 0, 0, "none"},
    {"cluster", "k", K_AUTO_INT, F(k), 1, 1e9, "auto"},
    {"cluster", "clusterings", K_INT, F(clusterings), 1, 64, "2"},
    {"cluster", "probes", K_INT, F(probes), 1, 64, "3"},
    {"cluster", "iterations", K_INT, F(iterations), 1, 1000, "10"},
    {"cluster", "sample", K_AUTO_INT, F(sample), 1, 1e12, "auto"},
    {"cluster", "seed", K_U64, F(seed), 0, 0, "1234"},
    {"pairs", "threshold", K_FLOAT, F(threshold), 0.0, 1.0, "0.9"},
    {"pairs", "block", K_INT, F(block), 16, 65536, "1024"},
    {"graph", "keep", K_KEEP, F(keep), 0, 0, "first"},
    {"embed", "dim", K_INT, F(embed_dim), 2, 4096, "64"},
    {"embed", "max_pixels", K_BYTES, F(max_pixels), 1, 1e12, "100000000"},
    {"embed", "flip", K_BOOL, F(flip), 0, 0, "true"},
    {"embed", "method", K_METHOD, F(embed_method), 0, 0, "descriptor"},
    {"embed", "weights", K_STRING, F(embed_weights), 0, 0, "build/mobilenet_v2.h5"},
    {"filter", "enabled", K_BOOL, F(filter_enabled), 0, 0, "false"},
    {"filter", "classes", K_STRING, F(filter_classes), 0, 0, "Hentai,Porn,Sexy"},
    {"filter", "threshold", K_FLOAT, F(filter_threshold), 0.0, 1.0, "0.5"},
    {"filter", "margin", K_FLOAT, F(filter_margin), 0.0, 1.0, "0"},
    {"reweight", "enabled", K_BOOL, F(reweight_enabled), 0, 0, "true"},
    {"reweight", "max_weight", K_DOUBLE, F(reweight_max_weight), 1.0, 1e6, "50"},
    {"reweight", "l2", K_DOUBLE, F(reweight_l2), 0.0, 1e6, "0"},
    {"reweight", "iterations", K_INT, F(reweight_iterations), 1, 100000, "1000"},
    {"job", "progress_seconds", K_DOUBLE, F(progress_seconds), 0.0, 86400.0, "10"},
    {"job", "max_memory", K_BYTES, F(max_memory), 0, 1e18, "0"},
    {"job", "resume", K_BOOL, F(resume), 0, 0, "true"},
    {"job", "stop_after", K_STOP, F(stop_after), 0, 63, "none"},
    {"job", "stop_at", K_STOP_AT, F(stop_at), 1, 1e15, "none"},
};
#define N_KEYS (sizeof keys / sizeof keys[0])

/* Longest line libinih reads whole (its INI_MAX_LINE, newline excluded). */
#define LINE_MAX_CHARS (INI_MAX_LINE - 2)

static const key_spec *find_key(const char *section, const char *name)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (strcasecmp(keys[i].section, section) == 0 && strcasecmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

static int parse_i64(const char *v, long long *out)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end)
        return DG_FAIL;
    *out = x;
    return DG_OK;
}

/* "123", "4K", "16M", "2G", "1T" (powers of 1024). */
static int parse_bytes(const char *v, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || !isfinite(x))
        return DG_FAIL;
    double mult = 1.0;
    if (*end) {
        switch (*end) {
        case 'k': case 'K': mult = 1024.0; break;
        case 'm': case 'M': mult = 1024.0 * 1024.0; break;
        case 'g': case 'G': mult = 1024.0 * 1024.0 * 1024.0; break;
        case 't': case 'T': mult = 1024.0 * 1024.0 * 1024.0 * 1024.0; break;
        default: return DG_FAIL;
        }
        end++;
        if (*end == 'i' || *end == 'I')
            end++;
        if (*end == 'b' || *end == 'B')
            end++;
        if (*end)
            return DG_FAIL;
    }
    *out = x * mult;
    return DG_OK;
}

static int in_range(const key_spec *k, double x)
{
    return x >= k->min && x <= k->max;
}

/* A string value that reads back unchanged from the canonical text's
 * "key = value" line: libinih strips blanks around a value, ends it at a
 * ';' that starts it or follows a blank, and ends it at a line break. */
static int ini_safe(const char *v)
{
    size_t len = strlen(v);
    if (isspace((unsigned char)v[0]) || isspace((unsigned char)v[len - 1]) || v[0] == ';')
        return 0;
    for (size_t i = 0; i < len; i++)
        if (v[i] == '\n' || v[i] == '\r' || (v[i] == ';' && isspace((unsigned char)v[i - 1])))
            return 0;
    return 1;
}

/* job.stop_at names, indexed by dg_stop_stage. */
static const char *const stop_stage_names[] = {"none", "embed", "kmeans", "exchange", "pairs"};

/* "none" or "STAGE:COUNT" (COUNT >= 1). */
static int parse_stop_at(dg_config *cfg, const key_spec *k, const char *v, dg_err *err)
{
    const char *colon = strchr(v, ':');
    long long count = 0;
    if (!strcasecmp(v, "none")) {
        cfg->stop_at_stage = DG_STOP_NONE;
        cfg->stop_at = 0;
        return DG_OK;
    }
    for (int st = DG_STOP_EMBED; colon && st <= DG_STOP_PAIRS; st++) {
        size_t len = (size_t)(colon - v);
        if (strlen(stop_stage_names[st]) == len && !strncasecmp(v, stop_stage_names[st], len) &&
            parse_i64(colon + 1, &count) == DG_OK && in_range(k, (double)count)) {
            cfg->stop_at_stage = st;
            cfg->stop_at = count;
            return DG_OK;
        }
    }
    return dg_failc(err, DG_E_CONFIG, "job.stop_at = '%s': expected none or STAGE:COUNT with STAGE embed, kmeans, exchange or "
                   "pairs and COUNT >= 1", v);
}

static int set_value(dg_config *cfg, const key_spec *k, const char *v, dg_err *err)
{
    char *field = (char *)cfg + k->offset;
    long long i;
    double x;
    char *end;
    switch (k->type) {
    case K_OPT_PATH:
        if (!strcasecmp(v, "none")) {
            field[0] = 0;
            return DG_OK;
        }
        /* a path like any string */
        __attribute__((fallthrough));
    case K_PATH:
    case K_STRING:
        if (strlen(v) >= k->size)
            return dg_failc(err, DG_E_CONFIG, "%s.%s is too long (%zu characters, at most %zu)", k->section, k->name,
                           strlen(v), k->size - 1);
        if (!*v)
            return dg_failc(err, DG_E_CONFIG, "%s.%s is empty", k->section, k->name);
        if (!ini_safe(v))
            return dg_failc(err, DG_E_CONFIG, "%s.%s = '%s': a value cannot hold a line break, start or end with a blank, "
                           "or hold ';' at its start or after a blank (INI text could not hold it)",
                           k->section, k->name, v);
        memcpy(field, v, strlen(v) + 1);
        if (k->type == K_PATH) {
            cfg->input_kind = strcmp(k->name, "embeddings") == 0 ? DG_INPUT_EMBEDDINGS
                              : strcmp(k->name, "manifest") == 0 ? DG_INPUT_MANIFEST
                                                                  : DG_INPUT_DIR;
        }
        return DG_OK;
    case K_INT:
    case K_AUTO_INT:
        if (k->type == K_AUTO_INT && strcasecmp(v, "auto") == 0) {
            *(int64_t *)field = 0;
            return DG_OK;
        }
        if (parse_i64(v, &i) != DG_OK || !in_range(k, (double)i))
            return dg_failc(err, DG_E_CONFIG, "%s.%s = '%s': expected an integer in [%.0f, %.0f]%s", k->section, k->name, v,
                           k->min, k->max, k->type == K_AUTO_INT ? " or 'auto'" : "");
        if (k->type == K_INT)
            *(int *)field = (int)i;
        else
            *(int64_t *)field = i;
        return DG_OK;
    case K_U64:
        errno = 0;
        if (v[0] == '-' || (*(uint64_t *)field = strtoull(v, &end, 0), errno || end == v || *end))
            return dg_failc(err, DG_E_CONFIG, "%s.%s = '%s': expected a non-negative integer", k->section, k->name, v);
        return DG_OK;
    case K_FLOAT:
    case K_DOUBLE:
        errno = 0;
        x = strtod(v, &end);
        if (errno || end == v || *end || !isfinite(x) || !in_range(k, x))
            return dg_failc(err, DG_E_CONFIG, "%s.%s = '%s': expected a number in [%g, %g]", k->section, k->name, v, k->min,
                           k->max);
        if (k->type == K_FLOAT)
            *(float *)field = (float)x;
        else
            *(double *)field = x;
        return DG_OK;
    case K_BYTES:
        if (parse_bytes(v, &x) != DG_OK || !in_range(k, x))
            return dg_failc(err, DG_E_CONFIG, "%s.%s = '%s': expected a size such as 100000000, 64M or 8G", k->section, k->name,
                           v);
        *(int64_t *)field = (int64_t)x;
        return DG_OK;
    case K_BOOL:
        if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1") || !strcasecmp(v, "on"))
            *(bool *)field = true;
        else if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcmp(v, "0") || !strcasecmp(v, "off"))
            *(bool *)field = false;
        else
            return dg_failc(err, DG_E_CONFIG, "%s.%s = '%s': expected true or false", k->section, k->name, v);
        return DG_OK;
    case K_KEEP:
        if (!strcasecmp(v, "first"))
            cfg->keep = DG_KEEP_FIRST;
        else if (!strcasecmp(v, "central"))
            cfg->keep = DG_KEEP_CENTRAL;
        else
            return dg_failc(err, DG_E_CONFIG, "graph.keep = '%s': expected first or central", v);
        return DG_OK;
    case K_EMBOUT:
        if (!strcasecmp(v, "none"))
            cfg->output_embeddings = DG_EMB_OUT_NONE;
        else if (!strcasecmp(v, "float32"))
            cfg->output_embeddings = DG_EMB_OUT_FLOAT32;
        else
            return dg_failc(err, DG_E_CONFIG, "output.embeddings = '%s': expected none or float32", v);
        return DG_OK;
    case K_METHOD:
        if (!strcasecmp(v, "descriptor"))
            cfg->embed_method = DG_EMBED_DESCRIPTOR;
        else if (!strcasecmp(v, "mobilenet_v2"))
            cfg->embed_method = DG_EMBED_MOBILENET_V2;
        else
            return dg_failc(err, DG_E_CONFIG, "embed.method = '%s': expected descriptor or mobilenet_v2", v);
        return DG_OK;
    case K_STOP:
        if (!strcasecmp(v, "none"))
            cfg->stop_after = DG_STOP_AFTER_NONE;
        else if (!strcasecmp(v, "embed") || !strcasecmp(v, "read"))
            cfg->stop_after = 0;
        else if (strncasecmp(v, "cluster_", 8) == 0 && parse_i64(v + 8, &i) == DG_OK && in_range(k, (double)i))
            cfg->stop_after = (int)i + 1;
        else
            return dg_failc(err, DG_E_CONFIG, "job.stop_after = '%s': expected none, embed (or read) or cluster_<c> (c in 0..63)", v);
        return DG_OK;
    case K_STOP_AT:
        return parse_stop_at(cfg, k, v, err);
    }
    return dg_failc(err, DG_E_CONFIG, "internal: unknown key type");
}

/* Every key's default from the table, through the parser a user's value
 * takes (a default the parser refuses is a bug: it aborts). */
void dg_config_defaults(dg_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < N_KEYS; i++) {
        dg_err err = {0};
        if (keys[i].def && set_value(cfg, &keys[i], keys[i].def, &err) != DG_OK) {
            fprintf(stderr, "dupgraph: bad default of %s.%s: %s\n", keys[i].section, keys[i].name, err.msg);
            abort();
        }
    }
}

typedef struct parse_state {
    dg_config *cfg;
    dg_err *err;
    int failed;
    int n_inputs; /* input keys seen in the file */
} parse_state;

static int on_ini_entry(void *user, const char *section, const char *name, const char *value)
{
    parse_state *st = user;
    if (st->failed)
        return 0;
    const key_spec *k = find_key(section, name);
    if (!k) {
        st->failed = 1;
        dg_fail(st->err, "unknown key [%s] %s", section, name);
        return 0;
    }
    if (k->type == K_PATH)
        st->n_inputs++;
    if (set_value(st->cfg, k, value, st->err) != DG_OK) {
        st->failed = 1;
        return 0;
    }
    return 1;
}

static int apply_set(dg_config *cfg, const char *set, dg_err *err)
{
    const char *eq = strchr(set, '=');
    const char *dot = strchr(set, '.');
    if (!eq || !dot || dot > eq)
        return dg_failc(err, DG_E_CONFIG, "--set '%s': expected section.key=value", set);
    char section[64], name[64];
    size_t ls = (size_t)(dot - set), ln = (size_t)(eq - dot - 1);
    if (ls == 0 || ls >= sizeof section || ln == 0 || ln >= sizeof name)
        return dg_failc(err, DG_E_CONFIG, "--set '%s': expected section.key=value", set);
    memcpy(section, set, ls);
    section[ls] = 0;
    memcpy(name, dot + 1, ln);
    name[ln] = 0;
    const key_spec *k = find_key(section, name);
    if (!k)
        return dg_failc(err, DG_E_CONFIG, "--set '%s': unknown key %s.%s", set, section, name);
    return set_value(cfg, k, eq + 1, err);
}

static int validate(const dg_config *cfg, dg_err *err)
{
    if (!(cfg->threshold > 0.0f))
        return dg_failc(err, DG_E_CONFIG, "pairs.threshold must be above 0");
    if (cfg->filter_margin > cfg->filter_threshold)
        return dg_failc(err, DG_E_CONFIG, "filter.margin = %g exceeds filter.threshold = %g", (double)cfg->filter_margin,
                       (double)cfg->filter_threshold);
    if ((cfg->filter_enabled || cfg->embed_method == DG_EMBED_MOBILENET_V2) && cfg->input_kind == DG_INPUT_EMBEDDINGS)
        return dg_failc(err, DG_E_CONFIG, "%s needs image input (input.manifest or input.dir)",
                       cfg->filter_enabled ? "filter.enabled" : "embed.method = mobilenet_v2");
    if (cfg->k > 0 && cfg->probes > cfg->k)
        return dg_failc(err, DG_E_CONFIG, "cluster.probes = %d exceeds cluster.k = %lld", cfg->probes, (long long)cfg->k);
    return DG_OK;
}

/* libinih reads a line in pieces of INI_MAX_LINE - 1 bytes and would take
 * the rest of a longer line for a line of its own: refuse such lines. */
static int check_line_lengths(const char *text, dg_err *err)
{
    int line = 1;
    for (const char *p = text; *p; line++) {
        size_t len = strcspn(p, "\n");
        if (len > LINE_MAX_CHARS)
            return dg_failc(err, DG_E_CONFIG, "line %d is longer than %d characters (give a longer value with --set)", line,
                           LINE_MAX_CHARS);
        p += len + (p[len] == '\n');
    }
    return DG_OK;
}

int dg_config_load_text(dg_config *cfg, const char *text, const char *const *sets, int n_set, dg_err *err)
{
    dg_config_defaults(cfg);
    if (check_line_lengths(text, err) != DG_OK)
        return DG_FAIL;
    parse_state st = {cfg, err, 0, 0};
    int line = ini_parse_string(text, on_ini_entry, &st);
    if (st.failed) {
        dg_err reason = *err;
        return dg_failc(err, DG_E_CONFIG, "line %d: %.480s", line, reason.msg);
    }
    if (line != 0)
        return dg_failc(err, DG_E_CONFIG, "line %d: not a 'key = value' line or a [section]", line);
    if (st.n_inputs > 1)
        return dg_failc(err, DG_E_CONFIG, "more than one input is set: give exactly one of input.embeddings, input.manifest, "
                            "input.dir");
    for (int i = 0; i < n_set; i++)
        if (apply_set(cfg, sets[i], err) != DG_OK)
            return DG_FAIL;
    return validate(cfg, err);
}

int dg_config_load(dg_config *cfg, const char *path, const char *const *sets, int n_set, dg_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return dg_failc(err, DG_E_CONFIG, "cannot read config %s: %s", path, strerror(errno));
    char *text = NULL;
    size_t len = 0, cap = 0;
    char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
        if (len + got + 1 > cap) {
            cap = (len + got + 1) * 2;
            char *t = realloc(text, cap);
            if (!t) {
                free(text);
                fclose(f);
                return dg_failc(err, DG_E_CONFIG, "out of memory reading config %s", path);
            }
            text = t;
        }
        memcpy(text + len, buf, got);
        len += got;
    }
    int read_error = ferror(f);
    fclose(f);
    if (read_error) {
        free(text);
        return dg_failc(err, DG_E_CONFIG, "cannot read config %s", path);
    }
    if (len > 1 << 20) {
        free(text);
        return dg_failc(err, DG_E_CONFIG, "config %s is larger than 1 MiB", path);
    }
    if (memchr(text ? text : "", 0, len)) {
        free(text);
        return dg_failc(err, DG_E_CONFIG, "config %s contains a NUL byte: not a text file", path);
    }
    if (!text)
        text = calloc(1, 1);
    else
        text[len] = 0;
    if (!text)
        return dg_failc(err, DG_E_CONFIG, "out of memory reading config %s", path);
    int rc = dg_config_load_text(cfg, text, sets, n_set, err);
    free(text);
    if (rc != DG_OK) {
        dg_err reason = *err;
        return dg_failc(err, DG_E_CONFIG, "config %s: %.400s", path, reason.msg);
    }
    return DG_OK;
}

int64_t dg_config_effective_k(const dg_config *cfg, int64_t n_items)
{
    if (n_items < 1)
        return 1;
    int64_t k = cfg->k;
    if (k <= 0) {
        /* auto: assigning N items to K centroids costs ~N*K*D and comparing
         * within clusters (m probes) ~N*(N/K)*(2m-1)*D/2; they balance at
         * K = sqrt(2.5 N) for m = 3.  Take the power of two nearest that,
         * but at most N/128 (rounding must not undo the cap), so small
         * corpora keep clusters of >= 128 items on average. */
        double target = sqrt(2.5 * (double)n_items), cap = (double)n_items / 128.0;
        k = 1;
        while ((double)k * 1.4142 < target)
            k *= 2;
        while (k > 1 && (double)k > cap)
            k /= 2;
    }
    return k > n_items ? n_items : k;
}

int64_t dg_config_effective_sample(const dg_config *cfg, int64_t k, int64_t n_items)
{
    int64_t s = cfg->sample > 0 ? cfg->sample : 64 * k;
    return s > n_items ? n_items : s;
}

static void append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    if (!*buf)
        return;
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
    va_end(ap);
    if (need < 0)
        return;
    if (*len + (size_t)need + 1 > *cap) {
        size_t cap2 = (*len + (size_t)need + 1) * 2;
        char *b = realloc(*buf, cap2);
        if (!b) {
            free(*buf);
            *buf = NULL;
            return;
        }
        *buf = b;
        *cap = cap2;
        va_start(ap, fmt);
        vsnprintf(*buf + *len, *cap - *len, fmt, ap);
        va_end(ap);
    }
    *len += (size_t)need;
}

static void append_value(char **buf, size_t *len, size_t *cap, const dg_config *cfg, const key_spec *k)
{
    const char *field = (const char *)cfg + k->offset;
    switch (k->type) {
    case K_PATH:
    case K_STRING: append(buf, len, cap, "%s", field); break;
    case K_OPT_PATH: append(buf, len, cap, "%s", *field ? field : "none"); break;
    case K_INT: append(buf, len, cap, "%d", *(const int *)field); break;
    case K_AUTO_INT:
        if (*(const int64_t *)field <= 0)
            append(buf, len, cap, "auto");
        else
            append(buf, len, cap, "%lld", (long long)*(const int64_t *)field);
        break;
    case K_BYTES: append(buf, len, cap, "%lld", (long long)*(const int64_t *)field); break;
    case K_U64: append(buf, len, cap, "%llu", (unsigned long long)*(const uint64_t *)field); break;
    case K_FLOAT: append(buf, len, cap, "%.9g", (double)*(const float *)field); break;
    case K_DOUBLE: append(buf, len, cap, "%.17g", *(const double *)field); break;
    case K_BOOL: append(buf, len, cap, "%s", *(const bool *)field ? "true" : "false"); break;
    case K_KEEP: append(buf, len, cap, "%s", cfg->keep == DG_KEEP_CENTRAL ? "central" : "first"); break;
    case K_EMBOUT: append(buf, len, cap, "%s", cfg->output_embeddings == DG_EMB_OUT_FLOAT32 ? "float32" : "none"); break;
    case K_METHOD:
        append(buf, len, cap, "%s", cfg->embed_method == DG_EMBED_MOBILENET_V2 ? "mobilenet_v2" : "descriptor");
        break;
    case K_STOP_AT:
        if (cfg->stop_at_stage == DG_STOP_NONE)
            append(buf, len, cap, "none");
        else
            append(buf, len, cap, "%s:%lld", stop_stage_names[cfg->stop_at_stage], (long long)cfg->stop_at);
        break;
    case K_STOP:
        if (cfg->stop_after == DG_STOP_AFTER_NONE)
            append(buf, len, cap, "none");
        else if (cfg->stop_after == 0)
            append(buf, len, cap, "embed");
        else
            append(buf, len, cap, "cluster_%d", cfg->stop_after - 1);
        break;
    }
}

char *dg_config_to_text(const dg_config *cfg)
{
    static const char *const input_names[] = {"", "embeddings", "manifest", "dir"};
    size_t len = 0, cap = 2048;
    char *buf = malloc(cap);
    if (buf)
        buf[0] = 0;
    const char *section = "";
    for (size_t i = 0; i < N_KEYS; i++) {
        const key_spec *k = &keys[i];
        if (k->type == K_PATH && strcmp(k->name, input_names[cfg->input_kind]) != 0)
            continue; /* only the chosen input is part of the effective config */
        if (strcmp(section, k->section) != 0) {
            append(&buf, &len, &cap, "%s[%s]\n", len ? "\n" : "", k->section);
            section = k->section;
        }
        append(&buf, &len, &cap, "%s = ", k->name);
        append_value(&buf, &len, &cap, cfg, k);
        append(&buf, &len, &cap, "\n");
    }
    return buf;
}
