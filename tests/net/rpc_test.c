/*
 * The RPC listener in-process, with a handler that holds calls: deadlines,
 * replies after the client left, idle connections, the connection limit, and
 * a clean close with calls still held.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "client/lib/ospay.h"
#include "common/util.h"
#include "net/rpc.h"
#include "ospay/v1/session.pb-c.h"

typedef struct held {
	rpc_call_t *calls[64];
	int n;
	int seen;
} held_t;

/* Answers Hello at once; holds every other call for the test to answer. */
static void hold_handler(rpc_call_t *call, void *udata)
{
	held_t *h = udata;
	h->seen++;
	if (strcmp(rpc_call_request(call)->method, "ospay.v1.Session/Hello") == 0) {
		/* The client wants a principal in the answer. */
		Ospay__V1__Principal p = OSPAY__V1__PRINCIPAL__INIT;
		Ospay__V1__HelloResponse hr = OSPAY__V1__HELLO_RESPONSE__INIT;
		hr.principal = &p;
		uint8_t buf[64];
		size_t n = ospay__v1__hello_response__pack(&hr, buf);
		rpc_call_reply(call, NULL, buf, n, 0);
		return;
	}
	if (strcmp(rpc_call_request(call)->method, "ospay.v1.Test/Big") == 0) {
		/* A large reply at once, for clients that do not read theirs. */
		static uint8_t big[64 * 1024];
		rpc_call_reply(call, NULL, big, sizeof(big), 0);
		return;
	}
	cr_assert_lt(h->n, 64);
	h->calls[h->n++] = call;
}

typedef struct env {
	uv_loop_t loop;
	rpc_server_t *srv;
	held_t held;
	char addr[80];
	int closed;
} env_t;

static void on_srv_closed(void *arg)
{
	((env_t *)arg)->closed++;
}

static void env_start(env_t *e, const rpc_limits_t *lim)
{
	memset(e, 0, sizeof(*e));
	uv_loop_init(&e->loop);
	cr_assert_eq(rpc_server_init(&e->srv, &e->loop, lim, hold_handler, NULL, &e->held), 0);
	cr_assert_eq(rpc_server_listen(e->srv, "127.0.0.1", 0, e->addr, sizeof(e->addr)), 0);
}

static void env_finish(env_t *e)
{
	for (int i = 0; i < e->held.n; i++)
		if (e->held.calls[i] != NULL)
			rpc_call_reply(e->held.calls[i], NULL, NULL, 0, 0);
	rpc_server_close(e->srv, on_srv_closed, e);
	uv_run(&e->loop, UV_RUN_DEFAULT);
	cr_assert_eq(e->closed, 1);
	cr_assert_eq(uv_loop_close(&e->loop), 0);
}

typedef struct result {
	int code;
	int count;
	uint64_t at_ms;
} result_t;

static void on_reply(ospay_client_t *c, const status_t *st, const uint8_t *body, size_t len,
		     void *arg)
{
	result_t *r = arg;
	r->code = st->code;
	r->count++;
	r->at_ms = util_mono_ms();
}

static void on_connect(ospay_client_t *c, const status_t *st, void *arg)
{
	*(int *)arg = st->code == ST_OK ? 1 : -1;
}

/* Runs the loop until cond holds or ms pass. */
#define RUN_UNTIL(e, cond, ms)                                                                     \
	do {                                                                                       \
		uint64_t until_ = util_mono_ms() + (ms);                                           \
		while (!(cond) && util_mono_ms() < until_)                                         \
			uv_run(&(e)->loop, UV_RUN_NOWAIT);                                         \
	} while (0)

