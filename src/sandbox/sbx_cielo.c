/*
 * Cielo API E-commerce ("API 3.0") as its sandbox behaves (reference section 1):
 * sales decided by the card number's final digit (table 1.9), Payment.Status
 * codes of table 1.8, card tokens, queries by PaymentId and MerchantOrderId,
 * capture and void, validation errors as Cielo's JSON array, and the "Post de
 * Notificação" (PaymentId + ChangeType) with the organization's registered
 * static headers whenever a payment is captured or voided.
 */
#include "sandbox/sbx_int.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/util.h"

/* Cielo's "Post de Notificação": the first try and 3 retries. */
#define CIELO_HOOK_ATTEMPTS 4

typedef struct cielo_sale {
	list_node_t age;
	sbx_hnode_t by_id, by_moid;
	uint64_t org;
	char payment_id[37];
	char moid[51];
	char tid[21];
	char proof[8];
	char auth[7];
	char masked[24];
	char holder[64];
	char brand[16];
	char exp[8];
	char token[37];
	char customer[64];
	char soft[14];
	int64_t amount;
	int64_t installments;
	bool capture, recurrent, saved;
	int status;
	char ret_code[8];
	char ret_msg[40];
	char usage[8];       /* CardOnFile.Usage as sent, echoed */
	char cof_reason[16]; /* CardOnFile.Reason as sent, echoed */
	char ntid[24];       /* IssuerTransactionId of an approved sale */
	char mac[4];         /* MerchantAdviceCode of a decline, "" when none */
	char new_number[20]; /* Renova Fácil's NewCard.CardNumber, "" when none */
	int64_t received_ms;
	int64_t captured_ms, captured_amount;
	int64_t voided_ms, voided_amount;
} cielo_sale_t;

typedef struct cielo_card {
	list_node_t age;
	sbx_hnode_t by_token;
	uint64_t org;
	char token[37];
	char number[20];
	char holder[64];
	char exp[8];
	char brand[16];
	/* The network id of the card's first approved sale: what later stored-
	 * credential sales must send back as IssuerTransactionId. */
	char ntid[24];
} cielo_card_t;

static void cielo_card_wipe(list_node_t *n)
{
	cielo_card_t *c = container_of(n, cielo_card_t, age);
	crypto_wipe(c->number, sizeof(c->number));
}

int sbx_cielo_init(sbx_t *s)
{
	const sbx_table_spec_t tables[] = {
		{.table = &s->sales,
		 .cap = SBX_MAX_SALES,
		 .idx = {SBX_INDEX(&s->sale_by_id, cielo_sale_t, by_id, payment_id),
			 SBX_INDEX(&s->sale_by_moid, cielo_sale_t, by_moid, moid)}},
		{.table = &s->cards,
		 .cap = SBX_MAX_CARDS,
		 .idx = {SBX_INDEX(&s->card_by_token, cielo_card_t, by_token, token)},
		 .forget = cielo_card_wipe},
	};
	return sbx_tables_open(s, tables, OSPAY_ARRAY_LEN(tables));
}

/* ------------------------------------------------------------------ helpers */

static void cielo_err_add(json_t *arr, int code, const char *msg)
{
	json_array_append_new(arr, json_pack("{s:i, s:s}", "Code", code, "Message", msg));
}

static void cielo_err(sbx_resp_t *rs, int status, int code, const char *msg)
{
	json_t *arr = json_array();
	cielo_err_add(arr, code, msg);
	sbx_resp_json(rs, status, arr);
}

static bool cielo_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	return la == lb && crypto_equal(a, b, la);
}

/* The organization whose MerchantId/MerchantKey the request carries, or NULL after
 * answering 401. */
sbx_org_t *sbx_cielo_auth(sbx_t *s, const sbx_req_t *rq, sbx_resp_t *rs)
{
	const char *mid = sbx_req_header(rq, "MerchantId");
	const char *mkey = sbx_req_header(rq, "MerchantKey");
	sbx_org_t *org = NULL;

	if (mid == NULL || mid[0] == '\0') {
		cielo_err(rs, 401, 101, "MerchantId is required");
		goto out;
	}
	if (mkey == NULL || mkey[0] == '\0') {
		cielo_err(rs, 401, 131, "MerchantKey is required");
		goto out;
	}
	for (size_t i = 0; i < s->n_orgs && org == NULL; i++)
		if (s->orgs[i].cielo && cielo_eq(s->orgs[i].cielo_mid, mid))
			org = &s->orgs[i];
	if (org == NULL) {
		cielo_err(rs, 401, 115, "The provided MerchantId was not found");
	} else if (!cielo_eq(org->cielo_mkey, mkey)) {
		org = NULL;
		cielo_err(rs, 401, 132, "MerchantKey is invalid");
	}
out:
	return org;
}

