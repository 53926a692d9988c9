/*
 * The installment indexes db_order_put keeps (DB_INST_UNIT, DB_INST_STATUS,
 * DB_INST_RECON): 3,000 orders of 12 installments are stored in a store
 * opened with the server's tables, then Billing/ListInstallments and
 * Billing/RecurringCreditReport are called through their handlers and the
 * store's count of values read (records_read) must follow the rows served,
 * not the orders stored. Also: the index follows status changes and the
 * reconciliation index holds exactly the INTEGRATED installments still WAITING.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "core/date.h"
#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/installments.pb-c.h"
#include "server/db/db.h"
#include "server/rpc/srv.h"
#include "server/services/services.h"
#include "support/handlers.h"
#include "support/seed.h"

#define N_ORDERS 3000
#define N_INST 12
#define SPREAD 300 /* orders start on one of 300 consecutive days */
#define IST(x) OSPAY__V1__INSTALLMENT_STATUS__INSTALLMENT_STATUS_##x

static char dir[64];
static store_t *store;
static srv_t srv;
static srv_session_t sess;
static int64_t base_day;

/* Order i: 12 installments, monthly-ish from base_day + i % SPREAD; every
 * tenth order is INTEGRATED with its link PENDING. */
static void order_of(int i, Ospay__V1__Order *o, Ospay__V1__OrderPayment *p,
		     Ospay__V1__OrderInstallment *in, Ospay__V1__OrderInstallment **inp,
		     char due[N_INST][11])
{
	ospay__v1__order__init(o);
	ospay__v1__order_payment__init(p);
	o->id = (uint64_t)i + 1;
	o->organization_id = 1;
	o->unit_id = 1;
	o->customer_id = (uint64_t)(i % 50) + 1;
	o->kind = "INSTALACAO";
	o->amount = 12000;
	o->status = OSPAY__V1__ORDER_STATUS__ORDER_STATUS_OPEN;
	o->payment_status = OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_PENDING;
	o->created_ms = (int64_t)i;
	p->method_type = OSPAY__V1__PAYMENT_METHOD_TYPE__PAYMENT_METHOD_TYPE_RECURRING_CREDIT;
	p->installments = N_INST;
	p->integrated = i % 10 == 0;
	p->order_key = p->integrated ? "os-key" : "";
	for (int k = 0; k < N_INST; k++) {
		ospay__v1__order_installment__init(&in[k]);
		in[k].number = (uint32_t)k + 1;
		date_format(base_day + i % SPREAD + 30 * k, due[k], 11);
		in[k].due_date = due[k];
		in[k].amount = 1000;
		in[k].status = IST(WAITING);
		inp[k] = &in[k];
	}
	p->schedule = inp;
	p->n_schedule = N_INST;
	o->payment = p;
}

static int put_orders(store_txn_t *txn, void *arg)
{
	int first = *(int *)arg, rc = 0;
	for (int i = first; i < first + 500 && i < N_ORDERS && rc == 0; i++) {
		Ospay__V1__Order o;
		Ospay__V1__OrderPayment p;
		Ospay__V1__OrderInstallment in[N_INST], *inp[N_INST];
		char due[N_INST][11];
		order_of(i, &o, &p, in, inp, due);
		rc = db_order_put(txn, NULL, &o);
	}
	return rc;
}

static void setup(void)
{
	log_set_level(log_level_parse("warn"));
	srv.opts.test_clock = true;
	base_day = date_from_civil(2026, 1, 1);
	store = tsh_admin_up(&srv, &sess, dir, sizeof(dir), "inst",
			     date_local_to_utc(base_day + 100, 12 * 60, -180));
	for (int i = 0; i < N_ORDERS; i += 500) {
		int first = i;
		cr_assert_eq(store_write(store, put_orders, NULL, &first), 0);
		cr_assert_eq(store_flush(store), 0);
	}
}

