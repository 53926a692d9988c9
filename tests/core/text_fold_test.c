#include <criterion/criterion.h>
#include <string.h>

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
	cr_assert_lt(text_cmp_folded("abc", "abd"), 0);
	cr_assert_gt(text_cmp_folded("Ábd", "abc"), 0);
	/* Invalid UTF-8 compares byte by byte, never equal to a valid letter. */
	cr_assert_neq(text_cmp_folded("S\xc3", "Sa"), 0);
	cr_assert_eq(text_cmp_folded("S\xc3", "s\xc3"), 0);
}

/* docs/spec.md 10.2: a letter followed by a combining mark is the precomposed letter. */
Test(text_fold, decomposed_equals_composed)
{
	/* "Sa" U+0303 "o Paulo" and "Foz do Iguac" U+0327 "u", as some keyboards send them. */
	cr_assert_eq(text_cmp_folded("Sa\xcc\x83o Paulo", "São Paulo"), 0);
	cr_assert_eq(text_cmp_folded("Sa\xcc\x83o Paulo", "SAO PAULO"), 0);
	cr_assert_eq(text_cmp_folded("SA\xcc\x83O PAULO", "são paulo"), 0);
	cr_assert_eq(text_cmp_folded("Foz do Iguac\xcc\xa7u", "Foz do Iguaçu"), 0);
	cr_assert_eq(text_cmp_folded("FOZ DO IGUAC\xcc\xa7U", "foz do iguacu"), 0);
	cr_assert_eq(text_cmp_folded("Foz do Iguac\xcc\xa7u", "FOZ DO IGUAÇU"), 0);
	/* Upper-case letters with the mark after them, and two marks on one letter. */
	cr_assert_eq(text_cmp_folded("GOIA\xcc\x82NIA", "Goiânia"), 0);
	cr_assert_eq(text_cmp_folded("MACEIO\xcc\x81", "maceió"), 0);
	cr_assert_eq(text_cmp_folded("E\xcc\x82\xcc\x81", "ế"), 0);
	cr_assert_eq(text_cmp_folded("ế", "e"), 0);
	/* Both sides decomposed, and a mark alone is nothing. */
	cr_assert_eq(text_cmp_folded("Sa\xcc\x83o", "SA\xcc\x83O"), 0);
	cr_assert_eq(text_cmp_folded("\xcc\x83", ""), 0);
}

Test(text_fold, decomposed_cities_still_differ)
{
	cr_assert_neq(text_cmp_folded("Sa\xcc\x83o Paulo", "Santo André"), 0);
	cr_assert_neq(text_cmp_folded("Sa\xcc\x83o Paulo", "São Paulo de Olivença"), 0);
	cr_assert_neq(text_cmp_folded("Foz do Iguac\xcc\xa7u", "Embu-Guaçu"), 0);
	cr_assert_neq(text_cmp_folded("Foz do Iguac\xcc\xa7u", "Foz do Iguaçu Mirim"), 0);
	cr_assert_lt(text_cmp_folded("Sa\xcc\x83o", "Sb"), 0);
	cr_assert_gt(text_cmp_folded("Sb", "Sa\xcc\x83o"), 0);
}

/* Capitals beyond Latin-1 and full case folding. */
Test(text_fold, case_folding_beyond_latin1)
{
	cr_assert_eq(text_cmp_folded("ŁÓDŹ", "łódź"), 0);
	cr_assert_eq(text_cmp_folded("ŒUVRE", "œuvre"), 0);
	cr_assert_eq(text_cmp_folded("ΑΘΗΝΑ", "αθηνα"), 0);
	cr_assert_eq(text_cmp_folded("Ÿ", "y"), 0);
	cr_assert_eq(text_cmp_folded("Straße", "STRASSE"), 0);
	cr_assert_eq(text_cmp_folded("ß", "ss"), 0);
	cr_assert_eq(text_cmp_folded("ẞ", "ss"), 0);
}

/* Compatibility forms: ligatures, full-width letters, ordinal indicators, NBSP. */
Test(text_fold, compatibility_forms)
{
	cr_assert_eq(text_cmp_folded("Ｓãｏ Ｐａｕｌｏ", "sao paulo"), 0);
	cr_assert_eq(text_cmp_folded("\xef\xac\x81nal", "final"), 0); /* U+FB01 fi */
	cr_assert_eq(text_cmp_folded("1º de Maio", "1o de maio"), 0);
	cr_assert_eq(text_cmp_folded("São\xc2\xa0Paulo", "sao paulo"), 0);     /* NBSP */
	cr_assert_eq(text_cmp_folded("São\xe2\x80\x83Paulo", "sao paulo"), 0); /* em space */
	cr_assert_eq(text_cmp_folded("\xe3\x80\x80São Paulo\xc2\xa0", "sao paulo"), 0);
}

