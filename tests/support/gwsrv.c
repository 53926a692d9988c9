/* The scripted responder of gwsrv.h. */
#include "support/gwsrv.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support/proc.h"

#define GWSRV_MAX_REQUEST (1u << 20)
#define GWSRV_MAX_HANGING 64

static const char *gwsrv_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 402:
		return "Payment Required";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Status";
	}
}

static void gwsrv_sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Reads one request into buf; returns its total length or -1. *hdr_end is the
 * offset of the body, *clen its length. */
static ssize_t gwsrv_read_request(int fd, char *buf, size_t cap, size_t *hdr_end, size_t *clen)
{
	size_t n = 0;
	char *end = NULL;

	*clen = 0;
	while (end == NULL) {
		ssize_t k;
		if (n + 1 >= cap)
			return -1;
		k = read(fd, buf + n, cap - 1 - n);
		if (k <= 0)
			return -1;
		n += (size_t)k;
		buf[n] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	*hdr_end = (size_t)(end - buf) + 4;
	for (char *line = strstr(buf, "\r\n"); line != NULL && line < end;
	     line = strstr(line + 2, "\r\n")) {
		if (strncasecmp(line + 2, "Content-Length:", 15) == 0)
			*clen = strtoul(line + 17, NULL, 10);
	}
	if (*hdr_end + *clen >= cap)
		return -1;
	while (n < *hdr_end + *clen) {
		ssize_t k = read(fd, buf + n, *hdr_end + *clen - n);
		if (k <= 0)
			return -1;
		n += (size_t)k;
	}
	buf[n] = '\0';
	return (ssize_t)n;
}

static bool gwsrv_match(const gwsrv_rule_t *r, const char *method, const char *target)
{
	size_t tl = strlen(r->target);

	if (r->method != NULL && strcmp(r->method, method) != 0)
		return false;
	if (tl > 0 && r->target[tl - 1] == '*')
		return strncmp(r->target, target, tl - 1) == 0;
	return strcmp(r->target, target) == 0;
}

static void gwsrv_child(int lfd, int logfd, const gwsrv_rule_t *rules, size_t n)
{
	int used[GWSRV_MAX_RULES] = {0};
	int hanging[GWSRV_MAX_HANGING];
	size_t n_hanging = 0;
	char *buf = malloc(GWSRV_MAX_REQUEST);

	if (buf == NULL)
		_exit(2);
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		size_t hdr_end = 0;
		size_t clen = 0;
		char method[16] = "";
		char target[2048] = "";
		char head[160];
		const gwsrv_rule_t *r = NULL;
		const char *line_end;
		const char *hdrs;
		ssize_t total;
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			_exit(3);
		}
		total = gwsrv_read_request(fd, buf, GWSRV_MAX_REQUEST, &hdr_end, &clen);
		if (total < 0 || sscanf(buf, "%15s %2047s", method, target) != 2) {
			close(fd);
			continue;
		}
		line_end = strstr(buf, "\r\n");
		hdrs = line_end + 2;
		/* "REQ method target_len headers_len body_len\n" then the three blobs. */
		snprintf(head, sizeof(head), "REQ %s %zu %zu %zu\n", method, strlen(target),
			 (size_t)(buf + hdr_end - 2 - hdrs), clen);
		tsp_write_all(logfd, head, strlen(head));
		tsp_write_all(logfd, target, strlen(target));
		tsp_write_all(logfd, hdrs, (size_t)(buf + hdr_end - 2 - hdrs));
		tsp_write_all(logfd, buf + hdr_end, clen);
		for (size_t i = 0; i < n; i++) {
			if (!gwsrv_match(&rules[i], method, target))
				continue;
			if (rules[i].times > 0 && used[i] >= rules[i].times)
				continue;
			used[i]++;
			r = &rules[i];
			break;
		}
		if (r != NULL && r->delay_ms > 0)
			gwsrv_sleep_ms(r->delay_ms);
		if (r == NULL || r->action == GWSRV_REPLY) {
			int status = r != NULL ? r->status : 599;
			const char *body = r != NULL && r->body != NULL ? r->body : "";
			char resp[512];
			int hl = snprintf(resp, sizeof(resp),
					  "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
					  "Content-Length: %zu\r\nConnection: close\r\n\r\n",
					  status, gwsrv_reason(status), strlen(body));
			tsp_write_all(fd, resp, (size_t)hl);
			tsp_write_all(fd, body, strlen(body));
			shutdown(fd, SHUT_WR);
			close(fd);
		} else if (r->action == GWSRV_HANG) {
			/* Kept open and silent until the child dies; past the cap the
			 * oldest is let go. */
			if (n_hanging == GWSRV_MAX_HANGING) {
				close(hanging[0]);
				memmove(hanging, hanging + 1,
					(GWSRV_MAX_HANGING - 1) * sizeof(int));
				n_hanging--;
			}
			hanging[n_hanging++] = fd;
		} else if (r->action == GWSRV_RESET) {
			struct linger lg = {.l_onoff = 1, .l_linger = 0};
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(fd);
		} else {
			close(fd);
		}
	}
}

