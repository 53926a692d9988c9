/*
 * Cielo API 3.0 ("API E-commerce Cielo"): sales with a stored card token and
 * the "Recorrência Própria" flags, tokenization, void, queries by payment id
 * and by merchant order id, and the change notification. Facts: reference
 * section 1.
 *
 * Transactional calls (POST/PUT) go to the base URL, queries (GET) to the
 * query host; both carry MerchantId and MerchantKey headers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/util.h"
#include "core/card.h"
#include "gateways/gw_internal.h"

#define CIELO "cielo"

/* ------------------------------------------------------------------ configuration */

static bool cielo_descriptor_char(int c)
{
	return gw_is_alnum(c) || c == ' ';
}

static int cielo_check_config(const gw_config_t *cfg, status_t *st)
{
	if (cfg->merchant_id == NULL)
		status_violation(st, "merchant_id", "required for Cielo");
	if (cfg->merchant_key == NULL)
		status_violation(st, "merchant_key", "required for Cielo");
	/* Cielo: at most 13 characters, no special characters (reference 1.5). */
	if (cfg->soft_descriptor != NULL &&
	    !gw_str_charset(cfg->soft_descriptor, 13, cielo_descriptor_char))
		status_violation(st, "soft_descriptor", "1..13 letters, digits or spaces");
	return st->code == ST_OK ? 0 : -EINVAL;
}

/* ------------------------------------------------------------------ names */

/* Cielo's spelling of each brand (reference 1.4). */
static const char *cielo_brand(gw_brand_t b)
{
	switch (b) {
	case GW_BRAND_VISA:
		return "Visa";
	case GW_BRAND_MASTERCARD:
		return "Master";
	case GW_BRAND_AMEX:
		return "Amex";
	case GW_BRAND_ELO:
		return "Elo";
	case GW_BRAND_HIPERCARD:
		return "Hipercard";
	case GW_BRAND_DINERS:
		return "Diners";
	case GW_BRAND_DISCOVER:
		return "Discover";
	case GW_BRAND_JCB:
		return "JCB";
	case GW_BRAND_AURA:
		return "Aura";
	case GW_BRAND_UNKNOWN:
		break;
	}
	return NULL;
}

/* Payment.Status (reference 1.8): its name, and what it means for ospay. */
static gw_outcome_t cielo_status_outcome(int64_t st, const char **name)
{
	switch (st) {
	case 0:
		*name = "NotFinished";
		/* Not settled: Cielo may still void it (TryAutomaticCancellation). */
		return GW_OUTCOME_PENDING;
	case 1:
		*name = "Authorized";
		return GW_OUTCOME_APPROVED;
	case 2:
		*name = "PaymentConfirmed";
		return GW_OUTCOME_APPROVED;
	case 3:
		*name = "Denied";
		return GW_OUTCOME_DECLINED;
	case 10:
		*name = "Voided";
		return GW_OUTCOME_CANCELED;
	case 11:
		*name = "Refunded";
		return GW_OUTCOME_CANCELED;
	case 12:
		*name = "Pending";
		return GW_OUTCOME_PENDING;
	case 13:
		*name = "Aborted";
		return GW_OUTCOME_DECLINED;
	case 20:
		*name = "Scheduled";
		return GW_OUTCOME_PENDING;
	default:
		break;
	}
	*name = "";
	return GW_OUTCOME_UNKNOWN;
}

/* A sale's or a void's answer read: Cielo's status st (its outcome and name) and its
 * return message into out. */
static void cielo_take_status(const gw_t *gw, gw_charge_result_t *out, int64_t st, const char *msg)
{
	const char *st_name;

	out->provider_status = (int)st;
	out->r.outcome = cielo_status_outcome(st, &st_name);
	gw_copy(out->status_text, sizeof(out->status_text), st_name);
	gw_reply_message(gw, &out->r, msg);
	out->r.error = 0;
}

/* ------------------------------------------------------------------ requests */

int gw_cielo_order_id(const char *ours, char out[GW_ORDER_ID_MAX])
{
	size_t n = 0;

	/* Cielo takes only letters and digits (max 50); ospay's ids are
	 * "<invoice>-<attempt>". '-' is written as 'x', which is therefore not
	 * accepted in ours, so the mapping stays one-to-one. */
	if (ours == NULL)
		return -EINVAL;
	for (; ours[n] != '\0'; n++) {
		unsigned char c = (unsigned char)ours[n];
		if (n >= GW_ORDER_ID_MAX - 1 || c == 'x' || c == 'X' ||
		    !(gw_is_alnum(c) || c == '-'))
			return -EINVAL;
		out[n] = c == '-' ? 'x' : (char)c;
	}
	out[n] = '\0';
	return n > 0 ? 0 : -EINVAL;
}

