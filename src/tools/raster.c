/* raster.c - RGB images for the benchmark tool: allocation, a separable
 * triangle-filter resampler, and JPEG decode/encode with the turbojpeg API
 * (accurate integer DCT both ways, so output is reproducible).  It does not
 * classify broken inputs the way the job's decoder does: any failure here is
 * simply an error with libjpeg-turbo's message. */
#include "tools/raster.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <unistd.h>

int dg_image_alloc(dg_image *im, int w, int h, dg_err *err)
{
    im->w = 0;
    im->h = 0;
    im->px = NULL;
    if (w <= 0 || h <= 0 || (int64_t)w * h > DG_RASTER_MAX_PIXELS)
        return dg_fail(err, "bad image size %d x %d", w, h);
    im->px = dg_alloc((size_t)w * (size_t)h, 3, err);
    if (!im->px)
        return DG_FAIL;
    im->w = w;
    im->h = h;
    return DG_OK;
}

void dg_image_free(dg_image *im)
{
    free(im->px);
    im->px = NULL;
    im->w = 0;
    im->h = 0;
}

int dg_image_copy(const dg_image *src, dg_image *dst, dg_err *err)
{
    if (dg_image_alloc(dst, src->w, src->h, err) != DG_OK)
        return DG_FAIL;
    memcpy(dst->px, src->px, (size_t)src->w * (size_t)src->h * 3);
    return DG_OK;
}

void dg_fit_size(int w, int h, int max_w, int max_h, int *out_w, int *out_h)
{
    double s = 1.0;
    if (max_w > 0 && w > max_w)
        s = (double)max_w / w;
    if (max_h > 0 && h * s > max_h)
        s = (double)max_h / h;
    *out_w = w;
    *out_h = h;
    if (s < 1.0) {
        *out_w = (int)fmax(1.0, floor(w * s + 0.5));
        *out_h = (int)fmax(1.0, floor(h * s + 0.5));
        if (max_w > 0 && *out_w > max_w)
            *out_w = max_w;
        if (max_h > 0 && *out_h > max_h)
            *out_h = max_h;
    }
}

/* Filter taps for one axis: output i reads taps[i*ntap .. +ntap) at
 * source indices first[i] + k (clamped to the edge). */
typedef struct axis_filter {
    int ntap;
    int *first;
    float *taps;
} axis_filter;

static void axis_filter_free(axis_filter *f)
{
    free(f->first);
    free(f->taps);
}

static int axis_filter_init(axis_filter *f, int n_in, int n_out, dg_err *err)
{
    double scale = (double)n_out / n_in;
    double support = scale < 1.0 ? 1.0 / scale : 1.0;
    f->ntap = 2 * (int)ceil(support) + 1;
    f->first = dg_alloc((size_t)n_out, sizeof(int), err);
    f->taps = dg_calloc((size_t)n_out * (size_t)f->ntap, sizeof(float), err);
    if (!f->first || !f->taps) {
        axis_filter_free(f);
        return DG_FAIL;
    }
    for (int i = 0; i < n_out; i++) {
        double center = (i + 0.5) / scale - 0.5;
        int first = (int)floor(center - support) + 1;
        float *t = f->taps + (size_t)i * (size_t)f->ntap;
        double sum = 0.0;
        for (int k = 0; k < f->ntap; k++) {
            double wgt = 1.0 - fabs(first + k - center) / support;
            t[k] = wgt > 0.0 ? (float)wgt : 0.0f;
            sum += t[k];
        }
        for (int k = 0; k < f->ntap; k++)
            t[k] = (float)(t[k] / sum);
        f->first[i] = first;
    }
    return DG_OK;
}

static inline int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

static inline uint8_t to_u8(float v)
{
    return (uint8_t)(v <= 0.0f ? 0 : (v >= 255.0f ? 255 : (int)(v + 0.5f)));
}

/* Horizontal pass: src (w_in x h) -> tmp (w_out x h floats). */
static void resize_rows(const dg_image *src, const axis_filter *fx, int w_out, float *tmp)
{
    for (int y = 0; y < src->h; y++) {
        float *out = tmp + (size_t)y * (size_t)w_out * 3;
        for (int x = 0; x < w_out; x++) {
            const float *t = fx->taps + (size_t)x * (size_t)fx->ntap;
            float acc[3] = {0, 0, 0};
            for (int k = 0; k < fx->ntap; k++) {
                if (t[k] == 0.0f)
                    continue;
                const uint8_t *p = dg_image_at(src, clampi(fx->first[x] + k, 0, src->w - 1), y);
                acc[0] += t[k] * p[0];
                acc[1] += t[k] * p[1];
                acc[2] += t[k] * p[2];
            }
            memcpy(out + (size_t)x * 3, acc, sizeof acc);
        }
    }
}

