/* manifest.h - listing the image input: a manifest file or a folder, split
 * into contiguous shares of ranks (manifest.c).
 *
 * Input listing
 *   input.manifest: a text file, one path per line.  A line is taken
 *     verbatim except that a trailing CR is removed (CRLF files work); blank
 *     lines (empty or only spaces/tabs) and lines whose first character is
 *     '#' are skipped (write "./#name" for a file whose name starts with
 *     '#').  Relative paths are resolved against the manifest's folder.  A
 *     line holding a NUL byte or a path of DG_PATH_MAX bytes or more stops
 *     the job with the line number.
 *   input.dir: the folder is walked recursively; every regular file (or
 *     symbolic link to one) whose name ends in .jpg, .jpeg, .jpe, .jfif, .png or .webp
 *     (any case) is an item.  Symbolic links to folders are not followed (no
 *     loops, no item seen twice).  Items are sorted bytewise by their path,
 *     so the order is the same on every run and every rank count.
 *   The item path (items->path, /items/path) is the path that is opened:
 *   the folder joined with the entry, or the manifest line as written when
 *   it is absolute or the manifest has no folder part.
 */
#ifndef DUPGRAPH_INPUT_MANIFEST_H
#define DUPGRAPH_INPUT_MANIFEST_H

#include <stdint.h>

#include "dupgraph/config.h"
#include "dupgraph/context.h"
#include "dupgraph/items.h"

/* A contiguous share of the input's paths. */
typedef struct dg_pathlist {
    int64_t n_total; /* entries in the whole input */
    int64_t lo;      /* global index of path[0] */
    int64_t n;       /* paths held here */
    char **path;     /* n malloc'd strings */
} dg_pathlist;

void dg_pathlist_free(dg_pathlist *pl);

/* Allocates items for this share (d dims, image input) and moves the
 * listed paths into them; pl keeps its counts, its paths become NULL (a
 * list of counts only, pl->path NULL, leaves the items' paths NULL). */
int dg_items_from_list(dg_items *items, dg_pathlist *pl, int d, dg_err *err);

/* Serial: the manifest's entries with global index in [lo, hi) (hi < 0 for
 * all); out->n_total counts every entry.  Fails naming the manifest (and the
 * line) when it cannot be read or is malformed. */
int dg_manifest_read(const char *manifest, int64_t lo, int64_t hi, dg_pathlist *out, dg_err *err);

/* Serial: every image file under dir (see above), sorted. */
int dg_dir_list(const char *dir, dg_pathlist *out, dg_err *err);

/* Collective: this rank's share [dg_range_lo(N,P,r), dg_range_lo(N,P,r+1))
 * of cfg's input (manifest or dir).  A manifest is indexed by rank 0 and
 * every rank then reads only its own lines; a folder is walked by rank 0 and
 * the shares are scattered.  All ranks fail together. */
int dg_list_input(const dg_ctx *ctx, const dg_config *cfg, dg_pathlist *out, dg_err *err);

#endif
