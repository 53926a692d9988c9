/*
 * Test support: a scripted HTTP/1.1 responder in a forked child process, for
 * testing the gateway adapters over real sockets.
 *
 * The parent binds 127.0.0.1:0 and forks; the child answers one connection at
 * a time from a list of rules (first match wins; a rule with `times` is used
 * that many times, then skipped), always with "Connection: close", and appends
 * every request it read to a log file before acting on it. The parent reads
 * the log to assert what the adapter sent. Besides answering, a rule can hang
 * (read the request, never answer: the client times out), reset the
 * connection, or close it without a word. Requests no rule matches get 599.
 *
 * Independent of ospay's libraries: plain POSIX only.
 */
#ifndef OSPAY_TESTS_GWSRV_H
#define OSPAY_TESTS_GWSRV_H

#include <stddef.h>
#include <sys/types.h>

typedef enum gwsrv_action {
	GWSRV_REPLY = 0,
	GWSRV_HANG,
	GWSRV_RESET,
	GWSRV_CLOSE,
} gwsrv_action_t;

typedef struct gwsrv_rule {
	const char *method; /* NULL: any */
	/* Exact request target (path and query), or a prefix when it ends in '*'. */
	const char *target;
	int status;
	const char *body; /* NULL: empty */
	gwsrv_action_t action;
	int delay_ms; /* before acting */
	int times;    /* 0: always; n: the first n matching requests only */
} gwsrv_rule_t;

#define GWSRV_MAX_RULES 32

typedef struct gwsrv {
	pid_t pid;
	int port;
	char base[64]; /* "http://127.0.0.1:PORT" */
	char log_path[64];
} gwsrv_t;

/* One recorded request; method, target, headers and body are NUL-terminated. */
typedef struct gwsrv_req {
	char method[16];
	char *target;
	char *headers; /* the raw header lines after the request line */
	char *body;
	size_t body_len;
} gwsrv_req_t;

/* Starts the child with n rules (copied); 0 or a negative errno. */
int gwsrv_start(gwsrv_t *s, const gwsrv_rule_t *rules, size_t n);
/* Kills the child (by pid) and removes the log. */
void gwsrv_stop(gwsrv_t *s);
/* The requests recorded so far into *out (free with gwsrv_reqs_free); returns how many. */
size_t gwsrv_requests(const gwsrv_t *s, gwsrv_req_t **out);
void gwsrv_reqs_free(gwsrv_req_t *r, size_t n);
/* The value of header name (case-insensitive) of r into buf, or NULL. */
const char *gwsrv_req_header(const gwsrv_req_t *r, const char *name, char *buf, size_t cap);

#endif