/* Vertical pass: tmp (w x h_in floats) -> dst (w x h_out). */
static void resize_cols(const float *tmp, int h_in, const axis_filter *fy, dg_image *dst)
{
    size_t row = (size_t)dst->w * 3;
    for (int y = 0; y < dst->h; y++) {
        const float *t = fy->taps + (size_t)y * (size_t)fy->ntap;
        uint8_t *out = dg_image_at(dst, 0, y);
        for (size_t c = 0; c < row; c++) {
            float acc = 0.0f;
            for (int k = 0; k < fy->ntap; k++)
                if (t[k] != 0.0f)
                    acc += t[k] * tmp[(size_t)clampi(fy->first[y] + k, 0, h_in - 1) * row + c];
            out[c] = to_u8(acc);
        }
    }
}

int dg_image_resize(const dg_image *src, int w, int h, dg_image *dst, dg_err *err)
{
    axis_filter fx = {0}, fy = {0};
    float *tmp = NULL;
    int rc = DG_FAIL;
    if (dg_image_alloc(dst, w, h, err) != DG_OK)
        return DG_FAIL;
    if (axis_filter_init(&fx, src->w, w, err) != DG_OK || axis_filter_init(&fy, src->h, h, err) != DG_OK)
        goto out;
    tmp = dg_alloc((size_t)w * (size_t)src->h, 3 * sizeof(float), err);
    if (!tmp)
        goto out;
    resize_rows(src, &fx, w, tmp);
    resize_cols(tmp, src->h, &fy, dst);
    rc = DG_OK;
out:
    free(tmp);
    axis_filter_free(&fx);
    axis_filter_free(&fy);
    if (rc != DG_OK)
        dg_image_free(dst);
    return rc;
}

int dg_jpeg_codec_init(dg_jpeg_codec *codec, dg_err *err)
{
    codec->dec = tjInitDecompress();
    codec->enc = tjInitCompress();
    if (!codec->dec || !codec->enc) {
        dg_fail(err, "turbojpeg init: %s", tjGetErrorStr2(NULL));
        dg_jpeg_codec_free(codec);
        return DG_FAIL;
    }
    return DG_OK;
}

void dg_jpeg_codec_free(dg_jpeg_codec *codec)
{
    if (codec->dec)
        tjDestroy(codec->dec);
    if (codec->enc)
        tjDestroy(codec->enc);
    codec->dec = NULL;
    codec->enc = NULL;
}

int dg_jpeg_header(dg_jpeg_codec *codec, const uint8_t *buf, size_t len, int *w, int *h,
                   dg_err *err)
{
    int subsamp, colorspace;
    *w = 0;
    *h = 0;
    if (len > (size_t)0xffffffffUL)
        return dg_fail(err, "JPEG larger than 4 GiB");
    if (tjDecompressHeader3(codec->dec, buf, (unsigned long)len, w, h, &subsamp, &colorspace) != 0)
        return dg_fail(err, "JPEG header: %s", tjGetErrorStr2(codec->dec));
    /* A tables-only (or cut-off) stream "succeeds" with no frame header. */
    if (*w <= 0 || *h <= 0)
        return dg_fail(err, "JPEG header: no image frame");
    if ((int64_t)*w * *h > DG_RASTER_MAX_PIXELS)
        return dg_fail(err, "JPEG too large: %d x %d", *w, *h);
    return DG_OK;
}

/* The smallest DCT scaling factor whose output still covers fw x fh. */
static tjscalingfactor pick_scale(int w, int h, int fw, int fh)
{
    int n = 0;
    tjscalingfactor *sf = tjGetScalingFactors(&n);
    tjscalingfactor best = {1, 1};
    for (int i = 0; i < n; i++) {
        int sw = TJSCALED(w, sf[i]), sh = TJSCALED(h, sf[i]);
        if (sf[i].num > sf[i].denom || sw < fw || sh < fh)
            continue;
        if (sw < TJSCALED(w, best))
            best = sf[i];
    }
    return best;
}

