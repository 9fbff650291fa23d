/* xform.h - the benchmark's catalogue of edits (xform.c): each kind at a
 * mild and a strong setting, drawn reproducibly from a seed and a photo. */
#ifndef DUPGRAPH_BENCH_XFORM_H
#define DUPGRAPH_BENCH_XFORM_H

#include <stddef.h>
#include <stdint.h>

#include "dupgraph/common.h"
#include "tools/raster.h"

typedef enum dg_xform_kind {
    DG_XF_RESIZE = 0,
    DG_XF_JPEG,
    DG_XF_CROP,
    DG_XF_HFLIP,
    DG_XF_BRIGHTNESS,
    DG_XF_CONTRAST,
    DG_XF_GAMMA,
    DG_XF_SATURATION,
    DG_XF_GRAYSCALE,
    DG_XF_BLUR,
    DG_XF_BORDER,
    DG_XF_ROTATE,
    DG_XF_TEXT,
    /* added for the held-out quality benchmark (jobs/quality_bench.py); the
     * first 13 are the "classic" set, dg-mkbench's default */
    DG_XF_TINT,
    DG_XF_LETTERBOX,
    DG_XF_LOGO,
    DG_XF_SCREENSHOT,
    DG_XF_ROTCROP,
    DG_XF_OFFCROP,
    DG_XF_LOWQ,
    DG_XF_COMBO,
    DG_XF_COUNT
} dg_xform_kind;

/* The transforms dg-mkbench makes by default (the demo corpus, the tests). */
#define DG_XF_CLASSIC_COUNT (DG_XF_TEXT + 1)

typedef enum dg_strength { DG_MILD = 0, DG_STRONG = 1 } dg_strength;

/* JPEG quality of every saved variant except the `jpeg` transform's. */
#define DG_XFORM_SAVE_QUALITY 90

typedef struct dg_xform {
    dg_xform_kind kind;
    dg_strength strength;
    double amount;     /* the transform's main parameter (scale, fraction, factor, ...) */
    double pos_x;      /* position in [0,1) where one is needed (crop, text band) */
    double pos_y;
    uint8_t color[3];  /* bars / band colour */
    uint8_t ink[3];    /* text colour */
    int quality;       /* JPEG quality the result is saved with */
    int gray_jpeg;     /* save as a one-component JPEG */
    char text[32];
    double amount2;    /* a second parameter (lowq's quality, rotcrop's crop, ...) */
    int coin;          /* a drawn yes/no (letterbox fill, screenshot theme, ...) */
    /* combo: the two transforms applied in order, drawn again at apply time
     * from part_seed (same strength, same photo) */
    dg_xform_kind part[2];
    uint64_t part_seed;
    uint64_t photo;
} dg_xform;

const char *dg_xform_name(dg_xform_kind kind);
const char *dg_strength_name(dg_strength s);
/* Whether the kind has a variant at this strength (hflip has no parameter:
 * it only exists as mild). */
int dg_xform_exists(dg_xform_kind kind, dg_strength s);
/* The kind named `name`, or -1. */
int dg_xform_by_name(const char *name);
/* One line describing what the transform does and its range at strength s,
 * formatted from the same table the parameters are drawn from. */
void dg_xform_doc(dg_xform_kind kind, dg_strength s, char *buf, size_t len);

/* Draws the parameters of (kind, s) for photo `photo` from `seed`: the same
 * arguments always give the same parameters, independent of call order. */
void dg_xform_draw(dg_xform *xf, dg_xform_kind kind, dg_strength s, uint64_t seed, uint64_t photo);
/* The drawn parameters as "name=value;..." (no commas), for truth.csv. */
void dg_xform_params(const dg_xform *xf, char *buf, size_t len);
/* Applies xf to in; out is allocated (the JPEG quality is applied when
 * saving with xf->quality / xf->gray_jpeg, not here). */
int dg_xform_apply(const dg_xform *xf, const dg_image *in, dg_image *out, dg_err *err);

#endif
