#include <criterion/criterion.h>
#include <string.h>

#include "core/doc.h"

Test(doc, cpf_with_and_without_punctuation)
{
	char d[DOC_MAX_DIGITS + 1];
	const char *why = "unset";
	cr_assert_eq(doc_parse("529.982.247-25", d, &why), DOC_CPF);
	cr_assert_null(why);
	cr_assert_str_eq(d, "52998224725");
	cr_assert_eq(doc_parse("52998224725", d, NULL), DOC_CPF);
	cr_assert_eq(doc_parse(" 111 444 777 35 ", d, NULL), DOC_CPF);
	cr_assert_str_eq(d, "11144477735");
}

Test(doc, cpf_check_digits)
{
	char d[DOC_MAX_DIGITS + 1];
	const char *why;
	cr_assert_eq(doc_parse("529.982.247-24", d, &why), DOC_NONE);
	cr_assert_str_eq(why, "not a valid CPF (check digits)");
	cr_assert_str_empty(d);
	cr_assert_eq(doc_parse("529.982.247-15", d, &why), DOC_NONE);
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
	char d[DOC_MAX_DIGITS + 1];
	const char *why;
	cr_assert_eq(doc_parse("11.222.333/0001-81", d, &why), DOC_CNPJ);
	cr_assert_str_eq(d, "11222333000181");
	cr_assert_eq(doc_parse("12345678000195", d, NULL), DOC_CNPJ);
	cr_assert_eq(doc_parse("04.252.011/0001-10", d, NULL), DOC_CNPJ);
	cr_assert_eq(doc_parse("11.222.333/0001-82", d, &why), DOC_NONE);
	cr_assert_str_eq(why, "not a valid CNPJ (check digits)");
}

Test(doc, lengths_and_characters)
{
	char d[DOC_MAX_DIGITS + 1];
	const char *why;
	cr_assert_eq(doc_parse("", d, &why), DOC_NONE);
	cr_assert_str_eq(why, "required");
	cr_assert_eq(doc_parse("...-", d, &why), DOC_NONE);
	cr_assert_str_eq(why, "required");
	cr_assert_eq(doc_parse("1234567890", d, &why), DOC_NONE);
	cr_assert_str_eq(why, "must have 11 digits (CPF) or 14 digits (CNPJ)");
	cr_assert_eq(doc_parse("123456789012", d, &why), DOC_NONE);
	cr_assert_eq(doc_parse("112223330001810", d, &why), DOC_NONE);
	cr_assert_eq(doc_parse("1122233300018100000000", d, &why), DOC_NONE);
	cr_assert_eq(doc_parse("529x982x247x25", d, &why), DOC_NONE);
	cr_assert_str_eq(why, "only digits and the punctuation . - / are allowed");
	cr_assert_eq(doc_parse("529.982.247-2\xc3\xa9", d, &why), DOC_NONE);
}
