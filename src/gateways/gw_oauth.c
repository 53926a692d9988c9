/*
 * The OAuth2 client-credentials token an adapter's calls share (GetNet, Pix):
 * fetched once while calls wait for it in a list, refreshed a tenth of its
 * life early (at most a minute), dropped after a 401 on the token a call was
 * sent with, which is then re-sent once: a 401 means nothing was processed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/base64.h>

#include "common/crypto.h"
#include "common/util.h"
#include "gateways/gw_internal.h"

/* Lifetime used when the token answer omits expires_in (GetNet's FAQ, Inter: one hour). */
#define GW_OAUTH_DEFAULT_TTL_S 3600
/* Longest lifetime believed: a hostile answer cannot pin a token for years. */
#define GW_OAUTH_MAX_TTL_S 86400

int gw_oauth_init(gw_t *gw, gw_oauth_t *o, const char *service, int (*fetch)(gw_t *gw),
		  int (*send_now)(gw_call_t *call), void (*prep)(gw_call_t *call))
{
	char pair[1100];
	size_t olen = 0;
	int n;
	int rc = 0;

	list_init(&o->waiters);
	o->service = service;
	o->fetch = fetch;
	o->send_now = send_now;
	o->prep = prep;
	n = snprintf(pair, sizeof(pair), "%s:%s", gw->cfg.client_id, gw->cfg.client_secret);
	memcpy(o->basic, "Basic ", 6);
	if (n < 0 || (size_t)n >= sizeof(pair) ||
	    mbedtls_base64_encode((unsigned char *)o->basic + 6, sizeof(o->basic) - 6, &olen,
				  (const unsigned char *)pair, (size_t)n) != 0)
		rc = -EINVAL;
	crypto_wipe(pair, sizeof(pair));
	if (rc == 0)
		gw->oauth = o;
	return rc;
}

int gw_oauth_priv_init(gw_t *gw, const char *service, int (*fetch)(gw_t *gw),
		       int (*send_now)(gw_call_t *call), void (*prep)(gw_call_t *call))
{
	gw_oauth_t *o = calloc(1, sizeof(*o));
	int rc;

	if (o == NULL)
		return -ENOMEM;
	rc = gw_oauth_init(gw, o, service, fetch, send_now, prep);
	if (rc == 0) {
		gw->priv = o;
	} else {
		crypto_wipe(o, sizeof(*o));
		free(o);
	}
	return rc;
}

void gw_oauth_priv_free(gw_t *gw)
{
	gw_oauth_t *o = gw->priv;

	if (o != NULL) {
		crypto_wipe(o, sizeof(*o));
		free(o);
	}
	gw->priv = NULL;
	gw->oauth = NULL;
}

uint64_t gw_oauth_deadline(uint64_t obtained_ms, int64_t expires_in_s)
{
	uint64_t life;
	uint64_t margin;

	if (expires_in_s <= 0)
		return obtained_ms;
	if (expires_in_s > GW_OAUTH_MAX_TTL_S)
		expires_in_s = GW_OAUTH_MAX_TTL_S;
	life = (uint64_t)expires_in_s * 1000u;
	/* Refresh early enough that a request sent just before the deadline still
	 * arrives with a live token: a tenth of the lifetime, at most a minute. */
	margin = life / 10u;
	if (margin > 60000u)
		margin = 60000u;
	return obtained_ms + life - margin;
}

static bool gw_oauth_token_char(int c)
{
	/* RFC 6750 b64token characters. */
	return gw_is_alnum(c) || (c != 0 && strchr("-._~+/=", c) != NULL);
}

/* The token answer: {"access_token","token_type":"Bearer","expires_in":3600,...}. */
static void gw_oauth_store(gw_oauth_t *o, const http_response_t *res, gw_reply_t *r)
{
	gw_parse_t ps = {0};
	json_t *j = NULL;
	char tok[GW_OAUTH_TOKEN_MAX];
	char type[32];
	int64_t ttl = GW_OAUTH_DEFAULT_TTL_S;

	tok[0] = '\0';
	if (res->error < 0 || (res->status != 200 && res->status != 201)) {
		/* Whatever went wrong, the API call itself was never sent. */
		gw_reply_from_http(r, res, false, o->service);
		if (r->outcome == GW_OUTCOME_NOT_FOUND || r->outcome == GW_OUTCOME_REJECTED)
			r->outcome = GW_OUTCOME_ERROR_RETRYABLE;
		goto out;
	}
	j = gw_json_parse(&ps, res->body, res->body_len);
	if (j != NULL && !json_is_object(j))
		gw_parse_fail(&ps, "expected an object");
	gw_get_str(&ps, j, "", "access_token", tok, sizeof(tok), GW_F_REQ);
	if (gw_get_str(&ps, j, "", "token_type", type, sizeof(type), 0) &&
	    strcasecmp(type, "Bearer") != 0)
		gw_parse_fail(&ps, "token_type: not Bearer");
	gw_get_int_lenient(&ps, j, "", "expires_in", &ttl, 1, INT32_MAX, 0);
	if (ps.err == 0 && !gw_str_charset(tok, sizeof(tok) - 1, gw_oauth_token_char))
		gw_parse_fail(&ps, "access_token: not a bearer token");
	if (ps.err != 0) {
		gw_reply_malformed(r, res->status, false, o->service, ps.why);
		goto out;
	}
	crypto_wipe(o->token, sizeof(o->token));
	gw_copy(o->token, sizeof(o->token), tok);
	o->have_token = true;
	o->generation++;
	/* Counted from when the answer arrived: the lifetime started at least then. */
	o->token_deadline = gw_oauth_deadline(util_mono_ms(), ttl);
	r->outcome = GW_OUTCOME_APPROVED;
out:
	crypto_wipe(tok, sizeof(tok));
	json_decref(j);
}

