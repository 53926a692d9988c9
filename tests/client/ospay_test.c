/*
 * libospay against a scripted in-test server (tests/support/fakesrv): pipelining,
 * replies out of order and byte by byte, hostile frames, and every way a
 * connection can end. Every test checks how often each callback ran and that
 * the loop closes with uv_loop_close() == 0.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "client/lib/ospay.h"
#include "common/util.h"
#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/session.pb-c.h"
#include "support/fakesrv.h"

enum mode {
	M_ECHO,        /* answer every call at once with its own body */
	M_HOLD,        /* keep calls until hold_n arrived, then answer in reverse */
	M_SHUFFLE,     /* like M_HOLD, answering in a scrambled order */
	M_HELLO_FAIL,  /* Hello gets UNAUTHENTICATED, then the server hangs up */
	M_HELLO_LATER, /* Hello is answered when test code says so */
	M_SILENT,      /* calls are never answered */
	M_HANGUP,      /* the server closes once hold_n calls arrived */
	M_OVERSIZE,    /* a frame header one byte over the limit */
	M_GARBAGE,     /* a frame that is not an RpcResponse */
	M_NOTICE,      /* an id-0 RESOURCE_EXHAUSTED notice, then close */
	M_VIOLATIONS,  /* INVALID_ARGUMENT with two field violations */
	M_MAXFRAME,    /* a reply whose frame is exactly 4 MiB */
	M_TWO_IN_ONE,  /* once two calls arrived, both replies in one write */
	M_UNKNOWN_ID,  /* a reply to an id never used, then the real one */
};

#define MAX_HELD 8192

typedef struct call_rec {
	int runs;
	int code;
	char message[256];
	size_t n_violations;
	status_violation_t v[2];
	uint8_t body[64];
	size_t len;
	int seq;           /* order in which callbacks ran */
	bool close_client; /* close the client from inside this callback */
} call_rec_t;

typedef struct conn_rec {
	int runs;
	int code;
	char message[256];
	bool had_principal;
} conn_rec_t;

static struct env {
	uv_loop_t loop;
	uv_timer_t guard;
	bool expired;
	tsp_fake_t srv;
	enum mode mode;
	int hold_n;
	uint64_t held[MAX_HELD];
	uint8_t held_body[MAX_HELD][16];
	size_t held_len[MAX_HELD];
	int n_held;
	tsp_fake_conn_t *conn;
	uint64_t hello_id;
	int calls_before_hello_reply; /* requests other than Hello seen before it was answered */
	bool hello_answered;
	char methods[16][64];
	int n_methods;
	char last_key[64];
	uint32_t last_deadline;
	int seq;
} E;

static void handler(tsp_fake_conn_t *conn, const Ospay__V1__RpcRequest *req, void *arg);
static int g_calls_done;

static void env_init(void)
{
	memset(&E, 0, sizeof(E));
	g_calls_done = 0;
	cr_assert_eq(uv_loop_init(&E.loop), 0);
	cr_assert_eq(uv_timer_init(&E.loop, &E.guard), 0);
	E.guard.data = &E.expired;
	cr_assert_eq(tsp_fake_start(&E.srv, &E.loop, handler, NULL), 0);
}

/* Stops the server, drains the loop, and requires that nothing is left open. */
static void env_fini(void)
{
	tsp_fake_stop(&E.srv);
	uv_close((uv_handle_t *)&E.guard, NULL);
	uv_run(&E.loop, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&E.loop), 0, "a handle was left open");
}

