/* One page of a list walked through a position index (page.h). */
#include "server/rpc/page.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The token: the filters' hash (4), then the last position examined. */
#define PAGE_TOKEN_LEN (4 + DB_POS_LEN)

/* What a position sorts by: its time, or an installment's due day. */
static int64_t pos_sort(const page_t *pg, const uint8_t *pos)
{
	return pg->inst ? db_inst_pos_day(pos) : db_pos_sort(pos);
}

/* from = the first position, or just after the token's (a violation when it is not ours). */
static void page_from(srv_req_t *r, const page_t *pg, uint8_t from[DB_POS_LEN])
{
	uint8_t raw[PAGE_TOKEN_LEN];
	if (pg->inst)
		db_inst_pos_put(from, pg->lo, 0, 0);
	else
		db_pos_put(from, pg->lo, 0);
	if (pg->token[0] == '\0')
		return;
	if (!kit_token_decode(pg->token, pg->token_kind, raw, sizeof(raw)) ||
	    memcmp(raw, pg->hash, 4) != 0) {
		status_violation(&r->st, "page_token",
				 "not a page token of this method with these filters");
		return;
	}
	const uint8_t *p = raw + 4;
	if (pg->inst) /* numbers stay far below 2^32 */
		db_inst_pos_put(from, db_inst_pos_day(p), db_inst_pos_order(p),
				db_inst_pos_number(p) + 1);
	else if (db_pos_id(p) == UINT64_MAX)
		db_pos_put(from, db_pos_sort(p) + 1, 0);
	else
		db_pos_put(from, db_pos_sort(p), db_pos_id(p) + 1);
}

/* The record at pos, or NULL when it is gone and pg passes such entries over. */
static int page_load(store_txn_t *txn, const page_t *pg, const uint8_t *pos, ProtobufCMessage **m)
{
	uint64_t id = pg->inst ? db_inst_pos_order(pos) : db_pos_id(pos);
	int rc = db_get_by_id(txn, pg->table, id, pg->desc, m);
	if (rc == -ENOENT) {
		*m = NULL;
		/* An index entry without its record is corruption, not the end. */
		rc = pg->skip_missing ? 0 : -EBADMSG;
	}
	return rc;
}

int page_list(srv_req_t *r, store_txn_t *txn, page_t *pg)
{
	uint8_t from[DB_POS_LEN], last[DB_POS_LEN] = {0};
	db_scan_t *scan = NULL;
	size_t examined = 0;
	bool more = false;
	int rc = 0;
	pg->items = NULL;
	pg->pos = NULL;
	pg->n = 0;
	pg->next[0] = '\0';
	page_from(r, pg, from);
	if (!srv_ok(r))
		goto out;
	size_t limit = kit_page_limit(pg->size);
	pg->items = calloc(limit, sizeof(*pg->items));
	pg->pos = calloc(limit, sizeof(*pg->pos));
	if (pg->items == NULL || pg->pos == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	rc = pg->open(r, txn, from, &scan, pg->arg);
	if (rc != 0 || !srv_ok(r) || scan == NULL)
		goto out;
	const uint8_t *pos;
	while (pg->n < limit && examined < PAGE_EXAMINE_MAX) {
		rc = db_scan_next(scan, &pos);
		if (rc != 0 || pos_sort(pg, pos) >= pg->hi)
			break;
		examined++;
		memcpy(last, pos, DB_POS_LEN);
		ProtobufCMessage *m = NULL;
		rc = page_load(txn, pg, pos, &m);
		if (rc != 0)
			break;
		if (m != NULL && pg->match(r, pos, m, pg->arg)) {
			memcpy(pg->pos[pg->n], pos, DB_POS_LEN);
			pg->items[pg->n++] = m;
		} else if (m != NULL) {
			protobuf_c_message_free_unpacked(m, NULL);
		}
	}
	if (rc == 0 && (pg->n == limit || examined == PAGE_EXAMINE_MAX)) {
		/* Stopped early: is anything left in range? */
		rc = db_scan_next(scan, &pos);
		more = rc == 0 && pos_sort(pg, pos) < pg->hi;
	}
	if (rc == -ENOENT)
		rc = 0;
	if (rc == 0 && more) {
		uint8_t raw[PAGE_TOKEN_LEN];
		memcpy(raw, pg->hash, 4);
		memcpy(raw + 4, last, DB_POS_LEN);
		kit_token_encode(pg->token_kind, raw, sizeof(raw), pg->next);
	}
out:
	if (rc < 0 && rc != -ENOMEM && srv_ok(r))
		rc = srv_store_fail(r, rc, pg->what);
	db_scan_close(scan);
	return rc;
}

void page_free(page_t *pg)
{
	for (size_t i = 0; i < pg->n; i++)
		protobuf_c_message_free_unpacked(pg->items[i], NULL);
	free(pg->items);
	free(pg->pos);
	pg->items = NULL;
	pg->pos = NULL;
	pg->n = 0;
}
