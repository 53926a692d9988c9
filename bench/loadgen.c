/*
 * Load generator (docs/spec.md 8, issue 7): N connections x M calls in flight on one
 * libuv loop, against ospayd through libospay or, in raw mode, against any
 * server answering length-prefixed frames (bench/ref_echo.c).
 *
 * Every completed call immediately starts the next one on the same connection,
 * so the depth stays at M until the run ends (by duration or by count). Call
 * latencies go into a log-linear histogram (HdrHistogram-style: 1024 linear
 * sub-buckets per power of two, under 0.1 % relative error). With --pid, the
 * server's CPU seconds (utime + stime) over the measured window and its peak
 * RssAnon (sampled every 50 ms) are read from /proc/<pid>/.
 *
 * RPC mode: a customer is created, then --seed orders (Orders/Create, the same
 * connections and depth, not measured) so that Orders/Get has existing ids;
 * then the measured run with --get-pct percent Orders/Get, the rest
 * Orders/Create (durable: the server answers after the commit).
 *
 *   loadgen --addr H:P --token T [--conns N] [--inflight M] [--duration S | --count C]
 *           [--warmup S] [--get-pct P] [--seed K] [--pid PID] [--label NAME]
 *   loadgen --raw --addr H:P --req-bytes R --resp-bytes S [same load options]
 *
 * Prints one JSON line per run on stdout; diagnostics on stderr.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "client/lib/ospay.h"
#include "common/util.h"
#include "ospay/v1/customers.pb-c.h"
#include "ospay/v1/orders.pb-c.h"
#include "ospay/v1/rpc.pb-c.h"

#include "hist.h"
#include "sample.h"
#include "support/records.h"
#include "support/testdata.h"

/* ------------------------------------------------------------------ the run */

enum call_kind { K_GET, K_CREATE, K_RAW };

typedef struct opts {
	const char *addr, *token, *label;
	unsigned conns, inflight, get_pct;
	double duration_s, warmup_s;
	uint64_t count, seed;
	int pid;
	bool raw;
	size_t req_bytes, resp_bytes;
} opts_t;

typedef struct run run_t;

typedef struct conn {
	run_t *run;
	unsigned idx;
	ospay_client_t *client;
	/* Raw mode: the socket, unparsed input, and the send times of frames in flight
	 * (the echo answers in order, so a ring is enough). */
	uv_tcp_t tcp;
	uv_connect_t connect_req;
	uint8_t *in;
	size_t in_len, in_cap;
	uint64_t *sent;
	unsigned head, n_sent;
	bool open;
} conn_t;

typedef struct slot {
	conn_t *conn;
	enum call_kind kind;
	uint64_t start;
} slot_t;

struct run {
	const opts_t *o;
	uv_loop_t *loop;
	conn_t *conns;
	slot_t *slots;
	uv_timer_t tick;
	bool measuring, stopping, seeding;
	uint64_t t_start, t_measure, t_end, deadline, give_up;
	uint64_t issued, done_ok, errors, done_get, done_create;
	uint64_t measured_ok;
	uint64_t req_body_sum, resp_body_sum, n_bodies;
	uint64_t customer;
	uint64_t *ids;
	size_t n_ids, cap_ids;
	uint64_t rng;
	unsigned live_slots, open_conns;
	double cpu0, cpu1, self0, self1;
	long rss_peak;
	hist_t hist;
	int first_error;
	uint8_t get_body[16], create_body[256];
	size_t get_len, create_len;
};

static uint64_t rnd(run_t *r)
{
	/* xorshift64*: cheap and good enough to spread Gets over the seeded ids. */
	r->rng ^= r->rng >> 12;
	r->rng ^= r->rng << 25;
	r->rng ^= r->rng >> 27;
	return r->rng * UINT64_C(2685821657736338717);
}

static void slot_next(run_t *r, slot_t *s);

static bool run_over(run_t *r, uint64_t t)
{
	if (r->stopping)
		return true;
	if (r->o->count > 0)
		return r->issued >= r->o->count;
	return t >= r->deadline;
}

static void sample_proc(run_t *r)
{
	if (r->o->pid <= 0)
		return;
	long kb = bench_rss_anon_kb(r->o->pid);
	if (kb > r->rss_peak)
		r->rss_peak = kb;
}

