/* remove_keys.h - `dupgraph export --remove-keys DIR` (remove_keys.c): for
 * an output of input.shards, one file per shard with the WebDataset keys of
 * its removed items (format in tools/export.h). */
#ifndef DUPGRAPH_TOOLS_REMOVE_KEYS_H
#define DUPGRAPH_TOOLS_REMOVE_KEYS_H

#include <stdint.h>

#include "dupgraph/common.h"

/* Writes DIR/NAME.txt for every shard of the output file at `path`;
 * *shards and *keys count the files and the keys written. */
int dg_export_remove_keys(const char *path, const char *dir, int64_t *shards, int64_t *keys, dg_err *err);

/* The file name for shard `shard_path` ("a/00012.tar" -> "00012.txt"): its
 * last component without a .tar, .tar.gz or .tgz suffix, plus ".txt". */
void dg_remove_keys_name(const char *shard_path, char *out, size_t cap);

#endif
