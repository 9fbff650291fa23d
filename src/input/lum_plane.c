/* lum_plane.c - see lum_plane.h. */
#include "input/lum_plane.h"

#include <stdlib.h>

#include "dupgraph/common.h"

int dg_lum_plane_init(dg_lum_plane *p, const dg_pixels *img)
{
    size_t n = (size_t)img->w * (size_t)img->h;
    p->w = img->w;
    p->h = img->h;
    p->v = malloc((n ? n : 1) * sizeof *p->v);
    if (!p->v)
        return DG_FAIL;
    /* each channel's products, looked up: the same doubles, summed in the same order */
    double r[256], g[256], b[256];
    for (int v = 0; v < 256; v++) {
        r[v] = 0.299 * v;
        g[v] = 0.587 * v;
        b[v] = 0.114 * v;
    }
    for (size_t i = 0; i < n; i++) {
        const unsigned char *px = img->rgb + 3 * i;
        p->v[i] = r[px[0]] + g[px[1]] + b[px[2]];
    }
    return DG_OK;
}

void dg_lum_plane_free(dg_lum_plane *p)
{
    free(p->v);
    p->v = NULL;
}
