/* embed_bench_main.c - dg-embed-bench: what the embedder costs beside
 * libjpeg-turbo's own decode of the same files, in one process and one
 * thread.  Each pass goes over the listed files twice:
 *   (a) decode only: read the file, then tjDecompressHeader3 + tjDecompress2
 *       at the scale the embedder picks (the smallest libjpeg-turbo scale
 *       with both sides >= DG_DESC_SIZE), same pixel format and flags;
 *   (b) the embedder's per-item path: dg_decode_file, dg_content_box (once
 *       per image, as the decode loop does), dg_descriptor and
 *       dg_descriptor_quantise, dg_signature_make, then dg_pca_project on
 *       the whole batch;
 *   (c) the verifier (graph/verify.c) on pairs of the signatures of (b):
 *       each file with a copy of its photo and with another photo
 *       (apps/verify_bench.c), and the rate of embedding plus K verified
 *       candidate pairs per item beside (a).
 * The first pass also checks that (a) produced the very pixels the embedder
 * decoded, so both measure the same decode.  The projection model has the
 * job's shape (DG_DESC_DIM -> --dim) with fixed values: sgemm's cost does
 * not depend on them, and learning the real one is collective (MPI), which
 * this tool does not need.  It owns no library code; it only times it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <turbojpeg.h>

#include <jansson.h>

#include "apps/cli.h"
#include "apps/verify_bench.h"
#include "input/decode.h"
#include "input/descriptor.h"
#include "input/embed.h"
#include "input/manifest.h"
#include "input/pca.h"
#include "input/signature.h"

typedef struct options {
    const char *manifest;
    const char *dir;
    long repeat;
    long dim;
    int flip;
    long long max_pixels;
    double threshold;
    const char *json;
} options;

/* Wall-clock and thread CPU seconds of one phase.  CPU time is what the
 * work costs even when other processes share the cores. */
typedef struct span {
    double wall, cpu;
} span;

/* One pass; the figures printed are those of the fastest pass. */
typedef struct pass_times {
    span read, decode;           /* (a) */
    span e_read, e_decode;       /* (b): dg_decode_file's own wall split; its CPU
                                    time, read included, goes to e_decode */
    span e_box, e_descriptor, e_signature, e_project;
} pass_times;

/* What pass (a) decoded, kept from the first pass for the pixel check. */
typedef struct decoded {
    int in_w, in_h; /* the JPEG's size */
    int w, h, cmyk; /* the decoded raster */
    uint64_t hash; /* 0: not decoded */
} decoded;

typedef struct bench {
    const options *opt;
    dg_pathlist files;
    decoded *ref;
    int64_t n_decoded, n_usable, n_same, n_compared;
    int64_t status_count[DG_ST_COUNT];
    double in_pixels, out_pixels;
    unsigned char *file, *pix;
    size_t file_cap, pix_cap;
    int16_t *q;
    uint8_t *sig;
    int8_t *status;
    float *vec;
    dg_embed_model model;
} bench;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: dg-embed-bench (--manifest FILE | --dir DIR) [--repeat R] [--dim D] [--no-flip]\n"
            "                      [--max-pixels N] [--threshold T] [--json FILE]\n"
            "Times libjpeg-turbo's decode of the files at the embedder's DCT scale, then the\n"
            "embedder's per-item path (decode + descriptor + signature) and its batched projection,\n"
            "then the verifier on pairs of the files' signatures.\n"
            "  --repeat      passes over the files; the fastest is reported (default 3)\n"
            "  --dim         embedding dimension of the projection (default 64, as embed.dim)\n"
            "  --no-flip     descriptor without flip invariance (embed.flip = false)\n"
            "  --max-pixels  as embed.max_pixels (default 100000000)\n"
            "  --threshold   as verify.threshold: the pairs counted as passing (default 0.6)\n"
            "  --json        also write the figures to FILE\n");
}

