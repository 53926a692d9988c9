/*
 * Shared fixture of the gateway tests: a loop, the HTTP client, one gateway
 * pointed at a scripted responder (support/gwsrv.h), and recorders for each
 * kind of result. Static inline so each test file takes what it uses.
 */
#ifndef OSPAY_TESTS_GATEWAYS_GWTEST_H
#define OSPAY_TESTS_GATEWAYS_GWTEST_H

#include <criterion/criterion.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <uv.h>

#include "gateways/gateway.h"
#include "gateways/gwrec.h"
#include "gateways/gw_internal.h"
#include "net/http_client.h"
#include "support/gwsrv.h"
#include "support/wait.h"

struct gwfx {
	uv_loop_t loop;
	http_client_t *http;
	gw_t *gw;
	gwsrv_t srv;
	char base[128];
	char query_base[128];
	int http_closed;
	gwsrv_req_t *reqs; /* gwfx_requests' last answer, the fixture's to free */
	size_t n_reqs;
};

static inline void gwfx_on_http_closed(void *arg)
{
	struct gwfx *fx = arg;
	fx->http_closed++;
}

/*
 * Starts the responder with rules, then a gateway with cfg whose base URL is
 * the responder's plus prefix ("/cielo"); when query_prefix is not NULL the
 * query host is the responder's plus that.
 */
static inline void gwfx_open(struct gwfx *fx, gw_config_t *cfg, const char *prefix,
			     const char *query_prefix, const gwsrv_rule_t *rules, size_t n)
{
	http_client_opts_t o = {.proxy = ""};
	status_t st;
	int rc;

	memset(fx, 0, sizeof(*fx));
	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(gwsrv_start(&fx->srv, rules, n), 0, "responder did not start");
	snprintf(fx->base, sizeof(fx->base), "%s%s", fx->srv.base, prefix);
	cfg->base_url = fx->base;
	if (query_prefix != NULL) {
		snprintf(fx->query_base, sizeof(fx->query_base), "%s%s", fx->srv.base,
			 query_prefix);
		cfg->query_base_url = fx->query_base;
	}
	cr_assert_eq(uv_loop_init(&fx->loop), 0);
	cr_assert_eq(http_client_init(&fx->http, &fx->loop, &o), 0);
	rc = gw_open(&fx->gw, fx->http, &fx->loop, cfg, &st);
	cr_assert_eq(rc, 0, "gw_open: %d %s (%s: %s)", rc, st.message,
		     st.n_violations ? st.violations[0].field : "",
		     st.n_violations ? st.violations[0].description : "");
}

/*
 * The timeout of the gateway's next requests (read as each starts): short just
 * before a call the responder leaves hanging, the hang guard again before calls
 * it answers, so that no answer races a short timeout.
 */
static inline void gwfx_timeout(struct gwfx *fx, uint32_t ms)
{
	fx->gw->cfg.timeout_ms = ms;
}

static inline void gwfx_run(struct gwfx *fx)
{
	uv_run(&fx->loop, UV_RUN_DEFAULT);
}

/* Closes the gateway and the client, checks the loop ends clean, frees the requests
 * gwfx_requests gave and stops the responder. */
static inline void gwfx_close(struct gwfx *fx)
{
	gw_close(fx->gw);
	fx->gw = NULL;
	http_client_close(fx->http, gwfx_on_http_closed, fx);
	cr_assert_eq(uv_run(&fx->loop, UV_RUN_DEFAULT), 0);
	cr_assert_eq(fx->http_closed, 1);
	cr_assert_eq(uv_loop_close(&fx->loop), 0, "handles left on the loop");
	gwsrv_reqs_free(fx->reqs, fx->n_reqs);
	gwsrv_stop(&fx->srv);
}

/* The requests the responder saw so far, in *out: valid until the next call or gwfx_close. */
static inline size_t gwfx_requests(struct gwfx *fx, gwsrv_req_t **out)
{
	gwsrv_reqs_free(fx->reqs, fx->n_reqs);
	fx->n_reqs = gwsrv_requests(&fx->srv, &fx->reqs);
	*out = fx->reqs;
	return fx->n_reqs;
}

