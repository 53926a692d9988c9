/* The jobs, in the order they start (stop runs them backwards). */
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
