/*
 * The RPC listener (docs/spec.md 3): length-prefixed protobuf frames over TCP, many
 * calls in flight per connection, answered in any order.
 *
 * This layer owns framing, limits, deadlines, idle connections and
 * backpressure; it knows no method and no domain rule. Each decoded request
 * becomes an rpc_call_t handed to the on_call callback, which must eventually
 * answer it exactly once with rpc_call_reply() (now or from a later loop turn).
 *
 * Replies are queued per connection and written once per loop turn (a
 * uv_prepare), so a burst of replies costs one write. A connection whose
 * unsent output exceeds limits.out_high stops being read until it drains.
 *
 * Fairness (docs/protocol.md): each connection gets at most turn_frames frames
 * and turn_bytes bytes per loop turn, the rest waits for the next turn with
 * reading stopped; past out_total_max bytes of unsent replies over all
 * connections, those holding more than their share stop being read, and the
 * ones whose output does not move for stall_ms are closed, heaviest first.
 *
 * Optionally TLS (rpc_server_use_tls), with the webhook listener's mbedTLS code.
 */
#ifndef OSPAY_NET_RPC_H
#define OSPAY_NET_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/status.h"
#include "ospay/v1/rpc.pb-c.h"

typedef struct rpc_server rpc_server_t;
typedef struct rpc_conn rpc_conn_t;
typedef struct rpc_call rpc_call_t;

typedef struct rpc_limits {
	size_t max_frame;             /* bytes of one message; default 4 MiB */
	unsigned max_inflight;        /* calls per connection; default 1024 */
	uint64_t idle_ms;             /* close after this long with nothing in flight; 5 min */
	size_t out_high;              /* stop reading above this much unsent output; 1 MiB */
	uint32_t default_deadline_ms; /* when a request says 0; 30 s */
	unsigned max_conns;           /* further connections are closed at once; 4096 */
	unsigned max_conns_per_addr;  /* from one remote address, past it closed at once; 512 */
	uint64_t hello_ms;            /* close a connection with no whole frame after this; 10 s */
	unsigned turn_frames;         /* frames handled per connection per loop turn; 64 */
	size_t turn_bytes;            /* bytes of frames per connection per loop turn; 256 KiB */
	size_t out_total_max;         /* unsent replies, all connections, before pausing; 8 MiB */
	uint64_t stall_ms; /* over out_total_max, a paused connection whose output has not
			      moved this long is closed; 10 s */
} rpc_limits_t;

typedef struct rpc_stats {
	uint64_t conns_accepted, conns_rejected, conns_open;
	uint64_t frames_in, frames_out;
	uint64_t calls_pending;       /* handed to on_call, not yet replied */
	uint64_t out_buffered;        /* bytes queued or being written, all connections */
	uint64_t reads_paused;        /* times a connection was paused by backpressure */
	uint64_t deadlines_expired;   /* calls answered DEADLINE_EXCEEDED by the sweep */
	uint64_t conns_rejected_addr; /* of conns_rejected: over max_conns_per_addr */
	uint64_t hello_timeouts;      /* closed: no whole frame within hello_ms */
	uint64_t turns_deferred;      /* a connection's input left for the next loop turn */
	uint64_t stalled_closes;      /* closed: over the total output cap and not reading */
	uint64_t tls_handshake_failures;
} rpc_stats_t;

/* A new call: the callee owns it until rpc_call_reply(). */
typedef void (*rpc_call_fn)(rpc_call_t *call, void *udata);
/* A connection is gone: release what was attached with rpc_conn_set_data(). */
typedef void (*rpc_conn_gone_fn)(rpc_conn_t *conn, void *conn_data, void *udata);

/* What rpc_frame_next found at the start of a buffer. */
enum rpc_frame_result {
	RPC_FRAME_MORE = 0,   /* incomplete: wait for more bytes */
	RPC_FRAME_OK = 1,     /* a whole frame: *payload_len bytes after the 4-byte header */
	RPC_FRAME_TOO_BIG = 2 /* the declared length exceeds max_frame */
};

/* Pure frame cutting (no allocation): looks at p[0..len). */
int rpc_frame_next(const uint8_t *p, size_t len, size_t max_frame, size_t *payload_len);

/* Fills lim with the defaults above. */
void rpc_limits_default(rpc_limits_t *lim);

/* A status_t as the ospay.v1.Status message (the RPC reply's and Connect's error detail). */
typedef struct rpc_status_msg {
	Ospay__V1__Status status;
	Ospay__V1__FieldViolation viol[STATUS_MAX_VIOLATIONS];
	Ospay__V1__FieldViolation *vp[STATUS_MAX_VIOLATIONS];
} rpc_status_msg_t;

/* Fills m from st: code, message and field violations. m points into st, which must
 * outlive it; nothing is allocated. */
void rpc_status_msg(rpc_status_msg_t *m, const status_t *st);

/* Creates a server on loop; nothing is listening yet. 0 or -ENOMEM. */
int rpc_server_init(rpc_server_t **out, uv_loop_t *loop, const rpc_limits_t *lim,
		    rpc_call_fn on_call, rpc_conn_gone_fn on_gone, void *udata);
/*
 * Listens on host:port (port 0 picks one); writes "HOST:PORT" actually bound
 * into bound. Returns 0 or a negative libuv error.
 */
int rpc_server_listen(rpc_server_t *s, const char *host, int port, char *bound, size_t boundlen);
/*
 * Serves TLS 1.2+ on every connection accepted from now on (call before listening),
 * with the PEM certificate chain and key at these paths. 0, or -EINVAL / -EIO /
 * -ENOMEM as tls_config_new.
 */
int rpc_server_use_tls(rpc_server_t *s, const char *crt_path, const char *key_path);
/* Stops accepting new connections (the first step of a drain). */
void rpc_server_stop_accepting(rpc_server_t *s);
/* True when no call is pending, no reply is waiting to be written and no received
 * frame waits for its turn. */
bool rpc_server_drained(const rpc_server_t *s);
/*
 * Closes every connection and handle; pending calls are detached (their
 * replies will be dropped). closed(arg) runs once every handle is closed; the
 * server is freed then.
 */
void rpc_server_close(rpc_server_t *s, void (*closed)(void *arg), void *arg);
void rpc_server_get_stats(const rpc_server_t *s, rpc_stats_t *out);

/* The decoded request (owned by the call). */
const Ospay__V1__RpcRequest *rpc_call_request(const rpc_call_t *call);
/* The call's connection, or NULL once it has closed. */
rpc_conn_t *rpc_call_conn(const rpc_call_t *call);
/* True when the reply can no longer reach anyone (connection gone or deadline passed). */
bool rpc_call_abandoned(const rpc_call_t *call);

enum rpc_reply_flags {
	/* Close the connection once this reply is written (auth failures). */
	RPC_REPLY_CLOSE = 1u << 0,
};

/*
 * Answers the call with st (NULL means OK) and, when OK, body. Consumes the
 * call: it is freed here, whether or not the reply can still be delivered.
 */
void rpc_call_reply(rpc_call_t *call, const status_t *st, const void *body, size_t len,
		    unsigned flags);

/* Per-connection user data (a session), released by on_gone. */
void *rpc_conn_get_data(const rpc_conn_t *conn);
void rpc_conn_set_data(rpc_conn_t *conn, void *data);

#endif
