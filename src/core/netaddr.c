#include "core/netaddr.h"

#include <string.h>

#include "common/util.h"

static bool in4(uint32_t a, uint32_t net, unsigned bits)
{
	uint32_t mask = bits == 0 ? 0 : UINT32_MAX << (32 - bits);
	return (a & mask) == net;
}

netaddr_kind_t netaddr_classify_v4(uint32_t a)
{
	if (in4(a, 0x00000000u, 8))
		return NETADDR_UNSPECIFIED;
	if (in4(a, 0x7f000000u, 8))
		return NETADDR_LOOPBACK;
	if (in4(a, 0x0a000000u, 8) || in4(a, 0xac100000u, 12) || in4(a, 0xc0a80000u, 16) ||
	    in4(a, 0x64400000u, 10))
		return NETADDR_PRIVATE;
	if (in4(a, 0xa9fe0000u, 16))
		return NETADDR_LINK_LOCAL;
	/* IETF protocol assignments, benchmarking, multicast, 240/4 and broadcast. */
	if (in4(a, 0xc0000000u, 24) || in4(a, 0xc6120000u, 15) || in4(a, 0xe0000000u, 4) ||
	    in4(a, 0xf0000000u, 4))
		return NETADDR_RESERVED;
	return NETADDR_PUBLIC;
}

static uint32_t v4_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

netaddr_kind_t netaddr_classify_v6(const uint8_t a[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b};
	if (zero(a, 16))
		return NETADDR_UNSPECIFIED;
	if (zero(a, 15) && a[15] == 1)
		return NETADDR_LOOPBACK;
	/* ::ffff:a.b.c.d, ::a.b.c.d (deprecated) and 64:ff9b::a.b.c.d reach that IPv4 address. */
	if (memcmp(a, mapped, 12) == 0 || zero(a, 12) || memcmp(a, nat64, 12) == 0)
		return netaddr_classify_v4(v4_at(a + 12));
	/* 6to4 (2002:AABB:CCDD::/48) embeds an IPv4 address too. */
	if (a[0] == 0x20 && a[1] == 0x02)
		return netaddr_classify_v4(v4_at(a + 2));
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return NETADDR_LINK_LOCAL;
	if ((a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0))
		return NETADDR_PRIVATE;
	if (a[0] == 0xff)
		return NETADDR_RESERVED;
	return NETADDR_PUBLIC;
}

static int hexval(char c)
{
	return util_hexval((unsigned char)c);
}

/* One inet_aton part: decimal, 0x hex or leading-zero octal. -1 when malformed. */
static int v4_part(const char *s, size_t n, uint64_t *out)
{
	unsigned base = 10;
	size_t i = 0;
	uint64_t v = 0;
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	} else if (n >= 2 && s[0] == '0') {
		base = 8;
		i = 1;
	}
	if (n == 0)
		return -1;
	for (; i < n; i++) {
		int d = hexval(s[i]);
		if (d < 0 || (unsigned)d >= base)
			return -1;
		v = v * base + (unsigned)d;
		if (v > UINT32_MAX)
			return -1;
	}
	*out = v;
	return 0;
}

/* Every inet_aton form: a, a.b, a.b.c, a.b.c.d, each part in any base. */
static int v4_parse(const char *s, size_t n, uint32_t *out)
{
	uint64_t part[4];
	size_t np = 0, start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		if (np == 4 || v4_part(s + start, i - start, &part[np]) != 0)
			return -1;
		np++;
		start = i + 1;
	}
	uint64_t v = 0;
	for (size_t i = 0; i + 1 < np; i++) {
		if (part[i] > 255)
			return -1;
		v |= part[i] << (24 - 8 * i);
	}
	/* The last part fills the bytes left. */
	if (part[np - 1] >= (UINT64_C(1) << (8 * (5 - np))))
		return -1;
	*out = (uint32_t)(v | part[np - 1]);
	return 0;
}

