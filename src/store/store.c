/*
 * The store over LMDB: environment, tables, transactions, cursors, group commit.
 *
 * Every mdb_ result goes through store_err(); MDB_MAP_FULL and MDB_TXN_FULL are
 * also remembered on the transaction that met them, so store_write() knows the
 * mutation failed for lack of room rather than by its own choice.
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "common/util.h"

#define STORE_MAP_DEFAULT ((size_t)64 << 20)
#define STORE_MAP_MAX_DEFAULT ((size_t)1 << 40)
/* Internal tables ("_seq") plus slack for later ones. */
#define STORE_INTERNAL_DBS 4
#define STORE_SEQ_TABLE "_seq"
/* Retries when another process grew the map between our checks. */
#define STORE_RESIZE_TRIES 8
#define STORE_WAITQ_MIN 16

struct store_table {
	MDB_dbi dbi;
	unsigned flags;
};

struct store_cursor {
	MDB_cursor *cur;
	store_txn_t *txn;
	unsigned table;
	store_cursor_t *prev;
	store_cursor_t *next;
};

struct store_txn {
	MDB_txn *txn;
	store_t *s;
	bool writable;
	bool open;
	/* -ENOSPC or -EFBIG once a write met a full map or transaction. */
	int full;
	/* Open cursors, closed with the transaction at the latest. */
	store_cursor_t *cursors;
};

/* A mutation waiting for its batch's commit, or a committed one not yet told. */
struct store_waiter {
	store_done_fn done;
	void *arg;
	int rc;
};

/*
 * One array for every waiter: [head, n_ready) belong to batches already
 * committed (rc set) and wait for store_flush to call them, [n_ready, len)
 * belong to the open batch.
 */
struct store_waitq {
	struct store_waiter *v;
	size_t head;
	size_t n_ready;
	size_t len;
	size_t cap;
};

struct store {
	MDB_env *env;
	struct store_table *tables;
	size_t n_tables;
	MDB_dbi seq_dbi;
	bool read_only;
	size_t map_max;
	size_t psize;

	/* The open batch write transaction (or NULL) and how many mutations it holds. */
	MDB_txn *batch;
	uint64_t batch_writes;
	struct store_waitq q;
	/* The child transaction handed to a store_write_fn while it runs. */
	store_txn_t wtxn;
	bool delivering;
	bool closing;

	/* The read transaction, kept reset between uses; rtxn.open while lent out. */
	MDB_txn *rcache;
	store_txn_t rtxn;

	store_stats_t stats;
};

/* ------------------------------------------------------------------ errors */

/* The one place LMDB codes become negative errno values. */
static int store_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_NOTFOUND:
		return -ENOENT;
	case MDB_KEYEXIST:
		return -EEXIST;
	case MDB_MAP_FULL:
		return -ENOSPC;
	case MDB_TXN_FULL:
		return -EFBIG;
	case MDB_MAP_RESIZED:
	case MDB_READERS_FULL:
		return -EAGAIN;
	case MDB_DBS_FULL:
		return -EMFILE;
	case MDB_BAD_VALSIZE:
	case MDB_BAD_DBI:
	case MDB_BAD_TXN:
	case MDB_BAD_RSLOT:
	case MDB_INCOMPATIBLE:
		return -EINVAL;
	default:
		/* LMDB passes system errors through as positive errno values. */
		return rc > 0 ? -rc : -EIO;
	}
}

/* Translates a write's result and remembers a full map or transaction on txn. */
static int store_write_err(store_txn_t *txn, int mrc)
{
	int rc = store_err(mrc);

	if ((rc == -ENOSPC || rc == -EFBIG) && txn->full == 0)
		txn->full = rc;
	return rc;
}

/* ------------------------------------------------------------------ map size */

static size_t store_round_up(size_t v, size_t to)
{
	if (v % to == 0)
		return v;
	if (v > SIZE_MAX - to)
		return v - v % to;
	return v + (to - v % to);
}

