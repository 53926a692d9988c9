/*
 * Installments across orders end to end (docs/spec.md 4.6, 4.9): a real ospayd on the
 * test clock and a real ospay-sandbox standing in for PagoLivre (payment
 * links) and Cielo (the billing run's recurring card charges).
 * Billing/RecurringCreditReport with every filter and the totals,
 * Billing/RecordInstallment in MANUAL mode, Billing/ListInstallments paging,
 * the reconciliation of an installment whose webhook was lost, and the CLI.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/cards.pb-c.h"
#include "ospay/v1/clock.pb-c.h"
#include "ospay/v1/customers.pb-c.h"
#include "ospay/v1/gateway.pb-c.h"
#include "ospay/v1/installments.pb-c.h"
#include "ospay/v1/orders.pb-c.h"
#include "support/domain.h"
#include "support/enums.h"
#include "support/gateways.h"
#include "support/proc.h"
#include "support/suite.h"

static tsp_sandbox_t sbx;
static uint64_t pm_integrated, pm_manual;

#define TOKEN "pl-token-inst"
#define IMODE(x) OSPAY__V1__INSTALLMENT_MODE__INSTALLMENT_MODE_##x
#define PERIOD(x) OSPAY__V1__REPORT_PERIOD__REPORT_PERIOD_##x
#define ROLE(x) OSPAY__V1__ROLE__ROLE_##x

static void after_up(void);
/* Tuesday 2026-03-10, 12:00 local (UTC-03:00). */
TSP_E2E_SUITE_THEN(installments, fd, &sbx, "2026-03-10T15:00:00Z", 120, after_up);

static void after_up(void)
{
	tsg_pagolivre(fd, &sbx, srv.org_id, TOKEN);
	tsg_cielo(fd, &sbx, srv.org_id, "inst", true);
	pm_integrated =
		tso_payment_method(fd, "Crédito recorrente", T(RECURRING_CREDIT), M(INTEGRATED));
	pm_manual =
		tso_payment_method(fd, "Crédito recorrente manual", T(RECURRING_CREDIT), M(MANUAL));
}

/* ------------------------------------------------------------------ helpers */

/* An order of customer cust finalized with n installments of method pm (15000 centavos). */
static uint64_t finalized(int call_fd, uint64_t cust, uint64_t pm, uint32_t n, char key[64])
{
	uint64_t id = 0;
	status_t st;
	cr_assert_eq(tso_order(call_fd, cust, 0, 0, 0, 0, &id, &st), 0, "order: %s", st.message);
	Ospay__V1__Order *o = tso_finalize_ok(call_fd, id, pm, 0, n);
	if (key != NULL)
		snprintf(key, 64, "%s", o->payment->order_key);
	ospay__v1__order__free_unpacked(o, NULL);
	return id;
}

/* Billing/RecordInstallment on call_fd; the status code, *out the order when OK. */
static int record(int call_fd, uint64_t order, uint32_t n, int status, const char *reason,
		  Ospay__V1__Order **out, status_t *st)
{
	Ospay__V1__BillingRecordInstallmentRequest m =
		OSPAY__V1__BILLING_RECORD_INSTALLMENT_REQUEST__INIT;
	m.order_id = order;
	m.number = n;
	m.status = status;
	m.reason = (char *)(reason != NULL ? reason : "");
	return tsp_call_take(call_fd, "ospay.v1.Billing/RecordInstallment", &m.base,
			     &ospay__v1__billing_record_installment_response__descriptor, "order",
			     (ProtobufCMessage **)out, st);
}

static void record_ok(uint64_t order, uint32_t n, int status, const char *reason)
{
	status_t st;
	cr_assert_eq(record(fd, order, n, status, reason, NULL, &st), 0, "record: %s", st.message);
}

typedef struct rq {
	int period;
	const char *from, *to;
	int status, mode;
	uint64_t customer, unit;
	uint32_t max_rows;
} rq_t;

static int report(int call_fd, const rq_t *q, Ospay__V1__BillingRecurringCreditReportResponse **out,
		  status_t *st)
{
	Ospay__V1__BillingRecurringCreditReportRequest m =
		OSPAY__V1__BILLING_RECURRING_CREDIT_REPORT_REQUEST__INIT;
	m.period = q->period;
	m.from = (char *)(q->from ? q->from : "");
	m.to = (char *)(q->to ? q->to : "");
	m.status = q->status;
	m.mode = q->mode;
	m.customer_id = q->customer;
	m.unit_id = q->unit;
	m.max_rows = q->max_rows;
	*out = NULL;
	return tsp_call(call_fd, "ospay.v1.Billing/RecurringCreditReport", &m.base,
			&ospay__v1__billing_recurring_credit_report_response__descriptor,
			(ProtobufCMessage **)out, NULL, st);
}

static Ospay__V1__BillingRecurringCreditReportResponse *report_ok(int call_fd, rq_t q)
{
	Ospay__V1__BillingRecurringCreditReportResponse *r;
	status_t st;
	cr_assert_eq(report(call_fd, &q, &r, &st), 0, "report: %s (%s)", st.message,
		     st.n_violations ? st.violations[0].field : "");
	/* The totals always add up to the rows (none truncated here unless asked). */
	uint64_t n = 0;
	cr_assert_eq(r->n_totals, 4);
	for (size_t i = 0; i < 4; i++) {
		cr_assert_eq(r->totals[i]->status, (int)i + 1);
		n += r->totals[i]->count;
	}
	cr_assert_eq(n, r->total_rows);
	if (!r->truncated) {
		cr_assert_eq(r->n_rows, r->total_rows);
		for (size_t i = 0; i < 4; i++) {
			uint64_t c = 0;
			int64_t a = 0;
			for (size_t k = 0; k < r->n_rows; k++)
				if ((int)r->rows[k]->status == (int)i + 1) {
					c++;
					a += r->rows[k]->amount;
				}
			cr_assert_eq(r->totals[i]->count, c);
			cr_assert_eq(r->totals[i]->amount, a);
		}
	}
	return r;
}

