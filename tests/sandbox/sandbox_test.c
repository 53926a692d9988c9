/*
 * ospay-sandbox end to end: the real binary on port 0, driven over HTTP, with
 * its webhooks caught by a forked receiver. One sandbox per suite; each test
 * starts from /control/reset.
 */
#include "sbx_harness.h"

/* Luhn-valid card numbers by final digit. */
static const char *const CARD[10] = {
	"455187000000070", "455187000000021", "455187000000062", "455187000000013",
	"455187000000054", "455187000000005", "455187000000096", "455187000000047",
	"455187000000088", "455187000000039",
};

static void setup(void)
{
	h_setup();
	h_fresh();
}

TestSuite(sandbox, .init = setup, .fini = h_teardown, .timeout = 60);

/* ---------------------------------------------------------------- Cielo */

Test(sandbox, cielo_outcomes_by_final_digit)
{
	static const struct {
		int digit;
		int status;
		const char *code;
		const char *msg;
	} want[] = {
		{0, 2, "6", "Operacao realizada com sucesso"},
		{1, 2, "6", "Operacao realizada com sucesso"},
		{4, 2, "6", "Operacao realizada com sucesso"},
		{2, 3, "05", "Nao Autorizada"},
		{3, 3, "57", "Cartao Expirado"},
		{5, 3, "78", "Cartao Bloqueado"},
		{6, 3, "99", "Time Out"},
		{7, 3, "77", "Cartao Cancelado"},
		{8, 3, "70", "Problemas com o Cartao de Credito"},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char moid[32];
		snprintf(moid, sizeof(moid), "inv%zu", i);
		h_resp_t *r = h_cielo_sale(moid, CARD[want[i].digit], true);
		cr_assert_eq(r->status, 201, "digit %d: %ld %s", want[i].digit, r->status, r->body);
		json_t *p = json_object_get(r->json, "Payment");
		cr_assert_eq(json_integer_value(json_object_get(p, "Status")), want[i].status,
			     "digit %d: %s", want[i].digit, r->body);
		cr_assert_str_eq(json_string_value(json_object_get(p, "ReturnCode")), want[i].code);
		cr_assert_str_eq(json_string_value(json_object_get(p, "ReturnMessage")),
				 want[i].msg);
		h_free(r);
	}
	/* Without Capture an approved sale is only Authorized (Status 1, ReturnCode 4). */
	h_resp_t *r = h_cielo_sale("auth1", CARD[4], false);
	json_t *p = json_object_get(r->json, "Payment");
	cr_assert_eq(json_integer_value(json_object_get(p, "Status")), 1);
	cr_assert_str_eq(json_string_value(json_object_get(p, "ReturnCode")), "4");
	h_free(r);
}

Test(sandbox, cielo_auth_failures_are_401)
{
	const char *none[] = {"Content-Type: application/json", NULL};
	const char *bad[] = {"MerchantId: mid-7", "MerchantKey: wrong", NULL};
	const char *unknown[] = {"MerchantId: nobody", "MerchantKey: mkey-7", NULL};
	h_resp_t *r = h_req("POST", "/cielo/1/sales/", none, "{}", 0);
	cr_assert_eq(r->status, 401);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(r->json, 0), "Code")), 101);
	h_free(r);
	r = h_req("GET", "/cielo/1/sales?merchantOrderId=x1", bad, NULL, 0);
	cr_assert_eq(r->status, 401);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(r->json, 0), "Code")), 132);
	h_free(r);
	r = h_req("GET", "/cielo/1/sales?merchantOrderId=x1", unknown, NULL, 0);
	cr_assert_eq(r->status, 401);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(r->json, 0), "Code")), 115);
	h_free(r);
	h_expect_charges(NULL, 0, -1, "no charge");
}

Test(sandbox, cielo_validation_errors_are_an_array)
{
	h_resp_t *r = h_req("POST", "/cielo/1/sales/", H_CIELO,
			    "{\"Payment\":{\"Type\":\"CreditCard\",\"Amount\":100,\"CreditCard\":{"
			    "\"CardNumber\":\"455187000000070\",\"Holder\":\"A\","
			    "\"ExpirationDate\":\"13/2030\",\"Brand\":\"Visa\"}}}",
			    0);
	cr_assert_eq(r->status, 400, "%s", r->body);
	cr_assert(json_is_array(r->json));
	cr_assert_eq(json_array_size(r->json), 2, "%s", r->body);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(r->json, 0), "Code")), 122);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(r->json, 1), "Code")), 126);
	h_free(r);
	r = h_req("POST", "/cielo/1/sales/", H_CIELO, "not json", 0);
	cr_assert_eq(r->status, 400);
	cr_assert(json_is_array(r->json));
	h_free(r);
}

