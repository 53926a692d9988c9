/*
 * ZapMe 2.0 WhatsApp API (reference section 4): credentials api + secret as
 * form fields (query parameters on GET), POST /messages/create, GET
 * /messages/{id}, POST /status, and delivery-status webhooks sent with the
 * organization's configured secret header. The send answer carries the
 * documented fields plus "id", so a client can ask for the message later.
 */
#include "sandbox/sbx_int.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/util.h"

#define ZM_HOOK_ATTEMPTS 4
#define ZM_MAX_MESSAGE 4096

typedef struct zm_msg {
	list_node_t age;
	sbx_hnode_t by_id;
	uint64_t org;
	char id[24];
	char hash[33];
	char phone[32];
	char status[24];
	char *text;
	int64_t created_ms, updated_ms;
} zm_msg_t;

static void zm_forget(list_node_t *n)
{
	free(container_of(n, zm_msg_t, age)->text);
}

int sbx_zapme_init(sbx_t *s)
{
	const sbx_table_spec_t messages = {
		.table = &s->zm_messages,
		.cap = SBX_MAX_ZM_MESSAGES,
		.idx = {SBX_INDEX(&s->zm_by_id, zm_msg_t, by_id, id)},
		.forget = zm_forget,
	};
	return sbx_tables_open(s, &messages, 1);
}

static void zm_reply(sbx_resp_t *rs, int status, bool ok, const char *result, json_t *data)
{
	char now[32];
	sbx_time_brt(util_wall_ms(), now);
	json_t *j = json_pack("{s:b, s:s, s:s}", "status", ok, "result", result, "date", now);
	if (data != NULL)
		json_object_set_new(j, "data", data);
	sbx_resp_json(rs, status, j);
}

/* The organization whose api/secret the form carries (the query of a GET, else the
 * body), or NULL after a 401. */
sbx_org_t *sbx_zapme_auth(sbx_t *s, const sbx_req_t *rq, sbx_resp_t *rs)
{
	bool get = strcmp(rq->method, "GET") == 0;
	const char *form = get ? rq->query : (const char *)rq->body;
	size_t len = get ? strlen(rq->query) : rq->body_len;
	char api[160], secret[160];
	sbx_org_t *org = NULL;
	if (sbx_form_get(form, len, "api", api, sizeof(api)) &&
	    sbx_form_get(form, len, "secret", secret, sizeof(secret))) {
		size_t al = strlen(api), sl = strlen(secret);
		for (size_t i = 0; i < s->n_orgs && org == NULL; i++) {
			sbx_org_t *o = &s->orgs[i];
			if (o->zapme && strlen(o->zm_api) == al &&
			    crypto_equal(o->zm_api, api, al) && strlen(o->zm_secret) == sl &&
			    crypto_equal(o->zm_secret, secret, sl))
				org = o;
		}
		crypto_wipe(secret, sizeof(secret));
	}
	if (org == NULL)
		zm_reply(rs, 401, false, "invalid_credentials", NULL);
	return org;
}

static json_t *zm_msg_json(const zm_msg_t *m)
{
	char c[32], u[32];
	sbx_time_brt(m->created_ms, c);
	sbx_time_brt(m->updated_ms, u);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", m->id, "hash", m->hash,
			 "message", m->text, "phone", m->phone, "type", "api", "status", m->status,
			 "created_at", c, "updated_at", u);
}

/* Tells the organization's webhook the message's current status. */
static void zm_notify(sbx_t *s, const zm_msg_t *m)
{
	sbx_org_t *org = sbx_org_find(s, m->org);
	const char *hdr[2][2] = {{"Content-Type", "application/json"}, {NULL, NULL}};
	size_t nh = 1;
	char ev[37], when[32], summary[96];
	char *body = NULL;
	json_t *j = NULL;
	if (org == NULL || !org->zapme)
		goto out;
	if (org->zm_hook_secret[0] != '\0') {
		hdr[1][0] = org->zm_hook_header;
		hdr[1][1] = org->zm_hook_secret;
		nh = 2;
	}
	sbx_uuid(ev);
	sbx_time_brt(m->updated_ms, when);
	j = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s}", "event", "message.status", "eventId",
		      ev, "id", (json_int_t)strtoull(m->id, NULL, 10), "hash", m->hash, "phone",
		      m->phone, "status", m->status, "date", when);
	body = json_dumps(j, JSON_COMPACT);
	if (body == NULL)
		goto out;
	snprintf(summary, sizeof(summary), "message id=%s status=%s", m->id, m->status);
	sbx_hook_emit(s, "zapme", org->id, "POST", "", (const char *const(*)[2])hdr, nh, body,
		      strlen(body), ZM_HOOK_ATTEMPTS, summary,
		      org->zm_hook_secret[0] != '\0' ? org->zm_hook_secret : NULL);
out:
	free(body);
	json_decref(j);
}

