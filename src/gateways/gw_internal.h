/*
 * What the gateway adapters share: the call object, the adapter table, HTTP
 * and JSON helpers. Not part of the interface (gateway.h); the tests include it
 * to reach the parsers and request builders directly.
 */
#ifndef OSPAY_GATEWAYS_GW_INTERNAL_H
#define OSPAY_GATEWAYS_GW_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/list.h"
#include "gateways/gateway.h"

/* Longest path + query we build (ids are short; this is a cap, not an estimate). */
#define GW_PATH_MAX 1024
/* Payments one merchant order id may list before ospay stops looking at more. */
#define GW_MAX_ORDER_PAYMENTS 8
/* Largest request body ospay builds. */
#define GW_MAX_REQUEST_BODY (64u * 1024u)

typedef enum gw_op {
	GW_OP_CREATE_LINK = 1,
	GW_OP_QUERY_LINK,
	GW_OP_CANCEL_LINK,
	GW_OP_TOKENIZE,
	GW_OP_CHARGE,
	GW_OP_CANCEL_CHARGE,
	GW_OP_QUERY_CHARGE,
	GW_OP_QUERY_ORDER,
	GW_OP_SEND_MESSAGE,
	GW_OP_MESSAGE_STATUS,
	GW_OP_ZERO_AUTH,
	GW_OP_PIX_LOCATION,
	GW_OP_PIX_CREATE_REC,
	GW_OP_PIX_QUERY_REC,
	GW_OP_PIX_CANCEL_REC,
	GW_OP_PIX_SOLICREC,
	GW_OP_PIX_QUERY_SOLICREC,
	GW_OP_PIX_CANCEL_SOLICREC,
	GW_OP_PIX_PUT_COBR,
	GW_OP_PIX_QUERY_COBR,
	GW_OP_PIX_CANCEL_COBR,
	GW_OP_PIX_RETRY_COBR,
	GW_OP_PIX_WEBHOOK,
	GW_OP_PIX_PUT_COB,
	GW_OP_PIX_QUERY_COB,
	GW_OP_PIX_PUT_COBV,
	GW_OP_PIX_QUERY_COBV,
	GW_OP_PIX_QUERY_LOCATION,
} gw_op_t;

typedef struct gw_call gw_call_t;
typedef struct gw_parse gw_parse_t;

/* One adapter. A NULL entry means the service has no such call (-ENOTSUP). */
typedef struct gw_adapter {
	gw_kind_t kind;
	const char *name;
	const char *title; /* the service's own spelling, in sentences for people ("ZapMe") */
	/* GW_CHANNEL_BIT of each channel send_message delivers; 0 without send_message. */
	unsigned channels;
	/* Checks the kind-specific configuration (violations into st): 0, or -EINVAL
	 * when st holds any violation, its own or one found before it. */
	int (*check_config)(const gw_config_t *cfg, status_t *st);
	/* Adapter state behind gw->priv, created at open and freed at release. */
	int (*priv_init)(gw_t *gw);
	void (*priv_free)(gw_t *gw);
	int (*create_link)(gw_call_t *call, const gw_link_req_t *req);
	int (*query_link)(gw_call_t *call, const char *order_key);
	int (*cancel_link)(gw_call_t *call, const gw_cancel_link_req_t *req);
	int (*tokenize)(gw_call_t *call, const gw_card_t *card);
	int (*charge)(gw_call_t *call, const gw_charge_req_t *req);
	int (*zero_auth)(gw_call_t *call, const gw_zero_auth_req_t *req);
	int (*cancel_charge)(gw_call_t *call, const char *payment_id, int64_t amount_cents);
	int (*query_charge)(gw_call_t *call, const char *payment_id);
	int (*query_order)(gw_call_t *call, const char *merchant_order_id);
	int (*send_message)(gw_call_t *call, const gw_message_req_t *req);
	int (*message_status)(gw_call_t *call, const char *message_id);
	/* Pix: every call (call->op says which); a and b are the op's arguments. */
	int (*pix)(gw_call_t *call, const void *a, const void *b);
	int (*verify_webhook)(const gw_t *gw, const gw_webhook_req_t *req);
	int (*parse_webhook)(const gw_t *gw, const gw_webhook_req_t *req, gw_event_t *out);
	/* Instead of parse_webhook, for a notification that is one JSON object:
	 * gw_json_webhook loads it and calls this to read obj into ev; a problem
	 * left in p fails the notification as "<name>: <why>". */
	void (*webhook_fields)(gw_parse_t *p, const json_t *obj, gw_event_t *ev);
} gw_adapter_t;

