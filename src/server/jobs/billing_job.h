/*
 * The billing run's inside, shared by its files and nothing else, each
 * calling only those listed before it: billing_job.c (a job and the facts it
 * starts from), billing_settle.c (the writes: attempts, settling, suspension,
 * answers from notifications), billing_run.c (the walk, the gateway calls,
 * the timers) and billing_operator.c (Billing/ChargeInvoice, ResolveCharge).
 */
#ifndef OSPAY_SERVER_JOBS_BILLING_JOB_H
#define OSPAY_SERVER_JOBS_BILLING_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/crypto.h"
#include "common/log.h"
#include "common/util.h"
#include "core/billing.h"
#include "core/date.h"
#include "core/declines.h"
#include "core/pix.h"
#include "core/retry.h"
#include "core/vault.h"
#include "gateways/gateway.h"
#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/cards.pb-c.h"
#include "ospay/v1/records.pb-c.h"
#include "server/db/db.h"
#include "server/jobs/billing_run.h"
#include "server/jobs/outbox.h"
#include "server/providers/adapters.h"
#include "server/providers/objects.h"
#include "server/rpc/kit.h"
#include "server/rpc/srv.h"

/* Gateway calls of one run in flight at most (the adapter has its own bound too). */
#define BILL_INFLIGHT 64
/* Invoices looked at per loop turn, so a long walk does not stall the loop. */
#define BILL_STEP_MAX 256
#define BILL_HOUR_MS (3600 * 1000)
/* Operator charges (Billing/ChargeInvoice) in flight at most. */
#define BILL_MANUAL_MAX 32
/* Unknown outcomes and voids are retried from the moment they arise, not at
 * the next hourly run: 5 s, then doubling up to 10 min while some remain. */
#define BILL_RESOLVE_FIRST_MS 5000
#define BILL_RESOLVE_MAX_MS (10 * 60 * 1000)
/* Unresolved charges counted for /metrics at most (the index is small). */
#define BILL_METRICS_SCAN_MAX 100000

#define CHG(x) OSPAY__V1__CHARGE_STATUS__CHARGE_STATUS_##x
#define INV_OPEN OSPAY__V1__INVOICE_STATUS__INVOICE_STATUS_OPEN
#define INV_PAID OSPAY__V1__INVOICE_STATUS__INVOICE_STATUS_PAID
#define NOTE_MAX 600

typedef struct bill_waiter {
	srv_req_t *r;
	struct bill_waiter *next;
} bill_waiter_t;

struct srv_billing {
	srv_job_life_t life; /* first: how it ends (job.h) */
	srv_t *s;
	uv_timer_t hour_timer, step_timer, resolve_timer;
	bool running, again;
	/* A resolve pass: phase 0 only (unknown outcomes, voids), no invoice walk. */
	bool resolve_only, resolve_after;
	uint64_t resolve_delay_ms; /* the next pass's wait while some stay unresolved */
	unsigned left;             /* this pass's charges still unknown or voiding */
	int phase;                 /* 0 unresolved attempts, 1 invoices, 2 walk over */
	uint64_t next_charge;      /* phase 0: the next unresolved charge id to look at */
	uint64_t org;              /* phase 1: the organization being walked (0: next) */
	bool org_open;             /* its walk has begun */
	int64_t org_today;         /* its local day */
	int org_kind;              /* its card gateway */
	int org_days;              /* its suspension profile (0: never block) */
	uint8_t pos[DB_POS_LEN];   /* the next position in its DB_INV_OPEN */
	unsigned inflight;
	/* Invoices with an operator charge (ChargeInvoice) in flight: the run
	 * leaves their PENDING attempt alone, it is not unknown. */
	uint64_t manual[BILL_MANUAL_MAX];
	unsigned n_manual;
	/* For /metrics: peaks of this run (jobs, gateway calls), charges since start. */
	unsigned inflight_max, calling, calling_max;
	uint64_t charges_total, voids_total, void_failures_total, resolved_total;
	uint64_t retries_refused_total; /* by the brand retry rules, since start */
	Ospay__V1__BillingRunNowResponse stats;
	/* Pix Automático: the organization being walked has a Pix gateway (its
	 * rules in pix), and the rail's counters since start (/metrics). */
	bool org_pix, pix_waiting;
	struct bill_pix_org {
		pix_window_t w;
		pix_retry_cfg_t retry;
		int cutoff_min, utc_offset;
		bool holidays; /* national holidays close Pix dates too */
		int64_t today;
	} pix;
	uint64_t pix_sent_total, pix_settled_total, pix_failed_total, pix_retried_total,
		pix_canceled_total, pix_refused_total, pix_resolved_total, pix_idle_total;
	bill_waiter_t *waiting; /* answered when the current run ends */
	bill_waiter_t *queued;  /* arrived during a run: answered after the next one */
};

