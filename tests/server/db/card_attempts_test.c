/*
 * The card attempt log (db_card_attempt_put, db_card_attempts_each): one
 * walk sees exactly the attempts of its organization and fingerprint whose
 * time is in [from, to], in time order, whatever the order they were put in
 * and whatever sits beside them (another fingerprint, another organization,
 * the same time twice).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "server/db/db.h"
#include "support/handlers.h"

static char dir[64];
static store_t *store;

static void up(void)
{
	store = tsh_store_up(dir, sizeof(dir), "card-attempts");
}

static void down(void)
{
	tsh_store_down(store, dir);
}

TestSuite(card_attempts_db, .init = up, .fini = down);

static uint8_t fp_a[32], fp_b[32];

/* org, fingerprint and time of each attempt put, charge id = index + 1. */
static const struct {
	uint64_t org;
	const uint8_t *fp;
	int64_t at;
} puts_[] = {
	{1, fp_a, 300}, {1, fp_a, 100}, {1, fp_b, 200}, {2, fp_a, 200},
	{1, fp_a, 200}, {1, fp_a, 200}, {1, fp_a, 400}, {1, fp_a, -5},
};

static int put_all(store_txn_t *txn, void *arg)
{
	(void)arg;
	for (size_t i = 0; i < sizeof(puts_) / sizeof(puts_[0]); i++) {
		Ospay__V1__CardAttemptRecord r = OSPAY__V1__CARD_ATTEMPT_RECORD__INIT;
		r.at_ms = puts_[i].at;
		r.charge_id = i + 1;
		int rc = db_card_attempt_put(txn, puts_[i].org, puts_[i].fp, &r);
		if (rc != 0)
			return rc;
	}
	return 0;
}

typedef struct seen {
	int64_t at[16];
	uint64_t charge[16];
	size_t n;
} seen_t;

static int take(const Ospay__V1__CardAttemptRecord *rec, void *arg)
{
	seen_t *s = arg;
	cr_assert_lt(s->n, 16);
	s->at[s->n] = rec->at_ms;
	s->charge[s->n++] = rec->charge_id;
	return 0;
}

static void walk(uint64_t org, const uint8_t *fp, int64_t from, int64_t to, seen_t *s)
{
	store_txn_t *txn = NULL;
	memset(s, 0, sizeof(*s));
	cr_assert_eq(store_read_begin(store, &txn), 0);
	cr_assert_eq(db_card_attempts_each(txn, org, fp, from, to, take, s), 0);
	store_read_end(txn);
}

Test(card_attempts_db, one_number_in_time_order_within_bounds)
{
	memset(fp_a, 0xaa, sizeof(fp_a));
	memset(fp_b, 0xab, sizeof(fp_b));
	tsh_store_write(store, put_all, NULL);
	seen_t s;
	walk(1, fp_a, 100, 300, &s);
	cr_assert_eq(s.n, 4);
	cr_assert_eq(s.at[0], 100);
	cr_assert_eq(s.at[1], 200);
	cr_assert_eq(s.at[2], 200);
	cr_assert_eq(s.at[3], 300);
	/* The same time twice: both, in the order they were put. */
	cr_assert_eq(s.charge[1], 5);
	cr_assert_eq(s.charge[2], 6);
	walk(1, fp_a, 301, 1000, &s);
	cr_assert_eq(s.n, 1);
	cr_assert_eq(s.charge[0], 7);
	walk(1, fp_a, -100, 0, &s);
	cr_assert_eq(s.n, 1, "a time before 1970 sorts first");
	walk(1, fp_b, 0, 1000, &s);
	cr_assert_eq(s.n, 1);
	cr_assert_eq(s.charge[0], 3);
	walk(2, fp_a, 0, 1000, &s);
	cr_assert_eq(s.n, 1);
	cr_assert_eq(s.charge[0], 4);
	walk(3, fp_a, 0, 1000, &s);
	cr_assert_eq(s.n, 0);
}
