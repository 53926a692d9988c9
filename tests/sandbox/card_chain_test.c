/*
 * The sandbox's stored-credential chain (docs/sandbox.md): a Cielo sale
 * answers an IssuerTransactionId and echoes CardOnFile; with the
 * require_network_txn_id fault mode a later recurring sale of the token that
 * does not send the first approved sale's id back is denied, one that does is
 * approved; the charge records say what each request carried.
 */
/* The harness is header-only: this file does not use all of it. */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "sbx_harness.h"

static void setup(void)
{
	h_setup();
	h_fresh();
}

TestSuite(card_chain, .init = setup, .fini = h_teardown, .timeout = 60);

/* Ana's card with number, sent to path (the card vault or Zero Auth), which must
 * answer expect; the caller frees the answer. */
static h_resp_t *post_card(const char *path, const char *number, long expect)
{
	char body[256];
	snprintf(body, sizeof(body),
		 "{\"CardNumber\":\"%s\",\"Holder\":\"ANA\",\"ExpirationDate\":\"12/2030\","
		 "\"Brand\":\"Visa\"}",
		 number);
	h_resp_t *r = h_req("POST", path, H_CIELO, body, 0);
	cr_assert_eq(r->status, expect, "%s", r->body);
	return r;
}

static char *token_of(const char *number)
{
	h_resp_t *t = post_card("/cielo/1/card/", number, 201);
	char *tok = strdup(json_string_value(json_object_get(t->json, "CardToken")));
	h_free(t);
	return tok;
}

/* A recurring token sale: usage "First"/"Used", ntid sent (NULL: none). */
static h_resp_t *token_sale(const char *moid, const char *tok, const char *usage, const char *ntid)
{
	char body[1024], extra[128] = "";
	if (ntid != NULL)
		snprintf(extra, sizeof(extra), "\"IssuerTransactionId\":\"%s\",", ntid);
	snprintf(body, sizeof(body),
		 "{\"MerchantOrderId\":\"%s\",\"Payment\":{\"Type\":\"CreditCard\","
		 "\"Amount\":990,\"Recurrent\":true,\"Capture\":true,%s\"CreditCard\":{"
		 "\"CardToken\":\"%s\",\"Brand\":\"Visa\",\"CardOnFile\":{\"Usage\":\"%s\","
		 "\"Reason\":\"Recurring\"}}}}",
		 moid, extra, tok, usage);
	h_resp_t *r = h_req("POST", "/cielo/1/sales/", H_CIELO, body, 0);
	cr_assert_eq(r->status, 201, "%s", r->body);
	return r;
}

static int sale_status(const h_resp_t *r)
{
	return (int)json_integer_value(
		json_object_get(json_object_get(r->json, "Payment"), "Status"));
}

Test(card_chain, cielo_requires_the_first_sales_id_back)
{
	h_ctl_ok("POST", "/control/settings", "{\"require_network_txn_id\":1}");
	char *tok = token_of("455187000000070");
	h_resp_t *first = token_sale("chain1", tok, "First", NULL);
	cr_assert_eq(sale_status(first), 2, "%s", first->body);
	json_t *pay = json_object_get(first->json, "Payment");
	const char *ntid = json_string_value(json_object_get(pay, "IssuerTransactionId"));
	cr_assert_not_null(ntid, "%s", first->body);
	cr_assert_str_eq(json_string_value(json_object_get(
				 json_object_get(json_object_get(pay, "CreditCard"), "CardOnFile"),
				 "Usage")),
			 "First");
	char id[64];
	snprintf(id, sizeof(id), "%s", ntid);
	h_free(first);

	h_resp_t *bad = token_sale("chain2", tok, "Used", NULL);
	cr_assert_eq(sale_status(bad), 3, "%s", bad->body);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(bad->json, "Payment"),
							   "ReturnCode")),
			 "KA");
	h_free(bad);
	bad = token_sale("chain3", tok, "Used", "999999999999999");
	cr_assert_eq(sale_status(bad), 3, "%s", bad->body);
	h_free(bad);
	h_resp_t *ok = token_sale("chain4", tok, "Used", id);
	cr_assert_eq(sale_status(ok), 2, "%s", ok->body);
	h_free(ok);

	/* The records say what each request carried. */
	h_resp_t *c = h_ctl("GET", "/control/charges?merchant_order_id=chain4", NULL, 200);
	json_t *rec = json_array_get(json_object_get(c->json, "charges"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(rec, "usage")), "Used");
	cr_assert_str_eq(json_string_value(json_object_get(rec, "network_txn_id_sent")), id);
	h_free(c);
	free(tok);
}