int dg_jpeg_decode(dg_jpeg_codec *codec, const uint8_t *buf, size_t len, int max_w, int max_h,
                   dg_image *out, dg_err *err)
{
    int w, h, fw, fh;
    dg_image scaled;
    if (dg_jpeg_header(codec, buf, len, &w, &h, err) != DG_OK)
        return DG_FAIL;
    dg_fit_size(w, h, max_w, max_h, &fw, &fh);
    tjscalingfactor sf = pick_scale(w, h, fw, fh);
    if (dg_image_alloc(&scaled, TJSCALED(w, sf), TJSCALED(h, sf), err) != DG_OK)
        return DG_FAIL;
    if (tjDecompress2(codec->dec, buf, (unsigned long)len, scaled.px, scaled.w, 0, scaled.h,
                      TJPF_RGB, TJFLAG_ACCURATEDCT) != 0 &&
        tjGetErrorCode(codec->dec) != TJERR_WARNING) {
        dg_fail(err, "JPEG decode: %s", tjGetErrorStr2(codec->dec));
        dg_image_free(&scaled);
        return DG_FAIL;
    }
    if (scaled.w == fw && scaled.h == fh) {
        *out = scaled;
        return DG_OK;
    }
    int rc = dg_image_resize(&scaled, fw, fh, out, err);
    dg_image_free(&scaled);
    return rc;
}

int dg_jpeg_encode(dg_jpeg_codec *codec, const dg_image *im, int quality, int gray, uint8_t **out,
                   size_t *out_len, dg_err *err)
{
    int samp = gray ? TJSAMP_GRAY : TJSAMP_420;
    unsigned long cap = tjBufSize(im->w, im->h, samp);
    unsigned long size = cap;
    uint8_t *buf;
    *out = NULL;
    *out_len = 0;
    if (cap == (unsigned long)-1)
        return dg_fail(err, "JPEG encode: bad size %d x %d", im->w, im->h);
    buf = dg_alloc(cap, 1, err);
    if (!buf)
        return DG_FAIL;
    if (tjCompress2(codec->enc, im->px, im->w, 0, im->h, TJPF_RGB, &buf, &size, samp, quality,
                    TJFLAG_ACCURATEDCT | TJFLAG_NOREALLOC) != 0) {
        free(buf);
        return dg_fail(err, "JPEG encode: %s", tjGetErrorStr2(codec->enc));
    }
    *out = buf;
    *out_len = size;
    return DG_OK;
}

int dg_read_file(const char *path, uint8_t **buf, size_t *len, dg_err *err)
{
    struct stat st;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer (it is then
     * refused below as not a regular file). */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "rb");
    *buf = NULL;
    *len = 0;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return dg_fail(err, "%s: cannot open", path);
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
        fclose(f);
        return dg_fail(err, "%s: not a non-empty regular file", path);
    }
    *buf = dg_alloc((size_t)st.st_size, 1, err);
    if (!*buf || fread(*buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        fclose(f);
        free(*buf);
        *buf = NULL;
        return dg_fail(err, "%s: read failed", path);
    }
    fclose(f);
    *len = (size_t)st.st_size;
    return DG_OK;
}

int dg_jpeg_load(dg_jpeg_codec *codec, const char *path, int max_w, int max_h, dg_image *out,
                 dg_err *err)
{
    uint8_t *buf;
    size_t len;
    if (dg_read_file(path, &buf, &len, err) != DG_OK)
        return DG_FAIL;
    int rc = dg_jpeg_decode(codec, buf, len, max_w, max_h, out, err);
    free(buf);
    if (rc != DG_OK) {
        dg_err inner = *err;
        return dg_fail(err, "%s: %s", path, inner.msg);
    }
    return DG_OK;
}

int dg_jpeg_save(dg_jpeg_codec *codec, const dg_image *im, int quality, int gray, const char *path,
                 dg_err *err)
{
    uint8_t *buf;
    size_t len;
    if (dg_jpeg_encode(codec, im, quality, gray, &buf, &len, err) != DG_OK)
        return DG_FAIL;
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(buf, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = 0;
    free(buf);
    if (!ok)
        return dg_fail(err, "%s: write failed", path);
    return DG_OK;
}