static bool cielo_cvv_ok(const char *s)
{
	return s == NULL || (strlen(s) >= 3 && gw_str_charset(s, 4, gw_is_digit));
}

int gw_cielo_build_sale(const gw_t *gw, const gw_charge_req_t *req, json_t **out)
{
	char oid[GW_ORDER_ID_MAX];
	const char *brand = cielo_brand(req->brand);
	uint32_t inst = req->installments == 0 ? 1 : req->installments;
	const char *category;
	const char *subcategory;
	const char *reason;
	json_t *root = NULL;
	json_t *pay;
	json_t *card;
	int rc = 0;

	*out = NULL;
	if (gw_cielo_order_id(req->merchant_order_id, oid) < 0 || req->amount_cents <= 0 ||
	    req->amount_cents > GW_MAX_AMOUNT_CENTS || brand == NULL ||
	    !gw_str_charset(req->card_token, GW_TOKEN_MAX - 1, gw_is_id_char) ||
	    !cielo_cvv_ok(req->security_code) || inst > GW_MAX_INSTALLMENTS ||
	    (req->customer_name != NULL && !gw_text_ok(req->customer_name, 255))) {
		rc = -EINVAL;
		goto out;
	}
	/* Reference 1.5: recurrence goes with one installment, never more. */
	if (req->recurring && inst != 1) {
		rc = -EINVAL;
		goto out;
	}
	/*
	 * Reference 1.5: a monthly charge of a stored card, started by ospay without
	 * the customer, is merchant-initiated M1 "Subscription" (fixed amount and
	 * interval); its first use, with the customer present, is C1. A stored-card
	 * charge outside a recurrence is C1 "CredentialsOnFile".
	 */
	if (req->recurring) {
		category = req->first_use ? "C1" : "M1";
		subcategory = "Subscription";
		reason = "Recurring";
		/* From the second Recorrência Própria charge on, the network's id of
		 * the first ties it to the cardholder's consent (reference 1.5). */
		if (!req->first_use && req->network_txn_id != NULL &&
		    !gw_str_charset(req->network_txn_id, GW_ID_MAX - 1, gw_is_id_char)) {
			rc = -EINVAL;
			goto out;
		}
	} else {
		category = "C1";
		subcategory = "CredentialsOnFile";
		reason = inst > 1 ? "Installments" : "Unscheduled";
	}
	root = json_object();
	pay = json_object();
	card = json_object();
	if (root == NULL || pay == NULL || card == NULL) {
		json_decref(pay);
		json_decref(card);
		rc = -ENOMEM;
		goto out;
	}
	/* Children are filled before they are attached: an attach that fails frees
	 * the child, which is then never touched again. */
	gw_jset(card, "CardToken", json_string(req->card_token), &rc);
	if (req->security_code != NULL)
		gw_jset(card, "SecurityCode", json_string(req->security_code), &rc);
	gw_jset(card, "Brand", json_string(brand), &rc);
	/* Reference 1.5: CardOnFile is Visa's, Mastercard's and Elo's. */
	if (req->brand == GW_BRAND_VISA || req->brand == GW_BRAND_MASTERCARD ||
	    req->brand == GW_BRAND_ELO)
		gw_jset(card, "CardOnFile",
			json_pack("{s:s,s:s}", "Usage", req->first_use ? "First" : "Used", "Reason",
				  reason),
			&rc);
	gw_jset(pay, "Type", json_string("CreditCard"), &rc);
	gw_jset(pay, "Amount", json_integer(req->amount_cents), &rc);
	gw_jset(pay, "Installments", json_integer(inst), &rc);
	gw_jset(pay, "Capture", json_true(), &rc);
	if (gw->cfg.soft_descriptor != NULL)
		gw_jset(pay, "SoftDescriptor", json_string(gw->cfg.soft_descriptor), &rc);
	/* Without Recurrent=true a "Recorrência Própria" sale is denied (reference 1.5). */
	gw_jset(pay, "Recurrent", json_boolean(req->recurring), &rc);
	if (req->recurring && !req->first_use && req->network_txn_id != NULL)
		gw_jset(pay, "IssuerTransactionId", json_string(req->network_txn_id), &rc);
	/* Cielo's manual: the initiator indicator is Mastercard's; other brands
	 * do not take it. */
	if (req->brand == GW_BRAND_MASTERCARD)
		gw_jset(pay, "InitiatedTransactionIndicator",
			json_pack("{s:s,s:s}", "Category", category, "Subcategory", subcategory),
			&rc);
	gw_jset(pay, "CreditCard", card, &rc);
	gw_jset(root, "MerchantOrderId", json_string(oid), &rc);
	if (req->customer_name != NULL)
		gw_jset(root, "Customer", json_pack("{s:s}", "Name", req->customer_name), &rc);
	gw_jset(root, "Payment", pay, &rc);
	if (rc < 0)
		goto out;
	*out = root;
	root = NULL;
out:
	json_decref(root);
	return rc;
}