/* The report of a preset period: its first and last days and how many rows it has. */
static void preset_is(int period, const char *from, const char *to, size_t rows)
{
	Ospay__V1__BillingRecurringCreditReportResponse *r =
		report_ok(fd, (rq_t){.period = period});
	cr_assert_str_eq(r->from, from, "period %d", period);
	cr_assert_str_eq(r->to, to, "period %d", period);
	cr_assert_eq(r->n_rows, rows, "period %d: %zu rows", period, r->n_rows);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* Does the report hold the row (order, number) — or (charge, 0) when order is 0? */
static bool has_row(const Ospay__V1__BillingRecurringCreditReportResponse *r, uint64_t order,
		    uint32_t n, uint64_t charge)
{
	for (size_t i = 0; i < r->n_rows; i++) {
		const Ospay__V1__InstallmentRow *w = r->rows[i];
		if (charge != 0 ? w->charge_id == charge : (w->order_id == order && w->number == n))
			return true;
	}
	return false;
}

/* A report row: (order, number), or (charge) when order is 0; all 0: none. */
typedef struct row {
	uint64_t order;
	uint32_t n;
	uint64_t charge;
} row_t;

/* One report filter: how many rows it gives, and rows that must be among them. */
typedef struct filter_case {
	const char *what;
	rq_t q;
	size_t n_rows;
	row_t must[2];
} filter_case_t;

static void check_filters(const filter_case_t *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		Ospay__V1__BillingRecurringCreditReportResponse *r = report_ok(fd, c[i].q);
		cr_assert_eq(r->n_rows, c[i].n_rows, "%s: %zu rows", c[i].what, r->n_rows);
		for (size_t k = 0; k < 2; k++) {
			const row_t *w = &c[i].must[k];
			if (w->order != 0 || w->charge != 0)
				cr_assert(has_row(r, w->order, w->n, w->charge),
					  "%s: row %zu missing", c[i].what, k);
		}
		protobuf_c_message_free_unpacked(&r->base, NULL);
	}
}

static uint64_t total_count(const Ospay__V1__BillingRecurringCreditReportResponse *r, int status)
{
	return r->totals[status - 1]->count;
}

static int64_t total_amount(const Ospay__V1__BillingRecurringCreditReportResponse *r, int status)
{
	return r->totals[status - 1]->amount;
}

/* Waits (a hang guard) until installment n of the order has status inst; the order or NULL. */
static Ospay__V1__Order *wait_inst(uint64_t id, uint32_t n, int inst)
{
	tsp_poll_t p = tsp_poll_start(TSP_HANG_MS);
	do {
		Ospay__V1__Order *o = tso_get_order(fd, id);
		if (o->payment != NULL && n <= o->payment->n_schedule &&
		    (int)o->payment->schedule[n - 1]->status == inst)
			return o;
		ospay__v1__order__free_unpacked(o, NULL);
	} while (tsp_poll_next(&p));
	return NULL;
}

/* The status of the order's installment n as stored. */
static int inst_status(uint64_t id, uint32_t n)
{
	Ospay__V1__Order *o = tso_get_order(fd, id);
	cr_assert(o->payment != NULL && n <= o->payment->n_schedule, "no installment %u", n);
	int st = (int)o->payment->schedule[n - 1]->status;
	ospay__v1__order__free_unpacked(o, NULL);
	return st;
}

/* A customer of unit with a card ending in last, a recurring service, and an invoice due today. */
static uint64_t card_customer(uint64_t unit, uint32_t n, int last)
{
	uint64_t c = tso_customer(fd, unit, n, "São Paulo");
	tso_visa_card(fd, c, last);
	tso_invoice(fd, c, tso_service(fd, c, true), "2026-03-10");
	return c;
}

/* The id of the customer's only charge. */
static uint64_t charge_of(uint64_t customer)
{
	Ospay__V1__BillingListChargesResponse *r;
	uint64_t id = tso_only_charge(fd, customer, &r)->id;
	protobuf_c_message_free_unpacked(&r->base, NULL);
	return id;
}

/* ------------------------------------------------------------------ the report */

/*
 * The seeded story, on Tuesday 2026-03-10:
 *   o1 MANUAL, unit A, customer c1, 3 x 5000 due 03-10, 04-10, 05-10:
 *      #1 CONFIRMED, #2 DENIED, #3 WAITING
 *   o2 MANUAL, unit B, customer c2, 2 x 7500 due 03-10, 04-10: WAITING
 *   o3 INTEGRATED, unit A, customer c3, 2 x 7500: #1 paid by the link
 *   k4 a recurring card charge approved (unit A, customer c4, 9990, 03-10)
 *   k5 a recurring card charge declined (unit A, customer c5, 9990, 03-10)
 */
typedef struct story {
	uint64_t unit_b, c1, c2, c3, c4, c5, o1, o2, o3, k4, k5;
} story_t;

