/*
 * The smaller breaks of issue 11 against a real ospayd: stored request hashes
 * are keyed (and the old plain ones still recognized), /metrics wants its
 * token, every unknown or unconfigured webhook target gets the answer a wrong
 * credential gets, a unit's admin cannot move the organization's test clock,
 * a tls.key open to others is refused like master.key, and /healthz says
 * degraded while commits fail for want of disk space.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/crypto.h"
#include "core/perm.h"
#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/clock.pb-c.h"
#include "ospay/v1/gateway.pb-c.h"
#include "ospay/v1/records.pb-c.h"
#include "server/db/db.h"
#include "support/domain.h"
#include "support/live.h"
#include "support/proc.h"

static tsp_server_t srv;
static int adm = -1;
static char g_mnt[64]; /* a small tmpfs to unmount, when a test made one */

static void teardown(void)
{
	if (adm >= 0)
		close(adm);
	if (srv.dir[0] != '\0')
		tsp_server_down(&srv);
	if (g_mnt[0] != '\0') {
		umount(g_mnt);
		rmdir(g_mnt);
	}
}

TestSuite(hardening, .fini = teardown, .timeout = 120);

/* ------------------------------------------------------------------ idempotency */

static int create_unit(int fd, const char *name, const char *key, uint64_t *id)
{
	Ospay__V1__CreateUnitRequest m = OSPAY__V1__CREATE_UNIT_REQUEST__INIT;
	m.name = (char *)name;
	Ospay__V1__CreateUnitResponse *r = NULL;
	int code = tsp_call(fd, "ospay.v1.Admin/CreateUnit", &m.base,
			    &ospay__v1__create_unit_response__descriptor, (ProtobufCMessage **)&r,
			    key, NULL);
	if (code == 0)
		*id = r->unit->id;
	if (r != NULL)
		protobuf_c_message_free_unpacked(&r->base, NULL);
	return code;
}

/* SHA-256 of method and body as the stored hash was before it was keyed. */
static void plain_hash(const char *method, const char *name, uint8_t out[32], uint8_t *body,
		       size_t *blen)
{
	Ospay__V1__CreateUnitRequest m = OSPAY__V1__CREATE_UNIT_REQUEST__INIT;
	m.name = (char *)name;
	*blen = ospay__v1__create_unit_request__pack(&m, body);
	crypto_sha256(method, strlen(method) + 1, body, *blen, out);
}

typedef struct legacy {
	uint8_t key[64];
	size_t klen;
	uint8_t hash[32];
	uint8_t reply[64];
	size_t rlen;
} legacy_t;

static int put_legacy(store_txn_t *txn, void *arg)
{
	legacy_t *l = arg;
	Ospay__V1__IdempotencyRecord rec = OSPAY__V1__IDEMPOTENCY_RECORD__INIT;
	rec.request_hash.data = l->hash;
	rec.request_hash.len = 32;
	rec.created_ms = (int64_t)time(NULL) * 1000;
	rec.response_body.data = l->reply;
	rec.response_body.len = l->rlen;
	return db_put_msg(txn, DB_IDEM, l->key, l->klen, &rec.base, 0);
}