Test(sandbox, cielo_token_sale_uses_the_card_behind_the_token)
{
	h_resp_t *t = h_req("POST", "/cielo/1/card/", H_CIELO,
			    "{\"CustomerName\":\"Ana\",\"CardNumber\":\"455187000000005\","
			    "\"Holder\":\"Ana\",\"ExpirationDate\":\"12/2030\",\"Brand\":\"Visa\"}",
			    0);
	cr_assert_eq(t->status, 201, "%s", t->body);
	const char *tok = json_string_value(json_object_get(t->json, "CardToken"));
	cr_assert_not_null(tok);
	char body[512];
	snprintf(body, sizeof(body),
		 "{\"MerchantOrderId\":\"inv42\",\"Payment\":{\"Type\":\"CreditCard\","
		 "\"Amount\":990,\"Recurrent\":true,\"Capture\":true,\"CreditCard\":{"
		 "\"CardToken\":\"%s\",\"Brand\":\"Visa\"}}}",
		 tok);
	h_resp_t *r = h_req("POST", "/cielo/1/sales/", H_CIELO, body, 0);
	cr_assert_eq(r->status, 201, "%s", r->body);
	json_t *p = json_object_get(r->json, "Payment");
	cr_assert_str_eq(json_string_value(json_object_get(p, "ReturnCode")), "78");
	cr_assert_str_eq(json_string_value(json_object_get(p, "ReturnMessage")),
			 "Cartao Bloqueado");
	cr_assert_eq(json_integer_value(json_object_get(p, "Status")), 3);
	cr_assert_str_eq(
		json_string_value(json_object_get(json_object_get(p, "CreditCard"), "CardNumber")),
		"455187*****0005");
	h_free(r);
	/* An unknown token: Cielo's 130. */
	r = h_req("POST", "/cielo/1/sales/", H_CIELO,
		  "{\"MerchantOrderId\":\"inv43\",\"Payment\":{\"Type\":\"CreditCard\","
		  "\"Amount\":990,\"CreditCard\":{\"CardToken\":\"nope\",\"Brand\":\"Visa\"}}}",
		  0);
	cr_assert_eq(r->status, 400);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(r->json, 0), "Code")), 130);
	h_free(r);
	h_free(t);
}

Test(sandbox, cielo_query_by_payment_id_and_repeated_merchant_order_id)
{
	h_resp_t *a = h_cielo_sale("inv77x1", CARD[2], true);
	h_resp_t *b = h_cielo_sale("inv77x1", CARD[0], true);
	const char *ida = json_string_value(
		json_object_get(json_object_get(a->json, "Payment"), "PaymentId"));
	const char *idb = json_string_value(
		json_object_get(json_object_get(b->json, "Payment"), "PaymentId"));
	char path[128];
	snprintf(path, sizeof(path), "/cielo/1/sales/%s", ida);
	h_resp_t *g = h_req("GET", path, H_CIELO, NULL, 0);
	cr_assert_eq(g->status, 200);
	cr_assert_eq(
		json_integer_value(json_object_get(json_object_get(g->json, "Payment"), "Status")),
		3);
	h_resp_t *q = h_req("GET", "/cielo/1/sales?merchantOrderId=inv77x1", H_CIELO, NULL, 0);
	cr_assert_eq(q->status, 200, "%s", q->body);
	json_t *pays = json_object_get(q->json, "Payments");
	cr_assert_eq(json_array_size(pays), 2, "%s", q->body);
	bool seen_a = false, seen_b = false;
	for (size_t i = 0; i < 2; i++) {
		const char *id =
			json_string_value(json_object_get(json_array_get(pays, i), "PaymentId"));
		seen_a = seen_a || strcmp(id, ida) == 0;
		seen_b = seen_b || strcmp(id, idb) == 0;
		cr_assert_not_null(json_object_get(json_array_get(pays, i), "ReceveidDate"));
	}
	cr_assert(seen_a && seen_b);
	h_resp_t *n = h_req("GET", "/cielo/1/sales?merchantOrderId=never1", H_CIELO, NULL, 0);
	cr_assert_eq(n->status, 404);
	h_expect_charges("inv77x1", 2, 1, "inv77x1");
	H_FREE_ALL(a, b, g, q, n);
}