static void seed(story_t *s)
{
	s->unit_b = tso_unit(fd, "Unidade B");
	s->c1 = tso_customer(fd, srv.unit_id, 1, "São Paulo");
	s->c2 = tso_customer(fd, s->unit_b, 2, "São Paulo");
	s->c3 = tso_customer(fd, srv.unit_id, 3, "São Paulo");
	s->o1 = finalized(fd, s->c1, pm_manual, 3, NULL);
	record_ok(s->o1, 1, IST(CONFIRMED), NULL);
	record_ok(s->o1, 2, IST(DENIED), "Sem saldo, cliente avisado");
	s->o2 = finalized(fd, s->c2, pm_manual, 2, NULL);
	char key[64];
	s->o3 = finalized(fd, s->c3, pm_integrated, 2, key);
	cr_assert_eq(tsg_pagolivre_control(&sbx, "pay", key, NULL), 200);
	Ospay__V1__Order *o = wait_inst(s->o3, 1, IST(CONFIRMED));
	cr_assert_not_null(o, "the paid link should confirm installment 1");
	ospay__v1__order__free_unpacked(o, NULL);
	s->c4 = card_customer(srv.unit_id, 4, 0);
	s->c5 = card_customer(srv.unit_id, 5, 2);
	Ospay__V1__BillingRunNowRequest run = OSPAY__V1__BILLING_RUN_NOW_REQUEST__INIT;
	tsp_call_ok(fd, "ospay.v1.Billing/RunNow", &run.base, NULL);
	s->k4 = charge_of(s->c4);
	s->k5 = charge_of(s->c5);
}