static void teardown(void)
{
	tsh_store_down(store, dir);
}

TestSuite(installments_index, .init = setup, .fini = teardown, .timeout = 120);

/* One handler call asserted OK (a write committed); the reply unpacked with d
 * (NULL: none); *reads (may be NULL) gets the values read. */
static void *call(const char *method, ProtobufCMessage *in, const ProtobufCMessageDescriptor *d,
		  uint64_t *reads)
{
	store_stats_t a, b;
	store_get_stats(store, &a);
	void *out = tsh_call_ok(&srv, &sess, method, in, d);
	if (services_method_find(method)->flags & SRV_M_WRITE)
		cr_assert_eq(store_flush(store), 0);
	store_get_stats(store, &b);
	if (reads != NULL)
		*reads = b.records_read - a.records_read;
	return out;
}

/* Entries under key in a DUPSORT table. */
static size_t count_dups(unsigned table, const uint8_t *key, size_t klen)
{
	store_txn_t *txn;
	store_cursor_t *c;
	store_val_t k, v;
	size_t n = 0;
	cr_assert_eq(store_read_begin(store, &txn), 0);
	cr_assert_eq(store_cursor_open(txn, table, &c), 0);
	uint8_t zero[DB_POS_LEN] = {0};
	for (int rc = store_cursor_seek_dup(c, key, klen, zero, DB_POS_LEN, &k, &v); rc == 0;
	     rc = store_cursor_next_dup(c, &k, &v))
		n++;
	store_cursor_close(c);
	store_read_end(txn);
	return n;
}

Test(installments_index, a_page_reads_what_it_serves)
{
	char from[11], to[11];
	date_format(base_day + 40, from, sizeof(from));
	date_format(base_day + 44, to, sizeof(to));
	Ospay__V1__BillingListInstallmentsRequest m =
		OSPAY__V1__BILLING_LIST_INSTALLMENTS_REQUEST__INIT;
	m.page_size = 50;
	m.due_from = from;
	m.due_to = to;
	uint64_t reads;
	Ospay__V1__BillingListInstallmentsResponse *r =
		call("ospay.v1.Billing/ListInstallments", &m.base,
		     &ospay__v1__billing_list_installments_response__descriptor, &reads);
	cr_log_info("ListInstallments: %zu rows, %llu records read among %d orders",
		    r->n_installments, (unsigned long long)reads, N_ORDERS);
	cr_assert_eq(r->n_installments, 50);
	cr_assert_neq(r->next_page_token[0], '\0');
	for (size_t i = 0; i < r->n_installments; i++)
		cr_assert(strcmp(r->installments[i]->due_date, from) >= 0 &&
			  strcmp(r->installments[i]->due_date, to) <= 0);
	/* An index entry and an order per row, and a few to open the walk. */
	cr_assert_leq(reads, 2 * 50 + 10, "%llu records read", (unsigned long long)reads);
	ospay__v1__billing_list_installments_response__free_unpacked(r, NULL);
}

Test(installments_index, a_report_reads_its_period_only)
{
	/* Day 100 (the test clock's today): installment k of the orders starting
	 * on day 100 - 30k, 10 orders per start day, k = 0..3: 40 rows. */
	Ospay__V1__BillingRecurringCreditReportRequest m =
		OSPAY__V1__BILLING_RECURRING_CREDIT_REPORT_REQUEST__INIT;
	m.period = OSPAY__V1__REPORT_PERIOD__REPORT_PERIOD_TODAY;
	uint64_t reads;
	Ospay__V1__BillingRecurringCreditReportResponse *r =
		call("ospay.v1.Billing/RecurringCreditReport", &m.base,
		     &ospay__v1__billing_recurring_credit_report_response__descriptor, &reads);
	cr_log_info("RecurringCreditReport: %zu rows, %llu records read among %d orders", r->n_rows,
		    (unsigned long long)reads, N_ORDERS);
	cr_assert_eq(r->n_rows, 40);
	cr_assert_eq(r->totals[0]->count, 40);
	cr_assert_eq(r->totals[0]->amount, 40 * 1000);
	cr_assert_leq(reads, 2 * 40 + 20, "%llu records read", (unsigned long long)reads);
	ospay__v1__billing_recurring_credit_report_response__free_unpacked(r, NULL);
}

