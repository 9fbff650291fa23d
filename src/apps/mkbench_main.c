/* mkbench_main.c - dg-mkbench: builds a near-duplicate benchmark corpus from
 * a folder (or manifest) of real JPEG photographs.  A photo is one image, or
 * (manifest "cut=") several distinct images cut from it: tiles of a grid or
 * a panning series of crops sharing at most a quarter of their area with a
 * neighbour; each such image is a group of its own.  For each original it
 * writes the downscaled original and one variant per transform and strength
 * (xform.c), adds further photos alone as distractors, and writes the
 * manifest, the ground truth (truth.csv), the transform documentation
 * (transforms.txt) and the list of source photos (sources.txt).  The list
 * files are written last, each to a temporary name then renamed, so a
 * corpus with a manifest is complete.  No MPI: it is a plain tool. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dupgraph/common.h"
#include "apps/cli.h"
#include "bench/edits.h"
#include "bench/mkbench_photos.h"
#include "bench/xform.h"
#include "tools/raster.h"

#define ORIGINAL_QUALITY 95

typedef struct options {
    const char *photos;
    const char *out;
    uint64_t seed;
    long max_originals; /* < 0: no limit */
    long distractors;
    int max_w, max_h;
    int use[DG_XF_COUNT]; /* the transforms made */
} options;

typedef struct item {
    char path[64];         /* relative to OUTDIR */
    long group;            /* id of the image it derives from */
    long photo;            /* index into the selection */
    const char *transform; /* "original", "distractor" or a transform name */
    const char *strength;  /* "none", "mild" or "strong" */
    char params[320];
    uint64_t order;
} item;

/* One distinct image: a whole photo or a piece cut from it (fractions of
 * the photo's sides). */
typedef struct piece {
    long photo;  /* index into the selection */
    double x0, y0, x1, y1;
    char label[48]; /* "whole", "tile 2/4", "pan 1/3" */
} piece;

typedef struct corpus {
    const options *opt;
    const mk_photos *photos;
    size_t *sel;      /* indices into photos of the selected files */
    long n_orig, n_dist;
    piece *pieces;    /* the groups, originals' pieces first */
    long n_pieces, n_orig_pieces;
    item *items;
    size_t n_items;
    dg_jpeg_codec codec;
} corpus;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: dg-mkbench --photos DIR_OR_MANIFEST --out OUTDIR [--seed S]\n"
            "                  [--max-originals N] [--distractors N] [--size WxH | --size N]\n"
            "                  [--transforms classic|all|NAME,...]\n"
            "Writes OUTDIR/images/gNNNN/*.jpg, manifest.txt, truth.csv, transforms.txt, sources.txt.\n"
            "  --photos         folder of JPEG photos (recursive) or a manifest of paths; a manifest\n"
            "                   line PATH<TAB>cut=tiles:CxR or PATH<TAB>cut=pan:N makes several\n"
            "                   distinct images (groups) of one photo: hard negatives\n"
            "  --seed           seed of the transform parameters and the manifest order (default 1)\n"
            "  --max-originals  photos that get variants (default: all but the distractors)\n"
            "  --distractors    further photos included alone (default 0)\n"
            "  --size           originals are downscaled to fit (default 1024x1024)\n"
            "  --transforms     classic (default: the first 13), all, or a list of names\n");
}

static int parse_size(const char *s, int *w, int *h)
{
    char buf[64];
    long a, b;
    snprintf(buf, sizeof buf, "%s", s);
    char *x = strpbrk(buf, "xX");
    if (x)
        *x = '\0';
    if (cli_long(buf, 16, 65535, &a) != DG_OK)
        return DG_FAIL;
    b = a;
    if (x && cli_long(x + 1, 16, 65535, &b) != DG_OK)
        return DG_FAIL;
    *w = (int)a;
    *h = (int)b;
    return DG_OK;
}

/* "classic", "all" or comma-separated names. */
static int parse_transforms(const char *s, int use[DG_XF_COUNT], dg_err *err)
{
    char buf[512], *save = NULL;
    for (int k = 0; k < DG_XF_COUNT; k++)
        use[k] = !strcmp(s, "all") || (!strcmp(s, "classic") && k < DG_XF_CLASSIC_COUNT);
    if (!strcmp(s, "all") || !strcmp(s, "classic"))
        return DG_OK;
    if (snprintf(buf, sizeof buf, "%s", s) >= (int)sizeof buf)
        return dg_fail(err, "--transforms: list too long");
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int k = dg_xform_by_name(tok);
        if (k < 0)
            return dg_fail(err, "--transforms: unknown transform %s", tok);
        use[k] = 1;
    }
    return DG_OK;
}

