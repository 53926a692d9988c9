/* Reconciliation of INTEGRATED installments (reconcile.c). */
#ifndef OSPAY_SERVER_JOBS_RECONCILE_H
#define OSPAY_SERVER_JOBS_RECONCILE_H

#include "server/jobs/job.h"

/*
 * Reconciliation of INTEGRATED installments (docs/spec.md 4.6, item 6), like the billing
 * run: start arms the hourly timer (first pass at once), kick asks for a pass
 * now, busy says link queries are in flight, stop ends it.
 */
extern const srv_job_t reconcile_job;

#endif