/* 0 ok, 1 help shown, -1 bad usage (reason in err). */
static int parse_args(int argc, char **argv, options *opt, dg_err *err)
{
    static const struct option longopts[] = {
        {"manifest", required_argument, 0, 'm'}, {"dir", required_argument, 0, 'd'},
        {"repeat", required_argument, 0, 'r'},   {"dim", required_argument, 0, 'D'},
        {"no-flip", no_argument, 0, 'F'},        {"max-pixels", required_argument, 0, 'P'},
        {"threshold", required_argument, 0, 'T'}, {"json", required_argument, 0, 'J'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0},
    };
    *opt = (options){.repeat = 3, .dim = 64, .flip = 1, .max_pixels = 100000000, .threshold = 0.6};
    int c;
    long v;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'm': opt->manifest = optarg; break;
        case 'd': opt->dir = optarg; break;
        case 'r':
            if (cli_long(optarg, 1, 1000, &opt->repeat) != DG_OK)
                return dg_fail(err, "--repeat: expected 1..1000, got %s", optarg);
            break;
        case 'D':
            if (cli_long(optarg, 1, DG_DESC_DIM, &opt->dim) != DG_OK)
                return dg_fail(err, "--dim: expected 1..%d, got %s", DG_DESC_DIM, optarg);
            break;
        case 'F': opt->flip = 0; break;
        case 'P':
            if (cli_long(optarg, 0, 0x7fffffffL, &v) != DG_OK)
                return dg_fail(err, "--max-pixels: expected 0..2147483647, got %s", optarg);
            opt->max_pixels = v;
            break;
        case 'T':
            if (cli_double(optarg, 0.0, 1.0, &opt->threshold) != DG_OK)
                return dg_fail(err, "--threshold: expected 0..1, got %s", optarg);
            break;
        case 'J': opt->json = optarg; break;
        case 'h': return 1;
        default: return dg_fail(err, "unknown option");
        }
    }
    if (optind < argc)
        return dg_fail(err, "unexpected argument: %s", argv[optind]);
    if (!opt->manifest == !opt->dir)
        return dg_fail(err, "give exactly one of --manifest and --dir");
    return 0;
}

static int grow(unsigned char **buf, size_t *cap, size_t need, dg_err *err)
{
    if (need <= *cap)
        return DG_OK;
    unsigned char *nb = realloc(*buf, need);
    if (!nb)
        return dg_fail(err, "out of memory (%zu bytes)", need);
    *buf = nb;
    *cap = need;
    return DG_OK;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void span_add(span *s, double wall0, double cpu0)
{
    s->wall += dg_now() - wall0;
    s->cpu += cpu_now() - cpu0;
}

static uint64_t hash_bytes(const unsigned char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h | 1;
}

/* ---- (a) libjpeg-turbo alone ---------------------------------------------- */

/* Reads a whole file into b->file; 0 bytes when it cannot be read. */
static size_t read_whole(bench *b, const char *path, dg_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t len = 0;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size > 0 && (size_t)size <= DG_EMBED_MAX_FILE_BYTES && fseek(f, 0, SEEK_SET) == 0 &&
            grow(&b->file, &b->file_cap, (size_t)size, err) == DG_OK)
            len = fread(b->file, 1, (size_t)size, f);
    }
    fclose(f);
    return len;
}

/* The embedder's rule (decode.c): the smallest scale, at most 1/1, with
 * both sides at least DG_DESC_SIZE. */
static tjscalingfactor embedder_scale(int w, int h)
{
    tjscalingfactor best = {1, 1};
    int n = 0;
    tjscalingfactor *sf = tjGetScalingFactors(&n);
    for (int i = 0; sf && i < n; i++) {
        if (sf[i].num > sf[i].denom || TJSCALED(w, sf[i]) < DG_DESC_SIZE || TJSCALED(h, sf[i]) < DG_DESC_SIZE)
            continue;
        if ((int64_t)sf[i].num * best.denom < (int64_t)best.num * sf[i].denom)
            best = sf[i];
    }
    return best;
}