/* Parses a recorded body as JSON (the test fails if it is not). */
static inline json_t *gwfx_json(const gwsrv_req_t *r)
{
	json_error_t e;
	json_t *j = json_loadb(r->body, r->body_len, 0, &e);
	cr_assert_not_null(j, "request body is not JSON: %s", e.text);
	return j;
}

/* ---- recorders (the records in gwrec.h) */

static inline void rec_on_charge(const gw_charge_result_t *r, void *arg)
{
	struct rec_charge *c = arg;
	c->calls++;
	c->res = *r;
}

static inline void rec_on_token(const gw_token_result_t *r, void *arg)
{
	struct rec_token *c = arg;
	c->calls++;
	c->res = *r;
}

static inline void rec_on_link(const gw_link_result_t *r, void *arg)
{
	struct rec_link *c = arg;
	c->calls++;
	c->res = *r;
}

static inline void rec_on_msg(const gw_message_result_t *r, void *arg)
{
	struct rec_msg *c = arg;
	c->calls++;
	c->res = *r;
}

/* A fake HTTP response for the parsers, body borrowed (NUL-terminated). */
static inline http_response_t gwfx_resp(long status, const char *body)
{
	http_response_t r = {0};
	r.status = status;
	r.body = (const uint8_t *)body;
	r.body_len = strlen(body);
	r.error_msg = "";
	r.error_detail = "";
	r.transfer_us = 1000;
	return r;
}

/* A transport failure after the request left (transfer_us > 0). */
static inline http_response_t gwfx_resp_err(int err, const char *msg)
{
	http_response_t r = {0};
	r.error = err;
	r.error_msg = msg;
	r.error_detail = "";
	r.body = (const uint8_t *)"";
	r.transfer_us = 1000;
	return r;
}

/* A webhook request's body: body is borrowed (NUL-terminated). */
static inline void gwfx_hook_body(gw_webhook_req_t *w, const char *body)
{
	w->body = (const uint8_t *)body;
	w->body_len = strlen(body);
}

/* A gateway for parser tests: no loop activity, never sends. */
struct gwpfx {
	uv_loop_t loop;
	http_client_t *http;
	gw_t *gw;
	int closed;
};

/* The loop and the client alone (p->gw stays NULL): for tests of what gw_open refuses. */
static inline void gwpfx_open_client(struct gwpfx *p)
{
	http_client_opts_t o = {.proxy = ""};

	memset(p, 0, sizeof(*p));
	cr_assert_eq(uv_loop_init(&p->loop), 0);
	cr_assert_eq(http_client_init(&p->http, &p->loop, &o), 0);
}

static inline void gwpfx_open(struct gwpfx *p, gw_config_t *cfg)
{
	status_t st;
	int rc;

	gwpfx_open_client(p);
	if (cfg->base_url == NULL)
		cfg->base_url = "http://127.0.0.1:9";
	rc = gw_open(&p->gw, p->http, &p->loop, cfg, &st);
	cr_assert_eq(rc, 0, "gw_open: %d %s", rc, st.message);
}

static inline void gwpfx_on_closed(void *arg)
{
	struct gwpfx *p = arg;
	p->closed++;
}

/* Closes the gateway (if any) and the client; the loop must end clean. */
static inline void gwpfx_close(struct gwpfx *p)
{
	gw_close(p->gw);
	http_client_close(p->http, gwpfx_on_closed, p);
	cr_assert_eq(uv_run(&p->loop, UV_RUN_DEFAULT), 0);
	cr_assert_eq(p->closed, 1);
	cr_assert_eq(uv_loop_close(&p->loop), 0);
}

/*
 * The fixture of the parser suites, whose tests all take the same gateway and
 * never send: TestSuite(x, .init = <a function calling gwp_open(<the file's
 * configuration>)>, .fini = gwp_close) gives each test its own in gwp.
 */
static struct gwpfx gwp;

static inline void gwp_open(gw_config_t cfg)
{
	gwpfx_open(&gwp, &cfg);
}

static inline void gwp_close(void)
{
	gwpfx_close(&gwp);
}

#endif
