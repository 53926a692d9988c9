/*
 * The billing run's reference (docs/spec.md 8): a bare curl-multi client sending the
 * charge requests ospayd's run sends (Cielo POST /1/sales/ with a stored card
 * token: the same JSON body, field for field, the same headers) to the same
 * sandbox, --concurrency requests in flight on keep-alive connections, and
 * measuring requests per second. It only checks each answer's HTTP status and
 * that the sale was approved; nothing is stored.
 *
 *   BENCH_CIELO_MERCHANT_ID=... BENCH_CIELO_MERCHANT_KEY=... \
 *   bench_ref_curl --url http://H:P/cielo --count N --concurrency K [--card-last D]
 *
 * The card is tokenized once first (POST /1/card/, not measured). Prints one
 * JSON line; diagnostics on stderr.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <curl/curl.h>

#include "support/testdata.h"

#define RC_BODY_MAX 4096
#define RC_RESP_MAX (64 * 1024)

typedef struct rc_xfer {
	CURL *e;
	char body[RC_BODY_MAX];
	char resp[RC_RESP_MAX];
	size_t resp_len;
} rc_xfer_t;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double self_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static size_t on_write(char *p, size_t size, size_t n, void *arg)
{
	rc_xfer_t *x = arg;
	size_t len = size * n;
	size_t room = RC_RESP_MAX - 1 - x->resp_len;
	size_t take = len < room ? len : room;
	memcpy(x->resp + x->resp_len, p, take);
	x->resp_len += take;
	x->resp[x->resp_len] = '\0';
	return len;
}

/* Sets up x for one POST of its body to url with headers. */
static int prepare(rc_xfer_t *x, const char *url, struct curl_slist *headers)
{
	CURLcode ec = CURLE_OK;
	x->resp_len = 0;
	x->resp[0] = '\0';
	if (ec == CURLE_OK)
		ec = curl_easy_setopt(x->e, CURLOPT_URL, url);
	if (ec == CURLE_OK)
		ec = curl_easy_setopt(x->e, CURLOPT_HTTPHEADER, headers);
	if (ec == CURLE_OK)
		ec = curl_easy_setopt(x->e, CURLOPT_POSTFIELDS, x->body);
	if (ec == CURLE_OK)
		ec = curl_easy_setopt(x->e, CURLOPT_POSTFIELDSIZE, (long)strlen(x->body));
	if (ec == CURLE_OK)
		ec = curl_easy_setopt(x->e, CURLOPT_WRITEFUNCTION, on_write);
	if (ec == CURLE_OK)
		ec = curl_easy_setopt(x->e, CURLOPT_WRITEDATA, (void *)x);
	if (ec == CURLE_OK)
		ec = curl_easy_setopt(x->e, CURLOPT_PRIVATE, (void *)x);
	if (ec == CURLE_OK)
		ec = curl_easy_setopt(x->e, CURLOPT_NOSIGNAL, 1L);
	if (ec == CURLE_OK)
		ec = curl_easy_setopt(x->e, CURLOPT_TIMEOUT_MS, 30000L);
	return ec == CURLE_OK ? 0 : -EINVAL;
}

/* The sale body ospayd's billing run sends (gw_cielo_build_sale: a recurring
 * merchant-initiated charge of a stored card, compact JSON in the same order). */
static void sale_body(rc_xfer_t *x, uint64_t seq, const char *token)
{
	snprintf(x->body, sizeof(x->body),
		 "{\"MerchantOrderId\":\"%020" PRIu64 "B1\",\"Payment\":{\"Type\":\"CreditCard\","
		 "\"Amount\":9990,\"Installments\":1,\"Capture\":true,\"Recurrent\":true,"
		 "\"InitiatedTransactionIndicator\":{\"Category\":\"M1\",\"Subcategory\":"
		 "\"Subscription\"},\"CreditCard\":{\"CardToken\":\"%s\",\"Brand\":\"Visa\","
		 "\"CardOnFile\":{\"Usage\":\"Used\",\"Reason\":\"Recurring\"}}}}",
		 seq, token);
}

static void usage(void)
{
	fprintf(stderr, "usage: BENCH_CIELO_MERCHANT_ID=.. BENCH_CIELO_MERCHANT_KEY=.. "
			"bench_ref_curl --url http://H:P/cielo --count N --concurrency K "
			"[--card-last D]\n");
}

