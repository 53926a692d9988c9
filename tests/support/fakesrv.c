#include "support/fakesrv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "ospay/v1/common.pb-c.h"
#include "ospay/v1/session.pb-c.h"

#define FAKE_MAX_FRAME (4u * 1024 * 1024)

typedef struct fake_wreq {
	uv_write_t req;
	uint8_t *data;
} fake_wreq_t;

static void fake_conn_closed(uv_handle_t *h)
{
	tsp_fake_conn_t *conn = h->data;
	if (--conn->open_handles > 0)
		return;
	tsp_fake_t *f = conn->srv;
	for (tsp_fake_conn_t **pp = &f->conns; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == conn) {
			*pp = conn->next;
			break;
		}
	}
	buf_free(&conn->in);
	buf_free(&conn->pending_out);
	free(conn);
}

static void fake_conn_close_now(tsp_fake_conn_t *conn)
{
	if (conn->closing)
		return;
	conn->closing = true;
	uv_close((uv_handle_t *)&conn->tcp, fake_conn_closed);
	uv_close((uv_handle_t *)&conn->drip, fake_conn_closed);
}

static void fake_written(uv_write_t *req, int status)
{
	fake_wreq_t *w = container_of(req, fake_wreq_t, req);
	free(w->data);
	free(w);
}

static void fake_write_now(tsp_fake_conn_t *conn, const void *p, size_t n)
{
	fake_wreq_t *w = NULL;
	if (conn->closing || n == 0)
		return;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		abort();
	w->data = malloc(n);
	if (w->data == NULL)
		abort();
	memcpy(w->data, p, n);
	uv_buf_t b = uv_buf_init((char *)w->data, (unsigned int)n);
	if (uv_write(&w->req, (uv_stream_t *)&conn->tcp, &b, 1, fake_written) < 0) {
		free(w->data);
		free(w);
	}
}

static void fake_drip(uv_timer_t *t)
{
	tsp_fake_conn_t *conn = t->data;
	if (conn->pending_out.len == 0) {
		uv_timer_stop(t);
		return;
	}
	fake_write_now(conn, conn->pending_out.data, 1);
	buf_consume(&conn->pending_out, 1);
}

void tsp_fake_send(tsp_fake_conn_t *conn, const void *p, size_t n)
{
	if (conn->closing)
		return;
	if (!conn->srv->split) {
		fake_write_now(conn, p, n);
		return;
	}
	if (buf_append(&conn->pending_out, p, n, SIZE_MAX) < 0)
		abort();
	if (!uv_is_active((uv_handle_t *)&conn->drip))
		uv_timer_start(&conn->drip, fake_drip, 1, 1);
}

void tsp_fake_reply_msg(tsp_fake_conn_t *conn, const Ospay__V1__RpcResponse *resp)
{
	size_t n = ospay__v1__rpc_response__get_packed_size(resp);
	uint8_t *frame = malloc(4 + n);
	if (frame == NULL)
		abort();
	be32_put(frame, (uint32_t)n);
	ospay__v1__rpc_response__pack(resp, frame + 4);
	tsp_fake_send(conn, frame, 4 + n);
	free(frame);
}

void tsp_fake_reply_violation(tsp_fake_conn_t *conn, uint64_t id, const char *field,
			      const char *description)
{
	Ospay__V1__RpcResponse resp = OSPAY__V1__RPC_RESPONSE__INIT;
	Ospay__V1__Status st = OSPAY__V1__STATUS__INIT;
	Ospay__V1__FieldViolation v = OSPAY__V1__FIELD_VIOLATION__INIT;
	Ospay__V1__FieldViolation *vs[] = {&v};
	v.field = (char *)field;
	v.description = (char *)description;
	st.code = 3;
	st.message = "invalid request";
	st.n_violations = 1;
	st.violations = vs;
	resp.id = id;
	resp.status = &st;
	tsp_fake_reply_msg(conn, &resp);
}

