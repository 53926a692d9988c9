#include "common/buf.h"

#include "common/crypto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int buf_reserve(buf_t *b, size_t n, size_t limit)
{
	if (n > limit || b->len > limit - n)
		return -E2BIG;
	size_t need = b->len + n;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	if (cap > limit)
		cap = limit;
	uint8_t *p = realloc(b->data, cap);
	if (p == NULL)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int buf_append(buf_t *b, const void *p, size_t n, size_t limit)
{
	int rc = buf_reserve(b, n, limit);
	if (rc == 0 && n > 0) {
		memcpy(b->data + b->len, p, n);
		b->len += n;
	}
	return rc;
}

void buf_consume(buf_t *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

void buf_free_wiped(buf_t *b)
{
	if (b->data != NULL)
		crypto_wipe(b->data, b->cap);
	buf_free(b);
}

void buf_free(buf_t *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