static void store_map_refresh(store_t *s)
{
	MDB_envinfo info;

	if (mdb_env_info(s->env, &info) == MDB_SUCCESS)
		s->stats.map_size = info.me_mapsize;
}

/*
 * mdb_env_set_mapsize() remaps the file, so no transaction of this process may
 * be open: not the batch, not a read transaction lent to a caller (its values
 * would dangle). The cached reset read transaction is ended too, as LMDB asks.
 */
static int store_map_set(store_t *s, size_t size)
{
	int rc = 0;

	if (s->batch != NULL || s->rtxn.open || s->wtxn.open) {
		rc = -EBUSY;
		goto out;
	}
	if (s->rcache != NULL) {
		mdb_txn_abort(s->rcache);
		s->rcache = NULL;
	}
	rc = store_err(mdb_env_set_mapsize(s->env, size));
	store_map_refresh(s);
out:
	return rc;
}

/* Another process grew the map: adopt its size (never shrinking ours). */
static int store_map_adopt(store_t *s)
{
	size_t before = s->stats.map_size;
	int rc = store_map_set(s, 0);

	if (rc == 0 && s->stats.map_size < before)
		rc = store_map_set(s, before);
	return rc;
}

/* Doubles the map, up to map_max. */
static int store_map_grow(store_t *s)
{
	size_t cur = s->stats.map_size;
	size_t next;
	int rc = 0;

	if (cur >= s->map_max) {
		rc = -ENOSPC;
		goto out;
	}
	next = cur > s->map_max / 2 ? s->map_max : cur * 2;
	rc = store_map_set(s, store_round_up(next, s->psize));
	if (rc == 0)
		s->stats.map_grows++;
out:
	return rc;
}

/*
 * Grows the map between batches once it is three quarters used, so that a
 * commit (which needs pages for the free list) rarely meets a full map.
 */
static void store_map_prepare(store_t *s)
{
	MDB_envinfo info;
	size_t used;

	if (s->read_only || s->batch != NULL || s->rtxn.open)
		return;
	if (mdb_env_info(s->env, &info) != MDB_SUCCESS)
		return;
	used = ((size_t)info.me_last_pgno + 1) * s->psize;
	if (used > info.me_mapsize / 4 * 3)
		(void)store_map_grow(s);
}

/* ------------------------------------------------------------------ waiters */