/* 0 ok, 1 help shown, -1 bad usage (reason in err). */
static int parse_args(int argc, char **argv, options *opt, dg_err *err)
{
    static const struct option longopts[] = {
        {"photos", required_argument, 0, 'p'}, {"out", required_argument, 0, 'o'},
        {"seed", required_argument, 0, 's'},   {"max-originals", required_argument, 0, 'm'},
        {"distractors", required_argument, 0, 'd'}, {"size", required_argument, 0, 'z'},
        {"transforms", required_argument, 0, 't'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    *opt = (options){.seed = 1, .max_originals = -1, .max_w = 1024, .max_h = 1024};
    parse_transforms("classic", opt->use, err);
    int c;
    long v;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': opt->photos = optarg; break;
        case 'o': opt->out = optarg; break;
        case 's':
            if (cli_u64(optarg, &opt->seed) != DG_OK)
                return dg_fail(err, "--seed: not an unsigned integer: %s", optarg);
            break;
        case 'm':
            if (cli_long(optarg, 0, 1000000, &v) != DG_OK)
                return dg_fail(err, "--max-originals: expected 0..1000000, got %s", optarg);
            opt->max_originals = v;
            break;
        case 'd':
            if (cli_long(optarg, 0, 1000000, &v) != DG_OK)
                return dg_fail(err, "--distractors: expected 0..1000000, got %s", optarg);
            opt->distractors = v;
            break;
        case 'z':
            if (parse_size(optarg, &opt->max_w, &opt->max_h) != DG_OK)
                return dg_fail(err, "--size: expected N or WxH (16..65535), got %s", optarg);
            break;
        case 't':
            if (parse_transforms(optarg, opt->use, err) != DG_OK)
                return DG_FAIL;
            break;
        case 'h': return 1;
        default: return dg_fail(err, "unknown option");
        }
    }
    if (optind < argc)
        return dg_fail(err, "unexpected argument: %s", argv[optind]);
    if (!opt->photos || !opt->out)
        return dg_fail(err, "--photos and --out are required");
    return 0;
}

static int make_dir(const char *path, dg_err *err)
{
    struct stat st;
    if (mkdir(path, 0777) == 0 || (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode)))
        return DG_OK;
    return dg_fail(err, "%s: cannot create folder", path);
}

/* mkdir -p */
static int make_dirs(const char *path, dg_err *err)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return dg_fail(err, "path too long: %s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (make_dir(buf, err) != DG_OK)
                return DG_FAIL;
            *p = '/';
        }
    return make_dir(buf, err);
}

/* Picks the originals and distractors: the kept photos in list order, the
 * first n_orig as originals, the next n_dist as distractors. */
static int select_photos(corpus *cp, dg_err *err)
{
    const mk_photos *ph = cp->photos;
    size_t kept = 0;
    cp->sel = dg_alloc(ph->n, sizeof *cp->sel, err);
    if (!cp->sel)
        return DG_FAIL;
    for (size_t i = 0; i < ph->n; i++)
        if (ph->v[i].kept_as == (int64_t)i)
            cp->sel[kept++] = i;
    long want_dist = cp->opt->distractors;
    if ((size_t)want_dist >= kept)
        return dg_fail(err, "%zu distinct photos: not enough for %ld distractors and one original",
                       kept, want_dist);
    long avail = (long)kept - want_dist;
    cp->n_orig = cp->opt->max_originals >= 0 && cp->opt->max_originals < avail
                     ? cp->opt->max_originals
                     : avail;
    cp->n_dist = want_dist;
    return DG_OK;
}

/* Pieces of a photo from its cut spec: "tiles:CxR" = the cells of a C x R
 * grid, each shrunk by 3% of the cell on every side (no two share a pixel);
 * "pan:N" = N crops side by side, each 0.9 of the height (starting 0, 0.05,
 * 0.1, ... down) and as wide as makes a neighbour overlap a quarter of its
 * width (so neighbours share at most 25% of their area, others nothing). */
