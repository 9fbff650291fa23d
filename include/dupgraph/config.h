/* config.h - the job's settings, read from an INI file (libinih) plus
 * command-line overrides `--set section.key=value`.
 *
 * Every key is known: an unknown section or key, a malformed value or a
 * missing input stops the job before any work with a message naming it.
 * The effective configuration is kept as canonical INI text for the output
 * file's `config` attribute and for checkpoint fingerprints.
 */
#ifndef DUPGRAPH_CONFIG_H
#define DUPGRAPH_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dupgraph/common.h"


/* DG_INPUT_VECTORS: vectors the caller holds (dg_job_run_vectors), never
 * named by a config file. */
typedef enum {
    DG_INPUT_NONE = 0,
    DG_INPUT_EMBEDDINGS,
    DG_INPUT_MANIFEST,
    DG_INPUT_DIR,
    DG_INPUT_VECTORS,
    DG_INPUT_SHARDS /* WebDataset tar shards (input/shard_input.h) */
} dg_input_kind;

/* Image input: a manifest, a folder of image files or tar shards. */
#define DG_INPUT_IS_IMAGES(kind) ((kind) == DG_INPUT_MANIFEST || (kind) == DG_INPUT_DIR || (kind) == DG_INPUT_SHARDS)
typedef enum { DG_KEEP_FIRST = 0, DG_KEEP_CENTRAL } dg_keep_policy;
/* graph.edges: every pair above the threshold, or a spanning forest of them */
typedef enum { DG_EDGES_ALL = 0, DG_EDGES_FOREST } dg_edge_output;
typedef enum { DG_EMB_OUT_NONE = 0, DG_EMB_OUT_FLOAT32 } dg_embeddings_output;
typedef enum { DG_EMBED_DESCRIPTOR = 0, DG_EMBED_MOBILENET_V2 } dg_embed_method;
typedef enum { DG_SEEDING_KMEANSPP = 0, DG_SEEDING_KMEANS_PAR } dg_seeding;
typedef enum { DG_ASSIGN_FLAT = 0, DG_ASSIGN_TWO_LEVEL } dg_assign_method;
/* job.precision: how blocks of similarities are computed before re-scoring */
typedef enum { DG_PRECISION_AUTO = 0, DG_PRECISION_FLOAT32, DG_PRECISION_BFLOAT16 } dg_precision;
/* embed.whitening: the descriptor's projection learned in the space of the
 * built-in learned whitening, or from the corpus alone */
typedef enum { DG_WHITENING_AUTO = 0, DG_WHITENING_LEARNED, DG_WHITENING_CORPUS } dg_whitening;

