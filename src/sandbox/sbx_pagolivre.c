/*
 * PagoLivre order API as reference section 8 models it: POST /orders with
 * installments answers a paymentUrl (and the customer gets it by SMS, which
 * the sandbox records), GET /orders/byOrderKey/{key} (204 without body when
 * unknown), POST /orders/{id}/cancel, and webhooks (eventName + orderKey)
 * authenticated by the merchant's token in the accessToken query parameter.
 * What the customer and the card network do (paying through the link, a
 * decline, expiry, each monthly installment charge) happens through control
 * calls (sbx_pagolivre_control).
 */
#include "sandbox/sbx_int.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/crypto.h"
#include "common/util.h"

/* "retries ~10 times every 5 min on non-2xx" (reference section 3). */
#define PL_HOOK_ATTEMPTS 10

enum pl_status { PL_CREATED = 0, PL_PAID, PL_CANCELED, PL_DECLINED, PL_EXPIRED };
enum pl_inst { PL_I_SCHEDULED = 0, PL_I_PAID, PL_I_DECLINED, PL_I_CANCELED };

static const char *const pl_status_names[] = {"created", "paid", "canceled", "declined", "expired"};
static const char *const pl_inst_names[] = {"scheduled", "paid", "declined", "canceled"};

typedef struct pl_order {
	list_node_t age;
	sbx_hnode_t by_id, by_key, by_req;
	uint64_t org;
	char id[37];
	char key[101];
	char req_id[65];
	char cancel_req[65];
	char phone[32];
	char cpf[16];
	char message[256];
	int64_t amount;
	int installments;
	enum pl_status status;
	int64_t created_ms, expires_ms, paid_ms;
	char declining[96];
	char canceling[128];
	struct {
		enum pl_inst status;
		int64_t amount;
		int64_t at_ms;
		char reason[64];
	} inst[SBX_PL_MAX_INSTALLMENTS];
} pl_order_t;

int sbx_pagolivre_init(sbx_t *s)
{
	const sbx_table_spec_t orders = {
		.table = &s->pl_orders,
		.cap = SBX_MAX_PL_ORDERS,
		.idx = {SBX_INDEX(&s->pl_by_id, pl_order_t, by_id, id),
			SBX_INDEX(&s->pl_by_key, pl_order_t, by_key, key),
			SBX_INDEX(&s->pl_by_req, pl_order_t, by_req, req_id)},
	};
	return sbx_tables_open(s, &orders, 1);
}

/* ------------------------------------------------------------------ helpers */

static void pl_err(sbx_resp_t *rs, int status, const char *code, const char *msg)
{
	sbx_resp_json(rs, status, json_pack("{s:s, s:s}", "code", code, "message", msg));
}

sbx_org_t *sbx_pagolivre_auth(sbx_t *s, const sbx_req_t *rq, sbx_resp_t *rs)
{
	const char *h = sbx_req_header(rq, "Authorization");
	sbx_org_t *org = NULL;
	if (h != NULL && strncasecmp(h, "Basic ", 6) == 0) {
		const char *tok = h + 6;
		size_t tl = strlen(tok);
		for (size_t i = 0; i < s->n_orgs && org == NULL; i++)
			if (s->orgs[i].pagolivre && strlen(s->orgs[i].pl_token) == tl &&
			    crypto_equal(s->orgs[i].pl_token, tok, tl))
				org = &s->orgs[i];
	}
	if (org == NULL)
		pl_err(rs, 401, "unauthorized", "invalid or missing API token");
	return org;
}

/* Reais as a JSON number with two decimals. */
static json_t *pl_reais(int64_t cents)
{
	return json_real((double)cents / 100.0);
}

static json_t *pl_time_or_null(int64_t ms)
{
	char t[32];
	if (ms == 0)
		return json_null();
	sbx_time_iso(ms, t);
	return json_string(t);
}

static json_t *pl_str_or_null(const char *v)
{
	return v[0] != '\0' ? json_string(v) : json_null();
}

