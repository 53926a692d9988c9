/*
 * The store against a real LMDB environment in a temporary directory: tables,
 * cursors, sequences, group commit, map growth, and a hot backup taken by a
 * read-only process while another process writes.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "store/store.h"

enum { T_REC, T_IDX, T_KV, T_COUNT };

static const store_table_def_t test_tables[T_COUNT] = {
	[T_REC] = {.name = "rec", .flags = 0},
	[T_IDX] = {.name = "idx", .flags = STORE_DUPSORT},
	[T_KV] = {.name = "kv", .flags = 0},
};

static char test_base[64];
static char test_db[PATH_MAX];

static void test_setup(void)
{
	strcpy(test_base, "/tmp/ospay-store-XXXXXX");
	cr_assert_not_null(mkdtemp(test_base));
	snprintf(test_db, sizeof(test_db), "%s/db", test_base);
}

static int test_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void test_teardown(void)
{
	if (test_base[0] != '\0')
		nftw(test_base, test_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	test_base[0] = '\0';
}

TestSuite(store, .init = test_setup, .fini = test_teardown, .timeout = 120);

static store_t *test_open_at(const char *path, size_t map_size, size_t map_max, bool ro)
{
	store_opts_t o = {
		.path = path,
		.map_size = map_size,
		.map_max = map_max,
		.read_only = ro,
		.tables = test_tables,
		.n_tables = T_COUNT,
	};
	store_t *s = NULL;
	int rc = store_open(&s, &o);

	cr_assert_eq(rc, 0, "store_open(%s): %d", path, rc);
	cr_assert_not_null(s);
	return s;
}

static store_t *test_open(void)
{
	return test_open_at(test_db, 0, 0, false);
}

static uint64_t test_stat_commits(store_t *s)
{
	store_stats_t st;

	store_get_stats(s, &st);
	return st.commits;
}

static uint64_t test_stat_reads(store_t *s)
{
	store_stats_t st;

	store_get_stats(s, &st);
	return st.records_read;
}

/* ---- generic mutations */

struct test_put {
	unsigned table;
	const void *k;
	size_t klen;
	const void *v;
	size_t vlen;
	unsigned flags;
};

static int test_fn_put(store_txn_t *txn, void *arg)
{
	const struct test_put *p = arg;

	return store_put(txn, p->table, p->k, p->klen, p->v, p->vlen, p->flags);
}

static int test_fn_del(store_txn_t *txn, void *arg)
{
	const struct test_put *p = arg;

	return store_del(txn, p->table, p->k, p->klen, p->v, p->vlen);
}

/* Runs one put and commits it; returns store_write's result. */
static int test_put_now(store_t *s, unsigned table, const void *k, size_t klen, const void *v,
			size_t vlen, unsigned flags)
{
	struct test_put p = {table, k, klen, v, vlen, flags};
	int rc = store_write(s, test_fn_put, NULL, &p);

	cr_assert_eq(store_flush(s), 0);
	return rc;
}

static int test_del_now(store_t *s, unsigned table, const void *k, size_t klen, const void *v,
			size_t vlen)
{
	struct test_put p = {table, k, klen, v, vlen, 0};
	int rc = store_write(s, test_fn_del, NULL, &p);

	cr_assert_eq(store_flush(s), 0);
	return rc;
}

static int test_get_str(store_t *s, unsigned table, const char *k, char *out, size_t cap)
{
	store_txn_t *txn = NULL;
	store_val_t v;
	int rc;

	cr_assert_eq(store_read_begin(s, &txn), 0);
	rc = store_get(txn, table, k, strlen(k), &v);
	if (rc == 0 && out != NULL) {
		cr_assert_lt(v.len, cap);
		memcpy(out, v.data, v.len);
		out[v.len] = '\0';
	}
	store_read_end(txn);
	return rc;
}

/* ---- done callbacks that record their order */

struct test_log {
	int ids[64];
	int rcs[64];
	int n;
};

struct test_item {
	struct test_log *log;
	int id;
	struct test_put put;
	store_t *s;
	/* For fn checks: what fn saw. */
	int seen;
};

static void test_done_log(void *arg, int rc)
{
	struct test_item *it = arg;

	cr_assert_lt(it->log->n, 64);
	it->log->ids[it->log->n] = it->id;
	it->log->rcs[it->log->n] = rc;
	it->log->n++;
}

static int test_fn_item_put(store_txn_t *txn, void *arg)
{
	struct test_item *it = arg;

	return test_fn_put(txn, &it->put);
}

/* ------------------------------------------------------------------ basics */

