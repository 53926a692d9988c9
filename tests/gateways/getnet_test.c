/*
 * GetNet adapter: the OAuth token (one fetch shared by concurrent calls,
 * refreshed before expiry, dropped after a 401), the vault and payment calls
 * over HTTP, the success and error shapes of reference 2.5-2.7 (recorded
 * GETNET-PY traffic), and the notification.
 */
#include "gateways/gwtest.h"

#include <errno.h>
#include <stdlib.h>

#define CID "cdf8b41b-cd0f-431f-ba2d-c6ccde172360"
#define CSECRET "8b21af56-095a-4da5-8a57-32029156a8b7"
#define SELLER "eb523ac0-10e0-4acd-96b4-24436227e5b1"
#define CARD_ID "016de171-b840-45a7-bb52-d056cf2d86bc"
#define PAYID "e00a9e1b-6a6b-4f07-a3cc-3e3c6f1d62b8"

#define TOKEN_OK                                                                                   \
	"{\"access_token\":\"98b00fda-6fa3-4cb2-a68e-78f34d7bbd1c\",\"token_type\":\"Bearer\","    \
	"\"expires_in\":3600,\"scope\":\"oob\"}"

/* GET /v1/cards/{id} as recorded (GETNET-PY CardsIntegrationTest.testGet). */
#define VAULT_CARD                                                                                 \
	"{\"card_id\":\"" CARD_ID "\",\"last_four_digits\":\"0001\",\"bin\":\"515500\","           \
	"\"expiration_month\":2,\"expiration_year\":25,\"brand\":\"visa\",\"cardholder_name\":"    \
	"\"John Doe\",\"customer_id\":\"johndoe\",\"number_token\":\"66a4af7495396d2625c0fe0c12bc" \
	"920f677061afc6b0e8f427da31573e7e88bdaca0990f95007476abaa60032a8907233daeef2e63ae336be75a" \
	"a9b04ab14395\",\"used_at\":\"2019-11-08T23:03:41.000Z\",\"created_at\":"                  \
	"\"2019-11-08T20:44:54.000Z\",\"updated_at\":\"2019-11-08T20:44:55.000Z\",\"status\":"     \
	"\"active\"}"

#define PAY_OK                                                                                     \
	"{\"payment_id\":\"" PAYID "\",\"seller_id\":\"" SELLER "\",\"amount\":15700,"             \
	"\"currency\":\"BRL\",\"order_id\":\"123-1\",\"status\":\"APPROVED\",\"received_at\":"     \
	"\"2019-11-12T21:32:14.000Z\",\"credit\":{\"delayed\":false,\"authorization_code\":"       \
	"\"000000099999\",\"authorized_at\":\"2019-11-12T21:32:14.000Z\",\"reason_code\":\"00\","  \
	"\"reason_message\":\"transaction approved\",\"acquirer\":\"GETNET\",\"soft_descriptor\":" \
	"\"OSPAY\",\"brand\":\"Mastercard\",\"terminal_nsu\":\"0099999\","                         \
	"\"acquirer_transaction_id\":\"10000024\",\"transaction_id\":\"1002217281190421\"}}"

/* The recorded 402 (GETNET-PY testCreateWithInvalidInstall). */
#define PAY_402                                                                                    \
	"{\"message\":\"Erro ao efetuar transa\\u00e7\\u00e3o de cr\\u00e9dito\",\"name\":"        \
	"\"CreditServiceError\",\"status_code\":402,\"details\":[{\"status\":\"NOT APPROVED\","    \
	"\"error_code\":\"PAYMENTS-011\",\"description\":\"N\\u00famero de parcelas excede "       \
	"limite\",\"description_detail\":\"CARTAO EXCEDEU O LIMITE PARA PARCELAMENTO [ECOM - "     \
	"23]\",\"payment_id\":\"68a31004-139d-4ead-afcb-f10ae671a75a\",\"authorization_code\":"    \
	"\"2843793321993161\",\"terminal_nsu\":\"019258\",\"acquirer_transaction_id\":"            \
	"\"000196242394\"}]}"

static gw_config_t getnet_cfg(void)
{
	gw_config_t c = {0};
	c.kind = GW_KIND_GETNET;
	c.client_id = CID;
	c.client_secret = CSECRET;
	c.seller_id = SELLER;
	c.timeout_ms = TSP_HANG_MS; /* a hang guard: tests of timeouts set their own */
	return c;
}

static gw_charge_req_t charge_req(void)
{
	gw_charge_req_t r = {.merchant_order_id = "123-1",
			     .amount_cents = 15700,
			     .recurring = true,
			     .card_token = CARD_ID,
			     .brand = GW_BRAND_MASTERCARD,
			     .customer_id = "customer_21081826",
			     .customer_name = "Jo\xc3\xa3o da Silva",
			     .customer_email = "customer@email.com.br",
			     .customer_document = "78075751159",
			     .network_txn_id = "1002217281190421"};
	return r;
}

/* ================================================================== the token */

Test(getnet_token, deadline_is_before_expiry)
{
	/* One hour: used until a minute before. */
	cr_assert_eq(gw_getnet_token_deadline(1000, 3600), 1000 + 3600000 - 60000);
	/* Short lives refresh a tenth early. */
	cr_assert_eq(gw_getnet_token_deadline(0, 100), 90000);
	cr_assert_eq(gw_getnet_token_deadline(0, 1), 900);
	/* No life: never used. */
	cr_assert_eq(gw_getnet_token_deadline(500, 0), 500);
	cr_assert_eq(gw_getnet_token_deadline(500, -3), 500);
	/* A hostile lifetime is capped at a day. */
	cr_assert_eq(gw_getnet_token_deadline(0, INT32_MAX), 86400000 - 60000);
}

