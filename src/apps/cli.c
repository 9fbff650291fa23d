/* cli.c - command-line numbers.  See cli.h. */
#include "apps/cli.h"

#include <errno.h>
#include <stdlib.h>

#include "dupgraph/common.h"

int cli_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return DG_FAIL;
    *out = v;
    return DG_OK;
}

int cli_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-')
        return DG_FAIL;
    *out = v;
    return DG_OK;
}

int cli_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return DG_FAIL;
    *out = v;
    return DG_OK;
}
