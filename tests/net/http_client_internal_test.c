/*
 * http_client with refuse_internal_addrs: a request to a loopback listener,
 * by address or by a name that resolves to loopback, fails with -EACCES and
 * the listener never sees a connection; without the option it connects.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "net/http_client.h"
#include "support/proc.h"

typedef struct fx {
	uv_loop_t loop;
	http_client_t *c;
	int calls;
	int error;
	bool closed;
} fx_t;

static void on_done(const http_response_t *res, void *arg)
{
	fx_t *fx = arg;
	fx->calls++;
	fx->error = res->error;
}

static void on_closed(void *arg)
{
	((fx_t *)arg)->closed = true;
}

/* One GET of url through a fresh client; its callback's error. */
static int get(const char *url, bool refuse)
{
	fx_t fx = {0};
	http_client_opts_t o = {.refuse_internal_addrs = refuse, .proxy = ""};
	cr_assert_eq(uv_loop_init(&fx.loop), 0);
	cr_assert_eq(http_client_init(&fx.c, &fx.loop, &o), 0);
	http_request_t req = {.url = url, .timeout_ms = 2000};
	cr_assert_eq(http_client_send(fx.c, &req, on_done, &fx), 0);
	while (fx.calls == 0)
		uv_run(&fx.loop, UV_RUN_ONCE);
	http_client_close(fx.c, on_closed, &fx);
	uv_run(&fx.loop, UV_RUN_DEFAULT);
	cr_assert(fx.closed);
	cr_assert_eq(fx.calls, 1);
	cr_assert_eq(uv_loop_close(&fx.loop), 0);
	return fx.error;
}

Test(http_client_internal, loopback_refused_by_address_and_by_name)
{
	int port, fd = tsp_trap_listen(false, &port);
	char url[96];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	cr_assert_eq(get(url, true), -EACCES);
	snprintf(url, sizeof(url), "http://localhost:%d/", port);
	cr_assert_eq(get(url, true), -EACCES);
	cr_assert(!tsp_trap_touched(fd), "a refused request reached the listener");
	/* The control: without the option the same request connects (and times out
	 * or fails, as the listener never answers). */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	cr_assert_neq(get(url, false), -EACCES);
	cr_assert(tsp_trap_touched(fd), "the control never connected");
	close(fd);
}
