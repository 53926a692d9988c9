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

#endif
