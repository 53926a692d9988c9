/*
 * The store: one LMDB environment, named tables, big-endian keys, group commit.
 *
 * It knows nothing of the domain: callers describe their tables (name, whether
 * keys have duplicates) once at open and refer to them by index afterwards.
 * No mdb_ call exists outside src/store/.
 *
 * Errors are negative errno values: -ENOENT (no such key), -EEXIST (key exists
 * and STORE_NOOVERWRITE was asked), -ENOSPC (map full; handled inside
 * store_write), -EFBIG (transaction too large), -EIO (disk), -EINVAL, -ENOMEM.
 *
 * Group commit: store_write() runs a mutation at once, inside a nested
 * transaction of the current batch (so a failing mutation leaves the batch
 * untouched, and later mutations of the batch see earlier ones). The batch is
 * committed (one fsync) by store_flush(), which the server calls once per loop
 * turn; only then are the mutations' done callbacks called.
 *
 * Single-threaded: every function must be called from the thread that opened it.
 */
#ifndef OSPAY_STORE_STORE_H
#define OSPAY_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store_t;
typedef struct store_txn store_txn_t;
typedef struct store_cursor store_cursor_t;

/* A value read from the store: valid only until its transaction ends. */
typedef struct store_val {
	const void *data;
	size_t len;
} store_val_t;

enum store_table_flags {
	/* Several sorted values per key: secondary indexes (value = primary key). */
	STORE_DUPSORT = 1u << 0,
};

typedef struct store_table_def {
	const char *name;
	unsigned flags;
} store_table_def_t;

typedef struct store_opts {
	/* Directory holding data.mdb and lock.mdb; created if missing. */
	const char *path;
	/* Initial map size (default 64 MiB) and the most it may grow to (default 1 TiB). */
	size_t map_size;
	size_t map_max;
	/* Open read-only (backup, inspection tools). */
	bool read_only;
	/* Tables, referred to by their index in this array from then on. */
	const store_table_def_t *tables;
	size_t n_tables;
} store_opts_t;

/* Counters for tests, metrics and benchmarks. */
typedef struct store_stats {
	uint64_t commits;          /* batches committed */
	uint64_t writes_committed; /* store_write mutations made durable */
	uint64_t records_read;     /* values returned by get and cursor moves */
	uint64_t map_grows;
	size_t map_size;
} store_stats_t;

/* Opens (creating if needed) the environment and every table, in one transaction. */
int store_open(store_t **out, const store_opts_t *opts);
/*
 * Aborts an open batch (its done callbacks get -ECANCELED; committed ones not yet
 * told get their result), closes the environment. Not from a callback of s.
 */
void store_close(store_t *s);
void store_get_stats(const store_t *s, store_stats_t *out);

/* ---- reads */

/*
 * A read-only snapshot of committed data. Never keep it across a loop turn.
 * Only one read transaction is open at a time per store.
 */
int store_read_begin(store_t *s, store_txn_t **txn);
void store_read_end(store_txn_t *txn);

int store_get(store_txn_t *txn, unsigned table, const void *key, size_t klen, store_val_t *val);

/*
 * Cursors: positioned by seek, moved by next/prev; each returns -ENOENT past the end.
 * A cursor still open when its transaction ends is closed with it.
 */
int store_cursor_open(store_txn_t *txn, unsigned table, store_cursor_t **out);
void store_cursor_close(store_cursor_t *c);
/* First entry with key >= key (for DUPSORT tables: its first value). */
int store_cursor_seek(store_cursor_t *c, const void *key, size_t klen, store_val_t *k,
		      store_val_t *v);
/* Exactly (key, val) or the first value >= val under that key, DUPSORT tables only. */
int store_cursor_seek_dup(store_cursor_t *c, const void *key, size_t klen, const void *val,
			  size_t vlen, store_val_t *k, store_val_t *v);
int store_cursor_first(store_cursor_t *c, store_val_t *k, store_val_t *v);
int store_cursor_last(store_cursor_t *c, store_val_t *k, store_val_t *v);
int store_cursor_next(store_cursor_t *c, store_val_t *k, store_val_t *v);
int store_cursor_prev(store_cursor_t *c, store_val_t *k, store_val_t *v);
/* Next value under the same key (DUPSORT); -ENOENT at the key's last value. */
int store_cursor_next_dup(store_cursor_t *c, store_val_t *k, store_val_t *v);

/* ---- writes: only inside a store_write_fn */

enum store_put_flags {
	STORE_NOOVERWRITE = 1u << 0, /* -EEXIST if the key exists (non-DUPSORT) */
	STORE_NODUPDATA = 1u << 1,   /* -EEXIST if the (key, value) pair exists (DUPSORT) */
};

int store_put(store_txn_t *txn, unsigned table, const void *key, size_t klen, const void *val,
	      size_t vlen, unsigned flags);
/* Deletes key (val NULL: every value of a DUPSORT key) or the one (key, val) pair. */
int store_del(store_txn_t *txn, unsigned table, const void *key, size_t klen, const void *val,
	      size_t vlen);
/* Next value of a named 64-bit sequence, starting at 1 (kept in an internal table). */
int store_seq_next(store_txn_t *txn, const char *name, uint64_t *out);

/*
 * A mutation: reads and writes through txn, returns 0 to keep its changes or any
 * other value to discard them (that value is returned by store_write). It may be
 * run more than once (after the map grows), so it must not have side effects
 * outside txn before it returns 0.
 */
typedef int (*store_write_fn)(store_txn_t *txn, void *arg);
/* Called once the mutation is durable (rc 0) or its batch failed to commit (rc < 0). */
typedef void (*store_done_fn)(void *arg, int rc);

/*
 * Runs fn now in a nested transaction of the current batch. Returns fn's
 * result; when that is 0, done (may be NULL) will be called from a later
 * store_flush() (never from inside store_write). When it is not 0, done is never
 * called. Store failures: -ENOSPC (map_max reached), -EFBIG (fn alone is too
 * big for one transaction), -EBUSY (called from inside fn, or the map must grow
 * while a read transaction is open), -EROFS (read-only store).
 */
int store_write(store_t *s, store_write_fn fn, store_done_fn done, void *arg);
/* True when a batch holds mutations not yet committed, or done callbacks wait. */
bool store_pending(const store_t *s);
/*
 * Commits the batch (the only blocking call on the loop) and calls each done
 * callback in order with the commit's result. Returns that result (-EBUSY from
 * inside a store_write_fn). A done callback may call store_write (a new batch,
 * committed by a later flush) or store_flush (it commits; the callbacks still
 * come in order from the outer flush).
 */
int store_flush(store_t *s);

/*
 * Writes a compacted, consistent copy of the environment to dir/data.mdb (mode
 * 0600, synced). dir is created if missing; -EEXIST if dir/data.mdb exists.
 */
int store_backup(store_t *s, const char *dir);

#endif
