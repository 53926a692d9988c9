/* Reconciliation of INTEGRATED installments (reconcile.c). */
#ifndef OSPAY_SERVER_JOBS_RECONCILE_H
#define OSPAY_SERVER_JOBS_RECONCILE_H

#include "server/jobs/job.h"

/*
 * Reconciliation of INTEGRATED installments (docs/spec.md 4.6, item 6), like the billing
 * run: start arms the hourly timer (first pass at once), kick asks for a pass
 * now, busy says link queries are in flight, stop ends it.
 */
int reconcile_start(srv_t *s);
void reconcile_kick(srv_t *s);
bool reconcile_busy(const srv_t *s);
void reconcile_stop(srv_t *s, srv_job_done_fn done);

#endif
