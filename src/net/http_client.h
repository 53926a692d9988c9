/*
 * Outbound HTTP client on the event loop: libcurl's multi interface driven by
 * libuv, for the gateway adapters (Cielo, GetNet, PagoLivre, ZapMe).
 *
 * Nothing here blocks the loop: sockets are polled with uv_poll, curl's
 * timeouts run on a uv_timer, and names resolve on curl's resolver thread.
 * Every request has a timeout that also counts the time spent queued, and its
 * callback runs exactly once. Requests are grouped in pools (one per external
 * service) that each cap how many run at once; the rest wait in FIFO order.
 * Connections are kept in the multi handle's cache and reused, and so are the
 * easy handles of transfers that ended cleanly (up to the largest pool limit).
 *
 * Single-threaded: every function must be called on the loop's thread. The
 * process must ignore SIGPIPE (ospayd does): with CURLOPT_NOSIGNAL, curl does
 * not guard TLS writes to a peer that has gone away.
 */
#ifndef OSPAY_NET_HTTP_CLIENT_H
#define OSPAY_NET_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#define HTTP_CLIENT_DEFAULT_TIMEOUT_MS 30000u
#define HTTP_CLIENT_DEFAULT_CONNECT_TIMEOUT_MS 10000u
#define HTTP_CLIENT_DEFAULT_MAX_RESPONSE (4u * 1024u * 1024u)
#define HTTP_CLIENT_DEFAULT_POOL_MAX 64u
#define HTTP_CLIENT_DEFAULT_MAX_QUEUED 4096u
/* Longest pool name, in bytes. */
#define HTTP_CLIENT_POOL_NAME_MAX 63u
/* Cap on the bytes of one response's header block. */
#define HTTP_CLIENT_MAX_HEADER_BYTES (64u * 1024u)
/* Cap on each of a client certificate's and key's PEM bytes. */
#define HTTP_CLIENT_MAX_CLIENT_PEM (64u * 1024u)

typedef struct http_client http_client_t;

/* Client-wide settings; a zero field takes the default named beside it. */
typedef struct http_client_opts {
	uint32_t default_timeout_ms; /* HTTP_CLIENT_DEFAULT_TIMEOUT_MS */
	uint32_t connect_timeout_ms; /* HTTP_CLIENT_DEFAULT_CONNECT_TIMEOUT_MS, never above a
					 request's own timeout */
	size_t max_response_bytes;   /* HTTP_CLIENT_DEFAULT_MAX_RESPONSE: larger bodies fail */
	uint32_t pool_max_in_flight; /* HTTP_CLIENT_DEFAULT_POOL_MAX per pool */
	uint32_t max_queued;         /* HTTP_CLIENT_DEFAULT_MAX_QUEUED over all pools */
	long max_host_connections;   /* CURLMOPT_MAX_HOST_CONNECTIONS: 0 = no cap */
	long max_total_connections;  /* CURLMOPT_MAX_TOTAL_CONNECTIONS: 0 = no cap */
	long max_connects;           /* CURLMOPT_MAXCONNECTS (idle cache): 0 = curl's default */
	const char *user_agent;      /* "ospay/<version>" */
	const char *proxy;           /* NULL: curl's environment variables; "": no proxy */
	/* Refuse to connect to loopback, private, link-local, unspecified and
	 * reserved addresses (core/netaddr.h), checked on every address a name
	 * resolves to when connecting, so a name pointed at 127.0.0.1 later is
	 * refused too. A proxy's own address is what gets checked when one is set. */
	bool refuse_internal_addrs;
} http_client_opts_t;

typedef struct http_header {
	const char *name;
	const char *value;
} http_header_t;

/*
 * One request. Every pointer is borrowed only for the duration of
 * http_client_send, which copies what it keeps; zero fields take defaults.
 */
typedef struct http_request {
	const char *method;           /* "GET" when NULL; an HTTP token */
	const char *url;              /* required; http:// or https:// only */
	const http_header_t *headers; /* n_headers entries; no CR or LF anywhere */
	size_t n_headers;
	const void *body; /* body_len bytes sent as is (may hold NUL bytes) */
	size_t body_len;
	uint32_t timeout_ms; /* whole call, queue included; opts default when 0 */
	const char *pool;    /* service name for the concurrency cap; "default" when NULL */
	const char *ca_file; /* PEM bundle that replaces the system store; NULL = system */
	bool insecure;       /* tests only: skip certificate and host name checks */
	/* Mutual TLS: a PEM client certificate (chain) and its unencrypted PEM key,
	 * handed to curl from memory (CURLOPT_SSLCERT_BLOB / CURLOPT_SSLKEY_BLOB) so a
	 * sealed key is never written to disk. Both or neither; our copy of the key
	 * is wiped when the request ends. */
	const void *client_cert;
	size_t client_cert_len;
	const void *client_key;
	size_t client_key_len;
} http_request_t;

