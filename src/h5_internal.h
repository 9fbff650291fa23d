/* h5_internal.h - private helpers of the three HDF5 modules (h5_embeddings.c,
 * h5_output.c, h5_read.c): keeping HDF5 from printing its error stack while
 * a dupgraph call runs (failures are reported through dg_err instead), and
 * turning that stack into one line for the reason.  Not part of the public
 * interface; header-only so that no module owns another's helpers.
 */
#ifndef DUPGRAPH_H5_INTERNAL_H
#define DUPGRAPH_H5_INTERNAL_H

#include <hdf5.h>
#include <stdio.h>

/* HDF5's automatic error printing, saved while silenced. */
typedef struct dg_h5_quiet {
    H5E_auto2_t func;
    void *data;
} dg_h5_quiet;

static inline void dg_h5_quiet_begin(dg_h5_quiet *q)
{
    H5Eget_auto2(H5E_DEFAULT, &q->func, &q->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static inline void dg_h5_quiet_end(const dg_h5_quiet *q)
{
    H5Eset_auto2(H5E_DEFAULT, q->func, q->data);
}

typedef struct dg_h5_detail_buf {
    char *text;
    size_t len;
} dg_h5_detail_buf;

static inline herr_t dg_h5_take_innermost(unsigned n, const H5E_error2_t *e, void *data)
{
    dg_h5_detail_buf *b = data;
    if (n == 0 && e->desc)
        snprintf(b->text, b->len, "%s", e->desc);
    return 0;
}

/* The innermost (most specific) message of the current HDF5 error stack,
 * which is then cleared.  Returns text. */
static inline const char *dg_h5_detail(char *text, size_t len)
{
    dg_h5_detail_buf b = {text, len};
    text[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, dg_h5_take_innermost, &b);
    H5Eclear2(H5E_DEFAULT);
    if (text[0] == '\0')
        snprintf(text, len, "no detail from HDF5");
    return text;
}

#endif