/* MerchantId, MerchantKey and the content headers; n receives the count. */
static size_t cielo_headers(const gw_t *gw, const gw_call_t *call, http_header_t h[4])
{
	size_t n = 0;

	h[n++] = (http_header_t){"MerchantId", gw->cfg.merchant_id};
	h[n++] = (http_header_t){"MerchantKey", gw->cfg.merchant_key};
	h[n++] = (http_header_t){"Accept", "application/json"};
	if (call->body != NULL)
		h[n++] = (http_header_t){"Content-Type", "application/json"};
	return n;
}

static void cielo_on_http(const http_response_t *res, void *arg);

static int cielo_send(gw_call_t *call)
{
	http_header_t h[4];
	size_t n = cielo_headers(call->gw, call, h);

	return gw_http_send(call, h, n, cielo_on_http);
}

/* POSTs body (the caller keeps its reference) to path on the transactional host. */
static int cielo_post_json(gw_call_t *call, json_t *body, const char *path)
{
	int rc = gw_call_set_json(call, body);
	if (rc < 0)
		return rc;
	call->method = "POST";
	gw_call_path(call, "%s", path);
	return cielo_send(call);
}

/* ------------------------------------------------------------------ answers */

/* The JSON array of validation errors (reference 1.7): [{"Code":126,"Message":"..."}]. */
static bool cielo_parse_errors(const gw_t *gw, const json_t *arr, gw_reply_t *r)
{
	char msg[GW_MSG_MAX] = "";
	size_t used = 0;
	size_t i;
	json_t *e;
	gw_parse_t p = {0};

	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return false;
	json_array_foreach(arr, i, e)
	{
		char code[GW_CODE_MAX];
		char m[GW_MSG_MAX];

		if (!json_is_object(e))
			return false;
		gw_get_str(&p, e, "", "Code", code, sizeof(code), GW_F_NUMOK | GW_F_TRUNC);
		gw_get_str(&p, e, "", "Message", m, sizeof(m), GW_F_TRUNC);
		if (p.err != 0)
			return false;
		if (i == 0)
			gw_copy(r->code, sizeof(r->code), code);
		/* Every message, joined, as far as they fit. */
		if (used < sizeof(msg) - 1) {
			int k = snprintf(msg + used, sizeof(msg) - used, "%s%s%s%s",
					 used > 0 ? "; " : "", code, code[0] ? " " : "", m);
			used = k < 0 ? used : used + (size_t)k;
			if (used >= sizeof(msg))
				used = sizeof(msg) - 1;
		}
	}
	r->outcome = GW_OUTCOME_REJECTED;
	r->error = 0;
	gw_reply_message(gw, r, msg);
	return true;
}

/* A 400 (or other 4xx) with Cielo's error array is a rejection with its code;
 * anything else falls to the generic HTTP classification. */
static void cielo_reply_error(const gw_t *gw, const http_response_t *res, bool mutating,
			      gw_reply_t *r)
{
	gw_parse_t p = {0};
	json_t *j = NULL;

	r->http_status = res->status;
	if (res->error == 0 && res->status >= 400 && res->status < 500 && res->status != 401 &&
	    res->status != 403 && res->status != 404 && res->status != 429) {
		j = gw_json_parse(&p, res->body, res->body_len);
		if (j != NULL && cielo_parse_errors(gw, j, r))
			goto out;
	}
	gw_reply_from_http(r, res, mutating, CIELO);
out:
	json_decref(j);
}

/*
 * An answer's JSON object: false with r set (cielo_reply_error) unless the
 * HTTP status is 200, or 201 when created_ok; else *j is the parsed body (the
 * caller's to free), p noting one that is not an object.
 */
