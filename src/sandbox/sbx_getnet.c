/*
 * GetNet "Plataforma Digital" API v1 (reference section 2): OAuth2
 * client-credentials tokens that expire, single-use card number tokens, the
 * card vault, credit payments decided by the card number's final digit (the
 * sandbox's own table, docs/sandbox.md), cancel, queries, errors in the
 * shape of 2.7 (402 PAYMENTS-011 for declines), and notifications as GET
 * requests whose parameters carry the seller_id.
 */
#include "sandbox/sbx_int.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/crypto.h"
#include "common/util.h"

#define GN_HOOK_ATTEMPTS 4
#define GN_NTOKEN_LEN 128

typedef struct gn_ntoken {
	list_node_t age;
	sbx_hnode_t by_tok;
	uint64_t org;
	char token[GN_NTOKEN_LEN + 1];
	char number[20];
	char customer_id[101];
	bool single_use;
	bool used;
	/* The transaction_id of the first approved payment with this (vault)
	 * token: what RECURRING_PAYMENT charges must send back. */
	char ntid[24];
} gn_ntoken_t;

typedef struct gn_card {
	list_node_t age;
	sbx_hnode_t by_id;
	uint64_t org;
	char card_id[37];
	char number_token[GN_NTOKEN_LEN + 1];
	char last4[5];
	char bin[7];
	char holder[64];
	char exp_month[3];
	char exp_year[5];
	char brand[16];
	char customer_id[101];
	bool deleted;
	int64_t created_ms;
} gn_card_t;

typedef struct gn_payment {
	list_node_t age;
	sbx_hnode_t by_id, by_order;
	uint64_t org;
	char payment_id[37];
	char order_id[101];
	char customer_id[101];
	char status[12];
	char reason_code[4];
	char reason_message[48];
	char auth_code[7];
	char nsu[10];
	char acq_tid[16];
	char brand[16];
	char soft[24];
	int64_t amount;
	int64_t installments;
	int64_t received_ms;
	int64_t canceled_ms;
} gn_payment_t;

static void gn_ntoken_wipe(list_node_t *n)
{
	gn_ntoken_t *t = container_of(n, gn_ntoken_t, age);
	crypto_wipe(t->number, sizeof(t->number));
}

int sbx_getnet_init(sbx_t *s)
{
	const sbx_table_spec_t tables[] = {
		{.table = &s->gn_access,
		 .cap = SBX_MAX_GN_ACCESS,
		 .idx = {SBX_INDEX(&s->gn_access_by_tok, sbx_access_t, by_tok, token)}},
		{.table = &s->gn_ntokens,
		 .cap = SBX_MAX_GN_NTOKENS,
		 .idx = {SBX_INDEX(&s->gn_ntoken_by_tok, gn_ntoken_t, by_tok, token)},
		 .forget = gn_ntoken_wipe},
		{.table = &s->gn_vault,
		 .cap = SBX_MAX_GN_VAULT,
		 .idx = {SBX_INDEX(&s->gn_vault_by_id, gn_card_t, by_id, card_id)}},
		{.table = &s->gn_payments,
		 .cap = SBX_MAX_GN_PAYMENTS,
		 .idx = {SBX_INDEX(&s->gn_pay_by_id, gn_payment_t, by_id, payment_id),
			 SBX_INDEX(&s->gn_pay_by_order, gn_payment_t, by_order, order_id)}},
	};
	return sbx_tables_open(s, tables, OSPAY_ARRAY_LEN(tables));
}

/* ------------------------------------------------------------------ helpers */

/* The error shape of reference 2.7. */
static void gn_err(sbx_resp_t *rs, int status, const char *name, const char *message,
		   const char *dstatus, const char *code, const char *desc, const char *detail)
{
	json_t *details = json_array();
	if (code != NULL)
		json_array_append_new(details, json_pack("{s:s, s:s, s:s, s:s}", "status", dstatus,
							 "error_code", code, "description", desc,
							 "description_detail", detail));
	json_t *j = json_pack("{s:s, s:i, s:o}", "message", message, "status_code", status,
			      "details", details);
	if (name != NULL)
		json_object_set_new(j, "name", json_string(name));
	sbx_resp_json(rs, status, j);
}