json_t *sbx_pagolivre_order_json(sbx_t *s, const void *order)
{
	const pl_order_t *o = order;
	char url[300], exp[32];
	json_t *charges = json_array();
	for (int i = 0; i < o->installments; i++)
		json_array_append_new(
			charges, json_pack("{s:i, s:o, s:s, s:o, s:o}", "installment", i + 1,
					   "amount", pl_reais(o->inst[i].amount), "status",
					   pl_inst_names[o->inst[i].status], "chargedAt",
					   pl_time_or_null(o->inst[i].at_ms), "decliningReason",
					   pl_str_or_null(o->inst[i].reason)));
	snprintf(url, sizeof(url), "%s/pagolivre/pay/%s", s->self_base, o->id);
	sbx_time_iso(o->expires_ms, exp);
	return json_pack("{s:s, s:s, s:o, s:s, s:o, s:i, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}",
			 "id", o->id, "orderKey", o->key, "requestId", pl_str_or_null(o->req_id),
			 "status", pl_status_names[o->status], "amount", pl_reais(o->amount),
			 "installments", o->installments, "receivingOptionType", "creditCard",
			 "paymentUrl", url, "expirationDate", exp, "createdAt",
			 pl_time_or_null(o->created_ms), "paidAt", pl_time_or_null(o->paid_ms),
			 "decliningReason", pl_str_or_null(o->declining), "cancelingReason",
			 pl_str_or_null(o->canceling), "charges", charges);
}

/* Sends one event to the organization's webhook with its accessToken. */
static void pl_event(sbx_t *s, const pl_order_t *o, const char *name, int installment)
{
	sbx_org_t *org = sbx_org_find(s, o->org);
	char tok[600], q[640], id[37], at[32], summary[96];
	json_t *j = NULL;
	char *body = NULL;
	if (org == NULL || !org->pagolivre)
		goto out;
	sbx_url_encode(org->pl_token, tok, sizeof(tok));
	snprintf(q, sizeof(q), "?accessToken=%s", tok);
	sbx_uuid(id);
	sbx_time_iso(util_wall_ms(), at);
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "eventId", id, "eventName", name,
		      "orderKey", o->key, "orderId", o->id, "status", pl_status_names[o->status],
		      "occurredAt", at);
	if (installment > 0) {
		json_object_set_new(j, "installment", json_integer(installment));
		json_object_set_new(j, "installmentStatus",
				    json_string(pl_inst_names[o->inst[installment - 1].status]));
	}
	body = json_dumps(j, JSON_COMPACT);
	if (body == NULL)
		goto out;
	const char *hdr[1][2] = {{"Content-Type", "application/json"}};
	snprintf(summary, sizeof(summary), "%s orderKey=%.40s installment=%d", name, o->key,
		 installment);
	sbx_hook_emit(s, "pagolivre", org->id, "POST", q, (const char *const(*)[2])hdr, 1, body,
		      strlen(body), PL_HOOK_ATTEMPTS, summary, tok);
out:
	free(body);
	json_decref(j);
}

/* Amount in reais (JSON number) to cents; false unless positive with at most 2 decimals. */
static bool pl_cents(const json_t *v, int64_t *out)
{
	bool ok = false;
	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);
		ok = n > 0 && n < INT64_C(100000000000);
		*out = (int64_t)n * 100;
	} else if (json_is_real(v)) {
		double d = json_real_value(v) * 100.0;
		double r = round(d);
		ok = d > 0 && d < 1e13 && fabs(d - r) < 1e-6;
		*out = (int64_t)r;
	}
	return ok;
}

static bool pl_phone_ok(const char *p)
{
	size_t n = strlen(p);
	bool ok = n >= 8 && n < 32;
	for (size_t i = 0; i < n && ok; i++)
		ok = isdigit((unsigned char)p[i]) || (i == 0 && p[i] == '+');
	return ok;
}

static pl_order_t *pl_find_id(sbx_t *s, uint64_t org, const char *id)
{
	pl_order_t *o = SBX_HTAB_GET(&s->pl_by_id, id, pl_order_t, by_id);
	return o != NULL && o->org == org ? o : NULL;
}

/* The newest order of org with key. */
static pl_order_t *pl_find_key(sbx_t *s, uint64_t org, const char *key)
{
	pl_order_t *o = NULL;
	for (sbx_hnode_t *n = sbx_htab_find(&s->pl_by_key, key); n != NULL && o == NULL;
	     n = sbx_htab_next(n))
		if (container_of(n, pl_order_t, by_key)->org == org)
			o = container_of(n, pl_order_t, by_key);
	return o;
}

/* ------------------------------------------------------------------ routes */