static cielo_sale_t *cielo_sale_find(sbx_t *s, const sbx_org_t *org, const char *id)
{
	cielo_sale_t *x = SBX_HTAB_GET(&s->sale_by_id, id, cielo_sale_t, by_id);
	/* Another merchant's payment does not exist for this one (Cielo answers 404). */
	return x != NULL && x->org == org->id ? x : NULL;
}

static void cielo_digits(sbx_t *s, char *out, size_t n)
{
	uint64_t v = sbx_next(s) * 7919u + (uint64_t)util_wall_ms();
	for (size_t i = 0; i < n; i++) {
		out[n - 1 - i] = (char)('0' + v % 10);
		v /= 10;
	}
	out[n] = '\0';
}

static bool cielo_exp_ok(const char *e)
{
	return strlen(e) == 7 && isdigit((unsigned char)e[0]) && isdigit((unsigned char)e[1]) &&
	       e[2] == '/' && isdigit((unsigned char)e[3]) && isdigit((unsigned char)e[4]) &&
	       isdigit((unsigned char)e[5]) && isdigit((unsigned char)e[6]) &&
	       ((e[0] - '0') * 10 + (e[1] - '0')) >= 1 && ((e[0] - '0') * 10 + (e[1] - '0')) <= 12;
}

/* Cielo's checks of a card given in full, in its order and with its codes; a missing
 * number has the caller's code and message (a sale may name a token instead). */
static void cielo_card_errs(json_t *errs, const char *number, const char *holder, const char *exp,
			    int missing_code, const char *missing)
{
	if (number == NULL || number[0] == '\0')
		cielo_err_add(errs, missing_code, missing);
	else if (strlen(number) > 19)
		cielo_err_add(errs, 128, "Card Number length exceeded");
	else if (!sbx_luhn_ok(number))
		cielo_err_add(errs, 0, "Credit Card Number is invalid");
	if (holder == NULL || holder[0] == '\0')
		cielo_err_add(errs, 117, "Credit Card Holder is required");
	if (exp == NULL || exp[0] == '\0')
		cielo_err_add(errs, 125, "Credit Card Expiration Date is required");
	else if (!cielo_exp_ok(exp))
		cielo_err_add(errs, 126, "Credit Card Expiration Date is invalid");
}

static void cielo_brand_errs(json_t *errs, const char *brand)
{
	if (brand == NULL || brand[0] == '\0' || strlen(brand) >= 16)
		cielo_err_add(errs, 0, "Brand is required");
}

/* Cielo answers every error found at once, 400 with the list; true when it did
 * (the list is the response's now). */
static bool cielo_errs_answered(sbx_resp_t *rs, json_t **errs)
{
	if (json_array_size(*errs) == 0)
		return false;
	sbx_resp_json(rs, 400, *errs);
	*errs = NULL;
	return true;
}

static bool cielo_moid_ok(const char *m)
{
	size_t n = strlen(m);
	bool ok = n > 0 && n <= 50;
	for (size_t i = 0; i < n && ok; i++)
		ok = isalnum((unsigned char)m[i]) != 0;
	return ok;
}

static void cielo_links(sbx_t *s, json_t *pay, const cielo_sale_t *x)
{
	char href[256];
	json_t *links = json_array();
	snprintf(href, sizeof(href), "%s/cielo/1/sales/%s", s->self_base, x->payment_id);
	json_array_append_new(
		links, json_pack("{s:s, s:s, s:s}", "Method", "GET", "Rel", "self", "Href", href));
	if (x->status == 1) {
		snprintf(href, sizeof(href), "%s/cielo/1/sales/%s/capture", s->self_base,
			 x->payment_id);
		json_array_append_new(links, json_pack("{s:s, s:s, s:s}", "Method", "PUT", "Rel",
						       "capture", "Href", href));
	}
	if (x->status == 1 || x->status == 2) {
		snprintf(href, sizeof(href), "%s/cielo/1/sales/%s/void", s->self_base,
			 x->payment_id);
		json_array_append_new(links, json_pack("{s:s, s:s, s:s}", "Method", "PUT", "Rel",
						       "void", "Href", href));
	}
	json_object_set_new(pay, "Links", links);
}