#define GW_CHANNEL_BIT(c) (1u << (unsigned)(c))

extern const gw_adapter_t gw_cielo_adapter;
extern const gw_adapter_t gw_getnet_adapter;
extern const gw_adapter_t gw_pagolivre_adapter;
extern const gw_adapter_t gw_zapme_adapter;
extern const gw_adapter_t gw_pix_adapter;

/* Longest access token accepted. */
#define GW_OAUTH_TOKEN_MAX 2048

/*
 * An OAuth2 client-credentials token shared by an adapter's calls (gw_oauth.c):
 * embedded in the adapter's state, registered with gw_oauth_init.
 */
typedef struct gw_oauth {
	char token[GW_OAUTH_TOKEN_MAX]; /* secret: wiped when replaced and at free */
	bool have_token;
	uint64_t token_deadline; /* util_mono_ms() after which the token is not used */
	uint64_t generation;     /* bumped for every token stored */
	bool fetching;
	list_node_t waiters; /* calls waiting for the token fetch */
	uint32_t fetches;
	char basic[1500]; /* "Basic base64(client_id:client_secret)": secret */
	const char *service;
	int (*fetch)(gw_t *gw);           /* starts the token request (gw_oauth_fetch) */
	int (*send_now)(gw_call_t *call); /* sends a call with the token (gw_oauth_bearer) */
	void (*prep)(gw_call_t *call);    /* fills what a failed call's result keeps; may be NULL */
} gw_oauth_t;

/* The gateway: a copy of its configuration plus the adapter's state. */
struct gw {
	const gw_adapter_t *ad;
	http_client_t *http;
	uv_loop_t *loop;
	gw_config_t cfg; /* every string owned (strdup), secrets wiped at free */
	char *base_url;  /* without a trailing '/' */
	char *query_base_url;
	/* Calls and internal requests (GetNet's token fetch) still running. */
	uint32_t n_pending;
	bool closing;
	void *priv;
	gw_oauth_t *oauth; /* the adapter's shared token, when it has one */
};

/*
 * One call from start to callback. The adapter keeps whatever it needs for
 * multi-step calls here; everything is freed (and the sensitive parts wiped)
 * by gw_call_finish.
 */
struct gw_call {
	gw_t *gw;
	gw_op_t op;
	/* The request changes something at the service: a lost answer is UNKNOWN. */
	bool mutating;
	union {
		gw_charge_cb charge;
		gw_token_cb token;
		gw_link_cb link;
		gw_message_cb message;
		gw_pix_cb pix;
	} cb;
	void *arg;
	union {
		gw_reply_t r; /* the common head of every result */
		gw_charge_result_t charge;
		gw_token_result_t token;
		gw_link_result_t link;
		gw_message_result_t message;
		gw_pix_result_t pix;
	} res;

	/* The HTTP request to (re)send: GetNet sends it once a token is there. */
	const char *method;
	char path[GW_PATH_MAX];
	bool query_host; /* Cielo: use the query host */
	const char *content_type;
	char *body; /* owned; wiped at free (it may hold card data) */
	size_t body_len;

	/* Multi-step calls. */
	int step;
	list_node_t wait_node; /* GetNet: waiting for the OAuth token */
	bool auth_retried;     /* GetNet: already re-sent once after a 401 */
	uint64_t token_gen;    /* GetNet: which token the request was sent with */
	json_t *pending;       /* GetNet: the second request's body, finished later */
	gw_brand_t brand;
	char merchant_order_id[GW_ORDER_ID_MAX];
	char ids[GW_MAX_ORDER_PAYMENTS][GW_ID_MAX];
	size_t n_ids;
	size_t next_id;
	gw_charge_result_t best; /* Cielo: the winner so far among an order's payments */
	bool have_best;
};

/* ------------------------------------------------------------------ calls */

/* Runs the call's callback with its result, then frees it. */
void gw_call_finish(gw_call_t *call);

/* Keeps gw alive across an internal request that is not a call (GetNet's
 * token fetch); the release may free a closing gateway, so it comes last. */
void gw_pending_hold(gw_t *gw);
void gw_pending_release(gw_t *gw);

/*
 * Sends call's method/path/body to the base URL (or the query host) with
 * headers, completing into cb(res, call). Returns 0 or the HTTP client's
 * immediate error.
 */
