/*
 * `ospayd serve`: one loop, one thread. Mutations of a loop turn are committed
 * together in the check phase; replies are written in the next prepare phase.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "gateways/gateway.h"
#include "server/db/db.h"
#include "server/http.h"
#include "server/jobs/job.h"
#include "server/keys.h"
#include "server/providers/adapters.h"
#include "server/server.h"
#include "server/services/services.h"

#define IDEM_SWEEP_BATCH 1000
#define DRAIN_POLL_MS 10

/* ------------------------------------------------------------------ group commit */

static void on_idle_noop(uv_idle_t *h)
{
	(void)h;
}

static void on_check(uv_check_t *h)
{
	srv_t *s = container_of(h, srv_t, committer);
	if (store_pending(s->store)) {
		uint64_t t0 = uv_hrtime();
		int rc = store_flush(s->store);
		if (rc != 0 && s->store_err == 0)
			log_error("writes are failing: the store cannot commit", "err=%d", rc);
		else if (rc == 0 && s->store_err != 0)
			log_info("writes are durable again", "");
		s->store_err = rc;
		https_hist_observe(&s->commit_latency, (uv_hrtime() - t0) / 1000);
	}
	/* A done callback may have started a new batch: don't let poll block on it. */
	if (store_pending(s->store))
		uv_idle_start(&s->kicker, on_idle_noop);
	else
		uv_idle_stop(&s->kicker);
}

/* ------------------------------------------------------------------ idempotency expiry */

typedef struct idem_sweep {
	srv_t *srv;
	int64_t cutoff;
	int deleted;
} idem_sweep_t;

static int idem_sweep_fn(store_txn_t *txn, void *arg)
{
	idem_sweep_t *sw = arg;
	store_cursor_t *cur = NULL;
	typedef struct {
		size_t len;
		uint8_t key[8 + 8 + DB_IDEM_KEY_MAX];
	} expired_t;
	expired_t *exp = malloc(IDEM_SWEEP_BATCH * sizeof(*exp));
	size_t n = 0;
	sw->deleted = 0;
	if (exp == NULL)
		return -ENOMEM;
	int rc = store_cursor_open(txn, DB_IDEM_BY_TIME, &cur);
	if (rc != 0)
		goto out;
	/* Collect first, delete after: keys are copied out of the cursor's pages. */
	store_val_t k, v;
	for (rc = store_cursor_first(cur, &k, &v); rc == 0 && n < IDEM_SWEEP_BATCH;
	     rc = store_cursor_next(cur, &k, &v)) {
		if (k.len < 16 || k.len > sizeof(exp[0].key) || be64_get_i64(k.data) >= sw->cutoff)
			break;
		exp[n].len = k.len;
		memcpy(exp[n].key, k.data, k.len);
		n++;
	}
	store_cursor_close(cur);
	if (rc != 0 && rc != -ENOENT)
		goto out;
	rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const uint8_t *tk = exp[i].key;
		size_t klen = exp[i].len - 8;
		/* Delete the record only if it is this entry's (an expired key may be reused). */
		Ospay__V1__IdempotencyRecord *rec = NULL;
		int g = db_get_msg(txn, DB_IDEM, tk + 8, klen,
				   &ospay__v1__idempotency_record__descriptor,
				   (ProtobufCMessage **)&rec);
		if (g == 0 && rec->created_ms == be64_get_i64(tk))
			g = store_del(txn, DB_IDEM, tk + 8, klen, NULL, 0);
		ospay__v1__idempotency_record__free_unpacked(rec, NULL);
		rc = g == -ENOENT ? 0 : g;
		if (rc == 0)
			rc = store_del(txn, DB_IDEM_BY_TIME, tk, exp[i].len, NULL, 0);
	}
	if (rc == 0)
		sw->deleted = (int)n;
out:
	free(exp);
	return rc;
}

static void on_idem_timer(uv_timer_t *t);

static void idem_sweep_done(void *arg, int rc)
{
	idem_sweep_t *sw = arg;
	srv_t *s = sw->srv;
	if (rc == 0 && sw->deleted > 0)
		log_info("expired idempotency keys deleted", "count=%d", sw->deleted);
	/* A full batch means more are waiting: come back soon instead of in 10 min. */
	if (rc == 0 && sw->deleted == IDEM_SWEEP_BATCH && !s->draining)
		uv_timer_start(&s->idem_timer, on_idem_timer, 1000, s->opts.idem_sweep_ms);
	free(sw);
}

static void on_idem_timer(uv_timer_t *t)
{
	srv_t *s = container_of(t, srv_t, idem_timer);
	idem_sweep_t *sw = calloc(1, sizeof(*sw));
	if (sw == NULL)
		return;
	sw->srv = s;
	sw->cutoff = srv_now_ms(s) - (int64_t)s->opts.idem_ttl_ms;
	int rc = store_write(s->store, idem_sweep_fn, idem_sweep_done, sw);
	if (rc != 0) {
		log_warn("idempotency sweep failed", "err=%d", rc);
		free(sw);
	}
}

