/*
 * ospay-sandbox's wiring: the emulation core (sbx.h) behind the plain-HTTP mode
 * of net/https_server, and its webhooks delivered through net/http_client, all
 * on one libuv loop. Carries out what each response asks for: answer late
 * (latency fault), never answer (timeout fault), reset the connection.
 */
#ifndef OSPAY_SANDBOX_SBX_SERVER_H
#define OSPAY_SANDBOX_SBX_SERVER_H

#include <uv.h>

typedef struct sbx_server sbx_server_t;

/*
 * Listens on host:port (port 0 picks one) on loop and serves every emulated
 * service; webhooks go to webhook_base ("http://127.0.0.1:8443"). host and
 * webhook_base are copied. On success *out is the server until it frees itself
 * after sbx_server_stop. Returns 0 or a negative errno (*out untouched).
 */
int sbx_server_start(uv_loop_t *loop, const char *host, int port, const char *webhook_base,
		     sbx_server_t **out);
/* Verifies the webhook receiver's TLS certificate with the PEM bundle at path
 * (ospayd's self-signed certificate) instead of the system CAs. 0 or -ENOMEM. */
int sbx_server_set_webhook_ca(sbx_server_t *srv, const char *path);
/*
 * A second listener on host:port serving the same routes over TLS (crt, key) and
 * requiring a client certificate chained to client_ca: the mutual TLS of a Pix
 * PSP. 0 or a negative errno; the paths are not kept.
 */
int sbx_server_add_mtls(sbx_server_t *srv, const char *host, int port, const char *crt,
			const char *key, const char *client_ca);
/* Its port (0 without one). */
int sbx_server_mtls_port(const sbx_server_t *srv);

/* The port actually listened on. */
int sbx_server_port(const sbx_server_t *srv);
/*
 * Stops accepting, drops held and delayed requests and pending webhooks, and
 * closes every handle; the server frees itself once the loop has run them down.
 * Call once.
 */
void sbx_server_stop(sbx_server_t *srv);

#endif