static void on_guard(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

/* Runs the loop until *counter >= target or ms pass; true when reached. */
static bool run_until(const int *counter, int target, uint64_t ms)
{
	E.expired = false;
	uv_timer_start(&E.guard, on_guard, ms, 0);
	while (*counter < target && !E.expired)
		uv_run(&E.loop, UV_RUN_ONCE);
	uv_timer_stop(&E.guard);
	return *counter >= target;
}

/* Runs the loop for ms, whatever happens. */
static void run_for(uint64_t ms)
{
	int never = 0;
	run_until(&never, 1, ms);
}

static void reply_body(tsp_fake_conn_t *conn, uint64_t id, const uint8_t *body, size_t len)
{
	Ospay__V1__RpcResponse resp = OSPAY__V1__RPC_RESPONSE__INIT;
	Ospay__V1__Status st = OSPAY__V1__STATUS__INIT;
	resp.id = id;
	resp.status = &st;
	resp.body.data = (uint8_t *)body;
	resp.body.len = len;
	tsp_fake_reply_msg(conn, &resp);
}

static void answer_held(bool reverse)
{
	for (int k = 0; k < E.n_held; k++) {
		int i = reverse ? E.n_held - 1 - k
				: (int)(((unsigned)k * 7919u) % (unsigned)E.n_held);
		reply_body(E.conn, E.held[i], E.held_body[i], E.held_len[i]);
	}
	E.n_held = 0;
}

static void handler(tsp_fake_conn_t *conn, const Ospay__V1__RpcRequest *req, void *arg)
{
	E.conn = conn;
	if (E.n_methods < 16)
		snprintf(E.methods[E.n_methods++], sizeof(E.methods[0]), "%s", req->method);
	if (strcmp(req->method, "ospay.v1.Session/Hello") == 0) {
		E.hello_id = req->id;
		if (E.mode == M_HELLO_FAIL) {
			tsp_fake_reply(conn, req->id, 16, "unknown token", NULL);
			tsp_fake_conn_close(conn);
		} else if (E.mode != M_HELLO_LATER) {
			E.hello_answered = true;
			tsp_fake_hello_ok(conn, req->id);
		}
		return;
	}
	if (!E.hello_answered)
		E.calls_before_hello_reply++;
	snprintf(E.last_key, sizeof(E.last_key), "%s", req->idempotency_key);
	E.last_deadline = req->deadline_ms;
	int i = E.n_held;
	if (i < MAX_HELD) {
		E.held[i] = req->id;
		E.held_len[i] = req->body.len < 16 ? req->body.len : 16;
		memcpy(E.held_body[i], req->body.data, E.held_len[i]);
		E.n_held++;
	}
	switch (E.mode) {
	case M_ECHO:
	case M_HELLO_LATER:
		reply_body(conn, req->id, req->body.data, req->body.len);
		E.n_held = 0;
		break;
	case M_HOLD:
	case M_SHUFFLE:
		if (E.n_held == E.hold_n)
			answer_held(E.mode == M_HOLD);
		break;
	case M_HANGUP:
		if (E.n_held == E.hold_n)
			tsp_fake_conn_close(conn);
		break;
	case M_OVERSIZE: {
		uint8_t hdr[4];
		be32_put(hdr, 4u * 1024 * 1024 + 1);
		tsp_fake_send(conn, hdr, sizeof(hdr));
		break;
	}
	case M_GARBAGE: {
		static const uint8_t bad[] = {0, 0, 0, 3, 0xff, 0xff, 0xff};
		tsp_fake_send(conn, bad, sizeof(bad));
		break;
	}
	case M_NOTICE:
		tsp_fake_reply(conn, 0, 8, "too many requests in flight", NULL);
		tsp_fake_conn_close(conn);
		break;
	case M_VIOLATIONS: {
		Ospay__V1__RpcResponse resp = OSPAY__V1__RPC_RESPONSE__INIT;
		Ospay__V1__Status st = OSPAY__V1__STATUS__INIT;
		Ospay__V1__FieldViolation v1 = OSPAY__V1__FIELD_VIOLATION__INIT;
		Ospay__V1__FieldViolation v2 = OSPAY__V1__FIELD_VIOLATION__INIT;
		Ospay__V1__FieldViolation *vs[] = {&v1, &v2};
		v1.field = "name";
		v1.description = "must not be empty";
		v2.field = "unit_ids";
		v2.description = "unit 99 does not exist";
		st.code = 3;
		st.message = "invalid request";
		st.n_violations = 2;
		st.violations = vs;
		resp.id = req->id;
		resp.status = &st;
		/* A body with an error must not reach the callback. */
		resp.body.data = (uint8_t *)"x";
		resp.body.len = 1;
		tsp_fake_reply_msg(conn, &resp);
		break;
	}
	case M_MAXFRAME: {
		Ospay__V1__RpcResponse resp = OSPAY__V1__RPC_RESPONSE__INIT;
		size_t len = 4u * 1024 * 1024 - 16;
		uint8_t *big = calloc(1, 4u * 1024 * 1024);
		cr_assert_not_null(big);
		resp.id = req->id;
		resp.body.data = big;
		/* Grow the body until the packed message is exactly 4 MiB. */
		for (;;) {
			resp.body.len = len;
			size_t n = ospay__v1__rpc_response__get_packed_size(&resp);
			if (n == 4u * 1024 * 1024)
				break;
			cr_assert_lt(n, 4u * 1024 * 1024);
			len++;
		}
		tsp_fake_reply_msg(conn, &resp);
		free(big);
		break;
	}
	case M_TWO_IN_ONE:
		if (E.n_held == 2) {
			Ospay__V1__RpcResponse r = OSPAY__V1__RPC_RESPONSE__INIT;
			uint8_t both[64];
			size_t n1, n2;
			r.id = E.held[0];
			n1 = ospay__v1__rpc_response__pack(&r, both + 4);
			be32_put(both, (uint32_t)n1);
			r.id = E.held[1];
			n2 = ospay__v1__rpc_response__pack(&r, both + 8 + n1);
			be32_put(both + 4 + n1, (uint32_t)n2);
			tsp_fake_send(conn, both, 8 + n1 + n2);
			E.n_held = 0;
		}
		break;
	case M_UNKNOWN_ID:
		reply_body(conn, 987654, (const uint8_t *)"zz", 2);
		reply_body(conn, req->id, req->body.data, req->body.len);
		break;
	default:
		break;
	}
}

static void on_connect(ospay_client_t *c, const status_t *st, void *arg)
{
	conn_rec_t *r = arg;
	r->runs++;
	r->code = st->code;
	snprintf(r->message, sizeof(r->message), "%s", st->message);
	r->had_principal = ospay_client_principal(c) != NULL;
}

static void on_call(ospay_client_t *c, const status_t *st, const uint8_t *body, size_t len,
		    void *arg)
{
	call_rec_t *r = arg;
	r->runs++;
	r->code = st->code;
	r->seq = ++E.seq;
	snprintf(r->message, sizeof(r->message), "%s", st->message);
	r->n_violations = st->n_violations;
	for (size_t i = 0; i < st->n_violations && i < 2; i++)
		r->v[i] = st->violations[i];
	r->len = len;
	if (len <= sizeof(r->body) && len > 0)
		memcpy(r->body, body, len);
	g_calls_done++;
	if (r->close_client)
		ospay_client_close(c);
}

static ospay_client_t *connect_ok(conn_rec_t *cr)
{
	ospay_client_t *c = NULL;
	cr_assert_eq(ospay_client_connect(&E.loop, E.srv.addr, "secret-token", on_connect, cr, &c),
		     0);
	cr_assert_not_null(c);
	return c;
}

static void call_text(ospay_client_t *c, const char *text, call_rec_t *r)
{
	cr_assert_eq(ospay_call(c, "ospay.v1.Test/Echo", text, strlen(text), NULL, on_call, r), 0);
}

/* Connects with the server in mode, makes one call of text and runs the loop
 * until its callback ran (ms at most: a hang guard). */
static ospay_client_t *one_call(enum mode mode, const char *text, conn_rec_t *cr, call_rec_t *r,
				uint64_t ms)
{
	E.mode = mode;
	ospay_client_t *c = connect_ok(cr);
	call_text(c, text, r);
	cr_assert(run_until(&r->runs, 1, ms));
	return c;
}

TestSuite(client, .init = env_init, .fini = env_fini, .timeout = 60);

Test(client, hello_gives_principal)
{
	conn_rec_t cr = {0};
	ospay_client_t *c = connect_ok(&cr);
	cr_assert_null(ospay_client_principal(c), "no principal before Hello is answered");
	cr_assert(run_until(&cr.runs, 1, 5000));
	cr_assert_eq(cr.code, ST_OK, "%s", cr.message);
	cr_assert(cr.had_principal);
	const Ospay__V1__Principal *p = ospay_client_principal(c);
	cr_assert_not_null(p);
	cr_assert_eq(p->organization->id, 7);
	cr_assert_str_eq(p->organization->name, "Acme Telecom");
	cr_assert_eq(p->token->role, OSPAY__V1__ROLE__ROLE_ADMIN);
	cr_assert_eq(p->token->n_unit_ids, 2);
	cr_assert_str_eq(E.methods[0], "ospay.v1.Session/Hello");
	ospay_client_close(c);
	/* Waits for the server to see the hang-up rather than a fixed 20 ms. */
	cr_assert(run_until(&E.srv.n_peer_closed, 1, 5000), "the client hung up");
	cr_assert_eq(cr.runs, 1);
	cr_assert_eq(E.srv.n_peer_closed, 1);
}

Test(client, calls_wait_for_hello_and_keep_their_order)
{
	conn_rec_t cr = {0};
	call_rec_t r[3];
	ospay_call_opts_t opts = {"idem-123", 2500};
	memset(r, 0, sizeof(r));
	E.mode = M_HELLO_LATER;
	ospay_client_t *c = connect_ok(&cr);
	/* One call while still connecting... */
	call_text(c, "one", &r[0]);
	/* ...and two once the Hello is out and the server sits on it. */
	cr_assert(run_until(&E.srv.n_requests, 1, 5000));
	cr_assert_eq(ospay_call(c, "ospay.v1.Test/Echo", "two", 3, &opts, on_call, &r[1]), 0);
	call_text(c, "three", &r[2]);
	cr_assert_eq(ospay_client_inflight(c), 3);
	run_for(100);
	cr_assert_eq(E.srv.n_requests, 1, "only the Hello goes out before its answer");
	cr_assert_eq(g_calls_done, 0);
	E.hello_answered = true;
	tsp_fake_hello_ok(E.conn, E.hello_id);
	cr_assert(run_until(&g_calls_done, 3, 5000));
	cr_assert_eq(cr.runs, 1);
	cr_assert_eq(cr.code, ST_OK);
	cr_assert_eq(E.calls_before_hello_reply, 0);
	cr_assert_str_eq(E.methods[1], "ospay.v1.Test/Echo");
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(r[i].runs, 1);
		cr_assert_eq(r[i].code, ST_OK);
		cr_assert_eq(r[i].seq, i + 1, "echoes come back in the order sent");
	}
	cr_assert_eq(r[1].len, 3);
	cr_assert_eq(memcmp(r[1].body, "two", 3), 0);
	cr_assert_str_eq(E.last_key, "", "the last call had no key");
	cr_assert_eq(ospay_client_inflight(c), 0);
	ospay_client_close(c);
}

