/* signature.c - the verification signature of one decoded image (see
 * signature.h): the content box the descriptor describes (borders and frame
 * left out; the caller computes it once, dg_content_box), area-averaged to
 * a thumbnail (a watermark box in it filled in from its surroundings,
 * overlay.h) whose longer side is DG_SIG_SIDE, its luminance replaced by
 * its rank (so brightness, contrast, gamma and grayscale conversion change
 * it little).  Pure function of the pixels and box: the same bytes for any
 * rank count. */
#include "input/signature.h"

#include <string.h>

#include "input/descriptor.h"
#include "input/overlay.h"

/* Overlap of pixel [p, p+1) with [a, b). */
static inline double overlap(int p, double a, double b)
{
    double lo = p > a ? p : a, hi = p + 1 < b ? p + 1 : b;
    return hi - lo;
}

/* Area average of box's Rec.601 luminance (0..255) into a tw x th plane. */
static void thumbnail(const dg_pixels *img, const int box[4], int tw, int th, float *out)
{
    int bw = box[2] - box[0], bh = box[3] - box[1];
    double sx = (double)bw / tw, sy = (double)bh / th;
    for (int i = 0; i < th; i++) {
        double ya = i * sy, yb = (i + 1) * sy;
        for (int j = 0; j < tw; j++) {
            double xa = j * sx, xb = (j + 1) * sx, acc = 0.0;
            for (int y = (int)ya; y < yb && y < bh; y++) {
                double wy = overlap(y, ya, yb);
                const unsigned char *row = img->rgb + ((size_t)(box[1] + y) * (size_t)img->w + (size_t)box[0]) * 3;
                for (int x = (int)xa; x < xb && x < bw; x++) {
                    const unsigned char *p = row + (size_t)x * 3;
                    acc += wy * overlap(x, xa, xb) * (0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]);
                }
            }
            out[i * tw + j] = (float)(acc / (sx * sy));
        }
    }
}

/* Each value to its mid-rank scaled to 0..255 (equal values share it). */
static void equalise(const float *v, int n, uint8_t *out)
{
    int hist[256] = {0};
    uint8_t q[DG_SIG_SIDE * DG_SIG_SIDE];
    for (int i = 0; i < n; i++) {
        int b = (int)(v[i] + 0.5f);
        q[i] = (uint8_t)(b < 0 ? 0 : b > 255 ? 255 : b);
        hist[q[i]]++;
    }
    uint8_t level[256];
    int below = 0;
    for (int b = 0; b < 256; b++) {
        double mid = below + 0.5 * hist[b];
        level[b] = (uint8_t)(255.0 * mid / n + 0.5);
        below += hist[b];
    }
    for (int i = 0; i < n; i++)
        out[i] = level[q[i]];
}

void dg_signature_make(const dg_pixels *img, const int box[DG_BOX_LEN], uint8_t *sig)
{
    memset(sig, 0, DG_SIG_BYTES);
    int bw = box[2] - box[0], bh = box[3] - box[1];
    if (bw < 1 || bh < 1)
        return;
    int tw = DG_SIG_SIDE, th = DG_SIG_SIDE;
    if (bw >= bh)
        th = (int)((double)DG_SIG_SIDE * bh / bw + 0.5);
    else
        tw = (int)((double)DG_SIG_SIDE * bw / bh + 0.5);
    tw = tw < DG_SIG_MIN_SIDE ? DG_SIG_MIN_SIDE : tw;
    th = th < DG_SIG_MIN_SIDE ? DG_SIG_MIN_SIDE : th;
    float lum[DG_SIG_SIDE * DG_SIG_SIDE];
    uint8_t eq[DG_SIG_SIDE * DG_SIG_SIDE];
    thumbnail(img, box, tw, th, lum);
    if (dg_box_has_overlay(box)) {
        int cells[4];
        dg_overlay_cells(box, box + 4, tw, th, cells);
        dg_overlay_fill(lum, tw, th, cells);
    }
    equalise(lum, tw * th, eq);
    sig[0] = DG_SIG_VERSION;
    sig[1] = (uint8_t)tw;
    sig[2] = (uint8_t)th;
    uint8_t *px = sig + DG_SIG_HEADER;
    for (int i = 0; i < th; i++)
        memcpy(px + i * DG_SIG_SIDE, eq + i * tw, (size_t)tw);
}