Test(sandbox, cielo_capture_notification_with_registered_headers)
{
	h_resp_t *r = h_cielo_sale("inv5", CARD[1], true);
	const char *id = json_string_value(
		json_object_get(json_object_get(r->json, "Payment"), "PaymentId"));
	h_hook_expect(1, 0, "POST /webhooks/cielo/7 HTTP/1.1\r\n",
		      "X-Cielo-Hook: hook-secret-7\r\n");
	json_t *j = h_hook_json(0);
	cr_assert_str_eq(json_string_value(json_object_get(j, "PaymentId")), id);
	cr_assert_eq(json_integer_value(json_object_get(j, "ChangeType")), 1);
	json_decref(j);
	/* A denied sale is not captured: no notification. */
	h_free(h_cielo_sale("inv6", CARD[5], true));
	usleep(300000);
	cr_assert_eq(h_hooks_count(), 1);
	h_free(r);
}

/* ---------------------------------------------------------------- GetNet */

static const char *GN_BASIC = "Authorization: Basic Y2lkLTc6Y3NlY3JldC03"; /* cid-7:csecret-7 */

static void gn_token(char *out, size_t cap)
{
	const char *h[] = {GN_BASIC, "Content-Type: application/x-www-form-urlencoded", NULL};
	h_resp_t *r = h_req("POST", "/getnet/auth/oauth/v2/token", h,
			    "scope=oob&grant_type=client_credentials", 0);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "token_type")), "Bearer");
	snprintf(out, cap, "Authorization: Bearer %s",
		 json_string_value(json_object_get(r->json, "access_token")));
	h_free(r);
}

/* Tokenizes card and returns its number_token. */
static void gn_tokenize(const char *auth, const char *card, char *out, size_t cap)
{
	const char *h[] = {auth, "seller_id: seller-7", "Content-Type: application/json", NULL};
	char body[256];
	snprintf(body, sizeof(body), "{\"card_number\":\"%s\",\"customer_id\":\"c1\"}", card);
	h_resp_t *r = h_req("POST", "/getnet/v1/tokens/card", h, body, 0);
	cr_assert_eq(r->status, 201, "%s", r->body);
	snprintf(out, cap, "%s", json_string_value(json_object_get(r->json, "number_token")));
	cr_assert_eq(strlen(out), 128);
	h_free(r);
}

static h_resp_t *gn_pay(const char *auth, const char *ntoken, const char *order)
{
	const char *h[] = {auth, "seller_id: seller-7", "Content-Type: application/json", NULL};
	char body[1024];
	snprintf(body, sizeof(body),
		 "{\"seller_id\":\"seller-7\",\"amount\":15700,\"currency\":\"BRL\","
		 "\"order\":{\"order_id\":\"%s\"},\"customer\":{\"customer_id\":\"c1\"},"
		 "\"credit\":{\"delayed\":false,\"transaction_type\":\"FULL\","
		 "\"number_installments\":1,\"card\":{\"number_token\":\"%s\","
		 "\"cardholder_name\":\"Ana\",\"expiration_month\":\"12\",\"expiration_year\":"
		 "\"30\",\"brand\":\"Visa\"}}}",
		 order, ntoken);
	return h_req("POST", "/getnet/v1/payments/credit", h, body, 0);
}

Test(sandbox, getnet_token_bad_credentials_401)
{
	const char *h[] = {"Authorization: Basic Y2lkLTc6bm9wZQ==", NULL}; /* cid-7:nope */
	h_resp_t *r = h_req("POST", "/getnet/auth/oauth/v2/token", h,
			    "scope=oob&grant_type=client_credentials", 0);
	cr_assert_eq(r->status, 401);
	cr_assert_str_eq(json_string_value(json_object_get(r->json, "error")), "invalid_client");
	h_free(r);
	const char *b[] = {"Authorization: Bearer made-up", NULL};
	r = h_req("GET", "/getnet/v1/payments/credit?order_id=x", b, NULL, 0);
	cr_assert_eq(r->status, 401);
	h_free(r);
}

Test(sandbox, getnet_token_expires)
{
	char auth[128], nt[160];
	h_ctl_ok("POST", "/control/settings", "{\"getnet_token_ttl_ms\":400}");
	gn_token(auth, sizeof(auth));
	gn_tokenize(auth, CARD[0], nt, sizeof(nt));
	usleep(600000);
	const char *h[] = {auth, NULL};
	h_resp_t *r = h_req("GET", "/getnet/v1/payments/credit?order_id=x", h, NULL, 0);
	cr_assert_eq(r->status, 401, "%s", r->body);
	cr_assert_eq(json_integer_value(json_object_get(r->json, "status_code")), 401);
	h_free(r);
}

