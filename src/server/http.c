/*
 * The HTTPS listener's routes. Webhook routes come with the gateway layer; for
 * now: /healthz (liveness and store status) and /metrics (Prometheus text).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/crypto.h"
#include "common/log.h"
#include "common/util.h"
#include "net/https_server.h"
#include "server/connect.h"
#include "server/http.h"
#include "server/jobs/billing_run.h"
#include "server/jobs/webhooks.h"
#include "server/rpc/srv.h"

#define METRICS_CAP (64 * 1024)

static void respond_text(https_request_t *req, int status, const char *ctype, const char *body)
{
	https_respond(req, status, ctype, body, strlen(body), NULL);
}

static void route_healthz(srv_t *s, https_request_t *req)
{
	store_txn_t *txn;
	char body[200];
	int rc = store_read_begin(s->store, &txn);
	if (rc == 0)
		store_read_end(txn);
	if (rc != 0)
		respond_text(req, 503, "application/json",
			     "{\"status\":\"unhealthy\",\"store\":\"unavailable\"}\n");
	else if (s->store_err != 0) {
		/* Reads work, but an acknowledged write could not be made durable now. */
		snprintf(body, sizeof(body),
			 "{\"status\":\"degraded\",\"store\":\"writes failing\","
			 "\"reason\":\"%s\"}\n",
			 strerror(-s->store_err));
		respond_text(req, 503, "application/json", body);
	} else if (s->draining)
		respond_text(req, 503, "application/json",
			     "{\"status\":\"draining\",\"store\":\"ok\"}\n");
	else
		respond_text(req, 200, "application/json",
			     "{\"status\":\"ok\",\"store\":\"ok\"}\n");
}

/* Appends a printf-formatted piece; -ENOSPC when out is full. */
static int put(char *out, size_t cap, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int put(char *out, size_t cap, size_t *off, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out + *off, cap - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *off)
		return -ENOSPC;
	*off += (size_t)n;
	return 0;
}

