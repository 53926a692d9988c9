/*
 * Admin/SetGateway for a Pix Automático PSP (issue 13, item 1) against the
 * sandbox's PSP over mutual TLS: the callbacks are registered at the PSP before
 * anything is stored, so wrong credentials, a certificate the PSP does not
 * trust or a bad callback address leave the stored settings as they were;
 * secrets never come back; settings are checked and shown.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/tls.h"
#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/gateway.pb-c.h"
#include "support/domain.h"
#include "support/pix.h"
#include "support/proc.h"

static tsp_pix_t P;

static void setup(void)
{
	/* A test clock years before the identities were made: their validity is checked
	 * against the wall clock, as the PSP's TLS stack checks it. */
	tsp_pix_up(&P, "2020-12-10T15:00:00Z", NULL);
}

static void teardown(void)
{
	tsp_pix_down(&P);
}

TestSuite(pix_gateway, .init = setup, .fini = teardown, .timeout = 120);

/* GetGateway for Pix: the response, packed too (to look for secrets in it). */
static Ospay__V1__GetGatewayResponse *get_pix(uint8_t *packed, size_t cap, size_t *len)
{
	Ospay__V1__GetGatewayRequest req = OSPAY__V1__GET_GATEWAY_REQUEST__INIT;
	req.kind = OSPAY__V1__GATEWAY_KIND__GATEWAY_KIND_PIX_AUTOMATICO;
	Ospay__V1__GetGatewayResponse *g =
		tsp_call_ok(P.fd, "ospay.v1.Admin/GetGateway", &req.base,
			    &ospay__v1__get_gateway_response__descriptor);
	size_t n = ospay__v1__get_gateway_response__get_packed_size(g);
	cr_assert_leq(n, cap);
	ospay__v1__get_gateway_response__pack(g, packed);
	*len = n;
	return g;
}

static bool has(const uint8_t *buf, size_t len, const char *needle)
{
	return memmem(buf, len, needle, strlen(needle)) != NULL;
}

Test(pix_gateway, set_registers_callbacks_and_shows_settings_never_secrets)
{
	uint8_t packed[8192];
	size_t len = 0;
	Ospay__V1__GetGatewayResponse *g = get_pix(packed, sizeof(packed), &len);
	cr_assert(g->gateway->credentials_set);
	cr_assert_not_null(g->gateway->pix);
	cr_assert_str_eq(g->gateway->pix->account, TSP_PIX_ACCOUNT);
	cr_assert_str_eq(g->gateway->pix->callback_base_url, P.callback_base);
	char want[64];
	snprintf(want, sizeof(want), "/webhooks/pix/%llu", (unsigned long long)P.srv.org_id);
	cr_assert_str_eq(g->gateway->webhook_path, want);
	cr_assert(!has(packed, len, TSP_PIX_CLIENT_SECRET));
	cr_assert(!has(packed, len, "PRIVATE KEY"));
	cr_assert(!has(packed, len, "hmac"));
	protobuf_c_message_free_unpacked(&g->base, NULL);
}

Test(pix_gateway, wrong_client_secret_is_refused_and_nothing_changes)
{
	/* The PSP knows another secret now: a new SetGateway with the old one fails
	 * at its token call, and the stored settings stay. */
	char body[160], path[64];
	snprintf(body, sizeof(body), "{\"client_id\":\"%s\",\"client_secret\":\"rotated\"}",
		 TSP_PIX_CLIENT_ID);
	snprintf(path, sizeof(path), "/control/orgs/%llu/pix", (unsigned long long)P.srv.org_id);
	json_decref(tsp_pix_control(&P, "POST", path, body, 200));
	Ospay__V1__PixSettings s = tsp_pix_settings(&P);
	s.window_open_days = 7;
	status_t st;
	cr_assert_eq(tsp_pix_set(&P, &s, true, &st), ST_FAILED_PRECONDITION, "%s", st.message);
	cr_assert(strstr(st.message, "credentials") != NULL, "%s", st.message);
	cr_assert(strstr(st.message, TSP_PIX_CLIENT_SECRET) == NULL);
	uint8_t packed[8192];
	size_t len = 0;
	Ospay__V1__GetGatewayResponse *g = get_pix(packed, sizeof(packed), &len);
	cr_assert_eq(g->gateway->pix->window_open_days, 0, "nothing stored");
	protobuf_c_message_free_unpacked(&g->base, NULL);
}