Test(sandbox, getnet_vault_payment_decline_cancel_and_notifications)
{
	char auth[128], nt[160], body[512];
	gn_token(auth, sizeof(auth));
	const char *h[] = {auth, "seller_id: seller-7", "Content-Type: application/json", NULL};

	/* Vault: the single-use token becomes a card with a reusable token. */
	gn_tokenize(auth, CARD[1], nt, sizeof(nt));
	snprintf(body, sizeof(body),
		 "{\"number_token\":\"%s\",\"customer_id\":\"c1\",\"cardholder_name\":\"Ana\","
		 "\"expiration_month\":\"12\",\"expiration_year\":\"30\",\"brand\":\"Visa\"}",
		 nt);
	h_resp_t *v = h_req("POST", "/getnet/v1/cards", h, body, 0);
	cr_assert_eq(v->status, 201, "%s", v->body);
	const char *vt = json_string_value(json_object_get(v->json, "number_token"));
	h_resp_t *again = h_req("POST", "/getnet/v1/cards", h, body, 0);
	cr_assert_eq(again->status, 400, "a single-use token works once");
	cr_assert_str_eq(
		json_string_value(json_object_get(
			json_array_get(json_object_get(again->json, "details"), 0), "error_code")),
		"TOKENIZATION-400");
	h_resp_t *p1 = gn_pay(auth, vt, "ord1");
	cr_assert_eq(p1->status, 200, "%s", p1->body);
	cr_assert_str_eq(json_string_value(json_object_get(p1->json, "status")), "APPROVED");
	h_resp_t *p2 = gn_pay(auth, vt, "ord2");
	cr_assert_eq(p2->status, 200, "vault tokens are reusable: %s", p2->body);

	/* Decline: final digit 5. */
	gn_tokenize(auth, CARD[5], nt, sizeof(nt));
	h_resp_t *d = gn_pay(auth, nt, "ord3");
	cr_assert_eq(d->status, 402, "%s", d->body);
	cr_assert_str_eq(json_string_value(json_object_get(d->json, "name")), "CreditServiceError");
	json_t *det = json_array_get(json_object_get(d->json, "details"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(det, "error_code")), "PAYMENTS-011");
	cr_assert_not_null(strstr(json_string_value(json_object_get(det, "description_detail")),
				  "[ECOM - 78]"));

	/* Cancel, then query by order id. */
	char path[160];
	const char *pid = json_string_value(json_object_get(p1->json, "payment_id"));
	snprintf(path, sizeof(path), "/getnet/v1/payments/credit/%s/cancel", pid);
	h_resp_t *c = h_req("POST", path, h, "{}", 0);
	cr_assert_eq(c->status, 200, "%s", c->body);
	cr_assert_str_eq(json_string_value(json_object_get(c->json, "status")), "CANCELED");
	h_resp_t *q = h_req("GET", "/getnet/v1/payments/credit?order_id=ord1", h, NULL, 0);
	cr_assert_eq(q->status, 200);
	cr_assert_str_eq(
		json_string_value(json_object_get(
			json_array_get(json_object_get(q->json, "payments"), 0), "status")),
		"CANCELED");

	/* Notifications: approved, approved, denied, canceled, as GETs with seller_id. */
	h_hook_expect(4, 2, "GET /webhooks/getnet/7?payment_type=credit&",
		      "&seller_id=seller-7 HTTP/1.1");
	h_hook_expect(4, 2, "GET /webhooks/getnet/7?", "status=DENIED");
	h_hook_expect(4, 3, "GET /webhooks/getnet/7?", "status=CANCELED");
	H_FREE_ALL(v, again, p1, p2, d, c, q);
}

/* ---------------------------------------------------------------- PagoLivre */

static const char *const PL_AUTH[] = {"Authorization: Basic pltoken7",
				      "Content-Type: application/json", NULL};

static h_resp_t *pl_create(const char *key, int installments)
{
	char body[512];
	snprintf(body, sizeof(body),
		 "{\"requestId\":\"req-%s\",\"orderKey\":\"%s\",\"amount\":300.01,"
		 "\"orderGuests\":[{\"cpf\":\"12345678909\",\"mobileNumber\":\"5511985850505\"}],"
		 "\"installments\":%d,\"receivingOptionType\":\"creditCard\","
		 "\"message\":\"Pague sua OS\",\"callbackUrl\":\"http://x/cb\"}",
		 key, key, installments);
	return h_req("POST", "/pagolivre/orders", PL_AUTH, body, 0);
}

