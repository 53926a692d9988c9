#include "core/doc.h"

#include <string.h>

/* Both check digits of both documents use the same modulus-11 rule. */
static int mod11_digit(const char *d, const int *weights, int n)
{
	int sum = 0;
	for (int i = 0; i < n; i++)
		sum += (d[i] - '0') * weights[i];
	int r = sum % 11;
	return r < 2 ? 0 : 11 - r;
}

/* Numbers like 111.111.111-11 pass the check digits but were never issued. */
static bool all_same(const char *d, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (d[i] != d[0])
			return false;
	return true;
}

bool doc_cpf_valid(const char *d)
{
	static const int w1[] = {10, 9, 8, 7, 6, 5, 4, 3, 2};
	static const int w2[] = {11, 10, 9, 8, 7, 6, 5, 4, 3, 2};
	if (strlen(d) != 11 || strspn(d, "0123456789") != 11 || all_same(d, 11))
		return false;
	return mod11_digit(d, w1, 9) == d[9] - '0' && mod11_digit(d, w2, 10) == d[10] - '0';
}

bool doc_cnpj_valid(const char *d)
{
	static const int w1[] = {5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2};
	static const int w2[] = {6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2};
	if (strlen(d) != 14 || strspn(d, "0123456789") != 14 || all_same(d, 14))
		return false;
	return mod11_digit(d, w1, 12) == d[12] - '0' && mod11_digit(d, w2, 13) == d[13] - '0';
}

int doc_parse(const char *in, char out[DOC_MAX_DIGITS + 1], const char **why)
{
	const char *reason = NULL;
	int type = DOC_NONE;
	size_t n = 0;
	out[0] = '\0';
	for (const char *p = in; *p != '\0'; p++) {
		if (*p >= '0' && *p <= '9') {
			if (n == DOC_MAX_DIGITS) {
				reason = "must have 11 digits (CPF) or 14 digits (CNPJ)";
				goto out;
			}
			out[n++] = *p;
		} else if (*p != '.' && *p != '-' && *p != '/' && *p != ' ') {
			reason = "only digits and the punctuation . - / are allowed";
			goto out;
		}
	}
	out[n] = '\0';
	if (n == 0) {
		reason = "required";
	} else if (n == 11) {
		if (doc_cpf_valid(out))
			type = DOC_CPF;
		else
			reason = "not a valid CPF (check digits)";
	} else if (n == 14) {
		if (doc_cnpj_valid(out))
			type = DOC_CNPJ;
		else
			reason = "not a valid CNPJ (check digits)";
	} else {
		reason = "must have 11 digits (CPF) or 14 digits (CNPJ)";
	}
out:
	if (type == DOC_NONE)
		out[0] = '\0';
	if (why != NULL)
		*why = reason;
	return type;
}
