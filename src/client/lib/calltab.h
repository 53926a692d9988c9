/*
 * libospay internal: the calls in flight on one connection, by request id.
 *
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones), so lookups stay O(1) however many calls come and go on a
 * long-lived connection. The table stores pointers it does not own.
 */
#ifndef OSPAY_CLIENT_CALLTAB_H
#define OSPAY_CLIENT_CALLTAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct ospay_calltab_slot {
	uint64_t id;
	void *call; /* NULL: empty slot */
} ospay_calltab_slot_t;

typedef struct ospay_calltab {
	ospay_calltab_slot_t *slots;
	size_t cap; /* a power of two, or 0 before the first reserve */
	size_t len;
} ospay_calltab_t;

/* Makes room for one more entry (the table grows at half full); 0 or -ENOMEM. */
int ospay_calltab_reserve(ospay_calltab_t *t);
/* Adds id -> call (call != NULL); id must be absent and room reserved. */
void ospay_calltab_insert(ospay_calltab_t *t, uint64_t id, void *call);
/* The call stored under id, or NULL. */
void *ospay_calltab_find(const ospay_calltab_t *t, uint64_t id);
/* Removes id and returns its call, or NULL when absent. */
void *ospay_calltab_remove(ospay_calltab_t *t, uint64_t id);
/* Frees the slots (not the calls) and zeroes the table. */
void ospay_calltab_free(ospay_calltab_t *t);

#endif
