/*
 * Reconciliation of INTEGRATED installments: PagoLivre asked about the links
 * whose installments nothing was heard of two days after their due date.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "core/date.h"
#include "core/installment.h"
#include "core/order.h"
#include "gateways/gateway.h"
#include "ospay/v1/orders.pb-c.h"
#include "ospay/v1/records.pb-c.h"
#include "server/db/db.h"
#include "server/jobs/reconcile.h"
#include "server/jobs/webhooks.h"
#include "server/providers/adapters.h"
#include "server/rpc/kit.h"

/*
 * docs/spec.md 4.6, item 6: every hour (and on Clock/Advance) a pass walks DB_INST_RECON,
 * organization by organization, and for each INTEGRATED installment still
 * WAITING whose due date is INST_RECONCILE_DAYS days past (org local day)
 * queries its order's payment link at PagoLivre, as Orders/RefreshPayment
 * does; the answer is stored like a webhook's re-query (the order follows).
 * One query covers every installment of the link; an order is queried at
 * most once per local day (kept in memory: a restart may query once more).
 */
#define RECON_INFLIGHT 4
#define RECON_HOUR_MS (3600 * 1000)
/* Index entries looked at per loop turn. */
#define RECON_STEP_MAX 512

typedef struct recon_seen {
	uint64_t order;
	int64_t day;
} recon_seen_t;

struct recon {
	srv_job_life_t life; /* first: how it ends (job.h) */
	srv_t *s;
	uv_timer_t hour_timer, step_timer;
	bool started, running, again;
	uint64_t org;            /* the organization being walked (0: from the start) */
	int64_t org_today;       /* its local day */
	uint8_t pos[DB_POS_LEN]; /* the next position in its entries */
	unsigned inflight;
	recon_seen_t *seen; /* sorted by order id */
	size_t n_seen, cap_seen;
	uint64_t queries, stored;
};

typedef struct recon_job {
	struct recon *rc;
	uint64_t org, order;
	char key[GW_ID_MAX];
	webhooks_link_answer_t *answer;
} recon_job_t;

static void recon_pump(struct recon *x);
static void reconcile_kick(srv_t *s);

/* Was the order queried on day? Otherwise remembers it was (0), or -ENOMEM. */
static int recon_mark(struct recon *x, uint64_t order, int64_t day)
{
	size_t lo = 0, hi = x->n_seen;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (x->seen[mid].order < order)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < x->n_seen && x->seen[lo].order == order) {
		if (x->seen[lo].day >= day)
			return 1;
		x->seen[lo].day = day;
		return 0;
	}
	if (x->n_seen == x->cap_seen) {
		size_t cap = x->cap_seen ? x->cap_seen * 2 : 64;
		recon_seen_t *p = realloc(x->seen, cap * sizeof(*p));
		if (p == NULL)
			return -ENOMEM;
		x->seen = p;
		x->cap_seen = cap;
	}
	memmove(&x->seen[lo + 1], &x->seen[lo], (x->n_seen - lo) * sizeof(*x->seen));
	x->seen[lo] = (recon_seen_t){order, day};
	x->n_seen++;
	return 0;
}

/* Forgets orders queried before day (keeps the table to one day's queries). */
static void recon_prune(struct recon *x, int64_t day)
{
	size_t k = 0;
	for (size_t i = 0; i < x->n_seen; i++)
		if (x->seen[i].day >= day)
			x->seen[k++] = x->seen[i];
	x->n_seen = k;
}

static void recon_job_end(recon_job_t *j)
{
	struct recon *x = j->rc;
	x->inflight--;
	free(j->answer);
	free(j);
	if (x->life.stopping)
		srv_job_release(&x->life);
	else
		recon_pump(x);
}

static int recon_store_fn(store_txn_t *txn, void *arg)
{
	recon_job_t *j = arg;
	return webhooks_link_answer_store(txn, j->answer, srv_now_ms(j->rc->s));
}

static void recon_stored(void *arg, int rc)
{
	recon_job_t *j = arg;
	if (rc == 0)
		j->rc->stored++;
	else
		log_error("reconciliation answer not stored", "order_id=%" PRIu64 " err=%d",
			  j->order, rc);
	recon_job_end(j);
}

