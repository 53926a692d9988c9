/*
 * RPC fairness against a real ospayd (docs/protocol.md, "Fairness"): fifty
 * authenticated clients pipeline reads and never read a reply; a fresh client
 * still gets Hello and a call through quickly, and the server's memory stays
 * bounded. Latency and memory are measured (the clock, /proc), with bounds far
 * above what the server does and far below what it did without the limits.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/rpc.pb-c.h"
#include "support/proc.h"
#include "support/suite.h"

#define CREATE_UNIT "ospay.v1.Admin/CreateUnit"
#define LIST_UNITS "ospay.v1.Admin/ListUnits"

enum {
	UNITS = 300,     /* each ListUnits reply ~12 KB */
	HOGS = 50,       /* connections that never read */
	ROUNDS = 20,     /* pushes of 100 ms once the pipes are full */
	FILL_MS = 20000, /* hang guard while the hogs fill their pipes */
};

TSP_SERVER_SUITE(rpc_fairness, 300);

static size_t list_units_frame(uint8_t *out, uint32_t page_size)
{
	uint8_t body[32];
	Ospay__V1__ListUnitsRequest m = OSPAY__V1__LIST_UNITS_REQUEST__INIT;
	m.page_size = page_size;
	size_t blen = ospay__v1__list_units_request__pack(&m, body);
	return tsp_frame_request(out, 9, LIST_UNITS, body, blen, NULL);
}

/* UNITS units with long names, so that every ListUnits reply is large. */
static void create_units(int fd)
{
	for (int i = 0; i < UNITS; i++) {
		uint8_t body[96], f[160];
		char name[64];
		snprintf(name, sizeof(name), "a unit with a rather long name, number %d", i);
		Ospay__V1__CreateUnitRequest m = OSPAY__V1__CREATE_UNIT_REQUEST__INIT;
		m.name = name;
		size_t blen = ospay__v1__create_unit_request__pack(&m, body);
		size_t n = tsp_frame_request(f, (uint64_t)i + 10, CREATE_UNIT, body, blen, NULL);
		cr_assert_eq(send(fd, f, n, MSG_NOSIGNAL), (ssize_t)n);
	}
	for (int i = 0; i < UNITS; i++) {
		int code = -1;
		cr_assert_eq(tsp_recv_response(fd, NULL, &code, NULL, NULL, TSP_HANG_MS), 0);
		cr_assert_eq(code, 0);
	}
}

/*
 * Sends what the socket takes of an endless stream of f; false once it takes
 * nothing. A hog the server closed (it stalled over the output cap) is closed
 * here too and *fd becomes -1.
 */
static bool hog_push(int *fd, const uint8_t *f, size_t flen, size_t *sent)
{
	bool moved = false;
	while (*fd >= 0) {
		size_t off = *sent % flen; /* a partial send leaves the rest of a frame */
		ssize_t w = send(*fd, f + off, flen - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			*sent += (size_t)w;
			moved = true;
			continue;
		}
		if (w < 0 && (errno == EPIPE || errno == ECONNRESET)) {
			close(*fd);
			*fd = -1;
			break;
		}
		cr_assert(w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK),
			  "a hog's send failed: %s", strerror(errno));
		break;
	}
	return moved;
}

/* What the measuring thread saw: fresh clients' Hello + one call. */
typedef struct probe {
	const uint8_t *frame;
	size_t flen;
	atomic_bool stop;
	uint64_t worst_ms, sum_ms;
	unsigned n, failed;
	long rss_max;
} probe_t;

/* Connect, Hello, one ListUnits call: the milliseconds it all took, or -1. */
static int64_t fresh_client_ms(const probe_t *p)
{
	int64_t ms = -1;
	uint64_t t0 = tsp_now_ms();
	int code = -1, fd = tsp_connect(srv.rpc_addr);
	if (fd < 0 || tsp_hello(fd, srv.admin_token) != 0)
		goto out;
	if (send(fd, p->frame, p->flen, MSG_NOSIGNAL) != (ssize_t)p->flen ||
	    tsp_recv_response(fd, NULL, &code, NULL, NULL, TSP_HANG_MS) != 0 || code != 0)
		goto out;
	ms = (int64_t)(tsp_now_ms() - t0);
out:
	if (fd >= 0)
		close(fd);
	return ms;
}

