/*
 * GetNet "Plataforma Digital" API v1: OAuth2 client-credentials token, card
 * tokenization and vault, credit payment with the stored-credential flags,
 * cancel, query, and the payment notification. Facts: reference section 2.
 *
 * The token is fetched once and shared: calls that need it while a fetch is in
 * flight wait in a list for that fetch, and it is refreshed before it expires
 * (a tenth of its life early, at most a minute). A 401 on an API call drops
 * the token it was sent with and re-sends the call once with a new one: a 401
 * means the request was not processed, so the re-send cannot charge twice.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/base64.h>

#include "common/crypto.h"
#include "common/util.h"
#include "core/declines.h"
#include "gateways/gw_internal.h"

#define GETNET "getnet"

/* Steps of the two-request calls. */
enum {
	GETNET_STEP_FIRST = 0,  /* tokenize: POST /v1/tokens/card; charge: GET /v1/cards/{id} */
	GETNET_STEP_SECOND = 1, /* tokenize: POST /v1/cards; charge: POST /v1/payments/credit */
};

/* ------------------------------------------------------------------ configuration */

static int getnet_check_config(const gw_config_t *cfg, status_t *st)
{
	if (cfg->client_id == NULL)
		status_violation(st, "client_id", "required for GetNet");
	if (cfg->client_secret == NULL)
		status_violation(st, "client_secret", "required for GetNet");
	if (cfg->seller_id == NULL)
		status_violation(st, "seller_id", "required for GetNet");
	/* The colon separates id and secret in the Basic credentials. */
	if (cfg->client_id != NULL && strchr(cfg->client_id, ':') != NULL)
		status_violation(st, "client_id", "must not contain ':'");
	return st->code == ST_OK ? 0 : -EINVAL;
}

static int getnet_fetch_token(gw_t *gw);
static int getnet_send_now(gw_call_t *call);
static void getnet_prep(gw_call_t *call);

static int getnet_priv_init(gw_t *gw)
{
	return gw_oauth_priv_init(gw, GETNET, getnet_fetch_token, getnet_send_now, getnet_prep);
}

uint32_t gw_getnet_token_fetches(const gw_t *gw)
{
	return gw->cfg.kind == GW_KIND_GETNET ? gw->oauth->fetches : 0;
}

uint64_t gw_getnet_token_deadline(uint64_t obtained_ms, int64_t expires_in_s)
{
	return gw_oauth_deadline(obtained_ms, expires_in_s);
}

/* ------------------------------------------------------------------ names */

/* GetNet's spelling of each brand (GETNET-SWAGGER Card.BrandEnum). */
static const char *getnet_brand(gw_brand_t b)
{
	switch (b) {
	case GW_BRAND_VISA:
		return "Visa";
	case GW_BRAND_MASTERCARD:
		return "Mastercard";
	case GW_BRAND_AMEX:
		return "Amex";
	case GW_BRAND_ELO:
		return "Elo";
	case GW_BRAND_HIPERCARD:
		return "Hipercard";
	default:
		break;
	}
	return NULL;
}

/* Payment status (reference 2.6; PAID and ERROR from the official notification
 * handler). EXPIRED is an authorization that lapsed: no money moved. */
static gw_outcome_t getnet_status_outcome(const char *s)
{
	static const gw_outcome_word_t map[] = {
		{"APPROVED", GW_OUTCOME_APPROVED},     {"AUTHORIZED", GW_OUTCOME_APPROVED},
		{"CONFIRMED", GW_OUTCOME_APPROVED},    {"PAID", GW_OUTCOME_APPROVED},
		{"PENDING", GW_OUTCOME_PENDING},       {"DENIED", GW_OUTCOME_DECLINED},
		{"ERROR", GW_OUTCOME_DECLINED},        {"UNPROCESSED", GW_OUTCOME_DECLINED},
		{"NOT APPROVED", GW_OUTCOME_DECLINED}, {"CANCELED", GW_OUTCOME_CANCELED},
		{"EXPIRED", GW_OUTCOME_CANCELED},
	};

	return gw_outcome_of(map, OSPAY_ARRAY_LEN(map), s);
}

/* ------------------------------------------------------------------ the token */

static void getnet_on_http(const http_response_t *res, void *arg);

/* What a charge's result keeps however it ends. */
static void getnet_prep(gw_call_t *call)
{
	if (call->op == GW_OP_CHARGE)
		gw_copy(call->res.charge.merchant_order_id, GW_ORDER_ID_MAX,
			call->merchant_order_id);
}

