/* decode_bench_main.c - dg-decode-bench: the job's decoder (input/decode.h)
 * beside each image library's own decode of the same bytes, per format, in
 * one process and one thread.
 *
 * Real photos (a folder or manifest of JPEGs, deduplicated as dg-mkbench
 * does) are fitted into S x S for each --sizes S and saved again in memory
 * by our own code (bench/recode.c) as JPEG, PNG, lossless WebP and lossy
 * WebP.  For each size and format, every pass decodes all of them:
 *   ours         dg_decode_memory with min_side = --min-side (the embedder's
 *                size): format by magic bytes, checks, DCT-scaled JPEG or
 *                PNG/WebP reduced to the same size, alpha over white;
 *   library      the library's plain full-size decode to RGB (tjDecompress2,
 *                spng_decode_image, WebPDecodeRGBInto; bench/decode_ref.c);
 *   library_scaled  (JPEG) tjDecompress2 at the DCT scale ours uses.
 * Before timing, one untimed pass checks that every decoder accepts every
 * image and that the sizes agree (stored size; ours = library_scaled).
 * Rates are images (and stored megapixels) per second of thread CPU time,
 * the median of --repeat passes (each over the images enough times to last
 * MIN_PASS_SECONDS): per core, and steady when other processes share the
 * cores.  It owns no library code; it only times it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "apps/cli.h"
#include "bench/decode_ref.h"
#include "bench/mkbench_photos.h"
#include "bench/recode.h"
#include "input/decode.h"
#include "input/descriptor.h"

#define MAX_SIZES 8
/* A timed pass goes over the images as many times as it takes the fastest
 * decoder this much CPU time, so that short passes (small JPEGs) are not
 * lost in the clock's and the scheduler's noise. */
#define MIN_PASS_SECONDS 0.2

typedef struct options {
    const char *photos;
    long max_photos;
    long sizes[MAX_SIZES];
    int n_sizes;
    long min_side;
    long repeat;
    const char *json;
    const char *command;
} options;

enum { PATH_OURS, PATH_LIBRARY, PATH_LIBRARY_SCALED, PATH_COUNT };
static const char *const PATH_NAME[PATH_COUNT] = {"ours", "library", "library_scaled"};

/* One encoded image and the sizes the first, untimed pass found. */
typedef struct sample {
    uint8_t *buf;
    size_t len;
    int w, h;   /* stored */
    int ow, oh; /* ours: the embedder's pixels */
} sample;

/* One size and format: its images and the median pass of each path. */
typedef struct bench_case {
    long size;
    dg_recode_format fmt;
    sample *s;
    int n;
    double bytes, pixels;            /* totals over the images */
    int loops;                       /* times a pass goes over the images */
    double cpu[PATH_COUNT], wall[PATH_COUNT]; /* median seconds per pass; 0: path not run */
} bench_case;

typedef struct bench {
    const options *opt;
    dg_decoder dec;
    dg_ref_decoder ref;
    dg_jpeg_codec codec;
    bench_case *cases;
    int n_cases;
    int n_photos;
} bench;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: dg-decode-bench [--photos DIR|MANIFEST] [--max-photos N] [--sizes S,S..] [--min-side M]\n"
            "                       [--repeat R] [--json FILE] [--command TEXT]\n"
            "Times the job's decoder against libjpeg-turbo's, libspng's and libwebp's own decode of the\n"
            "same photos saved as JPEG, PNG, lossless and lossy WebP, in memory, on one core.\n"
            "  --photos      JPEG photos: a folder (recursive) or a manifest (default /usr/share/backgrounds)\n"
            "  --max-photos  at most this many distinct photos, in path order (default 24)\n"
            "  --sizes       longer side of the saved copies (default 512,1024)\n"
            "  --min-side    the embedder's size: ours decodes to both sides >= this (default %d)\n"
            "  --repeat      passes per decoder; the median is reported (default 5)\n"
            "  --json        also write the figures to FILE\n"
            "  --command     the command line recorded in the JSON (the wrapper's)\n",
            DG_DESC_SIZE);
}