int srv_metrics_format(srv_t *s, char *out, size_t cap, size_t *off)
{
	rpc_stats_t r;
	store_stats_t st;
	rpc_server_get_stats(s->rpc, &r);
	store_get_stats(s->store, &st);
	int rc = put(
		out, cap, off,
		"# TYPE ospay_rpc_connections_open gauge\nospay_rpc_connections_open %llu\n"
		"# TYPE ospay_rpc_connections_accepted_total counter\n"
		"ospay_rpc_connections_accepted_total %llu\n"
		"# TYPE ospay_rpc_connections_rejected_total counter\n"
		"ospay_rpc_connections_rejected_total %llu\n"
		"# TYPE ospay_rpc_frames_in_total counter\nospay_rpc_frames_in_total %llu\n"
		"# TYPE ospay_rpc_frames_out_total counter\nospay_rpc_frames_out_total %llu\n"
		"# TYPE ospay_rpc_calls_pending gauge\nospay_rpc_calls_pending %llu\n"
		"# TYPE ospay_rpc_output_buffered_bytes gauge\n"
		"ospay_rpc_output_buffered_bytes %llu\n"
		"# TYPE ospay_rpc_reads_paused_total counter\nospay_rpc_reads_paused_total %llu\n"
		"# TYPE ospay_rpc_deadlines_expired_total counter\n"
		"ospay_rpc_deadlines_expired_total %llu\n",
		(unsigned long long)r.conns_open, (unsigned long long)r.conns_accepted,
		(unsigned long long)r.conns_rejected, (unsigned long long)r.frames_in,
		(unsigned long long)r.frames_out, (unsigned long long)r.calls_pending,
		(unsigned long long)r.out_buffered, (unsigned long long)r.reads_paused,
		(unsigned long long)r.deadlines_expired);
	/* The listener's defenses (docs/protocol.md): floods, silent clients, non-readers. */
	if (rc == 0)
		rc = put(out, cap, off,
			 "# TYPE ospay_rpc_connections_rejected_addr_total counter\n"
			 "ospay_rpc_connections_rejected_addr_total %llu\n"
			 "# TYPE ospay_rpc_hello_timeouts_total counter\n"
			 "ospay_rpc_hello_timeouts_total %llu\n"
			 "# TYPE ospay_rpc_turns_deferred_total counter\n"
			 "ospay_rpc_turns_deferred_total %llu\n"
			 "# TYPE ospay_rpc_stalled_closes_total counter\n"
			 "ospay_rpc_stalled_closes_total %llu\n"
			 "# TYPE ospay_rpc_tls_handshake_failures_total counter\n"
			 "ospay_rpc_tls_handshake_failures_total %llu\n",
			 (unsigned long long)r.conns_rejected_addr,
			 (unsigned long long)r.hello_timeouts, (unsigned long long)r.turns_deferred,
			 (unsigned long long)r.stalled_closes,
			 (unsigned long long)r.tls_handshake_failures);
	if (rc == 0)
		rc = put(out, cap, off, "# TYPE ospay_rpc_calls_total counter\n");
	for (int code = 0; rc == 0 && code < SRV_STATUS_CODES; code++)
		if (s->calls_by_code[code] > 0)
			rc = put(out, cap, off, "ospay_rpc_calls_total{code=\"%s\"} %llu\n",
				 status_code_name(code),
				 (unsigned long long)s->calls_by_code[code]);
	if (rc == 0)
		rc = https_hist_format(&s->rpc_latency, "ospay_rpc_call_duration_seconds", NULL,
				       out, cap, off);
	if (rc == 0)
		rc = put(
			out, cap, off,
			"# TYPE ospay_store_commits_total counter\nospay_store_commits_total %llu\n"
			"# TYPE ospay_store_writes_committed_total counter\n"
			"ospay_store_writes_committed_total %llu\n"
			"# TYPE ospay_store_records_read_total counter\n"
			"ospay_store_records_read_total %llu\n"
			"# TYPE ospay_store_map_grows_total counter\n"
			"ospay_store_map_grows_total %llu\n"
			"# TYPE ospay_store_map_size_bytes gauge\nospay_store_map_size_bytes %zu\n",
			(unsigned long long)st.commits, (unsigned long long)st.writes_committed,
			(unsigned long long)st.records_read, (unsigned long long)st.map_grows,
			st.map_size);
	if (rc == 0)
		rc = https_hist_format(&s->commit_latency, "ospay_store_commit_duration_seconds",
				       NULL, out, cap, off);
	if (rc == 0)
		rc = put(out, cap, off,
			 "# TYPE ospay_webhooks_total counter\n"
			 "ospay_webhooks_total{result=\"accepted\"} %llu\n"
			 "ospay_webhooks_total{result=\"duplicate\"} %llu\n"
			 "ospay_webhooks_total{result=\"unauthorized\"} %llu\n"
			 "ospay_webhooks_total{result=\"rejected\"} %llu\n"
			 "ospay_webhooks_total{result=\"failed\"} %llu\n"
			 "# TYPE ospay_webhook_requeries_total counter\n"
			 "ospay_webhook_requeries_total %llu\n"
			 "# TYPE ospay_webhook_requery_coalesced_total counter\n"
			 "ospay_webhook_requery_coalesced_total %llu\n",
			 (unsigned long long)s->wh_stats.accepted,
			 (unsigned long long)s->wh_stats.duplicates,
			 (unsigned long long)s->wh_stats.unauthorized,
			 (unsigned long long)s->wh_stats.rejected,
			 (unsigned long long)s->wh_stats.failed,
			 (unsigned long long)s->wh_stats.requeried,
			 (unsigned long long)s->wh_stats.coalesced);
	if (rc == 0 && s->http != NULL) {
		http_client_stats_t hs;
		http_client_get_stats(s->http, &hs);
		rc = put(out, cap, off,
			 "# TYPE ospay_gateway_calls_total counter\n"
			 "ospay_gateway_calls_total{result=\"completed\"} %llu\n"
			 "ospay_gateway_calls_total{result=\"failed\"} %llu\n"
			 "# TYPE ospay_gateway_calls_in_flight gauge\n"
			 "ospay_gateway_calls_in_flight %llu\n",
			 (unsigned long long)hs.completed, (unsigned long long)hs.failed,
			 (unsigned long long)hs.in_flight);
	}
	if (rc == 0) {
		billing_run_metrics_t bm;
		billing_run_metrics(s, &bm);
		rc = put(out, cap, off,
			 "# TYPE ospay_billing_charges_total counter\n"
			 "ospay_billing_charges_total %llu\n"
			 "# TYPE ospay_billing_in_flight gauge\nospay_billing_in_flight %llu\n"
			 "# TYPE ospay_billing_in_flight_limit gauge\n"
			 "ospay_billing_in_flight_limit %llu\n"
			 "# TYPE ospay_billing_in_flight_max gauge\n"
			 "ospay_billing_in_flight_max %llu\n"
			 "# TYPE ospay_billing_calls_in_flight_max gauge\n"
			 "ospay_billing_calls_in_flight_max %llu\n",
			 (unsigned long long)bm.charges, (unsigned long long)bm.in_flight,
			 (unsigned long long)bm.in_flight_limit,
			 (unsigned long long)bm.in_flight_max,
			 (unsigned long long)bm.calls_in_flight_max);
		if (rc == 0)
			rc = put(
				out, cap, off,
				"# TYPE ospay_billing_voids_total counter\n"
				"ospay_billing_voids_total %llu\n"
				"# TYPE ospay_billing_void_failures_total counter\n"
				"ospay_billing_void_failures_total %llu\n"
				"# TYPE ospay_billing_retries_refused_total counter\n"
				"ospay_billing_retries_refused_total %llu\n"
				"# TYPE ospay_billing_charges_unsettled gauge\n"
				"ospay_billing_charges_unsettled{status=\"pending\"} %llu\n"
				"ospay_billing_charges_unsettled{status=\"unknown\"} %llu\n"
				"ospay_billing_charges_unsettled{status=\"operator_review\"} %llu\n"
				"ospay_billing_charges_unsettled{status=\"voiding\"} %llu\n",
				(unsigned long long)bm.voids, (unsigned long long)bm.void_failures,
				(unsigned long long)bm.retries_refused,
				(unsigned long long)bm.pending, (unsigned long long)bm.unknown,
				(unsigned long long)bm.operator_review,
				(unsigned long long)bm.voiding);
		if (rc == 0)
			rc = put(out, cap, off,
				 "# TYPE ospay_pix_charges_total counter\n"
				 "ospay_pix_charges_total{event=\"sent\"} %llu\n"
				 "ospay_pix_charges_total{event=\"settled\"} %llu\n"
				 "ospay_pix_charges_total{event=\"failed\"} %llu\n"
				 "ospay_pix_charges_total{event=\"retried\"} %llu\n"
				 "ospay_pix_charges_total{event=\"canceled\"} %llu\n"
				 "ospay_pix_charges_total{event=\"refused_amount\"} %llu\n"
				 "ospay_pix_charges_total{event=\"unknown_resolved\"} %llu\n"
				 "ospay_pix_charges_total{event=\"not_authorized\"} %llu\n",
				 (unsigned long long)bm.pix_sent,
				 (unsigned long long)bm.pix_settled,
				 (unsigned long long)bm.pix_failed,
				 (unsigned long long)bm.pix_retried,
				 (unsigned long long)bm.pix_canceled,
				 (unsigned long long)bm.pix_refused,
				 (unsigned long long)bm.pix_resolved,
				 (unsigned long long)bm.pix_idle);
	}

	if (rc == 0 && s->https != NULL)
		rc = https_stats_format(https_server_stats(s->https), "ospay_https", out, cap, off);
	return rc;
}