Test(rpc_net, deadline_answers_and_late_reply_is_dropped)
{
	env_t e;
	env_start(&e, NULL);
	ospay_client_t *c;
	int connected = 0;
	cr_assert_eq(ospay_client_connect(&e.loop, e.addr, "t", on_connect, &connected, &c), 0);
	result_t r = {.code = -1};
	ospay_call_opts_t o = {.deadline_ms = 200};
	uint64_t t0 = util_mono_ms();
	cr_assert_eq(ospay_call(c, "ospay.v1.Test/Hold", NULL, 0, &o, on_reply, &r), 0);
	RUN_UNTIL(&e, r.count > 0, 3000);
	cr_assert_eq(r.count, 1);
	cr_assert_eq(r.code, ST_DEADLINE_EXCEEDED);
	cr_assert_geq(r.at_ms - t0, 150, "answered before its deadline");
	cr_assert_eq(e.held.n, 1, "the handler still holds the call");
	rpc_stats_t st;
	rpc_server_get_stats(e.srv, &st);
	cr_assert_eq(st.deadlines_expired, 1);
	/* The handler's late reply goes nowhere: no second answer for the same id. */
	rpc_call_reply(e.held.calls[0], NULL, NULL, 0, 0);
	e.held.calls[0] = NULL;
	result_t r2 = {.code = -1};
	cr_assert_eq(ospay_call(c, "ospay.v1.Session/Hello", NULL, 0, NULL, on_reply, &r2), 0);
	RUN_UNTIL(&e, r2.count > 0, 3000);
	cr_assert_eq(r.count, 1);
	cr_assert_eq(r2.code, ST_OK);
	ospay_client_close(c);
	env_finish(&e);
}

Test(rpc_net, reply_after_client_left_is_freed)
{
	env_t e;
	env_start(&e, NULL);
	ospay_client_t *c;
	int connected = 0;
	cr_assert_eq(ospay_client_connect(&e.loop, e.addr, "t", on_connect, &connected, &c), 0);
	result_t r = {.code = -1};
	cr_assert_eq(ospay_call(c, "ospay.v1.Test/Hold", NULL, 0, NULL, on_reply, &r), 0);
	RUN_UNTIL(&e, e.held.n == 1, 3000);
	ospay_client_close(c);
	rpc_stats_t st;
	RUN_UNTIL(&e, (rpc_server_get_stats(e.srv, &st), st.conns_open == 0), 3000);
	cr_assert_eq(st.conns_open, 0);
	cr_assert_eq(st.calls_pending, 1);
	cr_assert_eq(r.count, 1, "the client answers its own pending call when closing");
	cr_assert_eq(r.code, ST_CANCELLED);
	/* The call outlives its connection; replying frees it (LeakSanitizer checks). */
	rpc_call_reply(e.held.calls[0], NULL, NULL, 0, 0);
	e.held.calls[0] = NULL;
	rpc_server_get_stats(e.srv, &st);
	cr_assert_eq(st.calls_pending, 0);
	env_finish(&e);
}

Test(rpc_net, idle_connection_is_closed)
{
	rpc_limits_t lim;
	rpc_limits_default(&lim);
	lim.idle_ms = 300;
	env_t e;
	env_start(&e, &lim);
	ospay_client_t *c;
	int connected = 0;
	cr_assert_eq(ospay_client_connect(&e.loop, e.addr, "t", on_connect, &connected, &c), 0);
	RUN_UNTIL(&e, connected != 0, 3000);
	cr_assert_eq(connected, 1);
	rpc_stats_t st;
	rpc_server_get_stats(e.srv, &st);
	cr_assert_eq(st.conns_open, 1);
	RUN_UNTIL(&e, (rpc_server_get_stats(e.srv, &st), st.conns_open == 0), 3000);
	cr_assert_eq(st.conns_open, 0, "an idle connection must be closed after idle_ms");
	result_t r = {.code = -1};
	if (ospay_call(c, "ospay.v1.Test/Hold", NULL, 0, NULL, on_reply, &r) == 0)
		RUN_UNTIL(&e, r.count > 0, 3000);
	cr_assert_neq(r.code, ST_OK);
	ospay_client_close(c);
	env_finish(&e);
}

