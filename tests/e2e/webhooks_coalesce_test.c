/*
 * Coalesced re-queries: events about one provider object that are due in the
 * same pass share one query at the service, and its answer settles each of
 * them (done, or backed off with its own attempts count).
 *
 * The test clock makes "due together" deterministic: while the sandbox fails
 * every query, each event is tried once and backed off to the same frozen
 * instant; advancing the clock past it makes them all due in one pass. The
 * sandbox counts the queries through a 1 ms latency fault's hits.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateways/gateway.h"
#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/clock.pb-c.h"
#include "ospay/v1/gateway.pb-c.h"
#include "ospay/v1/records.pb-c.h"
#include "server/db/db.h"
#include "server/providers/objects.h"
#include "server/rpc/srv.h"
#include "support/gateways.h"
#include "support/live.h"
#include "support/proc.h"
#include "support/suite.h"

static tsp_sandbox_t sbx;
static uint64_t counting; /* the fault whose hits count the queries */

#define TOKEN "pl-token-coalesce"
#define REQUERIES() tsp_metric(&srv, "ospay_webhook_requeries_total")

static void after_up(void);
/* The sandbox knows the organization's PagoLivre token, and ospayd talks to it with it. */
TSP_E2E_SUITE_THEN(coalesce, fd, &sbx, "2026-12-01T12:00:00Z", 90, after_up);

static void after_up(void)
{
	tsg_pagolivre(fd, &sbx, srv.org_id, TOKEN);
}

/* Queries of a link at the sandbox, counted from now on by a 1 ms latency fault's hits. */
static void count_queries(void)
{
	counting = tsg_fault(&sbx, "{\"service\":\"pagolivre\",\"route\":\"order_by_key\","
				   "\"kind\":\"latency\",\"ms\":1}");
}

static long long query_count(void)
{
	return tsg_fault_hits(&sbx, counting);
}

static void advance(int64_t ms)
{
	Ospay__V1__AdvanceRequest m = OSPAY__V1__ADVANCE_REQUEST__INIT;
	m.by_ms = ms;
	tsp_call_ok(fd, "ospay.v1.Clock/Advance", &m.base, NULL);
}

typedef struct tally {
	int events, waiting, done, other;
	unsigned min_attempts, max_attempts;
} tally_t;

/* The webhook events about references starting with ref, as stored: how many in
 * each state, attempts range. */
static tally_t events_of(const char *ref)
{
	tally_t t = {.min_attempts = ~0u};
	store_t *st = tsl_store_attach(&srv);
	store_txn_t *txn;
	store_cursor_t *cur;
	cr_assert_eq(store_read_begin(st, &txn), 0);
	cr_assert_eq(store_cursor_open(txn, DB_WEBHOOK_EVENTS, &cur), 0);
	store_val_t k, v;
	for (int rc = store_cursor_first(cur, &k, &v); rc == 0;
	     rc = store_cursor_next(cur, &k, &v)) {
		Ospay__V1__WebhookEventRecord *ev = NULL;
		if (db_get_msg(txn, DB_WEBHOOK_EVENTS, k.data, k.len,
			       &ospay__v1__webhook_event_record__descriptor,
			       (ProtobufCMessage **)&ev) != 0)
			continue;
		if (strncmp(ev->order_ref, ref, strlen(ref)) == 0) {
			t.events++;
			if (ev->state == 0)
				t.waiting++;
			else if (ev->state == 1)
				t.done++;
			else
				t.other++;
			if (ev->attempts < t.min_attempts)
				t.min_attempts = ev->attempts;
			if (ev->attempts > t.max_attempts)
				t.max_attempts = ev->attempts;
		}
		ospay__v1__webhook_event_record__free_unpacked(ev, NULL);
	}
	store_cursor_close(cur);
	store_read_end(txn);
	store_close(st);
	return t;
}

/* Waits (a hang guard) until the link's n events are all in state (0 waiting,
 * 1 done) with exactly `attempts` tries each. */
static bool wait_events(const char *ref, int n, int state, unsigned attempts)
{
	tsp_poll_t p = tsp_poll_start(TSP_HANG_MS);
	do {
		tally_t t = events_of(ref);
		int in_state = state == 0 ? t.waiting : t.done;
		if (t.events == n && in_state == n && t.min_attempts == attempts &&
		    t.max_attempts == attempts)
			return true;
	} while (tsp_poll_next(&p));
	return false;
}

/*
 * A link with 4 installments whose 4 notifications (paid, then three
 * installment charges) were each accepted and tried once against a failing
 * query: all 4 events wait, backed off to the same instant.
 */
static void four_waiting_events(const char *ref)
{
	tsl_pagolivre_link(&srv, &sbx, TOKEN, ref, 4);
	tsg_fault(&sbx,
		  "{\"service\":\"pagolivre\",\"route\":\"order_by_key\",\"kind\":\"http500\"}");
	cr_assert_eq(tsg_pagolivre_control(&sbx, "pay", ref, NULL), 200);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(tsg_pagolivre_control(&sbx, "charge", ref, "{\"outcome\":\"paid\"}"),
			     200);
	cr_assert(wait_events(ref, 4, 0, 1), "4 events tried once and waiting");
	cr_assert_eq(tsp_metric(&srv, "ospay_webhooks_total{result=\"accepted\"}"), 4);
	tsg_faults_clear(&sbx);
	count_queries();
}

