/*
 * The billing-run benchmark's client (docs/spec.md 8, issue 7; driven by bench/billing.sh).
 *
 * Against an ospayd on the test clock whose organization charges through the
 * sandbox's Cielo with automatic recurrence on, it sets up (not measured):
 * --customers customers, each with a card (Cards/Add tokenizes at the sandbox)
 * and a recurring service; then, for each --sizes N in order, N invoices due
 * on that size's day (the first size on --date, each next size one day later,
 * the clock advanced by Clock/Advance), spread evenly over the customers.
 * Every setup call is pipelined through libospay: --conns connections with
 * --inflight calls each.
 *
 * Then it calls Billing/RunNow and measures the run: its wall time (from the
 * call to the answer, which comes when the run is over), charges per second,
 * the server's RssAnon just before and its peak during the run (sampled every
 * 10 ms from /proc/<pid>/status), and the server's CPU seconds. The run's
 * counts are RunNow's answer; the jobs and gateway calls in flight (their peaks
 * in the run, and the bound) come from the server's /metrics after it. Prints
 * one JSON line per size.
 *
 *   bench_billing --addr H:P --token T --unit U --pid PID --date YYYY-MM-DD
 *                 --sizes N[,N...] --metrics https://H:P/metrics --cacert PEM
 *                 [--metrics-token-file F] [--customers C] [--card-last D] [--conns K] [--inflight M]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <uv.h>

#include "client/lib/ospay.h"
#include "ospay/v1/billing.pb-c.h"
#include "ospay/v1/cards.pb-c.h"
#include "ospay/v1/clock.pb-c.h"
#include "ospay/v1/customers.pb-c.h"
#include "sample.h"
#include "support/records.h"
#include "support/testdata.h"

#define BB_MAX_SIZES 8
#define BB_DAY_MS (24LL * 3600 * 1000)

enum bb_step { BB_CUSTOMERS, BB_CARDS, BB_SERVICES, BB_INVOICES };

typedef struct bb {
	const char *addr, *token, *date, *metrics, *cacert;
	char metrics_token[160]; /* /metrics's bearer token, "" for none */
	uint64_t unit;
	int pid;
	size_t customers, sizes[BB_MAX_SIZES], n_sizes;
	unsigned conns, inflight, card_last;
	uv_loop_t *loop;
	ospay_client_t **clients;
	uint64_t *cust, *svc;
	char number[20], due[16];
	/* The pipeline of one step. */
	enum bb_step step;
	size_t next, done, total;
	int failed;
	/* The measured run. */
	uv_timer_t sampler;
	bool run_done;
	long rss_peak;
	unsigned long rss_samples;
	Ospay__V1__BillingRunNowResponse *stats;
} bb_t;

typedef struct bb_call {
	bb_t *b;
	unsigned conn;
	size_t i;
} bb_call_t;

