/*
 * The control API (/control/...): how tests and operators configure the
 * sandbox and make it misbehave. JSON in, JSON out; documented with examples
 * in docs/sandbox.md. It is not authenticated: the sandbox listens on
 * loopback for tests.
 */
#include "sandbox/sbx_int.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static const struct {
	const char *name;
	enum sbx_fault_kind kind;
	bool hook;
} ctl_kinds[] = {
	{"latency", SBX_F_LATENCY, false},       {"http500", SBX_F_HTTP500, false},
	{"timeout", SBX_F_TIMEOUT, false},       {"reset", SBX_F_RESET, false},
	{"malformed", SBX_F_MALFORMED, false},   {"duplicate", SBX_F_HOOK_DUPLICATE, true},
	{"delay", SBX_F_HOOK_DELAY, true},       {"reorder", SBX_F_HOOK_REORDER, true},
	{"bad_auth", SBX_F_HOOK_BAD_AUTH, true}, {"drop", SBX_F_HOOK_DROP, true},
	{"lie", SBX_F_HOOK_LIE, true},
};

static void ctl_err(sbx_resp_t *rs, int status, const char *msg)
{
	sbx_resp_json(rs, status, json_pack("{s:s}", "error", msg));
}

static void ctl_ok(sbx_resp_t *rs)
{
	sbx_resp_json(rs, 200, json_pack("{s:b}", "ok", true));
}

static bool ctl_org_id(const char *s, uint64_t *out)
{
	char *end = NULL;
	bool ok = s[0] != '\0' && strlen(s) <= 20;
	for (const char *p = s; *p != '\0' && ok; p++)
		ok = isdigit((unsigned char)*p) != 0;
	if (ok) {
		errno = 0;
		*out = strtoull(s, &end, 10);
		ok = errno == 0 && *out > 0;
	}
	return ok;
}

/* Copies body[key] (a non-empty string that fits) into dst; sets *bad otherwise. */
static void ctl_field(json_t *body, const char *key, char *dst, size_t cap, bool required,
		      const char **bad)
{
	const char *v = sbx_jstr(body, key);
	if (v == NULL && !required) {
		dst[0] = '\0';
	} else if (v == NULL || v[0] == '\0' || !sbx_copy(dst, cap, v)) {
		if (*bad == NULL)
			*bad = key;
	}
}

/* The client_id and client_secret of an OAuth2 client (GetNet's and Pix's registrations). */
static void ctl_client(json_t *body, char *id, size_t id_cap, char *secret, size_t secret_cap,
		       const char **bad)
{
	ctl_field(body, "client_id", id, id_cap, true, bad);
	ctl_field(body, "client_secret", secret, secret_cap, true, bad);
}

/* Header names and values travel in HTTP requests: no CR, LF or NUL, names are tokens. */
static bool ctl_header_ok(const char *name, const char *value)
{
	bool ok = name[0] != '\0';
	for (const char *p = name; *p != '\0' && ok; p++)
		ok = isalnum((unsigned char)*p) || strchr("!#$%&'*+-.^_`|~", *p) != NULL;
	for (const char *p = value; *p != '\0' && ok; p++)
		ok = *p != '\r' && *p != '\n';
	return ok;
}

static bool ctl_service_ok(const char *svc)
{
	const sbx_route_t *routes;
	return sbx_service_routes(svc, &routes) > 0;
}

/* ------------------------------------------------------------------ organizations */

/*
 * The credential that names o at svc (no two organizations share one), NULL when o
 * is not registered there; *field is its name in a registration body.
 */
static const char *ctl_org_key(const sbx_org_t *o, const char *svc, const char **field)
{
	const char *key = NULL;
	*field = "client_id";
	if (strcmp(svc, "cielo") == 0) {
		*field = "merchant_id";
		key = o->cielo ? o->cielo_mid : NULL;
	} else if (strcmp(svc, "getnet") == 0) {
		key = o->getnet ? o->gn_client_id : NULL;
	} else if (strcmp(svc, "pix") == 0) {
		key = o->pix ? o->px_client_id : NULL;
	} else if (strcmp(svc, "pagolivre") == 0) {
		*field = "token";
		key = o->pagolivre ? o->pl_token : NULL;
	} else if (strcmp(svc, "zapme") == 0) {
		*field = "api";
		key = o->zapme ? o->zm_api : NULL;
	}
	return key;
}