static int getnet_fetch_token(gw_t *gw)
{
	static const char body[] = "scope=oob&grant_type=client_credentials";
	char url[GW_URL_MAX];
	http_header_t h[] = {
		{"Authorization", gw->oauth->basic},
		{"Content-Type", "application/x-www-form-urlencoded"},
		{"Accept", "application/json"},
	};
	http_request_t req = {0};
	int n = snprintf(url, sizeof(url), "%s/auth/oauth/v2/token", gw->base_url);

	if (n < 0 || (size_t)n >= sizeof(url))
		return -E2BIG;
	req.url = url;
	req.headers = h;
	req.n_headers = OSPAY_ARRAY_LEN(h);
	req.body = body;
	req.body_len = sizeof(body) - 1;
	return gw_oauth_fetch(gw, &req);
}

/* Sends call with the current token (which must be there). */
static int getnet_send_now(gw_call_t *call)
{
	gw_t *gw = call->gw;
	char auth[GW_OAUTH_TOKEN_MAX + 8];
	http_header_t h[5];
	size_t n = 0;
	int rc;

	gw_oauth_bearer(call, auth, sizeof(auth));
	h[n++] = (http_header_t){"Authorization", auth};
	/* v1 names the seller in a header called seller_id (reference 2.3). */
	h[n++] = (http_header_t){"seller_id", gw->cfg.seller_id};
	h[n++] = (http_header_t){"Accept", "application/json"};
	if (call->body != NULL)
		h[n++] = (http_header_t){"Content-Type", call->content_type};
	rc = gw_http_send(call, h, n, getnet_on_http);
	crypto_wipe(auth, sizeof(auth));
	return rc;
}

/* ------------------------------------------------------------------ answers */

/* The acquirer's references of a sale (authorization code, NSU, TID), in a
 * declined sale's details[0] and an approved one's credit alike. */
static void getnet_sale_refs(gw_parse_t *p, const json_t *obj, const char *ctx,
			     gw_charge_result_t *ch)
{
	gw_get_str(p, obj, ctx, "authorization_code", ch->authorization_code,
		   sizeof(ch->authorization_code), GW_F_NUMOK | GW_F_TRUNC);
	gw_get_str(p, obj, ctx, "terminal_nsu", ch->proof_of_sale, sizeof(ch->proof_of_sale),
		   GW_F_NUMOK | GW_F_TRUNC);
	gw_get_str(p, obj, ctx, "acquirer_transaction_id", ch->tid, sizeof(ch->tid),
		   GW_F_NUMOK | GW_F_ID);
}

/*
 * The error shape of reference 2.7:
 * {"message","name","status_code","details":[{"status","error_code","description",
 *  "description_detail","payment_id","authorization_code","terminal_nsu",
 *  "acquirer_transaction_id"}]}. A detail status DENIED / NOT APPROVED is the
 * issuer's (or the tokenizer's) refusal; other 4xx are rejections.
 */
static void getnet_reply_error(const gw_t *gw, const http_response_t *res, bool mutating,
			       gw_charge_result_t *ch, gw_reply_t *r)
{
	gw_parse_t p = {0};
	json_t *j = NULL;
	json_t *details;
	json_t *d = NULL;
	char dstatus[GW_STATUS_MAX] = "";
	char desc[GW_MSG_MAX] = "";
	char detail[GW_MSG_MAX] = "";
	char msg[GW_MSG_MAX] = "";

	r->http_status = res->status;
	if (res->error < 0 || res->status < 400 || res->status >= 500 || res->status == 401 ||
	    res->status == 403 || res->status == 429) {
		gw_reply_from_http(r, res, mutating, GETNET);
		goto out;
	}
	j = gw_json_parse(&p, res->body, res->body_len);
	if (j != NULL && !json_is_object(j))
		gw_parse_fail(&p, "expected an object");
	gw_get_str(&p, j, "", "message", msg, sizeof(msg), GW_F_TRUNC);
	details = gw_get_array(&p, j, "", "details", 0);
	if (details != NULL && json_array_size(details) > 0) {
		d = json_array_get(details, 0);
		if (!json_is_object(d))
			gw_parse_fail(&p, "details[0]: expected an object");
	}
	gw_get_str(&p, d, "details[0]", "status", dstatus, sizeof(dstatus), GW_F_TRUNC);
	gw_get_str(&p, d, "details[0]", "error_code", r->code, sizeof(r->code),
		   GW_F_TRUNC | GW_F_NUMOK);
	gw_get_str(&p, d, "details[0]", "description", desc, sizeof(desc), GW_F_TRUNC);
	gw_get_str(&p, d, "details[0]", "description_detail", detail, sizeof(detail), GW_F_TRUNC);
	if (ch != NULL) {
		gw_get_str(&p, d, "details[0]", "payment_id", ch->payment_id,
			   sizeof(ch->payment_id), GW_F_ID);
		getnet_sale_refs(&p, d, "details[0]", ch);
	}
	if (p.err != 0) {
		/* An error status with a body we cannot read: still the status's meaning. */
		gw_reply_from_http(r, res, mutating, GETNET);
		if (res->status == 402)
			r->outcome = GW_OUTCOME_DECLINED;
		goto out;
	}
	if (res->status == 404) {
		r->outcome = GW_OUTCOME_NOT_FOUND;
	} else if (res->status == 402 || strcasecmp(dstatus, "DENIED") == 0 ||
		   strcasecmp(dstatus, "NOT APPROVED") == 0 ||
		   strcasecmp(dstatus, "NOT_APPROVED") == 0) {
		r->outcome = GW_OUTCOME_DECLINED;
	} else {
		r->outcome = GW_OUTCOME_REJECTED;
	}
	r->error = 0;
	gw_reply_message(gw, r, detail[0] ? detail : desc[0] ? desc : msg[0] ? msg : "error");
	if (ch != NULL) {
		gw_copy(ch->status_text, sizeof(ch->status_text), dstatus);
		/* "" when the detail carries no code; the decline stays reversible. */
		(void)decline_getnet_code(detail, ch->abecs_code, sizeof(ch->abecs_code));
	}
out:
	json_decref(j);
}