static void on_recon_answer(const gw_link_result_t *res, void *arg)
{
	recon_job_t *j = arg;
	struct recon *x = j->rc;
	log_info("installment reconciliation", "order_id=%" PRIu64 " outcome=%s code=\"%s\"",
		 j->order, gw_outcome_name(res->r.outcome), res->r.code);
	if (!x->life.stopping && !x->s->draining &&
	    webhooks_link_answer_new(j->org, j->key, res, srv_now_ms(x->s), &j->answer) == 0 &&
	    store_write(x->s->store, recon_store_fn, recon_stored, j) == 0)
		return;
	recon_job_end(j);
}

/* Starts the query of an order's link; 0 when its callback will run. */
static int recon_start(struct recon *x, store_txn_t *txn, uint64_t org, uint64_t order_id)
{
	Ospay__V1__Order *o = NULL;
	recon_job_t *j = NULL;
	gw_t *gw = NULL;
	int rc = kit_load(txn, DB_ORDERS, order_id, &ospay__v1__order__descriptor, &o);
	if (rc != 0 || o->payment == NULL || !o->payment->integrated ||
	    o->payment->order_key[0] == '\0' || o->organization_id != org) {
		rc = rc != 0 ? rc : -ENOENT;
		goto out;
	}
	rc = prov_adapter(x->s, txn, org, SRV_SERVICE_PAGOLIVRE, &gw);
	if (rc != 0)
		goto out;
	j = calloc(1, sizeof(*j));
	if (j == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	j->rc = x;
	j->org = org;
	j->order = order_id;
	snprintf(j->key, sizeof(j->key), "%s", o->payment->order_key);
	x->inflight++;
	rc = gw_query_link(gw, j->key, on_recon_answer, j);
	if (rc != 0) {
		x->inflight--;
		goto out;
	}
	x->queries++;
	j = NULL;
out:
	free(j);
	ospay__v1__order__free_unpacked(o, NULL);
	return rc;
}

/* The local day of an organization now (0 when it cannot be read). */
static int64_t recon_org_today(struct recon *x, store_txn_t *txn, uint64_t org)
{
	Ospay__V1__Organization *o = NULL;
	int offset = 0;
	if (kit_load(txn, DB_ORGS, org, &ospay__v1__organization__descriptor, &o) == 0) {
		offset = o->utc_offset_minutes;
		ospay__v1__organization__free_unpacked(o, NULL);
	}
	return date_local_day(srv_now_ms(x->s), offset);
}

/*
 * One step of the pass: from (x->org, x->pos), starts queries until the bound
 * in flight is reached, RECON_STEP_MAX entries were looked at, or the index
 * ends. Returns true when the pass is over.
 */
static bool recon_step(struct recon *x, store_txn_t *txn)
{
	store_cursor_t *cur = NULL;
	store_val_t k, v;
	uint8_t key[8];
	size_t looked = 0;
	bool over = false;
	int rc = store_cursor_open(txn, DB_INST_RECON, &cur);
	while (rc == 0 && looked < RECON_STEP_MAX && x->inflight < RECON_INFLIGHT) {
		be64_put(key, x->org);
		rc = store_cursor_seek_dup(cur, key, 8, x->pos, DB_POS_LEN, &k, &v);
		if (rc == -ENOENT || (rc == 0 && (k.len != 8 || be64_get(k.data) != x->org))) {
			/* This organization is done: on to the next key. */
			looked++;
			if (x->org == UINT64_MAX) {
				over = true;
				break;
			}
			be64_put(key, x->org + 1);
			rc = store_cursor_seek(cur, key, 8, &k, &v);
			if (rc == -ENOENT) {
				over = true;
				break;
			}
			if (rc != 0 || k.len != 8)
				break;
			x->org = be64_get(k.data);
			x->org_today = recon_org_today(x, txn, x->org);
			memset(x->pos, 0, sizeof(x->pos));
			continue;
		}
		if (rc != 0 || v.len != DB_POS_LEN)
			break;
		looked++;
		const uint8_t *pos = v.data;
		if (x->org_today == 0)
			x->org_today = recon_org_today(x, txn, x->org);
		if (!inst_reconcile_due(db_inst_pos_day(pos), x->org_today)) {
			/* Later entries are due later still: skip the rest of this organization. */
			memset(x->pos, 0xff, sizeof(x->pos));
			continue;
		}
		uint64_t order = db_inst_pos_order(pos);
		/* Past this order's entry (its other installments are covered by the same query). */
		db_inst_pos_put(x->pos, db_inst_pos_day(pos), order, db_inst_pos_number(pos) + 1);
		if (recon_mark(x, order, x->org_today) != 0)
			continue;
		int src = recon_start(x, txn, x->org, order);
		if (src != 0)
			log_warn("reconciliation query not started", "order_id=%" PRIu64 " err=%d",
				 order, src);
	}
	store_cursor_close(cur);
	if (rc != 0 && rc != -ENOENT) {
		log_error("reconciliation pass stopped by a store error", "err=%d", rc);
		over = true;
	}
	return over;
}

static void on_recon_step(uv_timer_t *t)
{
	recon_pump(t->data);
}

static void recon_pump(struct recon *x)
{
	if (!x->running || x->life.stopping || x->s->draining)
		return;
	if (x->inflight >= RECON_INFLIGHT)
		return;
	store_txn_t *txn = NULL;
	if (store_read_begin(x->s->store, &txn) != 0)
		return;
	bool over = recon_step(x, txn);
	store_read_end(txn);
	if (!over) {
		if (x->inflight < RECON_INFLIGHT)
			uv_timer_start(&x->step_timer, on_recon_step, 0, 0);
		return;
	}
	if (x->inflight > 0)
		return; /* the last answers end the pass */
	x->running = false;
	log_info("reconciliation pass done", "queries=%" PRIu64 " stored=%" PRIu64, x->queries,
		 x->stored);
	if (x->again)
		reconcile_kick(x->s);
}

static void reconcile_kick(srv_t *s)
{
	struct recon *x = s->reconcile;
	if (x == NULL || x->life.stopping || s->draining)
		return;
	if (x->running) {
		x->again = true;
		return;
	}
	x->again = false;
	x->running = true;
	x->org = 0;
	x->org_today = 0;
	memset(x->pos, 0, sizeof(x->pos));
	/* Yesterday's marks are of no use: a new day queries again. */
	recon_prune(x, date_local_day(srv_now_ms(s), -14 * 60) - 1);
	uv_timer_start(&x->step_timer, on_recon_step, 0, 0);
}

static void on_recon_hour(uv_timer_t *t)
{
	struct recon *x = t->data;
	reconcile_kick(x->s);
}

/* Freed once both timers are closed and no query is in flight. */
static bool recon_idle(const void *state)
{
	return ((const struct recon *)state)->inflight == 0;
}

static void recon_free(void *state)
{
	struct recon *x = state;
	free(x->seen);
	free(x);
}

static int reconcile_start(srv_t *s)
{
	struct recon *x = srv_job_new(s, sizeof(*x), recon_idle, recon_free);
	if (x == NULL)
		return -ENOMEM;
	x->s = s;
	uv_timer_init(s->loop, &x->hour_timer);
	uv_timer_init(s->loop, &x->step_timer);
	x->hour_timer.data = x->step_timer.data = x;
	x->started = true;
	s->reconcile = x;
	uv_timer_start(&x->hour_timer, on_recon_hour, 0, RECON_HOUR_MS);
	return 0;
}

static bool reconcile_busy(const srv_t *s)
{
	return s->reconcile != NULL && s->reconcile->inflight > 0;
}

static void reconcile_stop(srv_t *s, srv_job_done_fn done)
{
	struct recon *x = s->reconcile;
	if (x == NULL)
		return; /* never started, or stopped already */
	uv_handle_t *h[] = {(uv_handle_t *)&x->hour_timer, (uv_handle_t *)&x->step_timer};
	srv_job_close(&x->life, done, h, 2);
	s->reconcile = NULL;
}

const srv_job_t reconcile_job = {"reconciliation", reconcile_start, reconcile_kick, reconcile_busy,
				 reconcile_stop};
