/* The CLI's table printer and UTF-8 width counting (sources compiled in directly). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "client/cli/table.c"
#include "client/cli/utf8.c"

static char *render(const cli_table_t *t)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cr_assert_not_null(f);
	cr_assert_eq(cli_table_print(t, f), 0);
	cr_assert_eq(fclose(f), 0);
	return text;
}

Test(table, utf8_widths)
{
	cr_assert_eq(cli_utf8_width(""), 0);
	cr_assert_eq(cli_utf8_width("Rio"), 3);
	cr_assert_eq(cli_utf8_width("São Paulo"), 9);
	cr_assert_eq(strlen("São Paulo"), 10, "one more byte than columns");
	cr_assert_eq(cli_utf8_width("東京"), 4, "wide characters take two columns");
	cr_assert_eq(cli_utf8_width("Sa\xcc\x83o"), 3, "a combining tilde takes none");
	cr_assert_eq(cli_utf8_width("\xf0\x9f\x98\x80"), 2, "emoji are wide");
	cr_assert_eq(cli_utf8_width("a\xff"), 2, "an invalid byte counts as one");
}

Test(table, utf8_decoder_rejects_malformed_input)
{
	uint32_t cp = 0;
	cr_assert_eq(cli_utf8_decode("\xc3\xa3", 2, &cp), 2);
	cr_assert_eq(cp, 0xE3);
	cr_assert_eq(cli_utf8_decode("\xf0\x9f\x98\x80", 4, &cp), 4);
	cr_assert_eq(cp, 0x1F600);
	cr_assert_eq(cli_utf8_decode("\xc0\xaf", 2, &cp), 0, "overlong");
	cr_assert_eq(cli_utf8_decode("\xed\xa0\x80", 3, &cp), 0, "surrogate");
	cr_assert_eq(cli_utf8_decode("\xe6\x9d", 2, &cp), 0, "truncated");
	cr_assert_eq(cli_utf8_decode("\xf4\x90\x80\x80", 4, &cp), 0, "past U+10FFFF");
	cr_assert_eq(cli_utf8_decode("\x80", 1, &cp), 0, "lone continuation byte");
}

/* Display column at which the last field of each line starts. */
static size_t last_field_column(const char *line)
{
	const char *last = strrchr(line, ' ');
	cr_assert_not_null(last);
	char prefix[256];
	size_t n = (size_t)(last + 1 - line);
	memcpy(prefix, line, n);
	prefix[n] = '\0';
	return cli_utf8_width(prefix);
}

Test(table, columns_align_by_display_width)
{
	static const char *const hdr[] = {"ID", "NAME", "UF"};
	static const char *const rows[][3] = {
		{"1", "São Paulo", "SP"},
		{"22", "Rio de Janeiro", "RJ"},
		{"333", "東京", "JP"},
		{"4", "Sa\xcc\x83o", "X"},
	};
	cli_table_t *t = cli_table_new(3, hdr);
	cr_assert_not_null(t);
	cli_table_align(t, 0, CLI_ALIGN_RIGHT);
	for (size_t i = 0; i < 4; i++)
		cr_assert_eq(cli_table_add(t, rows[i]), 0);
	cr_assert_eq(cli_table_rows(t), 4);
	char *text = render(t);
	cr_assert_str_eq(text, " ID  NAME            UF\n"
			       "  1  São Paulo       SP\n"
			       " 22  Rio de Janeiro  RJ\n"
			       "333  東京            JP\n"
			       "  4  Sa\xcc\x83o             X\n");
	/* The same property, measured: every last field starts at column 21. */
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save))
		cr_assert_eq(last_field_column(line), 21, "misaligned: \"%s\"", line);
	free(text);
	cli_table_free(t);
}

Test(table, no_trailing_blanks_and_no_header)
{
	static const char *const r1[] = {"a", "long value", ""};
	static const char *const r2[] = {"bbb", "", NULL};
	cli_table_t *t = cli_table_new(3, NULL);
	cr_assert_not_null(t);
	cr_assert_eq(cli_table_add(t, r1), 0);
	cr_assert_eq(cli_table_add(t, r2), 0);
	cr_assert_eq(cli_table_rows(t), 2);
	char *text = render(t);
	cr_assert_str_eq(text, "a    long value\n"
			       "bbb\n");
	free(text);
	cli_table_free(t);
}

Test(table, control_characters_cannot_reach_the_terminal)
{
	static const char *const hdr[] = {"NAME", "X"};
	static const char *const row[] = {"evil\x1b[2J\nname\xff", "y"};
	cli_table_t *t = cli_table_new(2, hdr);
	cr_assert_not_null(t);
	cr_assert_eq(cli_table_add(t, row), 0);
	char *text = render(t);
	cr_assert_str_eq(text, "NAME            X\n"
			       "evil?[2J?name?  y\n");
	free(text);
	cli_table_free(t);
}

Test(table, many_rows)
{
	static const char *const hdr[] = {"N"};
	char cell[16];
	cli_table_t *t = cli_table_new(1, hdr);
	cli_table_align(t, 0, CLI_ALIGN_RIGHT);
	for (int i = 0; i < 1000; i++) {
		snprintf(cell, sizeof(cell), "%d", i);
		const char *row[] = {cell};
		cr_assert_eq(cli_table_add(t, row), 0);
	}
	char *text = render(t);
	cr_assert(strncmp(text, "  N\n  0\n  1\n", 12) == 0, "%.20s", text);
	cr_assert_not_null(strstr(text, "\n999\n"));
	free(text);
	cli_table_free(t);
}
