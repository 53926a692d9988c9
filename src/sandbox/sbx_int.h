/*
 * Internals shared by the sandbox's emulation files: the state, bounded
 * tables, the string-keyed hash index, request helpers and JSON helpers.
 */
#ifndef OSPAY_SANDBOX_SBX_INT_H
#define OSPAY_SANDBOX_SBX_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/list.h"
#include "sandbox/sbx.h"

/* Caps on what the sandbox remembers; the oldest record goes first. */
#define SBX_MAX_ORGS 256
#define SBX_MAX_SALES 100000
#define SBX_MAX_CARDS 100000
#define SBX_MAX_GN_ACCESS 4096
#define SBX_MAX_GN_NTOKENS 100000
#define SBX_MAX_GN_VAULT 100000
#define SBX_MAX_GN_PAYMENTS 100000
#define SBX_MAX_PL_ORDERS 50000
#define SBX_MAX_ZM_MESSAGES 50000
#define SBX_MAX_SENT 20000
#define SBX_MAX_CHARGES 100000
#define SBX_MAX_HOOKLOG 20000
#define SBX_MAX_OUTBOX 20000
#define SBX_MAX_PX_RECS 50000
#define SBX_MAX_PX_COBRS 100000
#define SBX_MAX_PX_COBS 50000
#define SBX_MAX_FAULTS 128
#define SBX_MAX_TABLES 24
#define SBX_PL_MAX_INSTALLMENTS 24
/* Longest text a recorded SMS/WhatsApp message keeps. */
#define SBX_MAX_TEXT 2048
/* Most path segments a route has. */
#define SBX_MAX_ARGS 4

/* ---- string-keyed hash index (intrusive, duplicates allowed, newest first) */

typedef struct sbx_hnode {
	struct sbx_hnode *next;
	uint64_t hash;
	const char *key; /* points into the record */
} sbx_hnode_t;

typedef struct sbx_htab {
	sbx_hnode_t **b;
	size_t mask;
} sbx_htab_t;

int sbx_htab_init(sbx_htab_t *t, size_t expected);
void sbx_htab_free(sbx_htab_t *t);
void sbx_htab_insert(sbx_htab_t *t, sbx_hnode_t *n, const char *key);
/* First (newest) node with key, or NULL; sbx_htab_next gives older ones. */
sbx_hnode_t *sbx_htab_find(const sbx_htab_t *t, const char *key);
sbx_hnode_t *sbx_htab_next(const sbx_hnode_t *n);
void sbx_htab_remove(sbx_htab_t *t, sbx_hnode_t *n);

static inline void *sbx_htab_record(sbx_hnode_t *n, size_t node_offset)
{
	return n != NULL ? (char *)n - node_offset : NULL;
}

/* The newest record of type `type` under key, through its node `member`; NULL when none. */
#define SBX_HTAB_GET(t, key, type, member)                                                         \
	((type *)sbx_htab_record(sbx_htab_find((t), (key)), offsetof(type, member)))

/* ---- bounded FIFO tables: every record starts with its list node */

/* One hash index over a table's records: each record keeps its node for the index
 * at node_off and its key (a char array) at key_off. */
typedef struct sbx_index {
	sbx_htab_t *htab;
	size_t node_off;
	size_t key_off;
} sbx_index_t;

/* The index htab over records of type `type`, through node `node`, by key `key`. */
#define SBX_INDEX(htab, type, node, key)                                                           \
	{                                                                                          \
		(htab), offsetof(type, node), offsetof(type, key)                                  \
	}

#define SBX_TABLE_MAX_INDEXES 3

typedef struct sbx_table {
	list_node_t fifo; /* oldest first */
	size_t n;
	size_t cap;
	size_t n_idx;
	sbx_index_t idx[SBX_TABLE_MAX_INDEXES];
	/* Wipes or frees what a record holds besides itself; NULL when nothing. */
	void (*forget)(list_node_t *rec);
} sbx_table_t;

/* A table as its service declares it: at most cap records, the indexes over them
 * (unused ones all zero) and what a record holds besides itself (forget, may be NULL). */
typedef struct sbx_table_spec {
	sbx_table_t *table;
	size_t cap;
	sbx_index_t idx[SBX_TABLE_MAX_INDEXES];
	void (*forget)(list_node_t *rec);
} sbx_table_spec_t;