Test(installments, report_filters_and_totals)
{
	story_t s;
	seed(&s);
	Ospay__V1__BillingRecurringCreditReportResponse *r;

	/* This month (the default): every row of March, installments and card charges. */
	r = report_ok(fd, (rq_t){0});
	cr_assert_str_eq(r->from, "2026-03-01");
	cr_assert_str_eq(r->to, "2026-03-31");
	cr_assert_eq(r->n_rows, 5);
	cr_assert(has_row(r, s.o1, 1, 0) && has_row(r, s.o2, 1, 0) && has_row(r, s.o3, 1, 0));
	cr_assert(has_row(r, 0, 0, s.k4) && has_row(r, 0, 0, s.k5));
	cr_assert_eq(total_count(r, IST(CONFIRMED)), 3);
	cr_assert_eq(total_amount(r, IST(CONFIRMED)), 5000 + 7500 + 9990);
	cr_assert_eq(total_count(r, IST(WAITING)), 1);
	cr_assert_eq(total_amount(r, IST(WAITING)), 7500);
	cr_assert_eq(total_count(r, IST(DENIED)), 1);
	cr_assert_eq(total_amount(r, IST(DENIED)), 9990);
	cr_assert_eq(total_count(r, IST(CANCELED)), 0);
	/* Installments before card charges on a day; the charges read as their attempt. */
	cr_assert_eq(r->rows[0]->order_id, s.o1);
	cr_assert_eq(r->rows[0]->mode, IMODE(MANUAL));
	for (size_t i = 3; i < 5; i++) {
		cr_assert_eq(r->rows[i]->mode, IMODE(AUTOMATIC_CARD));
		cr_assert_str_eq(r->rows[i]->due_date, "2026-03-10");
		cr_assert_eq(r->rows[i]->amount, 9990);
	}
	for (size_t i = 0; i < r->n_rows; i++)
		if (r->rows[i]->charge_id == s.k5) {
			cr_assert_eq(r->rows[i]->status, IST(DENIED));
			cr_assert(strstr(r->rows[i]->reason, "Nao Autorizada") != NULL, "%s",
				  r->rows[i]->reason);
		}
	protobuf_c_message_free_unpacked(&r->base, NULL);

	/* Presets around Tuesday 03-10. */
	preset_is(PERIOD(TODAY), "2026-03-10", "2026-03-10", 5);
	preset_is(PERIOD(THIS_WEEK), "2026-03-09", "2026-03-15", 5);
	preset_is(PERIOD(LAST_MONTH), "2026-02-01", "2026-02-28", 0);

	/* Custom period: April. */
	r = report_ok(fd, (rq_t){.from = "2026-04-01", .to = "2026-04-30"});
	cr_assert_eq(r->n_rows, 3);
	cr_assert(has_row(r, s.o1, 2, 0) && has_row(r, s.o2, 2, 0) && has_row(r, s.o3, 2, 0));
	cr_assert_eq(total_count(r, IST(DENIED)), 1);
	cr_assert_eq(total_count(r, IST(WAITING)), 2);
	for (size_t i = 0; i < r->n_rows; i++)
		if (r->rows[i]->order_id == s.o1)
			cr_assert_str_eq(r->rows[i]->reason, "Sem saldo, cliente avisado");
	protobuf_c_message_free_unpacked(&r->base, NULL);

	/* Each filter over March to May (9 rows in all), alone and combined: how many
	 * rows, and rows that must be among them. */
	rq_t all = {.from = "2026-03-01", .to = "2026-05-31"};
#define MAR_MAY .from = "2026-03-01", .to = "2026-05-31"
	const filter_case_t filters[] = {
		{"everything", {MAR_MAY}, 9, {{0}}},
		{"denied", {MAR_MAY, .status = IST(DENIED)}, 2, {{s.o1, 2, 0}, {0, 0, s.k5}}},
		/* o1#3, o2#1, o2#2, o3#2 */
		{"waiting", {MAR_MAY, .status = IST(WAITING)}, 4, {{0}}},
		{"integrated",
		 {MAR_MAY, .mode = IMODE(INTEGRATED)},
		 2,
		 {{s.o3, 1, 0}, {s.o3, 2, 0}}},
		{"automatic card",
		 {MAR_MAY, .mode = IMODE(AUTOMATIC_CARD)},
		 2,
		 {{0, 0, s.k4}, {0, 0, s.k5}}},
		{"customer 1", {MAR_MAY, .customer = s.c1}, 3, {{0}}},
		{"customer 4", {MAR_MAY, .customer = s.c4}, 1, {{0, 0, s.k4}}},
		{"unit B", {MAR_MAY, .unit = s.unit_b}, 2, {{s.o2, 1, 0}, {s.o2, 2, 0}}},
		{"unit A", {MAR_MAY, .unit = srv.unit_id}, 7, {{0}}},
		{"unit A, manual, waiting",
		 {MAR_MAY, .unit = srv.unit_id, .mode = IMODE(MANUAL), .status = IST(WAITING)},
		 1,
		 {{s.o1, 3, 0}}},
		{"customer 1, confirmed, manual",
		 {MAR_MAY, .customer = s.c1, .status = IST(CONFIRMED), .mode = IMODE(MANUAL)},
		 1,
		 {{s.o1, 1, 0}}},
		/* c1 lives in unit A: nothing matches */
		{"customer 1 in unit B", {MAR_MAY, .customer = s.c1, .unit = s.unit_b}, 0, {{0}}},
		{"unit A, confirmed, automatic card",
		 {MAR_MAY, .status = IST(CONFIRMED), .mode = IMODE(AUTOMATIC_CARD),
		  .unit = srv.unit_id},
		 1,
		 {{0, 0, s.k4}}},
	};
#undef MAR_MAY
	check_filters(filters, sizeof(filters) / sizeof(filters[0]));
	rq_t q = all;
	q.mode = IMODE(MANUAL);
	r = report_ok(fd, q);
	cr_assert_eq(r->n_rows, 5);
	for (size_t i = 0; i < r->n_rows; i++)
		cr_assert(r->rows[i]->order_id == s.o1 || r->rows[i]->order_id == s.o2);
	protobuf_c_message_free_unpacked(&r->base, NULL);

	/* A bounded report: rows cut, totals over everything. */
	q = all;
	q.max_rows = 3;
	r = report_ok(fd, q);
	cr_assert_eq(r->n_rows, 3);
	cr_assert(r->truncated);
	cr_assert_eq(r->total_rows, 9);
	cr_assert_eq(total_count(r, IST(CONFIRMED)), 3);
	cr_assert_eq(total_count(r, IST(WAITING)), 4);
	cr_assert_eq(total_count(r, IST(DENIED)), 2);
	cr_assert_str_eq(r->rows[0]->due_date, "2026-03-10");
	protobuf_c_message_free_unpacked(&r->base, NULL);

	/* Bad requests. */
	status_t st;
	rq_t bad = {.period = PERIOD(TODAY), .from = "2026-03-01", .to = "2026-03-02"};
	cr_assert_eq(report(fd, &bad, &r, &st), 3);
	cr_assert(tso_violation(&st, "period"));
	bad = (rq_t){.from = "2026-03-02", .to = "2026-03-01"};
	cr_assert_eq(report(fd, &bad, &r, &st), 3);
	cr_assert(tso_violation(&st, "to"));
	bad = (rq_t){.from = "2026-03-01"};
	cr_assert_eq(report(fd, &bad, &r, &st), 3);
	cr_assert(tso_violation(&st, "to"));
	bad = (rq_t){.from = "2025-01-01", .to = "2026-03-01"};
	cr_assert_eq(report(fd, &bad, &r, &st), 3);
	bad = (rq_t){.from = "2026-3-1", .to = "2026-03-31"};
	cr_assert_eq(report(fd, &bad, &r, &st), 3);
	cr_assert(tso_violation(&st, "from"));
	bad = (rq_t){.status = 9};
	cr_assert_eq(report(fd, &bad, &r, &st), 3);
	bad = (rq_t){.customer = 999999};
	cr_assert_eq(report(fd, &bad, &r, &st), 5);

	/* A month later (the test clock): the presets follow it. */
	tso_advance(fd, 31 * DAY_MS);
	preset_is(PERIOD(TODAY), "2026-04-10", "2026-04-10", 3);
	preset_is(PERIOD(LAST_MONTH), "2026-03-01", "2026-03-31", 5);
	preset_is(PERIOD(THIS_WEEK), "2026-04-06", "2026-04-12", 3); /* 04-10 is a Friday */
}

Test(installments, a_unit_scoped_token_sees_only_its_units)
{
	story_t s;
	seed(&s);
	char secret[200];
	tso_token(fd, ROLE(READ_ONLY), s.unit_b, secret, sizeof(secret));
	int ufd = tsp_login(&srv, secret);
	rq_t all = {.from = "2026-03-01", .to = "2026-05-31"};
	Ospay__V1__BillingRecurringCreditReportResponse *r = report_ok(ufd, all);
	cr_assert_eq(r->n_rows, 2);
	for (size_t i = 0; i < r->n_rows; i++)
		cr_assert_eq(r->rows[i]->unit_id, s.unit_b);
	cr_assert_eq(total_count(r, IST(WAITING)), 2);
	cr_assert_eq(total_count(r, IST(CONFIRMED)), 0);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	/* Another unit named: nothing; another unit's customer: not found. */
	rq_t q = all;
	q.unit = srv.unit_id;
	r = report_ok(ufd, q);
	cr_assert_eq(r->n_rows, 0);
	cr_assert_eq(r->total_rows, 0);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	q = all;
	q.customer = s.c1;
	status_t st;
	cr_assert_eq(report(ufd, &q, &r, &st), 5);
	/* ListInstallments is scoped the same way. */
	Ospay__V1__BillingListInstallmentsRequest m =
		OSPAY__V1__BILLING_LIST_INSTALLMENTS_REQUEST__INIT;
	Ospay__V1__BillingListInstallmentsResponse *l =
		tsp_call_ok(ufd, "ospay.v1.Billing/ListInstallments", &m.base,
			    &ospay__v1__billing_list_installments_response__descriptor);
	cr_assert_eq(l->n_installments, 2);
	cr_assert_eq(l->installments[0]->order_id, s.o2);
	protobuf_c_message_free_unpacked(&l->base, NULL);
	/* The org-wide admin sees every unit. */
	r = report_ok(fd, all);
	cr_assert_eq(r->n_rows, 9);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	close(ufd);
}

