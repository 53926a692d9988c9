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
 * Compares two names the way people mean them: without case, without the
 * accents of Portuguese (and the rest of Latin-1: á à â ã ä é ê è í ó ô õ ö ú
 * ü ç ñ ... and their capitals fold to the base letter), ignoring leading and
 * trailing spaces and treating runs of spaces as one. "São Paulo",
 * "SAO PAULO" and " sao  paulo " are equal. Other characters compare as
 * they are. Returns <0, 0, >0 like strcmp.
 */
int text_cmp_folded(const char *a, const char *b);

#endif
