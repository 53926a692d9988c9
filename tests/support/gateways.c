#include "support/gateways.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ospay/v1/admin.pb-c.h"

void tsg_register(const tsp_sandbox_t *sb, uint64_t org, const char *service, const char *body)
{
	char url[200], out[4096];
	snprintf(url, sizeof(url), "%s/control/orgs/%llu/%s", sb->base, (unsigned long long)org,
		 service);
	int code = tsp_http("POST", url, body, NULL, NULL, out, sizeof(out));
	cr_assert(code >= 200 && code < 300, "register %s at sandbox: %d %s", service, code, out);
}

/* Registers org at service with the JSON body j (taken). */
static void register_json(const tsp_sandbox_t *sb, uint64_t org, const char *service, json_t *j)
{
	char *body = json_dumps(j, JSON_COMPACT);
	cr_assert_not_null(body);
	tsg_register(sb, org, service, body);
	free(body);
	json_decref(j);
}

void tsg_register_cielo(const tsp_sandbox_t *sb, uint64_t org, const char *tag)
{
	register_json(sb, org, "cielo",
		      json_pack("{s:s+, s:s+, s:{s:s+}}", "merchant_id", "mid-", tag,
				"merchant_key", "mkey-", tag, "notification_headers",
				"X-Cielo-Hook", "hook-", tag));
}

void tsg_register_getnet(const tsp_sandbox_t *sb, uint64_t org, const char *tag)
{
	register_json(sb, org, "getnet",
		      json_pack("{s:s+, s:s+, s:s+}", "client_id", "cid-", tag, "client_secret",
				"cs-", tag, "seller_id", "seller-", tag));
}

void tsg_set_gateway(int fd, const tsp_sandbox_t *sb, Ospay__V1__GatewayKind kind,
		     const char *service, Ospay__V1__GatewayCredentials *cred, bool automatic)
{
	tsg_set_gateway_with(fd, sb, kind, service, cred, automatic, false);
}

void tsg_set_gateway_with(int fd, const tsp_sandbox_t *sb, Ospay__V1__GatewayKind kind,
			  const char *service, Ospay__V1__GatewayCredentials *cred, bool automatic,
			  bool zero_auth)
{
	Ospay__V1__SetGatewayRequest req = OSPAY__V1__SET_GATEWAY_REQUEST__INIT;
	char base[128];
	snprintf(base, sizeof(base), "%s/%s", sb->base, service);
	req.kind = kind;
	req.base_url = base;
	req.credentials = cred;
	req.allow_automatic_recurrence = automatic;
	req.zero_auth = zero_auth;
	status_t st;
	cr_assert_eq(tsp_call(fd, "ospay.v1.Admin/SetGateway", &req.base, NULL, NULL, NULL, &st), 0,
		     "SetGateway %s: %s (%s)", service, st.message,
		     st.n_violations ? st.violations[0].field : "");
}

/* prefix and tag in out: the credentials a test's account is known by at both ends. */
static char *tagged(char out[64], const char *prefix, const char *tag)
{
	snprintf(out, 64, "%s%s", prefix, tag);
	return out;
}

/* c's one webhook header, name: value. */
static void one_hook(tsg_creds_t *c, const char *name, const char *value)
{
	c->hook = (Ospay__V1__HeaderPair)OSPAY__V1__HEADER_PAIR__INIT;
	c->hook.name = (char *)name;
	c->hook.value = (char *)value;
	c->slot = &c->hook;
	c->cred.webhook_headers = &c->slot;
	c->cred.n_webhook_headers = 1;
}

Ospay__V1__GatewayCredentials *tsg_cielo_creds(tsg_creds_t *c, const char *tag)
{
	*c = (tsg_creds_t){.cred = OSPAY__V1__GATEWAY_CREDENTIALS__INIT};
	c->cred.merchant_id = tagged(c->id, "mid-", tag);
	c->cred.merchant_key = tagged(c->secret, "mkey-", tag);
	one_hook(c, "X-Cielo-Hook", tagged(c->hook_value, "hook-", tag));
	return &c->cred;
}

Ospay__V1__GatewayCredentials *tsg_zapme_creds(tsg_creds_t *c, const char *tag)
{
	*c = (tsg_creds_t){.cred = OSPAY__V1__GATEWAY_CREDENTIALS__INIT};
	c->cred.api_key = tagged(c->id, "zapi-", tag);
	c->cred.api_secret = tagged(c->secret, "zsecret-", tag);
	one_hook(c, "X-ZapMe-Secret", tagged(c->hook_value, "zhook-", tag));
	return &c->cred;
}