/* Header + decompression of the bytes in b->file; fills out (hash left 0). */
static int tj_decode(bench *b, tjhandle *tj, size_t len, decoded *out, dg_err *err)
{
    int w, h, subsamp, cs;
    if (tjDecompressHeader3(*tj, b->file, (unsigned long)len, &w, &h, &subsamp, &cs) != 0 || w <= 0 ||
        h <= 0 || (b->opt->max_pixels > 0 && (long long)w * h > b->opt->max_pixels))
        return DG_FAIL;
    out->in_w = w;
    out->in_h = h;
    tjscalingfactor sf = embedder_scale(w, h);
    int pf = cs == TJCS_CMYK || cs == TJCS_YCCK ? TJPF_CMYK : TJPF_RGB;
    out->w = TJSCALED(w, sf);
    out->h = TJSCALED(h, sf);
    out->cmyk = pf == TJPF_CMYK;
    if (grow(&b->pix, &b->pix_cap, (size_t)out->w * (size_t)out->h * (size_t)tjPixelSize[pf], err) != DG_OK)
        return DG_FAIL;
    int rc = tjDecompress2(*tj, b->file, (unsigned long)len, b->pix, out->w, 0, out->h, pf,
                           TJFLAG_FASTUPSAMPLE | TJFLAG_LIMITSCANS);
    return rc == 0 || tjGetErrorCode(*tj) == TJERR_WARNING ? DG_OK : DG_FAIL;
}

static int pass_decode_only(bench *b, tjhandle *tj, int first, pass_times *t, dg_err *err)
{
    for (int64_t i = 0; i < b->files.n; i++) {
        double w0 = dg_now(), c0 = cpu_now();
        size_t len = read_whole(b, b->files.path[i], err);
        span_add(&t->read, w0, c0);
        w0 = dg_now();
        c0 = cpu_now();
        decoded d = {0};
        int rc = len > 0 ? tj_decode(b, tj, len, &d, err) : DG_FAIL;
        span_add(&t->decode, w0, c0);
        if (rc != DG_OK) {
            tjDestroy(*tj); /* as decode.c: a handle is not reused after a fatal error */
            if (!(*tj = tjInitDecompress()))
                return dg_fail(err, "cannot create a libjpeg-turbo decompressor");
            continue;
        }
        if (first) {
            d.hash = hash_bytes(b->pix, (size_t)d.w * (size_t)d.h * (d.cmyk ? 4 : 3));
            b->ref[i] = d;
            b->n_decoded++;
            b->in_pixels += (double)d.in_w * d.in_h;
            b->out_pixels += (double)d.w * d.h;
        }
    }
    return DG_OK;
}

/* ---- (b) the embedder's path -------------------------------------------- */

static void compare_with_ref(bench *b, int64_t i, const dg_decode_result *res)
{
    const decoded *r = &b->ref[i];
    if (!r->hash || r->cmyk)
        return; /* the embedder converts CMYK to RGB in place: not comparable */
    b->n_compared++;
    if (r->w == res->image.w && r->h == res->image.h &&
        r->hash == hash_bytes(res->image.rgb, (size_t)r->w * (size_t)r->h * 3))
        b->n_same++;
}

/* The per-item path over every file; the first (untimed) pass also keeps
 * the statuses and compares the pixels with pass (a)'s. */
