#include "support/proc.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "ospay/v1/rpc.pb-c.h"
#include "ospay/v1/session.pb-c.h"
#include "support/records.h"

/*
 * In a forked child: die with the test process, however it ends (a test killed
 * by its timeout never runs its .fini, and its servers would outlive it).
 */
static void child_dies_with_parent(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1); /* the parent died before prctl took effect */
}

/*
 * Starts argv[0] with env additions ("K=V", may be NULL), its stdout on a pipe
 * (*out_fd, the read end) and, when stderr_log is not NULL, its stderr appended
 * to that file. The child dies with this process. Returns the pid, or -1.
 */
static pid_t spawn(const char *const *argv, const char *const *env, const char *stderr_log,
		   int *out_fd)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) != 0)
		return -1;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		child_dies_with_parent(parent);
		dup2(pfd[1], STDOUT_FILENO);
		if (stderr_log != NULL) {
			int fd = open(stderr_log, O_WRONLY | O_CREAT | O_APPEND, 0600);
			if (fd >= 0)
				dup2(fd, STDERR_FILENO);
		}
		for (size_t i = 0; env != NULL && env[i] != NULL; i++)
			putenv((char *)env[i]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	*out_fd = pfd[0];
	return pid;
}

/* Reads fd until its first newline (timeout_ms at most) into line; 0 once one came. */
static int read_line(int fd, char *line, size_t cap, int timeout_ms)
{
	size_t len = 0;
	uint64_t deadline = tsp_now_ms() + (uint64_t)timeout_ms;
	line[0] = '\0';
	while (tsp_now_ms() < deadline && len < cap - 1) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t r = read(fd, line + len, cap - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		line[len] = '\0';
		if (strchr(line, '\n') != NULL)
			return 0;
	}
	return -1;
}

int tsp_run(const char *const *argv, const char *const *env, char *out, size_t cap)
{
	int fd;
	pid_t pid = spawn(argv, env, NULL, &fd);
	if (pid < 0)
		return -1;
	size_t n = 0;
	for (;;) {
		char tmp[4096];
		ssize_t r = read(fd, tmp, sizeof(tmp));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		size_t k = (size_t)r;
		if (out != NULL && cap > 0) {
			if (k > cap - 1 - n)
				k = cap - 1 - n;
			memcpy(out + n, tmp, k);
			n += k;
		}
	}
	if (out != NULL && cap > 0)
		out[n] = '\0';
	close(fd);
	int status;
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int tsp_server_init(tsp_server_t *s)
{
	memset(s, 0, sizeof(*s));
	s->pid = -1;
	snprintf(s->dir, sizeof(s->dir), "/tmp/ospay-test-XXXXXX");
	if (mkdtemp(s->dir) == NULL)
		return -1;
	char data[300];
	snprintf(data, sizeof(data), "%s/data", s->dir);
	snprintf(s->log_path, sizeof(s->log_path), "%s/ospayd.log", s->dir);
	snprintf(s->cacert, sizeof(s->cacert), "%s/data/tls.crt", s->dir);
	const char *argv[] = {OSPAYD_BIN, "init", "--data", data, NULL};
	char out[8192];
	if (tsp_run(argv, NULL, out, sizeof(out)) != 0)
		return -1;
	json_error_t err;
	json_t *j = json_loads(out, 0, &err);
	if (j == NULL)
		return -1;
	const char *tok = NULL;
	json_int_t org = 0, unit = 0;
	int rc = json_unpack(j, "{s:{s:I}, s:{s:I}, s:{s:s}}", "organization", "id", &org, "unit",
			     "id", &unit, "admin_token", "token", &tok);
	if (rc == 0) {
		snprintf(s->admin_token, sizeof(s->admin_token), "%s", tok);
		s->org_id = (uint64_t)org;
		s->unit_id = (uint64_t)unit;
	}
	json_decref(j);
	return rc == 0 ? 0 : -1;
}

int tsp_server_start(tsp_server_t *s, const char *const *extra_args)
{
	char data[300];
	snprintf(data, sizeof(data), "%s/data", s->dir);
	const char *argv[64] = {OSPAYD_BIN, "serve",       "--data",  data,
				"--rpc",    "127.0.0.1:0", "--https", "127.0.0.1:0"};
	size_t n = 8;
	bool allow = true;
	for (size_t i = 0; extra_args != NULL && extra_args[i] != NULL && n < 61; i++) {
		if (strcmp(extra_args[i], TSP_DENY_PRIVATE) == 0)
			allow = false;
		else
			argv[n++] = extra_args[i];
	}
	if (allow)
		argv[n++] = "--allow-private-gateways";
	argv[n] = NULL;
	int out;
	pid_t pid = spawn(argv, NULL, s->log_path, &out);
	if (pid < 0)
		return -1;
	s->pid = pid;
	/* Wait for "listening rpc=H:P https=H:P". */
	char line[512];
	int rc = -1;
	if (read_line(out, line, sizeof(line), TSP_HANG_MS) == 0 &&
	    sscanf(line, "listening rpc=%63s https=%63s", s->rpc_addr, s->https_addr) >= 1)
		rc = 0;
	close(out);
	if (rc != 0)
		tsp_server_kill(s, SIGKILL);
	return rc;
}

static bool sandbox_stop_clean(tsp_sandbox_t *sb, char *why, size_t cap);

/*
 * Hang guard for a stop: ospayd's drain gives up after 10 s and its HTTPS
 * close after 5 s; a server still running after this is killed.
 */
#define STOP_HANG_MS 60000

/*
 * Sends sig to the child pid and waits for it; one still running after
 * STOP_HANG_MS is killed. The wait status, or -1 when it had to be killed or
 * could not be waited for. No SIGCONT here: one arriving while a sanitizer
 * build's LeakSanitizer stops the exiting process (PTRACE_ATTACH's SIGSTOP)
 * discards that stop and leaves LSan waiting forever.
 */
static int signal_and_wait(pid_t pid, int sig)
{
	kill(pid, sig);
	int status = -1;
	tsp_poll_t p = tsp_poll_start(STOP_HANG_MS);
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0)
			return -1;
		if (!tsp_poll_next(&p)) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
	}
}

