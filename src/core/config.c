/* config.c - the job's settings: defaults, the INI file (parsed by libinih),
 * `--set section.key=value` overrides, validation and the canonical text.
 *
 * Every key is described once in `keys[]` below: its type, range, default,
 * accepted names (enums) and help.  Parsing, overriding, the defaults (each
 * default text goes through the user's parser), the canonical text and the
 * reference (`dupgraph config --defaults`, which is configs/default.ini) all
 * go through that table, so a key cannot be known to one and missing from
 * another.
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

/* Value kinds.  K_INPUT: a path that also chooses the input (the four input
 * keys are alternatives); K_INT and K_FLOAT store into a field of 4 or 8
 * bytes (int / int64_t, float / double); K_SIZE: bytes with an optional
 * K/M/G/T suffix; K_ENUM: one of `names`; K_STOP_AFTER and K_STOP_AT: a name
 * of `names` or a name with a count (job.stop_after, job.stop_at). */
typedef enum { K_INPUT, K_STRING, K_INT, K_U64, K_FLOAT, K_SIZE, K_BOOL, K_ENUM, K_STOP_AFTER, K_STOP_AT } key_type;

/* An accepted name of an enumerated value.  Parsing accepts every name
 * (case-insensitive); printing writes the first name of a value, so an
 * alias follows the name it stands for.  help: shown in the reference. */
typedef struct enum_name {
    const char *name;
    int value;
    const char *help;
} enum_name;

typedef struct key_spec {
    const char *section;
    const char *name;
    key_type type;
    size_t offset;
    size_t size;             /* the field's size: buffer size of a string, 4 or 8 for numbers */
    double min, max;         /* numeric range (inclusive) */
    const char *def;         /* the default, parsed like a user's value; NULL: unset (the input keys) */
    const char *help;        /* for the reference (`dupgraph config --defaults`, configs/default.ini) */
    const char *word;        /* K_INT: a word for 0 ("auto"); K_STRING: a word for empty ("none") */
    const enum_name *names;  /* K_ENUM, K_STOP_AFTER, K_STOP_AT; ends with {NULL} */
} key_spec;

#define F(field) offsetof(dg_config, field), sizeof(((dg_config *)0)->field)

/* K_ENUM fields are stored as int. */
_Static_assert(sizeof(dg_embeddings_output) == sizeof(int), "enum field size");
_Static_assert(sizeof(dg_keep_policy) == sizeof(int), "enum field size");
_Static_assert(sizeof(dg_edge_output) == sizeof(int), "enum field size");
_Static_assert(sizeof(dg_embed_method) == sizeof(int), "enum field size");
_Static_assert(sizeof(dg_seeding) == sizeof(int), "enum field size");
_Static_assert(sizeof(dg_assign_method) == sizeof(int), "enum field size");
_Static_assert(sizeof(dg_precision) == sizeof(int), "enum field size");
_Static_assert(sizeof(dg_whitening) == sizeof(int), "enum field size");