static int store_waitq_reserve(struct store_waitq *q)
{
	struct store_waiter *v;
	size_t cap;
	int rc = 0;

	if (q->len < q->cap)
		goto out;
	cap = q->cap ? q->cap * 2 : STORE_WAITQ_MIN;
	if (cap > SIZE_MAX / sizeof(*v)) {
		rc = -ENOMEM;
		goto out;
	}
	v = realloc(q->v, cap * sizeof(*v));
	if (v == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	q->v = v;
	q->cap = cap;
out:
	return rc;
}

/* The open batch ended with rc: its waiters join the ready ones. */
static void store_waitq_settle(struct store_waitq *q, int rc)
{
	for (size_t i = q->n_ready; i < q->len; i++)
		q->v[i].rc = rc;
	q->n_ready = q->len;
}

/*
 * Calls every ready waiter in order. A callback may call store_write (its
 * waiter lands behind n_ready) or store_flush (which commits and leaves the
 * calling to this loop, keeping the order), so index afresh on every turn.
 */
static void store_deliver(store_t *s)
{
	struct store_waitq *q = &s->q;
	struct store_waiter w;
	size_t rest;

	if (s->delivering)
		return;
	s->delivering = true;
	while (q->head < q->n_ready) {
		w = q->v[q->head++];
		w.done(w.arg, w.rc);
	}
	rest = q->len - q->head;
	if (rest > 0 && q->head > 0)
		memmove(q->v, q->v + q->head, rest * sizeof(*q->v));
	q->n_ready -= q->head;
	q->len = rest;
	q->head = 0;
	s->delivering = false;
}

/* ------------------------------------------------------------------ batch */

static int store_batch_begin(store_t *s)
{
	int mrc = MDB_SUCCESS;
	int rc = 0;

	for (int i = 0; s->batch == NULL; i++) {
		mrc = mdb_txn_begin(s->env, NULL, 0, &s->batch);
		if (mrc == MDB_SUCCESS)
			break;
		s->batch = NULL;
		if (mrc != MDB_MAP_RESIZED || i >= STORE_RESIZE_TRIES) {
			rc = store_err(mrc);
			goto out;
		}
		rc = store_map_adopt(s);
		if (rc != 0)
			goto out;
	}
out:
	return rc;
}

/* Commits the batch (one fsync); its waiters become ready with the result. */
static int store_batch_commit(store_t *s)
{
	int rc = store_err(mdb_txn_commit(s->batch));

	s->batch = NULL;
	if (rc == 0) {
		s->stats.commits++;
		s->stats.writes_committed += s->batch_writes;
	}
	s->batch_writes = 0;
	store_waitq_settle(&s->q, rc);
	return rc;
}

static void store_batch_abort(store_t *s, int rc)
{
	if (s->batch != NULL)
		mdb_txn_abort(s->batch);
	s->batch = NULL;
	s->batch_writes = 0;
	store_waitq_settle(&s->q, rc);
}

/*
 * After a refused mutation: a batch that holds nothing is given up at once, so
 * the LMDB writer lock (shared with every process using the environment) is
 * not kept until some later write's flush.
 */
static void store_batch_release_empty(store_t *s)
{
	/* No writes, so no waiters of this batch: nothing for the abort to settle. */
	if (s->batch != NULL && s->batch_writes == 0 && !s->wtxn.open)
		store_batch_abort(s, 0);
}

/* ------------------------------------------------------------------ txn */

static void store_txn_lend(store_txn_t *t, store_t *s, MDB_txn *txn, bool writable)
{
	t->txn = txn;
	t->s = s;
	t->writable = writable;
	t->open = true;
	t->full = 0;
	t->cursors = NULL;
}

static void store_cursor_free(store_cursor_t *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		c->txn->cursors = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	mdb_cursor_close(c->cur);
	free(c);
}

/* Takes the transaction back from the caller, closing cursors it left open. */
static void store_txn_reclaim(store_txn_t *t)
{
	while (t->cursors != NULL)
		store_cursor_free(t->cursors);
	t->open = false;
	t->txn = NULL;
}

static bool store_txn_usable(const store_txn_t *t, unsigned table)
{
	return t != NULL && t->open && table < t->s->n_tables;
}

/* ------------------------------------------------------------------ open/close */

static int store_open_tables(store_t *s, const store_opts_t *opts)
{
	MDB_txn *txn = NULL;
	unsigned create = s->read_only ? 0 : MDB_CREATE;
	unsigned flags;
	int mrc = MDB_SUCCESS;
	int rc = 0;

	for (int i = 0;; i++) {
		mrc = mdb_txn_begin(s->env, NULL, s->read_only ? MDB_RDONLY : 0, &txn);
		if (mrc != MDB_MAP_RESIZED || i >= STORE_RESIZE_TRIES)
			break;
		rc = store_map_adopt(s);
		if (rc != 0)
			goto out;
	}
	if (mrc != MDB_SUCCESS) {
		txn = NULL;
		rc = store_err(mrc);
		goto out;
	}
	for (size_t i = 0; i < s->n_tables; i++) {
		flags = create;
		if (opts->tables[i].flags & STORE_DUPSORT)
			flags |= MDB_DUPSORT;
		mrc = mdb_dbi_open(txn, opts->tables[i].name, flags, &s->tables[i].dbi);
		if (mrc == MDB_SUCCESS)
			mrc = mdb_dbi_flags(txn, s->tables[i].dbi, &flags);
		if (mrc != MDB_SUCCESS)
			break;
		/* An existing table keeps its stored flags: they must match the caller's. */
		if (!(flags & MDB_DUPSORT) != !(opts->tables[i].flags & STORE_DUPSORT)) {
			rc = -EINVAL;
			goto out;
		}
		s->tables[i].flags = opts->tables[i].flags;
	}
	if (mrc == MDB_SUCCESS)
		mrc = mdb_dbi_open(txn, STORE_SEQ_TABLE, create, &s->seq_dbi);
	if (mrc != MDB_SUCCESS) {
		rc = store_err(mrc);
		goto out;
	}
	/* Committing (even a read-only txn) keeps the handles for the env's life. */
	mrc = mdb_txn_commit(txn);
	txn = NULL;
	rc = store_err(mrc);
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	return rc;
}

static int store_check_opts(const store_opts_t *opts)
{
	int rc = 0;

	if (opts == NULL || opts->path == NULL || (opts->n_tables > 0 && opts->tables == NULL) ||
	    opts->n_tables > UINT_MAX - STORE_INTERNAL_DBS) {
		rc = -EINVAL;
		goto out;
	}
	/* Names starting with '_' are the store's own. */
	for (size_t i = 0; i < opts->n_tables; i++) {
		if (opts->tables[i].name == NULL || opts->tables[i].name[0] == '\0' ||
		    opts->tables[i].name[0] == '_' || (opts->tables[i].flags & ~STORE_DUPSORT)) {
			rc = -EINVAL;
			goto out;
		}
	}
out:
	return rc;
}

/* The initial map: the asked size, but never less than the data file already is. */
static int store_initial_map(const store_opts_t *opts, size_t psize, size_t *map)
{
	char file[PATH_MAX];
	struct stat st;
	int n;
	int rc = 0;

	*map = opts->map_size ? opts->map_size : STORE_MAP_DEFAULT;
	n = snprintf(file, sizeof(file), "%s/data.mdb", opts->path);
	if (n < 0 || (size_t)n >= sizeof(file)) {
		rc = -ENAMETOOLONG;
		goto out;
	}
	if (stat(file, &st) == 0) {
		if (st.st_size > 0 && (uintmax_t)st.st_size > *map)
			*map = (size_t)st.st_size;
	} else if (errno != ENOENT) {
		rc = -errno;
		goto out;
	}
	*map = store_round_up(*map, psize);
out:
	return rc;
}

int store_open(store_t **out, const store_opts_t *opts)
{
	store_t *s = NULL;
	size_t map = 0;
	long pg;
	int rc = 0;

	if (out == NULL) {
		rc = -EINVAL;
		goto out;
	}
	*out = NULL;
	rc = store_check_opts(opts);
	if (rc != 0)
		goto out;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	s->n_tables = opts->n_tables;
	s->tables = calloc(opts->n_tables ? opts->n_tables : 1, sizeof(*s->tables));
	if (s->tables == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	s->read_only = opts->read_only;
	pg = sysconf(_SC_PAGESIZE);
	s->psize = pg > 0 ? (size_t)pg : 4096;
	if (!s->read_only && mkdir(opts->path, 0700) != 0 && errno != EEXIST) {
		rc = -errno;
		goto out;
	}
	rc = store_initial_map(opts, s->psize, &map);
	if (rc != 0)
		goto out;
	s->map_max =
		store_round_up(opts->map_max ? opts->map_max : STORE_MAP_MAX_DEFAULT, s->psize);
	if (s->map_max < map)
		s->map_max = map;

	rc = store_err(mdb_env_create(&s->env));
	if (rc != 0) {
		s->env = NULL;
		goto out;
	}
	rc = store_err(mdb_env_set_maxdbs(s->env, (MDB_dbi)(opts->n_tables + STORE_INTERNAL_DBS)));
	if (rc == 0)
		rc = store_err(mdb_env_set_mapsize(s->env, map));
	/* MDB_NOTLS: reads may overlap the batch in this thread. No WRITEMAP (nested
	 * txns need it off) and no NOSYNC (a commit must be durable). */
	if (rc == 0)
		rc = store_err(mdb_env_open(s->env, opts->path,
					    MDB_NOTLS | (s->read_only ? MDB_RDONLY : 0), 0600));
	if (rc != 0)
		goto out;
	store_map_refresh(s);
	rc = store_open_tables(s, opts);
	if (rc != 0)
		goto out;
	*out = s;
	s = NULL;
out:
	if (s != NULL) {
		if (s->env != NULL)
			mdb_env_close(s->env);
		free(s->tables);
		free(s);
	}
	return rc;
}

void store_close(store_t *s)
{
	if (s == NULL)
		return;
	s->closing = true;
	if (s->rtxn.open)
		store_txn_reclaim(&s->rtxn);
	if (s->rcache != NULL)
		mdb_txn_abort(s->rcache);
	s->rcache = NULL;
	store_batch_abort(s, -ECANCELED);
	/* Committed waiters learn their result, the aborted batch's get -ECANCELED. */
	store_deliver(s);
	mdb_env_close(s->env);
	free(s->q.v);
	free(s->tables);
	free(s);
}

void store_get_stats(const store_t *s, store_stats_t *out)
{
	*out = s->stats;
}

/* ------------------------------------------------------------------ reads */

int store_read_begin(store_t *s, store_txn_t **txn)
{
	int mrc = MDB_SUCCESS;
	int rc = 0;

	if (s == NULL || txn == NULL) {
		rc = -EINVAL;
		goto out;
	}
	*txn = NULL;
	if (s->rtxn.open) {
		rc = -EBUSY;
		goto out;
	}
	for (int i = 0;; i++) {
		if (s->rcache != NULL) {
			mrc = mdb_txn_renew(s->rcache);
			if (mrc != MDB_SUCCESS) {
				mdb_txn_abort(s->rcache);
				s->rcache = NULL;
			}
		} else {
			mrc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &s->rcache);
			if (mrc != MDB_SUCCESS)
				s->rcache = NULL;
		}
		if (mrc != MDB_MAP_RESIZED || i >= STORE_RESIZE_TRIES)
			break;
		rc = store_map_adopt(s);
		if (rc != 0)
			goto out;
	}
	rc = store_err(mrc);
	if (rc != 0)
		goto out;
	store_txn_lend(&s->rtxn, s, s->rcache, false);
	*txn = &s->rtxn;
out:
	return rc;
}

void store_read_end(store_txn_t *txn)
{
	if (txn == NULL || txn->writable || !txn->open)
		return;
	store_txn_reclaim(txn);
	/* Reset keeps the handle and its reader slot for the next renew. */
	mdb_txn_reset(txn->s->rcache);
}

int store_get(store_txn_t *txn, unsigned table, const void *key, size_t klen, store_val_t *val)
{
	MDB_val k = {.mv_size = klen, .mv_data = (void *)key};
	MDB_val v = {0};
	int rc = 0;

	if (!store_txn_usable(txn, table) || key == NULL) {
		rc = -EINVAL;
		goto out;
	}
	rc = store_err(mdb_get(txn->txn, txn->s->tables[table].dbi, &k, &v));
	if (rc != 0)
		goto out;
	txn->s->stats.records_read++;
	if (val != NULL) {
		val->data = v.mv_data;
		val->len = v.mv_size;
	}
out:
	return rc;
}

/* ------------------------------------------------------------------ cursors */

int store_cursor_open(store_txn_t *txn, unsigned table, store_cursor_t **out)
{
	store_cursor_t *c = NULL;
	int rc = 0;

	if (out == NULL || !store_txn_usable(txn, table)) {
		rc = -EINVAL;
		goto out;
	}
	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	rc = store_err(mdb_cursor_open(txn->txn, txn->s->tables[table].dbi, &c->cur));
	if (rc != 0)
		goto out;
	c->txn = txn;
	c->table = table;
	c->next = txn->cursors;
	if (c->next != NULL)
		c->next->prev = c;
	txn->cursors = c;
	*out = c;
	c = NULL;
out:
	free(c);
	return rc;
}

void store_cursor_close(store_cursor_t *c)
{
	if (c != NULL)
		store_cursor_free(c);
}

static bool store_cursor_dupsort(const store_cursor_t *c)
{
	return (c->txn->s->tables[c->table].flags & STORE_DUPSORT) != 0;
}

/* Every cursor move ends here: one translation, one count per value returned. */
static int store_cursor_move(store_cursor_t *c, MDB_val *mk, MDB_val *mv, MDB_cursor_op op,
			     store_val_t *k, store_val_t *v)
{
	int rc = 0;

	if (c == NULL || !c->txn->open) {
		rc = -EINVAL;
		goto out;
	}
	rc = store_err(mdb_cursor_get(c->cur, mk, mv, op));
	if (rc != 0)
		goto out;
	c->txn->s->stats.records_read++;
	if (k != NULL) {
		k->data = mk->mv_data;
		k->len = mk->mv_size;
	}
	if (v != NULL) {
		v->data = mv->mv_data;
		v->len = mv->mv_size;
	}
out:
	return rc;
}

int store_cursor_seek(store_cursor_t *c, const void *key, size_t klen, store_val_t *k,
		      store_val_t *v)
{
	MDB_val mk = {.mv_size = klen, .mv_data = (void *)key};
	MDB_val mv = {0};

	if (key == NULL)
		return -EINVAL;
	return store_cursor_move(c, &mk, &mv, MDB_SET_RANGE, k, v);
}

int store_cursor_seek_dup(store_cursor_t *c, const void *key, size_t klen, const void *val,
			  size_t vlen, store_val_t *k, store_val_t *v)
{
	MDB_val mk = {.mv_size = klen, .mv_data = (void *)key};
	MDB_val mv = {.mv_size = vlen, .mv_data = (void *)val};
	int rc = 0;

	if (c == NULL || key == NULL || val == NULL || !c->txn->open || !store_cursor_dupsort(c)) {
		rc = -EINVAL;
		goto out;
	}
	rc = store_err(mdb_cursor_get(c->cur, &mk, &mv, MDB_GET_BOTH_RANGE));
	if (rc != 0)
		goto out;
	/* GET_BOTH_RANGE leaves the key pointing at the caller's buffer: read it back
	 * from the page so k lives as long as the transaction, like every other k. */
	rc = store_cursor_move(c, &mk, &mv, MDB_GET_CURRENT, k, v);
out:
	return rc;
}

/* A move that starts from no key of the caller's (first, last, next, prev). */
static int store_cursor_step(store_cursor_t *c, MDB_cursor_op op, store_val_t *k, store_val_t *v)
{
	MDB_val mk = {0};
	MDB_val mv = {0};

	return store_cursor_move(c, &mk, &mv, op, k, v);
}

int store_cursor_first(store_cursor_t *c, store_val_t *k, store_val_t *v)
{
	return store_cursor_step(c, MDB_FIRST, k, v);
}

int store_cursor_last(store_cursor_t *c, store_val_t *k, store_val_t *v)
{
	return store_cursor_step(c, MDB_LAST, k, v);
}

int store_cursor_next(store_cursor_t *c, store_val_t *k, store_val_t *v)
{
	return store_cursor_step(c, MDB_NEXT, k, v);
}

int store_cursor_prev(store_cursor_t *c, store_val_t *k, store_val_t *v)
{
	return store_cursor_step(c, MDB_PREV, k, v);
}

int store_cursor_next_dup(store_cursor_t *c, store_val_t *k, store_val_t *v)
{
	if (c == NULL || !store_cursor_dupsort(c))
		return -EINVAL;
	return store_cursor_step(c, MDB_NEXT_DUP, k, v);
}

/* ------------------------------------------------------------------ writes */

static bool store_txn_writable(const store_txn_t *t)
{
	return t != NULL && t->open && t->writable;
}

int store_put(store_txn_t *txn, unsigned table, const void *key, size_t klen, const void *val,
	      size_t vlen, unsigned flags)
{
	MDB_val k = {.mv_size = klen, .mv_data = (void *)key};
	MDB_val v = {.mv_size = vlen, .mv_data = (void *)val};
	unsigned mflags = 0;
	int rc = 0;

	if (!store_txn_usable(txn, table) || !store_txn_writable(txn) || key == NULL ||
	    (val == NULL && vlen > 0) || (flags & ~(STORE_NOOVERWRITE | STORE_NODUPDATA))) {
		rc = -EINVAL;
		goto out;
	}
	if (flags & STORE_NOOVERWRITE)
		mflags |= MDB_NOOVERWRITE;
	if (flags & STORE_NODUPDATA)
		mflags |= MDB_NODUPDATA;
	rc = store_write_err(txn, mdb_put(txn->txn, txn->s->tables[table].dbi, &k, &v, mflags));
out:
	return rc;
}

int store_del(store_txn_t *txn, unsigned table, const void *key, size_t klen, const void *val,
	      size_t vlen)
{
	MDB_val k = {.mv_size = klen, .mv_data = (void *)key};
	MDB_val v = {.mv_size = vlen, .mv_data = (void *)val};
	MDB_val cur = {0};
	MDB_dbi dbi;
	int rc = 0;

	if (!store_txn_usable(txn, table) || !store_txn_writable(txn) || key == NULL ||
	    (val == NULL && vlen > 0)) {
		rc = -EINVAL;
		goto out;
	}
	dbi = txn->s->tables[table].dbi;
	/* LMDB ignores the value outside DUPSORT tables; the pair must still match. */
	if (val != NULL && !(txn->s->tables[table].flags & STORE_DUPSORT)) {
		rc = store_err(mdb_get(txn->txn, dbi, &k, &cur));
		if (rc != 0)
			goto out;
		if (cur.mv_size != vlen || (vlen > 0 && memcmp(cur.mv_data, val, vlen) != 0)) {
			rc = -ENOENT;
			goto out;
		}
	}
	rc = store_write_err(txn, mdb_del(txn->txn, dbi, &k, val != NULL ? &v : NULL));
out:
	return rc;
}

int store_seq_next(store_txn_t *txn, const char *name, uint64_t *out)
{
	MDB_val k = {0};
	MDB_val v = {0};
	uint8_t buf[8];
	uint64_t cur = 0;
	int rc = 0;

	if (!store_txn_writable(txn) || name == NULL || name[0] == '\0' || out == NULL) {
		rc = -EINVAL;
		goto out;
	}
	k.mv_data = (void *)name;
	k.mv_size = strlen(name);
	rc = store_err(mdb_get(txn->txn, txn->s->seq_dbi, &k, &v));
	if (rc == 0) {
		if (v.mv_size != sizeof(buf)) {
			rc = -EIO;
			goto out;
		}
		cur = be64_get(v.mv_data);
	} else if (rc != -ENOENT) {
		goto out;
	}
	if (cur == UINT64_MAX) {
		rc = -EOVERFLOW;
		goto out;
	}
	be64_put(buf, cur + 1);
	v.mv_data = buf;
	v.mv_size = sizeof(buf);
	rc = store_write_err(txn, mdb_put(txn->txn, txn->s->seq_dbi, &k, &v, 0));
	if (rc == 0)
		*out = cur + 1;
out:
	return rc;
}

/* ------------------------------------------------------------------ group commit */

/*
 * fn ran out of room (full is -ENOSPC or -EFBIG). Commit what the batch already
 * holds, so the mutations that fit are kept, and grow the map when it was the
 * map that was full. A mutation too big for a transaction of its own fails.
 */
static int store_make_room(store_t *s, int full)
{
	bool fresh = s->batch_writes == 0;
	int rc = 0;

	if (fresh && full == -EFBIG) {
		rc = -EFBIG;
		goto out;
	}
	if (fresh)
		store_batch_abort(s, 0);
	else
		rc = store_batch_commit(s);
	if (rc == 0 && full == -ENOSPC)
		rc = store_map_grow(s);
out:
	return rc;
}

int store_write(store_t *s, store_write_fn fn, store_done_fn done, void *arg)
{
	MDB_txn *child = NULL;
	int full;
	int frc;
	int rc = 0;

	if (s == NULL || fn == NULL) {
		rc = -EINVAL;
		goto out;
	}
	if (s->read_only) {
		rc = -EROFS;
		goto out;
	}
	if (s->closing) {
		rc = -ECANCELED;
		goto out;
	}
	/* From inside a store_write_fn: the batch has a child already. */
	if (s->wtxn.open) {
		rc = -EBUSY;
		goto out;
	}
	/* Room for the waiter first, so a kept mutation always gets its callback. */
	rc = store_waitq_reserve(&s->q);
	if (rc != 0)
		goto out;
	for (;;) {
		rc = store_batch_begin(s);
		if (rc != 0)
			goto out;
		rc = store_err(mdb_txn_begin(s->env, s->batch, 0, &child));
		if (rc != 0) {
			child = NULL;
			goto out;
		}
		store_txn_lend(&s->wtxn, s, child, true);
		frc = fn(&s->wtxn, arg);
		full = s->wtxn.full;
		store_txn_reclaim(&s->wtxn);
		if (full == 0 && frc != 0) {
			mdb_txn_abort(child);
			rc = frc;
			goto out;
		}
		if (full == 0)
			break;
		/* Whatever fn answered, its transaction is unusable now: LMDB only aborts it. */
		mdb_txn_abort(child);
		child = NULL;
		rc = store_make_room(s, full);
		if (rc != 0)
			goto out;
	}
	rc = store_err(mdb_txn_commit(child));
	if (rc != 0) {
		/* A failed child commit may have touched the parent: drop the batch. */
		store_batch_abort(s, rc);
		goto out;
	}
	s->batch_writes++;
	if (done != NULL)
		s->q.v[s->q.len++] = (struct store_waiter){.done = done, .arg = arg, .rc = 0};
out:
	if (rc != 0 && s != NULL)
		store_batch_release_empty(s);
	return rc;
}

bool store_pending(const store_t *s)
{
	return s->batch_writes > 0 || s->q.head < s->q.n_ready;
}

int store_flush(store_t *s)
{
	int rc = 0;

	if (s == NULL) {
		rc = -EINVAL;
		goto out;
	}
	if (s->wtxn.open) {
		rc = -EBUSY;
		goto out;
	}
	if (s->batch != NULL && s->batch_writes > 0)
		rc = store_batch_commit(s);
	else if (s->batch != NULL)
		store_batch_abort(s, 0);
	if (rc == 0)
		store_map_prepare(s);
	store_deliver(s);
out:
	return rc;
}

/* ------------------------------------------------------------------ backup */

static int store_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	if (fsync(fd) != 0)
		rc = -errno;
	close(fd);
out:
	return rc;
}

