/* ospay CLI: the little UTF-8 the output code needs (decoding, display width). */
#ifndef OSPAY_CLI_UTF8_H
#define OSPAY_CLI_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decodes one code point at s (n bytes available). Returns its length (1-4),
 * or 0 for an invalid, overlong, surrogate or truncated sequence.
 */
size_t cli_utf8_decode(const char *s, size_t n, uint32_t *cp);

/* Terminal columns of one code point: 0 (combining, zero-width), 1, or 2 (wide). */
int cli_utf8_cp_width(uint32_t cp);

/* Terminal columns of a NUL-terminated string; an invalid byte counts as one. */
size_t cli_utf8_width(const char *s);

#endif
