/*
 * Test harness for ospay-sandbox, included by the sandbox test files: starts
 * the real binary on port 0 (parsing its "listening" line), a forked webhook
 * receiver that stores every request it gets as a file, and a blocking HTTP
 * client on libcurl. Every process started here is stopped by its pid.
 */
#ifndef OSPAY_TESTS_SANDBOX_HARNESS_H
#define OSPAY_TESTS_SANDBOX_HARNESS_H

#include <criterion/criterion.h>

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support/proc.h"

#define H_BODY_MAX (256 * 1024)
#define H_RECV_MAX_CONNS 32

typedef struct h_resp {
	long status;
	int curl_rc; /* CURLE_OK when an HTTP answer came */
	char body[H_BODY_MAX];
	size_t len;
	double secs;
	json_t *json; /* parsed body, or NULL */
} h_resp_t;

typedef struct h_env {
	pid_t sbx_pid;
	pid_t recv_pid;
	char base[96]; /* http://127.0.0.1:PORT of the sandbox */
	char dir[64];  /* receiver's directory */
	char log[128]; /* sandbox's stderr */
	int recv_port;
} h_env_t;

static h_env_t H;

static inline uint64_t h_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- webhook receiver (child) */

typedef struct h_rconn {
	int fd;
	char buf[H_BODY_MAX];
	size_t len;
} h_rconn_t;

/* Answers with the status in dir/status (200 when absent). */
static inline int h_recv_status(void)
{
	char p[128];
	int st = 200;
	snprintf(p, sizeof(p), "%s/status", H.dir);
	FILE *f = fopen(p, "r");
	if (f != NULL) {
		if (fscanf(f, "%d", &st) != 1)
			st = 200;
		fclose(f);
	}
	return st;
}

/* Stores every complete request of c as dir/req-NNNNNN; returns -1 to drop c. */
static inline int h_recv_drain(h_rconn_t *c, int *seq)
{
	for (;;) {
		char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
		if (end == NULL)
			return 0;
		size_t hlen = (size_t)(end - c->buf) + 4;
		size_t clen = 0;
		char *cl = memmem(c->buf, hlen, "Content-Length:", 15);
		if (cl == NULL)
			cl = memmem(c->buf, hlen, "content-length:", 15);
		if (cl != NULL)
			clen = strtoul(cl + 15, NULL, 10);
		if (c->len < hlen + clen)
			return 0;
		char tmp[160], fin[160];
		snprintf(tmp, sizeof(tmp), "%s/tmp", H.dir);
		snprintf(fin, sizeof(fin), "%s/req-%06d", H.dir, (*seq)++);
		FILE *f = fopen(tmp, "w");
		if (f != NULL) {
			fwrite(c->buf, 1, hlen + clen, f);
			fclose(f);
			rename(tmp, fin);
		}
		char resp[128];
		int st = h_recv_status();
		int n = snprintf(resp, sizeof(resp), "HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n",
				 st);
		if (write(c->fd, resp, (size_t)n) != n)
			return -1;
		memmove(c->buf, c->buf + hlen + clen, c->len - hlen - clen);
		c->len -= hlen + clen;
	}
}