Test(pix_gateway, settings_change_keeps_stored_credentials)
{
	Ospay__V1__PixSettings s = tsp_pix_settings(&P);
	uint32_t days[] = {1, 2};
	s.retry_days = days;
	s.n_retry_days = 2;
	s.window_open_days = 8;
	s.no_retries = true;
	status_t st;
	cr_assert_eq(tsp_pix_set(&P, &s, false, &st), ST_OK, "%s", st.message);
	uint8_t packed[8192];
	size_t len = 0;
	Ospay__V1__GetGatewayResponse *g = get_pix(packed, sizeof(packed), &len);
	cr_assert_eq(g->gateway->pix->window_open_days, 8);
	cr_assert_eq(g->gateway->pix->n_retry_days, 2);
	cr_assert(g->gateway->pix->no_retries);
	cr_assert(g->gateway->credentials_set);
	protobuf_c_message_free_unpacked(&g->base, NULL);
}

static bool violation(const status_t *st, const char *field)
{
	for (size_t i = 0; i < st->n_violations; i++)
		if (strcmp(st->violations[i].field, field) == 0)
			return true;
	return false;
}

Test(pix_gateway, bad_settings_are_refused_field_by_field)
{
	Ospay__V1__PixSettings s = tsp_pix_settings(&P);
	uint32_t days[] = {3, 2};
	s.account = "";
	s.callback_base_url = "http://localhost:1";
	s.account_type = "SALARIO";
	s.profile = "acme";
	s.retry_days = days;
	s.n_retry_days = 2;
	s.window_open_days = 1;
	s.window_close_days = 5;
	s.cancel_cutoff_minutes = 1440;
	status_t st;
	cr_assert_eq(tsp_pix_set(&P, &s, false, &st), ST_INVALID_ARGUMENT);
	const char *fields[] = {"pix.account",
				"pix.callback_base_url",
				"pix.account_type",
				"pix.profile",
				"pix.retry_days",
				"pix.window",
				"pix.cancel_cutoff_minutes"};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		cr_assert(violation(&st, fields[i]), "no violation for %s", fields[i]);
}

Test(pix_gateway, a_key_that_is_not_the_certificates_is_refused)
{
	char crt[128], key[128];
	snprintf(crt, sizeof(crt), "%s/other.crt", P.dir);
	snprintf(key, sizeof(key), "%s/other.key", P.dir);
	cr_assert_eq(tls_cert_generate(crt, key, "other"), 0);
	/* ospay's certificate with another identity's key. */
	char saved[128];
	snprintf(saved, sizeof(saved), "%s", P.ospay_key);
	snprintf(P.ospay_key, sizeof(P.ospay_key), "%s", key);
	Ospay__V1__PixSettings s = tsp_pix_settings(&P);
	status_t st;
	int code = tsp_pix_set(&P, &s, true, &st);
	snprintf(P.ospay_key, sizeof(P.ospay_key), "%s", saved);
	unlink(crt);
	unlink(key);
	cr_assert_eq(code, ST_INVALID_ARGUMENT, "%s", st.message);
	cr_assert(violation(&st, "credentials.client_certificate_pem"));
	cr_assert(strstr(st.violations[0].description, "BEGIN") == NULL);
}

Test(pix_gateway, a_certificate_the_psp_does_not_trust_stores_nothing)
{
	/* A valid pair the PSP's mutual-TLS listener does not accept: the
	 * handshake fails, so the registration does, and nothing is stored. */
	char crt[128], key[128], saved_c[128], saved_k[128];
	snprintf(crt, sizeof(crt), "%s/stranger.crt", P.dir);
	snprintf(key, sizeof(key), "%s/stranger.key", P.dir);
	cr_assert_eq(tls_cert_generate(crt, key, "stranger"), 0);
	snprintf(saved_c, sizeof(saved_c), "%s", P.ospay_crt);
	snprintf(saved_k, sizeof(saved_k), "%s", P.ospay_key);
	snprintf(P.ospay_crt, sizeof(P.ospay_crt), "%s", crt);
	snprintf(P.ospay_key, sizeof(P.ospay_key), "%s", key);
	Ospay__V1__PixSettings s = tsp_pix_settings(&P);
	s.window_open_days = 9;
	status_t st;
	int code = tsp_pix_set(&P, &s, true, &st);
	snprintf(P.ospay_crt, sizeof(P.ospay_crt), "%s", saved_c);
	snprintf(P.ospay_key, sizeof(P.ospay_key), "%s", saved_k);
	unlink(crt);
	unlink(key);
	cr_assert(code == ST_UNAVAILABLE || code == ST_FAILED_PRECONDITION, "%d %s", code,
		  st.message);
	uint8_t packed[8192];
	size_t len = 0;
	Ospay__V1__GetGatewayResponse *g = get_pix(packed, sizeof(packed), &len);
	cr_assert_eq(g->gateway->pix->window_open_days, 0, "nothing stored");
	protobuf_c_message_free_unpacked(&g->base, NULL);
}
