/* cli.h - parsing the numbers of the programs' command lines (dupgraph,
 * dg-mkbench, dg-embed-bench): whole strings only, ranges checked.  Not part
 * of the library. */
#ifndef DUPGRAPH_APPS_CLI_H
#define DUPGRAPH_APPS_CLI_H

#include <stdint.h>

/* A decimal integer in [lo, hi]: DG_OK and *out set, else DG_FAIL and *out
 * unchanged (the caller words the message: it knows the option). */
int cli_long(const char *s, long lo, long hi, long *out);
/* A non-negative integer (decimal, 0x hex or 0 octal) of 64 bits. */
int cli_u64(const char *s, uint64_t *out);
/* A finite decimal number in [lo, hi]. */
int cli_double(const char *s, double lo, double hi, double *out);

#endif