static void assert_link_paid(const char *ref)
{
	store_t *st = tsl_store_attach(&srv);
	store_txn_t *txn;
	cr_assert_eq(store_read_begin(st, &txn), 0);
	Ospay__V1__GatewayObjectRecord *o = NULL;
	cr_assert_eq(prov_object_get(txn, srv.org_id, SRV_SERVICE_PAGOLIVRE, ref, &o), 0);
	cr_assert_eq(o->outcome, GW_OUTCOME_APPROVED);
	cr_assert_str_eq(o->status_text, "paid");
	cr_assert_eq(o->n_installments, 4);
	for (size_t i = 0; i < o->n_installments; i++)
		cr_assert_eq(o->installments[i]->outcome, GW_OUTCOME_APPROVED, "installment %u",
			     o->installments[i]->number);
	ospay__v1__gateway_object_record__free_unpacked(o, NULL);
	store_read_end(txn);
	store_close(st);
}

Test(coalesce, events_about_one_link_share_one_query)
{
	four_waiting_events("co-1");
	long long coalesced0 = tsp_metric(&srv, "ospay_webhook_requery_coalesced_total");
	advance(5000); /* past the 1 s backoff: all 4 due in the same pass */
	cr_assert(wait_events("co-1", 4, 1, 2), "all 4 events done, each after 2 tries");
	cr_assert_eq(query_count(), 1, "one query answered the 4 events");
	assert_link_paid("co-1");
	cr_assert_eq(tsp_metric(&srv, "ospay_webhook_requery_coalesced_total") - coalesced0, 3);
	TSP_AWAIT(REQUERIES() >= 4, "re-queries counted: %lld", REQUERIES());
	cr_assert_eq(REQUERIES(), 4);
}

Test(coalesce, a_failed_shared_query_backs_off_every_event)
{
	four_waiting_events("co-2");
	/* The shared query fails once. */
	tsg_fault(&sbx,
		  "{\"service\":\"pagolivre\",\"route\":\"order_by_key\",\"kind\":\"http500\","
		  "\"count\":1}");
	advance(5000);
	cr_assert(wait_events("co-2", 4, 0, 2), "all 4 events backed off after their 2nd try");
	cr_assert_eq(query_count(), 1);
	advance(5000); /* past the 2 s backoff */
	cr_assert(wait_events("co-2", 4, 1, 3), "all 4 events done after their 3rd try");
	cr_assert_eq(query_count(), 2, "one query per pass, not one per event");
	assert_link_paid("co-2");
}

Test(coalesce, shutdown_with_a_shared_query_in_flight)
{
	four_waiting_events("co-3");
	tsg_fault(&sbx,
		  "{\"service\":\"pagolivre\",\"route\":\"order_by_key\",\"kind\":\"latency\","
		  "\"ms\":2000,\"count\":1}");
	advance(5000);
	/* The shared query has reached the sandbox, which answers it 2 s later. */
	TSP_AWAIT(query_count() >= 1, "the shared query never reached the sandbox");
	/* SIGTERM while it is in flight (on a slow machine it may have ended: then
	 * the events are done, which the checks below allow): a clean exit, nothing
	 * leaked (ASan builds check the log). */
	tsp_server_stop(&srv);
	/* Settled together or not at all: all 4 waiting after 1 try, or all 4 done after 2. */
	tally_t t = events_of("co-3");
	cr_assert_eq(t.events, 4);
	cr_log_info("after the stop: %d waiting, %d done", t.waiting, t.done);
	cr_assert(t.waiting == 4 || t.done == 4, "%d waiting, %d done", t.waiting, t.done);
	cr_assert_eq(t.min_attempts, t.max_attempts);
	/* Restarted (the test clock starts over), the inbox resumes. */
	close(fd);
	const char *args[] = {"--test-clock", "2026-12-01T12:00:00Z", NULL};
	cr_assert_eq(tsp_server_start(&srv, args), 0);
	fd = tsp_login(&srv, srv.admin_token);
	advance(5000);
	cr_assert(wait_events("co-3", 4, 1, 2), "all 4 events done after 2 tries");
	assert_link_paid("co-3");
}

#define MANY 1100 /* more objects than one pass may query (1,024) */

Test(coalesce, more_objects_due_than_a_pass_queries)
{
	/* Objects known to ospayd only: the sandbox answers "no such order", which settles. */
	tsl_register_objects(&srv, SRV_SERVICE_PAGOLIVRE, "many-", MANY);
	tsg_fault(&sbx,
		  "{\"service\":\"pagolivre\",\"route\":\"order_by_key\",\"kind\":\"http500\"}");
	cr_assert_eq(tsg_pagolivre_events(&srv, TOKEN, "many-", MANY), MANY,
		     "every webhook accepted");
	cr_assert(wait_events("many-", MANY, 0, 1), "every event tried once and waiting");
	tsg_faults_clear(&sbx);
	count_queries();
	/* All due at once: a first pass queries 1,024 objects, the next the rest. */
	advance(5000);
	cr_assert(wait_events("many-", MANY, 1, 2), "every event done after 2 tries");
	cr_assert_eq(query_count(), MANY, "one query per object");
	TSP_AWAIT(REQUERIES() >= MANY, "re-queries counted: %lld", REQUERIES());
	cr_assert_eq(REQUERIES(), MANY);
}
