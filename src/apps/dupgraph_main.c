/* main.c - the `dupgraph` command line: parses arguments, initialises MPI
 * and hands over to the job driver (run, exact) or to the serial tools
 * (compare, info, export, report, config, estimate).  Exit status: 0 on success, else dg_exit_status of the
 * failure: 2 usage, 3 config, 4 input, 5 output, 6 memory, 7 checkpoint,
 * 75 stopped (resubmit to resume), 1 anything else. */
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dupgraph/config.h"
#include "dupgraph/context.h"
#include "dupgraph/job.h"
#include "apps/cli.h"
#include "tools/compare.h"
#include "tools/estimate.h"
#include "tools/export.h"
#include "tools/info.h"
#include "tools/report.h"

#define MAX_SETS 256

static const char usage[] =
    "usage: dupgraph COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  run -c CONFIG [-o OUT.h5] [--set section.key=value ...]\n"
    "        find near-duplicates with the clustered search (run under mpirun or srun)\n"
    "  exact -c CONFIG [-o OUT.h5] [--set section.key=value ...]\n"
    "        the same inputs, every pair compared: the recall reference\n"
    "  compare A.h5 B.h5\n"
    "        recall and precision of A's edges against B's (by components when either file is\n"
    "        graph.edges = forest: B's edges joined in A, A's in B, and component disagreements)\n"
    "  info OUT.h5\n"
    "        a human summary of an output file\n"
    "  export OUT.h5 [--keep-list KEEP.txt] [--removed REMOVED.txt] [--edges EDGES.csv] [--remove-keys DIR]\n"
    "        paths kept / removed (one per line), the duplicate pairs as CSV and, for a shards run,\n"
    "        one file per shard of the removed WebDataset keys (DIR/NAME.txt)\n"
    "  report OUT.h5 -o DIR\n"
    "        static HTML page with thumbnails of the largest duplicate groups\n"
    "  config [-c CONFIG] [--set section.key=value ...]\n"
    "        the effective configuration as INI text (every key; the defaults without -c)\n"
    "  config --defaults\n"
    "        the reference configuration: every key, its default and its help (configs/default.ini)\n"
    "  estimate --items N --dim D --ranks P [-c CONFIG] [--set section.key=value ...]\n"
    "        as JSON, without running anything: the K (cluster.k = auto resolved), sample and per-rank\n"
    "        memory estimate by term that `run` would print for N vectors of D dimensions on P ranks\n"
    "\n"
    "options:\n"
    "  -h, --help     this text\n"
    "  --version      program and output format version\n";

/* `dupgraph estimate`'s sizes (0 until given). */
typedef struct job_sizes {
    long items, dim, ranks;
} job_sizes;

typedef struct job_args {
    const char *config;
    const char *output;
    const char *sets[MAX_SETS];
    int n_sets;
    job_sizes sizes;
} job_args;

/* --items, --dim, --ranks: DG_OK and *used = 1 if arg is one of them. */
static int parse_size(const char *arg, const char *val, job_sizes *s, int *used, dg_err *err)
{
    const struct {
        const char *name;
        long max;
        long *field;
    } opts[] = {{"--items", LONG_MAX, &s->items}, {"--dim", 1L << 20, &s->dim}, {"--ranks", INT_MAX, &s->ranks}};
    *used = 0;
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        if (strcmp(arg, opts[i].name) != 0)
            continue;
        *used = 1;
        if (!val || cli_long(val, 1, opts[i].max, opts[i].field) != DG_OK)
            return dg_failc(err, DG_E_USAGE, "%s: expected an integer in 1..%ld, got %s", arg, opts[i].max,
                            val ? val : "nothing");
    }
    return DG_OK;
}

/* need_config: run and exact need -c; config and estimate do not.  sizes:
 * estimate's --items, --dim and --ranks are accepted (and required). */
static int parse_job_args(int argc, char **argv, int need_config, int sizes, job_args *a, dg_err *err)
{
    memset(a, 0, sizeof *a);
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        int used = 0;
        if (sizes && parse_size(arg, val, &a->sizes, &used, err) != DG_OK)
            return DG_FAIL;
        if (used) {
            i++;
        } else if (!strcmp(arg, "-c") || !strcmp(arg, "--config") || !strcmp(arg, "-o") ||
                   !strcmp(arg, "--output") || !strcmp(arg, "--set")) {
            if (!val)
                return dg_failc(err, DG_E_USAGE, "%s needs a value", arg);
            i++;
            if (arg[1] == 'c' || !strcmp(arg, "--config"))
                a->config = val;
            else if (arg[1] == 'o' || !strcmp(arg, "--output"))
                a->output = val;
            else if (a->n_sets == MAX_SETS - 1)
                return dg_failc(err, DG_E_USAGE, "too many --set options (at most %d)", MAX_SETS - 1);
            else
                a->sets[a->n_sets++] = val;
        } else {
            return dg_failc(err, DG_E_USAGE, "unknown option '%s' (see dupgraph --help)", arg);
        }
    }
    if (!a->config && need_config)
        return dg_failc(err, DG_E_USAGE, "%s needs -c CONFIG (see dupgraph --help)", argv[1]);
    if (sizes && (!a->sizes.items || !a->sizes.dim || !a->sizes.ranks))
        return dg_failc(err, DG_E_USAGE, "%s needs --items N, --dim D and --ranks P (see dupgraph --help)", argv[1]);
    return DG_OK;
}