Test(hardening, stored_request_hashes_are_keyed_and_old_ones_still_read)
{
	tsp_server_up(&srv, NULL);
	adm = tsp_login(&srv, srv.admin_token);
	const char *method = "ospay.v1.Admin/CreateUnit";
	uint64_t id1 = 0, id2 = 0;
	cr_assert_eq(create_unit(adm, "Zona Norte", "hash-k1", &id1), 0);
	cr_assert_eq(create_unit(adm, "Zona Norte", "hash-k1", &id2), 0);
	cr_assert_eq(id1, id2, "a repeat gets the stored reply");

	uint8_t body[128], plain[32];
	size_t blen;
	plain_hash(method, "Zona Norte", plain, body, &blen);
	store_t *st = tsl_store_attach(&srv);
	store_txn_t *txn;
	store_cursor_t *c;
	store_val_t k, v;
	cr_assert_eq(store_read_begin(st, &txn), 0);
	cr_assert_eq(store_cursor_open(txn, DB_IDEM, &c), 0);
	cr_assert_eq(store_cursor_first(c, &k, &v), 0);
	cr_assert_eq(k.len, 8 + strlen("hash-k1"));
	Ospay__V1__IdempotencyRecord *rec =
		ospay__v1__idempotency_record__unpack(NULL, v.len, v.data);
	cr_assert_not_null(rec);
	cr_assert_eq(rec->request_hash.len, 32);
	cr_assert(memcmp(rec->request_hash.data, plain, 32) != 0,
		  "the stored hash is the plain SHA-256 of method and body");
	legacy_t l;
	memcpy(l.key, k.data, 8);
	memcpy(l.key + 8, "hash-k2", 7);
	l.klen = 15;
	ospay__v1__idempotency_record__free_unpacked(rec, NULL);
	store_read_end(txn);

	/* A record written before the keyed hash: its plain hash and a reply naming unit 777. */
	plain_hash(method, "Zona Leste", l.hash, body, &blen);
	Ospay__V1__Unit u = OSPAY__V1__UNIT__INIT;
	u.id = 777;
	u.name = "Zona Leste";
	Ospay__V1__CreateUnitResponse resp = OSPAY__V1__CREATE_UNIT_RESPONSE__INIT;
	resp.unit = &u;
	cr_assert_lt(ospay__v1__create_unit_response__get_packed_size(&resp), sizeof(l.reply));
	l.rlen = ospay__v1__create_unit_response__pack(&resp, l.reply);
	cr_assert_eq(store_write(st, put_legacy, NULL, &l), 0);
	cr_assert_eq(store_flush(st), 0);
	store_close(st);
	uint64_t id3 = 0;
	cr_assert_eq(create_unit(adm, "Zona Leste", "hash-k2", &id3), 0);
	cr_assert_eq(id3, 777, "the old record's reply, not a new unit");
	status_t sx;
	Ospay__V1__CreateUnitRequest other = OSPAY__V1__CREATE_UNIT_REQUEST__INIT;
	other.name = "Zona Oeste";
	cr_assert_eq(tsp_call(adm, method, &other.base, NULL, NULL, "hash-k2", &sx),
		     ST_FAILED_PRECONDITION, "another request under an old key is refused");
}

/* ------------------------------------------------------------------ /metrics */

Test(hardening, metrics_want_the_token)
{
	tsp_server_up(&srv, NULL);
	char out[65536], url[128], token[160], header[200];
	snprintf(url, sizeof(url), "https://%s/metrics", srv.https_addr);
	cr_assert_eq(tsp_http("GET", url, NULL, NULL, srv.cacert, out, sizeof(out)), 401, "%s",
		     out);
	cr_assert_null(strstr(out, "ospay_"), "no series without the token");
	cr_assert_eq(tsp_http("GET", url, NULL, "Authorization: Bearer not-the-token-at-all",
			      srv.cacert, out, sizeof(out)),
		     401);
	tsp_metrics_token(&srv, token, sizeof(token));
	cr_assert_geq(strlen(token), 16);
	snprintf(header, sizeof(header), "Authorization: Basic %s", token);
	cr_assert_eq(tsp_http("GET", url, NULL, header, srv.cacert, out, sizeof(out)), 401);
	cr_assert_eq(tsp_metrics_get(&srv, out, sizeof(out)), 200);
	cr_assert_not_null(strstr(out, "ospay_rpc_calls_total"));
	/* The token file is the operator's secret: mode 0600. */
	char path[400];
	struct stat sb;
	snprintf(path, sizeof(path), "%s/data/metrics.token", srv.dir);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_mode & 077, 0, "mode %o", (unsigned)(sb.st_mode & 0777));
}