int tsp_server_kill(tsp_server_t *s, int sig)
{
	if (s->pid <= 0)
		return -1;
	int status = signal_and_wait(s->pid, sig);
	s->pid = -1;
	return status;
}

/* The log's error and warning lines (the last ones that fit), for a failure message. */
static void log_problems(const char *path, char *out, size_t cap)
{
	out[0] = '\0';
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return;
	char line[1024];
	size_t len = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, "level=error") == NULL && strstr(line, "level=warn") == NULL &&
		    strstr(line, "Sanitizer") == NULL && strstr(line, "runtime error:") == NULL)
			continue;
		size_t n = strlen(line);
		if (n >= cap - 1)
			continue;
		/* Keep the newest: drop the oldest lines until this one fits. */
		while (len + n >= cap) {
			char *nl = strchr(out, '\n');
			size_t cut = nl != NULL ? (size_t)(nl - out) + 1 : len;
			memmove(out, out + cut, len - cut + 1);
			len -= cut;
		}
		memcpy(out + len, line, n + 1);
		len += n;
	}
	fclose(f);
}

/* Copies log_path to /tmp/<name>-<test pid>.log (the data dir may be removed
 * next); kept names the copy, or log_path itself when the copy failed. */
static void keep_log(const char *log_path, const char *name, char *kept, size_t cap)
{
	char cmd[800];
	snprintf(kept, cap, "/tmp/%s-%d.log", name, (int)getpid());
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", log_path, kept);
	if (system(cmd) != 0)
		snprintf(kept, cap, "%s", log_path);
}

/*
 * SIGTERM, wait; true when ospayd ended cleanly (exit 0, no sanitizer report).
 * Otherwise why (with the log's problem lines) in why, and the log is copied to
 * /tmp/ospayd-<test pid>.log, as the data dir may be removed next.
 */
static bool stop_clean(tsp_server_t *s, char *why, size_t cap)
{
	int status = s->pid > 0 ? tsp_server_kill(s, SIGTERM) : 0;
	int report = tsp_log_has_sanitizer_report(s->log_path);
	why[0] = '\0';
	if (status == 0 && !report)
		return true;
	char kept[320], problems[2048];
	keep_log(s->log_path, "ospayd", kept, sizeof(kept));
	log_problems(s->log_path, problems, sizeof(problems));
	if (status == -1)
		snprintf(why, cap,
			 "ospayd did not exit on SIGTERM and was killed (log kept in %s):\n%s",
			 kept, problems);
	else if (status != 0)
		snprintf(why, cap, "ospayd did not exit 0 on SIGTERM (%s %d; log kept in %s):\n%s",
			 WIFEXITED(status) ? "exit status" : "signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), kept,
			 problems);
	else
		snprintf(why, cap, "ospayd's log has a sanitizer report (log kept in %s):\n%s",
			 kept, problems);
	return false;
}