static bool cielo_answer(const gw_t *gw, const http_response_t *res, bool mutating, bool created_ok,
			 gw_reply_t *r, gw_parse_t *p, json_t **j)
{
	r->http_status = res->status;
	if (res->error < 0 || (res->status != 200 && !(created_ok && res->status == 201))) {
		cielo_reply_error(gw, res, mutating, r);
		return false;
	}
	*j = gw_json_parse(p, res->body, res->body_len);
	if (*j != NULL && !json_is_object(*j))
		gw_parse_fail(p, "expected an object");
	return true;
}

/*
 * Renova Fácil's NewCard {CardNumber, ExpirationDate "MM/YYYY", Brand}: kept
 * only when every part is well formed (a bad one is ignored, never a reason
 * to misread the decline it came with).
 */
static void cielo_new_card(const json_t *pay, gw_charge_result_t *out)
{
	gw_parse_t p = {0};
	char num[64] = "", exp[16] = "", brand[32] = "";
	unsigned mm = 0, yyyy = 0;
	json_t *nc = gw_get_object(&p, pay, "Payment", "NewCard", 0);
	if (nc == NULL)
		return;
	gw_get_str(&p, nc, "Payment.NewCard", "CardNumber", num, sizeof(num), GW_F_TRUNC);
	gw_get_str(&p, nc, "Payment.NewCard", "ExpirationDate", exp, sizeof(exp), GW_F_TRUNC);
	gw_get_str(&p, nc, "Payment.NewCard", "Brand", brand, sizeof(brand), GW_F_TRUNC);
	size_t n = strlen(num);
	if (p.err == 0 && n >= 12 && n <= 19 && gw_str_charset(num, 19, gw_is_digit) &&
	    sscanf(exp, "%2u/%4u", &mm, &yyyy) == 2 && strlen(exp) == 7 && mm >= 1 && mm <= 12 &&
	    yyyy >= 2000 && yyyy <= 2099) {
		memcpy(out->new_card_number, num, n + 1);
		out->new_card_exp_month = mm;
		out->new_card_exp_year = yyyy;
		out->new_card_brand = gw_brand_parse(brand);
	}
	crypto_wipe(num, sizeof(num));
}

void gw_cielo_parse_sale(const gw_t *gw, const http_response_t *res, bool mutating,
			 gw_brand_t brand, gw_charge_result_t *out)
{
	gw_parse_t p = {0};
	json_t *j = NULL;
	json_t *pay;
	json_t *card;
	int64_t st = -1;
	int64_t amount = -1;
	char brand_s[32];
	char oid[GW_ORDER_ID_MAX];
	char msg[GW_MSG_MAX];

	if (!cielo_answer(gw, res, mutating, true, &out->r, &p, &j))
		goto out;
	pay = gw_get_object(&p, j, "", "Payment", GW_F_REQ);
	gw_get_int(&p, pay, "Payment", "Status", &st, 0, 255, GW_F_REQ);
	gw_get_str(&p, pay, "Payment", "PaymentId", out->payment_id, sizeof(out->payment_id),
		   GW_F_REQ | GW_F_ID);
	gw_get_str(&p, pay, "Payment", "ReturnCode", out->r.code, sizeof(out->r.code), GW_F_NUMOK);
	gw_get_str(&p, pay, "Payment", "ReturnMessage", msg, sizeof(msg), GW_F_TRUNC);
	gw_get_str(&p, pay, "Payment", "ProofOfSale", out->proof_of_sale,
		   sizeof(out->proof_of_sale), GW_F_NUMOK);
	gw_get_str(&p, pay, "Payment", "Tid", out->tid, sizeof(out->tid), GW_F_ID);
	gw_get_str(&p, pay, "Payment", "AuthorizationCode", out->authorization_code,
		   sizeof(out->authorization_code), GW_F_NUMOK);
	/* The network's id of this charge: later charges of the card send it back. */
	gw_get_str(&p, pay, "Payment", "IssuerTransactionId", out->network_txn_id,
		   sizeof(out->network_txn_id), GW_F_NUMOK | GW_F_ID);
	gw_get_str(&p, pay, "Payment", "MerchantAdviceCode", out->advice_code,
		   sizeof(out->advice_code), GW_F_NUMOK);
	if (gw_get_int(&p, pay, "Payment", "Amount", &amount, 0, GW_MAX_AMOUNT_CENTS, 0))
		out->amount_cents = amount;
	if (gw_get_str(&p, j, "", "MerchantOrderId", oid, sizeof(oid), GW_F_TRUNC)) {
		/* Back to ours: gw_cielo_order_id wrote '-' as 'x'. */
		for (char *c = oid; *c != '\0'; c++)
			if (*c == 'x')
				*c = '-';
		gw_copy(out->merchant_order_id, sizeof(out->merchant_order_id), oid);
	}
	card = gw_get_object(&p, pay, "Payment", "CreditCard", 0);
	gw_get_str(&p, card, "Payment.CreditCard", "CardToken", out->card_token,
		   sizeof(out->card_token), GW_F_ID);
	if (gw_get_str(&p, card, "Payment.CreditCard", "Brand", brand_s, sizeof(brand_s),
		       GW_F_TRUNC))
		out->brand = gw_brand_parse(brand_s);
	if (p.err != 0) {
		gw_reply_malformed(&out->r, res->status, mutating, CIELO, p.why);
		goto out;
	}
	cielo_take_status(gw, out, st, msg);
	gw_copy(out->abecs_code, sizeof(out->abecs_code), out->r.code);
	if (out->r.outcome == GW_OUTCOME_UNKNOWN) {
		/* A status the reference does not list says nothing settled. */
		out->r.outcome = mutating ? GW_OUTCOME_UNKNOWN : GW_OUTCOME_ERROR_RETRYABLE;
		out->r.error = -EBADMSG;
		snprintf(out->r.message, sizeof(out->r.message), "cielo: unknown Payment.Status %d",
			 (int)st);
	}
	if (out->r.outcome == GW_OUTCOME_DECLINED)
		cielo_new_card(pay, out);
	if (out->r.outcome == GW_OUTCOME_DECLINED)
		out->irreversible = gw_code_irreversible(
			out->r.code, out->brand != GW_BRAND_UNKNOWN ? out->brand : brand);
	if (out->brand == GW_BRAND_UNKNOWN)
		out->brand = brand;
out:
	json_decref(j);
}