/* True when the host's last label is a number: a URL parser then wants IPv4. */
static bool v4_like(const char *s, size_t n)
{
	size_t start = n;
	while (start > 0 && s[start - 1] != '.')
		start--;
	const char *l = s + start;
	size_t ln = n - start;
	if (ln == 0)
		return false;
	size_t i = ln >= 2 && l[0] == '0' && (l[1] == 'x' || l[1] == 'X') ? 2 : 0;
	bool hex = i == 2;
	for (; i < ln; i++)
		if (hex ? hexval(l[i]) < 0 : !(l[i] >= '0' && l[i] <= '9'))
			return false;
	return true;
}

/* RFC 4291 text form, with an optional dotted IPv4 tail; no zone. */
static int v6_parse(const char *s, size_t n, uint8_t out[16])
{
	uint16_t g[8];
	int ng = 0, gap = -1;
	size_t i = 0;
	if (n >= 2 && s[0] == ':' && s[1] == ':') {
		gap = 0;
		i = 2;
	} else if (n >= 1 && s[0] == ':') {
		return -1;
	}
	while (i < n) {
		size_t j = i;
		unsigned v = 0;
		while (j < n && j - i < 5 && hexval(s[j]) >= 0)
			v = v * 16 + (unsigned)hexval(s[j++]);
		if (j < n && s[j] == '.') {
			/* A dotted IPv4 tail: exactly four decimal parts, two groups. */
			uint32_t a4;
			size_t dots = 0;
			for (size_t k = i; k < n; k++)
				dots += s[k] == '.';
			if (ng > 6 || dots != 3 || v4_parse(s + i, n - i, &a4) != 0)
				return -1;
			g[ng++] = (uint16_t)(a4 >> 16);
			g[ng++] = (uint16_t)a4;
			i = n;
			break;
		}
		if (j == i || j - i > 4 || ng == 8)
			return -1;
		g[ng++] = (uint16_t)v;
		i = j;
		if (i == n)
			break;
		if (s[i] != ':')
			return -1;
		i++;
		if (i < n && s[i] == ':') {
			if (gap >= 0)
				return -1;
			gap = ng;
			i++;
		} else if (i == n) {
			return -1; /* a trailing single ':' */
		}
	}
	if ((gap < 0 && ng != 8) || (gap >= 0 && ng > 7))
		return -1;
	int fill = gap < 0 ? 0 : 8 - ng, k = 0;
	for (int x = 0; x < ng; x++) {
		if (x == gap)
			for (int z = 0; z < fill; z++, k++)
				out[2 * k] = out[2 * k + 1] = 0;
		out[2 * k] = (uint8_t)(g[x] >> 8);
		out[2 * k + 1] = (uint8_t)g[x];
		k++;
	}
	for (; k < 8; k++)
		out[2 * k] = out[2 * k + 1] = 0;
	return 0;
}

static bool ieq(const char *a, size_t n, const char *lit)
{
	size_t m = strlen(lit);
	if (n != m)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = a[i] >= 'A' && a[i] <= 'Z' ? (char)(a[i] - 'A' + 'a') : a[i];
		if (c != lit[i])
			return false;
	}
	return true;
}

netaddr_kind_t netaddr_classify_host(const char *host, size_t len)
{
	if (len > 0 && host[0] == '[') {
		uint8_t a6[16];
		if (len < 3 || host[len - 1] != ']' || v6_parse(host + 1, len - 2, a6) != 0)
			return NETADDR_INVALID;
		return netaddr_classify_v6(a6);
	}
	if (len > 0 && host[len - 1] == '.')
		len--;
	if (len == 0)
		return NETADDR_INVALID;
	if (v4_like(host, len)) {
		uint32_t a4;
		return v4_parse(host, len, &a4) == 0 ? netaddr_classify_v4(a4) : NETADDR_INVALID;
	}
	if (ieq(host, len, "localhost") || (len > 10 && ieq(host + len - 10, 10, ".localhost")))
		return NETADDR_LOOPBACK;
	return NETADDR_NAME;
}

