/*
 * Orders/Get over Connect (docs/connect.md): N keep-alive HTTPS connections (libcurl
 * multi), one call in flight on each (HTTP/1.1 unary), for a duration after a warmup,
 * in JSON or binary protobuf. The orders must exist: ids 1..--ids (bench/connect.sh
 * seeds them with bench_loadgen first). Prints one JSON line like bench_loadgen's.
 *
 *   bench_connect --url https://H:P --token T --cacert PEM [--codec json|proto]
 *                 [--conns N] [--duration S] [--warmup S] [--ids K] [--pid PID] [--label L]
 */
#include <curl/curl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ospay/v1/orders.pb-c.h"

#include "hist.h"
#include "sample.h"

typedef struct call {
	CURL *easy;
	char body[64];
	size_t body_len;
	size_t got; /* answer bytes */
	uint64_t start;
} call_t;

static struct {
	const char *url, *token, *cacert, *label;
	bool proto;
	unsigned conns;
	double duration_s, warmup_s;
	uint64_t ids;
	int pid;
} o = {.label = "connect", .conns = 64, .duration_s = 10, .warmup_s = 1, .ids = 1000};

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * UINT64_C(2685821657736338717);
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	call_t *c = arg;
	(void)p;
	c->got += size * n;
	return size * n;
}

/* A fresh Orders/Get body (a random seeded id) in the codec. */
static void next_body(call_t *c)
{
	uint64_t id = 1 + rnd() % o.ids;
	if (o.proto) {
		Ospay__V1__OrdersGetRequest m = OSPAY__V1__ORDERS_GET_REQUEST__INIT;
		m.id = id;
		c->body_len = ospay__v1__orders_get_request__pack(&m, (uint8_t *)c->body);
	} else {
		c->body_len =
			(size_t)snprintf(c->body, sizeof(c->body), "{\"id\":\"%" PRIu64 "\"}", id);
	}
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE, (long)c->body_len);
	c->got = 0;
	c->start = bench_now_ns();
}

static int usage(void)
{
	fprintf(stderr, "usage: bench_connect --url https://H:P --token T --cacert PEM "
			"[--codec json|proto] [--conns N] [--duration S] [--warmup S] [--ids K] "
			"[--pid PID] [--label L]\n");
	return 2;
}

