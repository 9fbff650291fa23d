/* verify_bench.c - the verifier's share of dg-embed-bench (verify_bench.h). */
#include "apps/verify_bench.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graph/verify.h"
#include "input/signature.h"

static char *const *sort_paths; /* qsort has no context argument; set only around the sort */

static int by_path(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return strcmp(sort_paths[a], sort_paths[b]);
}

/* Whether two paths lie in one folder. */
static int same_folder(const char *x, const char *y)
{
    const char *sx = strrchr(x, '/'), *sy = strrchr(y, '/');
    size_t lx = sx ? (size_t)(sx - x) : 0, ly = sy ? (size_t)(sy - y) : 0;
    return lx == ly && strncmp(x, y, lx) == 0;
}

int vb_pairs_make(char *const *path, int64_t n, const uint8_t *sig, vb_pairs *p, dg_err *err)
{
    memset(p, 0, sizeof *p);
    int64_t *order = dg_alloc((size_t)(n > 0 ? n : 1), sizeof *order, err);
    p->a = dg_alloc((size_t)(2 * n + 1), sizeof *p->a, err);
    p->b = dg_alloc((size_t)(2 * n + 1), sizeof *p->b, err);
    p->same = dg_alloc((size_t)(2 * n + 1), sizeof *p->same, err);
    if (!order || !p->a || !p->b || !p->same) {
        free(order);
        vb_pairs_free(p);
        return DG_FAIL;
    }
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        if (dg_signature_present(sig + (size_t)i * DG_SIG_BYTES))
            order[m++] = i;
    sort_paths = path;
    qsort(order, (size_t)m, sizeof *order, by_path);
    sort_paths = NULL;
    for (int64_t k = 0; k < m; k++) {
        int64_t i = order[k];
        if (k + 1 < m && same_folder(path[i], path[order[k + 1]])) {
            p->a[p->n] = i;
            p->b[p->n] = order[k + 1];
            p->same[p->n++] = 1;
            p->n_same++;
        }
        int64_t j = order[(k + m / 2) % m];
        if (!same_folder(path[i], path[j])) {
            p->a[p->n] = i;
            p->b[p->n] = j;
            p->same[p->n++] = 0;
        }
    }
    free(order);
    return DG_OK;
}

void vb_pairs_free(vb_pairs *p)
{
    free(p->a);
    free(p->b);
    free(p->same);
    p->a = p->b = NULL;
    p->same = NULL;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void vb_time(const vb_pairs *p, const uint8_t *sig, float threshold, long repeat, vb_times *t)
{
    memset(t, 0, sizeof *t);
    for (long r = 0; r < repeat; r++) {
        double w0 = dg_now(), c0 = cpu_now();
        int64_t passed = 0, passed_same = 0;
        for (int64_t k = 0; k < p->n; k++) {
            float s = dg_verify_score(sig + (size_t)p->a[k] * DG_SIG_BYTES, sig + (size_t)p->b[k] * DG_SIG_BYTES,
                                      NULL);
            passed += s >= threshold;
            passed_same += s >= threshold && p->same[k];
        }
        double cpu = cpu_now() - c0, wall = dg_now() - w0;
        if (r == 0 || cpu < t->cpu)
            *t = (vb_times){cpu, wall, passed, passed_same};
    }
}
