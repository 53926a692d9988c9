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

Test(holder, cielo_folds_accents_and_case)
{
	char out[CARD_HOLDER_SIZE];
	cr_assert_null(card_holder_for_gateway("  José  da Conceição ", CIELO, out));
	cr_assert_str_eq(out, "JOSE DA CONCEICAO");
	cr_assert_null(card_holder_for_gateway("Ana O'Neil-Souza Jr.", CIELO, out));
	cr_assert_str_eq(out, "ANA O'NEIL-SOUZA JR.");
	/* Decomposed input folds like composed input. */
	cr_assert_null(card_holder_for_gateway("Joa\xcc\x83o", CIELO, out));
	cr_assert_str_eq(out, "JOAO");
}

Test(holder, cielo_limit_is_25_after_folding)
{
	char out[CARD_HOLDER_SIZE];
	/* 25 characters: taken; the 26-character name of the issue: refused. */
	cr_assert_null(card_holder_for_gateway("MARIA APARECIDA DOS SANTO", CIELO, out));
	cr_assert_eq(strlen(out), 25);
	cr_assert_not_null(card_holder_for_gateway("MARIA APARECIDA DOS SANTOS", CIELO, out));
	cr_assert_str_eq(out, "");
	/* Accented letters count once folded: 25 letters with 5 two-byte accents fit. */
	cr_assert_null(card_holder_for_gateway("ÁÉÍÓÚ ÁÉÍÓÚ ÁÉÍÓÚ ÁÉÍÓÚ A", CIELO, out));
	cr_assert_str_eq(out, "AEIOU AEIOU AEIOU AEIOU A");
	/* Inner runs of spaces collapse before counting. */
	cr_assert_null(card_holder_for_gateway("MARIA     APARECIDA   DOS SANTO", CIELO, out));
	cr_assert_str_eq(out, "MARIA APARECIDA DOS SANTO");
}

Test(holder, cielo_refuses_what_it_cannot_take)
{
	char out[CARD_HOLDER_SIZE];
	const char *why = card_holder_for_gateway("李小龍", CIELO, out);
	cr_assert_not_null(why);
	cr_assert_null(strstr(why, "李"));
	cr_assert_not_null(card_holder_for_gateway("MARIA @ HOME", CIELO, out));
	cr_assert_not_null(card_holder_for_gateway("   ", CIELO, out));
	cr_assert_not_null(card_holder_for_gateway("", CIELO, out));
	cr_assert_not_null(card_holder_for_gateway("MARIA\x01", CIELO, out));
}

Test(holder, getnet_takes_the_name_as_typed)
{
	char out[CARD_HOLDER_SIZE];
	cr_assert_null(card_holder_for_gateway(" José da Conceição ", GETNET, out));
	cr_assert_str_eq(out, "José da Conceição");
	cr_assert_null(card_holder_for_gateway("MARIA APARECIDA DOS SANTOS", GETNET, out));
	cr_assert_str_eq(out, "MARIA APARECIDA DOS SANTOS");
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
