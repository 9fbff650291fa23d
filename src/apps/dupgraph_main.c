/* main.c - the `dupgraph` command line: parses arguments, initialises MPI
 * and hands over to the job driver (run, exact) or to the serial readers
 * (compare, info).  Exit status: 0 on success, else dg_exit_status of the
 * failure: 2 usage, 3 config, 4 input, 5 output, 6 memory, 7 checkpoint,
 * 75 stopped (resubmit to resume), 1 anything else. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dupgraph/config.h"
#include "dupgraph/context.h"
#include "dupgraph/job.h"
#include "tools/compare.h"
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
    "        recall and precision of A's edges against B's\n"
    "  info OUT.h5\n"
    "        a human summary of an output file\n"
    "  export OUT.h5 [--keep-list KEEP.txt] [--removed REMOVED.txt] [--edges EDGES.csv]\n"
    "        paths kept / removed (one per line) and the duplicate pairs as CSV\n"
    "  report OUT.h5 -o DIR\n"
    "        static HTML page with thumbnails of the largest duplicate groups\n"
    "  config [-c CONFIG] [--set section.key=value ...]\n"
    "        the effective configuration as INI text (every key; the defaults without -c)\n"
    "  config --defaults\n"
    "        the reference configuration: every key, its default and its help (configs/default.ini)\n"
    "\n"
    "options:\n"
    "  -h, --help     this text\n"
    "  --version      program and output format version\n";

typedef struct job_args {
    const char *config;
    const char *output;
    const char *sets[MAX_SETS];
    int n_sets;
} job_args;

/* need_config: run and exact need -c; config does not. */
static int parse_job_args(int argc, char **argv, int need_config, job_args *a, dg_err *err)
{
    memset(a, 0, sizeof *a);
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(arg, "-c") || !strcmp(arg, "--config") || !strcmp(arg, "-o") || !strcmp(arg, "--output") ||
            !strcmp(arg, "--set")) {
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
    return DG_OK;
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
    if (parse_job_args(argc, argv, 0, &a, err) != DG_OK)
        return DG_FAIL;
    if (a.output)
        return dg_failc(err, DG_E_USAGE, "config takes no -o (use --set output.path=...)");
    int rc = a.config ? dg_config_load(&cfg, a.config, a.sets, a.n_sets, err)
                      : dg_config_load_text(&cfg, "", a.sets, a.n_sets, err);
    char *text = rc == DG_OK ? dg_config_to_text(&cfg) : NULL;
    if (rc == DG_OK && !text)
        rc = dg_failc(err, DG_E_MEMORY, "out of memory formatting the config");
    if (text)
        fputs(text, stdout);
    free(text);
    return rc;
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
    if (parse_job_args(argc, argv, 1, &a, &err) == DG_OK) {
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