/* Opens spec->table (each index's hash table sized for cap). 0, or -ENOMEM / -EIO
 * with the table still to be closed. */
int sbx_table_open(const sbx_table_spec_t *spec);
/* Makes room for one more record (dropping the oldest), then appends rec and
 * indexes it under each non-empty key. */
void sbx_table_add(sbx_table_t *t, list_node_t *rec);
/* Drops every record: out of its indexes, forgotten, freed. */
void sbx_table_clear(sbx_table_t *t);
/* Drops every record and frees the indexes. */
void sbx_table_close(sbx_table_t *t);
/* Opens the n tables specs declares and keeps them in s: sbx_clear clears them
 * and sbx_free closes them. 0, -ENOSPC (more than SBX_MAX_TABLES), -ENOMEM or -EIO. */
int sbx_tables_open(sbx_t *s, const sbx_table_spec_t *specs, size_t n);

/* ---- OAuth2 access tokens (GetNet's and Pix's, one table: s->gn_access) */

typedef struct sbx_access {
	list_node_t age;
	sbx_hnode_t by_tok;
	uint64_t org;
	char service[8]; /* "getnet", "pix": a token opens only its own service */
	char token[37];
	int64_t expires_ms;
} sbx_access_t;

/* A new token of org at service living ttl_ms; NULL when out of memory. */
sbx_access_t *sbx_access_issue(sbx_t *s, const char *service, uint64_t org, int64_t ttl_ms);
/* The service's token named by the request's "Authorization: Bearer …", expired or
 * not (the caller tells which), or NULL. */
sbx_access_t *sbx_access_bearer(sbx_t *s, const sbx_req_t *rq, const char *service);

/* ---- organizations and their credentials at each service */

typedef struct sbx_org {
	uint64_t id;
	bool cielo, getnet, pagolivre, zapme, pix;
	char cielo_mid[64];
	char cielo_mkey[128];
	size_t cielo_n_hdr;
	char cielo_hname[3][64];
	char cielo_hvalue[3][256];
	char gn_client_id[128];
	char gn_client_secret[128];
	char gn_seller_id[128];
	char pl_token[256];
	char zm_api[128];
	char zm_secret[128];
	char zm_hook_header[64];
	char zm_hook_secret[256];
	char px_client_id[128];
	char px_client_secret[128];
	/* The query of the webhook URLs ospay registered ("" = none registered). */
	char px_hook_rec[300];
	char px_hook_cobr[300];
	char px_hook_pix[300]; /* PUT /webhook/{chave}: Pix received, "/pix" */
	/* The receiver's Pix key; "" = any key is taken as the organization's. */
	char px_key[80];
} sbx_org_t;

/* ---- faults */

enum sbx_fault_kind {
	SBX_F_LATENCY = 1,
	SBX_F_HTTP500,
	SBX_F_TIMEOUT,
	SBX_F_RESET,
	SBX_F_MALFORMED,
	SBX_F_HOOK_DUPLICATE,
	SBX_F_HOOK_DELAY,
	SBX_F_HOOK_REORDER,
	SBX_F_HOOK_BAD_AUTH,
	SBX_F_HOOK_DROP,
	SBX_F_HOOK_LIE,
};

/* Longest "set" of a lie fault, as compact JSON. */
#define SBX_LIE_MAX 512

typedef struct sbx_fault {
	uint64_t id;
	enum sbx_fault_kind kind;
	char service[16];  /* "*" for every service */
	char route[32];    /* "*" for every route (request faults only) */
	uint32_t ms;       /* latency, hook delay, reorder window */
	uint32_t copies;   /* duplicate: extra copies; reorder: batch size */
	int64_t remaining; /* requests or hooks still affected; -1 = until deleted */
	bool process;      /* run the request before failing it */
	uint64_t hits;
	/* lie: the members written into the body (compact JSON object), or the
	 * whole body instead when lie_body, and the body member the webhook must
	 * carry and whose items take them ("" = the body's one list, else the
	 * body itself). Text, so faults stay plain values to copy and move. */
	char lie_set[SBX_LIE_MAX];
	char lie_in[32];
	bool lie_body;
} sbx_fault_t;

