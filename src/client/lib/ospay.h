/*
 * libospay: the C client of ospayd's RPC protocol (docs/spec.md 3).
 *
 * Asynchronous API on a caller's libuv loop: connect (which says Session/Hello),
 * then any number of calls in flight, answered by callback in whatever order the
 * server replies. A blocking wrapper (ospay_sync_*) runs a private loop for
 * programs that want one call at a time (the CLI, tests, scripts).
 *
 * Ownership: the client owns its connection and pending calls; bodies passed to
 * callbacks are valid only during the callback. A function that fails returns a
 * negative errno and never calls its callback.
 */
#ifndef OSPAY_CLIENT_OSPAY_H
#define OSPAY_CLIENT_OSPAY_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/status.h"
#include "ospay/v1/common.pb-c.h"

typedef struct ospay_client ospay_client_t;

typedef struct ospay_call_opts {
	const char *idempotency_key; /* NULL or "" for none */
	uint32_t deadline_ms;        /* 0: server default */
} ospay_call_opts_t;

/* How to reach the server (NULL options: plain TCP, for loopback). */
typedef struct ospay_connect_opts {
	bool tls;                    /* TLS 1.2+ (ospayd serve --rpc-tls) */
	const char *tls_ca_file;     /* PEM certificates to trust: required with tls (the
					server's var/data/tls.crt, or the CA that signed it) */
	const char *tls_server_name; /* the name its certificate must carry; NULL: the
					host of addr, or "localhost" for an address literal */
} ospay_connect_opts_t;

/* st->code is ST_OK when Hello succeeded; otherwise the client is already closing. */
typedef void (*ospay_connect_cb)(ospay_client_t *c, const status_t *st, void *arg);
/* body/len: the response message (st->code == ST_OK) or empty. */
typedef void (*ospay_call_cb)(ospay_client_t *c, const status_t *st, const uint8_t *body,
			      size_t len, void *arg);

/*
 * Connects to addr ("HOST:PORT") and says Hello with token. cb runs once.
 * Returns 0 and the client in *out (usable for ospay_call at once: calls are
 * queued until Hello completes), or a negative errno.
 * If Hello fails, the calls queued meanwhile get the same status, and the
 * client frees itself once cb returns: do not close it after that. The token
 * is not kept after the Hello frame is written.
 */
int ospay_client_connect(uv_loop_t *loop, const char *addr, const char *token, ospay_connect_cb cb,
			 void *arg, ospay_client_t **out);
/*
 * ospay_client_connect with options (NULL: the same). With TLS, a certificate
 * that does not chain to tls_ca_file or does not carry the name fails the
 * connect with UNAVAILABLE and a message saying which; -EINVAL without a CA
 * file, -EIO / -EINVAL when it cannot be read or parsed.
 */
int ospay_client_connect_opts(uv_loop_t *loop, const char *addr, const char *token,
			      const ospay_connect_opts_t *opts, ospay_connect_cb cb, void *arg,
			      ospay_client_t **out);
/*
 * Sends one call; cb runs exactly once (CANCELLED/UNAVAILABLE if the connection ends).
 * -ENOTCONN once the connection is closing or gone, -EMSGSIZE past the 4 MiB
 * frame limit, -ENOBUFS past 64 MiB of unsent output or 65536 calls in flight.
 */
int ospay_call(ospay_client_t *c, const char *method, const void *body, size_t len,
	       const ospay_call_opts_t *opts, ospay_call_cb cb, void *arg);
/* ospay_call with a protobuf-c message packed for you. */
int ospay_call_msg(ospay_client_t *c, const char *method, const ProtobufCMessage *req,
		   const ospay_call_opts_t *opts, ospay_call_cb cb, void *arg);
/* The principal answered by Hello (NULL before it): owned by the client. */
const Ospay__V1__Principal *ospay_client_principal(const ospay_client_t *c);
/* Calls in flight (sent or queued, not yet answered). */
size_t ospay_client_inflight(const ospay_client_t *c);
/*
 * Closes; pending calls are answered CANCELLED; memory is freed by the loop.
 * Needed after a successful connect even when the connection dropped (its
 * calls were then answered UNAVAILABLE and new calls get -ENOTCONN). Safe
 * inside callbacks; callbacks run from the loop, never from this function.
 */
void ospay_client_close(ospay_client_t *c);

/* ---- blocking wrapper */

typedef struct ospay_sync ospay_sync_t;

/*
 * Connects and says Hello, waiting up to timeout_ms. Returns st->code (0 = OK).
 * timeout_ms also bounds every ospay_sync_call (0: no limit); a call without a
 * deadline of its own is sent with deadline_ms = timeout_ms.
 */
int ospay_sync_open(const char *addr, const char *token, uint32_t timeout_ms, ospay_sync_t **out,
		    status_t *st);
/* ospay_sync_open with connect options (NULL: plain TCP). */
int ospay_sync_open_opts(const char *addr, const char *token, uint32_t timeout_ms,
			 const ospay_connect_opts_t *opts, ospay_sync_t **out, status_t *st);
/*
 * One call: packs req, waits for the reply, unpacks it with resp_desc into *resp
 * (free with protobuf_c_message_free_unpacked(*resp, NULL)). Returns st->code.
 * On timeout: DEADLINE_EXCEEDED, and the late reply is dropped when it comes.
 */
int ospay_sync_call(ospay_sync_t *s, const char *method, const ProtobufCMessage *req,
		    const ProtobufCMessageDescriptor *resp_desc, const ospay_call_opts_t *opts,
		    ProtobufCMessage **resp, status_t *st);
/* The underlying client (for its principal or raw calls); owned by s. */
ospay_client_t *ospay_sync_client(ospay_sync_t *s);
void ospay_sync_close(ospay_sync_t *s);

#endif
