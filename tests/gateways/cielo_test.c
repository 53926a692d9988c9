/*
 * Cielo API 3.0 adapter: request bodies, every answer shape of reference 1.7
 * and 1.8 (directly on the parser), the calls over HTTP against a scripted
 * responder (what was sent, how the answer was read, timeouts and 5xx), and
 * the notification's authentication and parsing.
 */
#include "gateways/gwtest.h"

#include <criterion/parameterized.h>

#include <errno.h>
#include <stdlib.h>

#define MID "0f2a7c6e-1d5b-4a53-9a43-7a2f6b7d9e01"
#define MKEY "KEYKEYKEYKEYKEYKEYKEYKEYKEYKEYKEYKEY0001"
#define PAYID "24bc8366-fc31-4d6c-8555-17049a836a07"
#define TOKEN "6e1bf77a-b28b-4660-b14f-455e2a1c95e9"

static gw_config_t cielo_cfg(void)
{
	gw_config_t c = {0};
	c.kind = GW_KIND_CIELO;
	c.merchant_id = MID;
	c.merchant_key = MKEY;
	c.timeout_ms = TSP_HANG_MS; /* a hang guard: tests of timeouts set their own */
	c.soft_descriptor = "OSPAY NET";
	return c;
}

static gw_charge_req_t recurring_req(void)
{
	gw_charge_req_t r = {0};
	r.merchant_order_id = "123-1";
	r.amount_cents = 15700;
	r.recurring = true;
	r.card_token = TOKEN;
	r.brand = GW_BRAND_MASTERCARD;
	r.customer_name = "Fulano de Tal";
	return r;
}

/* A sale answer as in the manual's examples, with status and code filled in. */
static char *sale_body(int status, const char *code, const char *msg)
{
	char *b = NULL;
	int n = asprintf(&b,
			 "{\"MerchantOrderId\":\"123x1\",\"Customer\":{\"Name\":\"Fulano\"},"
			 "\"Payment\":{\"ServiceTaxAmount\":0,\"Installments\":1,"
			 "\"Interest\":\"ByMerchant\",\"Capture\":true,\"Authenticate\":false,"
			 "\"Recurrent\":true,\"CreditCard\":{\"CardNumber\":\"455187******0183\","
			 "\"Holder\":\"Teste Holder\",\"ExpirationDate\":\"12/2030\",\"SaveCard\":"
			 "false,\"Brand\":\"Visa\",\"CardToken\":\"" TOKEN "\"},"
			 "\"ProofOfSale\":\"674532\",\"Tid\":\"0305020554239\","
			 "\"AuthorizationCode\":\"123456\",\"PaymentId\":\"" PAYID "\","
			 "\"Type\":\"CreditCard\",\"Amount\":15700,\"Currency\":\"BRL\","
			 "\"Country\":\"BRA\",\"Status\":%d,\"ReturnCode\":\"%s\","
			 "\"ReturnMessage\":\"%s\",\"MerchantAdviceCode\":\"1\",\"Links\":[]}}",
			 status, code, msg);
	cr_assert_gt(n, 0);
	return b;
}

/* ================================================================== request bodies */

static json_t *build(const gw_charge_req_t *r)
{
	json_t *j = NULL;
	cr_assert_eq(gw_cielo_build_sale(gwp.gw, r, &j), 0);
	return j;
}

