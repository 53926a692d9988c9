#include "client/lib/calltab.h"

#include <errno.h>
#include <stdlib.h>

#define CALLTAB_MIN_CAP 64

/*
 * Ids come from a counter, so neighbours would cluster under a plain mask;
 * a multiplicative hash with the high half folded in spreads them.
 */
static size_t calltab_home(uint64_t id, size_t mask)
{
	uint64_t h = id * UINT64_C(0x9E3779B97F4A7C15);
	h ^= h >> 32;
	return (size_t)h & mask;
}

static int calltab_grow(ospay_calltab_t *t, size_t cap)
{
	ospay_calltab_slot_t *slots = calloc(cap, sizeof(*slots));
	if (slots == NULL)
		return -ENOMEM;
	size_t mask = cap - 1;
	for (size_t i = 0; i < t->cap; i++) {
		if (t->slots[i].call == NULL)
			continue;
		size_t j = calltab_home(t->slots[i].id, mask);
		while (slots[j].call != NULL)
			j = (j + 1) & mask;
		slots[j] = t->slots[i];
	}
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

int ospay_calltab_reserve(ospay_calltab_t *t)
{
	int rc = 0;
	/* At most half full keeps probe sequences short. */
	if ((t->len + 1) * 2 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : CALLTAB_MIN_CAP;
		if (cap < t->cap)
			rc = -ENOMEM;
		else
			rc = calltab_grow(t, cap);
	}
	return rc;
}

void ospay_calltab_insert(ospay_calltab_t *t, uint64_t id, void *call)
{
	size_t mask = t->cap - 1;
	size_t i = calltab_home(id, mask);
	while (t->slots[i].call != NULL)
		i = (i + 1) & mask;
	t->slots[i].id = id;
	t->slots[i].call = call;
	t->len++;
}

/* Index of id's slot, or t->cap when absent. */
static size_t calltab_index(const ospay_calltab_t *t, uint64_t id)
{
	if (t->cap == 0)
		return 0;
	size_t mask = t->cap - 1;
	size_t i = calltab_home(id, mask);
	while (t->slots[i].call != NULL) {
		if (t->slots[i].id == id)
			return i;
		i = (i + 1) & mask;
	}
	return t->cap;
}

void *ospay_calltab_find(const ospay_calltab_t *t, uint64_t id)
{
	size_t i = calltab_index(t, id);
	return i < t->cap ? t->slots[i].call : NULL;
}

void *ospay_calltab_remove(ospay_calltab_t *t, uint64_t id)
{
	size_t i = calltab_index(t, id);
	if (i >= t->cap)
		return NULL;
	void *call = t->slots[i].call;
	size_t mask = t->cap - 1;
	/*
	 * Backward shift: every later entry of the same probe run whose home is
	 * not in (i, j] moves into the hole, so lookups never stop early at it.
	 */
	size_t j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (t->slots[j].call == NULL)
			break;
		size_t k = calltab_home(t->slots[j].id, mask);
		int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
		if (!stays) {
			t->slots[i] = t->slots[j];
			i = j;
		}
	}
	t->slots[i].call = NULL;
	t->slots[i].id = 0;
	t->len--;
	return call;
}

void ospay_calltab_free(ospay_calltab_t *t)
{
	free(t->slots);
	t->slots = NULL;
	t->cap = 0;
	t->len = 0;
}