/* ================================================================== request bodies */

/* Each test of the suites declared with it gets its own gateway in gwp (it never sends). */
static void getnet_open(void)
{
	gwp_open(getnet_cfg());
}

TestSuite(getnet_build, .init = getnet_open, .fini = gwp_close);

Test(getnet_build, recurring_payment_body)
{
	gw_charge_req_t r = charge_req();
	json_t *j = NULL;
	json_t *credit;
	json_t *cust;

	cr_assert_eq(gw_getnet_build_payment(gwp.gw, &r, &j), 0);
	cr_assert_str_eq(json_string_value(json_object_get(j, "seller_id")), SELLER);
	cr_assert(json_is_integer(json_object_get(j, "amount")));
	cr_assert_eq(json_integer_value(json_object_get(j, "amount")), 15700);
	cr_assert_str_eq(json_string_value(json_object_get(j, "currency")), "BRL");
	cr_assert_str_eq(
		json_string_value(json_object_get(json_object_get(j, "order"), "order_id")),
		"123-1");
	cust = json_object_get(j, "customer");
	cr_assert_str_eq(json_string_value(json_object_get(cust, "customer_id")),
			 "customer_21081826");
	cr_assert_str_eq(json_string_value(json_object_get(cust, "first_name")), "Jo\xc3\xa3o");
	cr_assert_str_eq(json_string_value(json_object_get(cust, "last_name")), "da Silva");
	cr_assert_str_eq(json_string_value(json_object_get(cust, "document_type")), "CPF");
	credit = json_object_get(j, "credit");
	cr_assert_str_eq(json_string_value(json_object_get(credit, "transaction_type")), "FULL");
	cr_assert_eq(json_integer_value(json_object_get(credit, "number_installments")), 1);
	cr_assert(json_is_false(json_object_get(credit, "delayed")));
	cr_assert(json_is_false(json_object_get(credit, "pre_authorization")));
	cr_assert_str_eq(json_string_value(json_object_get(credit, "credentials_on_file_type")),
			 "RECURRING_PAYMENT");
	cr_assert_str_eq(json_string_value(json_object_get(credit, "transaction_id")),
			 "1002217281190421");
	cr_assert_str_eq(
		json_string_value(json_object_get(json_object_get(credit, "card"), "brand")),
		"Mastercard");
	json_decref(j);

	r.first_use = true;
	r.network_txn_id = NULL;
	cr_assert_eq(gw_getnet_build_payment(gwp.gw, &r, &j), 0);
	credit = json_object_get(j, "credit");
	cr_assert_str_eq(json_string_value(json_object_get(credit, "credentials_on_file_type")),
			 "RECURRING");
	cr_assert_null(json_object_get(credit, "transaction_id"));
	json_decref(j);

	r.recurring = false;
	r.first_use = false;
	r.installments = 3;
	cr_assert_eq(gw_getnet_build_payment(gwp.gw, &r, &j), 0);
	credit = json_object_get(j, "credit");
	cr_assert_str_eq(json_string_value(json_object_get(credit, "credentials_on_file_type")),
			 "ONE_CLICK_PAYMENT");
	cr_assert_str_eq(json_string_value(json_object_get(credit, "transaction_type")),
			 "INSTALL_NO_INTEREST");
	json_decref(j);
}

Test(getnet_build, invalid_requests)
{
	gw_charge_req_t r;
	json_t *j = NULL;

	r = charge_req();
	r.customer_id = NULL;
	cr_assert_eq(gw_getnet_build_payment(gwp.gw, &r, &j), -EINVAL);
	r = charge_req();
	r.brand = GW_BRAND_DISCOVER; /* not a GetNet brand */
	cr_assert_eq(gw_getnet_build_payment(gwp.gw, &r, &j), -EINVAL);
	r = charge_req();
	r.merchant_order_id = "123 1";
	cr_assert_eq(gw_getnet_build_payment(gwp.gw, &r, &j), -EINVAL);
	r = charge_req();
	r.amount_cents = -5;
	cr_assert_eq(gw_getnet_build_payment(gwp.gw, &r, &j), -EINVAL);
	r = charge_req();
	r.customer_document = "780.757.511-59";
	cr_assert_eq(gw_getnet_build_payment(gwp.gw, &r, &j), -EINVAL);
	cr_assert_null(j);
}

/* ================================================================== answers */

static gw_charge_result_t parse(long status, const char *body, bool mutating)
{
	http_response_t res = gwfx_resp(status, body);
	gw_charge_result_t r = {.provider_status = -1, .amount_cents = -1};
	gw_getnet_parse_payment(gwp.gw, &res, mutating, &r);
	return r;
}

TestSuite(getnet_parse, .init = getnet_open, .fini = gwp_close);