/* Authorization: Bearer <the metrics token>, compared in constant time. */
static bool metrics_authorized(const srv_t *s, const https_request_t *req)
{
	const char *h = https_request_header(req, "authorization");
	size_t n = strlen(s->metrics_token);
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	return strlen(h) == n && n > 0 && crypto_equal(h, s->metrics_token, n);
}

static void route_metrics(srv_t *s, https_request_t *req)
{
	static const char *const challenge[] = {"WWW-Authenticate: Bearer realm=\"metrics\"", NULL};
	char *out = NULL;
	size_t off = 0;
	if (!metrics_authorized(s, req)) {
		https_respond(req, 401, "text/plain", "unauthorized\n", 13, challenge);
		return;
	}
	out = malloc(METRICS_CAP);
	if (out == NULL) {
		respond_text(req, 503, "text/plain", "out of memory\n");
		return;
	}
	out[0] = '\0';
	if (srv_metrics_format(s, out, METRICS_CAP, &off) != 0)
		log_warn("metrics page truncated", "cap=%d", METRICS_CAP);
	https_respond(req, 200, "text/plain; version=0.0.4", out, off, NULL);
	free(out);
}

void srv_http_handle(https_request_t *req, void *udata)
{
	srv_t *s = udata;
	const char *method = https_request_method(req);
	const char *path = https_request_path(req);
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	if (strcmp(path, "/healthz") == 0 && get) {
		route_healthz(s, req);
	} else if (strcmp(path, "/metrics") == 0 && get) {
		route_metrics(s, req);
	} else if (strncmp(path, "/webhooks/", 10) == 0) {
		/* /webhooks/<service>/<organization id>, nothing after (Pix: the PSP's
		 * suffix /rec, /cobr or /pix may follow; webhooks.c checks it). */
		char service[16], org[24];
		const char *p = path + 10, *slash = strchr(p, '/');
		size_t sl = slash != NULL ? (size_t)(slash - p) : 0;
		size_t ol = slash != NULL ? strlen(slash + 1) : 0;
		bool pix = sl == 3 && strncmp(p, "pix", 3) == 0;
		if (slash == NULL || sl == 0 || sl >= sizeof(service) || ol == 0 ||
		    ol >= sizeof(org) || (strchr(slash + 1, '/') != NULL && !pix)) {
			respond_text(req, 404, "text/plain", "no such webhook route\n");
			return;
		}
		memcpy(service, p, sl);
		service[sl] = '\0';
		memcpy(org, slash + 1, ol + 1);
		webhooks_handle(s, req, service, org);
	} else if (connect_route(path)) {
		connect_handle(s, req);
	} else if (strcmp(path, "/healthz") == 0 || strcmp(path, "/metrics") == 0) {
		static const char *const allow[] = {"Allow: GET, HEAD", NULL};
		https_respond(req, 405, "text/plain", "method not allowed\n", 19, allow);
	} else {
		respond_text(req, 404, "text/plain", "not found\n");
	}
}
