/* Connections counted per remote address (net/peers.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "net/peers.h"

static net_ip_t ip4(unsigned char a, unsigned char b, unsigned char c, unsigned char d)
{
	net_ip_t ip;
	memset(&ip, 0, sizeof(ip));
	ip.b[10] = ip.b[11] = 0xff;
	ip.b[12] = a;
	ip.b[13] = b;
	ip.b[14] = c;
	ip.b[15] = d;
	return ip;
}

Test(net_peers, each_address_has_its_own_count_and_limit)
{
	net_peers_t p;
	net_peers_init(&p);
	net_ip_t a = ip4(10, 0, 0, 1), b = ip4(10, 0, 0, 2);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(net_peers_take(&p, &a, 3), 0);
	cr_assert_eq(net_peers_take(&p, &a, 3), -EMFILE);
	cr_assert_eq(net_peers_count(&p, &a), 3);
	cr_assert_eq(net_peers_take(&p, &b, 3), 0, "another address is not affected");
	net_peers_drop(&p, &a);
	cr_assert_eq(net_peers_take(&p, &a, 3), 0, "a slot frees after a drop");
	for (int i = 0; i < 3; i++)
		net_peers_drop(&p, &a);
	net_peers_drop(&p, &b);
	cr_assert_eq(net_peers_count(&p, &a), 0);
	net_peers_drop(&p, &a); /* unknown: ignored */
	net_peers_free(&p);
}

Test(net_peers, zero_means_no_limit_and_many_addresses_fit)
{
	net_peers_t p;
	net_peers_init(&p);
	for (int i = 0; i < 5000; i++) {
		net_ip_t ip = ip4(10, (unsigned char)(i >> 16), (unsigned char)(i >> 8),
				  (unsigned char)i);
		cr_assert_eq(net_peers_take(&p, &ip, 0), 0);
		cr_assert_eq(net_peers_take(&p, &ip, 0), 0);
	}
	net_ip_t last = ip4(10, 0, 19, 135); /* 4999 */
	cr_assert_eq(net_peers_count(&p, &last), 2);
	/* Entries left behind are freed here (LeakSanitizer checks). */
	net_peers_free(&p);
}
