/* Text rules shared by every validator: pure functions, no I/O. */
#ifndef OSPAY_CORE_TEXT_H
#define OSPAY_CORE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* True when s is valid UTF-8 (no overlongs, no surrogates). */
bool text_utf8_valid(const char *s, size_t n);

/*
 * A name a person typed: non-empty after trimming, at most max_bytes, valid
 * UTF-8, no control characters. Returns NULL when fine, else why not.
 */
const char *text_check_name(const char *s, size_t max_bytes);

/*
 * Compares two names the way people mean them (docs/spec.md 10.2): after Unicode
 * compatibility decomposition (NFKD, by utf8proc), without case (full case
 * folding: "ß" is "ss"), without accents or any other combining mark, without
 * invisible default-ignorable characters, with Unicode spaces, dashes and
 * apostrophes taken as ' ', '-' and '\'', ignoring leading and trailing spaces
 * and treating runs of spaces and tabs as one. "São Paulo" composed or
 * decomposed ("Sa" U+0303 "o Paulo"), "SAO PAULO" and " sao  paulo " are
 * equal. Invalid UTF-8 bytes compare as themselves (equal only to the same
 * byte). Never allocates. Returns <0, 0, >0 like strcmp, in the order of the
 * folded code points.
 */
int text_cmp_folded(const char *a, const char *b);

/*
 * The form a card network takes a cardholder's name in (docs/cards.md,
 * "Holder names"): text_cmp_folded's folding (accents and case gone, inner
 * spaces collapsed, ends trimmed) then upper case, into out (cap bytes).
 * Only A-Z, 0-9, space, '.', '-' and '\'' may remain. Returns the length, or
 * -EILSEQ when a character cannot be written so (a letter without a Latin
 * base, a symbol), -E2BIG when the result is longer than max characters (or
 * does not fit in out), -EINVAL when nothing is left. Never cuts.
 */
int text_fold_upper_ascii(const char *s, size_t max, char *out, size_t cap);

#endif
