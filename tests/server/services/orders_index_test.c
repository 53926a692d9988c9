/*
 * Orders/List reads O(page) records, not O(orders): 10,000 orders are made
 * through the Orders/Create handler in a store opened with the server's
 * tables, then one page of each filter is listed and the store's count of
 * values read (store_get_stats: records_read) is checked.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "core/date.h"
#include "ospay/v1/admin.pb-c.h"
#include "server/db/db.h"
#include "server/rpc/srv.h"
#include "server/services/services.h"
#include "support/handlers.h"
#include "support/records.h"
#include "support/seed.h"
#include "support/testdata.h"

#define N_ORDERS 10000
#define N_CUSTOMERS 100
#define N_AGENDAS 10
#define N_TECHS 20
#define PAGE 50

static char dir[64];
static store_t *store;
static srv_t srv;
static srv_session_t sess;
static uint64_t unit_id = 1;
static int64_t base_ms;

static uint64_t cust[N_CUSTOMERS], agenda[N_AGENDAS], tech[N_TECHS];

#define ORDERS_PER_WRITE 500

/* Orders first .. first + ORDERS_PER_WRITE - 1, through the Create and Cancel handlers. */
static int create_orders(store_txn_t *txn, void *arg)
{
	int first = *(int *)arg;
	int rc = 0;
	for (int i = first; i < first + ORDERS_PER_WRITE && rc == 0; i++) {
		Ospay__V1__OrdersCreateRequest m = OSPAY__V1__ORDERS_CREATE_REQUEST__INIT;
		m.customer_id = cust[i % N_CUSTOMERS];
		m.kind = "INSTALACAO";
		m.agenda_id = agenda[i % N_AGENDAS];
		m.technician_id = tech[i % N_TECHS];
		/* Distinct half hours: no technician is ever double-booked. */
		m.scheduled_start_ms = base_ms + (int64_t)i * 30 * 60000;
		srv_req_t r;
		memset(&r, 0, sizeof(r));
		r.srv = &srv;
		r.sess = &sess;
		r.method = services_method_find("ospay.v1.Orders/Create");
		r.in = &m.base;
		r.now_ms = srv.clock_ms;
		status_clear(&r.st);
		rc = r.method->fn(&r, txn);
		if (rc == 0)
			rc = r.st.code;
		if (rc == 0 && i % 50 == 7) {
			Ospay__V1__OrdersCreateResponse *resp =
				ospay__v1__orders_create_response__unpack(NULL, r.out.len,
									  r.out.data);
			Ospay__V1__OrdersCancelRequest c = OSPAY__V1__ORDERS_CANCEL_REQUEST__INIT;
			c.id = resp->order->id;
			ospay__v1__orders_create_response__free_unpacked(resp, NULL);
			/* The Create call ends here; the Cancel is another call. */
			srv_release_kept(&r, 0);
			r.method = services_method_find("ospay.v1.Orders/Cancel");
			r.in = &c.base;
			r.out.len = 0;
			rc = r.method->fn(&r, txn);
			if (rc == 0)
				rc = r.st.code;
		}
		srv_release_kept(&r, 0);
		buf_free(&r.out);
		srv.clock_ms += 1000;
	}
	return rc;
}