static json_t *cielo_sale_json(sbx_t *s, const cielo_sale_t *x)
{
	char when[32];
	json_t *card =
		json_pack("{s:s, s:s, s:s, s:b, s:s}", "CardNumber", x->masked, "Holder", x->holder,
			  "ExpirationDate", x->exp, "SaveCard", x->saved, "Brand", x->brand);
	if (x->token[0] != '\0')
		json_object_set_new(card, "CardToken", json_string(x->token));
	if (x->usage[0] != '\0')
		json_object_set_new(
			card, "CardOnFile",
			json_pack("{s:s, s:s}", "Usage", x->usage, "Reason", x->cof_reason));
	sbx_time_brt(x->received_ms, when);
	json_t *pay = json_pack(
		"{s:i, s:I, s:i, s:b, s:b, s:b, s:o, s:s, s:s, s:s, s:s, s:I, s:s, s:i, s:s, s:s, "
		"s:s, s:s, s:s, s:s, s:b}",
		"ServiceTaxAmount", 0, "Installments", (json_int_t)x->installments, "Interest", 0,
		"Capture", x->capture, "Authenticate", false, "Recurrent", x->recurrent,
		"CreditCard", card, "ProofOfSale", x->proof, "Tid", x->tid, "SoftDescriptor",
		x->soft, "Provider", "Simulado", "Amount", (json_int_t)x->amount, "ReceivedDate",
		when, "Status", x->status, "ReturnCode", x->ret_code, "ReturnMessage", x->ret_msg,
		"PaymentId", x->payment_id, "Type", "CreditCard", "Currency", "BRL", "Country",
		"BRA", "IsSplitted", false);
	if (x->auth[0] != '\0')
		json_object_set_new(pay, "AuthorizationCode", json_string(x->auth));
	if (x->ntid[0] != '\0')
		json_object_set_new(pay, "IssuerTransactionId", json_string(x->ntid));
	if (x->mac[0] != '\0')
		json_object_set_new(pay, "MerchantAdviceCode", json_string(x->mac));
	if (x->new_number[0] != '\0')
		json_object_set_new(pay, "NewCard",
				    json_pack("{s:s, s:s, s:b, s:s}", "CardNumber", x->new_number,
					      "ExpirationDate", "12/2032", "SaveCard", false,
					      "Brand", x->brand));
	if (x->captured_ms != 0) {
		sbx_time_brt(x->captured_ms, when);
		json_object_set_new(pay, "CapturedAmount", json_integer(x->captured_amount));
		json_object_set_new(pay, "CapturedDate", json_string(when));
	}
	if (x->voided_ms != 0) {
		sbx_time_brt(x->voided_ms, when);
		json_object_set_new(pay, "VoidedAmount", json_integer(x->voided_amount));
		json_object_set_new(pay, "VoidedDate", json_string(when));
	}
	cielo_links(s, pay, x);
	return json_pack("{s:s, s:{s:s}, s:o}", "MerchantOrderId", x->moid, "Customer", "Name",
			 x->customer, "Payment", pay);
}

/* Cielo's "Post de Notificação" for a payment whose status changed. */
static void cielo_notify(sbx_t *s, const sbx_org_t *org, const cielo_sale_t *x)
{
	const char *hdr[4][2];
	size_t n = 0;
	char body[160];
	char summary[96];

	hdr[n][0] = "Content-Type";
	hdr[n][1] = "application/json";
	n++;
	for (size_t i = 0; i < org->cielo_n_hdr && i < 3; i++) {
		hdr[n][0] = org->cielo_hname[i];
		hdr[n][1] = org->cielo_hvalue[i];
		n++;
	}
	int len = snprintf(body, sizeof(body), "{\"PaymentId\":\"%s\",\"ChangeType\":1}",
			   x->payment_id);
	snprintf(summary, sizeof(summary), "PaymentId=%s ChangeType=1 Status=%d", x->payment_id,
		 x->status);
	sbx_hook_emit(s, "cielo", org->id, "POST", "", (const char *const(*)[2])hdr, n, body,
		      (size_t)len, CIELO_HOOK_ATTEMPTS, summary, NULL);
}

