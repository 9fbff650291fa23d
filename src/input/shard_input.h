/* shard_input.h - input.shards in the job (shard_input.c): the collective
 * listing that numbers every image member of every shard, and the reader
 * that hands one rank its items' bytes in order.
 *
 * Ids.  Shards in sorted path order, members in archive order: item ids are
 * the same for any rank count.  The listing is spread over ranks (each lists
 * a contiguous run of shards balanced by bytes, dg_shards_split), and the
 * per-shard counts are gathered (MPI_Allgatherv) so every rank knows the id
 * range of every shard.
 *
 * Partition.  The job's later stages need rank r to hold exactly the items
 * [dg_range_lo(N,P,r), dg_range_lo(N,P,r+1)) (graph.c checks it), so a rank
 * reads the members of the id range it owns: it opens each shard its range
 * overlaps, walks past the headers of the members before its first one
 * (libarchive skips their data by seeking) and streams the rest once, in
 * order.  Only the boundary shards are shared by two ranks, and the work is
 * balanced by items, not shard bytes.
 *
 * Per item it keeps the shard index, the key and KEY.json's "url" and
 * "caption" (the output's /items/shard, key, url, caption); its path is
 * "SHARD:MEMBER" (/items/path).  A member larger than the cap (derived from
 * embed.max_pixels) is too_large and never read into memory; one cut short
 * is corrupt; the items of a shard that no longer opens get its status.
 */
#ifndef DUPGRAPH_INPUT_SHARD_INPUT_H
#define DUPGRAPH_INPUT_SHARD_INPUT_H

#include <stdint.h>

#include "dupgraph/config.h"
#include "dupgraph/context.h"
#include "input/shards.h"

/* The shards, identical on every rank. */
typedef struct dg_shard_plan {
    int n;               /* shards */
    char **path;         /* sorted */
    int64_t *bytes;      /* size at listing time (-1: could not stat) */
    int64_t *mtime_ns;   /* modification time at listing time */
    int8_t *status;      /* dg_status of the listing */
    int64_t *others;     /* members that are not items */
    int64_t *first;      /* n + 1: global id of each shard's first item; first[n] = N */
    int64_t max_member;  /* members above this many bytes are too_large */
} dg_shard_plan;

/* Per local item, filled by the reader. */
typedef struct dg_shard_meta {
    int64_t n;
    int32_t *shard;  /* index into plan->path */
    char **key, **url, **caption;
} dg_shard_meta;

/* What the image loop reads from: the plan and this rank's metadata. */
typedef struct dg_shard_source {
    dg_shard_plan plan;
    dg_shard_meta meta;
} dg_shard_source;

/* The cap on a member's bytes: a compressed image of embed.max_pixels pixels
 * needs at most ~8 bytes per pixel (a 16-bit RGBA PNG stored), plus 1 MiB of
 * headers and metadata, never above the loose-file cap. */
int64_t dg_shard_member_cap(int64_t max_pixels);

/* Collective: names, stats and lists the shards of cfg->input_path into
 * plan; logs the shards that failed (each by its lister) and the totals.  A
 * bad spec fails on all ranks (DG_E_INPUT); a bad shard does not. */
int dg_shard_plan_build(const dg_ctx *ctx, const dg_config *cfg, dg_shard_plan *plan, dg_err *err);
void dg_shard_plan_free(dg_shard_plan *plan);
/* The identity of the listing for the checkpoint: paths, sizes, mtimes and
 * item counts (the same on every rank). */
uint64_t dg_shard_plan_identity(const dg_shard_plan *plan);

int dg_shard_meta_alloc(dg_shard_meta *meta, int64_t n, dg_err *err);
void dg_shard_meta_free(dg_shard_meta *meta);

/* One item as the reader hands it over. */
typedef struct dg_shard_item {
    int64_t i;                  /* local index */
    dg_status status;           /* DG_ST_OK: data/len hold the member */
    const unsigned char *data;  /* valid until the next call */
    size_t len;
    char *path;                 /* "SHARD:MEMBER", malloc'd, the caller's (NULL when out of memory) */
    char msg[256];
} dg_shard_item;

typedef struct dg_shard_reader dg_shard_reader;

/* Local: a reader of the global ids [lo, lo + n) of plan, filling meta
 * (indexed from lo); read_data = 0 walks headers and sidecars only (the
 * metadata of items reused from a checkpoint). */
int dg_shard_reader_open(const dg_shard_plan *plan, dg_shard_meta *meta, int64_t lo, int64_t n, int read_data,
                         dg_shard_reader **r, dg_err *err);
/* The next item (1), or 0 once all n were handed over. */
int dg_shard_reader_next(dg_shard_reader *r, dg_shard_item *it);
/* Reads the rest of the last item's sample (a KEY.json after KEY.jpg) and
 * frees the reader. */
void dg_shard_reader_close(dg_shard_reader *r);

#endif
