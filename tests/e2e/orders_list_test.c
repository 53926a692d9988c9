/*
 * Orders/List end to end: every filter and combinations of them checked
 * against the same filters applied to a copy of every order, in the promised
 * order and across pages; page tokens bound to their filters; a page cut
 * short by the examination cap; paging while orders are being inserted.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "ospay/v1/clock.pb-c.h"
#include "ospay/v1/rpc.pb-c.h"
#include "support/domain.h"
#include "support/proc.h"
#include "support/records.h"
#include "support/suite.h"

TSP_E2E_SUITE(orders_list, adm, NULL, "2026-12-01T12:00:00Z", 120);

/* What the test knows of an order. */
typedef struct known {
	uint64_t id, unit, customer, agenda, tech;
	int64_t start, created;
	int status, pay;
} known_t;

#define MAX_KNOWN 256
static known_t known[MAX_KNOWN];
static size_t n_known;

static void remember(uint64_t id)
{
	cr_assert_lt(n_known, MAX_KNOWN);
	Ospay__V1__Order *o = tso_get_order(adm, id);
	known[n_known++] = (known_t){o->id,         o->unit_id,       o->customer_id,
				     o->agenda_id,  o->technician_id, o->scheduled_start_ms,
				     o->created_ms, (int)o->status,   (int)o->payment_status};
	ospay__v1__order__free_unpacked(o, NULL);
}

static void advance(int64_t ms)
{
	Ospay__V1__AdvanceRequest m = OSPAY__V1__ADVANCE_REQUEST__INIT;
	m.by_ms = ms;
	tsp_call_ok(adm, "ospay.v1.Clock/Advance", &m.base, NULL);
}

static void set_status(uint64_t id, int status)
{
	if (status == OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CLOSED) {
		Ospay__V1__OrdersFinalizeRequest m = OSPAY__V1__ORDERS_FINALIZE_REQUEST__INIT;
		m.id = id;
		m.method_type = OSPAY__V1__PAYMENT_METHOD_TYPE__PAYMENT_METHOD_TYPE_CASH;
		tsp_call_ok(adm, "ospay.v1.Orders/Finalize", &m.base, NULL);
	} else if (status == OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CANCELED) {
		Ospay__V1__OrdersCancelRequest m = OSPAY__V1__ORDERS_CANCEL_REQUEST__INIT;
		m.id = id;
		tsp_call_ok(adm, "ospay.v1.Orders/Cancel", &m.base, NULL);
	}
}

/* The world: two units, agendas, technicians, customers, ~100 orders. */
static struct {
	uint64_t u1, u2, a[3], t[3], c[4];
} w;

static void build_world(void)
{
	w.u1 = srv.unit_id;
	w.u2 = tso_unit(adm, "Zona Norte");
	Ospay__V1__AgendaWindow win[7];
	for (int d = 0; d < 7; d++)
		win[d] = tso_window(d + 1, 0, 24, 1000);
	w.a[0] = tso_agenda(adm, w.u1, NULL, 0, win, 7, 0, 30);
	w.a[1] = tso_agenda(adm, w.u1, NULL, 0, win, 7, 0, 30);
	w.a[2] = tso_agenda(adm, w.u2, NULL, 0, win, 7, 0, 30);
	w.t[0] = tso_technician(adm, w.u1, "T0");
	w.t[1] = tso_technician(adm, w.u1, "T1");
	w.t[2] = tso_technician(adm, w.u2, "T2");
	w.c[0] = tso_customer(adm, w.u1, 1, "São Paulo");
	w.c[1] = tso_customer(adm, w.u1, 2, "São Paulo");
	w.c[2] = tso_customer(adm, w.u1, 3, "São Paulo");
	w.c[3] = tso_customer(adm, w.u2, 4, "São Paulo");
	n_known = 0;
	srand(7);
	for (int i = 0; i < 100; i++) {
		bool in_u2 = i % 5 == 4;
		uint64_t cust = in_u2 ? w.c[3] : w.c[rand() % 3];
		int pick = rand() % 3; /* 0: no agenda */
		uint64_t ag = pick == 0 ? 0 : in_u2 ? w.a[2] : w.a[pick - 1];
		int tp = rand() % 3;
		uint64_t tech = tp == 0 ? 0 : in_u2 ? w.t[2] : w.t[tp - 1];
		/* Scheduled over three weeks, on distinct half hours so technicians never clash;
		 * some orders without agenda are not scheduled at all. */
		int64_t start = tso_at(2026, 12, 7, 0, 0) + (int64_t)((i * 37) % 1000) * 30 * 60000;
		if (ag == 0 && rand() % 3 == 0)
			start = 0;
		uint64_t id;
		status_t st;
		int code = tso_order(adm, cust, ag, tech, start, start != 0 ? 30 : 0, &id, &st);
		cr_assert_eq(code, 0, "order %d: %s", i, st.message);
		int s = rand() % 4;
		if (s == 2)
			set_status(id, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CLOSED);
		else if (s == 3)
			set_status(id, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CANCELED);
		remember(id);
		/* Several orders share a creation instant: ties are broken by id. */
		if (i % 3 == 0)
			advance(3600 * 1000);
	}
}