static void ctl_org_register(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	uint64_t id = 0;
	sbx_org_t tmp;
	const char *bad = NULL;
	const char *svc = call->args[1];
	char taken[64];

	if (!ctl_org_id(call->args[0], &id)) {
		ctl_err(rs, 400, "organization id must be a positive integer");
		goto out;
	}
	if (!ctl_service_ok(svc)) {
		ctl_err(rs, 404, "service must be cielo, getnet, pagolivre, zapme or pix");
		goto out;
	}
	if (!json_is_object(call->body)) {
		ctl_err(rs, 400, "body must be a JSON object");
		goto out;
	}
	sbx_org_t *org = sbx_org_find(s, id);
	if (org == NULL && s->n_orgs >= SBX_MAX_ORGS) {
		ctl_err(rs, 507, "too many organizations");
		goto out;
	}
	if (org != NULL) {
		tmp = *org;
	} else {
		memset(&tmp, 0, sizeof(tmp));
		tmp.id = id;
	}
	if (strcmp(svc, "cielo") == 0) {
		ctl_field(call->body, "merchant_id", tmp.cielo_mid, sizeof(tmp.cielo_mid), true,
			  &bad);
		ctl_field(call->body, "merchant_key", tmp.cielo_mkey, sizeof(tmp.cielo_mkey), true,
			  &bad);
		json_t *h = json_object_get(call->body, "notification_headers");
		tmp.cielo_n_hdr = 0;
		if (h != NULL && (!json_is_object(h) || json_object_size(h) > 3) && bad == NULL)
			bad = "notification_headers (an object of at most 3 headers)";
		const char *k;
		json_t *v;
		json_object_foreach(h, k, v)
		{
			size_t i = tmp.cielo_n_hdr;
			if (i >= 3 || !json_is_string(v) || !sbx_copy(tmp.cielo_hname[i], 64, k) ||
			    !sbx_copy(tmp.cielo_hvalue[i], 256, json_string_value(v)) ||
			    !ctl_header_ok(k, json_string_value(v))) {
				if (bad == NULL)
					bad = "notification_headers";
			} else {
				tmp.cielo_n_hdr++;
			}
		}
		tmp.cielo = true;
	} else if (strcmp(svc, "getnet") == 0) {
		ctl_client(call->body, tmp.gn_client_id, sizeof(tmp.gn_client_id),
			   tmp.gn_client_secret, sizeof(tmp.gn_client_secret), &bad);
		ctl_field(call->body, "seller_id", tmp.gn_seller_id, sizeof(tmp.gn_seller_id), true,
			  &bad);
		tmp.getnet = true;
	} else if (strcmp(svc, "pagolivre") == 0) {
		ctl_field(call->body, "token", tmp.pl_token, sizeof(tmp.pl_token), true, &bad);
		if (bad == NULL && !ctl_header_ok("x", tmp.pl_token))
			bad = "token";
		tmp.pagolivre = true;
	} else if (strcmp(svc, "pix") == 0) {
		ctl_client(call->body, tmp.px_client_id, sizeof(tmp.px_client_id),
			   tmp.px_client_secret, sizeof(tmp.px_client_secret), &bad);
		ctl_field(call->body, "pix_key", tmp.px_key, sizeof(tmp.px_key), false, &bad);
		tmp.pix = true;
	} else {
		ctl_field(call->body, "api", tmp.zm_api, sizeof(tmp.zm_api), true, &bad);
		ctl_field(call->body, "secret", tmp.zm_secret, sizeof(tmp.zm_secret), true, &bad);
		ctl_field(call->body, "webhook_secret", tmp.zm_hook_secret,
			  sizeof(tmp.zm_hook_secret), false, &bad);
		ctl_field(call->body, "webhook_header", tmp.zm_hook_header,
			  sizeof(tmp.zm_hook_header), false, &bad);
		if (tmp.zm_hook_header[0] == '\0')
			snprintf(tmp.zm_hook_header, sizeof(tmp.zm_hook_header), "X-ZapMe-Secret");
		if (bad == NULL && !ctl_header_ok(tmp.zm_hook_header, tmp.zm_hook_secret))
			bad = "webhook_header/webhook_secret";
		tmp.zapme = true;
	}
	const char *field, *key = ctl_org_key(&tmp, svc, &field);
	for (size_t i = 0; i < s->n_orgs && bad == NULL; i++) {
		const char *other = ctl_org_key(&s->orgs[i], svc, &field);
		if (s->orgs[i].id != id && other != NULL && strcmp(other, key) == 0) {
			snprintf(taken, sizeof(taken), "%s (another organization has it)", field);
			bad = taken;
		}
	}
	/* GetNet's and Pix's client ids travel in HTTP Basic, before a ':'. */
	if ((strcmp(svc, "getnet") == 0 || strcmp(svc, "pix") == 0) && strchr(key, ':') != NULL &&
	    bad == NULL)
		bad = "client_id (no ':' allowed in HTTP Basic)";
	if (bad != NULL) {
		char msg[160];
		snprintf(msg, sizeof(msg), "invalid or missing field: %s", bad);
		ctl_err(rs, 400, msg);
		goto out;
	}
	if (org == NULL)
		org = &s->orgs[s->n_orgs++];
	*org = tmp;
	sbx_resp_json(
		rs, 200,
		json_pack("{s:b, s:I, s:s}", "ok", true, "org", (json_int_t)id, "service", svc));
out:
	return;
}