bool netaddr_kind_internal(netaddr_kind_t k)
{
	return k != NETADDR_NAME && k != NETADDR_PUBLIC;
}

const char *netaddr_kind_name(netaddr_kind_t k)
{
	switch (k) {
	case NETADDR_NAME:
		return "a name";
	case NETADDR_PUBLIC:
		return "public";
	case NETADDR_LOOPBACK:
		return "loopback";
	case NETADDR_PRIVATE:
		return "private";
	case NETADDR_LINK_LOCAL:
		return "link-local";
	case NETADDR_UNSPECIFIED:
		return "unspecified";
	case NETADDR_RESERVED:
		return "reserved";
	case NETADDR_INVALID:
		break;
	}
	return "not a valid address";
}

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

const char *netaddr_url_origin(const char *url, netaddr_origin_t *out)
{
	memset(out, 0, sizeof(*out));
	const char *p;
	if (strncmp(url, "http://", 7) == 0) {
		memcpy(out->scheme, "http", 5);
		out->port = 80;
		p = url + 7;
	} else if (strncmp(url, "https://", 8) == 0) {
		memcpy(out->scheme, "https", 6);
		out->port = 443;
		p = url + 8;
	} else {
		return "must start with http:// or https://";
	}
	size_t alen = strcspn(p, "/?#");
	if (memchr(p, '@', alen) != NULL)
		return "no user name or password in the URL";
	if (memchr(p, '\\', alen) != NULL)
		return "no backslash in the host";
	const char *host = p, *end = p + alen, *colon = NULL;
	if (alen > 0 && p[0] == '[') {
		const char *rb = memchr(p, ']', alen);
		if (rb == NULL)
			return "an IPv6 host needs its closing ]";
		for (const char *q = p + 1; q < rb; q++)
			if (hexval(*q) < 0 && *q != ':' && *q != '.')
				return "not a valid IPv6 address";
		colon = rb + 1 < end ? rb + 1 : NULL;
		if (colon != NULL && *colon != ':')
			return "unexpected characters after the IPv6 address";
	} else {
		colon = memchr(p, ':', alen);
		for (const char *q = p; q < (colon != NULL ? colon : end); q++)
			if (!host_char(*q))
				return "the host may hold only letters, digits, '-', '.' and '_'";
	}
	size_t hlen = (size_t)((colon != NULL ? colon : end) - host);
	if (hlen == 0)
		return "a host is required";
	if (hlen > NETADDR_HOST_MAX)
		return "the host is too long";
	if (colon != NULL) {
		unsigned port = 0;
		const char *q = colon + 1;
		if (q == end || end - q > 5)
			return "the port must be a number from 1 to 65535";
		for (; q < end; q++) {
			if (*q < '0' || *q > '9')
				return "the port must be a number from 1 to 65535";
			port = port * 10 + (unsigned)(*q - '0');
		}
		if (port == 0 || port > 65535)
			return "the port must be a number from 1 to 65535";
		out->port = port;
	}
	out->kind = netaddr_classify_host(host, hlen);
	if (out->kind == NETADDR_INVALID)
		return "the host is not a valid address";
	/* Stored without brackets and trailing dot, lower case: one spelling per host. */
	size_t from = host[0] == '[' ? 1 : 0, to = host[0] == '[' ? hlen - 1 : hlen;
	if (from == 0 && to > 0 && host[to - 1] == '.')
		to--;
	for (size_t i = from; i < to; i++) {
		char c = host[i];
		out->host[i - from] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	return NULL;
}

bool netaddr_origin_equal(const netaddr_origin_t *a, const netaddr_origin_t *b)
{
	return strcmp(a->scheme, b->scheme) == 0 && strcmp(a->host, b->host) == 0 &&
	       a->port == b->port;
}
