/* mobilenet.c - the neural embedder's network: loading the converted
 * weights file (layer table + tensors, every shape checked against the
 * shapes the table implies), planning the activation buffers (a layer's
 * buffer is reused once its last reader has run), running a batch layer by
 * layer, and the nsfwjs preprocessing.  The convolution kernels are in
 * conv.c; turning images into items is embed.c's job. */
#include "input/mobilenet.h"

#include <cblas.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input/conv.h"
#include "io/h5_open.h"

/* ---- reading the weights file ------------------------------------------- */

static int read_column(hid_t file, const char *name, hid_t memtype, size_t elem, int n_expect, void **out,
                       int *n_out, dg_err *err)
{
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    if (ds < 0)
        return dg_failc(err, DG_E_INPUT, "weights file: no dataset %s", name);
    hid_t space = H5Dget_space(ds);
    hsize_t dim = 0;
    int ok = H5Sget_simple_extent_ndims(space) == 1 && H5Sget_simple_extent_dims(space, &dim, NULL) == 1 &&
             dim > 0 && dim < 100000 && (n_expect < 0 || (int)dim == n_expect);
    H5Sclose(space);
    void *buf = ok ? dg_calloc((size_t)dim, elem, err) : NULL;
    int rc = buf && H5Dread(ds, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0 ? DG_OK : DG_FAIL;
    H5Dclose(ds);
    if (rc != DG_OK) {
        free(buf);
        return ok ? dg_failc(err, DG_E_INPUT, "weights file: cannot read %s", name)
                  : dg_failc(err, DG_E_INPUT, "weights file: %s is not a 1-D column of the layer table's length", name);
    }
    *out = buf;
    *n_out = (int)dim;
    return DG_OK;
}

/* The tensor /tensors/<name> with exactly the dimensions dims[0..nd). */
static int read_tensor(hid_t file, const char *name, const int *dims, int nd, float **out, dg_err *err)
{
    char path[DG_MOBILENET_NAME_LEN + 16];
    snprintf(path, sizeof path, "/tensors/%s", name);
    hid_t ds = H5Dopen2(file, path, H5P_DEFAULT);
    if (ds < 0)
        return dg_failc(err, DG_E_INPUT, "weights file: no tensor %s", name);
    hid_t space = H5Dget_space(ds);
    hsize_t got[8];
    int gnd = H5Sget_simple_extent_ndims(space);
    int ok = gnd == nd && nd <= 8 && H5Sget_simple_extent_dims(space, got, NULL) == nd;
    size_t count = 1;
    for (int i = 0; ok && i < nd; i++) {
        ok = got[i] == (hsize_t)dims[i];
        count *= (size_t)dims[i];
    }
    H5Sclose(space);
    float *buf = ok ? dg_alloc(count, sizeof(float), err) : NULL;
    int rc = buf && H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0 ? DG_OK : DG_FAIL;
    H5Dclose(ds);
    if (rc != DG_OK) {
        free(buf);
        return ok ? dg_failc(err, DG_E_INPUT, "weights file: cannot read tensor %s", name)
                  : dg_failc(err, DG_E_INPUT, "weights file: tensor %s does not have the shape its layer needs", name);
    }
    *out = buf;
    return DG_OK;
}

static int read_string_attr(hid_t file, const char *name, char *out, size_t cap, dg_err *err)
{
    /* one element only: an array of strings would be read into one pointer */
    hid_t attr = dg_h5_open_scalar_attr(file, name);
    if (attr < 0)
        return dg_failc(err, DG_E_INPUT, "weights file: no single attribute %s", name);
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    char *s = NULL;
    int rc = H5Aread(attr, type, &s) >= 0 && s ? DG_OK : DG_FAIL;
    if (rc == DG_OK)
        snprintf(out, cap, "%s", s);
    if (s)
        H5free_memory(s);
    H5Tclose(type);
    H5Aclose(attr);
    return rc == DG_OK ? DG_OK : dg_failc(err, DG_E_INPUT, "weights file: attribute %s is not a string", name);
}

static int read_int_attr(hid_t file, const char *name, int *out, dg_err *err)
{
    hid_t attr = H5Aopen(file, name, H5P_DEFAULT);
    if (attr < 0)
        return dg_failc(err, DG_E_INPUT, "weights file: no attribute %s", name);
    hid_t space = H5Aget_space(attr);
    int ok = H5Sget_simple_extent_npoints(space) == 1 && H5Aread(attr, H5T_NATIVE_INT, out) >= 0;
    H5Sclose(space);
    H5Aclose(attr);
    return ok ? DG_OK : dg_failc(err, DG_E_INPUT, "weights file: attribute %s is not one integer", name);
}

/* The layer table's columns into net->layer; the weights and bias tensor
 * names of layer l at (*wnames, *bnames) + l * DG_MOBILENET_NAME_LEN. */
static int read_table(hid_t file, dg_mobilenet *net, char **wnames, char **bnames, dg_err *err)
{
    static const char *ints[] = {"/graph/op", "/graph/input0", "/graph/input1", "/graph/stride", "/graph/relu6",
                                 "/graph/ksize"};
    int *col[6] = {0};
    double *param = NULL;
    char *names[3] = {0};
    static const char *strs[] = {"/graph/weights", "/graph/bias", "/graph/name"};
    hid_t stype = H5Tcopy(H5T_C_S1);
    H5Tset_size(stype, DG_MOBILENET_NAME_LEN);
    int n = -1, rc = DG_OK;
    for (int i = 0; i < 6 && rc == DG_OK; i++)
        rc = read_column(file, ints[i], H5T_NATIVE_INT, sizeof(int), n, (void **)&col[i], &n, err);
    if (rc == DG_OK)
        rc = read_column(file, "/graph/param", H5T_NATIVE_DOUBLE, sizeof(double), n, (void **)&param, &n, err);
    for (int i = 0; i < 3 && rc == DG_OK; i++)
        rc = read_column(file, strs[i], stype, DG_MOBILENET_NAME_LEN, n, (void **)&names[i], &n, err);
    if (rc == DG_OK && (net->layer = dg_calloc((size_t)n, sizeof(dg_mn_layer), err)) == NULL)
        rc = DG_FAIL;
    for (int l = 0; rc == DG_OK && l < n; l++) {
        dg_mn_layer *L = &net->layer[l];
        L->op = col[0][l], L->in0 = col[1][l], L->in1 = col[2][l];
        L->stride = col[3][l], L->relu6 = col[4][l], L->ksize = col[5][l];
        L->param = (float)param[l];
        memcpy(L->name, names[2] + (size_t)l * DG_MOBILENET_NAME_LEN, DG_MOBILENET_NAME_LEN);
        L->name[DG_MOBILENET_NAME_LEN - 1] = '\0';
    }
    if (rc == DG_OK)
        net->n_layers = n;
    H5Tclose(stype);
    for (int i = 0; i < 6; i++)
        free(col[i]);
    free(param);
    free(names[2]);
    if (rc != DG_OK) {
        free(names[0]);
        free(names[1]);
        return DG_FAIL;
    }
    *wnames = names[0];
    *bnames = names[1];
    return DG_OK;
}

/* ---- shapes -------------------------------------------------------------- */

static void input_shape(const dg_mobilenet *net, int in, int *h, int *w, int *c)
{
    if (in < 0) {
        *h = *w = net->size;
        *c = 3;
    } else {
        *h = net->layer[in].h, *w = net->layer[in].w, *c = net->layer[in].c;
    }
}

static int conv_shapes(hid_t file, dg_mobilenet *net, dg_mn_layer *L, const char *wname, const char *bname,
                       int h, int w, int c, dg_err *err)
{
    hid_t ds;
    char path[DG_MOBILENET_NAME_LEN + 16];
    snprintf(path, sizeof path, "/tensors/%s", wname);
    if ((ds = H5Dopen2(file, path, H5P_DEFAULT)) < 0)
        return dg_failc(err, DG_E_INPUT, "weights file: no tensor %s (layer %s)", wname, L->name);
    hid_t space = H5Dget_space(ds);
    hsize_t d[4] = {0};
    int ok = H5Sget_simple_extent_ndims(space) == 4 && H5Sget_simple_extent_dims(space, d, NULL) == 4;
    H5Sclose(space);
    H5Dclose(ds);
    if (!ok || d[0] < 1 || d[0] > 15 || d[1] < 1 || d[1] > 15 || d[3] < 1 || d[3] > 65536 || L->stride < 1 ||
        L->stride > 4)
        return dg_failc(err, DG_E_INPUT, "weights file: layer %s: kernel %s is not a 4-D convolution kernel", L->name, wname);
    L->kh = (int)d[0], L->kw = (int)d[1], L->cin = c;
    int dims[4] = {L->kh, L->kw, c, L->op == DG_MN_CONV2D ? (int)d[3] : 1};
    L->c = L->op == DG_MN_CONV2D ? (int)d[3] : c;
    int pad;
    dg_same_padding(h, L->kh, L->stride, &L->h, &pad);
    dg_same_padding(w, L->kw, L->stride, &L->w, &pad);
    double taps = (double)L->h * L->w * L->kh * L->kw;
    L->flops = 2.0 * taps * c * (L->op == DG_MN_CONV2D ? L->c : 1);
    if (L->op == DG_MN_CONV2D && !(L->kh == 1 && L->kw == 1 && L->stride == 1)) {
        size_t need = (size_t)L->h * L->w * L->kh * L->kw * c;
        if (need > net->col_floats)
            net->col_floats = need;
    }
    int bdims[1] = {L->c};
    if (read_tensor(file, wname, dims, 4, &L->weights, err) != DG_OK)
        return DG_FAIL;
    return read_tensor(file, bname, bdims, 1, &L->bias, err);
}

/* Output shape of layer l, its weights read and checked against it. */
static int layer_shape(hid_t file, dg_mobilenet *net, int l, const char *wname, const char *bname, dg_err *err)
{
    dg_mn_layer *L = &net->layer[l];
    if (L->in0 < -1 || L->in0 >= l || L->in1 < -1 || L->in1 >= l)
        return dg_failc(err, DG_E_INPUT, "weights file: layer %s reads a layer that is not computed before it", L->name);
    int h, w, c;
    input_shape(net, L->in0, &h, &w, &c);
    L->h = h, L->w = w, L->c = c;
    switch (L->op) {
    case DG_MN_MUL_SCALAR:
    case DG_MN_SUB_SCALAR:
    case DG_MN_SOFTMAX:
        return DG_OK;
    case DG_MN_CONV2D:
    case DG_MN_DEPTHWISE_CONV2D:
        return conv_shapes(file, net, L, wname, bname, h, w, c, err);
    case DG_MN_ADD: {
        int h1, w1, c1;
        input_shape(net, L->in1, &h1, &w1, &c1);
        if (L->in1 < 0 || h1 != h || w1 != w || c1 != c)
            return dg_failc(err, DG_E_INPUT, "weights file: layer %s adds tensors of different shapes", L->name);
        return DG_OK;
    }
    case DG_MN_AVGPOOL:
        if (L->ksize != h || L->ksize != w)
            return dg_failc(err, DG_E_INPUT, "weights file: layer %s: only a global average pool is supported", L->name);
        L->h = L->w = 1;
        return DG_OK;
    case DG_MN_DENSE: {
        if (h != 1 || w != 1)
            return dg_failc(err, DG_E_INPUT, "weights file: layer %s: dense layer on a spatial input", L->name);
        hid_t ds;
        char path[DG_MOBILENET_NAME_LEN + 16];
        snprintf(path, sizeof path, "/tensors/%s", wname);
        if ((ds = H5Dopen2(file, path, H5P_DEFAULT)) < 0)
            return dg_failc(err, DG_E_INPUT, "weights file: no tensor %s", wname);
        hid_t space = H5Dget_space(ds);
        hsize_t d[2] = {0};
        int ok = H5Sget_simple_extent_ndims(space) == 2 && H5Sget_simple_extent_dims(space, d, NULL) == 2;
        H5Sclose(space);
        H5Dclose(ds);
        if (!ok || d[1] < 1 || d[1] > DG_MOBILENET_MAX_CLASSES)
            return dg_failc(err, DG_E_INPUT, "weights file: layer %s: kernel is not [features, classes<=%d]", L->name,
                           DG_MOBILENET_MAX_CLASSES);
        L->cin = c, L->c = (int)d[1], L->kh = L->kw = 1;
        L->flops = 2.0 * c * L->c;
        int dims[2] = {c, L->c}, bdims[1] = {L->c};
        if (read_tensor(file, wname, dims, 2, &L->weights, err) != DG_OK)
            return DG_FAIL;
        return read_tensor(file, bname, bdims, 1, &L->bias, err);
    }
    default:
        return dg_failc(err, DG_E_INPUT, "weights file: layer %s: unknown op %d", L->name, L->op);
    }
}

static int load_layers(hid_t file, dg_mobilenet *net, char *wnames, char *bnames, dg_err *err)
{
    int rc = DG_OK;
    for (int l = 0; l < net->n_layers && rc == DG_OK; l++) {
        char *wn = wnames + (size_t)l * DG_MOBILENET_NAME_LEN, *bn = bnames + (size_t)l * DG_MOBILENET_NAME_LEN;
        wn[DG_MOBILENET_NAME_LEN - 1] = bn[DG_MOBILENET_NAME_LEN - 1] = '\0';
        rc = layer_shape(file, net, l, wn, bn, err);
        if (rc == DG_OK)
            net->flops_per_image += net->layer[l].flops;
    }
    return rc;
}

/* The head: one dense layer whose input is the features, then the softmax
 * as the last layer. */
static int find_head(dg_mobilenet *net, dg_err *err)
{
    int last = net->n_layers - 1;
    const dg_mn_layer *out = &net->layer[last];
    if (out->op != DG_MN_SOFTMAX || out->in0 < 0 || net->layer[out->in0].op != DG_MN_DENSE)
        return dg_failc(err, DG_E_INPUT, "weights file: the last layer is not softmax(dense(features))");
    const dg_mn_layer *dense = &net->layer[out->in0];
    if (dense->in0 < 0 || net->layer[dense->in0].op != DG_MN_AVGPOOL)
        return dg_failc(err, DG_E_INPUT, "weights file: the dense head does not read the pooled features");
    net->output_layer = last;
    net->features_layer = dense->in0;
    net->d_features = net->layer[dense->in0].c;
    net->n_classes = dense->c;
    return DG_OK;
}

static int read_classes(hid_t file, dg_mobilenet *net, dg_err *err)
{
    char text[DG_MOBILENET_MAX_CLASSES * 32];
    if (read_string_attr(file, "classes", text, sizeof text, err) != DG_OK)
        return DG_FAIL;
    int k = 0;
    for (char *save = NULL, *tok = strtok_r(text, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (k == DG_MOBILENET_MAX_CLASSES)
            break;
        snprintf(net->classes[k++], sizeof net->classes[0], "%s", tok);
    }
    if (k != net->n_classes)
        return dg_failc(err, DG_E_INPUT, "weights file: %d class names for a head of %d classes", k, net->n_classes);
    return DG_OK;
}

/* ---- activation buffers -------------------------------------------------- */

/* Gives every layer a slot; a slot is free again after its layer's last
 * reader ran.  The features and the output keep theirs to the end. */
static int plan_slots(dg_mobilenet *net, dg_err *err)
{
    int n = net->n_layers;
    int *last = dg_alloc((size_t)n, sizeof(int), err);
    int *owner = dg_alloc((size_t)n, sizeof(int), err); /* slot -> layer holding it, -1 free */
    net->slot_floats = dg_calloc((size_t)n, sizeof(size_t), err);
    if (!last || !owner || !net->slot_floats) {
        free(last);
        free(owner);
        return DG_FAIL;
    }
    for (int l = 0; l < n; l++) {
        last[l] = (l == net->features_layer || l == net->output_layer) ? n : l;
        owner[l] = -1;
    }
    for (int l = 0; l < n; l++) {
        if (net->layer[l].in0 >= 0 && last[net->layer[l].in0] < l)
            last[net->layer[l].in0] = l;
        if (net->layer[l].in1 >= 0 && last[net->layer[l].in1] < l)
            last[net->layer[l].in1] = l;
    }
    for (int l = 0; l < n; l++) {
        dg_mn_layer *L = &net->layer[l];
        int s = 0;
        while (owner[s] >= 0 && last[owner[s]] >= l)
            s++;
        owner[s] = l;
        L->slot = s;
        size_t need = (size_t)L->h * L->w * L->c;
        if (need > net->slot_floats[s])
            net->slot_floats[s] = need;
        if (s + 1 > net->n_slots)
            net->n_slots = s + 1;
    }
    free(last);
    free(owner);
    return DG_OK;
}

double dg_mobilenet_bytes(const dg_mobilenet *net)
{
    double floats = (double)net->col_floats;
    for (int s = 0; s < net->n_slots; s++)
        floats += (double)net->slot_floats[s] * DG_MOBILENET_BATCH;
    for (int l = 0; l < net->n_layers; l++) {
        const dg_mn_layer *L = &net->layer[l];
        if (L->op == DG_MN_CONV2D || L->op == DG_MN_DENSE)
            floats += (double)L->kh * L->kw * L->cin * L->c + L->c;
        else if (L->op == DG_MN_DEPTHWISE_CONV2D)
            floats += (double)L->kh * L->kw * L->c + L->c;
    }
    return 4.0 * floats;
}

static int grow_buffers(dg_mobilenet *net, int n, dg_err *err)
{
    if (n <= net->batch_cap)
        return DG_OK;
    if (!net->slot && !(net->slot = dg_calloc((size_t)net->n_slots, sizeof(float *), err)))
        return DG_FAIL;
    for (int s = 0; s < net->n_slots; s++) {
        free(net->slot[s]);
        if (!(net->slot[s] = dg_alloc(net->slot_floats[s] * (size_t)n, sizeof(float), err)))
            return DG_FAIL;
    }
    if (net->col_floats && !net->col && !(net->col = dg_alloc(net->col_floats, sizeof(float), err)))
        return DG_FAIL;
    net->batch_cap = n;
    return DG_OK;
}

int dg_mobilenet_load(const char *path, dg_mobilenet *net, dg_err *err)
{
    memset(net, 0, sizeof *net);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0)
        return dg_failc(err, DG_E_INPUT, "cannot open the MobileNetV2 weights %s (made by jobs/setup_mobilenet.sh)", path);
    int rc = read_int_attr(file, "input_size", &net->size, err);
    if (rc == DG_OK && (net->size < 8 || net->size > 4096))
        rc = dg_failc(err, DG_E_INPUT, "weights file: input_size %d", net->size);
    char *wnames = NULL, *bnames = NULL;
    if (rc == DG_OK)
        rc = read_table(file, net, &wnames, &bnames, err);
    if (rc == DG_OK)
        rc = load_layers(file, net, wnames, bnames, err);
    free(wnames);
    free(bnames);
    if (rc == DG_OK)
        rc = find_head(net, err);
    if (rc == DG_OK)
        rc = read_classes(file, net, err);
    H5Fclose(file);
    if (rc == DG_OK)
        rc = plan_slots(net, err);
    if (rc != DG_OK) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        dg_mobilenet_free(net);
        return dg_failc(err, DG_E_INPUT, "%s: %s", path, msg);
    }
    return DG_OK;
}

