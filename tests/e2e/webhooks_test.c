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
#include <time.h>
#include <unistd.h>

#include "gateways/gateway.h"
#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/gateway.pb-c.h"
#include "ospay/v1/records.pb-c.h"
#include "server/db/db.h"
#include "server/providers/objects.h"
#include "server/rpc/srv.h"
#include "support/gateways.h"
#include "support/live.h"
#include "support/proc.h"

static tsp_server_t srv;
static tsp_sandbox_t sbx;
static int fd;
static char webhook_url[200];
static char cacert[400];

#define TOKEN "pl-token-e2e"

static void setup(void)
{
	/* Room for 600 calls in flight to one service (the default bound is 64). */
	const char *args[] = {"--gateway-max-inflight", "600", NULL};
	tsp_server_up(&srv, args);
	tsp_sandbox_up(&sbx, &srv);
	snprintf(cacert, sizeof(cacert), "%s/data/tls.crt", srv.dir);
	const char *colon = strrchr(srv.https_addr, ':');
	snprintf(webhook_url, sizeof(webhook_url), "https://localhost:%s/webhooks/pagolivre/%llu",
		 colon + 1, (unsigned long long)srv.org_id);
	/* The sandbox knows the organization's PagoLivre token, and ospayd talks to it with it. */
	fd = tsp_login(&srv, srv.admin_token);
	tsg_pagolivre(fd, &sbx, srv.org_id, TOKEN);
}

static void teardown(void)
{
	close(fd);
	tsp_sandbox_down(&sbx);
	tsp_server_down(&srv);
}

TestSuite(webhooks, .init = setup, .fini = teardown, .timeout = 90);

/* Waits (10 s at most) until the object's installment n has outcome want. */
static bool wait_installment(const char *ref, uint32_t n, int want)
{
	for (int i = 0; i < 200; i++) {
		Ospay__V1__GatewayObjectRecord *o = tsl_object(&srv, SRV_SERVICE_PAGOLIVRE, ref);
		bool ok = false;
		for (size_t k = 0; o != NULL && k < o->n_installments; k++)
			if (o->installments[k]->number == n && o->installments[k]->outcome == want)
				ok = true;
		if (o != NULL)
			ospay__v1__gateway_object_record__free_unpacked(o, NULL);
		if (ok)
			return true;
		usleep(50000);
	}
	return false;
}

/* POST /control/pagolivre/orders/<ref>/<action> at the sandbox. */
static int control(const char *action, const char *ref, const char *body)
{
	char url[300], out[4096];
	snprintf(url, sizeof(url), "%s/control/pagolivre/orders/%s/%s", sbx.base, ref, action);
	return tsp_http("POST", url, body != NULL ? body : "{}", NULL, NULL, out, sizeof(out));
}

static unsigned long long metric(const char *needle)
{
	char url[200], out[65536];
	const char *colon = strrchr(srv.https_addr, ':');
	snprintf(url, sizeof(url), "https://localhost:%s/metrics", colon + 1);
	cr_assert_eq(tsp_http("GET", url, NULL, NULL, cacert, out, sizeof(out)), 200);
	/* Match at a line start: "# TYPE <name> counter" lines hold the name too. */
	char line[200];
	snprintf(line, sizeof(line), "\n%s", needle);
	const char *p = strstr(out, line);
	cr_assert_not_null(p, "no %s in metrics", needle);
	return strtoull(p + strlen(line), NULL, 10);
}

