/* info.h - `dupgraph info`: a human summary of an output file (info.c). */
#ifndef DUPGRAPH_TOOLS_INFO_H
#define DUPGRAPH_TOOLS_INFO_H

#include <stdio.h>

#include "dupgraph/common.h"

/* Prints the size, format, counts, search settings, stage times and status
 * counts of the output file at path to out.  Fails (DG_E_INPUT) on a file
 * that is not a readable dupgraph output of a format this program reads. */
int dg_info_print(const char *path, FILE *out, dg_err *err);

#endif
