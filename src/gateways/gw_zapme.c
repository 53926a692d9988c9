/*
 * ZapMe WhatsApp API v2 (reference section 4): send a message, read a
 * message's status, and a delivery-status webhook authenticated by a
 * configured secret header.
 *
 * ZapMe authenticates with two form fields, "api" and "secret", in every
 * request body (POST) or query string (GET). URLs with them are never logged
 * anywhere: the HTTP client's error texts never include the path.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/crypto.h"
#include "common/util.h"
#include "gateways/gw_internal.h"

#define ZAPME "zapme"
/* Longest message text sent. */
#define ZAPME_TEXT_MAX 4096u

static int zapme_check_config(const gw_config_t *cfg, status_t *st)
{
	if (cfg->api_key == NULL)
		status_violation(st, "api_key", "required for ZapMe");
	if (cfg->api_secret == NULL)
		status_violation(st, "api_secret", "required for ZapMe");
	return st->code == ST_OK ? 0 : -EINVAL;
}

/* ------------------------------------------------------------------ answers */

/* A message status word to an outcome. Only "message_sent" and "missing_number"
 * are documented; the rest is read by what the word says. */
static gw_outcome_t zapme_status_outcome(const char *s)
{
	if (strcasecmp(s, "message_sent") == 0 || strcasecmp(s, "sent") == 0 ||
	    strcasecmp(s, "delivered") == 0 || strcasecmp(s, "read") == 0)
		return GW_OUTCOME_APPROVED;
	if (strcasecmp(s, "missing_number") == 0 || strstr(s, "invalid") != NULL ||
	    strstr(s, "fail") != NULL || strstr(s, "error") != NULL)
		return GW_OUTCOME_DECLINED;
	return GW_OUTCOME_PENDING;
}

/*
 * {"status": true, "result": "success", "date": "...", "data": ...}: data is a
 * word ("message_sent") after a send and the message object after a status
 * query. The message object also holds the text and phone: not copied.
 */
void gw_zapme_parse(const gw_t *gw, const http_response_t *res, bool mutating,
		    gw_message_result_t *out)
{
	gw_parse_t p = {0};
	json_t *j = NULL;
	json_t *data;
	bool ok = false;
	char result[GW_CODE_MAX] = "";

	out->r.http_status = res->status;
	if (res->error < 0 || res->status < 200 || res->status >= 300) {
		gw_reply_from_http(&out->r, res, mutating, ZAPME);
		return;
	}
	j = gw_json_parse(&p, res->body, res->body_len);
	if (j != NULL && !json_is_object(j))
		gw_parse_fail(&p, "expected an object");
	gw_get_bool(&p, j, "", "status", &ok, GW_F_REQ);
	gw_get_str(&p, j, "", "result", result, sizeof(result), GW_F_REQ | GW_F_TRUNC);
	data = json_is_object(j) ? json_object_get(j, "data") : NULL;
	if (json_is_string(data)) {
		gw_get_str(&p, j, "", "data", out->status, sizeof(out->status), GW_F_TRUNC);
	} else if (json_is_object(data)) {
		gw_get_str(&p, data, "data", "id", out->message_id, sizeof(out->message_id),
			   GW_F_ID | GW_F_NUMOK);
		gw_get_str(&p, data, "data", "status", out->status, sizeof(out->status),
			   GW_F_TRUNC);
	} else if (data != NULL && !json_is_null(data) && ok) {
		gw_parse_fail(&p, "data: expected a string or an object");
	}
	/* The documented send answer (reference 4) carries no id, but an answer
	 * that does give one (ospay-sandbox adds "id" beside "data") must not lose
	 * it: without it the sent message cannot be asked about later. Read
	 * leniently: an id ospay cannot use leaves message_id empty, as before. */
	if (out->message_id[0] == '\0' && p.err == 0 && json_is_object(j)) {
		gw_parse_t idp = {0};
		gw_get_str(&idp, j, "", "id", out->message_id, sizeof(out->message_id),
			   GW_F_ID | GW_F_NUMOK);
		if (idp.err != 0)
			out->message_id[0] = '\0';
	}
	if (p.err != 0) {
		gw_reply_malformed(&out->r, res->status, mutating, ZAPME, p.why);
		goto out;
	}
	out->r.error = 0;
	/* The official module treats any result but "success" as the error text. */
	if (!ok || strcmp(result, "success") != 0) {
		gw_copy(out->r.code, sizeof(out->r.code), result);
		out->r.outcome =
			(strstr(result, "not_found") != NULL || strstr(result, "not found") != NULL)
				? GW_OUTCOME_NOT_FOUND
				: GW_OUTCOME_REJECTED;
		gw_reply_message(gw, &out->r, result[0] ? result : "refused");
		goto out;
	}
	out->r.outcome =
		out->status[0] != '\0' ? zapme_status_outcome(out->status) : GW_OUTCOME_APPROVED;
	gw_reply_message(gw, &out->r, out->status);
out:
	json_decref(j);
}

static void zapme_on_http(const http_response_t *res, void *arg)
{
	gw_call_t *call = arg;

	gw_zapme_parse(call->gw, res, call->mutating, &call->res.message);
	if (call->op == GW_OP_SEND_MESSAGE)
		gw_reply_create_404(&call->res.message.r);
	if (call->op == GW_OP_MESSAGE_STATUS && call->res.message.message_id[0] == '\0')
		gw_copy(call->res.message.message_id, GW_ID_MAX, call->merchant_order_id);
	gw_call_finish(call);
}