/* ---- the emulator */

struct sbx {
	char *webhook_base;
	char *self_base;
	uint64_t epoch;
	uint64_t next_id; /* sandbox-wide counter for ids, NSUs, TIDs */
	uint64_t now_mono;

	size_t n_orgs;
	sbx_org_t orgs[SBX_MAX_ORGS];

	/* Every table below, as the services opened them. */
	size_t n_tables;
	sbx_table_t *tables[SBX_MAX_TABLES];

	size_t n_faults;
	sbx_fault_t faults[SBX_MAX_FAULTS];
	uint64_t next_fault_id;

	/* settings (control API) */
	uint32_t gn_token_ttl_ms;
	uint32_t hook_retry_ms;
	uint32_t hook_timeout_ms;
	uint32_t pl_expiry_s;
	/* 1: a later stored-credential charge must send back the network id of
	 * the card's first approved one, or it is denied (docs/sandbox.md). */
	uint32_t require_ntid;
	/* The next cielo_next_n Cielo sales are denied with this code, message and
	 * Mastercard advice code (POST /control/cielo/decline). */
	uint32_t cielo_next_n;
	char cielo_next_code[8], cielo_next_msg[40], cielo_next_mac[4];
	bool cielo_next_new_card; /* the decline names a replacement card (Renova Fácil) */

	/* Cielo */
	sbx_table_t sales;
	sbx_htab_t sale_by_id, sale_by_moid;
	sbx_table_t cards;
	sbx_htab_t card_by_token;
	/* GetNet */
	sbx_table_t gn_access;
	sbx_htab_t gn_access_by_tok;
	sbx_table_t gn_ntokens;
	sbx_htab_t gn_ntoken_by_tok;
	sbx_table_t gn_vault;
	sbx_htab_t gn_vault_by_id;
	sbx_table_t gn_payments;
	sbx_htab_t gn_pay_by_id, gn_pay_by_order;
	/* PagoLivre */
	sbx_table_t pl_orders;
	sbx_htab_t pl_by_id, pl_by_key, pl_by_req;
	/* ZapMe */
	sbx_table_t zm_messages;
	sbx_htab_t zm_by_id;
	uint64_t zm_next_id;
	/* Pix Automático (its tokens are in gn_access) */
	sbx_table_t px_locs;
	sbx_htab_t px_loc_by_id;
	sbx_table_t px_recs;
	sbx_htab_t px_rec_by_id;
	sbx_table_t px_cobrs;
	sbx_htab_t px_cobr_by_txid;
	sbx_table_t px_cobs; /* cob and cobv: journeys 3 and 4 */
	sbx_htab_t px_cob_by_txid;
	int64_t px_today; /* day number set by /control/pix/settle; 0 = the wall clock's */
	/* recordings */
	sbx_table_t sent; /* SMS and WhatsApp messages */
	sbx_table_t charges;
	sbx_htab_t charge_by_moid;
	sbx_table_t hooklog;
	uint64_t next_hook_id;

	/* webhooks ready to go, and those held by a reorder fault */
	list_node_t outbox;
	size_t n_outbox;
	list_node_t held;
	size_t n_held;
	size_t held_batch;
	uint64_t held_since;
	uint32_t held_window_ms;
	uint64_t hooks_overflowed;
};

/* ---- route tables */

/* One routed request as its handler sees it; all of it is borrowed for the call. */
typedef struct sbx_call {
	const sbx_req_t *rq;
	const char *const *args; /* the pattern's '*' segments, in order */
	json_t *body;            /* the body as JSON, NULL when empty or not JSON */
	sbx_org_t *org;          /* who the service's credentials name; NULL on open routes */
} sbx_call_t;

typedef void (*sbx_route_fn)(sbx_t *s, const sbx_call_t *call, sbx_resp_t *rs);

typedef struct sbx_route {
	const char *method;
	const char *pattern; /* "/1/sales/{x}" form; a star matches one non-empty segment */
	const char *name;    /* stable name used by faults (NULL on the control API's) */
	sbx_route_fn fn;
} sbx_route_t;

/* Finds the route for method and path (args, SBX_MAX_ARGS + 1 of them, receive the
 * '*' segments as NUL-terminated copies in argbuf, NULL past the last). Returns it,
 * or NULL with *method_mismatch set when the path exists under another method. */
