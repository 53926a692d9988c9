/*
 * PagoLivre adapter: the order body (amount in reais, installments, guests,
 * deterministic requestId), every order answer (created, paid with monthly
 * charges, declined, expired, 204 for an unknown key, {code, message}
 * errors), cancel, and the webhook (accessToken query parameter, eventName +
 * orderKey).
 */
#include "gateways/gwtest.h"

#include <errno.h>
#include <stdlib.h>

#define PL_TOKEN "cGFnb2xpdnJlOnNlY3JldC10b2tlbi0xMjM0"
#define ORDER_ID "9f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b"

#define ORDER_CREATED                                                                              \
	"{\"id\":\"" ORDER_ID "\",\"orderKey\":\"os-42\",\"status\":\"created\",\"paymentUrl\":"   \
	"\"https://pay.pagolivre.com.br/p/abc123\",\"expirationDate\":"                            \
	"\"2026-12-01T23:59:59-03:00\",\"installments\":3}"

static gw_config_t pl_cfg(void)
{
	gw_config_t c = {0};
	c.kind = GW_KIND_PAGOLIVRE;
	c.api_token = PL_TOKEN;
	c.callback_url = "https://ospay.example/webhooks/pagolivre/7";
	c.timeout_ms = TSP_HANG_MS; /* a hang guard: tests of timeouts set their own */
	return c;
}

static gw_link_req_t link_req(void)
{
	gw_link_req_t r = {0};
	r.order_key = "os-42";
	r.amount_cents = 47100;
	r.installments = 3;
	r.customer_name = "Maria Souza";
	r.customer_document = "52998224725";
	r.customer_phone = "+5511985850505";
	r.customer_email = "maria@example.com";
	return r;
}

/* ================================================================== the order body */

/* The order body of r for cents prints its amount as want (a piece of the JSON). */
static void expect_amount(gw_link_req_t r, int64_t cents, const char *want)
{
	json_t *j = NULL;
	r.amount_cents = cents;
	cr_assert_eq(gw_pagolivre_build_order(gwp.gw, &r, &j), 0);
	char *dump = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15));
	cr_assert(strstr(dump, want) != NULL, "%s", dump);
	free(dump);
	json_decref(j);
}

/* The order body refuses r (what says how it is wrong) and builds nothing. */
static void expect_refused(gw_link_req_t r, const char *what)
{
	json_t *j = NULL;
	cr_assert_eq(gw_pagolivre_build_order(gwp.gw, &r, &j), -EINVAL, "%s", what);
	cr_assert_null(j, "%s", what);
}

/* Each test of the suites declared with it gets its own gateway in gwp (it never sends). */
static void pagolivre_open(void)
{
	gwp_open(pl_cfg());
}

TestSuite(pagolivre_build, .init = pagolivre_open, .fini = gwp_close);

Test(pagolivre_build, order_body)
{
	gw_link_req_t r = link_req();
	json_t *j = NULL;
	json_t *j2 = NULL;
	json_t *g;

	cr_assert_eq(gw_pagolivre_build_order(gwp.gw, &r, &j), 0);
	cr_assert_str_eq(json_string_value(json_object_get(j, "orderKey")), "os-42");
	cr_assert(json_is_real(json_object_get(j, "amount")), "reais, a decimal number");
	cr_assert_eq(json_integer_value(json_object_get(j, "installments")), 3);
	cr_assert_str_eq(json_string_value(json_object_get(j, "receivingOptionType")),
			 "creditCard");
	cr_assert_str_eq(json_string_value(json_object_get(j, "callbackUrl")),
			 "https://ospay.example/webhooks/pagolivre/7");
	g = json_array_get(json_object_get(j, "orderGuests"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(g, "cpf")), "52998224725");
	cr_assert_str_eq(json_string_value(json_object_get(g, "mobileNumber")), "5511985850505");
	cr_assert_str_eq(json_string_value(json_object_get(g, "name")), "Maria Souza");
	/* The same order key gives the same requestId: a re-sent create is recognizable. */
	cr_assert_eq(gw_pagolivre_build_order(gwp.gw, &r, &j2), 0);
	cr_assert_str_eq(json_string_value(json_object_get(j, "requestId")),
			 json_string_value(json_object_get(j2, "requestId")));
	cr_assert_eq(strlen(json_string_value(json_object_get(j, "requestId"))), 36);
	json_decref(j2);
	json_decref(j);
	/* Amounts print exactly, with no binary noise. */
	expect_amount(r, 47100, "\"amount\":471.0");
	expect_amount(r, 110, "\"amount\":1.1,");
	expect_amount(r, 99999999999, "\"amount\":999999999.99,");
	r.order_key = "os-43";
	cr_assert_eq(gw_pagolivre_build_order(gwp.gw, &r, &j2), 0);
	json_decref(j2);
}