Test(rpc_net, a_call_in_flight_keeps_the_connection_open)
{
	rpc_limits_t lim;
	rpc_limits_default(&lim);
	lim.idle_ms = 200;
	env_t e;
	env_start(&e, &lim);
	ospay_client_t *c;
	int connected = 0;
	cr_assert_eq(ospay_client_connect(&e.loop, e.addr, "t", on_connect, &connected, &c), 0);
	result_t r = {.code = -1};
	cr_assert_eq(ospay_call(c, "ospay.v1.Test/Hold", NULL, 0, NULL, on_reply, &r), 0);
	uint64_t until = util_mono_ms() + 700;
	while (util_mono_ms() < until)
		uv_run(&e.loop, UV_RUN_NOWAIT);
	rpc_stats_t st;
	rpc_server_get_stats(e.srv, &st);
	cr_assert_eq(st.conns_open, 1, "not idle while a call is in flight");
	rpc_call_reply(e.held.calls[0], NULL, NULL, 0, 0);
	e.held.calls[0] = NULL;
	RUN_UNTIL(&e, r.count > 0, 3000);
	cr_assert_eq(r.code, ST_OK);
	ospay_client_close(c);
	env_finish(&e);
}

/* Connects n clients one after the other; conn[i] says how each one's Hello went. */
static void connect_clients(env_t *e, ospay_client_t **c, int *conn, int n)
{
	for (int i = 0; i < n; i++) {
		conn[i] = 0;
		cr_assert_eq(
			ospay_client_connect(&e->loop, e->addr, "t", on_connect, &conn[i], &c[i]),
			0);
		RUN_UNTIL(e, conn[i] != 0, 3000);
	}
}

Test(rpc_net, connection_limit)
{
	rpc_limits_t lim;
	rpc_limits_default(&lim);
	lim.max_conns = 2;
	env_t e;
	env_start(&e, &lim);
	ospay_client_t *c[3];
	int conn[3];
	connect_clients(&e, c, conn, 3);
	cr_assert_eq(conn[0], 1);
	cr_assert_eq(conn[1], 1);
	cr_assert_eq(conn[2], -1, "the third connection must be refused");
	rpc_stats_t st;
	rpc_server_get_stats(e.srv, &st);
	cr_assert_eq(st.conns_rejected, 1);
	ospay_client_close(c[0]);
	ospay_client_close(c[1]);
	env_finish(&e);
}

static void on_count(ospay_client_t *c, const status_t *st, const uint8_t *body, size_t len,
		     void *arg)
{
	result_t *r = arg;
	r->count += st->code == ST_OK;
}

Test(rpc_net, a_pipelining_client_gets_a_frame_budget_per_loop_turn)
{
	enum { CALLS = 1000 };
	rpc_limits_t lim;
	rpc_limits_default(&lim);
	lim.turn_frames = 16;
	env_t e;
	env_start(&e, &lim);
	ospay_client_t *c;
	int connected = 0;
	cr_assert_eq(ospay_client_connect(&e.loop, e.addr, "t", on_connect, &connected, &c), 0);
	/* Queued before Hello: they reach the server in a few large reads. */
	result_t r = {0};
	for (int i = 0; i < CALLS; i++)
		cr_assert_eq(ospay_call(c, "ospay.v1.Session/Hello", NULL, 0, NULL, on_count, &r),
			     0);
	RUN_UNTIL(&e, r.count == CALLS, 10000);
	cr_assert_eq(r.count, CALLS);
	rpc_stats_t st;
	rpc_server_get_stats(e.srv, &st);
	cr_assert_eq(st.frames_in, CALLS + 1);
	/* At 16 frames a turn, 1001 frames cannot all go in one. */
	cr_assert_gt(st.turns_deferred, 0, "no input was left for a later turn");
	ospay_client_close(c);
	env_finish(&e);
}

