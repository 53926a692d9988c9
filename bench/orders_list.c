/*
 * Orders/List, one page, from 1,000 and from 1,000,000 orders: the time of a
 * page must not grow with the number of orders (docs/spec.md 4.4, 6; issue 3).
 *
 * In process, like tests/server/services/orders_index_test.c: a store opened with the
 * server's tables, orders written with db_order_put (the handler's own index
 * maintenance, without the per-order agenda and technician checks, so a
 * million orders load in seconds), then the Orders/List handler called in a
 * fresh read snapshot per call, as ospayd does. Prints one JSON line per
 * (size, query) and one ratio line per query.
 *
 *   orders_list [--orders N]... [--reps R] [--page P] [--dir DIR]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "core/date.h"
#include "ospay/v1/admin.pb-c.h"
#include "server/db/db.h"
#include "server/rpc/srv.h"
#include "server/services/services.h"
#include "support/seed.h"

#define MAX_SIZES 8
#define MAX_QUERIES 16
#define WRITE_BATCH 20000

typedef struct world {
	size_t n_orders, n_customers, n_agendas, n_techs;
	int64_t sched_base, created_base;
} world_t;

typedef struct query {
	const char *name;
	Ospay__V1__OrdersListRequest req;
} query_t;

typedef struct fill {
	const world_t *w;
	size_t from, to;
} fill_t;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int seed(store_txn_t *txn, void *arg)
{
	const world_t *w = arg;
	int rc = tss_org_units(txn, 1);
	Ospay__V1__AgendaWindow win = OSPAY__V1__AGENDA_WINDOW__INIT, *wp = &win;
	win.weekday = 1;
	win.end_minute = 1440;
	win.capacity = 10000;
	for (size_t i = 1; i <= w->n_agendas && rc == 0; i++) {
		Ospay__V1__Agenda a = OSPAY__V1__AGENDA__INIT;
		a.id = i;
		a.organization_id = 1;
		a.unit_id = 1;
		a.name = "Agenda";
		a.windows = &wp;
		a.n_windows = 1;
		a.slot_minutes = 30;
		rc = db_agenda_insert(txn, &a);
	}
	for (size_t i = 1; i <= w->n_techs && rc == 0; i++) {
		Ospay__V1__Technician t = OSPAY__V1__TECHNICIAN__INIT;
		t.id = i;
		t.organization_id = 1;
		t.unit_id = 1;
		t.name = "Tecnico";
		rc = db_technician_insert(txn, &t);
	}
	Ospay__V1__Address addr = OSPAY__V1__ADDRESS__INIT;
	addr.street = "Rua Augusta";
	addr.city = "São Paulo";
	addr.state = "SP";
	addr.cep = "01305000";
	for (size_t i = 1; i <= w->n_customers && rc == 0; i++) {
		char doc[16];
		snprintf(doc, sizeof(doc), "%011zu", i);
		Ospay__V1__Customer c = OSPAY__V1__CUSTOMER__INIT;
		c.id = i;
		c.organization_id = 1;
		c.unit_id = 1;
		c.name = "Cliente";
		c.document = doc;
		c.address = &addr;
		rc = db_customer_put(txn, NULL, &c, NULL);
	}
	return rc;
}

/* Orders from..to-1: every index written as the handlers write it. */
static int fill(store_txn_t *txn, void *arg)
{
	const fill_t *f = arg;
	const world_t *w = f->w;
	int rc = 0;
	for (size_t i = f->from; i < f->to && rc == 0; i++) {
		Ospay__V1__OrderStatusChange h = OSPAY__V1__ORDER_STATUS_CHANGE__INIT, *hp = &h;
		Ospay__V1__Order o = OSPAY__V1__ORDER__INIT;
		o.id = i + 1;
		o.organization_id = 1;
		o.unit_id = 1;
		o.customer_id = 1 + i % w->n_customers;
		o.kind = "INSTALACAO FIBRA";
		o.description = "instalacao na casa do cliente, levar ONU";
		o.agenda_id = 1 + i % w->n_agendas;
		o.technician_id = 1 + i % w->n_techs;
		/* Spread over the calendar as a busy provider's would be: 5 minutes apart. */
		o.scheduled_start_ms = w->sched_base + (int64_t)i * 5 * 60000;
		o.duration_minutes = 60;
		o.amount = 15000;
		o.status = OSPAY__V1__ORDER_STATUS__ORDER_STATUS_OPEN;
		if (i % 10 == 7)
			o.status = OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CANCELED;
		else if (i % 3 == 0)
			o.status = OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CLOSED;
		o.payment_status = OSPAY__V1__ORDER_PAYMENT_STATUS__ORDER_PAYMENT_STATUS_NONE;
		o.created_ms = o.updated_ms = w->created_base + (int64_t)i * 1000;
		h.at_ms = o.created_ms;
		h.to = OSPAY__V1__ORDER_STATUS__ORDER_STATUS_OPEN;
		h.by_token_id = 1;
		o.history = &hp;
		o.n_history = 1;
		rc = db_order_put(txn, NULL, &o);
	}
	return rc;
}

