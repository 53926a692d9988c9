/*
 * Wiring of the sandbox: https_server (plain HTTP) in, the emulation core in the
 * middle, http_client out for webhooks. Everything runs on one loop and nothing
 * blocks it: late answers and webhook delays are uv timers, held requests wait
 * in a list, deliveries are curl-multi transfers.
 */
#include "sandbox/sbx_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/list.h"
#include "common/log.h"
#include "common/util.h"
#include "net/http_client.h"
#include "net/https_server.h"
#include "sandbox/sbx.h"

/* How often held reorder batches are checked and due work moved on. */
#define SBX_TICK_MS 50
/* Most header fields a request can have (https_server's default cap is 100). */
#define SBX_MAX_REQ_HEADERS 128
/* Requests answered late or never, at once; past it the oldest hanging one is reset. */
#define SBX_MAX_PENDING 4096

struct sbx_server {
	uv_loop_t *loop;
	https_server_t *http;
	https_server_t *mtls; /* the optional mutual-TLS listener (same routes) */
	int mtls_port;
	http_client_t *client;
	sbx_t *sbx;
	uv_timer_t tick;
	list_node_t pending; /* sbx_pending: delayed or held requests */
	size_t n_pending;
	list_node_t deliveries; /* sbx_delivery: webhooks waiting or in flight */
	int open;               /* handles and sub-objects still closing */
	int port;
	bool stopping;
	char *webhook_ca; /* PEM bundle that verifies the webhook receiver (NULL: system CAs) */
};

typedef struct sbx_pending {
	list_node_t node;
	sbx_server_t *srv;
	uv_timer_t timer;
	https_request_t *req;
	sbx_resp_t resp;
	bool timer_on;
} sbx_pending_t;

typedef struct sbx_delivery {
	list_node_t node;
	sbx_server_t *srv;
	uv_timer_t timer;
	sbx_hook_t *hook;
	uint64_t epoch;
	bool in_flight;
	bool closing;
} sbx_delivery_t;

static void sbx_srv_maybe_free(sbx_server_t *srv)
{
	if (srv->stopping && srv->open == 0) {
		sbx_free(srv->sbx);
		free(srv->webhook_ca);
		free(srv);
	}
}

static void sbx_srv_on_sub_closed(void *arg)
{
	sbx_server_t *srv = arg;
	srv->open--;
	sbx_srv_maybe_free(srv);
}

static void sbx_srv_on_handle_closed(uv_handle_t *h)
{
	sbx_srv_on_sub_closed(h->data);
}

/* ------------------------------------------------------------------ webhooks */

static void sbx_delivery_on_closed(uv_handle_t *h)
{
	sbx_delivery_t *d = h->data;
	sbx_server_t *srv = d->srv;
	sbx_hook_free(d->hook);
	free(d);
	srv->open--;
	sbx_srv_maybe_free(srv);
}

static void sbx_delivery_close(sbx_delivery_t *d)
{
	if (!d->closing) {
		d->closing = true;
		list_remove(&d->node);
		uv_close((uv_handle_t *)&d->timer, sbx_delivery_on_closed);
	}
}

static void sbx_delivery_send(sbx_delivery_t *d);

static void sbx_delivery_on_timer(uv_timer_t *t)
{
	sbx_delivery_t *d = t->data;
	/* A reset of the sandbox forgets queued webhooks, retries included. */
	if (d->epoch != sbx_epoch(d->srv->sbx))
		sbx_delivery_close(d);
	else
		sbx_delivery_send(d);
}

/* After a failed attempt: retry on the service's policy, or give up. */
static void sbx_delivery_failed(sbx_delivery_t *d)
{
	sbx_server_t *srv = d->srv;
	if (srv->stopping || d->hook->attempt >= d->hook->max_attempts ||
	    d->epoch != sbx_epoch(srv->sbx))
		sbx_delivery_close(d);
	else
		uv_timer_start(&d->timer, sbx_delivery_on_timer, sbx_hook_retry_ms(srv->sbx), 0);
}

