#include "client/cli/dom.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/pbjson.h"
#include "common/util.h"
#include "client/cli/table.h"

/* A server that never ends a listing must not keep the CLI forever. */
#define DOM_MAX_PAGES 100000u
#define DOM_PAGE 1000u
/* Columns of a generic list table at most. */
#define DOM_MAX_FIELDS 16

/* ------------------------------------------------------------------ money */

int dom_money_parse(const char *s, int64_t *centavos)
{
	/* The last '.' or ',' followed by one or two digits is the decimal mark; other
	 * marks group thousands. */
	int64_t units = 0, cents = 0;
	size_t n = strlen(s), dec = n;
	if (n == 0 || n > 24)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '.' || s[i] == ',')
			dec = i;
	if (dec != n && (n - dec - 1 == 0 || n - dec - 1 > 2))
		dec = n; /* "1.234": a thousands mark */
	for (size_t i = 0; i < dec; i++) {
		if (s[i] == '.' || s[i] == ',')
			continue;
		if (!isdigit((unsigned char)s[i]) || units > INT64_MAX / 1000)
			return -EINVAL;
		units = units * 10 + (s[i] - '0');
	}
	for (size_t i = dec + 1, k = 0; i < n; i++, k++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		cents += (s[i] - '0') * (k == 0 ? 10 : 1);
	}
	*centavos = units * 100 + cents;
	return 0;
}

void dom_money_text(int64_t c, char *out, size_t n)
{
	char digits[32], grouped[48];
	uint64_t a = c < 0 ? (uint64_t)0 - (uint64_t)c : (uint64_t)c;
	snprintf(digits, sizeof(digits), "%" PRIu64, a / 100);
	size_t len = strlen(digits), k = 0;
	for (size_t i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			grouped[k++] = '.';
		grouped[k++] = digits[i];
	}
	grouped[k] = '\0';
	snprintf(out, n, "%sR$ %s,%02u", c < 0 ? "-" : "", grouped, (unsigned)(a % 100));
}

void dom_document_text(const char *d, char *out, size_t n)
{
	size_t len = strlen(d);
	if (len == 11 && strspn(d, "0123456789") == 11)
		snprintf(out, n, "%.3s.%.3s.%.3s-%.2s", d, d + 3, d + 6, d + 9);
	else if (len == 14 && strspn(d, "0123456789") == 14)
		snprintf(out, n, "%.2s.%.3s.%.3s/%.4s-%.2s", d, d + 2, d + 5, d + 8, d + 12);
	else
		snprintf(out, n, "%s", d);
}

/* ------------------------------------------------------------------ dates */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int dom_offset(cli_ctx_t *ctx, int *offset_min)
{
	ospay_sync_t *s = NULL;
	int rc = cli_session(ctx, &s);
	if (rc == CLI_EXIT_OK) {
		const Ospay__V1__Principal *p = ospay_client_principal(ospay_sync_client(s));
		*offset_min = p != NULL && p->organization != NULL
				      ? p->organization->utc_offset_minutes
				      : -180;
	}
	return rc;
}

