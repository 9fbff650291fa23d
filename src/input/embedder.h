/* embedder.h - the one interface of the job's first stage: whatever the
 * input, an embedder turns it into items (L2-normalised vectors with
 * statuses).  The driver (core/job.c) and the checkpoint (core/checkpoint.c)
 * see only this interface; dg_embedder_choose picks one of
 *   embeddings    input.embeddings: the HDF5 vectors file, read
 *                 collectively (embeddings.c);
 *   descriptor    input.manifest / input.dir / input.shards, embed.method = descriptor:
 *                 decode, describe, PCA over all ranks (embed.c);
 *   mobilenet_v2  the same input with embed.method = mobilenet_v2: decode,
 *                 the network's pooled features (neural.c);
 *   vectors       vectors the caller holds (dg_job_run_vectors).
 * The image embedders list their input in prepare and share one decode
 * loop (image_loop.h) that calls their per-image step; finish runs after
 * the loop (the descriptor's PCA fit and projection).  The others embed in
 * one whole-stage call.
 */
#ifndef DUPGRAPH_INPUT_EMBEDDER_H
#define DUPGRAPH_INPUT_EMBEDDER_H

#include <stdint.h>

#include "dupgraph/config.h"
#include "dupgraph/context.h"
#include "dupgraph/items.h"
#include "input/decode.h"
#include "input/image_loop.h"
#include "input/manifest.h"
#include "input/mobilenet.h"
#include "input/shard_input.h"
#include "io/h5_checkpoint.h"
#include "io/h5_output.h"

/* The embedder's share of the per-rank memory model (core/job_memory.c),
 * with n the items per rank: items gain item_bytes n + item_fixed beyond
 * their vectors and statuses; the stage's working set is
 * work_per_item n + network + decoder. */
typedef struct dg_embedder_memory {
    double item_bytes;    /* per item (image input: sizes and path pointers) */
    double item_fixed;    /* per rank (the largest rank's path strings) */
    double work_per_item; /* the descriptor's quantised descriptors */
    double network;       /* the network's weights and activations while it runs */
    double decoder;       /* the JPEG decoder's bound at embed.max_pixels */
} dg_embedder_memory;

#define DG_EMBEDDER_MAX_SAVED 8

/* What an embedder keeps in the items checkpoint beside the items: int64
 * attributes and arrays (rank 0's rows of replicated data). */
typedef struct dg_embedder_saved {
    dg_ck_attr attrs[DG_EMBEDDER_MAX_SAVED];
    int n_attrs;
    dg_ck_array arrays[DG_EMBEDDER_MAX_SAVED];
    int n_arrays;
} dg_embedder_saved;

typedef struct dg_embedder dg_embedder;
struct dg_embedder {
    const char *name;  /* the output's `embedder` attribute */
    const char *title; /* the stage's log title, e.g. "embed (decode + descriptor + PCA)" */
    const char *stage; /* the stage's name in the times and stop messages: "embed" or "read" */
    int images;        /* items carry paths, widths and heights */
    int saved;         /* the stage is saved in the checkpoint (0: the caller holds the input) */
    int reusable;      /* a saved stage may be reused (0: it must run for what it does not save) */
    /* prepare's title and name as a timed stage (NULL: not one), e.g.
     * "list (manifest or folder)", "list" */
    const char *prepare_title, *prepare_stage;

    /* Collective, before the memory check: checks the input, lists, probes
     * or loads what the stage needs (the network); sets N and d. */
    int (*prepare)(dg_embedder *e, const dg_ctx *ctx, const dg_config *cfg, int64_t *n_total, int *d,
                   dg_err *err);
    /* Local: the embedder's share of the memory model (after prepare). */
    void (*memory)(const dg_embedder *e, const dg_config *cfg, dg_embedder_memory *m);

    /* The stage, one of two shapes.  Whole stage (NULL for image input):
     * collective, fills items. */
    int (*embed)(dg_embedder *e, const dg_ctx *ctx, const dg_config *cfg, dg_items *items, dg_err *err);
    /* Image input: the items take the listed paths (d dimensions), begin
     * (local) sets up the per-image state, the shared decode loop calls
     * step per usable image (decoded to at least min_side; with its
     * content box when content_box, see image_loop.h), finish
     * (collective) completes the vectors, given the loop's seconds. */
    int d;
    int min_side;
    int content_box;
    const char *progress;
    int (*begin)(dg_embedder *e, const dg_config *cfg, const dg_items *items, dg_err *err);
    int (*step)(void *e, int64_t i, const dg_pixels *image, const int *box, dg_err *err);
    int (*finish)(dg_embedder *e, const dg_ctx *ctx, const dg_config *cfg, dg_items *items,
                  const dg_image_loop *loop, dg_err *err);