void gw_getnet_parse_payment(const gw_t *gw, const http_response_t *res, bool mutating,
			     gw_charge_result_t *out)
{
	gw_parse_t p = {0};
	json_t *j = NULL;
	json_t *credit;
	char status[GW_STATUS_MAX];
	char msg[GW_MSG_MAX] = "";
	char brand[32];
	int64_t amount;

	out->r.http_status = res->status;
	if (res->error < 0 || (res->status != 200 && res->status != 201)) {
		getnet_reply_error(gw, res, mutating, out, &out->r);
		if (out->r.outcome == GW_OUTCOME_DECLINED)
			out->irreversible = gw_code_irreversible(out->abecs_code, out->brand);
		return;
	}
	j = gw_json_parse(&p, res->body, res->body_len);
	if (j != NULL && !json_is_object(j))
		gw_parse_fail(&p, "expected an object");
	gw_get_str(&p, j, "", "payment_id", out->payment_id, sizeof(out->payment_id),
		   GW_F_REQ | GW_F_ID);
	gw_get_str(&p, j, "", "status", status, sizeof(status), GW_F_REQ);
	gw_get_str(&p, j, "", "order_id", out->merchant_order_id, sizeof(out->merchant_order_id),
		   GW_F_TRUNC);
	if (gw_get_int(&p, j, "", "amount", &amount, 0, GW_MAX_AMOUNT_CENTS, 0))
		out->amount_cents = amount;
	credit = gw_get_object(&p, j, "", "credit", 0);
	gw_get_str(&p, credit, "credit", "reason_code", out->r.code, sizeof(out->r.code),
		   GW_F_NUMOK);
	gw_get_str(&p, credit, "credit", "reason_message", msg, sizeof(msg), GW_F_TRUNC);
	getnet_sale_refs(&p, credit, "credit", out);
	gw_get_str(&p, credit, "credit", "transaction_id", out->network_txn_id,
		   sizeof(out->network_txn_id), GW_F_NUMOK | GW_F_ID);
	if (gw_get_str(&p, credit, "credit", "brand", brand, sizeof(brand), GW_F_TRUNC) &&
	    gw_brand_parse(brand) != GW_BRAND_UNKNOWN)
		out->brand = gw_brand_parse(brand);
	if (p.err != 0) {
		gw_reply_malformed(&out->r, res->status, mutating, GETNET, p.why);
		goto out;
	}
	gw_copy(out->status_text, sizeof(out->status_text), status);
	gw_copy(out->abecs_code, sizeof(out->abecs_code), out->r.code);
	out->r.outcome = getnet_status_outcome(status);
	out->r.error = 0;
	gw_reply_message(gw, &out->r, msg);
	if (out->r.outcome == GW_OUTCOME_UNKNOWN) {
		out->r.outcome = mutating ? GW_OUTCOME_UNKNOWN : GW_OUTCOME_ERROR_RETRYABLE;
		out->r.error = -EBADMSG;
		snprintf(out->r.message, sizeof(out->r.message), "getnet: unknown status %.40s",
			 status);
	}
	if (out->r.outcome == GW_OUTCOME_DECLINED)
		out->irreversible = gw_code_irreversible(out->abecs_code, out->brand);
out:
	json_decref(j);
}