/* ------------------------------------------------------------------ shutdown */

static void on_handle_closed(uv_handle_t *h)
{
	(void)h;
}

static void on_rpc_closed(void *arg)
{
	srv_t *s = arg;
	s->rpc = NULL;
}

static void on_https_closed(void *arg)
{
	srv_t *s = arg;
	s->https = NULL;
}

static void on_http_closed(void *arg)
{
	srv_t *s = arg;
	s->http = NULL;
}

static void on_job_stopped(srv_t *s)
{
	s->jobs_running--;
}

static void srv_finish(srv_t *s)
{
	uv_timer_stop(&s->drain_timer);
	/* Jobs first (each frees its state once its calls in flight ended), then
	 * the adapters: their calls in flight are canceled by the client's close. */
	for (size_t i = srv_n_jobs; i-- > 0;)
		srv_jobs[i]->stop(s, on_job_stopped);
	prov_adapters_close(s);
	if (s->http != NULL)
		http_client_close(s->http, on_http_closed, s);
	if (s->rpc != NULL)
		rpc_server_close(s->rpc, on_rpc_closed, s);
	if (s->https != NULL && !s->https_closing) {
		s->https_closing = true;
		https_server_close(s->https, 0, on_https_closed, s);
	}
	/* Commit whatever the last turn wrote before the environment closes. */
	if (store_pending(s->store))
		store_flush(s->store);
	uv_close((uv_handle_t *)&s->committer, on_handle_closed);
	uv_close((uv_handle_t *)&s->kicker, on_handle_closed);
	uv_close((uv_handle_t *)&s->sig_term, on_handle_closed);
	uv_close((uv_handle_t *)&s->sig_int, on_handle_closed);
	uv_close((uv_handle_t *)&s->drain_timer, on_handle_closed);
	uv_close((uv_handle_t *)&s->idem_timer, on_handle_closed);
}

static void on_drain_tick(uv_timer_t *t)
{
	srv_t *s = container_of(t, srv_t, drain_timer);
	uint64_t waited = (uint64_t)uv_now(s->loop) - (uint64_t)(uintptr_t)t->data;
	bool done = rpc_server_drained(s->rpc) && !store_pending(s->store) && !srv_jobs_busy(s) &&
		    s->connect_calls == 0;
	if (done || waited >= s->opts.drain_timeout_ms) {
		if (!done)
			log_warn("drain timed out; closing with calls in flight", "");
		srv_finish(s);
	}
}

static void on_signal(uv_signal_t *h, int signum)
{
	srv_t *s = h->data;
	if (s->draining)
		return;
	log_info("shutting down", "signal=%d", signum);
	s->draining = true;
	rpc_server_stop_accepting(s->rpc);
	if (s->https != NULL && !s->https_closing) {
		/* Webhook requests in flight get their answers (or are cut after 5 s). */
		s->https_closing = true;
		https_server_close(s->https, 5000, on_https_closed, s);
	}
	uv_timer_stop(&s->idem_timer);
	s->drain_timer.data = (void *)(uintptr_t)uv_now(s->loop);
	uv_timer_start(&s->drain_timer, on_drain_tick, 0, DRAIN_POLL_MS);
}

/* ------------------------------------------------------------------ serve */

static int listen_https(srv_t *s)
{
	char host[64], crt[512], key[512];
	int port;
	if (util_parse_hostport(s->opts.https_listen, host, sizeof(host), &port) != 0) {
		log_error("bad --https address", "value=\"%s\"", s->opts.https_listen);
		return -EINVAL;
	}
	snprintf(crt, sizeof(crt), "%s/%s", s->opts.data_dir, SRV_TLS_CERT_FILE);
	snprintf(key, sizeof(key), "%s/%s", s->opts.data_dir, SRV_TLS_KEY_FILE);
	/* The TLS key is a secret like the master key: refused when others can read it. */
	int rc = srv_check_private(key, "TLS key");
	if (rc != 0) {
		log_error("cannot use the TLS key", "path=\"%s\" err=%d", key, rc);
		return rc;
	}
	/* The limits given on the command line; zero fields take the defaults. */
	https_options_t o = s->opts.https;
	o.host = host;
	o.port = port;
	o.cert_path = crt;
	o.key_path = key;
	rc = https_server_start(s->loop, &o, srv_http_handle, s, &s->https);
	if (rc != 0) {
		log_error("https listen failed", "addr=%s err=%d", s->opts.https_listen, rc);
		return rc;
	}
	int bound = https_server_port(s->https);
	if (strchr(host, ':') != NULL)
		snprintf(s->https_addr, sizeof(s->https_addr), "[%s]:%d", host, bound);
	else
		snprintf(s->https_addr, sizeof(s->https_addr), "%s:%d", host, bound);
	return 0;
}

