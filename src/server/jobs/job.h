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
#include <uv.h>

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

/*
 * How a job ends, written once: a job's state begins with this, and its
 * handles' data point at that state. srv_job_close marks it stopping and
 * closes the handles; srv_job_release frees it (free_state, then done) once
 * they are closed and idle() says no call or charge still holds it, so a
 * callback of a call canceled at shutdown still finds it.
 */
typedef struct srv_job_life {
	srv_t *s;
	srv_job_done_fn done;            /* set by stop: runs once the state is freed */
	bool (*idle)(const void *state); /* nothing in flight holds the state */
	void (*free_state)(void *state); /* frees what the state owns, and it */
	unsigned closing;                /* handles not closed yet */
	bool stopping;
} srv_job_life_t;

/* A job's state: size zeroed bytes beginning with its life, set up with idle and
 * free_state (which frees it); NULL when out of memory. */
void *srv_job_new(srv_t *s, size_t size, bool (*idle)(const void *state),
		  void (*free_state)(void *state));
/* Stops the job: no new work; closes the n handles (whose data is the state). */
void srv_job_close(srv_job_life_t *l, srv_job_done_fn done, uv_handle_t *const *h, unsigned n);
/* Frees the state if its handles are closed and it is idle (after a stop). */
void srv_job_release(srv_job_life_t *l);

#include <stddef.h>

/* Every job, in start order (job.c). */
extern const srv_job_t *const srv_jobs[];
extern const size_t srv_n_jobs;
/* Kicks every job (Clock/Advance: what is due now runs). */
void srv_jobs_kick(srv_t *s);
/* Whether any job has work in flight. */
bool srv_jobs_busy(const srv_t *s);

#endif
