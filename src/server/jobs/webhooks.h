/*
 * The webhook inbox (webhooks.c): accepting a service's notification (stored
 * before it is answered), and the re-query pass that asks the service what
 * became of the object and stores the answer, the object's followers (an
 * order's link, a card charge, an outbox message) moving with it.
 */
#ifndef OSPAY_SERVER_JOBS_WEBHOOKS_H
#define OSPAY_SERVER_JOBS_WEBHOOKS_H

#include <stdint.h>

#include "net/https_server.h"
#include "server/jobs/job.h"
#include "server/rpc/srv.h"
#include "store/store.h"

/* The route /webhooks/{service}/{org}: org and service as the path gave them. */
void webhooks_handle(srv_t *s, https_request_t *req, const char *service, const char *org);
/* The re-query pass as a job (job.h); kick runs it at once (after an event is
 * accepted, after Clock/Advance). */
extern const srv_job_t webhooks_job;

/*
 * A payment link's query answer kept for a write (Orders/RefreshPayment, the
 * reconciliation): stored like the re-query's (final states kept, the order
 * following). Free with free(). -EINVAL for an answer with nothing to record (not
 * pending, approved, declined, canceled or expired), -ENOMEM.
 */
typedef struct webhooks_link_answer webhooks_link_answer_t;
struct gw_link_result;
int webhooks_link_answer_new(uint64_t org, const char *ref, const struct gw_link_result *res,
			     int64_t now_ms, webhooks_link_answer_t **out);
int webhooks_link_answer_store(store_txn_t *txn, webhooks_link_answer_t *a, int64_t now_ms);

#endif
