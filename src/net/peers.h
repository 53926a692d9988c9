/*
 * Connections counted per remote address, for the listeners' per-address caps
 * (rpc.c, https_server.c): one client host, or one attacker, holds at most a
 * configured share of a listener's connection slots.
 *
 * An IPv4 address is counted as its IPv4-mapped IPv6 form, so the same host
 * reached on a dual-stack socket is one entry. Single-threaded, like the loop.
 */
#ifndef OSPAY_NET_PEERS_H
#define OSPAY_NET_PEERS_H

#include <stdint.h>
#include <uv.h>

#define NET_PEERS_BUCKETS 256

typedef struct net_ip {
	uint8_t b[16];
} net_ip_t;

typedef struct net_peer net_peer_t;

/* Zero-initialised (or net_peers_init) before use; net_peers_free at the end. */
typedef struct net_peers {
	net_peer_t *bucket[NET_PEERS_BUCKETS];
	uint64_t seed;
} net_peers_t;

void net_peers_init(net_peers_t *p);
/* Frees every entry (a table whose connections are all gone is already empty). */
void net_peers_free(net_peers_t *p);

/* The remote address of a connected TCP handle: 0, or a negative libuv error. */
int net_peer_ip(const uv_tcp_t *tcp, net_ip_t *out);

/*
 * Counts one more connection from ip unless limit are already open (0: no limit):
 * 0, -EMFILE over the limit, -ENOMEM. Each 0 is paired with one net_peers_drop.
 */
int net_peers_take(net_peers_t *p, const net_ip_t *ip, unsigned limit);
/* net_peer_ip then net_peers_take, for a connection just accepted: 0 (*ip is set
 * and counted), -EMFILE over the limit, or another negative error. */
int net_peers_admit(net_peers_t *p, const uv_tcp_t *tcp, unsigned limit, net_ip_t *ip);
/* One connection from ip is gone (unknown addresses are ignored). */
void net_peers_drop(net_peers_t *p, const net_ip_t *ip);
/* Connections currently counted for ip. */
unsigned net_peers_count(const net_peers_t *p, const net_ip_t *ip);

#endif
