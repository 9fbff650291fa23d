/* stop.c - the SIGTERM/SIGINT handlers and the stop flag they raise (see
 * stop.h); the stages poll the flag through dg_stop_requested. */
#include "core/stop.h"

#include <string.h>

/* Global because a signal handler is handed nothing but the signal number;
 * it is written only by the handler and by dg_stop_install. */
static volatile sig_atomic_t stop_flag;

/* Only sets the flag.  A repeated signal changes nothing: Slurm delivers
 * SIGTERM both directly and through srun, and mpirun or Slurm send SIGKILL
 * themselves when a job takes too long to stop. */
static void on_stop_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

volatile sig_atomic_t *dg_stop_install(dg_stop_saved *saved)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    /* Restarted system calls: a signal must not turn into an I/O error. */
    sa.sa_flags = SA_RESTART;
    stop_flag = 0;
    sigaction(SIGTERM, &sa, &saved->term);
    sigaction(SIGINT, &sa, &saved->intr);
    return &stop_flag;
}

void dg_stop_restore(const dg_stop_saved *saved)
{
    sigaction(SIGTERM, &saved->term, NULL);
    sigaction(SIGINT, &saved->intr, NULL);
}

int dg_stop_agree(const dg_ctx *ctx)
{
    int mine = dg_stop_requested(ctx), any = 0;
    MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, ctx->comm);
    return any;
}