void tsg_set_cielo(int fd, const tsp_sandbox_t *sb, const char *tag, bool automatic)
{
	tsg_creds_t c;
	tsg_set_gateway(fd, sb, OSPAY__V1__GATEWAY_KIND__GATEWAY_KIND_CIELO, "cielo",
			tsg_cielo_creds(&c, tag), automatic);
}

void tsg_set_getnet(int fd, const tsp_sandbox_t *sb, const char *tag, bool automatic)
{
	char cid[64], cs[64], seller[64];
	Ospay__V1__GatewayCredentials cred = OSPAY__V1__GATEWAY_CREDENTIALS__INIT;

	cred.client_id = tagged(cid, "cid-", tag);
	cred.client_secret = tagged(cs, "cs-", tag);
	cred.seller_id = tagged(seller, "seller-", tag);
	tsg_set_gateway(fd, sb, OSPAY__V1__GATEWAY_KIND__GATEWAY_KIND_GETNET, "getnet", &cred,
			automatic);
}

void tsg_cielo(int fd, const tsp_sandbox_t *sb, uint64_t org, const char *tag, bool automatic)
{
	tsg_register_cielo(sb, org, tag);
	tsg_set_cielo(fd, sb, tag, automatic);
}

void tsg_pagolivre(int fd, const tsp_sandbox_t *sb, uint64_t org, const char *token)
{
	char body[200];
	snprintf(body, sizeof(body), "{\"token\":\"%s\"}", token);
	tsg_register(sb, org, "pagolivre", body);
	Ospay__V1__GatewayCredentials cred = OSPAY__V1__GATEWAY_CREDENTIALS__INIT;
	cred.api_token = (char *)token;
	tsg_set_gateway(fd, sb, OSPAY__V1__GATEWAY_KIND__GATEWAY_KIND_PAGOLIVRE, "pagolivre", &cred,
			false);
}

void tsg_register_zapme(const tsp_sandbox_t *sb, uint64_t org, const char *tag)
{
	register_json(sb, org, "zapme",
		      json_pack("{s:s+, s:s+, s:s+, s:s}", "api", "zapi-", tag, "secret",
				"zsecret-", tag, "webhook_secret", "zhook-", tag, "webhook_header",
				"X-ZapMe-Secret"));
}

void tsg_set_zapme(int fd, const tsp_sandbox_t *sb, const char *tag)
{
	char base[128];
	tsg_creds_t c;
	Ospay__V1__SetNotifierRequest req = OSPAY__V1__SET_NOTIFIER_REQUEST__INIT;

	snprintf(base, sizeof(base), "%s/zapme", sb->base);
	req.base_url = base;
	req.channel = OSPAY__V1__NOTIFIER_CHANNEL__NOTIFIER_CHANNEL_WHATSAPP;
	req.credentials = tsg_zapme_creds(&c, tag);
	tsp_call_ok(fd, "ospay.v1.Admin/SetNotifier", &req.base, NULL);
}

uint64_t tsg_fault(const tsp_sandbox_t *sb, const char *body)
{
	char url[200], out[1024];
	snprintf(url, sizeof(url), "%s/control/faults", sb->base);
	int code = tsp_http("POST", url, body, NULL, NULL, out, sizeof(out));
	cr_assert_eq(code, 201, "%s", out);
	const char *id = strstr(out, "\"id\":");
	cr_assert_not_null(id, "%s", out);
	return strtoull(id + 5, NULL, 10);
}

void tsg_sale_fault(const tsp_sandbox_t *sb, const char *kind, bool process)
{
	char body[200];
	snprintf(body, sizeof(body),
		 "{\"service\":\"cielo\",\"route\":\"sale_create\",\"kind\":\"%s\","
		 "\"process\":%s,\"count\":1}",
		 kind, process ? "true" : "false");
	tsg_fault(sb, body);
}

/* GETs control/<what> (with its query) as JSON; asserts 200 and JSON. */
static json_t *control_get(const tsp_sandbox_t *sb, const char *what)
{
	size_t cap = 1 << 20;
	char url[300], *out = malloc(cap);
	cr_assert_not_null(out);
	snprintf(url, sizeof(url), "%s/control/%s", sb->base, what);
	int code = tsp_http("GET", url, NULL, NULL, NULL, out, cap);
	cr_assert_eq(code, 200, "GET %s: %d %.300s", what, code, out);
	json_t *j = json_loads(out, 0, NULL);
	cr_assert_not_null(j, "GET %s: not JSON: %.300s", what, out);
	free(out);
	return j;
}

long long tsg_fault_hits(const tsp_sandbox_t *sb, uint64_t id)
{
	json_t *j = control_get(sb, "faults"), *f;
	size_t i;
	long long hits = -1;
	json_array_foreach(json_object_get(j, "faults"), i, f)
	{
		if ((uint64_t)json_integer_value(json_object_get(f, "id")) == id)
			hits = json_integer_value(json_object_get(f, "hits"));
	}
	json_decref(j);
	return hits;
}