/* Exactly `width` digits at s; -1 otherwise. */
static int fixed_digits(const char *s, int width)
{
	int v = 0;
	for (int i = 0; i < width; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int dom_date_parse(const char *s, int64_t *day)
{
	return util_date_parse(s, day);
}

int64_t dom_day_start(int64_t day, int offset_min)
{
	return day * 86400000 - (int64_t)offset_min * 60000;
}

int dom_datetime_parse(const char *s, int offset_min, int64_t *ms)
{
	char date[11];
	int64_t day;
	if (strlen(s) != 16 || (s[10] != ' ' && s[10] != 'T') || s[13] != ':')
		return -EINVAL;
	memcpy(date, s, 10);
	date[10] = '\0';
	int h = fixed_digits(s + 11, 2), mi = fixed_digits(s + 14, 2);
	if (dom_date_parse(date, &day) != 0 || h < 0 || h > 23 || mi < 0 || mi > 59)
		return -EINVAL;
	*ms = dom_day_start(day, offset_min) + ((int64_t)h * 60 + mi) * 60000;
	return 0;
}

void dom_date_text(int64_t day, char *out, size_t n)
{
	util_date_format(day, out, n);
}

const char *dom_weekday_name(int64_t day)
{
	static const char *const names[] = {"Thursday", "Friday",  "Saturday", "Sunday",
					    "Monday",   "Tuesday", "Wednesday"};
	int64_t w = day % 7;
	return names[w < 0 ? w + 7 : w];
}

void dom_datetime_text(int64_t ms, int offset_min, char *out, size_t n)
{
	if (ms == 0) {
		if (n > 0)
			out[0] = '\0';
		return;
	}
	int64_t local = ms + (int64_t)offset_min * 60000;
	int64_t day = floor_div(local, 86400000);
	int64_t minute = (local - day * 86400000) / 60000;
	char date[16];
	dom_date_text(day, date, sizeof(date));
	snprintf(out, n, "%s %02d:%02d", date, (int)(minute / 60), (int)(minute % 60));
}

/* ------------------------------------------------------------------ enums */

int dom_enum_parse(const ProtobufCEnumDescriptor *d, const char *prefix, const char *s, int *out)
{
	char want[96];
	size_t pl = strlen(prefix);
	if (strlen(s) + pl >= sizeof(want))
		return -EINVAL;
	/* Lengths checked above: two copies, no truncation. */
	memcpy(want, prefix, pl);
	memcpy(want + pl, s, strlen(s) + 1);
	for (char *p = want + pl; *p != '\0'; p++)
		*p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
	for (unsigned i = 0; i < d->n_values; i++) {
		if (strcmp(d->values[i].name, want) == 0 && d->values[i].value != 0) {
			*out = d->values[i].value;
			return 0;
		}
	}
	return -EINVAL;
}

const char *dom_enum_text(const ProtobufCEnumDescriptor *d, const char *prefix, int v, char *buf,
			  size_t n)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);
	if (ev == NULL || n == 0)
		return "?";
	const char *name = ev->name;
	if (strncmp(name, prefix, strlen(prefix)) == 0)
		name += strlen(prefix);
	size_t i = 0;
	for (; name[i] != '\0' && i + 1 < n; i++)
		buf[i] = name[i] == '_' ? '-' : (char)tolower((unsigned char)name[i]);
	buf[i] = '\0';
	return buf;
}

/* ------------------------------------------------------------------ listing */

const ProtobufCFieldDescriptor *dom_field(const ProtobufCMessageDescriptor *d, const char *name)
{
	return protobuf_c_message_descriptor_get_field_by_name(d, name);
}

