/*
 * Gateway credentials are bound to their host (issue 11, item 1): an admin
 * (or a stolen admin token) pointing Cielo at a listener of its own without
 * sending the credentials again is refused, whatever spelling the address
 * takes; without --allow-private-gateways a loopback, private or link-local
 * URL is refused even with credentials, and a name resolving to loopback is
 * refused when connecting. A local listener plays the exfiltration target:
 * it must never see a connection.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/netaddr.h"
#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/cards.pb-c.h"
#include "ospay/v1/gateway.pb-c.h"
#include "support/domain.h"
#include "support/gateways.h"
#include "support/proc.h"

static tsp_server_t srv;
static tsp_sandbox_t sbx;
static int adm = -1;

#define VISA "4111111111111111"

/* The exfiltration target must never have seen a connection. */
static void listener_assert_untouched(int fd)
{
	cr_assert(!tsp_trap_touched(fd), "the exfiltration target received a connection");
	close(fd);
}

static int set_cielo(const char *base, const char *query, bool with_creds, status_t *st)
{
	Ospay__V1__SetGatewayRequest req = OSPAY__V1__SET_GATEWAY_REQUEST__INIT;
	tsg_creds_t c;
	req.kind = OSPAY__V1__GATEWAY_KIND__GATEWAY_KIND_CIELO;
	req.base_url = (char *)base;
	req.query_base_url = (char *)(query != NULL ? query : "");
	req.credentials = with_creds ? tsg_cielo_creds(&c, "e2e") : NULL;
	return tsp_call(adm, "ospay.v1.Admin/SetGateway", &req.base, NULL, NULL, NULL, st);
}

/* Admin/SetNotifier (ZapMe, WhatsApp) at base, with credentials or keeping the stored ones. */
static int set_zapme(const char *base, bool with_creds, status_t *st)
{
	Ospay__V1__SetNotifierRequest req = OSPAY__V1__SET_NOTIFIER_REQUEST__INIT;
	tsg_creds_t c;
	req.base_url = (char *)base;
	req.channel = OSPAY__V1__NOTIFIER_CHANNEL__NOTIFIER_CHANNEL_WHATSAPP;
	req.credentials = with_creds ? tsg_zapme_creds(&c, "e2e") : NULL;
	return tsp_call(adm, "ospay.v1.Admin/SetNotifier", &req.base, NULL, NULL, NULL, st);
}

static void assert_refused(int code, const status_t *st, const char *field, const char *url)
{
	cr_assert_eq(code, ST_INVALID_ARGUMENT, "%s: accepted (%d %s)", url, code, st->message);
	cr_assert(tso_violation(st, field), "%s: no violation on %s (%s)", url, field,
		  st->n_violations ? st->violations[0].field : st->message);
	for (size_t i = 0; i < st->n_violations; i++)
		cr_assert_null(strstr(st->violations[i].description, "mkey-e2e"));
	cr_assert_null(strstr(st->message, "mkey-e2e"));
}

static int card_add(uint64_t cust, status_t *st)
{
	Ospay__V1__CardsAddRequest m = OSPAY__V1__CARDS_ADD_REQUEST__INIT;
	m.customer_id = cust;
	m.number = VISA;
	m.holder = "MARIA DA SILVA";
	m.expiry = "12/2030";
	m.security_code = "123";
	return tsp_call(adm, "ospay.v1.Cards/Add", &m.base, NULL, NULL, NULL, st);
}

static void teardown(void)
{
	tsp_env_down(&srv, sbx.pid > 0 ? &sbx : NULL, adm);
}

TestSuite(gateway_hosts, .fini = teardown, .timeout = 120);

