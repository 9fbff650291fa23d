/* contradiction_probe.c - dg-verify-pairs' first columns plus, at the
 * verifier's winning placement, the probe's 4 x 4 blocks by class: off the
 * reference, flat on both sides (agreeing, not), textured on the probe only,
 * on the reference only, textured on both (agreeing, not).  It includes
 * verify.c to reach its static functions.
 *   mpicc -O2 -Isrc -Iinclude -Ibuild/include results/experiments/session17/contradiction_probe.c \
 *     build/libdupgraph.a -o /tmp/contradiction_probe $(pkg-config --libs libturbojpeg spng libwebp \
 *     libwebpdemux inih hdf5-openmpi) -lm
 *   /tmp/contradiction_probe MANIFEST PAIRS   # per line: i j score detail c0..c6 */
#include "graph/verify.c"
#include <stdio.h>
#include <stdlib.h>
#include "input/decode.h"
#include "input/descriptor.h"
#include "input/manifest.h"
#include "dupgraph/config.h"

static void classes(const plane *ref, const plane *probe, const placement *pl, int c[8])
{
    affine t = map_of(pl, probe->w, probe->h, 1.0f);
    int bw = probe->w / BLOCK, bh = probe->h / BLOCK;
    int ox = (probe->w - bw * BLOCK) / 2, oy = (probe->h - bh * BLOCK) / 2;
    float rows[BLOCK][SIDE];
    int on[BLOCK][SIDE];
    for (int by = 0; by < bh; by++) {
        int y0 = oy + by * BLOCK;
        for (int j = 0; j < BLOCK; j++)
            row_samples(ref, ref->v, &t, y0 + j, ox, bw * BLOCK, rows[j], on[j]);
        for (int bx = 0; bx < bw; bx++) {
            float p[BLOCK * BLOCK], r[BLOCK * BLOCK];
            int inside = 1, n = 0;
            for (int j = 0; j < BLOCK; j++)
                for (int i = bx * BLOCK; i < (bx + 1) * BLOCK; i++) {
                    inside &= on[j][i];
                    r[n] = rows[j][i];
                    p[n++] = probe->v[(y0 + j) * probe->w + ox + i];
                }
            if (!inside) {
                c[0]++;
                continue;
            }
            float sp = 0, sr = 0, spp = 0, srr = 0, spr = 0;
            for (int i = 0; i < n; i++) {
                sp += p[i];
                sr += r[i];
                spp += p[i] * p[i];
                srr += r[i] * r[i];
                spr += p[i] * r[i];
            }
            float inv = 1.0f / n, mv = TEXTURE_SD * TEXTURE_SD;
            float vp = spp * inv - sp * sp * inv * inv, vr = srr * inv - sr * sr * inv * inv, shift = fabsf(sp - sr) * inv;
            int tp = vp >= mv, tr = vr >= mv;
            if (!tp && !tr) {
                c[shift < FLAT_DIFF ? 1 : 2]++;
                continue;
            }
            if (tp != tr) {
                c[tp ? 3 : 4]++;
                continue;
            }
            float cov = spr * inv - sp * sr * inv * inv;
            c[shift < TEXTURE_DIFF && cov >= MIN_CORR * sqrtf(vp * vr) ? 5 : 6]++;
        }
    }
}

int main(int argc, char **argv)
{
    dg_pathlist paths = {0}; dg_err err;
    if (argc != 3 || dg_manifest_read(argv[1], 0, -1, &paths, &err) != DG_OK) return 2;
    FILE *pf = fopen(argv[2], "r");
    long long a, b;
    long cap = 0, np = 0; long long *P = NULL;
    while (fscanf(pf, "%lld %lld", &a, &b) == 2) {
        if (np == cap) { cap = cap ? 2*cap : 1024; P = realloc(P, cap * 2 * sizeof *P); }
        P[2*np] = a; P[2*np+1] = b; np++;
    }
    uint8_t *sig = calloc((size_t)paths.n + 1, DG_SIG_BYTES);
    char *need = calloc((size_t)paths.n + 1, 1);
    for (long k = 0; k < np; k++) need[P[2*k]] = need[P[2*k+1]] = 1;
    dg_config d; dg_config_defaults(&d);
    dg_decoder dec; dg_decoder_init(&dec, d.max_pixels, DG_DESC_SIZE, &err);
    for (int64_t k = 0; k < paths.n; k++) if (need[k]) { dg_decode_result res; dg_signature_of_file(&dec, paths.path[k], sig + (size_t)k * DG_SIG_BYTES, &res); }
    for (long k = 0; k < np; k++) {
        const uint8_t *sa = sig + (size_t)P[2*k] * DG_SIG_BYTES, *sb = sig + (size_t)P[2*k+1] * DG_SIG_BYTES;
        dg_verify_match m;
        dg_verify_score(sa, sb, &m);
        int c[8] = {0};
        if (m.score >= 0) {
            plane full[2]; load(sa, &full[0]); load(sb, &full[1]);
            placement pl = {m.probe_is_b, m.mirror, m.scale, m.degrees, m.tx, m.ty, 0};
            classes(&full[1 - pl.dir], &full[pl.dir], &pl, c);
        }
        printf("%lld %lld %.6f %.6f %d %d %d %d %d %d %d\n", P[2*k], P[2*k+1], m.score, m.detail_diff, c[0], c[1], c[2], c[3], c[4], c[5], c[6]);
    }
    return 0;
}
