/*
 * Every adapter against the real ospay-sandbox over real HTTP (issue 4): the
 * binary is started on 127.0.0.1:0 for each test and stopped by its pid with
 * SIGTERM (it must exit 0). Organization 7 is registered at each service
 * through the control API, then the adapters are driven through the public
 * gw_* calls on a libuv loop with the curl-multi client, covering success and
 * each error shape the sandbox produces, faults included.
 *
 * Each call's callback is counted: it must not run inside the call, must run
 * within a bounded time, and every callback started in a test must have run
 * exactly once when the loop is closed (uv_loop_close() == 0).
 */
#include <criterion/criterion.h>

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "gateways/gateway.h"
#include "gateways/gw_internal.h"
#include "gateways/gwrec.h"
#include "net/http_client.h"
#include "support/proc.h"

/* A gateway call's own timeout, and how long a test waits for its callback (longer:
 * the callback comes by then). Hang guards: calls to the sandbox take milliseconds. */
#define E2E_CALL_TIMEOUT_MS 20000
#define E2E_CALL_WAIT_MS TSP_HANG_MS

/* ---------------------------------------------------------------- the sandbox process */

static tsp_sandbox_t S;

/* The sandbox, its log in /tmp (removed when it ends clean); webhooks are not
 * under test here: they go to a closed port. */
static void sbx_start(void)
{
	char log[128];
	snprintf(log, sizeof(log), "/tmp/ospay-gwe2e-sandbox-%d.log", (int)getpid());
	tsp_sandbox_start(&S, "http://127.0.0.1:9", NULL, log);
}

static void sbx_stop(void)
{
	tsp_sandbox_down(&S); /* asserts exit 0 and no sanitizer report */
	unlink(S.log_path);
}

/* ---------------------------------------------------------------- control API (blocking) */

/*
 * One control call (blocking, outside the loop's callbacks) that must answer
 * expect; returns the parsed JSON body (caller decrefs) or NULL when it is not
 * JSON.
 */
static json_t *ctl(const char *method, const char *path, const char *body, long expect)
{
	static char out[64 * 1024];
	char url[512];

	snprintf(url, sizeof(url), "%s%s", S.base, path);
	int status = tsp_http(method, url, body, NULL, NULL, out, sizeof(out));
	cr_assert_eq(status, expect, "%s %s -> %d %s", method, path, status, out);
	return out[0] != '\0' ? json_loads(out, 0, NULL) : NULL;
}

static void ctl_ok(const char *method, const char *path, const char *body, long expect)
{
	json_decref(ctl(method, path, body, expect));
}

/* Adds a request fault (count 1) for one route. */
static void fault(const char *service, const char *route, const char *kind, int process)
{
	char body[256];
	if (process < 0)
		snprintf(body, sizeof(body),
			 "{\"service\":\"%s\",\"route\":\"%s\",\"kind\":\"%s\",\"count\":1}",
			 service, route, kind);
	else
		snprintf(body, sizeof(body),
			 "{\"service\":\"%s\",\"route\":\"%s\",\"kind\":\"%s\",\"count\":1,"
			 "\"process\":%s}",
			 service, route, kind, process ? "true" : "false");
	ctl_ok("POST", "/control/faults", body, 201);
}

/* How many charge attempts the sandbox recorded for a merchant order id
 * (Cielo's form of it), and how many were approved. */
static void sbx_charges(const char *moid, json_int_t *count, json_int_t *approved)
{
	char path[160];
	snprintf(path, sizeof(path), "/control/charges?merchant_order_id=%s", moid);
	json_t *j = ctl("GET", path, NULL, 200);
	cr_assert_not_null(j);
	cr_assert_eq(json_unpack(j, "{s:I,s:I}", "count", count, "approved", approved), 0);
	json_decref(j);
}

/* ---------------------------------------------------------------- the loop and the gateways */

#define E2E_MAX_GW 6

static struct {
	uv_loop_t loop;
	uv_timer_t guard;
	bool guard_fired;
	http_client_t *http;
	int http_closed;
	gw_t *gw[E2E_MAX_GW];
	size_t n_gw;
	int started; /* calls accepted */
	int done;    /* callbacks run */
	bool open;
} F;

static void on_http_closed(void *arg)
{
	(void)arg;
	F.http_closed++;
}

static void setup(void)
{
	http_client_opts_t o = {.proxy = ""};

	memset(&F, 0, sizeof(F));
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	sbx_start();
	ctl_ok("POST", "/control/orgs/7/cielo",
	       "{\"merchant_id\":\"mid-7\",\"merchant_key\":\"mkey-7\"}", 200);
	ctl_ok("POST", "/control/orgs/7/getnet",
	       "{\"client_id\":\"cid-7\",\"client_secret\":\"csecret-7\",\"seller_id\":\"seller-"
	       "7\"}",
	       200);
	ctl_ok("POST", "/control/orgs/7/pagolivre", "{\"token\":\"pltoken7\"}", 200);
	ctl_ok("POST", "/control/orgs/7/zapme", "{\"api\":\"zapi-7\",\"secret\":\"zsecret-7\"}",
	       200);
	cr_assert_eq(uv_loop_init(&F.loop), 0);
	cr_assert_eq(uv_timer_init(&F.loop, &F.guard), 0);
	cr_assert_eq(http_client_init(&F.http, &F.loop, &o), 0);
	F.open = true;
}

/* Closes every gateway and the client; asserts each callback ran exactly once
 * and that nothing is left on the loop. Every test ends with it. */
static void finish(void)
{
	for (size_t i = 0; i < F.n_gw; i++)
		gw_close(F.gw[i]);
	F.n_gw = 0;
	http_client_close(F.http, on_http_closed, NULL);
	uv_close((uv_handle_t *)&F.guard, NULL);
	cr_assert_eq(uv_run(&F.loop, UV_RUN_DEFAULT), 0);
	cr_assert_eq(F.http_closed, 1);
	cr_assert_eq(F.done, F.started, "%d callbacks for %d calls", F.done, F.started);
	cr_assert_eq(uv_loop_close(&F.loop), 0, "handles left on the loop");
	F.open = false;
}

