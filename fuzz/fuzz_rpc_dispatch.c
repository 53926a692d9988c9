/*
 * libFuzzer target: bytes a client sends, through the real RPC listener
 * (src/net/rpc.c), the real dispatcher (Hello, sessions, idempotency, the
 * write batch) and every handler, on a store in a temporary directory.
 *
 * Once per process: a store with one organization, one unit and an admin
 * token whose secret the seeds know (FUZZ_TOKEN), and the listener on an
 * ephemeral loopback port. Per input: one connection sends the bytes, half-
 * closes, and the loop runs (group commits included) until the server has
 * closed it and nothing is pending. No gateway is configured and no HTTP
 * client exists, so calls needing one are refused before any outside work.
 * The seeds (fuzz/seeds/fuzz_rpc_dispatch/) start with a Hello with that
 * token, so mutations reach the handlers, not only the frame splitter.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/crypto.h"
#include "common/log.h"
#include "common/util.h"
#include "ospay/v1/records.pb-c.h"
#include "server/db/db.h"
#include "server/rpc/srv.h"
#include "server/rpc/token.h"
#include "server/services/services.h"

#define FUZZ_TOKEN "ospt_fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuz"
/* Loop turns per input before giving up on the server closing the connection. */
#define FUZZ_TURNS 20000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uv_loop_t g_loop;
static srv_t g_srv;
static int g_port;
static char g_dir[] = "/tmp/ospay-fuzz-dispatch-XXXXXX";

/* The temporary store goes with the process (libFuzzer ends with exit()). */
static void fuzz_cleanup(void)
{
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", g_dir);
}

static int seed_fn(store_txn_t *txn, void *arg)
{
	(void)arg;
	Ospay__V1__Organization org = OSPAY__V1__ORGANIZATION__INIT;
	Ospay__V1__Unit unit = OSPAY__V1__UNIT__INIT;
	Ospay__V1__Token tok = OSPAY__V1__TOKEN__INIT;
	Ospay__V1__TokenRecord rec = OSPAY__V1__TOKEN_RECORD__INIT;
	uint8_t hash[32];
	int rc = store_seq_next(txn, "org", &org.id);
	if (rc == 0)
		rc = store_seq_next(txn, "unit", &unit.id);
	if (rc == 0)
		rc = store_seq_next(txn, "token", &tok.id);
	if (rc != 0)
		return rc;
	org.name = "fuzz";
	org.utc_offset_minutes = -180;
	rc = db_put_by_id(txn, DB_ORGS, org.id, &org.base);
	unit.organization_id = org.id;
	unit.name = "fuzz";
	if (rc == 0)
		rc = db_unit_insert(txn, &unit);
	tok.organization_id = org.id;
	tok.name = "fuzz admin";
	tok.role = OSPAY__V1__ROLE__ROLE_ADMIN;
	tok.org_wide = 1;
	srv_token_hash(g_srv.token_key, FUZZ_TOKEN, hash);
	rec.token = &tok;
	rec.secret_hash.data = hash;
	rec.secret_hash.len = sizeof(hash);
	return rc == 0 ? db_token_insert(txn, &rec) : rc;
}

static void fuzz_setup(void)
{
	char bound[80];
	if (mkdtemp(g_dir) == NULL)
		abort();
	atexit(fuzz_cleanup);
	log_set_level(log_level_parse("error"));
	uv_loop_init(&g_loop);
	srv_t *s = &g_srv;
	s->loop = &g_loop;
	s->method_find = services_method_find;
	s->opts.idem_ttl_ms = 24ull * 3600 * 1000;
	s->lock_fd = -1;
	list_init(&s->async_reqs);
	/* Fixed keys: a fuzzer needs no secrets, only the same paths. */
	memset(s->token_key, 0x5a, sizeof(s->token_key));
	memset(s->vault_key.bytes, 0xa5, sizeof(s->vault_key.bytes));
	s->vault_key.id = 1;
	s->vault_keys = &s->vault_key;
	s->n_vault_keys = 1;
	store_opts_t so = {.path = g_dir, .tables = db_tables, .n_tables = DB_N_TABLES};
	if (store_open(&s->store, &so) != 0 || store_write(s->store, seed_fn, NULL, NULL) != 0 ||
	    store_flush(s->store) != 0)
		abort();
	rpc_limits_t lim;
	rpc_limits_default(&lim);
	lim.max_frame = 1u << 20;
	if (rpc_server_init(&s->rpc, &g_loop, &lim, srv_dispatch, srv_session_gone, s) != 0 ||
	    rpc_server_listen(s->rpc, "127.0.0.1", 0, bound, sizeof(bound)) != 0)
		abort();
	const char *colon = strrchr(bound, ':');
	g_port = colon != NULL ? atoi(colon + 1) : 0;
	if (g_port <= 0)
		abort();
}

/* One loop turn as ospayd's: I/O, then the group commit of what it wrote. */
static void turn(void)
{
	uv_run(&g_loop, UV_RUN_NOWAIT);
	if (store_pending(g_srv.store))
		store_flush(g_srv.store);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (g_port == 0)
		fuzz_setup();
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)g_port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (fd < 0)
		abort();
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 && errno != EINPROGRESS)
		abort();
	size_t sent = 0;
	bool closed = false, shut = false;
	uint8_t sink[4096];
	for (int i = 0; i < FUZZ_TURNS && !closed; i++) {
		turn();
		if (sent < size) {
			ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
			else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
				 errno != ENOTCONN)
				sent = size; /* the server closed on us: stop sending */
		}
		if (sent == size && !shut) {
			shutdown(fd, SHUT_WR);
			shut = true;
		}
		/* Replies are read and dropped, so the server never stops on output. */
		ssize_t r = recv(fd, sink, sizeof(sink), 0);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			closed = true;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p = {.fd = fd, .events = POLLIN};
			poll(&p, 1, 0);
		}
	}
	close(fd);
	/* Whatever the batch still holds commits; detached replies are dropped. */
	for (int i = 0; i < 8 || store_pending(g_srv.store); i++)
		turn();
	return 0;
}
