/*
 * The echo reference of docs/spec.md 8: a bare libuv server answering every
 * length-prefixed frame (4-byte big-endian length, as ospayd's RPC) with one
 * frame of --reply-bytes bytes (header included), the request's payload
 * copied into it. It does what ospayd's RPC layer does without the protocol
 * or the domain: cut frames, build replies, one write per read, so the ratio
 * of ospayd's calls/s to these frames/s is the cost of everything else.
 *
 *   ref_echo [--listen 127.0.0.1:0] --reply-bytes S
 *
 * Prints "listening HOST:PORT" on stdout once bound; runs until SIGTERM/SIGINT.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "common/util.h"

#define READ_CHUNK 65536
#define MAX_FRAME (4u << 20)

typedef struct conn {
	uv_tcp_t tcp;
	uint8_t *in;
	size_t in_len, in_cap;
} conn_t;

static size_t reply_bytes;
static uv_tcp_t listener;
static uv_signal_t sig_term, sig_int;

static void conn_closed(uv_handle_t *h)
{
	conn_t *c = h->data;
	free(c->in);
	free(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	conn_t *c = h->data;
	if (c->in_cap - c->in_len < READ_CHUNK) {
		size_t cap = c->in_len + READ_CHUNK;
		uint8_t *p = realloc(c->in, cap);
		if (p == NULL) {
			*buf = uv_buf_init(NULL, 0);
			return;
		}
		c->in = p;
		c->in_cap = cap;
	}
	*buf = uv_buf_init((char *)c->in + c->in_len, (unsigned)(c->in_cap - c->in_len));
}

static void write_done(uv_write_t *w, int status)
{
	free(w);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	conn_t *c = s->data;
	uv_write_t *w = NULL;
	if (nread < 0) {
		if (!uv_is_closing((uv_handle_t *)s))
			uv_close((uv_handle_t *)s, conn_closed);
		return;
	}
	c->in_len += (size_t)nread;
	/* First count the whole frames, so all their replies go out in one write. */
	size_t off = 0, frames = 0;
	while (c->in_len - off >= 4) {
		size_t n = be32_get(c->in + off);
		if (n > MAX_FRAME) {
			uv_close((uv_handle_t *)s, conn_closed);
			return;
		}
		if (c->in_len - off < 4 + n)
			break;
		off += 4 + n;
		frames++;
	}
	if (frames == 0)
		return;
	w = malloc(sizeof(*w) + frames * reply_bytes);
	if (w == NULL) {
		uv_close((uv_handle_t *)s, conn_closed);
		return;
	}
	uint8_t *out = (uint8_t *)(w + 1);
	off = 0;
	for (size_t i = 0; i < frames; i++) {
		size_t n = be32_get(c->in + off), payload = reply_bytes - 4;
		uint8_t *f = out + i * reply_bytes;
		be32_put(f, (uint32_t)payload);
		memcpy(f + 4, c->in + off + 4, n < payload ? n : payload);
		if (n < payload)
			memset(f + 4 + n, 0, payload - n);
		off += 4 + n;
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	uv_buf_t b = uv_buf_init((char *)out, (unsigned)(frames * reply_bytes));
	if (uv_write(w, s, &b, 1, write_done) != 0) {
		free(w);
		uv_close((uv_handle_t *)s, conn_closed);
	}
}

static void on_conn(uv_stream_t *server, int status)
{
	if (status != 0)
		return;
	conn_t *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return;
	uv_tcp_init(server->loop, &c->tcp);
	c->tcp.data = c;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
		uv_close((uv_handle_t *)&c->tcp, conn_closed);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void close_any(uv_handle_t *h, void *arg)
{
	if (uv_is_closing(h))
		return;
	/* Connections own a conn_t; the listener and signals are static. */
	uv_close(h, h->data != NULL ? conn_closed : NULL);
}

static void on_signal(uv_signal_t *s, int signum)
{
	uv_walk(s->loop, close_any, NULL);
}

int main(int argc, char **argv)
{
	const char *listen = "127.0.0.1:0";
	char host[64];
	int rc = 0;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--listen") == 0)
			listen = argv[i + 1];
		else if (strcmp(argv[i], "--reply-bytes") == 0)
			reply_bytes = strtoull(argv[i + 1], NULL, 10);
	}
	const char *colon = strrchr(listen, ':');
	if (reply_bytes < 4 || reply_bytes > MAX_FRAME || colon == NULL ||
	    (size_t)(colon - listen) >= sizeof(host)) {
		fprintf(stderr, "usage: ref_echo [--listen HOST:PORT] --reply-bytes S (>= 4)\n");
		return 2;
	}
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	uv_loop_t *loop = uv_default_loop();
	struct sockaddr_in sa;
	struct sockaddr_storage bound;
	int len = sizeof(bound);
	char ip[64];
	rc = uv_ip4_addr(host, atoi(colon + 1), &sa);
	if (rc == 0)
		rc = uv_tcp_init(loop, &listener);
	if (rc == 0)
		rc = uv_tcp_bind(&listener, (const struct sockaddr *)&sa, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&listener, 1024, on_conn);
	if (rc == 0)
		rc = uv_tcp_getsockname(&listener, (struct sockaddr *)&bound, &len);
	if (rc != 0) {
		fprintf(stderr, "ref_echo: listen %s: %s\n", listen, uv_strerror(rc));
		goto out;
	}
	uv_ip4_name((const struct sockaddr_in *)&bound, ip, sizeof(ip));
	printf("listening %s:%d\n", ip, ntohs(((const struct sockaddr_in *)&bound)->sin_port));
	fflush(stdout);
	uv_signal_init(loop, &sig_term);
	uv_signal_init(loop, &sig_int);
	uv_signal_start(&sig_term, on_signal, SIGTERM);
	uv_signal_start(&sig_int, on_signal, SIGINT);
	uv_run(loop, UV_RUN_DEFAULT);
out:
	uv_loop_close(loop);
	return rc == 0 ? 0 : 1;
}