static const enum_name embeddings_output_names[] = {
    {"none", DG_EMB_OUT_NONE, NULL},
    {"float32", DG_EMB_OUT_FLOAT32, NULL},
    {NULL, 0, NULL},
};
static const enum_name keep_names[] = {
    {"first", DG_KEEP_FIRST, "lowest id"},
    {"central", DG_KEEP_CENTRAL, "nearest its centroid"},
    {NULL, 0, NULL},
};
static const enum_name edge_output_names[] = {
    {"all", DG_EDGES_ALL, "every pair above the threshold"},
    {"forest", DG_EDGES_FOREST, "a spanning forest of them: O(n) edges for a group of n"},
    {NULL, 0, NULL},
};
static const enum_name embed_method_names[] = {
    {"descriptor", DG_EMBED_DESCRIPTOR, "fast, built in"},
    {"mobilenet_v2", DG_EMBED_MOBILENET_V2,
     "1792-d learned features of the nsfwjs network, L2-normalised; embed.dim does not apply; ~25 images/s "
     "per core"},
    {NULL, 0, NULL},
};
static const enum_name seeding_names[] = {
    {"kmeans++", DG_SEEDING_KMEANSPP, "k-means++ over a pool of max(4K, 1024) sample points, each rank scoring its "
                                      "share of the pool for every seed"},
    {"kmeans||", DG_SEEDING_KMEANS_PAR, "k-means|| (5 rounds over the whole sample, ~2K candidates), then weighted "
                                        "k-means++ over the candidates, split over the ranks alike"},
    {NULL, 0, NULL},
};
static const enum_name assign_names[] = {
    {"flat", DG_ASSIGN_FLAT, "every item against all K centroids (cblas_sgemm)"},
    {"two_level", DG_ASSIGN_TWO_LEVEL, "a coarse k-means over the centroids (round(sqrt K) groups); each item is "
                                       "compared with the coarse centroids, then with the centroids of its "
                                       "cluster.coarse_probes nearest groups"},
    {NULL, 0, NULL},
};
static const enum_name precision_names[] = {
    {"auto", DG_PRECISION_AUTO, "bfloat16 where the CPU has AVX512-BF16, else float32"},
    {"float32", DG_PRECISION_FLOAT32, "OpenBLAS cblas_sgemm"},
    {"bfloat16", DG_PRECISION_BFLOAT16, "vectors rounded to bfloat16 and multiplied with AVX512-BF16, about 3 times "
                                        "sgemm's rate (refused on a CPU without it)"},
    {NULL, 0, NULL},
};
static const enum_name whitening_names[] = {
    {"auto", DG_WHITENING_AUTO, "learned with embed.flip, else corpus"},
    {"learned", DG_WHITENING_LEARNED, "the projection is learned from the corpus in the space of the built-in "
                                      "whitening learned on the benchmark's copies (jobs/learn_whitening.py; "
                                      "needs embed.flip)"},
    {"corpus", DG_WHITENING_CORPUS, "the projection is learned from the corpus alone (before descriptor version 5)"},
    {NULL, 0, NULL},
};
/* job.stop_after: these names, or cluster_<c> for "after clustering c" (c + 1). */
static const enum_name stop_after_names[] = {
    {"none", DG_STOP_AFTER_NONE, NULL},
    {"embed", 0, NULL},
    {"read", 0, NULL},
    {NULL, 0, NULL},
};
/* job.stop_at: none, or STAGE:COUNT with one of the other names. */
static const enum_name stop_stage_names[] = {
    {"none", DG_STOP_NONE, NULL},
    {"embed", DG_STOP_EMBED, NULL},
    {"kmeans", DG_STOP_KMEANS, NULL},
    {"exchange", DG_STOP_EXCHANGE, NULL},
    {"pairs", DG_STOP_PAIRS, NULL},
    {NULL, 0, NULL},
};

/* Every key, in the order of the canonical text and of the reference.  This
 * table is the one place a key, its default and its help are written:
 * configs/default.ini is `dupgraph config --defaults` (tests/check_config_reference.py). */