static void teardown(void)
{
	if (F.open) {
		/* The test failed before finish(): still release what it opened. */
		for (size_t i = 0; i < F.n_gw; i++)
			gw_close(F.gw[i]);
		http_client_close(F.http, NULL, NULL);
		uv_close((uv_handle_t *)&F.guard, NULL);
		uv_run(&F.loop, UV_RUN_DEFAULT);
		uv_loop_close(&F.loop);
	}
	sbx_stop();
	curl_global_cleanup();
}

TestSuite(sandbox_e2e, .init = setup, .fini = teardown, .timeout = 60);

/* A gateway for org 7 at the sandbox; cfg's base_url is set from prefix. */
static gw_t *open_gw(gw_config_t cfg, const char *prefix)
{
	char base[160];
	status_t st;
	gw_t *gw = NULL;

	cr_assert_lt(F.n_gw, E2E_MAX_GW);
	snprintf(base, sizeof(base), "%s%s", S.base, prefix);
	cfg.base_url = base;
	/* Calls that should succeed get a hang guard, not a bound load can break. */
	if (cfg.timeout_ms == 0)
		cfg.timeout_ms = E2E_CALL_TIMEOUT_MS;
	int rc = gw_open(&gw, F.http, &F.loop, &cfg, &st);
	cr_assert_eq(rc, 0, "gw_open: %d %s (%s: %s)", rc, st.message,
		     st.n_violations ? st.violations[0].field : "",
		     st.n_violations ? st.violations[0].description : "");
	F.gw[F.n_gw++] = gw;
	return gw;
}

static gw_t *cielo_gw(const char *key, uint32_t timeout_ms)
{
	gw_config_t c = {.kind = GW_KIND_CIELO, .merchant_id = "mid-7", .merchant_key = key};
	c.timeout_ms = timeout_ms;
	return open_gw(c, "/cielo");
}

static gw_t *getnet_gw(const char *secret)
{
	gw_config_t c = {.kind = GW_KIND_GETNET,
			 .client_id = "cid-7",
			 .client_secret = secret,
			 .seller_id = "seller-7"};
	return open_gw(c, "/getnet");
}

static gw_t *pagolivre_gw(const char *token)
{
	gw_config_t c = {.kind = GW_KIND_PAGOLIVRE, .api_token = token};
	return open_gw(c, "/pagolivre");
}

static gw_t *zapme_gw(const char *api, const char *secret)
{
	gw_config_t c = {.kind = GW_KIND_ZAPME, .api_key = api, .api_secret = secret};
	return open_gw(c, "/zapme");
}

static void on_guard(uv_timer_t *t)
{
	(void)t;
	F.guard_fired = true;
}

/*
 * Runs the loop until *calls reaches 1, at most E2E_CALL_WAIT_MS. A callback
 * ends the loop's pass with uv_stop (counted): UV_RUN_ONCE runs due timers
 * before it polls, so a callback run by the HTTP client's timer would
 * otherwise be followed by a poll asleep until the next timer.
 */
static void wait_one(const int *calls)
{
	F.guard_fired = false;
	cr_assert_eq(*calls, 0, "callback ran inside the call that started it");
	uv_timer_start(&F.guard, on_guard, E2E_CALL_WAIT_MS, 0);
	while (*calls == 0 && !F.guard_fired)
		uv_run(&F.loop, UV_RUN_ONCE);
	uv_timer_stop(&F.guard);
	cr_assert_eq(*calls, 1, "callback ran %d times within %d ms", *calls, E2E_CALL_WAIT_MS);
}

/* A call's callback ran: counted, and the loop's pass ends (wait_one). */
static void counted(void)
{
	F.done++;
	uv_stop(&F.loop);
}

/* ---- synchronous wrappers: one call, its callback counted */

static void on_charge(const gw_charge_result_t *r, void *arg)
{
	struct rec_charge *c = arg;
	c->calls++;
	counted();
	c->res = *r;
}

static void on_token(const gw_token_result_t *r, void *arg)
{
	struct rec_token *c = arg;
	c->calls++;
	counted();
	c->res = *r;
}

static void on_link(const gw_link_result_t *r, void *arg)
{
	struct rec_link *c = arg;
	c->calls++;
	counted();
	c->res = *r;
}

static void on_msg(const gw_message_result_t *r, void *arg)
{
	struct rec_msg *c = arg;
	c->calls++;
	counted();
	c->res = *r;
}

/* Clears the recorder *rec, starts call (which must be accepted) and waits for its one result. */
#define E2E_AWAIT(rec, call)                                                                       \
	do {                                                                                       \
		memset((rec), 0, sizeof(*(rec)));                                                  \
		int rc_ = (call);                                                                  \
		cr_assert_eq(rc_, 0, "call refused: %d", rc_);                                     \
		F.started++;                                                                       \
		wait_one(&(rec)->calls);                                                           \
	} while (0)

static gw_token_result_t tokenize(gw_t *gw, const gw_card_t *card)
{
	static struct rec_token r;
	E2E_AWAIT(&r, gw_tokenize_card(gw, card, on_token, &r));
	return r.res;
}

static gw_charge_result_t charge(gw_t *gw, const gw_charge_req_t *req)
{
	static struct rec_charge r;
	E2E_AWAIT(&r, gw_charge_card(gw, req, on_charge, &r));
	return r.res;
}

static gw_charge_result_t query_charge(gw_t *gw, const char *payment_id)
{
	static struct rec_charge r;
	E2E_AWAIT(&r, gw_query_charge(gw, payment_id, on_charge, &r));
	return r.res;
}