/* POST /v1/payments/credit/{id}/cancel: {"status":"CANCELED","credit_cancel":{...}}. */
static void getnet_parse_cancel(const gw_t *gw, const http_response_t *res, gw_charge_result_t *out)
{
	gw_parse_t p = {0};
	json_t *j = NULL;
	json_t *cc;
	char status[GW_STATUS_MAX];
	char msg[GW_MSG_MAX] = "";

	out->r.http_status = res->status;
	if (res->error < 0 || (res->status != 200 && res->status != 201)) {
		getnet_reply_error(gw, res, true, out, &out->r);
		/* A refused cancel is not a declined card. */
		if (out->r.outcome == GW_OUTCOME_DECLINED)
			out->r.outcome = GW_OUTCOME_REJECTED;
		return;
	}
	j = gw_json_parse(&p, res->body, res->body_len);
	if (j != NULL && !json_is_object(j))
		gw_parse_fail(&p, "expected an object");
	gw_get_str(&p, j, "", "status", status, sizeof(status), GW_F_REQ);
	cc = gw_get_object(&p, j, "", "credit_cancel", 0);
	gw_get_str(&p, cc, "credit_cancel", "message", msg, sizeof(msg), GW_F_TRUNC);
	if (p.err != 0) {
		gw_reply_malformed(&out->r, res->status, true, GETNET, p.why);
		goto out;
	}
	gw_copy(out->status_text, sizeof(out->status_text), status);
	out->r.outcome =
		strcasecmp(status, "CANCELED") == 0 ? GW_OUTCOME_CANCELED : GW_OUTCOME_REJECTED;
	out->r.error = 0;
	gw_reply_message(gw, &out->r, msg);
out:
	json_decref(j);
}

/* v (0..99) as two digits. */
static void getnet_2d(unsigned v, char out[3])
{
	out[0] = (char)('0' + (v / 10) % 10);
	out[1] = (char)('0' + v % 10);
	out[2] = '\0';
}

/* Month or year given as a number (the vault's GET) or as a string (its POST). */
static bool getnet_two_digits(gw_parse_t *p, const json_t *obj, const char *key, int64_t max,
			      char out[3])
{
	int64_t v = 0;

	if (!gw_get_int_lenient(p, obj, "card", key, &v, 0, max, 0))
		return false;
	v %= 100;
	out[0] = (char)('0' + v / 10);
	out[1] = (char)('0' + v % 10);
	out[2] = '\0';
	return true;
}

/* GET /v1/cards/{card_id}: completes call->pending (the payment body) with the
 * card's number_token and, where the caller gave none, holder and expiry.
 * false with r set when the card cannot be used. */
static bool getnet_take_vault_card(gw_call_t *call, const http_response_t *res)
{
	gw_charge_result_t *out = &call->res.charge;
	json_t *card = json_object_get(json_object_get(call->pending, "credit"), "card");
	gw_parse_t p = {0};
	json_t *j = NULL;
	char token[GW_TOKEN_MAX];
	char holder[128];
	char status[GW_STATUS_MAX];
	char mm[3];
	char yy[3];
	int rc = 0;
	bool ok = false;

	if (res->error < 0 || res->status != 200) {
		/* Nothing has been charged yet: a lost answer here is only retryable. */
		getnet_reply_error(call->gw, res, false, NULL, &out->r);
		if (out->r.outcome == GW_OUTCOME_NOT_FOUND)
			snprintf(out->r.message, sizeof(out->r.message),
				 "getnet: the vault has no such card");
		goto out;
	}
	j = gw_json_parse(&p, res->body, res->body_len);
	if (j != NULL && !json_is_object(j))
		gw_parse_fail(&p, "expected an object");
	gw_get_str(&p, j, "card", "number_token", token, sizeof(token), GW_F_REQ | GW_F_ID);
	if (gw_get_str(&p, j, "card", "status", status, sizeof(status), 0) &&
	    strcasecmp(status, "active") != 0 && p.err == 0) {
		out->r.outcome = GW_OUTCOME_DECLINED;
		out->r.error = 0;
		out->r.http_status = res->status;
		snprintf(out->r.message, sizeof(out->r.message), "getnet: the stored card is %.40s",
			 status);
		goto out;
	}
	if (json_object_get(card, "cardholder_name") == NULL &&
	    gw_get_str(&p, j, "card", "cardholder_name", holder, sizeof(holder), GW_F_REQ))
		gw_jset(card, "cardholder_name", json_string(holder), &rc);
	if (json_object_get(card, "expiration_month") == NULL &&
	    getnet_two_digits(&p, j, "expiration_month", 12, mm))
		gw_jset(card, "expiration_month", json_string(mm), &rc);
	if (json_object_get(card, "expiration_year") == NULL &&
	    getnet_two_digits(&p, j, "expiration_year", 9999, yy))
		gw_jset(card, "expiration_year", json_string(yy), &rc);
	if (p.err != 0) {
		gw_reply_malformed(&out->r, res->status, false, GETNET, p.why);
		goto out;
	}
	gw_jset(card, "number_token", json_string(token), &rc);
	if (rc == 0)
		rc = gw_call_set_json(call, call->pending);
	if (rc < 0) {
		out->r.outcome = GW_OUTCOME_ERROR_RETRYABLE;
		out->r.error = rc;
		snprintf(out->r.message, sizeof(out->r.message),
			 "getnet: could not build the payment");
		goto out;
	}
	ok = true;
out:
	crypto_wipe(token, sizeof(token));
	json_decref(j);
	return ok;
}

