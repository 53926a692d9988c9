/*
 * ospay CLI: aligned text tables for people. Widths are counted in terminal
 * columns (UTF-8 aware: "São Paulo" is 9 wide, a CJK character 2), and
 * control characters in cells are shown as '?' so a hostile name cannot
 * move the cursor or forge lines.
 */
#ifndef OSPAY_CLI_TABLE_H
#define OSPAY_CLI_TABLE_H

#include <stddef.h>
#include <stdio.h>

typedef struct cli_table cli_table_t;

enum cli_align { CLI_ALIGN_LEFT, CLI_ALIGN_RIGHT };

/* A table of ncols columns; headers has ncols strings, or is NULL for no header line. */
cli_table_t *cli_table_new(size_t ncols, const char *const *headers);
/* Right-aligns (numbers) or left-aligns column col. */
void cli_table_align(cli_table_t *t, size_t col, enum cli_align a);
/* Copies one row of ncols cells (NULL prints empty); 0 or -ENOMEM. */
int cli_table_add(cli_table_t *t, const char *const *cells);
/* Columns two spaces apart, no trailing blanks; 0 or -EIO. */
int cli_table_print(const cli_table_t *t, FILE *f);
/* Rows added so far (the header not counted). */
size_t cli_table_rows(const cli_table_t *t);
void cli_table_free(cli_table_t *t);

#endif