static void setup(void)
{
	/* 10,000 "order created" lines would drown the report. */
	log_set_level(log_level_parse("warn"));
	srv.opts.test_clock = true;
	base_ms = date_local_to_utc(date_from_civil(2026, 12, 7), 0, -180);
	store = tsh_admin_up(&srv, &sess, dir, sizeof(dir), "index",
			     base_ms - 30 * DATE_MS_PER_DAY);

	for (int i = 0; i < N_CUSTOMERS; i++) {
		char cpf[12], name[32];
		tsd_cpf((uint32_t)i * 7919, cpf);
		snprintf(name, sizeof(name), "C%d", i);
		Ospay__V1__Address a;
		Ospay__V1__CustomersCreateRequest m;
		tsr_customer(&m, &a, unit_id, name, cpf);
		cust[i] =
			tsh_call_id(&srv, &sess, "ospay.v1.Customers/Create", &m.base,
				    &ospay__v1__customers_create_response__descriptor, "customer");
	}
	Ospay__V1__AgendaWindow w[7], *wp[7];
	for (int d = 0; d < 7; d++) {
		ospay__v1__agenda_window__init(&w[d]);
		w[d].weekday = d + 1;
		w[d].start_minute = 0;
		w[d].end_minute = 1440;
		w[d].capacity = 10000;
		wp[d] = &w[d];
	}
	for (int i = 0; i < N_AGENDAS; i++) {
		Ospay__V1__AgendasCreateRequest m = OSPAY__V1__AGENDAS_CREATE_REQUEST__INIT;
		m.unit_id = unit_id;
		m.name = "A";
		m.windows = wp;
		m.n_windows = 7;
		m.slot_minutes = 30;
		agenda[i] = tsh_call_id(&srv, &sess, "ospay.v1.Agendas/Create", &m.base,
					&ospay__v1__agendas_create_response__descriptor, "agenda");
	}
	for (int i = 0; i < N_TECHS; i++) {
		Ospay__V1__CreateTechnicianRequest m = OSPAY__V1__CREATE_TECHNICIAN_REQUEST__INIT;
		m.unit_id = unit_id;
		m.name = "T";
		tech[i] = tsh_call_id(&srv, &sess, "ospay.v1.Admin/CreateTechnician", &m.base,
				      &ospay__v1__create_technician_response__descriptor,
				      "technician");
	}
	/* 500 creates per nested transaction: the handlers are the server's, the
	 * batching only spares LMDB 10,000 nested transactions (slow under ASan). */
	for (int i = 0; i < N_ORDERS; i += ORDERS_PER_WRITE) {
		int first = i;
		cr_assert_eq(store_write(store, create_orders, NULL, &first), 0);
		cr_assert_eq(store_flush(store), 0);
	}
	cr_assert_eq(store_flush(store), 0);
}

static void teardown(void)
{
	tsh_store_down(store, dir);
}

TestSuite(orders_index, .init = setup, .fini = teardown, .timeout = 120);

/* Lists one page with f; returns the records read and fills *n and token. */
static uint64_t page(Ospay__V1__OrdersListRequest *f, size_t *n, char *token, size_t cap)
{
	store_stats_t a, b;
	store_get_stats(store, &a);
	Ospay__V1__OrdersListResponse *r =
		tsh_call_ok(&srv, &sess, "ospay.v1.Orders/List", &f->base,
			    &ospay__v1__orders_list_response__descriptor);
	store_get_stats(store, &b);
	*n = r->n_orders;
	snprintf(token, cap, "%s", r->next_page_token);
	ospay__v1__orders_list_response__free_unpacked(r, NULL);
	return b.records_read - a.records_read;
}

/*
 * A full page costs an index entry and a record per order examined, plus a
 * few reads to open the walk: well under 5 per order for selective indexes.
 */
#define BOUND (5 * PAGE + 20)

static void check(Ospay__V1__OrdersListRequest *f, const char *what)
{
	char token[128];
	size_t n;
	f->page_size = PAGE;
	uint64_t reads = page(f, &n, token, sizeof(token));
	cr_log_info("%-40s %zu orders, %llu records read", what, n, (unsigned long long)reads);
	cr_assert_eq(n, PAGE, "%s: a full page expected, got %zu", what, n);
	cr_assert_leq(reads, BOUND, "%s: %llu records read for a page of %d among %d orders", what,
		      (unsigned long long)reads, PAGE, N_ORDERS);
	/* The next page costs the same: the token seeks, it does not rescan. */
	f->page_token = token;
	uint64_t again = page(f, &n, token, sizeof(token));
	cr_assert_leq(again, BOUND, "%s, page 2: %llu records read", what,
		      (unsigned long long)again);
	f->page_token = "";
}

