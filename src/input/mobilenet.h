/* mobilenet.h - the neural image embedder: MobileNetV2 (width 1.4, 224 x 224
 * input) with the 5-class content head of the nsfwjs npm package, run on
 * the CPU with OpenBLAS, a batch of images per call.
 *
 * Weights file (made once by jobs/setup_mobilenet.sh; see
 * jobs/convert_mobilenet.py): /tensors/NAME float32 arrays and the /graph columns, a
 * layer table in execution order translated from the TF.js graph's node
 * list.  dg_mobilenet_load reads the table, infers every layer's output
 * shape from the input size, checks each tensor's shape against the layer
 * that uses it and refuses anything it cannot run.
 *
 * Preprocessing (as nsfwjs does it): RGB bytes / 255, then a bilinear
 * resize with aligned corners (tf.image.resizeBilinear(x, [224, 224], true))
 * of the whole image to 224 x 224 (no crop; the aspect ratio is not kept).
 * The graph itself maps [0, 1] to [-1, 1].  Our decoder first shrinks large
 * JPEGs in the DCT domain to the smallest scale with both sides >= 224, so
 * the network sees a slightly different resample than nsfwjs on a
 * full-size decode; the network itself is checked against TF.js on
 * identical input tensors (tests/e2e_mobilenet.py).
 *
 * Outputs per image: the 1792 pooled features (the input of the dense
 * head) and the 5 class probabilities (Drawing, Hentai, Neutral, Porn,
 * Sexy).  OpenBLAS's rounding depends on the matrix sizes, so an image's
 * result is bit-identical only between calls with the same batch size and
 * the same position in the batch: the job runs one image per call
 * (DG_MOBILENET_BATCH), so its output does not depend on the rank count.
 * One image per call is also the faster way on one core (measured 42 vs 37
 * images/s for batches of 1 and 8: one image's activations stay in cache).
 */
#ifndef DUPGRAPH_INPUT_MOBILENET_H
#define DUPGRAPH_INPUT_MOBILENET_H

#include <stddef.h>

#include "dupgraph/common.h"
#include "input/decode.h"

#define DG_MOBILENET_BATCH 1      /* images per forward call in the job (see above) */
#define DG_MOBILENET_MAX_CLASSES 8
#define DG_MOBILENET_NAME_LEN 160

typedef enum dg_mn_op {
    DG_MN_MUL_SCALAR = 1,
    DG_MN_SUB_SCALAR = 2,
    DG_MN_CONV2D = 3,           /* SAME padding, bias, optional ReLU6 */
    DG_MN_DEPTHWISE_CONV2D = 4, /* SAME padding, bias, optional ReLU6 */
    DG_MN_ADD = 5,
    DG_MN_AVGPOOL = 6,          /* global: ksize = the input's side */
    DG_MN_DENSE = 7,            /* bias */
    DG_MN_SOFTMAX = 8
} dg_mn_op;

typedef struct dg_mn_layer {
    int op, in0, in1;   /* inputs: layer rows, -1 = the image */
    int stride, relu6, ksize;
    float param;        /* scalar of mul/sub */
    int h, w, c;        /* output shape of one image */
    int kh, kw, cin;    /* kernel of conv/depthwise/dense */
    float *weights;     /* [kh][kw][cin][c] (depthwise: [kh][kw][c]); dense [cin][c] */
    float *bias;        /* c */
    int slot;           /* activation buffer holding the output */
    double flops;       /* per image, 2 per multiply-add */
    double seconds;     /* spent in this layer by dg_mobilenet_forward so far */
    char name[DG_MOBILENET_NAME_LEN];
} dg_mn_layer;

typedef struct dg_mobilenet {
    int n_layers;
    dg_mn_layer *layer;
    int size;                /* input side, 224 */
    int features_layer;      /* the dense head's input */
    int output_layer;        /* the softmax */
    int d_features, n_classes;
    char classes[DG_MOBILENET_MAX_CLASSES][32];
    double flops_per_image;
    /* activation buffers, grown to the largest batch seen */
    int n_slots;
    size_t *slot_floats;     /* per image */
    float **slot;
    float *col;              /* im2col of one image */
    size_t col_floats;
    int batch_cap;
} dg_mobilenet;

/* Reads and checks the weights file (serial HDF5, every rank reads it). */
int dg_mobilenet_load(const char *path, dg_mobilenet *net, dg_err *err);
/* Bytes the loaded network holds while it runs one image per call: weights,
 * biases, activation slots and the im2col buffer (for the memory estimate). */
double dg_mobilenet_bytes(const dg_mobilenet *net);
void dg_mobilenet_free(dg_mobilenet *net);

/* Runs n images: input holds n x size x size x 3 floats (NHWC, values in
 * [0, 1] as made by dg_mobilenet_preprocess); features gets n x d_features,
 * probs n x n_classes (either may be NULL).  Not thread-safe (uses net's
 * buffers). */
int dg_mobilenet_forward(dg_mobilenet *net, const float *input, int n, float *features, float *probs,
                         dg_err *err);

/* size x size x 3 floats from packed RGB, as nsfwjs prepares an image. */
void dg_mobilenet_preprocess(const dg_pixels *img, int size, float *out);

#endif