typedef struct pair {
	const Ospay__V1__Order *old, *o;
} pair_t;

static int put_pair(store_txn_t *txn, void *arg)
{
	pair_t *x = arg;
	return db_order_put(txn, x->old, x->o);
}

Test(installments_index, the_indexes_follow_the_order)
{
	uint8_t org[8], unit[8], st_wait[9], st_conf[9];
	be64_put(org, 1);
	be64_put(unit, 1);
	memcpy(st_wait, unit, 8);
	st_wait[8] = IST(WAITING);
	memcpy(st_conf, unit, 8);
	st_conf[8] = IST(CONFIRMED);
	cr_assert_eq(count_dups(DB_INST_UNIT, unit, 8), N_ORDERS * N_INST);
	cr_assert_eq(count_dups(DB_INST_STATUS, st_wait, 9), N_ORDERS * N_INST);
	/* Only the INTEGRATED ones (every tenth order) are reconciliation's. */
	cr_assert_eq(count_dups(DB_INST_RECON, org, 8), N_ORDERS / 10 * N_INST);
	/* A MANUAL installment recorded: its status entry moves, nothing else. */
	Ospay__V1__BillingRecordInstallmentRequest rec =
		OSPAY__V1__BILLING_RECORD_INSTALLMENT_REQUEST__INIT;
	rec.order_id = 2;
	rec.number = 3;
	rec.status = IST(CONFIRMED);
	call("ospay.v1.Billing/RecordInstallment", &rec.base, NULL, NULL);
	cr_assert_eq(count_dups(DB_INST_UNIT, unit, 8), N_ORDERS * N_INST);
	cr_assert_eq(count_dups(DB_INST_STATUS, st_wait, 9), N_ORDERS * N_INST - 1);
	cr_assert_eq(count_dups(DB_INST_STATUS, st_conf, 9), 1);
	/* An INTEGRATED installment confirmed leaves the reconciliation index. */
	Ospay__V1__Order o, old;
	Ospay__V1__OrderPayment p, po;
	Ospay__V1__OrderInstallment in[N_INST], *inp[N_INST], ino[N_INST], *inpo[N_INST];
	char due[N_INST][11], dueo[N_INST][11];
	order_of(0, &old, &po, ino, inpo, dueo);
	order_of(0, &o, &p, in, inp, due);
	in[0].status = IST(CONFIRMED);
	o.payment_status = OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_PAID;
	o.status = OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CLOSED;
	pair_t pr = {&old, &o};
	cr_assert_eq(store_write(store, put_pair, NULL, &pr), 0);
	cr_assert_eq(store_flush(store), 0);
	cr_assert_eq(count_dups(DB_INST_RECON, org, 8), N_ORDERS / 10 * N_INST - 1);
	cr_assert_eq(count_dups(DB_INST_UNIT, unit, 8), N_ORDERS * N_INST);
	/* The order canceled: nothing of it is left to reconcile. */
	order_of(0, &old, &po, ino, inpo, dueo);
	ino[0].status = IST(CONFIRMED);
	old.payment_status = OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_PAID;
	old.status = OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CLOSED;
	o.status = OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CANCELED;
	cr_assert_eq(store_write(store, put_pair, NULL, &pr), 0);
	cr_assert_eq(store_flush(store), 0);
	cr_assert_eq(count_dups(DB_INST_RECON, org, 8), N_ORDERS / 10 * N_INST - N_INST);
	cr_assert_eq(count_dups(DB_INST_UNIT, unit, 8), N_ORDERS * N_INST);
}