Test(webhooks, paid_link_is_confirmed_by_requery)
{
	tsl_pagolivre_link(&srv, &sbx, TOKEN, "os-1", 3);
	cr_assert_eq(control("pay", "os-1", NULL), 200);
	cr_assert(wait_installment("os-1", 1, GW_OUTCOME_APPROVED),
		  "installment 1 should be confirmed by the re-query");
	Ospay__V1__GatewayObjectRecord *o = tsl_object(&srv, SRV_SERVICE_PAGOLIVRE, "os-1");
	cr_assert_eq(o->outcome, GW_OUTCOME_APPROVED);
	cr_assert_str_eq(o->status_text, "paid");
	ospay__v1__gateway_object_record__free_unpacked(o, NULL);
	cr_assert_geq(metric("ospay_webhooks_total{result=\"accepted\"} "), 1);
	/* Counted by the commit's callback, just after the record becomes visible. */
	for (int i = 0; i < 100 && metric("ospay_webhook_requeries_total ") < 1; i++)
		usleep(20000);
	cr_assert_geq(metric("ospay_webhook_requeries_total "), 1);
}

Test(webhooks, duplicates_change_nothing)
{
	tsl_pagolivre_link(&srv, &sbx, TOKEN, "os-2", 3);
	cr_assert_eq(control("pay", "os-2", NULL), 200);
	cr_assert(wait_installment("os-2", 1, GW_OUTCOME_APPROVED));
	char out[512];
	char url[200];
	snprintf(url, sizeof(url), "%s/control/webhook-faults", sbx.base);
	cr_assert_eq(tsp_http("POST", url,
			      "{\"service\":\"pagolivre\",\"kind\":\"duplicate\",\"count\":1}",
			      NULL, NULL, out, sizeof(out)),
		     201);
	cr_assert_eq(control("charge", "os-2", "{\"outcome\":\"paid\"}"), 200);
	cr_assert(wait_installment("os-2", 2, GW_OUTCOME_APPROVED));
	/* Both copies were answered 200; the second was recognized and changed nothing. */
	for (int i = 0; i < 100 && metric("ospay_webhooks_total{result=\"duplicate\"} ") < 1; i++)
		usleep(50000);
	cr_assert_eq(metric("ospay_webhooks_total{result=\"duplicate\"} "), 1);
	cr_assert_eq(metric("ospay_webhooks_total{result=\"accepted\"} "), 2);
}

Test(webhooks, reordered_installments_end_in_the_right_state)
{
	tsl_pagolivre_link(&srv, &sbx, TOKEN, "os-3", 4);
	cr_assert_eq(control("pay", "os-3", NULL), 200);
	cr_assert(wait_installment("os-3", 1, GW_OUTCOME_APPROVED));
	char out[512], url[200];
	snprintf(url, sizeof(url), "%s/control/webhook-faults", sbx.base);
	cr_assert_eq(tsp_http("POST", url,
			      "{\"service\":\"pagolivre\",\"kind\":\"reorder\",\"batch\":3}", NULL,
			      NULL, out, sizeof(out)),
		     201);
	cr_assert_eq(control("charge", "os-3", "{\"outcome\":\"paid\"}"), 200);
	cr_assert_eq(control("charge", "os-3",
			     "{\"outcome\":\"declined\",\"reason\":\"insufficient funds\"}"),
		     200);
	cr_assert_eq(control("charge", "os-3", "{\"outcome\":\"paid\"}"), 200);
	/* Delivered newest first; the final states are the service's, whatever the order. */
	cr_assert(wait_installment("os-3", 2, GW_OUTCOME_APPROVED));
	cr_assert(wait_installment("os-3", 3, GW_OUTCOME_DECLINED));
	cr_assert(wait_installment("os-3", 4, GW_OUTCOME_APPROVED));
	Ospay__V1__GatewayObjectRecord *o = tsl_object(&srv, SRV_SERVICE_PAGOLIVRE, "os-3");
	cr_assert_eq(o->outcome, GW_OUTCOME_APPROVED, "the order itself stays paid");
	ospay__v1__gateway_object_record__free_unpacked(o, NULL);
}