/*
 * The outcome handed to the completion callback. Everything it points to is
 * owned by the client and valid only until the callback returns: copy what
 * you keep.
 */
typedef struct http_response {
	/* 0 when an HTTP response arrived whole (whatever its status), else a negative
	 * errno: -ETIMEDOUT, -ECONNREFUSED, -EACCES (an internal address refused), -ECONNRESET, -EHOSTUNREACH (name not
	 * resolved), -EPROTO (TLS or HTTP protocol failure), -E2BIG (response over the
	 * caps), -ECANCELED (client closed), -EINVAL, -ENOMEM, -EIO. */
	int error;
	/* Short fixed text for error ("" on success). */
	const char *error_msg;
	/* curl's own message, possibly naming host and port but never the path,
	 * headers or body; "" when curl gave none. */
	const char *error_detail;
	/* Last HTTP status seen; 0 if none. Can be set when error < 0 (a body over
	 * the cap after a 200 status line). */
	long status;
	const http_header_t *headers; /* in arrival order, names as sent */
	size_t n_headers;
	const uint8_t *body; /* body_len bytes followed by a NUL not counted in body_len */
	size_t body_len;
	uint64_t total_ms;    /* from http_client_send to this callback */
	uint64_t transfer_us; /* curl's time for the transfer; 0 if it never started */
} http_response_t;

/* Runs exactly once per accepted request; res is borrowed (see http_response_t). */
typedef void (*http_done_cb)(const http_response_t *res, void *arg);

/* Counters for metrics; in_flight counts transfers handed to curl. */
typedef struct http_client_stats {
	uint64_t started;   /* transfers handed to curl */
	uint64_t completed; /* callbacks with error == 0, any HTTP status */
	uint64_t failed;    /* callbacks with error < 0, cancellations included */
	uint64_t rejected;  /* http_client_send calls that returned an error */
	uint32_t in_flight;
	uint32_t queued;
	uint64_t handles_created; /* curl easy handles made */
	uint64_t handles_reused;  /* transfers started on an idle handle, reset */
	uint32_t handles_idle;    /* handles kept for reuse right now */
} http_client_stats_t;

/*
 * Creates a client on loop; opts may be NULL for every default (its strings are
 * copied). On success *out is the caller's until the closed callback of
 * http_client_close runs. Returns 0, -ENOMEM, -EINVAL (bad option) or -EIO
 * (curl refused to initialise); *out is untouched on failure.
 */
int http_client_init(http_client_t **out, uv_loop_t *loop, const http_client_opts_t *opts);

/*
 * Starts closing the client: sends fail with -ESHUTDOWN from now on; queued and
 * running transfers are stopped, and once libuv has closed every handle their
 * callbacks run with -ECANCELED (each once), then the client frees itself and
 * calls closed(arg) (closed may be NULL). No callback runs inside this call.
 * Safe to call from a completion callback; a second call is ignored.
 */
void http_client_close(http_client_t *c, void (*closed)(void *arg), void *arg);

/*
 * Sends req (copied; see http_request_t) and calls cb(res, arg) exactly once
 * when it completes, fails or is cancelled, never from inside this call.
 * Returns 0, or without ever calling cb: -EINVAL (bad method, URL, header or
 * pool name), -EAGAIN (max_queued requests already wait), -ESHUTDOWN (client
 * closing), -ENOMEM, or a start failure translated from curl.
 */
int http_client_send(http_client_t *c, const http_request_t *req, http_done_cb cb, void *arg);

/*
 * Sets how many requests of pool run at once (max >= 1), creating the pool if
 * needed. Raising it starts queued requests at once; one that cannot start
 * (its time ran out while queued, no memory) has its callback run from inside
 * this call. Returns 0, -EINVAL, -ENOMEM or -ESHUTDOWN.
 */
int http_client_pool_limit(http_client_t *c, const char *pool, uint32_t max);

/* Copies the client's counters into *out. */
void http_client_get_stats(const http_client_t *c, http_client_stats_t *out);

/*
 * The value of the first response header called name (ASCII case-insensitive),
 * or NULL. The result is borrowed from res.
 */
const char *http_client_response_header(const http_response_t *res, const char *name);

#endif