static void sbx_delivery_done(const http_response_t *res, void *arg)
{
	sbx_delivery_t *d = arg;
	sbx_server_t *srv = d->srv;
	d->in_flight = false;
	if (res->error != 0) {
		if (!srv->stopping)
			sbx_hook_record(srv->sbx, d->hook, 0, res->error_msg);
		sbx_delivery_failed(d);
	} else {
		sbx_hook_record(srv->sbx, d->hook, res->status, "");
		if (res->status >= 200 && res->status < 300)
			sbx_delivery_close(d);
		else
			sbx_delivery_failed(d);
	}
}

static void sbx_delivery_send(sbx_delivery_t *d)
{
	sbx_server_t *srv = d->srv;
	sbx_hook_t *h = d->hook;
	http_header_t hdr[SBX_HOOK_MAX_HDR];
	http_request_t rq;

	for (size_t i = 0; i < h->n_hdr; i++) {
		hdr[i].name = h->hdr_name[i];
		hdr[i].value = h->hdr_value[i];
	}
	memset(&rq, 0, sizeof(rq));
	rq.method = h->method;
	rq.url = h->url;
	rq.headers = hdr;
	rq.n_headers = h->n_hdr;
	rq.body = h->body;
	rq.body_len = h->body_len;
	rq.timeout_ms = sbx_hook_timeout_ms(srv->sbx);
	rq.pool = h->service;
	rq.ca_file = srv->webhook_ca;
	h->attempt++;
	int rc = http_client_send(srv->client, &rq, sbx_delivery_done, d);
	if (rc != 0) {
		sbx_hook_record(srv->sbx, h, 0, "could not start the request");
		sbx_delivery_failed(d);
	} else {
		d->in_flight = true;
	}
}

/* Starts delivering every webhook the emulation queued. */
static void sbx_srv_pump(sbx_server_t *srv)
{
	sbx_hook_t *h;
	while (!srv->stopping && (h = sbx_outbox_pop(srv->sbx)) != NULL) {
		sbx_delivery_t *d = calloc(1, sizeof(*d));
		if (d == NULL) {
			sbx_hook_record(srv->sbx, h, 0, "out of memory");
			sbx_hook_free(h);
			continue;
		}
		d->srv = srv;
		d->hook = h;
		d->epoch = sbx_epoch(srv->sbx);
		uv_timer_init(srv->loop, &d->timer);
		d->timer.data = d;
		srv->open++;
		list_insert_tail(&srv->deliveries, &d->node);
		if (h->delay_ms > 0)
			uv_timer_start(&d->timer, sbx_delivery_on_timer, h->delay_ms, 0);
		else
			sbx_delivery_send(d);
	}
}

static void sbx_srv_on_tick(uv_timer_t *t)
{
	sbx_server_t *srv = t->data;
	sbx_tick(srv->sbx, util_mono_ms());
	sbx_srv_pump(srv);
}

/* ------------------------------------------------------------------ requests */

static void sbx_pending_on_closed(uv_handle_t *h)
{
	sbx_pending_t *p = h->data;
	sbx_server_t *srv = p->srv;
	sbx_resp_free(&p->resp);
	free(p);
	srv->open--;
	sbx_srv_maybe_free(srv);
}

/* Carries out the response now: answer or reset (never for a held request). */
static void sbx_finish(https_request_t *req, sbx_resp_t *rs)
{
	if (rs->action == SBX_ACT_RESET)
		https_reset(req);
	else
		https_respond(req, rs->status, rs->content_type, rs->body, rs->body_len, NULL);
}

static void sbx_pending_release(sbx_pending_t *p)
{
	list_remove(&p->node);
	p->srv->n_pending--;
	uv_close((uv_handle_t *)&p->timer, sbx_pending_on_closed);
}