/* "YYYY-MM-DD" plus days. */
static int date_plus(const char *date, int days, char out[16])
{
	struct tm tm = {0};
	if (sscanf(date, "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
		return -EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm) + (time_t)days * 86400;
	gmtime_r(&t, &tm);
	strftime(out, 16, "%Y-%m-%d", &tm);
	return 0;
}

/* ------------------------------------------------------------------ pipeline */

static void issue(bb_t *b, unsigned conn);

static const char *step_name(enum bb_step s)
{
	static const char *const names[] = {"Customers/Create", "Cards/Add", "Customers/AddService",
					    "Billing/CreateInvoice"};
	return names[s];
}

static void on_reply(ospay_client_t *c, const status_t *st, const uint8_t *body, size_t len,
		     void *arg)
{
	(void)c;
	bb_call_t *call = arg;
	bb_t *b = call->b;
	size_t i = call->i;
	unsigned conn = call->conn;
	free(call);
	b->done++;
	if (st->code != ST_OK) {
		if (b->failed == 0)
			fprintf(stderr, "bench_billing: %s #%zu answered %d: %s\n",
				step_name(b->step), i, st->code, st->message);
		b->failed = st->code;
		return;
	}
	if (b->step == BB_CUSTOMERS || b->step == BB_SERVICES) {
		/* The new customer's or service's id, for the steps after. */
		bool cust = b->step == BB_CUSTOMERS;
		ProtobufCMessage *m = protobuf_c_message_unpack(
			cust ? &ospay__v1__customers_create_response__descriptor
			     : &ospay__v1__customers_add_service_response__descriptor,
			NULL, len, body);
		uint64_t id = 0;
		if (m == NULL || tsr_record_id(m, cust ? "customer" : "service", &id) != 0)
			b->failed = -EBADMSG;
		else
			(cust ? b->cust : b->svc)[i] = id;
		if (m != NULL)
			protobuf_c_message_free_unpacked(m, NULL);
	}
	if (b->failed == 0)
		issue(b, conn);
}

/* Sends request b->next of the step on connection conn (nothing when all are sent). */
static void issue(bb_t *b, unsigned conn)
{
	if (b->next >= b->total || b->failed != 0)
		return;
	if (b->clients[conn] == NULL) {
		b->failed = -ENOTCONN;
		return;
	}
	size_t i = b->next++;
	bb_call_t *call = malloc(sizeof(*call));
	if (call == NULL) {
		b->failed = -ENOMEM;
		return;
	}
	*call = (bb_call_t){.b = b, .conn = conn, .i = i};
	ProtobufCMessage *msg = NULL;
	const char *method = NULL;
	char name[40], cpf[12];
	Ospay__V1__Address a;
	Ospay__V1__CustomersCreateRequest cc;
	Ospay__V1__CardsAddRequest ca;
	Ospay__V1__RecurringPayment rp = OSPAY__V1__RECURRING_PAYMENT__INIT;
	Ospay__V1__CustomersAddServiceRequest as;
	Ospay__V1__BillingCreateInvoiceRequest ci;
	switch (b->step) {
	case BB_CUSTOMERS:
		snprintf(name, sizeof(name), "Cliente %zu", i + 1);
		tsd_cpf((uint32_t)(i + 1), cpf);
		tsr_customer(&cc, &a, b->unit, name, cpf);
		msg = &cc.base;
		method = "ospay.v1.Customers/Create";
		break;
	case BB_CARDS:
		tsr_card(&ca, b->cust[i], b->number);
		msg = &ca.base;
		method = "ospay.v1.Cards/Add";
		break;
	case BB_SERVICES:
		rp.enabled = true; /* card 0: the customer's default, the one just added */
		tsr_service(&as, b->cust[i], &rp);
		msg = &as.base;
		method = "ospay.v1.Customers/AddService";
		break;
	case BB_INVOICES:
		tsr_invoice(&ci, b->cust[i % b->customers], b->svc[i % b->customers], b->due);
		msg = &ci.base;
		method = "ospay.v1.Billing/CreateInvoice";
		break;
	}
	int rc = ospay_call_msg(b->clients[conn], method, msg, NULL, on_reply, call);
	if (rc < 0) {
		fprintf(stderr, "bench_billing: %s: %s\n", method, strerror(-rc));
		free(call);
		b->failed = rc;
	}
}

/* Runs total calls of step with conns x inflight in flight; 0 or the first error. */
static int pipeline(bb_t *b, enum bb_step step, size_t total)
{
	double t0 = bench_now_s();
	b->step = step;
	b->next = b->done = 0;
	b->total = total;
	b->failed = 0;
	for (unsigned k = 0; k < b->inflight; k++)
		for (unsigned c = 0; c < b->conns; c++)
			issue(b, c);
	/* Calls already sent are waited for even after a failure (their memory). */
	while (b->done < b->next)
		uv_run(b->loop, UV_RUN_ONCE);
	fprintf(stderr, "bench_billing: %zu %s in %.1f s\n", total, step_name(step),
		bench_now_s() - t0);
	return b->failed;
}

/* ------------------------------------------------------------------ one call */

typedef struct bb_one {
	bool done;
	int code;
	ProtobufCMessage *resp;
	const ProtobufCMessageDescriptor *desc;
} bb_one_t;

static void on_one(ospay_client_t *c, const status_t *st, const uint8_t *body, size_t len,
		   void *arg)
{
	(void)c;
	bb_one_t *o = arg;
	o->done = true;
	o->code = st->code;
	if (st->code != ST_OK)
		fprintf(stderr, "bench_billing: answered %d: %s\n", st->code, st->message);
	else if (o->desc != NULL)
		o->resp = protobuf_c_message_unpack(o->desc, NULL, len, body);
}

static int one_call(bb_t *b, const char *method, const ProtobufCMessage *req,
		    const ProtobufCMessageDescriptor *desc, uint32_t deadline_ms,
		    ProtobufCMessage **resp)
{
	bb_one_t o = {.desc = desc};
	if (b->clients[0] == NULL)
		return -ENOTCONN;
	ospay_call_opts_t opts = {.deadline_ms = deadline_ms};
	int rc = ospay_call_msg(b->clients[0], method, req, &opts, on_one, &o);
	if (rc < 0)
		return rc;
	while (!o.done)
		uv_run(b->loop, UV_RUN_ONCE);
	if (o.code == ST_OK && desc != NULL && o.resp == NULL)
		o.code = -EBADMSG;
	if (resp != NULL)
		*resp = o.resp;
	else if (o.resp != NULL)
		protobuf_c_message_free_unpacked(o.resp, NULL);
	return o.code;
}

/* ------------------------------------------------------------------ /metrics */

typedef struct bb_buf {
	char *p;
	size_t len, cap;
} bb_buf_t;

static size_t on_metrics(char *p, size_t size, size_t n, void *arg)
{
	bb_buf_t *b = arg;
	size_t len = size * n;
	if (b->len + len + 1 > b->cap)
		return 0; /* the page is far smaller: something else answered */
	memcpy(b->p + b->len, p, len);
	b->len += len;
	b->p[b->len] = '\0';
	return len;
}

/* The value of an unlabelled metric on the page, or -1. */
static double metric_of(const char *page, const char *name)
{
	size_t n = strlen(name);
	const char *p = page;
	while (p != NULL) {
		if (strncmp(p, name, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return -1;
}

/* What the run's line reports from /metrics (-1: not read). */
typedef struct bb_metrics {
	double in_flight_max, calls_max, limit, commits, writes, commit_s;
} bb_metrics_t;

/* The first line of path into out; 0 or -EINVAL. */
static int read_token_file(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "r");
	int rc = f != NULL && fgets(out, (int)cap, f) != NULL ? 0 : -EINVAL;
	if (f != NULL)
		fclose(f);
	out[strcspn(out, "\r\n")] = '\0';
	return rc;
}

static void read_metrics(bb_t *b, bb_metrics_t *out)
{
	static char page[128 * 1024];
	bb_buf_t buf = {.p = page, .cap = sizeof(page)};
	*out = (bb_metrics_t){-1, -1, -1, -1, -1, -1};
	page[0] = '\0';
	CURL *e = curl_easy_init();
	if (e == NULL)
		return;
	curl_easy_setopt(e, CURLOPT_URL, b->metrics);
	curl_easy_setopt(e, CURLOPT_CAINFO, b->cacert);
	if (b->metrics_token[0] != '\0') {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
		curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, b->metrics_token);
	}
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_metrics);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)&buf);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
	CURLcode ec = curl_easy_perform(e);
	curl_easy_cleanup(e);
	if (ec != CURLE_OK) {
		fprintf(stderr, "bench_billing: /metrics: %s\n", curl_easy_strerror(ec));
		return;
	}
	out->in_flight_max = metric_of(page, "ospay_billing_in_flight_max");
	out->calls_max = metric_of(page, "ospay_billing_calls_in_flight_max");
	out->limit = metric_of(page, "ospay_billing_in_flight_limit");
	out->commits = metric_of(page, "ospay_store_commits_total");
	out->writes = metric_of(page, "ospay_store_writes_committed_total");
	out->commit_s = metric_of(page, "ospay_store_commit_duration_seconds_sum");
}