Test(sandbox, pagolivre_link_paid_then_monthly_installments)
{
	h_resp_t *o = pl_create("os-1", 3);
	cr_assert_eq(o->status, 201, "%s", o->body);
	cr_assert_str_eq(json_string_value(json_object_get(o->json, "status")), "created");
	const char *url = json_string_value(json_object_get(o->json, "paymentUrl"));
	cr_assert(strncmp(url, H.base, strlen(H.base)) == 0, "%s", url);

	/* The SMS with the link was recorded. */
	h_resp_t *m = h_ctl("GET", "/control/messages?service=pagolivre", NULL, 200);
	json_t *sms = json_array_get(json_object_get(m->json, "messages"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(sms, "channel")), "sms");
	cr_assert_str_eq(json_string_value(json_object_get(sms, "phone")), "5511985850505");
	cr_assert_not_null(strstr(json_string_value(json_object_get(sms, "text")), url));

	/* Same requestId again: the same order. */
	h_resp_t *dup = pl_create("os-1", 3);
	cr_assert_eq(dup->status, 200);
	cr_assert_str_eq(json_string_value(json_object_get(dup->json, "id")),
			 json_string_value(json_object_get(o->json, "id")));

	h_ctl_ok("POST", "/control/pagolivre/orders/os-1/pay",
		 "{\"card_number\":\"455187000000070\"}");
	cr_assert_eq(h_hooks_wait(1, 5000), 1);
	char raw[4096];
	h_hook_read(0, raw, sizeof(raw));
	cr_assert(strncmp(raw, "POST /webhooks/pagolivre/7?accessToken=pltoken7 HTTP/1.1", 56) == 0,
		  "%s", raw);
	json_t *ev = h_hook_json(0);
	cr_assert_str_eq(json_string_value(json_object_get(ev, "eventName")), "orderPaid");
	cr_assert_str_eq(json_string_value(json_object_get(ev, "orderKey")), "os-1");
	json_decref(ev);

	h_ctl_ok("POST", "/control/pagolivre/orders/os-1/charge", "{\"outcome\":\"paid\"}");
	h_ctl_ok("POST", "/control/pagolivre/orders/os-1/charge",
		 "{\"outcome\":\"declined\",\"reason\":\"Saldo insuficiente\"}");
	h_free(h_ctl("POST", "/control/pagolivre/orders/os-1/charge", "{}", 409));
	cr_assert_eq(h_hooks_wait(3, 5000), 3);
	ev = h_hook_json(2);
	cr_assert_str_eq(json_string_value(json_object_get(ev, "eventName")), "installmentCharged");
	cr_assert_eq(json_integer_value(json_object_get(ev, "installment")), 3);
	cr_assert_str_eq(json_string_value(json_object_get(ev, "installmentStatus")), "declined");
	json_decref(ev);

	/* The query tells the truth the webhooks hinted at. */
	h_resp_t *g = h_req("GET", "/pagolivre/orders/byOrderKey/os-1", PL_AUTH, NULL, 0);
	cr_assert_eq(g->status, 200);
	cr_assert_str_eq(json_string_value(json_object_get(g->json, "status")), "paid");
	json_t *ch = json_object_get(g->json, "charges");
	cr_assert_eq(json_array_size(ch), 3);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(ch, 1), "status")),
			 "paid");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(ch, 2), "status")),
			 "declined");
	cr_assert_str_eq(
		json_string_value(json_object_get(json_array_get(ch, 2), "decliningReason")),
		"Saldo insuficiente");
	/* 300.01 in 3: the first installment takes the odd centavo. */
	cr_assert_float_eq(json_real_value(json_object_get(json_array_get(ch, 0), "amount")),
			   100.01, 1e-9);
	h_resp_t *none = h_req("GET", "/pagolivre/orders/byOrderKey/nope", PL_AUTH, NULL, 0);
	cr_assert_eq(none->status, 204);
	cr_assert_eq(none->len, 0);
	h_expect_charges("os-1", 3, 2, "os-1");
	H_FREE_ALL(o, m, dup, g, none);
}