bool tsg_fault_hit(const tsp_sandbox_t *sb, uint64_t id)
{
	return tsg_fault_hits(sb, id) != 0;
}

void tsg_faults_clear(const tsp_sandbox_t *sb)
{
	static const char *const what[] = {"faults", "webhook-faults"};
	for (size_t i = 0; i < 2; i++) {
		char url[256], out[512];
		snprintf(url, sizeof(url), "%s/control/%s", sb->base, what[i]);
		int code = tsp_http("DELETE", url, NULL, NULL, NULL, out, sizeof(out));
		cr_assert_eq(code, 200, "DELETE %s: %d %s", what[i], code, out);
	}
}

void tsg_webhook_fault(const tsp_sandbox_t *sb, const char *body)
{
	char url[200], out[1024];
	snprintf(url, sizeof(url), "%s/control/webhook-faults", sb->base);
	int code = tsp_http("POST", url, body, NULL, NULL, out, sizeof(out));
	cr_assert_eq(code, 201, "webhook fault %s: %d %s", body, code, out);
}

int tsg_webhooks_logged(const tsp_sandbox_t *sb, const char *service, const char *summary_part,
			const char *fault)
{
	char what[64];
	snprintf(what, sizeof(what), "webhooks?service=%s", service);
	json_t *j = control_get(sb, what), *d;
	size_t i;
	int n = 0;
	json_array_foreach(json_object_get(j, "deliveries"), i, d)
	{
		const char *sum = json_string_value(json_object_get(d, "summary"));
		const char *f = json_string_value(json_object_get(d, "fault"));
		if (sum != NULL && strstr(sum, summary_part) != NULL &&
		    (fault == NULL || (f != NULL && strcmp(f, fault) == 0)))
			n++;
	}
	json_decref(j);
	return n;
}

int tsg_pagolivre_control(const tsp_sandbox_t *sb, const char *action, const char *ref,
			  const char *body)
{
	char url[300], out[4096];
	snprintf(url, sizeof(url), "%s/control/pagolivre/orders/%s/%s", sb->base, ref, action);
	return tsp_http("POST", url, body != NULL ? body : "{}", NULL, NULL, out, sizeof(out));
}

int tsg_pagolivre_events(const tsp_server_t *s, const char *token, const char *prefix, int n)
{
	char cfg[400], url[300];
	snprintf(cfg, sizeof(cfg), "%s/events.curl", s->dir);
	snprintf(url, sizeof(url), "https://%s/webhooks/pagolivre/%llu?accessToken=%s",
		 s->https_addr, (unsigned long long)s->org_id, token);
	FILE *f = fopen(cfg, "w");
	cr_assert_not_null(f);
	for (int i = 0; i < n; i++)
		fprintf(f,
			/* "next" separates transfers; one after the last would be empty. */
			"%surl = \"%s\"\ndata = \"{\\\"eventId\\\":\\\"%s%d\\\","
			"\\\"eventName\\\":\\\"orderPaid\\\",\\\"orderKey\\\":\\\"%s%d\\\"}\"\n"
			"header = \"Content-Type: application/json\"\ncacert = \"%s\"\n"
			"output = \"/dev/null\"\nwrite-out = \"%%{http_code} \"\n",
			i > 0 ? "next\n" : "", url, prefix, i, prefix, i, s->cacert);
	fclose(f);
	const char *argv[] = {"/usr/bin/curl",
			      "-sS",
			      "--parallel",
			      "--parallel-max",
			      "50",
			      "--max-time",
			      "60",
			      "-K",
			      cfg,
			      NULL};
	size_t cap = (size_t)n * 4 + 1024;
	char *out = malloc(cap);
	cr_assert_not_null(out);
	cr_assert_eq(tsp_run(argv, NULL, out, cap), 0, "curl: %.200s", out);
	int ok = 0;
	for (const char *p = out; (p = strstr(p, "200")) != NULL; p += 3)
		ok++;
	free(out);
	return ok;
}

void tsg_cielo_decline(const tsp_sandbox_t *sb, const char *code, const char *mac, int count,
		       bool new_card)
{
	char url[256], body[256], out[512];
	snprintf(url, sizeof(url), "%s/control/cielo/decline", sb->base);
	snprintf(body, sizeof(body),
		 "{\"code\":\"%s\",\"merchant_advice_code\":\"%s\",\"count\":%d,"
		 "\"new_card\":%s}",
		 code, mac != NULL ? mac : "", count, new_card ? "true" : "false");
	cr_assert_eq(tsp_http("POST", url, body, NULL, NULL, out, sizeof(out)), 200, "%s", out);
}
