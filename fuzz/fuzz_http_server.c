/*
 * libFuzzer target: the webhook listener's HTTP layer (llhttp with ospay's
 * limits and callbacks), in plain mode so the bytes reach the parser as sent.
 * Each input is written on a fresh loopback connection, the write side is shut,
 * and the loop runs until the server closes the connection (or 200 turns).
 * The handler answers every complete request, so pipelining and keep-alive
 * paths run too. Nothing may crash, leak or read out of bounds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "net/https_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uv_loop_t loop;
static https_server_t *srv;
static int port;

static void handler(https_request_t *req, void *udata)
{
	size_t n = 0;
	(void)udata;
	(void)https_request_header(req, "Content-Type");
	(void)https_request_body(req, &n);
	https_respond(req, 200, "text/plain", "ok\n", 3, NULL);
}

static void start(void)
{
	signal(SIGPIPE, SIG_IGN);
	uv_loop_init(&loop);
	https_options_t o;
	https_options_default(&o);
	o.host = "127.0.0.1";
	o.port = 0;
	o.plain = true;
	o.max_header_bytes = 4096;
	o.max_body_bytes = 8192;
	o.linger_ms = 1;
	if (https_server_start(&loop, &o, handler, NULL, &srv) != 0)
		abort();
	port = https_server_port(srv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (srv == NULL)
		start();
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		abort();
	fcntl(fd, F_SETFL, O_NONBLOCK);
	size_t off = 0;
	char sink[4096];
	for (int turn = 0; turn < 200; turn++) {
		if (off < size) {
			ssize_t w = send(fd, data + off, size - off, MSG_NOSIGNAL);
			if (w > 0)
				off += (size_t)w;
			if (off == size)
				shutdown(fd, SHUT_WR);
		} else if (turn == 0) {
			shutdown(fd, SHUT_WR);
		}
		uv_run(&loop, UV_RUN_NOWAIT);
		ssize_t r = recv(fd, sink, sizeof(sink), 0);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			break;
	}
	close(fd);
	/* Let the server notice the close and free the connection. */
	for (int i = 0; i < 5; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	return 0;
}