Test(store, open_close_reopen_persists)
{
	store_t *s = test_open();
	char buf[64];

	cr_assert_eq(test_put_now(s, T_KV, "hello", 5, "world", 5, 0), 0);
	cr_assert_eq(test_stat_commits(s), 1);
	store_close(s);

	s = test_open();
	cr_assert_eq(test_get_str(s, T_KV, "hello", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "world");
	cr_assert_eq(test_get_str(s, T_KV, "absent", NULL, 0), -ENOENT);
	store_close(s);

	/* A read-only open sees the same data and refuses writes. */
	s = test_open_at(test_db, 0, 0, true);
	cr_assert_eq(test_get_str(s, T_KV, "hello", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "world");
	struct test_put p = {T_KV, "x", 1, "y", 1, 0};
	cr_assert_eq(store_write(s, test_fn_put, NULL, &p), -EROFS);
	store_close(s);
}

Test(store, open_rejects_bad_tables)
{
	store_table_def_t bad[] = {{.name = "_seq", .flags = 0}};
	store_table_def_t wrong[] = {{.name = "idx", .flags = 0}};
	store_opts_t o = {.path = test_db, .tables = bad, .n_tables = 1};
	store_t *s = NULL;

	cr_assert_eq(store_open(&s, &o), -EINVAL);
	cr_assert_null(s);
	store_close(test_open());
	/* "idx" exists as DUPSORT: opening it as a plain table is refused. */
	o.tables = wrong;
	cr_assert_eq(store_open(&s, &o), -EINVAL);
	cr_assert_null(s);
}

Test(store, get_put_del)
{
	store_t *s = test_open();
	store_txn_t *txn = NULL;
	char buf[64];

	cr_assert_eq(test_put_now(s, T_KV, "a", 1, "one", 3, 0), 0);
	cr_assert_eq(test_put_now(s, T_KV, "a", 1, "uno", 3, 0), 0);
	cr_assert_eq(test_get_str(s, T_KV, "a", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "uno");

	/* Deleting a (key, value) pair needs the value to match, even without DUPSORT. */
	cr_assert_eq(test_del_now(s, T_KV, "a", 1, "one", 3), -ENOENT);
	cr_assert_eq(test_get_str(s, T_KV, "a", NULL, 0), 0);
	cr_assert_eq(test_del_now(s, T_KV, "a", 1, "uno", 3), 0);
	cr_assert_eq(test_get_str(s, T_KV, "a", NULL, 0), -ENOENT);
	cr_assert_eq(test_del_now(s, T_KV, "a", 1, NULL, 0), -ENOENT);

	/* A read transaction refuses writes; only one is open at a time. */
	cr_assert_eq(store_read_begin(s, &txn), 0);
	store_txn_t *again = NULL;
	cr_assert_eq(store_read_begin(s, &again), -EBUSY);
	cr_assert_eq(store_put(txn, T_KV, "b", 1, "x", 1, 0), -EINVAL);
	cr_assert_eq(store_del(txn, T_KV, "b", 1, NULL, 0), -EINVAL);
	uint64_t seq = 0;
	cr_assert_eq(store_seq_next(txn, "s", &seq), -EINVAL);
	cr_assert_eq(store_get(txn, T_COUNT, "b", 1, NULL), -EINVAL);
	store_read_end(txn);
	cr_assert_eq(store_read_begin(s, &txn), 0);
	store_read_end(txn);
	store_close(s);
}

Test(store, nooverwrite_and_nodupdata)
{
	store_t *s = test_open();
	uint8_t id[8];

	cr_assert_eq(test_put_now(s, T_KV, "k", 1, "v1", 2, STORE_NOOVERWRITE), 0);
	cr_assert_eq(test_put_now(s, T_KV, "k", 1, "v2", 2, STORE_NOOVERWRITE), -EEXIST);
	char buf[8];
	cr_assert_eq(test_get_str(s, T_KV, "k", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "v1");

	be64_put(id, 7);
	cr_assert_eq(test_put_now(s, T_IDX, "s", 1, id, 8, STORE_NODUPDATA), 0);
	cr_assert_eq(test_put_now(s, T_IDX, "s", 1, id, 8, STORE_NODUPDATA), -EEXIST);
	be64_put(id, 8);
	cr_assert_eq(test_put_now(s, T_IDX, "s", 1, id, 8, STORE_NODUPDATA), 0);
	store_close(s);
}

/* ------------------------------------------------------------------ cursors */

struct test_idx_fill {
	uint8_t status;
	uint64_t id;
};

static int test_fn_fill_idx(store_txn_t *txn, void *arg)
{
	const struct test_idx_fill *f = arg;
	uint8_t id[8];
	int rc = 0;

	for (; f->status != 0 && rc == 0; f++) {
		be64_put(id, f->id);
		rc = store_put(txn, T_IDX, &f->status, 1, id, sizeof(id), STORE_NODUPDATA);
	}
	return rc;
}

static void test_expect(int rc, store_val_t *k, store_val_t *v, uint8_t status, uint64_t id)
{
	cr_assert_eq(rc, 0, "cursor rc %d, wanted (%u, %llu)", rc, status, (unsigned long long)id);
	cr_assert_eq(k->len, 1);
	cr_assert_eq(*(const uint8_t *)k->data, status);
	cr_assert_eq(v->len, 8);
	cr_assert_eq(be64_get(v->data), id, "got id %llu, wanted %llu",
		     (unsigned long long)be64_get(v->data), (unsigned long long)id);
}

Test(store, dupsort_index_scan)
{
	const struct test_idx_fill fill[] = {
		{1, 3}, {1, 1}, {1, 2}, {2, 10}, {2, 5}, {2, 7}, {4, 9}, {0, 0},
	};
	store_t *s = test_open();
	store_txn_t *txn = NULL;
	store_cursor_t *c = NULL;
	store_val_t k, v;
	uint8_t key;
	uint8_t id[8];

	cr_assert_eq(store_write(s, test_fn_fill_idx, NULL, (void *)fill), 0);
	cr_assert_eq(store_flush(s), 0);

	cr_assert_eq(store_read_begin(s, &txn), 0);
	cr_assert_eq(store_cursor_open(txn, T_IDX, &c), 0);
	key = 2;
	test_expect(store_cursor_seek(c, &key, 1, &k, &v), &k, &v, 2, 5);
	test_expect(store_cursor_next_dup(c, &k, &v), &k, &v, 2, 7);
	test_expect(store_cursor_next_dup(c, &k, &v), &k, &v, 2, 10);
	cr_assert_eq(store_cursor_next_dup(c, &k, &v), -ENOENT);
	test_expect(store_cursor_next(c, &k, &v), &k, &v, 4, 9);
	cr_assert_eq(store_cursor_next(c, &k, &v), -ENOENT);
	test_expect(store_cursor_prev(c, &k, &v), &k, &v, 2, 10);
	test_expect(store_cursor_prev(c, &k, &v), &k, &v, 2, 7);

	/* seek lands on the next key when the asked one is absent. */
	key = 3;
	test_expect(store_cursor_seek(c, &key, 1, &k, &v), &k, &v, 4, 9);
	key = 5;
	cr_assert_eq(store_cursor_seek(c, &key, 1, &k, &v), -ENOENT);

	/* seek_dup: exact pair, first value >= the asked one, none under the key. */
	key = 2;
	be64_put(id, 7);
	test_expect(store_cursor_seek_dup(c, &key, 1, id, 8, &k, &v), &k, &v, 2, 7);
	be64_put(id, 6);
	test_expect(store_cursor_seek_dup(c, &key, 1, id, 8, &k, &v), &k, &v, 2, 7);
	be64_put(id, 11);
	cr_assert_eq(store_cursor_seek_dup(c, &key, 1, id, 8, &k, &v), -ENOENT);
	key = 3;
	be64_put(id, 0);
	cr_assert_eq(store_cursor_seek_dup(c, &key, 1, id, 8, &k, &v), -ENOENT);

	test_expect(store_cursor_first(c, &k, &v), &k, &v, 1, 1);
	test_expect(store_cursor_next(c, &k, &v), &k, &v, 1, 2);
	test_expect(store_cursor_last(c, &k, &v), &k, &v, 4, 9);
	store_cursor_close(c);

	/* Index-only operations are refused on plain tables. */
	cr_assert_eq(store_cursor_open(txn, T_KV, &c), 0);
	cr_assert_eq(store_cursor_seek_dup(c, "a", 1, "b", 1, &k, &v), -EINVAL);
	cr_assert_eq(store_cursor_next_dup(c, &k, &v), -EINVAL);
	/* Left open on purpose: store_read_end closes it (LSan would see a leak). */
	store_read_end(txn);

	/* Deleting one pair, then a whole key. */
	key = 2;
	be64_put(id, 7);
	cr_assert_eq(test_del_now(s, T_IDX, &key, 1, id, 8), 0);
	cr_assert_eq(test_del_now(s, T_IDX, &key, 1, id, 8), -ENOENT);
	key = 1;
	cr_assert_eq(test_del_now(s, T_IDX, &key, 1, NULL, 0), 0);
	cr_assert_eq(store_read_begin(s, &txn), 0);
	cr_assert_eq(store_cursor_open(txn, T_IDX, &c), 0);
	test_expect(store_cursor_first(c, &k, &v), &k, &v, 2, 5);
	test_expect(store_cursor_next(c, &k, &v), &k, &v, 2, 10);
	test_expect(store_cursor_next(c, &k, &v), &k, &v, 4, 9);
	store_cursor_close(c);
	store_read_end(txn);
	store_close(s);
}

static int test_fn_put_u64_keys(store_txn_t *txn, void *arg)
{
	const uint64_t *keys = arg;
	uint8_t k[8];
	int rc = 0;

	for (size_t i = 0; keys[i] != 0 && rc == 0; i++) {
		be64_put(k, keys[i]);
		rc = store_put(txn, T_REC, k, 8, &i, sizeof(i), 0);
	}
	return rc;
}

Test(store, big_endian_keys_sort_numerically)
{
	const uint64_t keys[] = {256, 1, 65536, 2, 255, UINT64_MAX, 0x0100000000ull, 0};
	const uint64_t sorted[] = {1, 2, 255, 256, 65536, 0x0100000000ull, UINT64_MAX};
	store_t *s = test_open();
	store_txn_t *txn = NULL;
	store_cursor_t *c = NULL;
	store_val_t k;
	size_t n = 0;
	int rc;

	cr_assert_eq(store_write(s, test_fn_put_u64_keys, NULL, (void *)keys), 0);
	cr_assert_eq(store_flush(s), 0);
	cr_assert_eq(store_read_begin(s, &txn), 0);
	cr_assert_eq(store_cursor_open(txn, T_REC, &c), 0);
	for (rc = store_cursor_first(c, &k, NULL); rc == 0; rc = store_cursor_next(c, &k, NULL)) {
		cr_assert_lt(n, OSPAY_ARRAY_LEN(sorted));
		cr_assert_eq(k.len, 8);
		cr_assert_eq(be64_get(k.data), sorted[n]);
		n++;
	}
	cr_assert_eq(rc, -ENOENT);
	cr_assert_eq(n, OSPAY_ARRAY_LEN(sorted));
	/* Range start: the first key >= 257 is 65536. */
	uint8_t from[8];
	be64_put(from, 257);
	cr_assert_eq(store_cursor_seek(c, from, 8, &k, NULL), 0);
	cr_assert_eq(be64_get(k.data), 65536);
	store_cursor_close(c);
	store_read_end(txn);
	store_close(s);
}

/* ------------------------------------------------------------------ sequences */

struct test_seq {
	const char *name;
	uint64_t got[3];
};

static int test_fn_seq3(store_txn_t *txn, void *arg)
{
	struct test_seq *q = arg;
	int rc = 0;

	for (int i = 0; i < 3 && rc == 0; i++)
		rc = store_seq_next(txn, q->name, &q->got[i]);
	return rc;
}

Test(store, seq_next_monotonic_across_reopen)
{
	store_t *s = test_open();
	struct test_seq a = {.name = "order"};
	struct test_seq b = {.name = "invoice"};

	cr_assert_eq(store_write(s, test_fn_seq3, NULL, &a), 0);
	cr_assert_eq(a.got[0], 1);
	cr_assert_eq(a.got[1], 2);
	cr_assert_eq(a.got[2], 3);
	cr_assert_eq(store_write(s, test_fn_seq3, NULL, &b), 0);
	cr_assert_eq(b.got[0], 1, "sequences are independent");
	cr_assert_eq(store_flush(s), 0);
	store_close(s);

	s = test_open();
	cr_assert_eq(store_write(s, test_fn_seq3, NULL, &a), 0);
	cr_assert_eq(a.got[0], 4);
	cr_assert_eq(a.got[2], 6);
	cr_assert_eq(store_flush(s), 0);
	store_close(s);
}

/* ------------------------------------------------------------------ group commit */

static int test_fn_put_then_check(store_txn_t *txn, void *arg)
{
	struct test_item *it = arg;
	int rc = store_get(txn, T_KV, "first", 5, NULL);

	it->seen = rc == 0;
	return test_fn_put(txn, &it->put);
}

Test(store, group_commit_one_commit_in_order)
{
	store_t *s = test_open();
	struct test_log log = {0};
	struct test_item it[3] = {
		{&log, 1, {T_KV, "first", 5, "1", 1, 0}, s, 0},
		{&log, 2, {T_KV, "second", 6, "2", 1, 0}, s, 0},
		{&log, 3, {T_KV, "third", 5, "3", 1, 0}, s, 0},
	};
	store_txn_t *txn = NULL;
	store_stats_t st;

	cr_assert_not(store_pending(s));
	cr_assert_eq(store_write(s, test_fn_item_put, test_done_log, &it[0]), 0);
	cr_assert_eq(store_write(s, test_fn_put_then_check, test_done_log, &it[1]), 0);
	cr_assert_eq(store_write(s, test_fn_item_put, test_done_log, &it[2]), 0);
	cr_assert(it[1].seen, "a later mutation of the batch sees an earlier one");
	cr_assert(store_pending(s));
	cr_assert_eq(log.n, 0, "done waits for the flush");
	cr_assert_eq(test_stat_commits(s), 0);

	/* A read transaction opened while the batch is open sees committed data only. */
	cr_assert_eq(store_read_begin(s, &txn), 0);
	cr_assert_eq(store_get(txn, T_KV, "first", 5, NULL), -ENOENT);
	cr_assert_eq(store_get(txn, T_KV, "third", 5, NULL), -ENOENT);
	store_read_end(txn);

	cr_assert_eq(store_flush(s), 0);
	store_get_stats(s, &st);
	cr_assert_eq(st.commits, 1);
	cr_assert_eq(st.writes_committed, 3);
	cr_assert_eq(log.n, 3);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(log.ids[i], i + 1);
		cr_assert_eq(log.rcs[i], 0);
	}
	cr_assert_not(store_pending(s));
	cr_assert_eq(test_get_str(s, T_KV, "third", NULL, 0), 0);

	/* An empty flush commits nothing. */
	cr_assert_eq(store_flush(s), 0);
	cr_assert_eq(test_stat_commits(s), 1);
	store_close(s);
}

static int test_fn_put_then_fail(store_txn_t *txn, void *arg)
{
	int rc = test_fn_item_put(txn, arg);

	return rc == 0 ? -EPERM : rc;
}

static int test_fn_check_absent(store_txn_t *txn, void *arg)
{
	struct test_item *it = arg;

	it->seen = store_get(txn, T_KV, "bad", 3, NULL);
	return test_fn_item_put(txn, arg);
}

Test(store, failing_mutation_leaves_batch_untouched)
{
	store_t *s = test_open();
	struct test_log log = {0};
	struct test_item it[3] = {
		{&log, 1, {T_KV, "good", 4, "g", 1, 0}, s, 0},
		{&log, 2, {T_KV, "bad", 3, "b", 1, 0}, s, 0},
		{&log, 3, {T_KV, "after", 5, "a", 1, 0}, s, 0},
	};
	store_stats_t st;

	cr_assert_eq(store_write(s, test_fn_item_put, test_done_log, &it[0]), 0);
	cr_assert_eq(store_write(s, test_fn_put_then_fail, test_done_log, &it[1]), -EPERM);
	cr_assert_eq(store_write(s, test_fn_check_absent, test_done_log, &it[2]), 0);
	cr_assert_eq(it[2].seen, -ENOENT, "the failed mutation's put was discarded");
	cr_assert_eq(store_flush(s), 0);
	cr_assert_eq(log.n, 2);
	cr_assert_eq(log.ids[0], 1);
	cr_assert_eq(log.ids[1], 3);
	store_get_stats(s, &st);
	cr_assert_eq(st.writes_committed, 2);
	cr_assert_eq(test_get_str(s, T_KV, "good", NULL, 0), 0);
	cr_assert_eq(test_get_str(s, T_KV, "bad", NULL, 0), -ENOENT);

	/* A batch made only of failures commits nothing. */
	cr_assert_eq(store_write(s, test_fn_put_then_fail, test_done_log, &it[1]), -EPERM);
	cr_assert_not(store_pending(s));
	cr_assert_eq(store_flush(s), 0);
	cr_assert_eq(test_stat_commits(s), 1);
	cr_assert_eq(log.n, 2);
	store_close(s);
}

/*
 * A refused mutation must not keep the LMDB writer lock: another process
 * (a backup, an operator's tool) writing to the same environment gets it
 * without this one writing again. The wait is bounded (the child is killed).
 */
Test(store, refused_mutation_releases_writer_lock)
{
	store_t *s = test_open();
	struct test_log log = {0};
	struct test_item bad = {&log, 1, {T_KV, "bad", 3, "b", 1, 0}, s, 0};
	struct timespec nap = {.tv_sec = 0, .tv_nsec = 20 * 1000 * 1000};
	int status = 0;
	pid_t pid, got = 0;

	cr_assert_eq(store_write(s, test_fn_put_then_fail, test_done_log, &bad), -EPERM);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		store_t *other = test_open_at(test_db, 0, 0, false);
		struct test_item ok = {&log, 2, {T_KV, "other", 5, "o", 1, 0}, other, 0};
		int rc = store_write(other, test_fn_item_put, NULL, &ok);
		rc = rc == 0 ? store_flush(other) : rc;
		store_close(other);
		_exit(rc == 0 ? 0 : 1);
	}
	for (int i = 0; i < 3000 && got == 0; i++) {
		got = waitpid(pid, &status, WNOHANG);
		if (got == 0)
			nanosleep(&nap, NULL);
	}
	if (got == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	cr_assert_eq(got, pid, "the other process is still waiting for the writer lock");
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
	cr_assert_eq(test_get_str(s, T_KV, "other", NULL, 0), 0, "the other write is visible");
	store_close(s);
}

/* A done callback that queues more work, and (for id 1) flushes from inside. */
static void test_done_chain(void *arg, int rc)
{
	struct test_item *it = arg;

	test_done_log(arg, rc);
	if (it->id == 1) {
		cr_assert_eq(store_write(it->s, test_fn_item_put, test_done_log, it + 2), 0);
		cr_assert_eq(store_flush(it->s), 0);
	} else if (it->id == 4) {
		cr_assert_eq(store_write(it->s, test_fn_item_put, test_done_log, it + 1), 0);
	}
}

Test(store, done_callback_reenters)
{
	store_t *s = test_open();
	struct test_log log = {0};
	struct test_item it[5] = {
		{&log, 1, {T_KV, "a", 1, "a", 1, 0}, s, 0},
		{&log, 2, {T_KV, "b", 1, "b", 1, 0}, s, 0},
		{&log, 3, {T_KV, "c", 1, "c", 1, 0}, s, 0},
		{&log, 4, {T_KV, "d", 1, "d", 1, 0}, s, 0},
		{&log, 5, {T_KV, "e", 1, "e", 1, 0}, s, 0},
	};

	/* 1's callback writes 3 and flushes: 3 is told after 2, in the same flush. */
	cr_assert_eq(store_write(s, test_fn_item_put, test_done_chain, &it[0]), 0);
	cr_assert_eq(store_write(s, test_fn_item_put, test_done_log, &it[1]), 0);
	cr_assert_eq(store_flush(s), 0);
	cr_assert_eq(log.n, 3);
	cr_assert_eq(log.ids[0], 1);
	cr_assert_eq(log.ids[1], 2);
	cr_assert_eq(log.ids[2], 3);
	cr_assert_eq(test_stat_commits(s), 2);
	cr_assert_not(store_pending(s));

	/* 4's callback writes 5 without flushing: a new batch, told by the next flush. */
	cr_assert_eq(store_write(s, test_fn_item_put, test_done_chain, &it[3]), 0);
	cr_assert_eq(store_flush(s), 0);
	cr_assert_eq(log.n, 4);
	cr_assert(store_pending(s));
	cr_assert_eq(test_get_str(s, T_KV, "e", NULL, 0), -ENOENT);
	cr_assert_eq(store_flush(s), 0);
	cr_assert_eq(log.n, 5);
	cr_assert_eq(log.ids[4], 5);
	cr_assert_eq(log.rcs[4], 0);
	cr_assert_eq(test_get_str(s, T_KV, "e", NULL, 0), 0);
	store_close(s);
}

static int test_fn_nested_write(store_txn_t *txn, void *arg)
{
	struct test_item *it = arg;

	it->seen = store_write(it->s, test_fn_item_put, NULL, it);
	if (it->seen == -EBUSY)
		it->seen = store_flush(it->s);
	return test_fn_item_put(txn, arg);
}

Test(store, write_and_flush_refused_inside_fn)
{
	store_t *s = test_open();
	struct test_log log = {0};
	struct test_item it = {&log, 1, {T_KV, "n", 1, "n", 1, 0}, s, 0};

	cr_assert_eq(store_write(s, test_fn_nested_write, test_done_log, &it), 0);
	cr_assert_eq(it.seen, -EBUSY);
	cr_assert_eq(store_flush(s), 0);
	cr_assert_eq(log.n, 1);
	store_close(s);
}

Test(store, close_cancels_pending_batch)
{
	store_t *s = test_open();
	struct test_log log = {0};
	struct test_item it[2] = {
		{&log, 1, {T_KV, "kept", 4, "k", 1, 0}, s, 0},
		{&log, 2, {T_KV, "lost", 4, "l", 1, 0}, s, 0},
	};

	cr_assert_eq(store_write(s, test_fn_item_put, test_done_log, &it[0]), 0);
	cr_assert_eq(store_flush(s), 0);
	cr_assert_eq(log.n, 1);
	cr_assert_eq(store_write(s, test_fn_item_put, test_done_log, &it[1]), 0);
	store_close(s);
	cr_assert_eq(log.n, 2);
	cr_assert_eq(log.ids[1], 2);
	cr_assert_eq(log.rcs[1], -ECANCELED);

	s = test_open();
	cr_assert_eq(test_get_str(s, T_KV, "kept", NULL, 0), 0);
	cr_assert_eq(test_get_str(s, T_KV, "lost", NULL, 0), -ENOENT);
	store_close(s);
}

/* ------------------------------------------------------------------ map growth */

#define TEST_BIG_VAL (64 * 1024)
#define TEST_BIG_N 320 /* 20 MiB */

struct test_big {
	uint64_t i;
	int done_rc;
	int done_calls;
};

static void test_big_fill(uint8_t *buf, uint64_t i)
{
	for (size_t j = 0; j < TEST_BIG_VAL; j++)
		buf[j] = (uint8_t)(i * 31 + j / 4096);
}

static int test_fn_big(store_txn_t *txn, void *arg)
{
	static uint8_t buf[TEST_BIG_VAL];
	struct test_big *b = arg;
	uint8_t k[8];

	be64_put(k, b->i);
	test_big_fill(buf, b->i);
	return store_put(txn, T_REC, k, 8, buf, sizeof(buf), 0);
}

static void test_done_big(void *arg, int rc)
{
	struct test_big *b = arg;

	b->done_rc = rc;
	b->done_calls++;
}

Test(store, map_grows_on_demand)
{
	static struct test_big big[TEST_BIG_N];
	static uint8_t want[TEST_BIG_VAL];
	store_t *s = test_open_at(test_db, 1 << 20, 0, false);
	store_stats_t st;
	store_txn_t *txn = NULL;
	store_val_t v;
	uint8_t k[8];

	for (uint64_t i = 0; i < TEST_BIG_N; i++) {
		big[i] = (struct test_big){.i = i, .done_rc = 1};
		cr_assert_eq(store_write(s, test_fn_big, test_done_big, &big[i]), 0, "write %llu",
			     (unsigned long long)i);
		if (i % 8 == 7)
			cr_assert_eq(store_flush(s), 0);
	}
	cr_assert_eq(store_flush(s), 0);
	store_get_stats(s, &st);
	cr_assert_gt(st.map_grows, 0);
	cr_assert_gt(st.map_size, (size_t)TEST_BIG_N * TEST_BIG_VAL);
	cr_assert_eq(st.writes_committed, TEST_BIG_N);
	for (size_t i = 0; i < TEST_BIG_N; i++) {
		cr_assert_eq(big[i].done_calls, 1);
		cr_assert_eq(big[i].done_rc, 0);
	}
	store_close(s);

	/* Reopened with the small size asked again: the file's size wins. */
	s = test_open_at(test_db, 1 << 20, 0, false);
	cr_assert_eq(store_read_begin(s, &txn), 0);
	for (uint64_t i = 0; i < TEST_BIG_N; i++) {
		be64_put(k, i);
		cr_assert_eq(store_get(txn, T_REC, k, 8, &v), 0);
		cr_assert_eq(v.len, TEST_BIG_VAL);
		test_big_fill(want, i);
		cr_assert(memcmp(v.data, want, TEST_BIG_VAL) == 0, "value %llu",
			  (unsigned long long)i);
	}
	store_read_end(txn);
	store_close(s);
}

struct test_blob {
	size_t len;
};

static int test_fn_blob(store_txn_t *txn, void *arg)
{
	struct test_blob *b = arg;
	uint8_t *buf = calloc(1, b->len);
	int rc;

	cr_assert_not_null(buf);
	rc = store_put(txn, T_REC, "blob", 4, buf, b->len, 0);
	free(buf);
	return rc;
}

Test(store, map_growth_limits)
{
	store_t *s = test_open_at(test_db, 1 << 20, 2 << 20, false);
	struct test_log log = {0};
	struct test_item it = {&log, 1, {T_KV, "small", 5, "s", 1, 0}, s, 0};
	struct test_blob huge = {4 << 20};
	struct test_blob mid = {3 << 19};
	store_txn_t *txn = NULL;
	store_stats_t st;

	/* Past map_max: -ENOSPC, no callback, and the batch before it still commits. */
	cr_assert_eq(store_write(s, test_fn_item_put, test_done_log, &it), 0);
	cr_assert_eq(store_write(s, test_fn_blob, test_done_log, &huge), -ENOSPC);
	cr_assert_eq(store_flush(s), 0);
	cr_assert_eq(log.n, 1);
	cr_assert_eq(log.rcs[0], 0);
	cr_assert_eq(test_get_str(s, T_KV, "small", NULL, 0), 0);
	cr_assert_eq(test_get_str(s, T_REC, "blob", NULL, 0), -ENOENT);

	/* The map cannot be remapped under a read transaction lent out. */
	store_close(s);
	s = test_open_at(test_db, 1 << 20, 0, false);
	cr_assert_eq(store_read_begin(s, &txn), 0);
	cr_assert_eq(store_write(s, test_fn_blob, NULL, &mid), -EBUSY);
	store_read_end(txn);
	cr_assert_eq(store_write(s, test_fn_blob, NULL, &mid), 0);
	cr_assert_eq(store_flush(s), 0);
	store_get_stats(s, &st);
	cr_assert_gt(st.map_grows, 0);
	cr_assert_eq(test_get_str(s, T_REC, "blob", NULL, 0), 0);
	store_close(s);
}

/* ------------------------------------------------------------------ reads counted */

Test(store, records_read_counts_values_returned)
{
	uint64_t keys[101];
	store_t *s = test_open();
	store_txn_t *txn = NULL;
	store_cursor_t *c = NULL;
	store_val_t k;
	uint8_t from[8];
	uint64_t before;

	for (int i = 0; i < 100; i++)
		keys[i] = (uint64_t)i + 1;
	keys[100] = 0;
	cr_assert_eq(store_write(s, test_fn_put_u64_keys, NULL, keys), 0);
	cr_assert_eq(store_flush(s), 0);

	cr_assert_eq(store_read_begin(s, &txn), 0);
	before = test_stat_reads(s);
	cr_assert_eq(store_get(txn, T_REC, "nope", 4, NULL), -ENOENT);
	cr_assert_eq(test_stat_reads(s), before, "a miss returns no value");
	be64_put(from, 50);
	cr_assert_eq(store_get(txn, T_REC, from, 8, NULL), 0);
	cr_assert_eq(test_stat_reads(s), before + 1);

	/* A range of 10 from key 50: one seek and nine nexts, nothing else. */
	before = test_stat_reads(s);
	cr_assert_eq(store_cursor_open(txn, T_REC, &c), 0);
	cr_assert_eq(store_cursor_seek(c, from, 8, &k, NULL), 0);
	for (int i = 1; i < 10; i++)
		cr_assert_eq(store_cursor_next(c, &k, NULL), 0);
	cr_assert_eq(be64_get(k.data), 59);
	cr_assert_eq(test_stat_reads(s), before + 10);
	cr_assert_eq(store_cursor_last(c, &k, NULL), 0);
	cr_assert_eq(store_cursor_next(c, &k, NULL), -ENOENT);
	cr_assert_eq(test_stat_reads(s), before + 11);
	store_cursor_close(c);
	store_read_end(txn);
	store_close(s);
}

/* ------------------------------------------------------------------ hot backup */

#define TEST_REC_VAL 2048

/* One record per mutation and a counter, in the same transaction. */
static int test_fn_rec_and_count(store_txn_t *txn, void *arg)
{
	uint8_t val[TEST_REC_VAL];
	uint8_t k[8];
	uint8_t cnt[8];
	uint64_t id = 0;
	uint64_t n = 0;
	store_val_t v;
	int rc;

	(void)arg;
	rc = store_seq_next(txn, "rec", &id);
	if (rc != 0)
		return rc;
	be64_put(k, id);
	memset(val, (int)(id & 0xff), sizeof(val));
	rc = store_put(txn, T_REC, k, 8, val, sizeof(val), STORE_NOOVERWRITE);
	if (rc != 0)
		return rc;
	rc = store_get(txn, T_KV, "count", 5, &v);
	if (rc == 0)
		n = be64_get(v.data);
	else if (rc != -ENOENT)
		return rc;
	be64_put(cnt, n + 1);
	return store_put(txn, T_KV, "count", 5, cnt, 8, 0);
}

/* The child: writes batches of four until told to stop (or a cap). */
static int test_backup_writer(const char *db, int stop_fd)
{
	store_t *s = NULL;
	store_opts_t o = {
		.path = db,
		.map_size = 1 << 20,
		.tables = test_tables,
		.n_tables = T_COUNT,
	};
	struct pollfd p = {.fd = stop_fd, .events = POLLIN};
	int rc = store_open(&s, &o);

	for (int i = 0; rc == 0 && i < 20000 && poll(&p, 1, 0) == 0; i++) {
		for (int j = 0; j < 4 && rc == 0; j++)
			rc = store_write(s, test_fn_rec_and_count, NULL, NULL);
		if (rc == 0)
			rc = store_flush(s);
	}
	store_close(s);
	return rc == 0 ? 0 : 1;
}

static uint64_t test_count_of(store_t *s)
{
	store_txn_t *txn = NULL;
	store_val_t v;
	uint64_t n = 0;

	cr_assert_eq(store_read_begin(s, &txn), 0);
	if (store_get(txn, T_KV, "count", 5, &v) == 0)
		n = be64_get(v.data);
	store_read_end(txn);
	return n;
}

/* Opens a backup and checks the counter matches the records, 1..n in order. */
static uint64_t test_check_backup(const char *dir)
{
	store_t *s = test_open_at(dir, 0, 0, true);
	store_txn_t *txn = NULL;
	store_cursor_t *c = NULL;
	store_val_t k, v;
	uint64_t n = 0;
	uint64_t count = test_count_of(s);
	int rc;

	cr_assert_eq(store_read_begin(s, &txn), 0);
	cr_assert_eq(store_cursor_open(txn, T_REC, &c), 0);
	for (rc = store_cursor_first(c, &k, &v); rc == 0; rc = store_cursor_next(c, &k, &v)) {
		n++;
		cr_assert_eq(be64_get(k.data), n);
		cr_assert_eq(v.len, TEST_REC_VAL);
		cr_assert_eq(((const uint8_t *)v.data)[TEST_REC_VAL - 1], (uint8_t)(n & 0xff));
	}
	cr_assert_eq(rc, -ENOENT);
	store_cursor_close(c);
	store_read_end(txn);
	store_close(s);
	cr_assert_eq(count, n, "backup counter %llu, records %llu", (unsigned long long)count,
		     (unsigned long long)n);
	return n;
}

Test(store, hot_backup_from_read_only_process)
{
	char dirs[3][128];
	uint64_t got[3];
	int stop[2];
	int status = 0;
	pid_t pid;
	store_t *ro;
	struct timespec nap = {.tv_sec = 0, .tv_nsec = 20 * 1000 * 1000};

	/* Create the environment and its tables first, then let the child write. A
	 * small map on purpose: the writer grows it, so the reader must remap. */
	store_close(test_open_at(test_db, 1 << 20, 0, false));
	cr_assert_eq(pipe(stop), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		close(stop[1]);
		_exit(test_backup_writer(test_db, stop[0]));
	}
	close(stop[0]);

	ro = test_open_at(test_db, 1 << 20, 0, true);
	for (int i = 0; i < 1000 && test_count_of(ro) < 1000; i++)
		nanosleep(&nap, NULL);
	cr_assert_geq(test_count_of(ro), 1000, "the writer did not get going");

	for (int i = 0; i < 3; i++) {
		snprintf(dirs[i], sizeof(dirs[i]), "%s/backup%d", test_base, i);
		cr_assert_eq(store_backup(ro, dirs[i]), 0, "backup %d", i);
		cr_assert_eq(waitpid(pid, &status, WNOHANG), 0, "writer still running");
		nanosleep(&nap, NULL);
	}
	cr_assert_eq(store_backup(ro, dirs[0]), -EEXIST);
	store_close(ro);

	cr_assert_eq(write(stop[1], "x", 1), 1);
	close(stop[1]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer status %d", status);

	for (int i = 0; i < 3; i++) {
		got[i] = test_check_backup(dirs[i]);
		cr_assert_geq(got[i], 1000);
		if (i > 0)
			cr_assert_geq(got[i], got[i - 1]);
	}
}
