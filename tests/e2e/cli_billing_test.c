/*
 * ospay payment-methods, cards, invoices, charges and billing run as processes against a real
 * ospayd and ospay-sandbox (Cielo): the card number and security code come
 * from standard input, never argv, and never come back out.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ospay/v1/gateway.pb-c.h"
#include "support/proc.h"

static tsp_server_t srv;
static tsp_sandbox_t sbx;
static char out[65536];

static void set_gateway(bool automatic);

static void setup(void)
{
	const char *args[] = {"--test-clock", "2026-12-01T12:00:00Z", NULL};
	tsp_server_up(&srv, args);
	tsp_sandbox_up(&sbx, &srv);
	char url[200], res[4096];
	snprintf(url, sizeof(url), "%s/control/orgs/%llu/cielo", sbx.base,
		 (unsigned long long)srv.org_id);
	int code = tsp_http("POST", url,
			    "{\"merchant_id\":\"mid-cli\",\"merchant_key\":\"mkey-cli\","
			    "\"notification_headers\":{\"X-Cielo-Hook\":\"hook-cli\"}}",
			    NULL, NULL, res, sizeof(res));
	cr_assert(code >= 200 && code < 300, "register org at sandbox: %d %s", code, res);
	set_gateway(false);
}

/* Cielo at the sandbox; automatic: the billing run may charge through it. */
static void set_gateway(bool automatic)
{
	int fd = tsp_login(&srv, srv.admin_token);
	Ospay__V1__GatewayCredentials cred = OSPAY__V1__GATEWAY_CREDENTIALS__INIT;
	cred.merchant_id = "mid-cli";
	cred.merchant_key = "mkey-cli";
	Ospay__V1__HeaderPair hook = OSPAY__V1__HEADER_PAIR__INIT;
	hook.name = "X-Cielo-Hook";
	hook.value = "hook-cli";
	Ospay__V1__HeaderPair *hooks[] = {&hook};
	cred.webhook_headers = hooks;
	cred.n_webhook_headers = 1;
	Ospay__V1__SetGatewayRequest req = OSPAY__V1__SET_GATEWAY_REQUEST__INIT;
	char base[128];
	snprintf(base, sizeof(base), "%s/cielo", sbx.base);
	req.kind = OSPAY__V1__GATEWAY_KIND__GATEWAY_KIND_CIELO;
	req.base_url = base;
	req.credentials = &cred;
	req.allow_automatic_recurrence = automatic;
	status_t st;
	cr_assert_eq(tsp_call(fd, "ospay.v1.Admin/SetGateway", &req.base, NULL, NULL, NULL, &st), 0,
		     "SetGateway: %s", st.message);
	close(fd);
}

static void teardown(void)
{
	tsp_sandbox_down(&sbx);
	tsp_server_down(&srv);
}

TestSuite(cli_billing, .init = setup, .fini = teardown, .timeout = 60);

/* Runs ospay with the arguments (NULL-terminated) and stdin_text on standard input. */
static int ospay_in(const char *stdin_text, const char *first, ...)
{
	const char *argv[40] = {"/bin/sh", "-c",
				"printf '%s' \"$OSPAY_TEST_STDIN\" | \"$0\" \"$@\" 2>&1", OSPAY_BIN,
				first};
	size_t n = 5;
	va_list ap;
	va_start(ap, first);
	for (const char *a = va_arg(ap, const char *); a != NULL; a = va_arg(ap, const char *)) {
		cr_assert_lt(n, 39);
		argv[n++] = a;
	}
	va_end(ap);
	argv[n] = NULL;
	char addr[96], tok[200], in[200];
	snprintf(addr, sizeof(addr), "OSPAY_ADDR=%s", srv.rpc_addr);
	snprintf(tok, sizeof(tok), "OSPAY_TOKEN=%s", srv.admin_token);
	snprintf(in, sizeof(in), "OSPAY_TEST_STDIN=%s", stdin_text);
	const char *env[] = {addr, tok, in, NULL};
	return tsp_run(argv, env, out, sizeof(out));
}

