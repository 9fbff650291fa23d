/* embed.h - image input: listing the corpus, decoding JPEG files with
 * libjpeg-turbo, the built-in near-duplicate descriptor and the PCA
 * projection learned on the corpus, which together turn a folder or a list
 * of JPEG files into the L2-normalised vectors the rest of the job searches.
 *
 * Input listing
 *   input.manifest: a text file, one path per line.  A line is taken
 *     verbatim except that a trailing CR is removed (CRLF files work); blank
 *     lines (empty or only spaces/tabs) and lines whose first character is
 *     '#' are skipped (write "./#name" for a file whose name starts with
 *     '#').  Relative paths are resolved against the manifest's folder.  A
 *     line holding a NUL byte or a path of DG_PATH_MAX bytes or more stops
 *     the job with the line number.
 *   input.dir: the folder is walked recursively; every regular file (or
 *     symbolic link to one) whose name ends in .jpg, .jpeg, .jpe or .jfif
 *     (any case) is an item.  Symbolic links to folders are not followed (no
 *     loops, no item seen twice).  Items are sorted bytewise by their path,
 *     so the order is the same on every run and every rank count.
 *   The item path (items->path, /items/path) is the path that is opened:
 *   the folder joined with the entry, or the manifest line as written when
 *   it is absolute or the manifest has no folder part.
 *
 * Decoding (per item, never fatal for the job)
 *   stat, then open with O_NONBLOCK and fstat again: anything but a regular
 *   file is `unreadable` (a FIFO or device is never read); files above
 *   DG_EMBED_MAX_FILE_BYTES are `too_large`.  The frame header is checked
 *   before any decoding: a width x height above embed.max_pixels is
 *   `too_large`; 12-bit, lossless and hierarchical JPEGs are `unsupported`.
 *   The image is decoded with DCT-domain scaling to the smallest size whose
 *   sides are both at least DG_DESC_SIZE (TJPF_RGB; CMYK/YCCK via TJPF_CMYK
 *   and a naive conversion).  libjpeg-turbo warnings give `ok_with_warning`,
 *   unless the data ended early and more than DG_EMBED_MAX_MISSING_ROWS of
 *   the rows were never decoded (they come out mid-gray): that is `corrupt`.
 *
 * Descriptor (DG_DESC_DIM floats per image; see descriptor.c)
 *   Uniform borders (letterboxing, frames) are trimmed, 10% of each side is
 *   left out (crops, captions and logos change edges most), the rest is
 *   resampled to DG_DESC_SIZE x DG_DESC_SIZE and weighted by a window that
 *   fades in from its edges.  Three cues are concatenated, each scaled to a
 *   fixed length: low-frequency DCT of the rank-equalised luminance
 *   (brightness, contrast and gamma change it little), gradient-orientation
 *   histograms on a 4 x 4 grid, and a lightly weighted 4 x 4 chroma layout
 *   (grayscale conversion costs little).  With embed.flip the descriptor is
 *   invariant to horizontal mirroring.
 *
 * Projection
 *   Every usable item's descriptor, quantised to integers, enters sums that
 *   are exact in int64 and added over ranks with MPI_Allreduce, so the
 *   covariance, and with it every embedding, is bit-identical for any number
 *   of ranks.  Rank 0 takes the top embed.dim eigenvectors (LAPACK dsyev),
 *   partially whitened (see pca.c), and broadcasts them; every rank applies
 *   them with cblas_sgemm and L2-normalises the result.  Fewer than two
 *   usable items (or no variance at all): the projection falls back to the
 *   first embed.dim descriptor coordinates, and says so in the log.
 */
#ifndef DUPGRAPH_EMBED_H
#define DUPGRAPH_EMBED_H

#include <stddef.h>
#include <stdint.h>

#include "dupgraph/common.h"
#include "dupgraph/config.h"
#include "dupgraph/context.h"
#include "dupgraph/h5io.h"
#include "dupgraph/items.h"

/* ---- listing (manifest.c) ---------------------------------------------- */

/* A contiguous share of the input's paths. */
typedef struct dg_pathlist {
    int64_t n_total; /* entries in the whole input */
    int64_t lo;      /* global index of path[0] */
    int64_t n;       /* paths held here */
    char **path;     /* n malloc'd strings */
} dg_pathlist;

void dg_pathlist_free(dg_pathlist *pl);

/* Allocates items for this share (d dims, image input) and moves the
 * listed paths into them; pl keeps its counts, its paths become NULL. */
int dg_items_from_list(dg_items *items, dg_pathlist *pl, int d, dg_err *err);

/* Serial: the manifest's entries with global index in [lo, hi) (hi < 0 for
 * all); out->n_total counts every entry.  Fails naming the manifest (and the
 * line) when it cannot be read or is malformed. */
int dg_manifest_read(const char *manifest, int64_t lo, int64_t hi, dg_pathlist *out, dg_err *err);

/* Serial: every image file under dir (see above), sorted. */
int dg_dir_list(const char *dir, dg_pathlist *out, dg_err *err);

/* Collective: this rank's share [dg_range_lo(N,P,r), dg_range_lo(N,P,r+1))
 * of cfg's input (manifest or dir).  A manifest is indexed by rank 0 and
 * every rank then reads only its own lines; a folder is walked by rank 0 and
 * the shares are scattered.  All ranks fail together. */
int dg_list_input(const dg_ctx *ctx, const dg_config *cfg, dg_pathlist *out, dg_err *err);

/* ---- decoding (decode.c) ------------------------------------------------ */

#define DG_EMBED_MAX_FILE_BYTES ((size_t)256 << 20)
#define DG_EMBED_MAX_MISSING_ROWS 0.05