static gw_charge_result_t query_order(gw_t *gw, const char *moid)
{
	static struct rec_charge r;
	E2E_AWAIT(&r, gw_query_charge_by_order(gw, moid, on_charge, &r));
	return r.res;
}

static gw_charge_result_t cancel_charge(gw_t *gw, const char *payment_id)
{
	static struct rec_charge r;
	E2E_AWAIT(&r, gw_cancel_charge(gw, payment_id, 0, on_charge, &r));
	return r.res;
}

/* Link results are large: the caller's recorder holds them. */
static const gw_link_result_t *create_link(gw_t *gw, const gw_link_req_t *req, struct rec_link *r)
{
	E2E_AWAIT(r, gw_create_link(gw, req, on_link, r));
	return &r->res;
}

static const gw_link_result_t *query_link(gw_t *gw, const char *key, struct rec_link *r)
{
	E2E_AWAIT(r, gw_query_link(gw, key, on_link, r));
	return &r->res;
}

static const gw_link_result_t *cancel_link(gw_t *gw, const gw_cancel_link_req_t *req,
					   struct rec_link *r)
{
	E2E_AWAIT(r, gw_cancel_link(gw, req, on_link, r));
	return &r->res;
}

static gw_message_result_t send_msg(gw_t *gw, const gw_message_req_t *req)
{
	static struct rec_msg r;
	E2E_AWAIT(&r, gw_send_message(gw, req, on_msg, &r));
	return r.res;
}

static gw_message_result_t msg_status(gw_t *gw, const char *id)
{
	static struct rec_msg r;
	E2E_AWAIT(&r, gw_message_status(gw, id, on_msg, &r));
	return r.res;
}

/* ---------------------------------------------------------------- cards */

