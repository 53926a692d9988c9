/*
 * The Pix authorization commands for people (as tests/e2e/cli_words_test.c
 * checks every other command): ospay services pix-authorize, pix-refresh,
 * pix-cancel and list with its filters, against a real ospayd and the
 * sandbox's PSP. No enum name, no *_id or *_ms field name, amounts in R$; the
 * copia-e-cola shown; usage errors before anything is sent.
 */
#include <criterion/criterion.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "support/domain.h"
#include "support/pix.h"
#include "support/proc.h"

static tsp_pix_t P;
static char out[65536];

static void setup(void)
{
	/* After the wall clock: ospayd checks the generated identities on its own clock. */
	tsp_pix_up(&P, "2027-01-04T12:00:00Z", NULL);
	json_decref(tsp_pix_control(&P, "POST", "/control/pix/settle", "{\"date\":\"2027-01-04\"}",
				    200));
}

static void teardown(void)
{
	tsp_pix_down(&P);
}

TestSuite(cli_pix, .init = setup, .fini = teardown, .timeout = 120);

/* Runs the CLI (exit 0 asserted), checks the output reads as words and holds want. */
#define WORDS(want, ...)                                                                           \
	do {                                                                                       \
		int rc_ = tso_cli(&P.srv, NULL, out, sizeof(out), __VA_ARGS__, NULL);              \
		cr_assert_eq(rc_, 0, "exit %d\n%s", rc_, out);                                     \
		regmatch_t m_;                                                                     \
		if (regexec(&raw, out, 1, &m_, 0) == 0)                                            \
			cr_assert_fail("prints \"%.*s\":\n%s", (int)(m_.rm_eo - m_.rm_so),         \
				       out + m_.rm_so, out);                                       \
		cr_assert(strstr(out, "_ms") == NULL, "a *_ms name:\n%s", out);                    \
		cr_assert(strstr(out, want) != NULL, "missing \"%s\" in:\n%s", want, out);         \
	} while (0)

Test(cli_pix, authorize_refresh_list_cancel_for_people)
{
	regex_t raw;
	cr_assert_eq(regcomp(&raw, "[A-Z]{2,}_[A-Z_]{2,}|[a-z]+_id\\b", REG_EXTENDED), 0);
	uint64_t c = tso_customer(P.fd, 1, 1, "São Paulo");
	uint64_t svc = tso_service(P.fd, c, true);
	char id[24];
	snprintf(id, sizeof(id), "%llu", (unsigned long long)svc);

	WORDS("br.gov.bcb", "services", "pix-authorize", id, "--no-send", "--switch", "--max",
	      "150,00");
	cr_assert(strstr(out, "created") != NULL, "the state in words:\n%s", out);
	cr_assert(strstr(out, "R$ 150,00") != NULL, "the payer's maximum in R$:\n%s", out);
	WORDS("created", "services", "list");
	WORDS("br.gov.bcb", "services", "list", "--pix-state", "created", "--rail", "card");
	WORDS("created", "services", "pix-refresh", id);
	WORDS("canceled-by-receiver", "services", "pix-cancel", id);
	WORDS("canceled-by-receiver", "services", "list", "--customer", "1");
	WORDS("card", "customers", "update-service", id, "--recurring", "on", "--rail", "card");
	regfree(&raw);
	/* The Pix rail needs an accepted authorization: the server's words. */
	cr_assert_eq(tso_cli(&P.srv, NULL, out, sizeof(out), "customers", "update-service", id,
			     "--recurring", "on", "--rail", "pix-automatico", NULL),
		     1, "%s", out);
	cr_assert(strstr(out, "needs an ACCEPTED") != NULL, "%s", out);
	cr_assert_eq(tso_cli(&P.srv, NULL, out, sizeof(out), "customers", "update-service", id,
			     "--rail", "card", NULL),
		     2, "%s", out);

	/* Usage errors: nothing sent, exit 2. */
	cr_assert_eq(tso_cli(&P.srv, NULL, out, sizeof(out), "services", "pix-authorize", id,
			     "--journey", "boleto", NULL),
		     2, "%s", out);
	cr_assert(strstr(out, "--journey is qr, qr-payment or invoice") != NULL, "%s", out);
	cr_assert_eq(tso_cli(&P.srv, NULL, out, sizeof(out), "services", "list", "--rail", "boleto",
			     NULL),
		     2, "%s", out);
	/* The server's refusal in words: a journey 3 without its invoice. */
	cr_assert_eq(tso_cli(&P.srv, NULL, out, sizeof(out), "services", "pix-authorize", id,
			     "--journey", "qr-payment", NULL),
		     1, "%s", out);
	cr_assert(strstr(out, "invoice") != NULL, "%s", out);
}