static bool in_range(int64_t v, int64_t from, int64_t to)
{
	return (from == 0 || v >= from) && (to == 0 || v < to);
}

static bool matches(const known_t *k, const Ospay__V1__OrdersListRequest *f, bool u1_only)
{
	bool sched = f->scheduled_from_ms != 0 || f->scheduled_to_ms != 0;
	return (!u1_only || k->unit == w.u1) && (f->status == 0 || k->status == (int)f->status) &&
	       (f->payment_status == 0 || k->pay == (int)f->payment_status) &&
	       (f->agenda_id == 0 || k->agenda == f->agenda_id) &&
	       (f->technician_id == 0 || k->tech == f->technician_id) &&
	       (f->customer_id == 0 || k->customer == f->customer_id) &&
	       (f->unit_id == 0 || k->unit == f->unit_id) &&
	       (!sched ||
		(k->start != 0 && in_range(k->start, f->scheduled_from_ms, f->scheduled_to_ms))) &&
	       in_range(k->created, f->created_from_ms, f->created_to_ms);
}

static bool sort_by_start;

static int cmp_known(const void *a, const void *b)
{
	const known_t *x = a, *y = b;
	int64_t kx = sort_by_start ? x->start : x->created;
	int64_t ky = sort_by_start ? y->start : y->created;
	if (kx != ky)
		return kx < ky ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Pages through List with f; fills ids (in order) and returns how many. */
static size_t list_all(int fd, Ospay__V1__OrdersListRequest *f, uint64_t *ids, size_t cap,
		       int *calls)
{
	char token[128] = "";
	size_t n = 0;
	*calls = 0;
	do {
		f->page_token = token;
		Ospay__V1__OrdersListResponse *r = NULL;
		status_t st;
		int code = tsp_call(fd, "ospay.v1.Orders/List", &f->base,
				    &ospay__v1__orders_list_response__descriptor,
				    (ProtobufCMessage **)&r, NULL, &st);
		cr_assert_eq(code, 0, "List: %d %s", code, st.message);
		cr_assert_leq(r->n_orders, f->page_size == 0 ? 100 : f->page_size);
		for (size_t i = 0; i < r->n_orders; i++) {
			cr_assert_lt(n, cap);
			ids[n++] = r->orders[i]->id;
		}
		snprintf(token, sizeof(token), "%s", r->next_page_token);
		ospay__v1__orders_list_response__free_unpacked(r, NULL);
		(*calls)++;
		cr_assert_lt(*calls, 1000, "paging does not end");
	} while (token[0] != '\0');
	f->page_token = "";
	return n;
}

/* Filters checked that matched at least one order: the test must not be vacuous. */
static int nonempty_checks;

static void check_filter(int fd, Ospay__V1__OrdersListRequest *f, bool u1_only, const char *what)
{
	known_t want[MAX_KNOWN];
	size_t nw = 0;
	for (size_t i = 0; i < n_known; i++)
		if (matches(&known[i], f, u1_only))
			want[nw++] = known[i];
	sort_by_start = f->scheduled_from_ms != 0 || f->scheduled_to_ms != 0;
	qsort(want, nw, sizeof(want[0]), cmp_known);
	nonempty_checks += nw > 0;
	uint64_t got[MAX_KNOWN];
	int calls;
	size_t ng = list_all(fd, f, got, MAX_KNOWN, &calls);
	cr_assert_eq(ng, nw, "%s: %zu orders listed, %zu expected", what, ng, nw);
	for (size_t i = 0; i < nw; i++)
		cr_assert_eq(got[i], want[i].id, "%s: position %zu is order %llu, expected %llu",
			     what, i, (unsigned long long)got[i], (unsigned long long)want[i].id);
}

/* check_filter on a list request with the one filter field set to value. */
static void check_alone(const char *field, long long value)
{
	Ospay__V1__OrdersListRequest none = OSPAY__V1__ORDERS_LIST_REQUEST__INIT;
	char text[24];
	snprintf(text, sizeof(text), "%lld", value);
	tsr_variant_t v;
	cr_assert_eq(tsr_variant_init(&v, &none.base), 0);
	cr_assert_eq(tsr_variant_set(&v, field, text), 0, "%s", field);
	check_filter(adm, (Ospay__V1__OrdersListRequest *)v.msg, false, field);
	tsr_variant_free(&v);
}

Test(orders_list, every_filter_alone)
{
	build_world();
	for (int s = 1; s <= 3; s++)
		check_alone("status", s);
	for (int p = 1; p <= 4; p++)
		check_alone("payment_status", p);
	for (int i = 0; i < 3; i++) {
		check_alone("agenda_id", (long long)w.a[i]);
		check_alone("technician_id", (long long)w.t[i]);
	}
	for (int i = 0; i < 4; i++)
		check_alone("customer_id", (long long)w.c[i]);
	check_alone("unit_id", (long long)w.u2);
	check_alone("scheduled_from_ms", tso_at(2026, 12, 20, 0, 0));
	check_alone("created_to_ms", known[10].created);
	check_alone("page_size", 7);
	Ospay__V1__OrdersListRequest f = OSPAY__V1__ORDERS_LIST_REQUEST__INIT;
	f.scheduled_from_ms = tso_at(2026, 12, 10, 0, 0);
	f.scheduled_to_ms = tso_at(2026, 12, 14, 0, 0);
	check_filter(adm, &f, false, "scheduled range");
	ospay__v1__orders_list_request__init(&f);
	f.created_from_ms = known[30].created;
	f.created_to_ms = known[60].created;
	check_filter(adm, &f, false, "created range");
	cr_assert_geq(nonempty_checks, 20, "%d filters matched something", nonempty_checks);
}

Test(orders_list, combinations_of_filters)
{
	build_world();
	srand(11);
	int64_t sched[][2] = {{0, 0},
			      {tso_at(2026, 12, 9, 0, 0), tso_at(2026, 12, 16, 0, 0)},
			      {tso_at(2026, 12, 15, 0, 0), 0},
			      {0, tso_at(2026, 12, 12, 0, 0)}};
	int64_t created[][2] = {{0, 0},
				{known[20].created, known[70].created},
				{known[50].created, 0},
				{0, known[40].created}};
	const uint32_t sizes[] = {1, 3, 8, 0};
	for (int i = 0; i < 300; i++) {
		Ospay__V1__OrdersListRequest f = OSPAY__V1__ORDERS_LIST_REQUEST__INIT;
		/* Each filter present with probability 1/2, values from the world (and one
		 * value that matches nothing). */
		if (rand() % 2)
			f.status = 1 + rand() % 3;
		if (rand() % 3 == 0)
			f.payment_status = 1 + rand() % 2;
		if (rand() % 2)
			f.agenda_id = w.a[rand() % 3];
		if (rand() % 2)
			f.technician_id = w.t[rand() % 3];
		if (rand() % 3 == 0)
			f.customer_id = w.c[rand() % 4];
		if (rand() % 3 == 0)
			f.unit_id = rand() % 2 ? w.u1 : w.u2;
		int s = rand() % 4, c = rand() % 4;
		f.scheduled_from_ms = sched[s][0];
		f.scheduled_to_ms = sched[s][1];
		f.created_from_ms = created[c][0];
		f.created_to_ms = created[c][1];
		f.page_size = sizes[rand() % 4];
		char what[200];
		snprintf(what, sizeof(what),
			 "combination %d: status %d pay %d agenda %llu tech %llu customer %llu "
			 "unit %llu sched %d created %d page %u",
			 i, f.status, f.payment_status, (unsigned long long)f.agenda_id,
			 (unsigned long long)f.technician_id, (unsigned long long)f.customer_id,
			 (unsigned long long)f.unit_id, s, c, f.page_size);
		check_filter(adm, &f, false, what);
	}
	cr_assert_gt(nonempty_checks, 100, "only %d of 300 combinations matched anything",
		     nonempty_checks);
}

Test(orders_list, unit_scoped_token_sees_its_units_only)
{
	build_world();
	char secret[160];
	tso_token(adm, OSPAY__V1__ROLE__ROLE_READ_ONLY, w.u1, secret, sizeof(secret));
	int fd = tsp_login(&srv, secret);
	Ospay__V1__OrdersListRequest f = OSPAY__V1__ORDERS_LIST_REQUEST__INIT;
	f.page_size = 9;
	check_filter(fd, &f, true, "scoped, no filter");
	f.status = 1;
	check_filter(fd, &f, true, "scoped, status");
	ospay__v1__orders_list_request__init(&f);
	f.scheduled_from_ms = tso_at(2026, 12, 9, 0, 0);
	check_filter(fd, &f, true, "scoped, scheduled");
	/* Naming the other unit's agenda, technician, customer or unit finds nothing. */
	uint64_t got[MAX_KNOWN];
	int calls;
	ospay__v1__orders_list_request__init(&f);
	f.agenda_id = w.a[2];
	cr_assert_eq(list_all(fd, &f, got, MAX_KNOWN, &calls), 0);
	cr_assert_eq(calls, 1, "an invisible agenda is not walked");
	ospay__v1__orders_list_request__init(&f);
	f.technician_id = w.t[2];
	cr_assert_eq(list_all(fd, &f, got, MAX_KNOWN, &calls), 0);
	ospay__v1__orders_list_request__init(&f);
	f.customer_id = w.c[3];
	cr_assert_eq(list_all(fd, &f, got, MAX_KNOWN, &calls), 0);
	ospay__v1__orders_list_request__init(&f);
	f.unit_id = w.u2;
	cr_assert_eq(list_all(fd, &f, got, MAX_KNOWN, &calls), 0);
	close(fd);
}

Test(orders_list, page_tokens_are_bound_to_their_filters)
{
	build_world();
	Ospay__V1__OrdersListRequest f = OSPAY__V1__ORDERS_LIST_REQUEST__INIT;
	f.page_size = 2;
	f.status = 1;
	Ospay__V1__OrdersListResponse *r = tsp_call_ok(
		adm, "ospay.v1.Orders/List", &f.base, &ospay__v1__orders_list_response__descriptor);
	cr_assert_str_not_empty(r->next_page_token);
	char token[128];
	snprintf(token, sizeof(token), "%s", r->next_page_token);
	ospay__v1__orders_list_response__free_unpacked(r, NULL);
	status_t st;
	f.status = 2;
	f.page_token = token;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Orders/List", &f.base, NULL, NULL, NULL, &st), 3);
	cr_assert(tso_violation(&st, "page_token"));
	f.status = 1;
	f.page_token = "AAAA";
	cr_assert_eq(tsp_call(adm, "ospay.v1.Orders/List", &f.base, NULL, NULL, NULL, &st), 3);
	/* A Units token is not an Orders token. */
	Ospay__V1__AgendasListRequest al = OSPAY__V1__AGENDAS_LIST_REQUEST__INIT;
	al.page_token = token;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Agendas/List", &al.base, NULL, NULL, NULL, &st), 3);
	f.page_token = token;
	tsp_call_ok(adm, "ospay.v1.Orders/List", &f.base, NULL);
}

/* Sends n Orders/Create for customer (unscheduled) pipelined, asserting each OK. */
static void create_many(uint64_t customer, int n)
{
	Ospay__V1__OrdersCreateRequest m = OSPAY__V1__ORDERS_CREATE_REQUEST__INIT;
	m.customer_id = customer;
	m.kind = "VISITA";
	uint8_t body[128];
	size_t blen = ospay__v1__orders_create_request__pack(&m, body);
	enum { CHUNK = 500 };
	uint8_t *frames = malloc(CHUNK * 160);
	for (int done = 0; done < n;) {
		int k = n - done < CHUNK ? n - done : CHUNK;
		size_t len = 0;
		for (int i = 0; i < k; i++) {
			len += tsp_frame_request(frames + len, (uint64_t)(done + i + 1),
						 "ospay.v1.Orders/Create", body, blen, NULL);
		}
		cr_assert_eq(send(adm, frames, len, MSG_NOSIGNAL), (ssize_t)len);
		for (int i = 0; i < k; i++) {
			int code;
			cr_assert_eq(tsp_recv_response(adm, NULL, &code, NULL, NULL, TSP_HANG_MS),
				     0);
			cr_assert_eq(code, 0);
		}
		done += k;
	}
	free(frames);
}

Test(orders_list, a_sparse_filter_answers_in_bounded_steps)
{
	uint64_t c = tso_customer(adm, srv.unit_id, 1, "São Paulo");
	uint64_t first;
	status_t st;
	cr_assert_eq(tso_order(adm, c, 0, 0, 0, 0, &first, &st), 0);
	set_status(first, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CANCELED);
	create_many(c, 4500);
	uint64_t last;
	cr_assert_eq(tso_order(adm, c, 0, 0, 0, 0, &last, &st), 0);
	set_status(last, OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CANCELED);
	/* The customer's index is walked and the status checked per order: the 4,500
	 * open orders in between take more than one call's worth of examination. */
	Ospay__V1__OrdersListRequest f = OSPAY__V1__ORDERS_LIST_REQUEST__INIT;
	f.customer_id = c;
	f.status = OSPAY__V1__ORDER_STATUS__ORDER_STATUS_CANCELED;
	uint64_t got[8];
	int calls;
	size_t n = list_all(adm, &f, got, 8, &calls);
	cr_assert_eq(n, 2);
	cr_assert_eq(got[0], first);
	cr_assert_eq(got[1], last);
	cr_assert_eq(calls, 3, "2,000 orders examined per call: 4,502 take 3 calls, took %d",
		     calls);
}

Test(orders_list, paging_while_orders_are_inserted)
{
	uint64_t c = tso_customer(adm, srv.unit_id, 1, "São Paulo");
	Ospay__V1__AgendaWindow win[7];
	for (int d = 0; d < 7; d++)
		win[d] = tso_window(d + 1, 0, 24, 1000);
	uint64_t ag = tso_agenda(adm, srv.unit_id, NULL, 0, win, 7, 0, 30);
	enum { BEFORE = 40 };
	uint64_t pre[BEFORE];
	status_t st;
	for (int i = 0; i < BEFORE; i++) {
		int64_t start = tso_at(2026, 12, 7, 0, 0) + (int64_t)(i * 7 % BEFORE) * 3600000;
		cr_assert_eq(tso_order(adm, c, ag, 0, start, 0, &pre[i], &st), 0, "%s", st.message);
		if (i % 4 == 0)
			advance(1000);
	}
	/* By creation, and by scheduled start, inserting between pages: inserts land
	 * before and after the cursor (by start) and always after it (by creation). */
	for (int by_start = 0; by_start < 2; by_start++) {
		Ospay__V1__OrdersListRequest f = OSPAY__V1__ORDERS_LIST_REQUEST__INIT;
		f.page_size = 6;
		f.agenda_id = ag;
		if (by_start)
			f.scheduled_from_ms = tso_at(2026, 12, 1, 0, 0);
		char token[128] = "";
		uint64_t seen[400];
		size_t n = 0;
		int round = 0;
		do {
			f.page_token = token;
			Ospay__V1__OrdersListResponse *r =
				tsp_call_ok(adm, "ospay.v1.Orders/List", &f.base,
					    &ospay__v1__orders_list_response__descriptor);
			for (size_t i = 0; i < r->n_orders; i++) {
				for (size_t j = 0; j < n; j++)
					cr_assert_neq(seen[j], r->orders[i]->id,
						      "order %llu listed twice",
						      (unsigned long long)seen[j]);
				seen[n++] = r->orders[i]->id;
			}
			snprintf(token, sizeof(token), "%s", r->next_page_token);
			ospay__v1__orders_list_response__free_unpacked(r, NULL);
			/* Three new orders per page: early, late, and in the middle. */
			int64_t starts[3] = {tso_at(2026, 12, 7, 0, 30), tso_at(2026, 12, 9, 23, 0),
					     tso_at(2026, 12, 8, 10, 30)};
			for (int k = 0; k < 3 && round < 10; k++)
				cr_assert_eq(tso_order(adm, c, ag, 0, starts[k], 0, NULL, &st), 0,
					     "%s", st.message);
			round++;
			advance(1000);
		} while (token[0] != '\0');
		for (int i = 0; i < BEFORE; i++) {
			bool found = false;
			for (size_t j = 0; j < n && !found; j++)
				found = seen[j] == pre[i];
			cr_assert(found, "pre-existing order %llu was skipped (by_start %d)",
				  (unsigned long long)pre[i], by_start);
		}
	}
}