static const char *jstr(json_t *j, const char *path)
{
	json_t *v = json_object_get(j, path);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Each test of the suites declared with it gets its own gateway in gwp (it never sends). */
static void cielo_open(void)
{
	gwp_open(cielo_cfg());
}

TestSuite(cielo_build, .init = cielo_open, .fini = gwp_close);

Test(cielo_build, recurring_merchant_initiated_charge)
{
	gw_charge_req_t r = recurring_req();
	json_t *j;
	json_t *pay;
	json_t *card;

	j = build(&r);
	cr_assert_str_eq(jstr(j, "MerchantOrderId"), "123x1");
	cr_assert_str_eq(jstr(json_object_get(j, "Customer"), "Name"), "Fulano de Tal");
	pay = json_object_get(j, "Payment");
	cr_assert_str_eq(jstr(pay, "Type"), "CreditCard");
	cr_assert(json_is_integer(json_object_get(pay, "Amount")), "amount in cents, an integer");
	cr_assert_eq(json_integer_value(json_object_get(pay, "Amount")), 15700);
	cr_assert_eq(json_integer_value(json_object_get(pay, "Installments")), 1);
	cr_assert(json_is_true(json_object_get(pay, "Capture")));
	cr_assert(json_is_true(json_object_get(pay, "Recurrent")));
	cr_assert_str_eq(jstr(pay, "SoftDescriptor"), "OSPAY NET");
	cr_assert_null(json_object_get(pay, "Authenticate"), "Authenticate must stay false/absent");
	cr_assert_str_eq(jstr(json_object_get(pay, "InitiatedTransactionIndicator"), "Category"),
			 "M1");
	cr_assert_str_eq(jstr(json_object_get(pay, "InitiatedTransactionIndicator"), "Subcategory"),
			 "Subscription");
	card = json_object_get(pay, "CreditCard");
	cr_assert_str_eq(jstr(card, "CardToken"), TOKEN);
	cr_assert_str_eq(jstr(card, "Brand"), "Master");
	cr_assert_null(json_object_get(card, "SecurityCode"));
	cr_assert_str_eq(jstr(json_object_get(card, "CardOnFile"), "Usage"), "Used");
	cr_assert_str_eq(jstr(json_object_get(card, "CardOnFile"), "Reason"), "Recurring");
	json_decref(j);
}

Test(cielo_build, first_use_and_one_off_flags)
{
	gw_charge_req_t r = recurring_req();
	json_t *j;
	json_t *pay;

	r.first_use = true;
	r.security_code = "262";
	j = build(&r);
	pay = json_object_get(j, "Payment");
	cr_assert_str_eq(jstr(json_object_get(pay, "InitiatedTransactionIndicator"), "Category"),
			 "C1");
	cr_assert_str_eq(
		jstr(json_object_get(json_object_get(pay, "CreditCard"), "CardOnFile"), "Usage"),
		"First");
	cr_assert_str_eq(jstr(json_object_get(pay, "CreditCard"), "SecurityCode"), "262");
	json_decref(j);

	r = recurring_req();
	r.recurring = false;
	r.installments = 3;
	j = build(&r);
	pay = json_object_get(j, "Payment");
	cr_assert(json_is_false(json_object_get(pay, "Recurrent")));
	cr_assert_eq(json_integer_value(json_object_get(pay, "Installments")), 3);
	cr_assert_str_eq(jstr(json_object_get(pay, "InitiatedTransactionIndicator"), "Subcategory"),
			 "CredentialsOnFile");
	cr_assert_str_eq(
		jstr(json_object_get(json_object_get(pay, "CreditCard"), "CardOnFile"), "Reason"),
		"Installments");
	json_decref(j);
}

Test(cielo_build, merchant_order_id_charset)
{
	char out[GW_ORDER_ID_MAX];
	char long_id[60];

	cr_assert_eq(gw_cielo_order_id("123-1", out), 0);
	cr_assert_str_eq(out, "123x1");
	cr_assert_eq(gw_cielo_order_id("ABCdef789", out), 0);
	cr_assert_str_eq(out, "ABCdef789");
	/* Cielo: a-z A-Z 0-9 only, at most 50; 'x' is ospay's stand-in for '-'. */
	cr_assert_eq(gw_cielo_order_id("12x-1", out), -EINVAL);
	cr_assert_eq(gw_cielo_order_id("12_1", out), -EINVAL);
	cr_assert_eq(gw_cielo_order_id("12 1", out), -EINVAL);
	cr_assert_eq(gw_cielo_order_id("", out), -EINVAL);
	cr_assert_eq(gw_cielo_order_id("pedido\xc3\xa9", out), -EINVAL);
	memset(long_id, '7', 50);
	long_id[50] = '\0';
	cr_assert_eq(gw_cielo_order_id(long_id, out), 0);
	long_id[50] = '7';
	long_id[51] = '\0';
	cr_assert_eq(gw_cielo_order_id(long_id, out), -EINVAL);
}

Test(cielo_build, invalid_requests_are_refused)
{
	gw_charge_req_t r;
	json_t *j = NULL;

	r = recurring_req();
	r.amount_cents = 0;
	cr_assert_eq(gw_cielo_build_sale(gwp.gw, &r, &j), -EINVAL);
	r = recurring_req();
	r.amount_cents = GW_MAX_AMOUNT_CENTS + 1;
	cr_assert_eq(gw_cielo_build_sale(gwp.gw, &r, &j), -EINVAL);
	r = recurring_req();
	r.installments = 2; /* recurrence never goes with installments */
	cr_assert_eq(gw_cielo_build_sale(gwp.gw, &r, &j), -EINVAL);
	r = recurring_req();
	r.brand = GW_BRAND_UNKNOWN;
	cr_assert_eq(gw_cielo_build_sale(gwp.gw, &r, &j), -EINVAL);
	r = recurring_req();
	r.card_token = "6e1b f77a";
	cr_assert_eq(gw_cielo_build_sale(gwp.gw, &r, &j), -EINVAL);
	r = recurring_req();
	r.security_code = "12a";
	cr_assert_eq(gw_cielo_build_sale(gwp.gw, &r, &j), -EINVAL);
	r = recurring_req();
	r.customer_name = "bad\x01name";
	cr_assert_eq(gw_cielo_build_sale(gwp.gw, &r, &j), -EINVAL);
	cr_assert_null(j);
}

/*
 * The stored-credential fields per brand and per use (issue 16, docs/gateways.md):
 * CardOnFile First/Used, IssuerTransactionId on a later recurring charge only, the
 * initiator indicator for Mastercard only, CardOnFile for Visa, Mastercard and Elo only.
 */
static json_t *cof_sale(gw_brand_t brand, bool first, const char *ntid)
{
	gw_charge_req_t r = recurring_req();
	r.brand = brand;
	r.first_use = first;
	r.network_txn_id = ntid;
	return build(&r);
}

static const char *cof_usage(json_t *j)
{
	return jstr(json_object_get(json_object_get(json_object_get(j, "Payment"), "CreditCard"),
				    "CardOnFile"),
		    "Usage");
}

static json_t *cof_field(json_t *j, const char *name)
{
	return json_object_get(json_object_get(j, "Payment"), name);
}

TestSuite(cielo_cof, .init = cielo_open, .fini = gwp_close);

Test(cielo_cof, visa_first_then_later)
{
	json_t *j = cof_sale(GW_BRAND_VISA, true, "123456789012345");
	cr_assert_str_eq(cof_usage(j), "First");
	/* A first use sends no id, even when given one. */
	cr_assert_null(cof_field(j, "IssuerTransactionId"));
	cr_assert_null(cof_field(j, "InitiatedTransactionIndicator"));
	json_decref(j);
	j = cof_sale(GW_BRAND_VISA, false, "123456789012345");
	cr_assert_str_eq(cof_usage(j), "Used");
	cr_assert_str_eq(json_string_value(cof_field(j, "IssuerTransactionId")), "123456789012345");
	cr_assert_null(cof_field(j, "InitiatedTransactionIndicator"));
	json_decref(j);
}

Test(cielo_cof, indicators_only_where_the_brand_takes_them)
{
	json_t *j = cof_sale(GW_BRAND_MASTERCARD, false, "1");
	cr_assert_not_null(cof_field(j, "InitiatedTransactionIndicator"));
	cr_assert_str_eq(cof_usage(j), "Used");
	json_decref(j);
	j = cof_sale(GW_BRAND_ELO, false, "1");
	cr_assert_null(cof_field(j, "InitiatedTransactionIndicator"));
	cr_assert_str_eq(cof_usage(j), "Used");
	json_decref(j);
	j = cof_sale(GW_BRAND_AMEX, false, "1");
	cr_assert_null(cof_field(j, "InitiatedTransactionIndicator"));
	cr_assert_null(cof_usage(j));
	cr_assert_str_eq(json_string_value(cof_field(j, "IssuerTransactionId")), "1");
	json_decref(j);
}

Test(cielo_cof, a_bad_network_id_is_refused)
{
	gw_charge_req_t r = recurring_req();
	json_t *j = NULL;
	r.network_txn_id = "12\"34";
	cr_assert_eq(gw_cielo_build_sale(gwp.gw, &r, &j), -EINVAL);
	cr_assert_null(j);
}

/* ================================================================== answers */

static gw_charge_result_t parse(long status, const char *body, bool mutating, gw_brand_t brand)
{
	http_response_t res = gwfx_resp(status, body);
	gw_charge_result_t r = {.provider_status = -1, .amount_cents = -1};
	gw_cielo_parse_sale(gwp.gw, &res, mutating, brand, &r);
	return r;
}

TestSuite(cielo_parse, .init = cielo_open, .fini = gwp_close);

Test(cielo_parse, success)
{
	char *b = sale_body(2, "6", "Operation Successful");
	gw_charge_result_t r = parse(201, b, true, GW_BRAND_VISA);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_APPROVED, "%s", gw_outcome_name(r.r.outcome));
	cr_assert_eq(r.r.error, 0);
	cr_assert_eq(r.r.http_status, 201);
	cr_assert_str_eq(r.payment_id, PAYID);
	cr_assert_eq(r.provider_status, 2);
	cr_assert_str_eq(r.status_text, "PaymentConfirmed");
	cr_assert_str_eq(r.r.code, "6");
	cr_assert_str_eq(r.r.message, "Operation Successful");
	cr_assert_str_eq(r.proof_of_sale, "674532");
	cr_assert_str_eq(r.tid, "0305020554239");
	cr_assert_str_eq(r.authorization_code, "123456");
	cr_assert_str_eq(r.card_token, TOKEN);
	cr_assert_eq(r.brand, GW_BRAND_VISA);
	cr_assert_eq(r.amount_cents, 15700);
	cr_assert_not(r.irreversible);
	free(b);

	/* Sandbox recurrence example: Status 1 (Authorized), ReturnCode "4". */
	b = sale_body(1, "4", "Opera\\u00e7\\u00e3o realizada com sucesso");
	r = parse(201, b, true, GW_BRAND_VISA);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_APPROVED);
	cr_assert_str_eq(r.r.message, "Opera\xc3\xa7\xc3\xa3o realizada com sucesso");
	free(b);
}

