/*
 * The server object (srv_t: the loop, the store, the listeners, every job's
 * state) and the handler contract every service and the dispatcher share.
 *
 * A handler runs synchronously with a store transaction: a read handler in a
 * read snapshot, a write handler inside the group-commit batch (its reply is
 * sent only after the batch is durable).
 *
 * The handler contract (docs/protocol.md, "Handler contract"):
 * - A handler returns 0 or a negative errno, nothing else.
 * - Its outcome is in the request: r->st. ST_OK means the reply is r->out
 *   (packed with srv_reply_msg); any other code is the reply. A write handler
 *   whose r->st is not ST_OK has its changes discarded.
 * - A negative errno is a failure it did not describe: answered INTERNAL
 *   (srv_store_fail describes a store error first); -ENOSPC and -EFBIG let
 *   the store grow its map and run a write handler again.
 * - An SRV_M_ASYNC handler says what comes next with a flag on the request:
 *   srv_pend(r) (its outside work ends the call) or srv_write_now(r, fn).
 *
 * One idiom for the helpers a handler calls: a helper that may decide the
 * answer takes r and keeps the same contract (0 or a negative errno, the
 * status in r->st), and the caller goes on only while both are fine:
 *
 *	rc = kit_get(r, txn, ...);
 *	if (rc != 0 || !srv_ok(r))
 *		goto out;
 *
 * The status setters (srv_fail, srv_store_fail) return 0 (or the errno that
 * reruns), so `return srv_fail(r, ...)` ends a handler. Checks that cannot
 * meet an errno (srv_check, kit_check_record, kit_check_name) return bool:
 * true to go on, else r->st says why.
 */
#ifndef OSPAY_SERVER_RPC_SRV_H
#define OSPAY_SERVER_RPC_SRV_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "common/buf.h"
#include "common/crypto.h"
#include "common/list.h"
#include "common/status.h"
#include "core/perm.h"
#include "core/vault.h"
#include "net/http_client.h"
#include "net/https_server.h"
#include "net/rpc.h"
#include "ospay/v1/common.pb-c.h"
#include "store/store.h"

typedef struct srv_opts {
	const char *data_dir;
	const char *rpc_listen;   /* "HOST:PORT" */
	const char *https_listen; /* "HOST:PORT" */
	bool test_clock;
	int64_t test_clock_ms; /* start of the test clock */
	rpc_limits_t rpc;
	bool rpc_tls;                  /* serve the RPC listener over TLS */
	const char *rpc_tls_cert;      /* PEM chain; NULL: the data dir's tls.crt */
	const char *rpc_tls_key;       /* PEM key; NULL: the data dir's tls.key */
	size_t map_size;               /* 0: store default */
	uint64_t idem_ttl_ms;          /* idempotency keys kept this long; 24 h */
	uint64_t idem_sweep_ms;        /* how often expired keys are deleted; 10 min */
	uint64_t drain_timeout_ms;     /* on SIGTERM, wait this long for calls; 10 s */
	https_options_t https;         /* webhook listener limits (0 = default) */
	uint32_t gateway_max_inflight; /* calls in flight per external service; 64 */
	/* Gateway URLs may point at loopback, private and link-local addresses
	 * (the sandbox, tests); off in production (docs/gateways.md). */
	bool allow_private_gateways;
	bool keep_dumpable;             /* debugging: leave core dumps and ptrace possible */
	const char *metrics_token_file; /* /metrics's bearer token; NULL: DATA/metrics.token */
	/* PEM bundle of the CAs that external services' certificates are checked
	 * against instead of the system's (a PSP's private CA; the sandbox in tests). */
	const char *gateway_ca;
} srv_opts_t;

#define SRV_STATUS_CODES 17
/* Records one request keeps at most (srv_keep): a handler loads a handful. */
#define SRV_KEPT_MAX 16

/* External services, numbered as GatewayKind (ZapMe, the notifier, is 4). */
enum srv_service {
	SRV_SERVICE_PAGOLIVRE = 1,
	SRV_SERVICE_CIELO = 2,
	SRV_SERVICE_GETNET = 3,
	SRV_SERVICE_ZAPME = 4,
	SRV_SERVICE_PIX = 5, /* a Pix Automático PSP (GATEWAY_KIND_PIX_AUTOMATICO) */
};