static void gn_bad(sbx_resp_t *rs, const char *detail)
{
	gn_err(rs, 400, "GatewayValidationError", "Bad Request", "DENIED", "GENERIC-400",
	       "Bad Request", detail);
}

static bool gn_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	return la == lb && crypto_equal(a, b, la);
}

/* A base64 character's value (its place in the alphabet), -1 for any other. */
static int gn_b64val(int c)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c != '\0' ? strchr(alphabet, c) : NULL;
	return p != NULL ? (int)(p - alphabet) : -1;
}

/* Decodes standard base64 into out (NUL-terminated); false when malformed or too long. */
static bool gn_b64_decode(const char *in, char *out, size_t cap)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;
	bool ok = true;
	for (; *in != '\0' && *in != '=' && ok; in++) {
		int v = gn_b64val((unsigned char)*in);
		if (v < 0) {
			ok = false;
		} else {
			acc = (acc << 6) | (uint32_t)v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				char c = (char)((acc >> bits) & 0xff);
				ok = o + 1 < cap && c != '\0';
				if (ok)
					out[o++] = c;
			}
		}
	}
	out[ok ? o : 0] = '\0';
	return ok;
}

/* The organization behind a valid, unexpired Bearer token, or NULL after a 401. */
sbx_org_t *sbx_getnet_auth(sbx_t *s, const sbx_req_t *rq, sbx_resp_t *rs)
{
	const char *seller = sbx_req_header(rq, "seller_id");
	sbx_org_t *org = NULL;
	sbx_access_t *a = sbx_access_bearer(s, rq, "getnet");

	if (seller == NULL)
		seller = sbx_req_header(rq, "x-seller-id");
	if (a == NULL || a->expires_ms <= util_wall_ms()) {
		gn_err(rs, 401, "UnauthorizedError", "Unauthorized", "DENIED", "GENERIC-401",
		       "Unauthorized",
		       a == NULL ? "Access token missing or invalid" : "Access token expired");
		goto out;
	}
	org = sbx_org_find(s, a->org);
	if (org == NULL || !org->getnet) {
		org = NULL;
		gn_err(rs, 401, "UnauthorizedError", "Unauthorized", "DENIED", "GENERIC-401",
		       "Unauthorized", "Client no longer registered");
		goto out;
	}
	if (seller != NULL && !gn_eq(seller, org->gn_seller_id)) {
		org = NULL;
		gn_err(rs, 401, "UnauthorizedError", "Unauthorized", "DENIED", "GENERIC-401",
		       "Unauthorized", "seller_id does not belong to this client");
	}
out:
	return org;
}

static gn_ntoken_t *gn_ntoken_find(sbx_t *s, const sbx_org_t *org, const char *tok)
{
	gn_ntoken_t *t = SBX_HTAB_GET(&s->gn_ntoken_by_tok, tok, gn_ntoken_t, by_tok);
	return t != NULL && t->org == org->id ? t : NULL;
}

static gn_ntoken_t *gn_ntoken_new(sbx_t *s, const sbx_org_t *org, const char *number,
				  const char *customer, bool single_use)
{
	gn_ntoken_t *t = calloc(1, sizeof(*t));
	if (t == NULL)
		goto out;
	t->org = org->id;
	sbx_hexid(t->token, GN_NTOKEN_LEN);
	snprintf(t->number, sizeof(t->number), "%s", number);
	snprintf(t->customer_id, sizeof(t->customer_id), "%s", customer);
	t->single_use = single_use;
	sbx_table_add(&s->gn_ntokens, &t->age);
out:
	return t;
}

static void gn_token_invalid(sbx_resp_t *rs)
{
	gn_err(rs, 400, "GatewayTokenizationServiceError", "Bad Request", "DENIED",
	       "TOKENIZATION-400", "Bad Request",
	       "Invalid number_token, verify or renew your number_token, it is valid for only one "
	       "attempt.");
}