static void close_all(run_t *r);

static void slot_done(run_t *r, slot_t *s, bool ok, uint64_t t)
{
	/* Throughput counts every answer in the window; latency only calls started in it. */
	if (r->measuring && t >= r->t_measure) {
		if (s->start >= r->t_measure)
			hist_record(&r->hist, t - s->start);
		if (ok)
			r->measured_ok++;
	}
	if (ok) {
		r->done_ok++;
		if (s->kind == K_GET)
			r->done_get++;
		else if (s->kind == K_CREATE)
			r->done_create++;
	} else {
		r->errors++;
	}
	if (!r->measuring && !r->seeding && t >= r->t_measure) {
		r->measuring = true;
		r->cpu0 = r->o->pid > 0 ? bench_proc_cpu_s(r->o->pid) : 0;
		r->self0 = bench_self_cpu_s();
	}
	if (run_over(r, t)) {
		r->live_slots--;
		if (r->live_slots == 0) {
			r->t_end = t;
			r->self1 = bench_self_cpu_s();
			if (r->o->pid > 0)
				r->cpu1 = bench_proc_cpu_s(r->o->pid);
			close_all(r);
		}
		return;
	}
	slot_next(r, s);
}

/* ---- RPC mode */

static void on_call(ospay_client_t *c, const status_t *st, const uint8_t *body, size_t len,
		    void *arg)
{
	slot_t *s = arg;
	run_t *r = s->conn->run;
	uint64_t t = bench_now_ns();
	bool ok = st->code == ST_OK;
	if (!ok && r->first_error == 0) {
		r->first_error = st->code;
		fprintf(stderr, "loadgen: %s answered %d: %s\n",
			s->kind == K_GET ? "Orders/Get" : "Orders/Create", st->code, st->message);
	}
	if (ok) {
		r->resp_body_sum += len;
		r->n_bodies++;
	}
	if (ok && r->seeding && s->kind == K_CREATE) {
		Ospay__V1__OrdersCreateResponse *m =
			ospay__v1__orders_create_response__unpack(NULL, len, body);
		if (m != NULL && m->order != NULL && r->n_ids < r->cap_ids)
			r->ids[r->n_ids++] = m->order->id;
		if (m != NULL)
			ospay__v1__orders_create_response__free_unpacked(m, NULL);
	}
	slot_done(r, s, ok, t);
}

static void slot_next(run_t *r, slot_t *s)
{
	conn_t *c = s->conn;
	const void *body;
	size_t len;
	const char *method;
	bool get = !r->seeding && r->n_ids > 0 && rnd(r) % 100 < r->o->get_pct;
	if (get) {
		Ospay__V1__OrdersGetRequest m = OSPAY__V1__ORDERS_GET_REQUEST__INIT;
		m.id = r->ids[rnd(r) % r->n_ids];
		r->get_len = ospay__v1__orders_get_request__pack(&m, r->get_body);
		body = r->get_body;
		len = r->get_len;
		method = "ospay.v1.Orders/Get";
		s->kind = K_GET;
	} else {
		body = r->create_body;
		len = r->create_len;
		method = "ospay.v1.Orders/Create";
		s->kind = K_CREATE;
	}
	s->start = bench_now_ns();
	r->issued++;
	r->req_body_sum += len;
	int rc = ospay_call(c->client, method, body, len, NULL, on_call, s);
	if (rc < 0) {
		/* The connection is gone: the slot ends here (counted as an error). */
		if (r->first_error == 0) {
			r->first_error = rc;
			fprintf(stderr, "loadgen: ospay_call: %s\n", strerror(-rc));
		}
		r->stopping = true;
		slot_done(r, s, false, bench_now_ns());
	}
}

static void on_connect(ospay_client_t *cl, const status_t *st, void *arg)
{
	conn_t *c = arg;
	if (st->code != ST_OK) {
		fprintf(stderr, "loadgen: Hello failed: %d %s\n", st->code, st->message);
		/* The client frees itself; its queued calls are answered with this status. */
		c->client = NULL;
		c->run->stopping = true;
	}
}

/* ---- raw mode */

