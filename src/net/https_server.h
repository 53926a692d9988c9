/*
 * Inbound HTTP/1.1 server on the libuv loop, over TLS (mbedTLS) or plain TCP, for
 * payment-gateway webhooks, /healthz and /metrics. It knows no routes and no
 * domain rule: it parses each request (llhttp, strict), enforces size and time
 * limits, and hands complete requests to one handler callback, which answers now
 * or later with https_respond(). Keep-alive and pipelining are supported; the
 * handler sees one request per connection at a time, so responses always leave in
 * request order. Single-threaded, like the loop it runs on. libuv writes with
 * writev, so the process must ignore SIGPIPE (a client that vanished would kill it).
 */
#ifndef OSPAY_NET_HTTPS_SERVER_H
#define OSPAY_NET_HTTPS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

typedef struct https_server https_server_t;
typedef struct https_request https_request_t;

/*
 * Listener settings. https_options_default() fills in the documented defaults;
 * a zero limit or timeout passed to https_server_start means "the default".
 * The strings are read only during https_server_start.
 */
typedef struct https_options {
	const char *host;      /* IPv4 or IPv6 literal to bind; "127.0.0.1" */
	int port;              /* 0 picks a free port (https_server_port tells which) */
	bool plain;            /* plain HTTP on the same code path: no TLS, cert/key unused */
	const char *cert_path; /* PEM certificate chain; required unless plain */
	const char *key_path;  /* PEM private key, unencrypted; required unless plain */
	/* Mutual TLS: clients must present a certificate chained to this PEM bundle;
	 * NULL asks for none. Ignored when plain. */
	const char *client_ca_path;

	size_t max_header_bytes;   /* request line + header section: 16 KiB (else 431/414) */
	size_t max_headers;        /* header fields per request: 100 (else 431) */
	size_t max_body_bytes;     /* 1 MiB (else 413) */
	size_t max_response_bytes; /* largest body https_respond takes: 16 MiB */
	size_t max_output_bytes;   /* unsent output past which a connection stops reading
				      and parsing (backpressure): 256 KiB */
	unsigned max_connections;  /* open connections: 1024; past it new ones are accepted
				      and closed at once */
	unsigned max_connections_per_addr; /* open connections from one remote address: 256;
					      past it new ones are closed at once */

	uint64_t handshake_timeout_ms;     /* TLS handshake, from accept: 10 s */
	uint64_t first_request_timeout_ms; /* after the handshake (or accept, plain), until a
					      first request begins: 5 s (then closed) */
	uint64_t header_timeout_ms;        /* request's first byte to end of headers: 10 s (408) */
	uint64_t body_timeout_ms;          /* end of headers to end of body: 30 s (408) */
	uint64_t idle_timeout_ms;          /* keep-alive idle, or output stalled that long: 60 s */
	uint64_t linger_ms; /* after a closing response, unread input is drained this long
			       before close, so the client is not reset before reading: 2 s */

	/* Tests only: mbedTLS's buffer callbacks answer "would block" on every other call
	 * (like ssl_server2 nbio=2), exercising every retry path. Off in production. */
	bool test_bio_flaky;
} https_options_t;

/* Latency histogram with Prometheus-style cumulative buckets (upper bounds in µs). */
#define HTTPS_HIST_BUCKETS 16
typedef struct https_hist {
	uint64_t buckets[HTTPS_HIST_BUCKETS + 1]; /* per bucket (not cumulative); last = +Inf */
	uint64_t count;
	uint64_t sum_us;
} https_hist_t;

/* The buckets' upper bounds in microseconds, 100 µs to 10 s. */
extern const uint64_t https_hist_bounds_us[HTTPS_HIST_BUCKETS];

/* Counters kept by the server; read them with https_server_stats(). */
typedef struct https_stats {
	uint64_t conns_open;          /* gauge: connections currently open */
	uint64_t conns_accepted;      /* connections served */
	uint64_t conns_rejected;      /* closed at accept: max_connections reached */
	uint64_t conns_rejected_addr; /* closed at accept: max_connections_per_addr reached */
	uint64_t requests;            /* complete requests handed to the handler */
	uint64_t responses[6];        /* responses sent by status class: [2] = 2xx ... [5] = 5xx */
	uint64_t refused;   /* requests the server answered itself (400/408/413/414/431/505) */
	uint64_t bytes_in;  /* bytes read from sockets (ciphertext under TLS) */
	uint64_t bytes_out; /* bytes written to sockets */
	uint64_t handshake_failures;     /* TLS handshakes that failed */
	uint64_t timeouts_handshake;     /* connections closed: handshake too slow */
	uint64_t timeouts_header;        /* requests refused with 408: headers too slow */
	uint64_t timeouts_body;          /* requests refused with 408: body too slow */
	uint64_t idle_closes;            /* keep-alive connections closed after idle_timeout_ms */
	uint64_t timeouts_first_request; /* closed: no request within first_request_timeout_ms */
	https_hist_t latency;            /* request's first byte to its response being queued */
} https_stats_t;