static int cut_pieces(const char *spec, const char *path, long photo, piece *out, long *n, dg_err *err)
{
    long c = 1, r = 1, k;
    *n = 0;
    if (!spec[0]) {
        out[(*n)++] = (piece){photo, 0.0, 0.0, 1.0, 1.0, "whole"};
        return DG_OK;
    }
    if (sscanf(spec, "tiles:%ldx%ld", &c, &r) == 2 && c >= 1 && r >= 1 && c * r >= 2 && c * r <= 16) {
        for (long j = 0; j < r; j++)
            for (long i = 0; i < c; i++) {
                piece *p = &out[(*n)++];
                *p = (piece){photo, (i + 0.03) / c, (j + 0.03) / r, (i + 0.97) / c, (j + 0.97) / r, ""};
                snprintf(p->label, sizeof p->label, "tile %d/%d", (int)(j * c + i + 1), (int)(c * r));
            }
        return DG_OK;
    }
    if (sscanf(spec, "pan:%ld", &k) == 1 && k >= 2 && k <= 8) {
        double w = 1.0 / (1.0 + 0.75 * (double)(k - 1));
        for (long i = 0; i < k; i++) {
            piece *p = &out[(*n)++];
            double y0 = 0.05 * (double)(i % 3);
            *p = (piece){photo, 0.75 * w * (double)i, y0, 0.75 * w * (double)i + w, y0 + 0.9, ""};
            snprintf(p->label, sizeof p->label, "pan %d/%d", (int)(i + 1), (int)k);
        }
        return DG_OK;
    }
    return dg_fail(err, "%s: cut=%s: expected tiles:CxR (2 to 16 tiles) or pan:N (N 2..8)", path, spec);
}

/* Every selected photo's pieces, the originals' first: the groups. */
static int make_pieces(corpus *cp, dg_err *err)
{
    long n_sel = cp->n_orig + cp->n_dist;
    cp->pieces = dg_alloc((size_t)n_sel * 16, sizeof *cp->pieces, err);
    if (!cp->pieces)
        return DG_FAIL;
    for (long f = 0; f < n_sel; f++) {
        const mk_photo *ph = &cp->photos->v[cp->sel[f]];
        long n;
        if (cut_pieces(ph->cut, ph->path, f, cp->pieces + cp->n_pieces, &n, err) != DG_OK)
            return DG_FAIL;
        cp->n_pieces += n;
        if (f < cp->n_orig)
            cp->n_orig_pieces = cp->n_pieces;
    }
    return DG_OK;
}

static uint64_t hash_str(const char *s, uint64_t seed)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
    return dg_mix64(h ^ dg_mix64(seed));
}

static item *new_item(corpus *cp, long g, const char *file, const char *transform,
                      const char *strength)
{
    item *it = &cp->items[cp->n_items++];
    memset(it, 0, sizeof *it);
    snprintf(it->path, sizeof it->path, "images/g%04ld/%s.jpg", g, file);
    it->group = g;
    it->photo = cp->pieces[g].photo;
    it->transform = transform;
    it->strength = strength;
    it->order = hash_str(it->path, cp->opt->seed);
    return it;
}

static int save_item(corpus *cp, const item *it, const dg_image *im, int quality, int gray,
                     dg_err *err)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", cp->opt->out, it->path) >= (int)sizeof path)
        return dg_fail(err, "path too long under %s", cp->opt->out);
    return dg_jpeg_save(&cp->codec, im, quality, gray, path, err);
}

static int make_variant(corpus *cp, long g, const dg_image *orig, dg_xform_kind k, dg_strength s,
                        dg_err *err)
{
    dg_xform xf;
    dg_image out;
    char file[48];
    dg_xform_draw(&xf, k, s, cp->opt->seed, (uint64_t)g);
    if (dg_xform_apply(&xf, orig, &out, err) != DG_OK)
        return DG_FAIL;
    snprintf(file, sizeof file, "%s_%s", dg_xform_name(k), dg_strength_name(s));
    item *it = new_item(cp, g, file, dg_xform_name(k), dg_strength_name(s));
    dg_xform_params(&xf, it->params, sizeof it->params);
    int rc = save_item(cp, it, &out, xf.quality, xf.gray_jpeg, err);
    dg_image_free(&out);
    return rc;
}