Test(cielo_parse, decline_78_blocked_card)
{
	char *b = sale_body(3, "78", "Blocked Card");
	gw_charge_result_t r = parse(201, b, true, GW_BRAND_VISA);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_DECLINED);
	cr_assert_str_eq(r.r.code, "78");
	cr_assert_str_eq(r.abecs_code, "78");
	cr_assert_str_eq(r.r.message, "Blocked Card");
	cr_assert_str_eq(r.payment_id, PAYID);
	/* ABECS: 78 (card not unlocked) is reversible: a second attempt is allowed. */
	cr_assert_not(r.irreversible);
	free(b);
}

Test(cielo_parse, irreversible_codes_by_brand)
{
	char *b;
	gw_charge_result_t r;

	b = sale_body(3, "41", "Lost Card");
	r = parse(201, b, true, GW_BRAND_VISA);
	cr_assert(r.irreversible, "41 lost card is final");
	free(b);
	/* The answer's card brand (Visa here) decides: 57 is final for Visa... */
	b = sale_body(3, "57", "Expired Card");
	r = parse(201, b, true, GW_BRAND_MASTERCARD);
	cr_assert(r.irreversible);
	free(b);
	cr_assert(gw_code_irreversible("57", GW_BRAND_ELO));
	cr_assert_not(gw_code_irreversible("57", GW_BRAND_MASTERCARD));
	cr_assert_not(gw_code_irreversible("04", GW_BRAND_ELO));
	cr_assert(gw_code_irreversible("04", GW_BRAND_VISA));
	cr_assert(gw_code_irreversible("R1", GW_BRAND_VISA));
	cr_assert(gw_code_irreversible("SC", GW_BRAND_VISA));
	cr_assert_not(gw_code_irreversible("05", GW_BRAND_VISA));
	cr_assert_not(gw_code_irreversible("51", GW_BRAND_VISA));
	cr_assert_not(gw_code_irreversible("", GW_BRAND_VISA));
	/* Aborted (13) is a decline too. */
	b = sale_body(13, "BP900", "Aborted");
	r = parse(201, b, true, GW_BRAND_VISA);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_DECLINED);
	cr_assert_not(r.irreversible);
	free(b);
}

Test(cielo_parse, every_status_value)
{
	static const struct {
		int st;
		gw_outcome_t o;
	} t[] = {
		{0, GW_OUTCOME_PENDING},  {1, GW_OUTCOME_APPROVED},  {2, GW_OUTCOME_APPROVED},
		{3, GW_OUTCOME_DECLINED}, {10, GW_OUTCOME_CANCELED}, {11, GW_OUTCOME_CANCELED},
		{12, GW_OUTCOME_PENDING}, {13, GW_OUTCOME_DECLINED}, {20, GW_OUTCOME_PENDING},
		{7, GW_OUTCOME_UNKNOWN},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *b = sale_body(t[i].st, "00", "x");
		gw_charge_result_t r = parse(200, b, true, GW_BRAND_VISA);
		cr_assert_eq(r.r.outcome, t[i].o, "status %d -> %s", t[i].st,
			     gw_outcome_name(r.r.outcome));
		free(b);
	}
	/* An unlisted status on a query is simply unreadable: retry later. */
	{
		char *b = sale_body(7, "00", "x");
		gw_charge_result_t r = parse(200, b, false, GW_BRAND_VISA);
		cr_assert_eq(r.r.outcome, GW_OUTCOME_ERROR_RETRYABLE);
		free(b);
	}
}

Test(cielo_parse, validation_error_array)
{
	gw_charge_result_t r = parse(
		400, "[{\"Code\":126,\"Message\":\"Credit Card Expiration Date is invalid\"}]",
		true, GW_BRAND_VISA);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_REJECTED);
	cr_assert_eq(r.r.error, 0);
	cr_assert_str_eq(r.r.code, "126");
	cr_assert_str_eq(r.r.message, "126 Credit Card Expiration Date is invalid");
	r = parse(
		400,
		"[{\"Code\":\"114\",\"Message\":\"The provided MerchantId is not in correct "
		"format\"},{\"Code\":126,\"Message\":\"Credit Card Expiration Date is invalid\"}]",
		true, GW_BRAND_VISA);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_REJECTED);
	cr_assert_str_eq(r.r.code, "114");
	cr_assert(strstr(r.r.message, "; 126 Credit Card") != NULL, "%s", r.r.message);
	/* A 400 whose body is not the array is still a rejection, by status. */
	r = parse(400, "<html>bad</html>", true, GW_BRAND_VISA);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_REJECTED);
	cr_assert_eq(r.r.code[0], '\0');
}