static void raw_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	conn_t *c = h->data;
	if (c->in_cap - c->in_len < 65536) {
		size_t cap = c->in_cap * 2 > c->in_len + 65536 ? c->in_cap * 2 : c->in_len + 65536;
		uint8_t *p = realloc(c->in, cap);
		if (p == NULL) {
			*buf = uv_buf_init(NULL, 0);
			return;
		}
		c->in = p;
		c->in_cap = cap;
	}
	*buf = uv_buf_init((char *)c->in + c->in_len, (unsigned)(c->in_cap - c->in_len));
}

static void raw_write_done(uv_write_t *w, int status)
{
	free(w);
}

/* Sends n request frames in one write: the same batching per read that ospayd does. */
static void raw_send(conn_t *c, unsigned n)
{
	run_t *r = c->run;
	size_t fb = r->o->req_bytes;
	uv_write_t *w = malloc(sizeof(*w) + fb * n);
	if (w == NULL) {
		r->stopping = true;
		return;
	}
	uint8_t *p = (uint8_t *)(w + 1);
	uint64_t t = bench_now_ns();
	for (unsigned i = 0; i < n; i++) {
		uint8_t *f = p + fb * i;
		be32_put(f, (uint32_t)(fb - 4));
		memset(f + 4, 'q', fb - 4);
		c->sent[(c->head + c->n_sent) % r->o->inflight] = t;
		c->n_sent++;
		r->issued++;
	}
	uv_buf_t b = uv_buf_init((char *)p, (unsigned)(fb * n));
	if (uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, raw_write_done) != 0) {
		free(w);
		r->stopping = true;
	}
}

static void raw_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	conn_t *c = st->data;
	run_t *r = c->run;
	if (nread < 0) {
		if (!r->stopping)
			fprintf(stderr, "loadgen: raw read: %s\n", uv_strerror((int)nread));
		r->stopping = true;
		close_all(r);
		return;
	}
	c->in_len += (size_t)nread;
	uint64_t t = bench_now_ns();
	size_t off = 0;
	unsigned again = 0;
	while (c->in_len - off >= 4) {
		size_t n = be32_get(c->in + off);
		if (c->in_len - off < 4 + n)
			break;
		off += 4 + n;
		if (c->n_sent == 0)
			continue;
		slot_t s = {.conn = c, .kind = K_RAW, .start = c->sent[c->head]};
		c->head = (c->head + 1) % r->o->inflight;
		c->n_sent--;
		r->resp_body_sum += n + 4;
		r->n_bodies++;
		/* slot_next is not used here: a frame to send is only counted, and all the
		 * frames a read completed go out together below. */
		bool over = run_over(r, t);
		if (r->measuring) {
			if (s.start >= r->t_measure)
				hist_record(&r->hist, t - s.start);
			r->measured_ok++;
		}
		r->done_ok++;
		if (!r->measuring && t >= r->t_measure) {
			r->measuring = true;
			r->cpu0 = r->o->pid > 0 ? bench_proc_cpu_s(r->o->pid) : 0;
			r->self0 = bench_self_cpu_s();
		}
		if (!over)
			again++;
		else if (--r->live_slots == 0) {
			r->t_end = t;
			r->self1 = bench_self_cpu_s();
			if (r->o->pid > 0)
				r->cpu1 = bench_proc_cpu_s(r->o->pid);
		}
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	if (again > 0)
		raw_send(c, again);
	if (r->live_slots == 0)
		close_all(r);
}