static void pl_order_create(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	sbx_org_t *org = call->org;
	json_t *j = call->body;
	pl_order_t *o = NULL;
	int64_t amount = 0, inst = 1;

	if (!json_is_object(j)) {
		pl_err(rs, 400, "invalid_body", "body must be a JSON object");
		goto out;
	}
	const char *key = sbx_jstr(j, "orderKey"), *req = sbx_jstr(j, "requestId");
	const char *opt = sbx_jstr(j, "receivingOptionType"), *msg = sbx_jstr(j, "message");
	json_t *guest = json_array_get(json_object_get(j, "orderGuests"), 0);
	const char *phone = sbx_jstr(guest, "mobileNumber"), *cpf = sbx_jstr(guest, "cpf");
	if (key == NULL || key[0] == '\0' || strlen(key) > 100) {
		pl_err(rs, 400, "invalid_order_key",
		       "orderKey is required (at most 100 characters)");
		goto out;
	}
	if (req != NULL && (req[0] == '\0' || strlen(req) > 64)) {
		pl_err(rs, 400, "invalid_request_id", "requestId must be 1 to 64 characters");
		goto out;
	}
	if (!pl_cents(json_object_get(j, "amount"), &amount)) {
		pl_err(rs, 400, "invalid_amount",
		       "amount must be a positive value in reais with at most two decimals");
		goto out;
	}
	if (json_object_get(j, "installments") != NULL &&
	    (!sbx_jint(j, "installments", &inst) || inst < 1 || inst > SBX_PL_MAX_INSTALLMENTS ||
	     inst > amount)) {
		pl_err(rs, 400, "invalid_installments", "installments must be 1 to 24");
		goto out;
	}
	if (opt == NULL || strcmp(opt, "creditCard") != 0) {
		pl_err(rs, 400, "invalid_receiving_option",
		       "receivingOptionType must be creditCard (the only option the sandbox "
		       "serves)");
		goto out;
	}
	if (phone == NULL || !pl_phone_ok(phone)) {
		pl_err(rs, 400, "invalid_guest",
		       "orderGuests[0].mobileNumber is required (digits)");
		goto out;
	}
	if (req != NULL) {
		for (sbx_hnode_t *n = sbx_htab_find(&s->pl_by_req, req); n != NULL && o == NULL;
		     n = sbx_htab_next(n))
			if (container_of(n, pl_order_t, by_req)->org == org->id)
				o = container_of(n, pl_order_t, by_req);
		if (o != NULL) {
			/* The same requestId is the same order: idempotent retry. */
			sbx_resp_json(rs, 200, sbx_pagolivre_order_json(s, o));
			goto out;
		}
	}
	pl_order_t *prev = pl_find_key(s, org->id, key);
	if (prev != NULL && (prev->status == PL_CREATED || prev->status == PL_PAID)) {
		pl_err(rs, 409, "duplicated_order_key",
		       "an order with this orderKey is still created or paid");
		goto out;
	}
	o = calloc(1, sizeof(*o));
	if (o == NULL) {
		pl_err(rs, 500, "internal", "out of memory");
		goto out;
	}
	o->org = org->id;
	sbx_uuid(o->id);
	snprintf(o->key, sizeof(o->key), "%s", key);
	snprintf(o->req_id, sizeof(o->req_id), "%s", req != NULL ? req : "");
	snprintf(o->phone, sizeof(o->phone), "%s", phone);
	snprintf(o->cpf, sizeof(o->cpf), "%s", cpf != NULL ? cpf : "");
	snprintf(o->message, sizeof(o->message), "%s", msg != NULL ? msg : "");
	o->amount = amount;
	o->installments = (int)inst;
	o->status = PL_CREATED;
	o->created_ms = util_wall_ms();
	o->expires_ms = o->created_ms + (int64_t)s->pl_expiry_s * 1000;
	for (int i = 0; i < o->installments; i++)
		o->inst[i].amount = amount / inst + (i == 0 ? amount % inst : 0);
	sbx_table_add(&s->pl_orders, &o->age);

	char sms[600];
	snprintf(sms, sizeof(sms), "%s%s%s/pagolivre/pay/%s", o->message,
		 o->message[0] != '\0' ? " " : "", s->self_base, o->id);
	sbx_sent_record(s, "pagolivre", "sms", org->id, o->phone, sms, o->id);
	sbx_resp_json(rs, 201, sbx_pagolivre_order_json(s, o));
out:
	return;
}

static void pl_order_by_key(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	pl_order_t *o = pl_find_key(s, call->org->id, call->args[0]);
	if (o == NULL)
		sbx_resp_set(rs, 204, NULL, NULL, 0);
	else
		sbx_resp_json(rs, 200, sbx_pagolivre_order_json(s, o));
}

static void pl_order_get(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	pl_order_t *o = pl_find_id(s, call->org->id, call->args[0]);
	if (o == NULL)
		pl_err(rs, 404, "order_not_found", "no order with this id");
	else
		sbx_resp_json(rs, 200, sbx_pagolivre_order_json(s, o));
}