Test(webhooks, wrong_credentials_get_401_and_nothing_is_stored)
{
	char out[1024], url[300];
	snprintf(url, sizeof(url), "%s?accessToken=wrong", webhook_url);
	int code = tsp_http("POST", url,
			    "{\"eventId\":\"e1\",\"eventName\":\"orderPaid\","
			    "\"orderKey\":\"os-1\"}",
			    NULL, cacert, out, sizeof(out));
	cr_assert_eq(code, 401, "%s", out);
	code = tsp_http("POST", webhook_url, "{\"eventId\":\"e1\",\"eventName\":\"orderPaid\"}",
			NULL, cacert, out, sizeof(out));
	cr_assert_eq(code, 401, "missing token: %s", out);
	cr_assert_eq(metric("ospay_webhooks_total{result=\"unauthorized\"} "), 2);
	cr_assert_eq(metric("ospay_webhooks_total{result=\"accepted\"} "), 0);
	/* Through the sandbox too: its bad_auth fault. */
	snprintf(url, sizeof(url), "%s/control/webhook-faults", sbx.base);
	cr_assert_eq(tsp_http("POST", url, "{\"service\":\"pagolivre\",\"kind\":\"bad_auth\"}",
			      NULL, NULL, out, sizeof(out)),
		     201);
	tsl_pagolivre_link(&srv, &sbx, TOKEN, "os-4", 1);
	cr_assert_eq(control("pay", "os-4", NULL), 200);
	for (int i = 0; i < 100 && metric("ospay_webhooks_total{result=\"unauthorized\"} ") < 3;
	     i++)
		usleep(50000);
	cr_assert_geq(metric("ospay_webhooks_total{result=\"unauthorized\"} "), 3);
	cr_assert_eq(metric("ospay_webhooks_total{result=\"accepted\"} "), 0, "nothing stored");
	Ospay__V1__GatewayObjectRecord *o = tsl_object(&srv, SRV_SERVICE_PAGOLIVRE, "os-4");
	cr_assert_not_null(o);
	cr_assert_eq(o->outcome, GW_OUTCOME_PENDING, "an unauthenticated hint changes nothing");
	ospay__v1__gateway_object_record__free_unpacked(o, NULL);
}

Test(webhooks, bad_json_unknown_reference_and_other_org_are_4xx)
{
	char out[1024], url[300];
	snprintf(url, sizeof(url), "%s?accessToken=%s", webhook_url, TOKEN);
	cr_assert_eq(tsp_http("POST", url, "{not json", NULL, cacert, out, sizeof(out)), 400, "%s",
		     out);
	cr_assert_eq(
		tsp_http("POST", url,
			 "{\"eventId\":\"e9\",\"eventName\":\"orderPaid\",\"orderKey\":\"nope\"}",
			 NULL, cacert, out, sizeof(out)),
		404, "%s", out);
	const char *colon = strrchr(srv.https_addr, ':');
	snprintf(url, sizeof(url), "https://localhost:%s/webhooks/pagolivre/999?accessToken=%s",
		 colon + 1, TOKEN);
	cr_assert_eq(
		tsp_http("POST", url,
			 "{\"eventId\":\"e9\",\"eventName\":\"orderPaid\",\"orderKey\":\"os-1\"}",
			 NULL, cacert, out, sizeof(out)),
		404, "%s", out);
	cr_assert_eq(metric("ospay_webhooks_total{result=\"accepted\"} "), 0);
}

/* Tells ospayd about references slow-0 .. slow-499 (unknown at the sandbox). */
static int register_slow_fn(store_txn_t *txn, void *arg)
{
	(void)arg;
	char ref[32];
	int rc = 0;
	for (int i = 0; i < 500 && rc == 0; i++) {
		snprintf(ref, sizeof(ref), "slow-%d", i);
		rc = prov_object_register(txn, srv.org_id, SRV_SERVICE_PAGOLIVRE, ref, 1);
	}
	return rc;
}