int dom_list(cli_ctx_t *ctx, const char *method, ProtobufCMessage *req,
	     const ProtobufCMessageDescriptor *resp_desc, const char *items, size_t limit,
	     dom_item_fn fn, void *state)
{
	const ProtobufCFieldDescriptor *fsize = dom_field(req->descriptor, "page_size");
	const ProtobufCFieldDescriptor *ftok = dom_field(req->descriptor, "page_token");
	const ProtobufCFieldDescriptor *fitems = dom_field(resp_desc, items);
	const ProtobufCFieldDescriptor *fnext = dom_field(resp_desc, "next_page_token");
	ProtobufCMessage *resp = NULL;
	json_t *arr = NULL;
	char *page = NULL;
	size_t seen = 0;
	int rc = CLI_EXIT_OK;
	if (fsize == NULL || ftok == NULL || fitems == NULL || fnext == NULL) {
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	if (ctx->json && (arr = json_array()) == NULL) {
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	*(uint32_t *)((char *)req + fsize->offset) = DOM_PAGE;
	for (unsigned n = 0; rc == CLI_EXIT_OK; n++) {
		*(const char **)((char *)req + ftok->offset) = page != NULL ? page : "";
		rc = cli_call(ctx, method, req, resp_desc, 0, &resp);
		if (rc != CLI_EXIT_OK)
			break;
		size_t count = *(size_t *)((char *)resp + fitems->quantifier_offset);
		ProtobufCMessage **list = *(ProtobufCMessage ***)((char *)resp + fitems->offset);
		for (size_t i = 0; i < count && rc == CLI_EXIT_OK && (limit == 0 || seen < limit);
		     i++, seen++) {
			if (arr != NULL)
				rc = json_array_append_new(
					     arr, pbjson_from_message(list[i], PBJSON_CLI)) == 0
					     ? CLI_EXIT_OK
					     : CLI_EXIT_ERROR;
			else
				rc = fn(ctx, list[i], state);
		}
		const char *next = *(const char **)((char *)resp + fnext->offset);
		if (rc != CLI_EXIT_OK || next[0] == '\0' || (limit != 0 && seen >= limit))
			break;
		if ((page != NULL && strcmp(page, next) == 0) || n + 1 >= DOM_MAX_PAGES) {
			fprintf(stderr, "error: the server keeps answering more pages; stopped\n");
			rc = CLI_EXIT_ERROR;
			break;
		}
		free(page);
		page = strdup(next);
		protobuf_c_message_free_unpacked(resp, NULL);
		resp = NULL;
		if (page == NULL)
			rc = CLI_EXIT_ERROR;
	}
	*(const char **)((char *)req + ftok->offset) = "";
	if (rc == CLI_EXIT_OK && arr != NULL) {
		rc = cli_output_json(json_pack("{s:O}", items, arr));
	}
out:
	protobuf_c_message_free_unpacked(resp, NULL);
	json_decref(arr);
	free(page);
	return rc;
}

/* ------------------------------------------------------------------ records */

/*
 * A record for people, from the message's descriptor: field names as words
 * ("payment_method_id" -> "payment method", "created_ms" -> "created"), instants
 * in the organization's local time, amounts ("amount" in the name, centavos)
 * as "R$ 99,90", enum values as lower-case words without their type's prefix,
 * booleans as yes/no, nested messages under their name, and repeated messages
 * as tables after the record.
 */

/* The words of a field's name: "_ms" and "_id" dropped (not from "id" itself), '_' -> ' '. */
static void human_key(const char *prefix, const char *name, char *out, size_t n)
{
	char w[96];
	size_t len = strlen(name);
	if (len >= sizeof(w))
		len = sizeof(w) - 1;
	memcpy(w, name, len);
	w[len] = '\0';
	if (len > 3 && (strcmp(w + len - 3, "_ms") == 0 || strcmp(w + len - 3, "_id") == 0))
		w[len - 3] = '\0';
	for (char *c = w; *c != '\0'; c++)
		if (*c == '_')
			*c = ' ';
	snprintf(out, n, "%s%s%s", prefix, prefix[0] != '\0' ? " " : "", w);
}

/* The part every value name of an enum starts with, up to its last '_' ("CARD_BRAND_"). */
static size_t enum_prefix_len(const ProtobufCEnumDescriptor *d)
{
	size_t len = 0;
	if (d->n_values == 0)
		return 0;
	const char *first = d->values[0].name;
	len = strlen(first);
	for (unsigned i = 1; i < d->n_values; i++) {
		size_t k = 0;
		while (k < len && d->values[i].name[k] == first[k])
			k++;
		len = k;
	}
	while (len > 0 && first[len - 1] != '_')
		len--;
	return len;
}

/* One scalar value of field fd at p, for people. */
static void human_value(const ProtobufCFieldDescriptor *fd, const void *p, int offset, char *out,
			size_t n)
{
	char prefix[96];
	size_t nl = strlen(fd->name);
	bool ms = nl > 3 && strcmp(fd->name + nl - 3, "_ms") == 0;
	bool money = strstr(fd->name, "amount") != NULL;
	out[0] = '\0';
	switch (fd->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *v = *(const char *const *)p != NULL ? *(const char *const *)p : "";
		/* Documents and CEPs are stored as digits; people read them punctuated. */
		if (strcmp(fd->name, "document") == 0)
			dom_document_text(v, out, n);
		else if (strcmp(fd->name, "cep") == 0 && strlen(v) == 8)
			snprintf(out, n, "%.5s-%.3s", v, v + 5);
		else
			snprintf(out, n, "%s", v);
		return;
	}
	case PROTOBUF_C_TYPE_BYTES:
		snprintf(out, n, "(%zu bytes)", ((const ProtobufCBinaryData *)p)->len);
		return;
	case PROTOBUF_C_TYPE_BOOL:
		snprintf(out, n, "%s", *(const protobuf_c_boolean *)p ? "yes" : "no");
		return;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *ed = fd->descriptor;
		size_t pl = enum_prefix_len(ed);
		snprintf(prefix, sizeof(prefix), "%.*s", (int)pl,
			 ed->n_values ? ed->values[0].name : "");
		dom_enum_text(ed, prefix, *(const int *)p, out, n);
		if (strcmp(out, "unspecified") == 0)
			out[0] = '\0';
		return;
	}
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64: {
		int64_t v = *(const int64_t *)p;
		if (ms)
			dom_datetime_text(v, offset, out, n);
		else if (money)
			dom_money_text(v, out, n);
		else
			snprintf(out, n, "%" PRId64, v);
		return;
	}
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		snprintf(out, n, "%" PRIu64, *(const uint64_t *)p);
		return;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		snprintf(out, n, "%" PRIu32, *(const uint32_t *)p);
		return;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		if (money)
			dom_money_text(*(const int32_t *)p, out, n);
		else
			snprintf(out, n, "%" PRId32, *(const int32_t *)p);
		return;
	default:
		return;
	}
}