static const key_spec keys[] = {
    {"input", "embeddings", K_INPUT, F(input_path), 0, 0, NULL,
     .help = "HDF5 file holding an N x D float32 or float16 dataset (input.dataset), or several: a comma-separated "
             "list whose entries may be glob patterns (sorted), one D; items in file order, then row order; a "
             "virtual dataset (jobs/npy_to_h5.py) is read through its sources"},
    {"input", "manifest", K_INPUT, F(input_path), 0, 0, NULL,
     .help = "text file, one image path per line (relative to the manifest's folder; blank lines and # lines "
             "skipped)"},
    {"input", "dir", K_INPUT, F(input_path), 0, 0, NULL,
     .help = "folder of images (.jpg .jpeg .jpe .jfif .png .webp), walked recursively, sorted"},
    {"input", "shards", K_INPUT, F(input_path), 0, 0, NULL,
     .help = "WebDataset tar shards as img2dataset writes them: a comma-separated list of files or patterns, "
             "numeric ranges data/{00000..00099}.tar and globs data/*.tar; every .jpg .jpeg .jpe .png .webp "
             "member is an item, shards in sorted path order, members in archive order"},
    {"input", "dataset", K_STRING, F(input_dataset), 0, 0, "/embeddings", .help = "dataset inside each input.embeddings file"},

    {"output", "path", K_STRING, F(output_path), 0, 0, "dupgraph.h5", .help = "the output file (`-o` sets it too)"},
    {"output", "embeddings", K_ENUM, F(output_embeddings), 0, 0, "none", .names = embeddings_output_names,
     .help = "also store the N x D vectors"},
    {"output", "summary", K_STRING, F(output_summary), 0, 0, "none", .word = "none",
     .help = "a JSON summary (counts, seconds per stage, memory estimate and peak RSS per rank, pairs compared and "
             "bytes exchanged per rank, each clustering's k-means and pair plan figures) written when the output is "
             "complete: none | a path"},

    {"cluster", "k", K_INT, F(k), 1, 1e9, "auto", .word = "auto",
     .help = "clusters per clustering; auto: the power of two nearest sqrt(2.5 N), at most N/128 (see README)"},
    {"cluster", "clusterings", K_INT, F(clusterings), 1, 64, "2",
     .help = "C independent clusterings whose candidate pairs are united"},
    {"cluster", "probes", K_INT, F(probes), 1, 64, "3",
     .help = "m: each item is checked against the members of its m nearest clusters (own included)"},
    {"cluster", "iterations", K_INT, F(iterations), 1, 1000, "10", .help = "k-means iterations"},
    {"cluster", "sample", K_INT, F(sample), 1, 1e12, "auto", .word = "auto",
     .help = "points used to train centroids; auto = 64 x K"},
    {"cluster", "seed", K_U64, F(seed), 0, 0, "1234", .help = "seed of the k-means samples and initial centroids (each clustering derives its own)"},
    {"cluster", "seeding", K_ENUM, F(seeding), 0, 0, "kmeans++", .names = seeding_names,
     .help = "initial centroids; both give the same centroids for any rank count (see README, \"Clustering at "
             "scale\")"},
    {"cluster", "assign", K_ENUM, F(assign), 0, 0, "flat", .names = assign_names,
     .help = "how items find their cluster.probes nearest centroids"},
    {"cluster", "coarse_probes", K_INT, F(coarse_probes), 1, 65536, "8",
     .help = "coarse groups searched per item when cluster.assign is two_level (more than there are: all groups, the flat result)"},

    {"pairs", "threshold", K_FLOAT, F(threshold), 0.0, 1.0, "0.9",
     .help = "cosine similarity at or above which two items are duplicates.  0.9 suits learned embeddings given as "
             "input.embeddings; the built-in image descriptor (input.manifest / input.dir) separates copies from "
             "other photos at 0.75 (configs/demo.ini and README, \"Image input\")"},
    {"pairs", "block", K_INT, F(block), 16, 65536, "1024",
     .help = "rows per similarity block (block x block floats are held at once)"},

    {"graph", "keep", K_ENUM, F(keep), 0, 0, "first", .names = keep_names,
     .help = "which item of a duplicate group is kept"},
    {"graph", "edges", K_ENUM, F(edges), 0, 0, "all", .names = edge_output_names,
     .help = "edges held, sent and written: every pair at or above the threshold (a group of n near-copies costs "
             "n(n-1)/2), or a spanning forest of them plus each item's best match (/items/best_match, best_sim): "
             "the same components and keeps for n - 1 edges per group (README, \"Giant duplicate groups\")"},

    {"verify", "enabled", K_BOOL, F(verify_enabled), 0, 0, "true",
     .help = "image input: confirm every pair the search finds (pairs.threshold) by aligning the two images' "
             "thumbnails (signatures made at embed time); a pair becomes an edge when the verifier scores it at least "
             "verify.threshold.  Inputs without pixels (input.embeddings, vectors) have no signatures: verification "
             "is then off and the log says so"},
    {"verify", "threshold", K_FLOAT, F(verify_threshold), 0.0, 1.0, "0.6",
     .help = "verifier score an edge needs: the share of the image's 4 x 4-pixel blocks of the 32-pixel thumbnail "
             "that agree after alignment (mirror, crop, rotation up to ~10 degrees)"},
    {"verify", "accept_above", K_FLOAT, F(verify_accept_above), 0.0, 1.0, "1",
     .help = "a candidate pair of embedding similarity at or above this is an edge without verification (its "
             "/edges/verify is NaN); 1: every candidate is verified.  Lets pairs.threshold go below the similarity "
             "where the embedding alone is already precise (configs/demo.ini)"},
    {"verify", "max_detail_diff", K_FLOAT, F(verify_max_detail_diff), 0.0, 1.0, "0.45",
     .help = "a verified pair is rejected, whatever its score, when the two thumbnails' details (each minus its local "
             "mean) still differ more than this at the alignment found: sum |a - b| / sum (|a| + |b|) over the "
             "overlap, about 0.1-0.4 for copies and 0.45-0.8 for two tiles of one texture that agree block by block "
             "without sharing a pixel; 1: off.  Pairs above verify.accept_above are not checked.  Default chosen on "
             "the quality benchmark's tune split (jobs/verify_pairs.py, results/verify_pairs_tune.json)"},
    {"verify", "agree_above", K_FLOAT, F(verify_agree_above), 0.0, 1.0, "1",
     .help = "a verified pair of embedding similarity at or above this is also an edge when the verifier scores it "
             "at least verify.agree_threshold, whatever verify.threshold and verify.max_detail_diff say: where the "
             "embedding already agrees, a copy under a large overlay (whose own edges dominate the detail "
             "difference) needs less from the verifier.  1: off"},
    {"verify", "agree_threshold", K_FLOAT, F(verify_agree_threshold), 0.0, 1.0, "0.5",
     .help = "verifier score a pair at or above verify.agree_above needs (see there)"},

    {"verify", "max_candidates", K_INT, F(verify_max_candidates), 0, 1e9, "0",
     .help = "the verifier's budget per item: a candidate pair below verify.accept_above is verified only when it "
             "is among the N most similar such pairs of one of its two items (pairs tied with the N-th count too); "
             "the others are not edges.  The share of unrelated photos above pairs.threshold is fixed, so without a "
             "budget the verifier's work per item grows with the corpus; with it, at most N pairs per item are "
             "verified on average.  0: every candidate is verified"},
    {"verify", "max_held", K_INT, F(verify_max_held), 0, 1e15, "10000000",
     .help = "with a budget (verify.max_candidates), the candidate pairs a rank holds before it drops those below "
             "the N-th most similar of both their items among the pairs it holds, which the budget would leave out "
             "in any case: the job's output is the same, and a rank holds about N pairs per item it searches "
             "instead of a share of the whole corpus per item (20 bytes each; the list's growth and the dropping take "
             "up to about 3 times that).  0: never"},

    {"embed", "dim", K_INT, F(embed_dim), 2, 4096, "64", .help = "descriptor dimension after PCA"},
    {"embed", "max_pixels", K_SIZE, F(max_pixels), 1, 1e12, "100000000",
     .help = "images of more pixels are not decoded (status too_large, read from the header); the JPEG decoder "
             "may hold 8 bytes per pixel of this limit"},
    {"embed", "flip", K_BOOL, F(flip), 0, 0, "true", .help = "descriptor: mirror-invariant (a flipped copy matches)"},
    {"embed", "whitening", K_ENUM, F(whitening), 0, 0, "auto", .names = whitening_names,
     .help = "descriptor: the space its projection is learned in"},
    {"embed", "method", K_ENUM, F(embed_method), 0, 0, "descriptor", .names = embed_method_names,
     .help = "the embedder"},
    {"embed", "weights", K_STRING, F(embed_weights), 0, 0, "build/mobilenet_v2.h5",
     .help = "the converted network, made by jobs/setup_mobilenet.sh"},

    {"filter", "enabled", K_BOOL, F(filter_enabled), 0, 0, "false", .help = "run the content filter"},
    {"filter", "classes", K_STRING, F(filter_classes), 0, 0, "Hentai,Porn,Sexy",
     .help = "unwanted classes, comma-separated, of Drawing, Hentai, Neutral, Porn, Sexy"},
    {"filter", "threshold", K_FLOAT, F(filter_threshold), 0.0, 1.0, "0.5",
     .help = "an item is dropped when its summed probability of the classes reaches threshold - margin"},
    {"filter", "margin", K_FLOAT, F(filter_margin), 0.0, 1.0, "0", .help = "see threshold; at most threshold"},

    {"reweight", "enabled", K_BOOL, F(reweight_enabled), 0, 0, "true", .help = "weigh the kept items"},
    {"reweight", "max_weight", K_FLOAT, F(reweight_max_weight), 1.0, 1e6, "50",
     .help = "weights are clipped at this before normalising"},
    {"reweight", "l2", K_FLOAT, F(reweight_l2), 0.0, 1e6, "0", .help = "L2 penalty of the logistic regression"},
    {"reweight", "iterations", K_INT, F(reweight_iterations), 1, 100000, "1000",
     .help = "iterations of the logistic regression"},

    {"job", "progress_seconds", K_FLOAT, F(progress_seconds), 0.0, 86400.0, "10",
     .help = "seconds between progress lines"},
    {"job", "precision", K_ENUM, F(precision), 0, 0, "auto", .names = precision_names,
     .help = "arithmetic of the similarity blocks of the nearest-centroid and pair searches; every result within the "
             "rounding's error bound of a decision is re-scored in double, so centroids, assignments, edges and "
             "similarities are the same with either (README, \"Method and guarantees\")"},
    {"job", "max_memory", K_SIZE, F(max_memory), 0, 1e18, "0",
     .help = "per-rank memory limit (e.g. 8G); 0 = none.  The exchange and pair search then run in task rounds "
             "that fit it, and a run whose printed estimate still exceeds it is refused before work"},
    {"job", "resume", K_BOOL, F(resume), 0, 0, "true",
     .help = "reuse the finished stages saved in <output.path>.ckpt/ by an interrupted run with the same input "
             "and config (see README, \"Running on a Slurm cluster\")"},
    {"job", "stop_after", K_STOP_AFTER, F(stop_after), 0, 63, "none", .names = stop_after_names,
     .help = "for tests: stop as if interrupted after a stage: none | embed | cluster_<c>"},
    {"job", "stop_at", K_STOP_AT, F(stop_at), 1, 1e15, "none", .names = stop_stage_names,
     .help = "for tests: raise the stop flag exactly as SIGTERM would, at a counted point on each rank: none | "
             "embed:N (before the N-th image) | kmeans:N | exchange:N (as the N-th such stage begins) | pairs:N "
             "(before the N-th cluster task)"},
};
#define N_KEYS (sizeof keys / sizeof keys[0])

