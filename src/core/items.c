/* items.c - allocation and normalisation of a rank's share of items. */
#include "dupgraph/items.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int dg_items_alloc(dg_items *items, int64_t n_total, int64_t lo, int64_t n, int d, int with_images,
                   dg_err *err)
{
    memset(items, 0, sizeof *items);
    items->n_total = n_total;
    items->lo = lo;
    items->n = n;
    items->d = d;
    size_t cells;
    if (n < 0 || d <= 0 || dg_mul_size((size_t)n, (size_t)d, &cells, err) != DG_OK)
        return dg_fail(err, "bad item block: %lld items x %d dims", (long long)n, d);
    items->vec = dg_calloc(cells, sizeof(float), err);
    items->status = dg_calloc((size_t)n, sizeof(int8_t), err);
    if (!items->vec || !items->status)
        goto fail;
    if (with_images) {
        items->width = dg_calloc((size_t)n, sizeof(int32_t), err);
        items->height = dg_calloc((size_t)n, sizeof(int32_t), err);
        items->path = dg_calloc((size_t)n, sizeof(char *), err);
        if (!items->width || !items->height || !items->path)
            goto fail;
    }
    return DG_OK;
fail:
    dg_items_free(items);
    return DG_FAIL;
}

void dg_items_free(dg_items *items)
{
    if (items->path)
        for (int64_t i = 0; i < items->n; i++)
            free(items->path[i]);
    free(items->path);
    free(items->vec);
    free(items->status);
    free(items->width);
    free(items->height);
    free(items->sig);
    memset(items, 0, sizeof *items);
}

int64_t dg_items_normalize(dg_items *items)
{
    int64_t bad = 0;
    for (int64_t i = 0; i < items->n; i++) {
        float *row = items->vec + (size_t)i * (size_t)items->d;
        double ss = 0.0;
        int finite = 1;
        for (int j = 0; j < items->d; j++) {
            if (!isfinite(row[j]))
                finite = 0;
            ss += (double)row[j] * row[j];
        }
        if (!finite || !(ss > 0.0) || !isfinite(ss)) {
            memset(row, 0, sizeof(float) * (size_t)items->d);
            if (dg_status_usable(items->status[i])) {
                items->status[i] = DG_ST_BAD_VECTOR;
                bad++;
            }
            continue;
        }
        double inv = 1.0 / sqrt(ss);
        for (int j = 0; j < items->d; j++)
            row[j] = (float)(row[j] * inv);
    }
    return bad;
}
