/*
 * Options as tables (dom_flag_t): one row names an option, what its value is
 * and the request field it fills, so a command states its options once and
 * dom_parse()/dom_fill() do the getopt loop, the checks and the stores.
 */
#include "client/cli/dom.h"

#include <stdio.h>
#include <string.h>

static const dom_flag_t *flag_of(const dom_opts_t *o, int c)
{
	for (const dom_flag_t *f = o->flags; f != NULL && f->name != NULL; f++)
		if (f->code == c)
			return f;
	return NULL;
}

static int dom_on_opt(cli_ctx_t *ctx, int c, const char *value, void *state)
{
	dom_opts_t *o = state;
	const dom_flag_t *f = flag_of(o, c);
	int rc = CLI_EXIT_OK;
	if (c <= 0 || c >= 128 || f == NULL) {
		rc = cli_usage_error(ctx, "unexpected option");
	} else if (value == NULL) {
		o->seen[c] = true;
	} else if (f->kind == DOM_LIST) {
		if (o->n_rep == DOM_MAX_REPEATED) {
			rc = cli_usage_error(ctx, "too many %s", dom_opt_name(o, c));
		} else {
			o->rep[o->n_rep] = value;
			o->rep_code[o->n_rep++] = c;
			o->seen[c] = true;
		}
	} else if (o->v[c] != NULL) {
		rc = cli_usage_error(ctx, "%s given twice", dom_opt_name(o, c));
	} else {
		o->v[c] = value;
		o->seen[c] = true;
	}
	return rc;
}

int dom_parse(cli_ctx_t *ctx, int argc, char **argv, const dom_flag_t *flags, int n, dom_opts_t *o,
	      int *first)
{
	size_t k = 0;
	memset(o, 0, sizeof(*o));
	o->flags = flags;
	for (const dom_flag_t *f = flags; f != NULL && f->name != NULL; f++) {
		if (k == DOM_MAX_FLAGS) {
			fprintf(stderr, "error: internal: more than %d options\n", DOM_MAX_FLAGS);
			return CLI_EXIT_ERROR;
		}
		o->table[k++] = (struct option){
			f->name, f->kind == DOM_SWITCH ? no_argument : required_argument, NULL,
			f->code};
	}
	int at = 0;
	int rc = cli_getopt(ctx, argc, argv, o->table, dom_on_opt, o, &at);
	if (rc == CLI_EXIT_OK)
		rc = cli_positionals(ctx, argc, at, n, n);
	if (first != NULL)
		*first = at;
	return rc;
}

const char *dom_opt_name(const dom_opts_t *o, int c)
{
	static char buf[64];
	const dom_flag_t *f = flag_of(o, c);
	if (f == NULL)
		return "option";
	snprintf(buf, sizeof(buf), "--%s", f->name);
	return buf;
}

int dom_id(cli_ctx_t *ctx, const char *text, const char *what, uint64_t *out)
{
	uint64_t v = 0;
	if (cli_parse_u64(text, &v) < 0 || v == 0)
		return cli_usage_error(ctx, "%s must be an id, not \"%s\"", what, text);
	*out = v;
	return CLI_EXIT_OK;
}

int dom_opt_id(cli_ctx_t *ctx, const dom_opts_t *o, int c, bool allow_none, uint64_t *out)
{
	const char *v = o->v[c];
	if (v == NULL)
		return CLI_EXIT_OK;
	if (allow_none && strcmp(v, "none") == 0) {
		*out = 0;
		return CLI_EXIT_OK;
	}
	return dom_id(ctx, v, dom_opt_name(o, c), out);
}

int dom_opt_u32(cli_ctx_t *ctx, const dom_opts_t *o, int c, uint32_t *out)
{
	const char *v = o->v[c];
	if (v != NULL && cli_parse_u32(v, out) < 0)
		return cli_usage_error(ctx, "%s must be a number, not \"%s\"", dom_opt_name(o, c),
				       v);
	return CLI_EXIT_OK;
}

/*
 * Where a value for the field called name goes in req, checked to be a
 * single field of type: a table naming a missing field, or one of another
 * type, is a bug said out loud (for what: "--agenda") rather than a store
 * into the wrong bytes.
 */