/* Comments under a [section] line of the reference. */
static const struct {
    const char *name, *help;
} section_help[] = {
    {"input", "exactly one of embeddings, manifest, dir, shards (none is set here: give one in your config or with "
              "--set input.X=PATH, which replaces the file's choice)"},
    {"embed", "image input only"},
    {"filter", "image input only: run the network's content head and drop the items of unwanted classes; dropped "
               "items are not deduplicated (status `filtered`)"},
    {"reweight", "with the filter: logistic regression of \"kept\" on the embedding over all usable items; a kept "
                 "item's weight is 1 / p(kept), clipped at max_weight, normalised to mean 1 over the kept items "
                 "(/items/weight)"},
};

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

/* The entry of `names` called `v` (the first `len` characters of it), or NULL. */
static const enum_name *find_name(const enum_name *names, const char *v, size_t len)
{
    for (const enum_name *e = names; e->name; e++)
        if (strlen(e->name) == len && !strncasecmp(e->name, v, len))
            return e;
    return NULL;
}

/* The printed name of a value: the first name it has. */
static const char *value_name(const enum_name *names, int value)
{
    for (const enum_name *e = names; e->name; e++)
        if (e->value == value)
            return e->name;
    return "?";
}

const char *dg_config_enum_name(const char *key, int value)
{
    const char *dot = strchr(key, '.');
    char section[64];
    size_t ls = dot ? (size_t)(dot - key) : 0;
    if (!dot || ls >= sizeof section)
        return NULL;
    memcpy(section, key, ls);
    section[ls] = 0;
    const key_spec *k = find_key(section, dot + 1);
    if (!k || k->type != K_ENUM)
        return NULL;
    const char *name = value_name(k->names, value);
    return strcmp(name, "?") ? name : NULL;
}