Test(gateway_hosts, moving_cielo_without_credentials_is_refused)
{
	adm = tsp_env_up(&srv, &sbx, "2026-12-01T12:00:00Z", NULL);
	tsg_cielo(adm, &sbx, srv.org_id, "e2e", false);
	int port, lfd = tsp_trap_listen(true, &port);
	char sbx_cielo[128];
	snprintf(sbx_cielo, sizeof(sbx_cielo), "%s/cielo", sbx.base);
	const char *const forms[] = {"http://127.0.0.1:",          "http://127.1:",
				     "http://0x7f000001:",         "http://2130706433:",
				     "http://[::ffff:127.0.0.1]:", "http://localhost:",
				     "https://127.0.0.1:"};
	status_t st;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		char url[128];
		snprintf(url, sizeof(url), "%s%d/", forms[i], port);
		assert_refused(set_cielo(url, NULL, false, &st), &st, "credentials", url);
		/* The query URL carries the MerchantKey as well. */
		assert_refused(set_cielo(sbx_cielo, url, false, &st), &st, "credentials", url);
	}
	/* The notifier's credentials are bound the same way. */
	tsg_register_zapme(&sbx, srv.org_id, "e2e");
	tsg_set_zapme(adm, &sbx, "e2e");
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/zapme", port);
	assert_refused(set_zapme(url, false, &st), &st, "credentials", url);
	/* The same host with another path keeps the credentials. */
	char same[160];
	snprintf(same, sizeof(same), "%s/cielo/", sbx.base);
	cr_assert_eq(set_cielo(same, NULL, false, &st), 0, "%s", st.message);
	/* The card goes where the credentials were given, never to the listener. */
	uint64_t cust = tso_customer(adm, srv.unit_id, 1, "São Paulo");
	cr_assert_eq(card_add(cust, &st), 0, "Cards/Add: %s", st.message);
	listener_assert_untouched(lfd);
}

Test(gateway_hosts, private_urls_refused_without_the_allow_option)
{
	const char *const deny[] = {TSP_DENY_PRIVATE, NULL};
	adm = tsp_env_up(&srv, NULL, "2026-12-01T12:00:00Z", deny);
	sbx.pid = 0;
	int port, lfd = tsp_trap_listen(true, &port);
	const char *const forms[] = {
		"http://127.0.0.1:",   "http://127.1:",     "http://0x7f000001:",
		"http://2130706433:",  "http://[::1]:",     "http://[::ffff:127.0.0.1]:",
		"http://localhost:",   "http://0.0.0.0:",   "http://10.0.0.1:",
		"http://192.168.1.1:", "http://[fd00::1]:", "http://169.254.169.254:",
		"http://[fe80::1]:",   "http://0177.0.0.1:"};
	status_t st;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		char url[128];
		snprintf(url, sizeof(url), "%s%d/", forms[i], port);
		assert_refused(set_cielo(url, NULL, true, &st), &st, "base_url", url);
		assert_refused(
			set_cielo("https://api.cieloecommerce.cielo.com.br/", url, true, &st), &st,
			"query_base_url", url);
	}
	/* A name is checked when connecting: this host's own name, when it resolves to an
	 * internal address, must be refused then, not at SetGateway. */
	char host[256] = "";
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai = NULL;
	cr_assert_eq(gethostname(host, sizeof(host) - 1), 0);
	bool internal = false;
	if (getaddrinfo(host, NULL, &hints, &ai) == 0) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ai->ai_addr;
		internal = netaddr_kind_internal(netaddr_classify_v4(ntohl(a->sin_addr.s_addr)));
		freeaddrinfo(ai);
	}
	netaddr_kind_t written = netaddr_classify_host(host, strlen(host));
	if (internal && written == NETADDR_NAME) {
		char url[320];
		snprintf(url, sizeof(url), "http://%s:%d/", host, port);
		cr_assert_eq(set_cielo(url, NULL, true, &st), 0, "%s: %s", url, st.message);
		uint64_t cust = tso_customer(adm, srv.unit_id, 1, "São Paulo");
		int code = card_add(cust, &st);
		cr_assert_neq(code, 0, "Cards/Add through %s succeeded", url);
		cr_assert_null(strstr(st.message, VISA));
	} else {
		cr_log_warn(
			"%s does not resolve to an internal address: connect-time check skipped",
			host);
	}
	listener_assert_untouched(lfd);
}
