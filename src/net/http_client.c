/*
 * libcurl multi on libuv. curl's docs/examples/multi-uv.c is the model, with
 * its gaps closed:
 *
 * - one uv_poll_t context per socket, created on curl's first request to
 *   watch it, attached with curl_multi_assign and kept in a table by fd;
 *   closed on CURL_POLL_REMOVE (or when curl closes the fd through
 *   on_curl_closesocket without a REMOVE first) and freed in its close callback;
 * - one one-shot uv_timer for curl's timeout, 0 ms turned into 1 ms so curl is
 *   never re-entered from inside its own timer callback;
 * - curl_multi_info_read drained after every curl_multi_socket_action;
 * - CURL_CSELECT_ERR passed when libuv reports a poll error, and the poll
 *   restarted afterwards if curl still wants the socket (libuv stops a poll
 *   handle on error);
 * - a failure inside a curl callback (no memory for a poll context) cannot
 *   remove the transfer there, so the request is "doomed" and reaped from the
 *   timer callback, outside curl;
 * - user callbacks never run inside curl; http_client_close called from one of
 *   them is finished by the outermost libuv callback of this module (depth).
 *
 * Requests live in exactly one of: a pool's FIFO queue, the active list
 * (handed to curl), the doomed list, or the cancelled list of a closing client.
 *
 * Easy handles are recycled: a transfer that ended with CURLE_OK and no error of
 * ours leaves its handle, curl_easy_reset at once (so it keeps no pointer into
 * the freed request), on an idle stack that the next req_start pops before
 * setting every option again. A handle whose transfer failed, timed out or was
 * cancelled is cleaned up instead. reset keeps the handle's CURLOPT_SHARE
 * attachment, so idle handles are cleaned up before the share.
 */
#include "net/http_client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/buf.h"
#include "common/crypto.h"
#include "common/log.h"
#include "common/util.h"
#include "core/netaddr.h"

#define HTTPC_DEFAULT_POOL "default"
#define HTTPC_METHOD_MAX 32
#define HTTPC_SOCK_TABLE_MIN 64
/* Most idle easy handles kept, whatever the pool limits (each holds curl's
 * transfer buffers, some tens of KiB). */
#define HTTPC_IDLE_HARD_MAX 256u

/* Intrusive circular doubly-linked list with a sentinel head. */
struct httpc_node {
	struct httpc_node *prev;
	struct httpc_node *next;
};

struct httpc_pool {
	struct httpc_pool *next;
	struct httpc_node queue; /* httpc_req.node, oldest first */
	uint32_t max_in_flight;
	uint32_t in_flight;
	char name[HTTP_CLIENT_POOL_NAME_MAX + 1];
};

/* One socket libuv polls for curl. */
struct httpc_sock {
	uv_poll_t poll;
	http_client_t *c;
	curl_socket_t fd;
	int events; /* UV_READABLE | UV_WRITABLE, as curl last asked */
};

struct httpc_req {
	struct httpc_node node;
	http_client_t *c;
	struct httpc_pool *pool;
	http_done_cb cb;
	void *arg;
	uint64_t sent_ms;
	uint64_t deadline_ms;
	/* Set by our own curl callbacks; wins over curl's result code. */
	int err;
	const char *err_msg;
	CURL *easy;
	struct curl_slist *slist;
	buf_t body_in; /* response body, always with room for a NUL */
	buf_t hdr_in;  /* response headers as "name\0value\0" pairs */
	buf_t hdr_vec; /* room for n_hdr http_header_t, filled on delivery */
	size_t n_hdr;
	/* The copied request, pointing into data[]. */
	const char *method;
	const char *url;
	const char *ca_file;
	const char *hdr_lines; /* n_req_hdr NUL-terminated "Name: value" lines */
	size_t n_req_hdr;
	const uint8_t *body;
	size_t body_len;
	bool insecure;
	/* Mutual TLS, pointing into data[]; the key is wiped at free. */
	const uint8_t *client_cert;
	size_t client_cert_len;
	uint8_t *client_key;
	size_t client_key_len;
	bool has_content_type;
	size_t alloc_size; /* of this struct with data[], wiped when freed */
	unsigned attempts; /* times curl was about to send a non-idempotent request */
	char errbuf[CURL_ERROR_SIZE];
	char data[];
};

struct http_client {
	uv_loop_t *loop;
	CURLM *multi;
	CURLSH *share;
	uv_timer_t timer;       /* curl's timeout */
	uv_timer_t queue_timer; /* earliest deadline of a queued request */
	uint64_t queue_due_ms;
	struct httpc_sock **socks; /* live poll contexts by fd */
	size_t socks_cap;
	struct httpc_pool *pools;
	struct httpc_node active;
	struct httpc_node doomed;
	struct httpc_node cancelled;
	http_client_stats_t stats;
	CURL **idle; /* reset easy handles, the most recently used last */
	uint32_t idle_cap;
	uint32_t idle_max; /* largest pool limit, at most HTTPC_IDLE_HARD_MAX */
	uint32_t default_timeout_ms;
	uint32_t connect_timeout_ms;
	size_t max_response;
	uint32_t pool_max;
	uint32_t max_queued;
	char *user_agent;
	char *proxy;
	bool refuse_internal;
	unsigned depth;        /* nesting of this module's libuv callbacks */
	unsigned open_handles; /* libuv handles not yet through their close callback */
	bool closing;
	bool torn_down;
	void (*closed)(void *arg);
	void *closed_arg;
};

static void on_timer(uv_timer_t *t);
static void on_queue_timer(uv_timer_t *t);

/* ------------------------------------------------------------------ lists */

static void node_init(struct httpc_node *n)
{
	n->prev = n;
	n->next = n;
}

static bool node_empty(const struct httpc_node *head)
{
	return head->next == head;
}

static void node_push_back(struct httpc_node *head, struct httpc_node *n)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

static void node_remove(struct httpc_node *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	node_init(n);
}

static struct httpc_req *node_req(struct httpc_node *n)
{
	return container_of(n, struct httpc_req, node);
}

/* ------------------------------------------------------------------ small helpers */

static uint64_t now_ms(void)
{
	return uv_hrtime() / 1000000u;
}