void dg_mobilenet_free(dg_mobilenet *net)
{
    for (int l = 0; net->layer && l < net->n_layers; l++) {
        free(net->layer[l].weights);
        free(net->layer[l].bias);
    }
    free(net->layer);
    for (int s = 0; net->slot && s < net->n_slots; s++)
        free(net->slot[s]);
    free(net->slot);
    free(net->slot_floats);
    free(net->col);
    memset(net, 0, sizeof *net);
}

/* ---- running ------------------------------------------------------------- */

static void avgpool(const float *in, int n, int hw, int c, float *out)
{
    for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++) {
            double s = 0.0;
            for (int p = 0; p < hw; p++)
                s += in[((size_t)b * hw + p) * c + ch];
            out[(size_t)b * c + ch] = (float)(s / hw);
        }
}

static void softmax(const float *in, int n, int c, float *out)
{
    for (int b = 0; b < n; b++) {
        const float *x = in + (size_t)b * c;
        double m = x[0], sum = 0.0;
        for (int k = 1; k < c; k++)
            m = x[k] > m ? x[k] : m;
        for (int k = 0; k < c; k++)
            sum += exp(x[k] - m);
        for (int k = 0; k < c; k++)
            out[(size_t)b * c + k] = (float)(exp(x[k] - m) / sum);
    }
}