Test(webhooks, rpc_answered_while_500_slow_sandbox_calls_are_in_flight)
{
	/* Events about one object would share a query: one object per event. */
	store_t *st = tsl_store_attach(&srv);
	cr_assert_eq(store_write(st, register_slow_fn, NULL, NULL), 0);
	cr_assert_eq(store_flush(st), 0);
	store_close(st);
	char out[65536], url[300], cfg[400];
	snprintf(url, sizeof(url), "%s/control/faults", sbx.base);
	cr_assert_eq(tsp_http("POST", url,
			      "{\"service\":\"pagolivre\",\"route\":\"order_by_key\","
			      "\"kind\":\"latency\",\"ms\":6000}",
			      NULL, NULL, out, sizeof(out)),
		     201);
	/*
	 * 500 events about 500 links: 500 re-queries, each 6 s slow (the sandbox
	 * answers "no such order", which settles the event). A re-query pass
	 * starts when the previous one is over, so the first few events' pass
	 * holds the rest back for 6 s: long enough for all 500 to be accepted
	 * even on a loaded machine under ASan, so the next pass has them all.
	 */
	snprintf(cfg, sizeof(cfg), "%s/many.curl", srv.dir);
	FILE *f = fopen(cfg, "w");
	cr_assert_not_null(f);
	for (int i = 0; i < 500; i++)
		fprintf(f,
			/* "next" separates transfers; one after the last would be empty. */
			"%surl = \"%s?accessToken=%s\"\ndata = \"{\\\"eventId\\\":\\\"slow-%d\\\","
			"\\\"eventName\\\":\\\"orderPaid\\\",\\\"orderKey\\\":\\\"slow-%d\\\"}\"\n"
			"header = \"Content-Type: application/json\"\ncacert = \"%s\"\n"
			"output = \"/dev/null\"\nwrite-out = \"%%{http_code} \"\n",
			i > 0 ? "next\n" : "", webhook_url, TOKEN, i, i, cacert);
	fclose(f);
	const char *argv[] = {"/usr/bin/curl",
			      "-sS",
			      "--parallel",
			      "--parallel-max",
			      "50",
			      "--max-time",
			      "30",
			      "-K",
			      cfg,
			      NULL};
	cr_assert_eq(tsp_run(argv, NULL, out, sizeof(out)), 0);
	int ok = 0;
	for (const char *p = out; (p = strstr(p, "200")) != NULL; p += 3)
		ok++;
	cr_assert_eq(ok, 500, "every webhook accepted: %.200s", out);
	/* Wait (20 s at most) until most re-queries are in flight at the sandbox. */
	unsigned long long inflight = 0;
	for (int i = 0; i < 1000 && inflight < 400; i++) {
		inflight = metric("ospay_gateway_calls_in_flight ");
		if (inflight < 400)
			usleep(20000);
	}
	cr_assert_geq(inflight, 400, "re-queries in flight: %llu", inflight);
	/* An RPC now is answered while they are all still pending: the loop is free. */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	Ospay__V1__ListUnitsRequest lr = OSPAY__V1__LIST_UNITS_REQUEST__INIT;
	cr_assert_eq(tsp_call(fd, "ospay.v1.Admin/ListUnits", &lr.base, NULL, NULL, NULL, NULL), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	unsigned long long after = metric("ospay_gateway_calls_in_flight ");
	cr_log_info("RPC answered in %.3f ms with %llu sandbox calls in flight (%llu after)",
		    (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
		    inflight, after);
	cr_assert_geq(after, 300, "the RPC must not have waited for the sandbox calls");
	/* And they all complete and are recorded. */
	for (int i = 0; i < 600 && metric("ospay_webhook_requeries_total ") < 500; i++)
		usleep(50000);
	cr_assert_eq(metric("ospay_webhook_requeries_total "), 500);
}

/* Cielo: register the org at the sandbox and point ospayd's Cielo gateway at it. */
static void cielo_setup(void)
{
	char url[200], out[4096];
	snprintf(url, sizeof(url), "%s/control/orgs/%llu/cielo", sbx.base,
		 (unsigned long long)srv.org_id);
	int code = tsp_http("POST", url,
			    "{\"merchant_id\":\"11111111-2222-3333-4444-555555555555\","
			    "\"merchant_key\":\"cielo-key-e2e\","
			    "\"notification_headers\":{\"X-Hook\":\"hook-e2e\"}}",
			    NULL, NULL, out, sizeof(out));
	cr_assert(code >= 200 && code < 300, "%d %s", code, out);
	Ospay__V1__HeaderPair hp = OSPAY__V1__HEADER_PAIR__INIT;
	hp.name = "X-Hook";
	hp.value = "hook-e2e";
	Ospay__V1__HeaderPair *hpp[1] = {&hp};
	Ospay__V1__GatewayCredentials cred = OSPAY__V1__GATEWAY_CREDENTIALS__INIT;
	cred.merchant_id = "11111111-2222-3333-4444-555555555555";
	cred.merchant_key = "cielo-key-e2e";
	cred.webhook_headers = hpp;
	cred.n_webhook_headers = 1;
	char base[128];
	snprintf(base, sizeof(base), "%s/cielo", sbx.base);
	Ospay__V1__SetGatewayRequest req = OSPAY__V1__SET_GATEWAY_REQUEST__INIT;
	req.kind = OSPAY__V1__GATEWAY_KIND__GATEWAY_KIND_CIELO;
	req.base_url = base;
	req.credentials = &cred;
	status_t st;
	cr_assert_eq(tsp_call(fd, "ospay.v1.Admin/SetGateway", &req.base, NULL, NULL, NULL, &st), 0,
		     "%s", st.message);
}

typedef struct reg_kind {
	int kind;
	const char *ref;
} reg_kind_t;

static int register_kind_fn(store_txn_t *txn, void *arg)
{
	reg_kind_t *r = arg;
	return prov_object_register(txn, srv.org_id, r->kind, r->ref, 1);
}

static int object_outcome(int kind, const char *ref)
{
	store_t *st = tsl_store_attach(&srv);
	store_txn_t *txn;
	cr_assert_eq(store_read_begin(st, &txn), 0);
	Ospay__V1__GatewayObjectRecord *o = NULL;
	int out = -1;
	if (prov_object_get(txn, srv.org_id, kind, ref, &o) == 0) {
		out = o->outcome;
		ospay__v1__gateway_object_record__free_unpacked(o, NULL);
	}
	store_read_end(txn);
	store_close(st);
	return out;
}

Test(webhooks, cielo_repeated_notification_is_queried_again)
{
	cielo_setup();
	char url[200], out[4096], hdr[2][120];
	snprintf(hdr[0], sizeof(hdr[0]), "MerchantId: 11111111-2222-3333-4444-555555555555");
	snprintf(hdr[1], sizeof(hdr[1]), "MerchantKey: cielo-key-e2e");
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
	store_t *st = tsl_store_attach(&srv);
	reg_kind_t r = {.kind = SRV_SERVICE_CIELO, .ref = pid};
	cr_assert_eq(store_write(st, register_kind_fn, NULL, &r), 0);
	cr_assert_eq(store_flush(st), 0);
	store_close(st);
	/* Capture, then void: two notifications with the same content. */
	for (int step = 0; step < 2; step++) {
		snprintf(cmd, sizeof(cmd),
			 "curl -sS --max-time 10 -X PUT -H '%s' -H '%s' -H 'Content-Length: 0' "
			 "'%s/cielo/1/sales/%s/%s'",
			 hdr[0], hdr[1], sbx.base, pid, step == 0 ? "capture" : "void");
		cr_assert_eq(tsp_run(argv, NULL, out, sizeof(out)), 0, "%s", out);
		int want = step == 0 ? GW_OUTCOME_APPROVED : GW_OUTCOME_CANCELED;
		int got = -1;
		for (int i = 0; i < 200 && got != want; i++) {
			got = object_outcome(SRV_SERVICE_CIELO, pid);
			if (got != want)
				usleep(50000);
		}
		cr_assert_eq(got, want, "after %s: outcome %d (%s)", step == 0 ? "capture" : "void",
			     got, out);
	}
	cr_assert_geq(metric("ospay_webhooks_total{result=\"duplicate\"} "), 1,
		      "the second notification repeats the first's content");
}