/* ------------------------------------------------------------------ requests */

/* Appends "&key=value" (without '&' first) to a form in buf; -E2BIG when full. */
static int zapme_form_add(char *buf, size_t cap, size_t *len, const char *key, const char *val)
{
	int n = snprintf(buf + *len, cap - *len, "%s%s=", *len > 0 ? "&" : "", key);
	int rc;

	if (n < 0 || (size_t)n >= cap - *len)
		return -E2BIG;
	*len += (size_t)n;
	rc = gw_url_encode(val, buf + *len, cap - *len);
	if (rc == 0)
		*len += strlen(buf + *len);
	return rc;
}

static int zapme_send(gw_call_t *call)
{
	http_header_t h[2];
	size_t n = 0;

	h[n++] = (http_header_t){"Accept", "application/json"};
	if (call->body != NULL)
		h[n++] = (http_header_t){"Content-Type", call->content_type};
	return gw_http_send(call, h, n, zapme_on_http);
}

static int zapme_send_message(gw_call_t *call, const gw_message_req_t *req)
{
	const gw_t *gw = call->gw;
	const char *phone = req->phone;
	size_t cap = 3 * ZAPME_TEXT_MAX + 3 * 1100 * 2 + 128;
	size_t len = 0;
	char *form = NULL;
	int rc = 0;

	if (phone != NULL && phone[0] == '+')
		phone++;
	/* Messages may hold line breaks; other control characters are refused. */
	if (phone == NULL || strlen(phone) < 10 || !gw_str_charset(phone, 15, gw_is_digit) ||
	    !gw_text_multiline_ok(req->text, ZAPME_TEXT_MAX)) {
		rc = -EINVAL;
		goto out;
	}
	form = malloc(cap);
	if (form == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	rc = zapme_form_add(form, cap, &len, "api", gw->cfg.api_key);
	if (rc == 0)
		rc = zapme_form_add(form, cap, &len, "secret", gw->cfg.api_secret);
	if (rc == 0)
		rc = zapme_form_add(form, cap, &len, "phone", phone);
	if (rc == 0)
		rc = zapme_form_add(form, cap, &len, "message", req->text);
	if (rc < 0)
		goto out;
	call->body = form;
	call->body_len = len;
	call->content_type = "application/x-www-form-urlencoded";
	form = NULL;
	call->method = "POST";
	gw_call_path(call, "/messages/create");
	rc = zapme_send(call);
out:
	if (form != NULL) {
		crypto_wipe(form, cap);
		free(form);
	}
	return rc;
}

static int zapme_message_status(gw_call_t *call, const char *message_id)
{
	const gw_t *gw = call->gw;
	char key[3 * 1100];
	char secret[3 * 1100];
	int rc = 0;

	if (!gw_str_charset(message_id, GW_ID_MAX - 1, gw_is_id_char)) {
		rc = -EINVAL;
		goto out;
	}
	rc = gw_url_encode(gw->cfg.api_key, key, sizeof(key));
	if (rc == 0)
		rc = gw_url_encode(gw->cfg.api_secret, secret, sizeof(secret));
	if (rc < 0)
		goto out;
	/* Remembered for the result when the answer does not repeat it. */
	gw_copy(call->merchant_order_id, sizeof(call->merchant_order_id), message_id);
	call->method = "GET";
	/* Ids are letters, digits and "-_.:", safe in a path as they are. */
	rc = gw_call_path(call, "/messages/%s?api=%s&secret=%s", message_id, key, secret);
	if (rc == 0)
		rc = zapme_send(call);
out:
	crypto_wipe(key, sizeof(key));
	crypto_wipe(secret, sizeof(secret));
	crypto_wipe(call->path, sizeof(call->path));
	return rc;
}

/* ------------------------------------------------------------------ webhooks */

static int zapme_verify_webhook(const gw_t *gw, const gw_webhook_req_t *req)
{
	return gw_verify_header_pairs(gw, req);
}

/* ZapMe documents no webhook: ospay accepts the shape of its message object,
 * {"id": ..., "status": "..."}, at the top level or under "data". */
static void zapme_webhook_fields(gw_parse_t *p, const json_t *j, gw_event_t *ev)
{
	const json_t *obj = j;
	char eid[GW_EVENT_ID_MAX];

	if (json_is_object(json_object_get(j, "data")))
		obj = json_object_get(j, "data");
	gw_get_str(p, obj, "", "id", ev->message_id, sizeof(ev->message_id),
		   GW_F_REQ | GW_F_ID | GW_F_NUMOK);
	gw_get_str(p, obj, "", "status", ev->hint, sizeof(ev->hint), GW_F_ID);
	gw_get_str(p, j, "", "event_id", eid, sizeof(eid), GW_F_ID);
	if (p->err != 0)
		return;
	ev->kind = GW_EVENT_MESSAGE_STATUS;
	gw_event_id_given_or_derive(ev, eid, "zapme:%s:%s", ev->message_id, ev->hint);
}

const gw_adapter_t gw_zapme_adapter = {
	.kind = GW_KIND_ZAPME,
	.name = ZAPME,
	.title = "ZapMe",
	/* ZapMe documents WhatsApp only; its SMS API is not public. */
	.channels = GW_CHANNEL_BIT(GW_CHANNEL_WHATSAPP),
	.check_config = zapme_check_config,
	.send_message = zapme_send_message,
	.message_status = zapme_message_status,
	.verify_webhook = zapme_verify_webhook,
	.webhook_fields = zapme_webhook_fields,
};