static bool luhn_ok(const char *n)
{
	size_t len = strlen(n);
	int sum = 0;
	for (size_t i = 0; i < len; i++) {
		int d = n[len - 1 - i] - '0';
		if (i % 2 == 1) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return sum % 10 == 0;
}

/* A 16-digit Visa number that passes Luhn and ends in final (the sandbox's
 * outcomes follow the final digit): the digit before it is chosen to fit. */
static void card_ending(int final, char out[17])
{
	for (int k = 0; k < 10; k++) {
		snprintf(out, 17, "45518700000000%d%d", k, final);
		if (luhn_ok(out))
			return;
	}
	cr_assert_fail("no Luhn number ends in %d", final);
}

/* ---------------------------------------------------------------- Cielo */

static gw_token_result_t cielo_token(gw_t *gw, int final)
{
	char num[17];
	card_ending(final, num);
	gw_card_t card = {.number = num,
			  .holder = "Ana Souza",
			  .exp_month = 12,
			  .exp_year = 2030,
			  .brand = GW_BRAND_VISA,
			  .customer_name = "Ana Souza"};
	gw_token_result_t t = tokenize(gw, &card);
	cr_assert_eq(t.r.outcome, GW_OUTCOME_APPROVED, "tokenize %s: %s %s", num,
		     gw_outcome_name(t.r.outcome), t.r.message);
	cr_assert_eq(t.r.http_status, 201);
	cr_assert_neq(t.card_token[0], '\0');
	return t;
}

static gw_charge_req_t cielo_req(const char *moid, const char *token)
{
	gw_charge_req_t r = {.merchant_order_id = moid,
			     .amount_cents = 15700,
			     .installments = 1,
			     .recurring = true,
			     .card_token = token,
			     .brand = GW_BRAND_VISA,
			     .customer_name = "Ana Souza"};
	return r;
}

static gw_charge_result_t cielo_charge_digit(gw_t *gw, int final, const char *moid)
{
	gw_token_result_t t = cielo_token(gw, final);
	gw_charge_req_t req = cielo_req(moid, t.card_token);
	return charge(gw, &req);
}

Test(sandbox_e2e, cielo_outcomes_by_final_digit)
{
	gw_t *gw = cielo_gw("mkey-7", 0);
	static const int ok_digits[] = {0, 1, 4};

	for (size_t i = 0; i < 3; i++) {
		char moid[32];
		snprintf(moid, sizeof(moid), "inv41-%d", ok_digits[i]);
		gw_charge_result_t c = cielo_charge_digit(gw, ok_digits[i], moid);
		cr_assert_eq(c.r.outcome, GW_OUTCOME_APPROVED, "digit %d: %s %s", ok_digits[i],
			     gw_outcome_name(c.r.outcome), c.r.message);
		cr_assert_eq(c.r.error, 0);
		cr_assert_eq(c.r.http_status, 201);
		/* Capture:true: PaymentConfirmed with ReturnCode 6. */
		cr_assert_eq(c.provider_status, 2);
		cr_assert_str_eq(c.status_text, "PaymentConfirmed");
		cr_assert_str_eq(c.r.code, "6");
		cr_assert_neq(c.payment_id[0], '\0');
		cr_assert_neq(c.authorization_code[0], '\0');
		cr_assert_neq(c.tid[0], '\0');
		cr_assert_neq(c.proof_of_sale[0], '\0');
		cr_assert_eq(c.amount_cents, 15700);
		cr_assert_eq(c.brand, GW_BRAND_VISA);
		cr_assert_str_eq(c.merchant_order_id, moid);
	}

	gw_charge_result_t d = cielo_charge_digit(gw, 2, "inv41-2");
	cr_assert_eq(d.r.outcome, GW_OUTCOME_DECLINED, "%s %s", gw_outcome_name(d.r.outcome),
		     d.r.message);
	cr_assert_eq(d.provider_status, 3);
	cr_assert_str_eq(d.r.code, "05");
	cr_assert_str_eq(d.abecs_code, "05");
	cr_assert_not(d.irreversible, "05 is reversible (table 1.10)");
	cr_assert_neq(d.payment_id[0], '\0');
	cr_assert_eq(d.authorization_code[0], '\0');

	gw_charge_result_t b = cielo_charge_digit(gw, 5, "inv41-5");
	cr_assert_eq(b.r.outcome, GW_OUTCOME_DECLINED);
	cr_assert_str_eq(b.r.code, "78");
	cr_assert_not_null(strstr(b.r.message, "Cartao Bloqueado"), "message: %s", b.r.message);
	/* 78 "card not unlocked" is REVERSÍVEL in table 1.10. */
	cr_assert_not(b.irreversible);

	gw_charge_result_t x = cielo_charge_digit(gw, 7, "inv41-7");
	cr_assert_eq(x.r.outcome, GW_OUTCOME_DECLINED);
	cr_assert_str_eq(x.r.code, "77");
	/* 76/77 "invalid accounts" are IRREVERSÍVEL in table 1.10. */
	cr_assert(x.irreversible, "77 must be irreversible");
	finish();
}

Test(sandbox_e2e, cielo_queries)
{
	gw_t *gw = cielo_gw("mkey-7", 0);
	gw_token_result_t ok = cielo_token(gw, 0);
	gw_token_result_t bad = cielo_token(gw, 2);

	gw_charge_req_t req = cielo_req("inv42-1", ok.card_token);
	gw_charge_result_t c = charge(gw, &req);
	cr_assert_eq(c.r.outcome, GW_OUTCOME_APPROVED, "%s", c.r.message);

	gw_charge_result_t q = query_charge(gw, c.payment_id);
	cr_assert_eq(q.r.outcome, GW_OUTCOME_APPROVED, "%s %s", gw_outcome_name(q.r.outcome),
		     q.r.message);
	cr_assert_eq(q.r.http_status, 200);
	cr_assert_str_eq(q.payment_id, c.payment_id);
	cr_assert_eq(q.provider_status, 2);
	cr_assert_eq(q.amount_cents, 15700);
	cr_assert_str_eq(q.tid, c.tid);
	cr_assert_str_eq(q.authorization_code, c.authorization_code);

	gw_charge_result_t o = query_order(gw, "inv42-1");
	cr_assert_eq(o.r.outcome, GW_OUTCOME_APPROVED, "%s %s", gw_outcome_name(o.r.outcome),
		     o.r.message);
	cr_assert_str_eq(o.payment_id, c.payment_id);
	cr_assert_str_eq(o.merchant_order_id, "inv42-1");
	cr_assert_eq(o.n_found, 1);

	/* A declined attempt then an approved one under the same merchant order id:
	 * both are found and the approved one wins. */
	gw_charge_req_t r2 = cielo_req("inv43-1", bad.card_token);
	gw_charge_result_t d = charge(gw, &r2);
	cr_assert_eq(d.r.outcome, GW_OUTCOME_DECLINED);
	r2.card_token = ok.card_token;
	gw_charge_result_t a = charge(gw, &r2);
	cr_assert_eq(a.r.outcome, GW_OUTCOME_APPROVED);
	gw_charge_result_t o2 = query_order(gw, "inv43-1");
	cr_assert_eq(o2.r.outcome, GW_OUTCOME_APPROVED);
	cr_assert_eq(o2.n_found, 2);
	cr_assert_str_eq(o2.payment_id, a.payment_id);

	gw_charge_result_t none = query_order(gw, "inv99-9");
	cr_assert_eq(none.r.outcome, GW_OUTCOME_NOT_FOUND, "%s %s", gw_outcome_name(none.r.outcome),
		     none.r.message);
	cr_assert_eq(none.n_found, 0);
	cr_assert_str_eq(none.merchant_order_id, "inv99-9");

	gw_charge_result_t nop = query_charge(gw, "7f1c2b5e-0000-4000-8000-000000000000");
	cr_assert_eq(nop.r.outcome, GW_OUTCOME_NOT_FOUND, "%s", gw_outcome_name(nop.r.outcome));
	cr_assert_eq(nop.r.http_status, 404);

	/* Void: Voided (10). */
	gw_charge_result_t v = cancel_charge(gw, c.payment_id);
	cr_assert_eq(v.r.outcome, GW_OUTCOME_CANCELED, "%s %s", gw_outcome_name(v.r.outcome),
		     v.r.message);
	cr_assert_eq(v.provider_status, 10);
	gw_charge_result_t qv = query_charge(gw, c.payment_id);
	cr_assert_eq(qv.r.outcome, GW_OUTCOME_CANCELED);
	finish();
}

Test(sandbox_e2e, cielo_wrong_merchant_key)
{
	gw_t *good = cielo_gw("mkey-7", 0);
	gw_t *bad = cielo_gw("not-the-key", 0);
	gw_token_result_t t = cielo_token(good, 0);

	gw_charge_req_t req = cielo_req("inv44-1", t.card_token);
	gw_charge_result_t c = charge(bad, &req);
	cr_assert_eq(c.r.outcome, GW_OUTCOME_AUTH_FAILED, "%s %s", gw_outcome_name(c.r.outcome),
		     c.r.message);
	cr_assert_eq(c.r.http_status, 401);
	cr_assert_eq(c.payment_id[0], '\0');
	/* The secret never shows in the message. */
	cr_assert_null(strstr(c.r.message, "not-the-key"));
	gw_charge_result_t q = query_order(bad, "inv44-1");
	cr_assert_eq(q.r.outcome, GW_OUTCOME_AUTH_FAILED);

	/* Nothing was charged. */
	json_int_t count = -1, approved = -1;
	sbx_charges("inv44x1", &count, &approved);
	cr_assert_eq(count, 0);
	finish();
}

Test(sandbox_e2e, cielo_http500_is_unknown_and_not_charged)
{
	gw_t *gw = cielo_gw("mkey-7", 0);
	gw_token_result_t t = cielo_token(gw, 0);

	fault("cielo", "sale_create", "http500", -1);
	gw_charge_req_t req = cielo_req("inv45-1", t.card_token);
	gw_charge_result_t c = charge(gw, &req);
	cr_assert_eq(c.r.outcome, GW_OUTCOME_UNKNOWN, "%s %s", gw_outcome_name(c.r.outcome),
		     c.r.message);
	cr_assert_eq(c.r.http_status, 500);
	cr_assert_eq(c.r.error, -EPROTO);
	cr_assert_str_eq(c.merchant_order_id, "inv45-1");
	/* The fault ran without processing: the query finds nothing. */
	gw_charge_result_t q = query_order(gw, "inv45-1");
	cr_assert_eq(q.r.outcome, GW_OUTCOME_NOT_FOUND, "%s", gw_outcome_name(q.r.outcome));
	finish();
}

Test(sandbox_e2e, cielo_timeout_is_unknown_then_resolved_by_order)
{
	gw_t *gw = cielo_gw("mkey-7", 500);
	gw_token_result_t t = cielo_token(gw, 1);

	fault("cielo", "sale_create", "timeout", 1);
	gw_charge_req_t req = cielo_req("inv46-1", t.card_token);
	uint64_t t0 = tsp_now_ms();
	gw_charge_result_t c = charge(gw, &req);
	uint64_t took = tsp_now_ms() - t0;
	cr_assert_eq(c.r.outcome, GW_OUTCOME_UNKNOWN, "%s %s", gw_outcome_name(c.r.outcome),
		     c.r.message);
	cr_assert_eq(c.r.error, -ETIMEDOUT, "error %d", c.r.error);
	cr_assert_eq(c.r.http_status, 0);
	/* Not before its 500 ms timeout; no upper bound, which load could stretch
	 * (the error already says the timeout ended it). */
	cr_assert_geq(took, 400, "took %llu ms", (unsigned long long)took);
	/* The sale was processed before the answer was lost: the query finds it. */
	gw_charge_result_t q = query_order(gw, "inv46-1");
	cr_assert_eq(q.r.outcome, GW_OUTCOME_APPROVED, "%s %s", gw_outcome_name(q.r.outcome),
		     q.r.message);
	cr_assert_eq(q.n_found, 1);
	cr_assert_eq(q.amount_cents, 15700);
	json_int_t count = -1, approved = -1;
	sbx_charges("inv46x1", &count, &approved);
	cr_assert_eq(count, 1);
	cr_assert_eq(approved, 1);
	finish();
}

Test(sandbox_e2e, cielo_reset_is_unknown)
{
	gw_t *gw = cielo_gw("mkey-7", 0);
	gw_token_result_t t = cielo_token(gw, 4);

	fault("cielo", "sale_create", "reset", 0);
	gw_charge_req_t req = cielo_req("inv47-1", t.card_token);
	gw_charge_result_t c = charge(gw, &req);
	cr_assert_eq(c.r.outcome, GW_OUTCOME_UNKNOWN, "%s %s (%d)", gw_outcome_name(c.r.outcome),
		     c.r.message, c.r.error);
	cr_assert_lt(c.r.error, 0);
	cr_assert_eq(c.r.http_status, 0);
	gw_charge_result_t q = query_order(gw, "inv47-1");
	cr_assert_eq(q.r.outcome, GW_OUTCOME_NOT_FOUND, "%s", gw_outcome_name(q.r.outcome));
	json_int_t count = -1, approved = -1;
	sbx_charges("inv47x1", &count, &approved);
	cr_assert_eq(count, 0, "a reset request was charged %d times", (int)count);

	/* Reset after the sale ran: still UNKNOWN, the query finds the one charge,
	 * and the client never re-sent the POST on a fresh connection. */
	fault("cielo", "sale_create", "reset", 1);
	req.merchant_order_id = "inv47-2";
	c = charge(gw, &req);
	cr_assert_eq(c.r.outcome, GW_OUTCOME_UNKNOWN, "%s %s (%d)", gw_outcome_name(c.r.outcome),
		     c.r.message, c.r.error);
	cr_assert_lt(c.r.error, 0);
	q = query_order(gw, "inv47-2");
	cr_assert_eq(q.r.outcome, GW_OUTCOME_APPROVED, "%s", gw_outcome_name(q.r.outcome));
	cr_assert_eq(q.n_found, 1);
	sbx_charges("inv47x2", &count, &approved);
	cr_assert_eq(count, 1);
	cr_assert_eq(approved, 1);
	finish();
}

Test(sandbox_e2e, cielo_malformed_is_unknown_then_resolved_by_order)
{
	gw_t *gw = cielo_gw("mkey-7", 0);
	gw_token_result_t t = cielo_token(gw, 0);

	/* malformed runs the request first (the default): a real charge, answer lost. */
	fault("cielo", "sale_create", "malformed", -1);
	gw_charge_req_t req = cielo_req("inv48-1", t.card_token);
	gw_charge_result_t c = charge(gw, &req);
	cr_assert_eq(c.r.outcome, GW_OUTCOME_UNKNOWN, "%s %s", gw_outcome_name(c.r.outcome),
		     c.r.message);
	cr_assert_eq(c.r.error, -EBADMSG);
	cr_assert_eq(c.r.http_status, 201);
	cr_assert_str_eq(c.merchant_order_id, "inv48-1");
	gw_charge_result_t q = query_order(gw, "inv48-1");
	cr_assert_eq(q.r.outcome, GW_OUTCOME_APPROVED, "%s %s", gw_outcome_name(q.r.outcome),
		     q.r.message);
	cr_assert_eq(q.n_found, 1);
	cr_assert_neq(q.payment_id[0], '\0');
	cr_assert_eq(q.amount_cents, 15700);
	finish();
}

/* ---------------------------------------------------------------- GetNet */

static gw_token_result_t getnet_token(gw_t *gw, int final)
{
	char num[17];
	card_ending(final, num);
	gw_card_t card = {.number = num,
			  .holder = "ANA SOUZA",
			  .exp_month = 12,
			  .exp_year = 2030,
			  .brand = GW_BRAND_VISA,
			  .customer_id = "cust-7"};
	gw_token_result_t t = tokenize(gw, &card);
	cr_assert_eq(t.r.outcome, GW_OUTCOME_APPROVED, "tokenize %s: %s %s (%ld)", num,
		     gw_outcome_name(t.r.outcome), t.r.message, t.r.http_status);
	cr_assert_neq(t.card_token[0], '\0');
	return t;
}

static gw_charge_req_t getnet_req(const char *moid, const char *token)
{
	gw_charge_req_t r = {.merchant_order_id = moid,
			     .amount_cents = 15700,
			     .installments = 1,
			     .recurring = true,
			     .first_use = true,
			     .card_token = token,
			     .brand = GW_BRAND_VISA,
			     .customer_id = "cust-7",
			     .customer_name = "Ana Souza"};
	return r;
}

Test(sandbox_e2e, getnet_charge_cancel_query)
{
	gw_t *gw = getnet_gw("csecret-7");
	gw_token_result_t t = getnet_token(gw, 0);
	/* The vault's card id: fetched again by the charge. */
	char path[300];
	snprintf(path, sizeof(path), "/getnet/v1/cards/%s", t.card_token);

	gw_charge_req_t req = getnet_req("41-1", t.card_token);
	gw_charge_result_t c = charge(gw, &req);
	cr_assert_eq(c.r.outcome, GW_OUTCOME_APPROVED, "%s %s (%ld)", gw_outcome_name(c.r.outcome),
		     c.r.message, c.r.http_status);
	cr_assert_eq(c.r.http_status, 200);
	cr_assert_str_eq(c.status_text, "APPROVED");
	cr_assert_str_eq(c.r.code, "00");
	cr_assert_neq(c.payment_id[0], '\0');
	cr_assert_neq(c.authorization_code[0], '\0');
	cr_assert_neq(c.network_txn_id[0], '\0');
	cr_assert_eq(c.amount_cents, 15700);
	cr_assert_str_eq(c.merchant_order_id, "41-1");

	/* The next charge of the series, with the first one's transaction id. */
	gw_charge_req_t next = getnet_req("41-2", t.card_token);
	next.first_use = false;
	next.network_txn_id = c.network_txn_id;
	gw_charge_result_t c2 = charge(gw, &next);
	cr_assert_eq(c2.r.outcome, GW_OUTCOME_APPROVED, "%s", c2.r.message);
	cr_assert_str_neq(c2.payment_id, c.payment_id);

	gw_charge_result_t q = query_charge(gw, c.payment_id);
	cr_assert_eq(q.r.outcome, GW_OUTCOME_APPROVED, "%s %s", gw_outcome_name(q.r.outcome),
		     q.r.message);
	cr_assert_str_eq(q.payment_id, c.payment_id);
	cr_assert_str_eq(q.status_text, "APPROVED");

	gw_charge_result_t x = cancel_charge(gw, c.payment_id);
	cr_assert_eq(x.r.outcome, GW_OUTCOME_CANCELED, "%s %s", gw_outcome_name(x.r.outcome),
		     x.r.message);
	cr_assert_str_eq(x.status_text, "CANCELED");

	gw_charge_result_t q2 = query_charge(gw, c.payment_id);
	cr_assert_eq(q2.r.outcome, GW_OUTCOME_CANCELED, "%s", gw_outcome_name(q2.r.outcome));
	cr_assert_str_eq(q2.status_text, "CANCELED");

	gw_charge_result_t nf = query_charge(gw, "0b6a3d43-0000-4000-8000-000000000000");
	cr_assert_eq(nf.r.outcome, GW_OUTCOME_NOT_FOUND, "%s", gw_outcome_name(nf.r.outcome));

	/* GetNet documents no query by order id. */
	struct rec_charge none = {0};
	cr_assert_eq(gw_query_charge_by_order(gw, "41-1", on_charge, &none), -ENOTSUP);
	cr_assert_eq(none.calls, 0);
	cr_assert_eq(gw_getnet_token_fetches(gw), 1);
	finish();
}

Test(sandbox_e2e, getnet_declines)
{
	gw_t *gw = getnet_gw("csecret-7");
	gw_token_result_t t2 = getnet_token(gw, 2);
	gw_token_result_t t7 = getnet_token(gw, 7);

	gw_charge_req_t req = getnet_req("42-1", t2.card_token);
	gw_charge_result_t d = charge(gw, &req);
	cr_assert_eq(d.r.outcome, GW_OUTCOME_DECLINED, "%s %s (%ld)", gw_outcome_name(d.r.outcome),
		     d.r.message, d.r.http_status);
	cr_assert_eq(d.r.http_status, 402);
	cr_assert_str_eq(d.r.code, "PAYMENTS-011");
	cr_assert_str_eq(d.abecs_code, "05");
	cr_assert_str_eq(d.status_text, "NOT APPROVED");
	cr_assert_not_null(strstr(d.r.message, "[ECOM - 05]"), "%s", d.r.message);
	cr_assert_neq(d.payment_id[0], '\0');
	cr_assert_not(d.irreversible);
	cr_assert_str_eq(d.merchant_order_id, "42-1");

	/* The payment exists at GetNet as DENIED. */
	gw_charge_result_t q = query_charge(gw, d.payment_id);
	cr_assert_eq(q.r.outcome, GW_OUTCOME_DECLINED, "%s %s", gw_outcome_name(q.r.outcome),
		     q.r.message);
	cr_assert_str_eq(q.status_text, "DENIED");

	req = getnet_req("42-2", t7.card_token);
	gw_charge_result_t r1 = charge(gw, &req);
	cr_assert_eq(r1.r.outcome, GW_OUTCOME_DECLINED);
	cr_assert_str_eq(r1.abecs_code, "R1");
	/* R1 "recurring payment suspended" is IRREVERSÍVEL (table 1.10). */
	cr_assert(r1.irreversible);
	finish();
}

Test(sandbox_e2e, getnet_wrong_secret)
{
	gw_t *gw = getnet_gw("not-the-secret");
	char num[17];
	card_ending(0, num);
	gw_card_t card = {.number = num,
			  .holder = "ANA SOUZA",
			  .exp_month = 12,
			  .exp_year = 2030,
			  .brand = GW_BRAND_VISA,
			  .customer_id = "cust-7"};
	gw_token_result_t t = tokenize(gw, &card);
	cr_assert_eq(t.r.outcome, GW_OUTCOME_AUTH_FAILED, "%s %s", gw_outcome_name(t.r.outcome),
		     t.r.message);
	cr_assert_eq(t.r.http_status, 401);
	cr_assert_eq(t.card_token[0], '\0');
	cr_assert_null(strstr(t.r.message, "not-the-secret"));
	finish();
}

/* The adapter's own deadline passes first (expires_in 1 s, renewed 100 ms
 * early): the next call fetches a new token before it is sent. */
Test(sandbox_e2e, getnet_token_refreshed_before_expiry)
{
	ctl_ok("POST", "/control/settings", "{\"getnet_token_ttl_ms\":1000}", 200);
	gw_t *gw = getnet_gw("csecret-7");
	gw_token_result_t t = getnet_token(gw, 0);
	cr_assert_eq(gw_getnet_token_fetches(gw), 1);
	usleep(1200 * 1000);
	gw_charge_req_t req = getnet_req("43-1", t.card_token);
	gw_charge_result_t c = charge(gw, &req);
	cr_assert_eq(c.r.outcome, GW_OUTCOME_APPROVED, "%s %s", gw_outcome_name(c.r.outcome),
		     c.r.message);
	cr_assert_eq(gw_getnet_token_fetches(gw), 2);
	finish();
}

/* The service expires the token first (1.5 s at the sandbox, expires_in 2 s
 * for the adapter): the call gets a 401, the adapter fetches a new token and
 * sends it once more. */
Test(sandbox_e2e, getnet_token_expired_at_service)
{
	ctl_ok("POST", "/control/settings", "{\"getnet_token_ttl_ms\":1500}", 200);
	gw_t *gw = getnet_gw("csecret-7");
	gw_token_result_t t = getnet_token(gw, 0);
	cr_assert_eq(gw_getnet_token_fetches(gw), 1);
	usleep(1600 * 1000);
	gw_charge_req_t req = getnet_req("44-1", t.card_token);
	gw_charge_result_t c = charge(gw, &req);
	cr_assert_eq(c.r.outcome, GW_OUTCOME_APPROVED, "%s %s", gw_outcome_name(c.r.outcome),
		     c.r.message);
	cr_assert_eq(gw_getnet_token_fetches(gw), 2);
	json_int_t count = -1, approved = -1;
	sbx_charges("44-1", &count, &approved);
	cr_assert_eq(count, 1);
	cr_assert_eq(approved, 1);
	finish();
}

/* ---------------------------------------------------------------- PagoLivre */

Test(sandbox_e2e, pagolivre_link_lifecycle)
{
	gw_t *gw = pagolivre_gw("pltoken7");
	static struct rec_link r;
	gw_link_req_t req = {.order_key = "os-41",
			     .amount_cents = 30000,
			     .installments = 3,
			     .customer_name = "Ana Souza",
			     .customer_document = "12345678909",
			     .customer_phone = "+5511985850505",
			     .message = "Pague sua OS"};

	const gw_link_result_t *l = create_link(gw, &req, &r);
	cr_assert_eq(l->r.outcome, GW_OUTCOME_PENDING, "%s %s (%ld)", gw_outcome_name(l->r.outcome),
		     l->r.message, l->r.http_status);
	cr_assert_eq(l->r.http_status, 201);
	cr_assert_neq(l->link_id[0], '\0');
	cr_assert_str_eq(l->order_key, "os-41");
	cr_assert_str_eq(l->status, "created");
	cr_assert(strncmp(l->payment_url, "http", 4) == 0, "paymentUrl '%s'", l->payment_url);
	cr_assert_neq(l->expires_at[0], '\0');
	cr_assert_eq(l->installments, 3);
	char link_id[GW_ID_MAX];
	snprintf(link_id, sizeof(link_id), "%s", l->link_id);

	l = query_link(gw, "os-41", &r);
	cr_assert_eq(l->r.outcome, GW_OUTCOME_PENDING, "%s %s", gw_outcome_name(l->r.outcome),
		     l->r.message);
	cr_assert_str_eq(l->link_id, link_id);
	cr_assert_eq(l->installments, 3);

	/* The customer pays the link. */
	ctl_ok("POST", "/control/pagolivre/orders/os-41/pay", "{}", 200);
	l = query_link(gw, "os-41", &r);
	cr_assert_eq(l->r.outcome, GW_OUTCOME_APPROVED, "%s %s", gw_outcome_name(l->r.outcome),
		     l->r.message);
	cr_assert_str_eq(l->status, "paid");
	cr_assert_eq(l->n_charges, 3);
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(l->charges[i].number, i + 1);
		cr_assert_eq(l->charges[i].amount_cents, 10000);
		cr_assert_eq(l->charges[i].outcome,
			     i == 0 ? GW_OUTCOME_APPROVED : GW_OUTCOME_PENDING,
			     "installment %zu: %s", i + 1, l->charges[i].status);
	}

	/* The second installment is charged, and declined. */
	ctl_ok("POST", "/control/pagolivre/orders/os-41/charge",
	       "{\"outcome\":\"declined\",\"reason\":\"Saldo insuficiente\"}", 200);
	l = query_link(gw, "os-41", &r);
	cr_assert_eq(l->r.outcome, GW_OUTCOME_APPROVED);
	cr_assert_eq(l->charges[1].outcome, GW_OUTCOME_DECLINED, "%s", l->charges[1].status);
	cr_assert_str_eq(l->charges[1].reason, "Saldo insuficiente");

	gw_cancel_link_req_t cr = {.link_id = link_id, .reason = "cliente desistiu"};
	l = cancel_link(gw, &cr, &r);
	cr_assert_eq(l->r.outcome, GW_OUTCOME_CANCELED, "%s %s (%ld)",
		     gw_outcome_name(l->r.outcome), l->r.message, l->r.http_status);
	cr_assert_str_eq(l->link_id, link_id);

	l = query_link(gw, "os-41", &r);
	cr_assert_eq(l->r.outcome, GW_OUTCOME_CANCELED, "%s", gw_outcome_name(l->r.outcome));
	cr_assert_str_eq(l->status, "canceled");
	cr_assert_eq(l->charges[2].outcome, GW_OUTCOME_CANCELED, "%s", l->charges[2].status);
	finish();
}