static char ascii_lower(char ch)
{
	return (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
}

static bool ascii_ieq(const char *a, const char *b)
{
	while (*a != '\0' && ascii_lower(*a) == ascii_lower(*b)) {
		a++;
		b++;
	}
	return *a == '\0' && *b == '\0';
}

/* RFC 9110 tchar: what a method or a header name may be made of. */
static bool is_token(const char *s, size_t max)
{
	size_t n = 0;
	for (; s[n] != '\0'; n++) {
		unsigned char ch = (unsigned char)s[n];
		bool ok = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
			  (ch >= 'A' && ch <= 'Z') || (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch));
		if (!ok || n >= max)
			return false;
	}
	return n > 0;
}

static bool is_header_value(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '\r' || ch == '\n' || (ch < 0x20 && ch != '\t') || ch == 0x7f)
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------ curl's codes */

/*
 * The module's one edge to CURLcode: a transfer's (or a setopt's) result
 * becomes a negative errno and a short fixed text. os_errno is
 * CURLINFO_OS_ERRNO (0 when unknown).
 */
static int httpc_err_from_curl(CURLcode ec, long os_errno, const char **msg)
{
	int os = (os_errno > 0 && os_errno < 4096) ? (int)os_errno : 0;
	int err = -EIO;
	const char *m = "transfer failed";

	switch (ec) {
	case CURLE_OK:
		err = 0;
		m = "";
		break;
	case CURLE_OPERATION_TIMEDOUT:
		err = -ETIMEDOUT;
		m = "timed out";
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		err = -EHOSTUNREACH;
		m = "could not resolve host";
		break;
	case CURLE_COULDNT_CONNECT:
		err = os ? -os : -ECONNREFUSED;
		m = err == -ECONNREFUSED ? "connection refused" : "could not connect";
		break;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		/* Without an errno this was a poll error (CURL_CSELECT_ERR): a reset. */
		err = os ? -os : -ECONNRESET;
		m = err == -ECONNRESET ? "connection reset" : "connection failed";
		break;
	case CURLE_GOT_NOTHING:
		err = -ECONNRESET;
		m = "connection closed without a response";
		break;
	case CURLE_PARTIAL_FILE:
		err = -ECONNRESET;
		m = "connection closed mid-response";
		break;
	case CURLE_FILESIZE_EXCEEDED:
		err = -E2BIG;
		m = "response too large";
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_ISSUER_ERROR:
		err = -EPROTO;
		m = "TLS peer verification failed";
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_USE_SSL_FAILED:
		err = -EPROTO;
		m = "TLS handshake failed";
		break;
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CRL_BADFILE:
		err = -EINVAL;
		m = "bad CA or CRL file";
		break;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_HTTP3:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_RANGE_ERROR:
		err = -EPROTO;
		m = "bad HTTP response";
		break;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_BAD_FUNCTION_ARGUMENT:
		err = -EINVAL;
		m = "invalid request";
		break;
	case CURLE_UNKNOWN_OPTION:
	case CURLE_NOT_BUILT_IN:
		err = -ENOTSUP;
		m = "not supported by this libcurl";
		break;
	case CURLE_OUT_OF_MEMORY:
		err = -ENOMEM;
		m = "out of memory";
		break;
	case CURLE_ABORTED_BY_CALLBACK:
		err = -ECANCELED;
		m = "cancelled";
		break;
	default:
		break;
	}
	*msg = m;
	return err;
}

/* CURLMcode and CURLUcode carry little more than "no memory" or "bad input". */
static int httpc_err_from_curlm(CURLMcode mc)
{
	return mc == CURLM_OK ? 0 : mc == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EIO;
}

static int httpc_err_from_curlu(CURLUcode uc)
{
	return uc == CURLUE_OK ? 0 : uc == CURLUE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
}

/* ------------------------------------------------------------------ lifetime */

static void client_free(http_client_t *c)
{
	struct httpc_pool *p = c->pools;
	while (p != NULL) {
		struct httpc_pool *next = p->next;
		free(p);
		p = next;
	}
	free(c->socks);
	free(c->idle);
	free(c->user_agent);
	free(c->proxy);
	free(c);
	curl_global_cleanup();
}

/* An idle easy handle if there is one, else a new one; NULL without memory. */
static CURL *easy_get(http_client_t *c)
{
	CURL *e;

	if (c->stats.handles_idle > 0) {
		c->stats.handles_reused++;
		return c->idle[--c->stats.handles_idle];
	}
	e = curl_easy_init();
	if (e != NULL)
		c->stats.handles_created++;
	return e;
}

/*
 * Takes back e, out of the multi handle: kept for reuse when its transfer ended
 * cleanly and there is room, else cleaned up.
 */
static void easy_put(http_client_t *c, CURL *e, bool reuse)
{
	uint32_t n = c->stats.handles_idle;

	if (e == NULL)
		return;
	if (!reuse || c->closing || n >= c->idle_max)
		goto drop;
	if (n == c->idle_cap) {
		uint32_t cap = c->idle_cap ? c->idle_cap * 2 : 8;
		CURL **t;
		if (cap > c->idle_max)
			cap = c->idle_max;
		t = realloc(c->idle, cap * sizeof(*t));
		if (t == NULL)
			goto drop;
		c->idle = t;
		c->idle_cap = cap;
	}
	curl_easy_reset(e);
	c->idle[n] = e;
	c->stats.handles_idle++;
	return;
drop:
	curl_easy_cleanup(e);
}

/* Cleans up every idle handle; before curl_share_cleanup, which they still use. */
static void easy_drop_idle(http_client_t *c)
{
	while (c->stats.handles_idle > 0)
		curl_easy_cleanup(c->idle[--c->stats.handles_idle]);
}

/* A header list's lines hold credentials (an Authorization, a MerchantKey). */
static void slist_free_wiped(struct curl_slist *sl)
{
	for (struct curl_slist *i = sl; i != NULL; i = i->next)
		crypto_wipe(i->data, strlen(i->data));
	curl_slist_free_all(sl);
}

static void req_free(struct httpc_req *r)
{
	if (r == NULL)
		return;
	if (r->easy != NULL)
		curl_easy_cleanup(r->easy);
	slist_free_wiped(r->slist);
	/* Requests carry credentials and card data, responses tokens: no copy outlives them. */
	buf_free_wiped(&r->body_in);
	buf_free_wiped(&r->hdr_in);
	buf_free(&r->hdr_vec);
	crypto_wipe(r, r->alloc_size);
	free(r);
}

