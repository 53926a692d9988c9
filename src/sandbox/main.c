/*
 * ospay-sandbox --listen HOST:PORT --webhook-base URL [--webhook-ca PEM] [--log-level LEVEL]
 *               [--mtls-listen HOST:PORT --mtls-cert CRT --mtls-key KEY --mtls-client-ca PEM]
 *
 * The local emulator of every external service ospayd talks to (Cielo,
 * GetNet, PagoLivre, ZapMe) on one port, with a control API to configure it
 * and make it misbehave (docs/sandbox.md). Prints "listening HOST:PORT" once
 * it listens (followed by " mtls HOST:PORT" with the mutual-TLS listener);
 * SIGTERM or SIGINT stop it with exit status 0.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "common/log.h"
#include "common/util.h"
#include "sandbox/sbx_server.h"

typedef struct sbx_main {
	sbx_server_t *srv;
	uv_signal_t sigterm;
	uv_signal_t sigint;
	bool stopped;
} sbx_main_t;

static void sbx_main_usage(void)
{
	fprintf(stderr, "usage: ospay-sandbox --listen HOST:PORT --webhook-base URL "
			"[--webhook-ca PEM] [--log-level debug|info|warn|error] "
			"[--mtls-listen HOST:PORT --mtls-cert CRT --mtls-key KEY "
			"--mtls-client-ca PEM]\n");
}

static void sbx_main_on_signal(uv_signal_t *h, int signum)
{
	sbx_main_t *m = h->data;
	(void)signum;
	if (!m->stopped) {
		m->stopped = true;
		log_info("sandbox stopping", "%s", "");
		sbx_server_stop(m->srv);
		uv_close((uv_handle_t *)&m->sigterm, NULL);
		uv_close((uv_handle_t *)&m->sigint, NULL);
	}
}

/* A webhook base is an http(s) URL without a trailing slash, a query or spaces. */
static bool sbx_main_base_ok(const char *u)
{
	size_t n = strlen(u);
	bool ok = (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0) && n < 512 &&
		  u[n - 1] != '/' && strpbrk(u, "?# \r\n\t") == NULL;
	return ok;
}

int main(int argc, char **argv)
{
	int rc = 0;
	const char *listen = NULL, *base = NULL, *ca = NULL;
	const char *mlisten = NULL, *mcert = NULL, *mkey = NULL, *mca = NULL;
	char host[256], mhost[256];
	int port = 0, mport = 0;
	uv_loop_t loop;
	sbx_main_t m;
	bool loop_ok = false;

	/* The options that take a text value, and where it goes. */
	const struct {
		const char *name;
		const char **value;
	} texts[] = {
		{"--listen", &listen},       {"--webhook-base", &base}, {"--webhook-ca", &ca},
		{"--mtls-listen", &mlisten}, {"--mtls-cert", &mcert},   {"--mtls-key", &mkey},
		{"--mtls-client-ca", &mca},
	};

	memset(&m, 0, sizeof(m));
	for (int i = 1; i < argc; i++) {
		size_t t = 0;
		while (t < OSPAY_ARRAY_LEN(texts) && strcmp(argv[i], texts[t].name) != 0)
			t++;
		if (t < OSPAY_ARRAY_LEN(texts) && i + 1 < argc) {
			*texts[t].value = argv[++i];
		} else if (strcmp(argv[i], "--log-level") == 0 && i + 1 < argc &&
			   log_level_parse(argv[i + 1]) >= 0) {
			log_set_level(log_level_parse(argv[++i]));
		} else {
			sbx_main_usage();
			rc = 2;
			goto out;
		}
	}
	if (listen == NULL || base == NULL ||
	    util_parse_hostport(listen, host, sizeof(host), &port) != 0 ||
	    !sbx_main_base_ok(base) ||
	    (mlisten != NULL &&
	     (mcert == NULL || mkey == NULL || mca == NULL ||
	      util_parse_hostport(mlisten, mhost, sizeof(mhost), &mport) != 0)) ||
	    (mlisten == NULL && (mcert != NULL || mkey != NULL || mca != NULL))) {
		sbx_main_usage();
		rc = 2;
		goto out;
	}
	/* Writes to a peer that went away must fail with EPIPE, not kill the sandbox. */
	signal(SIGPIPE, SIG_IGN);
	if (uv_loop_init(&loop) != 0) {
		rc = 1;
		goto out;
	}
	loop_ok = true;
	int err = sbx_server_start(&loop, host, port, base, &m.srv);
	if (err != 0) {
		fprintf(stderr, "ospay-sandbox: cannot listen on %s: %s\n", listen,
			uv_strerror(err));
		rc = 1;
		goto run;
	}
	if (ca != NULL && sbx_server_set_webhook_ca(m.srv, ca) != 0) {
		rc = 1;
		goto run;
	}
	if (mlisten != NULL) {
		err = sbx_server_add_mtls(m.srv, mhost, mport, mcert, mkey, mca);
		if (err != 0) {
			fprintf(stderr, "ospay-sandbox: cannot listen with mutual TLS on %s: %d\n",
				mlisten, err);
			sbx_server_stop(m.srv);
			rc = 1;
			goto run;
		}
	}
	uv_signal_init(&loop, &m.sigterm);
	uv_signal_init(&loop, &m.sigint);
	m.sigterm.data = &m;
	m.sigint.data = &m;
	uv_signal_start(&m.sigterm, sbx_main_on_signal, SIGTERM);
	uv_signal_start(&m.sigint, sbx_main_on_signal, SIGINT);
	printf(strchr(host, ':') != NULL ? "listening [%s]:%d" : "listening %s:%d", host,
	       sbx_server_port(m.srv));
	if (mlisten != NULL)
		printf(strchr(mhost, ':') != NULL ? " mtls [%s]:%d" : " mtls %s:%d", mhost,
		       sbx_server_mtls_port(m.srv));
	printf("\n");
	fflush(stdout);
	log_info("sandbox listening", "port=%d", sbx_server_port(m.srv));
run:
	uv_run(&loop, UV_RUN_DEFAULT);
out:
	if (loop_ok && uv_loop_close(&loop) != 0) {
		fprintf(stderr, "ospay-sandbox: handles left open at exit\n");
		rc = 1;
	}
	return rc;
}