Test(rpc_net, connections_over_the_per_address_cap_are_closed)
{
	rpc_limits_t lim;
	rpc_limits_default(&lim);
	lim.max_conns_per_addr = 1;
	env_t e;
	env_start(&e, &lim);
	ospay_client_t *c[2];
	int conn[2];
	connect_clients(&e, c, conn, 2);
	cr_assert_eq(conn[0], 1);
	cr_assert_eq(conn[1], -1, "a second connection from 127.0.0.1 must be refused");
	rpc_stats_t st;
	rpc_server_get_stats(e.srv, &st);
	cr_assert_eq(st.conns_rejected_addr, 1);
	ospay_client_close(c[0]);
	env_finish(&e);
}

Test(rpc_net, a_silent_connection_is_closed_before_hello)
{
	rpc_limits_t lim;
	rpc_limits_default(&lim);
	lim.hello_ms = 200;
	env_t e;
	env_start(&e, &lim);
	uv_tcp_t t;
	uv_connect_t req;
	struct sockaddr_in sa;
	char host[64];
	int port;
	cr_assert_eq(util_parse_hostport(e.addr, host, sizeof(host), &port), 0);
	uv_ip4_addr(host, port, &sa);
	uv_tcp_init(&e.loop, &t);
	cr_assert_eq(uv_tcp_connect(&req, &t, (const struct sockaddr *)&sa, NULL), 0);
	rpc_stats_t st;
	RUN_UNTIL(&e, (rpc_server_get_stats(e.srv, &st), st.hello_timeouts == 1), 5000);
	cr_assert_eq(st.hello_timeouts, 1);
	cr_assert_eq(st.conns_open, 0);
	uv_close((uv_handle_t *)&t, NULL);
	env_finish(&e);
}

/* A blocking-connect, then non-blocking, socket with a tiny receive buffer, so that
 * the kernel absorbs little of what the server sends it. */
static int small_socket(const env_t *e)
{
	char host[64];
	int port, rcv = 4096;
	cr_assert_eq(util_parse_hostport(e->addr, host, sizeof(host), &port), 0);
	struct sockaddr_in sa;
	cr_assert_eq(uv_ip4_addr(host, port, &sa), 0);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv)), 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
	return fd;
}

Test(rpc_net, a_client_that_never_reads_is_closed_over_the_output_cap)
{
	rpc_limits_t lim;
	rpc_limits_default(&lim);
	lim.out_total_max = 1u << 20;
	lim.stall_ms = 300;
	env_t e;
	env_start(&e, &lim);
	int fd = small_socket(&e);
	/* 400 calls whose 64 KiB replies it will never read: 25 MiB. */
	uint8_t frame[64];
	Ospay__V1__RpcRequest rq = OSPAY__V1__RPC_REQUEST__INIT;
	rq.method = (char *)"ospay.v1.Test/Big";
	rq.id = 7;
	size_t n = ospay__v1__rpc_request__pack(&rq, frame + 4);
	be32_put(frame, (uint32_t)n);
	size_t sent = 0;
	rpc_stats_t st;
	uint64_t until = util_mono_ms() + 10000;
	do {
		uv_run(&e.loop, UV_RUN_NOWAIT);
		while (sent < 400 * (n + 4)) {
			size_t off = sent % (n + 4);
			ssize_t w = send(fd, frame + off, n + 4 - off, MSG_NOSIGNAL);
			if (w <= 0)
				break;
			sent += (size_t)w;
		}
		rpc_server_get_stats(e.srv, &st);
	} while (st.stalled_closes == 0 && util_mono_ms() < until);
	cr_assert_eq(st.stalled_closes, 1, "the non-reader was not closed (%zu bytes sent)", sent);
	cr_assert_gt(st.reads_paused, 0);
	RUN_UNTIL(&e, (rpc_server_get_stats(e.srv, &st), st.conns_open == 0), 3000);
	cr_assert_eq(st.out_buffered, 0, "its output is released with it");
	close(fd);
	env_finish(&e);
}