void tsp_server_stop(tsp_server_t *s)
{
	char why[3072];
	bool clean = stop_clean(s, why, sizeof(why));
	cr_assert(clean, "%s", why);
}

void tsp_server_cleanup(tsp_server_t *s)
{
	if (s->pid > 0)
		tsp_server_kill(s, SIGKILL);
	if (s->dir[0] != '\0' && strncmp(s->dir, "/tmp/ospay-test-", 16) == 0) {
		char cmd[400];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", s->dir);
	}
	s->dir[0] = '\0';
}

void tsp_server_up(tsp_server_t *s, const char *const *extra_args)
{
	cr_assert_eq(tsp_server_init(s), 0, "ospayd init failed");
	cr_assert_eq(tsp_server_start(s, extra_args), 0, "ospayd serve did not start (log: %s)",
		     s->log_path);
}

int tsp_log_has_sanitizer_report(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	char line[1024];
	int found = 0;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, "Sanitizer") != NULL || strstr(line, "runtime error:") != NULL;
	fclose(f);
	return found;
}

void tsp_server_down(tsp_server_t *s)
{
	char why[3072];
	bool clean = stop_clean(s, why, sizeof(why));
	/* Removed before asserting: a failed assertion ends the .fini here. */
	tsp_server_cleanup(s);
	cr_assert(clean, "%s", why);
}

int tsp_env_up(tsp_server_t *s, tsp_sandbox_t *sb, const char *test_clock,
	       const char *const *extra_args)
{
	const char *argv[32];
	size_t n = 0;
	if (test_clock != NULL) {
		argv[n++] = "--test-clock";
		argv[n++] = test_clock;
	}
	for (size_t i = 0; extra_args != NULL && extra_args[i] != NULL && n < 31; i++)
		argv[n++] = extra_args[i];
	argv[n] = NULL;
	tsp_server_up(s, argv);
	if (sb != NULL)
		tsp_sandbox_up(sb, s);
	return tsp_login(s, s->admin_token);
}

void tsp_env_down(tsp_server_t *s, tsp_sandbox_t *sb, int fd)
{
	char sb_why[512], why[3072];
	if (fd >= 0)
		close(fd);
	bool sb_clean = sb == NULL || sandbox_stop_clean(sb, sb_why, sizeof(sb_why));
	bool clean = stop_clean(s, why, sizeof(why));
	/* Both stopped and the dir removed before asserting: an assertion ends the .fini. */
	tsp_server_cleanup(s);
	cr_assert(sb_clean, "%s", sb_why);
	cr_assert(clean, "%s", why);
}

/* Present only when the sanitizer runtime is linked in. */
extern int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

void tsp_assert_no_leaks(void)
{
	if (__lsan_do_recoverable_leak_check != NULL)
		cr_assert_eq(__lsan_do_recoverable_leak_check(), 0,
			     "LeakSanitizer found leaks in this test (report above)");
}

long tsp_server_rss_anon_kb(const tsp_server_t *s)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)s->pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	long kb = -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "RssAnon: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* ------------------------------------------------------------------ raw frames */

int tsp_connect(const char *addr)
{
	char host[64];
	int port;
	if (util_parse_hostport(addr, host, sizeof(host), &port) != 0)
		return -1;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int tsp_write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n > 0) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
		if (w < 0 && errno == ENOTSOCK)
			w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

