/*
 * Connect unary over the HTTPS listener (docs/connect.md): the transport and the
 * codecs only. Admission (method, content type, headers, bearer token), then
 * srv_dispatch_call, the binary protocol's own path (permissions, idempotency,
 * a write answered after its commit); the answer in the request's codec, or
 * Connect's error JSON with its HTTP status.
 */
#include "server/connect.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/crypto.h"
#include "common/pbjson.h"
#include "common/pbmethod.h"
#include "net/rpc.h"
#include "ospay/v1/rpc.pb-c.h"
#include "server/db/db.h"
#include "server/services/services.h"

#define CONNECT_PREFIX "/ospay.v1."
/* Connect-Timeout-Ms is at most 10 digits (the protocol's own bound). */
#define CONNECT_TIMEOUT_DIGITS 10

typedef struct connect_call {
	srv_t *srv;
	https_request_t *req; /* NULL once answered */
	bool json;            /* the request's codec, the answer's too */
	const ProtobufCMessageDescriptor *out_desc;
	srv_session_t sess;
	uint8_t *packed; /* a JSON request, encoded for the dispatcher; owned */
	size_t packed_len;
	char idem[DB_IDEM_KEY_MAX + 1];
	uv_timer_t timer; /* Connect-Timeout-Ms */
	bool timer_open;
	bool in_dispatch; /* the dispatcher has not answered yet */
} connect_call_t;

/* Connect's code names and HTTP statuses, by gRPC code (common/status.h). */
static const struct {
	const char *name;
	int http;
} connect_codes[SRV_STATUS_CODES] = {
	[ST_OK] = {"ok", 200},
	[ST_CANCELLED] = {"canceled", 499},
	[2] = {"unknown", 500},
	[ST_INVALID_ARGUMENT] = {"invalid_argument", 400},
	[ST_DEADLINE_EXCEEDED] = {"deadline_exceeded", 504},
	[ST_NOT_FOUND] = {"not_found", 404},
	[ST_ALREADY_EXISTS] = {"already_exists", 409},
	[ST_PERMISSION_DENIED] = {"permission_denied", 403},
	[ST_RESOURCE_EXHAUSTED] = {"resource_exhausted", 429},
	[ST_FAILED_PRECONDITION] = {"failed_precondition", 400},
	[ST_ABORTED] = {"aborted", 409},
	[11] = {"out_of_range", 400},
	[ST_UNIMPLEMENTED] = {"unimplemented", 501},
	[ST_INTERNAL] = {"internal", 500},
	[ST_UNAVAILABLE] = {"unavailable", 503},
	[15] = {"data_loss", 500},
	[ST_UNAUTHENTICATED] = {"unauthenticated", 401},
};

bool connect_route(const char *path)
{
	return strncmp(path, CONNECT_PREFIX, strlen(CONNECT_PREFIX)) == 0;
}

/* ------------------------------------------------------------------ answers */

/* Connect's error JSON for st: code, message, and the field violations as one
 * ospay.v1.Status detail (binary in "value", readable in "debug"). NULL when out of memory. */
static char *error_body(const status_t *st)
{
	json_t *o = json_object(), *details = NULL;
	rpc_status_msg_t ps;
	uint8_t *bin = NULL;
	char *b64 = NULL, *text = NULL;
	int code = st->code > 0 && st->code < SRV_STATUS_CODES ? st->code : 2;
	if (o == NULL)
		goto out;
	if (json_object_set_new(o, "code", json_string(connect_codes[code].name)) != 0 ||
	    json_object_set_new(o, "message", json_string(st->message)) != 0)
		goto out;
	if (st->n_violations > 0) {
		rpc_status_msg(&ps, st);
		size_t n = ospay__v1__status__get_packed_size(&ps.status);
		bin = malloc(n + 1);
		b64 = malloc(4 * ((n + 2) / 3) + 1);
		details = json_array();
		json_t *d = json_object();
		if (bin == NULL || b64 == NULL || details == NULL || d == NULL ||
		    json_array_append_new(details, d) != 0) {
			json_decref(d);
			goto out;
		}
		ospay__v1__status__pack(&ps.status, bin);
		crypto_base64(bin, n, b64);
		/* Connect's detail value is unpadded. */
		for (size_t l = strlen(b64); l > 0 && b64[l - 1] == '='; l--)
			b64[l - 1] = '\0';
		if (json_object_set_new(d, "type", json_string("ospay.v1.Status")) != 0 ||
		    json_object_set_new(d, "value", json_string(b64)) != 0 ||
		    json_object_set_new(d, "debug", pbjson_from_message(&ps.status.base, 0)) != 0 ||
		    json_object_set(o, "details", details) != 0)
			goto out;
	}
	text = json_dumps(o, JSON_COMPACT);
out:
	json_decref(details);
	json_decref(o);
	free(b64);
	free(bin);
	return text;
}