    /* Collective: the identity of the input for the checkpoint's
     * fingerprint, the same for any rank count (items: NULL before the
     * stage ran). */
    int (*identify)(dg_embedder *e, const dg_ctx *ctx, const dg_config *cfg, const dg_items *items, uint64_t *id,
                    dg_err *err);
    /* What it saves in the items checkpoint beside the items (NULL: nothing),
     * and reads back from an open checkpoint (collective); after a load the
     * image embedders hand their listed paths to the items (adopt). */
    void (*save)(const dg_embedder *e, const dg_ctx *ctx, dg_embedder_saved *s);
    int (*load)(dg_embedder *e, const dg_ck_file *f, dg_err *err);
    int (*adopt)(dg_embedder *e, dg_items *items, const char *path, dg_err *err);
    /* The input files in id order for /inputs/path and /items/shard (NULL:
     * none, as for image input); pointers into its state. */
    void (*inputs)(const dg_embedder *e, dg_input_files *out);
    /* Its extra output datasets (NULL: none); pointers into its state. */
    int (*datasets)(const dg_embedder *e, dg_extra_dataset *out, int max, int *n_out, dg_err *err);
    /* Its extra output columns (NULL: none; image input: the shards'
     * /items/{shard,key,url,caption} and /shards/{path,status}). */
    int (*columns)(const dg_embedder *e, dg_extra_column *out, int max, int *n_out);
    /* Frees the state. */
    void (*release)(dg_embedder *e);

    /* With a network (mobilenet_v2): the network (freed by
     * dg_embedder_drop_network) and, after the stage, its class
     * probabilities (n x n_classes, taken by whoever sets it NULL). */
    dg_mobilenet *net;
    float *probs;
    void *state; /* the embedder's own */
};

/* Vectors held by the caller (dg_job_run_vectors). */
typedef struct dg_held_vectors {
    const float *vec; /* n x d, row-major */
    int64_t n;
    int d;
} dg_held_vectors;

/* Picks the embedder for cfg's input (held: the caller's vectors, which
 * cfg's input section is then ignored for) into *e, with nothing allocated
 * yet but the vectors embedder's small state (release it with
 * dg_embedder_release).  Fails with DG_E_CONFIG when cfg names no input. */
int dg_embedder_choose(dg_embedder *e, const dg_config *cfg, const dg_held_vectors *held, dg_err *err);

/* Collective: the stage (embed, or the image stage: begin, the decode loop,
 * finish); items filled on success, freed on failure. */
int dg_embedder_run(dg_embedder *e, const dg_ctx *ctx, const dg_config *cfg, dg_items *items, dg_err *err);
/* The image stage on an explicit listing (the paths move into items). */
int dg_embedder_run_images(dg_embedder *e, const dg_ctx *ctx, const dg_config *cfg, dg_pathlist *listed,
                           dg_items *items, dg_err *err);

/* Frees the network once nothing needs it (after the filter). */
void dg_embedder_drop_network(dg_embedder *e);
/* Frees everything, the network and probabilities included; e may be zero. */
void dg_embedder_release(dg_embedder *e);

/* The embedders, each in its module. */
void dg_embedder_embeddings(dg_embedder *e);                                        /* embedder.c */
void dg_embedder_descriptor(dg_embedder *e);                                        /* embed.c */
void dg_embedder_mobilenet(dg_embedder *e, const dg_config *cfg);                   /* neural.c */
int dg_embedder_vectors(dg_embedder *e, const dg_held_vectors *held, dg_err *err); /* embedder.c */

/* Shared by the image embedders (embedder.c), whose state begins with a
 * dg_image_input: the listed paths until the items take them, prepare
 * (checks the input exists, lists it), the identity (the listed paths in
 * order; for shards their paths, sizes, mtimes and item counts), adopt and
 * the memory of image items and the decoder.  With input.shards the items'
 * paths come from the decode loop (listed holds counts only) and `shards`
 * the plan and this rank's per-item shard, key, url and caption. */
typedef struct dg_image_input {
    dg_pathlist listed; /* until the items adopt them */
    double path_bytes;  /* the largest rank's path strings, malloc overhead included */
    dg_shard_source *shards; /* input.shards, else NULL */
} dg_image_input;
int dg_image_input_prepare(dg_image_input *in, const dg_ctx *ctx, const dg_config *cfg, dg_err *err);
int dg_image_input_identify(dg_embedder *e, const dg_ctx *ctx, const dg_config *cfg, const dg_items *items,
                            uint64_t *id, dg_err *err);
int dg_image_input_adopt(dg_embedder *e, dg_items *items, const char *path, dg_err *err);
void dg_image_input_memory(const dg_image_input *in, const dg_config *cfg, dg_embedder_memory *m);
void dg_image_input_free(dg_image_input *in);
int dg_image_input_columns(const dg_embedder *e, dg_extra_column *out, int max, int *n_out);
/* The shard source of an image embedder's input (NULL: files). */
dg_shard_source *dg_embedder_shards(const dg_embedder *e);

#endif