/* "a or b", "a, b or c": the distinct printed names, for messages. */
static void names_list(const enum_name *names, char *out, size_t cap)
{
    size_t n = 0, len = 0;
    for (const enum_name *e = names; e->name; e++)
        n += value_name(names, e->value) == e->name;
    out[0] = 0;
    size_t i = 0;
    for (const enum_name *e = names; e->name && len < cap; e++) {
        if (value_name(names, e->value) != e->name)
            continue;
        int w = snprintf(out + len, cap - len, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", e->name);
        len += w > 0 ? (size_t)w : 0;
        i++;
    }
}

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
    const enum_name *st = colon ? find_name(k->names, v, (size_t)(colon - v)) : NULL;
    if (st && st->value != DG_STOP_NONE && parse_i64(colon + 1, &count) == DG_OK && in_range(k, (double)count)) {
        cfg->stop_at_stage = st->value;
        cfg->stop_at = count;
        return DG_OK;
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
    const enum_name *e;
    char list[256];
    switch (k->type) {
    case K_INPUT:
    case K_STRING:
        if (k->word && !strcasecmp(v, k->word)) {
            field[0] = 0;
            return DG_OK;
        }
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
        if (k->type == K_INPUT) {
            cfg->input_kind = strcmp(k->name, "embeddings") == 0 ? DG_INPUT_EMBEDDINGS
                              : strcmp(k->name, "manifest") == 0 ? DG_INPUT_MANIFEST
                              : strcmp(k->name, "shards") == 0   ? DG_INPUT_SHARDS
                                                                  : DG_INPUT_DIR;
        }
        return DG_OK;
    case K_INT:
        if (k->word && strcasecmp(v, k->word) == 0)
            i = 0;
        else if (parse_i64(v, &i) != DG_OK || !in_range(k, (double)i))
            return dg_failc(err, DG_E_CONFIG, "%s.%s = '%s': expected an integer in [%.0f, %.0f]%s%s%s", k->section, k->name,
                           v, k->min, k->max, k->word ? " or '" : "", k->word ? k->word : "", k->word ? "'" : "");
        if (k->size == sizeof(int))
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
        errno = 0;
        x = strtod(v, &end);
        if (errno || end == v || *end || !isfinite(x) || !in_range(k, x))
            return dg_failc(err, DG_E_CONFIG, "%s.%s = '%s': expected a number in [%g, %g]", k->section, k->name, v, k->min,
                           k->max);
        if (k->size == sizeof(float))
            *(float *)field = (float)x;
        else
            *(double *)field = x;
        return DG_OK;
    case K_SIZE:
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
    case K_ENUM:
        if (!(e = find_name(k->names, v, strlen(v)))) {
            names_list(k->names, list, sizeof list);
            return dg_failc(err, DG_E_CONFIG, "%s.%s = '%s': expected %s", k->section, k->name, v, list);
        }
        *(int *)field = e->value;
        return DG_OK;
    case K_STOP_AFTER:
        if ((e = find_name(k->names, v, strlen(v))))
            cfg->stop_after = e->value;
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
        dg_failc(st->err, DG_E_CONFIG, "unknown key [%s] %s", section, name);
        return 0;
    }
    if (k->type == K_INPUT)
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
        return dg_failc(err, DG_E_CONFIG, "%s needs image input (input.manifest, input.dir or input.shards)",
                       cfg->filter_enabled ? "filter.enabled" : "embed.method = mobilenet_v2");
    if (cfg->verify_enabled && cfg->verify_accept_above < cfg->threshold)
        return dg_failc(err, DG_E_CONFIG, "verify.accept_above = %g is below pairs.threshold = %g: every candidate would "
                       "be accepted unverified", (double)cfg->verify_accept_above, (double)cfg->threshold);
    if (cfg->whitening == DG_WHITENING_LEARNED && !cfg->flip)
        return dg_failc(err, DG_E_CONFIG, "embed.whitening = learned needs embed.flip = true (the whitening was "
                        "learned on mirror-invariant descriptors); use auto or corpus");
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
                            "input.dir, input.shards");
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
    case K_INPUT:
    case K_STRING: append(buf, len, cap, "%s", *field || !k->word ? field : k->word); break;
    case K_INT: {
        long long i = k->size == sizeof(int) ? *(const int *)field : (long long)*(const int64_t *)field;
        if (k->word && i <= 0)
            append(buf, len, cap, "%s", k->word);
        else
            append(buf, len, cap, "%lld", i);
        break;
    }
    case K_SIZE: append(buf, len, cap, "%lld", (long long)*(const int64_t *)field); break;
    case K_U64: append(buf, len, cap, "%llu", (unsigned long long)*(const uint64_t *)field); break;
    case K_FLOAT:
        if (k->size == sizeof(float))
            append(buf, len, cap, "%.9g", (double)*(const float *)field);
        else
            append(buf, len, cap, "%.17g", *(const double *)field);
        break;
    case K_BOOL: append(buf, len, cap, "%s", *(const bool *)field ? "true" : "false"); break;
    case K_ENUM: append(buf, len, cap, "%s", value_name(k->names, *(const int *)field)); break;
    case K_STOP_AT:
        if (cfg->stop_at_stage == DG_STOP_NONE)
            append(buf, len, cap, "none");
        else
            append(buf, len, cap, "%s:%lld", value_name(k->names, cfg->stop_at_stage), (long long)cfg->stop_at);
        break;
    case K_STOP_AFTER:
        if (cfg->stop_after <= 0)
            append(buf, len, cap, "%s", value_name(k->names, cfg->stop_after));
        else
            append(buf, len, cap, "cluster_%d", cfg->stop_after - 1);
        break;
    }
}