/* PUT /1/sales/{id}/void answers the new status at the top level. */
static void cielo_parse_void(const gw_t *gw, const http_response_t *res, gw_charge_result_t *out)
{
	gw_parse_t p = {0};
	json_t *j = NULL;
	int64_t st = -1;
	char msg[GW_MSG_MAX] = "";

	if (!cielo_answer(gw, res, true, false, &out->r, &p, &j))
		goto out;
	gw_get_int(&p, j, "", "Status", &st, 0, 255, GW_F_REQ);
	gw_get_str(&p, j, "", "ReturnCode", out->r.code, sizeof(out->r.code), GW_F_NUMOK);
	gw_get_str(&p, j, "", "ReturnMessage", msg, sizeof(msg), GW_F_TRUNC);
	gw_get_str(&p, j, "", "Tid", out->tid, sizeof(out->tid), GW_F_ID);
	if (p.err != 0) {
		gw_reply_malformed(&out->r, res->status, true, CIELO, p.why);
		goto out;
	}
	cielo_take_status(gw, out, st, msg);
	/* Anything but Voided/Refunded means the void did not happen. */
	if (out->r.outcome != GW_OUTCOME_CANCELED)
		out->r.outcome = GW_OUTCOME_REJECTED;
out:
	json_decref(j);
}

static void cielo_parse_token(const gw_t *gw, const http_response_t *res, gw_token_result_t *out)
{
	gw_parse_t p = {0};
	json_t *j = NULL;

	if (!cielo_answer(gw, res, true, true, &out->r, &p, &j))
		goto out;
	gw_get_str(&p, j, "", "CardToken", out->card_token, sizeof(out->card_token),
		   GW_F_REQ | GW_F_ID);
	if (p.err != 0) {
		gw_reply_malformed(&out->r, res->status, true, CIELO, p.why);
		goto out;
	}
	out->r.outcome = GW_OUTCOME_APPROVED;
	out->r.error = 0;
out:
	json_decref(j);
}

/* POST /1/zeroauth answers {"Valid", "ReturnCode", "ReturnMessage", "IssuerTransactionId"?}. */
static void cielo_parse_zero_auth(const gw_t *gw, const http_response_t *res,
				  gw_charge_result_t *out)
{
	gw_parse_t p = {0};
	json_t *j = NULL;
	bool valid = false;
	char msg[GW_MSG_MAX] = "";

	if (!cielo_answer(gw, res, false, true, &out->r, &p, &j))
		goto out;
	gw_get_bool(&p, j, "", "Valid", &valid, GW_F_REQ);
	gw_get_str(&p, j, "", "ReturnCode", out->r.code, sizeof(out->r.code), GW_F_NUMOK);
	gw_get_str(&p, j, "", "ReturnMessage", msg, sizeof(msg), GW_F_TRUNC);
	gw_get_str(&p, j, "", "IssuerTransactionId", out->network_txn_id,
		   sizeof(out->network_txn_id), GW_F_NUMOK | GW_F_ID);
	if (p.err != 0) {
		gw_reply_malformed(&out->r, res->status, false, CIELO, p.why);
		goto out;
	}
	out->r.outcome = valid ? GW_OUTCOME_APPROVED : GW_OUTCOME_DECLINED;
	out->r.error = 0;
	gw_copy(out->abecs_code, sizeof(out->abecs_code), out->r.code);
	gw_reply_message(gw, &out->r, msg);
out:
	json_decref(j);
}