const sbx_route_t *sbx_route_find(const sbx_route_t *table, size_t n, const char *method,
				  const char *path, char *argbuf, size_t argcap, const char **args,
				  bool *method_mismatch);

extern const sbx_route_t sbx_cielo_routes[];
extern const size_t sbx_cielo_n_routes;
extern const sbx_route_t sbx_getnet_routes[];
extern const size_t sbx_getnet_n_routes;
extern const sbx_route_t sbx_pagolivre_routes[];
extern const size_t sbx_pagolivre_n_routes;
extern const sbx_route_t sbx_zapme_routes[];
extern const size_t sbx_zapme_n_routes;
extern const sbx_route_t sbx_pix_routes[];
extern const size_t sbx_pix_n_routes;

/*
 * Each service's authentication, which its routes pass before they run: the
 * organization the request's credentials name, or NULL after answering 401 in the
 * service's own error shape.
 */
sbx_org_t *sbx_cielo_auth(sbx_t *s, const sbx_req_t *rq, sbx_resp_t *rs);
sbx_org_t *sbx_getnet_auth(sbx_t *s, const sbx_req_t *rq, sbx_resp_t *rs);
sbx_org_t *sbx_pagolivre_auth(sbx_t *s, const sbx_req_t *rq, sbx_resp_t *rs);
sbx_org_t *sbx_zapme_auth(sbx_t *s, const sbx_req_t *rq, sbx_resp_t *rs);
sbx_org_t *sbx_pix_auth(sbx_t *s, const sbx_req_t *rq, sbx_resp_t *rs);

/* The routes of the emulated service named name ("cielo", "pix"...) in *routes, and
 * how many; 0 when no service has that name. */
size_t sbx_service_routes(const char *name, const sbx_route_t **routes);

/* Per-service state setup: opens the service's tables (sbx_tables_open). */
int sbx_cielo_init(sbx_t *s);
int sbx_getnet_init(sbx_t *s);
int sbx_pagolivre_init(sbx_t *s);
int sbx_zapme_init(sbx_t *s);
int sbx_pix_init(sbx_t *s);

/* Control calls that belong to one service (sbx_control.c routes to them). */
void sbx_pagolivre_control(sbx_t *s, const char *ref, const char *action, json_t *body,
			   sbx_resp_t *rs);
void sbx_zapme_control_status(sbx_t *s, const char *id, json_t *body, sbx_resp_t *rs);
json_t *sbx_pagolivre_order_json(sbx_t *s, const void *order);
/* Pix: the payer's bank settling scheduled attempts, per-cobr outcomes, the payer on a rec. */
void sbx_pix_control_settle(sbx_t *s, json_t *body, sbx_resp_t *rs);
void sbx_pix_control_cobr(sbx_t *s, const char *txid, json_t *body, sbx_resp_t *rs);
void sbx_pix_control_payer_cancel(sbx_t *s, const char *txid, sbx_resp_t *rs);
void sbx_pix_control_rec(sbx_t *s, const char *id, const char *action, json_t *body,
			 sbx_resp_t *rs);
/* Pix: the payer pays a cob or cobv ("pay", optionally opting in to journey 4) or lets
 * it expire ("expire"). */
void sbx_pix_control_cob(sbx_t *s, const char *txid, const char *action, json_t *body,
			 sbx_resp_t *rs);

/* The control API (/control/...). */
void sbx_control(sbx_t *s, const sbx_req_t *rq, const char *sub, sbx_resp_t *rs);
/* Recordings as JSON arrays (filters may be NULL), for the control API. */
json_t *sbx_charges_json(sbx_t *s, const char *moid);
json_t *sbx_sent_json(sbx_t *s, const char *service, const char *phone);
json_t *sbx_hooklog_json(sbx_t *s, const char *service);
/* Drops every record, fault, setting and queued webhook; organizations stay when keep_orgs. */
void sbx_clear(sbx_t *s, bool keep_orgs);

/* ---- helpers (sbx_util.c) */

sbx_org_t *sbx_org_find(sbx_t *s, uint64_t id);
const char *sbx_req_header(const sbx_req_t *rq, const char *name);
/* Looks name up in an x-www-form-urlencoded string (query or body) and decodes
 * it into out; false when absent or longer than cap - 1. */