/* ------------------------------------------------------------------ RecordInstallment */

Test(installments, manual_recording_rules_and_permissions)
{
	uint64_t unit_b = tso_unit(fd, "Unidade B");
	uint64_t c = tso_customer(fd, srv.unit_id, 21, "São Paulo");
	uint64_t id = finalized(fd, c, pm_manual, 3, NULL);
	Ospay__V1__Order *o = NULL;
	status_t st;
	char secret[200];

	/* Bad input. */
	cr_assert_eq(record(fd, id, 1, IST(WAITING), NULL, NULL, &st), 3);
	cr_assert(tso_violation(&st, "status"));
	cr_assert_eq(record(fd, id, 1, IST(DENIED), NULL, NULL, &st), 3);
	cr_assert(tso_violation(&st, "reason"));
	cr_assert_eq(record(fd, id, 1, IST(CONFIRMED), "ok", NULL, &st), 3);
	cr_assert(tso_violation(&st, "reason"));
	cr_assert_eq(record(fd, id, 0, IST(CONFIRMED), NULL, NULL, &st), 3);
	cr_assert(tso_violation(&st, "number"));
	cr_assert_eq(record(fd, id, 4, IST(CONFIRMED), NULL, NULL, &st), 3);
	cr_assert(tso_violation(&st, "number"));
	cr_assert_eq(record(fd, 0, 1, IST(CONFIRMED), NULL, NULL, &st), 3);
	cr_assert(tso_violation(&st, "order_id"));
	cr_assert_eq(record(fd, 999999, 1, IST(CONFIRMED), NULL, NULL, &st), 5);

	/* Permissions: READ_ONLY refused; another unit's operator does not see the order. */
	tso_token(fd, ROLE(READ_ONLY), 0, secret, sizeof(secret));
	int ro = tsp_login(&srv, secret);
	cr_assert_eq(record(ro, id, 1, IST(CONFIRMED), NULL, NULL, &st), 7);
	close(ro);
	tso_token(fd, ROLE(OPERATOR), unit_b, secret, sizeof(secret));
	int other = tsp_login(&srv, secret);
	cr_assert_eq(record(other, id, 1, IST(CONFIRMED), NULL, NULL, &st), 5);
	close(other);
	cr_assert_eq(inst_status(id, 1), IST(WAITING), "nothing was recorded");

	/* The unit's operator records installment 1: the order (closed at Finalize,
	 * docs/spec.md 10.1) is paid; its history does not grow. */
	tso_token(fd, ROLE(OPERATOR), srv.unit_id, secret, sizeof(secret));
	int op = tsp_login(&srv, secret);
	o = tso_get_order(fd, id);
	size_t hist = o->n_history;
	ospay__v1__order__free_unpacked(o, NULL);
	cr_assert_eq(record(op, id, 1, IST(CONFIRMED), NULL, &o, &st), 0, "%s", st.message);
	cr_assert_eq(o->status, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CLOSED);
	cr_assert_eq(o->payment_status, PAY(PAID));
	cr_assert_eq(o->payment->schedule[0]->status, IST(CONFIRMED));
	cr_assert_eq(o->payment->schedule[1]->status, IST(WAITING));
	const Ospay__V1__OrderStatusChange *h = o->history[o->n_history - 1];
	cr_assert_eq(h->to, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CLOSED);
	cr_assert_eq(o->n_history, hist);
	ospay__v1__order__free_unpacked(o, NULL);
	/* Idempotent: the same record again changes nothing. */
	cr_assert_eq(record(op, id, 1, IST(CONFIRMED), NULL, &o, &st), 0, "%s", st.message);
	cr_assert_eq(o->n_history, hist);
	ospay__v1__order__free_unpacked(o, NULL);
	/* A final installment stays final. */
	cr_assert_eq(record(op, id, 1, IST(DENIED), "estorno", NULL, &st), 9);
	cr_assert(strstr(st.message, "final") != NULL, "%s", st.message);
	/* Later installments of the CLOSED order are still recorded. */
	cr_assert_eq(record(op, id, 2, IST(DENIED), "Cartão recusado", &o, &st), 0, "%s",
		     st.message);
	cr_assert_eq(o->payment->schedule[1]->status, IST(DENIED));
	cr_assert_str_eq(o->payment->schedule[1]->reason, "Cartão recusado");
	cr_assert_eq(o->payment_status, PAY(PAID));
	ospay__v1__order__free_unpacked(o, NULL);
	cr_assert_eq(record(op, id, 2, IST(DENIED), "outro motivo", NULL, &st), 0, "a repeat");
	cr_assert_eq(record(op, id, 3, IST(CANCELED), NULL, &o, &st), 0, "%s", st.message);
	cr_assert_eq(o->payment->schedule[2]->status, IST(CANCELED));
	ospay__v1__order__free_unpacked(o, NULL);
	close(op);

	/* A denied first installment shows on the order as a payment error. */
	uint64_t id2 = finalized(fd, c, pm_manual, 2, NULL);
	cr_assert_eq(record(fd, id2, 1, IST(DENIED), "Sem limite", &o, &st), 0, "%s", st.message);
	cr_assert_eq(o->payment_status, PAY(ERROR));
	cr_assert_str_eq(o->payment->error_message, "Sem limite");
	cr_assert_eq(o->status, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CLOSED);
	ospay__v1__order__free_unpacked(o, NULL);

	/* INTEGRATED installments are PagoLivre's to report. */
	uint64_t id3 = finalized(fd, c, pm_integrated, 2, NULL);
	cr_assert_eq(record(fd, id3, 1, IST(CONFIRMED), NULL, NULL, &st), 9);
	cr_assert(strstr(st.message, "INTEGRATED") != NULL, "%s", st.message);
	/* An order without installments. */
	uint64_t id4 = 0;
	cr_assert_eq(tso_order(fd, c, 0, 0, 0, 0, &id4, &st), 0);
	cr_assert_eq(record(fd, id4, 1, IST(CONFIRMED), NULL, NULL, &st), 9);
	/* A closed MANUAL order has no payment attempt to cancel: its installments are
	 * canceled one by one, and are final then. */
	Ospay__V1__OrdersCancelPaymentAttemptRequest cpa =
		OSPAY__V1__ORDERS_CANCEL_PAYMENT_ATTEMPT_REQUEST__INIT;
	uint64_t id5 = finalized(fd, c, pm_manual, 2, NULL);
	cpa.id = id5;
	cr_assert_eq(tsp_call(fd, "ospay.v1.Orders/CancelPaymentAttempt", &cpa.base, NULL, NULL,
			      NULL, &st),
		     9, "%s", st.message);
	cr_assert_eq(record(fd, id5, 1, IST(CANCELED), NULL, NULL, &st), 0, "%s", st.message);
	cr_assert_eq(record(fd, id5, 1, IST(CONFIRMED), NULL, NULL, &st), 9);
}