static void raw_connected(uv_connect_t *req, int status)
{
	conn_t *c = req->data;
	run_t *r = c->run;
	if (status != 0) {
		fprintf(stderr, "loadgen: connect: %s\n", uv_strerror(status));
		r->stopping = true;
		close_all(r);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	uv_read_start((uv_stream_t *)&c->tcp, raw_alloc, raw_read);
	raw_send(c, r->o->inflight);
}

static void raw_closed(uv_handle_t *h)
{
	conn_t *c = h->data;
	c->run->open_conns--;
	if (c->run->open_conns == 0)
		uv_close((uv_handle_t *)&c->run->tick, NULL);
}

/* ---- both modes */

static void close_all(run_t *r)
{
	for (unsigned i = 0; i < r->o->conns; i++) {
		conn_t *c = &r->conns[i];
		if (!c->open)
			continue;
		c->open = false;
		if (r->o->raw) {
			uv_close((uv_handle_t *)&c->tcp, raw_closed);
		} else {
			if (c->client != NULL)
				ospay_client_close(c->client);
			c->client = NULL;
		}
	}
	if (!r->o->raw && !uv_is_closing((uv_handle_t *)&r->tick))
		uv_close((uv_handle_t *)&r->tick, NULL);
}

static void on_tick(uv_timer_t *t)
{
	run_t *r = t->data;
	sample_proc(r);
	/* A stalled server must not hang the bench: 30 s past the end (5 min for a count),
	 * cancel what is left
	 * (RPC calls are then answered CANCELLED; raw connections are closed). */
	if (bench_now_ns() > r->give_up) {
		fprintf(stderr, "loadgen: calls still pending 30 s after the end; giving up\n");
		r->stopping = true;
		close_all(r);
	}
}

static int parse_addr(const char *addr, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(addr, ':');
	if (colon == NULL || (size_t)(colon - addr) >= sizeof(host))
		return -EINVAL;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	return uv_ip4_addr(host, atoi(colon + 1), sa);
}

/* One phase on a fresh loop: every connection opened, depth kept, everything closed. */
static int run_phase(run_t *r)
{
	const opts_t *o = r->o;
	int rc = 0;
	r->loop = uv_default_loop();
	r->t_start = bench_now_ns();
	r->t_measure = r->t_start + (r->seeding ? 0 : (uint64_t)(o->warmup_s * 1e9));
	r->deadline = r->t_measure + (uint64_t)(o->duration_s * 1e9);
	r->give_up = (o->count > 0 ? r->t_start + 300 * UINT64_C(1000000000) : r->deadline) +
		     30 * UINT64_C(1000000000);
	r->measuring = false;
	r->stopping = false;
	r->issued = r->done_ok = r->errors = r->measured_ok = 0;
	r->open_conns = o->conns;
	r->live_slots = o->conns * o->inflight;
	memset(&r->hist, 0, sizeof(r->hist));
	uv_timer_init(r->loop, &r->tick);
	r->tick.data = r;
	uv_timer_start(&r->tick, on_tick, 50, 50);
	struct sockaddr_in sa;
	if (o->raw && parse_addr(o->addr, &sa) != 0) {
		fprintf(stderr, "loadgen: bad address %s\n", o->addr);
		return -EINVAL;
	}
	for (unsigned i = 0; i < o->conns; i++) {
		conn_t *c = &r->conns[i];
		c->run = r;
		c->idx = i;
		c->open = true;
		if (o->raw) {
			uv_tcp_init(r->loop, &c->tcp);
			c->tcp.data = c;
			c->connect_req.data = c;
			c->head = c->n_sent = 0;
			c->in_len = 0;
			rc = uv_tcp_connect(&c->connect_req, &c->tcp, (const struct sockaddr *)&sa,
					    raw_connected);
			if (rc != 0) {
				fprintf(stderr, "loadgen: connect: %s\n", uv_strerror(rc));
				r->stopping = true;
			}
			continue;
		}
		rc = ospay_client_connect(r->loop, o->addr, o->token, on_connect, c, &c->client);
		if (rc < 0) {
			fprintf(stderr, "loadgen: connect %s: %s\n", o->addr, strerror(-rc));
			c->open = false;
			c->client = NULL;
			r->stopping = true;
			r->live_slots -= o->inflight;
			continue;
		}
		/* Calls queue until Hello completes, so the depth is there from the start. */
		for (unsigned k = 0; k < o->inflight; k++) {
			slot_t *s = &r->slots[i * o->inflight + k];
			s->conn = c;
			slot_next(r, s);
		}
	}
	if (!o->raw && r->live_slots == 0)
		close_all(r);
	uv_run(r->loop, UV_RUN_DEFAULT);
	if (r->t_end == 0)
		r->t_end = bench_now_ns();
	return r->errors > 0 || r->stopping ? -EIO : 0;
}

static int make_customer(run_t *r)
{
	ospay_sync_t *s = NULL;
	status_t st;
	char doc[12];
	int rc = ospay_sync_open(r->o->addr, r->o->token, 10000, &s, &st);
	if (rc != 0) {
		fprintf(stderr, "loadgen: open %s: %d %s\n", r->o->addr, st.code, st.message);
		goto out;
	}
	/* A document of its own per run, so repeated runs on one server do not collide. */
	tsd_cpf((uint32_t)(bench_now_ns() / 1000 % 700000000), doc);
	Ospay__V1__Address a;
	Ospay__V1__CustomersCreateRequest m;
	tsr_customer(&m, &a, 1, "Cliente Bench", doc);
	Ospay__V1__CustomersCreateResponse *resp = NULL;
	rc = ospay_sync_call(s, "ospay.v1.Customers/Create", &m.base,
			     &ospay__v1__customers_create_response__descriptor, NULL,
			     (ProtobufCMessage **)&resp, &st);
	if (rc != 0) {
		fprintf(stderr, "loadgen: Customers/Create: %d %s\n", st.code, st.message);
		goto out;
	}
	r->customer = resp->customer->id;
	ospay__v1__customers_create_response__free_unpacked(resp, NULL);
out:
	if (s != NULL)
		ospay_sync_close(s);
	return rc;
}

/* The full frame sizes (4-byte header included) of an average call, for the echo reference. */
static void frame_sizes(const run_t *r, size_t *req, size_t *resp)
{
	uint64_t n = r->n_bodies > 0 ? r->n_bodies : 1;
	/* Ids grow per connection; a typical one is the calls made on one connection. */
	uint64_t id = r->issued / (r->o->conns > 0 ? r->o->conns : 1) + 1;
	static uint8_t zeros[4096];
	Ospay__V1__RpcRequest rq = OSPAY__V1__RPC_REQUEST__INIT;
	rq.id = id;
	rq.method = r->o->get_pct >= 50 ? "ospay.v1.Orders/Get" : "ospay.v1.Orders/Create";
	rq.body.data = zeros;
	rq.body.len = (size_t)(r->req_body_sum / (r->issued > 0 ? r->issued : 1));
	Ospay__V1__Status st = OSPAY__V1__STATUS__INIT;
	Ospay__V1__RpcResponse rs = OSPAY__V1__RPC_RESPONSE__INIT;
	rs.id = id;
	rs.status = &st;
	rs.body.data = zeros;
	rs.body.len = (size_t)(r->resp_body_sum / n);
	if (rs.body.len > sizeof(zeros))
		rs.body.len = sizeof(zeros);
	*req = 4 + ospay__v1__rpc_request__get_packed_size(&rq);
	*resp = 4 + ospay__v1__rpc_response__get_packed_size(&rs);
}

static void report(const run_t *r)
{
	const opts_t *o = r->o;
	double secs = (double)(r->t_end - r->t_measure) / 1e9;
	if (secs <= 0)
		secs = 1e-9;
	size_t req = o->req_bytes, resp = o->resp_bytes;
	if (!o->raw)
		frame_sizes(r, &req, &resp);
	printf("{\"bench\":\"loadgen\",\"label\":\"%s\",\"mode\":\"%s\",\"conns\":%u,"
	       "\"inflight\":%u,\"get_pct\":%u,\"seconds\":%.3f,\"calls\":%" PRIu64
	       ",\"errors\":%" PRIu64 ",\"calls_per_s\":%.0f",
	       o->label, o->raw ? "raw" : "rpc", o->conns, o->inflight, o->raw ? 0 : o->get_pct,
	       secs, r->measured_ok, r->errors, (double)r->measured_ok / secs);
	hist_print_json(&r->hist);
	printf(",\"req_frame_bytes\":%zu,\"resp_frame_bytes\":%zu", req, resp);
	/* Both responses are one field holding the Order: its tag and 2-byte length aside,
	 * the body is the record as stored. */
	if (!o->raw)
		printf(",\"order_record_bytes\":%zu",
		       r->n_bodies > 0 ? (size_t)(r->resp_body_sum / r->n_bodies) - 3 : 0);
	printf(",\"load_cpu_s\":%.2f", r->self1 - r->self0);
	bench_json_end(o->pid, r->cpu1 - r->cpu0, r->measured_ok, "call", r->rss_peak);
}

static void usage(void)
{
	fprintf(stderr, "usage: loadgen --addr H:P (--token T | --raw --req-bytes R --resp-bytes "
			"S) [--conns N] [--inflight M] [--duration S | --count C] [--warmup S] "
			"[--get-pct P] [--seed K] [--pid PID] [--label NAME]\n");
}

static int parse(int argc, char **argv, opts_t *o)
{
	*o = (opts_t){.conns = 64,
		      .inflight = 16,
		      .get_pct = 100,
		      .duration_s = 5,
		      .warmup_s = 1,
		      .seed = 1000,
		      .label = "run"};
	const bench_opt_t opts[] = {
		{"--raw", BENCH_FLAG, &o->raw},
		{"--addr", BENCH_TEXT, &o->addr},
		{"--token", BENCH_TEXT, &o->token},
		{"--label", BENCH_TEXT, &o->label},
		{"--conns", BENCH_UINT, &o->conns},
		{"--inflight", BENCH_UINT, &o->inflight},
		{"--get-pct", BENCH_UINT, &o->get_pct},
		{"--duration", BENCH_DOUBLE, &o->duration_s},
		{"--warmup", BENCH_DOUBLE, &o->warmup_s},
		{"--count", BENCH_U64, &o->count},
		{"--seed", BENCH_U64, &o->seed},
		{"--pid", BENCH_INT, &o->pid},
		{"--req-bytes", BENCH_SIZE, &o->req_bytes},
		{"--resp-bytes", BENCH_SIZE, &o->resp_bytes},
	};
	if (bench_opts_parse(argc, argv, 1, opts, sizeof(opts) / sizeof(opts[0])) != 0)
		return -EINVAL;
	if (o->addr == NULL || o->conns == 0 || o->inflight == 0 || o->get_pct > 100)
		return -EINVAL;
	if (o->raw ? o->req_bytes < 4 || o->resp_bytes < 4 : o->token == NULL)
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	opts_t o;
	run_t *r = NULL;
	int rc = parse(argc, argv, &o);
	if (rc != 0) {
		usage();
		return 2;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return 1;
	r->o = &o;
	r->rng = bench_now_ns() | 1;
	r->conns = calloc(o.conns, sizeof(*r->conns));
	r->slots = calloc((size_t)o.conns * o.inflight, sizeof(*r->slots));
	if (r->conns == NULL || r->slots == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if (o.raw) {
		for (unsigned i = 0; i < o.conns; i++) {
			r->conns[i].sent = calloc(o.inflight, sizeof(uint64_t));
			if (r->conns[i].sent == NULL) {
				rc = -ENOMEM;
				goto out;
			}
		}
	} else {
		rc = make_customer(r);
		if (rc != 0)
			goto out;
		Ospay__V1__OrdersCreateRequest m = OSPAY__V1__ORDERS_CREATE_REQUEST__INIT;
		m.customer_id = r->customer;
		m.kind = "INSTALAÇÃO FIBRA";
		m.description = "instalação na casa do cliente, levar ONU";
		m.amount = 15000;
		r->create_len = ospay__v1__orders_create_request__pack(&m, r->create_body);
		r->cap_ids = o.seed > 0 ? o.seed : 1;
		r->ids = calloc(r->cap_ids, sizeof(uint64_t));
		if (r->ids == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		if (o.seed > 0 && o.get_pct > 0) {
			/* Seeding: creates, bounded by count, measured by nobody. */
			opts_t so = o;
			so.count = o.seed;
			so.get_pct = 0;
			r->o = &so;
			r->seeding = true;
			rc = run_phase(r);
			r->seeding = false;
			r->o = &o;
			if (rc != 0) {
				fprintf(stderr, "loadgen: seeding %" PRIu64 " orders failed\n",
					o.seed);
				goto out;
			}
			r->req_body_sum = r->resp_body_sum = r->n_bodies = 0;
			r->t_end = 0;
		}
	}
	if (o.pid > 0)
		r->rss_peak = bench_rss_anon_kb(o.pid);
	rc = run_phase(r);
	report(r);
out:
	if (r != NULL) {
		for (unsigned i = 0; r->conns != NULL && i < o.conns; i++) {
			free(r->conns[i].sent);
			free(r->conns[i].in);
		}
		free(r->conns);
		free(r->slots);
		free(r->ids);
		free(r);
	}
	uv_loop_close(uv_default_loop());
	return rc == 0 ? 0 : 1;
}
