#include "support/testdata.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void tsd_cpf(uint32_t n, char out[12])
{
	/* Nine base digits from n (never all equal), then the two check digits. */
	snprintf(out, 12, "%09u", 100000000u + n % 800000000u);
	for (int k = 9; k <= 10; k++) {
		int sum = 0;
		for (int i = 0; i < k; i++)
			sum += (out[i] - '0') * (k + 1 - i);
		int r = sum % 11;
		out[k] = (char)('0' + (r < 2 ? 0 : 11 - r));
	}
	out[11] = '\0';
}

int tsd_number_ending(const char *prefix, unsigned last, char out[17])
{
	for (unsigned body = 0; body < 1000; body++) {
		/* Bounded by a buffer that fits any unsigned: the compiler cannot see body < 1000. */
		char tmp[40];
		snprintf(tmp, sizeof(tmp), "%.12s%03u%u", prefix, body, last % 10);
		memcpy(out, tmp, 17);
		int sum = 0;
		for (int i = 15; i >= 0; i--) {
			int d = out[i] - '0';
			if ((15 - i) % 2 == 1) {
				d *= 2;
				if (d > 9)
					d -= 9;
			}
			sum += d;
		}
		if (sum % 10 == 0)
			return 0;
	}
	return -EINVAL;
}

int tsd_visa_ending(unsigned last, char out[17])
{
	return tsd_number_ending("411111111111", last, out);
}
