/* A growable byte buffer with a hard cap, owned by whoever embeds it. */
#ifndef OSPAY_COMMON_BUF_H
#define OSPAY_COMMON_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
} buf_t;

/* Makes room for n more bytes; -ENOMEM on failure, -E2BIG if len + n > limit. */
int buf_reserve(buf_t *b, size_t n, size_t limit);
/* Appends n bytes (same failures as buf_reserve). */
int buf_append(buf_t *b, const void *p, size_t n, size_t limit);
/* Drops the first n bytes. */
void buf_consume(buf_t *b, size_t n);
/* Frees the storage and zeroes the struct. */
void buf_free(buf_t *b);
/* buf_free after wiping every byte of the storage (it held a secret). */
void buf_free_wiped(buf_t *b);

#endif