int store_backup(store_t *s, const char *dir)
{
	char file[PATH_MAX];
	int fd = -1;
	int mrc = MDB_SUCCESS;
	int n;
	int rc = 0;

	if (s == NULL || dir == NULL) {
		rc = -EINVAL;
		goto out;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		rc = -errno;
		goto out;
	}
	n = snprintf(file, sizeof(file), "%s/data.mdb", dir);
	if (n < 0 || (size_t)n >= sizeof(file)) {
		rc = -ENAMETOOLONG;
		goto out;
	}
	/* Our own descriptor (rather than mdb_env_copy2's path) for mode 0600, a
	 * retry on the same file and an fsync before we call it done. */
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	for (int i = 0;; i++) {
		mrc = mdb_env_copyfd2(s->env, fd, MDB_CP_COMPACT);
		/* A writer elsewhere grew the map past ours: remap and copy again. */
		if (mrc != MDB_MAP_RESIZED || i >= STORE_RESIZE_TRIES)
			break;
		rc = store_map_adopt(s);
		if (rc == 0 && (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0))
			rc = -errno;
		if (rc != 0)
			goto out;
	}
	rc = store_err(mrc);
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	fd = -1;
	if (rc == 0)
		rc = store_fsync_dir(dir);
	if (rc != 0)
		unlink(file);
out:
	if (fd >= 0) {
		close(fd);
		unlink(file);
	}
	return rc;
}
