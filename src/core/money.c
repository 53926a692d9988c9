#include "core/money.h"

#include <stdio.h>

void money_format_brl(int64_t centavos, char *out, size_t outlen)
{
	const char *sign = centavos < 0 ? "-" : "";
	uint64_t v = centavos < 0 ? (uint64_t)0 - (uint64_t)centavos : (uint64_t)centavos;
	uint64_t reais = v / 100;
	unsigned cents = (unsigned)(v % 100);
	char digits[32], grouped[48];
	int n = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)reais);
	int g = 0;
	for (int i = 0; i < n; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			grouped[g++] = '.';
		grouped[g++] = digits[i];
	}
	grouped[g] = '\0';
	snprintf(out, outlen, "%sR$ %s,%02u", sign, grouped, cents);
}

void money_format_plain(int64_t centavos, char *out, size_t outlen)
{
	const char *sign = centavos < 0 ? "-" : "";
	uint64_t v = centavos < 0 ? (uint64_t)0 - (uint64_t)centavos : (uint64_t)centavos;
	snprintf(out, outlen, "%s%llu.%02u", sign, (unsigned long long)(v / 100),
		 (unsigned)(v % 100));
}