/* Packed RGB, 3 bytes per pixel, rows without padding. */
typedef struct dg_pixels {
    int w, h;
    const unsigned char *rgb;
} dg_pixels;

/* One per rank, reused for every file: the turbojpeg handle and buffers. */
typedef struct dg_decoder {
    void *tj;           /* tjhandle */
    int64_t max_pixels; /* <= 0: no limit */
    int min_side;       /* decode to the smallest scale with both sides >= this */
    unsigned char *file;
    size_t file_cap;
    unsigned char *pix;
    size_t pix_cap;
} dg_decoder;

typedef struct dg_decode_result {
    dg_status status;
    int width, height;  /* of the JPEG; 0 when its header was not read */
    dg_pixels image;     /* usable statuses only; valid until the next call */
    char msg[256];      /* reason of a failure or warning, "" for ok */
    double seconds_read, seconds_decode;
} dg_decode_result;

int dg_decoder_init(dg_decoder *dec, int64_t max_pixels, int min_side, dg_err *err);
void dg_decoder_free(dg_decoder *dec);
void dg_decode_file(dg_decoder *dec, const char *path, dg_decode_result *res);
/* Same from bytes in memory (tests, fuzzing); never reads the file system. */
void dg_decode_memory(dg_decoder *dec, const unsigned char *buf, size_t len, dg_decode_result *res);

/* ---- descriptor (descriptor.c) ------------------------------------------ */

#define DG_DESC_SIZE 64       /* working raster side, pixels */
#define DG_DESC_DCT_DIM 35    /* low-frequency DCT coefficients, DC excluded */
#define DG_DESC_HOG_DIM 128   /* 4 x 4 cells x 8 orientations */
#define DG_DESC_COLOR_DIM 32  /* 4 x 4 cells x 2 chroma channels */
#define DG_DESC_DIM (DG_DESC_DCT_DIM + DG_DESC_HOG_DIM + DG_DESC_COLOR_DIM)
#define DG_DESC_VERSION 1

/* Writes the DG_DESC_DIM raw descriptor of an image (any size >= 1 x 1).
 * Every value lies in [-1, 1].  Pure function of the pixels and flip. */
void dg_descriptor(const dg_pixels *img, int flip, float *out);

/* ---- projection (pca.c) and the stage (embed.c) ------------------------- */

/* Quantisation of descriptor values for the exact PCA sums. */
#define DG_DESC_QUANT 32767.0f

typedef struct dg_embed_stats {
    int64_t n_items;                  /* all ranks */
    int64_t n_usable;                 /* all ranks */
    int64_t status_count[DG_ST_COUNT]; /* all ranks */
    /* this rank's seconds */
    double seconds_read, seconds_decode, seconds_descriptor;
    double seconds_pca, seconds_project;
    int64_t n_local;                  /* items this rank embedded */
} dg_embed_stats;

/* The learned projection: vec = normalise(matrix * (x - mean)) where x is
 * the dequantised descriptor (q / DG_DESC_QUANT). */
typedef struct dg_embed_model {
    int d_in;            /* DG_DESC_DIM */
    int d;               /* embed.dim */
    int flip;
    int fallback;        /* 1: too few usable items, first d coordinates */
    int64_t n_fit;       /* usable items the projection was learned on */
    float *mean;         /* d_in */
    float *matrix;       /* d x d_in, row-major, whitening included */
    float *eigenvalues;  /* d, descending */
    float info[4];       /* DG_DESC_VERSION, DG_DESC_SIZE, flip, DG_DESC_QUANT */
    dg_embed_stats stats;
} dg_embed_model;

/* Embeds this rank's share of the listed input (dg_list_input; the paths
 * move from `listed` into items), learns the PCA projection over all ranks
 * and fills items (n_total, lo, n, d = cfg->embed_dim, vec L2-normalised,
 * status, width, height, path malloc'd per item).  A bad image never fails
 * the call: it gets a status, a log line (dg_log_rank) and a zero row.
 * Collective. */
int dg_embed_images(const dg_ctx *ctx, const dg_config *cfg, dg_pathlist *listed, dg_items *items,
                    dg_embed_model *model, dg_err *err);
void dg_embed_model_free(dg_embed_model *model);

/* The model as datasets for the output file: /projection/mean (d_in),
 * /projection/matrix (d x d_in), /projection/eigenvalues (d) and
 * /projection/info (DG_DESC_VERSION, DG_DESC_SIZE, flip, DG_DESC_QUANT).
 * The pointers refer into model.  max must be at least 4. */
int dg_embed_model_datasets(const dg_embed_model *model, dg_extra_dataset *out, int max, int *n_out,
                            dg_err *err);

/* Collective pieces of dg_embed_images, for tests and benchmarks:
 * q holds n rows of DG_DESC_DIM quantised descriptors (rows of unusable
 * items are ignored); learns the model on the usable rows of all ranks. */
int dg_pca_fit(const dg_ctx *ctx, const int16_t *q, const int8_t *status, int64_t n, int d, int flip,
               dg_embed_model *model, dg_err *err);
/* vec (n x model->d) = model applied to the n rows of q, whose first row is
 * item first_id; rows of unusable items are zero (not yet normalised).  A
 * row's result depends only on its data and global id, never on n or on
 * the other rows (so on no rank layout). */
int dg_pca_project(const dg_embed_model *model, const int16_t *q, const int8_t *status, int64_t first_id,
                   int64_t n, float *vec, dg_err *err);
/* Quantises one descriptor for dg_pca_fit (round to nearest, clamped). */
void dg_descriptor_quantise(const float *x, int16_t *q);

#endif