static void ctl_org_list(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	json_t *arr = json_array();
	(void)call;
	for (size_t i = 0; i < s->n_orgs; i++) {
		const sbx_org_t *o = &s->orgs[i];
		json_t *svcs = json_array();
		if (o->cielo)
			json_array_append_new(svcs, json_string("cielo"));
		if (o->getnet)
			json_array_append_new(svcs, json_string("getnet"));
		if (o->pagolivre)
			json_array_append_new(svcs, json_string("pagolivre"));
		if (o->zapme)
			json_array_append_new(svcs, json_string("zapme"));
		if (o->pix)
			json_array_append_new(svcs, json_string("pix"));
		json_array_append_new(
			arr, json_pack("{s:I, s:o}", "org", (json_int_t)o->id, "services", svcs));
	}
	sbx_resp_json(rs, 200, json_pack("{s:o}", "orgs", arr));
}

/* ------------------------------------------------------------------ faults */

static json_t *ctl_fault_json(const sbx_fault_t *f)
{
	const char *kind = "";
	for (size_t i = 0; i < OSPAY_ARRAY_LEN(ctl_kinds); i++)
		if (ctl_kinds[i].kind == f->kind)
			kind = ctl_kinds[i].name;
	json_t *j = json_pack("{s:I, s:s, s:s, s:i, s:o, s:I}", "id", (json_int_t)f->id, "kind",
			      kind, "service", f->service, "ms", (int)f->ms, "remaining",
			      f->remaining < 0 ? json_null() : json_integer(f->remaining), "hits",
			      (json_int_t)f->hits);
	if (f->kind < SBX_F_HOOK_DUPLICATE) {
		json_object_set_new(j, "route", json_string(f->route));
		json_object_set_new(j, "process", json_boolean(f->process));
	} else if (f->kind == SBX_F_HOOK_DUPLICATE) {
		json_object_set_new(j, "copies", json_integer(f->copies));
	} else if (f->kind == SBX_F_HOOK_REORDER) {
		json_object_set_new(j, "batch", json_integer(f->copies));
	} else if (f->kind == SBX_F_HOOK_LIE) {
		json_object_set_new(j, f->lie_body ? "body" : "set",
				    json_loads(f->lie_set, 0, NULL));
		if (f->lie_in[0] != '\0')
			json_object_set_new(j, "in", json_string(f->lie_in));
	}
	return j;
}