static void describe_all(bench *b, dg_decoder *dec, int first, pass_times *t)
{
    float desc[DG_DESC_DIM];
    for (int64_t i = 0; i < b->files.n; i++) {
        dg_decode_result res;
        double c0 = cpu_now();
        dg_decode_file(dec, b->files.path[i], &res);
        t->e_decode.cpu += cpu_now() - c0;
        t->e_read.wall += res.seconds_read;
        t->e_decode.wall += res.seconds_decode;
        if (first)
            b->status[i] = (int8_t)res.status;
        if (!dg_status_usable((int8_t)res.status))
            continue;
        int box[DG_BOX_LEN];
        double w0 = dg_now();
        c0 = cpu_now();
        dg_content_box(&res.image, box);
        span_add(&t->e_box, w0, c0);
        w0 = dg_now();
        c0 = cpu_now();
        dg_descriptor(&res.image, box, b->opt->flip, desc);
        dg_descriptor_quantise(desc, b->q + (size_t)i * DG_DESC_DIM);
        span_add(&t->e_descriptor, w0, c0);
        w0 = dg_now();
        c0 = cpu_now();
        dg_signature_make(&res.image, box, b->sig + (size_t)i * DG_SIG_BYTES);
        span_add(&t->e_signature, w0, c0);
        if (first)
            compare_with_ref(b, i, &res);
    }
}

static int project_all(bench *b, pass_times *t, dg_err *err)
{
    double w0 = dg_now(), c0 = cpu_now();
    int rc = dg_pca_project(&b->model, b->q, b->status, 0, b->files.n, b->vec, err);
    span_add(&t->e_project, w0, c0);
    return rc;
}

/* A model of the job's shape: the mean of the usable rows and fixed
 * pseudo-random weights (their values do not change sgemm's cost). */
static int make_model(bench *b, dg_err *err)
{
    dg_embed_model *m = &b->model;
    m->d_in = DG_DESC_DIM;
    m->d = (int)b->opt->dim;
    m->flip = b->opt->flip;
    m->mean = dg_calloc((size_t)m->d_in, sizeof(float), err);
    m->matrix = dg_alloc((size_t)m->d * (size_t)m->d_in, sizeof(float), err);
    if (!m->mean || !m->matrix)
        return DG_FAIL;
    for (size_t k = 0; k < (size_t)m->d * (size_t)m->d_in; k++)
        m->matrix[k] = (float)(dg_unit(dg_mix64(k)) - 0.5);
    int64_t n = 0;
    for (int64_t i = 0; i < b->files.n; i++) {
        if (!dg_status_usable(b->status[i]))
            continue;
        n++;
        for (int j = 0; j < m->d_in; j++)
            m->mean[j] += (float)b->q[(size_t)i * DG_DESC_DIM + (size_t)j] / DG_DESC_QUANT;
    }
    for (int j = 0; n > 0 && j < m->d_in; j++)
        m->mean[j] /= (float)n;
    m->n_fit = n;
    return DG_OK;
}

static void count_usable(bench *b)
{
    for (int64_t i = 0; i < b->files.n; i++) {
        b->status_count[b->status[i]]++;
        b->n_usable += dg_status_usable(b->status[i]);
    }
}

/* ---- report ----------------------------------------------------------------- */

static double rate(double seconds, int64_t n)
{
    return seconds > 0 ? (double)n / seconds : 0.0;
}

/* cpu < 0: not measured separately. */
static void print_line(const char *what, span t, int64_t n)
{
    printf("  %-62s %8.3f s %9.1f/s", what, t.wall, rate(t.wall, n));
    if (t.cpu >= 0)
        printf("  %8.3f s %9.1f/s\n", t.cpu, rate(t.cpu, n));
    else
        printf("  %8s   %9s\n", "-", "-");
}

static span sum(span a, span b)
{
    return (span){a.wall + b.wall, a.cpu + b.cpu};
}

static void print_statuses(const bench *b)
{
    printf("  embedder statuses:");
    for (int s = 0; s < DG_ST_COUNT; s++)
        if (b->status_count[s])
            printf(" %lld %s", (long long)b->status_count[s], dg_status_name((dg_status)s));
    printf("\n");
}

