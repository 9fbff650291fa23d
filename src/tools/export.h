/* export.h - `dupgraph export`: plain-text lists from an output file for the
 * tools that come after the job (a training data loader, a spreadsheet).
 *
 *   keep-list  the path of every kept item (usable, /items/keep = 1)
 *   removed    the path of every usable item that is not kept
 *   remove-keys  (input.shards outputs) a folder with, for each shard
 *              "NAME.tar", a file NAME.txt of the keys (/items/key) of its
 *              removed items (the removed list's), one per line, sorted
 *              bytewise; an empty file for a shard with nothing to remove.
 *              A WebDataset pipeline drops the samples whose __key__ is
 *              listed.  Two shards with the same NAME are an error.
 *   edges      CSV "src,dst,sim": the duplicate pairs as stored (ids are
 *              rows of /items; sim printed with 9 significant digits, so it
 *              reads back as the same float32)
 *
 * One entry per line, in item id order; an item without a path (embedding
 * input) is written as its id.  Together the two lists hold every usable
 * item exactly once.  Each file is written as "<name>.tmp" and renamed when
 * complete.  The file is read in bounded row ranges, so memory does not
 * grow with the corpus.
 */
#ifndef DUPGRAPH_EXPORT_H
#define DUPGRAPH_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "dupgraph/common.h"

/* Files to write; NULL leaves one out. */
typedef struct dg_export_files {
    const char *keep_list;
    const char *removed;
    const char *edges;
    const char *remove_keys; /* a folder (created if missing) */
} dg_export_files;

typedef struct dg_export_counts {
    int64_t kept;    /* lines in the keep-list */
    int64_t removed; /* lines in the removed list */
    int64_t edges;   /* rows of the edge CSV, header not counted */
    int64_t shards;  /* key files written */
    int64_t keys;    /* keys in them */
    int forest;      /* graph.edges = forest: the CSV holds a spanning forest of the pairs */
} dg_export_counts;

/* Writes the requested files from the output file at `path`.  A path that
 * holds a newline cannot be written one per line: that is an error. */
int dg_export(const char *path, const dg_export_files *files, dg_export_counts *counts, dg_err *err);

/* The command line `export OUT.h5 [--keep-list F] [--removed F] [--edges F] [--remove-keys DIR]`
 * (argv[0] is OUT.h5): runs dg_export and prints what it wrote to `out`. */
int dg_export_command(int argc, char *const *argv, FILE *out, dg_err *err);

#endif
