/*
 * Every CLI command's human form, run against a real ospayd and ospay-sandbox:
 * words people read, not the wire. No output may carry a proto enum name
 * (CARD_BRAND_VISA), a field name with "_ms" or "_id", or an amount in
 * centavos where R$ is meant; --json keeps the wire names for scripts.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "support/domain.h"
#include "support/enums.h"
#include "support/gateways.h"
#include "support/proc.h"

static tsp_server_t srv;
static tsp_sandbox_t sbx;
static int adm;
static char out[65536];

static void setup(void)
{
	adm = tsp_env_up(&srv, &sbx, "2026-12-01T12:00:00Z", NULL);
	tsg_register_cielo(&sbx, srv.org_id, "words");
	tsg_set_cielo(adm, &sbx, "words", true);
}

static void teardown(void)
{
	tsp_env_down(&srv, &sbx, adm);
}

TestSuite(cli_words, .init = setup, .fini = teardown, .timeout = 120);

#define MAX_ARGS 20

typedef struct step {
	const char *stdin_text;
	const char *args[MAX_ARGS];
	const char *want; /* a piece of the human output (NULL: none checked) */
} step_t;

/* Runs one step (exit 0 asserted) and checks the output reads as words. */
static void run(const step_t *s, const regex_t *raw)
{
	const char *a[MAX_ARGS + 1] = {NULL};
	size_t n = 0;
	while (n < MAX_ARGS && s->args[n] != NULL) {
		a[n] = s->args[n];
		n++;
	}
	int rc = tso_cli(&srv, s->stdin_text, out, sizeof(out), a[0], a[1], a[2], a[3], a[4], a[5],
			 a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16],
			 a[17], a[18], a[19], NULL);
	cr_assert_eq(rc, 0, "ospay %s %s: exit %d\n%s", a[0], a[1] ? a[1] : "", rc, out);
	/* A token's secret is random base64url, not words ("..VU_YK.." or "_ms" can be in
	 * it): masked before the checks. */
	for (char *t = strstr(out, "ospt_"); t != NULL; t = strstr(t, "ospt_"))
		for (t += 5; isalnum((unsigned char)*t) || *t == '_' || *t == '-'; t++)
			*t = 'x';
	regmatch_t m;
	if (regexec(raw, out, 1, &m, 0) == 0)
		cr_assert_fail("ospay %s %s prints \"%.*s\":\n%s", a[0], a[1] ? a[1] : "",
			       (int)(m.rm_eo - m.rm_so), out + m.rm_so, out);
	cr_assert(strstr(out, "_ms") == NULL, "ospay %s %s prints a *_ms name:\n%s", a[0],
		  a[1] ? a[1] : "", out);
	if (s->want != NULL)
		cr_assert(strstr(out, s->want) != NULL, "ospay %s %s: missing \"%s\" in:\n%s", a[0],
			  a[1] ? a[1] : "", s->want, out);
}