Test(client, idempotency_key_and_deadline_reach_the_server)
{
	conn_rec_t cr = {0};
	call_rec_t r = {0};
	ospay_call_opts_t opts = {"k-7f3a", 1234};
	ospay_client_t *c = connect_ok(&cr);
	cr_assert_eq(ospay_call(c, "ospay.v1.Test/Echo", "x", 1, &opts, on_call, &r), 0);
	cr_assert(run_until(&r.runs, 1, 5000));
	cr_assert_str_eq(E.last_key, "k-7f3a");
	cr_assert_eq(E.last_deadline, 1234);
	ospay_client_close(c);
}

Test(client, replies_out_of_order_match_their_calls)
{
	enum { N = 200 };
	conn_rec_t cr = {0};
	static call_rec_t r[N];
	char text[N][16];
	memset(r, 0, sizeof(r));
	E.mode = M_HOLD;
	E.hold_n = N;
	ospay_client_t *c = connect_ok(&cr);
	for (int i = 0; i < N; i++) {
		snprintf(text[i], sizeof(text[i]), "call-%d", i);
		call_text(c, text[i], &r[i]);
	}
	cr_assert(run_until(&g_calls_done, N, 10000));
	for (int i = 0; i < N; i++) {
		cr_assert_eq(r[i].runs, 1);
		cr_assert_eq(r[i].code, ST_OK);
		cr_assert_eq(r[i].len, strlen(text[i]));
		cr_assert_eq(memcmp(r[i].body, text[i], r[i].len), 0, "call %d got another's reply",
			     i);
		/* The server answered last-first. */
		cr_assert_eq(r[i].seq, N - i);
	}
	ospay_client_close(c);
}

