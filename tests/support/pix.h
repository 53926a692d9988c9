/*
 * Test support for Pix Automático end to end: ospayd and an ospay-sandbox
 * whose PSP listens over mutual TLS, with the organization's Pix gateway set
 * through Admin/SetGateway (the PSP's callbacks registered at the sandbox,
 * which calls back ospayd's HTTPS listener). Every helper asserts success.
 */
#ifndef OSPAY_TESTS_PIX_H
#define OSPAY_TESTS_PIX_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/status.h"
#include "ospay/v1/gateway.pb-c.h"
#include "support/proc.h"

/* The client id and secret organization's Pix client has at the sandbox. */
#define TSP_PIX_CLIENT_ID "pix-cid"
#define TSP_PIX_CLIENT_SECRET "pix-secret"
#define TSP_PIX_ACCOUNT "012682"

typedef struct tsp_pix {
	tsp_server_t srv;
	tsp_sandbox_t sb;
	int fd;                              /* the admin's connection (Hello done) */
	char dir[64];                        /* the certificates */
	char psp_crt[128], psp_key[128];     /* the sandbox PSP's server identity */
	char ospay_crt[128], ospay_key[128]; /* ospayd's client identity at the PSP */
	char base_url[128];                  /* "https://127.0.0.1:PORT/pix" (the mTLS listener) */
	char callback_base[96]; /* "https://localhost:PORT" (ospayd's HTTPS listener) */
} tsp_pix_t;

/*
 * Generates the identities, starts ospayd (--gateway-ca: the PSP's certificate;
 * --test-clock test_clock when not NULL; extra_args may be NULL) and the
 * sandbox with its mutual-TLS listener, registers the organization's Pix client
 * at the sandbox and sets ospayd's Pix gateway with tsp_pix_settings().
 */
void tsp_pix_up(tsp_pix_t *p, const char *test_clock, const char *const *extra_args);
/* Stops both (asserting clean ends) and removes the identities. */
void tsp_pix_down(tsp_pix_t *p);

/* The settings tsp_pix_up sets: the account and ospayd's callback address;
 * every other setting its default. */
Ospay__V1__PixSettings tsp_pix_settings(const tsp_pix_t *p);
/*
 * Admin/SetGateway for Pix with settings; the client credentials and the
 * mutual-TLS identity sent when with_credentials, else the stored ones kept.
 * The status code; st filled.
 */
int tsp_pix_set(tsp_pix_t *p, const Ospay__V1__PixSettings *settings, bool with_credentials,
		status_t *st);

/* A request to the sandbox's control API (path from "/control/..."), body may be
 * NULL; asserts the answer's status is expect; the answer's JSON (caller frees;
 * NULL when it had none). */
json_t *tsp_pix_control(const tsp_pix_t *p, const char *method, const char *path, const char *body,
			int expect);

#endif