/* Tokenization: the first answer is {"number_token"}, the vault's {"card_id","number_token"}. */
static void getnet_tokenize_step(gw_call_t *call, const http_response_t *res)
{
	gw_token_result_t *out = &call->res.token;
	gw_parse_t p = {0};
	json_t *j = NULL;
	char token[GW_TOKEN_MAX];
	int rc = 0;

	out->r.http_status = res->status;
	if (res->error < 0 || (res->status != 200 && res->status != 201)) {
		getnet_reply_error(call->gw, res, true, NULL, &out->r);
		gw_reply_create_404(&out->r);
		goto finish;
	}
	j = gw_json_parse(&p, res->body, res->body_len);
	if (j != NULL && !json_is_object(j))
		gw_parse_fail(&p, "expected an object");
	if (call->step == GETNET_STEP_FIRST)
		gw_get_str(&p, j, "", "number_token", token, sizeof(token), GW_F_REQ | GW_F_ID);
	else
		gw_get_str(&p, j, "", "card_id", out->card_token, sizeof(out->card_token),
			   GW_F_REQ | GW_F_ID);
	if (p.err != 0) {
		gw_reply_malformed(&out->r, res->status, true, GETNET, p.why);
		goto finish;
	}
	if (call->step == GETNET_STEP_SECOND) {
		out->r.outcome = GW_OUTCOME_APPROVED;
		out->r.error = 0;
		goto finish;
	}
	/* A number token is good for one use (reference 2.4): it goes straight to
	 * the vault, which answers the reusable card_id. */
	gw_jset(call->pending, "number_token", json_string(token), &rc);
	if (rc == 0)
		rc = gw_call_set_json(call, call->pending);
	crypto_wipe(token, sizeof(token));
	if (rc == 0) {
		call->step = GETNET_STEP_SECOND;
		gw_call_path(call, "/v1/cards");
		rc = gw_oauth_send(call);
	}
	if (rc == 0)
		goto out;
	/* The token exists but the vault was never asked: nothing usable was made. */
	out->r.outcome = GW_OUTCOME_ERROR_RETRYABLE;
	out->r.error = rc;
	snprintf(out->r.message, sizeof(out->r.message), "getnet: could not store the card");
finish:
	gw_call_finish(call);
out:
	json_decref(j);
}

static void getnet_on_http(const http_response_t *res, void *arg)
{
	gw_call_t *call = arg;
	int rc;

	if (gw_oauth_resend_401(call, res))
		return;
	switch (call->op) {
	case GW_OP_TOKENIZE:
		getnet_tokenize_step(call, res);
		return;
	case GW_OP_CHARGE:
		if (call->step == GETNET_STEP_FIRST) {
			if (!getnet_take_vault_card(call, res))
				break;
			call->step = GETNET_STEP_SECOND;
			call->method = "POST";
			call->auth_retried = false;
			gw_call_path(call, "/v1/payments/credit");
			rc = gw_oauth_send(call);
			if (rc == 0)
				return;
			gw_oauth_fail(call, NULL, rc, "could not send the payment");
			return;
		}
		gw_getnet_parse_payment(call->gw, res, true, &call->res.charge);
		gw_reply_create_404(&call->res.charge.r);
		if (call->res.charge.brand == GW_BRAND_UNKNOWN)
			call->res.charge.brand = call->brand;
		if (call->res.charge.r.outcome == GW_OUTCOME_DECLINED)
			call->res.charge.irreversible = gw_code_irreversible(
				call->res.charge.abecs_code, call->res.charge.brand);
		break;
	case GW_OP_QUERY_CHARGE:
		gw_getnet_parse_payment(call->gw, res, false, &call->res.charge);
		break;
	case GW_OP_CANCEL_CHARGE:
		getnet_parse_cancel(call->gw, res, &call->res.charge);
		break;
	default:
		break;
	}
	if (call->op == GW_OP_CHARGE)
		gw_copy(call->res.charge.merchant_order_id, GW_ORDER_ID_MAX,
			call->merchant_order_id);
	gw_call_finish(call);
}

/* ------------------------------------------------------------------ requests */

static bool getnet_order_char(int c)
{
	return gw_is_alnum(c) || c == '-' || c == '_';
}

static bool getnet_cvv_ok(const char *s)
{
	return s == NULL || (strlen(s) >= 3 && gw_str_charset(s, 4, gw_is_digit));
}

