/*
 * ospayd's wiring: the loop, the store, the RPC listener and the handlers.
 *
 * A handler runs synchronously with a store transaction: a read handler in a
 * read snapshot, a write handler inside the group-commit batch (its reply is
 * sent only after the batch is durable). Handlers return 0 (OK, response packed
 * with srv_reply_msg), a positive status code (r->st filled), or a negative
 * errno from the store (answered INTERNAL; -ENOSPC lets the store grow and rerun).
 */
#ifndef OSPAY_SERVER_SERVER_H
#define OSPAY_SERVER_SERVER_H

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
	size_t map_size;               /* 0: store default */
	uint64_t idem_ttl_ms;          /* idempotency keys kept this long; 24 h */
	uint64_t idem_sweep_ms;        /* how often expired keys are deleted; 10 min */
	uint64_t drain_timeout_ms;     /* on SIGTERM, wait this long for calls; 10 s */
	https_options_t https;         /* webhook listener limits (0 = default) */
	uint32_t gateway_max_inflight; /* calls in flight per external service; 64 */
} srv_opts_t;

#define SRV_STATUS_CODES 17

/* External services, numbered as GatewayKind (ZapMe, the notifier, is 4). */
enum srv_service {
	SRV_SERVICE_PAGOLIVRE = 1,
	SRV_SERVICE_CIELO = 2,
	SRV_SERVICE_GETNET = 3,
	SRV_SERVICE_ZAPME = 4,
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
	uint8_t master_key[CRYPTO_KEY_LEN];
	uint8_t token_key[CRYPTO_KEY_LEN];
	vault_key_t vault_key;   /* the current key: seals new cards and credentials */
	vault_key_t *vault_keys; /* every key id 1..current (opens older records), owned */
	size_t n_vault_keys;
	int lock_fd;            /* the data dir's lock (srv_data_lock), held while serving */
	uint64_t gateway_epoch; /* bumped when a gateway's settings change */
	int64_t clock_ms;       /* the test clock's now */
	uint64_t token_epoch;   /* bumped when a token is revoked */
	bool draining;
	bool https_closing;
	int exit_code;
	char rpc_addr[80];
	char https_addr[80];
	http_client_t *http;      /* outbound calls to the external services */
	uv_timer_t requery_timer; /* next webhook re-query pass */
	unsigned requery_inflight;
	struct {
		uint64_t accepted, duplicates, unauthorized, rejected, failed, requeried;
		uint64_t coalesced; /* events settled by another event's re-query */
	} wh_stats;
	/* Metrics. */
	uint64_t calls_by_code[SRV_STATUS_CODES];
	https_hist_t rpc_latency;    /* decode to reply, handled calls */
	https_hist_t commit_latency; /* one group commit */
	list_node_t async_reqs;      /* SRV_M_ASYNC calls in progress with an idempotency key */
	struct srv_billing *billing; /* the billing run (h_billing.c) */
} srv_t;

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
	 * handler or starts the outside work and returns SRV_PENDING, and later
	 * ends the call exactly once with srv_async_finish or srv_async_fail.
	 * The request may carry secrets (a card number): its raw body and its
	 * decoded strings are wiped, and its idempotency hash is keyed.
	 */
	SRV_M_ASYNC = 1u << 2,
};

/* What an SRV_M_ASYNC handler returns once it has started its outside work. */
#define SRV_PENDING 1000
/* What an SRV_M_ASYNC handler returns when no outside work is needed: the
 * dispatcher runs r->finish in the write batch as srv_async_finish would
 * (Orders/Finalize with a method that involves no gateway). */
#define SRV_WRITE_NOW 1001

typedef struct srv_method {
	const char *name;
	const ProtobufCMessageDescriptor *in;
	srv_handler_fn fn;
	unsigned flags;
} srv_method_t;

struct srv_req {
	srv_t *srv;
	rpc_call_t *call;
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
	uint8_t req_hash[32];
	bool idem_hit;
	unsigned reply_flags;
	uint64_t start_ns; /* for the latency histogram */
	/* Runs once the write is durable, before the reply (not on idempotent repeats). */
	void (*on_commit)(srv_req_t *r);
	/* SRV_M_ASYNC: the write that ends the call (srv_async_finish). */
	srv_handler_fn finish;
	/* SRV_M_ASYNC: a copy of the caller's session (the connection may close first). */
	srv_session_t own_sess;
	list_node_t async_link; /* in srv_t.async_reqs while pending with a key */
	void *async_arg;        /* the handler's state, released by async_free */
	void (*async_free)(void *arg);
};

/* Current time: the test clock when enabled, else the wall clock. */
int64_t srv_now_ms(const srv_t *s);

