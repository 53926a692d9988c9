/* libospay's table of calls in flight, against a plain array as the reference. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>

#include "client/lib/calltab.h"

#define N 20000

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* The value stored for id: any non-NULL pointer that encodes it. */
static void *val(uint64_t id)
{
	return (void *)(uintptr_t)(id * 2 + 1);
}

Test(calltab, random_inserts_and_removes_match_a_reference)
{
	ospay_calltab_t t = {0};
	static bool live[N];
	uint64_t next = 1;
	size_t count = 0;
	for (int step = 0; step < 200000; step++) {
		bool add = (rng() % 3) != 0 || count == 0;
		if (add && next < N) {
			cr_assert_eq(ospay_calltab_reserve(&t), 0);
			ospay_calltab_insert(&t, next, val(next));
			live[next++] = true;
			count++;
		} else {
			uint64_t id = 1 + rng() % (next - 1);
			void *got = ospay_calltab_remove(&t, id);
			cr_assert_eq(got, live[id] ? val(id) : NULL, "id %llu",
				     (unsigned long long)id);
			if (live[id])
				count--;
			live[id] = false;
		}
		cr_assert_eq(t.len, count);
		if (step % 997 == 0) {
			for (uint64_t id = 1; id < next; id++)
				cr_assert_eq(ospay_calltab_find(&t, id), live[id] ? val(id) : NULL);
		}
	}
	for (uint64_t id = 1; id < next; id++)
		cr_assert_eq(ospay_calltab_find(&t, id), live[id] ? val(id) : NULL);
	cr_assert_leq(t.len * 2, t.cap, "at most half full");
	ospay_calltab_free(&t);
	cr_assert_eq(t.cap, 0);
}

/* The home slot of id in a 64-slot table, observed through a scratch table. */
static size_t home_of(uint64_t id)
{
	ospay_calltab_t scratch = {0};
	size_t home = 0;
	cr_assert_eq(ospay_calltab_reserve(&scratch), 0);
	ospay_calltab_insert(&scratch, id, val(id));
	while (scratch.slots[home].call == NULL)
		home++;
	ospay_calltab_free(&scratch);
	return home;
}

Test(calltab, colliding_keys_survive_removal_in_the_middle_of_a_run)
{
	ospay_calltab_t t = {0};
	/* Ids that share a home slot in a 64-slot table form one long probe run. */
	uint64_t same[8];
	size_t found = 0;
	size_t home = home_of(1);
	for (uint64_t id = 1; found < 8; id++) {
		if (home_of(id) == home)
			same[found++] = id;
	}
	for (size_t i = 0; i < 8; i++) {
		cr_assert_eq(ospay_calltab_reserve(&t), 0);
		ospay_calltab_insert(&t, same[i], val(same[i]));
	}
	cr_assert_eq(t.cap, 64, "no growth: the run stays in one table");
	cr_assert_eq(ospay_calltab_remove(&t, same[3]), val(same[3]));
	cr_assert_eq(ospay_calltab_remove(&t, same[0]), val(same[0]));
	for (size_t i = 0; i < 8; i++)
		cr_assert_eq(ospay_calltab_find(&t, same[i]),
			     (i == 0 || i == 3) ? NULL : val(same[i]));
	cr_assert_null(ospay_calltab_remove(&t, same[0]));
	cr_assert_eq(t.len, 6);
	ospay_calltab_free(&t);
}

Test(calltab, empty_table)
{
	ospay_calltab_t t = {0};
	cr_assert_null(ospay_calltab_find(&t, 1));
	cr_assert_null(ospay_calltab_remove(&t, 1));
	ospay_calltab_free(&t);
}
