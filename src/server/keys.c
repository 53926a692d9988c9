/*
 * Vault keys and `ospayd rotate-key` (docs/storage.md, "Key rotation").
 *
 * Data keys are derived from the master key and a key id (vault_key_derive),
 * so the master key stays the one secret of a data dir. The ids in use live
 * in the store (DB_VAULT_KEYS, the last one is current; none means 1), so a
 * backup carries them with the records they open and no file can drift from
 * the data. Rotation adds id current + 1, then seals every card token and
 * gateway credential again under it, a bounded batch per transaction: a
 * crash midway leaves each record under the old or the new key, both
 * derivable. The key's entry says whether its rotation finished: rotate-key
 * run again resumes an unfinished one under the same key (--max-batches stops
 * one on purpose). A server and rotate-key never share a data dir: both hold
 * its lock file.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "ospay/v1/records.pb-c.h"
#include "server/db/db.h"
#include "server/keys.h"
#include "server/rpc/srv.h"

/* Records sealed again per write transaction: bounded work, bounded pages. */
#define ROTATE_BATCH 256
#define ROTATE_BATCH_MAX 1024
/* DB_VAULT_KEYS values: created ms (8 bytes BE) | state (1 byte). */
#define KEY_ROTATING 0
#define KEY_COMPLETE 1
/* Longest table key of a sealed record (gateways: org id | kind). */
#define ROTATE_KEY_MAX 9

int srv_data_lock(const char *dir, int *fd)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, SRV_LOCK_FILE);
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0)
		return -errno;
	if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		int rc = errno == EWOULDBLOCK ? -EWOULDBLOCK : -errno;
		close(*fd);
		*fd = -1;
		return rc;
	}
	return 0;
}

/*
 * The current key id: the last in DB_VAULT_KEYS, 1 when none was added; and
 * whether its rotation finished (every record sealed again under it).
 */
static int current_key(store_txn_t *txn, uint32_t *id, bool *complete)
{
	store_cursor_t *cur = NULL;
	store_val_t k, v;
	*id = 1;
	*complete = true;
	int rc = store_cursor_open(txn, DB_VAULT_KEYS, &cur);
	if (rc == 0)
		rc = store_cursor_last(cur, &k, &v);
	if (rc == 0 && k.len == 4 && v.len == 9) {
		const uint8_t *p = k.data;
		*id = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) |
		      p[3];
		*complete = ((const uint8_t *)v.data)[8] == KEY_COMPLETE;
	} else if (rc == 0) {
		rc = -EBADMSG;
	}
	store_cursor_close(cur);
	return rc == -ENOENT ? 0 : rc;
}

static int current_key_id(store_txn_t *txn, uint32_t *id)
{
	bool complete;
	return current_key(txn, id, &complete);
}

static int put_key(store_txn_t *txn, uint32_t id, int64_t created_ms, uint8_t state)
{
	uint8_t k[4] = {(uint8_t)(id >> 24), (uint8_t)(id >> 16), (uint8_t)(id >> 8), (uint8_t)id};
	uint8_t v[9];
	be64_put(v, (uint64_t)created_ms);
	v[8] = state;
	return store_put(txn, DB_VAULT_KEYS, k, sizeof(k), v, sizeof(v), 0);
}