void *dom_slot(const ProtobufCMessage *req, const char *name, ProtobufCType type, const char *what,
	       const ProtobufCFieldDescriptor **fd)
{
	*fd = name != NULL ? dom_field(req->descriptor, name) : NULL;
	if (*fd == NULL || (*fd)->type != type || (*fd)->label == PROTOBUF_C_LABEL_REPEATED) {
		fprintf(stderr, "error: internal: %s has no field \"%s\" in %s\n", what,
			name != NULL ? name : "", req->descriptor->name);
		return NULL;
	}
	return (char *)req + (*fd)->offset;
}

/* Checks f's value and stores it at p, the field fd. */
static int fill_one(cli_ctx_t *ctx, dom_opts_t *o, const dom_flag_t *f,
		    const ProtobufCFieldDescriptor *fd, void *p)
{
	const char *v = o->v[f->code];
	uint64_t id = 0;
	uint32_t n = 0;
	int64_t money = 0;
	int e = 0;
	int rc = CLI_EXIT_OK;
	switch (f->kind) {
	case DOM_TEXT:
		*(const char **)p = v;
		break;
	case DOM_ID:
	case DOM_ID_NONE:
		rc = dom_opt_id(ctx, o, f->code, f->kind == DOM_ID_NONE, &id);
		if (rc == CLI_EXIT_OK)
			*(uint64_t *)p = id;
		break;
	case DOM_U32:
		rc = dom_opt_u32(ctx, o, f->code, &n);
		if (rc == CLI_EXIT_OK)
			*(uint32_t *)p = n;
		break;
	case DOM_MONEY:
		if (dom_money_parse(v, &money) != 0)
			rc = cli_usage_error(ctx, "%s", f->msg);
		else
			*(int64_t *)p = money;
		break;
	case DOM_ENUM:
		if (dom_enum_parse(fd->descriptor, f->prefix, v, &e) != 0)
			rc = cli_usage_error(ctx, "%s", f->msg);
		else
			*(int *)p = e;
		break;
	default:
		break;
	}
	return rc;
}

int dom_fill(cli_ctx_t *ctx, dom_opts_t *o, ProtobufCMessage *req)
{
	/* The field type each kind stores. */
	static const ProtobufCType types[] = {
		[DOM_TEXT] = PROTOBUF_C_TYPE_STRING,    [DOM_ID] = PROTOBUF_C_TYPE_UINT64,
		[DOM_ID_NONE] = PROTOBUF_C_TYPE_UINT64, [DOM_U32] = PROTOBUF_C_TYPE_UINT32,
		[DOM_MONEY] = PROTOBUF_C_TYPE_INT64,    [DOM_ENUM] = PROTOBUF_C_TYPE_ENUM,
	};
	int rc = CLI_EXIT_OK;
	for (const dom_flag_t *f = o->flags; f != NULL && f->name != NULL && rc == CLI_EXIT_OK;
	     f++) {
		const ProtobufCFieldDescriptor *fd = NULL;
		void *p = NULL;
		if (o->v[f->code] == NULL || f->kind == DOM_VALUE || f->kind == DOM_LIST ||
		    f->kind == DOM_SWITCH)
			continue;
		if (f->kind == DOM_LIMIT) {
			rc = dom_opt_u32(ctx, o, f->code, &o->limit);
			continue;
		}
		p = dom_slot(req, f->field, types[f->kind], dom_opt_name(o, f->code), &fd);
		rc = p != NULL ? fill_one(ctx, o, f, fd, p) : CLI_EXIT_ERROR;
	}
	return rc;
}

size_t dom_mask(const dom_opts_t *o, char **mask, size_t cap)
{
	size_t n = 0;
	for (const dom_flag_t *f = o->flags; f != NULL && f->name != NULL; f++) {
		bool dup = false;
		if (f->field == NULL || !o->seen[f->code])
			continue;
		for (size_t i = 0; i < n && !dup; i++)
			dup = strcmp(mask[i], f->field) == 0;
		if (!dup && n < cap)
			mask[n++] = (char *)f->field;
	}
	return n;
}