typedef struct dg_config {
    /* [input] exactly one source */
    dg_input_kind input_kind;
    char input_path[DG_PATH_MAX];
    char input_dataset[256]; /* dataset inside input.embeddings, default "/embeddings" */

    /* [output] */
    char output_path[DG_PATH_MAX];
    dg_embeddings_output output_embeddings;
    char output_summary[DG_PATH_MAX]; /* JSON summary written after the output; "" (none) for none */

    /* [cluster] */
    int64_t k;          /* 0 = auto: see dg_config_auto_k */
    int clusterings;    /* C */
    int probes;         /* m, own cluster included */
    int iterations;
    int64_t sample;     /* 0 = auto: 64 * K */
    uint64_t seed;
    dg_seeding seeding;
    dg_assign_method assign;
    int coarse_probes;  /* two-level assignment: coarse groups searched per item */

    /* [pairs] */
    float threshold;
    int block;          /* rows per similarity block */

    /* [graph] */
    dg_keep_policy keep;
    dg_edge_output edges;

    /* [verify] (image input): each candidate pair of the search is confirmed
     * by comparing the items' signatures before it becomes an edge */
    bool verify_enabled;
    float verify_threshold;
    float verify_accept_above; /* candidates this similar are edges unverified */
    float verify_max_detail_diff; /* verified pairs whose aligned details differ more are rejected */
    float verify_agree_above;     /* candidates this similar pass at verify_agree_threshold, detail unchecked */
    float verify_agree_threshold;
    int verify_max_candidates;    /* pairs verified per item, the most similar (0: every candidate) */
    int64_t verify_max_held;      /* candidate pairs a rank holds before dropping those beyond the budget */

    /* [embed] (image input) */
    int embed_dim;
    int64_t max_pixels;
    bool flip;
    dg_whitening whitening;          /* descriptor: learned (auto with flip) or corpus-only projection */
    dg_embed_method embed_method;    /* descriptor (default) | mobilenet_v2 */
    char embed_weights[DG_PATH_MAX]; /* converted MobileNetV2 weights (jobs/setup_mobilenet.sh) */

    /* [filter] (image input): drop items whose summed probability of the
     * unwanted classes reaches threshold - margin */
    bool filter_enabled;
    char filter_classes[256]; /* comma-separated head classes, e.g. "Hentai,Porn,Sexy" */
    float filter_threshold;
    float filter_margin;

    /* [reweight] (with the filter): weight 1 / p(kept | embedding), clipped */
    bool reweight_enabled;
    double reweight_max_weight; /* clip before normalising to mean 1 */
    double reweight_l2;         /* L2 penalty of the logistic regression */
    int reweight_iterations;

    /* [job] */
    double progress_seconds;
    int64_t max_memory; /* bytes per rank, 0 = no limit */
    dg_precision precision; /* arithmetic of similarity blocks (resolved by dg_precision_bf16) */
    bool resume;
    int stop_after;     /* testing: DG_STOP_AFTER_NONE, 0 = after the embed/read stage, c + 1 = after clustering c */
    int stop_at_stage;  /* testing: a dg_stop_stage (context.h), DG_STOP_NONE = 0 for none */
    int64_t stop_at;    /* ... and the count at which it raises the stop flag */
} dg_config;

#define DG_STOP_AFTER_NONE (-1)

/* Fills the defaults: each key's default text in the key table of
 * src/core/config.c, parsed like a user's value (configs/default.ini shows
 * them; see dg_config_write_reference). */
void dg_config_defaults(dg_config *cfg);

/* Reads an INI file on top of the defaults, then applies `n_set` overrides
 * of the form "section.key=value" in order.  An input given by an override
 * replaces the file's input choice.  Validates the result; a config without
 * an input is valid (dg_job_run refuses it, dg_job_run_vectors needs none).  Relative paths
 * are taken as given (relative to the working directory of the job). */
int dg_config_load(dg_config *cfg, const char *path, const char *const *sets, int n_set, dg_err *err);

/* Same, from INI text already in memory (tests, fuzzing). */
int dg_config_load_text(dg_config *cfg, const char *text, const char *const *sets, int n_set,
                        dg_err *err);

/* K for `cluster.k = auto`: the power of two nearest sqrt(2.5 N), where the
 * cost of assigning items to centroids equals the cost of the pair stage
 * (clusters of ~500 items at 1M, ~1000 at 4M), halved while it is above
 * N/128 so small corpora keep clusters of >= 128 items; at least 1.  A
 * configured K above N is reduced to N. */
int64_t dg_config_effective_k(const dg_config *cfg, int64_t n_items);
int64_t dg_config_effective_sample(const dg_config *cfg, int64_t k, int64_t n_items);

/* The name a value of an enumerated key ("graph.keep", "embed.method",
 * "output.embeddings") is printed with, from the key table: the one place
 * these names are written.  NULL for another key or an unknown value. */
const char *dg_config_enum_name(const char *key, int value);

/* Canonical INI text of the effective settings (malloc'd; caller frees). */
char *dg_config_to_text(const dg_config *cfg);

/* Writes the reference configuration: every section and key with its
 * default and its help as comments, the input keys commented out (they have
 * no default).  configs/default.ini is this text (`dupgraph config
 * --defaults`); loading it gives dg_config_defaults. */
int dg_config_write_reference(FILE *out, dg_err *err);

#endif