/*
 * The sandbox's outcome table (reference 1.9) by the card number's final digit.
 * Final digit 9 is "random" in Cielo's sandbox; here a hash of the
 * MerchantOrderId picks the code so a test can repeat it.
 */
static void cielo_decide(cielo_sale_t *x, int digit)
{
	static const struct {
		const char *code;
		const char *msg;
	} denied[10] = {
		[2] = {"05", "Nao Autorizada"},   [3] = {"57", "Cartao Expirado"},
		[5] = {"78", "Cartao Bloqueado"}, [6] = {"99", "Time Out"},
		[7] = {"77", "Cartao Cancelado"}, [8] = {"70", "Problemas com o Cartao de Credito"},
	};
	bool ok = digit == 0 || digit == 1 || digit == 4;
	int code9 = 0;

	if (digit == 9) {
		uint32_t h = 2166136261u;
		for (const char *p = x->moid; *p != '\0'; p++)
			h = (h ^ (uint8_t)*p) * 16777619u;
		code9 = 4 + (int)(h % 96);
		ok = code9 == 4 || code9 == 6;
	}
	if (ok) {
		x->status = x->capture ? 2 : 1;
		snprintf(x->ret_code, sizeof(x->ret_code), "%s", x->capture ? "6" : "4");
		snprintf(x->ret_msg, sizeof(x->ret_msg), "Operacao realizada com sucesso");
	} else {
		x->status = 3;
		if (digit == 9) {
			snprintf(x->ret_code, sizeof(x->ret_code), "%02d", code9);
			snprintf(x->ret_msg, sizeof(x->ret_msg), "Nao Autorizada");
		} else if (digit >= 0 && denied[digit].code != NULL) {
			snprintf(x->ret_code, sizeof(x->ret_code), "%s", denied[digit].code);
			snprintf(x->ret_msg, sizeof(x->ret_msg), "%s", denied[digit].msg);
		} else {
			snprintf(x->ret_code, sizeof(x->ret_code), "05");
			snprintf(x->ret_msg, sizeof(x->ret_msg), "Nao Autorizada");
		}
	}
}

/* control/cielo/decline: the next sale or Zero Auth is declined as told. */
static bool cielo_forced_decline(sbx_t *s, cielo_sale_t *x)
{
	if (s->cielo_next_n == 0)
		return false;
	s->cielo_next_n--;
	x->status = 3;
	snprintf(x->ret_code, sizeof(x->ret_code), "%s", s->cielo_next_code);
	snprintf(x->ret_msg, sizeof(x->ret_msg), "%s", s->cielo_next_msg);
	snprintf(x->mac, sizeof(x->mac), "%s", s->cielo_next_mac);
	return true;
}

/*
 * Renova Fácil's replacement: the old number's BIN and length, another body,
 * final digit 0 (the sandbox approves it), passing Luhn.
 */
static void cielo_new_number(const char *old, char out[20])
{
	size_t n = strlen(old);
	if (n < 12 || n > 19) {
		out[0] = '\0';
		return;
	}
	memcpy(out, old, 6);
	for (size_t i = 6; i < n; i++)
		out[i] = '7';
	out[n - 1] = '0';
	out[n] = '\0';
	for (int d = 0; d < 10; d++) {
		out[n - 2] = (char)('0' + d);
		if (sbx_luhn_ok(out))
			return;
	}
	out[0] = '\0';
}

static cielo_card_t *cielo_card_new(sbx_t *s, const sbx_org_t *org, const char *number,
				    const char *holder, const char *exp, const char *brand)
{
	cielo_card_t *c = calloc(1, sizeof(*c));
	if (c == NULL)
		goto out;
	c->org = org->id;
	sbx_uuid(c->token);
	snprintf(c->number, sizeof(c->number), "%s", number);
	snprintf(c->holder, sizeof(c->holder), "%s", holder);
	snprintf(c->exp, sizeof(c->exp), "%s", exp);
	snprintf(c->brand, sizeof(c->brand), "%s", brand);
	sbx_table_add(&s->cards, &c->age);
out:
	return c;
}

static cielo_card_t *cielo_card_find(sbx_t *s, const sbx_org_t *org, const char *token)
{
	cielo_card_t *c = SBX_HTAB_GET(&s->card_by_token, token, cielo_card_t, by_token);
	return c != NULL && c->org == org->id ? c : NULL;
}