/* ------------------------------------------------------------------ the run */

static void on_sample(uv_timer_t *t)
{
	bb_t *b = t->data;
	long kb = bench_rss_anon_kb(b->pid);
	b->rss_samples++;
	if (kb > b->rss_peak)
		b->rss_peak = kb;
}

static void on_run(ospay_client_t *c, const status_t *st, const uint8_t *body, size_t len,
		   void *arg)
{
	(void)c;
	bb_t *b = arg;
	b->run_done = true;
	if (st->code != ST_OK) {
		fprintf(stderr, "bench_billing: Billing/RunNow answered %d: %s\n", st->code,
			st->message);
		return;
	}
	b->stats = ospay__v1__billing_run_now_response__unpack(NULL, len, body);
}

/* One size: its invoices, then the measured run; prints its JSON line. */
static int run_size(bb_t *b, size_t k)
{
	size_t n = b->sizes[k];
	int rc = 0;
	if (k > 0) {
		Ospay__V1__AdvanceRequest adv = OSPAY__V1__ADVANCE_REQUEST__INIT;
		adv.by_ms = BB_DAY_MS;
		rc = one_call(b, "ospay.v1.Clock/Advance", &adv.base, NULL, 0, NULL);
		/* Advance kicks a run: it is over before this size's invoices exist. */
		Ospay__V1__BillingRunNowRequest idle = OSPAY__V1__BILLING_RUN_NOW_REQUEST__INIT;
		if (rc == 0)
			rc = one_call(b, "ospay.v1.Billing/RunNow", &idle.base, NULL, 600 * 1000,
				      NULL);
		if (rc != 0)
			return rc;
	}
	if (date_plus(b->date, (int)k, b->due) != 0)
		return -EINVAL;
	double t0 = bench_now_s();
	rc = pipeline(b, BB_INVOICES, n);
	if (rc != 0)
		return rc;
	double setup_s = bench_now_s() - t0;
	long rss_before = bench_rss_anon_kb(b->pid);
	b->rss_peak = rss_before;
	b->rss_samples = 0;
	b->run_done = false;
	b->stats = NULL;
	uv_timer_start(&b->sampler, on_sample, 10, 10);
	Ospay__V1__BillingRunNowRequest req = OSPAY__V1__BILLING_RUN_NOW_REQUEST__INIT;
	/* The answer comes when the run is over: far past the default deadline. */
	ospay_call_opts_t opts = {.deadline_ms = 3600 * 1000};
	bb_metrics_t m0, m;
	read_metrics(b, &m0);
	double cpu0 = bench_proc_cpu_s(b->pid);
	double t1 = bench_now_s();
	if (b->clients[0] == NULL)
		return -ENOTCONN;
	rc = ospay_call_msg(b->clients[0], "ospay.v1.Billing/RunNow", &req.base, &opts, on_run, b);
	if (rc < 0)
		return rc;
	while (!b->run_done)
		uv_run(b->loop, UV_RUN_ONCE);
	double wall = bench_now_s() - t1;
	double cpu = bench_proc_cpu_s(b->pid) - cpu0;
	uv_timer_stop(&b->sampler);
	on_sample(&b->sampler);
	Ospay__V1__BillingRunNowResponse *s = b->stats;
	if (s == NULL)
		return -EIO;
	read_metrics(b, &m);
	/* The store's commits in the run (the loop waits for each one's fdatasync). */
	double commits = m.commits - m0.commits, writes = m.writes - m0.writes;
	double commit_s = m.commit_s - m0.commit_s;
	printf("{\"bench\":\"billing_run\",\"invoices\":%zu,\"customers\":%zu,\"due\":\"%s\","
	       "\"wall_s\":%.3f,\"charges_per_s\":%.1f,\"examined\":%" PRIu64
	       ",\"charged\":%" PRIu64 ",\"approved\":%" PRIu64 ",\"declined\":%" PRIu64
	       ",\"unknown\":%" PRIu64 ",\"failed\":%" PRIu64
	       ",\"rss_anon_before_kb\":%ld,\"rss_anon_peak_kb\":%ld,\"rss_samples\":%lu,"
	       "\"server_cpu_s\":%.2f,\"server_cpu_per_charge_us\":%.1f,"
	       "\"in_flight_max\":%.0f,\"calls_in_flight_max\":%.0f,\"in_flight_limit\":%.0f,"
	       "\"store_commits\":%.0f,\"writes_per_commit\":%.1f,\"commit_s\":%.2f,"
	       "\"invoices_setup_s\":%.1f}\n",
	       n, b->customers, b->due, wall, (double)s->charged / wall, s->examined, s->charged,
	       s->approved, s->declined, s->unknown, s->failed, rss_before, b->rss_peak,
	       b->rss_samples, cpu, s->charged > 0 ? cpu * 1e6 / (double)s->charged : 0.0,
	       m.in_flight_max, m.calls_max, m.limit, commits, commits > 0 ? writes / commits : 0.0,
	       commit_s, setup_s);
	fflush(stdout);
	/* Every invoice due must have been charged once, or the figure means nothing. */
	if (s->charged != n || s->failed != 0) {
		fprintf(stderr,
			"bench_billing: %zu invoices due but %" PRIu64 " charged, %" PRIu64
			" failed\n",
			n, s->charged, s->failed);
		rc = -EPROTO;
	}
	ospay__v1__billing_run_now_response__free_unpacked(s, NULL);
	return rc;
}

