/* conv.h - the convolution kernels of the network (conv.c): NHWC, n images,
 * plain arrays. */
#ifndef DUPGRAPH_INPUT_CONV_H
#define DUPGRAPH_INPUT_CONV_H



/* SAME padding: output side and the padding before the first row/column. */
void dg_same_padding(int in, int k, int stride, int *out, int *pad_before);
/* out = [relu6](conv(in) + bias); col is scratch of oh*ow*kh*kw*cin floats. */
void dg_conv2d(const float *in, int n, int h, int w, int cin, const float *weights, const float *bias, int kh,
               int kw, int cout, int stride, int relu6, float *col, float *out);
void dg_depthwise_conv2d(const float *in, int n, int h, int w, int c, const float *weights, const float *bias,
                         int kh, int kw, int stride, int relu6, float *out);

#endif