/* GET /1/sales?merchantOrderId= answers {"Payments":[{"PaymentId":...}]}; older
 * examples say "Payment". Fills call->ids; false with r set when unusable. */
static bool cielo_parse_order_list(gw_call_t *call, const http_response_t *res)
{
	gw_charge_result_t *out = &call->res.charge;
	gw_parse_t p = {0};
	json_t *j = NULL;
	json_t *arr;
	json_t *e;
	size_t i;
	bool ok = false;

	if (!cielo_answer(call->gw, res, false, false, &out->r, &p, &j))
		goto out;
	arr = gw_get_array(&p, j, "", "Payments", 0);
	if (arr == NULL && p.err == 0)
		arr = gw_get_array(&p, j, "", "Payment", 0);
	json_array_foreach(arr, i, e)
	{
		char id[GW_ID_MAX];
		if (!json_is_object(e)) {
			gw_parse_fail(&p, "Payments[%zu]: expected an object", i);
			break;
		}
		if (!gw_get_str(&p, e, "Payments[]", "PaymentId", id, sizeof(id),
				GW_F_REQ | GW_F_ID))
			break;
		if (call->n_ids < GW_MAX_ORDER_PAYMENTS)
			gw_copy(call->ids[call->n_ids++], GW_ID_MAX, id);
	}
	if (p.err != 0) {
		gw_reply_malformed(&out->r, res->status, false, CIELO, p.why);
		goto out;
	}
	out->n_found = arr != NULL ? (uint32_t)json_array_size(arr) : 0;
	ok = true;
out:
	json_decref(j);
	return ok;
}

/* Ranks a payment's outcome for the choice among an order's payments. */
static int cielo_rank(gw_outcome_t o)
{
	switch (o) {
	case GW_OUTCOME_APPROVED:
		return 4;
	case GW_OUTCOME_PENDING:
		return 3;
	case GW_OUTCOME_DECLINED:
		return 2;
	case GW_OUTCOME_CANCELED:
		return 1;
	default:
		return 0;
	}
}

/* Asks for the order's next payment; false, with the call's result saying so, when the
 * query could not be sent. */
static bool cielo_fetch_next(gw_call_t *call)
{
	int rc = gw_call_id_path(call, "GET", "/1/sales/", call->ids[call->next_id++], "");

	if (rc == 0)
		rc = cielo_send(call);
	if (rc == 0)
		return true;
	call->res.charge.r.outcome = GW_OUTCOME_ERROR_RETRYABLE;
	call->res.charge.r.error = rc;
	snprintf(call->res.charge.r.message, sizeof(call->res.charge.r.message),
		 "cielo: could not send the query");
	return false;
}

/* One payment of the order was read: keep the best, fetch the next or finish. */
static void cielo_order_step(gw_call_t *call, const http_response_t *res)
{
	gw_charge_result_t one;
	uint32_t n_found = call->res.charge.n_found;

	memset(&one, 0, sizeof(one));
	one.provider_status = -1;
	one.amount_cents = -1;
	gw_cielo_parse_sale(call->gw, res, false, GW_BRAND_UNKNOWN, &one);
	if (cielo_rank(one.r.outcome) == 0) {
		/* One payment could not be read: no conclusion is safe (it may be the
		 * approved one), so the whole query is to be tried again. */
		call->res.charge = one;
		call->res.charge.n_found = n_found;
		goto finish;
	}
	if (!call->have_best || cielo_rank(one.r.outcome) > cielo_rank(call->best.r.outcome)) {
		call->best = one;
		call->have_best = true;
	}
	if (call->next_id < call->n_ids) {
		if (cielo_fetch_next(call))
			return;
		goto finish;
	}
	call->res.charge = call->best;
	call->res.charge.n_found = n_found;
finish:
	gw_copy(call->res.charge.merchant_order_id, GW_ORDER_ID_MAX, call->merchant_order_id);
	gw_call_finish(call);
}

