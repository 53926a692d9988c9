/*
 * The webhook pipeline end to end: a real ospayd, a real ospay-sandbox sending
 * PagoLivre notifications over HTTPS (verifying ospayd's certificate), and
 * ospayd re-querying the sandbox with its own credentials.
 *
 * The payment link is created at the sandbox by the test, and ospayd is told
 * it exists by writing its provider object into the live store from this
 * process (LMDB is multi-process safe): that is what Orders/Finalize will do
 * once integrated payments exist.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateways/gateway.h"
#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/gateway.pb-c.h"
#include "ospay/v1/records.pb-c.h"
#include "server/rpc/srv.h"
#include "support/gateways.h"
#include "support/live.h"
#include "support/proc.h"

static tsp_server_t srv;
static tsp_sandbox_t sbx;
static int fd;
static char webhook_path[200];

#define TOKEN "pl-token-e2e"
/* ospayd's count of webhooks with a result (accepted, duplicate, unauthorized...). */
#define WEBHOOKS(result) tsp_metric(&srv, "ospay_webhooks_total{result=\"" result "\"}")
#define REQUERIES() tsp_metric(&srv, "ospay_webhook_requeries_total")

static void setup(void)
{
	/* Room for 600 calls in flight to one service (the default bound is 64). */
	const char *args[] = {"--gateway-max-inflight", "600", NULL};
	fd = tsp_env_up(&srv, &sbx, NULL, args);
	snprintf(webhook_path, sizeof(webhook_path), "/webhooks/pagolivre/%llu",
		 (unsigned long long)srv.org_id);
	/* The sandbox knows the organization's PagoLivre token, and ospayd talks to it with it. */
	tsg_pagolivre(fd, &sbx, srv.org_id, TOKEN);
}

static void teardown(void)
{
	tsp_env_down(&srv, &sbx, fd);
}

TestSuite(webhooks, .init = setup, .fini = teardown, .timeout = 120);

/* Does the link's installment n have outcome want in ospayd's store? */
static bool installment_is(const char *ref, uint32_t n, int want)
{
	Ospay__V1__GatewayObjectRecord *o = tsl_object(&srv, SRV_SERVICE_PAGOLIVRE, ref);
	bool ok = false;
	for (size_t k = 0; o != NULL && k < o->n_installments; k++)
		if (o->installments[k]->number == n && o->installments[k]->outcome == want)
			ok = true;
	ospay__v1__gateway_object_record__free_unpacked(o, NULL);
	return ok;
}