/* The config of the serial commands: -c CONFIG or the defaults, then --set;
 * -o is refused (the output path is a --set). */
static int load_command_config(const job_args *a, dg_config *cfg, const char *command, dg_err *err)
{
    if (a->output)
        return dg_failc(err, DG_E_USAGE, "%s takes no -o (use --set output.path=...)", command);
    return a->config ? dg_config_load(cfg, a->config, a->sets, a->n_sets, err)
                     : dg_config_load_text(cfg, "", a->sets, a->n_sets, err);
}

/* `dupgraph config`: what a job with these options would run with, in the
 * canonical form the output's config attribute stores; `--defaults`: the
 * reference with every key's help. */
static int cmd_config(int argc, char **argv, dg_err *err)
{
    job_args a;
    dg_config cfg;
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--defaults"))
            return argc == 3 ? dg_config_write_reference(stdout, err)
                             : dg_failc(err, DG_E_USAGE, "config --defaults takes no other option");
    if (parse_job_args(argc, argv, 0, 0, &a, err) != DG_OK)
        return DG_FAIL;
    int rc = load_command_config(&a, &cfg, "config", err);
    char *text = rc == DG_OK ? dg_config_to_text(&cfg) : NULL;
    if (rc == DG_OK && !text)
        rc = dg_failc(err, DG_E_MEMORY, "out of memory formatting the config");
    if (text)
        fputs(text, stdout);
    free(text);
    return rc;
}

/* `dupgraph estimate`: the job's own estimate for the given sizes (tools/estimate.h). */
static int cmd_estimate(int argc, char **argv, dg_err *err)
{
    job_args a;
    dg_config cfg;
    if (parse_job_args(argc, argv, 0, 1, &a, err) != DG_OK || load_command_config(&a, &cfg, "estimate", err) != DG_OK)
        return DG_FAIL;
    return dg_estimate_print(&cfg, a.sizes.items, (int)a.sizes.dim, (int)a.sizes.ranks, stdout, err);
}

static int cmd_job(int argc, char **argv, dg_mode mode)
{
    /* Open MPI 4.1's sharedfp/lockedfile component (probed by every MPI-IO
     * open, HDF5's included) formats the file name into a 256-byte buffer
     * and aborts on longer paths (open-mpi/ompi#13565, fixed in 5.0.x).  The
     * job uses no shared file pointers; a user's own setting is kept. */
    setenv("OMPI_MCA_sharedfp", "^lockedfile", 0);
    MPI_Init(&argc, &argv);
    dg_ctx ctx;
    dg_ctx_init(&ctx, MPI_COMM_WORLD, 10.0);
    dg_err err = {0};
    job_args a;
    dg_config cfg;
    int rc = DG_FAIL;
    /* Every rank parses the same files; the errors are the same everywhere,
     * so only rank 0 reports them. */
    if (parse_job_args(argc, argv, 1, 0, &a, &err) == DG_OK) {
        char out_set[DG_PATH_MAX + 16];
        if (a.output) {
            snprintf(out_set, sizeof out_set, "output.path=%s", a.output);
            a.sets[a.n_sets++] = out_set;
        }
        if (dg_config_load(&cfg, a.config, a.sets, a.n_sets, &err) == DG_OK) {
            ctx.progress_seconds = cfg.progress_seconds;
            rc = dg_job_run(&ctx, &cfg, mode, &err);
        }
    }
    /* The exit status tells a batch script what kind of failure it was
     * (75: stopped, resubmit to resume; see dg_code). */
    int status = rc == DG_OK ? 0 : dg_exit_status(err.code);
    if (status != 0 && ctx.rank == 0)
        fprintf(stderr, "dupgraph: error: %s\n", err.msg);
    MPI_Finalize();
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        fputs(usage, stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("dupgraph %s (output format %s %d)\n", DG_VERSION, DG_FORMAT_NAME, DG_FORMAT_VERSION);
        return 0;
    }
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(usage, stdout);
            return 0;
        }
    if (!strcmp(cmd, "run"))
        return cmd_job(argc, argv, DG_MODE_RUN);
    if (!strcmp(cmd, "exact"))
        return cmd_job(argc, argv, DG_MODE_EXACT);

    dg_err err = {0};
    int rc;
    if (!strcmp(cmd, "compare") && argc == 4)
        rc = dg_compare_files(argv[2], argv[3], stdout, &err);
    else if (!strcmp(cmd, "info") && argc == 3)
        rc = dg_info_print(argv[2], stdout, &err);
    else if (!strcmp(cmd, "export") && argc >= 3)
        rc = dg_export_command(argc - 2, argv + 2, stdout, &err);
    else if (!strcmp(cmd, "report") && argc >= 3)
        rc = dg_report_command(argc - 2, argv + 2, stdout, &err);
    else if (!strcmp(cmd, "config"))
        rc = cmd_config(argc, argv, &err);
    else if (!strcmp(cmd, "estimate"))
        rc = cmd_estimate(argc, argv, &err);
    else {
        fprintf(stderr, "dupgraph: error: unknown command or wrong arguments: '%s' (see dupgraph --help)\n", cmd);
        return 2;
    }
    if (rc != DG_OK) {
        fprintf(stderr, "dupgraph: error: %s\n", err.msg);
        return dg_exit_status(err.code);
    }
    return 0;
}