void tsp_fake_reply(tsp_fake_conn_t *conn, uint64_t id, int code, const char *message,
		    const ProtobufCMessage *body)
{
	Ospay__V1__RpcResponse resp = OSPAY__V1__RPC_RESPONSE__INIT;
	Ospay__V1__Status st = OSPAY__V1__STATUS__INIT;
	uint8_t *packed = NULL;
	resp.id = id;
	st.code = code;
	st.message = (char *)(message ? message : "");
	resp.status = &st;
	if (code == 0 && body != NULL) {
		size_t n = protobuf_c_message_get_packed_size(body);
		packed = malloc(n ? n : 1);
		if (packed == NULL)
			abort();
		protobuf_c_message_pack(body, packed);
		resp.body.data = packed;
		resp.body.len = n;
	}
	tsp_fake_reply_msg(conn, &resp);
	free(packed);
}

void tsp_fake_hello_ok(tsp_fake_conn_t *conn, uint64_t id)
{
	Ospay__V1__HelloResponse hr = OSPAY__V1__HELLO_RESPONSE__INIT;
	Ospay__V1__Principal p = OSPAY__V1__PRINCIPAL__INIT;
	Ospay__V1__Organization org = OSPAY__V1__ORGANIZATION__INIT;
	Ospay__V1__Token tok = OSPAY__V1__TOKEN__INIT;
	uint64_t units[] = {3, 4};
	org.id = 7;
	org.name = "Acme Telecom";
	org.utc_offset_minutes = -180;
	tok.id = 9;
	tok.organization_id = 7;
	tok.name = "ops";
	tok.role = OSPAY__V1__ROLE__ROLE_ADMIN;
	tok.org_wide = 0;
	tok.n_unit_ids = 2;
	tok.unit_ids = units;
	p.organization = &org;
	p.token = &tok;
	hr.principal = &p;
	hr.server_version = "fake";
	tsp_fake_reply(conn, id, 0, NULL, &hr.base);
}

void tsp_fake_conn_close(tsp_fake_conn_t *conn)
{
	/* Writes already queued complete before the close callbacks run. */
	if (conn->pending_out.len > 0 && !conn->closing) {
		fake_write_now(conn, conn->pending_out.data, conn->pending_out.len);
		conn->pending_out.len = 0;
	}
	fake_conn_close_now(conn);
}

static void fake_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
	tsp_fake_conn_t *conn = h->data;
	if (buf_reserve(&conn->in, 65536, FAKE_MAX_FRAME + 4 + 65536) < 0) {
		*out = uv_buf_init(NULL, 0);
		return;
	}
	*out = uv_buf_init((char *)conn->in.data + conn->in.len, 65536);
}

static void fake_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	tsp_fake_conn_t *conn = s->data;
	tsp_fake_t *f = conn->srv;
	size_t off = 0;
	if (nread < 0) {
		if (nread == UV_EOF) {
			conn->peer_closed = true;
			f->n_peer_closed++;
		}
		fake_conn_close_now(conn);
		return;
	}
	conn->in.len += (size_t)nread;
	while (!conn->closing && conn->in.len - off >= 4) {
		uint32_t n = be32_get(conn->in.data + off);
		if (n > FAKE_MAX_FRAME) {
			fake_conn_close_now(conn);
			break;
		}
		if (conn->in.len - off - 4 < n)
			break;
		Ospay__V1__RpcRequest *req =
			ospay__v1__rpc_request__unpack(NULL, n, conn->in.data + off + 4);
		off += 4 + n;
		if (req == NULL) {
			fake_conn_close_now(conn);
			break;
		}
		conn->n_requests++;
		f->n_requests++;
		f->handler(conn, req, f->arg);
		ospay__v1__rpc_request__free_unpacked(req, NULL);
	}
	buf_consume(&conn->in, off);
}