Test(hardening, metrics_token_from_a_file_of_the_operators)
{
	cr_assert_eq(tsp_server_init(&srv), 0);
	char path[400], url[128], out[65536];
	snprintf(path, sizeof(path), "%s/scrape.token", srv.dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("operator-chosen-token-0123456789\n", f);
	fclose(f);
	cr_assert_eq(chmod(path, 0644), 0);
	const char *const args[] = {"--metrics-token-file", path, NULL};
	cr_assert_neq(tsp_server_start(&srv, args), 0, "served with a world-readable token file");
	srv.pid = 0;
	cr_assert_eq(chmod(path, 0600), 0);
	cr_assert_eq(tsp_server_start(&srv, args), 0);
	snprintf(url, sizeof(url), "https://%s/metrics", srv.https_addr);
	cr_assert_eq(tsp_http("GET", url, NULL,
			      "Authorization: Bearer operator-chosen-token-0123456789", srv.cacert,
			      out, sizeof(out)),
		     200, "%s", out);
}

/* ------------------------------------------------------------------ webhooks */

Test(hardening, unknown_and_unconfigured_webhook_targets_answer_like_bad_credentials)
{
	tsp_server_up(&srv, NULL);
	adm = tsp_login(&srv, srv.admin_token);
	Ospay__V1__SetGatewayRequest req = OSPAY__V1__SET_GATEWAY_REQUEST__INIT;
	Ospay__V1__GatewayCredentials cred = OSPAY__V1__GATEWAY_CREDENTIALS__INIT;
	cred.api_token = "pl-token-hardening";
	req.kind = OSPAY__V1__GATEWAY_KIND__GATEWAY_KIND_PAGOLIVRE;
	req.base_url = "http://127.0.0.1:9/pagolivre";
	req.credentials = &cred;
	status_t st;
	cr_assert_eq(tsp_call(adm, "ospay.v1.Admin/SetGateway", &req.base, NULL, NULL, NULL, &st),
		     0, "%s", st.message);
	const char *body = "{\"eventId\":\"e1\",\"eventName\":\"orderPaid\",\"orderKey\":\"os-1\"}";
	char paths[4][200];
	/* Wrong credentials at a configured service; a service the organization has
	 * not configured; an organization that does not exist; no such service. */
	snprintf(paths[0], 200, "/webhooks/pagolivre/%llu?accessToken=wrong",
		 (unsigned long long)srv.org_id);
	snprintf(paths[1], 200, "/webhooks/cielo/%llu", (unsigned long long)srv.org_id);
	snprintf(paths[2], 200, "/webhooks/pagolivre/98765?accessToken=pl-token-hardening");
	snprintf(paths[3], 200, "/webhooks/stripe/%llu", (unsigned long long)srv.org_id);
	char first[512], out[512];
	int code0 = tsp_https(&srv, "POST", paths[0], body, first, sizeof(first));
	cr_assert_eq(code0, 401, "%s", first);
	for (int i = 1; i < 4; i++) {
		int code = tsp_https(&srv, "POST", paths[i], body, out, sizeof(out));
		cr_assert_eq(code, code0, "%s: %d", paths[i], code);
		cr_assert_str_eq(out, first, "%s: another body", paths[i]);
	}
}

/* ------------------------------------------------------------------ clock */

static int advance(int fd, int64_t by_ms, status_t *st)
{
	Ospay__V1__AdvanceRequest m = OSPAY__V1__ADVANCE_REQUEST__INIT;
	m.by_ms = by_ms;
	return tsp_call(fd, "ospay.v1.Clock/Advance", &m.base, NULL, NULL, NULL, st);
}

Test(hardening, a_units_admin_cannot_move_the_organizations_clock)
{
	const char *const clock[] = {"--test-clock", "2026-12-01T12:00:00Z", NULL};
	tsp_server_up(&srv, clock);
	adm = tsp_login(&srv, srv.admin_token);
	uint64_t unit = tso_unit(adm, "Zona Sul");
	char secret[160];
	tso_token(adm, PERM_ROLE_ADMIN, unit, secret, sizeof(secret));
	int unit_adm = tsp_login(&srv, secret);
	status_t st;
	cr_assert_eq(advance(unit_adm, 86400000, &st), ST_PERMISSION_DENIED, "%s", st.message);
	close(unit_adm);
	cr_assert_eq(advance(adm, 86400000, &st), 0, "%s", st.message);
}

/* ------------------------------------------------------------------ tls.key */

Test(hardening, a_tls_key_open_to_others_is_refused)
{
	cr_assert_eq(tsp_server_init(&srv), 0);
	char key[400];
	snprintf(key, sizeof(key), "%s/data/tls.key", srv.dir);
	cr_assert_eq(chmod(key, 0640), 0);
	cr_assert_neq(tsp_server_start(&srv, NULL), 0, "served with a group-readable tls.key");
	srv.pid = 0;
	char log[8192] = "";
	FILE *f = fopen(srv.log_path, "r");
	cr_assert_not_null(f);
	size_t n = fread(log, 1, sizeof(log) - 1, f);
	log[n] = '\0';
	fclose(f);
	cr_assert_not_null(strstr(log, "TLS key"), "the log says why:\n%s", log);
	cr_assert_eq(chmod(key, 0600), 0);
	cr_assert_eq(tsp_server_start(&srv, NULL), 0);
}

/* ------------------------------------------------------------------ /healthz */

Test(hardening, healthz_is_degraded_while_commits_fail)
{
	char *mnt = g_mnt;
	snprintf(g_mnt, sizeof(g_mnt), "/tmp/ospay-full-XXXXXX");
	cr_assert_not_null(mkdtemp(mnt));
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=4m") != 0) {
		rmdir(mnt);
		g_mnt[0] = '\0';
		cr_skip_test("cannot mount a small tmpfs here (%s)", strerror(errno));
	}
	/* A data dir on the small file system, served from there. */
	tsp_server_t *s = &srv;
	cr_assert_eq(tsp_server_init(s), 0);
	char cmd[4096];
	snprintf(cmd, sizeof(cmd), "cp -a %s/data %s/data", s->dir, mnt);
	cr_assert_eq(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s/data && ln -s %s/data %s/data", s->dir, mnt, s->dir);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(tsp_server_start(s, NULL), 0);
	adm = tsp_login(s, s->admin_token);
	char out[1024];
	cr_assert_eq(tsp_https(s, "GET", "/healthz", NULL, out, sizeof(out)), 200, "%s", out);
	/* Take the rest of the space, then write until a commit fails. */
	snprintf(cmd, sizeof(cmd), "dd if=/dev/zero of=%s/filler bs=64k 2>/dev/null; sync", mnt);
	(void)system(cmd);
	int failed = 0;
	char name[64];
	for (int i = 0; i < 2000 && failed == 0; i++) {
		Ospay__V1__CreateUnitRequest m = OSPAY__V1__CREATE_UNIT_REQUEST__INIT;
		snprintf(name, sizeof(name), "unit %d with a fairly long name to fill pages", i);
		m.name = name;
		int code =
			tsp_call(adm, "ospay.v1.Admin/CreateUnit", &m.base, NULL, NULL, NULL, NULL);
		if (code != 0)
			failed = code;
	}
	cr_assert_eq(failed, ST_UNAVAILABLE, "a write on a full disk is UNAVAILABLE");
	int code = tsp_https(s, "GET", "/healthz", NULL, out, sizeof(out));
	cr_expect_eq(code, 503, "%s", out);
	cr_expect_not_null(strstr(out, "degraded"), "%s", out);
	cr_expect_not_null(strstr(out, "No space left"), "%s", out);
	/* Space again: the next commit succeeds and /healthz is ok. */
	snprintf(cmd, sizeof(cmd), "rm -f %s/filler", mnt);
	cr_assert_eq(system(cmd), 0);
	Ospay__V1__CreateUnitRequest m = OSPAY__V1__CREATE_UNIT_REQUEST__INIT;
	m.name = "after";
	status_t st;
	cr_expect_eq(tsp_call(adm, "ospay.v1.Admin/CreateUnit", &m.base, NULL, NULL, NULL, &st), 0,
		     "%s", st.message);
	cr_expect_eq(tsp_https(s, "GET", "/healthz", NULL, out, sizeof(out)), 200, "%s", out);
}