static void print_header(const bench *b)
{
    const options *o = b->opt;
    printf("dg-embed-bench: %lld files from %s, fastest of %ld passes, one process, one thread\n",
           (long long)b->files.n, o->manifest ? o->manifest : o->dir, o->repeat);
    printf("  decode scale: the embedder's (smallest libjpeg-turbo scale with both sides >= %d); mean %.0f "
           "pixels in, %.0f decoded\n",
           DG_DESC_SIZE, b->n_decoded ? b->in_pixels / (double)b->n_decoded : 0.0,
           b->n_decoded ? b->out_pixels / (double)b->n_decoded : 0.0);
    printf("  check: decode-only pixels identical to the embedder's for %lld of %lld RGB files (%lld decoded)\n",
           (long long)b->n_same, (long long)b->n_compared, (long long)b->n_decoded);
    print_statuses(b);
    printf("  %-62s %8s %11s  %8s %11s\n", "", "wall", "images/s", "cpu", "images/s");
}

/* Per-item CPU seconds of decode only, the embedder, and one verified pair. */
typedef struct unit_costs {
    double decode, embed, pair;
} unit_costs;

static const int K_PAIRS[] = {1, 5, 10, 20}; /* candidate pairs verified per item */

static void report_verify(const bench *b, const vb_pairs *p, const vb_times *v, const unit_costs *u)
{
    printf("  (c) verifier: %lld pairs (%lld of a photo with its copy, %lld with another photo), fastest of %ld "
           "passes\n",
           (long long)p->n, (long long)p->n_same, (long long)(p->n - p->n_same), b->opt->repeat);
    printf("  %-62s %8.3f s %9.1f/s  %8.3f s %9.1f/s\n", "(c) dg_verify_score (pairs)", v->wall, rate(v->wall, p->n),
           v->cpu, rate(v->cpu, p->n));
    printf("  verifier: %.1f us per pair (cpu); scores >= %.2f: %lld of the %lld copies, %lld of the %lld others\n",
           1e6 * u->pair, b->opt->threshold, (long long)v->passed_same, (long long)p->n_same,
           (long long)(v->passed - v->passed_same), (long long)(p->n - p->n_same));
    for (size_t k = 0; k < sizeof K_PAIRS / sizeof K_PAIRS[0]; k++) {
        double item = u->embed + K_PAIRS[k] * u->pair;
        printf("  embedding + %2d verified pairs per item: %9.1f images/s per core (cpu), %.3f x libjpeg-turbo "
               "decode only\n",
               K_PAIRS[k], 1.0 / item, u->decode / item);
    }
}

static double us_per(span t, int64_t n)
{
    return n > 0 ? 1e6 * t.cpu / (double)n : 0.0;
}

static int write_json(const bench *b, const pass_times *e, const vb_pairs *p, const vb_times *v, const unit_costs *u,
                      dg_err *err)
{
    json_t *o = json_object(), *comb = json_object();
    /* the embedder's stages, cpu us per file (decode, read included) or per usable image */
    json_object_set_new(o, "embed_stages_cpu_us",
                        json_pack("{s:f, s:f, s:f, s:f, s:f}", "decode", us_per(e->e_decode, b->files.n),
                                  "content_box", us_per(e->e_box, b->n_usable), "descriptor",
                                  us_per(e->e_descriptor, b->n_usable), "signature", us_per(e->e_signature, b->n_usable),
                                  "projection", us_per(e->e_project, b->n_usable)));
    json_object_set_new(o, "files", json_integer(b->files.n));
    json_object_set_new(o, "usable", json_integer(b->n_usable));
    json_object_set_new(o, "decode_only_images_per_s", json_real(1.0 / u->decode));
    json_object_set_new(o, "embed_images_per_s", json_real(1.0 / u->embed));
    json_object_set_new(o, "pairs", json_integer(p->n));
    json_object_set_new(o, "pairs_same_photo", json_integer(p->n_same));
    json_object_set_new(o, "threshold", json_real(b->opt->threshold));
    json_object_set_new(o, "passed_same_photo", json_integer(v->passed_same));
    json_object_set_new(o, "passed_other_photo", json_integer(v->passed - v->passed_same));
    json_object_set_new(o, "verify_pairs_per_s", json_real(1.0 / u->pair));
    json_object_set_new(o, "verify_us_per_pair", json_real(1e6 * u->pair));
    for (size_t k = 0; k < sizeof K_PAIRS / sizeof K_PAIRS[0]; k++) {
        double item = u->embed + K_PAIRS[k] * u->pair;
        char key[16];
        snprintf(key, sizeof key, "%d", K_PAIRS[k]);
        json_object_set_new(comb, key, json_pack("{s:f, s:f}", "images_per_s", 1.0 / item, "ratio_to_decode_only",
                                                 u->decode / item));
    }
    json_object_set_new(o, "embed_plus_k_pairs", comb);
    json_object_set_new(o, "timing", json_string("thread CPU time, fastest pass"));
    int rc = json_dump_file(o, b->opt->json, JSON_INDENT(2) | JSON_SORT_KEYS) == 0
                 ? DG_OK
                 : dg_fail(err, "cannot write %s", b->opt->json);
    json_decref(o);
    return rc;
}