Test(cli_words, every_command_prints_for_people)
{
	/* An enum value name (two or more upper-case words joined by '_'), or a lower-case
	 * field name ending in _id. */
	regex_t raw;
	cr_assert_eq(regcomp(&raw, "[A-Z]{2,}_[A-Z_]{2,}|[a-z]+_id\\b", REG_EXTENDED), 0);
	const step_t steps[] = {
		{NULL, {"whoami"}, NULL},
		{NULL, {"units", "list"}, NULL},
		{NULL, {"units", "create", "Zona Sul"}, "Zona Sul"},
		{NULL,
		 {"tokens", "create", "--name", "app", "--role", "operator", "--org-wide"},
		 "operator"},
		{NULL, {"technicians", "create", "--unit", "1", "--name", "João"}, "João"},
		{NULL, {"technicians", "list"}, "João"},
		{NULL,
		 {"customers",  "create",
		  "--unit",     "1",
		  "--name",     "Ana Lima",
		  "--document", "529.982.247-25",
		  "--phone",    "+5511987654321",
		  "--street",   "Rua Augusta",
		  "--number",   "100",
		  "--city",     "São Paulo",
		  "--state",    "SP",
		  "--cep",      "01305-000"},
		 "Ana Lima"},
		{NULL, {"customers", "get", "1"}, "address city"},
		{NULL, {"customers", "list"}, "Ana Lima"},
		{NULL,
		 {"customers", "update", "1", "--email", "ana@example.com"},
		 "ana@example.com"},
		{NULL,
		 {"customers", "add-service", "1", "--plan", "Fibra 500", "--amount", "99,90",
		  "--recurring", "on"},
		 "R$ 99,90"},
		{NULL, {"customers", "services", "1"}, "Fibra 500"},
		{NULL,
		 {"agendas", "create", "--unit", "1", "--name", "Instalações", "--slot", "60",
		  "--window", "mon,08:00-12:00,2", "--city", "São Paulo/SP"},
		 "Monday 08:00-12:00"},
		{NULL, {"agendas", "get", "1"}, "Instalações"},
		{NULL, {"agendas", "list"}, "Instalações"},
		{NULL, {"agendas", "update", "1", "--daily-max", "5"}, "5"},
		{NULL,
		 {"agendas", "availability", "1", "--from", "2026-12-07", "--days", "2"},
		 "08:00-12:00"},
		{NULL,
		 {"closures", "add", "--date", "2026-12-24", "--reason", "Véspera de Natal"},
		 "every agenda"},
		{NULL,
		 {"closures", "list", "--from", "2026-12-01", "--to", "2026-12-31"},
		 "Véspera de Natal"},
		{NULL,
		 {"orders", "create", "--customer", "1", "--kind", "INSTALAÇÃO FIBRA", "--agenda",
		  "1", "--technician", "1", "--start", "2026-12-07 08:00", "--amount", "150,00",
		  "--service", "1"},
		 "Fibra 500 (service 1)"},
		{NULL,
		 {"orders", "create", "--customer", "1", "--kind", "REPARO", "--agenda", "1"},
		 "awaiting-scheduling"},
		{NULL, {"orders", "reschedule", "2", "--start", "2026-12-07 09:00"}, "scheduled"},
		{NULL, {"orders", "update", "1", "--description", "trocar ONU"}, "trocar ONU"},
		{NULL, {"orders", "note", "1", "--text", "portão azul"}, "portão azul"},
		{NULL, {"orders", "list"}, "R$ 150,00"},
		{NULL,
		 {"calendar", "--by", "technician", "--from", "2026-12-07", "--to", "2026-12-07"},
		 "João"},
		{NULL,
		 {"closing-reasons", "create", "--name", "Cliente ausente", "--outcome",
		  "not-concluded"},
		 "not-concluded"},
		{NULL, {"closing-reasons", "list"}, "Cliente ausente"},
		{NULL, {"orders", "finalize", "1", "--method", "pix"}, "concluded"},
		{NULL, {"orders", "get", "1"}, "paid"},
		{NULL, {"orders", "cancel", "2", "--reason", "desistiu"}, "canceled"},
		{NULL, {"payment-methods", "create", "--name", "Pix", "--type", "pix"}, "pix"},
		{NULL, {"payment-methods", "list"}, "Pix"},
		{"4111 1111 1111 1111\n123\n",
		 {"cards", "add", "--customer", "1", "--holder", "ANA LIMA", "--expiry", "12/2030"},
		 "visa"},
		{NULL, {"cards", "list", "--customer", "1"}, "1111"},
		{NULL, {"cards", "set-default", "1"}, NULL},
		{NULL,
		 {"invoices", "create", "--customer", "1", "--service", "1", "--amount", "99,90",
		  "--due", "2026-12-01"},
		 "R$ 99,90"},
		{NULL, {"invoices", "get", "1"}, "open"},
		{NULL, {"invoices", "list"}, "R$ 99,90"},
		{NULL, {"billing", "run"}, NULL},
		{NULL, {"charges", "list", "--recurring"}, "approved"},
		{NULL,
		 {"invoices", "create", "--customer", "1", "--service", "1", "--amount", "99,90",
		  "--due", "2027-01-10"},
		 NULL},
		{NULL, {"invoices", "charge", "2", "--card", "1"}, "approved"},
		{NULL,
		 {"invoices", "create", "--customer", "1", "--service", "1", "--amount", "10,00",
		  "--due", "2027-02-10"},
		 NULL},
		{NULL, {"invoices", "cancel", "3"}, "canceled"},
		{NULL, {"suspension-profile", "set", "--days", "5"}, "5"},
		{NULL, {"installments", "list"}, NULL},
		{NULL, {"report", "recurring-credit", "--period", "this-month"}, "total"},
		{NULL, {"gateways", "get", "cielo"}, NULL},
		{NULL, {"clock", "now"}, NULL},
		{NULL, {"clock", "advance", "1h"}, NULL},
		{NULL, {"ping"}, NULL},
		{NULL, {"customers", "update-service", "1", "--plan", "Fibra 600"}, "Fibra 600"},
		{NULL, {"closures", "national-holidays", "closed"}, "closed days"},
		{NULL, {"closures", "remove", "1"}, "open again"},
		{NULL,
		 {"agendas", "create", "--unit", "1", "--name", "Reparos", "--slot", "30",
		  "--window", "sat,08:00-12:00,1"},
		 "Saturday"},
		{NULL, {"agendas", "delete", "2"}, "agenda 2 deleted"},
		{NULL, {"tokens", "revoke", "2"}, NULL},
		{NULL, {"cards", "remove", "1"}, "removed"},
	};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		run(&steps[i], &raw);

	/* The commands whose steps need the sandbox's address or a payment link. */
	char cielo_url[160], zapme_url[160], pms[24];
	snprintf(cielo_url, sizeof(cielo_url), "%s/cielo", sbx.base);
	snprintf(zapme_url, sizeof(zapme_url), "%s/zapme", sbx.base);
	tsg_pagolivre(adm, &sbx, srv.org_id, "pl-words");
	uint64_t pm =
		tso_payment_method(adm, "Crédito recorrente", T(RECURRING_CREDIT), M(INTEGRATED));
	snprintf(pms, sizeof(pms), "%llu", (unsigned long long)pm);
	const step_t more[] = {
		{"{\"merchant_id\": \"mid-words\", \"merchant_key\": \"mkey-words\", "
		 "\"webhook_headers\": {\"X-Cielo-Hook\": \"hook-words\"}}",
		 {"gateways", "set", "cielo", "--base-url", cielo_url, "--credentials", "-",
		  "--allow-automatic-recurrence"},
		 NULL},
		{"{\"api_key\": \"k-words\", \"api_secret\": \"s-words\", "
		 "\"webhook_headers\": {\"X-ZapMe-Secret\": \"z-words\"}}",
		 {"notifier", "set", "--base-url", zapme_url, "--channel", "whatsapp",
		  "--credentials", "-"},
		 NULL},
		{NULL,
		 {"orders", "create", "--customer", "1", "--kind", "REPARO", "--agenda", "1",
		  "--technician", "1", "--start", "2026-12-14 08:00", "--amount", "80,00"},
		 "R$ 80,00"},
		{NULL,
		 {"orders", "finalize", "3", "--payment-method", pms, "--installments", "2"},
		 "pending"},
		{NULL, {"orders", "refresh-payment", "3"}, "pending"},
		{NULL, {"orders", "cancel-payment", "3", "--reason", "desistiu"}, "canceled"},
	};
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++)
		run(&more[i], &raw);
	/* Scripts keep the wire's names. */
	cr_assert_eq(tso_cli(&srv, NULL, out, sizeof(out), "--json", "invoices", "get", "1", NULL),
		     0, "%s", out);
	cr_assert(strstr(out, "INVOICE_STATUS_PAID") != NULL, "%s", out);
	cr_assert(strstr(out, "\"amount\": 9990") != NULL, "%s", out);
	regfree(&raw);
}
