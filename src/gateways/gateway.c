/*
 * The gateway object: configuration copy, adapter dispatch, call lifetime, and
 * the names of the interface's enums.
 */
#include "gateways/gateway.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/crypto.h"
#include "common/util.h"
#include "gateways/gw_internal.h"

/* Longest base URL accepted; paths are appended to it. */
#define GW_BASE_URL_MAX 512u
/* Longest credential or other configured string. */
#define GW_CONFIG_STR_MAX 1024u

static const gw_adapter_t *gw_adapter_for(gw_kind_t kind)
{
	switch (kind) {
	case GW_KIND_CIELO:
		return &gw_cielo_adapter;
	case GW_KIND_GETNET:
		return &gw_getnet_adapter;
	case GW_KIND_PAGOLIVRE:
		return &gw_pagolivre_adapter;
	case GW_KIND_ZAPME:
		return &gw_zapme_adapter;
	case GW_KIND_PIX:
		return &gw_pix_adapter;
	}
	return NULL;
}

/* ------------------------------------------------------------------ configuration */

static void gw_free_str(char **p, bool secret)
{
	if (*p != NULL && secret)
		crypto_wipe(*p, strlen(*p));
	free(*p);
	*p = NULL;
}

/* Copies one optional string of the configuration; false on no memory. */
static bool gw_dup(const char **dst, const char *src)
{
	char *c;

	*dst = NULL;
	if (src == NULL)
		return true;
	c = strdup(src);
	if (c == NULL)
		return false;
	*dst = c;
	return true;
}

static void gw_cfg_free(gw_config_t *c)
{
	gw_free_str((char **)&c->base_url, false);
	gw_free_str((char **)&c->query_base_url, false);
	gw_free_str((char **)&c->merchant_id, false);
	gw_free_str((char **)&c->merchant_key, true);
	gw_free_str((char **)&c->client_id, false);
	gw_free_str((char **)&c->client_secret, true);
	gw_free_str((char **)&c->seller_id, true);
	gw_free_str((char **)&c->api_token, true);
	gw_free_str((char **)&c->callback_url, false);
	gw_free_str((char **)&c->api_key, true);
	gw_free_str((char **)&c->api_secret, true);
	for (size_t i = 0; i < c->n_webhook_headers; i++) {
		gw_free_str((char **)&c->webhook_headers[i].name, false);
		gw_free_str((char **)&c->webhook_headers[i].value, true);
	}
	gw_free_str((char **)&c->soft_descriptor, false);
	gw_free_str((char **)&c->pool, false);
	gw_free_str((char **)&c->ca_file, false);
	gw_free_str((char **)&c->pix_profile, false);
	gw_free_str((char **)&c->pix_branch, false);
	gw_free_str((char **)&c->pix_account, false);
	gw_free_str((char **)&c->pix_account_type, false);
	gw_free_str((char **)&c->client_cert_pem, false);
	gw_free_str((char **)&c->client_key_pem, true);
	gw_free_str((char **)&c->webhook_secret, true);
	gw_free_str((char **)&c->pix_key, false);
}

static int gw_cfg_copy(gw_config_t *dst, const gw_config_t *src)
{
	bool ok = true;

	memset(dst, 0, sizeof(*dst));
	dst->kind = src->kind;
	dst->timeout_ms = src->timeout_ms;
	dst->insecure = src->insecure;
	ok = ok && gw_dup(&dst->base_url, src->base_url);
	ok = ok && gw_dup(&dst->query_base_url, src->query_base_url);
	ok = ok && gw_dup(&dst->merchant_id, src->merchant_id);
	ok = ok && gw_dup(&dst->merchant_key, src->merchant_key);
	ok = ok && gw_dup(&dst->client_id, src->client_id);
	ok = ok && gw_dup(&dst->client_secret, src->client_secret);
	ok = ok && gw_dup(&dst->seller_id, src->seller_id);
	ok = ok && gw_dup(&dst->api_token, src->api_token);
	ok = ok && gw_dup(&dst->callback_url, src->callback_url);
	ok = ok && gw_dup(&dst->api_key, src->api_key);
	ok = ok && gw_dup(&dst->api_secret, src->api_secret);
	ok = ok && gw_dup(&dst->soft_descriptor, src->soft_descriptor);
	ok = ok && gw_dup(&dst->pool, src->pool);
	ok = ok && gw_dup(&dst->ca_file, src->ca_file);
	ok = ok && gw_dup(&dst->pix_profile, src->pix_profile);
	ok = ok && gw_dup(&dst->pix_branch, src->pix_branch);
	ok = ok && gw_dup(&dst->pix_account, src->pix_account);
	ok = ok && gw_dup(&dst->pix_account_type, src->pix_account_type);
	ok = ok && gw_dup(&dst->client_cert_pem, src->client_cert_pem);
	ok = ok && gw_dup(&dst->client_key_pem, src->client_key_pem);
	ok = ok && gw_dup(&dst->webhook_secret, src->webhook_secret);
	ok = ok && gw_dup(&dst->pix_key, src->pix_key);
	for (size_t i = 0; ok && i < src->n_webhook_headers; i++) {
		dst->n_webhook_headers = i + 1;
		ok = gw_dup(&dst->webhook_headers[i].name, src->webhook_headers[i].name) &&
		     gw_dup(&dst->webhook_headers[i].value, src->webhook_headers[i].value);
	}
	if (!ok) {
		gw_cfg_free(dst);
		return -ENOMEM;
	}
	return 0;
}