/* ------------------------------------------------------------------ routes */

static void cielo_sale_create(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	sbx_org_t *org = call->org;
	json_t *j = call->body, *errs = NULL;
	cielo_sale_t *x = NULL;
	const char *number = NULL, *holder = NULL, *exp = NULL, *brand = NULL;
	cielo_card_t *card = NULL;

	if (!json_is_object(j)) {
		cielo_err(rs, 400, 0, "Request body is not a JSON object");
		goto out;
	}
	errs = json_array();
	const char *moid = sbx_jstr(j, "MerchantOrderId");
	json_t *pay = json_object_get(j, "Payment");
	json_t *cc = json_object_get(pay, "CreditCard");
	const char *type = sbx_jstr(pay, "Type");
	int64_t amount = 0, inst = 1;
	const char *tok = sbx_jstr(cc, "CardToken");

	if (moid == NULL || moid[0] == '\0')
		cielo_err_add(errs, 122, "MerchantOrderId is required");
	else if (!cielo_moid_ok(moid))
		cielo_err_add(errs, 0, "MerchantOrderId must be 1 to 50 letters and digits");
	if (!json_is_object(pay)) {
		cielo_err_add(errs, 119, "At least one Payment is required");
		goto invalid;
	}
	if (type == NULL)
		cielo_err_add(errs, 102, "Payment Type is required");
	else if (strcmp(type, "CreditCard") != 0)
		cielo_err_add(errs, 133, "Provider is not supported for this Payment Type");
	if (!sbx_jint(pay, "Amount", &amount) || amount <= 0)
		cielo_err_add(errs, 108, "Amount must be greater or equal to zero");
	if (json_object_get(pay, "Installments") != NULL &&
	    (!sbx_jint(pay, "Installments", &inst) || inst < 1 || inst > 99))
		cielo_err_add(errs, 123, "Installments must be greater or equal to one");
	if (!json_is_object(cc)) {
		cielo_err_add(errs, 124, "Credit Card is Required");
		goto invalid;
	}
	brand = sbx_jstr(cc, "Brand");
	if (tok != NULL) {
		card = cielo_card_find(s, org, tok);
		if (card == NULL) {
			cielo_err_add(errs, 130, "Could not get Credit Card");
			goto invalid;
		}
		number = card->number;
		holder = card->holder;
		exp = card->exp;
		if (brand == NULL)
			brand = card->brand;
	} else {
		number = sbx_jstr(cc, "CardNumber");
		holder = sbx_jstr(cc, "Holder");
		exp = sbx_jstr(cc, "ExpirationDate");
		cielo_card_errs(errs, number, holder, exp, 127,
				"You must provide CreditCard Number, Token or Alias");
	}
	cielo_brand_errs(errs, brand);
invalid:
	if (cielo_errs_answered(rs, &errs))
		goto out;

	x = calloc(1, sizeof(*x));
	if (x == NULL) {
		cielo_err(rs, 500, 0, "out of memory");
		goto out;
	}
	x->org = org->id;
	sbx_uuid(x->payment_id);
	snprintf(x->moid, sizeof(x->moid), "%s", moid);
	cielo_digits(s, x->tid, 20);
	cielo_digits(s, x->proof, 6);
	sbx_mask_card(number, x->masked);
	snprintf(x->holder, sizeof(x->holder), "%s", holder);
	snprintf(x->brand, sizeof(x->brand), "%s", brand);
	snprintf(x->exp, sizeof(x->exp), "%s", exp);
	snprintf(x->customer, sizeof(x->customer), "%s",
		 sbx_jstr(json_object_get(j, "Customer"), "Name") != NULL
			 ? sbx_jstr(json_object_get(j, "Customer"), "Name")
			 : "");
	snprintf(x->soft, sizeof(x->soft), "%s",
		 sbx_jstr(pay, "SoftDescriptor") != NULL ? sbx_jstr(pay, "SoftDescriptor") : "");
	x->amount = amount;
	x->installments = inst;
	x->capture = sbx_jbool(pay, "Capture", false);
	x->recurrent = sbx_jbool(pay, "Recurrent", false);
	x->received_ms = util_wall_ms();
	if (tok != NULL)
		snprintf(x->token, sizeof(x->token), "%s", tok);
	json_t *cof = json_object_get(cc, "CardOnFile");
	const char *ntid_sent = sbx_jstr(pay, "IssuerTransactionId");
	snprintf(x->usage, sizeof(x->usage), "%s",
		 sbx_jstr(cof, "Usage") != NULL ? sbx_jstr(cof, "Usage") : "");
	snprintf(x->cof_reason, sizeof(x->cof_reason), "%s",
		 sbx_jstr(cof, "Reason") != NULL ? sbx_jstr(cof, "Reason") : "");
	cielo_decide(x, sbx_final_digit(number));
	if (cielo_forced_decline(s, x) && s->cielo_next_new_card && x->recurrent)
		cielo_new_number(number, x->new_number);
	/* A later stored-credential sale without the first one's network id: the
	 * fault mode denies it, as an issuer enforcing the chain would. */
	if (s->require_ntid && card != NULL && card->ntid[0] != '\0' && x->recurrent &&
	    strcmp(x->usage, "First") != 0 &&
	    (ntid_sent == NULL || strcmp(ntid_sent, card->ntid) != 0)) {
		x->status = 3;
		snprintf(x->ret_code, sizeof(x->ret_code), "KA");
		snprintf(x->ret_msg, sizeof(x->ret_msg), "Autorizacao negada");
	}
	if (x->status == 1 || x->status == 2) {
		cielo_digits(s, x->auth, 6);
		cielo_digits(s, x->ntid, 15);
		if (card != NULL && card->ntid[0] == '\0')
			snprintf(card->ntid, sizeof(card->ntid), "%s", x->ntid);
	}
	if (x->status == 2) {
		x->captured_ms = x->received_ms;
		x->captured_amount = amount;
	}
	if (tok == NULL && sbx_jbool(cc, "SaveCard", false) && (x->status == 1 || x->status == 2)) {
		cielo_card_t *nc = cielo_card_new(s, org, number, holder, exp, brand);
		if (nc != NULL) {
			snprintf(x->token, sizeof(x->token), "%s", nc->token);
			x->saved = true;
		}
	}
	sbx_table_add(&s->sales, &x->age);
	sbx_charge_record(s, "cielo", org->id, x->moid, x->payment_id, amount,
			  x->status == 1 || x->status == 2,
			  x->status == 3 ? "Denied"
					 : (x->status == 2 ? "PaymentConfirmed" : "Authorized"),
			  x->ret_code, x->ret_msg, 0);
	{
		json_t *iti = json_object_get(pay, "InitiatedTransactionIndicator");
		char ind[48] = "";
		if (iti != NULL)
			snprintf(ind, sizeof(ind), "%s/%s",
				 sbx_jstr(iti, "Category") != NULL ? sbx_jstr(iti, "Category") : "",
				 sbx_jstr(iti, "Subcategory") != NULL ? sbx_jstr(iti, "Subcategory")
								      : "");
		sbx_cof_t mark = {x->recurrent, ind, x->usage, ntid_sent != NULL ? ntid_sent : "",
				  x->ntid};
		sbx_charge_mark(s, x->moid, &mark);
	}
	sbx_resp_json(rs, 201, cielo_sale_json(s, x));
	if (x->status == 2)
		cielo_notify(s, org, x);
out:
	json_decref(errs);
}

