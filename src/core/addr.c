#include "core/addr.h"

#include <string.h>

static const char *const ufs[] = {"AC", "AL", "AM", "AP", "BA", "CE", "DF", "ES", "GO",
				  "MA", "MG", "MS", "MT", "PA", "PB", "PE", "PI", "PR",
				  "RJ", "RN", "RO", "RR", "RS", "SC", "SE", "SP", "TO"};

const char *addr_uf_parse(const char *in, char out[3])
{
	out[0] = '\0';
	if (in[0] == '\0')
		return "required";
	if (strlen(in) != 2)
		return "must be the state's two-letter code (UF), e.g. SP";
	char up[3];
	for (int i = 0; i < 2; i++)
		up[i] = (in[i] >= 'a' && in[i] <= 'z') ? (char)(in[i] - 'a' + 'A') : in[i];
	up[2] = '\0';
	for (size_t i = 0; i < sizeof(ufs) / sizeof(ufs[0]); i++) {
		if (strcmp(ufs[i], up) == 0) {
			memcpy(out, up, 3);
			return NULL;
		}
	}
	return "not a Brazilian state code (UF)";
}

const char *addr_cep_parse(const char *in, char out[9])
{
	size_t n = 0;
	out[0] = '\0';
	if (in[0] == '\0')
		return "required";
	for (const char *p = in; *p != '\0'; p++) {
		if (*p >= '0' && *p <= '9') {
			if (n == 8) {
				out[0] = '\0';
				return "must have 8 digits";
			}
			out[n++] = *p;
		} else if (*p != '-' && *p != '.' && *p != ' ') {
			out[0] = '\0';
			return "only digits and - are allowed";
		}
	}
	out[n] = '\0';
	if (n != 8 || strcmp(out, "00000000") == 0) {
		out[0] = '\0';
		return "must have 8 digits";
	}
	return NULL;
}
