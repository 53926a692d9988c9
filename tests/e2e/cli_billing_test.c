/*
 * ospay payment-methods, cards, invoices, charges and billing run as processes against a real
 * ospayd and ospay-sandbox (Cielo): the card number and security code come
 * from standard input, never argv, and never come back out.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ospay/v1/gateway.pb-c.h"
#include "support/domain.h"
#include "support/gateways.h"
#include "support/proc.h"
#include "support/suite.h"

static tsp_sandbox_t sbx;
static void after_up(void);
TSP_E2E_SUITE_THEN(cli_billing, adm, &sbx, "2026-12-01T12:00:00Z", 60, after_up);

static char out[65536];

/* Cielo at the sandbox; automatic: the billing run may charge through it. */
static void set_gateway(bool automatic)
{
	tsg_set_cielo(adm, &sbx, "cli", automatic);
}

static void after_up(void)
{
	tsg_register_cielo(&sbx, srv.org_id, "cli");
	set_gateway(false);
}

/* Runs ospay with the arguments (NULL-terminated) and stdin_text on standard input. */
#define ospay_in(stdin_text, ...) tso_cli(&srv, stdin_text, out, sizeof(out), __VA_ARGS__)
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
	HAS("canceled");
	HASNT("INVOICE_STATUS_");
	cr_assert_eq(ospay("invoices", "get", "2", NULL), 0, "%s", out);
	HAS("open");
	HAS("R$ 99,90");
	HASNT("INVOICE_STATUS_");
	HASNT("9990");
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
	HAS("paid");
	HASNT("INVOICE_STATUS_");
	HASNT("_ms");
	/* An operator's charge: refused for the paid invoice, made for an open one. */
	cr_assert_eq(ospay("invoices", "charge", "1", NULL), 1);
	HAS("not OPEN");
	cr_assert_eq(ospay("invoices", "create", "--customer", "1", "--service", "1", "--amount",
			   "99,90", "--due", "2027-01-10", NULL),
		     0, "%s", out);
	cr_assert_eq(ospay("invoices", "charge", "2", "--card", "1", NULL), 0, "%s", out);
	HAS("approved");
	HASNT("CHARGE_STATUS_");
	HASNT("CARD_BRAND_");
	HAS("M1");
	cr_assert_eq(ospay("invoices", "charge", "2", "--card", "x", NULL), 2);
	cr_assert_eq(ospay("charges", "list", "--non-recurring", NULL), 0, "%s", out);
	HAS("approved");
	cr_assert_eq(ospay("invoices", "get", "2", NULL), 0, "%s", out);
	HAS("paid");
	cr_assert_eq(ospay("suspension-profile", "set", "--days", "5", NULL), 0, "%s", out);
	HAS("5");
	cr_assert_eq(ospay("suspension-profile", "set", "--days", "1", NULL), 1);
	HAS("days");
	cr_assert_eq(ospay("suspension-profile", "set", NULL), 2);
}