Test(cielo_parse, http_statuses)
{
	gw_charge_result_t r = parse(401, "", true, GW_BRAND_VISA);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_AUTH_FAILED);
	r = parse(403, "", false, GW_BRAND_VISA);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_AUTH_FAILED);
	r = parse(404, "", false, GW_BRAND_VISA);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_NOT_FOUND);
	r = parse(500, "{}", true, GW_BRAND_VISA);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_UNKNOWN, "a 5xx after a charge is unknown");
	r = parse(502, "", false, GW_BRAND_VISA);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_ERROR_RETRYABLE);
	r = parse(429, "", true, GW_BRAND_VISA);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_ERROR_RETRYABLE);
}

Test(cielo_parse, malformed_and_wrong_types)
{
	static const char *const bad[] = {
		"{\"Payment\":",
		"not json",
		"[]",
		"{}",
		"{\"Payment\":[]}",
		"{\"Payment\":{\"Status\":\"2\",\"PaymentId\":\"" PAYID "\"}}",
		"{\"Payment\":{\"Status\":2,\"PaymentId\":42}}",
		"{\"Payment\":{\"Status\":2}}",
		"{\"Payment\":{\"Status\":2.5,\"PaymentId\":\"" PAYID "\"}}",
		"{\"Payment\":{\"Status\":999,\"PaymentId\":\"" PAYID "\"}}",
		"{\"Payment\":{\"Status\":2,\"PaymentId\":\"has space\"}}",
		"{\"Payment\":{\"Status\":2,\"PaymentId\":\"" PAYID "\",\"ReturnCode\":[1]}}",
		"{\"Payment\":{\"Status\":2,\"PaymentId\":\"" PAYID "\",\"CreditCard\":\"x\"}}",
		"{\"Payment\":{\"Status\":2,\"PaymentId\":\"" PAYID "\"},\"Payment\":{}}",
		"{\"Payment\":{\"Status\":2,\"PaymentId\":\"a\\u0000b\"}}",
		"{\"Payment\":{\"Status\":2,\"PaymentId\":\"" PAYID "\"}} trailing",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		gw_charge_result_t r = parse(201, bad[i], true, GW_BRAND_VISA);
		cr_assert_eq(r.r.outcome, GW_OUTCOME_UNKNOWN, "[%zu] %s -> %s", i, bad[i],
			     gw_outcome_name(r.r.outcome));
		cr_assert_eq(r.r.error, -EBADMSG, "[%zu]", i);
		cr_assert(strstr(r.r.message, "malformed") != NULL, "[%zu] %s", i, r.r.message);
		r = parse(200, bad[i], false, GW_BRAND_VISA);
		cr_assert_eq(r.r.outcome, GW_OUTCOME_ERROR_RETRYABLE, "[%zu] query", i);
	}
}

Test(cielo_parse, huge_strings_are_bounded)
{
	size_t big = 100000;
	char *msg = malloc(big + 1);
	char *b;
	gw_charge_result_t r;

	memset(msg, 'm', big);
	msg[big] = '\0';
	b = sale_body(3, "05", msg);
	r = parse(201, b, true, GW_BRAND_VISA);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_DECLINED, "a long message is cut, not fatal");
	cr_assert_eq(strlen(r.r.message), GW_MSG_MAX - 1);
	free(b);
	/* A long id is not cut (a truncated id is a wrong id): malformed. */
	cr_assert_gt(asprintf(&b, "{\"Payment\":{\"Status\":2,\"PaymentId\":\"%s\"}}", msg), 0);
	r = parse(201, b, true, GW_BRAND_VISA);
	cr_assert_eq(r.r.outcome, GW_OUTCOME_UNKNOWN);
	cr_assert_eq(r.payment_id[0], '\0');
	free(b);
	free(msg);
}

Test(cielo_parse, messages_never_carry_secrets)
{
	char *b = sale_body(3, "05", "key " MKEY " card 4551 8700 0000 0183 id 123");
	gw_charge_result_t r = parse(201, b, true, GW_BRAND_VISA);
	cr_assert_null(strstr(r.r.message, MKEY), "%s", r.r.message);
	cr_assert_null(strstr(r.r.message, "0183"), "%s", r.r.message);
	cr_assert_str_eq(r.r.message, "key [redacted] card [redacted] id 123");
	free(b);
	/* Transport failures say what failed, with no credential either. */
	{
		http_response_t res = gwfx_resp_err(-ETIMEDOUT, "timed out");
		gw_charge_result_t t;
		memset(&t, 0, sizeof(t));
		gw_cielo_parse_sale(gwp.gw, &res, true, GW_BRAND_VISA, &t);
		cr_assert_eq(t.r.outcome, GW_OUTCOME_UNKNOWN);
		cr_assert_str_eq(t.r.message, "cielo: timed out");
	}
}

/* ================================================================== over HTTP */

/*
 * recurring_req() charged once through a responder with rules (sales under /cielo,
 * queries under /cieloquery): the callback never runs inside the call, then once.
 */
static void charge_through(struct gwfx *fx, gw_config_t c, const gwsrv_rule_t *rules, size_t n,
			   struct rec_charge *rec)
{
	gw_charge_req_t r = recurring_req();

	gwfx_open(fx, &c, "/cielo", "/cieloquery", rules, n);
	cr_assert_eq(gw_charge_card(fx->gw, &r, rec_on_charge, rec), 0);
	cr_assert_eq(rec->calls, 0, "callback ran inside the call");
	gwfx_run(fx);
	cr_assert_eq(rec->calls, 1);
}