void srv_vault_keys_free(vault_key_t *keys, size_t n)
{
	if (keys == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		vault_key_wipe(&keys[i]);
	free(keys);
}

static int derive_keys(const uint8_t master[CRYPTO_KEY_LEN], uint32_t current, vault_key_t **keys,
		       size_t *n)
{
	*keys = NULL;
	*n = 0;
	if (current == 0 || current > SRV_VAULT_MAX_KEYS)
		return -ERANGE;
	vault_key_t *v = calloc(current, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < current; i++) {
		int rc = vault_key_derive(master, i + 1, &v[i]);
		if (rc != 0) {
			srv_vault_keys_free(v, current);
			return rc;
		}
	}
	*keys = v;
	*n = current;
	return 0;
}

int srv_vault_keys_load(store_t *st, const uint8_t master[CRYPTO_KEY_LEN], vault_key_t **keys,
			size_t *n)
{
	store_txn_t *txn = NULL;
	uint32_t current = 1;
	int rc = store_read_begin(st, &txn);
	if (rc != 0)
		return rc;
	rc = current_key_id(txn, &current);
	store_read_end(txn);
	if (rc != 0)
		return rc;
	return derive_keys(master, current, keys, n);
}

/* ------------------------------------------------------------------ rotation */

typedef struct rotate {
	const vault_key_t *keys; /* 1..new */
	size_t n_keys;
	const vault_key_t *new_key;
	uint32_t old_id;  /* the current id before (written in add_key_fn) */
	uint32_t new_id;  /* the key records are sealed again under */
	bool resumed;     /* an unfinished rotation to new_id was taken up again */
	size_t batch;     /* records per transaction */
	uint64_t batches; /* transactions left before stopping (0: no bound) */
	bool stopped;     /* stopped by that bound, not finished */
	unsigned table;   /* DB_CARDS or DB_GATEWAYS */
	uint8_t from[ROTATE_KEY_MAX];
	size_t from_len;
	bool has_from;
	/* Set by one batch (reset on each run of it, since it may run twice). */
	uint8_t next[ROTATE_KEY_MAX];
	size_t next_len;
	bool end;
	size_t batch_resealed;
	int64_t now_ms;
} rotate_t;

/*
 * The key to seal under: the current one when its rotation never finished
 * (resumed), else a new id current + 1, current from now on.
 */
static int add_key_fn(store_txn_t *txn, void *arg)
{
	rotate_t *ro = arg;
	uint32_t cur = 1;
	bool complete = true;
	int rc = current_key(txn, &cur, &complete);
	if (rc != 0)
		return rc;
	ro->resumed = !complete;
	if (!complete) {
		ro->new_id = cur;
		ro->old_id = cur - 1;
		return 0;
	}
	if (cur >= SRV_VAULT_MAX_KEYS)
		return -ERANGE;
	ro->old_id = cur;
	ro->new_id = cur + 1;
	/* Key 1 was never written (it is the default): record it too, for the history. */
	if (cur == 1)
		rc = put_key(txn, 1, 0, KEY_COMPLETE);
	if (rc == 0)
		rc = put_key(txn, ro->new_id, ro->now_ms, KEY_ROTATING);
	return rc;
}

static int mark_done_fn(store_txn_t *txn, void *arg)
{
	rotate_t *ro = arg;
	return put_key(txn, ro->new_id, ro->now_ms, KEY_COMPLETE);
}

/* One record sealed again under the new key, unless it already is. */
static int reseal_one(rotate_t *ro, store_txn_t *txn, const uint8_t *key, size_t klen)
{
	ProtobufCMessage *m = NULL;
	const ProtobufCMessageDescriptor *desc = ro->table == DB_CARDS
							 ? &ospay__v1__card_record__descriptor
							 : &ospay__v1__gateway_record__descriptor;
	uint8_t out[VAULT_MAX_SEALED];
	size_t out_len = 0;
	uint32_t id = 0;
	ProtobufCBinaryData *sealed;
	vault_context_t ctx;
	int rc = db_get_msg(txn, ro->table, key, klen, desc, &m);
	if (rc != 0)
		goto out;
	if (ro->table == DB_CARDS) {
		Ospay__V1__CardRecord *c = (Ospay__V1__CardRecord *)m;
		if (c->card == NULL) {
			rc = -EBADMSG;
			goto out;
		}
		ctx = (vault_context_t){.kind = "card",
					.org_id = c->card->organization_id,
					.owner_id = c->card->customer_id,
					.record_id = c->card->id};
		sealed = &c->sealed_token;
	} else {
		Ospay__V1__GatewayRecord *g = (Ospay__V1__GatewayRecord *)m;
		ctx = (vault_context_t){.kind = "gateway",
					.org_id = g->organization_id,
					.owner_id = (uint64_t)g->kind,
					.record_id = 0};
		sealed = &g->sealed_credentials;
	}
	/* Nothing sealed (a notifier without credentials), or already done. */
	if (sealed->len == 0)
		goto out;
	rc = vault_sealed_key_id(sealed->data, sealed->len, &id);
	if (rc != 0 || id == ro->new_key->id)
		goto out;
	rc = vault_reseal(ro->keys, ro->n_keys, ro->new_key, &ctx, sealed->data, sealed->len, out,
			  sizeof(out), &out_len);
	if (rc != 0)
		goto out;
	ProtobufCBinaryData old = *sealed;
	sealed->data = out;
	sealed->len = out_len;
	rc = db_put_msg(txn, ro->table, key, klen, m, 0);
	*sealed = old; /* freed with the message */
	if (rc == 0)
		ro->batch_resealed++;
out:
	crypto_wipe(out, sizeof(out));
	if (m != NULL)
		protobuf_c_message_free_unpacked(m, NULL);
	return rc;
}

/* Up to ROTATE_BATCH records of ro->table from ro->from on. */
static int batch_fn(store_txn_t *txn, void *arg)
{
	rotate_t *ro = arg;
	uint8_t keys[ROTATE_BATCH_MAX][ROTATE_KEY_MAX];
	size_t lens[ROTATE_BATCH_MAX], n = 0;
	store_cursor_t *cur = NULL;
	store_val_t k, v;
	ro->batch_resealed = 0;
	ro->end = false;
	int rc = store_cursor_open(txn, ro->table, &cur);
	if (rc == 0)
		rc = ro->has_from ? store_cursor_seek(cur, ro->from, ro->from_len, &k, &v)
				  : store_cursor_first(cur, &k, &v);
	/* Keys first, then the writes: no put under an open cursor. */
	while (rc == 0 && n < ro->batch) {
		if (k.len == 0 || k.len > ROTATE_KEY_MAX) {
			rc = -EBADMSG;
			break;
		}
		memcpy(keys[n], k.data, k.len);
		lens[n++] = k.len;
		rc = store_cursor_next(cur, &k, &v);
	}
	store_cursor_close(cur);
	if (rc == -ENOENT) {
		ro->end = true;
		rc = 0;
	}
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = reseal_one(ro, txn, keys[i], lens[i]);
	if (rc == 0 && !ro->end) {
		/* The next batch starts just after the last key of this one. */
		memcpy(ro->next, keys[n - 1], lens[n - 1]);
		ro->next_len = lens[n - 1];
	}
	return rc;
}

/* Seals every record of table again; *count gets how many were. */
static int rotate_table(store_t *st, rotate_t *ro, unsigned table, uint64_t *count)
{
	ro->table = table;
	ro->has_from = false;
	*count = 0;
	for (;;) {
		if (ro->batches > 0 && --ro->batches == 0)
			ro->stopped = true;
		int rc = store_write(st, batch_fn, NULL, ro);
		if (rc == 0)
			rc = store_flush(st);
		if (rc != 0)
			return rc;
		*count += ro->batch_resealed;
		if (ro->end || ro->stopped)
			return 0;
		/* Seek to the last key + one byte of 0: the first key after it. */
		memcpy(ro->from, ro->next, ro->next_len);
		ro->from_len = ro->next_len;
		if (ro->from_len < ROTATE_KEY_MAX) {
			ro->from[ro->from_len++] = 0;
		} else {
			/* A full-length key: its successor of the same length. */
			size_t i = ro->from_len;
			while (i > 0 && ++ro->from[i - 1] == 0)
				i--;
			if (i == 0)
				return 0;
		}
		ro->has_from = true;
	}
}

int srv_rotate_key(const char *dir, size_t batch, uint64_t max_batches)
{
	uint8_t master[CRYPTO_KEY_LEN];
	char path[512];
	store_t *st = NULL;
	vault_key_t *keys = NULL;
	size_t n_keys = 0;
	uint64_t cards = 0, gateways = 0;
	int fd = -1;
	const char *what = "";
	rotate_t ro = {0};
	ro.batch = batch == 0 ? ROTATE_BATCH : batch;
	ro.batches = max_batches;
	if (ro.batch > ROTATE_BATCH_MAX)
		return -EINVAL;
	int rc = srv_data_lock(dir, &fd);
	if (rc == -EWOULDBLOCK) {
		fprintf(stderr,
			"ospayd rotate-key: a server (or another rotate-key) is using %s; "
			"stop it first\n",
			dir);
		goto out;
	}
	what = "cannot lock the data dir";
	if (rc != 0)
		goto fail;
	what = "cannot read the master key";
	rc = srv_load_master_key(dir, master);
	if (rc != 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/%s", dir, SRV_STORE_DIR);
	store_opts_t so = {.path = path, .tables = db_tables, .n_tables = DB_N_TABLES};
	what = "cannot open the store";
	rc = store_open(&st, &so);
	if (rc != 0)
		goto fail;
	/* The new key is current before any record moves: whatever happens next,
	 * every record is under a key id the store names. */
	ro.now_ms = util_wall_ms();
	what = "cannot add a key";
	rc = store_write(st, add_key_fn, NULL, &ro);
	if (rc == 0)
		rc = store_flush(st);
	if (rc != 0)
		goto fail;
	rc = derive_keys(master, ro.new_id, &keys, &n_keys);
	if (rc != 0)
		goto fail;
	ro.keys = keys;
	ro.n_keys = n_keys;
	ro.new_key = &keys[n_keys - 1];
	what = "sealing the cards again failed";
	rc = rotate_table(st, &ro, DB_CARDS, &cards);
	if (rc != 0)
		goto fail;
	what = "sealing the gateway credentials again failed";
	if (!ro.stopped)
		rc = rotate_table(st, &ro, DB_GATEWAYS, &gateways);
	if (rc != 0)
		goto fail;
	/* Finished: the next rotate-key adds a key instead of resuming this one. */
	what = "cannot mark the rotation done";
	if (!ro.stopped) {
		rc = store_write(st, mark_done_fn, NULL, &ro);
		if (rc == 0)
			rc = store_flush(st);
		if (rc != 0)
			goto fail;
	}
	printf("{\"key_id\": %" PRIu32 ", \"previous_key_id\": %" PRIu32
	       ", \"resumed\": %s, \"complete\": %s, \"resealed\": %" PRIu64 ", \"cards\": %" PRIu64
	       ", \"gateways\": %" PRIu64 "}\n",
	       ro.new_key->id, ro.old_id, ro.resumed ? "true" : "false",
	       ro.stopped ? "false" : "true", cards + gateways, cards, gateways);
	fflush(stdout);
	log_info(ro.stopped ? "vault key rotation stopped; run rotate-key again to finish"
			    : "vault key rotated",
		 "key_id=%" PRIu32 " cards=%" PRIu64 " gateways=%" PRIu64, ro.new_key->id, cards,
		 gateways);
	goto out;
fail:
	fprintf(stderr, "ospayd rotate-key: %s: %s%s\n", what, strerror(rc < 0 ? -rc : rc),
		ro.old_id != 0 ? " (run it again: every record stays readable)" : "");
out:
	store_close(st);
	srv_vault_keys_free(keys, n_keys);
	crypto_wipe(master, sizeof(master));
	if (fd >= 0)
		close(fd);
	return rc;
}

int srv_open_private(const char *path, const char *what)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	if ((st.st_mode & 077) != 0) {
		log_error(
			"a secret file is open to group or others; refusing to use it (chmod 600)",
			"what=%s path=\"%s\" mode=%o", what, path, (unsigned)(st.st_mode & 0777));
		close(fd);
		return -EPERM;
	}
	return fd;
}

int srv_check_private(const char *path, const char *what)
{
	int fd = srv_open_private(path, what);
	if (fd >= 0)
		close(fd);
	return fd < 0 ? fd : 0;
}

int srv_load_master_key(const char *dir, uint8_t key[CRYPTO_KEY_LEN])
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, SRV_MASTER_KEY_FILE);
	int fd = srv_open_private(path, "master key");
	if (fd < 0)
		return fd;
	int rc = 0;
	if (read(fd, key, CRYPTO_KEY_LEN) != CRYPTO_KEY_LEN)
		rc = -EINVAL;
	close(fd);
	return rc;
}