static int load_whole(corpus *cp, const char *path, dg_image *out, dg_err *err)
{
    return dg_jpeg_load(&cp->codec, path, cp->opt->max_w, cp->opt->max_h, out, err);
}

/* A piece: decoded large enough that the piece alone still fills the
 * --size box, cut out, then fitted into the box. */
static int load_piece(corpus *cp, const piece *pc, const char *path, dg_image *out, dg_err *err)
{
    double fw = pc->x1 - pc->x0, fh = pc->y1 - pc->y0;
    dg_image full = {0}, cut = {0};
    int rc = dg_jpeg_load(&cp->codec, path, (int)ceil(cp->opt->max_w / fw), (int)ceil(cp->opt->max_h / fh),
                          &full, err);
    if (rc == DG_OK) {
        int x = (int)floor(pc->x0 * full.w), y = (int)floor(pc->y0 * full.h);
        int w = (int)floor(pc->x1 * full.w) - x, h = (int)floor(pc->y1 * full.h) - y;
        rc = dg_img_crop(&full, x, y, w < 1 ? 1 : w, h < 1 ? 1 : h, &cut, err);
    }
    int w, h;
    if (rc == DG_OK) {
        dg_fit_size(cut.w, cut.h, cp->opt->max_w, cp->opt->max_h, &w, &h);
        rc = dg_image_resize(&cut, w, h, out, err);
    }
    dg_image_free(&full);
    dg_image_free(&cut);
    return rc;
}

static int make_group(corpus *cp, long g, dg_err *err)
{
    const piece *pc = &cp->pieces[g];
    const mk_photo *p = &cp->photos->v[cp->sel[pc->photo]];
    int whole = !strcmp(pc->label, "whole");
    char dir[4096];
    dg_image orig;
    snprintf(dir, sizeof dir, "%s/images/g%04ld", cp->opt->out, g);
    if (make_dir(dir, err) != DG_OK)
        return DG_FAIL;
    if ((whole ? load_whole(cp, p->path, &orig, err) : load_piece(cp, pc, p->path, &orig, err)) != DG_OK)
        return DG_FAIL;
    int is_orig = g < cp->n_orig_pieces;
    item *it = new_item(cp, g, "original", is_orig ? "original" : "distractor", "none");
    if (whole)
        snprintf(it->params, sizeof it->params, "size=%dx%d", orig.w, orig.h);
    else
        snprintf(it->params, sizeof it->params, "size=%dx%d;piece=%s;box=%.3f:%.3f:%.3f:%.3f", orig.w, orig.h,
                 pc->label, pc->x0, pc->y0, pc->x1, pc->y1);
    int rc = save_item(cp, it, &orig, ORIGINAL_QUALITY, 0, err);
    for (int k = 0; is_orig && rc == DG_OK && k < DG_XF_COUNT; k++)
        for (int s = DG_MILD; rc == DG_OK && s <= DG_STRONG; s++)
            if (cp->opt->use[k] && dg_xform_exists((dg_xform_kind)k, (dg_strength)s))
                rc = make_variant(cp, g, &orig, (dg_xform_kind)k, (dg_strength)s, err);
    dg_image_free(&orig);
    return rc;
}

static size_t variants_per_original(const options *opt)
{
    size_t n = 0;
    for (int k = 0; k < DG_XF_COUNT; k++)
        for (int s = DG_MILD; s <= DG_STRONG; s++)
            n += (size_t)(opt->use[k] && dg_xform_exists((dg_xform_kind)k, (dg_strength)s));
    return n;
}

static int cmp_item(const void *a, const void *b)
{
    const item *x = a, *y = b;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return strcmp(x->path, y->path);
}

/* Opens OUTDIR/name.tmp; close_list renames it to OUTDIR/name. */
static FILE *open_list(const corpus *cp, const char *name, char *tmp, size_t len, dg_err *err)
{
    snprintf(tmp, len, "%s/%s.tmp", cp->opt->out, name);
    FILE *f = fopen(tmp, "w");
    if (!f)
        dg_fail(err, "%s: cannot write", tmp);
    return f;
}

static int close_list(const corpus *cp, FILE *f, const char *tmp, const char *name, dg_err *err)
{
    char final[4096];
    snprintf(final, sizeof final, "%s/%s", cp->opt->out, name);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, final) != 0)
        return dg_fail(err, "%s: write failed", final);
    return DG_OK;
}