static int listen_rpc(srv_t *s)
{
	char host[64];
	int port;
	if (util_parse_hostport(s->opts.rpc_listen, host, sizeof(host), &port) != 0) {
		log_error("bad --rpc address", "value=\"%s\"", s->opts.rpc_listen);
		return -EINVAL;
	}
	int rc = rpc_server_init(&s->rpc, s->loop, &s->opts.rpc, srv_dispatch, srv_session_gone, s);
	if (rc == 0 && s->opts.rpc_tls) {
		/* The same certificate as the webhook listener unless one is given. */
		char crt[512], key[512];
		snprintf(crt, sizeof(crt), "%s/%s", s->opts.data_dir, SRV_TLS_CERT_FILE);
		snprintf(key, sizeof(key), "%s/%s", s->opts.data_dir, SRV_TLS_KEY_FILE);
		rc = rpc_server_use_tls(s->rpc, s->opts.rpc_tls_cert ? s->opts.rpc_tls_cert : crt,
					s->opts.rpc_tls_key ? s->opts.rpc_tls_key : key);
		if (rc != 0) {
			log_error("rpc tls certificate or key unusable", "err=%d", rc);
			return rc;
		}
	}
	if (rc == 0)
		rc = rpc_server_listen(s->rpc, host, port, s->rpc_addr, sizeof(s->rpc_addr));
	if (rc != 0)
		log_error("rpc listen failed", "addr=%s err=%s", s->opts.rpc_listen,
			  uv_strerror(rc));
	return rc;
}

static void log_open_handle(uv_handle_t *h, void *arg)
{
	(void)arg;
	log_error("handle still open at exit", "type=%s closing=%d active=%d ptr=%p",
		  uv_handle_type_name(uv_handle_get_type(h)), uv_is_closing(h), uv_is_active(h),
		  (void *)h);
}

