/* report.h - `dupgraph report`: a static HTML page (no server, no script)
 * that lets a person judge a run at a glance, and the thumbnails it shows.
 *
 * OUTDIR/index.html holds the headline counts (items, failures by status,
 * edges, components, groups, removed items, threshold, time per stage), the
 * sizes of the duplicate groups, the largest groups first (kept item first,
 * then members in id order, each with its similarity to the kept item or,
 * without a direct edge, its strongest edge), and a sample of pairs just
 * above and just below the threshold with their similarity.  Thumbnails
 * are OUTDIR/thumbs/<id>.jpg, referenced by relative links; an item whose
 * image cannot be read at report time gets a "no preview" box instead.
 * Item paths are opened as stored in the output file (relative ones against
 * the working directory, like the job) and are HTML-escaped on the page;
 * an input.shards item's path "SHARD:MEMBER" (SHARD one of /shards/path) is
 * read from the tar, one walk per shard, and every format the job reads
 * (JPEG, PNG, WebP) gets a thumbnail.
 *
 * Pairs below the threshold are not in the output file: the report finds
 * them among items that share a home cluster (of clustering 0; all items in
 * exact mode), recomputing similarities from /embeddings, which the job
 * stores with output.embeddings = float32.  Without it the page says so.
 * The pair samples are drawn by a hash of the pair, so they are the same on
 * every run.  Memory: about 22 bytes per item plus the samples.
 */
#ifndef DUPGRAPH_TOOLS_REPORT_H
#define DUPGRAPH_TOOLS_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "dupgraph/common.h"

typedef struct dg_report_params {
    int groups;           /* largest duplicate groups shown */
    int members;          /* members shown per group, kept item included */
    int pairs;            /* pairs sampled on each side of the threshold */
    float band;           /* sampled pairs lie within this distance of the threshold */
    int64_t below_items;  /* items whose embeddings are read to find pairs below it */
    int thumb_size;       /* thumbnails fit in thumb_size x thumb_size pixels */
    int thumb_quality;    /* JPEG quality of the thumbnails */
} dg_report_params;

/* groups 20, members 12, pairs 12, band 0.05, below_items 4096,
 * thumb_size 160, thumb_quality 80. */
void dg_report_params_default(dg_report_params *p);

typedef struct dg_report_counts {
    int groups;            /* groups shown */
    int pairs_above;       /* sampled pairs at or above the threshold */
    int pairs_below;       /* sampled pairs below it (0 without /embeddings) */
    int below_available;   /* 1 if the file has /embeddings */
    int thumbnails;        /* thumbnails written */
    int thumbnails_failed; /* items shown without a preview */
    char first_failure[512]; /* why the first preview failed ("" if none) */
} dg_report_counts;

/* Writes outdir/index.html and outdir/thumbs/ (outdir is created if its
 * parent exists) from the output file at `path`. */
int dg_report(const char *path, const char *outdir, const dg_report_params *p, dg_report_counts *counts,
              dg_err *err);

/* The command line `report OUT.h5 -o OUTDIR` (argv[0] is OUT.h5): runs
 * dg_report with the default parameters and prints what it wrote to `out`. */
int dg_report_command(int argc, char *const *argv, FILE *out, dg_err *err);

/* ---- thumbnails (thumbnail.c) ------------------------------------------ */

#endif
