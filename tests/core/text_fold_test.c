#include <criterion/criterion.h>
#include <stdbool.h>
#include <string.h>

#include "core/text.h"

/* One group of cases for each Test below. */
enum fold_group {
	ACCENTS,
	SPACES,
	DIFFERENT,
	DECOMPOSED,
	DECOMPOSED_DIFFER,
	BEYOND_LATIN1,
	COMPATIBILITY,
	PUNCTUATION,
	LATIN1,
	INVALID_UTF8,
	EMPTY,
};

/* What text_cmp_folded(a, b) must say: equal, not equal, a sorts first, b sorts first. */
enum fold_want { SAME, DIFF, BEFORE, AFTER };
static const char *const want_name[] = {"0", "not 0", "< 0", "> 0"};

typedef struct fold_case {
	enum fold_group group;
	const char *a, *b;
	enum fold_want want;
} fold_case_t;

static const fold_case_t cases[] = {
	{ACCENTS, "São Paulo", "SAO PAULO", SAME},
	{ACCENTS, "São Paulo", "sao paulo", SAME},
	{ACCENTS, "SÃO PAULO", "são paulo", SAME},
	{ACCENTS, "Florianópolis", "FLORIANOPOLIS", SAME},
	{ACCENTS, "Goiânia", "goiania", SAME},
	{ACCENTS, "Maceió", "MACEIO", SAME},
	{ACCENTS, "Jundiaí", "JUNDIAÍ", SAME},
	{ACCENTS, "Embu-Guaçu", "EMBU-GUACU", SAME},
	{ACCENTS, "Açaí à Ê è Ö ü Ü Ç", "acai a e e o u u c", SAME},
	{ACCENTS, "ÁÀÂÃÄÉÊÈÍÓÔÕÖÚÜÇ", "aaaaaeeeioooouuc", SAME},
	{ACCENTS, "áàâãäéêèíóôõöúüç", "AAAAAEEEIOOOOUUC", SAME},
	{SPACES, "  São   Paulo ", "sao paulo", SAME},
	{SPACES, "São\tPaulo", "sao paulo", SAME},
	{SPACES, "SaoPaulo", "sao paulo", DIFF},
	{SPACES, "", "   ", SAME},
	{DIFFERENT, "São Paulo", "São Paulo de Olivença", DIFF},
	{DIFFERENT, "Santo André", "Santo Amaro", DIFF},
	{DIFFERENT, "abc", "abd", BEFORE},
	{DIFFERENT, "Ábd", "abc", AFTER},
	/* Invalid UTF-8 compares byte by byte, never equal to a valid letter. */
	{DIFFERENT, "S\xc3", "Sa", DIFF},
	{DIFFERENT, "S\xc3", "s\xc3", SAME},
	/* docs/spec.md 10.2: a letter followed by a combining mark is the precomposed letter:
	 * "Sa" U+0303 "o Paulo" and "Foz do Iguac" U+0327 "u", as some keyboards send them. */
	{DECOMPOSED, "Sa\xcc\x83o Paulo", "São Paulo", SAME},
	{DECOMPOSED, "Sa\xcc\x83o Paulo", "SAO PAULO", SAME},
	{DECOMPOSED, "SA\xcc\x83O PAULO", "são paulo", SAME},
	{DECOMPOSED, "Foz do Iguac\xcc\xa7u", "Foz do Iguaçu", SAME},
	{DECOMPOSED, "FOZ DO IGUAC\xcc\xa7U", "foz do iguacu", SAME},
	{DECOMPOSED, "Foz do Iguac\xcc\xa7u", "FOZ DO IGUAÇU", SAME},
	/* Upper-case letters with the mark after them, and two marks on one letter. */
	{DECOMPOSED, "GOIA\xcc\x82NIA", "Goiânia", SAME},
	{DECOMPOSED, "MACEIO\xcc\x81", "maceió", SAME},
	{DECOMPOSED, "E\xcc\x82\xcc\x81", "ế", SAME},
	{DECOMPOSED, "ế", "e", SAME},
	/* Both sides decomposed, and a mark alone is nothing. */
	{DECOMPOSED, "Sa\xcc\x83o", "SA\xcc\x83O", SAME},
	{DECOMPOSED, "\xcc\x83", "", SAME},
	{DECOMPOSED_DIFFER, "Sa\xcc\x83o Paulo", "Santo André", DIFF},
	{DECOMPOSED_DIFFER, "Sa\xcc\x83o Paulo", "São Paulo de Olivença", DIFF},
	{DECOMPOSED_DIFFER, "Foz do Iguac\xcc\xa7u", "Embu-Guaçu", DIFF},
	{DECOMPOSED_DIFFER, "Foz do Iguac\xcc\xa7u", "Foz do Iguaçu Mirim", DIFF},
	{DECOMPOSED_DIFFER, "Sa\xcc\x83o", "Sb", BEFORE},
	{DECOMPOSED_DIFFER, "Sb", "Sa\xcc\x83o", AFTER},
	/* Capitals beyond Latin-1 and full case folding. */
	{BEYOND_LATIN1, "ŁÓDŹ", "łódź", SAME},
	{BEYOND_LATIN1, "ŒUVRE", "œuvre", SAME},
	{BEYOND_LATIN1, "ΑΘΗΝΑ", "αθηνα", SAME},
	{BEYOND_LATIN1, "Ÿ", "y", SAME},
	{BEYOND_LATIN1, "Straße", "STRASSE", SAME},
	{BEYOND_LATIN1, "ß", "ss", SAME},
	{BEYOND_LATIN1, "ẞ", "ss", SAME},
	/* Compatibility forms: ligatures, full-width letters, ordinal indicators, NBSP. */
	{COMPATIBILITY, "Ｓãｏ Ｐａｕｌｏ", "sao paulo", SAME},
	{COMPATIBILITY, "\xef\xac\x81nal", "final", SAME}, /* U+FB01 fi */
	{COMPATIBILITY, "1º de Maio", "1o de maio", SAME},
	{COMPATIBILITY, "São\xc2\xa0Paulo", "sao paulo", SAME},     /* NBSP */
	{COMPATIBILITY, "São\xe2\x80\x83Paulo", "sao paulo", SAME}, /* em space */
	{COMPATIBILITY, "\xe3\x80\x80São Paulo\xc2\xa0", "sao paulo", SAME},
	/* Phone keyboards: typographic apostrophes and dashes, invisible characters. */
	{PUNCTUATION, "Santa Bárbara d’Oeste", "santa barbara d'oeste", SAME},
	{PUNCTUATION, "Embu–Guaçu", "embu-guacu", SAME},               /* en dash */
	{PUNCTUATION, "São\xe2\x80\x8b Paulo", "sao paulo", SAME},     /* ZWSP */
	{PUNCTUATION, "Gua\xc2\xadru\xc2\xadlhos", "guarulhos", SAME}, /* soft hyphen */
	{PUNCTUATION, "\357\273\277Campinas", "campinas", SAME}, /* BOM (octal: C is a hex digit) */
	{PUNCTUATION, "Embu-Guaçu", "Embu Guaçu", DIFF},
	/* What matched with the Latin-1 tables before utf8proc still matches. */
	{LATIN1, "ÆÐÞ", "æðþ", SAME},
	{LATIN1, "Ø", "o", SAME},
	{LATIN1, "ø", "O", SAME},
	{LATIN1, "Ýÿý", "yyy", SAME},
	{LATIN1, "Ññ", "nn", SAME},
	{LATIN1, "×", "x", DIFF},
	{LATIN1, "÷", "/", DIFF},
	/* Bytes that are not UTF-8 never crash, never read past the end, never equal a letter. */
	{INVALID_UTF8, "S\xc3o Paulo", "So Paulo", DIFF},
	{INVALID_UTF8, "S\xc3o Paulo", "São Paulo", DIFF},
	{INVALID_UTF8, "S\xc3o Paulo", "s\xc3o paulo", SAME},
	/* A lone continuation byte, a truncated sequence at the end, an overlong "/",
	 * a UTF-8-encoded surrogate, a code point above U+10FFFF, 0xFF. */
	{INVALID_UTF8, "\x83", "", DIFF},
	{INVALID_UTF8, "a\xcc", "a", DIFF},
	{INVALID_UTF8, "\xc0\xaf", "/", DIFF},
	{INVALID_UTF8, "\xed\xa0\x80", "", DIFF},
	{INVALID_UTF8, "\xf4\x90\x80\x80", "", DIFF},
	{INVALID_UTF8, "\xff", "\xfe", DIFF},
	{INVALID_UTF8, "\xff", "\xff", SAME},
	/* Invalid bytes sort after every valid character. */
	{INVALID_UTF8, "\x80", "\xf4\x8f\xbf\xbf", AFTER},
	{INVALID_UTF8, "z", "\xc3", BEFORE},
	/* A mark after an invalid byte is still a mark, and is stripped. */
	{INVALID_UTF8, "\xc3\xcc\x83", "\xc3", SAME},
	{EMPTY, "", "", SAME},
	{EMPTY, "", " \t ", SAME},
	{EMPTY, "", "a", BEFORE},
	{EMPTY, "a", "", AFTER},
	/* Nothing but marks and invisible characters folds to nothing. */
	{EMPTY, "\xcc\x81\xe2\x80\x8b", "", SAME},
};