#define ospay(...) ospay_in("", __VA_ARGS__)
#define HAS(s) cr_assert(strstr(out, (s)) != NULL, "missing \"%s\" in:\n%s", (s), out)
#define HASNT(s) cr_assert(strstr(out, (s)) == NULL, "unexpected \"%s\" in:\n%s", (s), out)

Test(cli_billing, payment_methods)
{
	cr_assert_eq(ospay("payment-methods", "create", "--name", "Pix", "--type", "pix", NULL), 0,
		     "%s", out);
	cr_assert_eq(ospay("payment-methods", "create", "--name", "Crédito recorrente", "--type",
			   "recurring-credit", "--mode", "integrated", NULL),
		     0, "%s", out);
	cr_assert_eq(ospay("payment-methods", "create", "--name", "X", "--type", "cheque", NULL),
		     2);
	cr_assert_eq(ospay("payment-methods", "create", "--name", "X", "--type", "recurring-credit",
			   NULL),
		     1);
	HAS("operation_mode");
	cr_assert_eq(ospay("payment-methods", "list", NULL), 0, "%s", out);
	HAS("Pix");
	HAS("Crédito recorrente");
	HAS("recurring-credit");
	HAS("integrated");
}

Test(cli_billing, cards_and_invoices)
{
	cr_assert_eq(ospay("customers", "create", "--unit", "1", "--name", "Maria Souza",
			   "--document", "529.982.247-25", "--street", "Rua Augusta", "--city",
			   "São Paulo", "--state", "SP", "--cep", "01305-000", NULL),
		     0, "%s", out);
	cr_assert_eq(ospay("customers", "add-service", "1", "--plan", "Fibra", "--amount", "99,90",
			   NULL),
		     0, "%s", out);
	/* The number on the command line is refused before anything is sent. */
	cr_assert_eq(ospay("cards", "add", "--customer", "1", "--holder", "MARIA SOUZA", "--expiry",
			   "12/2030", "4111111111111111", NULL),
		     2);
	cr_assert_eq(ospay_in("4111 1111 1111 1111\n123\n", "cards", "add", "--customer", "1",
			      "--holder", "MARIA SOUZA", "--expiry", "12/2030", NULL),
		     0, "%s", out);
	HAS("1111");
	HASNT("4111111111111111");
	HASNT("4111 1111");
	cr_assert_eq(ospay_in("5555555555554444\n321\n", "cards", "add", "--customer", "1",
			      "--holder", "MARIA SOUZA", "--expiry", "11/2029", NULL),
		     0, "%s", out);
	/* Nothing on standard input: a usage error. */
	cr_assert_eq(ospay("cards", "add", "--customer", "1", "--holder", "MARIA SOUZA", "--expiry",
			   "12/2030", NULL),
		     2);
	cr_assert_eq(ospay("cards", "list", "--customer", "1", NULL), 0, "%s", out);
	HAS("•••• 1111");
	HAS("•••• 4444");
	HAS("visa");
	HAS("mastercard");
	HAS("12/2030");
	HAS("yes");
	HASNT("5555555555554444");
	cr_assert_eq(ospay("cards", "set-default", "2", NULL), 0, "%s", out);
	cr_assert_eq(ospay("cards", "remove", "2", NULL), 0, "%s", out);
	HAS("card 1 is now the default");
	cr_assert_eq(ospay("--json", "cards", "list", "--customer", "1", NULL), 0, "%s", out);
	HAS("\"is_default\": true");

	cr_assert_eq(ospay("invoices", "create", "--customer", "1", "--service", "1", "--amount",
			   "99,90", "--due", "2026-12-10", NULL),
		     0, "%s", out);
	HAS("2026-12-10");
	cr_assert_eq(ospay("invoices", "create", "--customer", "1", "--service", "1", "--amount",
			   "99,90", "--due", "2027-01-10", NULL),
		     0, "%s", out);
	cr_assert_eq(ospay("invoices", "create", "--customer", "1", "--service", "1", "--amount",
			   "99,90", "--due", "2027-02-31", NULL),
		     1);
	HAS("due_date");
	cr_assert_eq(ospay("invoices", "cancel", "1", NULL), 0, "%s", out);
	HAS("INVOICE_STATUS_CANCELED");
	cr_assert_eq(ospay("invoices", "get", "2", NULL), 0, "%s", out);
	HAS("INVOICE_STATUS_OPEN");
	cr_assert_eq(ospay("invoices", "list", "--status", "open", NULL), 0, "%s", out);
	HAS("2027-01-10");
	HAS("R$ 99,90");
	HASNT("2026-12-10");
	cr_assert_eq(ospay("invoices", "list", "--from", "2026-12-01", "--to", "2026-12-31", NULL),
		     0, "%s", out);
	HAS("2026-12-10");
	HASNT("2027-01-10");
}