static bool ctl_route_exists(const char *svc, const char *route)
{
	const sbx_route_t *t = NULL;
	size_t n = sbx_service_routes(svc, &t);
	bool found = false;
	for (size_t i = 0; i < n && !found; i++)
		found = strcmp(t[i].name, route) == 0;
	return found;
}

/* A lie's "set" or whole "body" (a non-empty object, kept as compact text)
 * and optional "in". */
static bool ctl_lie_parse(json_t *body, sbx_fault_t *f, sbx_resp_t *rs)
{
	json_t *set = json_object_get(body, "set"), *whole = json_object_get(body, "body");
	json_t *in = json_object_get(body, "in");
	char *text = NULL;
	bool ok = false;
	f->lie_body = whole != NULL;
	if (f->lie_body)
		set = set == NULL ? whole : NULL;
	if (!json_is_object(set) || json_object_size(set) == 0) {
		ctl_err(rs, 400,
			"lie needs set (the members to write) or body, a non-empty object");
		goto out;
	}
	text = json_dumps(set, JSON_COMPACT);
	if (text == NULL || !sbx_copy(f->lie_set, sizeof(f->lie_set), text)) {
		ctl_err(rs, 400, "set or body is too long (at most 511 bytes as compact JSON)");
		goto out;
	}
	if (in != NULL && (!json_is_string(in) || json_string_length(in) == 0 ||
			   strlen(json_string_value(in)) != json_string_length(in) ||
			   !sbx_copy(f->lie_in, sizeof(f->lie_in), json_string_value(in)))) {
		ctl_err(rs, 400, "in must be a member name of 1 to 31 bytes");
		goto out;
	}
	ok = true;
out:
	free(text);
	return ok;
}

static void ctl_fault_add_any(sbx_t *s, json_t *body, bool hook, sbx_resp_t *rs)
{
	sbx_fault_t f;
	const char *svc = sbx_jstr(body, "service"), *kind = sbx_jstr(body, "kind");
	const char *route = sbx_jstr(body, "route");
	int64_t v = 0;
	bool found = false;

	memset(&f, 0, sizeof(f));
	if (!json_is_object(body) || kind == NULL) {
		ctl_err(rs, 400, "body must be an object with kind");
		goto out;
	}
	for (size_t i = 0; i < OSPAY_ARRAY_LEN(ctl_kinds) && !found; i++) {
		if (strcmp(ctl_kinds[i].name, kind) == 0 && ctl_kinds[i].hook == hook) {
			f.kind = ctl_kinds[i].kind;
			found = true;
		}
	}
	if (!found) {
		ctl_err(rs, 400,
			hook ? "kind must be duplicate, delay, reorder, bad_auth, drop or lie"
			     : "kind must be latency, http500, timeout, reset or malformed");
		goto out;
	}
	if (svc == NULL)
		svc = "*";
	if (strcmp(svc, "*") != 0 && !ctl_service_ok(svc)) {
		ctl_err(rs, 400, "service must be cielo, getnet, pagolivre, zapme, pix or *");
		goto out;
	}
	snprintf(f.service, sizeof(f.service), "%s", svc);
	if (route == NULL || hook)
		route = "*";
	if (strcmp(route, "*") != 0 && (strcmp(svc, "*") == 0 || !ctl_route_exists(svc, route))) {
		ctl_err(rs, 400, "route is not a route name of that service (see docs/sandbox.md)");
		goto out;
	}
	snprintf(f.route, sizeof(f.route), "%s", route);
	f.remaining = -1;
	if (json_object_get(body, "count") != NULL) {
		if (!sbx_jint(body, "count", &v) || v < 1 || v > 1000000) {
			ctl_err(rs, 400, "count must be 1 to 1000000 (omit it for until deleted)");
			goto out;
		}
		f.remaining = v;
	}
	if (json_object_get(body, "ms") != NULL &&
	    (!sbx_jint(body, "ms", &v) || v < 0 || v > 3600000)) {
		ctl_err(rs, 400, "ms must be 0 to 3600000");
		goto out;
	}
	f.ms = json_object_get(body, "ms") != NULL ? (uint32_t)v : 0;
	if ((f.kind == SBX_F_LATENCY || f.kind == SBX_F_HOOK_DELAY) && f.ms == 0) {
		ctl_err(rs, 400, "ms is required for latency and delay");
		goto out;
	}
	if (f.kind == SBX_F_HOOK_REORDER && f.ms == 0)
		f.ms = 1000;
	if (f.kind == SBX_F_HOOK_DUPLICATE || f.kind == SBX_F_HOOK_REORDER) {
		const char *key = f.kind == SBX_F_HOOK_DUPLICATE ? "copies" : "batch";
		v = f.kind == SBX_F_HOOK_DUPLICATE ? 1 : 2;
		if (json_object_get(body, key) != NULL &&
		    (!sbx_jint(body, key, &v) || v < 1 || v > 50)) {
			ctl_err(rs, 400, "copies/batch must be 1 to 50");
			goto out;
		}
		if (f.kind == SBX_F_HOOK_REORDER && v < 2)
			v = 2;
		f.copies = (uint32_t)v;
	}
	if (f.kind == SBX_F_HOOK_LIE && !ctl_lie_parse(body, &f, rs))
		goto out;
	/* A malformed answer is the answer to a request that did happen. */
	f.process = sbx_jbool(body, "process", f.kind == SBX_F_MALFORMED);
	if (s->n_faults >= SBX_MAX_FAULTS) {
		ctl_err(rs, 507, "too many faults; delete some");
		goto out;
	}
	f.id = ++s->next_fault_id;
	s->faults[s->n_faults++] = f;
	sbx_resp_json(rs, 201, ctl_fault_json(&f));
out:
	return;
}

