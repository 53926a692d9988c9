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

static char *token_of(const char *number)
{
	char body[256];
	snprintf(body, sizeof(body),
		 "{\"CustomerName\":\"Ana\",\"CardNumber\":\"%s\",\"Holder\":\"ANA\","
		 "\"ExpirationDate\":\"12/2030\",\"Brand\":\"Visa\"}",
		 number);
	h_resp_t *t = h_req("POST", "/cielo/1/card/", H_CIELO, body, 0);
	cr_assert_eq(t->status, 201, "%s", t->body);
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
