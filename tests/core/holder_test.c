/*
 * The cardholder name each gateway is sent (docs/cards.md, "Holder names"):
 * Cielo's 25 upper-case characters without accents, applied by folding and
 * refused, never cut, when the name does not fit.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "core/card.h"
#include "core/text.h"

#define CIELO 2
#define GETNET 3

/* A name as typed, and what the gateway is sent (NULL: the name is refused). */
struct holder_case {
	const char *in;
	const char *out;
};

static void check_holders(int gateway, const struct holder_case *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char out[CARD_HOLDER_SIZE];
		const char *why = card_holder_for_gateway(t[i].in, gateway, out);
		if (t[i].out == NULL) {
			cr_assert_not_null(why, "'%s' is refused", t[i].in);
			cr_assert_str_eq(out, "", "'%s' is refused, never cut", t[i].in);
		} else {
			cr_assert_null(why, "'%s': %s", t[i].in, why);
			cr_assert_str_eq(out, t[i].out, "'%s'", t[i].in);
		}
	}
}

Test(holder, cielo_folds_accents_and_case)
{
	static const struct holder_case t[] = {
		{"  José  da Conceição ", "JOSE DA CONCEICAO"},
		{"Ana O'Neil-Souza Jr.", "ANA O'NEIL-SOUZA JR."},
		/* Decomposed input folds like composed input. */
		{"Joa\xcc\x83o", "JOAO"},
	};
	check_holders(CIELO, t, sizeof(t) / sizeof(t[0]));
}

Test(holder, cielo_limit_is_25_after_folding)
{
	static const struct holder_case t[] = {
		/* 25 characters: taken; the 26-character name of the issue: refused. */
		{"MARIA APARECIDA DOS SANTO", "MARIA APARECIDA DOS SANTO"},
		{"MARIA APARECIDA DOS SANTOS", NULL},
		/* Accented letters count once folded: 25 letters with 5 two-byte accents fit. */
		{"ÁÉÍÓÚ ÁÉÍÓÚ ÁÉÍÓÚ ÁÉÍÓÚ A", "AEIOU AEIOU AEIOU AEIOU A"},
		/* Inner runs of spaces collapse before counting. */
		{"MARIA     APARECIDA   DOS SANTO", "MARIA APARECIDA DOS SANTO"},
	};
	check_holders(CIELO, t, sizeof(t) / sizeof(t[0]));
}

Test(holder, cielo_refuses_what_it_cannot_take)
{
	char out[CARD_HOLDER_SIZE];
	const char *why = card_holder_for_gateway("李小龍", CIELO, out);
	cr_assert_not_null(why);
	cr_assert_null(strstr(why, "李"));
	static const struct holder_case t[] = {
		{"MARIA @ HOME", NULL},
		{"   ", NULL},
		{"", NULL},
		{"MARIA\x01", NULL},
	};
	check_holders(CIELO, t, sizeof(t) / sizeof(t[0]));
}

Test(holder, getnet_takes_the_name_as_typed)
{
	static const struct holder_case t[] = {
		{" José da Conceição ", "José da Conceição"},
		{"MARIA APARECIDA DOS SANTOS", "MARIA APARECIDA DOS SANTOS"},
	};
	check_holders(GETNET, t, sizeof(t) / sizeof(t[0]));
}

Test(holder, fold_upper_ascii_errors)
{
	char out[8];
	cr_assert_eq(text_fold_upper_ascii("abc", 3, out, sizeof(out)), 3);
	cr_assert_str_eq(out, "ABC");
	cr_assert_eq(text_fold_upper_ascii("abcd", 3, out, sizeof(out)), -E2BIG);
	cr_assert_eq(text_fold_upper_ascii("abcdefghij", 20, out, sizeof(out)), -E2BIG);
	cr_assert_eq(text_fold_upper_ascii("a€", 3, out, sizeof(out)), -EILSEQ);
	cr_assert_eq(text_fold_upper_ascii("S\xc3", 3, out, sizeof(out)), -EILSEQ);
	cr_assert_eq(text_fold_upper_ascii(" ", 3, out, sizeof(out)), -EINVAL);
	cr_assert_str_eq(out, "");
}
