/*
 * The billing run (billing_run.c): the hourly walk over due invoices, the
 * resolve passes for unknown outcomes and voids, the operator's charges, and
 * the one settling path every answer about a card charge goes through.
 */
#ifndef OSPAY_SERVER_JOBS_BILLING_RUN_H
#define OSPAY_SERVER_JOBS_BILLING_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/retry.h"
#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/records.pb-c.h"
#include "server/jobs/job.h"
#include "server/rpc/srv.h"
#include "store/store.h"

/*
 * The billing run (docs/spec.md 4.7): start arms the hourly timer (first run at once);
 * kick asks for a run now (after the current one, if one is going); busy says
 * gateway calls are in flight (the drain waits for them); stop ends it, calls
 * in flight left unresolved for the next start.
 */
extern const srv_job_t billing_run_job;
/* The run's figures for /metrics: jobs in flight now, their bound, the peaks of
 * the current (or last) run, and the gateway charges sent since start. */
typedef struct billing_run_metrics {
	uint64_t in_flight, in_flight_limit, in_flight_max, calls_in_flight_max, charges;
	uint64_t voids, void_failures; /* sales voided since start, failed tries */
	uint64_t retries_refused;      /* retries the brand rules refused, since start */
	/* Pix Automático since start: instructions sent, settled (paid), attempts
	 * failed, retries asked for, instructions canceled, refused by amount
	 * before sending, unknown outcomes resolved, invoices not charged because
	 * the rail is Pix without an accepted authorization (per run visit). */
	uint64_t pix_sent, pix_settled, pix_failed, pix_retried, pix_canceled, pix_refused;
	uint64_t pix_resolved, pix_idle;
	/* Charges not settled now, by status (read from the store). */
	uint64_t pending, unknown, operator_review, voiding;
} billing_run_metrics_t;
void billing_run_metrics(const srv_t *s, billing_run_metrics_t *out);
/* A resolve pass now (unknown outcomes, voids): after a notification or an
 * operator left a charge to void. */
void billing_run_resolve_soon(srv_t *s);
/*
 * Unknown first (docs/spec.md 4.7): when a charge of the invoice is still
 * unresolved (PENDING, UNKNOWN, OPERATOR_REVIEW, VOIDING), r's status is set
 * to FAILED_PRECONDITION naming the first (what must happen before `what`,
 * e.g. "canceling it"). The handler contract (rpc/srv.h): 0 or a negative
 * errno, the refusal in r->st.
 */
int billing_run_refuse_unresolved(srv_req_t *r, store_txn_t *txn, uint64_t invoice,
				  const char *what);
/*
 * A card gateway's notification about a payment id ospay does not know yet:
 * the charge of this organization whose merchant order id is order_id (GetNet
 * sends it), so that the notification can settle it. *charge_id 0 when none.
 */
int billing_run_charge_by_order(store_txn_t *txn, uint64_t org, const char *order_id,
				uint64_t *charge_id);
/*
 * A card gateway's object (obj, a query's answer by payment id) was written:
 * its charge follows in the same transaction by the rules of every other path
 * (approved pays the open invoice, else is voided; never moved back). *resolve
 * says a resolve pass must run after the commit (a void is due).
 */
int billing_run_charge_answer(store_txn_t *txn, srv_t *s,
			      const struct Ospay__V1__GatewayObjectRecord *obj, bool *resolve);
/*
 * After an invoice left OPEN (paid, canceled) in txn: its service goes back to
 * ACTIVE when it is BLOCKED and no other OPEN invoice of it blocks it under the
 * organization's suspension profile on today (org local day). 0 or a store error.
 */
struct Ospay__V1__Invoice;
int billing_run_unblock(store_txn_t *txn, const struct Ospay__V1__Invoice *inv, int64_t now_ms);
/* The OPEN invoice inv (as stored) becomes PAID in txn, its service unblocked as above
 * (whatever paid it: a card charge, a Pix instruction, a first payment). */
int billing_run_pay_invoice(store_txn_t *txn, const struct Ospay__V1__Invoice *inv, int64_t now_ms);

/* Billing/RunNow: r is answered with the figures of a run that starts after
 * its call (srv_pend), or refused in r->st. 0 or a negative errno. */
int billing_run_wait(srv_req_t *r);
/*
 * Billing/ChargeInvoice after its checks (inv OPEN, the caller may operate
 * it): the attempt is stored PENDING, then the gateway called (srv_pend), r
 * answered after the outcome is stored; or refused in r->st. 0 or an errno.
 */
int billing_run_operator_charge(srv_req_t *r, store_txn_t *txn, const Ospay__V1__Invoice *inv,
				uint64_t card_id);
/*
 * Billing/ResolveCharge after its checks (old in OPERATOR_REVIEW): resolution
 * is a ChargeResolution; the charge is settled like any other answer and the
 * reply packed. The handler contract: 0 or an errno, refusals in r->st.
 */
int billing_run_operator_settle(srv_req_t *r, store_txn_t *txn, const Ospay__V1__Charge *old,
				int resolution, const char *payment_id, const char *reason);

/*
 * The attempts at the card with fingerprint fp (CARD_FP_LEN bytes) in org in
 * the 30 days up to now_ms, as the brand rules read them (core/retry.h): its
 * Zero Auths from their log entries, its charges (of every card with that
 * number) from their records; charge skip left out. *out is the caller's to
 * free. 0 or a store error.
 */
int billing_card_log(store_txn_t *txn, uint64_t org, const uint8_t *fp, int64_t now_ms,
		     uint64_t skip, retry_attempt_t **out, size_t *n);
/* One more retry the brand rules refused (the /metrics counter). */
void billing_run_count_refused(srv_t *s);

#endif
