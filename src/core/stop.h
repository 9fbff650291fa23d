/* stop.h - stop requests: SIGTERM and SIGINT only raise a flag, which the
 * stages poll and agree on (stop.c). */
#ifndef DUPGRAPH_CORE_STOP_H
#define DUPGRAPH_CORE_STOP_H

#include <signal.h>

#include "dupgraph/context.h"

/* The handlers in place before dg_stop_install. */
typedef struct dg_stop_saved {
    struct sigaction term, intr;
} dg_stop_saved;

/* Clears the stop flag, installs handlers for SIGTERM and SIGINT that only
 * set it, and returns it (for dg_ctx.stop).  The flag is the one piece of
 * global state in the library: a signal handler can reach nothing else. */
volatile sig_atomic_t *dg_stop_install(dg_stop_saved *saved);
void dg_stop_restore(const dg_stop_saved *saved);

/* Collective: 1 on every rank if any rank's ctx->stop is set. */
int dg_stop_agree(const dg_ctx *ctx);

#endif