static int build(store_t *s, const world_t *w)
{
	int rc = store_write(s, seed, NULL, (void *)w);
	if (rc == 0)
		rc = store_flush(s);
	for (size_t i = 0; i < w->n_orders && rc == 0; i += WRITE_BATCH) {
		fill_t f = {w, i, i + WRITE_BATCH < w->n_orders ? i + WRITE_BATCH : w->n_orders};
		rc = store_write(s, fill, NULL, &f);
		if (rc == 0)
			rc = store_flush(s);
	}
	return rc;
}

/* The same queries for every size: same selectivity per index. */
static size_t queries(const world_t *w, uint32_t page, query_t *q)
{
	size_t n = 0;
	int64_t mid_sched = w->sched_base + (int64_t)(w->n_orders / 2) * 5 * 60000;
	int64_t mid_created = w->created_base + (int64_t)(w->n_orders / 2) * 1000;
	for (size_t i = 0; i < MAX_QUERIES; i++) {
		ospay__v1__orders_list_request__init(&q[i].req);
		q[i].req.page_size = page;
	}
	q[n++].name = "all";
	q[n].name = "status=open";
	q[n++].req.status = OSPAY__V1__ORDER_STATUS__ORDER_STATUS_OPEN;
	q[n].name = "status=canceled";
	q[n++].req.status = OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CANCELED;
	q[n].name = "agenda";
	q[n++].req.agenda_id = 3;
	q[n].name = "technician";
	q[n++].req.technician_id = 5;
	q[n].name = "customer";
	q[n++].req.customer_id = 7;
	/* Agenda 1 has no canceled orders and a third closed: 2 in 3 match. */
	q[n].name = "agenda+status=open";
	q[n].req.agenda_id = 1;
	q[n++].req.status = OSPAY__V1__ORDER_STATUS__ORDER_STATUS_OPEN;
	q[n].name = "scheduled week (middle)";
	q[n].req.scheduled_from_ms = mid_sched;
	q[n++].req.scheduled_to_ms = mid_sched + 7 * DATE_MS_PER_DAY;
	q[n].name = "scheduled week+technician";
	q[n].req.scheduled_from_ms = mid_sched;
	q[n].req.scheduled_to_ms = mid_sched + 7 * DATE_MS_PER_DAY;
	q[n++].req.technician_id = 5;
	q[n].name = "created range (middle)";
	q[n].req.created_from_ms = mid_created;
	q[n++].req.created_to_ms = mid_created + 3600 * 1000;
	return n;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

typedef struct result {
	double median_us, p99_us;
	uint64_t reads;
	size_t returned;
} result_t;

/* Runs q reps times, each in its own snapshot; fills r. 0 or a handler error. */
static int measure(srv_t *srv, srv_session_t *sess, query_t *q, int reps, result_t *r)
{
	uint64_t *t = calloc((size_t)reps, sizeof(*t));
	int rc = t == NULL ? -ENOMEM : 0;
	for (int i = -1; i < reps && rc == 0; i++) {
		srv_req_t req;
		store_txn_t *txn;
		store_stats_t a, b;
		memset(&req, 0, sizeof(req));
		req.srv = srv;
		req.sess = sess;
		req.method = services_method_find("ospay.v1.Orders/List");
		req.in = &q->req.base;
		req.now_ms = srv->clock_ms;
		status_clear(&req.st);
		store_get_stats(srv->store, &a);
		uint64_t t0 = now_ns();
		rc = store_read_begin(srv->store, &txn);
		if (rc == 0) {
			rc = req.method->fn(&req, txn);
			store_read_end(txn);
			if (rc == 0)
				rc = req.st.code; /* a refusal (rpc/srv.h) */
		}
		uint64_t t1 = now_ns();
		store_get_stats(srv->store, &b);
		if (rc == 0 && i >= 0) {
			/* i == -1 warms the caches and the allocator. */
			t[i] = t1 - t0;
			r->reads = b.records_read - a.records_read;
			Ospay__V1__OrdersListResponse *resp =
				ospay__v1__orders_list_response__unpack(NULL, req.out.len,
									req.out.data);
			r->returned = resp != NULL ? resp->n_orders : 0;
			ospay__v1__orders_list_response__free_unpacked(resp, NULL);
		} else if (rc != 0) {
			fprintf(stderr, "orders_list: %s failed: %d %s\n", q->name, rc,
				req.st.message);
		}
		srv_release_kept(&req, 0);
		buf_free(&req.out);
	}
	if (rc == 0) {
		qsort(t, (size_t)reps, sizeof(*t), cmp_u64);
		r->median_us = (double)t[reps / 2] / 1000.0;
		r->p99_us = (double)t[(size_t)reps * 99 / 100] / 1000.0;
	}
	free(t);
	return rc;
}

static int usage(void)
{
	fprintf(stderr, "usage: orders_list [--orders N]... [--reps R] [--page P] [--dir DIR]\n");
	return 2;
}

int main(int argc, char **argv)
{
	size_t sizes[MAX_SIZES], n_sizes = 0;
	int reps = 200;
	uint32_t page = 100;
	const char *parent = "/tmp";
	result_t res[MAX_SIZES][MAX_QUERIES];
	query_t q[MAX_QUERIES];
	size_t nq = 0;
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			return usage();
		if (strcmp(argv[i], "--orders") == 0 && n_sizes < MAX_SIZES)
			sizes[n_sizes++] = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--reps") == 0)
			reps = atoi(argv[++i]);
		else if (strcmp(argv[i], "--page") == 0)
			page = (uint32_t)atoi(argv[++i]);
		else if (strcmp(argv[i], "--dir") == 0)
			parent = argv[++i];
		else
			return usage();
	}
	if (n_sizes == 0) {
		sizes[n_sizes++] = 1000;
		sizes[n_sizes++] = 1000000;
	}
	if (reps < 1 || page < 1)
		return usage();
	log_set_level(log_level_parse("warn"));
	for (size_t s = 0; s < n_sizes && rc == 0; s++) {
		char dir[512], cmd[600];
		store_t *store = NULL;
		srv_t srv;
		srv_session_t sess;
		world_t w = {sizes[s], 0, 5, 5, 0, 0};
		/* Every query fills its page at 1,000 orders already: a customer has 100
		 * orders, an agenda or a technician a fifth of them, 1 in 10 is canceled. */
		w.n_customers = sizes[s] / 100 > 0 ? sizes[s] / 100 : 1;
		w.sched_base = date_local_to_utc(date_from_civil(2026, 1, 5), 0, -180);
		w.created_base = w.sched_base - 400 * DATE_MS_PER_DAY;
		snprintf(dir, sizeof(dir), "%s/ospay-bench-XXXXXX", parent);
		if (mkdtemp(dir) == NULL) {
			perror("mkdtemp");
			return 1;
		}
		store_opts_t so = {.path = dir, .tables = db_tables, .n_tables = DB_N_TABLES};
		rc = store_open(&store, &so);
		uint64_t t0 = now_ns();
		if (rc == 0)
			rc = build(store, &w);
		double load_s = (double)(now_ns() - t0) / 1e9;
		if (rc != 0) {
			fprintf(stderr, "orders_list: building %zu orders failed: %d\n", sizes[s],
				rc);
		} else {
			store_stats_t st;
			store_get_stats(store, &st);
			printf("{\"bench\":\"orders_list_load\",\"orders\":%zu,\"seconds\":%.2f,"
			       "\"map_bytes\":%zu}\n",
			       sizes[s], load_s, st.map_size);
		}
		memset(&srv, 0, sizeof(srv));
		memset(&sess, 0, sizeof(sess));
		srv.store = store;
		srv.opts.test_clock = true;
		srv.clock_ms = w.sched_base;
		sess.authed = true;
		sess.p.org_id = 1;
		sess.p.token_id = 1;
		sess.p.role = PERM_ROLE_READ_ONLY;
		sess.p.org_wide = true;
		nq = queries(&w, page, q);
		for (size_t k = 0; k < nq && rc == 0; k++) {
			result_t *r = &res[s][k];
			rc = measure(&srv, &sess, &q[k], reps, r);
			if (rc == 0)
				printf("{\"bench\":\"orders_list\",\"orders\":%zu,\"query\":\"%s\","
				       "\"page_size\":%u,\"returned\":%zu,\"records_read\":%" PRIu64
				       ",\"median_us\":%.1f,\"p99_us\":%.1f,\"reps\":%d}\n",
				       sizes[s], q[k].name, page, r->returned, r->reads,
				       r->median_us, r->p99_us, reps);
			fflush(stdout);
		}
		store_close(store);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "orders_list: could not remove %s\n", dir);
	}
	for (size_t k = 0; k < nq && rc == 0 && n_sizes > 1; k++)
		printf("{\"bench\":\"orders_list_ratio\",\"query\":\"%s\",\"orders\":[%zu,%zu],"
		       "\"median_ratio\":%.2f,\"records_read\":[%" PRIu64 ",%" PRIu64 "]}\n",
		       q[k].name, sizes[0], sizes[n_sizes - 1],
		       res[n_sizes - 1][k].median_us / res[0][k].median_us, res[0][k].reads,
		       res[n_sizes - 1][k].reads);
	return rc == 0 ? 0 : 1;
}
