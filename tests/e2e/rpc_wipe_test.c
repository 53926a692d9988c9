/*
 * What a request carried does not stay in ospayd's memory once it is answered
 * (docs/protocol.md, "Card data in memory"): a frame with a random marker in its
 * body goes through the RPC listener, then every writable private mapping of the
 * ospayd process is searched for the marker through /proc/<pid>/mem (a parent may
 * read its child's memory).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/crypto.h"
#include "support/proc.h"
#include "support/suite.h"

TSP_SERVER_SUITE(rpc_wipe, 120);

/* How many copies of marker ospayd's writable private memory holds. */
static int copies_in_server(const uint8_t *marker, size_t n)
{
	char path[64], line[512];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)srv.pid);
	FILE *maps = fopen(path, "r");
	cr_assert_not_null(maps);
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)srv.pid);
	int mem = open(path, O_RDONLY);
	cr_assert_geq(mem, 0, "cannot read ospayd's memory");
	int found = 0;
	size_t cap = 1u << 20;
	uint8_t *chunk = malloc(cap + n);
	cr_assert_not_null(chunk);
	while (fgets(line, sizeof(line), maps) != NULL) {
		unsigned long lo, hi;
		char perms[8];
		/* Writable private mappings up to 4 GiB: not the sanitizers' terabyte-sized
		 * shadow (nor, in an ASan build, its allocator's regions: the check has
		 * teeth in plain builds, where the heap is scanned whole). */
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[1] != 'w' ||
		    perms[3] != 'p' || hi - lo > (1ul << 32))
			continue;
		/* Chunks overlap by n bytes so that no copy is cut in two. */
		for (unsigned long at = lo; at < hi; at += cap) {
			size_t want = hi - at < cap + n ? hi - at : cap + n;
			ssize_t got = pread(mem, chunk, want, (off_t)at);
			const uint8_t *p = chunk, *end = chunk + (got > 0 ? got : 0);
			while (p + n <= end &&
			       (p = memmem(p, (size_t)(end - p), marker, n)) != NULL) {
				found += p < chunk + cap;
				p++;
			}
		}
	}
	free(chunk);
	close(mem);
	fclose(maps);
	return found;
}

Test(rpc_wipe, a_request_body_leaves_no_copy_behind)
{
	int fd = tsp_login(&srv, srv.admin_token);
	uint8_t marker[32];
	cr_assert_eq(crypto_random(marker, sizeof(marker)), 0);
	/* An unknown method: answered without the body ever being decoded, so the only
	 * copies are the listener's (the read buffer, the decoded request). */
	cr_assert_eq(tsp_send_request(fd, 5, "ospay.v1.Nope/Nope", marker, sizeof(marker), NULL),
		     0);
	int code = -1;
	cr_assert_eq(tsp_recv_response(fd, NULL, &code, NULL, NULL, TSP_HANG_MS), 0);
	cr_assert_eq(code, ST_UNIMPLEMENTED);
	int n = copies_in_server(marker, sizeof(marker));
	cr_assert_eq(n, 0, "ospayd still holds %d copies of a request body it answered", n);
	close(fd);
}