/* The customer node: customer_id always, the rest when given. */
static json_t *getnet_customer(const gw_charge_req_t *req, int *rc)
{
	json_t *c = json_object();
	const char *name = req->customer_name;

	if (c == NULL) {
		*rc = -ENOMEM;
		return NULL;
	}
	gw_jset(c, "customer_id", json_string(req->customer_id), rc);
	if (name != NULL) {
		const char *sp = strchr(name, ' ');
		gw_jset(c, "name", json_string(name), rc);
		/* The recorded request splits the name; the first word is the first name. */
		gw_jset(c, "first_name",
			sp != NULL ? json_stringn(name, (size_t)(sp - name)) : json_string(name),
			rc);
		if (sp != NULL && sp[1] != '\0')
			gw_jset(c, "last_name", json_string(sp + 1), rc);
	}
	if (req->customer_email != NULL)
		gw_jset(c, "email", json_string(req->customer_email), rc);
	if (req->customer_document != NULL) {
		gw_jset(c, "document_type",
			json_string(strlen(req->customer_document) == 14 ? "CNPJ" : "CPF"), rc);
		gw_jset(c, "document_number", json_string(req->customer_document), rc);
	}
	if (req->customer_phone != NULL)
		gw_jset(c, "phone_number", json_string(req->customer_phone), rc);
	return c;
}

int gw_getnet_build_payment(const gw_t *gw, const gw_charge_req_t *req, json_t **out)
{
	const char *brand = getnet_brand(req->brand);
	uint32_t inst = req->installments == 0 ? 1 : req->installments;
	const char *cof;
	char mm[3];
	char yy[3];
	json_t *root = NULL;
	json_t *order;
	json_t *credit;
	json_t *card;
	json_t *customer;
	int rc = 0;

	*out = NULL;
	if (!gw_str_charset(req->merchant_order_id, GW_ORDER_ID_MAX - 1, getnet_order_char) ||
	    req->amount_cents <= 0 || req->amount_cents > GW_MAX_AMOUNT_CENTS || brand == NULL ||
	    !gw_str_charset(req->card_token, GW_TOKEN_MAX - 1, gw_is_id_char) ||
	    !getnet_cvv_ok(req->security_code) || inst > GW_MAX_INSTALLMENTS ||
	    !gw_text_ok(req->customer_id, 100) || (req->recurring && inst != 1) ||
	    (req->customer_name != NULL && !gw_text_ok(req->customer_name, 255)) ||
	    (req->customer_email != NULL && !gw_text_ok(req->customer_email, 255)) ||
	    (req->customer_document != NULL &&
	     !gw_str_charset(req->customer_document, 14, gw_is_digit)) ||
	    (req->customer_phone != NULL &&
	     !gw_str_charset(req->customer_phone, 15, gw_is_digit)) ||
	    (req->holder != NULL && !gw_text_ok(req->holder, 64)) ||
	    (req->network_txn_id != NULL &&
	     !gw_str_charset(req->network_txn_id, GW_ID_MAX - 1, gw_is_id_char)) ||
	    (req->exp_month != 0 &&
	     (req->exp_month > 12 || req->exp_year < 2000 || req->exp_year > 2099))) {
		rc = -EINVAL;
		goto out;
	}
	/*
	 * Stored-credential flags as several third-party SDKs send them (reference
	 * 2.5; not confirmed by an official page): RECURRING opens a recurring
	 * series, RECURRING_PAYMENT continues it; ONE_CLICK / ONE_CLICK_PAYMENT the
	 * same outside a recurrence.
	 */
	if (req->recurring)
		cof = req->first_use ? "RECURRING" : "RECURRING_PAYMENT";
	else
		cof = req->first_use ? "ONE_CLICK" : "ONE_CLICK_PAYMENT";
	root = json_object();
	order = json_object();
	credit = json_object();
	card = json_object();
	customer = getnet_customer(req, &rc);
	if (root == NULL || order == NULL || credit == NULL || card == NULL || customer == NULL) {
		json_decref(order);
		json_decref(credit);
		json_decref(card);
		json_decref(customer);
		rc = -ENOMEM;
		goto out;
	}
	/* number_token is filled from the vault just before sending. */
	if (req->holder != NULL)
		gw_jset(card, "cardholder_name", json_string(req->holder), &rc);
	if (req->exp_month != 0) {
		getnet_2d(req->exp_month, mm);
		getnet_2d(req->exp_year % 100, yy);
		gw_jset(card, "expiration_month", json_string(mm), &rc);
		gw_jset(card, "expiration_year", json_string(yy), &rc);
	}
	if (req->security_code != NULL)
		gw_jset(card, "security_code", json_string(req->security_code), &rc);
	gw_jset(card, "brand", json_string(brand), &rc);
	gw_jset(credit, "delayed", json_false(), &rc);
	gw_jset(credit, "authenticated", json_false(), &rc);
	gw_jset(credit, "pre_authorization", json_false(), &rc);
	gw_jset(credit, "save_card_data", json_false(), &rc);
	gw_jset(credit, "transaction_type", json_string(inst > 1 ? "INSTALL_NO_INTEREST" : "FULL"),
		&rc);
	gw_jset(credit, "number_installments", json_integer(inst), &rc);
	if (gw->cfg.soft_descriptor != NULL)
		gw_jset(credit, "soft_descriptor", json_string(gw->cfg.soft_descriptor), &rc);
	gw_jset(credit, "credentials_on_file_type", json_string(cof), &rc);
	/* The first charge opens the series: it has no id to send back yet. */
	if (!req->first_use && req->network_txn_id != NULL)
		gw_jset(credit, "transaction_id", json_string(req->network_txn_id), &rc);
	gw_jset(credit, "card", card, &rc);
	gw_jset(order, "order_id", json_string(req->merchant_order_id), &rc);
	gw_jset(order, "sales_tax", json_integer(0), &rc);
	gw_jset(order, "product_type", json_string("service"), &rc);
	gw_jset(root, "seller_id", json_string(gw->cfg.seller_id), &rc);
	gw_jset(root, "amount", json_integer(req->amount_cents), &rc);
	gw_jset(root, "currency", json_string("BRL"), &rc);
	gw_jset(root, "order", order, &rc);
	gw_jset(root, "customer", customer, &rc);
	gw_jset(root, "credit", credit, &rc);
	if (rc < 0)
		goto out;
	*out = root;
	root = NULL;
out:
	json_decref(root);
	return rc;
}