int main(int argc, char **argv)
{
	const char *base = NULL;
	const char *mid = getenv("BENCH_CIELO_MERCHANT_ID");
	const char *mkey = getenv("BENCH_CIELO_MERCHANT_KEY");
	uint64_t count = 0;
	unsigned conc = 0, last = 0;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--url") == 0)
			base = argv[i + 1];
		else if (strcmp(argv[i], "--count") == 0)
			count = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--concurrency") == 0)
			conc = (unsigned)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--card-last") == 0)
			last = (unsigned)atoi(argv[i + 1]);
		else {
			usage();
			return 2;
		}
	}
	if (argc % 2 != 1 || base == NULL || mid == NULL || mkey == NULL || count == 0 ||
	    conc == 0) {
		usage();
		return 2;
	}
	int rc = 1;
	char url[512], hid[256], hkey[256], number[20], token[128] = "";
	struct curl_slist *headers = NULL;
	CURLM *multi = NULL;
	rc_xfer_t *xs = calloc(conc, sizeof(*xs));
	uint64_t sent = 0, done = 0, approved = 0, errors = 0;
	if (xs == NULL || tsd_visa_ending(last, number) != 0 ||
	    curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		goto out;
	snprintf(hid, sizeof(hid), "MerchantId: %s", mid);
	snprintf(hkey, sizeof(hkey), "MerchantKey: %s", mkey);
	/* ospayd's headers: Expect off, the credentials, Accept and Content-Type. */
	const char *lines[] = {"Expect:", hid, hkey, "Accept: application/json",
			       "Content-Type: application/json"};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct curl_slist *n = curl_slist_append(headers, lines[i]);
		if (n == NULL)
			goto out;
		headers = n;
	}
	for (unsigned i = 0; i < conc; i++)
		if ((xs[i].e = curl_easy_init()) == NULL)
			goto out;

	/* The card token, as Cards/Add gets it. */
	snprintf(url, sizeof(url), "%s/1/card/", base);
	snprintf(xs[0].body, sizeof(xs[0].body),
		 "{\"CustomerName\":\"MARIA DA SILVA\",\"CardNumber\":\"%s\",\"Holder\":"
		 "\"MARIA DA SILVA\",\"ExpirationDate\":\"12/2030\",\"Brand\":\"Visa\"}",
		 number);
	long code = 0;
	if (prepare(&xs[0], url, headers) != 0 || curl_easy_perform(xs[0].e) != CURLE_OK ||
	    curl_easy_getinfo(xs[0].e, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK || code != 201) {
		fprintf(stderr, "bench_ref_curl: tokenization failed (HTTP %ld)\n", code);
		goto out;
	}
	const char *t = strstr(xs[0].resp, "\"CardToken\":\"");
	if (t == NULL || sscanf(t + 13, "%127[A-Za-z0-9-]", token) != 1) {
		fprintf(stderr, "bench_ref_curl: no CardToken in the answer\n");
		goto out;
	}

	multi = curl_multi_init();
	if (multi == NULL ||
	    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)conc) != CURLM_OK)
		goto out;
	snprintf(url, sizeof(url), "%s/1/sales/", base);
	double cpu0 = self_cpu_s(), t0 = now_s();
	for (unsigned i = 0; i < conc && sent < count; i++) {
		sale_body(&xs[i], ++sent, token);
		if (prepare(&xs[i], url, headers) != 0 ||
		    curl_multi_add_handle(multi, xs[i].e) != CURLM_OK)
			goto out;
	}
	while (done < count) {
		int running = 0, left = 0;
		if (curl_multi_perform(multi, &running) != CURLM_OK)
			goto out;
		CURLMsg *m;
		while ((m = curl_multi_info_read(multi, &left)) != NULL) {
			if (m->msg != CURLMSG_DONE)
				continue;
			rc_xfer_t *x = NULL;
			CURL *e = m->easy_handle;
			CURLcode res = m->data.result;
			curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
			code = 0;
			curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
			curl_multi_remove_handle(multi, e);
			done++;
			/* Status 2: PaymentConfirmed, what an approved captured sale answers. */
			if (res == CURLE_OK && code == 201 &&
			    strstr(x->resp, "\"Status\":2") != NULL)
				approved++;
			else if (errors++ == 0)
				fprintf(stderr, "bench_ref_curl: a sale failed: %s, HTTP %ld\n",
					curl_easy_strerror(res), code);
			if (sent < count) {
				sale_body(x, ++sent, token);
				x->resp_len = 0;
				x->resp[0] = '\0';
				if (curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE,
						     (long)strlen(x->body)) != CURLE_OK ||
				    curl_multi_add_handle(multi, e) != CURLM_OK)
					goto out;
			}
		}
		if (done < count && curl_multi_poll(multi, NULL, 0, 1000, NULL) != CURLM_OK)
			goto out;
	}
	double wall = now_s() - t0, cpu = self_cpu_s() - cpu0;
	printf("{\"bench\":\"ref_curl\",\"requests\":%" PRIu64 ",\"concurrency\":%u,"
	       "\"wall_s\":%.3f,\"requests_per_s\":%.1f,\"approved\":%" PRIu64
	       ",\"errors\":%" PRIu64 ",\"client_cpu_per_request_us\":%.1f}\n",
	       done, conc, wall, (double)done / wall, approved, errors, cpu * 1e6 / (double)done);
	rc = errors == 0 ? 0 : 1;
out:
	if (rc != 0 && done < count)
		fprintf(stderr, "bench_ref_curl: failed after %" PRIu64 " requests\n", done);
	for (unsigned i = 0; xs != NULL && i < conc; i++)
		if (xs[i].e != NULL) {
			if (multi != NULL)
				curl_multi_remove_handle(multi, xs[i].e);
			curl_easy_cleanup(xs[i].e);
		}
	if (multi != NULL)
		curl_multi_cleanup(multi);
	curl_slist_free_all(headers);
	free(xs);
	curl_global_cleanup();
	return rc;
}