/* One invoice's action in progress. Holds no card number; the token is wiped. */
typedef struct bill_job {
	struct srv_billing *b;
	enum billing_action action;
	Ospay__V1__Charge c;
	char last4[5], date[16], order_id[BILLING_OP_ORDER_ID_SIZE];
	char code[GW_CODE_MAX], msg[GW_MSG_MAX], payment_id[GW_ID_MAX];
	char note[NOTE_MAX];
	char note0[NOTE_MAX]; /* the note before the outcome's write (it may run again) */
	char token[GW_TOKEN_MAX];
	/* The card's network transaction id (sent back), or the one a first
	 * use's approval returned (stored with the card). */
	char ntid[GW_ID_MAX];
	/* Brand retry rules: a decline's class, advice and Mastercard advice code. */
	char cls[32], advice[96], mac[GW_CODE_MAX];
	bool refused; /* this outcome's write refused a retry (counted once stored) */
	/* Card updater (Renova Fácil): the charged card's holder as sent, and the
	 * replacement the gateway named, tokenized (replace: store it). */
	char holder[CARD_HOLDER_SIZE];
	bool replace;
	char new_token[GW_TOKEN_MAX], new_last4[5];
	card_expiry_t new_exp;
	enum card_brand new_brand;
	enum card_brand brand;
	bool block;          /* block c.service_id (suspension), no gateway call */
	bool void_sale;      /* a VOIDING charge: the call voids it (gw_cancel_charge) */
	bool no_order_query; /* the gateway cannot find a charge by its order id */
	bool answered;       /* outcome_fn ran once: answer is the call's status */
	int answer;
	srv_req_t *r; /* an operator charge (ChargeInvoice): the call it ends */
	/* Pix Automático (billing_pix.c): what the job asks the PSP (0: a card
	 * job), the charge's Pix strings, and the PSP's answer being stored. */
	int pix_op;
	char txid[PIX_TXID_SIZE], settle_date[16], psp_status[GW_STATUS_MAX];
	char psp_reason[GW_CODE_MAX], id_rec[GW_ID_MAX];
	gw_pix_result_t *pix_res;
	/* What the outcome of the call goes to; NULL: the run stores it. */
	void (*on_outcome)(struct bill_job *j);
	/* A Pix job's end, given by the run (bill_pix_start): billing_pix.c calls no
	 * function of billing_run.c. */
	void (*pix_end)(struct bill_job *j, bool again);
	Ospay__V1__BillingRunNowResponse own; /* its counters, kept off the run's */
} bill_job_t;

/* billing_job.c: jobs and the facts they start from */
/* The charge an index value names (a charge id): missing is a corrupt index (-EBADMSG). */
int bill_charge_at(store_txn_t *txn, const uint8_t *val, Ospay__V1__Charge **out);
/* A new attempt's job with its invoice's facts (organization, unit, customer, service,
 * invoice, amount) and its buffers linked; NULL when out of memory. */
bill_job_t *bill_job_new(struct srv_billing *b, const Ospay__V1__Invoice *inv, int gateway);
/* 0 when invoice id is still OPEN, -EALREADY when it left OPEN, else a store error. */
int bill_invoice_open(store_txn_t *txn, uint64_t id);
void bill_job_free(bill_job_t *j);
void bill_job_link(bill_job_t *j);
void bill_copy_str(char *dst, size_t cap, const char *src);
bill_job_t *bill_job_for_charge(struct srv_billing *b, const Ospay__V1__Charge *c);
int bill_profile_days(store_txn_t *txn, uint64_t org, int *days);
bool bill_unresolved(const Ospay__V1__Charge *c);
void bill_bcard_of(const Ospay__V1__Card *c, billing_card_t *out);
int bill_load_cards(store_txn_t *txn, uint64_t customer, uint64_t chosen_id,
		    Ospay__V1__CardRecord **chosen, Ospay__V1__CardRecord **def);