/* Runs r's callback with its outcome and frees r; r must be on no list. */
static void req_deliver(http_client_t *c, struct httpc_req *r, int err, const char *msg,
			long status, uint64_t transfer_us)
{
	http_response_t res = {0};
	http_header_t *hv = (http_header_t *)(void *)r->hdr_vec.data;
	const char *p = (const char *)r->hdr_in.data;

	/* hdr_vec was sized while headers arrived, so delivery never allocates. */
	for (size_t i = 0; i < r->n_hdr; i++) {
		hv[i].name = p;
		p += strlen(p) + 1;
		hv[i].value = p;
		p += strlen(p) + 1;
	}
	res.error = err;
	res.error_msg = err < 0 ? msg : "";
	res.error_detail = err < 0 ? r->errbuf : "";
	res.status = status;
	res.headers = r->n_hdr > 0 ? hv : NULL;
	res.n_headers = r->n_hdr;
	if (r->body_in.data != NULL) {
		r->body_in.data[r->body_in.len] = '\0';
		res.body = r->body_in.data;
		res.body_len = r->body_in.len;
	} else {
		res.body = (const uint8_t *)"";
	}
	res.total_ms = now_ms() - r->sent_ms;
	res.transfer_us = transfer_us;
	if (err < 0)
		c->stats.failed++;
	else
		c->stats.completed++;
	r->cb(&res, r->arg);
	req_free(r);
}

/* Last step of closing: once libuv has closed every handle, cancel and free. */
static void client_maybe_free(http_client_t *c)
{
	void (*closed)(void *arg) = c->closed;
	void *arg = c->closed_arg;

	if (!c->torn_down || c->open_handles > 0)
		return;
	while (!node_empty(&c->cancelled)) {
		struct httpc_req *r = node_req(c->cancelled.next);
		node_remove(&r->node);
		req_deliver(c, r, -ECANCELED, "cancelled", 0, 0);
	}
	client_free(c);
	if (closed != NULL)
		closed(arg);
}

static void on_handle_closed(uv_handle_t *h)
{
	http_client_t *c = h->data;
	c->open_handles--;
	client_maybe_free(c);
}

/* ------------------------------------------------------------------ sockets */

static struct httpc_sock *sock_lookup(const http_client_t *c, curl_socket_t fd)
{
	if (fd < 0 || (size_t)fd >= c->socks_cap)
		return NULL;
	return c->socks[fd];
}

static void on_sock_closed(uv_handle_t *h)
{
	struct httpc_sock *s = container_of((uv_poll_t *)h, struct httpc_sock, poll);
	http_client_t *c = s->c;
	free(s);
	c->open_handles--;
	client_maybe_free(c);
}

/* Stops polling at once (uv_close does it synchronously) and frees s later. */
static void sock_close(http_client_t *c, struct httpc_sock *s)
{
	if (sock_lookup(c, s->fd) == s)
		c->socks[s->fd] = NULL;
	uv_close((uv_handle_t *)&s->poll, on_sock_closed);
}

static int sock_open(http_client_t *c, curl_socket_t fd, struct httpc_sock **out)
{
	struct httpc_sock *s = NULL;
	int rc = 0;

	if (fd < 0) {
		rc = -EBADF;
		goto out;
	}
	if ((size_t)fd >= c->socks_cap) {
		size_t cap = c->socks_cap ? c->socks_cap : HTTPC_SOCK_TABLE_MIN;
		while (cap <= (size_t)fd)
			cap *= 2;
		struct httpc_sock **t = realloc(c->socks, cap * sizeof(*t));
		if (t == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		memset(t + c->socks_cap, 0, (cap - c->socks_cap) * sizeof(*t));
		c->socks = t;
		c->socks_cap = cap;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	rc = uv_poll_init_socket(c->loop, &s->poll, fd);
	if (rc < 0)
		goto out;
	s->c = c;
	s->fd = fd;
	c->socks[fd] = s;
	c->open_handles++;
	*out = s;
	s = NULL;
out:
	free(s);
	return rc;
}

/*
 * Marks the transfer of easy as failed from inside a curl callback, where it
 * cannot be removed; on_timer reaps it outside curl.
 */
static void req_doom(http_client_t *c, CURL *easy, int err, const char *msg)
{
	struct httpc_req *r = NULL;
	char *priv = NULL;

	if (easy != NULL && curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv) == CURLE_OK)
		r = (struct httpc_req *)(void *)priv;
	log_error("http client cannot watch a socket", "err=%d", err);
	if (r == NULL || r->c != c || r->easy != easy || r->err < 0)
		return;
	r->err = err;
	r->err_msg = msg;
	node_remove(&r->node);
	node_push_back(&c->doomed, &r->node);
	uv_timer_start(&c->timer, on_timer, 1, 0);
}

static void client_leave(http_client_t *c);
static void client_drain(http_client_t *c);

static void on_poll(uv_poll_t *p, int status, int events)
{
	struct httpc_sock *s = container_of(p, struct httpc_sock, poll);
	http_client_t *c = s->c;
	curl_socket_t fd = s->fd;
	int flags = 0;
	int running = 0;
	CURLMcode mc;

	c->depth++;
	if (status < 0) {
		flags = CURL_CSELECT_ERR;
	} else {
		if (events & UV_READABLE)
			flags |= CURL_CSELECT_IN;
		if (events & UV_WRITABLE)
			flags |= CURL_CSELECT_OUT;
	}
	mc = curl_multi_socket_action(c->multi, fd, flags, &running);
	if (mc != CURLM_OK)
		log_warn("http client socket action failed", "err=\"%s\"", curl_multi_strerror(mc));
	/* libuv stopped the handle on error; resume it if curl still wants the socket.
	 * s stays allocated until its close callback, which cannot run before we return. */
	if (status < 0 && !c->closing && sock_lookup(c, fd) == s && s->events != 0 &&
	    uv_poll_start(&s->poll, s->events, on_poll) < 0)
		sock_close(c, s);
	client_drain(c);
	client_leave(c);
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	http_client_t *c = userp;
	/* socketp is what curl_multi_assign stored, but the fd table is what counts:
	 * a socket closed through on_curl_closesocket before curl's REMOVE would leave
	 * curl holding a pointer to a freed context. */
	struct httpc_sock *s = sock_lookup(c, fd);
	int events = 0;
	int rc = 0;

	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		/* Also reached from curl_multi_cleanup while the client is closing. */
		if (s != NULL)
			sock_close(c, s);
		goto out;
	}
	if (c->closing)
		goto out;
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	if (s == NULL) {
		rc = sock_open(c, fd, &s);
		if (rc < 0)
			goto out;
		curl_multi_assign(c->multi, fd, s);
	}
	s->events = events;
	rc = uv_poll_start(&s->poll, events, on_poll);
	if (rc < 0)
		sock_close(c, s);
out:
	if (rc < 0)
		req_doom(c, easy, rc, "cannot watch the connection");
	/* Never -1: that would abort every transfer of the multi handle. */
	return 0;
}