Test(card_chain, without_the_fault_mode_a_missing_id_is_taken)
{
	char *tok = token_of("455187000000070");
	h_free(token_sale("free1", tok, "First", NULL));
	h_resp_t *r = token_sale("free2", tok, "Used", NULL);
	cr_assert_eq(sale_status(r), 2, "%s", r->body);
	h_free(r);
	free(tok);
}

Test(card_chain, zero_auth_validates_without_charging)
{
	h_resp_t *r = post_card("/cielo/1/zeroauth", "455187000000070", 200);
	cr_assert(json_is_true(json_object_get(r->json, "Valid")));
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "ReturnCode")), "00");
	cr_assert_not_null(json_object_get(r->json, "IssuerTransactionId"));
	h_free(r);
	r = post_card("/cielo/1/zeroauth", "455187000000005", 200);
	cr_assert(json_is_false(json_object_get(r->json, "Valid")));
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "ReturnCode")), "78");
	h_free(r);
	/* Nothing was charged. */
	h_resp_t *c = h_ctl("GET", "/control/charges", NULL, 200);
	cr_assert_eq(json_integer_value(json_object_get(c->json, "count")), 0);
	h_free(c);
}

/* The shapes the recordings show: Portuguese denials, Interest a number. */
Test(card_chain, cielo_answers_like_the_recordings)
{
	char *tok = token_of("455187000000005");
	h_resp_t *r = token_sale("rec1", tok, "First", NULL);
	json_t *pay = json_object_get(r->json, "Payment");
	cr_assert_str_eq(json_string_value(json_object_get(pay, "ReturnMessage")),
			 "Cartao Bloqueado");
	cr_assert(json_is_integer(json_object_get(pay, "Interest")), "%s", r->body);
	h_free(r);
	free(tok);
}

/* GetNet: the vault's expiry as numbers, the brand from the card in lower case. */
Test(card_chain, getnet_vault_like_the_recordings)
{
	h_resp_t *t = h_req("POST", "/getnet/auth/oauth/v2/token",
			    (const char *const[]){"Authorization: Basic Y2lkLTc6Y3NlY3JldC03",
						  "Content-Type: application/x-www-form-urlencoded",
						  NULL},
			    "scope=oob&grant_type=client_credentials", 0);
	cr_assert_eq(t->status, 200, "%s", t->body);
	char auth[128];
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
		 json_string_value(json_object_get(t->json, "access_token")));
	h_free(t);
	const char *const hdr[] = {auth, "seller_id: seller-7", "Content-Type: application/json",
				   NULL};
	h_resp_t *nt = h_req("POST", "/getnet/v1/tokens/card", hdr,
			     "{\"card_number\":\"5155901222280001\",\"customer_id\":\"c1\"}", 0);
	cr_assert_eq(nt->status, 201, "%s", nt->body);
	char body[512];
	snprintf(body, sizeof(body),
		 "{\"number_token\":\"%s\",\"customer_id\":\"c1\",\"cardholder_name\":"
		 "\"ANA\",\"expiration_month\":\"12\",\"expiration_year\":\"30\","
		 "\"brand\":\"Visa\"}",
		 json_string_value(json_object_get(nt->json, "number_token")));
	h_free(nt);
	h_resp_t *v = h_req("POST", "/getnet/v1/cards", hdr, body, 0);
	cr_assert_eq(v->status, 201, "%s", v->body);
	char path[128];
	snprintf(path, sizeof(path), "/getnet/v1/cards/%s",
		 json_string_value(json_object_get(v->json, "card_id")));
	h_free(v);
	h_resp_t *g = h_req("GET", path, hdr, NULL, 0);
	cr_assert_eq(g->status, 200, "%s", g->body);
	cr_assert(json_is_integer(json_object_get(g->json, "expiration_month")), "%s", g->body);
	cr_assert_eq(json_integer_value(json_object_get(g->json, "expiration_year")), 30);
	/* A Mastercard number sent as "Visa": GetNet says what the card is. */
	cr_assert_str_eq(json_string_value(json_object_get(g->json, "brand")), "mastercard");
	h_free(g);
}