Test(pagolivre_build, invalid)
{
	gw_link_req_t r = link_req();
	r.installments = 0;
	expect_refused(r, "no installments");
	r = link_req();
	r.installments = GW_MAX_INSTALLMENTS + 1;
	expect_refused(r, "too many installments");
	r = link_req();
	r.customer_phone = "11 98585-0505";
	expect_refused(r, "a phone not in +E.164 form");
	r = link_req();
	r.customer_phone = NULL;
	expect_refused(r, "no phone");
	r = link_req();
	r.customer_document = "123";
	expect_refused(r, "a 3-digit document");
	r = link_req();
	r.order_key = "os/42";
	expect_refused(r, "a slash in the order key");
	r = link_req();
	r.callback_url = "javascript:alert(1)";
	expect_refused(r, "a javascript: callback URL");
	r = link_req();
	r.amount_cents = 0;
	expect_refused(r, "nothing to charge");
}

/* ================================================================== answers */

static gw_link_result_t parse(long status, const char *body, bool mutating)
{
	http_response_t res = gwfx_resp(status, body);
	gw_link_result_t r = {0};
	gw_pagolivre_parse_order(gwp.gw, &res, mutating, &r);
	return r;
}

TestSuite(pagolivre_parse, .init = pagolivre_open, .fini = gwp_close);

