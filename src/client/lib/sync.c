/*
 * libospay's blocking wrapper: one private loop per ospay_sync_t, run until the
 * awaited callback fires or the timer does.
 *
 * A call that times out stays in flight on the connection (the protocol has no
 * way to take it back), so its state lives on the heap and is freed by its
 * callback, which runs later with the late reply or with CANCELLED on close.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "client/lib/ospay.h"

struct ospay_sync {
	uv_loop_t loop;
	uv_timer_t timer;
	ospay_client_t *client; /* NULL once the library released it */
	uint32_t timeout_ms;
	bool timed_out;
};

typedef struct sync_connect {
	bool done;
	status_t st;
} sync_connect_t;

typedef struct sync_call {
	bool done;
	bool abandoned; /* the caller stopped waiting: the callback frees */
	status_t st;
	const ProtobufCMessageDescriptor *desc;
	ProtobufCMessage *resp;
} sync_call_t;

static void on_sync_timeout(uv_timer_t *t)
{
	ospay_sync_t *s = t->data;
	s->timed_out = true;
}

/* Runs the loop until *done or ms pass (0: no limit); true when done. */
static bool sync_wait(ospay_sync_t *s, const bool *done, uint32_t ms)
{
	s->timed_out = false;
	if (ms > 0 && uv_timer_start(&s->timer, on_sync_timeout, ms, 0) < 0)
		return *done;
	while (!*done && !s->timed_out) {
		/* 0 means nothing is left that could ever answer. */
		if (uv_run(&s->loop, UV_RUN_ONCE) == 0)
			break;
	}
	uv_timer_stop(&s->timer);
	return *done;
}

static int sync_code_for_errno(int rc)
{
	switch (rc) {
	case -EINVAL:
	case -EMSGSIZE:
		return ST_INVALID_ARGUMENT;
	case -ENOMEM:
	case -ENOBUFS:
		return ST_RESOURCE_EXHAUSTED;
	default:
		return ST_UNAVAILABLE;
	}
}

static void on_sync_connected(ospay_client_t *c, const status_t *st, void *arg)
{
	sync_connect_t *sc = arg;
	sc->st = *st;
	sc->done = true;
}

static void on_sync_reply(ospay_client_t *c, const status_t *st, const uint8_t *body, size_t len,
			  void *arg)
{
	static const uint8_t empty[1];
	sync_call_t *sc = arg;
	if (sc->abandoned) {
		free(sc);
		return;
	}
	sc->st = *st;
	if (st->code == ST_OK) {
		sc->resp = protobuf_c_message_unpack(sc->desc, NULL, len, body ? body : empty);
		if (sc->resp == NULL)
			status_set(&sc->st, ST_INTERNAL, "malformed %s in the response",
				   sc->desc->name);
	}
	sc->done = true;
}

static void on_walk_close(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

int ospay_sync_open(const char *addr, const char *token, uint32_t timeout_ms, ospay_sync_t **out,
		    status_t *st)
{
	return ospay_sync_open_opts(addr, token, timeout_ms, NULL, out, st);
}

int ospay_sync_open_opts(const char *addr, const char *token, uint32_t timeout_ms,
			 const ospay_connect_opts_t *opts, ospay_sync_t **out, status_t *st)
{
	sync_connect_t conn;
	ospay_sync_t *s = NULL;
	int rc = 0;
	memset(&conn, 0, sizeof(conn));
	status_clear(st);
	if (addr == NULL || token == NULL || out == NULL) {
		status_set(st, ST_INVALID_ARGUMENT, "missing address, token or result");
		goto out;
	}
	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		status_set(st, ST_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	rc = uv_loop_init(&s->loop);
	if (rc < 0) {
		status_set(st, ST_INTERNAL, "event loop: %s", uv_strerror(rc));
		free(s);
		s = NULL;
		goto out;
	}
	uv_timer_init(&s->loop, &s->timer);
	s->timer.data = s;
	s->timeout_ms = timeout_ms;
	rc = ospay_client_connect_opts(&s->loop, addr, token, opts, on_sync_connected, &conn,
				       &s->client);
	if (rc < 0) {
		status_set(st, sync_code_for_errno(rc), "connect %s: %s", addr, uv_strerror(rc));
		goto out;
	}
	if (!sync_wait(s, &conn.done, timeout_ms)) {
		status_set(st, ST_DEADLINE_EXCEEDED, "no answer from %s within %u ms", addr,
			   timeout_ms);
		goto out;
	}
	if (conn.st.code != ST_OK) {
		*st = conn.st;
		/* A failed connect releases the client itself. */
		s->client = NULL;
		goto out;
	}
	*out = s;
	s = NULL;
out:
	/* Runs the loop to the end, so conn outlives every callback that points at it. */
	ospay_sync_close(s);
	return st->code;
}

int ospay_sync_call(ospay_sync_t *s, const char *method, const ProtobufCMessage *req,
		    const ProtobufCMessageDescriptor *resp_desc, const ospay_call_opts_t *opts,
		    ProtobufCMessage **resp, status_t *st)
{
	ospay_call_opts_t o = {NULL, 0};
	sync_call_t *sc = NULL;
	uint32_t wait_ms = 0;
	int rc = 0;
	status_clear(st);
	if (resp != NULL)
		*resp = NULL;
	if (s == NULL || method == NULL || req == NULL || resp_desc == NULL || resp == NULL) {
		status_set(st, ST_INVALID_ARGUMENT, "missing argument");
		goto out;
	}
	if (s->client == NULL) {
		status_set(st, ST_UNAVAILABLE, "not connected");
		goto out;
	}
	if (opts != NULL)
		o = *opts;
	/*
	 * The caller waits timeout_ms; without a deadline of its own the server
	 * is told the same, so it stops working when nobody waits any more.
	 */
	if (o.deadline_ms == 0)
		o.deadline_ms = s->timeout_ms;
	wait_ms = o.deadline_ms > s->timeout_ms ? o.deadline_ms : s->timeout_ms;
	sc = calloc(1, sizeof(*sc));
	if (sc == NULL) {
		status_set(st, ST_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	sc->desc = resp_desc;
	rc = ospay_call_msg(s->client, method, req, &o, on_sync_reply, sc);
	if (rc < 0) {
		status_set(st, sync_code_for_errno(rc), "%s: %s", method,
			   rc == -ENOTCONN ? "not connected" : uv_strerror(rc));
		goto out;
	}
	if (!sync_wait(s, &sc->done, wait_ms)) {
		sc->abandoned = true;
		sc = NULL;
		status_set(st, ST_DEADLINE_EXCEEDED, "%s: no answer within %u ms", method, wait_ms);
		goto out;
	}
	*st = sc->st;
	*resp = sc->resp;
out:
	free(sc);
	return st->code;
}

ospay_client_t *ospay_sync_client(ospay_sync_t *s)
{
	return s != NULL ? s->client : NULL;
}

void ospay_sync_close(ospay_sync_t *s)
{
	if (s == NULL)
		return;
	if (s->client != NULL) {
		ospay_client_close(s->client);
		s->client = NULL;
	}
	if (!uv_is_closing((uv_handle_t *)&s->timer))
		uv_close((uv_handle_t *)&s->timer, NULL);
	for (;;) {
		uv_run(&s->loop, UV_RUN_DEFAULT);
		if (uv_loop_close(&s->loop) == 0)
			break;
		/* Only a bug leaves a handle open here; closing it lets the loop end. */
		uv_walk(&s->loop, on_walk_close, NULL);
	}
	free(s);
}