int main(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		if (strcmp(k, "--url") == 0)
			o.url = v;
		else if (strcmp(k, "--token") == 0)
			o.token = v;
		else if (strcmp(k, "--cacert") == 0)
			o.cacert = v;
		else if (strcmp(k, "--codec") == 0)
			o.proto = strcmp(v, "proto") == 0;
		else if (strcmp(k, "--conns") == 0)
			o.conns = (unsigned)atoi(v);
		else if (strcmp(k, "--duration") == 0)
			o.duration_s = atof(v);
		else if (strcmp(k, "--warmup") == 0)
			o.warmup_s = atof(v);
		else if (strcmp(k, "--ids") == 0)
			o.ids = strtoull(v, NULL, 10);
		else if (strcmp(k, "--pid") == 0)
			o.pid = atoi(v);
		else if (strcmp(k, "--label") == 0)
			o.label = v;
		else
			return usage();
	}
	if (o.url == NULL || o.token == NULL || o.cacert == NULL || o.conns == 0 || o.ids == 0)
		return usage();

	char url[256], auth[256];
	snprintf(url, sizeof(url), "%s/ospay.v1.Orders/Get", o.url);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", o.token);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	struct curl_slist *h = NULL;
	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, o.proto ? "Content-Type: application/proto"
					 : "Content-Type: application/json");
	h = curl_slist_append(h, "Connect-Protocol-Version: 1");
	h = curl_slist_append(h, "Expect:");
	CURLM *multi = curl_multi_init();
	curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)o.conns);
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)o.conns);
	call_t *calls = calloc(o.conns, sizeof(*calls));
	hist_t *hist = calloc(1, sizeof(*hist));
	if (multi == NULL || calls == NULL || hist == NULL)
		return 1;
	for (unsigned i = 0; i < o.conns; i++) {
		call_t *c = &calls[i];
		c->easy = curl_easy_init();
		curl_easy_setopt(c->easy, CURLOPT_URL, url);
		curl_easy_setopt(c->easy, CURLOPT_CAINFO, o.cacert);
		curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->body);
		curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
		curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
		curl_easy_setopt(c->easy, CURLOPT_TIMEOUT, 30L);
		next_body(c);
		curl_multi_add_handle(multi, c->easy);
	}

	uint64_t t0 = bench_now_ns();
	uint64_t t_measure = t0 + (uint64_t)(o.warmup_s * 1e9);
	uint64_t t_end = t_measure + (uint64_t)(o.duration_s * 1e9);
	uint64_t ok = 0, errors = 0, measured = 0, resp_bytes = 0;
	double cpu0 = -1, cpu1 = 0, self0 = 0, self1 = 0;
	unsigned live = o.conns;
	int first_status = 0;
	while (live > 0) {
		int running = 0, left = 0;
		curl_multi_perform(multi, &running);
		CURLMsg *msg;
		while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			call_t *c = NULL;
			long status = 0;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
			uint64_t t = bench_now_ns();
			bool good = msg->data.result == CURLE_OK && status == 200;
			if (!good && first_status == 0) {
				first_status = status != 0 ? (int)status : -(int)msg->data.result;
				fprintf(stderr, "bench_connect: HTTP %ld (%s)\n", status,
					curl_easy_strerror(msg->data.result));
			}
			if (t >= t_measure && cpu0 < 0) {
				cpu0 = o.pid > 0 ? bench_proc_cpu_s(o.pid) : 0;
				self0 = bench_self_cpu_s();
			}
			if (good) {
				ok++;
				resp_bytes += c->got;
				if (t >= t_measure && t < t_end) {
					measured++;
					if (c->start >= t_measure)
						hist_record(hist, t - c->start);
				}
			} else {
				errors++;
			}
			curl_multi_remove_handle(multi, c->easy);
			if (t >= t_end) {
				live--;
				continue;
			}
			next_body(c);
			curl_multi_add_handle(multi, c->easy);
		}
		if (live > 0)
			curl_multi_poll(multi, NULL, 0, 100, NULL);
	}
	cpu1 = o.pid > 0 ? bench_proc_cpu_s(o.pid) : 0;
	self1 = bench_self_cpu_s();
	double secs = o.duration_s;
	printf("{\"bench\":\"connect\",\"label\":\"%s\",\"codec\":\"%s\",\"conns\":%u,"
	       "\"inflight\":1,\"calls\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"calls_per_s\":%.0f,"
	       "\"p50_us\":%.1f,\"p99_us\":%.1f,\"resp_body_bytes\":%.0f,\"load_cpu_s\":%.2f",
	       o.label, o.proto ? "proto" : "json", o.conns, ok, errors, (double)measured / secs,
	       (double)hist_percentile(hist, 50) / 1e3, (double)hist_percentile(hist, 99) / 1e3,
	       ok > 0 ? (double)resp_bytes / (double)ok : 0.0, self1 - self0);
	if (o.pid > 0 && measured > 0)
		printf(",\"server_cpu_s\":%.2f,\"server_cpu_per_call_us\":%.2f", cpu1 - cpu0,
		       (cpu1 - cpu0) * 1e6 / (double)measured);
	printf("}\n");
	for (unsigned i = 0; i < o.conns; i++)
		curl_easy_cleanup(calls[i].easy);
	curl_multi_cleanup(multi);
	curl_slist_free_all(h);
	curl_global_cleanup();
	free(calls);
	free(hist);
	return errors > 0 && ok == 0 ? 1 : 0;
}
