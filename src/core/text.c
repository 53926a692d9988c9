#include "core/text.h"

#include <string.h>

bool text_utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		size_t len;
		unsigned min;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			len = 2;
			min = 0x80;
			c &= 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			len = 3;
			min = 0x800;
			c &= 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			len = 4;
			min = 0x10000;
			c &= 0x07;
		} else {
			return false;
		}
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			c = (c << 6) | (s[i + k] & 0x3F);
		}
		if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
			return false;
		i += len;
	}
	return true;
}

const char *text_check_name(const char *s, size_t max_bytes)
{
	size_t n = strlen(s);
	size_t start = 0, end = n;
	while (start < n && s[start] == ' ')
		start++;
	while (end > start && s[end - 1] == ' ')
		end--;
	if (start == end)
		return "required";
	if (n > max_bytes)
		return "too long";
	if (!text_utf8_valid(s, n))
		return "not valid UTF-8";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F)
			return "control characters are not allowed";
	return NULL;
}

/*
 * Base letters of U+00C0..U+00FF (Latin-1 letters); 0 keeps the character.
 * Lower-case forms follow the upper-case ones at +0x20.
 */
static const char latin1_base[64] = {
	'a', 'a', 'a', 'a', 'a', 'a', 0,   'c', 'e', 'e', 'e', 'e', 'i', 'i', 'i', 'i',
	0,   'n', 'o', 'o', 'o', 'o', 'o', 0,   'o', 'u', 'u', 'u', 'u', 'y', 0,   0,
	'a', 'a', 'a', 'a', 'a', 'a', 0,   'c', 'e', 'e', 'e', 'e', 'i', 'i', 'i', 'i',
	0,   'n', 'o', 'o', 'o', 'o', 'o', 0,   'o', 'u', 'u', 'u', 'u', 'y', 0,   'y',
};

typedef struct fold_iter {
	const unsigned char *p;
	int started; /* a non-space was returned: later spaces may matter */
} fold_iter_t;

/* Decodes one character; invalid bytes come back one by one, above any code point. */
static unsigned fold_decode(const unsigned char **pp)
{
	const unsigned char *p = *pp;
	unsigned c = p[0];
	if (c < 0x80) {
		*pp = p + 1;
		return c;
	}
	size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
	unsigned v = len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80) {
			len = 0;
			break;
		}
		v = (v << 6) | (p[i] & 0x3F);
	}
	if (len == 0) {
		*pp = p + 1;
		return 0x110000u + c;
	}
	*pp = p + len;
	return v;
}

/* The next folded character, ' ' for a run of inner spaces, 0 at the end. */
static unsigned fold_next(fold_iter_t *it)
{
	if (*it->p == ' ' || *it->p == '\t') {
		while (*it->p == ' ' || *it->p == '\t')
			it->p++;
		if (*it->p != '\0' && it->started)
			return ' ';
	}
	if (*it->p == '\0')
		return 0;
	unsigned c = fold_decode(&it->p);
	it->started = 1;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 'a';
	if (c >= 0xC0 && c <= 0xFF) {
		char base = latin1_base[c - 0xC0];
		if (base != 0)
			return (unsigned char)base;
		if (c <= 0xDE && c != 0xD7)
			return c + 0x20; /* Æ Ð Þ: their lower-case forms */
	}
	return c;
}

int text_cmp_folded(const char *a, const char *b)
{
	fold_iter_t x = {(const unsigned char *)a, 0};
	fold_iter_t y = {(const unsigned char *)b, 0};
	for (;;) {
		unsigned ca = fold_next(&x);
		unsigned cb = fold_next(&y);
		if (ca != cb)
			return ca < cb ? -1 : 1;
		if (ca == 0)
			return 0;
	}
}