Test(getnet_parse, approved)
{
	gw_charge_result_t r = parse(200, PAY_OK, true);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_APPROVED, "%s", r.r.message);
	cr_assert_str_eq(r.payment_id, PAYID);
	cr_assert_str_eq(r.status_text, "APPROVED");
	cr_assert_str_eq(r.r.code, "00");
	cr_assert_str_eq(r.r.message, "transaction approved");
	cr_assert_str_eq(r.authorization_code, "000000099999");
	cr_assert_str_eq(r.proof_of_sale, "0099999");
	cr_assert_str_eq(r.tid, "10000024");
	cr_assert_str_eq(r.network_txn_id, "1002217281190421");
	cr_assert_eq(r.brand, GW_BRAND_MASTERCARD);
	cr_assert_eq(r.amount_cents, 15700);
}

Test(getnet_parse, decline_402_payments_011)
{
	gw_charge_result_t r = parse(402, PAY_402, true);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_DECLINED, "%s", gw_outcome_name(r.r.outcome));
	cr_assert_eq(r.r.error, 0);
	cr_assert_eq(r.r.http_status, 402);
	cr_assert_str_eq(r.r.code, "PAYMENTS-011");
	cr_assert_str_eq(r.r.message, "CARTAO EXCEDEU O LIMITE PARA PARCELAMENTO [ECOM - 23]");
	cr_assert_str_eq(r.abecs_code, "23");
	cr_assert(r.irreversible, "ABECS 23 (invalid installment) is final");
	cr_assert_str_eq(r.payment_id, "68a31004-139d-4ead-afcb-f10ae671a75a");
	cr_assert_str_eq(r.status_text, "NOT APPROVED");
	cr_assert_str_eq(r.proof_of_sale, "019258");
	/* A 402 with an unreadable body is still a decline. */
	r = parse(402, "<html/>", true);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_DECLINED);
}

Test(getnet_parse, error_shapes)
{
	gw_charge_result_t r = parse(
		400,
		"{\"message\":\"Bad Request\",\"name\":\"GatewayTokenizationServiceError\","
		"\"status_code\":400,\"details\":[{\"status\":\"DENIED\",\"error_code\":"
		"\"TOKENIZATION-400\",\"description\":\"Invalid number_token, verify or renew "
		"your number_token, it is valid for only one attempt.\"}]}",
		true);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_DECLINED);
	cr_assert_str_eq(r.r.code, "TOKENIZATION-400");
	cr_assert(strstr(r.r.message, "only one attempt") != NULL);
	r = parse(400,
		  "{\"message\":\"Bad Request\",\"name\":\"GenericError\",\"status_code\":400,"
		  "\"details\":[{\"error_code\":\"GENERIC-400\",\"description\":\"amount is "
		  "required\"}]}",
		  true);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_REJECTED);
	cr_assert_str_eq(r.r.code, "GENERIC-400");
	cr_assert_str_eq(r.r.message, "amount is required");
	r = parse(404, "{\"message\":\"Not found\",\"status_code\":404,\"details\":[]}", false);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_NOT_FOUND);
	cr_assert_str_eq(r.r.message, "Not found");
	r = parse(401, "{\"error\":\"invalid_token\"}", false);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_AUTH_FAILED);
	r = parse(503, "", true);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_UNKNOWN);
	r = parse(503, "", false);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_ERROR_RETRYABLE);
	r = parse(400, "{\"details\":\"nope\"}", true);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_REJECTED, "by status when the body is odd");
}

Test(getnet_parse, statuses_and_malformed)
{
	static const struct {
		const char *st;
		gw_outcome_t o;
	} t[] = {
		{"APPROVED", GW_OUTCOME_APPROVED},  {"AUTHORIZED", GW_OUTCOME_APPROVED},
		{"CONFIRMED", GW_OUTCOME_APPROVED}, {"PAID", GW_OUTCOME_APPROVED},
		{"PENDING", GW_OUTCOME_PENDING},    {"DENIED", GW_OUTCOME_DECLINED},
		{"ERROR", GW_OUTCOME_DECLINED},     {"UNPROCESSED", GW_OUTCOME_DECLINED},
		{"CANCELED", GW_OUTCOME_CANCELED},  {"EXPIRED", GW_OUTCOME_CANCELED},
		{"WHATEVER", GW_OUTCOME_UNKNOWN},
	};
	static const char *const bad[] = {
		"",
		"{",
		"[1]",
		"{\"status\":\"APPROVED\"}",
		"{\"payment_id\":\"" PAYID "\",\"status\":1}",
		"{\"payment_id\":{},\"status\":\"APPROVED\"}",
		"{\"payment_id\":\"" PAYID "\",\"status\":\"APPROVED\",\"credit\":\"x\"}",
		"{\"payment_id\":\"" PAYID "\",\"status\":\"APPROVED\",\"amount\":\"100\"}",
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *b = NULL;
		gw_charge_result_t r;
		cr_assert_gt(
			asprintf(&b, "{\"payment_id\":\"%s\",\"status\":\"%s\"}", PAYID, t[i].st),
			0);
		r = parse(200, b, true);
		cr_assert_eq(r.r.outcome, t[i].o, "%s -> %s", t[i].st,
			     gw_outcome_name(r.r.outcome));
		free(b);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		gw_charge_result_t r = parse(200, bad[i], true);
		cr_assert_eq(r.r.outcome, GW_OUTCOME_UNKNOWN, "[%zu] %s", i, bad[i]);
		cr_assert_eq(r.r.error, -EBADMSG);
		r = parse(200, bad[i], false);
		cr_assert_eq(r.r.outcome, GW_OUTCOME_ERROR_RETRYABLE);
	}
}

/* ================================================================== over HTTP */