Test(orders_index, every_filter_reads_a_page_worth)
{
	Ospay__V1__OrdersListRequest f = OSPAY__V1__ORDERS_LIST_REQUEST__INIT;
	check(&f, "no filter");
	f.status = OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CANCELED;
	check(&f, "status canceled (1 in 50)");
	f.status = OSPAY__V1__ORDER_STATUS__ORDER_STATUS_OPEN;
	check(&f, "status open");
	ospay__v1__orders_list_request__init(&f);
	f.payment_status = OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_NONE;
	check(&f, "payment status none");
	ospay__v1__orders_list_request__init(&f);
	f.agenda_id = agenda[3];
	check(&f, "agenda");
	f.status = OSPAY__V1__ORDER_STATUS__ORDER_STATUS_OPEN;
	check(&f, "agenda + status");
	ospay__v1__orders_list_request__init(&f);
	f.technician_id = tech[5];
	check(&f, "technician");
	ospay__v1__orders_list_request__init(&f);
	f.customer_id = cust[7];
	check(&f, "customer");
	ospay__v1__orders_list_request__init(&f);
	f.unit_id = unit_id;
	check(&f, "unit");
	ospay__v1__orders_list_request__init(&f);
	f.scheduled_from_ms = base_ms + 100 * DATE_MS_PER_DAY;
	f.scheduled_to_ms = base_ms + 130 * DATE_MS_PER_DAY;
	check(&f, "scheduled range");
	f.agenda_id = agenda[2];
	check(&f, "scheduled range + agenda");
	f.agenda_id = 0;
	f.technician_id = tech[4];
	check(&f, "scheduled range + technician");
	ospay__v1__orders_list_request__init(&f);
	f.created_from_ms = srv.clock_ms - 5000 * 1000;
	f.created_to_ms = srv.clock_ms - 1000 * 1000;
	check(&f, "created range");
	f.status = OSPAY__V1__ORDER_STATUS__ORDER_STATUS_OPEN;
	check(&f, "created range + status");
}

Test(orders_index, a_deep_page_costs_the_same)
{
	Ospay__V1__OrdersListRequest f = OSPAY__V1__ORDERS_LIST_REQUEST__INIT;
	f.page_size = 1000;
	char token[128] = "";
	size_t n, total = 0;
	uint64_t last = 0;
	for (int p = 0; p < 10; p++) {
		f.page_token = token;
		last = page(&f, &n, token, sizeof(token));
		total += n;
		cr_assert_leq(last, 2 * 1000 + 20, "page %d: %llu reads", p,
			      (unsigned long long)last);
	}
	cr_assert_eq(total, N_ORDERS);
	cr_assert_str_empty(token);
}

Test(orders_index, a_filter_no_index_serves_is_capped_per_call)
{
	/* Customer + scheduled range: ordered by start, walked on the unit's schedule
	 * index with the customer checked per order (1 in 100 match). The walk stops
	 * after PAGE_EXAMINE_MAX orders (rpc/page.h) and hands back a token. */
	Ospay__V1__OrdersListRequest f = OSPAY__V1__ORDERS_LIST_REQUEST__INIT;
	f.customer_id = cust[9];
	f.scheduled_from_ms = base_ms;
	f.page_size = 1000;
	char token[128] = "";
	size_t n, total = 0;
	int calls = 0;
	do {
		f.page_token = token;
		uint64_t reads = page(&f, &n, token, sizeof(token));
		cr_assert_leq(reads, 2 * 2000 + 20, "call %d: %llu reads", calls,
			      (unsigned long long)reads);
		total += n;
		calls++;
	} while (token[0] != '\0');
	cr_assert_eq(total, N_ORDERS / N_CUSTOMERS);
	cr_assert_eq(calls, N_ORDERS / 2000);
}