/* Answers req with st as Connect's error; extra: more header lines, or NULL. */
static void answer_error(https_request_t *req, const status_t *st, int http,
			 const char *const *extra)
{
	char *body = error_body(st);
	int code = st->code > 0 && st->code < SRV_STATUS_CODES ? st->code : 2;
	if (http == 0)
		http = connect_codes[code].http;
	static const char oom[] = "{\"code\":\"resource_exhausted\",\"message\":\"out of memory\"}";
	if (body == NULL)
		https_respond(req, 429, "application/json", oom, strlen(oom), extra);
	else
		https_respond(req, http, "application/json", body, strlen(body), extra);
	free(body);
}

/* An error met before the dispatcher: counted like the binary protocol's. */
static void refuse(srv_t *s, https_request_t *req, int http, const char *const *extra, int code,
		   const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void refuse(srv_t *s, https_request_t *req, int http, const char *const *extra, int code,
		   const char *fmt, ...)
{
	status_t st;
	va_list ap;
	status_clear(&st);
	st.code = code;
	va_start(ap, fmt);
	vsnprintf(st.message, sizeof(st.message), fmt, ap);
	va_end(ap);
	srv_count_call(s, code);
	answer_error(req, &st, http, extra);
}

static void call_free(connect_call_t *cc)
{
	cc->srv->connect_calls--;
	free(cc->sess.units);
	free(cc->packed);
	free(cc);
}

static void on_timer_closed(uv_handle_t *h)
{
	connect_call_t *cc = h->data;
	cc->timer_open = false;
	if (!cc->in_dispatch)
		call_free(cc);
}

static void timer_close(connect_call_t *cc)
{
	if (cc->timer_open && !uv_is_closing((uv_handle_t *)&cc->timer))
		uv_close((uv_handle_t *)&cc->timer, on_timer_closed);
}

/* The deadline passed first: the call goes on (a write still commits), its answer is this. */
static void on_deadline(uv_timer_t *t)
{
	connect_call_t *cc = t->data;
	if (cc->req != NULL) {
		status_t st;
		status_clear(&st);
		status_set(&st, ST_DEADLINE_EXCEEDED, "the deadline (Connect-Timeout-Ms) passed");
		answer_error(cc->req, &st, 0, NULL);
		cc->req = NULL;
	}
	timer_close(cc);
}

/* The dispatcher's outcome, in the request's codec. */
static void on_reply(srv_req_t *r)
{
	connect_call_t *cc = r->reply_arg;
	https_request_t *req = cc->req;
	cc->in_dispatch = false;
	cc->req = NULL;
	if (req != NULL && !srv_ok(r)) {
		answer_error(req, &r->st, 0, NULL);
	} else if (req != NULL && !cc->json) {
		https_respond(req, 200, "application/proto", r->out.data, r->out.len, NULL);
	} else if (req != NULL) {
		ProtobufCMessage *m =
			protobuf_c_message_unpack(cc->out_desc, NULL, r->out.len, r->out.data);
		json_t *j = m != NULL ? pbjson_from_message(m, 0) : NULL;
		char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
		if (text != NULL) {
			https_respond(req, 200, "application/json", text, strlen(text), NULL);
		} else {
			status_t st;
			status_clear(&st);
			status_set(&st, ST_INTERNAL, "the answer could not be written as JSON");
			log_error("connect: reply not encodable", "method=%s", r->method->name);
			answer_error(req, &st, 0, NULL);
		}
		free(text);
		json_decref(j);
		if (m != NULL)
			protobuf_c_message_free_unpacked(m, NULL);
	}
	if (cc->timer_open)
		timer_close(cc);
	else
		call_free(cc);
}

/* ------------------------------------------------------------------ admission */

/* The media type before any parameter, compared without case. */
static bool media_is(const char *ctype, const char *want)
{
	size_t n = strlen(want);
	if (strncasecmp(ctype, want, n) != 0)
		return false;
	return ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ';
}

/* The method's response type, from the services' descriptors; NULL if none. */
static const ProtobufCMessageDescriptor *output_of(const char *name)
{
	const ProtobufCMethodDescriptor *md = pbmethod_find(name);
	return md != NULL ? md->output : NULL;
}

/* Connect-Timeout-Ms: 1 to 10 digits. -1 when absent, -2 when malformed. */
static int64_t timeout_header(https_request_t *req)
{
	const char *v = https_request_header(req, "Connect-Timeout-Ms");
	int64_t ms = 0;
	size_t n = 0;
	if (v == NULL)
		return -1;
	for (; v[n] != '\0'; n++) {
		if (v[n] < '0' || v[n] > '9' || n >= CONNECT_TIMEOUT_DIGITS)
			return -2;
		ms = ms * 10 + (v[n] - '0');
	}
	return n == 0 ? -2 : ms;
}

/* The bearer token of Authorization, or NULL. */
static const char *bearer(https_request_t *req)
{
	const char *v = https_request_header(req, "Authorization");
	if (v == NULL || strncasecmp(v, "Bearer ", 7) != 0)
		return NULL;
	v += 7;
	while (*v == ' ')
		v++;
	return v;
}

/* The bearer token's checks, as Hello's; false when req was answered. */
static bool authenticate(srv_t *s, https_request_t *req, srv_session_t *sess)
{
	const char *token = bearer(req);
	static const char *const challenge[] = {"WWW-Authenticate: Bearer", NULL};
	if (token == NULL) {
		refuse(s, req, 0, challenge, ST_UNAUTHENTICATED,
		       "an Authorization: Bearer <token> header is required");
		return false;
	}
	status_t st;
	status_clear(&st);
	store_txn_t *txn;
	int rc = store_read_begin(s->store, &txn);
	if (rc != 0) {
		refuse(s, req, 0, NULL, ST_UNAVAILABLE, "storage unavailable");
		return false;
	}
	rc = services_session_auth(s, txn, token, sess, &st, NULL);
	store_read_end(txn);
	if (rc != 0) {
		log_error("store error", "what=\"token lookup\" err=%d", rc);
		refuse(s, req, 0, NULL, ST_INTERNAL, "storage error");
		return false;
	}
	if (st.code != ST_OK) {
		srv_count_call(s, st.code);
		answer_error(req, &st, 0, challenge);
		return false;
	}
	return true;
}

/* The body in the dispatcher's form: a JSON one decoded and encoded; false when answered. */
static bool decode_body(connect_call_t *cc, const srv_method_t *m, uint8_t **body, size_t *len)
{
	size_t n = 0;
	uint8_t *raw = (uint8_t *)https_request_body(cc->req, &n);
	if (!cc->json) {
		*body = raw;
		*len = n;
		return true;
	}
	ProtobufCMessage *in = NULL;
	pbjson_err_t err;
	int rc = pbjson_parse((const char *)raw, n, m->in, &in, &err);
	/* The dispatcher wipes the body of a method carrying secrets; the JSON text is that body here. */
	if (srv_method_has_secrets(m))
		crypto_wipe(raw, n);
	if (rc == -EINVAL) {
		status_t st;
		status_clear(&st);
		if (err.path[0] != '\0')
			status_violation(&st, err.path, "%s", err.reason);
		status_set(&st, ST_INVALID_ARGUMENT, "request body is not a valid %s JSON: %s%s%s",
			   m->in->name, err.path, err.path[0] != '\0' ? ": " : "", err.reason);
		srv_count_call(cc->srv, ST_INVALID_ARGUMENT);
		answer_error(cc->req, &st, 0, NULL);
		return false;
	}
	if (rc == 0) {
		*len = protobuf_c_message_get_packed_size(in);
		cc->packed = malloc(*len + 1);
		if (cc->packed != NULL) {
			protobuf_c_message_pack(in, cc->packed);
			cc->packed_len = *len;
		}
		if (srv_method_has_secrets(m))
			srv_wipe_strings(in);
		protobuf_c_message_free_unpacked(in, NULL);
	}
	if (rc != 0 || cc->packed == NULL) {
		refuse(cc->srv, cc->req, 0, NULL, ST_RESOURCE_EXHAUSTED, "out of memory");
		return false;
	}
	*body = cc->packed;
	return true;
}

/* Everything before the dispatcher; the method when the call goes on, NULL when answered. */
static const srv_method_t *admit(srv_t *s, https_request_t *req, const char **idem,
				 int64_t *timeout_ms, bool *json,
				 const ProtobufCMessageDescriptor **out)
{
	static const char *const allow[] = {"Allow: POST", NULL};
	static const char *const accept_post[] = {
		"Accept-Post: application/json, application/proto", NULL};
	static const char *const accept_enc[] = {"Accept-Encoding: identity", NULL};
	const char *name = https_request_path(req) + 1;
	const srv_method_t *m = s->method_find(name);
	*out = m != NULL ? output_of(name) : NULL;
	if (m == NULL || *out == NULL) {
		refuse(s, req, 404, NULL, ST_UNIMPLEMENTED, "unknown method \"%.100s\"", name);
		return NULL;
	}
	if (strcmp(https_request_method(req), "POST") != 0) {
		refuse(s, req, 405, allow, ST_UNIMPLEMENTED, "Connect unary calls are POST");
		return NULL;
	}
	const char *ctype = https_request_header(req, "Content-Type");
	*json = ctype != NULL && media_is(ctype, "application/json");
	if (ctype == NULL || (!*json && !media_is(ctype, "application/proto"))) {
		refuse(s, req, 415, accept_post, ST_INVALID_ARGUMENT,
		       "Content-Type must be application/json or application/proto");
		return NULL;
	}
	const char *enc = https_request_header(req, "Content-Encoding");
	if (enc != NULL && strcasecmp(enc, "identity") != 0) {
		refuse(s, req, 0, accept_enc, ST_UNIMPLEMENTED,
		       "Content-Encoding is not supported");
		return NULL;
	}
	const char *ver = https_request_header(req, "Connect-Protocol-Version");
	if (ver != NULL && strcmp(ver, "1") != 0) {
		refuse(s, req, 0, NULL, ST_INVALID_ARGUMENT, "Connect-Protocol-Version must be 1");
		return NULL;
	}
	*timeout_ms = timeout_header(req);
	if (*timeout_ms == -2) {
		refuse(s, req, 0, NULL, ST_INVALID_ARGUMENT,
		       "Connect-Timeout-Ms must be 1 to 10 digits");
		return NULL;
	}
	if (*timeout_ms == -1)
		*timeout_ms = s->opts.rpc.default_deadline_ms > 0 ? s->opts.rpc.default_deadline_ms
								  : 30000;
	*idem = https_request_header(req, "Idempotency-Key");
	if (*idem == NULL)
		*idem = "";
	if (strlen(*idem) > DB_IDEM_KEY_MAX) {
		refuse(s, req, 0, NULL, ST_INVALID_ARGUMENT, "Idempotency-Key: at most %d bytes",
		       DB_IDEM_KEY_MAX);
		return NULL;
	}
	if (s->draining) {
		refuse(s, req, 0, NULL, ST_UNAVAILABLE, "server is shutting down");
		return NULL;
	}
	return m;
}

void connect_handle(srv_t *s, https_request_t *req)
{
	const char *idem = NULL;
	int64_t timeout_ms = 0;
	bool json = false;
	const ProtobufCMessageDescriptor *out = NULL;
	const srv_method_t *m = admit(s, req, &idem, &timeout_ms, &json, &out);
	if (m == NULL)
		return;
	connect_call_t *cc = calloc(1, sizeof(*cc));
	if (cc == NULL) {
		refuse(s, req, 0, NULL, ST_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	s->connect_calls++;
	cc->srv = s;
	cc->req = req;
	cc->json = json;
	cc->out_desc = out;
	snprintf(cc->idem, sizeof(cc->idem), "%s", idem);
	uint8_t *body = NULL;
	size_t len = 0;
	if ((!(m->flags & SRV_M_NOAUTH) && !authenticate(s, req, &cc->sess)) ||
	    !decode_body(cc, m, &body, &len)) {
		call_free(cc);
		return;
	}
	if (timeout_ms == 0) {
		refuse(s, req, 0, NULL, ST_DEADLINE_EXCEEDED,
		       "the deadline (Connect-Timeout-Ms) passed");
		call_free(cc);
		return;
	}
	uv_timer_init(s->loop, &cc->timer);
	cc->timer.data = cc;
	cc->timer_open = true;
	uv_timer_start(&cc->timer, on_deadline, (uint64_t)timeout_ms, 0);
	cc->in_dispatch = true;
	srv_dispatch_call(s, m, &cc->sess, body, len, cc->idem, on_reply, cc);
}