static int parse_sizes(const char *s, options *opt, dg_err *err)
{
    char buf[256];
    if (snprintf(buf, sizeof buf, "%s", s) >= (int)sizeof buf)
        return dg_fail(err, "--sizes: too long");
    opt->n_sizes = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (opt->n_sizes == MAX_SIZES || cli_long(tok, 16, 8192, &opt->sizes[opt->n_sizes]) != DG_OK)
            return dg_fail(err, "--sizes: expected up to %d sizes of 16..8192, got %s", MAX_SIZES, s);
        opt->n_sizes++;
    }
    if (opt->n_sizes == 0)
        return dg_fail(err, "--sizes: no size in %s", s);
    return DG_OK;
}

/* 0 ok, 1 help shown, -1 bad usage (reason in err). */
static int parse_args(int argc, char **argv, options *opt, dg_err *err)
{
    static const struct option longopts[] = {
        {"photos", required_argument, 0, 'p'},   {"max-photos", required_argument, 0, 'n'},
        {"sizes", required_argument, 0, 's'},    {"min-side", required_argument, 0, 'm'},
        {"repeat", required_argument, 0, 'r'},   {"json", required_argument, 0, 'J'},
        {"command", required_argument, 0, 'C'},  {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    *opt = (options){.photos = "/usr/share/backgrounds", .max_photos = 24, .sizes = {512, 1024}, .n_sizes = 2,
                     .min_side = DG_DESC_SIZE, .repeat = 5};
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': opt->photos = optarg; break;
        case 'n':
            if (cli_long(optarg, 1, 100000, &opt->max_photos) != DG_OK)
                return dg_fail(err, "--max-photos: expected 1..100000, got %s", optarg);
            break;
        case 's':
            if (parse_sizes(optarg, opt, err) != DG_OK)
                return -1;
            break;
        case 'm':
            if (cli_long(optarg, 1, 4096, &opt->min_side) != DG_OK)
                return dg_fail(err, "--min-side: expected 1..4096, got %s", optarg);
            break;
        case 'r':
            if (cli_long(optarg, 1, 1000, &opt->repeat) != DG_OK)
                return dg_fail(err, "--repeat: expected 1..1000, got %s", optarg);
            break;
        case 'J': opt->json = optarg; break;
        case 'C': opt->command = optarg; break;
        case 'h': return 1;
        default: return dg_fail(err, "unknown option");
        }
    }
    if (optind < argc)
        return dg_fail(err, "unexpected argument: %s", argv[optind]);
    return 0;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- the corpus ----------------------------------------------------------- */

/* Every (size, format) case filled with the photos fitted into size x size
 * and saved in that format. */
static int add_photo(bench *b, const char *path, dg_err *err)
{
    for (int si = 0; si < b->opt->n_sizes; si++) {
        long size = b->opt->sizes[si];
        dg_image im;
        if (dg_jpeg_load(&b->codec, path, (int)size, (int)size, &im, err) != DG_OK)
            return DG_FAIL;
        int rc = DG_OK;
        for (int f = 0; rc == DG_OK && f < DG_RECODE_COUNT; f++) {
            bench_case *c = &b->cases[si * DG_RECODE_COUNT + f];
            sample *s = &c->s[c->n];
            rc = dg_recode(&b->codec, &im, (dg_recode_format)f, &s->buf, &s->len, err);
            if (rc == DG_OK) {
                c->n++;
                c->bytes += (double)s->len;
                c->pixels += (double)im.w * im.h;
            }
        }
        dg_image_free(&im);
        if (rc != DG_OK)
            return DG_FAIL;
    }
    return DG_OK;
}

static int make_corpus(bench *b, dg_err *err)
{
    mk_photos ph = {0};
    int rc = mk_photos_list(b->opt->photos, &ph, err);
    if (rc == DG_OK)
        rc = mk_photos_dedupe(&ph, &b->codec, stderr, err);
    size_t n = 0;
    for (size_t i = 0; rc == DG_OK && i < ph.n; i++)
        n += ph.v[i].kept_as == (int64_t)i;
    if (n > (size_t)b->opt->max_photos)
        n = (size_t)b->opt->max_photos;
    b->n_cases = b->opt->n_sizes * DG_RECODE_COUNT;
    b->cases = rc == DG_OK ? dg_calloc((size_t)b->n_cases, sizeof *b->cases, err) : NULL;
    for (int k = 0; b->cases && k < b->n_cases; k++) {
        b->cases[k].size = b->opt->sizes[k / DG_RECODE_COUNT];
        b->cases[k].fmt = (dg_recode_format)(k % DG_RECODE_COUNT);
        if (!(b->cases[k].s = dg_calloc(n, sizeof *b->cases[k].s, err)))
            rc = DG_FAIL;
    }
    if (!b->cases)
        rc = DG_FAIL;
    for (size_t i = 0; rc == DG_OK && i < ph.n && (size_t)b->n_photos < n; i++) {
        if (ph.v[i].kept_as != (int64_t)i)
            continue;
        rc = add_photo(b, ph.v[i].path, err);
        b->n_photos++;
    }
    mk_photos_free(&ph);
    return rc;
}

/* ---- decoding ------------------------------------------------------------- */

/* One decode of s by `path`; the decoded size to *w, *h. */
static int decode_one(bench *b, int path, dg_recode_format fmt, const sample *s, int *w, int *h, dg_err *err)
{
    if (path == PATH_OURS) {
        dg_decode_result res;
        dg_decode_memory(&b->dec, s->buf, s->len, &res);
        if (res.status != DG_ST_OK)
            return dg_fail(err, "ours: %s (%s)", dg_status_name(res.status), res.msg);
        *w = res.image.w;
        *h = res.image.h;
        return DG_OK;
    }
    if (fmt == DG_RECODE_JPEG)
        return dg_ref_jpeg(&b->ref, s->buf, s->len, path == PATH_LIBRARY_SCALED ? s->ow : 0,
                           path == PATH_LIBRARY_SCALED ? s->oh : 0, w, h, err);
    if (fmt == DG_RECODE_PNG)
        return dg_ref_png(&b->ref, s->buf, s->len, w, h, err);
    return dg_ref_webp(&b->ref, s->buf, s->len, w, h, err);
}

static int runs(int path, dg_recode_format fmt)
{
    return path != PATH_LIBRARY_SCALED || fmt == DG_RECODE_JPEG;
}

/* The untimed pass: every decoder reads every image, and the sizes agree;
 * its CPU time sets the loops of the timed passes. */
static int check_case(bench *b, bench_case *c, dg_err *err)
{
    double c0 = cpu_now();
    for (int i = 0; i < c->n; i++) {
        sample *s = &c->s[i];
        int w = 0, h = 0;
        dg_decode_result res;
        dg_decode_memory(&b->dec, s->buf, s->len, &res);
        if (res.status != DG_ST_OK)
            return dg_fail(err, "%s %ld, image %d: ours: %s (%s)", dg_recode_name(c->fmt), c->size, i,
                           dg_status_name(res.status), res.msg);
        s->w = res.width;
        s->h = res.height;
        s->ow = res.image.w;
        s->oh = res.image.h;
        for (int p = PATH_LIBRARY; p < PATH_COUNT; p++) {
            if (!runs(p, c->fmt))
                continue;
            if (decode_one(b, p, c->fmt, s, &w, &h, err) != DG_OK)
                return dg_fail(err, "%s %ld, image %d: %s", dg_recode_name(c->fmt), c->size, i, err->msg);
            int want_w = p == PATH_LIBRARY ? s->w : s->ow, want_h = p == PATH_LIBRARY ? s->h : s->oh;
            if (w != want_w || h != want_h)
                return dg_fail(err, "%s %ld, image %d: %s decoded %d x %d, expected %d x %d", dg_recode_name(c->fmt),
                               c->size, i, PATH_NAME[p], w, h, want_w, want_h);
        }
    }
    /* the fastest path costs at least a third of the pass */
    double third = (cpu_now() - c0) / 3;
    c->loops = third > 0 ? (int)(MIN_PASS_SECONDS / third) + 1 : 1;
    return DG_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* --repeat passes of each path over the case's images, the paths taking
 * turns so that a slow spell of the machine does not fall on one of them. */
static int time_case(bench *b, bench_case *c, dg_err *err)
{
    int r = (int)b->opt->repeat;
    double *cpu = dg_alloc((size_t)(PATH_COUNT * r), sizeof *cpu, err);
    double *wall = cpu ? dg_alloc((size_t)(PATH_COUNT * r), sizeof *wall, err) : NULL;
    int rc = wall ? DG_OK : DG_FAIL;
    for (int k = 0; rc == DG_OK && k < r; k++)
        for (int p = 0; rc == DG_OK && p < PATH_COUNT; p++) {
            if (!runs(p, c->fmt))
                continue;
            double w0 = dg_now(), c0 = cpu_now();
            int w, h;
            for (int l = 0; l < c->loops; l++)
                for (int i = 0; rc == DG_OK && i < c->n; i++)
                    rc = decode_one(b, p, c->fmt, &c->s[i], &w, &h, err);
            cpu[p * r + k] = cpu_now() - c0;
            wall[p * r + k] = dg_now() - w0;
        }
    for (int p = 0; rc == DG_OK && p < PATH_COUNT; p++)
        if (runs(p, c->fmt)) {
            c->cpu[p] = median(cpu + p * r, r);
            c->wall[p] = median(wall + p * r, r);
        }
    free(cpu);
    free(wall);
    return rc;
}

/* ---- figures -------------------------------------------------------------- */

static double images_per_s(const bench_case *c, int p)
{
    return c->cpu[p] > 0 ? (double)c->n * c->loops / c->cpu[p] : 0;
}

static double mpix_per_s(const bench_case *c, int p)
{
    return c->cpu[p] > 0 ? c->pixels * c->loops / 1e6 / c->cpu[p] : 0;
}

static double ratio(const bench_case *c, int p)
{
    return c->cpu[p] > 0 ? images_per_s(c, PATH_OURS) / images_per_s(c, p) : 0;
}

static void print_table(const bench *b)
{
    printf("dg-decode-bench: %d photos from %s, min_side %ld, thread CPU time, median of %ld passes\n",
           b->n_photos, b->opt->photos, b->opt->min_side, b->opt->repeat);
    printf("%5s %-14s %8s %10s %8s %10s %8s %9s %12s %9s\n", "size", "format", "KiB/img", "ours/s", "MPix/s",
           "library/s", "MPix/s", "ours/lib", "lib@scale/s", "ours/lib@");
    for (int k = 0; k < b->n_cases; k++) {
        const bench_case *c = &b->cases[k];
        printf("%5ld %-14s %8.1f %10.0f %8.1f %10.0f %8.1f %9.2f", c->size, dg_recode_name(c->fmt),
               c->bytes / c->n / 1024, images_per_s(c, PATH_OURS), mpix_per_s(c, PATH_OURS),
               images_per_s(c, PATH_LIBRARY), mpix_per_s(c, PATH_LIBRARY), ratio(c, PATH_LIBRARY));
        if (runs(PATH_LIBRARY_SCALED, c->fmt))
            printf(" %12.0f %9.2f", images_per_s(c, PATH_LIBRARY_SCALED), ratio(c, PATH_LIBRARY_SCALED));
        printf("\n");
    }
}

static json_t *path_json(const bench_case *c, int p)
{
    return json_pack("{s:f, s:f, s:f, s:f}", "images_per_s_per_core", images_per_s(c, p), "mpix_per_s_per_core",
                     mpix_per_s(c, p), "cpu_seconds_per_pass", c->cpu[p], "wall_seconds_per_pass", c->wall[p]);
}

/* The strings the README quotes (tests/check_readme_figures.py). */
static json_t *readme_json(const bench *b)
{
    json_t *o = json_object();
    char text[256];
    json_object_set_new(o, "photos", json_integer(b->n_photos));
    json_object_set_new(o, "min_side", json_integer(b->opt->min_side));
    json_object_set_new(o, "repeat", json_integer(b->opt->repeat));
    for (int k = 0; k < b->n_cases; k++) {
        const bench_case *c = &b->cases[k];
        int n = snprintf(text, sizeof text, "%ld px: ours %.0f images/s (%.1f MPix/s), library %.0f images/s "
                         "(%.1f MPix/s), ours/library %.2f", c->size, images_per_s(c, PATH_OURS),
                         mpix_per_s(c, PATH_OURS), images_per_s(c, PATH_LIBRARY), mpix_per_s(c, PATH_LIBRARY),
                         ratio(c, PATH_LIBRARY));
        if (runs(PATH_LIBRARY_SCALED, c->fmt) && n > 0 && (size_t)n < sizeof text)
            snprintf(text + n, sizeof text - (size_t)n, ", library at our scale %.0f images/s, ours/that %.2f",
                     images_per_s(c, PATH_LIBRARY_SCALED), ratio(c, PATH_LIBRARY_SCALED));
        char key[64];
        snprintf(key, sizeof key, "%s_%ld", dg_recode_name(c->fmt), c->size);
        json_object_set_new(o, key, json_string(text));
    }
    return o;
}

static int write_json(const bench *b, dg_err *err)
{
    json_t *o = json_object(), *cases = json_array();
    json_object_set_new(o, "command", json_string(b->opt->command ? b->opt->command : "dg-decode-bench"));
    json_object_set_new(o, "photos", json_integer(b->n_photos));
    json_object_set_new(o, "photo_source", json_string(b->opt->photos));
    json_object_set_new(o, "min_side", json_integer(b->opt->min_side));
    json_object_set_new(o, "repeat", json_integer(b->opt->repeat));
    json_object_set_new(o, "timing", json_string("thread CPU time of a pass (loops_per_pass times over the "
                                                 "images), median of the passes; images per second per core, "
                                                 "megapixels of the stored images"));
    for (int k = 0; k < b->n_cases; k++) {
        const bench_case *c = &b->cases[k];
        json_t *e = json_pack("{s:i, s:s, s:i, s:i, s:f, s:f}", "size", (int)c->size, "format",
                              dg_recode_name(c->fmt), "images", c->n, "loops_per_pass", c->loops, "mean_bytes",
                              c->bytes / c->n, "mean_mpix", c->pixels / 1e6 / c->n);
        for (int p = 0; p < PATH_COUNT; p++)
            if (runs(p, c->fmt))
                json_object_set_new(e, PATH_NAME[p], path_json(c, p));
        json_object_set_new(e, "ours_over_library", json_real(ratio(c, PATH_LIBRARY)));
        if (runs(PATH_LIBRARY_SCALED, c->fmt))
            json_object_set_new(e, "ours_over_library_scaled", json_real(ratio(c, PATH_LIBRARY_SCALED)));
        json_array_append_new(cases, e);
    }
    json_object_set_new(o, "cases", cases);
    json_object_set_new(o, "readme", readme_json(b));
    int rc = json_dump_file(o, b->opt->json, JSON_INDENT(2)) == 0 ? DG_OK
                                                                   : dg_fail(err, "cannot write %s", b->opt->json);
    json_decref(o);
    return rc;
}

/* ---- main ----------------------------------------------------------------- */

static int run(bench *b, dg_err *err)
{
    if (dg_jpeg_codec_init(&b->codec, err) != DG_OK || dg_ref_init(&b->ref, err) != DG_OK ||
        dg_decoder_init(&b->dec, 0, (int)b->opt->min_side, err) != DG_OK || make_corpus(b, err) != DG_OK)
        return DG_FAIL;
    if (b->n_photos == 0)
        return dg_fail(err, "%s: no photo", b->opt->photos);
    for (int k = 0; k < b->n_cases; k++)
        if (check_case(b, &b->cases[k], err) != DG_OK || time_case(b, &b->cases[k], err) != DG_OK)
            return DG_FAIL;
    print_table(b);
    return b->opt->json ? write_json(b, err) : DG_OK;
}

static void bench_free(bench *b)
{
    for (int k = 0; b->cases && k < b->n_cases; k++) {
        for (int i = 0; i < b->cases[k].n; i++)
            free(b->cases[k].s[i].buf);
        free(b->cases[k].s);
    }
    free(b->cases);
    dg_decoder_free(&b->dec);
    dg_ref_free(&b->ref);
    dg_jpeg_codec_free(&b->codec);
}

int main(int argc, char **argv)
{
    options opt;
    dg_err err = {0};
    int pa = parse_args(argc, argv, &opt, &err);
    if (pa != 0) {
        if (pa < 0)
            fprintf(stderr, "dg-decode-bench: %s\n", err.msg);
        usage(pa < 0 ? stderr : stdout);
        return pa < 0 ? 2 : 0;
    }
    bench b;
    memset(&b, 0, sizeof b);
    b.opt = &opt;
    int rc = run(&b, &err);
    bench_free(&b);
    if (rc != DG_OK) {
        fprintf(stderr, "dg-decode-bench: %s\n", err.msg);
        return 1;
    }
    return 0;
}