static void gn_digits(sbx_t *s, char *out, size_t n)
{
	uint64_t v = sbx_next(s) * 104729u + (uint64_t)util_wall_ms();
	for (size_t i = 0; i < n; i++) {
		out[n - 1 - i] = (char)('0' + v % 10);
		v /= 10;
	}
	out[n] = '\0';
}

/* The brand GetNet answers: from the card number, lower case (the recordings). */
static const char *gn_brand_of(const char *number)
{
	const char *b = "visa";
	if (number[0] == '5' || (number[0] == '2' && number[1] >= '2' && number[1] <= '7'))
		b = "mastercard";
	else if (number[0] == '3' && (number[1] == '4' || number[1] == '7'))
		b = "amex";
	else if (strncmp(number, "606282", 6) == 0 || strncmp(number, "3841", 4) == 0)
		b = "hipercard";
	else if (number[0] == '6' || number[0] == '5')
		b = "elo";
	return b;
}

static json_t *gn_payment_json(const sbx_org_t *org, const gn_payment_t *p)
{
	char recv[32], auth_at[32];
	sbx_time_iso(p->received_ms, recv);
	sbx_time_iso(p->received_ms, auth_at);
	json_t *credit =
		json_pack("{s:b, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "delayed",
			  false, "authorization_code", p->auth_code, "authorized_at", auth_at,
			  "reason_code", p->reason_code, "reason_message", p->reason_message,
			  "acquirer", "GETNET", "soft_descriptor", p->soft, "brand", p->brand,
			  "terminal_nsu", p->nsu, "acquirer_transaction_id", p->acq_tid,
			  "number_installments", (json_int_t)p->installments);
	json_object_set_new(credit, "transaction_id", json_string(p->acq_tid));
	json_t *j = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:o}", "payment_id",
			      p->payment_id, "seller_id", org->gn_seller_id, "amount",
			      (json_int_t)p->amount, "currency", "BRL", "order_id", p->order_id,
			      "status", p->status, "received_at", recv, "credit", credit);
	if (p->canceled_ms != 0) {
		char at[32];
		sbx_time_iso(p->canceled_ms, at);
		json_object_set_new(j, "credit_cancel",
				    json_pack("{s:s, s:s}", "canceled_at", at, "message",
					      "Credit transaction cancelled successfully"));
	}
	return j;
}

/* GetNet's notification: a GET whose parameters describe the payment. */
static void gn_notify(sbx_t *s, const sbx_org_t *org, const gn_payment_t *p)
{
	char q[2048], seller[256], order[320], cust[320];
	char summary[96];
	sbx_url_encode(org->gn_seller_id, seller, sizeof(seller));
	sbx_url_encode(p->order_id, order, sizeof(order));
	sbx_url_encode(p->customer_id, cust, sizeof(cust));
	snprintf(q, sizeof(q),
		 "?payment_type=credit&customer_id=%s&order_id=%s&payment_id=%s&amount=%" PRId64
		 "&status=%s&number_installments=%" PRId64
		 "&authorization_code=%s&acquirer_transaction_id=%s&error_code=%s&seller_id=%s",
		 cust, order, p->payment_id, p->amount, p->status, p->installments, p->auth_code,
		 p->acq_tid, p->reason_code, seller);
	snprintf(summary, sizeof(summary), "payment_id=%s status=%s", p->payment_id, p->status);
	sbx_hook_emit(s, "getnet", org->id, "GET", q, NULL, 0, NULL, 0, GN_HOOK_ATTEMPTS, summary,
		      seller);
}

/*
 * The sandbox's decline table by the card number's final digit (GetNet's own
 * sandbox rules are not public): codes chosen to cover reversible and
 * irreversible ABECS declines.
 */
static bool gn_decide(int digit, const char **code, const char **msg)
{
	static const struct {
		const char *code;
		const char *msg;
	} t[10] = {
		[2] = {"05", "TRANSACAO NAO AUTORIZADA"},
		[3] = {"54", "CARTAO VENCIDO"},
		[5] = {"78", "CARTAO BLOQUEADO"},
		[6] = {"91", "EMISSOR INDISPONIVEL"},
		[7] = {"R1", "SUSPENSAO DE PAGAMENTO RECORRENTE"},
		[8] = {"51", "SALDO INSUFICIENTE"},
		[9] = {"14", "CARTAO INVALIDO"},
	};
	bool ok = digit == 0 || digit == 1 || digit == 4;
	if (ok) {
		*code = "00";
		*msg = "transaction approved";
	} else if (digit >= 0 && t[digit].code != NULL) {
		*code = t[digit].code;
		*msg = t[digit].msg;
	} else {
		*code = "05";
		*msg = "TRANSACAO NAO AUTORIZADA";
	}
	return ok;
}