/* Rows of m into t under prefix; nested messages inline, repeated messages left for later. */
static int human_rows(cli_table_t *t, const char *prefix, const ProtobufCMessage *m, int offset)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	int rc = CLI_EXIT_OK;
	for (unsigned i = 0; i < d->n_fields && rc == CLI_EXIT_OK; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		const char *p = (const char *)m + fd->offset;
		char key[160], val[1200];
		human_key(prefix, fd->name, key, sizeof(key));
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t cnt = *(const size_t *)((const char *)m + fd->quantifier_offset);
			if (fd->type == PROTOBUF_C_TYPE_MESSAGE)
				continue;
			size_t k = 0;
			val[0] = '\0';
			const char *arr = *(const char *const *)p;
			for (size_t j = 0; j < cnt && k + 2 < sizeof(val); j++) {
				char one[256];
				human_value(fd, arr + j * pbjson_value_size(fd->type), offset, one,
					    sizeof(one));
				int w = snprintf(val + k, sizeof(val) - k, "%s%s", j ? ", " : "",
						 one);
				k += w > 0 ? (size_t)w : 0;
			}
		} else if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
			const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)p;
			if (sub != NULL)
				rc = human_rows(t, key, sub, offset);
			continue;
		} else {
			human_value(fd, p, offset, val, sizeof(val));
		}
		const char *row[] = {key, val};
		if (cli_table_add(t, row) < 0)
			rc = CLI_EXIT_ERROR;
	}
	return rc;
}