static void fake_accept(uv_stream_t *server, int status)
{
	tsp_fake_t *f = server->data;
	tsp_fake_conn_t *conn = NULL;
	if (status < 0)
		return;
	conn = calloc(1, sizeof(*conn));
	if (conn == NULL)
		abort();
	conn->srv = f;
	uv_tcp_init(f->loop, &conn->tcp);
	uv_timer_init(f->loop, &conn->drip);
	conn->tcp.data = conn;
	conn->drip.data = conn;
	conn->open_handles = 2;
	conn->next = f->conns;
	f->conns = conn;
	if (uv_accept(server, (uv_stream_t *)&conn->tcp) < 0) {
		fake_conn_close_now(conn);
		return;
	}
	f->n_accepted++;
	uv_tcp_nodelay(&conn->tcp, 1);
	uv_read_start((uv_stream_t *)&conn->tcp, fake_alloc, fake_read);
}

int tsp_fake_start(tsp_fake_t *f, uv_loop_t *loop, tsp_fake_handler h, void *arg)
{
	struct sockaddr_in sin;
	struct sockaddr_storage bound;
	int len = sizeof(bound);
	int rc = 0;
	memset(f, 0, sizeof(*f));
	f->loop = loop;
	f->handler = h;
	f->arg = arg;
	uv_ip4_addr("127.0.0.1", 0, &sin);
	rc = uv_tcp_init(loop, &f->listener);
	if (rc < 0)
		goto out;
	f->listener.data = f;
	rc = uv_tcp_bind(&f->listener, (const struct sockaddr *)&sin, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&f->listener, 128, fake_accept);
	if (rc == 0)
		rc = uv_tcp_getsockname(&f->listener, (struct sockaddr *)&bound, &len);
	if (rc < 0) {
		uv_close((uv_handle_t *)&f->listener, NULL);
		goto out;
	}
	f->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
	snprintf(f->addr, sizeof(f->addr), "127.0.0.1:%d", f->port);
out:
	return rc;
}

void tsp_fake_stop(tsp_fake_t *f)
{
	if (f->stopping)
		return;
	f->stopping = true;
	uv_close((uv_handle_t *)&f->listener, NULL);
	for (tsp_fake_conn_t *c = f->conns; c != NULL; c = c->next)
		fake_conn_close_now(c);
}

static void fake_thread_stop_cb(uv_async_t *a)
{
	tsp_fake_thread_t *t = a->data;
	tsp_fake_stop(&t->srv);
	uv_close((uv_handle_t *)a, NULL);
}

static void fake_thread_main(void *p)
{
	tsp_fake_thread_t *t = p;
	t->start_rc = tsp_fake_start(&t->srv, &t->loop, t->handler, t->arg);
	uv_sem_post(&t->ready);
	if (t->start_rc == 0)
		uv_run(&t->loop, UV_RUN_DEFAULT);
}

int tsp_fake_thread_start(tsp_fake_thread_t *t, tsp_fake_handler h, void *arg)
{
	int rc = 0;
	memset(t, 0, sizeof(*t));
	rc = uv_loop_init(&t->loop);
	if (rc < 0)
		return rc;
	uv_async_init(&t->loop, &t->stop, fake_thread_stop_cb);
	t->stop.data = t;
	uv_sem_init(&t->ready, 0);
	t->handler = h;
	t->arg = arg;
	rc = uv_thread_create(&t->thread, fake_thread_main, t);
	if (rc < 0)
		return rc;
	uv_sem_wait(&t->ready);
	if (t->start_rc < 0) {
		uv_close((uv_handle_t *)&t->stop, NULL);
		uv_thread_join(&t->thread);
		uv_run(&t->loop, UV_RUN_DEFAULT);
		uv_loop_close(&t->loop);
	}
	return t->start_rc;
}

void tsp_fake_thread_stop(tsp_fake_thread_t *t)
{
	uv_async_send(&t->stop);
	uv_thread_join(&t->thread);
	uv_sem_destroy(&t->ready);
	if (uv_loop_close(&t->loop) != 0)
		abort();
}
