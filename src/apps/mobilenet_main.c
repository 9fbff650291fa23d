/* mobilenet_main.c - dg-mobilenet: the neural embedder outside the job.
 *   dg-mobilenet run WEIGHTS PREFIX IMAGE...
 *     decodes the images as the job does, writes the preprocessed network
 *     input (PREFIX.input.f32, n x S x S x 3), the pooled features
 *     (PREFIX.features.f32) and the class probabilities (PREFIX.probs.f32)
 *     as raw float32, and prints each image's class probabilities.
 *   dg-mobilenet bench WEIGHTS [IMAGES [BATCH]]   (under mpirun: every rank)
 *     times the network on IMAGES inputs per rank in batches of BATCH, and
 *     OpenBLAS sgemm (4096 x 256 x 4096) in the same run on every rank at
 *     once, and prints images/s and GFLOP/s per rank beside the sgemm peak.
 * It owns no library code; it only drives and times it. */
#include <cblas.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input/mobilenet.h"

static int write_floats(const char *prefix, const char *suffix, const float *x, size_t count)
{
    char path[4096];
    snprintf(path, sizeof path, "%s.%s.f32", prefix, suffix);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(x, sizeof(float), count, f) != count) {
        if (f)
            fclose(f);
        fprintf(stderr, "dg-mobilenet: cannot write %s\n", path);
        return DG_FAIL;
    }
    return fclose(f) == 0 ? DG_OK : DG_FAIL;
}

static int decode_inputs(dg_mobilenet *net, char **paths, int n, float *input)
{
    dg_decoder dec;
    dg_err err;
    if (dg_decoder_init(&dec, 0, net->size, &err) != DG_OK) {
        fprintf(stderr, "dg-mobilenet: %s\n", err.msg);
        return DG_FAIL;
    }
    int rc = DG_OK;
    size_t per = (size_t)net->size * net->size * 3;
    for (int i = 0; i < n && rc == DG_OK; i++) {
        dg_decode_result res;
        dg_decode_file(&dec, paths[i], &res);
        if (!dg_status_usable((int8_t)res.status)) {
            fprintf(stderr, "dg-mobilenet: %s: %s: %s\n", paths[i], dg_status_name(res.status), res.msg);
            rc = DG_FAIL;
        } else {
            dg_mobilenet_preprocess(&res.image, net->size, input + (size_t)i * per);
        }
    }
    dg_decoder_free(&dec);
    return rc;
}

static int cmd_run(dg_mobilenet *net, const char *prefix, char **paths, int n)
{
    size_t per = (size_t)net->size * net->size * 3;
    float *input = malloc(per * (size_t)n * sizeof(float));
    float *feat = malloc((size_t)n * net->d_features * sizeof(float));
    float *probs = malloc((size_t)n * net->n_classes * sizeof(float));
    dg_err err;
    int rc = input && feat && probs ? decode_inputs(net, paths, n, input) : DG_FAIL;
    if (rc == DG_OK && (rc = dg_mobilenet_forward(net, input, n, feat, probs, &err)) != DG_OK)
        fprintf(stderr, "dg-mobilenet: %s\n", err.msg);
    if (rc == DG_OK)
        rc = write_floats(prefix, "input", input, per * (size_t)n) | write_floats(prefix, "features", feat,
                          (size_t)n * net->d_features) | write_floats(prefix, "probs", probs,
                          (size_t)n * net->n_classes);
    for (int i = 0; rc == DG_OK && i < n; i++) {
        printf("%s:", paths[i]);
        for (int k = 0; k < net->n_classes; k++)
            printf(" %s=%.4f", net->classes[k], probs[(size_t)i * net->n_classes + k]);
        printf("\n");
    }
    free(input);
    free(feat);
    free(probs);
    return rc;
}

/* Seconds of `reps` sgemm calls of 4096 x 256 x 4096, all ranks together. */
static double sgemm_gflops(MPI_Comm comm)
{
    const int m = 4096, k = 256, reps = 4;
    float *a = malloc((size_t)m * k * sizeof(float)), *b = malloc((size_t)k * m * sizeof(float));
    float *c = malloc((size_t)m * m * sizeof(float));
    if (!a || !b || !c) {
        free(a), free(b), free(c);
        return 0.0;
    }
    for (size_t i = 0; i < (size_t)m * k; i++)
        a[i] = b[i] = (float)(i % 7) * 0.1f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, m, k, 1.0f, a, k, b, m, 0.0f, c, m);
    MPI_Barrier(comm);
    double t = dg_now();
    for (int r = 0; r < reps; r++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, m, k, 1.0f, a, k, b, m, 0.0f, c, m);
    t = dg_now() - t;
    free(a), free(b), free(c);
    return 2.0 * m * (double)m * k * reps / t * 1e-9;
}