/* Checks every case of group g (and that the group has some). */
static void check_group(enum fold_group g)
{
	size_t n = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const fold_case_t *c = &cases[i];
		if (c->group != g)
			continue;
		n++;
		int r = text_cmp_folded(c->a, c->b);
		bool ok = c->want == SAME     ? r == 0
			  : c->want == DIFF   ? r != 0
			  : c->want == BEFORE ? r < 0
					      : r > 0;
		cr_assert(ok, "case %zu: \"%s\" vs \"%s\" gave %d, want %s", i, c->a, c->b, r,
			  want_name[c->want]);
	}
	cr_assert_gt(n, 0, "group %d has no cases", (int)g);
}

Test(text_fold, portuguese_accents_and_case)
{
	check_group(ACCENTS);
}

Test(text_fold, spaces)
{
	check_group(SPACES);
}

Test(text_fold, different_names_differ)
{
	check_group(DIFFERENT);
}

Test(text_fold, decomposed_equals_composed)
{
	check_group(DECOMPOSED);
}

Test(text_fold, decomposed_cities_still_differ)
{
	check_group(DECOMPOSED_DIFFER);
}

Test(text_fold, case_folding_beyond_latin1)
{
	check_group(BEYOND_LATIN1);
}

Test(text_fold, compatibility_forms)
{
	check_group(COMPATIBILITY);
}

Test(text_fold, apostrophes_dashes_and_invisible_characters)
{
	check_group(PUNCTUATION);
}

Test(text_fold, latin1_pairs_of_before_still_match)
{
	check_group(LATIN1);
}

Test(text_fold, invalid_utf8)
{
	check_group(INVALID_UTF8);
}

Test(text_fold, empty_strings)
{
	check_group(EMPTY);
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
