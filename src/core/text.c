#include "core/text.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <utf8proc.h>

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
 * Folding for comparison (docs/spec.md 10.2), with utf8proc's options:
 * - DECOMPOSE + COMPAT: NFKD, so "a" + U+0303 and "ã" meet, and so do the
 *   compatibility forms people paste (ligatures "ﬁ", full-width letters, "º").
 * - STRIPMARK: drops every combining mark (the accents); CASEFOLD: full case
 *   folding ("ß" is "ss").
 * - IGNORE: drops default-ignorable characters (soft hyphen, zero-width space
 *   and joiners, BOM) that copy and paste leaves invisible in a name.
 * - LUMP: Unicode spaces become ' ', dashes '-', typographic apostrophes
 *   '\'', as phone keyboards type them ("Santa Bárbara d’Oeste").
 * Characters are decomposed one at a time into a fixed buffer, so comparing
 * never allocates whatever the length. utf8proc's whole-string functions also
 * reorder combining marks canonically; here that is not needed, since
 * STRIPMARK removes every character with a non-zero combining class.
 */
#define FOLD_OPTIONS                                                                               \
	(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK |           \
	 UTF8PROC_IGNORE | UTF8PROC_LUMP)
/* The longest fold of one character is 18 code points (U+FDFA); room to spare. */
#define FOLD_CHAR_MAX 32
/* An invalid byte folds to itself above every code point: equal only to the same byte. */
#define FOLD_INVALID 0x110000u

typedef struct fold_iter {
	const uint8_t *p, *end;
	utf8proc_int32_t buf[FOLD_CHAR_MAX]; /* the current character's fold */
	size_t n, i;                         /* its length and the next to return */
	unsigned held;                       /* returned after a ' ', 0 when none */
	bool started;                        /* a non-space was returned: later spaces matter */
} fold_iter_t;

static void fold_init(fold_iter_t *it, const char *s)
{
	memset(it, 0, sizeof(*it));
	it->p = (const uint8_t *)s;
	it->end = it->p + strlen(s);
}

/* The next folded code point, before spaces are collapsed; 0 at the end. */
static unsigned fold_raw(fold_iter_t *it)
{
	while (it->i == it->n) {
		if (it->p == it->end)
			return 0;
		utf8proc_int32_t c = 0;
		utf8proc_ssize_t len = utf8proc_iterate(it->p, it->end - it->p, &c);
		if (len <= 0) {
			/* Validators refuse invalid UTF-8; a stored name that has it still
			 * compares, byte by byte, and never equals a valid letter. */
			it->buf[0] = (utf8proc_int32_t)(FOLD_INVALID + *it->p);
			it->p++;
			it->n = 1;
			it->i = 0;
			break;
		}
		it->p += len;
		int boundclass = 0;
		utf8proc_ssize_t n = utf8proc_decompose_char(c, it->buf, FOLD_CHAR_MAX,
							     FOLD_OPTIONS, &boundclass);
		if (n < 0 || n > FOLD_CHAR_MAX) {
			/* Not with today's Unicode data; the character then stands for itself. */
			it->buf[0] = c;
			n = 1;
		}
		it->n = (size_t)n; /* 0 for a mark or an ignorable: read on */
		it->i = 0;
	}
	unsigned c = (unsigned)it->buf[it->i++];
	/* Before utf8proc, Ø and ø folded to o (Unicode gives ø no decomposition):
	 * kept, so that every pair of names that matched then still matches. */
	return c == 0xF8 ? 'o' : c;
}

/* The next folded character, ' ' for a run of inner spaces, 0 at the end. */
static unsigned fold_next(fold_iter_t *it)
{
	unsigned c = it->held;
	bool gap = false;
	if (c != 0) {
		it->held = 0;
		return c;
	}
	for (;;) {
		c = fold_raw(it);
		if (c != ' ' && c != '\t')
			break;
		gap = true;
	}
	if (c != 0 && gap && it->started) {
		it->held = c;
		return ' ';
	}
	if (c != 0)
		it->started = true;
	return c;
}

int text_cmp_folded(const char *a, const char *b)
{
	fold_iter_t x, y;
	int rc = 0;
	fold_init(&x, a);
	fold_init(&y, b);
	for (;;) {
		unsigned ca = fold_next(&x);
		unsigned cb = fold_next(&y);
		if (ca != cb) {
			rc = ca < cb ? -1 : 1;
			break;
		}
		if (ca == 0)
			break;
	}
	return rc;
}

static bool holder_char_ok(unsigned c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ' ' || c == '.' ||
	       c == '-' || c == '\'';
}

int text_fold_upper_ascii(const char *s, size_t max, char *out, size_t cap)
{
	fold_iter_t it;
	size_t n = 0;
	int rc = 0;
	if (cap > 0)
		out[0] = '\0';
	fold_init(&it, s);
	for (;;) {
		unsigned c = fold_next(&it);
		if (c == 0)
			break;
		/* Folding made letters lower case; anything outside the set has no
		 * plain-ASCII form a network takes, and is refused rather than dropped. */
		if (!holder_char_ok(c)) {
			rc = -EILSEQ;
			goto out;
		}
		if (n >= max || n + 1 >= cap) {
			rc = -E2BIG;
			goto out;
		}
		out[n++] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : (char)c;
	}
	if (n == 0) {
		rc = -EINVAL;
		goto out;
	}
	out[n] = '\0';
	rc = (int)n;
out:
	if (rc < 0 && cap > 0)
		out[0] = '\0';
	return rc;
}