#define AWAIT_INSTALLMENT(ref, n, want)                                                            \
	TSP_AWAIT(installment_is((ref), (n), (want)), "%s: installment %u never became %s", (ref), \
		  (n), #want)

/* A PagoLivre link `ref` of n installments, created and registered, whose payer
 * pays: ospayd then holds its first installment approved. */
static void first_installment_paid(const char *ref, int n)
{
	tsl_pagolivre_link(&srv, &sbx, TOKEN, ref, n);
	cr_assert_eq(tsg_pagolivre_control(&sbx, "pay", ref, NULL), 200);
	AWAIT_INSTALLMENT(ref, 1, GW_OUTCOME_APPROVED);
}

Test(webhooks, paid_link_is_confirmed_by_requery)
{
	first_installment_paid("os-1", 3); /* its approval confirmed by the re-query */
	Ospay__V1__GatewayObjectRecord *o = tsl_object(&srv, SRV_SERVICE_PAGOLIVRE, "os-1");
	cr_assert_eq(o->outcome, GW_OUTCOME_APPROVED);
	cr_assert_str_eq(o->status_text, "paid");
	ospay__v1__gateway_object_record__free_unpacked(o, NULL);
	cr_assert_geq(WEBHOOKS("accepted"), 1);
	/* Counted by the commit's callback, just after the record becomes visible. */
	TSP_AWAIT(REQUERIES() >= 1, "no re-query counted");
}

Test(webhooks, duplicates_change_nothing)
{
	first_installment_paid("os-2", 3);
	tsg_webhook_fault(&sbx, "{\"service\":\"pagolivre\",\"kind\":\"duplicate\",\"count\":1}");
	cr_assert_eq(tsg_pagolivre_control(&sbx, "charge", "os-2", "{\"outcome\":\"paid\"}"), 200);
	AWAIT_INSTALLMENT("os-2", 2, GW_OUTCOME_APPROVED);
	/* Both copies were answered 200; the second was recognized and changed nothing. */
	TSP_AWAIT(WEBHOOKS("duplicate") >= 1, "the second copy never came");
	cr_assert_eq(WEBHOOKS("duplicate"), 1);
	cr_assert_eq(WEBHOOKS("accepted"), 2);
}

Test(webhooks, reordered_installments_end_in_the_right_state)
{
	first_installment_paid("os-3", 4);
	tsg_webhook_fault(&sbx, "{\"service\":\"pagolivre\",\"kind\":\"reorder\",\"batch\":3}");
	cr_assert_eq(tsg_pagolivre_control(&sbx, "charge", "os-3", "{\"outcome\":\"paid\"}"), 200);
	cr_assert_eq(tsg_pagolivre_control(
			     &sbx, "charge", "os-3",
			     "{\"outcome\":\"declined\",\"reason\":\"insufficient funds\"}"),
		     200);
	cr_assert_eq(tsg_pagolivre_control(&sbx, "charge", "os-3", "{\"outcome\":\"paid\"}"), 200);
	/* Delivered newest first; the final states are the service's, whatever the order. */
	AWAIT_INSTALLMENT("os-3", 2, GW_OUTCOME_APPROVED);
	AWAIT_INSTALLMENT("os-3", 3, GW_OUTCOME_DECLINED);
	AWAIT_INSTALLMENT("os-3", 4, GW_OUTCOME_APPROVED);
	Ospay__V1__GatewayObjectRecord *o = tsl_object(&srv, SRV_SERVICE_PAGOLIVRE, "os-3");
	cr_assert_eq(o->outcome, GW_OUTCOME_APPROVED, "the order itself stays paid");
	ospay__v1__gateway_object_record__free_unpacked(o, NULL);
}

Test(webhooks, wrong_credentials_get_401_and_nothing_is_stored)
{
	char out[1024], path[300];
	snprintf(path, sizeof(path), "%s?accessToken=wrong", webhook_path);
	int code = tsp_https(&srv, "POST", path,
			     "{\"eventId\":\"e1\",\"eventName\":\"orderPaid\","
			     "\"orderKey\":\"os-1\"}",
			     out, sizeof(out));
	cr_assert_eq(code, 401, "%s", out);
	code = tsp_https(&srv, "POST", webhook_path,
			 "{\"eventId\":\"e1\",\"eventName\":\"orderPaid\"}", out, sizeof(out));
	cr_assert_eq(code, 401, "missing token: %s", out);
	cr_assert_eq(WEBHOOKS("unauthorized"), 2);
	cr_assert_eq(WEBHOOKS("accepted"), 0);
	/* Through the sandbox too: its bad_auth fault. */
	tsg_webhook_fault(&sbx, "{\"service\":\"pagolivre\",\"kind\":\"bad_auth\"}");
	tsl_pagolivre_link(&srv, &sbx, TOKEN, "os-4", 1);
	cr_assert_eq(tsg_pagolivre_control(&sbx, "pay", "os-4", NULL), 200);
	TSP_AWAIT(WEBHOOKS("unauthorized") >= 3, "the spoiled notification never came");
	cr_assert_eq(WEBHOOKS("accepted"), 0, "nothing stored");
	Ospay__V1__GatewayObjectRecord *o = tsl_object(&srv, SRV_SERVICE_PAGOLIVRE, "os-4");
	cr_assert_not_null(o);
	cr_assert_eq(o->outcome, GW_OUTCOME_PENDING, "an unauthenticated hint changes nothing");
	ospay__v1__gateway_object_record__free_unpacked(o, NULL);
}

Test(webhooks, bad_json_unknown_reference_and_other_org_are_4xx)
{
	char out[1024], path[300];
	snprintf(path, sizeof(path), "%s?accessToken=%s", webhook_path, TOKEN);
	cr_assert_eq(tsp_https(&srv, "POST", path, "{not json", out, sizeof(out)), 400, "%s", out);
	cr_assert_eq(
		tsp_https(&srv, "POST", path,
			  "{\"eventId\":\"e9\",\"eventName\":\"orderPaid\",\"orderKey\":\"nope\"}",
			  out, sizeof(out)),
		404, "%s", out);
	snprintf(path, sizeof(path), "/webhooks/pagolivre/999?accessToken=%s", TOKEN);
	cr_assert_eq(
		tsp_https(&srv, "POST", path,
			  "{\"eventId\":\"e9\",\"eventName\":\"orderPaid\",\"orderKey\":\"os-1\"}",
			  out, sizeof(out)),
		401, /* the answer to wrong credentials (issue 11) */ "%s", out);
	cr_assert_eq(WEBHOOKS("accepted"), 0);
}

Test(webhooks, rpc_answered_while_500_slow_sandbox_calls_are_in_flight)
{
	/* Events about one object would share a query: one object per event. */
	tsl_register_objects(&srv, SRV_SERVICE_PAGOLIVRE, "slow-", 500);
	/* Each re-query takes 6 s at the sandbox, which then answers "no such order"
	 * (that settles the event). */
	tsg_fault(&sbx, "{\"service\":\"pagolivre\",\"route\":\"order_by_key\","
			"\"kind\":\"latency\",\"ms\":6000}");
	/*
	 * 500 events about 500 links, sent while the sandbox is paused: the re-query
	 * pass the first few events start cannot end before all 500 are accepted,
	 * so the next pass has them all, however slow the machine.
	 */
	tsp_sandbox_pause(&sbx);
	int ok = tsg_pagolivre_events(&srv, TOKEN, "slow-", 500);
	tsp_sandbox_resume(&sbx);
	cr_assert_eq(ok, 500, "every webhook accepted");
	/*
	 * Once most re-queries are in flight, the sandbox is paused again: none of
	 * them can end until it resumes, however long the RPC below takes.
	 */
	long long inflight = 0;
	tsp_poll_t p = tsp_poll_start(TSP_HANG_MS);
	for (;;) {
		tsp_sandbox_pause(&sbx);
		inflight = tsp_metric(&srv, "ospay_gateway_calls_in_flight");
		if (inflight >= 400)
			break;
		tsp_sandbox_resume(&sbx);
		cr_assert(tsp_poll_next(&p), "re-queries in flight: %lld", inflight);
	}
	/* An RPC now is answered while they are all pending: the loop is free. */
	Ospay__V1__ListUnitsRequest lr = OSPAY__V1__LIST_UNITS_REQUEST__INIT;
	cr_assert_eq(tsp_call(fd, "ospay.v1.Admin/ListUnits", &lr.base, NULL, NULL, NULL, NULL), 0);
	long long after = tsp_metric(&srv, "ospay_gateway_calls_in_flight");
	tsp_sandbox_resume(&sbx);
	cr_log_info("RPC answered with %lld sandbox calls in flight (%lld after)", inflight, after);
	cr_assert_geq(after, inflight, "the RPC must not have waited for the sandbox calls");
	/* And they all complete and are recorded (6 s a pass, a pass or two). */
	TSP_AWAIT_MS(2 * TSP_HANG_MS, REQUERIES() >= 500, "re-queries: %lld", REQUERIES());
	cr_assert_eq(REQUERIES(), 500);
}

/* The outcome ospayd recorded for the provider object (kind, ref); -1 when none. */
static int object_outcome(int kind, const char *ref)
{
	Ospay__V1__GatewayObjectRecord *o = tsl_object(&srv, kind, ref);
	int out = o != NULL ? (int)o->outcome : -1;
	if (o != NULL)
		ospay__v1__gateway_object_record__free_unpacked(o, NULL);
	return out;
}

Test(webhooks, cielo_repeated_notification_is_queried_again)
{
	tsg_cielo(fd, &sbx, srv.org_id, "e2e", false);
	char url[200], out[4096], hdr[2][120];
	snprintf(hdr[0], sizeof(hdr[0]), "MerchantId: mid-e2e");
	snprintf(hdr[1], sizeof(hdr[1]), "MerchantKey: mkey-e2e");
	/* An authorized (not captured) sale, made directly at the sandbox. */
	snprintf(url, sizeof(url), "%s/cielo/1/sales/", sbx.base);
	char cmd[1500];
	snprintf(
		cmd, sizeof(cmd),
		"curl -sS --max-time 10 -H '%s' -H '%s' -H 'Content-Type: application/json' "
		"--data-binary '{\"MerchantOrderId\":\"e2e1\",\"Payment\":{\"Type\":\"CreditCard\","
		"\"Amount\":1500,\"Capture\":false,\"CreditCard\":{\"CardNumber\":"
		"\"4111111111111111\",\"Holder\":\"A\",\"ExpirationDate\":\"12/2035\","
		"\"Brand\":\"Visa\"}}}' '%s'",
		hdr[0], hdr[1], url);
	const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	cr_assert_eq(tsp_run(argv, NULL, out, sizeof(out)), 0, "%s", out);
	const char *p = strstr(out, "\"PaymentId\":\"");
	cr_assert_not_null(p, "%s", out);
	char pid[64];
	cr_assert_eq(sscanf(p, "\"PaymentId\":\"%63[^\"]", pid), 1);
	tsl_register_object(&srv, SRV_SERVICE_CIELO, pid);
	/* Capture, then void: two notifications with the same content. */
	for (int step = 0; step < 2; step++) {
		snprintf(cmd, sizeof(cmd),
			 "curl -sS --max-time 10 -X PUT -H '%s' -H '%s' -H 'Content-Length: 0' "
			 "'%s/cielo/1/sales/%s/%s'",
			 hdr[0], hdr[1], sbx.base, pid, step == 0 ? "capture" : "void");
		cr_assert_eq(tsp_run(argv, NULL, out, sizeof(out)), 0, "%s", out);
		int want = step == 0 ? GW_OUTCOME_APPROVED : GW_OUTCOME_CANCELED, got = -1;
		TSP_AWAIT((got = object_outcome(SRV_SERVICE_CIELO, pid)) == want,
			  "after %s: outcome %d (%s)", step == 0 ? "capture" : "void", got, out);
	}
	cr_assert_geq(WEBHOOKS("duplicate"), 1,
		      "the second notification repeats the first's content");
}