/* ------------------------------------------------------------------ main */

static void on_connect(ospay_client_t *c, const status_t *st, void *arg)
{
	(void)c;
	ospay_client_t **slot = arg;
	if (st->code != ST_OK) {
		/* The client frees itself: never closed again. Its queued calls fail. */
		fprintf(stderr, "bench_billing: Hello failed: %d %s\n", st->code, st->message);
		*slot = NULL;
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_billing --addr H:P --token T --unit U --pid PID "
			"--date YYYY-MM-DD --sizes N[,N...]\n"
			"       --metrics https://H:P/metrics --cacert PEM\n"
			"       [--customers C] [--card-last D] [--conns K] [--inflight M]\n");
}

static int parse_sizes(bb_t *b, const char *arg)
{
	char *end;
	const char *p = arg;
	b->n_sizes = 0;
	while (*p != '\0' && b->n_sizes < BB_MAX_SIZES) {
		unsigned long long v = strtoull(p, &end, 10);
		if (end == p || v == 0)
			return -EINVAL;
		b->sizes[b->n_sizes++] = (size_t)v;
		p = *end == ',' ? end + 1 : end;
		if (*end != ',' && *end != '\0')
			return -EINVAL;
	}
	return b->n_sizes > 0 && *p == '\0' ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	bb_t b = {.conns = 8, .inflight = 64};
	const char *token_file = NULL, *sizes = NULL;
	const bench_opt_t opts[] = {
		{"--addr", BENCH_TEXT, &b.addr},
		{"--token", BENCH_TEXT, &b.token},
		{"--unit", BENCH_U64, &b.unit},
		{"--pid", BENCH_INT, &b.pid},
		{"--date", BENCH_TEXT, &b.date},
		{"--metrics", BENCH_TEXT, &b.metrics},
		{"--cacert", BENCH_TEXT, &b.cacert},
		{"--metrics-token-file", BENCH_TEXT, &token_file},
		{"--sizes", BENCH_TEXT, &sizes},
		{"--customers", BENCH_SIZE, &b.customers},
		{"--card-last", BENCH_UINT, &b.card_last},
		{"--conns", BENCH_UINT, &b.conns},
		{"--inflight", BENCH_UINT, &b.inflight},
	};
	int rc = bench_opts_parse(argc, argv, 1, opts, sizeof(opts) / sizeof(opts[0]));
	if (rc == 0 && token_file != NULL)
		rc = read_token_file(token_file, b.metrics_token, sizeof(b.metrics_token));
	if (rc == 0 && sizes != NULL)
		rc = parse_sizes(&b, sizes);
	if (rc != 0) {
		usage();
		return 2;
	}
	if (b.addr == NULL || b.token == NULL || b.unit == 0 || b.pid <= 0 || b.date == NULL ||
	    b.n_sizes == 0 || b.conns == 0 || b.inflight == 0 || b.metrics == NULL ||
	    b.cacert == NULL) {
		usage();
		return 2;
	}
	/* One customer per invoice of the largest size unless told otherwise. */
	if (b.customers == 0)
		for (size_t k = 0; k < b.n_sizes; k++)
			if (b.sizes[k] > b.customers)
				b.customers = b.sizes[k];
	b.cust = calloc(b.customers, sizeof(*b.cust));
	b.svc = calloc(b.customers, sizeof(*b.svc));
	b.clients = calloc(b.conns, sizeof(*b.clients));
	if (b.cust == NULL || b.svc == NULL || b.clients == NULL ||
	    tsd_visa_ending(b.card_last, b.number) != 0) {
		rc = -ENOMEM;
		goto out;
	}
	b.loop = uv_default_loop();
	uv_timer_init(b.loop, &b.sampler);
	b.sampler.data = &b;
	for (unsigned c = 0; c < b.conns && rc == 0; c++)
		rc = ospay_client_connect(b.loop, b.addr, b.token, on_connect, &b.clients[c],
					  &b.clients[c]);
	if (rc != 0)
		goto out;
	double t0 = bench_now_s();
	rc = pipeline(&b, BB_CUSTOMERS, b.customers);
	if (rc == 0)
		rc = pipeline(&b, BB_CARDS, b.customers);
	if (rc == 0)
		rc = pipeline(&b, BB_SERVICES, b.customers);
	if (rc == 0)
		fprintf(stderr,
			"bench_billing: %zu customers with a card and a service in %.1f s\n",
			b.customers, bench_now_s() - t0);
	for (size_t k = 0; k < b.n_sizes && rc == 0; k++)
		rc = run_size(&b, k);
out:
	for (unsigned c = 0; b.clients != NULL && c < b.conns; c++)
		if (b.clients[c] != NULL)
			ospay_client_close(b.clients[c]);
	if (b.loop != NULL) {
		uv_close((uv_handle_t *)&b.sampler, NULL);
		uv_run(b.loop, UV_RUN_DEFAULT);
	}
	free(b.cust);
	free(b.svc);
	free(b.clients);
	if (rc != 0)
		fprintf(stderr, "bench_billing: failed (%d)\n", rc);
	return rc == 0 ? 0 : 1;
}