Test(cielo_http, charge_sends_the_sale_and_reads_the_answer)
{
	char *ok = sale_body(2, "6", "Operation Successful");
	gwsrv_rule_t rules[] = {{"POST", "/cielo/1/sales/", 201, ok, GWSRV_REPLY, 0, 0}};
	struct gwfx fx;
	struct rec_charge rec = {0};
	gwsrv_req_t *reqs;
	char h[256];
	json_t *j;

	charge_through(&fx, cielo_cfg(), rules, 1, &rec);
	cr_assert_eq(rec.res.r.outcome, GW_OUTCOME_APPROVED, "%s %s",
		     gw_outcome_name(rec.res.r.outcome), rec.res.r.message);
	cr_assert_str_eq(rec.res.payment_id, PAYID);
	cr_assert_str_eq(rec.res.merchant_order_id, "123-1", "ours, not Cielo's form");
	cr_assert_eq(gwfx_requests(&fx, &reqs), 1);
	cr_assert_str_eq(reqs[0].method, "POST");
	cr_assert_str_eq(gwsrv_req_header(&reqs[0], "MerchantId", h, sizeof(h)), MID);
	cr_assert_str_eq(gwsrv_req_header(&reqs[0], "MerchantKey", h, sizeof(h)), MKEY);
	cr_assert_str_eq(gwsrv_req_header(&reqs[0], "Content-Type", h, sizeof(h)),
			 "application/json");
	j = gwfx_json(&reqs[0]);
	cr_assert_str_eq(json_string_value(json_object_get(j, "MerchantOrderId")), "123x1");
	cr_assert(json_is_true(json_object_get(json_object_get(j, "Payment"), "Recurrent")));
	json_decref(j);
	gwfx_close(&fx);
	free(ok);
}

Test(cielo_http, decline_over_http)
{
	char *no = sale_body(3, "78", "Blocked Card");
	gwsrv_rule_t rules[] = {{"POST", "/cielo/1/sales/", 201, no, GWSRV_REPLY, 0, 0}};
	struct gwfx fx;
	struct rec_charge rec = {0};

	charge_through(&fx, cielo_cfg(), rules, 1, &rec);
	cr_assert_eq(rec.res.r.outcome, GW_OUTCOME_DECLINED);
	cr_assert_str_eq(rec.res.r.code, "78");
	cr_assert_str_eq(rec.res.r.message, "Blocked Card");
	gwfx_close(&fx);
	free(no);
}

/* Every way a charge's answer can be lost after sending: UNKNOWN, never DECLINED. */
struct charge_fault {
	const char *name;
	gwsrv_action_t action;
	int status;
	gw_outcome_t want;
};

ParameterizedTestParameters(cielo_http, charge_faults)
{
	static struct charge_fault faults[] = {
		{"timeout is unknown", GWSRV_HANG, 0, GW_OUTCOME_UNKNOWN},
		{"reset is unknown", GWSRV_RESET, 0, GW_OUTCOME_UNKNOWN},
		{"close without answer is unknown", GWSRV_CLOSE, 0, GW_OUTCOME_UNKNOWN},
		{"server error is unknown", GWSRV_REPLY, 500, GW_OUTCOME_UNKNOWN},
		/* A 404 on POST /1/sales/ is a wrong URL: nothing was charged. */
		{"not found on create is a rejection", GWSRV_REPLY, 404, GW_OUTCOME_REJECTED},
		{"garbage success is unknown", GWSRV_REPLY, 201, GW_OUTCOME_UNKNOWN},
	};
	return cr_make_param_array(struct charge_fault, faults, sizeof(faults) / sizeof(faults[0]));
}

ParameterizedTest(struct charge_fault *f, cielo_http, charge_faults)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/cielo/1/sales/", f->status, "{\"oops\":1}", f->action, 0, 0}};
	struct gwfx fx;
	gw_config_t c = cielo_cfg();
	struct rec_charge rec = {0};
	gwsrv_req_t *reqs;

	/* Short only where the responder never answers: an answer must not race it. */
	if (f->action == GWSRV_HANG)
		c.timeout_ms = 400;
	charge_through(&fx, c, rules, 1, &rec);
	cr_assert_eq(rec.res.r.outcome, f->want, "%s: %s (%s)", f->name,
		     gw_outcome_name(rec.res.r.outcome), rec.res.r.message);
	cr_assert_str_eq(rec.res.merchant_order_id, "123-1", "%s", f->name);
	cr_assert_null(strstr(rec.res.r.message, MKEY), "%s", f->name);
	cr_assert_eq(gwfx_requests(&fx, &reqs), 1, "%s: the request did reach the service",
		     f->name);
	gwfx_close(&fx);
}

Test(cielo_http, connection_refused_is_retryable)
{
	struct gwpfx p;
	gw_config_t c = cielo_cfg();
	gw_charge_req_t r = recurring_req();
	struct rec_charge rec = {0};
	gwsrv_t dead;

	/* A port that was just listening and is now closed refuses connections. */
	cr_assert_eq(gwsrv_start(&dead, NULL, 0), 0);
	gwsrv_stop(&dead);
	c.base_url = dead.base;
	gwpfx_open(&p, &c);
	cr_assert_eq(gw_charge_card(p.gw, &r, rec_on_charge, &rec), 0);
	uv_run(&p.loop, UV_RUN_DEFAULT);
	cr_assert_eq(rec.calls, 1);
	cr_assert_eq(rec.res.r.outcome, GW_OUTCOME_ERROR_RETRYABLE, "%s",
		     gw_outcome_name(rec.res.r.outcome));
	cr_assert_eq(rec.res.r.error, -ECONNREFUSED);
	gwpfx_close(&p);
}

Test(cielo_http, queries_go_to_the_query_host)
{
	char *ok = sale_body(3, "05", "Not Authorized");
	gwsrv_rule_t rules[] = {
		{"GET", "/cieloquery/1/sales/" PAYID, 200, ok, GWSRV_REPLY, 0, 0},
		{"GET", "/cieloquery/1/sales/00000000-0000-0000-0000-000000000000", 404, "",
		 GWSRV_REPLY, 0, 0},
	};
	struct gwfx fx;
	gw_config_t c = cielo_cfg();
	struct rec_charge a = {0};
	struct rec_charge b = {0};
	gwsrv_req_t *reqs;
	size_t n;

	gwfx_open(&fx, &c, "/cielo", "/cieloquery", rules, 2);
	cr_assert_eq(gw_query_charge(fx.gw, PAYID, rec_on_charge, &a), 0);
	cr_assert_eq(
		gw_query_charge(fx.gw, "00000000-0000-0000-0000-000000000000", rec_on_charge, &b),
		0);
	cr_assert_eq(gw_query_charge(fx.gw, "../../etc", rec_on_charge, &b), -EINVAL);
	gwfx_run(&fx);
	cr_assert_eq(a.res.r.outcome, GW_OUTCOME_DECLINED);
	cr_assert_str_eq(a.res.r.code, "05");
	cr_assert_eq(b.calls, 1);
	cr_assert_eq(b.res.r.outcome, GW_OUTCOME_NOT_FOUND);
	n = gwfx_requests(&fx, &reqs);
	cr_assert_eq(n, 2);
	for (size_t i = 0; i < n; i++)
		cr_assert_str_eq(reqs[i].method, "GET");
	gwfx_close(&fx);
	free(ok);
}