/*
 * curl re-sends a request on a fresh connection, body included, when a reused
 * connection dies before any byte of the answer arrives. For a request that
 * changes something that is a second charge whenever the server had already
 * processed the first (ospay-sandbox's "reset" fault shows it): such requests
 * are sent at most once, and the lost answer is reported as a reset.
 */
static int on_curl_prereq(void *clientp, char *primary_ip, char *local_ip, int primary_port,
			  int local_port)
{
	struct httpc_req *r = clientp;

	(void)primary_ip;
	(void)local_ip;
	(void)primary_port;
	(void)local_port;
	if (r->attempts++ == 0)
		return CURL_PREREQFUNC_OK;
	r->err = -ECONNRESET;
	r->err_msg = "connection lost after the request was sent";
	return CURL_PREREQFUNC_ABORT;
}

static netaddr_kind_t sockaddr_kind(const struct curl_sockaddr *addr)
{
	if (addr->family == AF_INET && addr->addrlen >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&addr->addr;
		return netaddr_classify_v4(ntohl(a->sin_addr.s_addr));
	}
	if (addr->family == AF_INET6 && addr->addrlen >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&addr->addr;
		return netaddr_classify_v6(a->sin6_addr.s6_addr);
	}
	return NETADDR_INVALID; /* a Unix socket or an unknown family */
}

/*
 * Sockets close-on-exec, so children the server starts inherit none. Here,
 * after resolution and before connecting, is the one place that sees every
 * address a name turned into: internal ones are refused when asked.
 */
static curl_socket_t on_curl_opensocket(void *clientp, curlsocktype purpose,
					struct curl_sockaddr *addr)
{
	struct httpc_req *r = clientp;
	(void)purpose;
	if (r->c->refuse_internal) {
		netaddr_kind_t k = sockaddr_kind(addr);
		if (netaddr_kind_internal(k)) {
			r->err = -EACCES;
			r->err_msg = "refused: the address is loopback, private or link-local";
			return CURL_SOCKET_BAD;
		}
	}
	return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

static int on_curl_closesocket(void *clientp, curl_socket_t fd)
{
	http_client_t *c = clientp;
	struct httpc_sock *s = sock_lookup(c, fd);

	/* curl normally sends CURL_POLL_REMOVE first; when it has not, stop polling
	 * before the fd is closed and its number can be reused. */
	if (s != NULL)
		sock_close(c, s);
	return close(fd);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	http_client_t *c = userp;
	uint64_t delay = timeout_ms > 0 ? (uint64_t)timeout_ms : 1;

	(void)multi;
	if (c->closing)
		return 0;
	/* A doomed request needs the timer even when curl has nothing to time. */
	if (!node_empty(&c->doomed))
		delay = 1;
	if (timeout_ms < 0 && node_empty(&c->doomed))
		uv_timer_stop(&c->timer);
	else
		uv_timer_start(&c->timer, on_timer, delay, 0);
	return 0;
}

/* ------------------------------------------------------------------ transfers */

static size_t on_curl_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct httpc_req *r = userdata;
	size_t max = r->c->max_response;
	size_t n = size * nmemb;
	int rc = 0;

	if (n > max - r->body_in.len) {
		rc = -E2BIG;
		r->err_msg = "response too large";
		goto out;
	}
	/* One spare byte so delivery can NUL-terminate without allocating. */
	rc = buf_reserve(&r->body_in, n + 1, max + 1);
	if (rc < 0) {
		r->err_msg = "out of memory";
		goto out;
	}
	memcpy(r->body_in.data + r->body_in.len, ptr, n);
	r->body_in.len += n;
out:
	/* Anything but n makes curl abort the transfer; r->err says why. */
	if (rc < 0)
		r->err = rc;
	return rc < 0 ? 0 : n;
}

static size_t on_curl_header(char *buffer, size_t size, size_t nitems, void *userdata)
{
	struct httpc_req *r = userdata;
	size_t n = size * nitems;
	size_t len = n;
	size_t name_len = 0;
	const char *colon = NULL;
	const char *v = NULL;
	size_t v_len = 0;
	int rc = 0;

	/* A status line starts a new header block (after a 1xx, for instance). */
	if (n >= 5 && memcmp(buffer, "HTTP/", 5) == 0) {
		r->hdr_in.len = 0;
		r->n_hdr = 0;
		goto out;
	}
	while (len > 0 && (buffer[len - 1] == '\n' || buffer[len - 1] == '\r'))
		len--;
	colon = memchr(buffer, ':', len);
	/* The blank end line, and folded or malformed lines, are not headers. */
	if (colon == NULL || colon == buffer || memchr(buffer, '\0', len) != NULL)
		goto out;
	name_len = (size_t)(colon - buffer);
	while (name_len > 0 && (buffer[name_len - 1] == ' ' || buffer[name_len - 1] == '\t'))
		name_len--;
	v = colon + 1;
	v_len = len - (size_t)(v - buffer);
	while (v_len > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		v_len--;
	}
	while (v_len > 0 && (v[v_len - 1] == ' ' || v[v_len - 1] == '\t'))
		v_len--;
	rc = buf_reserve(&r->hdr_in, name_len + v_len + 2, HTTP_CLIENT_MAX_HEADER_BYTES);
	if (rc == 0)
		rc = buf_reserve(&r->hdr_vec, (r->n_hdr + 1) * sizeof(http_header_t), SIZE_MAX);
	if (rc < 0) {
		r->err_msg = rc == -E2BIG ? "response headers too large" : "out of memory";
		goto out;
	}
	memcpy(r->hdr_in.data + r->hdr_in.len, buffer, name_len);
	r->hdr_in.data[r->hdr_in.len + name_len] = '\0';
	r->hdr_in.len += name_len + 1;
	memcpy(r->hdr_in.data + r->hdr_in.len, v, v_len);
	r->hdr_in.data[r->hdr_in.len + v_len] = '\0';
	r->hdr_in.len += v_len + 1;
	r->n_hdr++;
out:
	/* Anything but n makes curl abort the transfer; r->err says why. */
	if (rc < 0)
		r->err = rc;
	return rc < 0 ? 0 : n;
}