static const gwsrv_rule_t happy_rules[] = {
	{"POST", "/getnet/auth/oauth/v2/token", 200, TOKEN_OK, GWSRV_REPLY, 0, 0},
	{"GET", "/getnet/v1/cards/" CARD_ID, 200, VAULT_CARD, GWSRV_REPLY, 0, 0},
	{"POST", "/getnet/v1/payments/credit", 200, PAY_OK, GWSRV_REPLY, 0, 0},
};

static size_t count_target(gwsrv_req_t *reqs, size_t n, const char *target)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += strcmp(reqs[i].target, target) == 0;
	return k;
}

Test(getnet_http, charge_token_vault_payment)
{
	struct gwfx fx;
	gw_config_t c = getnet_cfg();
	gw_charge_req_t r = charge_req();
	struct rec_charge rec = {0};
	gwsrv_req_t *reqs;
	size_t n;
	char h[512];
	json_t *j;
	json_t *card;

	gwfx_open(&fx, &c, "/getnet", NULL, happy_rules, 3);
	cr_assert_eq(gw_charge_card(fx.gw, &r, rec_on_charge, &rec), 0);
	gwfx_run(&fx);
	cr_assert_eq(rec.calls, 1);
	cr_assert_eq(rec.res.r.outcome, GW_OUTCOME_APPROVED, "%s", rec.res.r.message);
	cr_assert_str_eq(rec.res.payment_id, PAYID);
	cr_assert_str_eq(rec.res.merchant_order_id, "123-1");
	n = gwfx_requests(&fx, &reqs);
	cr_assert_eq(n, 3);
	/* The token: Basic client credentials, the fixed form body. */
	cr_assert_str_eq(reqs[0].target, "/getnet/auth/oauth/v2/token");
	cr_assert_str_eq(gwsrv_req_header(&reqs[0], "Authorization", h, sizeof(h)),
			 "Basic Y2RmOGI0MWItY2QwZi00MzFmLWJhMmQtYzZjY2RlMTcyMzYwOjhiMjFhZjU2LTA5NWE"
			 "tNGRhNS04YTU3LTMyMDI5MTU2YThiNw==");
	cr_assert_str_eq(gwsrv_req_header(&reqs[0], "Content-Type", h, sizeof(h)),
			 "application/x-www-form-urlencoded");
	cr_assert_str_eq(reqs[0].body, "scope=oob&grant_type=client_credentials");
	/* The vault read and the payment carry the bearer token and the seller id. */
	cr_assert_str_eq(reqs[1].method, "GET");
	cr_assert_str_eq(gwsrv_req_header(&reqs[1], "Authorization", h, sizeof(h)),
			 "Bearer 98b00fda-6fa3-4cb2-a68e-78f34d7bbd1c");
	cr_assert_str_eq(gwsrv_req_header(&reqs[1], "seller_id", h, sizeof(h)), SELLER);
	cr_assert_str_eq(reqs[2].target, "/getnet/v1/payments/credit");
	cr_assert_str_eq(gwsrv_req_header(&reqs[2], "Authorization", h, sizeof(h)),
			 "Bearer 98b00fda-6fa3-4cb2-a68e-78f34d7bbd1c");
	j = gwfx_json(&reqs[2]);
	card = json_object_get(json_object_get(j, "credit"), "card");
	cr_assert_str_eq(json_string_value(json_object_get(card, "number_token")),
			 "66a4af7495396d2625c0fe0c12bc920f677061afc6b0e8f427da31573e7e88bdaca0990f"
			 "95007476abaa60032a8907233daeef2e63ae336be75aa9b04ab14395");
	/* Holder and expiry came from the vault (numbers there, strings here). */
	cr_assert_str_eq(json_string_value(json_object_get(card, "cardholder_name")), "John Doe");
	cr_assert_str_eq(json_string_value(json_object_get(card, "expiration_month")), "02");
	cr_assert_str_eq(json_string_value(json_object_get(card, "expiration_year")), "25");
	cr_assert_eq(json_integer_value(json_object_get(j, "amount")), 15700);
	json_decref(j);
	gwfx_close(&fx);
}

Test(getnet_http, concurrent_calls_share_one_token_fetch)
{
	gwsrv_rule_t rules[] = {
		/* A slow token answer: every call arrives while the fetch is in flight. */
		{"POST", "/getnet/auth/oauth/v2/token", 200, TOKEN_OK, GWSRV_REPLY, 200, 0},
		{"GET", "/getnet/v1/cards/" CARD_ID, 200, VAULT_CARD, GWSRV_REPLY, 0, 0},
		{"POST", "/getnet/v1/payments/credit", 200, PAY_OK, GWSRV_REPLY, 0, 0},
	};
	struct gwfx fx;
	gw_config_t c = getnet_cfg();
	gw_charge_req_t r = charge_req();
	struct rec_charge rec[4] = {{0}};
	gwsrv_req_t *reqs;
	size_t n;

	gwfx_open(&fx, &c, "/getnet", NULL, rules, 3);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(gw_charge_card(fx.gw, &r, rec_on_charge, &rec[i]), 0);
	cr_assert_eq(gw_getnet_token_fetches(fx.gw), 1);
	gwfx_run(&fx);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(rec[i].calls, 1);
		cr_assert_eq(rec[i].res.r.outcome, GW_OUTCOME_APPROVED);
	}
	/* Later calls reuse the cached token. */
	cr_assert_eq(gw_charge_card(fx.gw, &r, rec_on_charge, &rec[3]), 0);
	gwfx_run(&fx);
	cr_assert_eq(rec[3].res.r.outcome, GW_OUTCOME_APPROVED);
	cr_assert_eq(gw_getnet_token_fetches(fx.gw), 1);
	n = gwfx_requests(&fx, &reqs);
	cr_assert_eq(count_target(reqs, n, "/getnet/auth/oauth/v2/token"), 1);
	cr_assert_eq(count_target(reqs, n, "/getnet/v1/payments/credit"), 4);
	gwfx_close(&fx);
}

