/* ospay agendas ..., ospay technicians ..., ospay calendar: agendas, technicians, the calendar. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/cli/cli.h"
#include "client/cli/dom.h"
#include "client/cli/table.h"
#include "ospay/v1/admin.pb-c.h"
#include "ospay/v1/agendas.pb-c.h"

#define MAX_WINDOWS 64

static const char *const day_names[] = {"",         "Monday", "Tuesday",  "Wednesday",
					"Thursday", "Friday", "Saturday", "Sunday"};

/* "mon" .. "sun" (English) or "seg" .. "dom" (Portuguese): 1..7, else 0. */
static int weekday_parse(const char *s, size_t n)
{
	static const char *const en[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
	static const char *const pt[] = {"seg", "ter", "qua", "qui", "sex", "sab", "dom"};
	for (int i = 0; i < 7; i++)
		if (n == 3 && (strncasecmp(s, en[i], 3) == 0 || strncasecmp(s, pt[i], 3) == 0))
			return i + 1;
	return 0;
}

/* "HH:MM" (24:00 allowed for an end) as minutes; -1 otherwise. */
static int hhmm_parse(const char *s, size_t n)
{
	if (n != 5 || s[2] != ':')
		return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
	for (size_t i = 0; i < 5; i++)
		if (i != 2 && (s[i] < '0' || s[i] > '9'))
			return -1;
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return -1;
	return h * 60 + m;
}

/* "mon,08:00-12:00,2": weekday, start-end, capacity. */
static int window_parse(cli_ctx_t *ctx, const char *s, Ospay__V1__AgendaWindow *w)
{
	const char *c1 = strchr(s, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
	const char *dash = c1 ? strchr(c1 + 1, '-') : NULL;
	uint32_t cap = 0;
	ospay__v1__agenda_window__init(w);
	if (c1 == NULL || c2 == NULL || dash == NULL || dash > c2)
		goto bad;
	int wd = weekday_parse(s, (size_t)(c1 - s));
	int from = hhmm_parse(c1 + 1, (size_t)(dash - c1 - 1));
	int to = hhmm_parse(dash + 1, (size_t)(c2 - dash - 1));
	if (wd == 0 || from < 0 || to < 0 || cli_parse_u32(c2 + 1, &cap) < 0)
		goto bad;
	w->weekday = wd;
	w->start_minute = (uint32_t)from;
	w->end_minute = (uint32_t)to;
	w->capacity = cap;
	return CLI_EXIT_OK;
bad:
	return cli_usage_error(ctx,
			       "--window is DAY,HH:MM-HH:MM,CAPACITY (e.g. mon,08:00-12:00,4), "
			       "not \"%s\"",
			       s);
}

/* "São Paulo, Santos" (what fits in 1 KiB), or "any". */
static void cities_cell(const ProtobufCMessage *m, char *out, size_t n)
{
	const Ospay__V1__Agenda *a = (const Ospay__V1__Agenda *)m;
	char cities[1024] = "any";
	for (size_t i = 0, k = 0; i < a->n_cities; i++) {
		int w = snprintf(cities + k, sizeof(cities) - k, "%s%s", i ? ", " : "",
				 a->cities[i]);
		if (w < 0 || (size_t)w >= sizeof(cities) - k)
			break;
		k += (size_t)w;
	}
	snprintf(out, n, "%s", cities);
}

static const dom_col_t agenda_fields[] = {
	DOM_COL("id", "id", DOM_C_NUM),
	DOM_COL("unit", "unit_id", DOM_C_NUM),
	DOM_COL("name", "name", DOM_C_TEXT),
	DOM_COL_CELL("cities", cities_cell),
	{"daily max", "daily_max", DOM_C_NUM, .zero = "none"},
	{"slot", "slot_minutes", DOM_C_NUM, .affix = " min"},
	{NULL},
};

/* The agenda's fields, then one line per window. */
static int print_agenda(cli_ctx_t *ctx, const ProtobufCMessage *m)
{
	const Ospay__V1__Agenda *a = (const Ospay__V1__Agenda *)m;
	cli_table_t *t = cli_table_new(2, NULL);
	int rc = t == NULL ? CLI_EXIT_ERROR : dom_kv_add(t, agenda_fields, m, 0);
	(void)ctx;
	for (size_t i = 0; i < a->n_windows && rc == CLI_EXIT_OK; i++) {
		const Ospay__V1__AgendaWindow *w = a->windows[i];
		char text[96];
		snprintf(text, sizeof(text), "%s %02u:%02u-%02u:%02u, %u per day",
			 w->weekday >= 1 && w->weekday <= 7 ? day_names[w->weekday] : "?",
			 w->start_minute / 60, w->start_minute % 60, w->end_minute / 60,
			 w->end_minute % 60, w->capacity);
		const char *row[] = {i == 0 ? "windows" : "", text};
		if (cli_table_add(t, row) < 0)
			rc = CLI_EXIT_ERROR;
	}
	if (rc == CLI_EXIT_OK && cli_table_print(t, stdout) < 0)
		rc = CLI_EXIT_ERROR;
	cli_table_free(t);
	return rc;
}

/*
 * create and update. The fields name update's mask paths (cities and windows
 * are filled by agenda_lists); update refuses --unit after the lists.
 */
static const dom_flag_t agenda_flags[] = {
	DOM_OPT("unit", 'U', DOM_ID, "unit_id"),
	DOM_OPT("name", 'n', DOM_TEXT, "name"),
	DOM_OPT("city", 'c', DOM_LIST, "cities"),
	DOM_OPT("any-city", 'A', DOM_SWITCH, "cities"),
	DOM_OPT("window", 'w', DOM_LIST, "windows"),
	DOM_OPT("daily-max", 'd', DOM_U32, "daily_max"),
	DOM_OPT("slot", 's', DOM_U32, "slot_minutes"),
	{NULL},
};

/* Cities and windows from the repeated options. */
typedef struct agenda_lists {
	char *cities[DOM_MAX_REPEATED];
	size_t n_cities;
	Ospay__V1__AgendaWindow w[DOM_MAX_REPEATED];
	Ospay__V1__AgendaWindow *wp[DOM_MAX_REPEATED];
	size_t n_windows;
} agenda_lists_t;

static int agenda_lists(cli_ctx_t *ctx, const dom_opts_t *o, agenda_lists_t *l)
{
	int rc = CLI_EXIT_OK;
	l->n_cities = l->n_windows = 0;
	for (size_t i = 0; i < o->n_rep && rc == CLI_EXIT_OK; i++) {
		if (o->rep_code[i] == 'c') {
			l->cities[l->n_cities++] = (char *)o->rep[i];
		} else {
			rc = window_parse(ctx, o->rep[i], &l->w[l->n_windows]);
			l->wp[l->n_windows] = &l->w[l->n_windows];
			l->n_windows++;
		}
	}
	if (rc == CLI_EXIT_OK && o->seen['A'] && l->n_cities > 0)
		rc = cli_usage_error(ctx, "--any-city and --city exclude each other");
	return rc;
}

int cli_cmd_agendas_create(cli_ctx_t *ctx, int argc, char **argv)
{
	dom_opts_t o;
	agenda_lists_t l;
	Ospay__V1__AgendasCreateRequest req = OSPAY__V1__AGENDAS_CREATE_REQUEST__INIT;
	int rc = dom_parse_fill(ctx, argc, argv, agenda_flags, &o, &req.base);
	if (rc == CLI_EXIT_OK)
		rc = agenda_lists(ctx, &o, &l);
	if (rc != CLI_EXIT_OK)
		goto out;
	req.cities = l.cities;
	req.n_cities = l.n_cities;
	req.windows = l.wp;
	req.n_windows = l.n_windows;
	rc = dom_call_print(ctx, "ospay.v1.Agendas/Create", &req.base,
			    &ospay__v1__agendas_create_response__descriptor, CLI_CALL_MUTATING,
			    "agenda", print_agenda);
out:
	return rc;
}

int cli_cmd_agendas_update(cli_ctx_t *ctx, int argc, char **argv)
{
	dom_opts_t o;
	agenda_lists_t l;
	char *mask[5];
	size_t nm = 0;
	Ospay__V1__AgendasUpdateRequest req = OSPAY__V1__AGENDAS_UPDATE_REQUEST__INIT;
	int rc = dom_parse_id(ctx, argc, argv, agenda_flags, &o, "ID", &req.id);
	if (rc == CLI_EXIT_OK)
		rc = dom_opt_u32(ctx, &o, 'd', &req.daily_max);
	if (rc == CLI_EXIT_OK)
		rc = dom_opt_u32(ctx, &o, 's', &req.slot_minutes);
	if (rc == CLI_EXIT_OK)
		rc = agenda_lists(ctx, &o, &l);
	if (rc == CLI_EXIT_OK && o.v['U'] != NULL)
		rc = cli_usage_error(ctx, "an agenda's unit does not change");
	if (rc != CLI_EXIT_OK)
		goto out;
	if (o.v['n'] != NULL)
		req.name = (char *)o.v['n'];
	req.cities = l.cities;
	req.n_cities = l.n_cities;
	req.windows = l.wp;
	req.n_windows = l.n_windows;
	nm = dom_mask(&o, mask, 5);
	if (nm == 0) {
		rc = cli_usage_error(ctx, "nothing to change: give at least one option");
		goto out;
	}
	req.update_mask = mask;
	req.n_update_mask = nm;
	rc = dom_call_print(ctx, "ospay.v1.Agendas/Update", &req.base,
			    &ospay__v1__agendas_update_response__descriptor, CLI_CALL_MUTATING,
			    "agenda", print_agenda);
out:
	return rc;
}

const dom_cmd_t cli_dom_agendas_get = {
	.method = "ospay.v1.Agendas/Get",
	.arg = "ID",
	.arg_field = "id",
	.record = "agenda",
	.print = print_agenda,
};

int cli_cmd_agendas_delete(cli_ctx_t *ctx, int argc, char **argv)
{
	dom_opts_t o;
	ProtobufCMessage *resp = NULL;
	static const dom_flag_t flags[] = {
		DOM_OPT("release-orders", 'r', DOM_SWITCH, NULL),
		{NULL},
	};
	Ospay__V1__AgendasDeleteRequest req = OSPAY__V1__AGENDAS_DELETE_REQUEST__INIT;
	int rc = dom_parse_id(ctx, argc, argv, flags, &o, "ID", &req.id);
	req.release_orders = o.seen['r'];
	if (rc == CLI_EXIT_OK)
		rc = cli_call(ctx, "ospay.v1.Agendas/Delete", &req.base,
			      &ospay__v1__agendas_delete_response__descriptor, CLI_CALL_MUTATING,
			      &resp);
	if (rc == CLI_EXIT_OK) {
		if (ctx->json)
			rc = cli_output_json(json_pack("{s:I}", "deleted", (json_int_t)req.id));
		else
			printf("agenda %" PRIu64 " deleted\n", req.id);
	}
	protobuf_c_message_free_unpacked(resp, NULL);
	return rc;
}

static const dom_col_t agenda_cols[] = {
	DOM_COL_RIGHT("ID", "id", DOM_C_NUM),
	DOM_COL("UNIT", "unit_id", DOM_C_NUM),
	DOM_COL("NAME", "name", DOM_C_TEXT),
	DOM_COL("WINDOWS", "windows", DOM_C_NUM),
	{"DAILY MAX", "daily_max", DOM_C_NUM, .zero = "none"},
	DOM_COL("SLOT (MIN)", "slot_minutes", DOM_C_NUM),
	{"CITIES", "cities", DOM_C_NUM, .zero = "any"},
	{NULL},
};

static const dom_flag_t agendas_list_flags[] = {DOM_OPT("unit", 'U', DOM_ID, "unit_id"), {NULL}};

const dom_cmd_t cli_dom_agendas_list = {
	.method = "ospay.v1.Agendas/List",
	.flags = agendas_list_flags,
	.items = "agendas",
	.cols = agenda_cols,
};

/* ------------------------------------------------------------------ technicians */

static const dom_flag_t technicians_create_flags[] = {
	DOM_OPT("unit", 'U', DOM_ID, "unit_id"),
	DOM_OPT("name", 'n', DOM_TEXT, "name"),
	DOM_OPT("phone", 'p', DOM_TEXT, "phone"),
	DOM_OPT("email", 'e', DOM_TEXT, "email"),
	{NULL},
};

const dom_cmd_t cli_dom_technicians_create = {
	.method = "ospay.v1.Admin/CreateTechnician",
	.call = CLI_CALL_MUTATING,
	.flags = technicians_create_flags,
	.record = "technician",
};

static const dom_col_t technician_cols[] = {
	DOM_COL_RIGHT("ID", "id", DOM_C_NUM),  DOM_COL("UNIT", "unit_id", DOM_C_NUM),
	DOM_COL("NAME", "name", DOM_C_TEXT),   DOM_COL("PHONE", "phone", DOM_C_TEXT),
	DOM_COL("EMAIL", "email", DOM_C_TEXT), {NULL},
};

static const dom_flag_t technicians_list_flags[] = {DOM_OPT("unit", 'U', DOM_ID, "unit_id"),
						    {NULL}};

const dom_cmd_t cli_dom_technicians_list = {
	.method = "ospay.v1.Admin/ListTechnicians",
	.flags = technicians_list_flags,
	.items = "technicians",
	.cols = technician_cols,
};

/* ------------------------------------------------------------------ calendar */

/* One calendar line, with the group it came from. */
typedef struct cal_line {
	const Ospay__V1__CalendarEntry *e;
	const Ospay__V1__CalendarGroup *g;
} cal_line_t;

static int cal_line_cmp(const void *a, const void *b)
{
	const cal_line_t *x = a, *y = b;
	int c = strcmp(x->e->local_date, y->e->local_date);
	if (c != 0)
		return c;
	if (x->e->local_start_minute != y->e->local_start_minute)
		return x->e->local_start_minute < y->e->local_start_minute ? -1 : 1;
	if (x->g->id != y->g->id)
		return x->g->id < y->g->id ? -1 : 1;
	return x->e->order_id < y->e->order_id ? -1 : x->e->order_id > y->e->order_id;
}

/* The orders that wait for a date, per agenda or technician; nothing when none. */
static int calendar_awaiting_print(const Ospay__V1__AgendasCalendarResponse *r, bool by_agenda)
{
	static const char *const hdr_a[] = {"AGENDA", "ORDER", "CUSTOMER", "KIND"};
	static const char *const hdr_t[] = {"TECHNICIAN", "ORDER", "CUSTOMER", "KIND"};
	cli_table_t *t = cli_table_new(4, by_agenda ? hdr_a : hdr_t);
	int rc = t != NULL ? CLI_EXIT_OK : CLI_EXIT_ERROR;
	if (t != NULL)
		cli_table_align(t, 1, CLI_ALIGN_RIGHT);
	for (size_t g = 0; g < r->n_groups && rc == CLI_EXIT_OK; g++) {
		for (size_t i = 0; i < r->groups[g]->n_awaiting && rc == CLI_EXIT_OK; i++) {
			const Ospay__V1__CalendarEntry *e = r->groups[g]->awaiting[i];
			char group[140], order[24], customer[160];
			snprintf(group, sizeof(group), "%s (%" PRIu64 ")", r->groups[g]->name,
				 r->groups[g]->id);
			snprintf(order, sizeof(order), "%" PRIu64, e->order_id);
			snprintf(customer, sizeof(customer), "%s (%" PRIu64 ")", e->customer_name,
				 e->customer_id);
			const char *row[] = {group, order, customer, e->kind};
			if (cli_table_add(t, row) < 0)
				rc = CLI_EXIT_ERROR;
		}
	}
	if (rc == CLI_EXIT_OK && cli_table_rows(t) > 0) {
		printf("\nawaiting scheduling (no date yet: book them with 'orders reschedule')\n");
		if (cli_table_print(t, stdout) < 0)
			rc = CLI_EXIT_ERROR;
	}
	cli_table_free(t);
	return rc;
}

/* Day by day: a heading per day, then its orders by start time. */
static int calendar_print(const Ospay__V1__AgendasCalendarResponse *r, bool by_agenda,
			  int64_t from_day, int64_t to_day)
{
	static const char *const hdr_a[] = {"TIME",     "AGENDA", "ORDER",
					    "CUSTOMER", "KIND",   "STATUS"};
	static const char *const hdr_t[] = {"TIME",     "TECHNICIAN", "ORDER",
					    "CUSTOMER", "KIND",       "STATUS"};
	size_t n = 0, k = 0;
	int rc = CLI_EXIT_OK;
	for (size_t g = 0; g < r->n_groups; g++)
		n += r->groups[g]->n_entries;
	cal_line_t *lines = calloc(n + 1, sizeof(*lines));
	if (lines == NULL)
		return CLI_EXIT_ERROR;
	for (size_t g = 0; g < r->n_groups; g++)
		for (size_t i = 0; i < r->groups[g]->n_entries; i++)
			lines[k++] = (cal_line_t){r->groups[g]->entries[i], r->groups[g]};
	qsort(lines, n, sizeof(*lines), cal_line_cmp);
	k = 0;
	for (int64_t day = from_day; day <= to_day && rc == CLI_EXIT_OK; day++) {
		char date[16];
		dom_date_text(day, date, sizeof(date));
		printf("%s%s %s\n", day == from_day ? "" : "\n", date, dom_weekday_name(day));
		cli_table_t *t = cli_table_new(6, by_agenda ? hdr_a : hdr_t);
		if (t == NULL) {
			rc = CLI_EXIT_ERROR;
			break;
		}
		cli_table_align(t, 2, CLI_ALIGN_RIGHT);
		for (; k < n && strcmp(lines[k].e->local_date, date) == 0 && rc == CLI_EXIT_OK;
		     k++) {
			const Ospay__V1__CalendarEntry *e = lines[k].e;
			char when[24], group[140], order[24], customer[160], status[24];
			uint32_t s = e->local_start_minute, end = s + e->duration_minutes;
			snprintf(when, sizeof(when), "%02u:%02u-%02u:%02u", s / 60, s % 60,
				 (end / 60) % 24, end % 60);
			snprintf(group, sizeof(group), "%s (%" PRIu64 ")", lines[k].g->name,
				 lines[k].g->id);
			snprintf(order, sizeof(order), "%" PRIu64, e->order_id);
			snprintf(customer, sizeof(customer), "%s (%" PRIu64 ")", e->customer_name,
				 e->customer_id);
			dom_enum_text(&ospay__v1__order_status__descriptor, "ORDER_STATUS_",
				      e->status, status, sizeof(status));
			const char *row[] = {when, group, order, customer, e->kind, status};
			if (cli_table_add(t, row) < 0)
				rc = CLI_EXIT_ERROR;
		}
		if (rc == CLI_EXIT_OK && cli_table_rows(t) == 0)
			printf("  no orders\n");
		else if (rc == CLI_EXIT_OK && cli_table_print(t, stdout) < 0)
			rc = CLI_EXIT_ERROR;
		cli_table_free(t);
	}
	if (rc == CLI_EXIT_OK)
		rc = calendar_awaiting_print(r, by_agenda);
	if (rc == CLI_EXIT_OK && r->truncated)
		fprintf(stderr, "warning: more orders than one answer holds: narrow the range\n");
	free(lines);
	return rc;
}

int cli_cmd_calendar(cli_ctx_t *ctx, int argc, char **argv)
{
	static const char by_msg[] = "--by is agenda or technician";
	static const dom_flag_t flags[] = {
		DOM_OPT("unit", 'U', DOM_ID, "unit_id"),
		DOM_OPT_ENUM("by", 'b', "view_by", "CALENDAR_VIEW_BY_", by_msg),
		DOM_OPT("from", 'f', DOM_TEXT, "from_date"),
		DOM_OPT("to", 't', DOM_TEXT, "to_date"),
		DOM_OPT("id", 'i', DOM_LIST, NULL),
		DOM_OPT("canceled", 'c', DOM_SWITCH, NULL),
		{NULL},
	};
	dom_opts_t o;
	int64_t from_day = 0, to_day = 0;
	uint64_t ids[DOM_MAX_REPEATED];
	ProtobufCMessage *resp = NULL;
	Ospay__V1__AgendasCalendarRequest req = OSPAY__V1__AGENDAS_CALENDAR_REQUEST__INIT;
	int rc = dom_parse_fill(ctx, argc, argv, flags, &o, &req.base);
	if (rc == CLI_EXIT_OK && o.v['b'] == NULL)
		rc = cli_usage_error(ctx, "%s", by_msg);
	if (rc != CLI_EXIT_OK)
		goto out;
	if (o.v['f'] == NULL || dom_date_parse(o.v['f'], &from_day) != 0 || o.v['t'] == NULL ||
	    dom_date_parse(o.v['t'], &to_day) != 0 || to_day < from_day) {
		rc = cli_usage_error(ctx, "--from and --to are dates YYYY-MM-DD, --from first");
		goto out;
	}
	for (size_t i = 0; i < o.n_rep && rc == CLI_EXIT_OK; i++)
		rc = dom_id(ctx, o.rep[i], "--id", &ids[i]);
	if (rc != CLI_EXIT_OK)
		goto out;
	req.ids = ids;
	req.n_ids = o.n_rep;
	req.include_canceled = o.seen['c'];
	rc = cli_call(ctx, "ospay.v1.Agendas/Calendar", &req.base,
		      &ospay__v1__agendas_calendar_response__descriptor, 0, &resp);
	if (rc != CLI_EXIT_OK)
		goto out;
	if (ctx->json)
		rc = cli_output_message(resp);
	else
		rc = calendar_print((const Ospay__V1__AgendasCalendarResponse *)resp,
				    req.view_by ==
					    OSPAY__V1__CALENDAR_VIEW_BY__CALENDAR_VIEW_BY_AGENDA,
				    from_day, to_day);
out:
	protobuf_c_message_free_unpacked(resp, NULL);
	return rc;
}

/* ------------------------------------------------------------------ availability */

/* "João (2) 08:00, Maria (3) 10:00" for the technicians free in a window. */
static void avail_techs_text(const Ospay__V1__AvailabilityWindow *w, int offset, char *out,
			     size_t n)
{
	size_t k = 0;
	out[0] = '\0';
	for (size_t i = 0; i < w->n_technicians; i++) {
		const Ospay__V1__AvailableTechnician *t = w->technicians[i];
		char when[24];
		dom_datetime_text(t->first_free_ms, offset, when, sizeof(when));
		int wr = snprintf(out + k, n - k, "%s%s (%" PRIu64 ") %s", i ? ", " : "", t->name,
				  t->id, strlen(when) > 11 ? when + 11 : when);
		if (wr < 0 || (size_t)wr >= n - k)
			break;
		k += (size_t)wr;
	}
}

/* A calendar-like table: one row per window of each day, closed days and empty days named. */
static int availability_print(const Ospay__V1__AgendasAvailabilityResponse *r)
{
	static const char *const hdr[] = {"DATE",   "DAY",  "WINDOW",       "CAPACITY",
					  "BOOKED", "FREE", "DAY MAX LEFT", "TECHNICIANS FREE"};
	cli_table_t *t = cli_table_new(8, hdr);
	int rc = t != NULL ? CLI_EXIT_OK : CLI_EXIT_ERROR;
	if (rc == CLI_EXIT_OK && r->agenda != NULL)
		printf("agenda %" PRIu64 " %s, slots of %u min\n", r->agenda->id, r->agenda->name,
		       r->agenda->slot_minutes);
	for (size_t c = 3; c < 7 && t != NULL; c++)
		cli_table_align(t, c, CLI_ALIGN_RIGHT);
	for (size_t d = 0; d < r->n_days && rc == CLI_EXIT_OK; d++) {
		const Ospay__V1__AvailabilityDay *day = r->days[d];
		const char *wd =
			day->weekday >= 1 && day->weekday <= 7 ? day_names[day->weekday] : "?";
		char left[32] = "no maximum";
		if (day->daily_max != 0)
			snprintf(left, sizeof(left), "%u of %u", day->daily_left, day->daily_max);
		if (day->closed || day->n_windows == 0) {
			char why[300], booked[16];
			snprintf(why, sizeof(why), "closed: %s", day->closed_reason);
			snprintf(booked, sizeof(booked), "%u", day->booked);
			const char *row[] = {day->date, wd,     day->closed ? why : "no windows",
					     "",        booked, "0",
					     "",        ""};
			if (cli_table_add(t, row) < 0)
				rc = CLI_EXIT_ERROR;
			continue;
		}
		for (size_t i = 0; i < day->n_windows && rc == CLI_EXIT_OK; i++) {
			const Ospay__V1__AvailabilityWindow *w = day->windows[i];
			char win[48], cap[16], booked[16], free_[16], techs[1024];
			snprintf(win, sizeof(win), "%02u:%02u-%02u:%02u", w->start_minute / 60,
				 w->start_minute % 60, w->end_minute / 60, w->end_minute % 60);
			snprintf(cap, sizeof(cap), "%u", w->capacity);
			snprintf(booked, sizeof(booked), "%u", w->booked);
			snprintf(free_, sizeof(free_), "%u", w->free);
			avail_techs_text(w, r->utc_offset_minutes, techs, sizeof(techs));
			const char *row[] = {i == 0 ? day->date : "",
					     i == 0 ? wd : "",
					     win,
					     cap,
					     booked,
					     free_,
					     i == 0 ? left : "",
					     techs};
			if (cli_table_add(t, row) < 0)
				rc = CLI_EXIT_ERROR;
		}
	}
	if (rc == CLI_EXIT_OK && cli_table_print(t, stdout) < 0)
		rc = CLI_EXIT_ERROR;
	cli_table_free(t);
	return rc;
}

static int print_availability(cli_ctx_t *ctx, const ProtobufCMessage *m)
{
	(void)ctx;
	return availability_print((const Ospay__V1__AgendasAvailabilityResponse *)m);
}

static const dom_flag_t agendas_availability_flags[] = {
	DOM_OPT("from", 'f', DOM_TEXT, "from_date"),
	DOM_OPT("days", 'd', DOM_U32, "days"),
	{NULL},
};

const dom_cmd_t cli_dom_agendas_availability = {
	.method = "ospay.v1.Agendas/Availability",
	.arg = "ID",
	.arg_field = "agenda_id",
	.flags = agendas_availability_flags,
	.print = print_availability,
};

/* ------------------------------------------------------------------ closures */

static const dom_col_t closure_fields[] = {
	DOM_COL("id", "id", DOM_C_NUM),
	{"agenda", "agenda_id", DOM_C_NUM, .zero = "every agenda"},
	DOM_COL("date", "date", DOM_C_TEXT),
	DOM_COL("reason", "reason", DOM_C_TEXT),
	{NULL},
};

static int print_closure(cli_ctx_t *ctx, const ProtobufCMessage *m)
{
	cli_table_t *t = cli_table_new(2, NULL);
	int rc = t == NULL ? CLI_EXIT_ERROR : dom_kv_add(t, closure_fields, m, 0);
	(void)ctx;
	if (rc == CLI_EXIT_OK && cli_table_print(t, stdout) < 0)
		rc = CLI_EXIT_ERROR;
	cli_table_free(t);
	return rc;
}

static const dom_flag_t closures_add_flags[] = {
	DOM_OPT("agenda", 'a', DOM_ID, "agenda_id"),
	DOM_OPT("date", 'd', DOM_TEXT, "date"),
	DOM_OPT("reason", 'r', DOM_TEXT, "reason"),
	{NULL},
};

const dom_cmd_t cli_dom_closures_add = {
	.method = "ospay.v1.Agendas/AddClosure",
	.call = CLI_CALL_MUTATING,
	.flags = closures_add_flags,
	.record = "closure",
	.print = print_closure,
};

int cli_cmd_closures_remove(cli_ctx_t *ctx, int argc, char **argv)
{
	return dom_remove(ctx, argc, argv, "ospay.v1.Agendas/RemoveClosure",
			  &ospay__v1__agendas_remove_closure_request__descriptor,
			  &ospay__v1__agendas_remove_closure_response__descriptor, "closure",
			  ": the day is open again");
}

/* "Natal (national holiday)", "Inventário (closure 3, agenda 2)". */
static void closed_why_cell(const ProtobufCMessage *m, char *out, size_t n)
{
	const Ospay__V1__ClosedDay *d = (const Ospay__V1__ClosedDay *)m;
	if (d->national_holiday)
		snprintf(out, n, "%s (national holiday)", d->reason);
	else if (d->agenda_id != 0)
		snprintf(out, n, "%s (closure %" PRIu64 ", agenda %" PRIu64 ")", d->reason,
			 d->closure_id, d->agenda_id);
	else
		snprintf(out, n, "%s (closure %" PRIu64 ", every agenda)", d->reason,
			 d->closure_id);
}

static void closed_weekday_cell(const ProtobufCMessage *m, char *out, size_t n)
{
	int64_t day;
	const Ospay__V1__ClosedDay *d = (const Ospay__V1__ClosedDay *)m;
	snprintf(out, n, "%s", dom_date_parse(d->date, &day) == 0 ? dom_weekday_name(day) : "");
}

static const dom_col_t closed_cols[] = {
	DOM_COL("DATE", "date", DOM_C_TEXT),
	DOM_COL_CELL("DAY", closed_weekday_cell),
	DOM_COL_CELL("WHY", closed_why_cell),
	{NULL},
};

static const dom_flag_t closures_list_flags[] = {
	DOM_OPT("agenda", 'a', DOM_ID, "agenda_id"),
	DOM_OPT("from", 'f', DOM_TEXT, "from_date"),
	DOM_OPT("to", 't', DOM_TEXT, "to_date"),
	{NULL},
};

const dom_cmd_t cli_dom_closures_list = {
	.method = "ospay.v1.Agendas/ListClosures",
	.flags = closures_list_flags,
	.items = "days",
	.cols = closed_cols,
};

int cli_cmd_closures_holidays(cli_ctx_t *ctx, int argc, char **argv)
{
	char *word = NULL;
	ProtobufCMessage *resp = NULL;
	Ospay__V1__AgendasSetNationalHolidaysRequest req =
		OSPAY__V1__AGENDAS_SET_NATIONAL_HOLIDAYS_REQUEST__INIT;
	int rc = cli_one_arg(ctx, argc, argv, &word);
	if (rc == CLI_EXIT_OK && strcmp(word, "closed") != 0 && strcmp(word, "open") != 0)
		rc = cli_usage_error(ctx, "national-holidays is closed or open, not \"%s\"", word);
	if (rc != CLI_EXIT_OK)
		goto out;
	req.closed = strcmp(word, "closed") == 0;
	rc = cli_call(ctx, "ospay.v1.Agendas/SetNationalHolidays", &req.base,
		      &ospay__v1__agendas_set_national_holidays_response__descriptor,
		      CLI_CALL_MUTATING, &resp);
	if (rc == CLI_EXIT_OK && ctx->json)
		rc = cli_output_message(resp);
	else if (rc == CLI_EXIT_OK)
		printf("%s\n", req.closed ? "national holidays are closed days on every agenda"
					  : "the organization works on national holidays");
out:
	protobuf_c_message_free_unpacked(resp, NULL);
	return rc;
}
