/*
 * Test support: real ospayd processes on ephemeral loopback ports, started and
 * stopped by pid, and raw frame I/O for protocol tests.
 */
#ifndef OSPAY_TESTS_PROC_H
#define OSPAY_TESTS_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>
#include <sys/types.h>

#include "common/status.h"
#include "support/wait.h"

typedef struct tsp_server {
	pid_t pid;
	char dir[256];       /* data directory (a fresh temporary one) */
	char log_path[300];  /* the server's stderr */
	char rpc_addr[64];   /* "127.0.0.1:PORT" */
	char https_addr[64]; /* "127.0.0.1:PORT" */
	char cacert[300];    /* its self-signed TLS certificate, for curl --cacert */
	char admin_token[160];
	uint64_t org_id;
	uint64_t unit_id;
} tsp_server_t;

/* A running ospay-sandbox. */
typedef struct tsp_sandbox {
	pid_t pid;
	char addr[64];      /* "127.0.0.1:PORT" */
	char base[96];      /* "http://127.0.0.1:PORT" */
	char mtls_addr[64]; /* the mutual-TLS listener's "127.0.0.1:PORT", "" when none */
	char log_path[320]; /* its stderr */
	bool paused;        /* by tsp_sandbox_pause */
} tsp_sandbox_t;

/* Creates a temporary data dir and runs `ospayd init`; fills dir, admin_token, ids. */
int tsp_server_init(tsp_server_t *s);
/*
 * Runs `ospayd serve` on that dir with extra args (may be NULL) and waits for the
 * listening line (TSP_HANG_MS at most). Tests talk to a sandbox on loopback, so
 * --allow-private-gateways is added, unless extra args hold TSP_DENY_PRIVATE
 * (taken out, not passed on).
 */
#define TSP_DENY_PRIVATE "tsp:deny-private-gateways"
int tsp_server_start(tsp_server_t *s, const char *const *extra_args);
/*
 * Stops ospayd with SIGTERM and asserts a clean end: exit status 0 (ospayd
 * exits 1 when a handle was left open or a job did not release its state)
 * and a log free of sanitizer reports. The data dir stays: it can be served
 * again. On failure the message quotes the log's error lines.
 */
void tsp_server_stop(tsp_server_t *s);
/*
 * The opt-out of tsp_server_stop's check, for a test that kills on purpose
 * (SIGKILL) or expects a failure exit: sends sig, waits, returns the wait
 * status unchecked.
 */
int tsp_server_kill(tsp_server_t *s, int sig);
/* Kills (SIGKILL) if running and removes the data dir. */
void tsp_server_cleanup(tsp_server_t *s);
/* tsp_server_stop's checks, then the data dir is removed. Use in .fini of e2e suites. */
void tsp_server_down(tsp_server_t *s);
/* In sanitizer builds, asserts LeakSanitizer finds no leak in this test process
 * (Criterion's workers exit without LSan's report); a no-op otherwise. */
void tsp_assert_no_leaks(void);
/* True when the log file holds a sanitizer report. */
int tsp_log_has_sanitizer_report(const char *path);
/* Init + start in one call, aborting the test (cr_assert) on failure. */
void tsp_server_up(tsp_server_t *s, const char *const *extra_args);
/*
 * The usual e2e fixture: ospayd with extra args (may be NULL) and, when
 * test_clock is not NULL, --test-clock test_clock; an ospay-sandbox for it
 * when sb is not NULL. Returns an admin connection (everything asserted).
 */
int tsp_env_up(tsp_server_t *s, tsp_sandbox_t *sb, const char *test_clock,
	       const char *const *extra_args);
/* Closes fd (when >= 0), then tsp_sandbox_down (when sb is not NULL) and tsp_server_down. */
void tsp_env_down(tsp_server_t *s, tsp_sandbox_t *sb, int fd);
/*
 * Starts ospay-sandbox on an ephemeral loopback port sending webhooks to
 * webhook_base (verified with webhook_ca, NULL for none), its stderr appended
 * to log_path; asserts it is listening within TSP_HANG_MS.
 */
void tsp_sandbox_start(tsp_sandbox_t *sb, const char *webhook_base, const char *webhook_ca,
		       const char *log_path);
/* Starts ospay-sandbox with argv (argv[0] is OSPAY_SANDBOX_BIN) and reads its
 * listening line into sb; asserts it started. */
void tsp_sandbox_spawn(tsp_sandbox_t *sb, const char *const *argv, const char *log_path);
/* tsp_sandbox_start plus a mutual-TLS listener (certificate crt/key, clients
 * verified against client_ca) whose address lands in sb->mtls_addr. */
void tsp_sandbox_start_mtls(tsp_sandbox_t *sb, const char *webhook_base, const char *log_path,
			    const char *crt, const char *key, const char *client_ca);
/* tsp_sandbox_start sending webhooks to srv's HTTPS listener (verified with srv's
 * certificate), its log in srv's dir. */
void tsp_sandbox_up(tsp_sandbox_t *sb, const tsp_server_t *srv);
/* SIGTERM (resumed first, should a test have left it paused), wait; asserts exit 0
 * and a log free of sanitizer reports. */
void tsp_sandbox_down(tsp_sandbox_t *sb);
/*
 * Stops the sandbox (SIGSTOP) and waits until it is stopped: from then on no
 * request it holds is answered, however long the test takes, until
 * tsp_sandbox_resume. The kernel still accepts connections to it.
 */
