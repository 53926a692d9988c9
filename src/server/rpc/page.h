/*
 * One page of a list walked through a position index (db.h: DB_POS_LEN
 * values, db_pos or db_inst_pos): Orders/List, Billing/ListCharges,
 * ListInvoices and ListInstallments. The handler states its filters (the
 * violations, the hash, how the index is opened, which records match) and
 * its message; page_list does the rest: the page token (the filters' hash,
 * then the last position examined, so a token serves only the filters it was
 * made for), the walk over at most PAGE_EXAMINE_MAX entries, the records'
 * loading and the next token.
 */
#ifndef OSPAY_SERVER_RPC_PAGE_H
#define OSPAY_SERVER_RPC_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/db/db.h"
#include "server/rpc/kit.h"
#include "server/rpc/srv.h"

/* Index entries a page looks at, at most, so a filter matching little stays bounded. */
#define PAGE_EXAMINE_MAX 2000

typedef struct page {
	/* What the handler states. */
	uint8_t token_kind; /* KIT_TOK_* */
	const char *token;  /* the request's page_token ("" on the first page) */
	uint32_t size;      /* the request's page_size (kit_page_limit) */
	uint8_t hash[4];    /* the filters' hash */
	bool inst;          /* db_inst_pos positions (due day, order, number), else db_pos */
	int64_t lo, hi;     /* the positions walked: sort (inst: due day) in [lo, hi) */
	unsigned table;     /* the records the positions name, and their type */
	const ProtobufCMessageDescriptor *desc;
	bool skip_missing; /* a position whose record is gone is passed over, not corruption */
	const char *what;  /* a store error's name in the log */
	/* Opens the index at from (DB_POS_LEN bytes); *scan stays NULL when nothing
	 * can match. Refusals in r->st. 0 or a negative errno. */
	int (*open)(srv_req_t *r, store_txn_t *txn, const uint8_t *from, db_scan_t **scan,
		    void *arg);
	/* True to serve rec, found at pos. */
	bool (*match)(const srv_req_t *r, const uint8_t *pos, const ProtobufCMessage *rec,
		      void *arg);
	void *arg;
	/* What page_list fills; page_free releases it. */
	ProtobufCMessage **items;
	uint8_t (*pos)[DB_POS_LEN]; /* each item's position */
	size_t n;
	char next[KIT_TOKEN_MAX]; /* "" on the last page */
} page_t;

/*
 * Walks one page. Called after the handler's own checks added their
 * violations: a token not of this method and filters adds one on page_token,
 * and any violation ends the call there. The handler contract (rpc/srv.h):
 * 0 or a negative errno, refusals and store errors in r->st.
 */
int page_list(srv_req_t *r, store_txn_t *txn, page_t *pg);
void page_free(page_t *pg);

#endif