void gw_oauth_fail(gw_call_t *call, const gw_reply_t *why, int err, const char *what)
{
	gw_oauth_t *o = call->gw->oauth;

	if (why != NULL) {
		call->res.r = *why;
		snprintf(call->res.r.message, sizeof(call->res.r.message),
			 "%s: token request failed: %.200s", o->service, why->message);
	} else {
		call->res.r.outcome = GW_OUTCOME_ERROR_RETRYABLE;
		call->res.r.error = err;
		call->res.r.http_status = 0;
		snprintf(call->res.r.message, sizeof(call->res.r.message), "%s: %s", o->service,
			 what);
	}
	if (o->prep != NULL)
		o->prep(call);
	gw_call_finish(call);
}

static void gw_oauth_on_token(const http_response_t *res, void *arg)
{
	gw_t *gw = arg;
	gw_oauth_t *o = gw->oauth;
	gw_reply_t r = {0};
	list_node_t ready;
	list_node_t *n;
	list_node_t *tmp;

	o->fetching = false;
	gw_oauth_store(o, res, &r);
	/* Callbacks below may start calls that queue for a new fetch: take the
	 * current waiters out first so those are not mistaken for ours. */
	list_init(&ready);
	list_for_each_safe(n, tmp, &o->waiters) {
		list_remove(n);
		list_insert_tail(&ready, n);
	}
	list_for_each_safe(n, tmp, &ready) {
		gw_call_t *call = container_of(n, gw_call_t, wait_node);
		int rc;

		list_remove(n);
		if (r.outcome != GW_OUTCOME_APPROVED) {
			gw_oauth_fail(call, &r, 0, NULL);
			continue;
		}
		rc = o->send_now(call);
		if (rc < 0)
			gw_oauth_fail(call, NULL, rc, "could not send the request");
	}
	gw_pending_release(gw);
}

int gw_oauth_fetch(gw_t *gw, http_request_t *req)
{
	gw_oauth_t *o = gw->oauth;
	int rc;

	req->method = "POST";
	req->timeout_ms = gw->cfg.timeout_ms;
	req->pool = gw->cfg.pool;
	req->ca_file = gw->cfg.ca_file;
	req->insecure = gw->cfg.insecure;
	gw_http_client_cert(gw, req);
	rc = http_client_send(gw->http, req, gw_oauth_on_token, gw);
	if (rc == 0) {
		o->fetching = true;
		o->fetches++;
		gw_pending_hold(gw);
	}
	return rc;
}

int gw_oauth_send(gw_call_t *call)
{
	gw_t *gw = call->gw;
	gw_oauth_t *o = gw->oauth;
	int rc = 0;

	/* The real clock, not the loop's cached time, which is stale after an idle
	 * wait; never the test clock either: the token's life is real time. */
	if (o->have_token && util_mono_ms() < o->token_deadline) {
		rc = o->send_now(call);
		goto out;
	}
	o->have_token = false;
	if (!o->fetching) {
		rc = o->fetch(gw);
		if (rc < 0)
			goto out;
	}
	list_insert_tail(&o->waiters, &call->wait_node);
out:
	return rc;
}

void gw_oauth_bearer(gw_call_t *call, char *out, size_t cap)
{
	gw_oauth_t *o = call->gw->oauth;
	snprintf(out, cap, "Bearer %s", o->token);
	call->token_gen = o->generation;
}

bool gw_oauth_resend_401(gw_call_t *call, const http_response_t *res)
{
	gw_oauth_t *o = call->gw->oauth;
	int rc;

	if (res->error != 0 || res->status != 401 || call->auth_retried)
		return false;
	/* The token was refused before its time (revoked, rotated): drop it unless
	 * a newer one already replaced it, and send once more. */
	call->auth_retried = true;
	if (o->generation == call->token_gen) {
		crypto_wipe(o->token, sizeof(o->token));
		o->have_token = false;
	}
	rc = gw_oauth_send(call);
	if (rc < 0)
		gw_oauth_fail(call, NULL, rc, "could not re-send the request");
	return true;
}