typedef struct srv {
	uv_loop_t *loop;
	srv_opts_t opts;
	store_t *store;
	rpc_server_t *rpc;
	https_server_t *https;
	uv_check_t committer;
	uv_idle_t kicker; /* keeps poll from blocking while a batch waits */
	uv_signal_t sig_term, sig_int;
	uv_timer_t drain_timer, idem_timer;
	uint8_t master_key[CRYPTO_KEY_LEN]; /* only until the keys below are derived */
	uint8_t token_key[CRYPTO_KEY_LEN];
	/* Keys a card's fingerprint (core/card.h): derived from the master key,
	 * which rotate-key keeps, so fingerprints match across rotations. */
	uint8_t card_fp_key[CRYPTO_KEY_LEN];
	char metrics_token[129]; /* the bearer token /metrics wants */
	vault_key_t vault_key;   /* the current key: seals new cards and credentials */
	vault_key_t *vault_keys; /* every key id 1..current (opens older records), owned */
	size_t n_vault_keys;
	int lock_fd;            /* the data dir's lock (srv_data_lock), held while serving */
	uint64_t gateway_epoch; /* bumped when a gateway's settings change */
	int64_t clock_ms;       /* the test clock's now */
	uint64_t token_epoch;   /* bumped when a token is revoked */
	bool draining;
	bool https_closing;
	/* The last group commit's error, or a write the store refused (full map,
	 * read-only, I/O); 0 again once a commit succeeds. /healthz says degraded. */
	int store_err;
	int exit_code;
	char rpc_addr[80];
	char https_addr[80];
	http_client_t *http; /* outbound calls to the external services */
	struct {
		uint64_t accepted, duplicates, unauthorized, rejected, failed, requeried;
		uint64_t coalesced; /* events settled by another event's re-query */
	} wh_stats;
	/* Metrics. */
	uint64_t calls_by_code[SRV_STATUS_CODES];
	https_hist_t rpc_latency;    /* decode to reply, handled calls */
	https_hist_t commit_latency; /* one group commit */
	list_node_t async_reqs;      /* SRV_M_ASYNC calls in progress with an idempotency key */
	unsigned connect_calls;      /* Connect calls not yet released (server/connect.c) */
	/* The method table (services/methods.c), given by the server at start. */
	const struct srv_method *(*method_find)(const char *name);
	/* Every job's and cache's state, owned here, freed by its own close. */
	struct prov_adapters *adapters; /* providers/adapters.c */
	struct srv_billing *billing;    /* jobs/billing_run.c */
	struct recon *reconcile;        /* jobs/reconcile.c */
	struct outbox *outbox;          /* jobs/outbox.c */
	struct webhooks *webhooks;      /* jobs/webhooks.c */
	unsigned jobs_running;          /* started and not yet released */
} srv_t;

typedef struct prov_adapters prov_adapters_t;

/* What a connection knows about its caller once Hello succeeded. */
typedef struct srv_session {
	bool authed;
	perm_principal_t p;
	uint64_t *units; /* owned; p.unit_ids points here */
	uint64_t epoch;
} srv_session_t;

typedef struct srv_req srv_req_t;
typedef int (*srv_handler_fn)(srv_req_t *r, store_txn_t *txn);

enum srv_method_flags {
	SRV_M_WRITE = 1u << 0,  /* runs in the write batch, reply after commit */
	SRV_M_NOAUTH = 1u << 1, /* allowed before Hello (Hello itself) */
	/*
	 * Work outside the store first (a gateway call), then a write. The
	 * handler runs in a read snapshot; it either answers at once like a read
	 * handler or starts the outside work and calls srv_pend, and later ends
	 * the call exactly once with srv_async_finish or srv_async_fail.
	 * The request may carry secrets (a card number): its raw body and its
	 * decoded strings are wiped, and its idempotency hash is keyed.
	 */
	SRV_M_ASYNC = 1u << 2,
	/* The request carries secrets (gateway credentials): as for SRV_M_ASYNC,
	 * its raw body is wiped once decoded and hashed, its decoded strings
	 * (nested messages included) when the call ends. */
	SRV_M_SECRET = 1u << 3,
};

typedef struct srv_method {
	const char *name;
	const ProtobufCMessageDescriptor *in;
	srv_handler_fn fn;
	unsigned flags;
} srv_method_t;

/* Whether m's requests may carry secrets: their bodies and strings are wiped. */
static inline bool srv_method_has_secrets(const srv_method_t *m)
{
	return (m->flags & (SRV_M_ASYNC | SRV_M_SECRET)) != 0;
}

struct srv_req {
	srv_t *srv;
	rpc_call_t *call; /* the binary protocol's call; NULL for another transport's */
	/* Another transport's (Connect's) answer: gets r once, with r->st and r->out, and
	 * must not keep it (srv_dispatch_call). */
	void (*reply)(srv_req_t *r);
	void *reply_arg;
	const srv_method_t *method;
	srv_session_t *sess;
	ProtobufCMessage *in; /* decoded request, owned */
	status_t st;
	buf_t out;    /* packed response */
	buf_t replay; /* what an idempotent repeat gets, when not out (secrets) */
	bool has_replay;
	int64_t now_ms;
	const char *idem_key; /* points into the call's request */
	size_t idem_len;
	uint8_t req_hash[32];       /* HMAC (token key) of SHA-256(method, body) */
	uint8_t req_hash_plain[32]; /* that SHA-256 (writes): only to recognize records
				       stored before the HMAC */
	bool idem_hit;
	unsigned reply_flags;
	uint64_t start_ns; /* for the latency histogram */
	/* Runs once the write is durable, before the reply (not on idempotent repeats). */
	void (*on_commit)(srv_req_t *r);
	/* SRV_M_ASYNC: the write that ends the call (srv_async_finish). */
	srv_handler_fn finish;
	/* SRV_M_ASYNC: set by srv_pend (outside work started: the call stays open)
	 * or srv_write_now (r->finish runs in the write batch at once). */
	bool pending;
	bool write_now;
	/* SRV_M_ASYNC: a copy of the caller's session (the connection may close first). */
	srv_session_t own_sess;
	list_node_t async_link; /* in srv_t.async_reqs while pending with a key */
	void *async_arg;        /* the handler's state, released by async_free */
	void (*async_free)(void *arg);
	/* Records the handler loaded and handed to the request (srv_keep). */
	ProtobufCMessage *kept[SRV_KEPT_MAX];
	unsigned n_kept;
	unsigned kept_mark; /* kept[0..kept_mark) come from before the write batch */
};

