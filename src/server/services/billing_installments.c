/*
 * Installments across orders (docs/spec.md 4.6, 4.9): Billing/ListInstallments,
 * Billing/RecordInstallment (MANUAL mode), Billing/RecurringCreditReport, and
 * the reconciliation job that queries PagoLivre about INTEGRATED installments
 * nothing was heard of two days after their due date.
 *
 * Everything reads the installment indexes db_order_put keeps (db.h:
 * DB_INST_UNIT, DB_INST_STATUS, DB_INST_RECON), never a walk over all orders.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/log.h"
#include "common/util.h"
#include "core/date.h"
#include "core/installment.h"
#include "core/order.h"
#include "gateways/gateway.h"
#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/customers.pb-c.h"
#include "ospay/v1/installments.pb-c.h"
#include "ospay/v1/records.pb-c.h"
#include "server/db/db.h"
#include "server/rpc/kit.h"
#include "server/rpc/page.h"
#include "server/rpc/srv.h"
#include "server/services/services.h"

#define IST(x) OSPAY__V1__INSTALLMENT_STATUS__INSTALLMENT_STATUS_##x
#define IMODE(x) OSPAY__V1__INSTALLMENT_MODE__INSTALLMENT_MODE_##x
#define PAYST(x) OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_##x

/* Report rows returned at most (default, cap), entries examined at most, days at most. */
#define REPORT_ROWS_DEFAULT 1000
#define REPORT_ROWS_MAX 5000
#define REPORT_EXAMINE_MAX 200000
#define REPORT_DAYS_MAX 366

/* ------------------------------------------------------------------ shared */

/* The installment of number n of an order, or NULL. */
static const Ospay__V1__OrderInstallment *order_inst(const Ospay__V1__Order *o, uint32_t n)
{
	if (o->payment == NULL || n == 0 || n > o->payment->n_schedule)
		return NULL;
	const Ospay__V1__OrderInstallment *in = o->payment->schedule[n - 1];
	return in->number == n ? in : NULL;
}

/* A row pointing into o (o must outlive the row). */
static void row_of_order(Ospay__V1__InstallmentRow *row, const Ospay__V1__Order *o,
			 const Ospay__V1__OrderInstallment *in)
{
	ospay__v1__installment_row__init(row);
	row->order_id = o->id;
	row->number = in->number;
	row->installments = (uint32_t)o->payment->n_schedule;
	row->organization_id = o->organization_id;
	row->unit_id = o->unit_id;
	row->customer_id = o->customer_id;
	row->due_date = in->due_date;
	row->amount = in->amount;
	row->status = in->status;
	row->mode = o->payment->integrated ? IMODE(INTEGRATED) : IMODE(MANUAL);
	row->reason = in->reason;
	row->updated_ms = in->updated_ms;
}

/* An optional inclusive "YYYY-MM-DD" bound; adds a violation when malformed. */
static void parse_day(srv_req_t *r, const char *field, const char *s, int64_t dflt, int64_t *out)
{
	*out = dflt;
	if (s[0] != '\0' && date_parse(s, out) != 0)
		status_violation(&r->st, field, "a date \"YYYY-MM-DD\"");
}

/*
 * The units a query covers: the filter's unit, narrowed to the customer's
 * unit when a customer is named (NOT_FOUND in r->st when the caller cannot
 * see it). 0 or a negative errno; *units may be empty.
 */
static int query_units(srv_req_t *r, store_txn_t *txn, uint64_t unit_id, uint64_t customer_id,
		       uint64_t **units, size_t *n)
{
	*units = NULL;
	*n = 0;
	if (customer_id != 0) {
		Ospay__V1__Customer *c = NULL;
		int rc = kit_get_seen(r, txn, &kit_customers, customer_id, &c);
		if (rc != 0 || !srv_ok(r))
			return rc;
		if (unit_id != 0 && unit_id != c->unit_id)
			return 0; /* the customer is in another unit: nothing matches */
		unit_id = c->unit_id;
	}
	return kit_scope_units(r, txn, unit_id, units, n);
}