/* Handler for every complete request. req belongs to the handler until it passes it
 * to https_respond(), which must happen exactly once, now or later. */
typedef void (*https_handler_fn)(https_request_t *req, void *udata);

/* Called once the server has closed every handle and freed itself. */
typedef void (*https_closed_fn)(void *arg);

/* Fills opt with the defaults documented in https_options_t. */
void https_options_default(https_options_t *opt);

/*
 * Binds, loads the certificate and key (unless plain), and starts listening on loop.
 * handler and udata must stay valid until the server is closed. On success *out is
 * the server, to be released with https_server_close(). On failure returns a
 * negative errno (-EINVAL bad options or PEM, -EIO unreadable files, -EADDRINUSE,
 * -ENOMEM...), *out is untouched, and any handle already created is released on the
 * loop's next iteration (run the loop before uv_loop_close).
 */
int https_server_start(uv_loop_t *loop, const https_options_t *opt, https_handler_fn handler,
		       void *udata, https_server_t **out);

/* The local port the server listens on (useful with port 0); negative errno on failure. */
int https_server_port(const https_server_t *srv);

/* Live counters, valid until the server is closed. */
const https_stats_t *https_server_stats(const https_server_t *srv);

/*
 * Stops accepting and closes connections: idle or half-received ones at once;
 * those whose request the handler still owns get their response (with
 * "Connection: close") if it comes within drain_ms, else they are closed then.
 * 0 closes everything now. Requests still owned by the handler stay valid and must
 * still go to https_respond(), which then only frees them. When every handle is
 * closed the server is freed and cb(arg) runs (cb may be NULL). Call once.
 */
void https_server_close(https_server_t *srv, uint64_t drain_ms, https_closed_fn cb, void *arg);

/* ---- requests: every string below is NUL-terminated, owned by req, and valid until
 * https_respond(req). */

/* The method, upper case ("GET", "POST"). */
const char *https_request_method(const https_request_t *req);
/* The request target's path, not percent-decoded ("/webhooks/cielo/7"); for an
 * absolute-form target ("http://h/p") the path part. Never NULL. */
const char *https_request_path(const https_request_t *req);
/* The query string after '?', without it; "" when there is none. */
const char *https_request_query(const https_request_t *req);
/* The value of the first header field named name (compared case-insensitively),
 * without surrounding whitespace; NULL when absent. */
const char *https_request_header(const https_request_t *req, const char *name);
/* Number of header fields, and the i-th one in arrival order (-ERANGE past the end). */
size_t https_request_header_count(const https_request_t *req);
int https_request_header_at(const https_request_t *req, size_t i, const char **name,
			    const char **value);
/* The body (dechunked) and its length; the bytes are followed by a NUL not counted
 * in *len, so a text body can be used as a C string. Never NULL. */
const uint8_t *https_request_body(const https_request_t *req, size_t *len);
/* The client's address as "ip:port" ("[ip6]:port" for IPv6), for logs. */
const char *https_request_peer(const https_request_t *req);
/* False once the server has seen the connection go (it does not read while the
 * handler owns a request, so a silent disconnect shows only when writing); a
 * response to a request that is not connected is dropped. */
bool https_request_connected(const https_request_t *req);

/*
 * Answers req and releases it (req is invalid afterwards, whatever the result).
 * status: 200-599. content_type: NULL for none. body/len: copied; not sent for HEAD
 * or 204/304. extra_headers: NULL or a NULL-terminated array of "Name: value"
 * lines without CR/LF; Content-Length, Date and Connection are added by the server.
 * Returns 0; -ENOTCONN when the connection died meanwhile (nothing sent); -EINVAL
 * (bad status or header line) or -E2BIG (body over max_response_bytes), in which
 * case the client gets a 500 instead; -ENOMEM (the connection is closed).
 */
int https_respond(https_request_t *req, int status, const char *content_type, const void *body,
		  size_t len, const char *const *extra_headers);

/*
 * Releases req without answering it: the connection is closed with a TCP reset
 * (SO_LINGER 0), as a crashed or hostile peer would. For test tools such as
 * ospay-sandbox's "reset" fault. Returns 0, or -ENOTCONN when the connection
 * had already gone (req is freed either way).
 */
int https_reset(https_request_t *req);

/* ---- metrics */

/* Records one observation of us microseconds. */
void https_hist_observe(https_hist_t *h, uint64_t us);

/*
 * Appends h to out[*off..cap) as a Prometheus histogram named name (in seconds):
 * "# TYPE", cumulative name_bucket{le="..."} lines, name_sum, name_count. labels is
 * NULL or a label list without braces ('method="GET"'), added to every line.
 * Returns 0 (and advances *off), or -ENOSPC (out is left NUL-terminated at *off).
 */
int https_hist_format(const https_hist_t *h, const char *name, const char *labels, char *out,
		      size_t cap, size_t *off);

/* Appends every counter of st as Prometheus text, names starting with prefix
 * ("ospay_https"); same result convention as https_hist_format. */
int https_stats_format(const https_stats_t *st, const char *prefix, char *out, size_t cap,
		       size_t *off);

#endif
