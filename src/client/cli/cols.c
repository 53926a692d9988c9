/*
 * Tables as data (dom_col_t): a column names a field of the items and how to
 * show it, so a listing states its columns and every row is made the same
 * way; a record for people is the same columns as "key  value" lines.
 */
#include "client/cli/dom.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* As long as the longest cell written (a charge's message and note). */
#define DOM_CELL_MAX 1200

size_t dom_ncols(const dom_col_t *cols)
{
	size_t n = 0;
	while (cols[n].header != NULL)
		n++;
	return n;
}

/*
 * The field at path in m ("address.city": city, of the message in address):
 * *fd is its descriptor and the result the message that holds it, NULL when a
 * message on the way is unset. *fd is NULL when the path names no field. The
 * descriptors are followed even past an unset message, so a wrong path is
 * found whatever the data.
 */
static const ProtobufCMessage *walk(const ProtobufCMessage *m, const char *path,
				    const ProtobufCFieldDescriptor **fd)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (;;) {
		char name[64];
		const char *dot = strchr(path, '.');
		size_t len = dot != NULL ? (size_t)(dot - path) : strlen(path);
		*fd = NULL;
		if (len >= sizeof(name))
			return NULL;
		memcpy(name, path, len);
		name[len] = '\0';
		*fd = dom_field(d, name);
		if (*fd == NULL || dot == NULL)
			return m;
		if ((*fd)->type != PROTOBUF_C_TYPE_MESSAGE ||
		    (*fd)->label == PROTOBUF_C_LABEL_REPEATED) {
			*fd = NULL;
			return NULL;
		}
		d = (*fd)->descriptor;
		if (m != NULL)
			m = *(const ProtobufCMessage *const *)((const char *)m + (*fd)->offset);
		path = dot + 1;
	}
}

static bool is_int(ProtobufCType t)
{
	return t != PROTOBUF_C_TYPE_STRING && t != PROTOBUF_C_TYPE_BYTES &&
	       t != PROTOBUF_C_TYPE_MESSAGE && t != PROTOBUF_C_TYPE_FLOAT &&
	       t != PROTOBUF_C_TYPE_DOUBLE;
}

/* Whether a column of format f can show the field fd. */
static bool fits(enum dom_fmt f, const ProtobufCFieldDescriptor *fd)
{
	bool many = fd->label == PROTOBUF_C_LABEL_REPEATED;
	switch (f) {
	case DOM_C_TEXT:
		return !many && fd->type == PROTOBUF_C_TYPE_STRING;
	case DOM_C_NUM:
		return many || is_int(fd->type);
	case DOM_C_ENUM:
		return !many && fd->type == PROTOBUF_C_TYPE_ENUM;
	case DOM_C_YES:
		return !many && fd->type == PROTOBUF_C_TYPE_BOOL;
	default:
		return !many && is_int(fd->type);
	}
}

/* An integer field's bits; *sgn when its type is signed. */
static uint64_t int_at(const ProtobufCFieldDescriptor *fd, const void *p, bool *sgn)
{
	*sgn = false;
	switch (fd->type) {
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return *(const uint64_t *)p;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return *(const uint32_t *)p;
	case PROTOBUF_C_TYPE_BOOL:
		return *(const protobuf_c_boolean *)p != 0;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		*sgn = true;
		return (uint64_t)(*(const int64_t *)p);
	default: /* the 32-bit signed types and enums */
		*sgn = true;
		return (uint64_t)(int64_t)(*(const int32_t *)p);
	}
}

/*
 * Column c of item: text in buf, or a string of item. NULL (and a message)
 * when c names no field item's type has, or one it cannot show: a bug in a
 * table, said out loud.
 */
static const char *cell(const dom_col_t *c, const ProtobufCMessage *item, int offset, char *buf,
			size_t n)
{
	const ProtobufCFieldDescriptor *fd = NULL;
	const ProtobufCMessage *m = NULL;
	const char *affix = c->affix != NULL ? c->affix : "";
	uint64_t u = 0;
	bool sgn = false;
	buf[0] = '\0';
	if (c->fmt == DOM_C_CELL) {
		c->cell(item, buf, n);
		return buf;
	}
	m = walk(item, c->field, &fd);
	if (fd == NULL || !fits(c->fmt, fd)) {
		fprintf(stderr, "error: internal: no column \"%s\" in %s\n", c->field,
			item->descriptor->name);
		return NULL;
	}
	if (m == NULL)
		return "";
	const void *p = (const char *)m + fd->offset;
	if (c->fmt == DOM_C_TEXT)
		return *(const char *const *)p != NULL ? *(const char *const *)p : "";
	if (fd->label == PROTOBUF_C_LABEL_REPEATED)
		u = *(const size_t *)((const char *)m + fd->quantifier_offset);
	else
		u = int_at(fd, p, &sgn);
	if (u == 0 && c->zero != NULL)
		return c->zero;
	switch (c->fmt) {
	case DOM_C_NUM:
		if (sgn)
			snprintf(buf, n, "%" PRId64 "%s", (int64_t)u, affix);
		else
			snprintf(buf, n, "%" PRIu64 "%s", u, affix);
		return buf;
	case DOM_C_MONEY:
		dom_money_text((int64_t)u, buf, n);
		return buf;
	case DOM_C_ENUM:
		return dom_enum_text(fd->descriptor, affix, (int)(int64_t)u, buf, n);
	case DOM_C_TIME:
		cli_time_text((int64_t)u, buf, n);
		return buf;
	case DOM_C_LOCAL:
		dom_datetime_text((int64_t)u, offset, buf, n);
		return buf;
	default: /* DOM_C_YES */
		return u != 0 ? "yes" : "no";
	}
}