Test(sandbox_e2e, pagolivre_unknown_key_and_bad_token)
{
	gw_t *gw = pagolivre_gw("pltoken7");
	gw_t *bad = pagolivre_gw("not-the-token");
	static struct rec_link r;

	const gw_link_result_t *l = query_link(gw, "os-never", &r);
	cr_assert_eq(l->r.outcome, GW_OUTCOME_NOT_FOUND, "%s %s", gw_outcome_name(l->r.outcome),
		     l->r.message);
	cr_assert_eq(l->r.http_status, 204);
	cr_assert_str_eq(l->order_key, "os-never");

	gw_link_req_t req = {.order_key = "os-42",
			     .amount_cents = 5000,
			     .installments = 1,
			     .customer_phone = "5511985850505"};
	l = create_link(bad, &req, &r);
	cr_assert_eq(l->r.outcome, GW_OUTCOME_AUTH_FAILED, "%s %s", gw_outcome_name(l->r.outcome),
		     l->r.message);
	cr_assert_eq(l->r.http_status, 401);
	l = query_link(gw, "os-42", &r);
	cr_assert_eq(l->r.outcome, GW_OUTCOME_NOT_FOUND, "nothing was created");
	finish();
}

/* ---------------------------------------------------------------- ZapMe */

Test(sandbox_e2e, zapme_send_and_status)
{
	gw_t *gw = zapme_gw("zapi-7", "zsecret-7");
	gw_message_req_t req = {.phone = "+5511985850505",
				.text = "Olá! Sua OS 41 foi agendada.\nAté logo.",
				.channel = GW_CHANNEL_WHATSAPP};

	gw_message_result_t m = send_msg(gw, &req);
	cr_assert_eq(m.r.outcome, GW_OUTCOME_APPROVED, "%s %s (%ld)", gw_outcome_name(m.r.outcome),
		     m.r.message, m.r.http_status);
	cr_assert_eq(m.r.http_status, 200);
	cr_assert_str_eq(m.status, "message_sent");
	cr_assert_neq(m.message_id[0], '\0', "no message id");

	gw_message_result_t s = msg_status(gw, m.message_id);
	cr_assert_eq(s.r.outcome, GW_OUTCOME_APPROVED, "%s %s (%s)", gw_outcome_name(s.r.outcome),
		     s.r.message, s.status);
	cr_assert_str_eq(s.message_id, m.message_id);
	cr_assert_neq(s.status[0], '\0');

	gw_message_result_t nf = msg_status(gw, "987654321");
	cr_assert_eq(nf.r.outcome, GW_OUTCOME_NOT_FOUND, "%s %s", gw_outcome_name(nf.r.outcome),
		     nf.r.message);

	/* The sandbox recorded exactly one WhatsApp message, with the text. */
	json_t *j = ctl("GET", "/control/messages?service=zapme", NULL, 200);
	json_t *msgs = json_object_get(j, "messages");
	cr_assert_eq(json_array_size(msgs), 1, "%s", json_dumps(j, 0));
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(msgs, 0), "text")),
			 req.text);
	json_decref(j);

	struct rec_msg none = {0};
	gw_message_req_t sms = req;
	sms.channel = GW_CHANNEL_SMS;
	cr_assert_eq(gw_send_message(gw, &sms, on_msg, &none), -ENOTSUP);
	finish();
}

Test(sandbox_e2e, zapme_wrong_credentials)
{
	gw_t *gw = zapme_gw("zapi-7", "not-the-secret");
	gw_message_req_t req = {
		.phone = "5511985850505", .text = "Olá", .channel = GW_CHANNEL_WHATSAPP};

	gw_message_result_t m = send_msg(gw, &req);
	cr_assert_eq(m.r.outcome, GW_OUTCOME_AUTH_FAILED, "%s %s", gw_outcome_name(m.r.outcome),
		     m.r.message);
	cr_assert_eq(m.r.http_status, 401);
	cr_assert_null(strstr(m.r.message, "not-the-secret"));
	gw_message_result_t s = msg_status(gw, "1");
	cr_assert_eq(s.r.outcome, GW_OUTCOME_AUTH_FAILED, "%s", gw_outcome_name(s.r.outcome));
	json_t *j = ctl("GET", "/control/messages?service=zapme", NULL, 200);
	cr_assert_eq(json_array_size(json_object_get(j, "messages")), 0);
	json_decref(j);
	finish();
}