Test(cli_billing, billing_run_and_charges_list)
{
	set_gateway(true);
	cr_assert_eq(ospay("customers", "create", "--unit", "1", "--name", "Maria Souza",
			   "--document", "529.982.247-25", "--street", "Rua Augusta", "--city",
			   "São Paulo", "--state", "SP", "--cep", "01305-000", NULL),
		     0, "%s", out);
	cr_assert_eq(ospay("customers", "add-service", "1", "--plan", "Fibra", "--amount", "99,90",
			   "--recurring", "on", NULL),
		     0, "%s", out);
	cr_assert_eq(ospay_in("4111 1111 1111 1111\n123\n", "cards", "add", "--customer", "1",
			      "--holder", "MARIA SOUZA", "--expiry", "12/2030", NULL),
		     0, "%s", out);
	cr_assert_eq(ospay("invoices", "create", "--customer", "1", "--service", "1", "--amount",
			   "99,90", "--due", "2026-12-01", NULL),
		     0, "%s", out);
	cr_assert_eq(ospay("billing", "run", NULL), 0, "%s", out);
	HAS("approved");
	cr_assert_eq(ospay("charges", "list", "--recurring", NULL), 0, "%s", out);
	HAS("visa ****1111");
	HAS("approved");
	HAS("2026-12-01");
	HAS("R$ 99,90");
	cr_assert_eq(ospay("charges", "list", "--non-recurring", NULL), 0, "%s", out);
	HASNT("approved");
	cr_assert_eq(ospay("charges", "list", "--recurring", "--non-recurring", NULL), 2);
	cr_assert_eq(ospay("--json", "charges", "list", NULL), 0, "%s", out);
	HAS("CHARGE_STATUS_APPROVED");
	cr_assert_eq(ospay("invoices", "get", "1", NULL), 0, "%s", out);
	HAS("INVOICE_STATUS_PAID");
	/* An operator's charge: refused for the paid invoice, made for an open one. */
	cr_assert_eq(ospay("invoices", "charge", "1", NULL), 1);
	HAS("not OPEN");
	cr_assert_eq(ospay("invoices", "create", "--customer", "1", "--service", "1", "--amount",
			   "99,90", "--due", "2027-01-10", NULL),
		     0, "%s", out);
	cr_assert_eq(ospay("invoices", "charge", "2", "--card", "1", NULL), 0, "%s", out);
	HAS("CHARGE_STATUS_APPROVED");
	HAS("M1");
	cr_assert_eq(ospay("invoices", "charge", "2", "--card", "x", NULL), 2);
	cr_assert_eq(ospay("charges", "list", "--non-recurring", NULL), 0, "%s", out);
	HAS("approved");
	cr_assert_eq(ospay("invoices", "get", "2", NULL), 0, "%s", out);
	HAS("INVOICE_STATUS_PAID");
	cr_assert_eq(ospay("suspension-profile", "set", "--days", "5", NULL), 0, "%s", out);
	HAS("5");
	cr_assert_eq(ospay("suspension-profile", "set", "--days", "1", NULL), 1);
	HAS("days");
	cr_assert_eq(ospay("suspension-profile", "set", NULL), 2);
}
