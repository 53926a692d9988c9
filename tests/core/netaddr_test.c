#include <criterion/criterion.h>
#include <string.h>

#include "core/netaddr.h"

static netaddr_kind_t host(const char *h)
{
	return netaddr_classify_host(h, strlen(h));
}

/* A host and the kind it must be classified as. */
struct host_kind {
	const char *host;
	netaddr_kind_t kind;
};

static void expect_kinds(const struct host_kind *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cr_expect_eq(host(t[i].host), t[i].kind, "%s: %s", t[i].host,
			     netaddr_kind_name(host(t[i].host)));
}

Test(netaddr, loopback_in_every_spelling)
{
	const char *const lo[] = {"127.0.0.1",
				  "127.1",
				  "127.0.1",
				  "0x7f000001",
				  "0X7F000001",
				  "2130706433",
				  "0177.0.0.1",
				  "0x7f.0.0.1",
				  "127.0.0.1.",
				  "127.255.255.254",
				  "localhost",
				  "LocalHost.",
				  "api.localhost",
				  "[::1]",
				  "[0:0:0:0:0:0:0:1]",
				  "[::ffff:127.0.0.1]",
				  "[::ffff:7f00:1]",
				  "[::127.0.0.1]",
				  "[64:ff9b::127.0.0.1]",
				  "[2002:7f00:1::]"};
	for (size_t i = 0; i < sizeof(lo) / sizeof(lo[0]); i++)
		cr_expect_eq(host(lo[i]), NETADDR_LOOPBACK, "%s: %s", lo[i],
			     netaddr_kind_name(host(lo[i])));
}

Test(netaddr, private_link_local_unspecified_reserved)
{
	static const struct host_kind t[] = {
		{"10.1.2.3", NETADDR_PRIVATE},
		{"172.16.0.1", NETADDR_PRIVATE},
		{"172.31.255.255", NETADDR_PRIVATE},
		{"192.168.0.10", NETADDR_PRIVATE},
		{"100.64.0.1", NETADDR_PRIVATE},
		{"[fd12:3456::1]", NETADDR_PRIVATE},
		{"[fc00::1]", NETADDR_PRIVATE},
		{"[::ffff:10.0.0.1]", NETADDR_PRIVATE},
		{"169.254.169.254", NETADDR_LINK_LOCAL},
		{"0xa9fea9fe", NETADDR_LINK_LOCAL},
		{"[fe80::1]", NETADDR_LINK_LOCAL},
		{"[::ffff:169.254.169.254]", NETADDR_LINK_LOCAL},
		{"0.0.0.0", NETADDR_UNSPECIFIED},
		{"0", NETADDR_UNSPECIFIED},
		{"[::]", NETADDR_UNSPECIFIED},
		{"255.255.255.255", NETADDR_RESERVED},
		{"224.0.0.1", NETADDR_RESERVED},
		{"[ff02::1]", NETADDR_RESERVED},
	};
	expect_kinds(t, sizeof(t) / sizeof(t[0]));
}

Test(netaddr, public_and_names)
{
	static const struct host_kind t[] = {
		{"8.8.8.8", NETADDR_PUBLIC},
		{"172.32.0.1", NETADDR_PUBLIC},
		{"[2001:db8::1]", NETADDR_PUBLIC},
		{"[::ffff:8.8.8.8]", NETADDR_PUBLIC},
		{"api.cieloecommerce.cielo.com.br", NETADDR_NAME},
		{"localhost.example.com", NETADDR_NAME},
		{"1.2.3.example", NETADDR_NAME},
	};
	expect_kinds(t, sizeof(t) / sizeof(t[0]));
	cr_expect(!netaddr_kind_internal(NETADDR_NAME));
	cr_expect(!netaddr_kind_internal(NETADDR_PUBLIC));
	cr_expect(netaddr_kind_internal(NETADDR_LOOPBACK));
}

Test(netaddr, malformed_numbers_are_invalid)
{
	const char *const bad[] = {"256.0.0.1",
				   "1.2.3.4.5",
				   "4294967296",
				   "0x1ffffffff",
				   "1.2.3.256",
				   "1.2.65536",
				   "08.0.0.1",
				   "1..2",
				   "[::1",
				   "[1::2::3]",
				   "[12345::]",
				   "[::1%25eth0]",
				   "[1:2:3:4:5:6:7:8:9]",
				   "[::ffff:1.2.3]",
				   "[]"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(host(bad[i]), NETADDR_INVALID, "%s", bad[i]);
}

Test(netaddr, url_origin)
{
	netaddr_origin_t a, b;
	cr_assert_null(netaddr_url_origin("https://API.Cielo.com.br./1/sales?x=1", &a));
	cr_expect_str_eq(a.scheme, "https");
	cr_expect_str_eq(a.host, "api.cielo.com.br");
	cr_expect_eq(a.port, 443);
	cr_expect_eq(a.kind, NETADDR_NAME);
	cr_assert_null(netaddr_url_origin("https://api.cielo.com.br:443", &b));
	cr_expect(netaddr_origin_equal(&a, &b));
	cr_assert_null(netaddr_url_origin("http://api.cielo.com.br", &b));
	cr_expect(!netaddr_origin_equal(&a, &b), "the scheme is part of the origin");
	cr_assert_null(netaddr_url_origin("https://api.cielo.com.br:8443/", &b));
	cr_expect(!netaddr_origin_equal(&a, &b), "the port is part of the origin");
	cr_assert_null(netaddr_url_origin("http://[::FFFF:127.0.0.1]:18081/", &b));
	cr_expect_str_eq(b.host, "::ffff:127.0.0.1");
	cr_expect_eq(b.port, 18081);
	cr_expect_eq(b.kind, NETADDR_LOOPBACK);
	cr_assert_null(netaddr_url_origin("http://0x7f000001/", &b));
	cr_expect_eq(b.kind, NETADDR_LOOPBACK);
}

Test(netaddr, url_origin_refusals)
{
	netaddr_origin_t o;
	const char *const bad[] = {"ftp://x",
				   "https://",
				   "https://user:pw@api.cielo.com.br/",
				   "https://api.cielo.com.br@127.0.0.1/",
				   "https://api.cielo.com.br:0/",
				   "https://api.cielo.com.br:65536/",
				   "https://api.cielo.com.br:/",
				   "https://api.cielo.com.br:12a/",
				   "https://%31%32%37.0.0.1/",
				   "https://127.0.0.1\\@evil/",
				   "https://[::1/",
				   "https://[::1]x/",
				   "https://999.0.0.1/"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_not_null(netaddr_url_origin(bad[i], &o), "%s", bad[i]);
}