Test(pagolivre_parse, order_states)
{
	gw_link_result_t r = parse(201, ORDER_CREATED, true);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_PENDING, "%s", r.r.message);
	cr_assert_str_eq(r.link_id, ORDER_ID);
	cr_assert_str_eq(r.order_key, "os-42");
	cr_assert_str_eq(r.payment_url, "https://pay.pagolivre.com.br/p/abc123");
	cr_assert_str_eq(r.expires_at, "2026-12-01T23:59:59-03:00");
	cr_assert_eq(r.installments, 3);

	r = parse(200,
		  "{\"id\":\"" ORDER_ID "\",\"orderKey\":\"os-42\",\"status\":\"paid\","
		  "\"paymentUrl\":\"https://pay.pagolivre.com.br/p/abc123\",\"installments\":3,"
		  "\"charges\":[{\"installment\":1,\"status\":\"confirmed\",\"amount\":157.0},"
		  "{\"installment\":2,\"status\":\"denied\",\"amount\":\"157.00\","
		  "\"decliningReason\":\"Saldo insuficiente\"},"
		  "{\"installment\":3,\"status\":\"waiting\",\"amount\":157}]}",
		  false);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_APPROVED, "%s", r.r.message);
	cr_assert_eq(r.n_charges, 3);
	cr_assert_eq(r.charges[0].number, 1);
	cr_assert_eq(r.charges[0].outcome, GW_OUTCOME_APPROVED);
	cr_assert_eq(r.charges[0].amount_cents, 15700);
	cr_assert_eq(r.charges[1].outcome, GW_OUTCOME_DECLINED);
	cr_assert_str_eq(r.charges[1].reason, "Saldo insuficiente");
	cr_assert_eq(r.charges[1].amount_cents, 15700);
	cr_assert_eq(r.charges[2].outcome, GW_OUTCOME_PENDING);

	/* Orders that ended, with the reason each gives (NULL: none). */
	static const struct {
		long status;
		const char *body;
		gw_outcome_t outcome;
		const char *reason;
	} ended[] = {
		{200,
		 "{\"id\":\"" ORDER_ID "\",\"status\":\"declined\",\"decliningReason\":"
		 "\"Cart\\u00e3o recusado\"}",
		 GW_OUTCOME_DECLINED, "Cart\xc3\xa3o recusado"},
		{200, "{\"id\":\"" ORDER_ID "\",\"status\":\"expired\"}", GW_OUTCOME_EXPIRED, NULL},
		{200,
		 "{\"id\":\"" ORDER_ID "\",\"status\":\"canceled\",\"cancelingReason\":\"by "
		 "merchant\"}",
		 GW_OUTCOME_CANCELED, "by merchant"},
		/* byOrderKey: 204 without a body for an unknown key. */
		{204, "", GW_OUTCOME_NOT_FOUND, NULL},
	};
	for (size_t i = 0; i < sizeof(ended) / sizeof(ended[0]); i++) {
		r = parse(ended[i].status, ended[i].body, false);
		cr_assert_eq(r.r.outcome, ended[i].outcome, "[%zu] %s", i,
			     gw_outcome_name(r.r.outcome));
		if (ended[i].reason != NULL)
			cr_assert_str_eq(r.reason, ended[i].reason, "[%zu]", i);
		/* A decline's reason is its message too. */
		if (ended[i].outcome == GW_OUTCOME_DECLINED)
			cr_assert_str_eq(r.r.message, ended[i].reason, "[%zu]", i);
	}
}

Test(pagolivre_parse, errors_and_malformed)
{
	static const char *const bad[] = {
		"",
		"{",
		"{\"status\":\"paid\"}",
		"{\"id\":\"" ORDER_ID "\"}",
		"{\"id\":\"" ORDER_ID "\",\"status\":5}",
		"{\"id\":\"" ORDER_ID "\",\"status\":\"created\"}",
		"{\"id\":\"" ORDER_ID "\",\"status\":\"created\",\"paymentUrl\":\"ftp://x\"}",
		"{\"id\":\"" ORDER_ID "\",\"status\":\"paid\",\"charges\":{}}",
		"{\"id\":\"" ORDER_ID "\",\"status\":\"paid\",\"charges\":[{\"installment\":0,"
		"\"status\":\"confirmed\"}]}",
		"{\"id\":\"" ORDER_ID "\",\"status\":\"paid\",\"charges\":[{\"installment\":1,"
		"\"status\":\"maybe\"}]}",
		"{\"id\":\"" ORDER_ID "\",\"status\":\"paid\",\"charges\":[{\"installment\":1,"
		"\"status\":\"confirmed\",\"amount\":1.005}]}",
		"{\"id\":\"" ORDER_ID "\",\"status\":\"paid\",\"charges\":[{\"installment\":1,"
		"\"status\":\"confirmed\",\"amount\":-3}]}",
		"{\"id\":\"" ORDER_ID "\",\"status\":\"teleported\"}",
	};
	gw_link_result_t r;
	char *many;
	size_t off;

	r = parse(400, "{\"code\":\"INVALID_AMOUNT\",\"message\":\"amount must be positive\"}",
		  true);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_REJECTED);
	cr_assert_str_eq(r.r.code, "INVALID_AMOUNT");
	cr_assert_str_eq(r.r.message, "amount must be positive");
	r = parse(401, "{\"code\":401,\"message\":\"Unauthorized\"}", true);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_AUTH_FAILED);
	cr_assert_str_eq(r.r.code, "401");
	r = parse(403, "<html>cloudflare</html>", false);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_AUTH_FAILED);
	r = parse(500, "", true);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_UNKNOWN, "a lost create may have made a link");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = parse(200, bad[i], true);
		cr_assert_eq(r.r.outcome, GW_OUTCOME_UNKNOWN, "[%zu] %s -> %s", i, bad[i],
			     gw_outcome_name(r.r.outcome));
		r = parse(200, bad[i], false);
		cr_assert_eq(r.r.outcome, GW_OUTCOME_ERROR_RETRYABLE, "[%zu]", i);
	}
	/* More charges than installments can exist: refused, not overflowed. */
	many = malloc(64 * 1024);
	off = (size_t)sprintf(many, "{\"id\":\"x\",\"status\":\"paid\",\"charges\":[");
	for (int i = 0; i < 100; i++)
		off += (size_t)sprintf(many + off, "%s{\"installment\":1,\"status\":\"confirmed\"}",
				       i ? "," : "");
	strcpy(many + off, "]}");
	r = parse(200, many, false);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_ERROR_RETRYABLE);
	cr_assert_eq(r.n_charges, 0);
	free(many);
}