/* Rank 0's time and rate per kind of layer (1x1 convolutions are sgemm). */
static void print_profile(const dg_mobilenet *net, int images)
{
    static const char *kind[] = {"1x1 conv (sgemm)", "stem conv (im2col+sgemm)", "depthwise 3x3", "other"};
    double sec[4] = {0}, flops[4] = {0}, total = 0;
    for (int l = 0; l < net->n_layers; l++) {
        const dg_mn_layer *L = &net->layer[l];
        int k = L->op == DG_MN_CONV2D ? (L->kh == 1 && L->kw == 1 ? 0 : 1) : L->op == DG_MN_DEPTHWISE_CONV2D ? 2 : 3;
        sec[k] += L->seconds, flops[k] += L->flops, total += L->seconds;
    }
    for (int k = 0; k < 4; k++)
        printf("rank 0 %-25s %5.1f%% of the time, %5.1f%% of the FLOPs, %6.1f GFLOP/s\n", kind[k],
               100.0 * sec[k] / total, 100.0 * flops[k] / net->flops_per_image,
               sec[k] > 0 ? flops[k] * images / sec[k] * 1e-9 : 0.0);
}

static int cmd_bench(dg_mobilenet *net, int images, int batch)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    size_t per = (size_t)net->size * net->size * 3;
    float *input = malloc(per * (size_t)batch * sizeof(float));
    float *feat = malloc((size_t)batch * net->d_features * sizeof(float));
    if (!input || !feat) {
        free(input), free(feat);
        return DG_FAIL;
    }
    for (size_t i = 0; i < per * (size_t)batch; i++)
        input[i] = (float)((i * 2654435761u) % 1000) / 1000.0f;
    dg_err err;
    int rc = dg_mobilenet_forward(net, input, batch, feat, NULL, &err); /* warm-up, buffers */
    double peak = sgemm_gflops(MPI_COMM_WORLD);
    for (int l = 0; l < net->n_layers; l++)
        net->layer[l].seconds = 0.0;
    MPI_Barrier(MPI_COMM_WORLD);
    double t = dg_now();
    int done = 0;
    while (rc == DG_OK && done < images) {
        int n = images - done < batch ? images - done : batch;
        rc = dg_mobilenet_forward(net, input, n, feat, NULL, &err);
        done += n;
    }
    t = dg_now() - t;
    double mine[3] = {done / t, done * net->flops_per_image / t * 1e-9, peak};
    double *all = rank == 0 ? malloc(sizeof mine * (size_t)size) : NULL;
    MPI_Gather(mine, 3, MPI_DOUBLE, all, 3, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    if (rank == 0 && all) {
        printf("dg-mobilenet bench: %d ranks, %d images per rank, batch %d, %.3f GFLOP per image (%d layers)\n",
               size, images, batch, net->flops_per_image * 1e-9, net->n_layers);
        double sum_img = 0, sum_gf = 0, sum_peak = 0;
        for (int r = 0; r < size; r++) {
            printf("rank %d: %.1f images/s, %.1f GFLOP/s; sgemm peak %.1f GFLOP/s (%.0f%% of it)\n", r,
                   all[3 * r], all[3 * r + 1], all[3 * r + 2], 100.0 * all[3 * r + 1] / all[3 * r + 2]);
            sum_img += all[3 * r], sum_gf += all[3 * r + 1], sum_peak += all[3 * r + 2];
        }
        printf("total: %.1f images/s, %.1f GFLOP/s; sgemm peak %.1f GFLOP/s (%.0f%%)\n", sum_img, sum_gf, sum_peak,
               100.0 * sum_gf / sum_peak);
        print_profile(net, done);
    }
    free(all);
    free(input);
    free(feat);
    if (rc != DG_OK)
        fprintf(stderr, "dg-mobilenet: %s\n", err.msg);
    return rc;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rc = DG_FAIL;
    dg_mobilenet net;
    dg_err err;
    if (argc < 3 || (strcmp(argv[1], "run") && strcmp(argv[1], "bench")) || (!strcmp(argv[1], "run") && argc < 5)) {
        fprintf(stderr, "usage: dg-mobilenet run WEIGHTS PREFIX IMAGE...\n"
                        "       dg-mobilenet bench WEIGHTS [IMAGES_PER_RANK [BATCH]]\n");
    } else if (dg_mobilenet_load(argv[2], &net, &err) != DG_OK) {
        fprintf(stderr, "dg-mobilenet: %s\n", err.msg);
    } else {
        if (!strcmp(argv[1], "run"))
            rc = cmd_run(&net, argv[3], argv + 4, argc - 4);
        else
            rc = cmd_bench(&net, argc > 3 ? atoi(argv[3]) : 64,
                           argc > 4 ? atoi(argv[4]) : DG_MOBILENET_BATCH);
        dg_mobilenet_free(&net);
    }
    MPI_Finalize();
    return rc == DG_OK ? 0 : 1;
}
