/*
 * ospay-sandbox's emulation core: every external service ospayd talks to
 * (Cielo API 3.0, GetNet, PagoLivre, ZapMe) and the control API, as plain
 * functions from one HTTP request to one response. No I/O happens here: the
 * HTTP layer (sbx_http.c) feeds requests in and carries out what the response
 * asks for (answer, answer late, never answer, reset), and the webhook layer
 * (sbx_hooks.c) drains the outbox of webhooks the emulated services want to
 * send back to ospayd.
 *
 * Written from the services' published APIs (docs/gateways.md), never from
 * ospay's own adapters: it is the other side of the wire. docs/sandbox.md documents every route,
 * outcome rule and control call.
 *
 * Single-threaded. All state is bounded: every table keeps at most a fixed
 * number of records and forgets the oldest first.
 */
#ifndef OSPAY_SANDBOX_SBX_H
#define OSPAY_SANDBOX_SBX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/list.h"

/* Largest request body the sandbox reads (the HTTP layer enforces it). */
#define SBX_MAX_BODY (1u << 20)
/* Most headers one webhook carries (Cielo: 3 registered + Content-Type). */
#define SBX_HOOK_MAX_HDR 5

typedef struct sbx sbx_t;

typedef struct sbx_header {
	const char *name;
	const char *value;
} sbx_header_t;

/* One request; every pointer is borrowed for the duration of sbx_handle. */
typedef struct sbx_req {
	const char *method; /* upper case */
	const char *path;   /* not percent-decoded, without the query */
	const char *query;  /* after '?', "" when none */
	const sbx_header_t *headers;
	size_t n_headers;
	const uint8_t *body; /* body_len bytes followed by a NUL */
	size_t body_len;
} sbx_req_t;

/* What the HTTP layer must do with a response. */
enum sbx_action {
	SBX_ACT_RESPOND = 0, /* send it (after delay_ms) */
	SBX_ACT_HANG,        /* accept the request and never answer */
	SBX_ACT_RESET,       /* close the connection with a TCP reset, no answer */
};

/* One response, owned by whoever passed it to sbx_handle (free with sbx_resp_free). */
typedef struct sbx_resp {
	int status;
	const char *content_type; /* static string, NULL for none */
	char *body;               /* malloc'd, may be NULL when body_len is 0 */
	size_t body_len;
	enum sbx_action action;
	uint32_t delay_ms;
} sbx_resp_t;

/* One webhook to deliver, produced by the emulation and owned by the taker. */
typedef struct sbx_hook {
	list_node_t node;
	uint64_t id;      /* one per event; copies made by a "duplicate" fault share it */
	uint64_t org;     /* organization id in the URL */
	char service[16]; /* "cielo", "getnet", "pagolivre", "zapme" */
	char method[8];   /* "POST" or "GET" */
	char *url;        /* --webhook-base + /webhooks/<service>/<org> [+ query] */
	size_t n_hdr;
	char hdr_name[SBX_HOOK_MAX_HDR][64];
	char hdr_value[SBX_HOOK_MAX_HDR][256];
	char *body; /* may be NULL (GetNet's GET notifications) */
	size_t body_len;
	uint32_t delay_ms;     /* wait this long before the first attempt */
	uint32_t max_attempts; /* the service's retry policy, first attempt included */
	uint32_t attempt;      /* attempts made so far (the deliverer counts) */
	char fault[24];        /* webhook fault applied ("", "duplicate", "bad_auth"...) */
	char summary[96];      /* short description for the webhook log */
} sbx_hook_t;

/*
 * Creates the emulator. webhook_base ("http://127.0.0.1:8443") is copied;
 * self_base is this sandbox's own base URL (for PagoLivre's paymentUrl), also
 * copied. Returns NULL when out of memory.
 */
sbx_t *sbx_new(const char *webhook_base, const char *self_base);
/* Frees the emulator, every record and every hook still in its outbox. */
void sbx_free(sbx_t *s);

/*
 * Handles one request: fills *rs (which the caller frees with sbx_resp_free).
 * Never fails: errors become HTTP error responses. May append hooks to the
 * outbox.
 */
void sbx_handle(sbx_t *s, const sbx_req_t *rq, sbx_resp_t *rs);
void sbx_resp_free(sbx_resp_t *rs);

/*
 * Moves due work forward at time now_ms (monotonic): releases webhooks held by
 * a "reorder" fault whose window has passed. Call it every 100 ms or so.
 */
void sbx_tick(sbx_t *s, uint64_t now_ms);
/* Takes the next hook to deliver (the caller owns it), or NULL. */
sbx_hook_t *sbx_outbox_pop(sbx_t *s);
void sbx_hook_free(sbx_hook_t *h);
/* How long to wait before retrying a failed delivery, in ms. */
uint32_t sbx_hook_retry_ms(const sbx_t *s);
/* Timeout of one delivery attempt, in ms. */
uint32_t sbx_hook_timeout_ms(const sbx_t *s);
/* Records the outcome of one delivery attempt in the webhook log (status 0 with
 * err set when no HTTP answer came). */
void sbx_hook_record(sbx_t *s, const sbx_hook_t *h, long status, const char *err);
/* Bumped by /control/reset: hooks taken under an older epoch are dropped. */
uint64_t sbx_epoch(const sbx_t *s);

#endif