/* A new token file: 32 random bytes, base64url, for the operator's scraper. */
static int metrics_token_create(const char *path)
{
	uint8_t raw[32];
	char tok[48];
	int rc = crypto_random(raw, sizeof(raw));
	if (rc != 0)
		return rc;
	crypto_base64url(raw, sizeof(raw), tok);
	crypto_wipe(raw, sizeof(raw));
	size_t n = strlen(tok);
	tok[n++] = '\n';
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
	} else {
		if (write(fd, tok, n) != (ssize_t)n || fsync(fd) != 0)
			rc = -EIO;
		close(fd);
	}
	crypto_wipe(tok, sizeof(tok));
	return rc;
}

int srv_metrics_token_load(const char *dir, const char *file, char out[SRV_METRICS_TOKEN_MAX + 1])
{
	char path[512], buf[SRV_METRICS_TOKEN_MAX + 2];
	int rc = 0, fd = -1;
	if (file != NULL)
		snprintf(path, sizeof(path), "%s", file);
	else
		snprintf(path, sizeof(path), "%s/%s", dir, SRV_METRICS_TOKEN_FILE);
	fd = srv_open_private(path, "metrics token");
	if (fd == -ENOENT && file == NULL) {
		rc = metrics_token_create(path);
		if (rc == 0)
			log_info("created the /metrics bearer token", "path=\"%s\"", path);
		fd = rc == 0 ? srv_open_private(path, "metrics token") : rc;
	}
	if (fd < 0) {
		rc = fd;
		goto out;
	}
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	size_t len = strlen(buf);
	bool ok = len >= SRV_METRICS_TOKEN_MIN && len <= SRV_METRICS_TOKEN_MAX;
	for (size_t i = 0; i < len && ok; i++)
		ok = buf[i] > ' ' && buf[i] < 0x7f;
	if (!ok) {
		log_error(
			"the metrics token file must hold one line of 16 to 128 visible characters",
			"path=\"%s\"", path);
		rc = -EINVAL;
		goto out;
	}
	memcpy(out, buf, len + 1);
out:
	if (fd >= 0)
		close(fd);
	crypto_wipe(buf, sizeof(buf));
	return rc;
}

void srv_key_pages_protect(const void *p, size_t n)
{
	long page = sysconf(_SC_PAGESIZE);
	if (page <= 0 || n == 0)
		return;
	uintptr_t start = (uintptr_t)p & ~((uintptr_t)page - 1);
	size_t len = ((uintptr_t)p + n - start + (size_t)page - 1) & ~((size_t)page - 1);
	/* Best effort: a core dump skips these pages, swap never gets them. */
	if (madvise((void *)start, len, MADV_DONTDUMP) != 0)
		log_debug("madvise(MADV_DONTDUMP) on the key pages failed", "errno=%d", errno);
	if (mlock((void *)start, len) != 0)
		log_debug("mlock on the key pages failed", "errno=%d", errno);
}