/* Packs m as the response (again, if the handler reruns). 0 or -ENOMEM. */
int srv_reply_msg(srv_req_t *r, const ProtobufCMessage *m);
/* Packs m as what an idempotent repeat will get instead of the response. */
int srv_replay_msg(srv_req_t *r, const ProtobufCMessage *m);
/* Sets r->st and returns the code. */
int srv_fail(srv_req_t *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* perm_check against the caller: returns the status code (ST_OK to go on). */
int srv_check(srv_req_t *r, enum perm_action action, uint64_t unit_id);
/* Translates a store error met by a handler into a status (rc passed through). */
int srv_store_fail(srv_req_t *r, int rc, const char *what);

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

/* Looks a method up by its full name; NULL if unknown. */
const srv_method_t *srv_method_find(const char *name);

/* The RPC entry point (rpc_call_fn) and connection release (rpc_conn_gone_fn). */
void srv_dispatch(rpc_call_t *call, void *udata);
void srv_session_gone(rpc_conn_t *conn, void *data, void *udata);

/* Token secrets: "ospt_" + 43 base64url chars. Hash with the server's token key. */
#define SRV_TOKEN_PREFIX "ospt_"
#define SRV_TOKEN_MAX 128
int srv_token_new(char *out, size_t outlen);
void srv_token_hash(const uint8_t key[CRYPTO_KEY_LEN], const char *token, uint8_t out[32]);

/* Handlers, by service. */
int h_session_hello(srv_req_t *r, store_txn_t *txn);
int h_admin_create_unit(srv_req_t *r, store_txn_t *txn);
int h_admin_list_units(srv_req_t *r, store_txn_t *txn);
int h_admin_create_token(srv_req_t *r, store_txn_t *txn);
int h_admin_revoke_token(srv_req_t *r, store_txn_t *txn);
int h_clock_now(srv_req_t *r, store_txn_t *txn);
int h_clock_advance(srv_req_t *r, store_txn_t *txn);
int h_admin_create_technician(srv_req_t *r, store_txn_t *txn);
int h_admin_set_gateway(srv_req_t *r, store_txn_t *txn);
int h_admin_get_gateway(srv_req_t *r, store_txn_t *txn);
int h_admin_set_notifier(srv_req_t *r, store_txn_t *txn);
int h_admin_list_technicians(srv_req_t *r, store_txn_t *txn);
int h_admin_set_suspension_profile(srv_req_t *r, store_txn_t *txn);
int h_admin_create_payment_method(srv_req_t *r, store_txn_t *txn);
int h_admin_list_payment_methods(srv_req_t *r, store_txn_t *txn);
int h_billing_create_invoice(srv_req_t *r, store_txn_t *txn);
int h_billing_get_invoice(srv_req_t *r, store_txn_t *txn);
int h_billing_list_invoices(srv_req_t *r, store_txn_t *txn);
int h_billing_cancel_invoice(srv_req_t *r, store_txn_t *txn);
int h_billing_list_charges(srv_req_t *r, store_txn_t *txn);
int h_billing_run_now(srv_req_t *r, store_txn_t *txn);
int h_billing_charge_invoice(srv_req_t *r, store_txn_t *txn);
int h_cards_add(srv_req_t *r, store_txn_t *txn);
int h_cards_list(srv_req_t *r, store_txn_t *txn);
int h_cards_remove(srv_req_t *r, store_txn_t *txn);
int h_cards_set_default(srv_req_t *r, store_txn_t *txn);
int h_customers_create(srv_req_t *r, store_txn_t *txn);
int h_customers_get(srv_req_t *r, store_txn_t *txn);
int h_customers_list(srv_req_t *r, store_txn_t *txn);
int h_customers_update(srv_req_t *r, store_txn_t *txn);
int h_customers_add_service(srv_req_t *r, store_txn_t *txn);
int h_customers_update_service(srv_req_t *r, store_txn_t *txn);
int h_customers_list_services(srv_req_t *r, store_txn_t *txn);
int h_agendas_create(srv_req_t *r, store_txn_t *txn);
int h_agendas_get(srv_req_t *r, store_txn_t *txn);
int h_agendas_list(srv_req_t *r, store_txn_t *txn);
int h_agendas_update(srv_req_t *r, store_txn_t *txn);
int h_agendas_delete(srv_req_t *r, store_txn_t *txn);
int h_agendas_calendar(srv_req_t *r, store_txn_t *txn);
int h_orders_create(srv_req_t *r, store_txn_t *txn);
int h_orders_get(srv_req_t *r, store_txn_t *txn);
int h_orders_list(srv_req_t *r, store_txn_t *txn);
int h_orders_update(srv_req_t *r, store_txn_t *txn);
int h_orders_reschedule(srv_req_t *r, store_txn_t *txn);
int h_orders_finalize(srv_req_t *r, store_txn_t *txn);
int h_orders_cancel(srv_req_t *r, store_txn_t *txn);
int h_orders_cancel_payment_attempt(srv_req_t *r, store_txn_t *txn);
int h_orders_refresh_payment(srv_req_t *r, store_txn_t *txn);

/* The HTTPS listener's request handler (https_handler_fn), and the metrics page. */
void srv_http_handle(https_request_t *req, void *udata);
int srv_metrics_format(srv_t *s, char *out, size_t cap, size_t *off);
/* Counts a call's outcome for /metrics. */
void srv_count_call(srv_t *s, int code);

/* "pagolivre", "cielo", "getnet", "zapme" (NULL for others), and back (0 if unknown). */
const char *srv_service_name(int kind);
int srv_service_parse(const char *name);
/* The stored settings of (org, kind): 0, -ENOENT, or a store error. Caller frees. */
struct Ospay__V1__GatewayRecord;
struct Ospay__V1__GatewayCredentials;
int srv_gateway_get(store_txn_t *txn, uint64_t org, int kind,
		    struct Ospay__V1__GatewayRecord **out);
/* Opens a record's sealed credentials (caller frees; they are secrets). */
int srv_gateway_open_credentials(const srv_t *s, const struct Ospay__V1__GatewayRecord *rec,
				 struct Ospay__V1__GatewayCredentials **out);

/* Webhooks: the route's handler, the re-query pass, the adapters' cache. */
void srv_webhook_handle(srv_t *s, https_request_t *req, const char *service, const char *org);
void srv_webhooks_kick(srv_t *s);
struct gw;
int srv_gateway_adapter(srv_t *s, store_txn_t *txn, uint64_t org, int kind, struct gw **out);
void srv_gateway_adapters_close(void);
/*
 * Provider objects: what ospay asked a service for (a payment link, a charge, a
 * message), keyed by the service's or our reference. Registering makes its
 * webhooks acceptable; the re-query records the service's answer on it.
 */
struct Ospay__V1__GatewayObjectRecord;
int srv_gateway_object_register(store_txn_t *txn, uint64_t org, int kind, const char *ref,
				int64_t now_ms);
/* The same for a card charge's payment id, tied to the charge it settles. */
int srv_gateway_object_register_charge(store_txn_t *txn, uint64_t org, int kind, const char *ref,
				       uint64_t charge_id, int64_t now_ms);
int srv_gateway_object_get(store_txn_t *txn, uint64_t org, int kind, const char *ref,
			   struct Ospay__V1__GatewayObjectRecord **out);
/*
 * Orders: a PagoLivre object (a payment link) was written with what the
 * service said; the order of that link follows it in the same transaction
 * (paid, declined, monthly installments). Objects of no order, or of an
 * older attempt, change nothing. 0 or a store error.
 */
/*
 * A payment link's query answer kept for a write (Orders/RefreshPayment):
 * stored like the webhook pipeline's re-query (final states kept, the order
 * following). Free with free().
 */
typedef struct srv_link_answer srv_link_answer_t;
struct gw_link_result;
int srv_link_answer_new(uint64_t org, const char *ref, const struct gw_link_result *res,
			int64_t now_ms, srv_link_answer_t **out);
int srv_link_answer_store(store_txn_t *txn, srv_link_answer_t *a, int64_t now_ms);
int srv_orders_link_update(store_txn_t *txn, const struct Ospay__V1__GatewayObjectRecord *obj,
			   int64_t now_ms);

/*
 * The billing run (SPEC 4.7): start arms the hourly timer (first run at once);
 * kick asks for a run now (after the current one, if one is going); busy says
 * gateway calls are in flight (the drain waits for them); stop ends it, calls
 * in flight left unresolved for the next start.
 */
void srv_billing_start(srv_t *s);
void srv_billing_kick(srv_t *s);
bool srv_billing_busy(const srv_t *s);
void srv_billing_stop(srv_t *s);
/* The run's figures for /metrics: jobs in flight now, their bound, the peaks of
 * the current (or last) run, and the gateway charges sent since start. */
typedef struct srv_billing_metrics {
	uint64_t in_flight, in_flight_limit, in_flight_max, calls_in_flight_max, charges;
	uint64_t voids, void_failures; /* sales voided since start, failed tries */
	/* Charges not settled now, by status (read from the store). */
	uint64_t pending, unknown, operator_review, voiding;
} srv_billing_metrics_t;
void srv_billing_metrics(const srv_t *s, srv_billing_metrics_t *out);
/* A resolve pass now (unknown outcomes, voids): after a notification or an
 * operator left a charge to void. */
void srv_billing_resolve_soon(srv_t *s);
/*
 * Unknown first (SPEC 4.7): the first charge of an invoice still unresolved
 * (PENDING, UNKNOWN, OPERATOR_REVIEW, VOIDING), or NULL. When there is one,
 * r's status is set to FAILED_PRECONDITION naming it and that code is
 * returned (what must happen before `what`, e.g. "canceling it"); 0 when
 * there is none, a store error otherwise.
 */
int srv_billing_refuse_unresolved(srv_req_t *r, store_txn_t *txn, uint64_t invoice,
				  const char *what);
/*
 * A card gateway's notification about a payment id ospay does not know yet:
 * the charge of this organization whose merchant order id is order_id (GetNet
 * sends it), so that the notification can settle it. *charge_id 0 when none.
 */
int srv_billing_charge_by_order(store_txn_t *txn, uint64_t org, const char *order_id,
				uint64_t *charge_id);
/*
 * A card gateway's object (obj, a query's answer by payment id) was written:
 * its charge follows in the same transaction by the rules of every other path
 * (approved pays the open invoice, else is voided; never moved back). *resolve
 * says a resolve pass must run after the commit (a void is due).
 */
int srv_billing_charge_answer(store_txn_t *txn, srv_t *s,
			      const struct Ospay__V1__GatewayObjectRecord *obj, bool *resolve);
int h_billing_resolve_charge(srv_req_t *r, store_txn_t *txn);
/*
 * After an invoice left OPEN (paid, canceled) in txn: its service goes back to
 * ACTIVE when it is BLOCKED and no other OPEN invoice of it blocks it under the
 * organization's suspension profile on today (org local day). 0 or a store error.
 */
struct Ospay__V1__Invoice;
int srv_billing_unblock(store_txn_t *txn, const struct Ospay__V1__Invoice *inv, int64_t now_ms);

/* Installments across orders and the report (h_installments.c). */
int h_billing_list_installments(srv_req_t *r, store_txn_t *txn);
int h_billing_record_installment(srv_req_t *r, store_txn_t *txn);
int h_billing_recurring_credit_report(srv_req_t *r, store_txn_t *txn);
/*
 * Reconciliation of INTEGRATED installments (SPEC 4.6.6), like the billing
 * run: start arms the hourly timer (first pass at once), kick asks for a pass
 * now, busy says link queries are in flight, stop ends it.
 */
void srv_reconcile_start(srv_t *s);
void srv_reconcile_kick(srv_t *s);
bool srv_reconcile_busy(const srv_t *s);
void srv_reconcile_stop(srv_t *s);

/* Runs the server until SIGTERM/SIGINT; returns the process exit code. */
int srv_serve(const srv_opts_t *opts);
/* `ospayd init`: creates the data dir and prints the init JSON on stdout. */
int srv_init_data(const char *dir, const char *org_name, const char *unit_name);
/* `ospayd backup`: a consistent copy of a (possibly running) server's data dir. */
int srv_backup(const char *dir, const char *out);

/* Paths inside a data dir. */
#define SRV_MASTER_KEY_FILE "master.key"
#define SRV_TLS_CERT_FILE "tls.crt"
#define SRV_TLS_KEY_FILE "tls.key"
#define SRV_STORE_DIR "store"
int srv_load_master_key(const char *dir, uint8_t key[CRYPTO_KEY_LEN]);

/*
 * The data dir's lock file: held by a serving ospayd for its lifetime and by
 * `ospayd rotate-key`, so they never run on one data dir together. An
 * exclusive flock, released when the process ends however it ends. 0 and
 * *fd, -EWOULDBLOCK when another process holds it, or -errno.
 */
#define SRV_LOCK_FILE "ospayd.lock"
int srv_data_lock(const char *dir, int *fd);
/* Largest vault key id: rotations are rare, every key is derived at start. */
#define SRV_VAULT_MAX_KEYS 1000
/*
 * The vault keys of a store: ids 1..current (current is the last id in
 * DB_VAULT_KEYS, 1 when none was ever added), derived from master. *keys
 * (caller frees after vault_key_wipe of each) has *n entries, the last the
 * current one. 0 or a store error / -ENOMEM / -ERANGE.
 */
int srv_vault_keys_load(store_t *st, const uint8_t master[CRYPTO_KEY_LEN], vault_key_t **keys,
			size_t *n);
void srv_vault_keys_free(vault_key_t *keys, size_t n);
/*
 * `ospayd rotate-key`: a new current key, every sealed record sealed again
 * under it, batch records per transaction (0: 256; at most 1024). With
 * max_batches > 0 it stops after that many transactions, the rotation left
 * unfinished; the next call resumes it under the same key instead of adding one.
 */
int srv_rotate_key(const char *dir, size_t batch, uint64_t max_batches);

#endif