/* Current time: the test clock when enabled, else the wall clock. */
int64_t srv_now_ms(const srv_t *s);

/* Packs m as the response (again, if the handler reruns). 0 or -ENOMEM. */
int srv_reply_msg(srv_req_t *r, const ProtobufCMessage *m);
/* Packs m as what an idempotent repeat will get instead of the response. */
int srv_replay_msg(srv_req_t *r, const ProtobufCMessage *m);
/* True while the call's status is ST_OK (nothing refused it yet). */
static inline bool srv_ok(const srv_req_t *r)
{
	return r->st.code == ST_OK;
}
/*
 * Hands *mp (mp: the address of an unpacked message's pointer, which may be
 * NULL) to the request, the way a per-request pool owns what a handler
 * allocates: the message is freed when the call ends, or before a write
 * handler runs again, so the handler does not free it. 0, or -ENOMEM when the
 * request keeps SRV_KEPT_MAX records already (the message is freed then and
 * *mp set to NULL).
 */
int srv_keep(srv_req_t *r, void *mp);
/*
 * Frees the records r keeps since kept[from] (srv_keep). The dispatcher calls
 * it with 0 when the call ends and with r->kept_mark before a write handler
 * runs again; whatever else runs a method's fn (the tests) ends the same way.
 */
void srv_release_kept(srv_req_t *r, unsigned from);
/* Sets r->st; returns 0, so `return srv_fail(...)` ends a handler. */
int srv_fail(srv_req_t *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* perm_check against the caller: true to go on, else r->st is set. */
bool srv_check(srv_req_t *r, enum perm_action action, uint64_t unit_id);
/*
 * A store error met by a handler: r->st INTERNAL "storage error" (logged) and
 * 0, except -ENOSPC and -EFBIG, returned as they are (the store grows its map
 * and runs the handler again).
 */
int srv_store_fail(srv_req_t *r, int rc, const char *what);

/* SRV_M_ASYNC: the handler started its outside work, which will end the call
 * with srv_async_finish or srv_async_fail. The handler then returns 0. */
void srv_pend(srv_req_t *r);
/* srv_pend of a call whose state arg it owns from now: free_fn(arg) when the call ends. */
void srv_pend_owning(srv_req_t *r, void *arg, void (*free_fn)(void *arg));
/* SRV_M_ASYNC: no outside work is needed; fn runs in the write batch at once,
 * as srv_async_finish would run it (Orders/Finalize by cash). */
void srv_write_now(srv_req_t *r, srv_handler_fn fn);

/*
 * SRV_M_ASYNC: ends a pending call with fn run inside the write batch (with
 * the idempotency record, like any write handler); the reply follows the
 * commit. The change is committed even when the caller has left or its
 * deadline passed: the outside work was done, and a repeat with the same
 * idempotency key then gets its result instead of doing it again.
 */
void srv_async_finish(srv_req_t *r, srv_handler_fn fn);
/* SRV_M_ASYNC: ends a pending call with a status (nothing is written). */
void srv_async_fail(srv_req_t *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The RPC entry point (rpc_call_fn) and connection release (rpc_conn_gone_fn). */
void srv_dispatch(rpc_call_t *call, void *udata);
/*
 * A call that came another way (Connect over HTTPS, server/connect.c), on the
 * same path as srv_dispatch's after its admission checks: method m (known) with
 * its encoded request body[0..len) (wiped when srv_method_has_secrets), the
 * caller's session sess (authenticated, or not for an SRV_M_NOAUTH method),
 * idem_key "" or at most DB_IDEM_KEY_MAX bytes. body, idem_key and sess must
 * stay valid until reply(r) runs, exactly once (maybe before this returns);
 * reply_arg is there as r->reply_arg.
 */
void srv_dispatch_call(srv_t *s, const srv_method_t *m, srv_session_t *sess, uint8_t *body,
		       size_t len, const char *idem_key, void (*reply)(srv_req_t *r),
		       void *reply_arg);
void srv_session_gone(rpc_conn_t *conn, void *data, void *udata);

/* Clears the strings of a request that may carry secrets, nested messages included. */
void srv_wipe_strings(ProtobufCMessage *m);

/* Counts a call's outcome for /metrics. */
void srv_count_call(srv_t *s, int code);

#endif
