/* shards.h - WebDataset tar shards (img2dataset's output) seen one archive at
 * a time, serially, through libarchive (shards.c): naming the shards from
 * input.shards, splitting the listing over ranks, telling image members
 * from the rest, listing an archive and walking its members.  Nothing here
 * talks MPI; the collective plan and the per-rank reader are shard_input.h.
 *
 * Members
 *   A regular member whose name ends in .jpg, .jpeg, .jpe, .png or .webp (any
 *   case) is an image: one item.  KEY.json beside it may carry "url" and
 *   "caption"; every other member (.txt, .json, folders, links) is not an
 *   item and only counted.  The key is WebDataset's: the member name up to
 *   the first '.' of its last path component ("a/00012.jpg" -> "a/00012"),
 *   so a list of keys filters a WebDataset pipeline on sample["__key__"].
 */
#ifndef DUPGRAPH_INPUT_SHARDS_H
#define DUPGRAPH_INPUT_SHARDS_H

#include <stddef.h>
#include <stdint.h>

#include "dupgraph/common.h"
#include "input/manifest.h"

/* ---- naming the shards (pure) -------------------------------------------- */

/* Expands the numeric ranges {A..B} of one pattern (A and B digits; the
 * width of A is kept with leading zeros, as WebDataset's braceexpand does)
 * and appends every resulting name to out.  At most max_names names; more
 * is an error.  Other braces are left for glob(3)'s GLOB_BRACE. */
int dg_shards_expand_ranges(const char *pattern, dg_pathlist *out, int64_t max_names, dg_err *err);

/* input.shards: a comma-separated list (commas inside braces belong to the
 * brace) of names and patterns; ranges expanded as above, then each name
 * globbed (GLOB_BRACE).  A name with a wildcard (* ? [) that matches nothing
 * is an error; a plain name is kept even if it does not exist (the shard is
 * then recorded as missing).  The result is sorted bytewise, duplicates
 * removed.  No shard at all is an error (DG_E_INPUT). */
int dg_shards_names(const char *spec, dg_pathlist *out, dg_err *err);

/* Contiguous runs of shards over `parts` listers, balanced by bytes:
 * part p lists shards [first[p], first[p+1]); first has parts + 1 entries.
 * Every shard counts at least one byte, so empty shards spread too. */
void dg_shards_split(const int64_t *bytes, int n, int parts, int *first);

/* ---- members (pure) ------------------------------------------------------ */

typedef enum { DG_MEMBER_OTHER = 0, DG_MEMBER_IMAGE, DG_MEMBER_JSON } dg_member_kind;

dg_member_kind dg_shard_member_kind(const char *name);
/* The key of a member name into key (cap bytes, truncated). */
void dg_shard_key(const char *name, char *key, size_t cap);
/* From KEY.json's text: "url" and "caption" when they are strings (empty
 * otherwise), each truncated to cap - 1 bytes.  Malformed JSON: both empty. */
void dg_shard_sidecar(const char *text, size_t len, char *url, char *caption, size_t cap);

/* ---- one archive (serial) ------------------------------------------------ */

/* Outcome of a shard, stored in /shards/status with the item statuses'
 * names: ok, missing, unreadable, empty, corrupt (damaged or truncated:
 * the members before the damage are kept), unsupported (not a tar archive). */
typedef struct dg_shard_listing {
    dg_status status;
    int64_t images;    /* image members (items) */
    int64_t others;    /* members that are not items */
    char msg[256];     /* why, for a status other than ok */
} dg_shard_listing;

typedef struct dg_shard_walk dg_shard_walk; /* an open archive */

/* A member of an open archive. */
typedef struct dg_member {
    const char *name; /* valid until the next dg_shard_next */
    dg_member_kind kind;
    int64_t size;
} dg_member;

/* Opens a shard file (or len bytes at buf when path is NULL: tests and the
 * fuzzer).  On failure *w is NULL and lst->status/msg say why. */
void dg_shard_open(const char *path, const void *buf, size_t len, dg_shard_walk **w, dg_shard_listing *lst);
/* The next member: 1, 0 at the end, -1 when the archive ends in damage
 * (lst->status corrupt, or unsupported when not even one header was read). */
int dg_shard_next(dg_shard_walk *w, dg_member *m, dg_shard_listing *lst);
/* Reads the current member's data into *buf (grown to fit, cap at *cap);
 * DG_OK, or DG_FAIL when the data are cut short (msg says how). */
int dg_shard_read(dg_shard_walk *w, int64_t size, unsigned char **buf, size_t *cap, char *msg, size_t msg_cap);
void dg_shard_close(dg_shard_walk *w);

/* Lists a whole shard (headers only; data skipped). */
void dg_shard_list(const char *path, const void *buf, size_t len, dg_shard_listing *lst);

#endif