/* ================================================================== over HTTP */

Test(pagolivre_http, create_query_cancel)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/pagolivre/orders", 201, ORDER_CREATED, GWSRV_REPLY, 0, 0},
		{"GET", "/pagolivre/orders/byOrderKey/os-42", 200,
		 "{\"id\":\"" ORDER_ID "\",\"orderKey\":\"os-42\",\"status\":\"paid\","
		 "\"paymentUrl\":\"https://pay.pagolivre.com.br/p/abc123\"}",
		 GWSRV_REPLY, 0, 0},
		{"GET", "/pagolivre/orders/byOrderKey/os-99", 204, "", GWSRV_REPLY, 0, 0},
		{"POST", "/pagolivre/orders/" ORDER_ID "/cancel", 200,
		 "{\"id\":\"" ORDER_ID "\",\"status\":\"canceled\"}", GWSRV_REPLY, 0, 1},
		{"POST", "/pagolivre/orders/" ORDER_ID "/cancel", 204, "", GWSRV_REPLY, 0, 1},
		{"POST", "/pagolivre/orders/" ORDER_ID "/cancel", 200,
		 "{\"id\":\"" ORDER_ID "\",\"status\":\"paid\"}", GWSRV_REPLY, 0, 1},
	};
	struct gwfx fx;
	gw_config_t c = pl_cfg();
	gw_link_req_t r = link_req();
	gw_cancel_link_req_t cr = {.link_id = ORDER_ID, .reason = "cliente desistiu"};
	struct rec_link created = {0}, paid = {0}, unknown = {0}, c1 = {0}, c2 = {0}, c3 = {0};
	gwsrv_req_t *reqs;
	size_t n;
	char h[256];
	json_t *j;

	gwfx_open(&fx, &c, "/pagolivre", NULL, rules, 6);
	cr_assert_eq(gw_create_link(fx.gw, &r, rec_on_link, &created), 0);
	gwfx_run(&fx);
	cr_assert_eq(gw_query_link(fx.gw, "os-42", rec_on_link, &paid), 0);
	cr_assert_eq(gw_query_link(fx.gw, "os-99", rec_on_link, &unknown), 0);
	gwfx_run(&fx);
	cr_assert_eq(gw_cancel_link(fx.gw, &cr, rec_on_link, &c1), 0);
	gwfx_run(&fx);
	cr_assert_eq(gw_cancel_link(fx.gw, &cr, rec_on_link, &c2), 0);
	gwfx_run(&fx);
	cr_assert_eq(gw_cancel_link(fx.gw, &cr, rec_on_link, &c3), 0);
	gwfx_run(&fx);
	cr_assert_eq(created.res.r.outcome, GW_OUTCOME_PENDING, "%s", created.res.r.message);
	cr_assert_str_eq(created.res.payment_url, "https://pay.pagolivre.com.br/p/abc123");
	cr_assert_eq(paid.res.r.outcome, GW_OUTCOME_APPROVED);
	cr_assert_eq(unknown.res.r.outcome, GW_OUTCOME_NOT_FOUND);
	cr_assert_str_eq(unknown.res.order_key, "os-99");
	cr_assert_eq(c1.res.r.outcome, GW_OUTCOME_CANCELED);
	cr_assert_eq(c2.res.r.outcome, GW_OUTCOME_CANCELED, "an empty 204 is a done cancel");
	cr_assert_eq(c3.res.r.outcome, GW_OUTCOME_REJECTED);
	n = gwfx_requests(&fx, &reqs);
	cr_assert_eq(n, 6);
	cr_assert_str_eq(gwsrv_req_header(&reqs[0], "Authorization", h, sizeof(h)),
			 "Basic " PL_TOKEN);
	cr_assert_not_null(gwsrv_req_header(&reqs[0], "User-Agent", h, sizeof(h)),
			   "Cloudflare answers 403 without a User-Agent");
	j = gwfx_json(&reqs[3]);
	cr_assert_str_eq(json_string_value(json_object_get(j, "reason")), "cliente desistiu");
	cr_assert_eq(strlen(json_string_value(json_object_get(j, "cancellationRequestId"))), 36);
	json_decref(j);
	gwfx_close(&fx);
}

