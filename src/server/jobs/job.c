/* The jobs, in the order they start (stop runs them backwards), and how each ends. */
#include <stdlib.h>

#include "server/jobs/billing_run.h"
#include "server/jobs/job.h"
#include "server/jobs/outbox.h"
#include "server/jobs/reconcile.h"
#include "server/jobs/webhooks.h"

const srv_job_t *const srv_jobs[] = {&webhooks_job, &billing_run_job, &outbox_job, &reconcile_job};
const size_t srv_n_jobs = sizeof(srv_jobs) / sizeof(srv_jobs[0]);

void srv_jobs_kick(srv_t *s)
{
	for (size_t i = 0; i < srv_n_jobs; i++)
		srv_jobs[i]->kick(s);
}

bool srv_jobs_busy(const srv_t *s)
{
	for (size_t i = 0; i < srv_n_jobs; i++)
		if (srv_jobs[i]->busy(s))
			return true;
	return false;
}

void *srv_job_new(srv_t *s, size_t size, bool (*idle)(const void *state),
		  void (*free_state)(void *state))
{
	srv_job_life_t *l = calloc(1, size);
	if (l != NULL)
		*l = (srv_job_life_t){.s = s, .idle = idle, .free_state = free_state};
	return l;
}

void srv_job_release(srv_job_life_t *l)
{
	if (l->closing > 0 || !l->idle(l))
		return;
	srv_t *s = l->s;
	srv_job_done_fn done = l->done;
	l->free_state(l);
	if (done != NULL)
		done(s);
}

static void on_job_handle_closed(uv_handle_t *h)
{
	srv_job_life_t *l = h->data; /* the state's first member */
	l->closing--;
	srv_job_release(l);
}

void srv_job_close(srv_job_life_t *l, srv_job_done_fn done, uv_handle_t *const *h, unsigned n)
{
	l->stopping = true;
	l->done = done;
	l->closing = n;
	for (unsigned i = 0; i < n; i++)
		uv_close(h[i], on_job_handle_closed);
}
