/* conv.c - the convolution kernels of the neural embedder, over plain NHWC
 * float arrays of n images: general convolution as im2col + cblas_sgemm
 * (a 1x1 stride-1 convolution is one sgemm over the whole batch, no copy),
 * depthwise convolution as direct loops with the channel innermost, TF's
 * SAME padding, bias and ReLU6 fused after the product.  The network
 * around them is mobilenet.c. */
#include "input/conv.h"

#include <cblas.h>
#include <string.h>

void dg_same_padding(int in, int k, int stride, int *out, int *pad_before)
{
    int o = (in + stride - 1) / stride;
    int total = (o - 1) * stride + k - in;
    *out = o;
    *pad_before = total > 0 ? total / 2 : 0;
}

static void fill_bias(float *out, size_t rows, const float *bias, int c)
{
    for (size_t r = 0; r < rows; r++)
        memcpy(out + r * (size_t)c, bias, sizeof(float) * (size_t)c);
}

static void relu6(float *x, size_t count)
{
    for (size_t i = 0; i < count; i++)
        x[i] = x[i] < 0.0f ? 0.0f : (x[i] > 6.0f ? 6.0f : x[i]);
}

/* Rows (oy, ox) of one image's patches: (ky, kx, ci) in the kernel's order,
 * zeros outside the image. */
static void im2col(const float *in, int h, int w, int cin, int kh, int kw, int stride, int oh, int ow, int pt,
                   int pl, float *col)
{
    size_t k = (size_t)kh * kw * cin;
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
            float *row = col + ((size_t)oy * ow + ox) * k;
            for (int ky = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++) {
                    int y = oy * stride + ky - pt, x = ox * stride + kx - pl;
                    float *dst = row + ((size_t)ky * kw + kx) * cin;
                    if (y < 0 || y >= h || x < 0 || x >= w) {
                        for (int ci = 0; ci < cin; ci++)
                            dst[ci] = 0.0f;
                    } else {
                        const float *src = in + ((size_t)y * w + x) * cin;
                        for (int ci = 0; ci < cin; ci++) /* cin is 3 at the stem: no memcpy call */
                            dst[ci] = src[ci];
                    }
                }
        }
}

void dg_conv2d(const float *in, int n, int h, int w, int cin, const float *weights, const float *bias, int kh,
               int kw, int cout, int stride, int relu, float *col, float *out)
{
    int oh, ow, pt, pl;
    dg_same_padding(h, kh, stride, &oh, &pt);
    dg_same_padding(w, kw, stride, &ow, &pl);
    size_t rows = (size_t)oh * ow;
    fill_bias(out, rows * (size_t)n, bias, cout);
    if (kh == 1 && kw == 1 && stride == 1) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(rows * (size_t)n), cout, cin, 1.0f, in, cin,
                    weights, cout, 1.0f, out, cout);
    } else {
        int k = kh * kw * cin;
        for (int b = 0; b < n; b++) {
            im2col(in + (size_t)b * h * w * cin, h, w, cin, kh, kw, stride, oh, ow, pt, pl, col);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, cout, k, 1.0f, col, k, weights, cout,
                        1.0f, out + (size_t)b * rows * cout, cout);
        }
    }
    if (relu)
        relu6(out, rows * (size_t)n * cout);
}

/* One output pixel: acc[c] = bias[c] + sum over the taps inside the image,
 * clamped by ReLU6 while it is still in cache. */
static void depthwise_pixel(const float *in, int h, int w, int c, const float *weights, const float *bias, int kh,
                            int kw, int y0, int x0, int relu, float *acc)
{
    memcpy(acc, bias, sizeof(float) * (size_t)c);
    for (int ky = 0; ky < kh; ky++) {
        int y = y0 + ky;
        if (y < 0 || y >= h)
            continue;
        for (int kx = 0; kx < kw; kx++) {
            int x = x0 + kx;
            if (x < 0 || x >= w)
                continue;
            const float *src = in + ((size_t)y * w + x) * c;
            const float *wk = weights + ((size_t)ky * kw + kx) * c;
            for (int ch = 0; ch < c; ch++)
                acc[ch] += src[ch] * wk[ch];
        }
    }
    if (relu)
        relu6(acc, (size_t)c);
}

void dg_depthwise_conv2d(const float *in, int n, int h, int w, int c, const float *weights, const float *bias,
                         int kh, int kw, int stride, int relu, float *out)
{
    int oh, ow, pt, pl;
    dg_same_padding(h, kh, stride, &oh, &pt);
    dg_same_padding(w, kw, stride, &ow, &pl);
    for (int b = 0; b < n; b++) {
        const float *img = in + (size_t)b * h * w * c;
        float *dst = out + (size_t)b * oh * ow * c;
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
                depthwise_pixel(img, h, w, c, weights, bias, kh, kw, oy * stride - pt, ox * stride - pl, relu,
                                dst + ((size_t)oy * ow + ox) * c);
    }
}