Test(client, frames_split_byte_by_byte)
{
	conn_rec_t cr = {0};
	call_rec_t r[3];
	memset(r, 0, sizeof(r));
	E.srv.split = true;
	E.mode = M_HOLD;
	E.hold_n = 3;
	ospay_client_t *c = connect_ok(&cr);
	call_text(c, "alpha", &r[0]);
	call_text(c, "beta", &r[1]);
	call_text(c, "São Paulo", &r[2]);
	cr_assert(run_until(&g_calls_done, 3, 20000));
	cr_assert_eq(cr.code, ST_OK);
	cr_assert_eq(r[0].len, 5);
	cr_assert_eq(memcmp(r[0].body, "alpha", 5), 0);
	cr_assert_eq(memcmp(r[1].body, "beta", 4), 0);
	cr_assert_eq(r[2].len, strlen("São Paulo"));
	cr_assert_eq(memcmp(r[2].body, "São Paulo", r[2].len), 0);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(r[i].runs, 1);
	ospay_client_close(c);
}

Test(client, server_hangup_fails_every_pending_call_once)
{
	enum { N = 5 };
	conn_rec_t cr = {0};
	call_rec_t r[N];
	call_rec_t late = {0};
	memset(r, 0, sizeof(r));
	E.mode = M_HANGUP;
	E.hold_n = N;
	ospay_client_t *c = connect_ok(&cr);
	for (int i = 0; i < N; i++)
		call_text(c, "x", &r[i]);
	cr_assert(run_until(&g_calls_done, N, 5000));
	for (int i = 0; i < N; i++) {
		cr_assert_eq(r[i].runs, 1);
		cr_assert_eq(r[i].code, ST_UNAVAILABLE, "%s", r[i].message);
		cr_assert_eq(r[i].seq, i + 1, "failures come in call order");
	}
	cr_assert_eq(ospay_client_inflight(c), 0);
	/* The user still holds the client: it refuses new calls without calling back. */
	cr_assert_eq(ospay_call(c, "ospay.v1.Test/Echo", "y", 1, NULL, on_call, &late), -ENOTCONN);
	cr_assert_not_null(ospay_client_principal(c));
	run_for(20);
	cr_assert_eq(late.runs, 0);
	cr_assert_eq(cr.runs, 1);
	ospay_client_close(c);
}

Test(client, server_hangs_up_inside_a_frame)
{
	conn_rec_t cr = {0};
	call_rec_t r = {0};
	E.mode = M_SILENT;
	ospay_client_t *c = connect_ok(&cr);
	call_text(c, "x", &r);
	cr_assert(run_until(&E.n_held, 1, 5000));
	static const uint8_t half[] = {0, 0, 0, 10, 8, 2};
	tsp_fake_send(E.conn, half, sizeof(half));
	tsp_fake_conn_close(E.conn);
	cr_assert(run_until(&r.runs, 1, 5000));
	cr_assert_eq(r.code, ST_UNAVAILABLE);
	cr_assert(strstr(r.message, "closed by server") != NULL, "%s", r.message);
	run_for(20);
	cr_assert_eq(r.runs, 1);
	ospay_client_close(c);
}

Test(client, user_close_cancels_calls_in_flight)
{
	enum { N = 4 };
	conn_rec_t cr = {0};
	call_rec_t r[N];
	memset(r, 0, sizeof(r));
	E.mode = M_SILENT;
	ospay_client_t *c = connect_ok(&cr);
	cr_assert(run_until(&cr.runs, 1, 5000));
	for (int i = 0; i < N; i++)
		call_text(c, "x", &r[i]);
	cr_assert(run_until(&E.n_held, N, 5000));
	ospay_client_close(c);
	ospay_client_close(c); /* a second close before the loop ran is harmless */
	cr_assert_eq(g_calls_done, 0, "callbacks run from the loop, not from close");
	cr_assert(run_until(&g_calls_done, N, 5000));
	for (int i = 0; i < N; i++) {
		cr_assert_eq(r[i].runs, 1);
		cr_assert_eq(r[i].code, ST_CANCELLED);
	}
	cr_assert(run_until(&E.srv.n_peer_closed, 1, 5000), "the client hung up");
	cr_assert_eq(cr.runs, 1);
	cr_assert_eq(E.srv.n_peer_closed, 1);
}