static inline void h_recv_main(int lfd)
{
	static h_rconn_t conns[H_RECV_MAX_CONNS];
	struct pollfd pfd[H_RECV_MAX_CONNS + 1];
	int seq = 0;
	for (int i = 0; i < H_RECV_MAX_CONNS; i++)
		conns[i].fd = -1;
	for (;;) {
		int n = 0;
		pfd[n].fd = lfd;
		pfd[n++].events = POLLIN;
		for (int i = 0; i < H_RECV_MAX_CONNS; i++) {
			pfd[n].fd = conns[i].fd;
			pfd[n++].events = POLLIN;
		}
		if (poll(pfd, (nfds_t)n, 1000) < 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			int fd = accept(lfd, NULL, NULL);
			for (int i = 0; i < H_RECV_MAX_CONNS && fd >= 0; i++) {
				if (conns[i].fd < 0) {
					conns[i].fd = fd;
					conns[i].len = 0;
					fd = -1;
				}
			}
			if (fd >= 0)
				close(fd);
		}
		for (int i = 0; i < H_RECV_MAX_CONNS; i++) {
			h_rconn_t *c = &conns[i];
			if (c->fd < 0 || !(pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
			if (r <= 0 || (c->len += (size_t)r, h_recv_drain(c, &seq) < 0) ||
			    c->len == sizeof(c->buf)) {
				close(c->fd);
				c->fd = -1;
			}
		}
	}
}

static inline void h_recv_start(void)
{
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	cr_assert(lfd >= 0);
	cr_assert_eq(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(lfd, 64), 0);
	cr_assert_eq(getsockname(lfd, (struct sockaddr *)&a, &al), 0);
	H.recv_port = ntohs(a.sin_port);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		/* The receiver dies with the test process even if fini never runs. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		h_recv_main(lfd);
		_exit(0);
	}
	close(lfd);
	H.recv_pid = pid;
}

/* Removes every stored request (and the status override). */
static inline void h_hooks_clear(void)
{
	DIR *d = opendir(H.dir);
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		char p[400];
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", H.dir, e->d_name);
		unlink(p);
	}
	if (d != NULL)
		closedir(d);
}

static inline int h_hooks_count(void)
{
	int n = 0;
	DIR *d = opendir(H.dir);
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL)
		n += strncmp(e->d_name, "req-", 4) == 0;
	if (d != NULL)
		closedir(d);
	return n;
}

/* Waits until at least n webhooks arrived (timeout_ms at most); returns the count. */
static inline int h_hooks_wait(int n, int timeout_ms)
{
	uint64_t end = h_now_ms() + (uint64_t)timeout_ms;
	int c = h_hooks_count();
	while (c < n && h_now_ms() < end) {
		usleep(10000);
		c = h_hooks_count();
	}
	return c;
}

/* Reads webhook i (0 = first to arrive) into out (NUL-terminated). */
static inline void h_hook_read(int i, char *out, size_t cap)
{
	char p[160];
	snprintf(p, sizeof(p), "%s/req-%06d", H.dir, i);
	FILE *f = fopen(p, "r");
	cr_assert_not_null(f, "no webhook %d", i);
	size_t n = fread(out, 1, cap - 1, f);
	out[n] = '\0';
	fclose(f);
}

/* The body of webhook i parsed as JSON (caller decrefs). */
static inline json_t *h_hook_json(int i)
{
	static char raw[H_BODY_MAX];
	h_hook_read(i, raw, sizeof(raw));
	char *b = strstr(raw, "\r\n\r\n");
	cr_assert_not_null(b);
	json_t *j = json_loads(b + 4, 0, NULL);
	cr_assert_not_null(j, "webhook %d body is not JSON: %s", i, b + 4);
	return j;
}

static inline void h_recv_set_status(int st)
{
	char p[160];
	snprintf(p, sizeof(p), "%s/status", H.dir);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fprintf(f, "%d\n", st);
	fclose(f);
}

/* ---------------------------------------------------------------- the sandbox */

static inline void h_sbx_start(void)
{
	char base[64];
	int pfd[2];
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", H.recv_port);
	snprintf(H.log, sizeof(H.log), "%s/../sandbox-%d.log", H.dir, (int)getpid());
	cr_assert_eq(pipe2(pfd, O_CLOEXEC), 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		int lf = open(H.log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (lf >= 0)
			dup2(lf, STDERR_FILENO);
		execl(OSPAY_SANDBOX_BIN, OSPAY_SANDBOX_BIN, "--listen", "127.0.0.1:0",
		      "--webhook-base", base, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	H.sbx_pid = pid;
	char line[256] = {0};
	size_t len = 0;
	uint64_t end = h_now_ms() + 10000;
	while (h_now_ms() < end && strchr(line, '\n') == NULL && len < sizeof(line) - 1) {
		struct pollfd p = {.fd = pfd[0], .events = POLLIN};
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t r = read(pfd[0], line + len, sizeof(line) - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(pfd[0]);
	char hp[64];
	cr_assert_eq(sscanf(line, "listening %63s", hp), 1, "no listening line: '%s'", line);
	cr_assert(strncmp(hp, "127.0.0.1:", 10) == 0 && atoi(hp + 10) > 0, "bad line '%s'", line);
	snprintf(H.base, sizeof(H.base), "http://%s", hp);
}

/* Stops a child by pid: sig first, SIGKILL after 10 s; returns the wait status. */
static inline int h_stop(pid_t pid, int sig)
{
	int st = -1;
	if (pid <= 0)
		return -1;
	kill(pid, sig);
	uint64_t end = h_now_ms() + 10000;
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (h_now_ms() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		usleep(5000);
	}
	return st;
}

static inline void h_setup(void)
{
	memset(&H, 0, sizeof(H));
	snprintf(H.dir, sizeof(H.dir), "/tmp/ospay-sbxtest-XXXXXX");
	cr_assert_not_null(mkdtemp(H.dir));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	h_recv_start();
	h_sbx_start();
}

static inline void h_teardown(void)
{
	int st = h_stop(H.sbx_pid, SIGTERM);
	h_stop(H.recv_pid, SIGKILL);
	h_hooks_clear();
	rmdir(H.dir);
	int report = tsp_log_has_sanitizer_report(H.log);
	if (!report)
		unlink(H.log);
	curl_global_cleanup();
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "sandbox did not exit 0 (status %d)", st);
	cr_assert_not(report, "sandbox log has a sanitizer report: %s", H.log);
}

/* ---------------------------------------------------------------- HTTP client */

static inline size_t h_on_body(char *p, size_t sz, size_t n, void *arg)
{
	h_resp_t *r = arg;
	size_t k = sz * n;
	if (k > sizeof(r->body) - 1 - r->len)
		k = sizeof(r->body) - 1 - r->len;
	memcpy(r->body + r->len, p, k);
	r->len += k;
	r->body[r->len] = '\0';
	return sz * n;
}

/*
 * One request to the sandbox: path is appended to its base; hdrs is a NULL-ended
 * list of "Name: value"; body may be NULL. The caller frees with h_free.
 */
static inline h_resp_t *h_req(const char *method, const char *path, const char *const *hdrs,
			      const char *body, long timeout_ms)
{
	h_resp_t *r = calloc(1, sizeof(*r));
	char url[1024];
	struct curl_slist *sl = NULL;
	cr_assert_not_null(r);
	CURL *e = curl_easy_init();
	cr_assert_not_null(e);
	snprintf(url, sizeof(url), "%s%s", H.base, path);
	for (size_t i = 0; hdrs != NULL && hdrs[i] != NULL; i++)
		sl = curl_slist_append(sl, hdrs[i]);
	sl = curl_slist_append(sl, "Expect:");
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, sl);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, h_on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 10000L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	if (body != NULL) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	uint64_t t0 = h_now_ms();
	r->curl_rc = (int)curl_easy_perform(e);
	r->secs = (double)(h_now_ms() - t0) / 1000.0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_cleanup(e);
	curl_slist_free_all(sl);
	if (r->len > 0)
		r->json = json_loads(r->body, 0, NULL);
	return r;
}

static inline void h_free(h_resp_t *r)
{
	if (r != NULL)
		json_decref(r->json);
	free(r);
}

/* h_free of each response named. */
#define H_FREE_ALL(...)                                                                            \
	do {                                                                                       \
		h_resp_t *h_all_[] = {__VA_ARGS__};                                                \
		for (size_t h_i_ = 0; h_i_ < sizeof(h_all_) / sizeof(h_all_[0]); h_i_++)           \
			h_free(h_all_[h_i_]);                                                      \
	} while (0)

/* A control call that must answer expect (asserted); returns the response. */
static inline h_resp_t *h_ctl(const char *method, const char *path, const char *body, long expect)
{
	h_resp_t *r = h_req(method, path, NULL, body, 0);
	cr_assert_eq(r->status, expect, "%s %s -> %ld %s", method, path, r->status, r->body);
	return r;
}

static inline void h_ctl_ok(const char *method, const char *path, const char *body)
{
	h_free(h_ctl(method, path, body, 200));
}

/* Adds a request fault (json: its body), which the sandbox must take. */
static inline void h_fault(const char *json)
{
	h_free(h_ctl("POST", "/control/faults", json, 201));
}

/* Adds a webhook fault likewise. */
static inline void h_hook_fault(const char *json)
{
	h_free(h_ctl("POST", "/control/webhook-faults", json, 201));
}

/* Waits until n webhooks arrived, then asserts that webhook i's request starts with
 * start and carries has. */
static inline void h_hook_expect(int n, int i, const char *start, const char *has)
{
	char raw[4096];
	cr_assert_eq(h_hooks_wait(n, 5000), n);
	h_hook_read(i, raw, sizeof(raw));
	cr_assert(strncmp(raw, start, strlen(start)) == 0, "%s", raw);
	cr_assert_not_null(strstr(raw, has), "%s", raw);
}

/* Asserts the sandbox recorded count charges for merchant order moid (NULL:
 * all of them), approved of them approved (-1: not checked); why names the case. */
static inline void h_expect_charges(const char *moid, long count, long approved, const char *why)
{
	char path[200] = "/control/charges";
	if (moid != NULL)
		snprintf(path, sizeof(path), "/control/charges?merchant_order_id=%s", moid);
	h_resp_t *c = h_ctl("GET", path, NULL, 200);
	cr_assert_eq(json_integer_value(json_object_get(c->json, "count")), count, "%s: count",
		     why);
	if (approved >= 0)
		cr_assert_eq(json_integer_value(json_object_get(c->json, "approved")), approved,
			     "%s: approved", why);
	h_free(c);
}

/* Resets the sandbox and the receiver; registers org 7 at every service. */
static inline void h_fresh(void)
{
	h_ctl_ok("POST", "/control/reset", "{}");
	h_hooks_clear();
	h_ctl_ok("POST", "/control/settings", "{\"webhook_retry_ms\":100}");
	h_ctl_ok("POST", "/control/orgs/7/cielo",
		 "{\"merchant_id\":\"mid-7\",\"merchant_key\":\"mkey-7\","
		 "\"notification_headers\":{\"X-Cielo-Hook\":\"hook-secret-7\"}}");
	h_ctl_ok("POST", "/control/orgs/7/getnet",
		 "{\"client_id\":\"cid-7\",\"client_secret\":\"csecret-7\",\"seller_id\":\"seller-"
		 "7\"}");
	h_ctl_ok("POST", "/control/orgs/7/pagolivre", "{\"token\":\"pltoken7\"}");
	h_ctl_ok("POST", "/control/orgs/7/zapme",
		 "{\"api\":\"zapi-7\",\"secret\":\"zsecret-7\",\"webhook_secret\":\"zhook-7\"}");
}

static const char *const H_CIELO[] = {"MerchantId: mid-7", "MerchantKey: mkey-7",
				      "Content-Type: application/json", NULL};

/* A Cielo card sale; returns the response (caller frees). */
static inline h_resp_t *h_cielo_sale(const char *moid, const char *card, bool capture)
{
	char body[1024];
	snprintf(body, sizeof(body),
		 "{\"MerchantOrderId\":\"%s\",\"Customer\":{\"Name\":\"Ana\"},\"Payment\":{"
		 "\"Type\":\"CreditCard\",\"Amount\":15700,\"Installments\":1,\"Capture\":%s,"
		 "\"Recurrent\":true,\"CreditCard\":{\"CardNumber\":\"%s\",\"Holder\":\"Ana\","
		 "\"ExpirationDate\":\"12/2030\",\"Brand\":\"Visa\"}}}",
		 moid, capture ? "true" : "false", card);
	return h_req("POST", "/cielo/1/sales/", H_CIELO, body, 0);
}

#endif
