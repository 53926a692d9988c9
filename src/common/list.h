/* Intrusive circular doubly linked lists (the shape of libuv's queue). */
#ifndef OSPAY_COMMON_LIST_H
#define OSPAY_COMMON_LIST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct list_node {
	struct list_node *prev, *next;
} list_node_t;

static inline void list_init(list_node_t *h)
{
	h->prev = h->next = h;
}

static inline bool list_empty(const list_node_t *h)
{
	return h->next == h;
}

/* A node that is in no list points at itself, so removal twice is harmless. */
static inline bool list_linked(const list_node_t *n)
{
	return n->next != n;
}

static inline void list_insert_tail(list_node_t *h, list_node_t *n)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

static inline void list_remove(list_node_t *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = n;
}

#define list_for_each_safe(pos, tmp, head)                                                         \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head);                           \
	     (pos) = (tmp), (tmp) = (pos)->next)

#endif
