/*
 * Test support: a scripted stand-in for ospayd that speaks docs/spec.md 3's framing on
 * a libuv loop, so client tests can make the server answer out of order,
 * dribble bytes one at a time, send oversized or garbage frames, or hang up.
 *
 * Run it on the test's own loop (the async client shares it), or in a thread
 * of its own (for the blocking wrapper and the CLI, which run their own loops).
 */
#ifndef OSPAY_TESTS_FAKESRV_H
#define OSPAY_TESTS_FAKESRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/buf.h"
#include "ospay/v1/rpc.pb-c.h"

typedef struct tsp_fake tsp_fake_t;
typedef struct tsp_fake_conn tsp_fake_conn_t;

/*
 * Called for every decoded request; req is freed when it returns. The handler
 * answers now or later (keep req->id) with the tsp_fake_* functions below.
 */
typedef void (*tsp_fake_handler)(tsp_fake_conn_t *conn, const Ospay__V1__RpcRequest *req,
				 void *arg);

struct tsp_fake_conn {
	tsp_fake_t *srv;
	uv_tcp_t tcp;
	uv_timer_t drip; /* split mode: one byte per tick */
	buf_t in;
	buf_t pending_out; /* split mode: bytes not yet dripped */
	tsp_fake_conn_t *next;
	int open_handles;
	bool closing;
	bool peer_closed; /* read EOF from the client */
	int n_requests;
};

struct tsp_fake {
	uv_loop_t *loop;
	uv_tcp_t listener;
	char addr[64]; /* "127.0.0.1:PORT" */
	int port;
	tsp_fake_handler handler;
	void *arg;
	bool split; /* write every reply one byte at a time, a tick apart */
	tsp_fake_conn_t *conns;
	int n_accepted;
	int n_requests;
	int n_peer_closed; /* connections the client closed (EOF seen) */
	bool stopping;
};

/* Listens on 127.0.0.1:0 on loop; 0 or a negative errno. */
int tsp_fake_start(tsp_fake_t *f, uv_loop_t *loop, tsp_fake_handler h, void *arg);
/* Closes the listener and every connection; the caller runs the loop after. */
void tsp_fake_stop(tsp_fake_t *f);

/* Replies to id with code/message and, when code is 0, body (may be NULL). */
void tsp_fake_reply(tsp_fake_conn_t *conn, uint64_t id, int code, const char *message,
		    const ProtobufCMessage *body);
/* Replies with a fully built RpcResponse. */
void tsp_fake_reply_msg(tsp_fake_conn_t *conn, const Ospay__V1__RpcResponse *resp);
/* An INVALID_ARGUMENT reply, "invalid request", with one violation of field. */
void tsp_fake_reply_violation(tsp_fake_conn_t *conn, uint64_t id, const char *field,
			      const char *description);
/* Writes raw bytes (honours split mode). */
void tsp_fake_send(tsp_fake_conn_t *conn, const void *p, size_t n);
/* Answers a Hello with an admin principal (org 7 "Acme", token 9, units 3 and 4). */
void tsp_fake_hello_ok(tsp_fake_conn_t *conn, uint64_t id);
/* Closes the connection once everything queued was written. */
void tsp_fake_conn_close(tsp_fake_conn_t *conn);

/* The server on a thread of its own, for clients that run private loops. */
typedef struct tsp_fake_thread {
	uv_thread_t thread;
	uv_loop_t loop;
	uv_async_t stop;
	uv_sem_t ready;
	int start_rc;
	tsp_fake_handler handler;
	void *arg;
	tsp_fake_t srv;
} tsp_fake_thread_t;

/* Starts the thread and waits until the server listens; 0 or a negative errno. */
int tsp_fake_thread_start(tsp_fake_thread_t *t, tsp_fake_handler h, void *arg);
/* Stops the server, joins the thread and closes its loop. */
void tsp_fake_thread_stop(tsp_fake_thread_t *t);

#endif