/* Phone keyboards: typographic apostrophes and dashes, invisible characters. */
Test(text_fold, apostrophes_dashes_and_invisible_characters)
{
	cr_assert_eq(text_cmp_folded("Santa Bárbara d’Oeste", "santa barbara d'oeste"), 0);
	cr_assert_eq(text_cmp_folded("Embu–Guaçu", "embu-guacu"), 0);           /* en dash */
	cr_assert_eq(text_cmp_folded("São\xe2\x80\x8b Paulo", "sao paulo"), 0); /* ZWSP */
	cr_assert_eq(text_cmp_folded("Gua\xc2\xadru\xc2\xadlhos", "guarulhos"),
		     0); /* soft hyphen */
	cr_assert_eq(text_cmp_folded("\xef\xbb\xbf"
				     "Campinas",
				     "campinas"),
		     0); /* BOM */
	cr_assert_neq(text_cmp_folded("Embu-Guaçu", "Embu Guaçu"), 0);
}

/* What matched with the Latin-1 tables before utf8proc still matches. */
Test(text_fold, latin1_pairs_of_before_still_match)
{
	cr_assert_eq(text_cmp_folded("ÆÐÞ", "æðþ"), 0);
	cr_assert_eq(text_cmp_folded("Ø", "o"), 0);
	cr_assert_eq(text_cmp_folded("ø", "O"), 0);
	cr_assert_eq(text_cmp_folded("Ýÿý", "yyy"), 0);
	cr_assert_eq(text_cmp_folded("Ññ", "nn"), 0);
	cr_assert_neq(text_cmp_folded("×", "x"), 0);
	cr_assert_neq(text_cmp_folded("÷", "/"), 0);
}

/* Bytes that are not UTF-8 never crash, never read past the end, never equal a letter. */
Test(text_fold, invalid_utf8)
{
	cr_assert_neq(text_cmp_folded("S\xc3o Paulo", "So Paulo"), 0);
	cr_assert_neq(text_cmp_folded("S\xc3o Paulo", "São Paulo"), 0);
	cr_assert_eq(text_cmp_folded("S\xc3o Paulo", "s\xc3o paulo"), 0);
	/* A lone continuation byte, a truncated sequence at the end, an overlong "/",
	 * a UTF-8-encoded surrogate, a code point above U+10FFFF, 0xFF. */
	cr_assert_neq(text_cmp_folded("\x83", ""), 0);
	cr_assert_neq(text_cmp_folded("a\xcc", "a"), 0);
	cr_assert_neq(text_cmp_folded("\xc0\xaf", "/"), 0);
	cr_assert_neq(text_cmp_folded("\xed\xa0\x80", ""), 0);
	cr_assert_neq(text_cmp_folded("\xf4\x90\x80\x80", ""), 0);
	cr_assert_neq(text_cmp_folded("\xff", "\xfe"), 0);
	cr_assert_eq(text_cmp_folded("\xff", "\xff"), 0);
	/* Invalid bytes sort after every valid character. */
	cr_assert_gt(text_cmp_folded("\x80", "\xf4\x8f\xbf\xbf"), 0);
	cr_assert_lt(text_cmp_folded("z", "\xc3"), 0);
	/* A mark after an invalid byte is still a mark, and is stripped. */
	cr_assert_eq(text_cmp_folded("\xc3\xcc\x83", "\xc3"), 0);
}

Test(text_fold, empty_strings)
{
	cr_assert_eq(text_cmp_folded("", ""), 0);
	cr_assert_eq(text_cmp_folded("", " \t "), 0);
	cr_assert_lt(text_cmp_folded("", "a"), 0);
	cr_assert_gt(text_cmp_folded("a", ""), 0);
	/* Nothing but marks and invisible characters folds to nothing. */
	cr_assert_eq(text_cmp_folded("\xcc\x81\xe2\x80\x8b", ""), 0);
}

/* Long names: no buffer holds the whole string, so any length compares. */
Test(text_fold, long_strings)
{
	enum { REPS = 20000, CAP = REPS * 16 + 1 };
	static const char c_part[] = "São Paulo ", d_part[] = "SA\xcc\x83O  PAULO ";
	static char composed[CAP], decomposed[CAP], other[CAP];
	size_t a = 0, b = 0;
	for (int i = 0; i < REPS; i++) {
		memcpy(composed + a, c_part, strlen(c_part));
		a += strlen(c_part);
		memcpy(decomposed + b, d_part, strlen(d_part));
		b += strlen(d_part);
	}
	composed[a] = decomposed[b] = '\0';
	cr_assert_eq(text_cmp_folded(composed, decomposed), 0);
	memcpy(other, composed, a + 1);
	other[a - 4] = 'x'; /* the last "Paulo " becomes "Paxlo " */
	cr_assert_neq(text_cmp_folded(composed, other), 0);
	cr_assert_neq(text_cmp_folded(decomposed, other), 0);
	/* One character whose fold is long (U+FDFA, 18 code points), many times. */
	static char fdfa[3000 * 3 + 1];
	for (int i = 0; i < 3000; i++)
		memcpy(fdfa + 3 * i, "\xef\xb7\xba", 3);
	fdfa[sizeof(fdfa) - 1] = '\0';
	cr_assert_eq(text_cmp_folded(fdfa, fdfa), 0);
	cr_assert_neq(text_cmp_folded(fdfa, "\xef\xb7\xba"), 0);
}