static int getnet_charge(gw_call_t *call, const gw_charge_req_t *req)
{
	char enc[3 * GW_TOKEN_MAX];
	int rc = gw_getnet_build_payment(call->gw, req, &call->pending);

	if (rc < 0)
		goto out;
	gw_copy(call->merchant_order_id, sizeof(call->merchant_order_id), req->merchant_order_id);
	call->brand = req->brand;
	call->step = GETNET_STEP_FIRST;
	call->method = "GET";
	rc = gw_url_encode(req->card_token, enc, sizeof(enc));
	if (rc == 0)
		rc = gw_call_path(call, "/v1/cards/%s", enc);
	if (rc == 0)
		rc = gw_oauth_send(call);
out:
	return rc;
}

static int getnet_tokenize(gw_call_t *call, const gw_card_t *card)
{
	const char *brand = getnet_brand(card->brand);
	char mm[3];
	char yy[3];
	json_t *first = NULL;
	json_t *vault = NULL;
	int rc = 0;

	if (brand == NULL || card->number == NULL || strlen(card->number) < 12 ||
	    !gw_str_charset(card->number, 19, gw_is_digit) || !gw_text_ok(card->holder, 64) ||
	    !gw_text_ok(card->customer_id, 100) || card->exp_month < 1 || card->exp_month > 12 ||
	    card->exp_year < 2000 || card->exp_year > 2099 || !getnet_cvv_ok(card->security_code) ||
	    (card->document != NULL && !gw_str_charset(card->document, 14, gw_is_digit))) {
		rc = -EINVAL;
		goto out;
	}
	getnet_2d(card->exp_month, mm);
	getnet_2d(card->exp_year % 100, yy);
	first = json_pack("{s:s,s:s}", "card_number", card->number, "customer_id",
			  card->customer_id);
	/* The vault request of reference 2.4 (GETNET-PY cassette): the card is not
	 * verified here; the first charge is the check. */
	vault = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b}", "customer_id", card->customer_id,
			  "cardholder_name", card->holder, "expiration_month", mm,
			  "expiration_year", yy, "brand", brand, "verify_card", 0);
	if (first == NULL || vault == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if (card->document != NULL)
		gw_jset(vault, "cardholder_identification", json_string(card->document), &rc);
	if (card->security_code != NULL)
		gw_jset(vault, "security_code", json_string(card->security_code), &rc);
	if (rc == 0)
		rc = gw_call_set_json(call, first);
	if (rc < 0)
		goto out;
	call->pending = vault;
	vault = NULL;
	call->res.token.brand = card->brand;
	call->step = GETNET_STEP_FIRST;
	call->method = "POST";
	gw_call_path(call, "/v1/tokens/card");
	rc = gw_oauth_send(call);
out:
	json_decref(first);
	json_decref(vault);
	return rc;
}

