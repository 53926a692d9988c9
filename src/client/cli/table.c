#include "client/cli/table.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli/utf8.h"

#define TABLE_GAP 2

struct cli_table {
	size_t ncols;
	size_t nrows; /* rows stored, the header (when there is one) first */
	size_t cap;   /* rows allocated */
	bool has_header;
	char **cells; /* nrows * ncols, row-major */
	size_t *width;
	enum cli_align *align;
};

/*
 * A printable copy: control characters and invalid UTF-8 become '?', so the
 * width counted is the width shown and nothing reaches the terminal as a command.
 */
static char *table_clean(const char *s)
{
	size_t n = 0, o = 0;
	char *out = NULL;
	if (s == NULL)
		s = "";
	n = strlen(s);
	out = malloc(n + 1);
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n;) {
		uint32_t cp = 0;
		size_t k = cli_utf8_decode(s + i, n - i, &cp);
		if (k == 0 || cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
			out[o++] = '?';
			i += k ? k : 1;
			continue;
		}
		memcpy(out + o, s + i, k);
		o += k;
		i += k;
	}
	out[o] = '\0';
	return out;
}

static int table_push(cli_table_t *t, const char *const *cells)
{
	int rc = 0;
	size_t base = 0, i = 0;
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **cells2 = realloc(t->cells, cap * t->ncols * sizeof(*cells2));
		if (cells2 == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		t->cells = cells2;
		t->cap = cap;
	}
	base = t->nrows * t->ncols;
	for (i = 0; i < t->ncols; i++) {
		t->cells[base + i] = table_clean(cells != NULL ? cells[i] : NULL);
		if (t->cells[base + i] == NULL) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (i = 0; i < t->ncols; i++) {
		size_t w = cli_utf8_width(t->cells[base + i]);
		if (w > t->width[i])
			t->width[i] = w;
	}
	t->nrows++;
out:
	if (rc < 0 && t->cells != NULL) {
		while (i-- > 0)
			free(t->cells[base + i]);
	}
	return rc;
}

cli_table_t *cli_table_new(size_t ncols, const char *const *headers)
{
	cli_table_t *t = NULL;
	if (ncols == 0)
		goto fail;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		goto fail;
	t->ncols = ncols;
	t->width = calloc(ncols, sizeof(*t->width));
	t->align = calloc(ncols, sizeof(*t->align));
	if (t->width == NULL || t->align == NULL)
		goto fail;
	if (headers != NULL) {
		if (table_push(t, headers) < 0)
			goto fail;
		t->has_header = true;
	}
	return t;
fail:
	cli_table_free(t);
	return NULL;
}

void cli_table_align(cli_table_t *t, size_t col, enum cli_align a)
{
	if (col < t->ncols)
		t->align[col] = a;
}

int cli_table_add(cli_table_t *t, const char *const *cells)
{
	return table_push(t, cells);
}

size_t cli_table_rows(const cli_table_t *t)
{
	return t->nrows - (t->has_header ? 1 : 0);
}

static int table_pad(FILE *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (fputc(' ', f) == EOF)
			return -EIO;
	}
	return 0;
}

int cli_table_print(const cli_table_t *t, FILE *f)
{
	int rc = 0;
	for (size_t r = 0; r < t->nrows && rc == 0; r++) {
		const char *const *row = (const char *const *)&t->cells[r * t->ncols];
		/* The last column is not padded, so lines carry no trailing blanks. */
		size_t last = t->ncols - 1;
		while (last > 0 && t->align[last] == CLI_ALIGN_LEFT && row[last][0] == '\0')
			last--;
		for (size_t c = 0; c <= last && rc == 0; c++) {
			size_t fill = t->width[c] - cli_utf8_width(row[c]);
			if (c > 0)
				rc = table_pad(f, TABLE_GAP);
			if (rc == 0 && t->align[c] == CLI_ALIGN_RIGHT)
				rc = table_pad(f, fill);
			if (rc == 0 && fputs(row[c], f) == EOF)
				rc = -EIO;
			if (rc == 0 && t->align[c] == CLI_ALIGN_LEFT && c < last)
				rc = table_pad(f, fill);
		}
		if (rc == 0 && fputc('\n', f) == EOF)
			rc = -EIO;
	}
	return rc;
}

void cli_table_free(cli_table_t *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->width);
	free(t->align);
	free(t);
}
