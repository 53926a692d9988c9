/* `ospayd init` and `ospayd backup`: data directory set-up and hot copies. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "net/tls.h"
#include "server/db/db.h"
#include "server/keys.h"
#include "server/rpc/srv.h"
#include "server/rpc/token.h"
#include "server/server.h"

typedef struct init_ctx {
	const char *org_name;
	const char *unit_name;
	uint8_t token_key[CRYPTO_KEY_LEN];
	char token[SRV_TOKEN_MAX];
	Ospay__V1__Organization org;
	Ospay__V1__Unit unit;
	Ospay__V1__Token tok;
} init_ctx_t;

static int init_write_fn(store_txn_t *txn, void *arg)
{
	init_ctx_t *c = arg;
	int64_t now = util_wall_ms();
	int rc = store_seq_next(txn, "org", &c->org.id);
	if (rc == 0)
		rc = store_seq_next(txn, "unit", &c->unit.id);
	if (rc == 0)
		rc = store_seq_next(txn, "token", &c->tok.id);
	if (rc != 0)
		return rc;
	c->org.name = (char *)c->org_name;
	c->org.utc_offset_minutes = -180;
	c->org.created_ms = now;
	rc = db_put_by_id(txn, DB_ORGS, c->org.id, &c->org.base);
	if (rc != 0)
		return rc;
	c->unit.organization_id = c->org.id;
	c->unit.name = (char *)c->unit_name;
	c->unit.created_ms = now;
	rc = db_unit_insert(txn, &c->unit);
	if (rc != 0)
		return rc;
	c->tok.organization_id = c->org.id;
	c->tok.name = "admin (init)";
	c->tok.role = OSPAY__V1__ROLE__ROLE_ADMIN;
	c->tok.org_wide = 1;
	c->tok.created_ms = now;
	uint8_t hash[32];
	srv_token_hash(c->token_key, c->token, hash);
	Ospay__V1__TokenRecord rec = OSPAY__V1__TOKEN_RECORD__INIT;
	rec.token = &c->tok;
	rec.secret_hash.data = hash;
	rec.secret_hash.len = sizeof(hash);
	return db_token_insert(txn, &rec);
}

static int write_new_file(const char *path, const void *p, size_t n, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	int rc = 0;
	if (write(fd, p, n) != (ssize_t)n || fsync(fd) != 0)
		rc = errno ? -errno : -EIO;
	close(fd);
	return rc;
}

int srv_init_data(const char *dir, const char *org_name, const char *unit_name)
{
	init_ctx_t c = {.org_name = org_name, .unit_name = unit_name};
	uint8_t master[CRYPTO_KEY_LEN];
	char path[512], crt[512], key[512];
	store_t *st = NULL;
	int rc;
	ospay__v1__organization__init(&c.org);
	ospay__v1__unit__init(&c.unit);
	ospay__v1__token__init(&c.tok);

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		rc = -errno;
		fprintf(stderr, "ospayd init: cannot create %s: %s\n", dir, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, SRV_MASTER_KEY_FILE);
	if (access(path, F_OK) == 0) {
		rc = -EEXIST;
		fprintf(stderr, "ospayd init: %s is already initialized\n", dir);
		goto out;
	}
	rc = crypto_random(master, sizeof(master));
	if (rc == 0)
		rc = write_new_file(path, master, sizeof(master), 0600);
	if (rc != 0) {
		fprintf(stderr, "ospayd init: cannot write the master key: %s\n", strerror(-rc));
		goto out;
	}
	snprintf(crt, sizeof(crt), "%s/%s", dir, SRV_TLS_CERT_FILE);
	snprintf(key, sizeof(key), "%s/%s", dir, SRV_TLS_KEY_FILE);
	rc = tls_cert_generate(crt, key, "localhost");
	if (rc != 0) {
		fprintf(stderr, "ospayd init: cannot create the TLS certificate: %s\n",
			strerror(-rc));
		goto out;
	}
	rc = crypto_derive_key(master, "ospay token v1", c.token_key);
	if (rc == 0)
		rc = srv_token_new(c.token, sizeof(c.token));
	if (rc != 0)
		goto out;
	snprintf(path, sizeof(path), "%s/%s", dir, SRV_STORE_DIR);
	store_opts_t so = {.path = path, .tables = db_tables, .n_tables = DB_N_TABLES};
	rc = store_open(&st, &so);
	if (rc == 0)
		rc = store_write(st, init_write_fn, NULL, &c);
	if (rc == 0)
		rc = store_flush(st);
	if (rc != 0) {
		fprintf(stderr, "ospayd init: cannot create the store: %s\n", strerror(-rc));
		goto out;
	}
	json_t *j = json_pack("{s:s, s:{s:I, s:s}, s:{s:I, s:s}, s:{s:I, s:s, s:s, s:b}, s:s}",
			      "data_dir", dir, "organization", "id", (json_int_t)c.org.id, "name",
			      c.org.name, "unit", "id", (json_int_t)c.unit.id, "name", c.unit.name,
			      "admin_token", "id", (json_int_t)c.tok.id, "token", c.token, "role",
			      "ADMIN", "org_wide", 1, "tls_certificate", crt);
	if (j == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(j);
out:
	store_close(st);
	crypto_wipe(master, sizeof(master));
	crypto_wipe(c.token_key, sizeof(c.token_key));
	crypto_wipe(c.token, sizeof(c.token));
	return rc;
}

static int copy_file(const char *from_dir, const char *to_dir, const char *name, mode_t mode)
{
	char from[512], to[512];
	uint8_t buf[16384];
	snprintf(from, sizeof(from), "%s/%s", from_dir, name);
	snprintf(to, sizeof(to), "%s/%s", to_dir, name);
	int in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return errno == ENOENT ? 0 : -errno;
	int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	int rc = out < 0 ? -errno : 0;
	while (rc == 0) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n == 0)
			break;
		if (n < 0 || write(out, buf, (size_t)n) != n)
			rc = -EIO;
	}
	if (rc == 0 && fsync(out) != 0)
		rc = -errno;
	if (out >= 0)
		close(out);
	close(in);
	crypto_wipe(buf, sizeof(buf));
	return rc;
}

int srv_backup(const char *dir, const char *out)
{
	char path[600], dst[512];
	store_t *st = NULL;
	int rc;
	if (mkdir(out, 0700) != 0 && errno != EEXIST) {
		rc = -errno;
		goto out;
	}
	snprintf(dst, sizeof(dst), "%s/%s", out, SRV_STORE_DIR);
	snprintf(path, sizeof(path), "%s/data.mdb", dst);
	if (access(path, F_OK) == 0) {
		fprintf(stderr, "ospayd backup: %s already holds a backup\n", out);
		rc = -EEXIST;
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, SRV_STORE_DIR);
	store_opts_t so = {
		.path = path, .read_only = true, .tables = db_tables, .n_tables = DB_N_TABLES};
	rc = store_open(&st, &so);
	if (rc == 0)
		rc = store_backup(st, dst);
	if (rc == 0)
		rc = copy_file(dir, out, SRV_MASTER_KEY_FILE, 0600);
	if (rc == 0)
		rc = copy_file(dir, out, SRV_TLS_KEY_FILE, 0600);
	if (rc == 0)
		rc = copy_file(dir, out, SRV_TLS_CERT_FILE, 0644);
out:
	store_close(st);
	if (rc != 0)
		fprintf(stderr, "ospayd backup: %s\n", strerror(-rc));
	else
		printf("{\"backup\": \"%s\"}\n", out);
	return rc;
}