static void ctl_fault_add(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	ctl_fault_add_any(s, call->body, false, rs);
}

static void ctl_hookfault_add(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	ctl_fault_add_any(s, call->body, true, rs);
}

static void ctl_fault_list_any(sbx_t *s, bool hook, sbx_resp_t *rs)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < s->n_faults; i++)
		if ((s->faults[i].kind >= SBX_F_HOOK_DUPLICATE) == hook)
			json_array_append_new(arr, ctl_fault_json(&s->faults[i]));
	sbx_resp_json(rs, 200, json_pack("{s:o}", "faults", arr));
}

static void ctl_fault_list(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	(void)call;
	ctl_fault_list_any(s, false, rs);
}

static void ctl_hookfault_list(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	(void)call;
	ctl_fault_list_any(s, true, rs);
}

static void ctl_fault_clear_any(sbx_t *s, bool hook, const char *id, sbx_resp_t *rs)
{
	uint64_t want = 0;
	size_t removed = 0;
	if (id != NULL && !ctl_org_id(id, &want)) {
		ctl_err(rs, 400, "fault id must be a positive integer");
		goto out;
	}
	for (size_t i = 0; i < s->n_faults;) {
		sbx_fault_t *f = &s->faults[i];
		if ((f->kind >= SBX_F_HOOK_DUPLICATE) == hook && (id == NULL || f->id == want)) {
			memmove(f, f + 1, (s->n_faults - i - 1) * sizeof(*f));
			s->n_faults--;
			removed++;
		} else {
			i++;
		}
	}
	if (id != NULL && removed == 0)
		ctl_err(rs, 404, "no such fault");
	else
		sbx_resp_json(rs, 200,
			      json_pack("{s:b, s:I}", "ok", true, "removed", (json_int_t)removed));
out:
	return;
}

static void ctl_fault_clear(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	ctl_fault_clear_any(s, false, call->args[0], rs);
}

static void ctl_hookfault_clear(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	ctl_fault_clear_any(s, true, call->args[0], rs);
}

/* ------------------------------------------------------------------ the rest */