int gwsrv_start(gwsrv_t *s, const gwsrv_rule_t *rules, size_t n)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);
	int lfd = -1;
	int logfd = -1;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	if (n > GWSRV_MAX_RULES)
		return -EINVAL;
	snprintf(s->log_path, sizeof(s->log_path), "/tmp/gwsrv-XXXXXX");
	logfd = mkstemp(s->log_path);
	if (logfd < 0)
		return -errno;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 128) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen) < 0) {
		rc = -errno;
		goto out;
	}
	s->port = ntohs(a.sin_port);
	snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%d", s->port);
	s->pid = fork();
	if (s->pid < 0) {
		rc = -errno;
		goto out;
	}
	if (s->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		gwsrv_child(lfd, logfd, rules, n);
		_exit(0);
	}
out:
	if (lfd >= 0)
		close(lfd);
	if (logfd >= 0)
		close(logfd);
	if (rc < 0)
		unlink(s->log_path);
	return rc;
}

void gwsrv_stop(gwsrv_t *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
	if (s->log_path[0] != '\0') {
		unlink(s->log_path);
		s->log_path[0] = '\0';
	}
}

static char *gwsrv_take(const char **p, const char *end, size_t n)
{
	char *c;

	if ((size_t)(end - *p) < n)
		return NULL;
	c = malloc(n + 1);
	if (c == NULL)
		return NULL;
	memcpy(c, *p, n);
	c[n] = '\0';
	*p += n;
	return c;
}

size_t gwsrv_requests(const gwsrv_t *s, gwsrv_req_t **out)
{
	FILE *f = fopen(s->log_path, "rb");
	char *data = NULL;
	size_t len = 0;
	size_t n = 0;
	gwsrv_req_t *reqs = NULL;
	const char *p;
	const char *end;

	*out = NULL;
	if (f == NULL)
		return 0;
	fseek(f, 0, SEEK_END);
	len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc(len + 1);
	if (data == NULL || fread(data, 1, len, f) != len) {
		fclose(f);
		free(data);
		return 0;
	}
	fclose(f);
	data[len] = '\0';
	p = data;
	end = data + len;
	while (p < end) {
		gwsrv_req_t r = {0};
		size_t tl;
		size_t hl;
		size_t bl;
		int used = 0;
		gwsrv_req_t *grown;

		if (sscanf(p, "REQ %15s %zu %zu %zu\n%n", r.method, &tl, &hl, &bl, &used) != 4 ||
		    used == 0)
			break;
		p += used;
		r.target = gwsrv_take(&p, end, tl);
		r.headers = gwsrv_take(&p, end, hl);
		r.body = gwsrv_take(&p, end, bl);
		r.body_len = bl;
		grown = realloc(reqs, (n + 1) * sizeof(*reqs));
		if (r.target == NULL || r.headers == NULL || r.body == NULL || grown == NULL) {
			free(r.target);
			free(r.headers);
			free(r.body);
			if (grown != NULL)
				reqs = grown;
			break;
		}
		reqs = grown;
		reqs[n++] = r;
	}
	free(data);
	*out = reqs;
	return n;
}

void gwsrv_reqs_free(gwsrv_req_t *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].target);
		free(r[i].headers);
		free(r[i].body);
	}
	free(r);
}

const char *gwsrv_req_header(const gwsrv_req_t *r, const char *name, char *buf, size_t cap)
{
	size_t nl = strlen(name);
	const char *line = r->headers;

	while (line != NULL && *line != '\0') {
		const char *eol = strstr(line, "\r\n");
		size_t ll = eol != NULL ? (size_t)(eol - line) : strlen(line);
		if (ll > nl && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
			const char *v = line + nl + 1;
			size_t vl;
			while (*v == ' ')
				v++;
			vl = ll - (size_t)(v - line);
			if (vl >= cap)
				vl = cap - 1;
			memcpy(buf, v, vl);
			buf[vl] = '\0';
			return buf;
		}
		line = eol != NULL ? eol + 2 : NULL;
	}
	return NULL;
}