struct later {
	uv_timer_t t;
	gw_t *gw;
	gw_charge_req_t req;
	struct rec_charge *rec;
};

static void later_fire(uv_timer_t *t)
{
	struct later *l = t->data;
	cr_assert_eq(gw_charge_card(l->gw, &l->req, rec_on_charge, l->rec), 0);
	uv_close((uv_handle_t *)t, NULL);
}

Test(getnet_http, token_is_refreshed_before_it_expires)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/getnet/auth/oauth/v2/token", 200,
		 "{\"access_token\":\"11111111-aaaa-bbbb-cccc-000000000001\",\"token_type\":"
		 "\"Bearer\",\"expires_in\":1,\"scope\":\"oob\"}",
		 GWSRV_REPLY, 0, 1},
		{"POST", "/getnet/auth/oauth/v2/token", 200,
		 "{\"access_token\":\"22222222-aaaa-bbbb-cccc-000000000002\",\"token_type\":"
		 "\"Bearer\",\"expires_in\":\"3600\"}",
		 GWSRV_REPLY, 0, 0},
		{"GET", "/getnet/v1/cards/" CARD_ID, 200, VAULT_CARD, GWSRV_REPLY, 0, 0},
		{"POST", "/getnet/v1/payments/credit", 200, PAY_OK, GWSRV_REPLY, 0, 0},
	};
	struct gwfx fx;
	gw_config_t c = getnet_cfg();
	struct rec_charge a = {0};
	struct rec_charge b = {0};
	struct later l;
	gwsrv_req_t *reqs;
	size_t n;
	char h[256];

	gwfx_open(&fx, &c, "/getnet", NULL, rules, 4);
	l.req = charge_req();
	cr_assert_eq(gw_charge_card(fx.gw, &l.req, rec_on_charge, &a), 0);
	gwfx_run(&fx);
	cr_assert_eq(a.res.r.outcome, GW_OUTCOME_APPROVED);
	/* A one-second token is used for at most 0.9 s: a call a second later fetches anew. */
	l.gw = fx.gw;
	l.rec = &b;
	l.t.data = &l;
	uv_timer_init(&fx.loop, &l.t);
	uv_timer_start(&l.t, later_fire, 1000, 0);
	gwfx_run(&fx);
	cr_assert_eq(b.res.r.outcome, GW_OUTCOME_APPROVED);
	cr_assert_eq(gw_getnet_token_fetches(fx.gw), 2);
	n = gwfx_requests(&fx, &reqs);
	cr_assert_eq(count_target(reqs, n, "/getnet/auth/oauth/v2/token"), 2);
	cr_assert_str_eq(gwsrv_req_header(&reqs[n - 1], "Authorization", h, sizeof(h)),
			 "Bearer 22222222-aaaa-bbbb-cccc-000000000002");
	gwfx_close(&fx);
}

Test(getnet_http, a_401_drops_the_token_and_resends_once)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/getnet/auth/oauth/v2/token", 200, TOKEN_OK, GWSRV_REPLY, 0, 0},
		{"GET", "/getnet/v1/cards/" CARD_ID, 401, "{\"error\":\"invalid_token\"}",
		 GWSRV_REPLY, 0, 1},
		{"GET", "/getnet/v1/cards/" CARD_ID, 200, VAULT_CARD, GWSRV_REPLY, 0, 0},
		{"POST", "/getnet/v1/payments/credit", 401, "", GWSRV_REPLY, 0, 2},
	};
	struct gwfx fx;
	gw_config_t c = getnet_cfg();
	gw_charge_req_t r = charge_req();
	struct rec_charge rec = {0};
	gwsrv_req_t *reqs;
	size_t n;

	gwfx_open(&fx, &c, "/getnet", NULL, rules, 4);
	cr_assert_eq(gw_charge_card(fx.gw, &r, rec_on_charge, &rec), 0);
	gwfx_run(&fx);
	/* Vault: 401, new token, 200. Payment: 401, new token, 401 again: given up. */
	cr_assert_eq(rec.calls, 1);
	cr_assert_eq(rec.res.r.outcome, GW_OUTCOME_AUTH_FAILED, "%s",
		     gw_outcome_name(rec.res.r.outcome));
	n = gwfx_requests(&fx, &reqs);
	cr_assert_eq(count_target(reqs, n, "/getnet/auth/oauth/v2/token"), 3);
	cr_assert_eq(count_target(reqs, n, "/getnet/v1/cards/" CARD_ID), 2);
	cr_assert_eq(count_target(reqs, n, "/getnet/v1/payments/credit"), 2);
	gwfx_close(&fx);
}

