/*
 * The Cielo sale's stored-credential fields per brand and per use (issue 16,
 * docs/gateways.md): CardOnFile First/Used, IssuerTransactionId on a later
 * recurring charge only, the initiator indicator for Mastercard only,
 * CardOnFile for Visa, Mastercard and Elo only; and the holder rule at
 * tokenization.
 */
#include "gateways/gwtest.h"

#include <errno.h>

static gw_config_t cfg(void)
{
	gw_config_t c = {0};
	c.kind = GW_KIND_CIELO;
	c.merchant_id = "0f2a7c6e-1d5b-4a53-9a43-7a2f6b7d9e01";
	c.merchant_key = "KEYKEYKEYKEYKEYKEYKEYKEYKEYKEYKEYKEY0001";
	c.timeout_ms = TSP_HANG_MS;
	return c;
}

static json_t *sale(struct gwpfx *p, gw_brand_t brand, bool first, const char *ntid)
{
	gw_charge_req_t r = {0};
	json_t *j = NULL;
	r.merchant_order_id = "42-1";
	r.amount_cents = 9990;
	r.recurring = true;
	r.first_use = first;
	r.network_txn_id = ntid;
	r.card_token = "6e1bf77a-b28b-4660-b14f-455e2a1c95e9";
	r.brand = brand;
	cr_assert_eq(gw_cielo_build_sale(p->gw, &r, &j), 0);
	return j;
}

static json_t *pay_of(json_t *j)
{
	return json_object_get(j, "Payment");
}

static const char *usage_of(json_t *j)
{
	json_t *cof = json_object_get(json_object_get(pay_of(j), "CreditCard"), "CardOnFile");
	return cof != NULL ? json_string_value(json_object_get(cof, "Usage")) : NULL;
}

Test(cielo_cof, visa_first_then_later)
{
	struct gwpfx p;
	gw_config_t c = cfg();
	gwpfx_open(&p, &c);
	json_t *j = sale(&p, GW_BRAND_VISA, true, "123456789012345");
	cr_assert_str_eq(usage_of(j), "First");
	/* A first use sends no id, even when given one. */
	cr_assert_null(json_object_get(pay_of(j), "IssuerTransactionId"));
	cr_assert_null(json_object_get(pay_of(j), "InitiatedTransactionIndicator"));
	json_decref(j);
	j = sale(&p, GW_BRAND_VISA, false, "123456789012345");
	cr_assert_str_eq(usage_of(j), "Used");
	cr_assert_str_eq(json_string_value(json_object_get(pay_of(j), "IssuerTransactionId")),
			 "123456789012345");
	cr_assert_null(json_object_get(pay_of(j), "InitiatedTransactionIndicator"));
	json_decref(j);
	gwpfx_close(&p);
}

Test(cielo_cof, indicators_only_where_the_brand_takes_them)
{
	struct gwpfx p;
	gw_config_t c = cfg();
	gwpfx_open(&p, &c);
	json_t *j = sale(&p, GW_BRAND_MASTERCARD, false, "1");
	cr_assert_not_null(json_object_get(pay_of(j), "InitiatedTransactionIndicator"));
	cr_assert_str_eq(usage_of(j), "Used");
	json_decref(j);
	j = sale(&p, GW_BRAND_ELO, false, "1");
	cr_assert_null(json_object_get(pay_of(j), "InitiatedTransactionIndicator"));
	cr_assert_str_eq(usage_of(j), "Used");
	json_decref(j);
	j = sale(&p, GW_BRAND_AMEX, false, "1");
	cr_assert_null(json_object_get(pay_of(j), "InitiatedTransactionIndicator"));
	cr_assert_null(usage_of(j));
	cr_assert_str_eq(json_string_value(json_object_get(pay_of(j), "IssuerTransactionId")), "1");
	json_decref(j);
	gwpfx_close(&p);
}

Test(cielo_cof, a_bad_network_id_is_refused)
{
	struct gwpfx p;
	gw_config_t c = cfg();
	gwpfx_open(&p, &c);
	gw_charge_req_t r = {0};
	json_t *j = NULL;
	r.merchant_order_id = "42-1";
	r.amount_cents = 9990;
	r.recurring = true;
	r.network_txn_id = "12\"34";
	r.card_token = "6e1bf77a-b28b-4660-b14f-455e2a1c95e9";
	r.brand = GW_BRAND_VISA;
	cr_assert_eq(gw_cielo_build_sale(p.gw, &r, &j), -EINVAL);
	cr_assert_null(j);
	gwpfx_close(&p);
}