static void run_layer(dg_mobilenet *net, const dg_mn_layer *L, const float *input, int n)
{
    const float *a = L->in0 < 0 ? input : net->slot[net->layer[L->in0].slot];
    float *out = net->slot[L->slot];
    int h, w, c;
    input_shape(net, L->in0, &h, &w, &c);
    size_t count = (size_t)n * L->h * L->w * L->c;
    switch (L->op) {
    case DG_MN_MUL_SCALAR:
        for (size_t i = 0; i < count; i++)
            out[i] = a[i] * L->param;
        break;
    case DG_MN_SUB_SCALAR:
        for (size_t i = 0; i < count; i++)
            out[i] = a[i] - L->param;
        break;
    case DG_MN_CONV2D:
        dg_conv2d(a, n, h, w, c, L->weights, L->bias, L->kh, L->kw, L->c, L->stride, L->relu6, net->col, out);
        break;
    case DG_MN_DEPTHWISE_CONV2D:
        dg_depthwise_conv2d(a, n, h, w, c, L->weights, L->bias, L->kh, L->kw, L->stride, L->relu6, out);
        break;
    case DG_MN_ADD: {
        const float *b = L->in1 < 0 ? input : net->slot[net->layer[L->in1].slot];
        for (size_t i = 0; i < count; i++)
            out[i] = a[i] + b[i];
        break;
    }
    case DG_MN_AVGPOOL:
        avgpool(a, n, h * w, c, out);
        break;
    case DG_MN_DENSE:
        for (int b = 0; b < n; b++)
            memcpy(out + (size_t)b * L->c, L->bias, sizeof(float) * (size_t)L->c);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, L->c, L->cin, 1.0f, a, L->cin, L->weights, L->c,
                    1.0f, out, L->c);
        break;
    case DG_MN_SOFTMAX:
        softmax(a, n, c, out);
        break;
    default:
        break;
    }
}

