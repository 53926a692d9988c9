/*
 * One interface for the server's background jobs (the billing run, the
 * reconciliation, the outbox sender, the webhook re-query): the server starts
 * them, kicks them all after Clock/Advance, waits while any is busy when it
 * drains, and stops them. A job's state is owned by the server object (a
 * pointer in srv_t) and freed in the close callback of its last handle, after
 * which it calls done; gateway calls it still has in flight end first
 * (canceled by the HTTP client's close, or answered), their callbacks finding
 * the job stopping.
 */
#ifndef OSPAY_SERVER_JOBS_JOB_H
#define OSPAY_SERVER_JOBS_JOB_H

#include <stdbool.h>

#include "server/rpc/srv.h"

typedef void (*srv_job_done_fn)(srv_t *s);

typedef struct srv_job {
	const char *name;
	int (*start)(srv_t *s);       /* allocates its state, arms its timers; 0 or -errno */
	void (*kick)(srv_t *s);       /* a pass now (after the one going, if any) */
	bool (*busy)(const srv_t *s); /* work in flight: the drain waits for it */
	/* No new work; done(s) runs once its handles are closed and its state freed. */
	void (*stop)(srv_t *s, srv_job_done_fn done);
} srv_job_t;

#include <stddef.h>

/* Every job, in start order (job.c). */
extern const srv_job_t *const srv_jobs[];
extern const size_t srv_n_jobs;
/* Kicks every job (Clock/Advance: what is due now runs). */
void srv_jobs_kick(srv_t *s);
/* Whether any job has work in flight. */
bool srv_jobs_busy(const srv_t *s);

#endif
