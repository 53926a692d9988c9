/*
 * The notifications outbox (docs/spec.md 4.8): messages to customers stored in the
 * same write transaction as the event that causes them, and sent later by a
 * sender on the loop through the organization's notifier (ZapMe).
 *
 * The enqueue hooks run inside a write (a store_write_fn or a write
 * handler): they queue nothing when the organization has no notifier, and
 * never queue the same event twice (the message's object, kind and event id
 * are its key). They may run again with their transaction (store.h): they
 * only write through txn, and ask the sender to look again shortly.
 *
 * docs/notifications.md says why the sender does what it
 * does on failures and after a crash.
 */
#ifndef OSPAY_SERVER_OUTBOX_H
#define OSPAY_SERVER_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/notifications.pb-c.h"
#include "ospay/v1/orders.pb-c.h"
#include "server/jobs/job.h"
#include "server/rpc/srv.h"
#include "store/store.h"

/* What a message is about, in its object index. */
enum outbox_object {
	OUTBOX_OBJ_ORDER = 1,
	OUTBOX_OBJ_INVOICE = 2,
	OUTBOX_OBJ_SERVICE = 3, /* Pix Automático authorizations (jobs/pix_auth.c) */
};

/* Orders/Finalize stored o's payment link (o->payment->link_url, attempt):
 * the link goes to the customer. 0 or a store error. */
int outbox_on_link_created(srv_t *s, store_txn_t *txn, const Ospay__V1__Order *o, int64_t now_ms);
/* The billing run stored charge c: a failed one (DECLINED, ERROR,
 * NO_VALID_CARD) is told to the customer; other statuses queue nothing. */
int outbox_on_charge(srv_t *s, store_txn_t *txn, const Ospay__V1__Charge *c, int64_t now_ms);
/* Pix Automático (docs/pix-automatico.md): what happened to a Pix charge c. */
enum outbox_pix_event {
	OUTBOX_PIX_SCHEDULED = 0, /* the cycle's instruction is at the payer's bank (kind 6) */
	OUTBOX_PIX_RETRY = 1,     /* a retry is scheduled on next_day (kind 7) */
	OUTBOX_PIX_FAILED =
		2, /* the attempt failed; next_day non-empty: a retry follows (kind 2) */
	OUTBOX_PIX_CANCELED = 3, /* the instruction was canceled (kind 8) */
};
/* next_day: "YYYY-MM-DD" the debit or retry happens on, "" or NULL when none. */
int outbox_on_pix_charge(srv_t *s, store_txn_t *txn, const Ospay__V1__Charge *c,
			 enum outbox_pix_event what, const char *next_day, int64_t now_ms);
/* The billing run blocked service_id for the overdue invoice_id. */
int outbox_on_service_blocked(srv_t *s, store_txn_t *txn, uint64_t invoice_id, uint64_t service_id,
			      int64_t now_ms);

/*
 * Pix Automático (jobs/pix_auth.c): a message about service svc's
 * authorization, kind 4 (its QR code) or 5 (its new state); event tells one
 * change from another (an event is never queued twice); text is what follows
 * the greeting. *queued (may be NULL): the message waits to be sent (not when
 * the organization has no notifier or the customer no usable phone).
 */
struct Ospay__V1__CustomerService;
int outbox_on_pix_auth(srv_t *s, store_txn_t *txn, const struct Ospay__V1__CustomerService *svc,
		       int kind, uint64_t event, const char *text, int64_t now_ms, bool *queued);

/*
 * The notifier said (in answer to ospay's own query, docs/spec.md 5) that its message
 * message_id is in status (ZapMe's word: "delivered", "read",
 * "missing_number"...): the outbox message follows, never backwards. A
 * message id the outbox does not know changes nothing. 0 or a store error.
 */
int outbox_on_message_status(store_txn_t *txn, uint64_t org, const char *message_id,
			     const char *status, int64_t now_ms);

/* The messages about an object, oldest first (at most OUTBOX_LIST_MAX); free
 * with outbox_list_free. 0 or a store error. */
#define OUTBOX_LIST_MAX 100
int outbox_list(store_txn_t *txn, enum outbox_object kind, uint64_t id,
		Ospay__V1__Notification ***out, size_t *n);
void outbox_list_free(Ospay__V1__Notification **v, size_t n);

/*
 * The sender: start arms it (and resolves messages a crash left SENDING);
 * kick makes it look at what is due now (after Clock/Advance); busy says
 * calls are in flight (the drain waits for them); stop ends it.
 */
extern const srv_job_t outbox_job;

#endif