/* ------------------------------------------------------------------ routes */

static void gn_token(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	const char *h = sbx_req_header(call->rq, "Authorization");
	char cred[512], grant[64];
	sbx_org_t *org = NULL;
	sbx_access_t *a = NULL;

	if (h == NULL || strncasecmp(h, "Basic ", 6) != 0 ||
	    !gn_b64_decode(h + 6, cred, sizeof(cred)) || strchr(cred, ':') == NULL) {
		sbx_resp_json(rs, 401,
			      json_pack("{s:s, s:s}", "error", "invalid_client",
					"error_description", "Client authentication failed"));
		goto out;
	}
	char *colon = strchr(cred, ':');
	*colon = '\0';
	for (size_t i = 0; i < s->n_orgs && org == NULL; i++)
		if (s->orgs[i].getnet && gn_eq(s->orgs[i].gn_client_id, cred) &&
		    gn_eq(s->orgs[i].gn_client_secret, colon + 1))
			org = &s->orgs[i];
	crypto_wipe(cred, sizeof(cred));
	if (org == NULL) {
		sbx_resp_json(rs, 401,
			      json_pack("{s:s, s:s}", "error", "invalid_client",
					"error_description", "Client authentication failed"));
		goto out;
	}
	if (!sbx_form_get((const char *)call->rq->body, call->rq->body_len, "grant_type", grant,
			  sizeof(grant)) ||
	    strcmp(grant, "client_credentials") != 0) {
		sbx_resp_json(rs, 400,
			      json_pack("{s:s, s:s}", "error", "unsupported_grant_type",
					"error_description",
					"grant_type must be client_credentials"));
		goto out;
	}
	a = sbx_access_issue(s, "getnet", org->id, (int64_t)s->gn_token_ttl_ms);
	if (a == NULL) {
		sbx_resp_set(rs, 500, NULL, NULL, 0);
		goto out;
	}
	sbx_resp_json(rs, 200,
		      json_pack("{s:s, s:s, s:I, s:s}", "access_token", a->token, "token_type",
				"Bearer", "expires_in",
				(json_int_t)((s->gn_token_ttl_ms + 999u) / 1000u), "scope", "oob"));
out:
	return;
}

static void gn_tokens_card(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	json_t *j = call->body;
	const char *number = sbx_jstr(j, "card_number");
	const char *cust = sbx_jstr(j, "customer_id");
	if (!json_is_object(j)) {
		gn_bad(rs, "body must be a JSON object");
	} else if (number == NULL || !sbx_luhn_ok(number)) {
		gn_err(rs, 400, "GatewayTokenizationServiceError", "Bad Request", "DENIED",
		       "TOKENIZATION-400", "Bad Request", "card_number invalid");
	} else {
		gn_ntoken_t *t =
			gn_ntoken_new(s, call->org, number, cust != NULL ? cust : "", true);
		if (t == NULL)
			sbx_resp_set(rs, 500, NULL, NULL, 0);
		else
			sbx_resp_json(rs, 201, json_pack("{s:s}", "number_token", t->token));
	}
}

static gn_card_t *gn_card_find(sbx_t *s, const sbx_org_t *org, const char *id)
{
	gn_card_t *c = SBX_HTAB_GET(&s->gn_vault_by_id, id, gn_card_t, by_id);
	return c != NULL && c->org == org->id && !c->deleted ? c : NULL;
}

static void gn_not_found(sbx_resp_t *rs)
{
	gn_err(rs, 404, NULL, "Not found", NULL, NULL, NULL, NULL);
}