Test(cielo_http, query_by_order_picks_the_approved_payment)
{
	char *declined = sale_body(3, "05", "Not Authorized");
	char *approved = sale_body(2, "6", "Operation Successful");
	gwsrv_rule_t rules[] = {
		{"GET", "/cq/1/sales?merchantOrderId=77x2", 200,
		 "{\"ReasonCode\":0,\"ReasonMessage\":\"Successful\",\"Payments\":["
		 "{\"PaymentId\":\"11111111-1111-1111-1111-111111111111\",\"ReceveidDate\":"
		 "\"2024-11-29T13:36:04.033\"},"
		 "{\"PaymentId\":\"22222222-2222-2222-2222-222222222222\",\"ReceveidDate\":"
		 "\"2024-11-29T13:37:04.033\"}]}",
		 GWSRV_REPLY, 0, 0},
		{"GET", "/cq/1/sales/11111111-1111-1111-1111-111111111111", 200, declined,
		 GWSRV_REPLY, 0, 0},
		{"GET", "/cq/1/sales/22222222-2222-2222-2222-222222222222", 200, approved,
		 GWSRV_REPLY, 0, 0},
	};
	struct gwfx fx;
	gw_config_t c = cielo_cfg();
	struct rec_charge rec = {0};
	gwsrv_req_t *reqs;
	size_t n;

	gwfx_open(&fx, &c, "/c", "/cq", rules, 3);
	cr_assert_eq(gw_query_charge_by_order(fx.gw, "77-2", rec_on_charge, &rec), 0);
	gwfx_run(&fx);
	cr_assert_eq(rec.calls, 1);
	cr_assert_eq(rec.res.r.outcome, GW_OUTCOME_APPROVED, "%s %s",
		     gw_outcome_name(rec.res.r.outcome), rec.res.r.message);
	cr_assert_eq(rec.res.n_found, 2, "two payments for one order: a duplicate to look at");
	cr_assert_str_eq(rec.res.merchant_order_id, "77-2");
	n = gwfx_requests(&fx, &reqs);
	cr_assert_eq(n, 3);
	gwfx_close(&fx);
	free(declined);
	free(approved);
}

Test(cielo_http, query_by_order_none_and_failures)
{
	char *approved = sale_body(2, "6", "ok");
	gwsrv_rule_t rules[] = {
		{"GET", "/cq/1/sales?merchantOrderId=1x1", 200, "{\"Payments\":[]}", GWSRV_REPLY, 0,
		 0},
		{"GET", "/cq/1/sales?merchantOrderId=1x2", 404, "", GWSRV_REPLY, 0, 0},
		/* The older manual's shape: "Payment". */
		{"GET", "/cq/1/sales?merchantOrderId=1x3", 200,
		 "{\"Payment\":[{\"PaymentId\":\"33333333-3333-3333-3333-333333333333\"}]}",
		 GWSRV_REPLY, 0, 0},
		{"GET", "/cq/1/sales/33333333-3333-3333-3333-333333333333", 500, "", GWSRV_REPLY, 0,
		 0},
		{"GET", "/cq/1/sales?merchantOrderId=1x4", 200, "{\"Payments\":{}}", GWSRV_REPLY, 0,
		 0},
	};
	struct gwfx fx;
	gw_config_t c = cielo_cfg();
	struct rec_charge r1 = {0}, r2 = {0}, r3 = {0}, r4 = {0};

	gwfx_open(&fx, &c, "/c", "/cq", rules, 5);
	cr_assert_eq(gw_query_charge_by_order(fx.gw, "1-1", rec_on_charge, &r1), 0);
	cr_assert_eq(gw_query_charge_by_order(fx.gw, "1-2", rec_on_charge, &r2), 0);
	cr_assert_eq(gw_query_charge_by_order(fx.gw, "1-3", rec_on_charge, &r3), 0);
	cr_assert_eq(gw_query_charge_by_order(fx.gw, "1-4", rec_on_charge, &r4), 0);
	gwfx_run(&fx);
	cr_assert_eq(r1.res.r.outcome, GW_OUTCOME_NOT_FOUND);
	cr_assert_eq(r2.res.r.outcome, GW_OUTCOME_NOT_FOUND);
	/* A payment exists but could not be read: never "not found". */
	cr_assert_eq(r3.res.r.outcome, GW_OUTCOME_ERROR_RETRYABLE);
	cr_assert_eq(r3.res.n_found, 1);
	cr_assert_eq(r4.res.r.outcome, GW_OUTCOME_ERROR_RETRYABLE);
	cr_assert_eq(r4.res.r.error, -EBADMSG);
	gwfx_close(&fx);
	free(approved);
}

