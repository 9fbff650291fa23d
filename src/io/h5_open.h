/* h5_open.h - private helpers of the HDF5 modules (input/embeddings.c,
 * input/mobilenet.c and the io/ modules): keeping HDF5 from printing its
 * error stack while a dupgraph call runs (failures are reported through
 * dg_err instead), turning that stack into one line for the reason, and the
 * shape checks on attributes and datasets every reader makes.  Not part of
 * the public interface; header-only so that no module owns another's
 * helpers.
 */
#ifndef DUPGRAPH_H5_INTERNAL_H
#define DUPGRAPH_H5_INTERNAL_H

#include <hdf5.h>

#include "dupgraph/common.h"
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

/* Opens attribute `name` of obj when it holds exactly one element (a
 * scalar, or of shape (1)); -1 when it is absent or of any other shape,
 * which would overflow the caller's single value when read. */
static inline hid_t dg_h5_open_scalar_attr(hid_t obj, const char *name)
{
    if (H5Aexists(obj, name) <= 0)
        return -1;
    hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t space = attr < 0 ? -1 : H5Aget_space(attr);
    hssize_t n = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
    if (space >= 0)
        H5Sclose(space);
    if (attr >= 0 && n != 1) {
        H5Aclose(attr);
        return -1;
    }
    return attr;
}

/* Whether every element of an open dataset is stored in the file.  Output
 * files are written whole, so a dataset with elements but without (all of)
 * its storage claims a size it does not hold: a damaged or hostile file,
 * whose claimed billions of rows a reader must not walk through. */
static inline int dg_h5_fully_stored(hid_t dset)
{
    hid_t space = H5Dget_space(dset);
    hssize_t n = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
    if (space >= 0)
        H5Sclose(space);
    H5D_space_status_t status;
    return n == 0 || (n > 0 && H5Dget_space_status(dset, &status) >= 0 && status == H5D_SPACE_STATUS_ALLOCATED);
}

#endif