static void cielo_sale_get(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	cielo_sale_t *x = cielo_sale_find(s, call->org, call->args[0]);
	if (x == NULL)
		sbx_resp_set(rs, 404, NULL, NULL, 0);
	else
		sbx_resp_json(rs, 200, cielo_sale_json(s, x));
}

static void cielo_sale_query(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	char moid[64];
	json_t *list = NULL;

	if (!sbx_form_get(call->rq->query, strlen(call->rq->query), "merchantOrderId", moid,
			  sizeof(moid)) ||
	    moid[0] == '\0') {
		cielo_err(rs, 400, 122, "MerchantOrderId is required");
		goto out;
	}
	list = json_array();
	for (sbx_hnode_t *n = sbx_htab_find(&s->sale_by_moid, moid); n != NULL;
	     n = sbx_htab_next(n)) {
		cielo_sale_t *x = container_of(n, cielo_sale_t, by_moid);
		char when[32];
		if (x->org != call->org->id)
			continue;
		sbx_time_brt(x->received_ms, when);
		json_array_append_new(list, json_pack("{s:s, s:s}", "PaymentId", x->payment_id,
						      "ReceveidDate", when));
	}
	if (json_array_size(list) == 0) {
		sbx_resp_set(rs, 404, NULL, NULL, 0);
	} else {
		sbx_resp_json(rs, 200,
			      json_pack("{s:i, s:s, s:o}", "ReasonCode", 0, "ReasonMessage",
					"Successful", "Payments", list));
		list = NULL;
	}
out:
	json_decref(list);
}