Test(client, close_before_hello_cancels_connect_and_queued_calls)
{
	conn_rec_t cr = {0};
	call_rec_t r[2];
	memset(r, 0, sizeof(r));
	E.mode = M_HELLO_LATER;
	ospay_client_t *c = connect_ok(&cr);
	call_text(c, "a", &r[0]);
	call_text(c, "b", &r[1]);
	run_for(50);
	ospay_client_close(c);
	cr_assert(run_until(&g_calls_done, 2, 5000));
	cr_assert_eq(cr.runs, 1);
	cr_assert_eq(cr.code, ST_CANCELLED);
	cr_assert_eq(r[0].code, ST_CANCELLED);
	cr_assert_eq(r[1].code, ST_CANCELLED);
	run_for(20);
	cr_assert_eq(r[0].runs + r[1].runs, 2);
	cr_assert_eq(E.srv.n_requests, 1, "queued calls were never sent");
}

Test(client, rejected_hello_fails_connect_and_queued_calls)
{
	conn_rec_t cr = {0};
	call_rec_t r = {0};
	one_call(M_HELLO_FAIL, "a", &cr, &r, 5000);
	cr_assert_eq(cr.runs, 1);
	cr_assert_eq(cr.code, ST_UNAUTHENTICATED);
	cr_assert_str_eq(cr.message, "unknown token");
	cr_assert_not(cr.had_principal);
	cr_assert_eq(r.code, ST_UNAUTHENTICATED, "queued calls share the connect's fate");
	cr_assert_eq(E.srv.n_requests, 1);
	/* No ospay_client_close: a failed connect releases the client by itself. */
}

Test(client, oversized_frame_is_a_protocol_error)
{
	conn_rec_t cr = {0};
	call_rec_t r[2];
	memset(r, 0, sizeof(r));
	E.mode = M_OVERSIZE;
	ospay_client_t *c = connect_ok(&cr);
	call_text(c, "a", &r[0]);
	cr_assert(run_until(&cr.runs, 1, 5000));
	call_text(c, "b", &r[1]);
	cr_assert(run_until(&g_calls_done, 2, 5000));
	cr_assert_eq(r[0].code, ST_UNAVAILABLE);
	cr_assert_eq(r[1].code, ST_UNAVAILABLE);
	cr_assert(strstr(r[0].message, "4194305-byte frame") != NULL, "%s", r[0].message);
	cr_assert(run_until(&E.srv.n_peer_closed, 1, 5000), "the client closed the connection");
	cr_assert_eq(r[0].runs + r[1].runs, 2);
	ospay_client_close(c);
}

Test(client, frame_of_exactly_the_limit_is_accepted)
{
	conn_rec_t cr = {0};
	call_rec_t r = {0};
	ospay_client_t *c = one_call(M_MAXFRAME, "a", &cr, &r, 10000);
	cr_assert_eq(r.code, ST_OK, "%s", r.message);
	cr_assert_gt(r.len, 4u * 1024 * 1024 - 16);
	ospay_client_close(c);
}

Test(client, undecodable_frame_is_a_protocol_error)
{
	conn_rec_t cr = {0};
	call_rec_t r = {0};
	ospay_client_t *c = one_call(M_GARBAGE, "a", &cr, &r, 5000);
	cr_assert_eq(r.code, ST_UNAVAILABLE);
	cr_assert(strstr(r.message, "undecodable") != NULL, "%s", r.message);
	ospay_client_close(c);
}

Test(client, server_notice_explains_the_hangup)
{
	conn_rec_t cr = {0};
	call_rec_t r = {0};
	ospay_client_t *c = one_call(M_NOTICE, "a", &cr, &r, 5000);
	cr_assert_eq(r.code, ST_UNAVAILABLE);
	cr_assert(strstr(r.message, "RESOURCE_EXHAUSTED: too many requests in flight") != NULL,
		  "%s", r.message);
	ospay_client_close(c);
}

Test(client, violations_reach_the_callback_without_a_body)
{
	conn_rec_t cr = {0};
	call_rec_t r = {0};
	ospay_client_t *c = one_call(M_VIOLATIONS, "a", &cr, &r, 5000);
	cr_assert_eq(r.code, ST_INVALID_ARGUMENT);
	cr_assert_str_eq(r.message, "invalid request");
	cr_assert_eq(r.n_violations, 2);
	cr_assert_str_eq(r.v[0].field, "name");
	cr_assert_str_eq(r.v[0].description, "must not be empty");
	cr_assert_str_eq(r.v[1].field, "unit_ids");
	cr_assert_eq(r.len, 0);
	ospay_client_close(c);
}

Test(client, reply_to_an_unknown_id_is_ignored)
{
	conn_rec_t cr = {0};
	call_rec_t r = {0};
	ospay_client_t *c = one_call(M_UNKNOWN_ID, "mine", &cr, &r, 5000);
	run_for(20);
	cr_assert_eq(r.runs, 1);
	cr_assert_eq(r.code, ST_OK);
	cr_assert_eq(memcmp(r.body, "mine", 4), 0);
	ospay_client_close(c);
}