int bill_open_token(srv_t *s, const Ospay__V1__CardRecord *rec, bill_job_t *j);
/* The job charges card: its id, brand, last four digits, and where it stands
 * in its stored-credential chain (first use, or the id to send back). */
void bill_job_card(bill_job_t *j, const Ospay__V1__Card *card);

/* billing_settle.c: the writes, run inside store transactions */
int bill_count_attempts(store_txn_t *txn, uint64_t invoice, size_t *n, size_t *n_op, bool *busy,
			Ospay__V1__Charge **first);
int bill_insert_fn(store_txn_t *txn, void *arg);
int bill_charge_settle(store_txn_t *txn, srv_t *s, const Ospay__V1__Charge *old, bill_job_t *j);
int bill_outcome_fn(store_txn_t *txn, void *arg);
/*
 * What an answer about j's charge means for it, whichever path brought it
 * (the call, a query, a notification's re-query): the status, the network id
 * an approved first use returned (its settle opens the card's chain), a
 * decline's irreversibility and Mastercard advice code.
 */
void bill_take_outcome(bill_job_t *j, int status, const char *code, const char *mac,
		       const char *ntid, bool irreversible);
/* A new charge that retries a declined one: counts the card's reattempts in
 * the window and flags Mastercard's fee (core/retry.h). */
int bill_mark_reattempt(store_txn_t *txn, bill_job_t *j, int64_t now_ms);
/* Reattempts of card (of org) in the 30 days up to now_ms (charge skip not
 * counted): of every card with its number and their Zero Auths when it has a
 * fingerprint, else of that card id. */
int bill_card_reattempts(store_txn_t *txn, uint64_t org, uint64_t card, int64_t now_ms,
			 uint64_t skip, size_t *n);
/* Stores a new charge j->c (its id taken now, its attempt logged with its
 * number's, Mastercard's fee flagged when it is a reattempt). */
int bill_charge_new(store_txn_t *txn, bill_job_t *j, int64_t now_ms);
int bill_plan_block(struct srv_billing *b, store_txn_t *txn, uint64_t id, int64_t due,
		    bill_job_t **out);
int bill_block_fn(store_txn_t *txn, void *arg);

/* billing_pix.c: the Pix Automático rail (the run's walk and phase 0 call in;
 * its jobs end through the run's machinery below) */
typedef struct bill_pix_org bill_pix_org_t;
/* The organization's Pix rules on now_ms's local day; -ENOENT: no Pix gateway. */
int bill_pix_org_load(store_txn_t *txn, uint64_t org, int64_t now_ms, bill_pix_org_t *out);
/* An OPEN invoice of a service on the Pix rail: *out the job due (NULL: none);
 * *waiting says an instruction of it is still at the PSP (no block meanwhile). */
int bill_pix_plan(struct srv_billing *b, store_txn_t *txn, const Ospay__V1__Invoice *inv,
		  const Ospay__V1__CustomerService *svc, bill_job_t **out, bool *waiting);
/* Phase 0 for a Pix charge c: the query, cancel or note it needs now (NULL: none). */
int bill_pix_resolve(struct srv_billing *b, store_txn_t *txn, const Ospay__V1__Charge *c,
		     bill_job_t **out);
/* Starts a Pix job (j->pix_op set): its write, then its PSP call. */
/* Starts a Pix job; end(j, again) is how it finishes (again: ask about it soon). */
void bill_pix_start(bill_job_t *j, void (*end)(bill_job_t *j, bool again));
/*
 * Billing/ChargeInvoice's check: refused (r->st FAILED_PRECONDITION) while a Pix
 * instruction of invoice is scheduled past its cancel deadline (it would be paid
 * twice). 0 or a negative errno, the refusal in r->st.
 */
int bill_pix_refuse_standing(srv_req_t *r, store_txn_t *txn, uint64_t invoice);

/* billing_run.c: the run's machinery the operator's charges use */
void bill_job_done(bill_job_t *j);
void bill_job_call(bill_job_t *j);
void bill_store_outcome(bill_job_t *j);
void bill_block_done(void *arg, int rc);
void bill_resolve_arm(struct srv_billing *b, uint64_t delay_ms);

#endif