/* ------------------------------------------------------------------ ListInstallments */

static Ospay__V1__BillingListInstallmentsResponse *list_page(uint32_t size, const char *tok,
							     int status)
{
	Ospay__V1__BillingListInstallmentsRequest m =
		OSPAY__V1__BILLING_LIST_INSTALLMENTS_REQUEST__INIT;
	m.page_size = size;
	m.page_token = (char *)tok;
	m.status = status;
	Ospay__V1__BillingListInstallmentsResponse *r =
		tsp_call_ok(fd, "ospay.v1.Billing/ListInstallments", &m.base,
			    &ospay__v1__billing_list_installments_response__descriptor);
	return r;
}

Test(installments, list_pages_across_inserts)
{
	uint64_t c = tso_customer(fd, srv.unit_id, 31, "São Paulo");
	uint64_t ids[4];
	for (int i = 0; i < 4; i++)
		ids[i] = finalized(fd, c, pm_manual, 3, NULL);
	/* 12 installments: 4 due each of 03-10, 04-10, 05-10. Pages of 5. */
	uint64_t seen_order[64];
	uint32_t seen_num[64];
	size_t n = 0, pages = 0;
	char tok[128] = "";
	bool inserted = false;
	uint64_t late = 0;
	do {
		Ospay__V1__BillingListInstallmentsResponse *r = list_page(5, tok, 0);
		cr_assert_leq(r->n_installments, 5);
		for (size_t i = 0; i < r->n_installments; i++) {
			cr_assert_lt(n, 64);
			seen_order[n] = r->installments[i]->order_id;
			seen_num[n++] = r->installments[i]->number;
		}
		snprintf(tok, sizeof(tok), "%s", r->next_page_token);
		protobuf_c_message_free_unpacked(&r->base, NULL);
		if (!inserted) {
			/* Another order after the first page: its installments (due on the
			 * same days, a higher id) come in their place, none twice. */
			late = finalized(fd, c, pm_manual, 3, NULL);
			inserted = true;
		}
		pages++;
	} while (tok[0] != '\0' && pages < 20);
	cr_assert_eq(tok[0], '\0');
	/* Every installment of the first orders once. Of the late order, #2 and #3
	 * sort after the first page's end and come; #1 (due 03-10) sorts before it. */
	for (int i = 0; i < 4; i++)
		for (uint32_t k = 1; k <= 3; k++) {
			size_t hits = 0;
			for (size_t j = 0; j < n; j++)
				hits += seen_order[j] == ids[i] && seen_num[j] == k;
			cr_assert_eq(hits, 1, "order %llu #%u seen %zu times",
				     (unsigned long long)ids[i], k, hits);
		}
	for (size_t j = 0; j < n; j++)
		for (size_t k = j + 1; k < n; k++)
			cr_assert(seen_order[j] != seen_order[k] || seen_num[j] != seen_num[k],
				  "a row came twice");
	size_t late_rows = 0;
	for (size_t j = 0; j < n; j++)
		late_rows += seen_order[j] == late;
	cr_assert_eq(late_rows, 2, "the late order's installments after page 1's end");
	cr_assert_eq(n, 14);
	/* By due date, then order, then number. */
	Ospay__V1__BillingListInstallmentsResponse *r = list_page(100, "", 0);
	cr_assert_eq(r->n_installments, 15);
	for (size_t i = 1; i < r->n_installments; i++) {
		const Ospay__V1__InstallmentRow *a = r->installments[i - 1],
						*b = r->installments[i];
		int cmp = strcmp(a->due_date, b->due_date);
		cr_assert(cmp < 0 || (cmp == 0 && a->order_id < b->order_id));
	}
	protobuf_c_message_free_unpacked(&r->base, NULL);
	/* A token is bound to its filters. */
	r = list_page(2, "", 0);
	Ospay__V1__BillingListInstallmentsRequest m =
		OSPAY__V1__BILLING_LIST_INSTALLMENTS_REQUEST__INIT;
	m.page_token = r->next_page_token;
	m.status = IST(WAITING);
	status_t st;
	cr_assert_eq(
		tsp_call(fd, "ospay.v1.Billing/ListInstallments", &m.base, NULL, NULL, NULL, &st),
		3);
	cr_assert(tso_violation(&st, "page_token"));
	protobuf_c_message_free_unpacked(&r->base, NULL);
	/* The status index follows recording. */
	record_ok(ids[0], 1, IST(CONFIRMED), NULL);
	r = list_page(100, "", IST(CONFIRMED));
	cr_assert_eq(r->n_installments, 1);
	cr_assert_eq(r->installments[0]->order_id, ids[0]);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	r = list_page(100, "", IST(WAITING));
	cr_assert_eq(r->n_installments, 14);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* ------------------------------------------------------------------ reconciliation */

/*
 * An order of a new customer (n makes its CPF) finalized over 3 installments
 * by payment link (key: its order key), whose payer paid the first: confirmed
 * at ospayd, the second due on 2026-04-10.
 */
static uint64_t first_installment_paid(uint32_t n, char key[64])
{
	uint64_t c = tso_customer(fd, srv.unit_id, n, "São Paulo");
	uint64_t id = finalized(fd, c, pm_integrated, 3, key);
	cr_assert_eq(tsg_pagolivre_control(&sbx, "pay", key, NULL), 200);
	Ospay__V1__Order *o = wait_inst(id, 1, IST(CONFIRMED));
	cr_assert_not_null(o, "installment 1 was never confirmed");
	cr_assert_str_eq(o->payment->schedule[1]->due_date, "2026-04-10");
	ospay__v1__order__free_unpacked(o, NULL);
	return id;
}

Test(installments, a_lost_webhook_is_reconciled_two_days_after_the_due_date)
{
	char key[64];
	uint64_t id = first_installment_paid(41, key);
	/* Every PagoLivre notification lost from now on. */
	tsg_webhook_fault(&sbx, "{\"service\":\"pagolivre\",\"kind\":\"drop\"}");
	/* The second installment is charged on its due date; nobody tells ospay. */
	tso_advance(fd, 31 * DAY_MS); /* 2026-04-10 */
	cr_assert_eq(tsg_pagolivre_control(&sbx, "charge", key, NULL), 200);
	tso_advance(fd, DAY_MS); /* 04-11: due + 1, not overdue yet */
	cr_assert_eq(inst_status(id, 2), IST(WAITING));
	/* 04-12: due + 2 days, the reconciliation asks PagoLivre. */
	tso_advance(fd, DAY_MS);
	Ospay__V1__Order *o = wait_inst(id, 2, IST(CONFIRMED));
	cr_assert_not_null(o, "the reconciliation should have confirmed installment 2");
	cr_assert_eq(o->payment->schedule[2]->status, IST(WAITING));
	cr_assert_eq(o->payment_status, PAY(PAID));
	ospay__v1__order__free_unpacked(o, NULL);
	/* It is out of the reconciliation's index now; the report shows it confirmed. */
	Ospay__V1__BillingRecurringCreditReportResponse *r =
		report_ok(fd, (rq_t){.period = PERIOD(THIS_MONTH)});
	cr_assert(has_row(r, id, 2, 0));
	cr_assert_eq(total_count(r, IST(CONFIRMED)), 1);
	protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* How many times needle occurs in the file at path. */
static size_t count_in_file(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f), hits = 0;
	fclose(f);
	buf[n] = '\0';
	for (const char *p = buf; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		hits++;
	return hits;
}

/* Waits (a hang guard) until the server logged at least want reconciliation passes. */
static void wait_passes(size_t want)
{
	TSP_AWAIT(count_in_file(srv.log_path, "reconciliation pass done") >= want,
		  "no reconciliation pass %zu in the log", want);
}

Test(installments, the_reconciliation_asks_once_a_day)
{
	char key[64];
	uint64_t id = first_installment_paid(42, key);
	tsg_webhook_fault(&sbx, "{\"service\":\"pagolivre\",\"kind\":\"drop\"}");
	/* The pass this advance starts is over before the counts below are taken. */
	size_t passes = count_in_file(srv.log_path, "reconciliation pass done");
	tso_advance(fd, 31 * DAY_MS); /* 2026-04-10 */
	wait_passes(passes + 1);
	cr_assert_eq(tsg_pagolivre_control(&sbx, "charge", key, NULL), 200);
	/* The next link query fails once. */
	uint64_t once = tsg_fault(&sbx, "{\"service\":\"pagolivre\",\"route\":\"order_by_key\","
					"\"kind\":\"http500\",\"count\":1}");
	passes = count_in_file(srv.log_path, "reconciliation pass done");
	size_t asked = count_in_file(srv.log_path, "installment reconciliation");
	tso_advance(fd, 2 * DAY_MS); /* 04-12: due + 2, asked, and the query fails */
	wait_passes(passes + 1);
	cr_assert_eq(count_in_file(srv.log_path, "installment reconciliation"), asked + 1);
	cr_assert_eq(tsg_fault_hits(&sbx, once), -1, "the fault should be used up");
	/* An hour later, the same day: not asked again. */
	passes = count_in_file(srv.log_path, "reconciliation pass done");
	tso_advance(fd, 3600 * 1000);
	wait_passes(passes + 1);
	cr_assert_eq(count_in_file(srv.log_path, "installment reconciliation"), asked + 1);
	cr_assert_eq(inst_status(id, 2), IST(WAITING));
	/* The next day it is asked again, and learns. */
	tso_advance(fd, DAY_MS);
	Ospay__V1__Order *o = wait_inst(id, 2, IST(CONFIRMED));
	cr_assert_not_null(o, "the next day's query should confirm installment 2");
	ospay__v1__order__free_unpacked(o, NULL);
	cr_assert_eq(count_in_file(srv.log_path, "installment reconciliation"), asked + 2);
}

/* ------------------------------------------------------------------ CLI */

static char cli_out[65536];

#define ospay(...) tso_cli(&srv, NULL, cli_out, sizeof(cli_out), __VA_ARGS__)

#define HAS(s) cr_assert(strstr(cli_out, (s)) != NULL, "missing \"%s\" in:\n%s", (s), cli_out)

Test(installments, cli_record_list_and_report_table_and_csv)
{
	uint64_t c = tso_customer(fd, srv.unit_id, 51, "São Paulo");
	uint64_t id = finalized(fd, c, pm_manual, 3, NULL);
	char ids[24], line[128];
	snprintf(ids, sizeof(ids), "%llu", (unsigned long long)id);
	cr_assert_eq(ospay("installments", "record", "--order", ids, "--number", "1", "--status",
			   "confirmed", NULL),
		     0, "%s", cli_out);
	HAS("closed");
	HAS("paid");
	cr_assert_eq(ospay("installments", "record", "--order", ids, "--number", "2", "--status",
			   "denied", "--reason", "Saldo \"insuficiente\", ligar", NULL),
		     0, "%s", cli_out);
	cr_assert_neq(ospay("installments", "record", "--order", ids, "--number", "2", "--status",
			    "denied", NULL),
		      0);
	HAS("reason");
	cr_assert_eq(ospay("installments", "record", "--order", ids, "--status", "confirmed", NULL),
		     2, "%s", cli_out);
	cr_assert_eq(ospay("installments", "list", "--status", "waiting", NULL), 0, "%s", cli_out);
	snprintf(line, sizeof(line), "order %s #3/3", ids);
	HAS(line);
	cr_assert(strstr(cli_out, "#1/3") == NULL, "%s", cli_out);

	/* The table: rows and totals per status. */
	cr_assert_eq(ospay("report", "recurring-credit", "--from", "2026-03-01", "--to",
			   "2026-05-31", NULL),
		     0, "%s", cli_out);
	HAS("Recurring credit 2026-03-01 to 2026-05-31");
	HAS("2026-03-10");
	HAS("STATUS");
	HAS("confirmed");
	HAS("denied");
	HAS("R$ 50,00");
	HAS("total");
	HAS("R$ 150,00");
	/* Customers by name and CPF, not by id alone. */
	HAS("CPF/CNPJ");
	HAS("Cliente 51 (");
	HAS("100.000.051-69");
	cr_assert_eq(ospay("report", "recurring-credit", "--period", "this-month", "--status",
			   "confirmed", "--mode", "manual", NULL),
		     0, "%s", cli_out);
	HAS("2026-03-01 to 2026-03-31");
	snprintf(line, sizeof(line), "order %s #1/3", ids);
	HAS(line);

	/* CSV: a header, one line per row, quoting where needed. */
	cr_assert_eq(ospay("report", "recurring-credit", "--from", "2026-03-01", "--to",
			   "2026-05-31", "--csv", NULL),
		     0, "%s", cli_out);
	HAS("date,order_id,number,installments,charge_id,invoice_id,unit_id,customer_id,"
	    "customer_name,customer_document,mode,status,amount,reason\n");
	snprintf(
		line, sizeof(line),
		"2026-03-10,%s,1,3,,,%llu,%llu,Cliente 51,100.000.051-69,manual,confirmed,50.00,\n",
		ids, (unsigned long long)srv.unit_id, (unsigned long long)c);
	HAS(line);
	snprintf(line, sizeof(line),
		 "2026-04-10,%s,2,3,,,%llu,%llu,Cliente 51,100.000.051-69,manual,denied,50.00,"
		 "\"Saldo \"\"insuficiente\"\", ligar\"\n",
		 ids, (unsigned long long)srv.unit_id, (unsigned long long)c);
	HAS(line);
	size_t lines = 0;
	for (const char *p = cli_out; *p; p++)
		lines += *p == '\n';
	cr_assert_eq(lines, 4, "%s", cli_out);
	cr_assert_eq(ospay("report", "recurring-credit", "--json", "--period", "today", NULL), 0,
		     "%s", cli_out);
	HAS("\"totals\"");
	/* Usage errors. */
	cr_assert_eq(ospay("report", "recurring-credit", "--period", "today", "--from",
			   "2026-03-01", "--to", "2026-03-02", NULL),
		     2);
	cr_assert_eq(ospay("report", "recurring-credit", "--period", "yesterday", NULL), 2);
	cr_assert_eq(ospay("report", "recurring-credit", "--mode", "boleto", NULL), 2);
}