static void zm_send(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	const char *form = (const char *)call->rq->body;
	sbx_org_t *org = call->org;
	char phone[32];
	char *text = NULL;
	zm_msg_t *m = NULL;

	text = malloc(ZM_MAX_MESSAGE + 1);
	if (text == NULL) {
		zm_reply(rs, 500, false, "internal_error", NULL);
		goto out;
	}
	bool phone_ok = sbx_form_get(form, call->rq->body_len, "phone", phone, sizeof(phone)) &&
			strlen(phone) >= 10 && strlen(phone) <= 15;
	for (size_t i = 0; phone_ok && phone[i] != '\0'; i++)
		phone_ok = isdigit((unsigned char)phone[i]) != 0;
	if (!phone_ok) {
		zm_reply(rs, 400, false, "invalid_phone", NULL);
		goto out;
	}
	if (!sbx_form_get(form, call->rq->body_len, "message", text, ZM_MAX_MESSAGE + 1) ||
	    text[0] == '\0') {
		zm_reply(rs, 400, false, "invalid_message", NULL);
		goto out;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		zm_reply(rs, 500, false, "internal_error", NULL);
		goto out;
	}
	m->org = org->id;
	snprintf(m->id, sizeof(m->id), "%" PRIu64, ++s->zm_next_id);
	sbx_hexid(m->hash, 32);
	snprintf(m->phone, sizeof(m->phone), "%s", phone);
	snprintf(m->status, sizeof(m->status), "message_sent");
	m->text = text;
	text = NULL;
	m->created_ms = m->updated_ms = util_wall_ms();
	sbx_table_add(&s->zm_messages, &m->age);
	sbx_sent_record(s, "zapme", "whatsapp", org->id, m->phone, m->text, m->id);

	char now[32];
	sbx_time_brt(m->created_ms, now);
	sbx_resp_json(rs, 200,
		      json_pack("{s:b, s:s, s:s, s:s, s:I}", "status", true, "result", "success",
				"date", now, "data", "message_sent", "id",
				(json_int_t)s->zm_next_id));
	/* Delivery: numbers ending in 9 have no WhatsApp (ZapMe's "missing_number");
	 * numbers ending in 8 stay "message_sent" with no webhook until the control
	 * API sets a status (a delivery that takes long, or never comes). */
	if (sbx_final_digit(m->phone) != 8) {
		snprintf(m->status, sizeof(m->status), "%s",
			 sbx_final_digit(m->phone) == 9 ? "missing_number" : "delivered");
		m->updated_ms = util_wall_ms();
		zm_notify(s, m);
	}
out:
	free(text);
}

static zm_msg_t *zm_find(sbx_t *s, uint64_t org, const char *id)
{
	zm_msg_t *m = SBX_HTAB_GET(&s->zm_by_id, id, zm_msg_t, by_id);
	return m != NULL && m->org == org ? m : NULL;
}

static void zm_get(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	zm_msg_t *m = zm_find(s, call->org->id, call->args[0]);
	if (m == NULL)
		zm_reply(rs, 404, false, "message_not_found", NULL);
	else
		zm_reply(rs, 200, true, "success", zm_msg_json(m));
}

/* The account of the credentials, which the route's authentication already checked. */
static void zm_status(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	char now[32];
	(void)s;
	(void)call;
	sbx_time_brt(util_wall_ms(), now);
	zm_reply(rs, 200, true, "success",
		 json_pack("{s:{s:s, s:s, s:s}, s:{s:b, s:s}}", "service", "plan", "Sandbox",
			   "duedate", "2099-12-31", "status", "active", "auth", "status", true,
			   "authenticated_at", now));
}

const sbx_route_t sbx_zapme_routes[] = {
	{"POST", "/messages/create", "message_create", zm_send},
	{"GET", "/messages/*", "message_get", zm_get},
	{"POST", "/status", "account_status", zm_status},
};
const size_t sbx_zapme_n_routes = OSPAY_ARRAY_LEN(sbx_zapme_routes);

void sbx_zapme_control_status(sbx_t *s, const char *id, json_t *body, sbx_resp_t *rs)
{
	zm_msg_t *m = SBX_HTAB_GET(&s->zm_by_id, id, zm_msg_t, by_id);
	const char *st = sbx_jstr(body, "status");
	if (m == NULL) {
		sbx_resp_json(rs, 404, json_pack("{s:s}", "error", "no message with this id"));
	} else if (st == NULL || st[0] == '\0' || strlen(st) >= sizeof(m->status)) {
		sbx_resp_json(rs, 400, json_pack("{s:s}", "error", "status is required"));
	} else {
		snprintf(m->status, sizeof(m->status), "%s", st);
		m->updated_ms = util_wall_ms();
		sbx_resp_json(rs, 200, zm_msg_json(m));
		zm_notify(s, m);
	}
}