Test(getnet_http, token_failures_fail_every_waiting_call)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/getnet/auth/oauth/v2/token", 401, "{\"error\":\"invalid_client\"}",
		 GWSRV_REPLY, 0, 1},
		{"POST", "/getnet/auth/oauth/v2/token", 200, "{\"access_token\":42}", GWSRV_REPLY,
		 0, 1},
		{"POST", "/getnet/auth/oauth/v2/token", 0, NULL, GWSRV_HANG, 0, 0},
	};
	struct gwfx fx;
	gw_config_t c = getnet_cfg();
	gw_charge_req_t r = charge_req();
	struct rec_charge a = {0}, b = {0}, d = {0}, e = {0};
	gwsrv_req_t *reqs;
	size_t n;

	gwfx_open(&fx, &c, "/getnet", NULL, rules, 3);
	cr_assert_eq(gw_charge_card(fx.gw, &r, rec_on_charge, &a), 0);
	cr_assert_eq(gw_charge_card(fx.gw, &r, rec_on_charge, &b), 0);
	gwfx_run(&fx);
	cr_assert_eq(a.res.r.outcome, GW_OUTCOME_AUTH_FAILED);
	cr_assert_eq(b.res.r.outcome, GW_OUTCOME_AUTH_FAILED);
	cr_assert(strstr(a.res.r.message, "token request failed") != NULL, "%s", a.res.r.message);
	cr_assert_null(strstr(a.res.r.message, CSECRET));
	cr_assert_eq(gw_charge_card(fx.gw, &r, rec_on_charge, &d), 0);
	gwfx_run(&fx);
	cr_assert_eq(d.res.r.outcome, GW_OUTCOME_ERROR_RETRYABLE);
	cr_assert_eq(d.res.r.error, -EBADMSG);
	/* A token fetch that times out sent no charge: retryable, never unknown. */
	gwfx_timeout(&fx, 300);
	cr_assert_eq(gw_charge_card(fx.gw, &r, rec_on_charge, &e), 0);
	gwfx_run(&fx);
	cr_assert_eq(e.res.r.outcome, GW_OUTCOME_ERROR_RETRYABLE);
	cr_assert_eq(e.res.r.error, -ETIMEDOUT);
	n = gwfx_requests(&fx, &reqs);
	cr_assert_eq(count_target(reqs, n, "/getnet/v1/payments/credit"), 0);
	gwfx_close(&fx);
}

Test(getnet_http, vault_and_payment_faults)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/getnet/auth/oauth/v2/token", 200, TOKEN_OK, GWSRV_REPLY, 0, 0},
		{"GET", "/getnet/v1/cards/gone", 404,
		 "{\"message\":\"Not found\",\"status_code\":404,\"details\":[]}", GWSRV_REPLY, 0,
		 0},
		{"GET", "/getnet/v1/cards/slow", 0, NULL, GWSRV_HANG, 0, 0},
		{"GET", "/getnet/v1/cards/" CARD_ID, 200, VAULT_CARD, GWSRV_REPLY, 0, 0},
		{"POST", "/getnet/v1/payments/credit", 402, PAY_402, GWSRV_REPLY, 0, 1},
		{"POST", "/getnet/v1/payments/credit", 0, NULL, GWSRV_HANG, 0, 1},
		{"POST", "/getnet/v1/payments/credit", 500, "", GWSRV_REPLY, 0, 1},
	};
	struct gwfx fx;
	gw_config_t c = getnet_cfg();
	gw_charge_req_t r = charge_req();
	struct rec_charge gone = {0}, slow = {0}, declined = {0}, hung = {0}, err = {0};
	gwsrv_req_t *reqs;
	size_t n;

	gwfx_open(&fx, &c, "/getnet", NULL, rules, 7);
	r.card_token = "gone";
	cr_assert_eq(gw_charge_card(fx.gw, &r, rec_on_charge, &gone), 0);
	gwfx_run(&fx);
	r.card_token = "slow";
	gwfx_timeout(&fx, 300); /* the vault read hangs */
	cr_assert_eq(gw_charge_card(fx.gw, &r, rec_on_charge, &slow), 0);
	gwfx_run(&fx);
	r.card_token = CARD_ID;
	gwfx_timeout(&fx, TSP_HANG_MS);
	cr_assert_eq(gw_charge_card(fx.gw, &r, rec_on_charge, &declined), 0);
	gwfx_run(&fx);
	/* The vault read is answered, then the payment hangs: one timeout covers both,
	 * 2 s, a margin for the answer rather than a guard. */
	gwfx_timeout(&fx, 2000);
	cr_assert_eq(gw_charge_card(fx.gw, &r, rec_on_charge, &hung), 0);
	gwfx_run(&fx);
	gwfx_timeout(&fx, TSP_HANG_MS);
	cr_assert_eq(gw_charge_card(fx.gw, &r, rec_on_charge, &err), 0);
	gwfx_run(&fx);
	cr_assert_eq(gone.res.r.outcome, GW_OUTCOME_NOT_FOUND);
	/* Nothing is charged before the payment request: a lost vault read is retryable. */
	cr_assert_eq(slow.res.r.outcome, GW_OUTCOME_ERROR_RETRYABLE);
	cr_assert_eq(declined.res.r.outcome, GW_OUTCOME_DECLINED);
	cr_assert_str_eq(declined.res.r.code, "PAYMENTS-011");
	cr_assert(declined.res.irreversible);
	cr_assert_eq(hung.res.r.outcome, GW_OUTCOME_UNKNOWN);
	cr_assert_eq(err.res.r.outcome, GW_OUTCOME_UNKNOWN);
	cr_assert_str_eq(err.res.merchant_order_id, "123-1");
	n = gwfx_requests(&fx, &reqs);
	cr_assert_eq(count_target(reqs, n, "/getnet/v1/payments/credit"), 3);
	gwfx_close(&fx);
}