Test(cielo_http, tokenize_and_void)
{
	gwsrv_rule_t rules[] = {
		{"POST", "/cielo/1/card/", 201,
		 "{\"CardToken\":\"db62dc71-d07b-4745-9969-42697b988ccb\",\"Links\":{\"Method\":"
		 "\"GET\",\"Rel\":\"self\",\"Href\":\"https://apiquerysandbox.cieloecommerce."
		 "cielo.com.br/1/card/db62dc71-d07b-4745-9969-42697b988ccb\"}}",
		 GWSRV_REPLY, 0, 0},
		{"PUT", "/cielo/1/sales/" PAYID "/void?amount=1500", 200,
		 "{\"Status\":10,\"ReasonCode\":0,\"ReasonMessage\":\"Successful\","
		 "\"ProviderReturnCode\":\"9\",\"ProviderReturnMessage\":\"Operation Successful\","
		 "\"ReturnCode\":\"9\",\"ReturnMessage\":\"Operation Successful\",\"Tid\":"
		 "\"0719094510712\",\"Links\":[]}",
		 GWSRV_REPLY, 0, 0},
		{"PUT", "/cielo/1/sales/" PAYID "/void", 400,
		 "[{\"Code\":308,\"Message\":\"Transaction not available to void\"}]", GWSRV_REPLY,
		 0, 0},
	};
	struct gwfx fx;
	gw_config_t c = cielo_cfg();
	gw_card_t card = {.number = "4551870000000183",
			  .holder = "Teste Holder",
			  .exp_month = 3,
			  .exp_year = 2031,
			  .brand = GW_BRAND_VISA,
			  .customer_name = "Fulano"};
	struct rec_token tok = {0};
	struct rec_charge v1 = {0};
	struct rec_charge v2 = {0};
	gwsrv_req_t *reqs;
	size_t n;
	json_t *j;

	gwfx_open(&fx, &c, "/cielo", NULL, rules, 3);
	cr_assert_eq(gw_tokenize_card(fx.gw, &card, rec_on_token, &tok), 0);
	cr_assert_eq(gw_cancel_charge(fx.gw, PAYID, 1500, rec_on_charge, &v1), 0);
	gwfx_run(&fx);
	cr_assert_eq(gw_cancel_charge(fx.gw, PAYID, 0, rec_on_charge, &v2), 0);
	gwfx_run(&fx);
	cr_assert_eq(tok.res.r.outcome, GW_OUTCOME_APPROVED);
	cr_assert_str_eq(tok.res.card_token, "db62dc71-d07b-4745-9969-42697b988ccb");
	cr_assert_eq(tok.res.brand, GW_BRAND_VISA);
	cr_assert_eq(v1.res.r.outcome, GW_OUTCOME_CANCELED, "%s", v1.res.r.message);
	cr_assert_eq(v1.res.provider_status, 10);
	cr_assert_eq(v2.res.r.outcome, GW_OUTCOME_REJECTED);
	cr_assert_str_eq(v2.res.r.code, "308");
	n = gwfx_requests(&fx, &reqs);
	cr_assert_eq(n, 3);
	j = NULL;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(reqs[i].target, "/cielo/1/card/") == 0)
			j = gwfx_json(&reqs[i]);
	}
	cr_assert_not_null(j);
	cr_assert_str_eq(json_string_value(json_object_get(j, "CardNumber")), "4551870000000183");
	cr_assert_str_eq(json_string_value(json_object_get(j, "ExpirationDate")), "03/2031");
	cr_assert_str_eq(json_string_value(json_object_get(j, "Brand")), "Visa");
	cr_assert_str_eq(json_string_value(json_object_get(j, "Holder")), "Teste Holder");
	cr_assert_str_eq(json_string_value(json_object_get(j, "CustomerName")), "Fulano");
	json_decref(j);
	gwfx_close(&fx);
}

/* Nothing here reaches the network: the parser suites' gateway serves. */
Test(cielo_http, immediate_failures_never_call_back, .init = cielo_open, .fini = gwp_close)
{
	gw_charge_req_t r = recurring_req();
	struct rec_charge rec = {0};
	struct rec_msg m = {0};
	struct rec_link l = {0};
	gw_message_req_t msg = {.phone = "5511985850505", .text = "oi"};
	gw_link_req_t link = {0};

	r.merchant_order_id = "bad_id";
	cr_assert_eq(gw_charge_card(gwp.gw, &r, rec_on_charge, &rec), -EINVAL);
	cr_assert_eq(gw_charge_card(gwp.gw, NULL, rec_on_charge, &rec), -EINVAL);
	cr_assert_eq(gw_send_message(gwp.gw, &msg, rec_on_msg, &m), -ENOTSUP);
	cr_assert_eq(gw_create_link(gwp.gw, &link, rec_on_link, &l), -ENOTSUP);
	uv_run(&gwp.loop, UV_RUN_DEFAULT);
	cr_assert_eq(rec.calls + m.calls + l.calls, 0);
}

Test(cielo_http, close_with_calls_in_flight)
{
	gwsrv_rule_t rules[] = {{"POST", "/cielo/1/sales/", 0, NULL, GWSRV_HANG, 0, 0}};
	struct gwfx fx;
	gw_config_t c = cielo_cfg();
	gw_charge_req_t r = recurring_req();
	struct rec_charge rec = {0};
	gw_t *gw;

	c.timeout_ms = 300;
	gwfx_open(&fx, &c, "/cielo", NULL, rules, 1);
	gw = fx.gw;
	cr_assert_eq(gw_charge_card(gw, &r, rec_on_charge, &rec), 0);
	/* Closed while the charge runs: the callback still comes, then the memory goes. */
	gw_close(gw);
	fx.gw = NULL;
	gwfx_run(&fx);
	cr_assert_eq(rec.calls, 1);
	cr_assert_eq(rec.res.r.outcome, GW_OUTCOME_UNKNOWN);
	http_client_close(fx.http, gwfx_on_http_closed, &fx);
	cr_assert_eq(uv_run(&fx.loop, UV_RUN_DEFAULT), 0);
	cr_assert_eq(uv_loop_close(&fx.loop), 0);
	gwsrv_stop(&fx.srv);
}

/* ================================================================== webhooks */

static gw_webhook_req_t hook(const http_header_t *h, size_t n, const char *body)
{
	gw_webhook_req_t w = {.method = "POST", .headers = h, .n_headers = n};
	gwfx_hook_body(&w, body);
	return w;
}