Test(client, close_inside_a_callback_cancels_the_rest)
{
	conn_rec_t cr = {0};
	call_rec_t r[2];
	memset(r, 0, sizeof(r));
	E.mode = M_TWO_IN_ONE;
	r[0].close_client = true;
	ospay_client_t *c = connect_ok(&cr);
	call_text(c, "a", &r[0]);
	call_text(c, "b", &r[1]);
	cr_assert(run_until(&g_calls_done, 2, 5000));
	cr_assert_eq(r[0].code, ST_OK);
	/* Its reply was in the same read, but the client was closed first. */
	cr_assert_eq(r[1].code, ST_CANCELLED);
	run_for(20);
	cr_assert_eq(r[0].runs, 1);
	cr_assert_eq(r[1].runs, 1);
}

Test(client, connection_refused)
{
	conn_rec_t cr = {0};
	call_rec_t r = {0};
	ospay_client_t *c = NULL;
	char addr[64];
	/* The fake server's port, once closed, refuses. */
	snprintf(addr, sizeof(addr), "%s", E.srv.addr);
	tsp_fake_stop(&E.srv);
	run_for(10);
	cr_assert_eq(ospay_client_connect(&E.loop, addr, "t", on_connect, &cr, &c), 0);
	call_text(c, "a", &r);
	cr_assert(run_until(&r.runs, 1, 5000));
	cr_assert_eq(cr.runs, 1);
	cr_assert_eq(cr.code, ST_UNAVAILABLE);
	cr_assert(strstr(cr.message, "refused") != NULL, "%s", cr.message);
	cr_assert_eq(r.code, ST_UNAVAILABLE);
}

Test(client, resolves_host_names)
{
	conn_rec_t cr = {0};
	call_rec_t r = {0};
	ospay_client_t *c = NULL;
	char addr[64];
	snprintf(addr, sizeof(addr), "localhost:%d", E.srv.port);
	cr_assert_eq(ospay_client_connect(&E.loop, addr, "t", on_connect, &cr, &c), 0);
	call_text(c, "via dns", &r);
	cr_assert(run_until(&r.runs, 1, 10000));
	cr_assert_eq(cr.code, ST_OK, "%s", cr.message);
	cr_assert_eq(r.code, ST_OK);
	ospay_client_close(c);
}

Test(client, close_while_resolving)
{
	conn_rec_t cr = {0};
	ospay_client_t *c = NULL;
	char addr[64];
	snprintf(addr, sizeof(addr), "localhost:%d", E.srv.port);
	cr_assert_eq(ospay_client_connect(&E.loop, addr, "t", on_connect, &cr, &c), 0);
	ospay_client_close(c);
	cr_assert(run_until(&cr.runs, 1, 10000));
	cr_assert_eq(cr.code, ST_CANCELLED);
	run_for(20);
	cr_assert_eq(cr.runs, 1);
}