static void gn_card_save(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	sbx_org_t *org = call->org;
	json_t *j = call->body;
	gn_card_t *c = NULL;
	const char *tok = sbx_jstr(j, "number_token"), *cust = sbx_jstr(j, "customer_id");
	const char *holder = sbx_jstr(j, "cardholder_name"), *brand = sbx_jstr(j, "brand");
	const char *mm = sbx_jstr(j, "expiration_month"), *yy = sbx_jstr(j, "expiration_year");
	if (!json_is_object(j) || tok == NULL || cust == NULL || mm == NULL || yy == NULL ||
	    strlen(mm) != 2 || (strlen(yy) != 2 && strlen(yy) != 4)) {
		gn_bad(rs, "number_token, customer_id, expiration_month (MM) and expiration_year "
			   "are required");
		goto out;
	}
	gn_ntoken_t *t = gn_ntoken_find(s, org, tok);
	if (t == NULL || !t->single_use || t->used) {
		gn_token_invalid(rs);
		goto out;
	}
	t->used = true;
	c = calloc(1, sizeof(*c));
	gn_ntoken_t *vt = c != NULL ? gn_ntoken_new(s, org, t->number, cust, false) : NULL;
	if (vt == NULL) {
		free(c);
		sbx_resp_set(rs, 500, NULL, NULL, 0);
		goto out;
	}
	/* Adding vt may have evicted t (the oldest token at the cap): read vt's copy. */
	c->org = org->id;
	sbx_uuid(c->card_id);
	snprintf(c->number_token, sizeof(c->number_token), "%s", vt->token);
	size_t nl = strlen(vt->number);
	snprintf(c->last4, sizeof(c->last4), "%s", vt->number + nl - 4);
	snprintf(c->bin, sizeof(c->bin), "%.6s", vt->number);
	snprintf(c->holder, sizeof(c->holder), "%s", holder != NULL ? holder : "");
	snprintf(c->exp_month, sizeof(c->exp_month), "%s", mm);
	snprintf(c->exp_year, sizeof(c->exp_year), "%s", yy);
	/* GetNet names the brand from the card, lower case, whatever was sent. */
	(void)brand;
	snprintf(c->brand, sizeof(c->brand), "%s", gn_brand_of(vt->number));
	snprintf(c->customer_id, sizeof(c->customer_id), "%s", cust);
	c->created_ms = util_wall_ms();
	sbx_table_add(&s->gn_vault, &c->age);
	sbx_resp_json(
		rs, 201,
		json_pack("{s:s, s:s}", "card_id", c->card_id, "number_token", c->number_token));
out:
	return;
}

static void gn_card_get(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	json_int_t mm = 0, yy = 0;
	gn_card_t *c = gn_card_find(s, call->org, call->args[0]);
	char at[32];
	if (c == NULL) {
		gn_not_found(rs);
		goto out;
	}
	sbx_time_iso(c->created_ms, at);
	/* The recordings: expiry as numbers here (strings in a payment). */
	mm = (json_int_t)strtol(c->exp_month, NULL, 10);
	yy = (json_int_t)strtol(c->exp_year, NULL, 10);
	sbx_resp_json(rs, 200,
		      json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
				"card_id", c->card_id, "number_token", c->number_token,
				"cardholder_name", c->holder, "expiration_month", mm,
				"expiration_year", yy, "last_four_digits", c->last4, "bin", c->bin,
				"brand", c->brand, "customer_id", c->customer_id, "status",
				"active", "created_at", at, "updated_at", at));
out:
	return;
}

static void gn_card_delete(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	gn_card_t *c = gn_card_find(s, call->org, call->args[0]);
	if (c == NULL) {
		gn_not_found(rs);
		goto out;
	}
	/* The vault's number token dies with the card. */
	sbx_hnode_t *n = sbx_htab_find(&s->gn_ntoken_by_tok, c->number_token);
	if (n != NULL)
		container_of(n, gn_ntoken_t, by_tok)->used = true;
	c->deleted = true;
	sbx_resp_set(rs, 204, NULL, NULL, 0);
out:
	return;
}