char *dg_config_to_text(const dg_config *cfg)
{
    static const char *const input_names[] = {"", "embeddings", "manifest", "dir", "", "shards"}; /* vectors: no key */
    size_t len = 0, cap = 2048;
    char *buf = malloc(cap);
    if (buf)
        buf[0] = 0;
    const char *section = "";
    for (size_t i = 0; i < N_KEYS; i++) {
        const key_spec *k = &keys[i];
        if (k->type == K_INPUT && strcmp(k->name, input_names[cfg->input_kind]) != 0)
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

/* `text` as comment lines "; ..." of at most REF_WIDTH characters, broken at
 * blanks (a word longer than a line gets a line of its own). */
#define REF_WIDTH 100

static void append_comment(char **buf, size_t *len, size_t *cap, const char *text)
{
    const char *p = text ? text : "";
    while (*p) {
        while (*p == ' ')
            p++;
        size_t room = REF_WIDTH - 2, n = strlen(p);
        if (n > room) {
            size_t cut = room;
            while (cut > 0 && p[cut] != ' ')
                cut--;
            if (cut == 0)
                cut = strcspn(p, " ");
            n = cut;
            while (n > 0 && p[n - 1] == ' ')
                n--;
        }
        append(buf, len, cap, "; %.*s\n", (int)n, p);
        p += n;
    }
}

static const char *const reference_header[] = {
    "dupgraph reference configuration: every key with its default and its meaning.",
    "Generated by `dupgraph config --defaults` from the key table in src/core/config.c, the one place",
    "keys, defaults and help are written.  After changing the table, regenerate this file with",
    "    build/dupgraph config --defaults > configs/default.ini",
    "(the test config_reference compares the two).",
    "A config file needs only the keys it changes; `--set section.key=value` overrides one.",
    "Relative paths are relative to the working directory of the job.",
};

int dg_config_write_reference(FILE *out, dg_err *err)
{
    dg_config defaults;
    dg_config_defaults(&defaults); /* every default parses (or this aborts) */
    size_t len = 0, cap = 8192;
    char *buf = malloc(cap);
    if (buf)
        buf[0] = 0;
    for (size_t i = 0; i < sizeof reference_header / sizeof reference_header[0]; i++)
        append(&buf, &len, &cap, "; %s\n", reference_header[i]);
    const char *section = "";
    int blank = 0;
    for (size_t i = 0; i < N_KEYS; i++) {
        const key_spec *k = &keys[i];
        if (strcmp(section, k->section) != 0) {
            section = k->section;
            append(&buf, &len, &cap, "\n[%s]\n", section);
            blank = 0;
            for (size_t s = 0; s < sizeof section_help / sizeof section_help[0]; s++)
                if (!strcmp(section_help[s].name, section)) {
                    append_comment(&buf, &len, &cap, section_help[s].help);
                    blank = 1;
                }
        }
        if (blank) /* between keys, and after a section's comment */
            append(&buf, &len, &cap, "\n");
        blank = 1;
        if (k->type == K_ENUM) {
            /* the help, then each printed name with its own help */
            size_t hlen = 0, hcap = 256;
            char *h = malloc(hcap);
            if (h)
                h[0] = 0;
            append(&h, &hlen, &hcap, "%s:", k->help);
            for (const enum_name *e = k->names; e->name; e++)
                if (value_name(k->names, e->value) == e->name)
                    append(&h, &hlen, &hcap, "%s %s%s%s%s", e == k->names ? "" : " |", e->name, e->help ? " (" : "",
                           e->help ? e->help : "", e->help ? ")" : "");
            if (h)
                append_comment(&buf, &len, &cap, h);
            else {
                free(buf);
                buf = NULL;
            }
            free(h);
        } else {
            append_comment(&buf, &len, &cap, k->help);
        }
        if (k->def)
            append(&buf, &len, &cap, "%s = %s\n", k->name, k->def);
        else
            append(&buf, &len, &cap, "; %s = PATH\n", k->name);
    }
    if (!buf)
        return dg_failc(err, DG_E_MEMORY, "out of memory formatting the reference config");
    int bad = fputs(buf, out) == EOF || fflush(out) != 0 || ferror(out);
    free(buf);
    if (bad)
        return dg_failc(err, DG_E_OUTPUT, "cannot write the reference config: %s", strerror(errno));
    return DG_OK;
}