static void pl_cancel_rest(pl_order_t *o)
{
	for (int i = 0; i < o->installments; i++)
		if (o->inst[i].status == PL_I_SCHEDULED)
			o->inst[i].status = PL_I_CANCELED;
}

static void pl_order_cancel(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	pl_order_t *o = pl_find_id(s, call->org->id, call->args[0]);
	json_t *j = call->body;
	int64_t partial = 0;
	if (o == NULL) {
		pl_err(rs, 404, "order_not_found", "no order with this id");
		goto out;
	}
	const char *creq = sbx_jstr(j, "cancellationRequestId"), *reason = sbx_jstr(j, "reason");
	if (!json_is_object(j) || creq == NULL || creq[0] == '\0' || strlen(creq) > 64) {
		pl_err(rs, 400, "invalid_cancellation_request_id",
		       "cancellationRequestId is required (at most 64 characters)");
		goto out;
	}
	if (json_object_get(j, "amount") != NULL &&
	    !pl_cents(json_object_get(j, "amount"), &partial)) {
		pl_err(rs, 400, "invalid_amount", "amount must be a positive value in reais");
		goto out;
	}
	if (o->status == PL_CANCELED && strcmp(o->cancel_req, creq) == 0) {
		sbx_resp_json(rs, 200, sbx_pagolivre_order_json(s, o));
		goto out;
	}
	if (o->status != PL_CREATED && o->status != PL_PAID) {
		pl_err(rs, 409, "invalid_status", "only created or paid orders can be canceled");
		goto out;
	}
	o->status = PL_CANCELED;
	snprintf(o->cancel_req, sizeof(o->cancel_req), "%s", creq);
	snprintf(o->canceling, sizeof(o->canceling), "%s",
		 reason != NULL && reason[0] != '\0' ? reason : "canceled by the merchant");
	pl_cancel_rest(o);
	sbx_resp_json(rs, 200, sbx_pagolivre_order_json(s, o));
	pl_event(s, o, "orderCanceled", 0);
out:
	return;
}

/* The page paymentUrl points to: what a customer would see (paying is a control call). */
static void pl_pay_page(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	pl_order_t *o = SBX_HTAB_GET(&s->pl_by_id, call->args[0], pl_order_t, by_id);
	char page[512];
	if (o == NULL) {
		sbx_resp_set(rs, 404, "text/html; charset=utf-8",
			     "<html><body>Link not found</body></html>", 40);
	} else {
		int len = snprintf(page, sizeof(page),
				   "<html><body><h1>PagoLivre sandbox</h1><p>Order %s: R$ "
				   "%" PRId64
				   ".%02d in %d installment(s), status %s.</p></body></html>",
				   o->id, o->amount / 100, (int)(o->amount % 100), o->installments,
				   pl_status_names[o->status]);
		sbx_resp_set(rs, 200, "text/html; charset=utf-8", page, (size_t)len);
	}
}

const sbx_route_t sbx_pagolivre_routes[] = {
	{"POST", "/orders", "order_create", pl_order_create},
	{"GET", "/orders/byOrderKey/*", "order_by_key", pl_order_by_key},
	{"GET", "/orders/*", "order_get", pl_order_get},
	{"POST", "/orders/*/cancel", "order_cancel", pl_order_cancel},
	{"GET", "/pay/*", "pay_page", pl_pay_page},
};
const size_t sbx_pagolivre_n_routes = OSPAY_ARRAY_LEN(sbx_pagolivre_routes);

/* ------------------------------------------------------------------ control */

/* The outcome a control call asks for: a card number's final digit (Cielo's table
 * 1.9: 0, 1, 4 pay) or an explicit "outcome". */
static bool pl_outcome(json_t *body, bool def_ok, char *reason, size_t cap)
{
	const char *card = sbx_jstr(body, "card_number");
	const char *outcome = sbx_jstr(body, "outcome");
	const char *r = sbx_jstr(body, "reason");
	bool ok = def_ok;
	static const char *const why[10] = {
		[2] = "Not Authorized", [3] = "Card Expired",  [5] = "Blocked Card",
		[6] = "Time Out",       [7] = "Card Canceled", [8] = "Problems with Credit Card",
		[9] = "Not Authorized",
	};
	if (card != NULL) {
		int d = sbx_final_digit(card);
		ok = d == 0 || d == 1 || d == 4;
		snprintf(reason, cap, "%s", !ok && d >= 0 && why[d] != NULL ? why[d] : "");
	} else if (outcome != NULL) {
		ok = strcmp(outcome, "paid") == 0;
		reason[0] = '\0';
	} else {
		reason[0] = '\0';
	}
	if (r != NULL)
		snprintf(reason, cap, "%s", r);
	if (!ok && reason[0] == '\0')
		snprintf(reason, cap, "Not Authorized");
	return ok;
}

