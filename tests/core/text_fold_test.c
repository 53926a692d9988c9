#include <criterion/criterion.h>

#include "core/text.h"

Test(text_fold, portuguese_accents_and_case)
{
	cr_assert_eq(text_cmp_folded("São Paulo", "SAO PAULO"), 0);
	cr_assert_eq(text_cmp_folded("São Paulo", "sao paulo"), 0);
	cr_assert_eq(text_cmp_folded("SÃO PAULO", "são paulo"), 0);
	cr_assert_eq(text_cmp_folded("Florianópolis", "FLORIANOPOLIS"), 0);
	cr_assert_eq(text_cmp_folded("Goiânia", "goiania"), 0);
	cr_assert_eq(text_cmp_folded("Maceió", "MACEIO"), 0);
	cr_assert_eq(text_cmp_folded("Jundiaí", "JUNDIAÍ"), 0);
	cr_assert_eq(text_cmp_folded("Embu-Guaçu", "EMBU-GUACU"), 0);
	cr_assert_eq(text_cmp_folded("Açaí à Ê è Ö ü Ü Ç", "acai a e e o u u c"), 0);
	cr_assert_eq(text_cmp_folded("ÁÀÂÃÄÉÊÈÍÓÔÕÖÚÜÇ", "aaaaaeeeioooouuc"), 0);
	cr_assert_eq(text_cmp_folded("áàâãäéêèíóôõöúüç", "AAAAAEEEIOOOOUUC"), 0);
}

Test(text_fold, spaces)
{
	cr_assert_eq(text_cmp_folded("  São   Paulo ", "sao paulo"), 0);
	cr_assert_eq(text_cmp_folded("São\tPaulo", "sao paulo"), 0);
	cr_assert_neq(text_cmp_folded("SaoPaulo", "sao paulo"), 0);
	cr_assert_eq(text_cmp_folded("", "   "), 0);
}

Test(text_fold, different_names_differ)
{
	cr_assert_neq(text_cmp_folded("São Paulo", "São Paulo de Olivença"), 0);
	cr_assert_neq(text_cmp_folded("Santo André", "Santo Amaro"), 0);
	cr_assert_neq(text_cmp_folded("ß", "ss"), 0);
	cr_assert_lt(text_cmp_folded("abc", "abd"), 0);
	cr_assert_gt(text_cmp_folded("Ábd", "abc"), 0);
	/* Invalid UTF-8 compares byte by byte, never equal to a valid letter. */
	cr_assert_neq(text_cmp_folded("S\xc3", "Sa"), 0);
	cr_assert_eq(text_cmp_folded("S\xc3", "s\xc3"), 0);
}