Test(sandbox, pagolivre_decline_expire_cancel_and_auth)
{
	h_free(pl_create("os-2", 1));
	h_free(pl_create("os-3", 1));
	h_resp_t *o4 = pl_create("os-4", 2);
	h_resp_t *d = h_ctl("POST", "/control/pagolivre/orders/os-2/pay",
			    "{\"card_number\":\"455187000000005\"}", 200);
	cr_assert_str_eq(json_string_value(json_object_get(d->json, "status")), "declined");
	cr_assert_str_eq(json_string_value(json_object_get(d->json, "decliningReason")),
			 "Blocked Card");
	h_free(h_ctl("POST", "/control/pagolivre/orders/os-2/pay", "{}", 409));
	h_ctl_ok("POST", "/control/pagolivre/orders/os-3/expire", NULL);
	char path[128], body[128];
	snprintf(path, sizeof(path), "/pagolivre/orders/%s/cancel",
		 json_string_value(json_object_get(o4->json, "id")));
	snprintf(body, sizeof(body), "{\"cancellationRequestId\":\"c1\",\"reason\":\"cliente\"}");
	h_resp_t *c = h_req("POST", path, PL_AUTH, body, 0);
	cr_assert_eq(c->status, 200, "%s", c->body);
	cr_assert_str_eq(json_string_value(json_object_get(c->json, "status")), "canceled");
	cr_assert_eq(h_hooks_wait(3, 5000), 3);
	const char *want[] = {"orderDeclined", "orderExpired", "orderCanceled"};
	for (int i = 0; i < 3; i++) {
		json_t *ev = h_hook_json(i);
		cr_assert_str_eq(json_string_value(json_object_get(ev, "eventName")), want[i]);
		json_decref(ev);
	}
	const char *bad[] = {"Authorization: Basic wrong", NULL};
	h_resp_t *u = h_req("GET", "/pagolivre/orders/byOrderKey/os-2", bad, NULL, 0);
	cr_assert_eq(u->status, 401);
	H_FREE_ALL(o4, d, c, u);
}

/* ---------------------------------------------------------------- ZapMe */

