/* h5_read.h - serial readers of a whole output file: its edges (compare,
 * tests) and a printed summary (`dupgraph info`) (h5_read.c). */
#ifndef DUPGRAPH_IO_H5_READ_H
#define DUPGRAPH_IO_H5_READ_H

#include "dupgraph/common.h"
#include "search/edges.h"

/* Serial readers for `compare`, `info` and tests. */
int dg_h5_read_edges(const char *path, dg_edges *edges, dg_err *err);
/* Prints a human summary of an output file to stdout. */
int dg_h5_print_info(const char *path, dg_err *err);

#endif