static int64_t cielo_amount_param(const sbx_req_t *rq, int64_t def)
{
	char v[24];
	int64_t a = def;
	if (sbx_form_get(rq->query, strlen(rq->query), "amount", v, sizeof(v)) && v[0] != '\0') {
		char *end = NULL;
		long long n = strtoll(v, &end, 10);
		a = end != NULL && *end == '\0' && n > 0 ? (int64_t)n : -1;
	}
	return a;
}

static void cielo_sale_change(sbx_t *s, const sbx_call_t *call, bool capture, sbx_resp_t *rs)
{
	sbx_org_t *org = call->org;
	cielo_sale_t *x = cielo_sale_find(s, org, call->args[0]);
	int64_t amount = 0;

	if (x == NULL) {
		cielo_err(rs, 404, 307, "Transaction not found");
		goto out;
	}
	amount = cielo_amount_param(call->rq, capture                  ? x->amount
					      : x->captured_amount > 0 ? x->captured_amount
								       : x->amount);
	if (capture && (x->status != 1 || amount <= 0 || amount > x->amount)) {
		cielo_err(rs, 400, 308, "Transaction not available to capture");
		goto out;
	}
	if (!capture && ((x->status != 1 && x->status != 2) || amount <= 0 || amount > x->amount)) {
		cielo_err(rs, 400, 309, "Transaction not available to void");
		goto out;
	}
	if (capture) {
		x->status = 2;
		x->captured_ms = util_wall_ms();
		x->captured_amount = amount;
		snprintf(x->ret_code, sizeof(x->ret_code), "6");
	} else {
		x->status = 10;
		x->voided_ms = util_wall_ms();
		x->voided_amount = amount;
		snprintf(x->ret_code, sizeof(x->ret_code), "9");
	}
	snprintf(x->ret_msg, sizeof(x->ret_msg), "Operacao realizada com sucesso");
	json_t *r = json_pack("{s:i, s:i, s:s, s:s, s:s, s:s, s:s}", "Status", x->status,
			      "ReasonCode", 0, "ReasonMessage", "Successful", "ProviderReturnCode",
			      x->ret_code, "ProviderReturnMessage", x->ret_msg, "ReturnCode",
			      x->ret_code, "ReturnMessage", x->ret_msg);
	cielo_links(s, r, x);
	sbx_resp_json(rs, 200, r);
	cielo_notify(s, org, x);
out:
	return;
}

static void cielo_sale_capture(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	cielo_sale_change(s, call, true, rs);
}

static void cielo_sale_void(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	cielo_sale_change(s, call, false, rs);
}

static void cielo_card_create(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	json_t *j = call->body, *errs = NULL;

	if (!json_is_object(j)) {
		cielo_err(rs, 400, 0, "Request body is not a JSON object");
		goto out;
	}
	const char *number = sbx_jstr(j, "CardNumber"), *holder = sbx_jstr(j, "Holder");
	const char *exp = sbx_jstr(j, "ExpirationDate"), *brand = sbx_jstr(j, "Brand");
	errs = json_array();
	cielo_card_errs(errs, number, holder, exp, 118, "Credit Card Number is required");
	cielo_brand_errs(errs, brand);
	if (cielo_errs_answered(rs, &errs))
		goto out;
	cielo_card_t *c = cielo_card_new(s, call->org, number, holder, exp, brand);
	if (c == NULL) {
		cielo_err(rs, 500, 0, "out of memory");
		goto out;
	}
	char href[256];
	snprintf(href, sizeof(href), "%s/cielo/1/card/%s", s->self_base, c->token);
	sbx_resp_json(rs, 201,
		      json_pack("{s:s, s:{s:s, s:s, s:s}}", "CardToken", c->token, "Links",
				"Method", "GET", "Rel", "self", "Href", href));
out:
	json_decref(errs);
}