/* Measures a fresh client every 100 ms, and the server's RssAnon, until told to stop. */
static void *probe_run(void *arg)
{
	probe_t *p = arg;
	while (!atomic_load(&p->stop)) {
		int64_t ms = fresh_client_ms(p);
		if (ms < 0) {
			p->failed++;
		} else {
			p->n++;
			p->sum_ms += (uint64_t)ms;
			p->worst_ms = (uint64_t)ms > p->worst_ms ? (uint64_t)ms : p->worst_ms;
		}
		long rss = tsp_server_rss_anon_kb(&srv);
		p->rss_max = rss > p->rss_max ? rss : p->rss_max;
		poll(NULL, 0, 100);
	}
	return NULL;
}

Test(rpc_fairness, fifty_non_readers_keep_neither_latency_nor_memory)
{
	int admin = tsp_login(&srv, srv.admin_token);
	create_units(admin);
	long rss0 = tsp_server_rss_anon_kb(&srv);
	cr_assert_gt(rss0, 0);

	uint8_t big[64], small[64];
	size_t blen = list_units_frame(big, 1000), slen = list_units_frame(small, 1);
	int hogs[HOGS];
	size_t sent[HOGS] = {0};
	for (int i = 0; i < HOGS; i++)
		hogs[i] = tsp_login(&srv, srv.admin_token);

	probe_t pr = {.frame = small, .flen = slen};
	atomic_init(&pr.stop, false);
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, probe_run, &pr), 0);
	/* Every hog pushes until its pipe is full, i.e. the server stopped reading it (its
	 * replies fill the kernel's buffers, then the server's); a fresh client is
	 * measured all along. */
	uint64_t t_fill = tsp_now_ms();
	for (bool any = true; any && tsp_now_ms() - t_fill < FILL_MS;) {
		any = false;
		for (int i = 0; i < HOGS; i++)
			any |= hog_push(&hogs[i], i % 2 ? big : small, i % 2 ? blen : slen,
					&sent[i]);
		if (any)
			poll(NULL, 0, 20);
	}
	/* A little longer with the pipes full. */
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < HOGS; i++)
			hog_push(&hogs[i], i % 2 ? big : small, i % 2 ? blen : slen, &sent[i]);
		poll(NULL, 0, 100);
	}
	atomic_store(&pr.stop, true);
	pthread_join(th, NULL);
	uint64_t worst = pr.worst_ms;
	long rss_max = pr.rss_max;
	size_t total = 0;
	int closed = 0;
	for (int i = 0; i < HOGS; i++) {
		total += sent[i] / (i % 2 ? blen : slen);
		closed += hogs[i] < 0;
	}
	cr_log_info("fairness: %d hogs, %zu unread ListUnits calls sent (~12 KB replies); fresh "
		    "client Hello + call: worst %llu ms, mean %llu ms; RssAnon %+ld KiB; %d hogs "
		    "closed",
		    HOGS, total, (unsigned long long)worst,
		    (unsigned long long)(pr.n ? pr.sum_ms / pr.n : 0), rss_max - rss0, closed);
	cr_assert_gt(pr.n, 0, "no fresh client got through");
	cr_assert_eq(pr.failed, 0, "%u fresh clients failed", pr.failed);
	/* The target is 1 s at p99; 5 s leaves room for a busy machine. */
	cr_assert_lt(worst, 5000, "a fresh client waited %llu ms behind %d non-readers",
		     (unsigned long long)worst, HOGS);
	/* The output cap is 8 MiB (about 21 MiB of growth measured); without it the hogs
	 * held 1-2 MiB each (about 80 MiB). AddressSanitizer keeps freed memory in
	 * quarantine (hundreds of MiB here), so only a plain build measures this. */
#if !defined(__SANITIZE_ADDRESS__)
	cr_assert_lt(rss_max - rss0, 48 * 1024, "RssAnon grew by %ld KiB with %d non-readers",
		     rss_max - rss0, HOGS);
#endif
	for (int i = 0; i < HOGS; i++)
		if (hogs[i] >= 0)
			close(hogs[i]);
	/* The server is still whole: the admin connection works. */
	uint8_t f[64];
	size_t n = list_units_frame(f, 1);
	cr_assert_eq(send(admin, f, n, MSG_NOSIGNAL), (ssize_t)n);
	int code = -1;
	cr_assert_eq(tsp_recv_response(admin, NULL, &code, NULL, NULL, TSP_HANG_MS), 0);
	cr_assert_eq(code, 0);
	close(admin);
}