int dg_mobilenet_forward(dg_mobilenet *net, const float *input, int n, float *features, float *probs,
                         dg_err *err)
{
    if (n <= 0)
        return DG_OK;
    if (grow_buffers(net, n, err) != DG_OK)
        return DG_FAIL;
    for (int l = 0; l < net->n_layers; l++) {
        double t = dg_now();
        run_layer(net, &net->layer[l], input, n);
        net->layer[l].seconds += dg_now() - t;
    }
    if (features)
        memcpy(features, net->slot[net->layer[net->features_layer].slot],
               sizeof(float) * (size_t)n * net->d_features);
    if (probs)
        memcpy(probs, net->slot[net->layer[net->output_layer].slot], sizeof(float) * (size_t)n * net->n_classes);
    return DG_OK;
}

/* tf.image.resizeBilinear(image / 255, [size, size], alignCorners = true) as
 * TF.js's CPU backend computes it (source = ratio * destination, the
 * fractions and lerps in double). */
void dg_mobilenet_preprocess(const dg_pixels *img, int size, float *out)
{
    double ry = size > 1 ? (double)(img->h - 1) / (size - 1) : (double)img->h / size;
    double rx = size > 1 ? (double)(img->w - 1) / (size - 1) : (double)img->w / size;
    for (int y = 0; y < size; y++) {
        double sy = ry * y;
        int y0 = (int)floor(sy), y1 = (int)ceil(sy) < img->h - 1 ? (int)ceil(sy) : img->h - 1;
        double fy = sy - y0;
        for (int x = 0; x < size; x++) {
            double sx = rx * x;
            int x0 = (int)floor(sx), x1 = (int)ceil(sx) < img->w - 1 ? (int)ceil(sx) : img->w - 1;
            double fx = sx - x0;
            const unsigned char *r0 = img->rgb + (size_t)y0 * img->w * 3, *r1 = img->rgb + (size_t)y1 * img->w * 3;
            for (int ch = 0; ch < 3; ch++) {
                double tl = (float)r0[x0 * 3 + ch] / 255.0f, tr = (float)r0[x1 * 3 + ch] / 255.0f;
                double bl = (float)r1[x0 * 3 + ch] / 255.0f, br = (float)r1[x1 * 3 + ch] / 255.0f;
                double top = tl + (tr - tl) * fx, bottom = bl + (br - bl) * fx;
                out[((size_t)y * size + x) * 3 + ch] = (float)(top + (bottom - top) * fy);
            }
        }
    }
}