bool sbx_form_get(const char *form, size_t len, const char *name, char *out, size_t cap);
/* Percent-encodes s for a query string into out; false when it does not fit. */
bool sbx_url_encode(const char *s, char *out, size_t cap);

void sbx_resp_set(sbx_resp_t *rs, int status, const char *ctype, const char *body, size_t len);
/* Answers status with j as the body (steals j; j may be NULL for an empty body). */
void sbx_resp_json(sbx_resp_t *rs, int status, json_t *j);
/* Parses the request body as JSON (objects or arrays); NULL when it is not JSON. */
json_t *sbx_req_json(const sbx_req_t *rq);
/* The string member key of o, or NULL when absent or not a string. */
const char *sbx_jstr(const json_t *o, const char *key);
/* The integer member key of o in *out; false when absent or not an integer. */
bool sbx_jint(const json_t *o, const char *key, int64_t *out);
/* The boolean member key of o, def when absent or not a boolean. */
bool sbx_jbool(const json_t *o, const char *key, bool def);
/* Copies src into dst (cap bytes) when it fits; false otherwise. */
bool sbx_copy(char *dst, size_t cap, const char *src);

/* A random version-4 UUID (37 bytes with the NUL). */
void sbx_uuid(char out[37]);
/* n random lowercase hex characters plus a NUL (out holds n + 1). */
void sbx_hexid(char *out, size_t n);
uint64_t sbx_next(sbx_t *s);

/* Time formats: "2025-11-24 18:04:07" in Brasília time (UTC-03:00), and
 * RFC 3339 UTC with milliseconds. */
void sbx_time_brt(int64_t ms, char out[32]);
void sbx_time_iso(int64_t ms, char out[32]);

/* The card number's final digit (0-9), or -1 when it has none. */
int sbx_final_digit(const char *number);
/* True for 12-19 digits passing the Luhn check. */
bool sbx_luhn_ok(const char *number);
/* Mask "455187******0181": first 6 and last 4 digits. */
void sbx_mask_card(const char *number, char out[24]);

/* ---- recordings */

/* Records one charge attempt (Cielo sale, GetNet payment, PagoLivre installment). */
void sbx_charge_record(sbx_t *s, const char *service, uint64_t org, const char *moid,
		       const char *payment_id, int64_t amount, bool approved, const char *status,
		       const char *code, const char *message, int installment);
/* What a card charge request said about its stored credential, as received. */
typedef struct sbx_cof {
	bool recurrent;         /* Cielo's Payment.Recurrent */
	const char *initiator;  /* Cielo's InitiatedTransactionIndicator "Category/Subcategory" */
	const char *usage;      /* Cielo CardOnFile.Usage, GetNet credentials_on_file_type */
	const char *ntid_sent;  /* IssuerTransactionId / credit.transaction_id sent, "" none */
	const char *ntid_reply; /* the network id the answer carried, "" none */
} sbx_cof_t;
/* POST /control/cielo/decline: queues a decline for the next Cielo sales. */
void sbx_cielo_control_decline(sbx_t *s, json_t *body, sbx_resp_t *rs);
/* Marks the last recorded charge of moid with what it said about its credential. */
void sbx_charge_mark(sbx_t *s, const char *moid, const sbx_cof_t *cof);
/* Records one SMS or WhatsApp message sent. */
void sbx_sent_record(sbx_t *s, const char *service, const char *channel, uint64_t org,
		     const char *phone, const char *text, const char *ref);

/*
 * Queues a webhook for org at service, applying the webhook faults that match.
 * path_query is appended to /webhooks/<service>/<org> (may be "" or "?a=b");
 * headers (n pairs, names then values) are sent as given. A "bad_auth" fault
 * replaces cred wherever it appears in the URL and header values, or, when cred
 * is NULL, every header value but Content-Type's. body may be NULL.
 */
void sbx_hook_emit(sbx_t *s, const char *service, uint64_t org, const char *method,
		   const char *path_query, const char *const (*headers)[2], size_t n_headers,
		   const char *body, size_t body_len, uint32_t max_attempts, const char *summary,
		   const char *cred);

#endif