void sbx_pagolivre_control(sbx_t *s, const char *ref, const char *action, json_t *body,
			   sbx_resp_t *rs)
{
	pl_order_t *o = NULL;
	char reason[64];
	sbx_hnode_t *n = sbx_htab_find(&s->pl_by_id, ref);
	if (n != NULL)
		o = container_of(n, pl_order_t, by_id);
	n = o == NULL ? sbx_htab_find(&s->pl_by_key, ref) : NULL;
	if (n != NULL)
		o = container_of(n, pl_order_t, by_key);
	if (o == NULL) {
		sbx_resp_json(rs, 404,
			      json_pack("{s:s}", "error", "no order with this id or orderKey"));
		goto out;
	}
	const char *outcome = sbx_jstr(body, "outcome");
	if (outcome != NULL && strcmp(outcome, "paid") != 0 && strcmp(outcome, "declined") != 0) {
		sbx_resp_json(rs, 400,
			      json_pack("{s:s}", "error", "outcome must be paid or declined"));
		goto out;
	}
	if (strcmp(action, "pay") == 0 || strcmp(action, "decline") == 0) {
		bool ok = pl_outcome(body, strcmp(action, "pay") == 0, reason, sizeof(reason));
		if (strcmp(action, "decline") == 0)
			ok = false;
		if (o->status != PL_CREATED) {
			sbx_resp_json(rs, 409,
				      json_pack("{s:s, s:s}", "error", "order is not payable",
						"status", pl_status_names[o->status]));
			goto out;
		}
		o->inst[0].at_ms = util_wall_ms();
		if (ok) {
			o->status = PL_PAID;
			o->paid_ms = o->inst[0].at_ms;
			o->inst[0].status = PL_I_PAID;
		} else {
			o->status = PL_DECLINED;
			o->inst[0].status = PL_I_DECLINED;
			snprintf(o->inst[0].reason, sizeof(o->inst[0].reason), "%s", reason);
			snprintf(o->declining, sizeof(o->declining), "%s", reason);
			pl_cancel_rest(o);
		}
		sbx_charge_record(s, "pagolivre", o->org, o->key, o->id, o->inst[0].amount, ok,
				  ok ? "paid" : "declined", "", ok ? "" : reason, 1);
		sbx_resp_json(rs, 200, sbx_pagolivre_order_json(s, o));
		pl_event(s, o, ok ? "orderPaid" : "orderDeclined", 1);
	} else if (strcmp(action, "expire") == 0) {
		if (o->status != PL_CREATED) {
			sbx_resp_json(rs, 409,
				      json_pack("{s:s, s:s}", "error", "order is not open",
						"status", pl_status_names[o->status]));
			goto out;
		}
		o->status = PL_EXPIRED;
		pl_cancel_rest(o);
		sbx_resp_json(rs, 200, sbx_pagolivre_order_json(s, o));
		pl_event(s, o, "orderExpired", 0);
	} else if (strcmp(action, "charge") == 0) {
		int i = 1;
		while (i < o->installments && o->inst[i].status != PL_I_SCHEDULED)
			i++;
		if (o->status != PL_PAID || i >= o->installments) {
			sbx_resp_json(
				rs, 409,
				json_pack("{s:s, s:s}", "error",
					  "no installment left to charge (order must be paid)",
					  "status", pl_status_names[o->status]));
			goto out;
		}
		bool ok = pl_outcome(body, true, reason, sizeof(reason));
		o->inst[i].at_ms = util_wall_ms();
		o->inst[i].status = ok ? PL_I_PAID : PL_I_DECLINED;
		if (!ok)
			snprintf(o->inst[i].reason, sizeof(o->inst[i].reason), "%s", reason);
		sbx_charge_record(s, "pagolivre", o->org, o->key, o->id, o->inst[i].amount, ok,
				  ok ? "paid" : "declined", "", ok ? "" : reason, i + 1);
		sbx_resp_json(rs, 200, sbx_pagolivre_order_json(s, o));
		pl_event(s, o, "installmentCharged", i + 1);
	} else {
		sbx_resp_json(rs, 404,
			      json_pack("{s:s}", "error",
					"unknown action (pay, decline, expire, charge)"));
	}
out:
	return;
}