static bool gw_url_ok(const char *u)
{
	size_t n;

	if (u == NULL)
		return false;
	n = strlen(u);
	if (n == 0 || n > GW_BASE_URL_MAX)
		return false;
	if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
		return false;
	/* A query or fragment in a base URL would swallow every path appended to it. */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)u[i];
		if (c <= ' ' || c >= 0x7f || c == '?' || c == '#')
			return false;
	}
	return true;
}

static bool gw_header_name_ok(int c)
{
	return gw_is_alnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Checks what every kind shares; the adapter checks its credentials. */
static void gw_cfg_check_common(const gw_config_t *cfg, status_t *st)
{
	const char *strs[] = {cfg->merchant_id,      cfg->merchant_key,  cfg->client_id,
			      cfg->client_secret,    cfg->seller_id,     cfg->api_token,
			      cfg->callback_url,     cfg->api_key,       cfg->api_secret,
			      cfg->soft_descriptor,  cfg->pool,          cfg->ca_file,
			      cfg->pix_profile,      cfg->pix_branch,    cfg->pix_account,
			      cfg->pix_account_type, cfg->webhook_secret};
	const char *names[] = {"merchant_id",      "merchant_key",  "client_id",
			       "client_secret",    "seller_id",     "api_token",
			       "callback_url",     "api_key",       "api_secret",
			       "soft_descriptor",  "pool",          "ca_file",
			       "pix_profile",      "pix_branch",    "pix_account",
			       "pix_account_type", "webhook_secret"};

	if (!gw_url_ok(cfg->base_url))
		status_violation(st, "base_url", "an http:// or https:// URL is required");
	if (cfg->query_base_url != NULL && !gw_url_ok(cfg->query_base_url))
		status_violation(st, "query_base_url", "must be an http:// or https:// URL");
	for (size_t i = 0; i < OSPAY_ARRAY_LEN(strs); i++) {
		/* Control characters would end up in headers or bodies: refused. */
		if (strs[i] != NULL && !gw_text_ok(strs[i], GW_CONFIG_STR_MAX))
			status_violation(st, names[i], "must be 1..%u printable bytes",
					 GW_CONFIG_STR_MAX);
	}
	if (cfg->n_webhook_headers > GW_MAX_WEBHOOK_HEADERS) {
		status_violation(st, "webhook_headers", "at most %d pairs", GW_MAX_WEBHOOK_HEADERS);
		return;
	}
	for (size_t i = 0; i < cfg->n_webhook_headers; i++) {
		const gw_header_pair_t *h = &cfg->webhook_headers[i];
		if (!gw_str_charset(h->name, 128, gw_header_name_ok))
			status_violation(st, "webhook_headers.name",
					 "an HTTP header name is required");
		if (h->value == NULL || !gw_text_ok(h->value, GW_CONFIG_STR_MAX))
			status_violation(st, "webhook_headers.value",
					 "1..%u printable bytes are required", GW_CONFIG_STR_MAX);
	}
}

/* Drops one trailing '/' so paths ("/1/sales/") append cleanly. */
static char *gw_base_dup(const char *u)
{
	size_t n = strlen(u);
	char *c;

	while (n > 0 && u[n - 1] == '/')
		n--;
	c = malloc(n + 1);
	if (c != NULL) {
		memcpy(c, u, n);
		c[n] = '\0';
	}
	return c;
}

static void gw_free(gw_t *gw)
{
	if (gw->ad != NULL && gw->ad->priv_free != NULL)
		gw->ad->priv_free(gw);
	gw_cfg_free(&gw->cfg);
	free(gw->base_url);
	free(gw->query_base_url);
	free(gw);
}

int gw_open(gw_t **out, http_client_t *http, uv_loop_t *loop, const gw_config_t *cfg, status_t *st)
{
	status_t local;
	status_t *s = st != NULL ? st : &local;
	const gw_adapter_t *ad;
	gw_t *gw = NULL;
	int rc = 0;

	status_clear(s);
	if (out == NULL || http == NULL || loop == NULL || cfg == NULL) {
		rc = -EINVAL;
		goto out;
	}
	ad = gw_adapter_for(cfg->kind);
	if (ad == NULL) {
		status_violation(s, "kind", "unknown gateway kind %d", (int)cfg->kind);
		rc = -EINVAL;
		goto out;
	}
	gw_cfg_check_common(cfg, s);
	rc = ad->check_config(cfg, s);
	if (rc != 0)
		goto out;
	gw = calloc(1, sizeof(*gw));
	if (gw == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	gw->http = http;
	gw->loop = loop;
	rc = gw_cfg_copy(&gw->cfg, cfg);
	if (rc < 0)
		goto out;
	gw->base_url = gw_base_dup(cfg->base_url);
	gw->query_base_url =
		gw_base_dup(cfg->query_base_url != NULL ? cfg->query_base_url : cfg->base_url);
	if (gw->base_url == NULL || gw->query_base_url == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if (gw->cfg.pool == NULL && !gw_dup(&gw->cfg.pool, ad->name)) {
		rc = -ENOMEM;
		goto out;
	}
	if (ad->priv_init != NULL) {
		rc = ad->priv_init(gw);
		if (rc < 0)
			goto out;
	}
	/* Set last: gw_free calls priv_free only for a gateway whose state exists. */
	gw->ad = ad;
	*out = gw;
	gw = NULL;
out:
	if (gw != NULL)
		gw_free(gw);
	return rc;
}

void gw_close(gw_t *gw)
{
	if (gw == NULL || gw->closing)
		return;
	gw->closing = true;
	if (gw->n_pending == 0)
		gw_free(gw);
}

gw_kind_t gw_kind(const gw_t *gw)
{
	return gw->cfg.kind;
}

/* ------------------------------------------------------------------ calls */

static gw_call_t *gw_call_new(gw_t *gw, gw_op_t op, bool mutating, void *arg)
{
	gw_call_t *call = calloc(1, sizeof(*call));

	if (call == NULL)
		return NULL;
	call->gw = gw;
	call->op = op;
	call->mutating = mutating;
	call->arg = arg;
	list_init(&call->wait_node);
	call->res.r.outcome = GW_OUTCOME_ERROR_RETRYABLE;
	if (op == GW_OP_CHARGE || op == GW_OP_CANCEL_CHARGE || op == GW_OP_QUERY_CHARGE ||
	    op == GW_OP_QUERY_ORDER) {
		call->res.charge.provider_status = -1;
		call->res.charge.amount_cents = -1;
		call->best.provider_status = -1;
		call->best.amount_cents = -1;
	}
	if (op >= GW_OP_PIX_LOCATION) {
		call->res.pix.loc_id = -1;
		call->res.pix.amount_cents = -1;
		call->res.pix.outcome_detail = -1;
	}
	gw_pending_hold(gw);
	return call;
}

void gw_pending_hold(gw_t *gw)
{
	gw->n_pending++;
}

void gw_pending_release(gw_t *gw)
{
	if (--gw->n_pending == 0 && gw->closing)
		gw_free(gw);
}

void gw_json_secure_init(void)
{
	json_set_alloc_funcs(malloc, crypto_free_wiped);
}

static void gw_call_free(gw_call_t *call)
{
	gw_t *gw = call->gw;

	if (call->body != NULL) {
		crypto_wipe(call->body, call->body_len);
		free(call->body);
	}
	if (call->pending != NULL)
		json_decref(call->pending);
	if (list_linked(&call->wait_node))
		list_remove(&call->wait_node);
	crypto_wipe(call, sizeof(*call));
	free(call);
	gw_pending_release(gw);
}

void gw_call_finish(gw_call_t *call)
{
	switch (call->op) {
	case GW_OP_CREATE_LINK:
	case GW_OP_QUERY_LINK:
	case GW_OP_CANCEL_LINK:
		call->cb.link(&call->res.link, call->arg);
		break;
	case GW_OP_TOKENIZE:
		call->cb.token(&call->res.token, call->arg);
		break;
	case GW_OP_CHARGE:
	case GW_OP_CANCEL_CHARGE:
	case GW_OP_QUERY_CHARGE:
	case GW_OP_QUERY_ORDER:
	case GW_OP_ZERO_AUTH:
		call->cb.charge(&call->res.charge, call->arg);
		break;
	case GW_OP_SEND_MESSAGE:
	case GW_OP_MESSAGE_STATUS:
		call->cb.message(&call->res.message, call->arg);
		break;
	default:
		call->cb.pix(&call->res.pix, call->arg);
		break;
	}
	gw_call_free(call);
}

int gw_call_path(gw_call_t *call, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(call->path, sizeof(call->path), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(call->path)) {
		call->path[0] = '\0';
		return -E2BIG;
	}
	return 0;
}

int gw_call_set_json(gw_call_t *call, const json_t *body)
{
	/* Compact, UTF-8 as is; 15 significant digits print decimal reais exactly. */
	size_t flags = JSON_COMPACT | JSON_REAL_PRECISION(15);
	/* Most bodies fit: one serialization instead of a sizing pass and a second. */
	char first[2048];
	size_t n = json_dumpb(body, first, sizeof(first), flags);
	char *buf = NULL;
	int rc = 0;

	if (n == 0 || n > GW_MAX_REQUEST_BODY) {
		rc = n == 0 ? -EINVAL : -E2BIG;
		goto out;
	}
	buf = malloc(n);
	if (buf == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if (n <= sizeof(first)) {
		memcpy(buf, first, n);
	} else if (json_dumpb(body, buf, n, flags) != n) {
		crypto_wipe(buf, n);
		free(buf);
		rc = -EIO;
		goto out;
	}
	if (call->body != NULL) {
		crypto_wipe(call->body, call->body_len);
		free(call->body);
	}
	call->body = buf;
	call->body_len = n;
	call->content_type = "application/json";
out:
	/* Card data may have passed through it. */
	crypto_wipe(first, n < sizeof(first) ? n : sizeof(first));
	return rc;
}

int gw_http_send(gw_call_t *call, const http_header_t *headers, size_t n_headers, http_done_cb cb)
{
	gw_t *gw = call->gw;
	const char *base = call->query_host ? gw->query_base_url : gw->base_url;
	char url[GW_BASE_URL_MAX + GW_PATH_MAX + 1];
	http_request_t req = {0};
	int n = snprintf(url, sizeof(url), "%s%s", base, call->path);
	int rc;

	if (n < 0 || (size_t)n >= sizeof(url))
		return -E2BIG;
	req.method = call->method;
	req.url = url;
	req.headers = headers;
	req.n_headers = n_headers;
	req.body = call->body;
	req.body_len = call->body != NULL ? call->body_len : 0;
	req.timeout_ms = gw->cfg.timeout_ms;
	req.pool = gw->cfg.pool;
	req.ca_file = gw->cfg.ca_file;
	req.insecure = gw->cfg.insecure;
	gw_http_client_cert(gw, &req);
	rc = http_client_send(gw->http, &req, cb, call);
	/* ZapMe puts its credentials in the query string. */
	crypto_wipe(url, sizeof(url));
	return rc;
}

/* Starts one call: allocation, the adapter's entry, and the undo of both on an
 * immediate failure (the callback then never runs). */
#define GW_START(gw, op, mutating, fn, cbfield, cbv, arg, ...)                                     \
	do {                                                                                       \
		gw_call_t *call_;                                                                  \
		if ((gw) == NULL || (cbv) == NULL) {                                               \
			rc = -EINVAL;                                                              \
			goto out;                                                                  \
		}                                                                                  \
		if ((gw)->closing) {                                                               \
			rc = -ESHUTDOWN;                                                           \
			goto out;                                                                  \
		}                                                                                  \
		if ((gw)->ad->fn == NULL) {                                                        \
			rc = -ENOTSUP;                                                             \
			goto out;                                                                  \
		}                                                                                  \
		call_ = gw_call_new((gw), (op), (mutating), (arg));                                \
		if (call_ == NULL) {                                                               \
			rc = -ENOMEM;                                                              \
			goto out;                                                                  \
		}                                                                                  \
		call_->cb.cbfield = (cbv);                                                         \
		rc = (gw)->ad->fn(call_, __VA_ARGS__);                                             \
		if (rc < 0)                                                                        \
			gw_call_free(call_);                                                       \
	} while (0)

int gw_create_link(gw_t *gw, const gw_link_req_t *req, gw_link_cb cb, void *arg)
{
	int rc = 0;

	if (req == NULL) {
		rc = -EINVAL;
		goto out;
	}
	GW_START(gw, GW_OP_CREATE_LINK, true, create_link, link, cb, arg, req);
out:
	return rc;
}

int gw_query_link(gw_t *gw, const char *order_key, gw_link_cb cb, void *arg)
{
	int rc = 0;

	if (order_key == NULL) {
		rc = -EINVAL;
		goto out;
	}
	GW_START(gw, GW_OP_QUERY_LINK, false, query_link, link, cb, arg, order_key);
out:
	return rc;
}

int gw_cancel_link(gw_t *gw, const gw_cancel_link_req_t *req, gw_link_cb cb, void *arg)
{
	int rc = 0;

	if (req == NULL) {
		rc = -EINVAL;
		goto out;
	}
	GW_START(gw, GW_OP_CANCEL_LINK, true, cancel_link, link, cb, arg, req);
out:
	return rc;
}

int gw_tokenize_card(gw_t *gw, const gw_card_t *card, gw_token_cb cb, void *arg)
{
	int rc = 0;

	if (card == NULL) {
		rc = -EINVAL;
		goto out;
	}
	GW_START(gw, GW_OP_TOKENIZE, true, tokenize, token, cb, arg, card);
out:
	return rc;
}

int gw_charge_card(gw_t *gw, const gw_charge_req_t *req, gw_charge_cb cb, void *arg)
{
	int rc = 0;

	if (req == NULL) {
		rc = -EINVAL;
		goto out;
	}
	GW_START(gw, GW_OP_CHARGE, true, charge, charge, cb, arg, req);
out:
	return rc;
}

int gw_zero_auth(gw_t *gw, const gw_zero_auth_req_t *req, gw_charge_cb cb, void *arg)
{
	int rc = 0;

	if (req == NULL) {
		rc = -EINVAL;
		goto out;
	}
	/* Nothing is charged: a lost answer can be asked again. */
	GW_START(gw, GW_OP_ZERO_AUTH, false, zero_auth, charge, cb, arg, req);
out:
	return rc;
}

int gw_cancel_charge(gw_t *gw, const char *payment_id, int64_t amount_cents, gw_charge_cb cb,
		     void *arg)
{
	int rc = 0;

	if (payment_id == NULL || amount_cents < 0 || amount_cents > GW_MAX_AMOUNT_CENTS) {
		rc = -EINVAL;
		goto out;
	}
	GW_START(gw, GW_OP_CANCEL_CHARGE, true, cancel_charge, charge, cb, arg, payment_id,
		 amount_cents);
out:
	return rc;
}

int gw_query_charge(gw_t *gw, const char *payment_id, gw_charge_cb cb, void *arg)
{
	int rc = 0;

	if (payment_id == NULL) {
		rc = -EINVAL;
		goto out;
	}
	GW_START(gw, GW_OP_QUERY_CHARGE, false, query_charge, charge, cb, arg, payment_id);
out:
	return rc;
}

int gw_query_charge_by_order(gw_t *gw, const char *merchant_order_id, gw_charge_cb cb, void *arg)
{
	int rc = 0;

	if (merchant_order_id == NULL) {
		rc = -EINVAL;
		goto out;
	}
	GW_START(gw, GW_OP_QUERY_ORDER, false, query_order, charge, cb, arg, merchant_order_id);
out:
	return rc;
}

bool gw_can_query_by_order(const gw_t *gw)
{
	return gw != NULL && gw->ad->query_order != NULL;
}

int gw_send_message(gw_t *gw, const gw_message_req_t *req, gw_message_cb cb, void *arg)
{
	int rc = 0;

	if (req == NULL) {
		rc = -EINVAL;
		goto out;
	}
	if (gw != NULL) {
		rc = gw_check_channel(gw->ad->kind, req->channel, NULL, 0);
		if (rc != 0)
			goto out;
	}
	GW_START(gw, GW_OP_SEND_MESSAGE, true, send_message, message, cb, arg, req);
out:
	return rc;
}

int gw_message_status(gw_t *gw, const char *message_id, gw_message_cb cb, void *arg)
{
	int rc = 0;

	if (message_id == NULL) {
		rc = -EINVAL;
		goto out;
	}
	GW_START(gw, GW_OP_MESSAGE_STATUS, false, message_status, message, cb, arg, message_id);
out:
	return rc;
}

void gw_http_client_cert(const gw_t *gw, http_request_t *req)
{
	if (gw->cfg.client_cert_pem == NULL || gw->cfg.client_key_pem == NULL)
		return;
	req->client_cert = gw->cfg.client_cert_pem;
	req->client_cert_len = strlen(gw->cfg.client_cert_pem);
	req->client_key = gw->cfg.client_key_pem;
	req->client_key_len = strlen(gw->cfg.client_key_pem);
}

/* Every Pix call starts here: a and b are handed to the adapter as they are. */
static int gw_pix_start(gw_t *gw, gw_op_t op, bool mutating, const void *a, const void *b,
			gw_pix_cb cb, void *arg)
{
	int rc = 0;

	GW_START(gw, op, mutating, pix, pix, cb, arg, a, b);
out:
	return rc;
}

int gw_pix_create_location(gw_t *gw, gw_pix_cb cb, void *arg)
{
	return gw_pix_start(gw, GW_OP_PIX_LOCATION, true, NULL, NULL, cb, arg);
}

int gw_pix_query_location(gw_t *gw, int64_t loc_id, gw_pix_cb cb, void *arg)
{
	return loc_id <= 0
		       ? -EINVAL
		       : gw_pix_start(gw, GW_OP_PIX_QUERY_LOCATION, false, &loc_id, NULL, cb, arg);
}

int gw_pix_create_rec(gw_t *gw, const gw_pix_rec_req_t *req, gw_pix_cb cb, void *arg)
{
	return req == NULL ? -EINVAL
			   : gw_pix_start(gw, GW_OP_PIX_CREATE_REC, true, req, NULL, cb, arg);
}

int gw_pix_query_rec(gw_t *gw, const char *id_rec, const char *txid, gw_pix_cb cb, void *arg)
{
	return id_rec == NULL ? -EINVAL
			      : gw_pix_start(gw, GW_OP_PIX_QUERY_REC, false, id_rec, txid, cb, arg);
}

int gw_pix_cancel_rec(gw_t *gw, const char *id_rec, gw_pix_cb cb, void *arg)
{
	return id_rec == NULL ? -EINVAL
			      : gw_pix_start(gw, GW_OP_PIX_CANCEL_REC, true, id_rec, NULL, cb, arg);
}

int gw_pix_create_solicrec(gw_t *gw, const gw_pix_solicrec_req_t *req, gw_pix_cb cb, void *arg)
{
	return req == NULL ? -EINVAL
			   : gw_pix_start(gw, GW_OP_PIX_SOLICREC, true, req, NULL, cb, arg);
}

int gw_pix_query_solicrec(gw_t *gw, const char *id_solicrec, gw_pix_cb cb, void *arg)
{
	return id_solicrec == NULL ? -EINVAL
				   : gw_pix_start(gw, GW_OP_PIX_QUERY_SOLICREC, false, id_solicrec,
						  NULL, cb, arg);
}

int gw_pix_cancel_solicrec(gw_t *gw, const char *id_solicrec, gw_pix_cb cb, void *arg)
{
	return id_solicrec == NULL ? -EINVAL
				   : gw_pix_start(gw, GW_OP_PIX_CANCEL_SOLICREC, true, id_solicrec,
						  NULL, cb, arg);
}

int gw_pix_put_cobr(gw_t *gw, const gw_pix_cobr_req_t *req, gw_pix_cb cb, void *arg)
{
	return req == NULL ? -EINVAL
			   : gw_pix_start(gw, GW_OP_PIX_PUT_COBR, true, req, NULL, cb, arg);
}

int gw_pix_query_cobr(gw_t *gw, const char *txid, gw_pix_cb cb, void *arg)
{
	return txid == NULL ? -EINVAL
			    : gw_pix_start(gw, GW_OP_PIX_QUERY_COBR, false, txid, NULL, cb, arg);
}

int gw_pix_cancel_cobr(gw_t *gw, const char *txid, gw_pix_cb cb, void *arg)
{
	return txid == NULL ? -EINVAL
			    : gw_pix_start(gw, GW_OP_PIX_CANCEL_COBR, true, txid, NULL, cb, arg);
}

int gw_pix_retry_cobr(gw_t *gw, const char *txid, const char *date, gw_pix_cb cb, void *arg)
{
	return txid == NULL || date == NULL
		       ? -EINVAL
		       : gw_pix_start(gw, GW_OP_PIX_RETRY_COBR, true, txid, date, cb, arg);
}

int gw_pix_register_webhook(gw_t *gw, gw_pix_hook_t hook, const char *url, gw_pix_cb cb, void *arg)
{
	static const gw_pix_hook_t hooks[] = {GW_PIX_HOOK_REC, GW_PIX_HOOK_COBR, GW_PIX_HOOK_PIX};

	if (url == NULL ||
	    (hook != GW_PIX_HOOK_REC && hook != GW_PIX_HOOK_COBR && hook != GW_PIX_HOOK_PIX))
		return -EINVAL;
	return gw_pix_start(gw, GW_OP_PIX_WEBHOOK, true, &hooks[hook], url, cb, arg);
}

int gw_pix_put_cob(gw_t *gw, const gw_pix_cob_req_t *req, gw_pix_cb cb, void *arg)
{
	return req == NULL ? -EINVAL
			   : gw_pix_start(gw, GW_OP_PIX_PUT_COB, true, req, NULL, cb, arg);
}

int gw_pix_query_cob(gw_t *gw, const char *txid, gw_pix_cb cb, void *arg)
{
	return txid == NULL ? -EINVAL
			    : gw_pix_start(gw, GW_OP_PIX_QUERY_COB, false, txid, NULL, cb, arg);
}

int gw_pix_put_cobv(gw_t *gw, const gw_pix_cobv_req_t *req, gw_pix_cb cb, void *arg)
{
	return req == NULL ? -EINVAL
			   : gw_pix_start(gw, GW_OP_PIX_PUT_COBV, true, req, NULL, cb, arg);
}

int gw_pix_query_cobv(gw_t *gw, const char *txid, gw_pix_cb cb, void *arg)
{
	return txid == NULL ? -EINVAL
			    : gw_pix_start(gw, GW_OP_PIX_QUERY_COBV, false, txid, NULL, cb, arg);
}

int gw_verify_webhook(const gw_t *gw, const gw_webhook_req_t *req)
{
	int rc = -EACCES;

	if (gw == NULL || req == NULL || gw->ad->verify_webhook == NULL)
		goto out;
	rc = gw->ad->verify_webhook(gw, req);
out:
	return rc;
}

int gw_parse_webhook(const gw_t *gw, const gw_webhook_req_t *req, gw_event_t *out)
{
	int rc = -EBADMSG;

	if (out == NULL) {
		rc = -EINVAL;
		goto out;
	}
	memset(out, 0, sizeof(*out));
	if (gw == NULL || req == NULL ||
	    (gw->ad->parse_webhook == NULL && gw->ad->webhook_fields == NULL)) {
		snprintf(out->error, sizeof(out->error), "no webhook parser for this gateway");
		goto out;
	}
	if (gw->ad->webhook_fields != NULL)
		rc = gw_json_webhook(gw, req, out);
	else
		rc = gw->ad->parse_webhook(gw, req, out);
	if (rc < 0 && out->error[0] == '\0')
		snprintf(out->error, sizeof(out->error), "malformed notification");
out:
	return rc;
}

/* ------------------------------------------------------------------ names */

const char *gw_outcome_name(gw_outcome_t o)
{
	switch (o) {
	case GW_OUTCOME_APPROVED:
		return "APPROVED";
	case GW_OUTCOME_DECLINED:
		return "DECLINED";
	case GW_OUTCOME_PENDING:
		return "PENDING";
	case GW_OUTCOME_CANCELED:
		return "CANCELED";
	case GW_OUTCOME_EXPIRED:
		return "EXPIRED";
	case GW_OUTCOME_NOT_FOUND:
		return "NOT_FOUND";
	case GW_OUTCOME_REJECTED:
		return "REJECTED";
	case GW_OUTCOME_AUTH_FAILED:
		return "AUTH_FAILED";
	case GW_OUTCOME_ERROR_RETRYABLE:
		return "ERROR_RETRYABLE";
	case GW_OUTCOME_UNKNOWN:
		return "UNKNOWN";
	}
	return "?";
}

/* ------------------------------------------------------------------ capabilities */

static const char *const gw_channel_names[GW_N_CHANNELS] = {"WhatsApp", "SMS"};

int gw_check_channel(gw_kind_t kind, gw_channel_t channel, char *why, size_t cap)
{
	const gw_adapter_t *ad = gw_adapter_for(kind);
	char list[64] = "";
	size_t n = 0;
	int rc = 0;

	if (ad == NULL || (unsigned)channel >= GW_N_CHANNELS) {
		rc = -EINVAL;
		if (why != NULL && cap > 0)
			snprintf(why, cap, "unknown service or channel");
		goto out;
	}
	if (ad->send_message != NULL && (ad->channels & GW_CHANNEL_BIT(channel)) != 0)
		goto out;
	rc = -ENOTSUP;
	if (why == NULL || cap == 0)
		goto out;
	if (ad->send_message == NULL || ad->channels == 0) {
		snprintf(why, cap, "%s sends no messages", ad->title);
		goto out;
	}
	/* The sentence names what the service does deliver, from its adapter. */
	for (unsigned c = 0; c < GW_N_CHANNELS; c++) {
		if ((ad->channels & GW_CHANNEL_BIT(c)) == 0)
			continue;
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", n > 0 ? " and " : "",
				      gw_channel_names[c]);
		if (n >= sizeof(list))
			break;
	}
	snprintf(why, cap, "%s delivers %s messages only; %s is not supported", ad->title, list,
		 gw_channel_names[channel]);
out:
	return rc;
}

const char *gw_channel_name(gw_channel_t c)
{
	return (unsigned)c < GW_N_CHANNELS ? gw_channel_names[c] : "?";
}

const char *gw_kind_name(gw_kind_t k)
{
	const gw_adapter_t *ad = gw_adapter_for(k);
	return ad != NULL ? ad->name : "?";
}

static const struct {
	gw_brand_t brand;
	const char *name;
} gw_brand_names[] = {
	{GW_BRAND_VISA, "visa"},
	{GW_BRAND_MASTERCARD, "mastercard"},
	{GW_BRAND_MASTERCARD, "master"},
	{GW_BRAND_AMEX, "amex"},
	{GW_BRAND_AMEX, "americanexpress"},
	{GW_BRAND_ELO, "elo"},
	{GW_BRAND_HIPERCARD, "hipercard"},
	{GW_BRAND_HIPERCARD, "hiper"},
	{GW_BRAND_DINERS, "diners"},
	{GW_BRAND_DINERS, "dinersclub"},
	{GW_BRAND_DISCOVER, "discover"},
	{GW_BRAND_JCB, "jcb"},
	{GW_BRAND_AURA, "aura"},
};

const char *gw_brand_name(gw_brand_t b)
{
	for (size_t i = 0; i < OSPAY_ARRAY_LEN(gw_brand_names); i++) {
		if (gw_brand_names[i].brand == b)
			return gw_brand_names[i].name;
	}
	return "unknown";
}

gw_brand_t gw_brand_parse(const char *s)
{
	char norm[32];
	size_t n = 0;

	if (s == NULL)
		return GW_BRAND_UNKNOWN;
	/* "American Express", "Diners Club": spaces and case do not matter. */
	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '_' || *s == '-')
			continue;
		if (n + 1 >= sizeof(norm))
			return GW_BRAND_UNKNOWN;
		norm[n++] = (char)((*s >= 'A' && *s <= 'Z') ? *s - 'A' + 'a' : *s);
	}
	norm[n] = '\0';
	for (size_t i = 0; i < OSPAY_ARRAY_LEN(gw_brand_names); i++) {
		if (strcmp(norm, gw_brand_names[i].name) == 0)
			return gw_brand_names[i].brand;
	}
	return GW_BRAND_UNKNOWN;
}

const char *gw_event_kind_name(gw_event_kind_t k)
{
	switch (k) {
	case GW_EVENT_OTHER:
		return "other";
	case GW_EVENT_PAYMENT_STATUS:
		return "payment_status";
	case GW_EVENT_RECURRENCE:
		return "recurrence";
	case GW_EVENT_ANTIFRAUD:
		return "antifraud";
	case GW_EVENT_CANCEL_DENIED:
		return "cancel_denied";
	case GW_EVENT_CHARGEBACK:
		return "chargeback";
	case GW_EVENT_FRAUD_ALERT:
		return "fraud_alert";
	case GW_EVENT_LINK_PAID:
		return "link_paid";
	case GW_EVENT_LINK_DECLINED:
		return "link_declined";
	case GW_EVENT_LINK_CANCELED:
		return "link_canceled";
	case GW_EVENT_LINK_EXPIRED:
		return "link_expired";
	case GW_EVENT_INSTALLMENT_CONFIRMED:
		return "installment_confirmed";
	case GW_EVENT_INSTALLMENT_DENIED:
		return "installment_denied";
	case GW_EVENT_MESSAGE_STATUS:
		return "message_status";
	}
	return "?";
}