Test(getnet_http, tokenize_through_the_vault)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/getnet/auth/oauth/v2/token", 200, TOKEN_OK, GWSRV_REPLY, 0, 0},
		{"POST", "/getnet/v1/tokens/card", 201,
		 "{\"number_token\":\"53a689aaf02d21fa93b04d79bdc53bd3d86be318d11156869561231ca1b7"
		 "0b21e7cee4268e310c5cb00dc4f946f7f2b0d77ef230b8c97ba0952d1f1494e1fa72\"}",
		 GWSRV_REPLY, 0, 0},
		{"POST", "/getnet/v1/cards", 201,
		 "{\"card_id\":\"" CARD_ID "\",\"number_token\":\"abcdef\"}", GWSRV_REPLY, 0, 0},
	};
	struct gwfx fx;
	gw_config_t c = getnet_cfg();
	gw_card_t card = {.number = "5155901222280001",
			  .holder = "John Doe",
			  .exp_month = 3,
			  .exp_year = 2031,
			  .security_code = "123",
			  .brand = GW_BRAND_MASTERCARD,
			  .customer_id = "johndoe",
			  .document = "78075751159"};
	struct rec_token tok = {0};
	gwsrv_req_t *reqs;
	size_t n;
	json_t *j;

	gwfx_open(&fx, &c, "/getnet", NULL, rules, 3);
	cr_assert_eq(gw_tokenize_card(fx.gw, &card, rec_on_token, &tok), 0);
	gwfx_run(&fx);
	cr_assert_eq(tok.calls, 1);
	cr_assert_eq(tok.res.r.outcome, GW_OUTCOME_APPROVED, "%s", tok.res.r.message);
	cr_assert_str_eq(tok.res.card_token, CARD_ID);
	n = gwfx_requests(&fx, &reqs);
	cr_assert_eq(n, 3);
	j = gwfx_json(&reqs[1]);
	cr_assert_str_eq(json_string_value(json_object_get(j, "card_number")), "5155901222280001");
	cr_assert_str_eq(json_string_value(json_object_get(j, "customer_id")), "johndoe");
	json_decref(j);
	j = gwfx_json(&reqs[2]);
	cr_assert_str_eq(json_string_value(json_object_get(j, "number_token")),
			 "53a689aaf02d21fa93b04d79bdc53bd3d86be318d11156869561231ca1b70b21e7cee426"
			 "8e310c5cb00dc4f946f7f2b0d77ef230b8c97ba0952d1f1494e1fa72");
	cr_assert_str_eq(json_string_value(json_object_get(j, "expiration_month")), "03");
	cr_assert_str_eq(json_string_value(json_object_get(j, "expiration_year")), "31");
	cr_assert_str_eq(json_string_value(json_object_get(j, "brand")), "Mastercard");
	cr_assert_str_eq(json_string_value(json_object_get(j, "cardholder_identification")),
			 "78075751159");
	cr_assert(json_is_false(json_object_get(j, "verify_card")));
	cr_assert_null(json_object_get(j, "card_number"), "the vault never sees the number");
	json_decref(j);
	gwfx_close(&fx);
}

Test(getnet_http, tokenize_declined)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/getnet/auth/oauth/v2/token", 200, TOKEN_OK, GWSRV_REPLY, 0, 0},
		{"POST", "/getnet/v1/tokens/card", 400,
		 "{\"message\":\"Bad Request\",\"name\":\"GatewayTokenizationServiceError\","
		 "\"status_code\":400,\"details\":[{\"status\":\"DENIED\",\"error_code\":"
		 "\"TOKENIZATION-400\",\"description\":\"Invalid card\"}]}",
		 GWSRV_REPLY, 0, 0},
	};
	struct gwfx fx;
	gw_config_t c = getnet_cfg();
	gw_card_t card = {.number = "5155901222270002",
			  .holder = "John Doe",
			  .exp_month = 3,
			  .exp_year = 2031,
			  .brand = GW_BRAND_MASTERCARD,
			  .customer_id = "johndoe"};
	struct rec_token tok = {0};

	gwfx_open(&fx, &c, "/getnet", NULL, rules, 2);
	cr_assert_eq(gw_tokenize_card(fx.gw, &card, rec_on_token, &tok), 0);
	gwfx_run(&fx);
	cr_assert_eq(tok.res.r.outcome, GW_OUTCOME_DECLINED);
	cr_assert_str_eq(tok.res.r.code, "TOKENIZATION-400");
	cr_assert_eq(tok.res.card_token[0], '\0');
	gwfx_close(&fx);
}

