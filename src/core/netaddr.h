/*
 * Where an outbound URL points: its origin (scheme, host, port) and what kind
 * of address its host is, for refusing gateway URLs that aim at the server's
 * own machine or network (docs/gateways.md, "Where credentials may go").
 * Pure, no I/O: numeric hosts are parsed here in every spelling an HTTP
 * client accepts; a DNS name is checked when it is connected to.
 */
#ifndef OSPAY_CORE_NETADDR_H
#define OSPAY_CORE_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum netaddr_kind {
	NETADDR_NAME = 0,    /* a DNS name: only its resolved addresses can tell */
	NETADDR_PUBLIC,      /* a global unicast address */
	NETADDR_LOOPBACK,    /* 127.0.0.0/8, ::1, "localhost" */
	NETADDR_PRIVATE,     /* RFC 1918, 100.64.0.0/10, fc00::/7, fec0::/10 */
	NETADDR_LINK_LOCAL,  /* 169.254.0.0/16 (cloud metadata), fe80::/10 */
	NETADDR_UNSPECIFIED, /* 0.0.0.0/8, :: */
	NETADDR_RESERVED,    /* multicast, broadcast, 240.0.0.0/4, 192.0.0.0/24 */
	NETADDR_INVALID,     /* looks numeric but is no address */
} netaddr_kind_t;

/* An IPv4 address in host byte order. */
netaddr_kind_t netaddr_classify_v4(uint32_t a);
/* An IPv6 address; an IPv4 address mapped or embedded in it counts as that. */
netaddr_kind_t netaddr_classify_v6(const uint8_t a[16]);
/*
 * A URL's host as written (IPv6 in brackets, any case, a trailing dot): the
 * numeric forms inet_aton and URL parsers accept ("0x7f000001", "2130706433",
 * "127.1", "0177.0.0.1", "[::ffff:127.0.0.1]") are classified as the address
 * they mean; "localhost" and "*.localhost" are loopback; other names NAME.
 */
netaddr_kind_t netaddr_classify_host(const char *host, size_t len);
/* True for every kind but NAME and PUBLIC: a gateway must not be sent there. */
bool netaddr_kind_internal(netaddr_kind_t k);
/* A short English name of k ("loopback", "private", ...), static. */
const char *netaddr_kind_name(netaddr_kind_t k);

#define NETADDR_HOST_MAX 255

/* A URL's origin: lower-case scheme and host (no brackets, no trailing dot), port. */
typedef struct netaddr_origin {
	char scheme[8];
	char host[NETADDR_HOST_MAX + 1];
	unsigned port;
	netaddr_kind_t kind;
} netaddr_origin_t;

/*
 * Splits an http:// or https:// URL into its origin. Refuses user names and
 * passwords in the URL, empty or malformed hosts and ports, percent-encoded
 * or odd characters in a host. NULL, or why not (static English text).
 */
const char *netaddr_url_origin(const char *url, netaddr_origin_t *out);
/* Same scheme, host and port. */
bool netaddr_origin_equal(const netaddr_origin_t *a, const netaddr_origin_t *b);

#endif
