#include "net/peers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct net_peer {
	net_peer_t *next;
	net_ip_t ip;
	unsigned n;
};

void net_peers_init(net_peers_t *p)
{
	memset(p, 0, sizeof(*p));
	/* A per-process seed, so chains cannot be lined up from outside in advance. */
	p->seed = uv_hrtime() ^ (uint64_t)(uintptr_t)p;
}

void net_peers_free(net_peers_t *p)
{
	for (size_t i = 0; i < NET_PEERS_BUCKETS; i++) {
		net_peer_t *e = p->bucket[i];
		while (e != NULL) {
			net_peer_t *next = e->next;
			free(e);
			e = next;
		}
		p->bucket[i] = NULL;
	}
}

int net_peer_ip(const uv_tcp_t *tcp, net_ip_t *out)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	int rc = uv_tcp_getpeername(tcp, (struct sockaddr *)&ss, &len);
	memset(out, 0, sizeof(*out));
	if (rc != 0)
		goto out;
	if (ss.ss_family == AF_INET6) {
		memcpy(out->b, &((const struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	} else if (ss.ss_family == AF_INET) {
		out->b[10] = 0xff;
		out->b[11] = 0xff;
		memcpy(out->b + 12, &((const struct sockaddr_in *)&ss)->sin_addr, 4);
	} else {
		rc = UV_EAFNOSUPPORT;
	}
out:
	return rc;
}

static size_t peers_hash(const net_peers_t *p, const net_ip_t *ip)
{
	uint64_t h = 1469598103934665603ull ^ p->seed;
	for (size_t i = 0; i < sizeof(ip->b); i++) {
		h ^= ip->b[i];
		h *= 1099511628211ull;
	}
	return (size_t)(h % NET_PEERS_BUCKETS);
}

static net_peer_t **peers_find(net_peers_t *p, const net_ip_t *ip)
{
	net_peer_t **pp = &p->bucket[peers_hash(p, ip)];
	while (*pp != NULL && memcmp((*pp)->ip.b, ip->b, sizeof(ip->b)) != 0)
		pp = &(*pp)->next;
	return pp;
}

int net_peers_take(net_peers_t *p, const net_ip_t *ip, unsigned limit)
{
	int rc = 0;
	net_peer_t **pp = peers_find(p, ip);
	if (*pp == NULL) {
		net_peer_t *e = calloc(1, sizeof(*e));
		if (e == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		e->ip = *ip;
		*pp = e;
	}
	if (limit > 0 && (*pp)->n >= limit) {
		rc = -EMFILE;
		goto out;
	}
	(*pp)->n++;
out:
	return rc;
}

int net_peers_admit(net_peers_t *p, const uv_tcp_t *tcp, unsigned limit, net_ip_t *ip)
{
	int rc = net_peer_ip(tcp, ip);
	if (rc == 0)
		rc = net_peers_take(p, ip, limit);
	return rc;
}

void net_peers_drop(net_peers_t *p, const net_ip_t *ip)
{
	net_peer_t **pp = peers_find(p, ip);
	net_peer_t *e = *pp;
	if (e == NULL)
		return;
	if (e->n > 0)
		e->n--;
	if (e->n == 0) {
		*pp = e->next;
		free(e);
	}
}

unsigned net_peers_count(const net_peers_t *p, const net_ip_t *ip)
{
	net_peer_t *const *pp = peers_find((net_peers_t *)p, ip);
	return *pp != NULL ? (*pp)->n : 0;
}