Test(cielo_webhook, registered_headers_authenticate)
{
	struct gwpfx p;
	gw_config_t c = cielo_cfg();
	http_header_t good[] = {{"Content-Type", "application/json"},
				{"x-ospay-hook", "s3cr3t-value-1"},
				{"X-Second", "another-secret"}};
	http_header_t wrong[] = {{"X-Ospay-Hook", "s3cr3t-value-2"},
				 {"X-Second", "another-secret"}};
	http_header_t missing[] = {{"X-Ospay-Hook", "s3cr3t-value-1"}};
	http_header_t twice[] = {{"X-Ospay-Hook", "s3cr3t-value-1"},
				 {"X-Ospay-Hook", "s3cr3t-value-1"},
				 {"X-Second", "another-secret"}};
	http_header_t prefix[] = {{"X-Ospay-Hook", "s3cr3t-value-"},
				  {"X-Second", "another-secret"}};
	const char *body = "{\"PaymentId\":\"" PAYID "\",\"ChangeType\":1}";
	gw_webhook_req_t w;
	uint64_t before;

	c.webhook_headers[0] = (gw_header_pair_t){"X-Ospay-Hook", "s3cr3t-value-1"};
	c.webhook_headers[1] = (gw_header_pair_t){"X-Second", "another-secret"};
	c.n_webhook_headers = 2;
	gwpfx_open(&p, &c);
	before = gw_secret_compare_count();
	w = hook(good, 3, body);
	cr_assert_eq(gw_verify_webhook(p.gw, &w), 0);
	cr_assert_eq(gw_secret_compare_count() - before, 2, "each pair compared in constant time");
	w = hook(wrong, 2, body);
	cr_assert_eq(gw_verify_webhook(p.gw, &w), -EACCES);
	w = hook(missing, 1, body);
	cr_assert_eq(gw_verify_webhook(p.gw, &w), -EACCES);
	w = hook(twice, 3, body);
	cr_assert_eq(gw_verify_webhook(p.gw, &w), -EACCES);
	w = hook(prefix, 2, body);
	cr_assert_eq(gw_verify_webhook(p.gw, &w), -EACCES);
	w = hook(NULL, 0, body);
	cr_assert_eq(gw_verify_webhook(p.gw, &w), -EACCES);
	gwpfx_close(&p);
}

Test(cielo_webhook, nothing_configured_refuses_all)
{
	struct gwpfx p;
	gw_config_t c = cielo_cfg();
	http_header_t h[] = {{"X-Anything", "x"}};
	gw_webhook_req_t w;

	gwpfx_open(&p, &c);
	w = hook(h, 1, "{}");
	cr_assert_eq(gw_verify_webhook(p.gw, &w), -EACCES);
	gwpfx_close(&p);
}

Test(cielo_webhook, parse_change_notifications)
{
	struct gwpfx p;
	gw_config_t c = cielo_cfg();
	gw_webhook_req_t w;
	gw_event_t ev;
	gw_event_t ev2;

	gwpfx_open(&p, &c);
	w = hook(NULL, 0, "{\"PaymentId\":\"" PAYID "\",\"ChangeType\":1}");
	cr_assert_eq(gw_parse_webhook(p.gw, &w, &ev), 0, "%s", ev.error);
	cr_assert_eq(ev.kind, GW_EVENT_PAYMENT_STATUS);
	cr_assert_str_eq(ev.payment_id, PAYID);
	cr_assert_eq(ev.change_type, 1);
	cr_assert(ev.derived_id);
	cr_assert_gt(strlen(ev.event_id), 0);
	/* The same notification again has the same id (deduplication). */
	cr_assert_eq(gw_parse_webhook(p.gw, &w, &ev2), 0);
	cr_assert_str_eq(ev.event_id, ev2.event_id);

	w = hook(NULL, 0,
		 "{\"RecurrentPaymentId\":\"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\","
		 "\"PaymentId\":\"" PAYID "\",\"ChangeType\":\"4\"}");
	cr_assert_eq(gw_parse_webhook(p.gw, &w, &ev), 0, "%s", ev.error);
	cr_assert_eq(ev.kind, GW_EVENT_RECURRENCE);
	cr_assert_str_eq(ev.recurrence_id, "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
	cr_assert_str_neq(ev.event_id, ev2.event_id);

	w = hook(NULL, 0, "{\"PaymentId\":\"" PAYID "\",\"ChangeType\":7}");
	cr_assert_eq(gw_parse_webhook(p.gw, &w, &ev), 0);
	cr_assert_eq(ev.kind, GW_EVENT_CHARGEBACK);
	w = hook(NULL, 0, "{\"PaymentId\":\"" PAYID "\",\"ChangeType\":66}");
	cr_assert_eq(gw_parse_webhook(p.gw, &w, &ev), 0);
	cr_assert_eq(ev.kind, GW_EVENT_OTHER);
	gwpfx_close(&p);
}

Test(cielo_webhook, parse_rejects_bad_bodies)
{
	static const char *const bad[] = {
		"",
		"{",
		"[]",
		"{\"ChangeType\":1}",
		"{\"PaymentId\":\"" PAYID "\"}",
		"{\"PaymentId\":\"" PAYID "\",\"ChangeType\":\"one\"}",
		"{\"PaymentId\":\"" PAYID "\",\"ChangeType\":0}",
		"{\"PaymentId\":12,\"ChangeType\":1}",
		"{\"PaymentId\":\"a b\",\"ChangeType\":1}",
	};
	struct gwpfx p;
	gw_config_t c = cielo_cfg();

	gwpfx_open(&p, &c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		gw_webhook_req_t w = hook(NULL, 0, bad[i]);
		gw_event_t ev;
		cr_assert_eq(gw_parse_webhook(p.gw, &w, &ev), -EBADMSG, "[%zu] %s", i, bad[i]);
		cr_assert_gt(strlen(ev.error), 0);
	}
	gwpfx_close(&p);
}

Test(cielo_config, required_fields)
{
	struct gwpfx p;
	gw_config_t c = cielo_cfg();
	gw_t *gw = NULL;
	status_t st;

	gwpfx_open_client(&p);
	c.base_url = "ftp://x";
	c.merchant_key = NULL;
	c.soft_descriptor = "far too long descriptor";
	cr_assert_eq(gw_open(&gw, p.http, &p.loop, &c, &st), -EINVAL);
	cr_assert_null(gw);
	cr_assert_eq(st.code, ST_INVALID_ARGUMENT);
	cr_assert_eq(st.n_violations, 3);
	cr_assert_str_eq(st.violations[0].field, "base_url");
	cr_assert_str_eq(st.violations[1].field, "merchant_key");
	cr_assert_str_eq(st.violations[2].field, "soft_descriptor");
	c = cielo_cfg();
	c.base_url = "https://api.example/x?y=1";
	cr_assert_eq(gw_open(&gw, p.http, &p.loop, &c, &st), -EINVAL);
	c.base_url = "https://apisandbox.cieloecommerce.cielo.com.br/";
	c.merchant_key = "bad\nkey";
	cr_assert_eq(gw_open(&gw, p.http, &p.loop, &c, &st), -EINVAL);
	c.kind = (gw_kind_t)99;
	cr_assert_eq(gw_open(&gw, p.http, &p.loop, &c, &st), -EINVAL);
	gwpfx_close(&p);
}