static void gn_payment_credit(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	sbx_org_t *org = call->org;
	json_t *j = call->body;
	gn_payment_t *p = NULL;
	int64_t amount = 0, inst = 1;

	json_t *order = json_object_get(j, "order"), *credit = json_object_get(j, "credit");
	json_t *card = json_object_get(credit, "card"), *cust = json_object_get(j, "customer");
	const char *seller = sbx_jstr(j, "seller_id"), *order_id = sbx_jstr(order, "order_id");
	const char *tok = sbx_jstr(card, "number_token");
	if (!json_is_object(j)) {
		gn_bad(rs, "body must be a JSON object");
		goto out;
	}
	if (seller != NULL && !gn_eq(seller, org->gn_seller_id)) {
		gn_bad(rs, "seller_id does not match the authenticated seller");
		goto out;
	}
	if (!sbx_jint(j, "amount", &amount) || amount <= 0) {
		gn_bad(rs, "amount must be a positive integer (cents)");
		goto out;
	}
	if (order_id == NULL || order_id[0] == '\0' || strlen(order_id) > 100) {
		gn_bad(rs, "order.order_id is required (at most 100 characters)");
		goto out;
	}
	if (json_object_get(credit, "number_installments") != NULL &&
	    (!sbx_jint(credit, "number_installments", &inst) || inst < 1 || inst > 24)) {
		gn_bad(rs, "credit.number_installments must be 1 to 24");
		goto out;
	}
	if (tok == NULL) {
		gn_bad(rs, "credit.card.number_token is required");
		goto out;
	}
	gn_ntoken_t *t = gn_ntoken_find(s, org, tok);
	if (t == NULL || (t->single_use && t->used)) {
		gn_token_invalid(rs);
		goto out;
	}
	if (t->single_use)
		t->used = true;

	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		sbx_resp_set(rs, 500, NULL, NULL, 0);
		goto out;
	}
	const char *code = NULL, *msg = NULL;
	bool ok = gn_decide(sbx_final_digit(t->number), &code, &msg);
	const char *cof = sbx_jstr(credit, "credentials_on_file_type");
	const char *ntid_sent = sbx_jstr(credit, "transaction_id");
	/* The fault mode: a recurring payment after the first must name it. */
	if (s->require_ntid && t->ntid[0] != '\0' && cof != NULL &&
	    strcmp(cof, "RECURRING_PAYMENT") == 0 &&
	    (ntid_sent == NULL || strcmp(ntid_sent, t->ntid) != 0)) {
		ok = false;
		code = "KA";
		msg = "AUTORIZACAO NEGADA";
	}
	p->org = org->id;
	sbx_uuid(p->payment_id);
	snprintf(p->order_id, sizeof(p->order_id), "%s", order_id);
	snprintf(p->customer_id, sizeof(p->customer_id), "%s",
		 sbx_jstr(cust, "customer_id") != NULL ? sbx_jstr(cust, "customer_id") : "");
	snprintf(p->status, sizeof(p->status), "%s", ok ? "APPROVED" : "DENIED");
	snprintf(p->reason_code, sizeof(p->reason_code), "%s", code);
	snprintf(p->reason_message, sizeof(p->reason_message), "%s", msg);
	if (ok)
		gn_digits(s, p->auth_code, 6);
	gn_digits(s, p->nsu, 9);
	gn_digits(s, p->acq_tid, 15);
	if (ok && t->ntid[0] == '\0')
		snprintf(t->ntid, sizeof(t->ntid), "%s", p->acq_tid);
	snprintf(p->brand, sizeof(p->brand), "%s", gn_brand_of(t->number));
	snprintf(p->soft, sizeof(p->soft), "%s",
		 sbx_jstr(credit, "soft_descriptor") != NULL ? sbx_jstr(credit, "soft_descriptor")
							     : "");
	p->amount = amount;
	p->installments = inst;
	p->received_ms = util_wall_ms();
	sbx_table_add(&s->gn_payments, &p->age);
	sbx_charge_record(s, "getnet", org->id, p->order_id, p->payment_id, amount, ok, p->status,
			  code, msg, 0);
	sbx_cof_t mark = {false, "", cof != NULL ? cof : "", ntid_sent != NULL ? ntid_sent : "",
			  ok ? p->acq_tid : ""};
	sbx_charge_mark(s, p->order_id, &mark);
	if (ok) {
		sbx_resp_json(rs, 200, gn_payment_json(org, p));
	} else {
		char detail[96];
		snprintf(detail, sizeof(detail), "%s [ECOM - %s]", msg, code);
		/* The recorded 402's shape and wording (reference 2.7). */
		json_t *d =
			json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "status",
				  "NOT APPROVED", "error_code", "PAYMENTS-011", "description",
				  "Transa\u00e7\u00e3o n\u00e3o autorizada", "description_detail",
				  detail, "payment_id", p->payment_id, "authorization_code", "",
				  "terminal_nsu", p->nsu, "acquirer_transaction_id", p->acq_tid);
		sbx_resp_json(rs, 402,
			      json_pack("{s:s, s:s, s:i, s:[o]}", "message",
					"Erro ao efetuar transa\u00e7\u00e3o de cr\u00e9dito",
					"name", "CreditServiceError", "status_code", 402, "details",
					d));
	}
	gn_notify(s, org, p);