Test(sandbox, zapme_send_get_and_delivery_webhook)
{
	const char *form[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
	h_resp_t *s =
		h_req("POST", "/zapme/messages/create", form,
		      "api=zapi-7&secret=zsecret-7&phone=5511985850505&message=Ol%C3%A1+Ana", 0);
	cr_assert_eq(s->status, 200, "%s", s->body);
	cr_assert_str_eq(json_string_value(json_object_get(s->json, "result")), "success");
	cr_assert_str_eq(json_string_value(json_object_get(s->json, "data")), "message_sent");
	json_int_t id = json_integer_value(json_object_get(s->json, "id"));
	cr_assert(id > 0);
	char path[128];
	snprintf(path, sizeof(path), "/zapme/messages/%lld?api=zapi-7&secret=zsecret-7",
		 (long long)id);
	h_resp_t *g = h_req("GET", path, NULL, NULL, 0);
	cr_assert_eq(g->status, 200, "%s", g->body);
	cr_assert_str_eq(
		json_string_value(json_object_get(json_object_get(g->json, "data"), "message")),
		"Olá Ana");
	h_hook_expect(1, 0, "POST /webhooks/zapme/7 HTTP/1.1", "X-ZapMe-Secret: zhook-7\r\n");
	json_t *ev = h_hook_json(0);
	cr_assert_eq(json_integer_value(json_object_get(ev, "id")), id);
	cr_assert_str_eq(json_string_value(json_object_get(ev, "status")), "delivered");
	json_decref(ev);
	h_resp_t *bad = h_req("POST", "/zapme/messages/create", form,
			      "api=zapi-7&secret=nope&phone=5511985850505&message=x", 0);
	cr_assert_eq(bad->status, 401);
	h_resp_t *m = h_ctl("GET", "/control/messages?service=zapme", NULL, 200);
	cr_assert_eq(json_array_size(json_object_get(m->json, "messages")), 1);
	H_FREE_ALL(s, g, bad, m);
}

/* ---------------------------------------------------------------- request faults */

Test(sandbox, fault_http500_then_normal)
{
	h_fault("{\"service\":\"cielo\",\"route\":\"sale_create\",\"kind\":\"http500\","
		"\"count\":1}");
	h_resp_t *r = h_cielo_sale("f1", CARD[0], true);
	cr_assert_eq(r->status, 500);
	h_free(r);
	r = h_cielo_sale("f1", CARD[0], true);
	cr_assert_eq(r->status, 201, "the fault was for one request only");
	h_free(r);
	h_expect_charges("f1", 1, -1, "a 500 without process charges nothing");
}

Test(sandbox, fault_latency_delays_the_answer)
{
	h_fault("{\"service\":\"getnet\",\"kind\":\"latency\",\"ms\":400,\"count\":1}");
	const char *h[] = {GN_BASIC, NULL};
	h_resp_t *r = h_req("POST", "/getnet/auth/oauth/v2/token", h,
			    "scope=oob&grant_type=client_credentials", 0);
	cr_assert_eq(r->status, 200);
	cr_assert(r->secs >= 0.38, "answered after %.3f s", r->secs);
	h_free(r);
	r = h_req("POST", "/getnet/auth/oauth/v2/token", h,
		  "scope=oob&grant_type=client_credentials", 0);
	cr_assert(r->secs < 0.3, "second answer took %.3f s", r->secs);
	h_free(r);
}

Test(sandbox, fault_timeout_processes_and_never_answers)
{
	h_fault("{\"service\":\"cielo\",\"route\":\"sale_create\",\"kind\":\"timeout\","
		"\"count\":1,\"process\":true}");
	h_resp_t *r = h_cielo_sale("t1", CARD[0], true);
	cr_assert_eq(r->curl_rc, CURLE_OPERATION_TIMEDOUT, "curl rc %d status %ld", r->curl_rc,
		     r->status);
	h_free(r);
	/* The charge happened: the server must resolve it by querying, not charge again. */
	h_resp_t *q = h_req("GET", "/cielo/1/sales?merchantOrderId=t1", H_CIELO, NULL, 0);
	cr_assert_eq(q->status, 200);
	cr_assert_eq(json_array_size(json_object_get(q->json, "Payments")), 1);
	h_free(q);
}

Test(sandbox, fault_reset_closes_without_answer)
{
	h_fault("{\"service\":\"zapme\",\"kind\":\"reset\",\"count\":1}");
	h_resp_t *r = h_req("POST", "/zapme/status", NULL, "api=zapi-7&secret=zsecret-7", 0);
	cr_assert_neq(r->curl_rc, CURLE_OK);
	cr_assert_eq(r->status, 0);
	cr_assert(r->curl_rc == CURLE_RECV_ERROR || r->curl_rc == CURLE_GOT_NOTHING ||
			  r->curl_rc == CURLE_SEND_ERROR,
		  "curl rc %d", r->curl_rc);
	h_free(r);
	r = h_req("POST", "/zapme/status", NULL, "api=zapi-7&secret=zsecret-7", 0);
	cr_assert_eq(r->status, 200);
	h_free(r);
}

Test(sandbox, fault_malformed_json_after_a_real_charge)
{
	h_fault("{\"service\":\"cielo\",\"route\":\"sale_create\",\"kind\":\"malformed\","
		"\"count\":1}");
	h_resp_t *r = h_cielo_sale("m1", CARD[0], true);
	cr_assert_eq(r->status, 201);
	cr_assert_null(r->json, "body parsed: %s", r->body);
	h_free(r);
	h_resp_t *c = h_ctl("GET", "/control/charges?merchant_order_id=m1", NULL, 200);
	cr_assert_eq(json_integer_value(json_object_get(c->json, "approved")), 1);
	h_free(c);
	h_resp_t *f = h_ctl("GET", "/control/faults", NULL, 200);
	cr_assert_eq(json_array_size(json_object_get(f->json, "faults")), 0, "count was used up");
	h_free(f);
}

/* ---------------------------------------------------------------- webhook faults */

Test(sandbox, webhook_duplicate)
{
	h_hook_fault("{\"service\":\"cielo\",\"kind\":\"duplicate\",\"copies\":2,\"count\":1}");
	h_free(h_cielo_sale("w1", CARD[0], true));
	cr_assert_eq(h_hooks_wait(3, 5000), 3);
	usleep(200000);
	cr_assert_eq(h_hooks_count(), 3);
	json_t *a = h_hook_json(0), *b = h_hook_json(2);
	cr_assert(json_equal(a, b));
	json_decref(a);
	json_decref(b);
}

Test(sandbox, webhook_delay)
{
	h_hook_fault("{\"service\":\"zapme\",\"kind\":\"delay\",\"ms\":700}");
	const char *form[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
	uint64_t t0 = h_now_ms();
	h_free(h_req("POST", "/zapme/messages/create", form,
		     "api=zapi-7&secret=zsecret-7&phone=5511985850505&message=hi", 0));
	/* Seen within 10 ms of arriving, never sooner than the delay: a lower bound
	 * only, which load cannot break (it can only make the wait longer). */
	cr_assert_eq(h_hooks_wait(1, 5000), 1);
	cr_assert(h_now_ms() - t0 >= 650);
}

Test(sandbox, webhook_reorder)
{
	h_hook_fault("{\"service\":\"pagolivre\",\"kind\":\"reorder\",\"batch\":2,\"count\":2}");
	h_free(pl_create("os-9", 2));
	h_ctl_ok("POST", "/control/pagolivre/orders/os-9/pay", "{\"outcome\":\"paid\"}");
	usleep(200000);
	cr_assert_eq(h_hooks_count(), 0, "the first event waits for its batch");
	h_ctl_ok("POST", "/control/pagolivre/orders/os-9/charge", "{\"outcome\":\"paid\"}");
	cr_assert_eq(h_hooks_wait(2, 5000), 2);
	json_t *a = h_hook_json(0), *b = h_hook_json(1);
	cr_assert_str_eq(json_string_value(json_object_get(a, "eventName")), "installmentCharged");
	cr_assert_str_eq(json_string_value(json_object_get(b, "eventName")), "orderPaid");
	json_decref(a);
	json_decref(b);
}

Test(sandbox, webhook_bad_auth_and_drop)
{
	h_hook_fault("{\"service\":\"pagolivre\",\"kind\":\"bad_auth\",\"count\":1}");
	h_hook_fault("{\"service\":\"cielo\",\"kind\":\"drop\",\"count\":1}");
	h_free(pl_create("os-8", 1));
	h_ctl_ok("POST", "/control/pagolivre/orders/os-8/pay", "{\"outcome\":\"paid\"}");
	h_free(h_cielo_sale("d1", CARD[0], true));
	cr_assert_eq(h_hooks_wait(1, 5000), 1);
	usleep(300000);
	cr_assert_eq(h_hooks_count(), 1, "the Cielo notification was dropped");
	char raw[4096];
	h_hook_read(0, raw, sizeof(raw));
	cr_assert_null(strstr(raw, "accessToken=pltoken7"), "%s", raw);
	cr_assert_not_null(strstr(raw, "accessToken=wrong-credential"), "%s", raw);
	h_resp_t *w = h_ctl("GET", "/control/webhooks?service=cielo", NULL, 200);
	json_t *del = json_array_get(json_object_get(w->json, "deliveries"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(del, "fault")), "drop");
	h_free(w);
}

Test(sandbox, webhook_retried_until_accepted)
{
	h_recv_set_status(503);
	h_free(h_cielo_sale("r1", CARD[0], true));
	cr_assert_eq(h_hooks_wait(2, 5000), 2);
	h_recv_set_status(200);
	cr_assert_eq(h_hooks_wait(3, 5000), 3);
	usleep(400000);
	cr_assert_eq(h_hooks_count(), 3, "no retry after a 200");
	h_resp_t *w = h_ctl("GET", "/control/webhooks?service=cielo", NULL, 200);
	json_t *d = json_object_get(w->json, "deliveries");
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(d, 0), "status")), 503);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(d, 2), "status")), 200);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(d, 2), "attempt")), 3);
	h_free(w);
}