/* A CSV field, quoted when it holds a comma, quote or line break. */
static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static int write_manifest_and_truth(const corpus *cp, dg_err *err)
{
    char tmp_m[4096], tmp_t[4096];
    FILE *m = open_list(cp, "manifest.txt", tmp_m, sizeof tmp_m, err);
    FILE *t = m ? open_list(cp, "truth.csv", tmp_t, sizeof tmp_t, err) : NULL;
    if (!t) {
        if (m)
            fclose(m);
        return DG_FAIL;
    }
    fputs("path,group,original,transform,strength,params\n", t);
    for (size_t i = 0; i < cp->n_items; i++) {
        const item *it = &cp->items[i];
        fprintf(m, "%s\n", it->path);
        fprintf(t, "%s,%ld,", it->path, it->group);
        csv_field(t, cp->photos->v[cp->sel[it->photo]].path);
        fprintf(t, ",%s,%s,%s\n", it->transform, it->strength, it->params);
    }
    if (close_list(cp, m, tmp_m, "manifest.txt", err) != DG_OK) {
        fclose(t);
        return DG_FAIL;
    }
    return close_list(cp, t, tmp_t, "truth.csv", err);
}

static void write_transform_docs(const corpus *cp, FILE *f)
{
    const options *o = cp->opt;
    char doc[512];
    fprintf(f,
            "dg-mkbench corpus\n"
            "seed %" PRIu64 "; originals downscaled on load to fit %dx%d (never enlarged)\n"
            "%ld originals x (1 + %zu variants) + %ld distractors = %zu items (%ld + %ld photos)\n\n"
            "Items: images/gNNNN/original.jpg is photo NNNN downscaled (JPEG quality %d); for an\n"
            "original (not a distractor) images/gNNNN/<transform>_<strength>.jpg are made from that\n"
            "downscaled image, one transform each, saved at quality %d unless the transform is jpeg.\n"
            "truth.csv: path,group,original,transform,strength,params - group = id NNNN of the photo\n"
            "an item derives from; original = the source photo file; transform = original |\n"
            "distractor | a name below; strength = none | mild | strong; params = drawn values.\n"
            "manifest.txt lists the same items in the same order, shuffled by the seed.\n\n"
            "Pieces (hard negatives): a photo listed with cut=tiles:CxR gives the C x R cells of a grid,\n"
            "each shrunk by 3%% of the cell on every side, so no two share a pixel; cut=pan:N gives N\n"
            "crops side by side (a panning burst), each 0.9 of the height and overlapping a neighbour by a\n"
            "quarter of its width, so two pieces share at most 25%% of their area. Each piece is a group\n"
            "of its own (its original's params say piece= and box=): pieces of one photo are different\n"
            "images. Rule: images made from one photo are duplicates only when one derives from the\n"
            "other by a transform below; pieces sharing at most a third of their area are not.\n\n"
            "Duplicate-photo rule (sources.txt): files whose name, without extension and without a\n"
            "trailing resolution (_3840x2160), is the same are one photo; a name that is empty or\n"
            "generic (screenshot, preview, thumbnail) stands for its nearest folder name that is not\n"
            "a layout folder (contents, images*, a resolution), so one wallpaper's resolutions and\n"
            "light/dark versions are one photo. Only the largest file of each photo is used.\n\n"
            "Transforms (mild = the gentler end of each range; parameters drawn per photo):\n",
            o->seed, o->max_w, o->max_h, cp->n_orig_pieces, variants_per_original(o),
            cp->n_pieces - cp->n_orig_pieces, cp->n_items, cp->n_orig, cp->n_dist, ORIGINAL_QUALITY,
            DG_XFORM_SAVE_QUALITY);
    for (int k = 0; k < DG_XF_COUNT; k++) {
        if (!o->use[k])
            continue;
        fprintf(f, "%s\n", dg_xform_name((dg_xform_kind)k));
        for (int s = DG_MILD; s <= DG_STRONG; s++) {
            if (!dg_xform_exists((dg_xform_kind)k, (dg_strength)s))
                continue;
            dg_xform_doc((dg_xform_kind)k, (dg_strength)s, doc, sizeof doc);
            fprintf(f, "  %-6s %s\n", dg_strength_name((dg_strength)s), doc);
        }
    }
}