/* Index keys of units (8 bytes), or unit | status (9 bytes) when status is set. */
static uint8_t *index_keys(const uint64_t *units, size_t n, int status, size_t *klen)
{
	*klen = status != 0 ? 9 : 8;
	uint8_t *k = malloc(n * *klen + 1);
	if (k == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		be64_put(k + i * *klen, units[i]);
		if (status != 0)
			k[i * *klen + 8] = (uint8_t)status;
	}
	return k;
}

/*
 * Loads the order of an index position and finds its installment; *in is
 * NULL when the entry is stale (never, as db_order_put keeps the index, but
 * an index is not trusted blindly). 0 or a negative errno.
 */
static int load_pos(store_txn_t *txn, const uint8_t *pos, Ospay__V1__Order **o,
		    const Ospay__V1__OrderInstallment **in)
{
	*in = NULL;
	int rc = kit_load(txn, DB_ORDERS, db_inst_pos_order(pos), &ospay__v1__order__descriptor, o);
	if (rc == -ENOENT) {
		*o = NULL;
		return 0;
	}
	if (rc == 0)
		*in = order_inst(*o, db_inst_pos_number(pos));
	return rc;
}

/* Does an installment pass the filters the index did not apply? */
static bool inst_match(const srv_req_t *r, const Ospay__V1__Order *o,
		       const Ospay__V1__OrderInstallment *in, int status, int mode,
		       uint64_t customer_id)
{
	if (status != 0 && (int)in->status != status)
		return false;
	if (mode == IMODE(INTEGRATED) && !o->payment->integrated)
		return false;
	if (mode == IMODE(MANUAL) && o->payment->integrated)
		return false;
	if (customer_id != 0 && o->customer_id != customer_id)
		return false;
	return kit_sees(r, o->organization_id, o->unit_id);
}

/* ------------------------------------------------------------------ ListInstallments */

static void list_hash(const Ospay__V1__BillingListInstallmentsRequest *in, uint8_t out[4])
{
	uint8_t buf[32], h[32];
	be64_put(buf, in->unit_id);
	be64_put(buf + 8, in->customer_id);
	be64_put(buf + 16, (uint64_t)in->status << 32 | (uint32_t)in->mode);
	crypto_sha256(buf, 24, (const uint8_t *)in->due_from, strlen(in->due_from), h);
	memcpy(buf, h, 32);
	crypto_sha256(buf, 32, (const uint8_t *)in->due_to, strlen(in->due_to), h);
	memcpy(out, h, 4);
}