cli_table_t *dom_table_new(const dom_col_t *cols, size_t n)
{
	const char *hdr[DOM_MAX_COLS] = {NULL};
	cli_table_t *t = NULL;
	if (n > DOM_MAX_COLS)
		return NULL;
	for (size_t i = 0; i < n; i++)
		hdr[i] = cols[i].header;
	t = cli_table_new(n, hdr);
	for (size_t i = 0; i < n && t != NULL; i++)
		if (cols[i].right)
			cli_table_align(t, i, CLI_ALIGN_RIGHT);
	return t;
}

int dom_table_add(cli_table_t *t, const dom_col_t *cols, size_t n, const ProtobufCMessage *item,
		  int offset)
{
	char bufs[DOM_MAX_COLS][DOM_CELL_MAX];
	const char *row[DOM_MAX_COLS] = {NULL};
	for (size_t i = 0; i < n && i < DOM_MAX_COLS; i++) {
		row[i] = cell(&cols[i], item, offset, bufs[i], sizeof(bufs[i]));
		if (row[i] == NULL)
			return CLI_EXIT_ERROR;
	}
	return cli_table_add(t, row) < 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

int dom_print_row(const dom_col_t *cols, size_t n, const ProtobufCMessage *item)
{
	cli_table_t *t = dom_table_new(cols, n);
	int rc = t != NULL ? dom_table_add(t, cols, n, item, 0) : CLI_EXIT_ERROR;
	if (rc == CLI_EXIT_OK && cli_table_print(t, stdout) < 0)
		rc = CLI_EXIT_ERROR;
	cli_table_free(t);
	return rc;
}

int dom_kv_add(cli_table_t *t, const dom_col_t *cols, const ProtobufCMessage *m, int offset)
{
	char buf[DOM_CELL_MAX];
	for (const dom_col_t *c = cols; c->header != NULL; c++) {
		const char *row[] = {c->header, cell(c, m, offset, buf, sizeof(buf))};
		if (row[1] == NULL || cli_table_add(t, row) < 0)
			return CLI_EXIT_ERROR;
	}
	return CLI_EXIT_OK;
}

int dom_print_items(const char *title, const dom_col_t *cols, const ProtobufCMessage *m,
		    const char *path, int offset)
{
	const ProtobufCFieldDescriptor *fd = NULL;
	const ProtobufCMessage *holder = walk(m, path, &fd);
	cli_table_t *t = NULL;
	size_t n = 0, ncols = dom_ncols(cols);
	int rc = CLI_EXIT_OK;
	if (fd == NULL || fd->type != PROTOBUF_C_TYPE_MESSAGE ||
	    fd->label != PROTOBUF_C_LABEL_REPEATED) {
		fprintf(stderr, "error: internal: no list \"%s\" in %s\n", path,
			m->descriptor->name);
		return CLI_EXIT_ERROR;
	}
	if (holder != NULL)
		n = *(const size_t *)((const char *)holder + fd->quantifier_offset);
	if (n == 0)
		return CLI_EXIT_OK;
	const ProtobufCMessage *const *items =
		*(const ProtobufCMessage *const *const *)((const char *)holder + fd->offset);
	t = dom_table_new(cols, ncols);
	rc = t != NULL ? CLI_EXIT_OK : CLI_EXIT_ERROR;
	for (size_t i = 0; i < n && rc == CLI_EXIT_OK; i++)
		rc = dom_table_add(t, cols, ncols, items[i], offset);
	printf("\n%s\n", title);
	if (rc == CLI_EXIT_OK && cli_table_print(t, stdout) < 0)
		rc = CLI_EXIT_ERROR;
	cli_table_free(t);
	return rc;
}

int dom_row(cli_ctx_t *ctx, const ProtobufCMessage *item, void *state)
{
	const dom_rows_t *r = state;
	(void)ctx;
	return dom_table_add(r->t, r->cols, dom_ncols(r->cols), item, r->offset);
}