static void ctl_settings(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	static const struct {
		const char *key;
		size_t off;
		int64_t min, max;
	} keys[] = {
		{"getnet_token_ttl_ms", offsetof(sbx_t, gn_token_ttl_ms), 1, 86400000},
		{"webhook_retry_ms", offsetof(sbx_t, hook_retry_ms), 1, 3600000},
		{"webhook_timeout_ms", offsetof(sbx_t, hook_timeout_ms), 100, 600000},
		{"pagolivre_expiry_s", offsetof(sbx_t, pl_expiry_s), 1, 365 * 86400},
		{"require_network_txn_id", offsetof(sbx_t, require_ntid), 0, 1},
	};
	if (call->rq->method[0] == 'P') {
		if (!json_is_object(call->body)) {
			ctl_err(rs, 400, "body must be a JSON object");
			goto out;
		}
		for (size_t i = 0; i < OSPAY_ARRAY_LEN(keys); i++) {
			int64_t v = 0;
			if (json_object_get(call->body, keys[i].key) == NULL)
				continue;
			if (!sbx_jint(call->body, keys[i].key, &v) || v < keys[i].min ||
			    v > keys[i].max) {
				char msg[120];
				snprintf(msg, sizeof(msg), "%s out of range", keys[i].key);
				ctl_err(rs, 400, msg);
				goto out;
			}
		}
		for (size_t i = 0; i < OSPAY_ARRAY_LEN(keys); i++) {
			int64_t v = 0;
			if (sbx_jint(call->body, keys[i].key, &v))
				*(uint32_t *)((char *)s + keys[i].off) = (uint32_t)v;
		}
	}
	json_t *j = json_object();
	for (size_t i = 0; i < OSPAY_ARRAY_LEN(keys); i++)
		json_object_set_new(j, keys[i].key,
				    json_integer(*(uint32_t *)((char *)s + keys[i].off)));
	sbx_resp_json(rs, 200, j);
out:
	return;
}

static void ctl_pagolivre(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	/* No body asks for the defaults. */
	if (call->body != NULL && !json_is_object(call->body))
		ctl_err(rs, 400, "body must be a JSON object");
	else
		sbx_pagolivre_control(s, call->args[0], call->args[1], call->body, rs);
}

static void ctl_cielo_decline(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	if (!json_is_object(call->body))
		ctl_err(rs, 400, "body must be a JSON object");
	else
		sbx_cielo_control_decline(s, call->body, rs);
}

static void ctl_zapme_status(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	sbx_zapme_control_status(s, call->args[0], call->body, rs);
}

static void ctl_messages(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	char svc[16], phone[32];
	size_t ql = strlen(call->rq->query);
	bool has_svc = sbx_form_get(call->rq->query, ql, "service", svc, sizeof(svc));
	bool has_phone = sbx_form_get(call->rq->query, ql, "phone", phone, sizeof(phone));
	sbx_resp_json(rs, 200,
		      json_pack("{s:o}", "messages",
				sbx_sent_json(s, has_svc ? svc : NULL, has_phone ? phone : NULL)));
}

static void ctl_charges(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	char moid[128];
	bool has = sbx_form_get(call->rq->query, strlen(call->rq->query), "merchant_order_id", moid,
				sizeof(moid));
	json_t *arr = sbx_charges_json(s, has ? moid : NULL);
	size_t approved = 0, i;
	json_t *c;
	json_array_foreach(arr, i, c)
	{
		if (json_is_true(json_object_get(c, "approved")))
			approved++;
	}
	sbx_resp_json(rs, 200,
		      json_pack("{s:I, s:I, s:o}", "count", (json_int_t)json_array_size(arr),
				"approved", (json_int_t)approved, "charges", arr));
}

static void ctl_webhooks(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	char svc[16];
	bool has =
		sbx_form_get(call->rq->query, strlen(call->rq->query), "service", svc, sizeof(svc));
	sbx_resp_json(rs, 200,
		      json_pack("{s:I, s:I, s:I, s:o}", "queued", (json_int_t)s->n_outbox, "held",
				(json_int_t)s->n_held, "overflowed",
				(json_int_t)s->hooks_overflowed, "deliveries",
				sbx_hooklog_json(s, has ? svc : NULL)));
}

static void ctl_reset(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	sbx_clear(s, sbx_jbool(call->body, "keep_orgs", false));
	ctl_ok(rs);
}

