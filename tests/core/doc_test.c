#include <criterion/criterion.h>
#include <string.h>

#include "core/doc.h"

/* An input, the kind it parses as, the digits kept (NULL: not checked) and the
 * reason given (NULL: not checked; a document that parses gives none). */
struct doc_case {
	const char *in;
	int kind;
	const char *digits;
	const char *why;
};

static void check_docs(const struct doc_case *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char d[DOC_MAX_DIGITS + 1];
		const char *why = "unset";
		cr_assert_eq(doc_parse(t[i].in, d, &why), t[i].kind, "'%s'", t[i].in);
		if (t[i].kind != DOC_NONE)
			cr_assert_null(why, "'%s': %s", t[i].in, why);
		else if (t[i].why != NULL)
			cr_assert_str_eq(why, t[i].why, "'%s'", t[i].in);
		if (t[i].digits != NULL)
			cr_assert_str_eq(d, t[i].digits, "'%s'", t[i].in);
		/* The reason is optional: the same answer without one. */
		cr_assert_eq(doc_parse(t[i].in, d, NULL), t[i].kind, "'%s' without why", t[i].in);
	}
}

Test(doc, cpf_with_and_without_punctuation)
{
	static const struct doc_case t[] = {
		{"529.982.247-25", DOC_CPF, "52998224725", NULL},
		{"52998224725", DOC_CPF, NULL, NULL},
		{" 111 444 777 35 ", DOC_CPF, "11144477735", NULL},
	};
	check_docs(t, sizeof(t) / sizeof(t[0]));
}

Test(doc, cpf_check_digits)
{
	static const struct doc_case t[] = {
		{"529.982.247-24", DOC_NONE, "", "not a valid CPF (check digits)"},
		{"529.982.247-15", DOC_NONE, NULL, NULL},
	};
	check_docs(t, sizeof(t) / sizeof(t[0]));
	/* First check digit 0 (remainder 10 or 11). */
	cr_assert(doc_cpf_valid("12345678909"));
}

Test(doc, all_same_digits_are_refused)
{
	char d[DOC_MAX_DIGITS + 1];
	/* 000.000.000-00 and 111.111.111-11 pass the arithmetic but were never issued. */
	for (char c = '0'; c <= '9'; c++) {
		char cpf[12], cnpj[15];
		memset(cpf, c, 11);
		cpf[11] = '\0';
		memset(cnpj, c, 14);
		cnpj[14] = '\0';
		cr_assert_eq(doc_parse(cpf, d, NULL), DOC_NONE, "%s", cpf);
		cr_assert_eq(doc_parse(cnpj, d, NULL), DOC_NONE, "%s", cnpj);
	}
}

Test(doc, cnpj)
{
	static const struct doc_case t[] = {
		{"11.222.333/0001-81", DOC_CNPJ, "11222333000181", NULL},
		{"12345678000195", DOC_CNPJ, NULL, NULL},
		{"04.252.011/0001-10", DOC_CNPJ, NULL, NULL},
		{"11.222.333/0001-82", DOC_NONE, NULL, "not a valid CNPJ (check digits)"},
	};
	check_docs(t, sizeof(t) / sizeof(t[0]));
}

Test(doc, lengths_and_characters)
{
	static const struct doc_case t[] = {
		{"", DOC_NONE, NULL, "required"},
		{"...-", DOC_NONE, NULL, "required"},
		{"1234567890", DOC_NONE, NULL, "must have 11 digits (CPF) or 14 digits (CNPJ)"},
		{"123456789012", DOC_NONE, NULL, NULL},
		{"112223330001810", DOC_NONE, NULL, NULL},
		{"1122233300018100000000", DOC_NONE, NULL, NULL},
		{"529x982x247x25", DOC_NONE, NULL,
		 "only digits and the punctuation . - / are allowed"},
		{"529.982.247-2\xc3\xa9", DOC_NONE, NULL, NULL},
	};
	check_docs(t, sizeof(t) / sizeof(t[0]));
}
