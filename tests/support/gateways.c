#include "support/gateways.h"

#include <criterion/criterion.h>
#include <stdio.h>

#include "ospay/v1/admin.pb-c.h"

void tsg_register(const tsp_sandbox_t *sb, uint64_t org, const char *service, const char *body)
{
	char url[200], out[4096];
	snprintf(url, sizeof(url), "%s/control/orgs/%llu/%s", sb->base, (unsigned long long)org,
		 service);
	int code = tsp_http("POST", url, body, NULL, NULL, out, sizeof(out));
	cr_assert(code >= 200 && code < 300, "register %s at sandbox: %d %s", service, code, out);
}

void tsg_register_cielo(const tsp_sandbox_t *sb, uint64_t org, const char *tag)
{
	char body[300];
	snprintf(body, sizeof(body),
		 "{\"merchant_id\":\"mid-%s\",\"merchant_key\":\"mkey-%s\","
		 "\"notification_headers\":{\"X-Cielo-Hook\":\"hook-%s\"}}",
		 tag, tag, tag);
	tsg_register(sb, org, "cielo", body);
}

void tsg_register_getnet(const tsp_sandbox_t *sb, uint64_t org, const char *tag)
{
	char body[300];
	snprintf(body, sizeof(body),
		 "{\"client_id\":\"cid-%s\",\"client_secret\":\"cs-%s\","
		 "\"seller_id\":\"seller-%s\"}",
		 tag, tag, tag);
	tsg_register(sb, org, "getnet", body);
}

void tsg_set_gateway(int fd, const tsp_sandbox_t *sb, Ospay__V1__GatewayKind kind,
		     const char *service, Ospay__V1__GatewayCredentials *cred, bool automatic)
{
	Ospay__V1__SetGatewayRequest req = OSPAY__V1__SET_GATEWAY_REQUEST__INIT;
	char base[128];
	snprintf(base, sizeof(base), "%s/%s", sb->base, service);
	req.kind = kind;
	req.base_url = base;
	req.credentials = cred;
	req.allow_automatic_recurrence = automatic;
	status_t st;
	cr_assert_eq(tsp_call(fd, "ospay.v1.Admin/SetGateway", &req.base, NULL, NULL, NULL, &st), 0,
		     "SetGateway %s: %s (%s)", service, st.message,
		     st.n_violations ? st.violations[0].field : "");
}

void tsg_set_cielo(int fd, const tsp_sandbox_t *sb, const char *tag, bool automatic)
{
	char mid[64], mkey[64], hookv[64];
	snprintf(mid, sizeof(mid), "mid-%s", tag);
	snprintf(mkey, sizeof(mkey), "mkey-%s", tag);
	snprintf(hookv, sizeof(hookv), "hook-%s", tag);
	Ospay__V1__GatewayCredentials cred = OSPAY__V1__GATEWAY_CREDENTIALS__INIT;
	cred.merchant_id = mid;
	cred.merchant_key = mkey;
	Ospay__V1__HeaderPair hook = OSPAY__V1__HEADER_PAIR__INIT;
	hook.name = "X-Cielo-Hook";
	hook.value = hookv;
	Ospay__V1__HeaderPair *hooks[] = {&hook};
	cred.webhook_headers = hooks;
	cred.n_webhook_headers = 1;
	tsg_set_gateway(fd, sb, OSPAY__V1__GATEWAY_KIND__GATEWAY_KIND_CIELO, "cielo", &cred,
			automatic);
}

void tsg_set_getnet(int fd, const tsp_sandbox_t *sb, const char *tag, bool automatic)
{
	char cid[64], cs[64], seller[64];
	snprintf(cid, sizeof(cid), "cid-%s", tag);
	snprintf(cs, sizeof(cs), "cs-%s", tag);
	snprintf(seller, sizeof(seller), "seller-%s", tag);
	Ospay__V1__GatewayCredentials cred = OSPAY__V1__GATEWAY_CREDENTIALS__INIT;
	cred.client_id = cid;
	cred.client_secret = cs;
	cred.seller_id = seller;
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
	char body[300];
	snprintf(body, sizeof(body),
		 "{\"api\":\"zapi-%s\",\"secret\":\"zsecret-%s\","
		 "\"webhook_secret\":\"zhook-%s\",\"webhook_header\":\"X-ZapMe-Secret\"}",
		 tag, tag, tag);
	tsg_register(sb, org, "zapme", body);
}

void tsg_set_zapme(int fd, const tsp_sandbox_t *sb, const char *tag)
{
	char key[64], secret[64], hookv[64], base[128];
	snprintf(key, sizeof(key), "zapi-%s", tag);
	snprintf(secret, sizeof(secret), "zsecret-%s", tag);
	snprintf(hookv, sizeof(hookv), "zhook-%s", tag);
	Ospay__V1__GatewayCredentials cred = OSPAY__V1__GATEWAY_CREDENTIALS__INIT;
	cred.api_key = key;
	cred.api_secret = secret;
	Ospay__V1__HeaderPair hook = OSPAY__V1__HEADER_PAIR__INIT;
	hook.name = "X-ZapMe-Secret";
	hook.value = hookv;
	Ospay__V1__HeaderPair *hooks[] = {&hook};
	cred.webhook_headers = hooks;
	cred.n_webhook_headers = 1;
	Ospay__V1__SetNotifierRequest req = OSPAY__V1__SET_NOTIFIER_REQUEST__INIT;
	snprintf(base, sizeof(base), "%s/zapme", sb->base);
	req.base_url = base;
	req.channel = OSPAY__V1__NOTIFIER_CHANNEL__NOTIFIER_CHANNEL_WHATSAPP;
	req.credentials = &cred;
	status_t st;
	cr_assert_eq(tsp_call(fd, "ospay.v1.Admin/SetNotifier", &req.base, NULL, NULL, NULL, &st),
		     0, "SetNotifier: %s", st.message);
}

void tsg_fault(const tsp_sandbox_t *sb, const char *body)
{
	char url[200], out[1024];
	snprintf(url, sizeof(url), "%s/control/faults", sb->base);
	int code = tsp_http("POST", url, body, NULL, NULL, out, sizeof(out));
	cr_assert_eq(code, 201, "%s", out);
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