int gw_http_send(gw_call_t *call, const http_header_t *headers, size_t n_headers, http_done_cb cb);

/* Adds the configured mutual-TLS certificate and key (borrowed from gw) to req. */
void gw_http_client_cert(const gw_t *gw, http_request_t *req);

/* Replaces call->body with a compact dump of body (ownership of body stays). */
int gw_call_set_json(gw_call_t *call, const json_t *body);

/* Sets call->path from a printf format; -E2BIG when it does not fit. */
int gw_call_path(gw_call_t *call, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------------ OAuth2 tokens */

/* Builds o's Basic credentials from gw's client id and secret and makes o gw's token. */
int gw_oauth_init(gw_t *gw, gw_oauth_t *o, const char *service, int (*fetch)(gw_t *gw),
		  int (*send_now)(gw_call_t *call), void (*prep)(gw_call_t *call));
/* The same with the token as the adapter's whole state (gw->priv), and its free. */
int gw_oauth_priv_init(gw_t *gw, const char *service, int (*fetch)(gw_t *gw),
		       int (*send_now)(gw_call_t *call), void (*prep)(gw_call_t *call));
void gw_oauth_priv_free(gw_t *gw);
/* How long a token fetched at obtained_ms that lives expires_in_s seconds may be
 * used: until the returned instant (ms), a tenth of its life early, at most a minute. */
uint64_t gw_oauth_deadline(uint64_t obtained_ms, int64_t expires_in_s);
/* Sends req (URL, headers, body set by the adapter) as the token request. */
int gw_oauth_fetch(gw_t *gw, http_request_t *req);
/* Sends call now with a live token, or queues it behind a fetch (starting one). */
int gw_oauth_send(gw_call_t *call);
/* "Bearer <token>" into out, noting which token the call is sent with. */
void gw_oauth_bearer(gw_call_t *call, char *out, size_t cap);
/* A 401 on a call not yet re-sent: the token is dropped and the call re-sent
 * once (or failed); true when it was handled so. */
bool gw_oauth_resend_401(gw_call_t *call, const http_response_t *res);
/* Completes a call that could not be sent: why (the token's failure) or err/what. */
void gw_oauth_fail(gw_call_t *call, const gw_reply_t *why, int err, const char *what);

/* ------------------------------------------------------------------ classification */

/*
 * Fills r for a response that is not the success the adapter wanted: a
 * transport failure, or an HTTP status the adapter has no parser for.
 * Transport failures: never sent -> ERROR_RETRYABLE, else mutating ? UNKNOWN :
 * ERROR_RETRYABLE. HTTP: 401/403 AUTH_FAILED, 404 NOT_FOUND, 429
 * ERROR_RETRYABLE, 5xx mutating ? UNKNOWN : ERROR_RETRYABLE, other REJECTED.
 */
void gw_reply_from_http(gw_reply_t *r, const http_response_t *res, bool mutating,
			const char *service);

/* An answer that arrived but could not be understood (malformed JSON, wrong
 * types): UNKNOWN for mutating calls, else ERROR_RETRYABLE, error -EBADMSG. */
void gw_reply_malformed(gw_reply_t *r, long http_status, bool mutating, const char *service,
			const char *why);

/* After a call that creates something (a sale, a token, an order, a message)
 * a 404 means a wrong URL, not a missing object: the request was refused. */
void gw_reply_create_404(gw_reply_t *r);

/* Copies a service message into r->message with secrets and card-like digit
 * runs redacted and control characters replaced. */
void gw_reply_message(const gw_t *gw, gw_reply_t *r, const char *msg);

/* Cielo's ABECS table (reference 1.10): true when a decline with code must not be retried. */
bool gw_code_irreversible(const char *code, gw_brand_t brand);

/* ------------------------------------------------------------------ JSON reading */

/* Per field: required, may be truncated (messages), an id (charset checked),
 * may be a JSON integer instead of a string (codes). */
enum {
	GW_F_REQ = 1u << 0,
	GW_F_TRUNC = 1u << 1,
	GW_F_ID = 1u << 2,
	GW_F_NUMOK = 1u << 3,
};

/* Collects the first problem met while reading a parsed body. */
struct gw_parse {
	int err; /* 0, or -EBADMSG once something was wrong */
	char why[160];
};

void gw_parse_fail(gw_parse_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parses body (len bytes) as JSON: rejects duplicate keys, NUL in strings and
 * trailing garbage. NULL with p->why on failure. */
json_t *gw_json_parse(gw_parse_t *p, const void *body, size_t len);

/* A JSON object's notification read by gw->ad->webhook_fields: 0, or -EBADMSG
 * with ev->error (the body is not a JSON object, or the fields failed). */
int gw_json_webhook(const gw_t *gw, const gw_webhook_req_t *req, gw_event_t *ev);

/*
 * Reads obj[key] (obj may be NULL) into out (cap bytes): true when present and
 * valid. Absent or null: false, and a failure when GW_F_REQ. Wrong type, too
 * long (without GW_F_TRUNC) or a bad id: false and a failure. ctx names the
 * object in messages ("Payment").
 */
bool gw_get_str(gw_parse_t *p, const json_t *obj, const char *ctx, const char *key, char *out,
		size_t cap, unsigned flags);
/* An integer in [min, max]; a number given as a string is a failure. */
bool gw_get_int(gw_parse_t *p, const json_t *obj, const char *ctx, const char *key, int64_t *out,
		int64_t min, int64_t max, unsigned flags);
/* An integer in [min, max] given either as a number or as a string of digits. */
bool gw_get_int_lenient(gw_parse_t *p, const json_t *obj, const char *ctx, const char *key,
			int64_t *out, int64_t min, int64_t max, unsigned flags);
bool gw_get_bool(gw_parse_t *p, const json_t *obj, const char *ctx, const char *key, bool *out,
		 unsigned flags);
/* The object or array at obj[key]; NULL when absent/null (a failure with
 * GW_F_REQ) or of the wrong type (a failure). */
json_t *gw_get_object(gw_parse_t *p, const json_t *obj, const char *ctx, const char *key,
		      unsigned flags);
json_t *gw_get_array(gw_parse_t *p, const json_t *obj, const char *ctx, const char *key,
		     unsigned flags);

/* Decimal reais (a JSON number or a string "157.00") to centavos; false on a
 * failure (negative, more than 2 decimals, too large). */
bool gw_get_reais(gw_parse_t *p, const json_t *obj, const char *ctx, const char *key,
		  int64_t *cents, unsigned flags);

/* ------------------------------------------------------------------ JSON writing */

/* json_object_set_new that records a failure (a NULL value from a constructor
 * that ran out of memory or met invalid UTF-8) in *rc. */
void gw_jset(json_t *obj, const char *key, json_t *value, int *rc);
/* A new empty object set at obj[key] (obj may be NULL): the object, which obj
 * owns, or NULL with the failure in *rc. */
json_t *gw_jobject_at(json_t *obj, const char *key, int *rc);

/* ------------------------------------------------------------------ status words */

/* A status word of a service's and the outcome it means. */
typedef struct gw_outcome_word {
	const char *word;
	gw_outcome_t o;
} gw_outcome_word_t;

/* The outcome of the word s in map (n rows, compared without case);
 * GW_OUTCOME_UNKNOWN for a word not in it. */
gw_outcome_t gw_outcome_of(const gw_outcome_word_t *map, size_t n, const char *s);

/* ------------------------------------------------------------------ request checks */

/* True when s is non-empty, at most max bytes, and every byte is in allowed
 * (a string of characters; "A-Z" style ranges are not interpreted). */
bool gw_str_charset(const char *s, size_t max, bool (*ok)(int c));
bool gw_is_digit(int c);
bool gw_is_alnum(int c);
/* Letters, digits and "-_.:" : what ospay accepts in ids it sends in paths. */
bool gw_is_id_char(int c);
/* Valid UTF-8 without control characters, 1..max bytes. */
bool gw_text_ok(const char *s, size_t max);
/* The same, with line breaks and tabs allowed (message texts). */
bool gw_text_multiline_ok(const char *s, size_t max);

/* Percent-encodes s (unreserved characters kept) into out; -E2BIG when it does not fit. */
int gw_url_encode(const char *s, char *out, size_t cap);

/* The request line of a query or cancel by one of the gateway's ids: the id checked
 * (gw_is_id_char, below GW_ID_MAX: -EINVAL otherwise, nothing set), then the method and
 * the path prefix + percent-encoded id + suffix (-E2BIG when it does not fit). */
int gw_call_id_path(gw_call_t *call, const char *method, const char *prefix, const char *id,
		    const char *suffix);

/*
 * Finds key in an application/x-www-form-urlencoded string (query strings
 * too) and decodes its value into out. Returns 0, -ENOENT (absent), -EEXIST
 * (given twice), -E2BIG (too long), -EINVAL (bad escape or a NUL).
 */
int gw_form_get(const char *s, size_t len, const char *key, char *out, size_t cap);

/* The first header called name (case-insensitive); NULL when absent.
 * *count receives how many there are (may be NULL). */
const char *gw_header_get(const gw_webhook_req_t *req, const char *name, size_t *count);

/*
 * Constant-time equality of a received credential and the configured one:
 * both are hashed (SHA-256) and the digests compared with crypto_equal, so
 * neither content nor length leaks through timing. Empty configured secrets
 * never match.
 */
bool gw_secret_equal(const char *got, size_t got_len, const char *want);
/* How many gw_secret_equal comparisons ran (tests check webhooks use it). */
uint64_t gw_secret_compare_count(void);

/* Checks every configured header pair of gw against req (Cielo, ZapMe). */
int gw_verify_header_pairs(const gw_t *gw, const gw_webhook_req_t *req);

/* event_id = s when it fits, else "sha256:" + hex of s. */
void gw_event_id_set(gw_event_t *ev, const char *s);
/* For services whose notifications carry no id: the id made of the event's
 * content (printf-style), marked derived. */
void gw_event_id_derive(gw_event_t *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The service's own event id when it sent one (given not ""), else as gw_event_id_derive. */
void gw_event_id_given_or_derive(gw_event_t *ev, const char *given, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A version-4-shaped UUID derived from label and key (SHA-256): the same
 * inputs always give the same id, for idempotency keys (out >= 37 bytes). */
void gw_uuid_from(const char *label, const char *key, char out[37]);

/* Copies src into dst (cap bytes); false (and dst "") when it does not fit. */
bool gw_copy(char *dst, size_t cap, const char *src);

/* ------------------------------------------------------------------ adapter internals for tests */

/* Cielo: reads a sale (POST /1/sales/ or GET /1/sales/{id}) answer into out. */
void gw_cielo_parse_sale(const gw_t *gw, const http_response_t *res, bool mutating,
			 gw_brand_t brand, gw_charge_result_t *out);
/* Cielo: builds the body of POST /1/sales/; -EINVAL when req is not valid. */
int gw_cielo_build_sale(const gw_t *gw, const gw_charge_req_t *req, json_t **out);
/* Cielo: the MerchantOrderId sent for ours ('-' written as 'x'); -EINVAL when invalid. */
int gw_cielo_order_id(const char *ours, char out[GW_ORDER_ID_MAX]);

/* GetNet: how long a token fetched at obtained_ms that lives expires_in_s
 * seconds may be used: until the returned instant (ms). */
uint64_t gw_getnet_token_deadline(uint64_t obtained_ms, int64_t expires_in_s);
/* GetNet: builds the body of POST /v1/payments/credit (number_token left empty). */
int gw_getnet_build_payment(const gw_t *gw, const gw_charge_req_t *req, json_t **out);
/* GetNet: reads a payment answer (success or the error shape of 2.7). */
void gw_getnet_parse_payment(const gw_t *gw, const http_response_t *res, bool mutating,
			     gw_charge_result_t *out);
/* GetNet: the OAuth token fetches started so far (tests). */
uint32_t gw_getnet_token_fetches(const gw_t *gw);

/* PagoLivre: builds the body of POST /orders. */
int gw_pagolivre_build_order(const gw_t *gw, const gw_link_req_t *req, json_t **out);
/* PagoLivre: reads an order answer into out. */
void gw_pagolivre_parse_order(const gw_t *gw, const http_response_t *res, bool mutating,
			      gw_link_result_t *out);

/* Pix: reads a rec, solicrec, cobr, cob, cobv or location answer (op says which) into out. */
void gw_pix_parse(const gw_t *gw, gw_op_t op, const http_response_t *res, bool mutating,
		  gw_pix_result_t *out);
/* Pix: builds the bodies of POST /rec and PUT /cobr/{txid}; -EINVAL when invalid. */
int gw_pix_build_rec(const gw_t *gw, const gw_pix_rec_req_t *req, json_t **out);
int gw_pix_build_cobr(const gw_t *gw, const gw_pix_cobr_req_t *req, json_t **out);
/* Pix: the token fetches started so far (tests). */
uint32_t gw_pix_token_fetches(const gw_t *gw);

/* ZapMe: reads a send or status answer into out. */
void gw_zapme_parse(const gw_t *gw, const http_response_t *res, bool mutating,
		    gw_message_result_t *out);

#endif
