/* info.c - `dupgraph info` (see info.h): everything it prints comes from
 * the facts of the file (io/h5_file.h) and its status column
 * (io/h5_columns.h). */
#include "tools/info.h"

#include <math.h>
#include <sys/stat.h>

#include "io/h5_columns.h"
#include "io/h5_file.h"

static void print_size(FILE *out, const char *path)
{
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    struct stat st;
    double size = stat(path, &st) == 0 ? (double)st.st_size : 0.0;
    int unit = 0;
    for (; size >= 1024.0 && unit < 4; unit++)
        size /= 1024.0;
    fprintf(out, "%s: %.*f %s\n", path, unit ? 1 : 0, size, units[unit]);
}

static void print_counts(FILE *out, const dg_h5_facts *f)
{
    fprintf(out, "  items         %lld (%lld failed)\n", (long long)f->n_items, (long long)f->n_failed);
    fprintf(out, "  edges         %lld%s\n", (long long)f->n_edges,
            f->settings.forest ? " (graph.edges = forest: a spanning forest of the pairs, not every pair)" : "");
    fprintf(out, "  components    %lld\n", (long long)f->n_components);
    fprintf(out, "  removed       %lld (%.2f%% of items)\n", (long long)f->n_removed,
            f->n_items > 0 ? 100.0 * (double)f->n_removed / (double)f->n_items : 0.0);
}

/* C, K and D from /centroids (or /items/cluster and /embeddings). */
static void print_search(FILE *out, const dg_h5_facts *f)
{
    long long c = f->centroid_dims[0], k = f->centroid_dims[1], d = f->centroid_dims[2];
    if (c == 0) {
        c = f->clusterings;
        d = f->embedding_dim > 0 ? f->embedding_dim : -1;
    }
    fprintf(out, "  search        C = %lld clusterings, K = %lld clusters, ", c, k);
    if (d >= 0)
        fprintf(out, "D = %lld, ", d);
    else
        fprintf(out, "D = ?, ");
    if (isnan(f->settings.threshold))
        fprintf(out, "threshold = ?");
    else
        fprintf(out, "threshold = %.9g", (double)f->settings.threshold);
    fprintf(out, "%s\n", c == 0 ? " (exact search)" : "");
    if (f->settings.verify_enabled) {
        fprintf(out, "  verify        candidates below verify.accept_above need a verifier score >= %.9g",
                (double)f->settings.verify_threshold);
        if (f->settings.verify_agree_above < 1.0f)
            fprintf(out, " (from similarity %.9g: >= %.9g)", (double)f->settings.verify_agree_above,
                    (double)f->settings.verify_agree_threshold);
        fprintf(out, "\n");
    }
}

/* Stage times in the order written. */
static void print_times(FILE *out, const dg_h5_facts *f)
{
    double total = 0.0;
    fprintf(out, "  seconds      ");
    for (int i = 0; i < f->n_times; i++) {
        fprintf(out, "%s %s %.2f", i ? "," : "", f->times[i].name, f->times[i].seconds);
        total += f->times[i].seconds;
    }
    fprintf(out, " (total %.2f)\n", total);
}

static void print_statuses(FILE *out, const char *path, const dg_h5_facts *f)
{
    int64_t counts[DG_ST_COUNT + 1];
    dg_err ignored = {0};
    fprintf(out, "  status       ");
    if (dg_h5_count_statuses(path, f->n_items, counts, &ignored) != DG_OK) {
        fprintf(out, " unreadable\n");
        return;
    }
    const char *sep = " ";
    for (int s = 0; s <= DG_ST_COUNT; s++) {
        if (counts[s] == 0)
            continue;
        fprintf(out, "%s%s %lld", sep, s < DG_ST_COUNT ? dg_status_name((dg_status)s) : "invalid",
                (long long)counts[s]);
        sep = ", ";
    }
    fprintf(out, "\n");
}

int dg_info_print(const char *path, FILE *out, dg_err *err)
{
    dg_h5_facts f;
    if (dg_h5_read_facts(path, &f, err) != DG_OK)
        return DG_FAIL;
    print_size(out, path);
    fprintf(out, "  format        %s version %d, written by dupgraph %s on %d ranks, seed %llu\n", DG_FORMAT_NAME,
            f.format_version, f.program_version, f.ranks, (unsigned long long)f.seed);
    print_counts(out, &f);
    print_search(out, &f);
    print_times(out, &f);
    print_statuses(out, path, &f);
    dg_h5_facts_free(&f);
    return DG_OK;
}
