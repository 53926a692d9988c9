#include "support/pix.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/tls.h"
#include "ospay/v1/admin.pb-c.h"
#include "support/gateways.h"

/* A whole small file as a NUL-terminated string (caller frees). */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot open %s", path);
	char *buf = calloc(1, 65536);
	cr_assert_not_null(buf);
	size_t n = fread(buf, 1, 65535, f);
	fclose(f);
	cr_assert(n > 0 && n < 65535, "%s: %zu bytes", path, n);
	return buf;
}

Ospay__V1__PixSettings tsp_pix_settings(const tsp_pix_t *p)
{
	Ospay__V1__PixSettings s = OSPAY__V1__PIX_SETTINGS__INIT;
	s.account = (char *)TSP_PIX_ACCOUNT;
	s.callback_base_url = (char *)p->callback_base;
	return s;
}

int tsp_pix_set(tsp_pix_t *p, const Ospay__V1__PixSettings *settings, bool with_credentials,
		status_t *st)
{
	Ospay__V1__SetGatewayRequest req = OSPAY__V1__SET_GATEWAY_REQUEST__INIT;
	Ospay__V1__GatewayCredentials cred = OSPAY__V1__GATEWAY_CREDENTIALS__INIT;
	char *crt = NULL, *key = NULL;
	req.kind = OSPAY__V1__GATEWAY_KIND__GATEWAY_KIND_PIX_AUTOMATICO;
	req.base_url = p->base_url;
	req.pix = (Ospay__V1__PixSettings *)settings;
	if (with_credentials) {
		crt = slurp(p->ospay_crt);
		key = slurp(p->ospay_key);
		cred.client_id = (char *)TSP_PIX_CLIENT_ID;
		cred.client_secret = (char *)TSP_PIX_CLIENT_SECRET;
		cred.client_certificate_pem = crt;
		cred.client_key_pem = key;
		req.credentials = &cred;
	}
	tsp_call(p->fd, "ospay.v1.Admin/SetGateway", &req.base, NULL, NULL, NULL, st);
	free(crt);
	free(key);
	return st->code;
}

json_t *tsp_pix_control(const tsp_pix_t *p, const char *method, const char *path, const char *body,
			int expect)
{
	char url[512], out[65536];
	snprintf(url, sizeof(url), "%s%s", p->sb.base, path);
	int code =
		tsp_http(method, url, body, body != NULL ? "Content-Type: application/json" : NULL,
			 NULL, out, sizeof(out));
	cr_assert_eq(code, expect, "%s %s -> %d %s", method, path, code, out);
	return out[0] != '\0' ? json_loads(out, 0, NULL) : NULL;
}

void tsp_pix_up(tsp_pix_t *p, const char *test_clock, const char *const *extra_args)
{
	const char *args[32];
	size_t n = 0;
	char log[400], hook_base[96], body[160];
	status_t st;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	snprintf(p->dir, sizeof(p->dir), "/tmp/ospay-pixtsp-XXXXXX");
	cr_assert_not_null(mkdtemp(p->dir));
	snprintf(p->psp_crt, sizeof(p->psp_crt), "%s/psp.crt", p->dir);
	snprintf(p->psp_key, sizeof(p->psp_key), "%s/psp.key", p->dir);
	snprintf(p->ospay_crt, sizeof(p->ospay_crt), "%s/ospay.crt", p->dir);
	snprintf(p->ospay_key, sizeof(p->ospay_key), "%s/ospay.key", p->dir);
	cr_assert_eq(tls_cert_generate(p->psp_crt, p->psp_key, "localhost"), 0);
	cr_assert_eq(tls_cert_generate(p->ospay_crt, p->ospay_key, "ospay-client"), 0);

	if (test_clock != NULL) {
		args[n++] = "--test-clock";
		args[n++] = test_clock;
	}
	args[n++] = "--gateway-ca";
	args[n++] = p->psp_crt;
	for (size_t i = 0; extra_args != NULL && extra_args[i] != NULL && n < 31; i++)
		args[n++] = extra_args[i];
	args[n] = NULL;
	tsp_server_up(&p->srv, args);

	const char *colon = strrchr(p->srv.https_addr, ':');
	cr_assert_not_null(colon);
	/* ospayd's certificate names localhost, which the sandbox verifies. */
	snprintf(hook_base, sizeof(hook_base), "https://localhost:%s", colon + 1);
	snprintf(p->callback_base, sizeof(p->callback_base), "%s", hook_base);
	snprintf(log, sizeof(log), "%s/sandbox.log", p->srv.dir);
	const char *sargv[] = {
		OSPAY_SANDBOX_BIN, "--listen",         "127.0.0.1:0", "--webhook-base",
		hook_base,         "--webhook-ca",     p->srv.cacert, "--mtls-listen",
		"127.0.0.1:0",     "--mtls-cert",      p->psp_crt,    "--mtls-key",
		p->psp_key,        "--mtls-client-ca", p->ospay_crt,  NULL};
	tsp_sandbox_spawn(&p->sb, sargv, log);
	cr_assert(p->sb.mtls_addr[0] != '\0', "ospay-sandbox has no mutual-TLS listener");
	snprintf(p->base_url, sizeof(p->base_url), "https://%s/pix", p->sb.mtls_addr);

	snprintf(body, sizeof(body), "{\"client_id\":\"%s\",\"client_secret\":\"%s\"}",
		 TSP_PIX_CLIENT_ID, TSP_PIX_CLIENT_SECRET);
	tsg_register(&p->sb, p->srv.org_id, "pix", body);

	p->fd = tsp_login(&p->srv, p->srv.admin_token);
	Ospay__V1__PixSettings s = tsp_pix_settings(p);
	cr_assert_eq(tsp_pix_set(p, &s, true, &st), ST_OK, "SetGateway pix: %s (%s: %s)",
		     st.message, st.n_violations ? st.violations[0].field : "",
		     st.n_violations ? st.violations[0].description : "");
}

void tsp_pix_down(tsp_pix_t *p)
{
	const char *files[] = {p->psp_crt, p->psp_key, p->ospay_crt, p->ospay_key};
	tsp_env_down(&p->srv, &p->sb, p->fd);
	p->fd = -1;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (files[i][0] != '\0')
			unlink(files[i]);
	if (p->dir[0] != '\0')
		rmdir(p->dir);
}