out:
	return;
}

static gn_payment_t *gn_payment_find(sbx_t *s, const sbx_org_t *org, const char *id)
{
	gn_payment_t *p = SBX_HTAB_GET(&s->gn_pay_by_id, id, gn_payment_t, by_id);
	return p != NULL && p->org == org->id ? p : NULL;
}

static void gn_payment_cancel(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	sbx_org_t *org = call->org;
	gn_payment_t *p = gn_payment_find(s, org, call->args[0]);
	if (p == NULL) {
		gn_not_found(rs);
		goto out;
	}
	if (strcmp(p->status, "APPROVED") != 0) {
		gn_err(rs, 400, "CreditCancelServiceError", "Bad Request", "DENIED", "PAYMENTS-400",
		       "Bad Request", "Transaction cannot be cancelled in its current status");
		goto out;
	}
	snprintf(p->status, sizeof(p->status), "CANCELED");
	p->canceled_ms = util_wall_ms();
	sbx_resp_json(rs, 200, gn_payment_json(org, p));
	gn_notify(s, org, p);
out:
	return;
}

static void gn_payment_get(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	sbx_org_t *org = call->org;
	gn_payment_t *p = gn_payment_find(s, org, call->args[0]);
	if (p == NULL)
		gn_not_found(rs);
	else
		sbx_resp_json(rs, 200, gn_payment_json(org, p));
}

static void gn_payment_query(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	sbx_org_t *org = call->org;
	char order[128];
	json_t *list = NULL;
	if (!sbx_form_get(call->rq->query, strlen(call->rq->query), "order_id", order,
			  sizeof(order)) ||
	    order[0] == '\0') {
		gn_bad(rs, "order_id is required");
		goto out;
	}
	list = json_array();
	for (sbx_hnode_t *n = sbx_htab_find(&s->gn_pay_by_order, order); n != NULL;
	     n = sbx_htab_next(n)) {
		gn_payment_t *p = container_of(n, gn_payment_t, by_order);
		if (p->org == org->id)
			json_array_append_new(list, gn_payment_json(org, p));
	}
	sbx_resp_json(rs, 200, json_pack("{s:o}", "payments", list));
out:
	return;
}

const sbx_route_t sbx_getnet_routes[] = {
	{"POST", "/auth/oauth/v2/token", "token", gn_token},
	{"POST", "/v1/tokens/card", "tokens_card", gn_tokens_card},
	{"POST", "/v1/cards", "cards_create", gn_card_save},
	{"GET", "/v1/cards/*", "cards_get", gn_card_get},
	{"DELETE", "/v1/cards/*", "cards_delete", gn_card_delete},
	{"POST", "/v1/payments/credit", "payment_credit", gn_payment_credit},
	{"GET", "/v1/payments/credit", "payment_query", gn_payment_query},
	{"GET", "/v1/payments/credit/*", "payment_get", gn_payment_get},
	{"POST", "/v1/payments/credit/*/cancel", "payment_cancel", gn_payment_cancel},
};
const size_t sbx_getnet_n_routes = OSPAY_ARRAY_LEN(sbx_getnet_routes);