static void write_sources(const corpus *cp, FILE *f)
{
    const mk_photos *ph = cp->photos;
    fputs("# group\trole\tsource photo\tpiece (then: files left out and why)\n", f);
    for (long g = 0; g < cp->n_pieces; g++)
        fprintf(f, "g%04ld\t%s\t%s\t%s\n", g, g < cp->n_orig_pieces ? "original" : "distractor",
                ph->v[cp->sel[cp->pieces[g].photo]].path, cp->pieces[g].label);
    for (size_t i = 0; i < ph->n; i++) {
        const mk_photo *p = &ph->v[i];
        if (p->unreadable)
            fprintf(f, "-\tunreadable\t%s\n", p->path);
        else if (p->kept_as != (int64_t)i)
            fprintf(f, "-\tsame photo as %s\t%s\n", ph->v[p->kept_as].path, p->path);
    }
}

static int write_docs(const corpus *cp, dg_err *err)
{
    char tmp[4096];
    FILE *f = open_list(cp, "transforms.txt", tmp, sizeof tmp, err);
    if (!f)
        return DG_FAIL;
    write_transform_docs(cp, f);
    if (close_list(cp, f, tmp, "transforms.txt", err) != DG_OK)
        return DG_FAIL;
    f = open_list(cp, "sources.txt", tmp, sizeof tmp, err);
    if (!f)
        return DG_FAIL;
    write_sources(cp, f);
    return close_list(cp, f, tmp, "sources.txt", err);
}

static int build(corpus *cp, dg_err *err)
{
    char dir[4096];
    if (make_pieces(cp, err) != DG_OK)
        return DG_FAIL;
    size_t n = (size_t)cp->n_orig_pieces * (1 + variants_per_original(cp->opt)) +
               (size_t)(cp->n_pieces - cp->n_orig_pieces);
    cp->items = dg_alloc(n, sizeof *cp->items, err);
    if (!cp->items)
        return DG_FAIL;
    snprintf(dir, sizeof dir, "%s/images", cp->opt->out);
    if (make_dirs(dir, err) != DG_OK)
        return DG_FAIL;
    for (long g = 0; g < cp->n_pieces; g++)
        if (make_group(cp, g, err) != DG_OK)
            return DG_FAIL;
    qsort(cp->items, cp->n_items, sizeof *cp->items, cmp_item);
    if (write_manifest_and_truth(cp, err) != DG_OK)
        return DG_FAIL;
    return write_docs(cp, err);
}

static int run(const options *opt, dg_err *err)
{
    mk_photos photos;
    corpus cp = {.opt = opt, .photos = &photos};
    double t0 = dg_now();
    if (dg_jpeg_codec_init(&cp.codec, err) != DG_OK)
        return DG_FAIL;
    int rc = mk_photos_list(opt->photos, &photos, err);
    if (rc == DG_OK)
        rc = mk_photos_dedupe(&photos, &cp.codec, stderr, err);
    if (rc == DG_OK)
        rc = select_photos(&cp, err);
    if (rc == DG_OK)
        rc = build(&cp, err);
    if (rc == DG_OK)
        printf("dg-mkbench: %zu items (%ld originals x %zu + %ld distractors, from %ld + %ld photos) from "
               "%zu files in %s (%.1f s)\n",
               cp.n_items, cp.n_orig_pieces, 1 + variants_per_original(opt), cp.n_pieces - cp.n_orig_pieces,
               cp.n_orig, cp.n_dist, photos.n, opt->out, dg_now() - t0);
    free(cp.items);
    free(cp.pieces);
    free(cp.sel);
    mk_photos_free(&photos);
    dg_jpeg_codec_free(&cp.codec);
    return rc;
}

int main(int argc, char **argv)
{
    options opt;
    dg_err err = {0};
    int pa = parse_args(argc, argv, &opt, &err);
    if (pa != 0) {
        if (pa < 0)
            fprintf(stderr, "dg-mkbench: %s\n", err.msg);
        usage(pa < 0 ? stderr : stdout);
        return pa < 0 ? 2 : 0;
    }
    if (run(&opt, &err) != DG_OK) {
        fprintf(stderr, "dg-mkbench: %s\n", err.msg);
        return 1;
    }
    return 0;
}