Test(pagolivre_http, create_timeout_is_unknown)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/pagolivre/orders", 0, NULL, GWSRV_HANG, 0, 0},
		{"GET", "/pagolivre/orders/byOrderKey/os-42", 0, NULL, GWSRV_HANG, 0, 0}};
	struct gwfx fx;
	gw_config_t c = pl_cfg();
	gw_link_req_t r = link_req();
	struct rec_link a = {0}, b = {0};

	c.timeout_ms = 300;
	gwfx_open(&fx, &c, "/pagolivre", NULL, rules, 2);
	cr_assert_eq(gw_create_link(fx.gw, &r, rec_on_link, &a), 0);
	cr_assert_eq(gw_query_link(fx.gw, "os-42", rec_on_link, &b), 0);
	gwfx_run(&fx);
	cr_assert_eq(a.res.r.outcome, GW_OUTCOME_UNKNOWN);
	cr_assert_eq(b.res.r.outcome, GW_OUTCOME_ERROR_RETRYABLE);
	cr_assert_eq(a.res.r.error, -ETIMEDOUT);
	gwfx_close(&fx);
}

/* ================================================================== webhooks */

static gw_webhook_req_t hook(const char *query, const char *body)
{
	gw_webhook_req_t w = {.method = "POST", .query = query};
	gwfx_hook_body(&w, body);
	return w;
}

TestSuite(pagolivre_webhook, .init = pagolivre_open, .fini = gwp_close);

Test(pagolivre_webhook, access_token_authenticates)
{
	const char *body = "{\"eventName\":\"orderPaid\",\"orderKey\":\"os-42\"}";
	gw_webhook_req_t w;
	uint64_t before;

	before = gw_secret_compare_count();
	w = hook("accessToken=" PL_TOKEN, body);
	cr_assert_eq(gw_verify_webhook(gwp.gw, &w), 0);
	cr_assert_eq(gw_secret_compare_count() - before, 1);
	/* Values are compared after percent-decoding. */
	w = hook("x=1&accessToken=%63GFnb2xpdnJlOnNlY3JldC10b2tlbi0xMjM0", body);
	cr_assert_eq(gw_verify_webhook(gwp.gw, &w), 0);
	w = hook("accessToken=cGFnb2xpdnJlOnNlY3JldC10b2tlbi0xMjM1", body);
	cr_assert_eq(gw_verify_webhook(gwp.gw, &w), -EACCES);
	w = hook("accessToken=", body);
	cr_assert_eq(gw_verify_webhook(gwp.gw, &w), -EACCES);
	w = hook(NULL, body);
	cr_assert_eq(gw_verify_webhook(gwp.gw, &w), -EACCES);
	w = hook("accesstoken=" PL_TOKEN, body);
	cr_assert_eq(gw_verify_webhook(gwp.gw, &w), -EACCES, "names are case-sensitive");
	w = hook("accessToken=" PL_TOKEN "&accessToken=" PL_TOKEN, body);
	cr_assert_eq(gw_verify_webhook(gwp.gw, &w), -EACCES);
}