static int getnet_cancel_charge(gw_call_t *call, const char *payment_id, int64_t amount_cents)
{
	/* The v1 cancel takes no amount; partial cancels go through a separate
	 * request flow (/v1/payments/cancel/request) ospay does not use. */
	int rc = amount_cents != 0 ? -EINVAL
				   : gw_call_id_path(call, "POST", "/v1/payments/credit/",
						     payment_id, "/cancel");

	if (rc < 0)
		return rc;
	gw_copy(call->res.charge.payment_id, GW_ID_MAX, payment_id);
	return gw_oauth_send(call);
}

static int getnet_query_charge(gw_call_t *call, const char *payment_id)
{
	/* Not in the reference: the path mirrors the create and cancel paths
	 * (docs/gateways.md says so). */
	int rc = gw_call_id_path(call, "GET", "/v1/payments/credit/", payment_id, "");

	return rc < 0 ? rc : gw_oauth_send(call);
}

/* ------------------------------------------------------------------ webhooks */

/* A notification parameter from the query string, else from a form or JSON
 * body. 0, -ENOENT, or another gw_form_get error. */
static int getnet_param(const gw_webhook_req_t *req, const char *key, char *out, size_t cap)
{
	const char *ct = gw_header_get(req, "Content-Type", NULL);
	int rc = -ENOENT;

	if (req->query != NULL)
		rc = gw_form_get(req->query, strlen(req->query), key, out, cap);
	if (rc != -ENOENT || req->body == NULL || req->body_len == 0 || ct == NULL)
		goto out;
	if (strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0) {
		rc = gw_form_get((const char *)req->body, req->body_len, key, out, cap);
	} else if (strncasecmp(ct, "application/json", 16) == 0) {
		gw_parse_t p = {0};
		json_t *j = json_loadb((const char *)req->body, req->body_len,
				       JSON_REJECT_DUPLICATES, NULL);
		if (j != NULL && json_is_object(j)) {
			if (gw_get_str(&p, j, "", key, out, cap, GW_F_NUMOK))
				rc = 0;
			else
				rc = p.err != 0 ? -EINVAL : -ENOENT;
		}
		json_decref(j);
	}
out:
	return rc;
}

static int getnet_verify_webhook(const gw_t *gw, const gw_webhook_req_t *req)
{
	char seller[256];
	int rc = getnet_param(req, "seller_id", seller, sizeof(seller));
	/* Compared even when absent, so both paths cost the same. */
	bool eq = gw_secret_equal(seller, rc == 0 ? strlen(seller) : 0, gw->cfg.seller_id);

	crypto_wipe(seller, sizeof(seller));
	return rc == 0 && eq ? 0 : -EACCES;
}

static int getnet_parse_webhook(const gw_t *gw, const gw_webhook_req_t *req, gw_event_t *ev)
{
	char status[GW_STATUS_MAX] = "";
	int rc;

	(void)gw;
	rc = getnet_param(req, "payment_id", ev->payment_id, sizeof(ev->payment_id));
	if (rc < 0 || !gw_str_charset(ev->payment_id, GW_ID_MAX - 1, gw_is_id_char)) {
		snprintf(ev->error, sizeof(ev->error), "getnet: %s payment_id",
			 rc == -ENOENT ? "no" : "bad");
		ev->payment_id[0] = '\0';
		rc = -EBADMSG;
		goto out;
	}
	rc = getnet_param(req, "order_id", ev->order_ref, sizeof(ev->order_ref));
	if ((rc < 0 && rc != -ENOENT) ||
	    (rc == 0 && !gw_str_charset(ev->order_ref, GW_ID_MAX - 1, gw_is_id_char))) {
		snprintf(ev->error, sizeof(ev->error), "getnet: bad order_id");
		ev->order_ref[0] = '\0';
		rc = -EBADMSG;
		goto out;
	}
	if (getnet_param(req, "status", status, sizeof(status)) == 0 &&
	    gw_str_charset(status, sizeof(status) - 1, gw_is_id_char))
		gw_copy(ev->hint, sizeof(ev->hint), status);
	ev->kind = GW_EVENT_PAYMENT_STATUS;
	/* No event id in GetNet's notification: payment and claimed status make one,
	 * so a later status change of the same payment is a new event. */
	gw_event_id_derive(ev, "getnet:%s:%s", ev->payment_id, ev->hint);
	rc = 0;
out:
	return rc;
}

const gw_adapter_t gw_getnet_adapter = {
	.kind = GW_KIND_GETNET,
	.name = GETNET,
	.title = "GetNet",
	.check_config = getnet_check_config,
	.priv_init = getnet_priv_init,
	.priv_free = gw_oauth_priv_free,
	.tokenize = getnet_tokenize,
	.charge = getnet_charge,
	.cancel_charge = getnet_cancel_charge,
	.query_charge = getnet_query_charge,
	.verify_webhook = getnet_verify_webhook,
	.parse_webhook = getnet_parse_webhook,
};