static void cielo_card_get(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	cielo_card_t *c = cielo_card_find(s, call->org, call->args[0]);
	char masked[24];
	if (c == NULL) {
		sbx_resp_set(rs, 404, NULL, NULL, 0);
		goto out;
	}
	sbx_mask_card(c->number, masked);
	sbx_resp_json(rs, 200,
		      json_pack("{s:s, s:s, s:s}", "CardNumber", masked, "Holder", c->holder,
				"ExpirationDate", c->exp));
out:
	return;
}

/*
 * Zero Auth (reference 1.3, POST /1/zeroauth): validates a card without
 * charging it, by CardNumber or CardToken, decided like a sale by the final
 * digit. {"Valid", "ReturnCode", "ReturnMessage", "IssuerTransactionId"}; a
 * valid check of a token opens its stored-credential chain.
 */
static void cielo_zero_auth(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	json_t *j = call->body;
	cielo_sale_t x;
	const char *tok = sbx_jstr(j, "CardToken"), *number = sbx_jstr(j, "CardNumber");
	cielo_card_t *card = tok != NULL ? cielo_card_find(s, call->org, tok) : NULL;
	if (card != NULL)
		number = card->number;
	if (!json_is_object(j) || number == NULL || !sbx_luhn_ok(number)) {
		cielo_err(rs, 400, 0, "CardNumber or a known CardToken is required");
		goto out;
	}
	memset(&x, 0, sizeof(x));
	x.capture = true;
	cielo_decide(&x, sbx_final_digit(number));
	cielo_forced_decline(s, &x);
	bool valid = x.status == 1 || x.status == 2;
	json_t *r = json_pack("{s:b, s:s, s:s}", "Valid", valid, "ReturnCode",
			      valid ? "00" : x.ret_code, "ReturnMessage",
			      valid ? "Transacao autorizada" : x.ret_msg);
	if (valid) {
		cielo_digits(s, x.ntid, 15);
		json_object_set_new(r, "IssuerTransactionId", json_string(x.ntid));
		if (card != NULL && card->ntid[0] == '\0')
			snprintf(card->ntid, sizeof(card->ntid), "%s", x.ntid);
	}
	sbx_resp_json(rs, 200, r);
out:
	return;
}

void sbx_cielo_control_decline(sbx_t *s, json_t *body, sbx_resp_t *rs)
{
	const char *code = sbx_jstr(body, "code"), *msg = sbx_jstr(body, "message");
	const char *mac = sbx_jstr(body, "merchant_advice_code");
	int64_t n = 1;
	if (code == NULL || code[0] == '\0' || strlen(code) >= sizeof(s->cielo_next_code) ||
	    (msg != NULL && strlen(msg) >= sizeof(s->cielo_next_msg)) ||
	    (mac != NULL && strlen(mac) >= sizeof(s->cielo_next_mac)) ||
	    (json_object_get(body, "count") != NULL &&
	     (!sbx_jint(body, "count", &n) || n < 1 || n > 1000))) {
		sbx_resp_json(rs, 400,
			      json_pack("{s:s}", "error",
					"code (1-7 characters), message (< 40), "
					"merchant_advice_code (< 4), count 1..1000"));
		return;
	}
	snprintf(s->cielo_next_code, sizeof(s->cielo_next_code), "%s", code);
	snprintf(s->cielo_next_msg, sizeof(s->cielo_next_msg), "%s",
		 msg != NULL ? msg : "Autorizacao negada");
	snprintf(s->cielo_next_mac, sizeof(s->cielo_next_mac), "%s", mac != NULL ? mac : "");
	s->cielo_next_n = (uint32_t)n;
	s->cielo_next_new_card = sbx_jbool(body, "new_card", false);
	sbx_resp_json(rs, 200, json_pack("{s:b}", "ok", true));
}

const sbx_route_t sbx_cielo_routes[] = {
	{"POST", "/1/sales", "sale_create", cielo_sale_create},
	{"GET", "/1/sales", "sale_query", cielo_sale_query},
	{"GET", "/1/sales/*", "sale_get", cielo_sale_get},
	{"PUT", "/1/sales/*/capture", "sale_capture", cielo_sale_capture},
	{"PUT", "/1/sales/*/void", "sale_void", cielo_sale_void},
	{"POST", "/1/card", "card_create", cielo_card_create},
	{"GET", "/1/card/*", "card_get", cielo_card_get},
	{"POST", "/1/zeroauth", "zero_auth", cielo_zero_auth},
};
const size_t sbx_cielo_n_routes = OSPAY_ARRAY_LEN(sbx_cielo_routes);