static void cielo_on_http(const http_response_t *res, void *arg)
{
	gw_call_t *call = arg;

	switch (call->op) {
	case GW_OP_CHARGE:
	case GW_OP_QUERY_CHARGE:
		gw_cielo_parse_sale(call->gw, res, call->mutating, call->brand, &call->res.charge);
		if (call->op == GW_OP_CHARGE) {
			gw_reply_create_404(&call->res.charge.r);
			gw_copy(call->res.charge.merchant_order_id, GW_ORDER_ID_MAX,
				call->merchant_order_id);
		}
		break;
	case GW_OP_CANCEL_CHARGE:
		cielo_parse_void(call->gw, res, &call->res.charge);
		break;
	case GW_OP_ZERO_AUTH:
		cielo_parse_zero_auth(call->gw, res, &call->res.charge);
		break;
	case GW_OP_TOKENIZE:
		cielo_parse_token(call->gw, res, &call->res.token);
		gw_reply_create_404(&call->res.token.r);
		break;
	case GW_OP_QUERY_ORDER:
		if (call->step == 1) {
			cielo_order_step(call, res);
			return;
		}
		/* A 404 on the list is how Cielo says "no such order". */
		if (res->error == 0 && res->status == 404) {
			call->res.charge.r.outcome = GW_OUTCOME_NOT_FOUND;
			call->res.charge.r.http_status = 404;
			snprintf(call->res.charge.r.message, sizeof(call->res.charge.r.message),
				 "cielo: no payment for this merchant order id");
			break;
		}
		if (!cielo_parse_order_list(call, res))
			break;
		if (call->n_ids == 0) {
			call->res.charge.r.outcome = GW_OUTCOME_NOT_FOUND;
			snprintf(call->res.charge.r.message, sizeof(call->res.charge.r.message),
				 "cielo: no payment for this merchant order id");
			break;
		}
		call->step = 1;
		if (cielo_fetch_next(call))
			return;
		break;
	default:
		break;
	}
	if (call->op == GW_OP_QUERY_ORDER)
		gw_copy(call->res.charge.merchant_order_id, GW_ORDER_ID_MAX,
			call->merchant_order_id);
	gw_call_finish(call);
}

/* ------------------------------------------------------------------ calls */

static int cielo_charge(gw_call_t *call, const gw_charge_req_t *req)
{
	json_t *body = NULL;
	int rc = gw_cielo_build_sale(call->gw, req, &body);

	if (rc < 0)
		goto out;
	gw_copy(call->merchant_order_id, sizeof(call->merchant_order_id), req->merchant_order_id);
	call->brand = req->brand;
	rc = cielo_post_json(call, body, "/1/sales/");
out:
	json_decref(body);
	return rc;
}

/* Cielo's Holder: 25 characters, no accents (core/card.h). Never cut here:
 * the caller sends the form Cards/Add showed, this only guards it. */
static bool cielo_holder_ok(const char *holder)
{
	char folded[CARD_HOLDER_SIZE];
	return holder != NULL && card_holder_for_gateway(holder, GW_KIND_CIELO, folded) == NULL &&
	       strlen(holder) == strlen(folded);
}