int srv_serve(const srv_opts_t *opts)
{
	srv_t *s = calloc(1, sizeof(*s));
	uv_loop_t loop;
	int rc;
	if (s == NULL)
		return 1;
	s->opts = *opts;
	s->method_find = services_method_find;
	list_init(&s->async_reqs);
	if (s->opts.idem_ttl_ms == 0)
		s->opts.idem_ttl_ms = 24ull * 3600 * 1000;
	if (s->opts.idem_sweep_ms == 0)
		s->opts.idem_sweep_ms = 10ull * 60 * 1000;
	if (s->opts.drain_timeout_ms == 0)
		s->opts.drain_timeout_ms = 10000;
	s->clock_ms = opts->test_clock_ms;
	s->exit_code = 1;
	s->lock_fd = -1;
	signal(SIGPIPE, SIG_IGN);
	gw_json_secure_init();
	/* Card data and keys pass through this process: no core dump, no ptrace
	 * by another user's process (--keep-dumpable for debugging). */
	if (!opts->keep_dumpable && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		log_warn("cannot mark the process non-dumpable", "errno=%d", errno);
	srv_key_pages_protect(s->master_key, (size_t)((const uint8_t *)(&s->metrics_token + 1) -
						      (const uint8_t *)s->master_key));
	uv_loop_init(&loop);
	s->loop = &loop;

	/* Never two servers, or a server and rotate-key, on one data dir. */
	rc = srv_data_lock(opts->data_dir, &s->lock_fd);
	if (rc != 0) {
		log_error(rc == -EWOULDBLOCK
				  ? "the data dir is in use by another ospayd or rotate-key"
				  : "cannot lock the data dir",
			  "dir=\"%s\" err=%d", opts->data_dir, rc);
		goto out;
	}
	rc = srv_load_master_key(opts->data_dir, s->master_key);
	if (rc != 0) {
		log_error("cannot read the master key (run `ospayd init` first)",
			  "dir=\"%s\" err=%d", opts->data_dir, rc);
		goto out;
	}
	rc = crypto_derive_key(s->master_key, "ospay token v1", s->token_key);
	if (rc == 0)
		rc = crypto_derive_key(s->master_key, "ospay card-fingerprint v1", s->card_fp_key);
	if (rc != 0)
		goto out;
	char store_path[512];
	snprintf(store_path, sizeof(store_path), "%s/%s", opts->data_dir, SRV_STORE_DIR);
	store_opts_t so = {.path = store_path,
			   .map_size = opts->map_size,
			   .tables = db_tables,
			   .n_tables = DB_N_TABLES};
	rc = store_open(&s->store, &so);
	if (rc != 0) {
		log_error("cannot open the store", "path=\"%s\" err=%d", store_path, rc);
		goto out;
	}
	/* Every key id the store names (rotate-key adds them); the last seals. */
	rc = srv_vault_keys_load(s->store, s->master_key, &s->vault_keys, &s->n_vault_keys);
	if (rc != 0) {
		log_error("cannot load the vault keys", "err=%d", rc);
		goto out_store;
	}
	s->vault_key = s->vault_keys[s->n_vault_keys - 1];
	srv_key_pages_protect(s->vault_keys, s->n_vault_keys * sizeof(*s->vault_keys));
	/* Every key the server uses is derived: the master key is not kept. */
	crypto_wipe(s->master_key, sizeof(s->master_key));
	rc = srv_metrics_token_load(opts->data_dir, opts->metrics_token_file, s->metrics_token);
	if (rc != 0) {
		log_error("cannot read the /metrics token", "err=%d", rc);
		goto out_store;
	}
	http_client_opts_t ho = {.pool_max_in_flight = s->opts.gateway_max_inflight,
				 .refuse_internal_addrs = !s->opts.allow_private_gateways};
	rc = http_client_init(&s->http, s->loop, &ho);
	if (rc != 0) {
		log_error("http client init failed", "err=%d", rc);
		goto out_store;
	}
	rc = listen_rpc(s);
	if (rc == 0)
		rc = listen_https(s);
	if (rc != 0)
		goto out_store;
	uv_check_init(s->loop, &s->committer);
	uv_check_start(&s->committer, on_check);
	uv_idle_init(s->loop, &s->kicker);
	uv_signal_init(s->loop, &s->sig_term);
	uv_signal_init(s->loop, &s->sig_int);
	s->sig_term.data = s->sig_int.data = s;
	uv_signal_start(&s->sig_term, on_signal, SIGTERM);
	uv_signal_start(&s->sig_int, on_signal, SIGINT);
	uv_timer_init(s->loop, &s->drain_timer);
	uv_timer_init(s->loop, &s->idem_timer);
	uv_timer_start(&s->idem_timer, on_idem_timer, 1000, s->opts.idem_sweep_ms);
	rc = prov_adapters_init(s);
	/* Webhook events accepted before a restart are re-queried at once, the
	 * billing run resolves what a crash left unknown, the outbox resolves
	 * messages left SENDING. */
	for (size_t i = 0; rc == 0 && i < srv_n_jobs; i++) {
		rc = srv_jobs[i]->start(s);
		if (rc == 0)
			s->jobs_running++;
	}
	if (rc != 0) {
		log_error("cannot start the background jobs", "err=%d", rc);
		srv_finish(s);
		uv_run(s->loop, UV_RUN_DEFAULT);
		store_close(s->store);
		goto out;
	}

	printf("listening rpc=%s https=%s\n", s->rpc_addr, s->https_addr);
	fflush(stdout);
	log_info("ospayd serving", "rpc=%s rpc_tls=%d https=%s test_clock=%d version=%s",
		 s->rpc_addr, opts->rpc_tls, s->https_addr, opts->test_clock, OSPAY_VERSION);

	uv_run(s->loop, UV_RUN_DEFAULT);
	s->exit_code = 0;
	if (s->jobs_running != 0) {
		log_error("a job did not release its state", "jobs=%u", s->jobs_running);
		s->exit_code = 1;
	}
out_store:
	/* Listening failed: nothing ran, close what was opened. */
	if (s->rpc != NULL)
		rpc_server_close(s->rpc, on_rpc_closed, s);
	if (s->https != NULL && !s->https_closing) {
		s->https_closing = true;
		https_server_close(s->https, 0, on_https_closed, s);
	}
	if (s->http != NULL)
		http_client_close(s->http, on_http_closed, s);
	uv_run(s->loop, UV_RUN_DEFAULT);
	store_close(s->store);
out:
	rc = uv_loop_close(&loop);
	if (rc != 0) {
		/* A handle nobody closed is a bug: say which, and do not exit 0. */
		log_error("loop closed with handles open", "err=%s", uv_err_name(rc));
		uv_walk(&loop, log_open_handle, NULL);
		s->exit_code = 1;
	}
	int code = s->exit_code;
	if (code == 0)
		log_info("ospayd stopped", "");
	crypto_wipe(s->master_key, sizeof(s->master_key));
	crypto_wipe(s->token_key, sizeof(s->token_key));
	crypto_wipe(s->card_fp_key, sizeof(s->card_fp_key));
	crypto_wipe(s->metrics_token, sizeof(s->metrics_token));
	vault_key_wipe(&s->vault_key);
	srv_vault_keys_free(s->vault_keys, s->n_vault_keys);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s);
	return code;
}