/* Hands r to curl with what is left of its time; on failure r is untouched. */
static int req_start(http_client_t *c, struct httpc_req *r)
{
	uint64_t now = now_ms();
	uint64_t left = r->deadline_ms > now ? r->deadline_ms - now : 0;
	long connect_ms = (long)(c->connect_timeout_ms < left ? c->connect_timeout_ms : left);
	bool head = strcmp(r->method, "HEAD") == 0;
	bool post = strcmp(r->method, "POST") == 0;
	bool has_body = r->body_len > 0 || post || strcmp(r->method, "PUT") == 0 ||
			strcmp(r->method, "PATCH") == 0;
	const char *line = r->hdr_lines;
	struct curl_slist *sl = NULL;
	struct curl_slist *next = NULL;
	CURL *e = NULL;
	CURLcode ec = CURLE_OK;
	CURLMcode mc;
	int rc = 0;

	if (left == 0) {
		rc = -ETIMEDOUT;
		r->err_msg = "timed out in queue";
		goto out;
	}
	/* Expect: off, so a body is never held back waiting for "100 Continue". */
	sl = curl_slist_append(NULL, "Expect:");
	for (size_t i = 0; sl != NULL && i < r->n_req_hdr; i++) {
		next = curl_slist_append(sl, line);
		if (next == NULL) {
			slist_free_wiped(sl);
			sl = NULL;
		}
		sl = next;
		line += strlen(line) + 1;
	}
	/* curl would label a body as a form; without the caller's type, send none. */
	if (sl != NULL && has_body && !r->has_content_type) {
		next = curl_slist_append(sl, "Content-Type:");
		if (next == NULL)
			slist_free_wiped(sl);
		sl = next;
	}
	e = sl != NULL ? easy_get(c) : NULL;
	if (sl == NULL || e == NULL) {
		rc = -ENOMEM;
		r->err_msg = "out of memory";
		goto out;
	}

#define HTTPC_SETOPT(opt, val)                                                                     \
	do {                                                                                       \
		ec = curl_easy_setopt(e, opt, val);                                                \
		if (ec != CURLE_OK)                                                                \
			goto out;                                                                  \
	} while (0)

	HTTPC_SETOPT(CURLOPT_PRIVATE, (void *)r);
	HTTPC_SETOPT(CURLOPT_URL, r->url);
	HTTPC_SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	HTTPC_SETOPT(CURLOPT_NOSIGNAL, 1L);
	/* Without it, a transfer ended mid-resolve (timeout, close) joins the resolver
	 * thread, blocking the loop until getaddrinfo returns; with it the thread is
	 * detached and frees itself when done. */
	HTTPC_SETOPT(CURLOPT_QUICK_EXIT, 1L);
	HTTPC_SETOPT(CURLOPT_TIMEOUT_MS, (long)left);
	HTTPC_SETOPT(CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	HTTPC_SETOPT(CURLOPT_ERRORBUFFER, r->errbuf);
	HTTPC_SETOPT(CURLOPT_WRITEFUNCTION, on_curl_write);
	HTTPC_SETOPT(CURLOPT_WRITEDATA, (void *)r);
	HTTPC_SETOPT(CURLOPT_HEADERFUNCTION, on_curl_header);
	HTTPC_SETOPT(CURLOPT_HEADERDATA, (void *)r);
	/* Lets curl refuse a too large body from its Content-Length alone. */
	HTTPC_SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_response);
	HTTPC_SETOPT(CURLOPT_OPENSOCKETFUNCTION, on_curl_opensocket);
	HTTPC_SETOPT(CURLOPT_OPENSOCKETDATA, (void *)r);
	HTTPC_SETOPT(CURLOPT_CLOSESOCKETFUNCTION, on_curl_closesocket);
	HTTPC_SETOPT(CURLOPT_CLOSESOCKETDATA, (void *)c);
	HTTPC_SETOPT(CURLOPT_SHARE, c->share);
	HTTPC_SETOPT(CURLOPT_USERAGENT, c->user_agent);
	HTTPC_SETOPT(CURLOPT_HTTPHEADER, sl);
	if (c->proxy != NULL)
		HTTPC_SETOPT(CURLOPT_PROXY, c->proxy);
	if (r->ca_file != NULL)
		HTTPC_SETOPT(CURLOPT_CAINFO, r->ca_file);
	if (r->client_cert != NULL) {
		/* curl copies both blobs into the handle; curl_easy_reset drops them. */
		struct curl_blob cert = {(void *)r->client_cert, r->client_cert_len,
					 CURL_BLOB_COPY};
		struct curl_blob key = {r->client_key, r->client_key_len, CURL_BLOB_COPY};
		HTTPC_SETOPT(CURLOPT_SSLCERT_BLOB, &cert);
		HTTPC_SETOPT(CURLOPT_SSLKEY_BLOB, &key);
	}
	if (r->insecure) {
		HTTPC_SETOPT(CURLOPT_SSL_VERIFYPEER, 0L);
		HTTPC_SETOPT(CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (!head && strcmp(r->method, "GET") != 0) {
		HTTPC_SETOPT(CURLOPT_PREREQFUNCTION, on_curl_prereq);
		HTTPC_SETOPT(CURLOPT_PREREQDATA, (void *)r);
	}
	if (head) {
		HTTPC_SETOPT(CURLOPT_NOBODY, 1L);
	} else if (has_body) {
		HTTPC_SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
		HTTPC_SETOPT(CURLOPT_POSTFIELDS, r->body_len > 0 ? (const void *)r->body : "");
		if (!post)
			HTTPC_SETOPT(CURLOPT_CUSTOMREQUEST, r->method);
	} else if (strcmp(r->method, "GET") != 0) {
		HTTPC_SETOPT(CURLOPT_CUSTOMREQUEST, r->method);
	}
#undef HTTPC_SETOPT

	mc = curl_multi_add_handle(c->multi, e);
	if (mc != CURLM_OK) {
		rc = httpc_err_from_curlm(mc);
		r->err_msg = "cannot start the transfer";
		goto out;
	}
	r->easy = e;
	r->slist = sl;
	e = NULL;
	sl = NULL;
	node_push_back(&c->active, &r->node);
	r->pool->in_flight++;
	c->stats.in_flight++;
	c->stats.started++;
out:
	if (ec != CURLE_OK)
		rc = httpc_err_from_curl(ec, 0, &r->err_msg);
	/* Never added to the multi handle: the rare failure just drops it. */
	easy_put(c, e, false);
	slist_free_wiped(sl);
	return rc;
}

/*
 * Takes an active or doomed r out of curl and its pool; returns curl's numbers.
 * reuse: the transfer ended cleanly, so its easy handle may serve another.
 */
static void req_detach(http_client_t *c, struct httpc_req *r, bool reuse, long *status,
		       long *os_errno, uint64_t *transfer_us)
{
	curl_off_t us = 0;

	*status = 0;
	*os_errno = 0;
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, status);
	curl_easy_getinfo(r->easy, CURLINFO_OS_ERRNO, os_errno);
	curl_easy_getinfo(r->easy, CURLINFO_TOTAL_TIME_T, &us);
	*transfer_us = us > 0 ? (uint64_t)us : 0;
	node_remove(&r->node);
	/* A handle curl would not take out cannot be trusted with another transfer. */
	if (curl_multi_remove_handle(c->multi, r->easy) != CURLM_OK)
		reuse = false;
	easy_put(c, r->easy, reuse);
	r->easy = NULL;
	slist_free_wiped(r->slist);
	r->slist = NULL;
	r->pool->in_flight--;
	c->stats.in_flight--;
}

static void queue_arm(http_client_t *c, uint64_t deadline_ms)
{
	uint64_t now = now_ms();

	if (uv_is_active((uv_handle_t *)&c->queue_timer) && c->queue_due_ms <= deadline_ms)
		return;
	c->queue_due_ms = deadline_ms;
	uv_timer_start(&c->queue_timer, on_queue_timer, deadline_ms > now ? deadline_ms - now : 1,
		       0);
}

/* Starts queued requests of pool while it has free slots. */
static void pool_pump(http_client_t *c, struct httpc_pool *pool)
{
	while (!c->closing && pool->in_flight < pool->max_in_flight && !node_empty(&pool->queue)) {
		struct httpc_req *r = node_req(pool->queue.next);
		int rc;

		node_remove(&r->node);
		c->stats.queued--;
		/* An armed queue timer would keep an otherwise idle loop alive. */
		if (c->stats.queued == 0)
			uv_timer_stop(&c->queue_timer);
		rc = req_start(c, r);
		if (rc < 0)
			req_deliver(c, r, rc, r->err_msg, 0, 0);
	}
}

/* A transfer curl has finished (or a doomed one): frees its slot, then reports. */
static void req_complete(http_client_t *c, struct httpc_req *r, CURLcode ec)
{
	struct httpc_pool *pool = r->pool;
	long status = 0;
	long os_errno = 0;
	uint64_t us = 0;
	const char *msg = NULL;
	int err;

	req_detach(c, r, ec == CURLE_OK && r->err == 0, &status, &os_errno, &us);
	err = httpc_err_from_curl(ec, os_errno, &msg);
	if (r->err < 0) {
		err = r->err;
		msg = r->err_msg;
	}
	/* The freed slot goes to the queue first, so FIFO order survives a callback
	 * that sends again. */
	pool_pump(c, pool);
	req_deliver(c, r, err, msg, status, us);
}

static void client_drain(http_client_t *c)
{
	for (;;) {
		int left = 0;
		CURLMsg *msg;
		char *priv = NULL;

		if (c->closing)
			break;
		msg = curl_multi_info_read(c->multi, &left);
		if (msg == NULL)
			break;
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		/* msg dies with curl_multi_remove_handle: the result is passed on first. */
		req_complete(c, (struct httpc_req *)(void *)priv, msg->data.result);
	}
}

static void client_reap_doomed(http_client_t *c)
{
	while (!c->closing && !node_empty(&c->doomed))
		req_complete(c, node_req(c->doomed.next), CURLE_OK);
}

static void on_timer(uv_timer_t *t)
{
	http_client_t *c = container_of(t, http_client_t, timer);
	int running = 0;
	CURLMcode mc;

	c->depth++;
	client_reap_doomed(c);
	if (!c->closing) {
		mc = curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
		if (mc != CURLM_OK)
			log_warn("http client timeout action failed", "err=\"%s\"",
				 curl_multi_strerror(mc));
		client_drain(c);
	}
	client_leave(c);
}

/* Fails queued requests whose deadline has passed and re-arms for the next. */
static void on_queue_timer(uv_timer_t *t)
{
	http_client_t *c = container_of(t, http_client_t, queue_timer);
	struct httpc_node expired;
	uint64_t now = now_ms();
	uint64_t next = UINT64_MAX;

	c->depth++;
	node_init(&expired);
	for (struct httpc_pool *p = c->pools; p != NULL; p = p->next) {
		struct httpc_node *n = p->queue.next;
		while (n != &p->queue) {
			struct httpc_node *following = n->next;
			struct httpc_req *r = node_req(n);
			if (r->deadline_ms <= now) {
				node_remove(n);
				node_push_back(&expired, n);
				c->stats.queued--;
			} else if (r->deadline_ms < next) {
				next = r->deadline_ms;
			}
			n = following;
		}
	}
	/* Callbacks run after the scan: they may send, and so touch the queues. */
	while (!node_empty(&expired)) {
		struct httpc_req *r = node_req(expired.next);
		node_remove(&r->node);
		req_deliver(c, r, -ETIMEDOUT, "timed out in queue", 0, 0);
	}
	if (next != UINT64_MAX && !c->closing)
		queue_arm(c, next);
	client_leave(c);
}

/*
 * Moves every request to the cancelled list, releases curl (its socket callback
 * may fire from curl_multi_cleanup) and closes the libuv handles; the last
 * close callback delivers the cancellations and frees the client.
 */
static void client_teardown(http_client_t *c)
{
	long status;
	long os_errno;
	uint64_t us;

	c->torn_down = true;
	for (struct httpc_pool *p = c->pools; p != NULL; p = p->next) {
		while (!node_empty(&p->queue)) {
			struct httpc_node *n = p->queue.next;
			node_remove(n);
			node_push_back(&c->cancelled, n);
			c->stats.queued--;
		}
	}
	while (!node_empty(&c->active) || !node_empty(&c->doomed)) {
		struct httpc_node *n = node_empty(&c->active) ? c->doomed.next : c->active.next;
		req_detach(c, node_req(n), false, &status, &os_errno, &us);
		node_push_back(&c->cancelled, n);
	}
	easy_drop_idle(c);
	curl_multi_cleanup(c->multi);
	c->multi = NULL;
	/* Only now: the cached connections closed above, and the idle handles, still
	 * used the share. */
	if (curl_share_cleanup(c->share) != CURLSHE_OK)
		log_warn("http client share still in use", "stage=%s", "close");
	c->share = NULL;
	for (size_t fd = 0; fd < c->socks_cap; fd++) {
		if (c->socks[fd] != NULL)
			sock_close(c, c->socks[fd]);
	}
	uv_close((uv_handle_t *)&c->timer, on_handle_closed);
	uv_close((uv_handle_t *)&c->queue_timer, on_handle_closed);
}

/* Every libuv callback of this module ends here: a close requested from a user
 * callback inside it is carried out once nothing of ours is on the stack. */
static void client_leave(http_client_t *c)
{
	c->depth--;
	if (c->depth == 0 && c->closing && !c->torn_down)
		client_teardown(c);
}

/* ------------------------------------------------------------------ pools */

static int pool_get(http_client_t *c, const char *name, struct httpc_pool **out)
{
	struct httpc_pool *p = NULL;
	size_t len;
	int rc = 0;

	if (name == NULL)
		name = HTTPC_DEFAULT_POOL;
	len = strnlen(name, HTTP_CLIENT_POOL_NAME_MAX + 1);
	if (len == 0 || len > HTTP_CLIENT_POOL_NAME_MAX) {
		rc = -EINVAL;
		goto out;
	}
	for (p = c->pools; p != NULL; p = p->next) {
		if (strcmp(p->name, name) == 0)
			goto out;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(p->name, name, len + 1);
	node_init(&p->queue);
	p->max_in_flight = c->pool_max;
	p->next = c->pools;
	c->pools = p;
out:
	*out = p;
	return rc;
}

int http_client_pool_limit(http_client_t *c, const char *pool, uint32_t max)
{
	struct httpc_pool *p = NULL;
	int rc = 0;

	c->depth++;
	if (c->closing) {
		rc = -ESHUTDOWN;
		goto out;
	}
	if (max == 0) {
		rc = -EINVAL;
		goto out;
	}
	rc = pool_get(c, pool, &p);
	if (rc < 0)
		goto out;
	p->max_in_flight = max;
	/* Enough idle handles for the busiest pool's next burst. */
	if (max > c->idle_max)
		c->idle_max = max < HTTPC_IDLE_HARD_MAX ? max : HTTPC_IDLE_HARD_MAX;
	pool_pump(c, p);
out:
	client_leave(c);
	return rc;
}

/* ------------------------------------------------------------------ requests */

/* Checks what curl would only discover mid-transfer, so send can refuse it. */
static int req_check(const http_request_t *req)
{
	CURLU *u = NULL;
	char *scheme = NULL;
	int rc = 0;

	if (req->url == NULL || (req->body == NULL && req->body_len > 0) ||
	    (req->method != NULL && !is_token(req->method, HTTPC_METHOD_MAX)) ||
	    (req->n_headers > 0 && req->headers == NULL)) {
		rc = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < req->n_headers; i++) {
		const http_header_t *h = &req->headers[i];
		/* The body's framing is curl's business; a caller's copy could smuggle. */
		if (h->name == NULL || h->value == NULL || !is_token(h->name, 256) ||
		    !is_header_value(h->value) || ascii_ieq(h->name, "Content-Length") ||
		    ascii_ieq(h->name, "Transfer-Encoding")) {
			rc = -EINVAL;
			goto out;
		}
	}
	u = curl_url();
	if (u == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	rc = httpc_err_from_curlu(curl_url_set(u, CURLUPART_URL, req->url, 0));
	if (rc < 0)
		goto out;
	rc = httpc_err_from_curlu(curl_url_get(u, CURLUPART_SCHEME, &scheme, 0));
	if (rc < 0)
		goto out;
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
		rc = -EINVAL;
out:
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

static char *copy_str(char **dst, const char *s)
{
	char *p = *dst;
	size_t n = strlen(s) + 1;
	memcpy(p, s, n);
	*dst += n;
	return p;
}

/* Copies req into one allocation. */
static int req_new(http_client_t *c, const http_request_t *req, struct httpc_pool *pool,
		   http_done_cb cb, void *arg, struct httpc_req **out)
{
	const char *method = req->method != NULL ? req->method : "GET";
	uint32_t timeout = req->timeout_ms ? req->timeout_ms : c->default_timeout_ms;
	struct httpc_req *r = NULL;
	size_t size = sizeof(*r) + strlen(method) + 1 + strlen(req->url) + 1;
	char *p;
	int rc = 0;

	if (req->ca_file != NULL)
		size += strlen(req->ca_file) + 1;
	if ((req->client_cert == NULL) != (req->client_key == NULL) ||
	    (req->client_cert != NULL && (req->client_cert_len == 0 || req->client_key_len == 0 ||
					  req->client_cert_len > HTTP_CLIENT_MAX_CLIENT_PEM ||
					  req->client_key_len > HTTP_CLIENT_MAX_CLIENT_PEM))) {
		rc = -EINVAL;
		goto out;
	}
	if (req->client_cert != NULL)
		size += req->client_cert_len + req->client_key_len;
	for (size_t i = 0; i < req->n_headers; i++) {
		/* "Name: value" or, for an empty value, "Name;" (curl's spelling). */
		size += strlen(req->headers[i].name) + strlen(req->headers[i].value) + 3;
	}
	if (req->body_len > SIZE_MAX - size) {
		rc = -ENOMEM;
		goto out;
	}
	size += req->body_len;
	r = calloc(1, size);
	if (r == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	r->alloc_size = size;
	node_init(&r->node);
	r->c = c;
	r->pool = pool;
	r->cb = cb;
	r->arg = arg;
	r->sent_ms = now_ms();
	r->deadline_ms = r->sent_ms + timeout;
	r->insecure = req->insecure;
	p = r->data;
	r->body = (const uint8_t *)p;
	r->body_len = req->body_len;
	if (req->body_len > 0)
		memcpy(p, req->body, req->body_len);
	p += req->body_len;
	r->method = copy_str(&p, method);
	r->url = copy_str(&p, req->url);
	if (req->ca_file != NULL)
		r->ca_file = copy_str(&p, req->ca_file);
	if (req->client_cert != NULL) {
		memcpy(p, req->client_cert, req->client_cert_len);
		r->client_cert = (const uint8_t *)p;
		r->client_cert_len = req->client_cert_len;
		p += req->client_cert_len;
		memcpy(p, req->client_key, req->client_key_len);
		r->client_key = (uint8_t *)p;
		r->client_key_len = req->client_key_len;
		p += req->client_key_len;
	}
	r->hdr_lines = p;
	r->n_req_hdr = req->n_headers;
	for (size_t i = 0; i < req->n_headers; i++) {
		const http_header_t *h = &req->headers[i];
		size_t nl = strlen(h->name);
		size_t vl = strlen(h->value);
		memcpy(p, h->name, nl);
		p += nl;
		if (vl == 0) {
			*p++ = ';';
		} else {
			*p++ = ':';
			*p++ = ' ';
			memcpy(p, h->value, vl);
			p += vl;
		}
		*p++ = '\0';
		if (ascii_ieq(h->name, "Content-Type"))
			r->has_content_type = true;
	}
	*out = r;
out:
	return rc;
}

int http_client_send(http_client_t *c, const http_request_t *req, http_done_cb cb, void *arg)
{
	struct httpc_pool *pool = NULL;
	struct httpc_req *r = NULL;
	bool start_now = false;
	int rc = 0;

	if (c->closing) {
		rc = -ESHUTDOWN;
		goto out;
	}
	if (req == NULL || cb == NULL) {
		rc = -EINVAL;
		goto out;
	}
	rc = req_check(req);
	if (rc < 0)
		goto out;
	rc = pool_get(c, req->pool, &pool);
	if (rc < 0)
		goto out;
	/* Joining a non-empty queue keeps FIFO order even when a slot is free. */
	start_now = pool->in_flight < pool->max_in_flight && node_empty(&pool->queue);
	if (!start_now && c->stats.queued >= c->max_queued) {
		rc = -EAGAIN;
		goto out;
	}
	rc = req_new(c, req, pool, cb, arg, &r);
	if (rc < 0)
		goto out;
	if (start_now) {
		rc = req_start(c, r);
		if (rc < 0)
			goto out;
	} else {
		node_push_back(&pool->queue, &r->node);
		c->stats.queued++;
		queue_arm(c, r->deadline_ms);
	}
	r = NULL;
out:
	if (rc < 0) {
		c->stats.rejected++;
		req_free(r);
	}
	return rc;
}

/* ------------------------------------------------------------------ client */

int http_client_init(http_client_t **out, uv_loop_t *loop, const http_client_opts_t *opts)
{
	static const http_client_opts_t defaults;
	http_client_t *c = NULL;
	const char *ua;
	CURLMcode mc = CURLM_OK;
	bool global = false;
	int rc = 0;

	if (opts == NULL)
		opts = &defaults;
	if (out == NULL || loop == NULL || opts->max_host_connections < 0 ||
	    opts->max_total_connections < 0 || opts->max_connects < 0 ||
	    opts->max_response_bytes >= SIZE_MAX / 2) {
		rc = -EINVAL;
		goto out;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	c->loop = loop;
	node_init(&c->active);
	node_init(&c->doomed);
	node_init(&c->cancelled);
	c->default_timeout_ms = opts->default_timeout_ms ? opts->default_timeout_ms
							 : HTTP_CLIENT_DEFAULT_TIMEOUT_MS;
	c->connect_timeout_ms = opts->connect_timeout_ms ? opts->connect_timeout_ms
							 : HTTP_CLIENT_DEFAULT_CONNECT_TIMEOUT_MS;
	c->max_response = opts->max_response_bytes ? opts->max_response_bytes
						   : HTTP_CLIENT_DEFAULT_MAX_RESPONSE;
	c->pool_max =
		opts->pool_max_in_flight ? opts->pool_max_in_flight : HTTP_CLIENT_DEFAULT_POOL_MAX;
	c->max_queued = opts->max_queued ? opts->max_queued : HTTP_CLIENT_DEFAULT_MAX_QUEUED;
	c->idle_max = c->pool_max < HTTPC_IDLE_HARD_MAX ? c->pool_max : HTTPC_IDLE_HARD_MAX;
	ua = opts->user_agent != NULL ? opts->user_agent : "ospay/" OSPAY_VERSION;
	c->user_agent = strdup(ua);
	if (c->user_agent == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if (opts->proxy != NULL) {
		c->proxy = strdup(opts->proxy);
		if (c->proxy == NULL) {
			rc = -ENOMEM;
			goto out;
		}
	}
	c->refuse_internal = opts->refuse_internal_addrs;
	/* Reference-counted by curl; client_free undoes it. curl copies request
	 * headers and bodies into buffers of its own: its frees wipe them (the
	 * first init in the process decides, later ones keep its functions). */
	if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, crypto_free_wiped,
				 crypto_realloc_wiped, crypto_strdup_wiped, calloc) != CURLE_OK) {
		rc = -EIO;
		goto out;
	}
	global = true;
	c->multi = curl_multi_init();
	c->share = curl_share_init();
	if (c->multi == NULL || c->share == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	/* TLS sessions resume across connections to the same gateway. */
	if (curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) !=
	    CURLSHE_OK) {
		rc = -ENOMEM;
		goto out;
	}
	mc = curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	if (mc == CURLM_OK)
		mc = curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, (void *)c);
	if (mc == CURLM_OK)
		mc = curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	if (mc == CURLM_OK)
		mc = curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, (void *)c);
	if (mc == CURLM_OK)
		mc = curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
				       opts->max_host_connections);
	if (mc == CURLM_OK)
		mc = curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
				       opts->max_total_connections);
	if (mc == CURLM_OK && opts->max_connects > 0)
		mc = curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, opts->max_connects);
	rc = httpc_err_from_curlm(mc);
	if (rc < 0)
		goto out;
	/* uv_timer_init only links the handle into the loop; it cannot fail. */
	uv_timer_init(loop, &c->timer);
	uv_timer_init(loop, &c->queue_timer);
	c->timer.data = c;
	c->queue_timer.data = c;
	c->open_handles = 2;
	*out = c;
out:
	if (rc < 0 && c != NULL) {
		if (c->share != NULL)
			curl_share_cleanup(c->share);
		if (c->multi != NULL)
			curl_multi_cleanup(c->multi);
		if (global)
			curl_global_cleanup();
		free(c->user_agent);
		free(c->proxy);
		free(c);
	}
	return rc;
}

void http_client_close(http_client_t *c, void (*closed)(void *arg), void *arg)
{
	if (c == NULL || c->closing)
		return;
	c->closing = true;
	c->closed = closed;
	c->closed_arg = arg;
	if (c->depth == 0)
		client_teardown(c);
}

void http_client_get_stats(const http_client_t *c, http_client_stats_t *out)
{
	*out = c->stats;
}

const char *http_client_response_header(const http_response_t *res, const char *name)
{
	const char *v = NULL;

	for (size_t i = 0; i < res->n_headers && v == NULL; i++) {
		if (ascii_ieq(res->headers[i].name, name))
			v = res->headers[i].value;
	}
	return v;
}