int tsp_trap_listen(bool any, int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(any ? INADDR_ANY : INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(fd, 64), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

bool tsp_trap_touched(int fd)
{
	int c = accept(fd, NULL, NULL);
	if (c >= 0)
		close(c);
	return c >= 0;
}

int tsp_send_frame(int fd, const void *p, size_t n)
{
	uint8_t hdr[4];
	be32_put(hdr, (uint32_t)n);
	if (tsp_write_all(fd, hdr, 4) != 0)
		return -1;
	return n > 0 ? tsp_write_all(fd, p, n) : 0;
}

static int read_full(int fd, uint8_t *p, size_t n, uint64_t deadline)
{
	while (n > 0) {
		int left = (int)(deadline > tsp_now_ms() ? deadline - tsp_now_ms() : 0);
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		if (poll(&pf, 1, left) <= 0)
			return -1;
		ssize_t r = recv(fd, p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int tsp_recv_frame(int fd, uint8_t **out, size_t *n, int timeout_ms)
{
	uint64_t deadline = tsp_now_ms() + (uint64_t)timeout_ms;
	uint8_t hdr[4];
	if (read_full(fd, hdr, 4, deadline) != 0)
		return -1;
	size_t len = be32_get(hdr);
	uint8_t *p = malloc(len ? len : 1);
	if (p == NULL)
		return -1;
	if (read_full(fd, p, len, deadline) != 0) {
		free(p);
		return -1;
	}
	*out = p;
	*n = len;
	return 0;
}

static Ospay__V1__RpcRequest tsp_request(uint64_t id, const char *method, const void *body,
					 size_t len)
{
	Ospay__V1__RpcRequest req = OSPAY__V1__RPC_REQUEST__INIT;
	req.id = id;
	req.method = (char *)method;
	req.body.data = (uint8_t *)body;
	req.body.len = len;
	return req;
}

size_t tsp_frame_request(uint8_t *out, uint64_t id, const char *method, const void *body,
			 size_t len, const char *idem_key)
{
	Ospay__V1__RpcRequest req = tsp_request(id, method, body, len);
	size_t n;

	req.idempotency_key = (char *)idem_key;
	n = ospay__v1__rpc_request__pack(&req, out + 4);

	be32_put(out, (uint32_t)n);
	return n + 4;
}

int tsp_send_request(int fd, uint64_t id, const char *method, const void *body, size_t len,
		     const char *idem_key)
{
	Ospay__V1__RpcRequest req = tsp_request(id, method, body, len);
	if (idem_key != NULL)
		req.idempotency_key = (char *)idem_key;
	size_t n = ospay__v1__rpc_request__get_packed_size(&req);
	uint8_t *p = malloc(n ? n : 1);
	if (p == NULL)
		return -1;
	ospay__v1__rpc_request__pack(&req, p);
	int rc = tsp_send_frame(fd, p, n);
	free(p);
	return rc;
}

/* The next frame on fd as an RpcResponse (free it), or NULL on EOF, error, timeout or garbage. */
static Ospay__V1__RpcResponse *tsp_recv_rpc(int fd, int timeout_ms)
{
	uint8_t *p;
	size_t n;
	if (tsp_recv_frame(fd, &p, &n, timeout_ms) != 0)
		return NULL;
	Ospay__V1__RpcResponse *r = ospay__v1__rpc_response__unpack(NULL, n, p);
	free(p);
	return r;
}

int tsp_recv_response(int fd, uint64_t *id, int *code, uint8_t **body, size_t *blen, int timeout_ms)
{
	Ospay__V1__RpcResponse *r = tsp_recv_rpc(fd, timeout_ms);
	if (r == NULL)
		return -1;
	if (id != NULL)
		*id = r->id;
	if (code != NULL)
		*code = r->status != NULL ? r->status->code : 0;
	if (body != NULL) {
		*body = malloc(r->body.len ? r->body.len : 1);
		if (*body != NULL && r->body.len > 0)
			memcpy(*body, r->body.data, r->body.len);
		*blen = r->body.len;
	}
	ospay__v1__rpc_response__free_unpacked(r, NULL);
	return 0;
}

int tsp_hello(int fd, const char *token)
{
	Ospay__V1__HelloRequest h = OSPAY__V1__HELLO_REQUEST__INIT;
	h.token = (char *)token;
	uint8_t buf[512];
	size_t n = ospay__v1__hello_request__pack(&h, buf);
	if (tsp_send_request(fd, 1, "ospay.v1.Session/Hello", buf, n, NULL) != 0)
		return -1;
	int code = -1;
	if (tsp_recv_response(fd, NULL, &code, NULL, NULL, TSP_HANG_MS) != 0)
		return -1;
	return code;
}

int tsp_wait_closed(int fd, int timeout_ms)
{
	uint64_t deadline = tsp_now_ms() + (uint64_t)timeout_ms;
	uint8_t tmp[4096];
	while (tsp_now_ms() < deadline) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		int left = (int)(deadline - tsp_now_ms());
		if (poll(&pf, 1, left) <= 0)
			return 0;
		ssize_t r = recv(fd, tmp, sizeof(tmp), 0);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return 1;
		if (r < 0 && errno != EINTR)
			return 1;
	}
	return 0;
}

int tsp_call(int fd, const char *method, const ProtobufCMessage *req,
	     const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
	     const char *idem_key, status_t *st)
{
	static uint64_t next_id = 1000000;
	uint64_t id = next_id++;
	size_t n = req != NULL ? protobuf_c_message_get_packed_size(req) : 0;
	uint8_t *body = malloc(n ? n : 1);
	if (body == NULL)
		return -1;
	if (req != NULL)
		protobuf_c_message_pack(req, body);
	int rc = tsp_send_request(fd, id, method, body, n, idem_key);
	free(body);
	if (rc != 0)
		return -1;
	Ospay__V1__RpcResponse *r = tsp_recv_rpc(fd, TSP_HANG_MS);
	if (r == NULL || r->id != id) {
		if (r != NULL)
			ospay__v1__rpc_response__free_unpacked(r, NULL);
		return -1;
	}
	int code = r->status != NULL ? r->status->code : 0;
	if (st != NULL) {
		status_clear(st);
		if (r->status != NULL) {
			st->code = code;
			snprintf(st->message, sizeof(st->message), "%s", r->status->message);
			for (size_t i = 0; i < r->status->n_violations && i < STATUS_MAX_VIOLATIONS;
			     i++) {
				snprintf(st->violations[i].field, sizeof(st->violations[i].field),
					 "%s", r->status->violations[i]->field);
				snprintf(st->violations[i].description,
					 sizeof(st->violations[i].description), "%s",
					 r->status->violations[i]->description);
				st->n_violations = i + 1;
			}
		}
	}
	if (resp != NULL) {
		*resp = NULL;
		if (code == 0 && resp_desc != NULL) {
			*resp = protobuf_c_message_unpack(resp_desc, NULL, r->body.len,
							  r->body.data);
			if (*resp == NULL)
				code = -1;
		}
	}
	ospay__v1__rpc_response__free_unpacked(r, NULL);
	return code;
}

int tsp_call_take(int fd, const char *method, const ProtobufCMessage *req,
		  const ProtobufCMessageDescriptor *resp_desc, const char *field,
		  ProtobufCMessage **out, status_t *st)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(resp_desc, field);
	cr_assert(f != NULL && f->type == PROTOBUF_C_TYPE_MESSAGE &&
			  f->label != PROTOBUF_C_LABEL_REPEATED,
		  "%s has no message field %s", resp_desc->name, field);
	ProtobufCMessage *r = NULL;
	int code = tsp_call(fd, method, req, resp_desc, &r, NULL, st);
	if (out != NULL)
		*out = NULL;
	if (r != NULL) {
		ProtobufCMessage **slot = (ProtobufCMessage **)((char *)r + f->offset);
		if (out != NULL) {
			*out = *slot;
			*slot = NULL;
		}
		protobuf_c_message_free_unpacked(r, NULL);
	}
	return code;
}

void *tsp_call_ok(int fd, const char *method, const ProtobufCMessage *req,
		  const ProtobufCMessageDescriptor *resp_desc)
{
	ProtobufCMessage *r = NULL;
	status_t st;
	status_clear(&st); /* an I/O failure leaves it untouched */
	int code = tsp_call(fd, method, req, resp_desc, resp_desc != NULL ? &r : NULL, NULL, &st);
	cr_assert_eq(code, 0, "%s answered %d: %s (%s %s)", method, code, st.message,
		     st.n_violations ? st.violations[0].field : "",
		     st.n_violations ? st.violations[0].description : "");
	return r;
}

uint64_t tsp_call_id(int fd, const char *method, const ProtobufCMessage *req,
		     const ProtobufCMessageDescriptor *resp_desc, const char *field)
{
	ProtobufCMessage *r = tsp_call_ok(fd, method, req, resp_desc);
	uint64_t id = 0;
	cr_assert_eq(tsr_record_id(r, field, &id), 0, "%s: no %s with an id in the reply", method,
		     field);
	protobuf_c_message_free_unpacked(r, NULL);
	return id;
}

size_t tsp_list_count(int fd, const char *method, const ProtobufCMessage *req,
		      const ProtobufCMessageDescriptor *resp_desc, const char *field)
{
	ProtobufCMessage *r = tsp_call_ok(fd, method, req, resp_desc);
	long n = tsr_list_len(r, field);
	cr_assert_geq(n, 0, "%s: no list %s in the reply", method, field);
	protobuf_c_message_free_unpacked(r, NULL);
	return (size_t)n;
}

void tsp_list_only(int fd, const char *method, const ProtobufCMessage *req,
		   const ProtobufCMessageDescriptor *resp_desc, const char *field, uint64_t id)
{
	ProtobufCMessage *r = tsp_call_ok(fd, method, req, resp_desc);
	long n = tsr_list_len(r, field);
	int has = tsr_list_has(r, field, id);
	protobuf_c_message_free_unpacked(r, NULL);
	cr_assert(n == 1 && has == 1, "%s: %ld %s, %s %llu", method, n, field,
		  has == 1 ? "among them" : "without", (unsigned long long)id);
}

int tsp_login(const tsp_server_t *s, const char *token)
{
	int fd = tsp_connect(s->rpc_addr);
	cr_assert_geq(fd, 0, "cannot connect to %s", s->rpc_addr);
	cr_assert_eq(tsp_hello(fd, token), 0, "Hello failed");
	return fd;
}

/* Starts the sandbox with argv; its first line gives the address(es). */
static void sandbox_spawn(tsp_sandbox_t *sb, const char *const *argv, const char *log_path)
{
	memset(sb, 0, sizeof(*sb));
	snprintf(sb->log_path, sizeof(sb->log_path), "%s", log_path);
	int out;
	pid_t pid = spawn(argv, NULL, sb->log_path, &out);
	cr_assert_geq(pid, 0);
	sb->pid = pid;
	char line[256];
	int ok = read_line(out, line, sizeof(line), TSP_HANG_MS) == 0 &&
		 sscanf(line, "listening %63s", sb->addr) == 1;
	close(out);
	cr_assert(ok, "ospay-sandbox did not start (log %s)", sb->log_path);
	snprintf(sb->base, sizeof(sb->base), "http://%s", sb->addr);
	if (sscanf(line, "listening %*s mtls %63s", sb->mtls_addr) != 1)
		sb->mtls_addr[0] = '\0';
}

void tsp_sandbox_start(tsp_sandbox_t *sb, const char *webhook_base, const char *webhook_ca,
		       const char *log_path)
{
	const char *argv[] = {OSPAY_SANDBOX_BIN, "--listen",     "127.0.0.1:0", "--webhook-base",
			      webhook_base,      "--webhook-ca", webhook_ca,    NULL};
	if (webhook_ca == NULL)
		argv[5] = NULL;
	sandbox_spawn(sb, argv, log_path);
}

void tsp_sandbox_spawn(tsp_sandbox_t *sb, const char *const *argv, const char *log_path)
{
	sandbox_spawn(sb, argv, log_path);
}

void tsp_sandbox_start_mtls(tsp_sandbox_t *sb, const char *webhook_base, const char *log_path,
			    const char *crt, const char *key, const char *client_ca)
{
	const char *argv[] = {OSPAY_SANDBOX_BIN, "--listen",    "127.0.0.1:0",
			      "--webhook-base",  webhook_base,  "--mtls-listen",
			      "127.0.0.1:0",     "--mtls-cert", crt,
			      "--mtls-key",      key,           "--mtls-client-ca",
			      client_ca,         NULL};
	sandbox_spawn(sb, argv, log_path);
	cr_assert(sb->mtls_addr[0] != '\0', "ospay-sandbox has no mutual-TLS listener");
}

void tsp_sandbox_up(tsp_sandbox_t *sb, const tsp_server_t *srv)
{
	char base[128], log[400];
	const char *colon = strrchr(srv->https_addr, ':');
	cr_assert_not_null(colon);
	/* Its certificate names localhost, which the sandbox verifies. */
	snprintf(base, sizeof(base), "https://localhost:%s", colon + 1);
	snprintf(log, sizeof(log), "%s/sandbox.log", srv->dir);
	tsp_sandbox_start(sb, base, srv->cacert, log);
}

/* SIGTERM, wait; true when the sandbox ended cleanly, else why (its log kept). */
static bool sandbox_stop_clean(tsp_sandbox_t *sb, char *why, size_t cap)
{
	why[0] = '\0';
	if (sb->pid <= 0)
		return true;
	/* A test that paused it and failed before resuming it left it stopped: resumed
	 * first, so that the SIGCONT cannot race LeakSanitizer at its exit. */
	if (sb->paused)
		kill(sb->pid, SIGCONT);
	int status = signal_and_wait(sb->pid, SIGTERM);
	sb->pid = -1;
	bool exited = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	int report = tsp_log_has_sanitizer_report(sb->log_path);
	if (exited && !report)
		return true;
	char kept[320];
	keep_log(sb->log_path, "ospay-sandbox", kept, sizeof(kept));
	snprintf(why, cap, "ospay-sandbox: %s (status %d; log kept in %s)",
		 exited ? "sanitizer report in its log" : "did not exit 0 on SIGTERM", status,
		 kept);
	return false;
}

void tsp_sandbox_down(tsp_sandbox_t *sb)
{
	char why[512];
	bool clean = sandbox_stop_clean(sb, why, sizeof(why));
	cr_assert(clean, "%s", why);
}

void tsp_sandbox_pause(tsp_sandbox_t *sb)
{
	int status = 0;
	cr_assert_eq(kill(sb->pid, SIGSTOP), 0);
	cr_assert_eq(waitpid(sb->pid, &status, WUNTRACED), sb->pid);
	cr_assert(WIFSTOPPED(status), "sandbox not stopped: status %d", status);
	sb->paused = true;
}

void tsp_sandbox_resume(tsp_sandbox_t *sb)
{
	cr_assert_eq(kill(sb->pid, SIGCONT), 0);
	sb->paused = false;
}

int tsp_http(const char *method, const char *url, const char *body, const char *header,
	     const char *cacert, char *out, size_t cap)
{
	const char *argv[20];
	size_t n = 0;
	argv[n++] = "/usr/bin/curl";
	argv[n++] = "-sS";
	argv[n++] = "--max-time";
	argv[n++] = "10";
	argv[n++] = "-X";
	argv[n++] = method;
	argv[n++] = "-w";
	argv[n++] = "\n%{http_code}";
	if (cacert != NULL) {
		argv[n++] = "--cacert";
		argv[n++] = cacert;
	}
	if (body != NULL) {
		argv[n++] = "-H";
		argv[n++] = "Content-Type: application/json";
		argv[n++] = "--data-binary";
		argv[n++] = body;
	}
	if (header != NULL) {
		argv[n++] = "-H";
		argv[n++] = header;
	}
	argv[n++] = url;
	argv[n] = NULL;
	if (tsp_run(argv, NULL, out, cap) != 0)
		return -1;
	char *nl = strrchr(out, '\n');
	if (nl == NULL)
		return -1;
	int code = atoi(nl + 1);
	*nl = '\0';
	return code;
}

int tsp_https(const tsp_server_t *s, const char *method, const char *path, const char *body,
	      char *out, size_t cap)
{
	char url[1024];
	/* The certificate names localhost and 127.0.0.1. */
	snprintf(url, sizeof(url), "https://%s%s", s->https_addr, path);
	return tsp_http(method, url, body, NULL, s->cacert, out, cap);
}

void tsp_metrics_token(const tsp_server_t *s, char *out, size_t cap)
{
	char path[320];
	snprintf(path, sizeof(path), "%s/data/metrics.token", s->dir);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_not_null(fgets(out, (int)cap, f), "%s is empty", path);
	fclose(f);
	out[strcspn(out, "\r\n")] = '\0';
}

int tsp_metrics_get(const tsp_server_t *s, char *out, size_t cap)
{
	char token[128], header[160], url[128];
	tsp_metrics_token(s, token, sizeof(token));
	snprintf(header, sizeof(header), "Authorization: Bearer %s", token);
	snprintf(url, sizeof(url), "https://%s/metrics", s->https_addr);
	return tsp_http("GET", url, NULL, header, s->cacert, out, cap);
}

long long tsp_metric(const tsp_server_t *s, const char *series)
{
	size_t cap = 128 * 1024, n = strlen(series);
	char *page = malloc(cap);
	cr_assert_not_null(page);
	int code = tsp_metrics_get(s, page, cap);
	cr_assert_eq(code, 200, "GET /metrics: %d", code);
	long long v = -1;
	/* At a line start: the "# TYPE <name> ..." lines hold the name too. */
	for (const char *p = page; p != NULL && v < 0; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			v = atoll(p + n + 1);
	}
	free(page);
	return v;
}