static void report(const bench *b, const pass_times *a, const pass_times *e)
{
    int64_t n = b->files.n;
    print_header(b);
    print_line("(a) read files", a->read, n);
    print_line("(a) libjpeg-turbo decode only (tjDecompress2)", a->decode, b->n_decoded);
    print_line("(b) embedder read (dg_decode_file)", (span){e->e_read.wall, -1}, n);
    print_line("(b) embedder decode (dg_decode_file; cpu: with the read)", e->e_decode, n);
    print_line("(b) content box, once per image (dg_content_box)", e->e_box, b->n_usable);
    print_line("(b) descriptor + quantise (dg_descriptor)", e->e_descriptor, b->n_usable);
    char what[96];
    snprintf(what, sizeof what, "(b) projection, one batch (dg_pca_project, %d -> %ld)", DG_DESC_DIM, b->opt->dim);
    print_line(what, e->e_project, b->n_usable);
    span desc_proj = sum(e->e_descriptor, e->e_project);
    print_line("(b) descriptor + projection", desc_proj, b->n_usable);
    print_line("(b) verification signature (dg_signature_make)", e->e_signature, b->n_usable);
    span total = sum(sum(sum(sum(e->e_read, e->e_decode), e->e_box), desc_proj), e->e_signature);
    print_line("(b) embedder total (read, decode, descriptor, signature, proj.)", total, n);
    if (b->n_decoded == 0 || b->n_usable == 0) {
        printf("  no usable image: no ratios\n");
        return;
    }
    printf("  descriptor + projection / libjpeg-turbo decode: %.3f wall, %.3f cpu\n", desc_proj.wall / a->decode.wall,
           desc_proj.cpu / a->decode.cpu);
    printf("  embedder decode / libjpeg-turbo decode: %.3f wall, %.3f cpu (read included)\n",
           e->e_decode.wall / a->decode.wall, e->e_decode.cpu / a->decode.cpu);
}

/* ---- driver ------------------------------------------------------------------ */

static int list_files(bench *b, dg_err *err)
{
    int rc = b->opt->manifest ? dg_manifest_read(b->opt->manifest, 0, -1, &b->files, err)
                              : dg_dir_list(b->opt->dir, &b->files, err);
    if (rc != DG_OK)
        return DG_FAIL;
    if (b->files.n == 0)
        return dg_fail(err, "no files listed in %s", b->opt->manifest ? b->opt->manifest : b->opt->dir);
    int64_t n = b->files.n;
    b->ref = dg_calloc((size_t)n, sizeof *b->ref, err);
    b->q = dg_calloc((size_t)n, sizeof(int16_t) * DG_DESC_DIM, err);
    b->status = dg_calloc((size_t)n, sizeof *b->status, err);
    b->sig = dg_calloc((size_t)n, DG_SIG_BYTES, err);
    b->vec = dg_alloc((size_t)n * (size_t)b->opt->dim, sizeof(float), err);
    return b->ref && b->q && b->status && b->sig && b->vec ? DG_OK : DG_FAIL;
}

