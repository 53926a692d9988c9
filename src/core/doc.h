/*
 * Brazilian taxpayer documents: CPF (people, 11 digits) and CNPJ (companies,
 * 14 digits), each ending in two check digits. Pure, no I/O.
 */
#ifndef OSPAY_CORE_DOC_H
#define OSPAY_CORE_DOC_H

#include <stdbool.h>

/* Numbers as in proto DocumentType. */
enum doc_type {
	DOC_NONE = 0,
	DOC_CPF = 1,
	DOC_CNPJ = 2,
};

#define DOC_MAX_DIGITS 14

/*
 * Parses a document as people type it: digits with the usual punctuation
 * ("123.456.789-09", "12.345.678/0001-95", spaces). On success writes the
 * digits alone to out (NUL-terminated) and returns DOC_CPF or DOC_CNPJ; on
 * failure returns DOC_NONE and points *why (may be NULL) at a static sentence.
 */
int doc_parse(const char *in, char out[DOC_MAX_DIGITS + 1], const char **why);

/* Check digits of exactly 11 (CPF) or 14 (CNPJ) ASCII digits. */
bool doc_cpf_valid(const char *digits);
bool doc_cnpj_valid(const char *digits);

#endif
