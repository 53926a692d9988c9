/* Money is int64 centavos (BRL). Pure, no I/O. */
#ifndef OSPAY_CORE_MONEY_H
#define OSPAY_CORE_MONEY_H

#include <stddef.h>
#include <stdint.h>

/* Largest amount accepted anywhere: R$ 10,000,000.00 (a bound, not a business rule). */
#define MONEY_MAX_CENTAVOS INT64_C(1000000000)

/* "R$ 1.234,56" (negative: "-R$ 1,00"). */
void money_format_brl(int64_t centavos, char *out, size_t outlen);
/* "1234.56" for CSV and JSON-minded people. */
void money_format_plain(int64_t centavos, char *out, size_t outlen);

#endif