static void sbx_pending_on_timer(uv_timer_t *t)
{
	sbx_pending_t *p = t->data;
	if (p->resp.action == SBX_ACT_HANG) {
		/* The latency part of a timeout fault is over: from now on it just hangs. */
		p->timer_on = false;
		goto out;
	}
	sbx_finish(p->req, &p->resp);
	p->req = NULL;
	sbx_pending_release(p);
out:
	return;
}

static void sbx_srv_on_request(https_request_t *req, void *udata)
{
	sbx_server_t *srv = udata;
	sbx_header_t hdr[SBX_MAX_REQ_HEADERS];
	size_t nh = https_request_header_count(req);
	sbx_req_t rq;
	sbx_resp_t rs;
	size_t blen = 0;

	if (nh > SBX_MAX_REQ_HEADERS)
		nh = SBX_MAX_REQ_HEADERS;
	for (size_t i = 0; i < nh; i++)
		https_request_header_at(req, i, &hdr[i].name, &hdr[i].value);
	rq.method = https_request_method(req);
	rq.path = https_request_path(req);
	rq.query = https_request_query(req);
	rq.headers = hdr;
	rq.n_headers = nh;
	rq.body = https_request_body(req, &blen);
	rq.body_len = blen;
	sbx_handle(srv->sbx, &rq, &rs);
	sbx_srv_pump(srv);

	if (rs.action != SBX_ACT_HANG && rs.delay_ms == 0) {
		sbx_finish(req, &rs);
		sbx_resp_free(&rs);
		goto out;
	}
	if (srv->n_pending >= SBX_MAX_PENDING) {
		/* Bounded: the oldest request still waiting is cut off to make room. */
		sbx_pending_t *old = container_of(srv->pending.next, sbx_pending_t, node);
		uv_timer_stop(&old->timer);
		https_reset(old->req);
		old->req = NULL;
		sbx_pending_release(old);
	}
	sbx_pending_t *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		https_respond(req, 503, "text/plain", "out of memory\n", 14, NULL);
		sbx_resp_free(&rs);
		goto out;
	}
	p->srv = srv;
	p->req = req;
	p->resp = rs;
	uv_timer_init(srv->loop, &p->timer);
	p->timer.data = p;
	srv->open++;
	srv->n_pending++;
	list_insert_tail(&srv->pending, &p->node);
	if (rs.delay_ms > 0) {
		p->timer_on = true;
		uv_timer_start(&p->timer, sbx_pending_on_timer, rs.delay_ms, 0);
	}
out:
	return;
}

/* ------------------------------------------------------------------ lifecycle */