/* The installment indexes of the units in scope (of the customer's, when named). */
static int list_open(srv_req_t *r, store_txn_t *txn, const uint8_t *from, db_scan_t **scan,
		     void *arg)
{
	const Ospay__V1__BillingListInstallmentsRequest *in = arg;
	uint64_t *units = NULL;
	uint8_t *keys = NULL;
	size_t nu = 0, klen = 8;
	int rc = query_units(r, txn, in->unit_id, in->customer_id, &units, &nu);
	if (rc != 0 || !srv_ok(r) || nu == 0)
		goto out;
	keys = index_keys(units, nu, in->status, &klen);
	if (keys == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	rc = db_scan_open(txn, in->status != 0 ? DB_INST_STATUS : DB_INST_UNIT, keys, klen, nu,
			  from, DB_POS_LEN, scan);
out:
	free(keys);
	free(units);
	return rc;
}

/* The position's installment of the order, when it passes the filters. */
static bool list_match(const srv_req_t *r, const uint8_t *pos, const ProtobufCMessage *m, void *arg)
{
	const Ospay__V1__BillingListInstallmentsRequest *in = arg;
	const Ospay__V1__Order *o = (const Ospay__V1__Order *)m;
	const Ospay__V1__OrderInstallment *ins = order_inst(o, db_inst_pos_number(pos));
	return ins != NULL && inst_match(r, o, ins, in->status, in->mode, in->customer_id);
}

int h_billing_list_installments(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__BillingListInstallmentsRequest *in = (const void *)r->in;
	Ospay__V1__InstallmentRow *rows = NULL, **rowp = NULL;
	int64_t lo, hi;
	page_t pg = {.token_kind = KIT_TOK_INSTALLMENTS,
		     .token = in->page_token,
		     .size = in->page_size,
		     .inst = true,
		     .table = DB_ORDERS,
		     .desc = &ospay__v1__order__descriptor,
		     /* Never, as db_order_put keeps the index, but it is not trusted blindly. */
		     .skip_missing = true,
		     .what = "installments list",
		     .open = list_open,
		     .match = list_match,
		     .arg = (void *)in};
	if (in->status < 0 || in->status > IST(CANCELED))
		status_violation(&r->st, "status", "an InstallmentStatus, or unspecified");
	if (in->mode != 0 && in->mode != IMODE(INTEGRATED) && in->mode != IMODE(MANUAL))
		status_violation(&r->st, "mode", "INTEGRATED, MANUAL, or unspecified");
	parse_day(r, "due_from", in->due_from, INT32_MIN + 1, &lo);
	parse_day(r, "due_to", in->due_to, INT32_MAX - 1, &hi);
	if (srv_ok(r) && hi < lo)
		status_violation(&r->st, "due_to", "must not be before due_from");
	pg.lo = lo;
	pg.hi = hi + 1; /* inclusive bound, exclusive in the walk */
	list_hash(in, pg.hash);
	int rc = page_list(r, txn, &pg);
	if (rc != 0 || !srv_ok(r))
		goto out;
	rows = calloc(pg.n + 1, sizeof(*rows));
	rowp = calloc(pg.n + 1, sizeof(*rowp));
	if (rows == NULL || rowp == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < pg.n; i++) {
		const Ospay__V1__Order *o = (const Ospay__V1__Order *)pg.items[i];
		row_of_order(&rows[i], o, order_inst(o, db_inst_pos_number(pg.pos[i])));
		rowp[i] = &rows[i];
	}
	Ospay__V1__BillingListInstallmentsResponse resp =
		OSPAY__V1__BILLING_LIST_INSTALLMENTS_RESPONSE__INIT;
	resp.installments = rowp;
	resp.n_installments = pg.n;
	resp.next_page_token = pg.next;
	rc = srv_reply_msg(r, &resp.base);
out:
	page_free(&pg);
	free(rowp);
	free(rows);
	return rc;
}

/* ------------------------------------------------------------------ RecordInstallment */

int h_billing_record_installment(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__BillingRecordInstallmentRequest *in = (const void *)r->in;
	Ospay__V1__Order *old = NULL;
	Ospay__V1__OrderStatusChange closed, **hist = NULL;
	Ospay__V1__OrderInstallment ins[ORDER_MAX_INSTALLMENTS], *insp[ORDER_MAX_INSTALLMENTS];
	int rc;
	if (in->order_id == 0)
		status_violation(&r->st, "order_id", "required");
	if (in->number == 0)
		status_violation(&r->st, "number", "required: the installment's number (1-based)");
	if (!inst_recordable(in->status))
		status_violation(&r->st, "status", "CONFIRMED, DENIED or CANCELED");
	if (in->status == IST(DENIED) && in->reason[0] == '\0')
		status_violation(&r->st, "reason", "required with DENIED");
	else if (in->status != IST(DENIED) && in->reason[0] != '\0')
		status_violation(&r->st, "reason", "only with DENIED");
	else
		kit_check_text(r, "reason", in->reason, INST_REASON_MAX);
	if (!srv_ok(r))
		return 0;
	rc = kit_get(r, txn, &kit_orders, NULL, in->order_id, PERM_OPERATE, &old);
	if (rc != 0 || !srv_ok(r))
		goto out;
	const Ospay__V1__OrderPayment *op = old->payment;
	if (op == NULL || op->n_schedule == 0 || op->n_schedule > ORDER_MAX_INSTALLMENTS) {
		rc = srv_fail(r, ST_FAILED_PRECONDITION, "order %" PRIu64 " has no installments",
			      old->id);
		goto out;
	}
	if (in->number > op->n_schedule) {
		status_violation(&r->st, "number", "order has %zu installments", op->n_schedule);
		goto out;
	}
	int verdict = INST_RECORD_SAME;
	const char *why = inst_record_check(op->integrated, (int)old->status,
					    (int)op->schedule[in->number - 1]->status,
					    (int)in->status, &verdict);
	if (why != NULL) {
		rc = srv_fail(r, ST_FAILED_PRECONDITION, "installment %u of order %" PRIu64 ": %s",
			      in->number, old->id, why);
		goto out;
	}
	Ospay__V1__Order o = *old;
	Ospay__V1__OrderPayment p = *op;
	if (verdict == INST_RECORD_CHANGE) {
		for (size_t i = 0; i < op->n_schedule; i++) {
			ins[i] = *op->schedule[i];
			insp[i] = &ins[i];
		}
		Ospay__V1__OrderInstallment *x = &ins[in->number - 1];
		x->status = in->status;
		x->reason = in->reason;
		x->updated_ms = r->now_ms;
		p.schedule = insp;
		o.payment = &p;
		switch (inst_record_effect(in->number, (int)in->status, (int)old->payment_status)) {
		case INST_EFFECT_PAID:
			/* As the PagoLivre paid path: the first installment in, the order done. */
			o.payment_status = PAYST(PAID);
			p.error_message = "";
			if (order_is_open((int)o.status)) {
				rc = db_order_history_append(
					&o, &closed, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CLOSED,
					r->now_ms, r->sess->p.token_id,
					"first installment recorded as paid (MANUAL)", &hist);
				if (rc != 0)
					goto out;
			}
			break;
		case INST_EFFECT_ERROR:
			o.payment_status = PAYST(ERROR);
			p.error_message = in->reason;
			break;
		default:
			break;
		}
		o.updated_ms = r->now_ms;
		rc = db_order_put(txn, old, &o);
		if (rc != 0) {
			rc = srv_store_fail(r, rc, "order store");
			goto out;
		}
		log_info("installment recorded",
			 "order_id=%" PRIu64 " number=%u status=%d by=%" PRIu64, o.id, in->number,
			 (int)in->status, r->sess->p.token_id);
	}
	rc = kit_reply_one(r, &ospay__v1__billing_record_installment_response__descriptor, &o.base);
out:
	free(hist);
	return rc;
}

/* ------------------------------------------------------------------ RecurringCreditReport */

/* Rows kept for the reply, in one source's order, and what they point into. */
typedef struct rep_rows {
	Ospay__V1__InstallmentRow *rows;
	void **owners; /* an unpacked Order or Charge per row */
	int64_t *days;
	size_t n;
} rep_rows_t;

typedef struct report {
	srv_req_t *r;
	const Ospay__V1__BillingRecurringCreditReportRequest *in;
	int64_t from, to; /* local days, inclusive */
	int offset;
	size_t max_rows;
	size_t examined;
	uint64_t total_rows;
	Ospay__V1__ReportTotal totals[4];
	rep_rows_t inst, chg;
} report_t;

static void rep_count(report_t *p, int status, int64_t amount)
{
	if (status < IST(WAITING) || status > IST(CANCELED))
		return;
	p->totals[status - 1].count++;
	p->totals[status - 1].amount += amount;
	p->total_rows++;
}

static int report_too_big(srv_req_t *r)
{
	return srv_fail(r, ST_RESOURCE_EXHAUSTED,
			"the report covers more than %d installments and charges; narrow the "
			"period or the filters",
			REPORT_EXAMINE_MAX);
}

static int rep_alloc(rep_rows_t *x, size_t n)
{
	x->rows = calloc(n + 1, sizeof(*x->rows));
	x->owners = calloc(n + 1, sizeof(*x->owners));
	x->days = calloc(n + 1, sizeof(*x->days));
	return x->rows != NULL && x->owners != NULL && x->days != NULL ? 0 : -ENOMEM;
}

/* Ends a report's walk with rc (its end, -ENOENT, is no error): the scan and its keys go. */
static int rep_walk_end(db_scan_t *scan, uint8_t *keys, int rc)
{
	db_scan_close(scan);
	free(keys);
	return rc == -ENOENT ? 0 : rc;
}

/* The installments of the period. 0 or a negative errno; too many: r->st. */
static int rep_installments(report_t *p, store_txn_t *txn, const uint64_t *units, size_t nu)
{
	const Ospay__V1__BillingRecurringCreditReportRequest *in = p->in;
	db_scan_t *scan = NULL;
	size_t klen;
	uint8_t from[DB_POS_LEN];
	uint8_t *keys = index_keys(units, nu, in->status, &klen);
	if (keys == NULL)
		return -ENOMEM;
	db_inst_pos_put(from, p->from, 0, 0);
	int rc = db_scan_open(txn, in->status != 0 ? DB_INST_STATUS : DB_INST_UNIT, keys, klen, nu,
			      from, DB_POS_LEN, &scan);
	const uint8_t *pos;
	while (rc == 0 && (rc = db_scan_next(scan, &pos)) == 0) {
		if (db_inst_pos_day(pos) > p->to)
			break;
		if (++p->examined > REPORT_EXAMINE_MAX) {
			rc = report_too_big(p->r);
			break;
		}
		Ospay__V1__Order *o = NULL;
		const Ospay__V1__OrderInstallment *ins;
		rc = load_pos(txn, pos, &o, &ins);
		if (rc == 0 && ins != NULL &&
		    inst_match(p->r, o, ins, in->status, in->mode, in->customer_id)) {
			rep_count(p, (int)ins->status, ins->amount);
			if (p->inst.n < p->max_rows) {
				row_of_order(&p->inst.rows[p->inst.n], o, ins);
				p->inst.owners[p->inst.n] = o;
				p->inst.days[p->inst.n++] = db_inst_pos_day(pos);
				o = NULL;
			}
		}
		ospay__v1__order__free_unpacked(o, NULL);
	}
	return rep_walk_end(scan, keys, rc);
}

/* The billing run's recurring charges of the period (card and Pix Automático). */
static int rep_charges(report_t *p, store_txn_t *txn, const uint64_t *units, size_t nu)
{
	const Ospay__V1__BillingRecurringCreditReportRequest *in = p->in;
	db_scan_t *scan = NULL;
	uint8_t from[DB_POS_LEN];
	uint8_t *keys = index_keys(units, nu, 0, &(size_t){0});
	if (keys == NULL)
		return -ENOMEM;
	int64_t lo = date_local_to_utc(p->from, 0, p->offset);
	int64_t hi = date_local_to_utc(p->to + 1, 0, p->offset);
	db_pos_put(from, lo, 0);
	int rc = db_scan_open(txn, DB_CHG_TIME, keys, 8, nu, from, DB_POS_LEN, &scan);
	const uint8_t *pos;
	while (rc == 0 && (rc = db_scan_next(scan, &pos)) == 0) {
		if (db_pos_sort(pos) >= hi)
			break;
		if (++p->examined > REPORT_EXAMINE_MAX) {
			rc = report_too_big(p->r);
			break;
		}
		Ospay__V1__Charge *c = NULL;
		rc = kit_load(txn, DB_CHARGES, db_pos_id(pos), &ospay__v1__charge__descriptor, &c);
		if (rc == -ENOENT) {
			rc = 0;
			continue;
		}
		if (rc != 0)
			break;
		int st = inst_status_of_charge((int)c->status);
		int mode = c->rail == OSPAY__V1__PAYMENT_RAIL__PAYMENT_RAIL_PIX_AUTOMATICO
				   ? IMODE(AUTOMATIC_PIX)
				   : IMODE(AUTOMATIC_CARD);
		bool match = c->recurring && kit_sees(p->r, c->organization_id, c->unit_id) &&
			     (in->mode == 0 || (int)in->mode == mode) &&
			     (in->status == 0 || (int)in->status == st) &&
			     (in->customer_id == 0 || c->customer_id == in->customer_id);
		if (match) {
			rep_count(p, st, c->amount);
			if (p->chg.n < p->max_rows) {
				Ospay__V1__InstallmentRow *row = &p->chg.rows[p->chg.n];
				ospay__v1__installment_row__init(row);
				row->organization_id = c->organization_id;
				row->unit_id = c->unit_id;
				row->customer_id = c->customer_id;
				row->due_date = c->local_date;
				row->amount = c->amount;
				row->status = st;
				row->mode = mode;
				row->pix_txid = c->pix_txid;
				row->psp_reason = c->psp_reason;
				row->reason = st == IST(DENIED) ? c->return_message : "";
				row->updated_ms = c->updated_ms;
				row->charge_id = c->id;
				row->invoice_id = c->invoice_id;
				row->decline_class = c->decline_class;
				row->advice = c->advice;
				row->next_retry_ms = c->next_retry_ms;
				row->retry_fee = c->retry_fee;
				int64_t day;
				p->chg.days[p->chg.n] =
					date_parse(c->local_date, &day) == 0
						? day
						: date_local_day(c->created_ms, p->offset);
				p->chg.owners[p->chg.n++] = c;
				c = NULL;
			}
		}
		ospay__v1__charge__free_unpacked(c, NULL);
	}
	return rep_walk_end(scan, keys, rc);
}

/* The period asked for, into p->from / p->to; violations on r->st. */
static void rep_period(report_t *p, int64_t today)
{
	srv_req_t *r = p->r;
	const Ospay__V1__BillingRecurringCreditReportRequest *in = p->in;
	bool custom = in->from[0] != '\0' || in->to[0] != '\0';
	if (custom && in->period != 0) {
		status_violation(&r->st, "period", "either a preset period or from and to");
		return;
	}
	if (custom) {
		if (in->from[0] == '\0' || date_parse(in->from, &p->from) != 0)
			status_violation(&r->st, "from", "a date \"YYYY-MM-DD\"");
		if (in->to[0] == '\0' || date_parse(in->to, &p->to) != 0)
			status_violation(&r->st, "to", "a date \"YYYY-MM-DD\"");
		else if (srv_ok(r) && p->to < p->from)
			status_violation(&r->st, "to", "must not be before from");
		else if (srv_ok(r) && p->to - p->from >= REPORT_DAYS_MAX)
			status_violation(&r->st, "to", "at most %d days after from",
					 REPORT_DAYS_MAX - 1);
		return;
	}
	int preset = in->period != 0 ? (int)in->period : INST_PERIOD_THIS_MONTH;
	if (inst_period_days(preset, today, &p->from, &p->to) != 0)
		status_violation(&r->st, "period", "TODAY, THIS_WEEK, THIS_MONTH or LAST_MONTH");
}

/*
 * The report's rows name their customer (name and CPF/CNPJ): each customer is
 * loaded once (rows of one customer repeat), kept in *held until the reply is
 * packed. 0 or a negative errno.
 */
static int rep_customers(store_txn_t *txn, Ospay__V1__InstallmentRow **rows, size_t n,
			 Ospay__V1__Customer ***held, size_t *n_held)
{
	int rc = 0;
	*held = calloc(n + 1, sizeof(**held));
	*n_held = 0;
	if (*held == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n && rc == 0; i++) {
		Ospay__V1__Customer *c = NULL;
		for (size_t k = 0; k < *n_held && c == NULL; k++)
			if ((*held)[k]->id == rows[i]->customer_id)
				c = (*held)[k];
		if (c == NULL) {
			rc = kit_load(txn, DB_CUSTOMERS, rows[i]->customer_id,
				      &ospay__v1__customer__descriptor, &c);
			if (rc == -ENOENT) {
				rc = 0; /* shown without a name rather than failing the report */
				continue;
			}
			if (rc != 0)
				break;
			(*held)[(*n_held)++] = c;
		}
		rows[i]->customer_name = c->name;
		rows[i]->customer_document = c->document;
	}
	return rc;
}

int h_billing_recurring_credit_report(srv_req_t *r, store_txn_t *txn)
{
	const Ospay__V1__BillingRecurringCreditReportRequest *in = (const void *)r->in;
	report_t p = {.r = r, .in = in};
	Ospay__V1__InstallmentRow **rowp = NULL;
	Ospay__V1__Customer **custs = NULL;
	size_t n_custs = 0;
	Ospay__V1__ReportTotal *totp[4];
	uint64_t *units = NULL;
	size_t nu = 0, n = 0;
	char from_s[16], to_s[16];
	int rc = kit_org_offset(r, txn, &p.offset);
	if (rc != 0) {
		rc = srv_store_fail(r, rc, "organization lookup");
		goto out;
	}
	if (in->status < 0 || in->status > IST(CANCELED))
		status_violation(&r->st, "status", "an InstallmentStatus, or unspecified");
	if (in->mode < 0 || in->mode > IMODE(AUTOMATIC_PIX))
		status_violation(
			&r->st, "mode",
			"INTEGRATED, MANUAL, AUTOMATIC_CARD, AUTOMATIC_PIX or unspecified");
	rep_period(&p, date_local_day(r->now_ms, p.offset));
	if (!srv_ok(r))
		goto out;
	p.max_rows = in->max_rows == 0                ? REPORT_ROWS_DEFAULT
		     : in->max_rows > REPORT_ROWS_MAX ? REPORT_ROWS_MAX
						      : in->max_rows;
	for (int i = 0; i < 4; i++) {
		ospay__v1__report_total__init(&p.totals[i]);
		p.totals[i].status = i + 1;
		totp[i] = &p.totals[i];
	}
	if (rep_alloc(&p.inst, p.max_rows) != 0 || rep_alloc(&p.chg, p.max_rows) != 0) {
		rc = -ENOMEM;
		goto out;
	}
	rc = query_units(r, txn, in->unit_id, in->customer_id, &units, &nu);
	bool automatic = in->mode == IMODE(AUTOMATIC_CARD) || in->mode == IMODE(AUTOMATIC_PIX);
	if (rc == 0 && srv_ok(r) && nu > 0 && !automatic)
		rc = rep_installments(&p, txn, units, nu);
	if (rc == 0 && srv_ok(r) && nu > 0 && (in->mode == 0 || automatic))
		rc = rep_charges(&p, txn, units, nu);
	if (rc != 0 || !srv_ok(r))
		goto out;
	/* Both sources come by day: merged, installments first on a day, then cut. */
	rowp = calloc(p.max_rows + 1, sizeof(*rowp));
	if (rowp == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	size_t a = 0, b = 0;
	while (n < p.max_rows && (a < p.inst.n || b < p.chg.n)) {
		if (b >= p.chg.n || (a < p.inst.n && p.inst.days[a] <= p.chg.days[b]))
			rowp[n++] = &p.inst.rows[a++];
		else
			rowp[n++] = &p.chg.rows[b++];
	}
	rc = rep_customers(txn, rowp, n, &custs, &n_custs);
	if (rc != 0)
		goto out;
	date_format(p.from, from_s, sizeof(from_s));
	date_format(p.to, to_s, sizeof(to_s));
	Ospay__V1__BillingRecurringCreditReportResponse resp =
		OSPAY__V1__BILLING_RECURRING_CREDIT_REPORT_RESPONSE__INIT;
	resp.from = from_s;
	resp.to = to_s;
	resp.rows = rowp;
	resp.n_rows = n;
	resp.totals = totp;
	resp.n_totals = 4;
	resp.total_rows = p.total_rows;
	resp.truncated = p.total_rows > n;
	rc = srv_reply_msg(r, &resp.base);
out:
	if (rc < 0 && rc != -ENOMEM && srv_ok(r))
		rc = srv_store_fail(r, rc, "report");
	for (size_t i = 0; i < p.inst.n; i++)
		ospay__v1__order__free_unpacked(p.inst.owners[i], NULL);
	for (size_t i = 0; i < p.chg.n; i++)
		ospay__v1__charge__free_unpacked(p.chg.owners[i], NULL);
	free(p.inst.rows);
	free(p.inst.owners);
	free(p.inst.days);
	free(p.chg.rows);
	free(p.chg.owners);
	free(p.chg.days);
	free(rowp);
	for (size_t i = 0; i < n_custs; i++)
		ospay__v1__customer__free_unpacked(custs[i], NULL);
	free(custs);
	free(units);
	return rc;
}