void tsp_sandbox_pause(tsp_sandbox_t *sb);
void tsp_sandbox_resume(tsp_sandbox_t *sb);
/* curl -X method base+path [-d body] [extra header]; returns the HTTP status, body in out. */
int tsp_http(const char *method, const char *url, const char *body, const char *header,
	     const char *cacert, char *out, size_t cap);
/* tsp_http to ospayd's HTTPS listener at path (with its query), verifying its certificate. */
int tsp_https(const tsp_server_t *s, const char *method, const char *path, const char *body,
	      char *out, size_t cap);
/*
 * The value of a series on ospayd's /metrics: name, or name{labels} exactly as
 * printed (e.g. "ospay_webhooks_total{result=\"accepted\"}"); -1 when absent.
 */
long long tsp_metric(const tsp_server_t *s, const char *series);

/* The bearer token /metrics wants (the data dir's metrics.token), into out. */
void tsp_metrics_token(const tsp_server_t *s, char *out, size_t cap);
/* GET /metrics with the token; the HTTP status, the page in out. */
int tsp_metrics_get(const tsp_server_t *s, char *out, size_t cap);

/* RssAnon of the server process in KiB, from /proc; -1 if unknown. */
long tsp_server_rss_anon_kb(const tsp_server_t *s);

/* Runs argv with env additions ("K=V", NULL-terminated); captures stdout (up to cap)
 * and returns the exit status (or -1). */
int tsp_run(const char *const *argv, const char *const *env, char *out, size_t cap);

/*
 * An exfiltration target: a non-blocking socket listening on an ephemeral port
 * of 127.0.0.1 (every IPv4 address when any), never accepting; the kernel
 * queues whatever connects. Asserts each step; the fd, its port in *port.
 */
int tsp_trap_listen(bool any, int *port);
/* True when something connected to the trap since (accepts and closes one). */
bool tsp_trap_touched(int fd);

/* ---- raw frames over a blocking TCP socket */
/* Writes all n bytes to fd (a socket, without SIGPIPE, or any other file);
 * 0, or -1 on error. */
int tsp_write_all(int fd, const void *p, size_t n);
int tsp_connect(const char *addr);
/* Writes a length-prefixed frame. */
int tsp_send_frame(int fd, const void *p, size_t n);
/* Reads one frame into a malloc'd buffer; 0, or -1 on EOF/error/timeout (ms). */
int tsp_recv_frame(int fd, uint8_t **out, size_t *n, int timeout_ms);
/* Sends an RpcRequest (packed) as one frame. */
int tsp_send_request(int fd, uint64_t id, const char *method, const void *body, size_t len,
		     const char *idem_key);
/* Packs an RpcRequest with its length prefix into out (room for the caller to
 * make: 4 + the packed size); returns the bytes written. For tests that send
 * several frames in one write. */
size_t tsp_frame_request(uint8_t *out, uint64_t id, const char *method, const void *body,
			 size_t len, const char *idem_key);
/* Receives an RpcResponse; code and body copied out (body may be NULL). */
int tsp_recv_response(int fd, uint64_t *id, int *code, uint8_t **body, size_t *blen,
		      int timeout_ms);
/*
 * One call on a raw connection: packs req, sends it, waits (TSP_HANG_MS) for the
 * reply. Returns the status code (or -1 on I/O failure); fills st (may be NULL)
 * with the whole status, and *resp (may be NULL) with the unpacked body when
 * OK, to free with protobuf_c_message_free_unpacked(*resp, NULL).
 */
int tsp_call(int fd, const char *method, const ProtobufCMessage *req,
	     const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
	     const char *idem_key, status_t *st);
/*
 * tsp_call for a response that wraps one message in its field `field` (an
 * order, a service): the status code; when OK and out is not NULL, *out is
 * that message, taken out of the response (free it with
 * protobuf_c_message_free_unpacked).
 */
int tsp_call_take(int fd, const char *method, const ProtobufCMessage *req,
		  const ProtobufCMessageDescriptor *resp_desc, const char *field,
		  ProtobufCMessage **out, status_t *st);
/*
 * tsp_call that asserts the reply is OK (the failure names the method, the
 * code, the message and the first violation). Returns the unpacked response
 * when resp_desc is not NULL (free it with protobuf_c_message_free_unpacked),
 * else NULL.
 */
void *tsp_call_ok(int fd, const char *method, const ProtobufCMessage *req,
		  const ProtobufCMessageDescriptor *resp_desc);
/*
 * tsp_call_ok for a method that answers one record in its field `field` (a
 * Create, an Add): returns that record's id, asserting it has one.
 */
uint64_t tsp_call_id(int fd, const char *method, const ProtobufCMessage *req,
		     const ProtobufCMessageDescriptor *resp_desc, const char *field);
/*
 * tsp_call_ok for a list method: how many records the reply holds in its
 * repeated field `field`, asserting it has one.
 */
size_t tsp_list_count(int fd, const char *method, const ProtobufCMessage *req,
		      const ProtobufCMessageDescriptor *resp_desc, const char *field);
/* tsp_call_ok for a list method, asserting that its repeated field `field`
 * holds exactly one record and that its id is id. */
void tsp_list_only(int fd, const char *method, const ProtobufCMessage *req,
		   const ProtobufCMessageDescriptor *resp_desc, const char *field, uint64_t id);
/* Connects to s and says Hello with token (asserting both). */
int tsp_login(const tsp_server_t *s, const char *token);
/* Says Hello with token; returns the status code. */
int tsp_hello(int fd, const char *token);
/* True once the peer has closed (read returns 0) within timeout_ms. */
int tsp_wait_closed(int fd, int timeout_ms);

#endif