int sbx_server_start(uv_loop_t *loop, const char *host, int port, const char *webhook_base,
		     sbx_server_t **out)
{
	int rc = 0;
	sbx_server_t *srv = calloc(1, sizeof(*srv));
	https_options_t opt;
	http_client_opts_t copt;
	char self[128];
	static const char *const pools[] = {"cielo", "getnet", "pagolivre", "zapme", "pix"};

	if (srv == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	srv->loop = loop;
	list_init(&srv->pending);
	list_init(&srv->deliveries);
	memset(&copt, 0, sizeof(copt));
	copt.user_agent = "ospay-sandbox/" OSPAY_VERSION;
	copt.proxy = "";
	rc = http_client_init(&srv->client, loop, &copt);
	if (rc != 0)
		goto fail_free;
	/* One webhook at a time per service keeps them in the order they were made,
	 * so only the reorder fault reorders them. */
	for (size_t i = 0; i < OSPAY_ARRAY_LEN(pools) && rc == 0; i++)
		rc = http_client_pool_limit(srv->client, pools[i], 1);
	if (rc != 0)
		goto fail_client;
	https_options_default(&opt);
	opt.host = host;
	opt.port = port;
	opt.plain = true;
	/* A local emulator: all its clients are one loopback address, so no share per
	 * address (ospayd's gateway pools alone may open 4 x 256 connections). */
	opt.max_connections_per_addr = opt.max_connections;
	rc = https_server_start(loop, &opt, sbx_srv_on_request, srv, &srv->http);
	if (rc != 0)
		goto fail_client;
	srv->port = https_server_port(srv->http);
	snprintf(self, sizeof(self), strchr(host, ':') != NULL ? "http://[%s]:%d" : "http://%s:%d",
		 host, srv->port);
	srv->sbx = sbx_new(webhook_base, self);
	if (srv->sbx == NULL) {
		rc = -ENOMEM;
		srv->stopping = true;
		srv->open = 3;
		https_server_close(srv->http, 0, sbx_srv_on_sub_closed, srv);
		http_client_close(srv->client, sbx_srv_on_sub_closed, srv);
		/* tick was never initialised: account for it directly. */
		srv->open--;
		goto out;
	}
	uv_timer_init(loop, &srv->tick);
	srv->tick.data = srv;
	uv_timer_start(&srv->tick, sbx_srv_on_tick, SBX_TICK_MS, SBX_TICK_MS);
	srv->open = 3; /* http server, http client, tick timer */
	*out = srv;
	goto out;
fail_client:
	/* The client frees itself in its close callback; srv must outlive it. */
	srv->stopping = true;
	srv->open = 1;
	http_client_close(srv->client, sbx_srv_on_sub_closed, srv);
	goto out;
fail_free:
	free(srv);
out:
	return rc;
}

int sbx_server_port(const sbx_server_t *srv)
{
	return srv->port;
}

void sbx_server_stop(sbx_server_t *srv)
{
	list_node_t *n, *tmp;
	srv->stopping = true;
	uv_timer_stop(&srv->tick);
	uv_close((uv_handle_t *)&srv->tick, sbx_srv_on_handle_closed);
	list_for_each_safe(n, tmp, &srv->pending) {
		sbx_pending_t *p = container_of(n, sbx_pending_t, node);
		uv_timer_stop(&p->timer);
		/* The server is closing: answering only releases the request. */
		https_respond(p->req, 503, "text/plain", "shutting down\n", 14, NULL);
		p->req = NULL;
		sbx_pending_release(p);
	}
	https_server_close(srv->http, 0, sbx_srv_on_sub_closed, srv);
	if (srv->mtls != NULL)
		https_server_close(srv->mtls, 0, sbx_srv_on_sub_closed, srv);
	list_for_each_safe(n, tmp, &srv->deliveries) {
		sbx_delivery_t *d = container_of(n, sbx_delivery_t, node);
		/* In-flight deliveries are closed from their -ECANCELED callback. */
		if (!d->in_flight)
			sbx_delivery_close(d);
	}
	http_client_close(srv->client, sbx_srv_on_sub_closed, srv);
}

int sbx_server_add_mtls(sbx_server_t *srv, const char *host, int port, const char *crt,
			const char *key, const char *client_ca)
{
	/* Every limit left zero is https_server_start's default. */
	const https_options_t opt = {.host = host,
				     .port = port,
				     .cert_path = crt,
				     .key_path = key,
				     .client_ca_path = client_ca};
	int rc;

	if (srv->mtls != NULL)
		return -EALREADY;
	rc = https_server_start(srv->loop, &opt, sbx_srv_on_request, srv, &srv->mtls);
	if (rc == 0) {
		srv->open++;
		srv->mtls_port = https_server_port(srv->mtls);
	}
	return rc;
}

int sbx_server_mtls_port(const sbx_server_t *srv)
{
	return srv->mtls_port;
}

int sbx_server_set_webhook_ca(sbx_server_t *srv, const char *path)
{
	char *copy = strdup(path);
	if (copy == NULL)
		return -ENOMEM;
	free(srv->webhook_ca);
	srv->webhook_ca = copy;
	return 0;
}