Test(pagolivre_webhook, parse_events)
{
	static const struct {
		const char *name;
		gw_event_kind_t kind;
	} t[] = {
		{"orderPaid", GW_EVENT_LINK_PAID},
		{"order.declined", GW_EVENT_LINK_DECLINED},
		{"ORDER_CANCELED", GW_EVENT_LINK_CANCELED},
		{"orderExpired", GW_EVENT_LINK_EXPIRED},
		{"somethingNew", GW_EVENT_OTHER},
	};
	gw_event_t ev;
	gw_event_t ev2;
	gw_webhook_req_t w;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char body[256];
		snprintf(body, sizeof(body), "{\"eventName\":\"%s\",\"orderKey\":\"os-42\"}",
			 t[i].name);
		w = hook("accessToken=" PL_TOKEN, body);
		cr_assert_eq(gw_parse_webhook(gwp.gw, &w, &ev), 0, "%s: %s", t[i].name, ev.error);
		cr_assert_eq(ev.kind, t[i].kind, "%s", t[i].name);
		cr_assert_str_eq(ev.order_ref, "os-42");
		cr_assert_str_eq(ev.hint, t[i].name);
	}
	w = hook(NULL, "{\"eventName\":\"installmentConfirmed\",\"orderKey\":\"os-42\","
		       "\"installment\":2}");
	cr_assert_eq(gw_parse_webhook(gwp.gw, &w, &ev), 0, "%s", ev.error);
	cr_assert_eq(ev.kind, GW_EVENT_INSTALLMENT_CONFIRMED);
	cr_assert_eq(ev.installment, 2);
	cr_assert(ev.derived_id);
	w = hook(NULL, "{\"eventName\":\"installmentDenied\",\"orderKey\":\"os-42\","
		       "\"installment\":\"2\"}");
	cr_assert_eq(gw_parse_webhook(gwp.gw, &w, &ev2), 0);
	cr_assert_eq(ev2.kind, GW_EVENT_INSTALLMENT_DENIED);
	cr_assert_str_neq(ev.event_id, ev2.event_id);
	w = hook(NULL, "{\"eventName\":\"orderPaid\",\"orderKey\":\"os-42\",\"eventId\":"
		       "\"evt_123\"}");
	cr_assert_eq(gw_parse_webhook(gwp.gw, &w, &ev), 0);
	cr_assert_str_eq(ev.event_id, "evt_123");
	cr_assert_not(ev.derived_id);
}

Test(pagolivre_webhook, parse_rejects)
{
	static const char *const bad[] = {
		"",
		"nope",
		"{\"orderKey\":\"os-42\"}",
		"{\"eventName\":\"orderPaid\"}",
		"{\"eventName\":1,\"orderKey\":\"os-42\"}",
		"{\"eventName\":\"orderPaid\",\"orderKey\":\"os 42\"}",
		"{\"eventName\":\"installmentConfirmed\",\"orderKey\":\"os-42\"}",
		"{\"eventName\":\"installmentConfirmed\",\"orderKey\":\"os-42\",\"installment\":"
		"99}",
		"{\"eventName\":\"orderPaid\",\"orderKey\":\"os-42\",\"eventId\":[]}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		gw_webhook_req_t w = hook(NULL, bad[i]);
		gw_event_t ev;
		cr_assert_eq(gw_parse_webhook(gwp.gw, &w, &ev), -EBADMSG, "[%zu] %s", i, bad[i]);
		cr_assert_gt(strlen(ev.error), 0);
	}
}