/* ---------------------------------------------------------------- control API */

Test(sandbox, control_rejects_bad_input)
{
	h_free(h_ctl("POST", "/control/orgs/0/cielo", "{}", 400));
	h_free(h_ctl("POST", "/control/orgs/8/paypal", "{}", 404));
	h_free(h_ctl("POST", "/control/orgs/8/cielo", "{\"merchant_id\":\"m\"}", 400));
	h_free(h_ctl("POST", "/control/orgs/8/cielo",
		     "{\"merchant_id\":\"mid-7\",\"merchant_key\":\"k\"}", 400));
	h_free(h_ctl("POST", "/control/faults", "{\"kind\":\"explode\"}", 400));
	h_free(h_ctl("POST", "/control/faults",
		     "{\"service\":\"cielo\",\"route\":\"no_such\",\"kind\":\"http500\"}", 400));
	h_free(h_ctl("POST", "/control/faults", "{\"service\":\"cielo\",\"kind\":\"latency\"}",
		     400));
	h_free(h_ctl("POST", "/control/faults", "not json", 400));
	h_free(h_ctl("GET", "/control/nothing", NULL, 404));
	h_resp_t *o = h_ctl("GET", "/control/orgs", NULL, 200);
	cr_assert_eq(json_array_size(json_object_get(o->json, "orgs")), 1);
	h_free(o);
}