Test(client, bad_arguments_fail_without_callbacks)
{
	conn_rec_t cr = {0};
	call_rec_t r = {0};
	ospay_client_t *c = NULL;
	char huge[5000];
	memset(huge, 'k', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	cr_assert_eq(ospay_client_connect(&E.loop, "no-port", "t", on_connect, &cr, &c), -EINVAL);
	cr_assert_eq(ospay_client_connect(&E.loop, "127.0.0.1:99999", "t", on_connect, &cr, &c),
		     -EINVAL);
	cr_assert_eq(ospay_client_connect(&E.loop, E.srv.addr, huge, on_connect, &cr, &c), -EINVAL);
	cr_assert_null(c);
	c = connect_ok(&cr);
	cr_assert_eq(ospay_call(c, NULL, "a", 1, NULL, on_call, &r), -EINVAL);
	cr_assert_eq(ospay_call(c, "m", NULL, 1, NULL, on_call, &r), -EINVAL);
	cr_assert_eq(ospay_call(c, "m", "a", 1, NULL, NULL, &r), -EINVAL);
	uint8_t *big = calloc(1, 4u * 1024 * 1024);
	cr_assert_not_null(big);
	cr_assert_eq(ospay_call(c, "m", big, 4u * 1024 * 1024, NULL, on_call, &r), -EMSGSIZE);
	free(big);
	cr_assert_eq(ospay_client_inflight(c), 0);
	cr_assert(run_until(&cr.runs, 1, 5000));
	run_for(20);
	cr_assert_eq(r.runs, 0);
	cr_assert_eq(cr.runs, 1, "only the good connect called back");
	ospay_client_close(c);
}

Test(client, call_msg_packs_the_request)
{
	conn_rec_t cr = {0};
	call_rec_t r = {0};
	Ospay__V1__CreateUnitRequest req = OSPAY__V1__CREATE_UNIT_REQUEST__INIT;
	req.name = "Campinas";
	ospay_client_t *c = connect_ok(&cr);
	cr_assert_eq(ospay_call_msg(c, "ospay.v1.Admin/CreateUnit", &req.base, NULL, on_call, &r),
		     0);
	cr_assert(run_until(&r.runs, 1, 5000));
	Ospay__V1__CreateUnitRequest *back =
		ospay__v1__create_unit_request__unpack(NULL, r.len, r.body);
	cr_assert_not_null(back);
	cr_assert_str_eq(back->name, "Campinas");
	ospay__v1__create_unit_request__free_unpacked(back, NULL);
	Ospay__V1__CreateTokenRequest bad = OSPAY__V1__CREATE_TOKEN_REQUEST__INIT;
	bad.n_unit_ids = 2;
	cr_assert_eq(ospay_call_msg(c, "ospay.v1.Admin/CreateToken", &bad.base, NULL, on_call, &r),
		     -EINVAL, "a repeated field without its array is refused, not packed");
	cr_assert_eq(r.runs, 1);
	ospay_client_close(c);
}

Test(client, thousands_in_flight)
{
	enum { N = 5000 };
	conn_rec_t cr = {0};
	static call_rec_t r[N];
	char text[16];
	memset(r, 0, sizeof(r));
	E.mode = M_SHUFFLE;
	E.hold_n = N;
	ospay_client_t *c = connect_ok(&cr);
	for (int i = 0; i < N; i++) {
		snprintf(text, sizeof(text), "%d", i);
		call_text(c, text, &r[i]);
	}
	cr_assert_eq(ospay_client_inflight(c), N);
	/* 30 s guards against a hang only. The cost of finding each reply's call
	 * is calltab_test's (hashed, at most half full), not a wall-clock bound here. */
	cr_assert(run_until(&g_calls_done, N, 30000));
	for (int i = 0; i < N; i++) {
		snprintf(text, sizeof(text), "%d", i);
		cr_assert_eq(r[i].runs, 1);
		cr_assert_eq(r[i].len, strlen(text));
		cr_assert_eq(memcmp(r[i].body, text, r[i].len), 0);
	}
	cr_assert_eq(ospay_client_inflight(c), 0);
	ospay_client_close(c);
}

/* ---- the blocking wrapper, against a server on its own thread */

static int g_slow_pending;
static uint64_t g_slow_id;

static void thread_handler(tsp_fake_conn_t *conn, const Ospay__V1__RpcRequest *req, void *arg)
{
	const char *m = req->method;
	if (strcmp(m, "ospay.v1.Session/Hello") == 0) {
		Ospay__V1__HelloRequest *h =
			ospay__v1__hello_request__unpack(NULL, req->body.len, req->body.data);
		if (strcmp(arg ? (const char *)arg : "", "hang") == 0) {
			/* never answer */
		} else if (h != NULL && strcmp(h->token, "good") == 0) {
			tsp_fake_hello_ok(conn, req->id);
		} else {
			tsp_fake_reply(conn, req->id, 16, "bad token", NULL);
			tsp_fake_conn_close(conn);
		}
		ospay__v1__hello_request__free_unpacked(h, NULL);
		return;
	}
	/* A slow call is answered just before the next request's reply: late. */
	if (g_slow_pending) {
		tsp_fake_reply(conn, g_slow_id, 0, NULL, NULL);
		g_slow_pending = 0;
	}
	if (strcmp(m, "ospay.v1.Admin/CreateUnit") == 0) {
		Ospay__V1__CreateUnitRequest *in =
			ospay__v1__create_unit_request__unpack(NULL, req->body.len, req->body.data);
		Ospay__V1__CreateUnitResponse out = OSPAY__V1__CREATE_UNIT_RESPONSE__INIT;
		Ospay__V1__Unit u = OSPAY__V1__UNIT__INIT;
		u.id = 42;
		u.organization_id = 7;
		u.name = in->name;
		out.unit = &u;
		if (in->name[0] == '\0') {
			tsp_fake_reply_violation(conn, req->id, "name", "required");
		} else {
			tsp_fake_reply(conn, req->id, 0, NULL, &out.base);
		}
		ospay__v1__create_unit_request__free_unpacked(in, NULL);
	} else if (strcmp(m, "ospay.v1.Test/Slow") == 0) {
		g_slow_pending = 1;
		g_slow_id = req->id;
	} else if (strcmp(m, "ospay.v1.Test/Garbage") == 0) {
		tsp_fake_reply_msg(conn, &(Ospay__V1__RpcResponse){
						 .base = PROTOBUF_C_MESSAGE_INIT(
							 &ospay__v1__rpc_response__descriptor),
						 .id = req->id,
						 .body = {3, (uint8_t *)"\xff\xff\xff"},
					 });
	} else {
		tsp_fake_reply(conn, req->id, 12, "no such method", NULL);
	}
}

static tsp_fake_thread_t T;

/* ospay_sync_call of method with req, answered (when OK) by a CreateUnitResponse. */
static int sync_unit(ospay_sync_t *s, const char *method, Ospay__V1__CreateUnitRequest *req,
		     Ospay__V1__CreateUnitResponse **resp, status_t *st)
{
	return ospay_sync_call(s, method, &req->base, &ospay__v1__create_unit_response__descriptor,
			       NULL, (ProtobufCMessage **)resp, st);
}

TestSuite(sync, .timeout = 60);

Test(sync, open_call_close)
{
	ospay_sync_t *s = NULL;
	status_t st;
	Ospay__V1__CreateUnitRequest req = OSPAY__V1__CREATE_UNIT_REQUEST__INIT;
	Ospay__V1__CreateUnitResponse *resp = NULL;
	cr_assert_eq(tsp_fake_thread_start(&T, thread_handler, NULL), 0);
	cr_assert_eq(ospay_sync_open(T.srv.addr, "good", 5000, &s, &st), ST_OK, "%s", st.message);
	cr_assert_not_null(s);
	cr_assert_eq(ospay_client_principal(ospay_sync_client(s))->organization->id, 7);
	req.name = "São Paulo";
	cr_assert_eq(sync_unit(s, "ospay.v1.Admin/CreateUnit", &req, &resp, &st), ST_OK, "%s",
		     st.message);
	cr_assert_not_null(resp);
	cr_assert_eq(resp->unit->id, 42);
	cr_assert_str_eq(resp->unit->name, "São Paulo");
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	req.name = "";
	cr_assert_eq(sync_unit(s, "ospay.v1.Admin/CreateUnit", &req, &resp, &st),
		     ST_INVALID_ARGUMENT);
	cr_assert_null(resp);
	cr_assert_eq(st.n_violations, 1);
	cr_assert_str_eq(st.violations[0].field, "name");
	cr_assert_eq(sync_unit(s, "ospay.v1.Test/Nope", &req, &resp, &st), ST_UNIMPLEMENTED);
	cr_assert_eq(sync_unit(s, "ospay.v1.Test/Garbage", &req, &resp, &st), ST_INTERNAL,
		     "an undecodable body is reported, not returned");
	cr_assert_null(resp);
	ospay_sync_close(s);
	tsp_fake_thread_stop(&T);
	cr_assert_eq(T.srv.n_peer_closed, 1);
}

Test(sync, timeout_leaves_the_session_usable)
{
	ospay_sync_t *s = NULL;
	status_t st;
	Ospay__V1__CreateUnitRequest req = OSPAY__V1__CREATE_UNIT_REQUEST__INIT;
	Ospay__V1__CreateUnitResponse *resp = NULL;
	cr_assert_eq(tsp_fake_thread_start(&T, thread_handler, NULL), 0);
	cr_assert_eq(ospay_sync_open(T.srv.addr, "good", 200, &s, &st), ST_OK, "%s", st.message);
	uint64_t t0 = uv_hrtime();
	cr_assert_eq(sync_unit(s, "ospay.v1.Test/Slow", &req, &resp, &st), ST_DEADLINE_EXCEEDED);
	uint64_t ms = (uv_hrtime() - t0) / 1000000;
	/* Never early. Not late either, with no clock needed: the server never
	 * answers Slow on its own, so only the deadline could end the call. */
	cr_assert_geq(ms, 190);
	/* The late reply to the slow call arrives first and must be dropped quietly. */
	req.name = "after";
	cr_assert_eq(sync_unit(s, "ospay.v1.Admin/CreateUnit", &req, &resp, &st), ST_OK, "%s",
		     st.message);
	cr_assert_str_eq(resp->unit->name, "after");
	protobuf_c_message_free_unpacked(&resp->base, NULL);
	/* One more slow call left in flight at close: its state is freed by CANCELLED. */
	cr_assert_eq(sync_unit(s, "ospay.v1.Test/Slow", &req, &resp, &st), ST_DEADLINE_EXCEEDED);
	ospay_sync_close(s);
	tsp_fake_thread_stop(&T);
}

Test(sync, open_failures)
{
	ospay_sync_t *s = NULL;
	status_t st;
	char addr[64];
	cr_assert_eq(tsp_fake_thread_start(&T, thread_handler, NULL), 0);
	cr_assert_eq(ospay_sync_open(T.srv.addr, "bad", 5000, &s, &st), ST_UNAUTHENTICATED);
	cr_assert_str_eq(st.message, "bad token");
	cr_assert_null(s);
	cr_assert_eq(ospay_sync_open("nonsense", "good", 5000, &s, &st), ST_INVALID_ARGUMENT);
	snprintf(addr, sizeof(addr), "%s", T.srv.addr);
	tsp_fake_thread_stop(&T);
	cr_assert_eq(ospay_sync_open(addr, "good", 5000, &s, &st), ST_UNAVAILABLE);
	cr_assert_null(s);
}

Test(sync, hello_never_answered)
{
	ospay_sync_t *s = NULL;
	status_t st;
	cr_assert_eq(tsp_fake_thread_start(&T, thread_handler, "hang"), 0);
	uint64_t t0 = uv_hrtime();
	cr_assert_eq(ospay_sync_open(T.srv.addr, "good", 150, &s, &st), ST_DEADLINE_EXCEEDED);
	cr_assert_geq((uv_hrtime() - t0) / 1000000, 140);
	cr_assert_null(s);
	tsp_fake_thread_stop(&T);
}

Test(sync, dropped_connection_then_call)
{
	ospay_sync_t *s = NULL;
	status_t st;
	Ospay__V1__CreateUnitRequest req = OSPAY__V1__CREATE_UNIT_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	cr_assert_eq(tsp_fake_thread_start(&T, thread_handler, NULL), 0);
	cr_assert_eq(ospay_sync_open(T.srv.addr, "good", 2000, &s, &st), ST_OK);
	tsp_fake_thread_stop(&T);
	req.name = "x";
	int code = ospay_sync_call(s, "ospay.v1.Admin/CreateUnit", &req.base,
				   &ospay__v1__create_unit_response__descriptor, NULL, &resp, &st);
	cr_assert_eq(code, ST_UNAVAILABLE, "%s: %s", status_code_name(code), st.message);
	cr_assert_null(resp);
	ospay_sync_close(s);
}