static double total_e(const pass_times *t)
{
    return t->e_read.wall + t->e_decode.wall + t->e_box.wall + t->e_descriptor.wall + t->e_signature.wall +
           t->e_project.wall;
}

/* First an untimed embedder pass (statuses, pixel check, the model's
 * mean), then `repeat` timed passes of (a) and (b). */
static int run_passes(bench *b, tjhandle *tj, dg_decoder *dec, dg_err *err)
{
    pass_times best_a = {0}, best_e = {0}, warm = {0};
    vb_pairs pairs = {0};
    vb_times vt = {0};
    int rc = pass_decode_only(b, tj, 1, &warm, err);
    if (rc == DG_OK) {
        describe_all(b, dec, 1, &warm);
        count_usable(b);
        rc = make_model(b, err);
    }
    for (long r = 0; rc == DG_OK && r < b->opt->repeat; r++) {
        pass_times a = {0}, e = {0};
        rc = pass_decode_only(b, tj, 0, &a, err);
        describe_all(b, dec, 0, &e);
        if (rc == DG_OK)
            rc = project_all(b, &e, err);
        if (r == 0 || a.decode.wall < best_a.decode.wall)
            best_a = a;
        if (r == 0 || total_e(&e) < total_e(&best_e))
            best_e = e;
    }
    if (rc == DG_OK)
        rc = vb_pairs_make(b->files.path, b->files.n, b->sig, &pairs, err);
    if (rc == DG_OK) {
        vb_time(&pairs, b->sig, (float)b->opt->threshold, b->opt->repeat, &vt);
        report(b, &best_a, &best_e);
    }
    if (rc == DG_OK && b->n_decoded > 0 && b->n_usable > 0 && pairs.n > 0) {
        /* embedder cpu: dg_decode_file's (read included) + box + descriptor + signature + projection */
        unit_costs u = {best_a.decode.cpu / (double)b->n_decoded,
                        (best_e.e_decode.cpu + best_e.e_box.cpu + best_e.e_descriptor.cpu + best_e.e_signature.cpu +
                         best_e.e_project.cpu) / (double)b->files.n,
                        vt.cpu / (double)pairs.n};
        report_verify(b, &pairs, &vt, &u);
        if (b->opt->json)
            rc = write_json(b, &best_e, &pairs, &vt, &u, err);
    }
    vb_pairs_free(&pairs);
    return rc;
}

static int run(bench *b, dg_err *err)
{
    if (list_files(b, err) != DG_OK)
        return DG_FAIL;
    tjhandle tj = tjInitDecompress();
    if (!tj)
        return dg_fail(err, "cannot create a libjpeg-turbo decompressor: %s", tjGetErrorStr2(NULL));
    dg_decoder dec;
    int rc = dg_decoder_init(&dec, b->opt->max_pixels, DG_DESC_SIZE, err);
    if (rc == DG_OK) {
        rc = run_passes(b, &tj, &dec, err);
        dg_decoder_free(&dec);
    }
    if (tj)
        tjDestroy(tj);
    return rc;
}

static void bench_free(bench *b)
{
    dg_pathlist_free(&b->files);
    dg_embed_model_free(&b->model);
    free(b->ref);
    free(b->q);
    free(b->sig);
    free(b->status);
    free(b->vec);
    free(b->file);
    free(b->pix);
}

int main(int argc, char **argv)
{
    options opt;
    dg_err err = {0};
    int pa = parse_args(argc, argv, &opt, &err);
    if (pa != 0) {
        if (pa < 0)
            fprintf(stderr, "dg-embed-bench: %s\n", err.msg);
        usage(pa < 0 ? stderr : stdout);
        return pa < 0 ? 2 : 0;
    }
    bench b;
    memset(&b, 0, sizeof b);
    b.opt = &opt;
    int rc = run(&b, &err);
    bench_free(&b);
    if (rc != DG_OK) {
        fprintf(stderr, "dg-embed-bench: %s\n", err.msg);
        return 1;
    }
    return 0;
}
