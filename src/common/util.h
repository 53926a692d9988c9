/* Small helpers shared by every module: no I/O, no allocation. */
#ifndef OSPAY_COMMON_UTIL_H
#define OSPAY_COMMON_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define OSPAY_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

static inline void be64_put(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static inline uint64_t be64_get(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static inline void be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t be32_get(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Signed instants (ms) sort correctly as big-endian keys once the sign bit is flipped. */
static inline void be64_put_i64(uint8_t *p, int64_t v)
{
	be64_put(p, (uint64_t)v ^ (UINT64_C(1) << 63));
}

static inline int64_t be64_get_i64(const uint8_t *p)
{
	return (int64_t)(be64_get(p) ^ (UINT64_C(1) << 63));
}

/* Wall clock in UTC milliseconds (real time, never the test clock). */
/* The value of one hex digit (either case), or -1. */
static inline int util_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int64_t util_wall_ms(void);

/* Monotonic milliseconds, for timeouts. */
uint64_t util_mono_ms(void);

/* Formats ms since the epoch as RFC 3339 UTC ("2026-11-23T18:00:00.000Z"); out >= 32 bytes. */
void util_rfc3339(int64_t ms, char *out, size_t outlen);

/* Parses RFC 3339 ("2020-12-10T09:00:00Z", "...-03:00", fractional seconds allowed). */
int util_parse_rfc3339(const char *s, int64_t *ms_out);

/* Civil dates <-> day numbers (days since 1970-01-01, proleptic Gregorian): the one
 * copy, for core/date.h, the CLI and the RFC 3339 parser. m 1..12, d 1..31; not
 * validated (util_date_valid: 1 when y-m-d exists, y 1900..9999). */
int64_t util_days_from_civil(int y, int m, int d);
void util_civil_from_days(int64_t day, int *y, int *m, int *d);
int util_date_valid(int y, int m, int d);
/* Strict "YYYY-MM-DD" to a day number: 0 or -EINVAL; and back (out >= 11 bytes). */
int util_date_parse(const char *s, int64_t *day);
void util_date_format(int64_t day, char *out, size_t outlen);

/* Splits "HOST:PORT" ("[::1]:0" too); host is copied into host (hostlen bytes). */
int util_parse_hostport(const char *s, char *host, size_t hostlen, int *port);

/*
 * Decodes one UTF-8 code point at s (n bytes available). Returns its length
 * (1-4), or 0 for an invalid, overlong, surrogate or truncated sequence.
 */
size_t util_utf8_decode(const char *s, size_t n, uint32_t *cp);

#endif