static void ctl_health(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	(void)call;
	sbx_resp_json(rs, 200,
		      json_pack("{s:b, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}}", "ok",
				true, "records", "cielo_sales", (json_int_t)s->sales.n,
				"cielo_cards", (json_int_t)s->cards.n, "getnet_payments",
				(json_int_t)s->gn_payments.n, "getnet_cards",
				(json_int_t)s->gn_vault.n, "pagolivre_orders",
				(json_int_t)s->pl_orders.n, "zapme_messages",
				(json_int_t)s->zm_messages.n, "messages", (json_int_t)s->sent.n,
				"charges", (json_int_t)s->charges.n, "webhook_log",
				(json_int_t)s->hooklog.n));
}

static void ctl_pix_settle(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	sbx_pix_control_settle(s, call->body, rs);
}

static void ctl_pix_cobr(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	sbx_pix_control_cobr(s, call->args[0], call->body, rs);
}

static void ctl_pix_payer_cancel(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	sbx_pix_control_payer_cancel(s, call->args[0], rs);
}

static void ctl_pix_rec(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	sbx_pix_control_rec(s, call->args[0], call->args[1], call->body, rs);
}

static void ctl_pix_cob(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs)
{
	sbx_pix_control_cob(s, call->args[0], call->args[1], call->body, rs);
}

/* The control API's routes take no faults: they have no name. */
static const sbx_route_t ctl_routes[] = {
	{"GET", "/health", NULL, ctl_health},
	{"GET", "/orgs", NULL, ctl_org_list},
	{"POST", "/orgs/*/*", NULL, ctl_org_register},
	{"GET", "/faults", NULL, ctl_fault_list},
	{"POST", "/faults", NULL, ctl_fault_add},
	{"DELETE", "/faults", NULL, ctl_fault_clear},
	{"DELETE", "/faults/*", NULL, ctl_fault_clear},
	{"GET", "/webhook-faults", NULL, ctl_hookfault_list},
	{"POST", "/webhook-faults", NULL, ctl_hookfault_add},
	{"DELETE", "/webhook-faults", NULL, ctl_hookfault_clear},
	{"DELETE", "/webhook-faults/*", NULL, ctl_hookfault_clear},
	{"GET", "/settings", NULL, ctl_settings},
	{"POST", "/settings", NULL, ctl_settings},
	{"POST", "/pagolivre/orders/*/*", NULL, ctl_pagolivre},
	{"POST", "/zapme/messages/*/status", NULL, ctl_zapme_status},
	{"POST", "/cielo/decline", NULL, ctl_cielo_decline},
	{"POST", "/pix/settle", NULL, ctl_pix_settle},
	{"POST", "/pix/cobrs/*/outcomes", NULL, ctl_pix_cobr},
	{"POST", "/pix/cobrs/*/payer-cancel", NULL, ctl_pix_payer_cancel},
	{"POST", "/pix/recs/*/*", NULL, ctl_pix_rec},
	{"POST", "/pix/cobs/*/*", NULL, ctl_pix_cob},
	{"GET", "/messages", NULL, ctl_messages},
	{"GET", "/charges", NULL, ctl_charges},
	{"GET", "/webhooks", NULL, ctl_webhooks},
	{"POST", "/reset", NULL, ctl_reset},
};

void sbx_control(sbx_t *s, const sbx_req_t *rq, const char *sub, sbx_resp_t *rs)
{
	char argbuf[512];
	const char *args[SBX_MAX_ARGS + 1] = {0};
	bool mismatch = false;
	json_t *body = NULL;
	const sbx_route_t *r = sbx_route_find(ctl_routes, OSPAY_ARRAY_LEN(ctl_routes), rq->method,
					      sub, argbuf, sizeof(argbuf), args, &mismatch);

	if (r == NULL) {
		ctl_err(rs, mismatch ? 405 : 404, "no such control route (see docs/sandbox.md)");
		goto out;
	}
	if (rq->body_len > 0) {
		body = sbx_req_json(rq);
		if (body == NULL) {
			ctl_err(rs, 400, "body is not JSON");
			goto out;
		}
	}
	r->fn(s, &(const sbx_call_t){rq, args, body, NULL}, rs);
out:
	json_decref(body);
}