/* Zero Auth of a stored card: the credential's first use, customer-initiated. */
static int cielo_zero_auth(gw_call_t *call, const gw_zero_auth_req_t *req)
{
	const char *brand = cielo_brand(req->brand);
	json_t *body = NULL;
	int rc = 0;

	if (brand == NULL || !gw_str_charset(req->card_token, GW_TOKEN_MAX - 1, gw_is_id_char)) {
		rc = -EINVAL;
		goto out;
	}
	body = json_pack("{s:s,s:s,s:s,s:{s:s,s:s}}", "CardType", "CreditCard", "CardToken",
			 req->card_token, "Brand", brand, "CardOnFile", "Usage", "First", "Reason",
			 "Recurring");
	if (body == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	call->brand = req->brand;
	rc = cielo_post_json(call, body, "/1/zeroauth");
out:
	json_decref(body);
	return rc;
}

static int cielo_tokenize(gw_call_t *call, const gw_card_t *card)
{
	const char *brand = cielo_brand(card->brand);
	const char *name = card->customer_name != NULL ? card->customer_name : card->holder;
	char exp[8];
	json_t *body = NULL;
	int rc = 0;

	if (brand == NULL || card->number == NULL || strlen(card->number) < 12 ||
	    !gw_str_charset(card->number, 19, gw_is_digit) || !cielo_holder_ok(card->holder) ||
	    !gw_text_ok(name, 255) || card->exp_month < 1 || card->exp_month > 12 ||
	    card->exp_year < 2000 || card->exp_year > 2099) {
		rc = -EINVAL;
		goto out;
	}
	snprintf(exp, sizeof(exp), "%02u/%04u", card->exp_month, card->exp_year);
	body = json_pack("{s:s,s:s,s:s,s:s,s:s}", "CustomerName", name, "CardNumber", card->number,
			 "Holder", card->holder, "ExpirationDate", exp, "Brand", brand);
	if (body == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	call->res.token.brand = card->brand;
	rc = cielo_post_json(call, body, "/1/card/");
out:
	json_decref(body);
	return rc;
}

static int cielo_query_charge(gw_call_t *call, const char *payment_id)
{
	int rc = gw_call_id_path(call, "GET", "/1/sales/", payment_id, "");

	call->query_host = true;
	return rc < 0 ? rc : cielo_send(call);
}

static int cielo_query_order(gw_call_t *call, const char *merchant_order_id)
{
	char oid[GW_ORDER_ID_MAX];
	int rc = gw_cielo_order_id(merchant_order_id, oid);

	if (rc < 0)
		goto out;
	gw_copy(call->merchant_order_id, sizeof(call->merchant_order_id), merchant_order_id);
	call->method = "GET";
	call->query_host = true;
	/* The Cielo form of the id is letters and digits only: no encoding needed. */
	rc = gw_call_path(call, "/1/sales?merchantOrderId=%s", oid);
	if (rc == 0)
		rc = cielo_send(call);
out:
	return rc;
}

static int cielo_cancel_charge(gw_call_t *call, const char *payment_id, int64_t amount_cents)
{
	char suffix[48] = "/void";
	int rc;

	if (amount_cents > 0)
		snprintf(suffix, sizeof(suffix), "/void?amount=%lld", (long long)amount_cents);
	rc = gw_call_id_path(call, "PUT", "/1/sales/", payment_id, suffix);
	if (rc < 0)
		return rc;
	gw_copy(call->res.charge.payment_id, GW_ID_MAX, payment_id);
	return cielo_send(call);
}

/* ------------------------------------------------------------------ webhooks */

static int cielo_verify_webhook(const gw_t *gw, const gw_webhook_req_t *req)
{
	return gw_verify_header_pairs(gw, req);
}

static gw_event_kind_t cielo_change_kind(int64_t t)
{
	switch (t) {
	case 1:
		return GW_EVENT_PAYMENT_STATUS;
	case 2:
	case 4:
		return GW_EVENT_RECURRENCE;
	case 3:
		return GW_EVENT_ANTIFRAUD;
	case 5:
		return GW_EVENT_CANCEL_DENIED;
	case 7:
		return GW_EVENT_CHARGEBACK;
	case 8:
		return GW_EVENT_FRAUD_ALERT;
	default:
		return GW_EVENT_OTHER;
	}
}

/* {"RecurrentPaymentId": "...", "PaymentId": "...", "ChangeType": n} (reference 1.11). */
static void cielo_webhook_fields(gw_parse_t *p, const json_t *j, gw_event_t *ev)
{
	int64_t ct = 0;

	gw_get_int_lenient(p, j, "", "ChangeType", &ct, 1, 99, GW_F_REQ);
	gw_get_str(p, j, "", "PaymentId", ev->payment_id, sizeof(ev->payment_id), GW_F_ID);
	gw_get_str(p, j, "", "RecurrentPaymentId", ev->recurrence_id, sizeof(ev->recurrence_id),
		   GW_F_ID);
	if (ev->payment_id[0] == '\0' && ev->recurrence_id[0] == '\0')
		gw_parse_fail(p, "neither PaymentId nor RecurrentPaymentId");
	if (p->err != 0)
		return;
	ev->change_type = (int)ct;
	ev->kind = cielo_change_kind(ct);
	snprintf(ev->hint, sizeof(ev->hint), "ChangeType %d", (int)ct);
	/* Cielo sends no event id: the content is the identity. */
	gw_event_id_derive(ev, "cielo:%s:%s:%d", ev->payment_id, ev->recurrence_id, (int)ct);
}

const gw_adapter_t gw_cielo_adapter = {
	.kind = GW_KIND_CIELO,
	.name = CIELO,
	.title = "Cielo",
	.check_config = cielo_check_config,
	.tokenize = cielo_tokenize,
	.charge = cielo_charge,
	.zero_auth = cielo_zero_auth,
	.cancel_charge = cielo_cancel_charge,
	.query_charge = cielo_query_charge,
	.query_order = cielo_query_order,
	.verify_webhook = cielo_verify_webhook,
	.webhook_fields = cielo_webhook_fields,
};