Test(getnet_http, cancel_and_query)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/getnet/auth/oauth/v2/token", 200, TOKEN_OK, GWSRV_REPLY, 0, 0},
		{"POST", "/getnet/v1/payments/credit/" PAYID "/cancel", 200,
		 "{\"payment_id\":\"" PAYID "\",\"seller_id\":\"" SELLER "\",\"amount\":15700,"
		 "\"currency\":\"BRL\",\"order_id\":\"123-1\",\"status\":\"CANCELED\","
		 "\"credit_cancel\":{\"canceled_at\":\"2019-11-12T21:40:00Z\",\"message\":"
		 "\"Credit transaction cancelled successfully\"}}",
		 GWSRV_REPLY, 0, 0},
		{"GET", "/getnet/v1/payments/credit/" PAYID, 200, PAY_OK, GWSRV_REPLY, 0, 0},
	};
	struct gwfx fx;
	gw_config_t c = getnet_cfg();
	struct rec_charge cancel = {0};
	struct rec_charge query = {0};
	struct rec_charge none = {0};

	gwfx_open(&fx, &c, "/getnet", NULL, rules, 3);
	cr_assert_eq(gw_cancel_charge(fx.gw, PAYID, 0, rec_on_charge, &cancel), 0);
	cr_assert_eq(gw_query_charge(fx.gw, PAYID, rec_on_charge, &query), 0);
	/* GetNet documents no query by order id, and no partial v1 cancel. */
	cr_assert_eq(gw_query_charge_by_order(fx.gw, "123-1", rec_on_charge, &none), -ENOTSUP);
	cr_assert_eq(gw_cancel_charge(fx.gw, PAYID, 100, rec_on_charge, &none), -EINVAL);
	gwfx_run(&fx);
	cr_assert_eq(cancel.res.r.outcome, GW_OUTCOME_CANCELED);
	cr_assert_str_eq(cancel.res.r.message, "Credit transaction cancelled successfully");
	cr_assert_str_eq(cancel.res.payment_id, PAYID);
	cr_assert_eq(query.res.r.outcome, GW_OUTCOME_APPROVED);
	cr_assert_eq(none.calls, 0);
	gwfx_close(&fx);
}

/* ================================================================== webhooks */

TestSuite(getnet_webhook, .init = getnet_open, .fini = gwp_close);

Test(getnet_webhook, seller_id_authenticates)
{
	/* More GET notifications: the seller id's name and value are decoded first. */
	static const struct {
		const char *query;
		int rc;
	} get[] = {
		{"payment_id=" PAYID "&seller_id=eb523ac0-10e0-4acd-96b4-24436227e5b2", -EACCES},
		{"payment_id=" PAYID, -EACCES},
		{"seller_id=" SELLER "&seller_id=" SELLER, -EACCES},
		{"seller_id=", -EACCES},
		{"seller%5Fid=eb523ac0%2D10e0-4acd-96b4-24436227e5b1", 0},
		{"seller_id=%zz", -EACCES},
	};
	http_header_t form[] = {{"Content-Type", "application/x-www-form-urlencoded"}};
	http_header_t json[] = {{"Content-Type", "application/json; charset=utf-8"}};
	gw_webhook_req_t w = {.method = "GET"};
	uint64_t before = gw_secret_compare_count();

	w.query = "payment_type=credit&customer_id=c1&order_id=123-1&payment_id=" PAYID
		  "&seller_id=" SELLER "&status=APPROVED";
	cr_assert_eq(gw_verify_webhook(gwp.gw, &w), 0);
	cr_assert_gt(gw_secret_compare_count(), before, "compared in constant time");
	for (size_t i = 0; i < sizeof(get) / sizeof(get[0]); i++) {
		w.query = get[i].query;
		cr_assert_eq(gw_verify_webhook(gwp.gw, &w), get[i].rc, "%s", get[i].query);
	}
	/* POST, as form parameters or JSON. */
	w.method = "POST";
	w.query = NULL;
	w.headers = form;
	w.n_headers = 1;
	gwfx_hook_body(&w, "seller_id=" SELLER "&payment_id=" PAYID);
	cr_assert_eq(gw_verify_webhook(gwp.gw, &w), 0);
	w.headers = json;
	gwfx_hook_body(&w, "{\"seller_id\":\"" SELLER "\",\"payment_id\":\"" PAYID "\"}");
	cr_assert_eq(gw_verify_webhook(gwp.gw, &w), 0);
	gwfx_hook_body(&w, "{\"seller_id\":\"nope\"}");
	cr_assert_eq(gw_verify_webhook(gwp.gw, &w), -EACCES);
}

Test(getnet_webhook, parse)
{
	gw_webhook_req_t w = {.method = "GET"};
	gw_event_t ev;
	gw_event_t ev2;

	w.query = "payment_type=credit&customer_id=c1&order_id=123-1&payment_id=" PAYID
		  "&seller_id=" SELLER "&status=APPROVED";
	cr_assert_eq(gw_parse_webhook(gwp.gw, &w, &ev), 0, "%s", ev.error);
	cr_assert_eq(ev.kind, GW_EVENT_PAYMENT_STATUS);
	cr_assert_str_eq(ev.payment_id, PAYID);
	cr_assert_str_eq(ev.order_ref, "123-1");
	cr_assert_str_eq(ev.hint, "APPROVED");
	cr_assert(ev.derived_id);
	w.query = "order_id=123-1&payment_id=" PAYID "&seller_id=" SELLER "&status=CANCELED";
	cr_assert_eq(gw_parse_webhook(gwp.gw, &w, &ev2), 0);
	cr_assert_str_neq(ev.event_id, ev2.event_id, "a new status is a new event");
	w.query = "order_id=123-1&seller_id=" SELLER;
	cr_assert_eq(gw_parse_webhook(gwp.gw, &w, &ev), -EBADMSG);
	w.query = "payment_id=a%20b";
	cr_assert_eq(gw_parse_webhook(gwp.gw, &w, &ev), -EBADMSG);
	w.query = "payment_id=" PAYID "&payment_id=" PAYID;
	cr_assert_eq(gw_parse_webhook(gwp.gw, &w, &ev), -EBADMSG);
}