/* Each repeated message field of m as a table of its scalar fields, after "\nname\n". */
static int human_lists(const ProtobufCMessage *m, int offset)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	int rc = CLI_EXIT_OK;
	for (unsigned i = 0; i < d->n_fields && rc == CLI_EXIT_OK; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		if (fd->label != PROTOBUF_C_LABEL_REPEATED || fd->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		size_t cnt = *(const size_t *)((const char *)m + fd->quantifier_offset);
		const ProtobufCMessage *const *items =
			*(const ProtobufCMessage *const *const *)((const char *)m + fd->offset);
		const ProtobufCMessageDescriptor *sd = fd->descriptor;
		const char *hdr[DOM_MAX_FIELDS];
		char hbuf[DOM_MAX_FIELDS][96];
		unsigned cols[DOM_MAX_FIELDS], nc = 0;
		if (cnt == 0)
			continue;
		for (unsigned k = 0; k < sd->n_fields && nc < DOM_MAX_FIELDS; k++) {
			const ProtobufCFieldDescriptor *f = &sd->fields[k];
			if (f->label == PROTOBUF_C_LABEL_REPEATED ||
			    f->type == PROTOBUF_C_TYPE_MESSAGE)
				continue;
			human_key("", f->name, hbuf[nc], sizeof(hbuf[nc]));
			for (char *c = hbuf[nc]; *c != '\0'; c++)
				*c = (char)toupper((unsigned char)*c);
			hdr[nc] = hbuf[nc];
			cols[nc++] = k;
		}
		cli_table_t *t = cli_table_new(nc, hdr);
		if (t == NULL)
			return CLI_EXIT_ERROR;
		for (size_t j = 0; j < cnt && rc == CLI_EXIT_OK; j++) {
			char vals[DOM_MAX_FIELDS][256];
			const char *row[DOM_MAX_FIELDS];
			for (unsigned c = 0; c < nc; c++) {
				const ProtobufCFieldDescriptor *f = &sd->fields[cols[c]];
				human_value(f, (const char *)items[j] + f->offset, offset, vals[c],
					    sizeof(vals[c]));
				row[c] = vals[c];
			}
			if (cli_table_add(t, row) < 0)
				rc = CLI_EXIT_ERROR;
		}
		printf("\n%s\n", fd->name);
		if (rc == CLI_EXIT_OK && cli_table_print(t, stdout) < 0)
			rc = CLI_EXIT_ERROR;
		cli_table_free(t);
	}
	return rc;
}

int dom_print_record(cli_ctx_t *ctx, const ProtobufCMessage *m)
{
	cli_table_t *t = NULL;
	int offset = -180;
	int rc = CLI_EXIT_OK;
	if (ctx->json)
		return cli_output_message(m);
	/* Local times need the organization's offset; a session is open after the call. */
	if (ctx->session != NULL)
		rc = dom_offset(ctx, &offset);
	t = cli_table_new(2, NULL);
	if (rc != CLI_EXIT_OK || t == NULL) {
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	rc = human_rows(t, "", m, offset);
	if (rc == CLI_EXIT_OK && cli_table_print(t, stdout) < 0)
		rc = CLI_EXIT_ERROR;
	if (rc == CLI_EXIT_OK)
		rc = human_lists(m, offset);
out:
	cli_table_free(t);
	return rc;
}

int dom_call_print(cli_ctx_t *ctx, const char *method, const ProtobufCMessage *req,
		   const ProtobufCMessageDescriptor *resp_desc, unsigned flags, const char *name,
		   dom_print_fn print)
{
	ProtobufCMessage *resp = NULL;
	const ProtobufCFieldDescriptor *f = name != NULL ? dom_field(resp_desc, name) : NULL;
	int rc = name != NULL && f == NULL ? CLI_EXIT_ERROR
					   : cli_call(ctx, method, req, resp_desc, flags, &resp);
	if (rc != CLI_EXIT_OK)
		goto out;
	if (ctx->json) {
		rc = cli_output_message(resp);
		goto out;
	}
	const ProtobufCMessage *rec =
		f != NULL ? *(ProtobufCMessage **)((char *)resp + f->offset) : resp;
	rc = rec != NULL ? print(ctx, rec) : CLI_EXIT_OK;
out:
	protobuf_c_message_free_unpacked(resp, NULL);
	return rc;
}
