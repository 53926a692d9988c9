/*
 * The LMDB reference of docs/spec.md 8: a bare program writing what Orders/Create
 * writes, in durable transactions of the size ospayd's group commit actually
 * made (--batch, from /metrics: writes committed / commits in the run).
 *
 * Per order, as src/server/db.c's db_order_put and h_orders_create do for an
 * order with a customer and no agenda, technician or schedule: the "order"
 * sequence bumped, the record (--record-bytes) under its big-endian id, and
 * four index entries of 16 bytes (created ms | id) in DUPSORT tables: by unit,
 * unit | status, unit | payment status, and customer. The environment is
 * opened as src/store/store.c opens it (MDB_NOTLS, no NOSYNC, no WRITEMAP), so
 * every commit is an fsync; nothing else (no protobuf, no nested transaction).
 *
 *   ref_lmdb --dir DIR --batch B --record-bytes R [--seconds S] [--records N] [--nested]
 *
 * --nested puts each order in a child transaction of the batch, as store_write does:
 * not the reference, but it measures what the server's per-mutation rollback costs.
 *
 * Prints one JSON line: records/s and commits/s.
 */
#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "common/util.h"
#include "server/db/db.h"

#define N_INDEX 4

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU seconds of this process: with the fsync waits excluded, the writer's own cost. */
static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One order: the sequence, the record, its four index entries. */
static int put_order(MDB_txn *txn, MDB_dbi seq, MDB_dbi orders, const MDB_dbi *idx, uint8_t *record,
		     size_t record_bytes)
{
	static const char seq_name[] = "order";
	MDB_val k = {sizeof(seq_name) - 1, (void *)seq_name}, v;
	uint64_t id = 0;
	uint8_t idb[8], pos[16], key[9];
	int rc = mdb_get(txn, seq, &k, &v);
	if (rc == 0 && v.mv_size == 8)
		id = be64_get(v.mv_data);
	else if (rc != MDB_NOTFOUND)
		return rc == 0 ? EIO : rc;
	id++;
	be64_put(idb, id);
	v = (MDB_val){8, idb};
	rc = mdb_put(txn, seq, &k, &v, 0);
	if (rc != 0)
		return rc;
	/* The record's content does not matter to LMDB; its size does. */
	memcpy(record, idb, 8);
	k = (MDB_val){8, idb};
	v = (MDB_val){record_bytes, record};
	rc = mdb_put(txn, orders, &k, &v, 0);
	if (rc != 0)
		return rc;
	be64_put_i64(pos, wall_ms());
	be64_put(pos + 8, id);
	/* unit 1; unit 1 | OPEN (1); unit 1 | payment NONE (1); customer 1. */
	for (int i = 0; i < N_INDEX && rc == 0; i++) {
		be64_put(key, 1);
		key[8] = 1;
		k = (MDB_val){i == 1 || i == 2 ? 9 : 8, key};
		v = (MDB_val){sizeof(pos), pos};
		rc = mdb_put(txn, idx[i], &k, &v, MDB_NODUPDATA);
	}
	return rc;
}

int main(int argc, char **argv)
{
	const char *dir = NULL;
	size_t batch = 0, record_bytes = 0;
	double seconds = 5;
	uint64_t max_records = 0, records = 0, commits = 0;
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi seq, orders, idx[N_INDEX];
	uint8_t *record = NULL;
	int rc = 0, nested = 0;
	for (int i = 1; i < argc; i += 2) {
		if (strcmp(argv[i], "--nested") == 0) {
			nested = 1;
			i--;
			continue;
		}
		if (i + 1 >= argc)
			break;
		if (strcmp(argv[i], "--dir") == 0)
			dir = argv[i + 1];
		else if (strcmp(argv[i], "--batch") == 0)
			batch = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--record-bytes") == 0)
			record_bytes = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--seconds") == 0)
			seconds = atof(argv[i + 1]);
		else if (strcmp(argv[i], "--records") == 0)
			max_records = strtoull(argv[i + 1], NULL, 10);
	}
	if (dir == NULL || batch == 0 || record_bytes < 8) {
		fprintf(stderr, "usage: ref_lmdb --dir DIR --batch B --record-bytes R (>= 8) "
				"[--seconds S] [--records N]\n");
		return 2;
	}
	record = calloc(1, record_bytes);
	if (record == NULL) {
		rc = ENOMEM;
		goto out;
	}
	mkdir(dir, 0700);
	rc = mdb_env_create(&env);
	if (rc == 0)
		rc = mdb_env_set_maxdbs(env, 16);
	/* Large enough for any run here, so no map growth is measured. */
	if (rc == 0)
		rc = mdb_env_set_mapsize(env, (size_t)4 << 30);
	if (rc == 0)
		rc = mdb_env_open(env, dir, MDB_NOTLS, 0600);
	if (rc == 0)
		rc = mdb_txn_begin(env, NULL, 0, &txn);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "seq", MDB_CREATE, &seq);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "orders", MDB_CREATE, &orders);
	static const char *const names[N_INDEX] = {"ord_c_unit", "ord_c_status", "ord_c_pay",
						   "ord_c_customer"};
	for (int i = 0; i < N_INDEX && rc == 0; i++)
		rc = mdb_dbi_open(txn, names[i], MDB_CREATE | MDB_DUPSORT, &idx[i]);
	if (rc == 0)
		rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0)
		goto out;
	double cpu0 = cpu_s();
	uint64_t t0 = now_ns(), end = t0 + (uint64_t)(seconds * 1e9), t = t0;
	while (t < end && (max_records == 0 || records < max_records)) {
		rc = mdb_txn_begin(env, NULL, 0, &txn);
		for (size_t i = 0; i < batch && rc == 0; i++) {
			MDB_txn *child = NULL;
			if (!nested) {
				rc = put_order(txn, seq, orders, idx, record, record_bytes);
				continue;
			}
			rc = mdb_txn_begin(env, txn, 0, &child);
			if (rc == 0)
				rc = put_order(child, seq, orders, idx, record, record_bytes);
			if (rc == 0)
				rc = mdb_txn_commit(child);
			else if (child != NULL)
				mdb_txn_abort(child);
		}
		if (rc == 0)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
		txn = NULL;
		if (rc != 0)
			goto out;
		records += batch;
		commits++;
		t = now_ns();
	}
	double secs = (double)(t - t0) / 1e9, cpu = cpu_s() - cpu0;
	printf("{\"bench\":\"ref_lmdb\",\"nested\":%s,\"batch\":%zu,\"record_bytes\":%zu,\"index_"
	       "entries\":%d,"
	       "\"seconds\":%.3f,\"records\":%" PRIu64 ",\"commits\":%" PRIu64
	       ",\"records_per_s\":%.0f,\"commits_per_s\":%.0f,\"cpu_s\":%.2f,"
	       "\"cpu_per_record_us\":%.2f}\n",
	       nested ? "true" : "false", batch, record_bytes, N_INDEX, secs, records, commits,
	       (double)records / secs, (double)commits / secs, cpu,
	       records > 0 ? cpu * 1e6 / (double)records : 0);
out:
	if (rc != 0)
		fprintf(stderr, "ref_lmdb: %s\n", mdb_strerror(rc));
	if (env != NULL)
		mdb_env_close(env);
	free(record);
	return rc == 0 ? 0 : 1;
}
