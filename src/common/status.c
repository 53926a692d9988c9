#include "common/status.h"

#include <stdio.h>
#include <string.h>

void status_clear(status_t *st)
{
	st->code = ST_OK;
	st->message[0] = '\0';
	st->n_violations = 0;
}

void status_vset(status_t *st, int code, const char *fmt, va_list ap)
{
	vsnprintf(st->message, sizeof(st->message), fmt, ap);
	st->code = code;
}

int status_set(status_t *st, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	status_vset(st, code, fmt, ap);
	va_end(ap);
	return code;
}

void status_violation(status_t *st, const char *field, const char *fmt, ...)
{
	if (st->code != ST_INVALID_ARGUMENT) {
		st->code = ST_INVALID_ARGUMENT;
		snprintf(st->message, sizeof(st->message), "invalid request");
	}
	if (st->n_violations >= STATUS_MAX_VIOLATIONS)
		return;
	status_violation_t *v = &st->violations[st->n_violations++];
	snprintf(v->field, sizeof(v->field), "%s", field);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->description, sizeof(v->description), fmt, ap);
	va_end(ap);
}

const char *status_code_name(int code)
{
	static const char *const names[] = {
		"OK",
		"CANCELLED",
		"UNKNOWN",
		"INVALID_ARGUMENT",
		"DEADLINE_EXCEEDED",
		"NOT_FOUND",
		"ALREADY_EXISTS",
		"PERMISSION_DENIED",
		"RESOURCE_EXHAUSTED",
		"FAILED_PRECONDITION",
		"ABORTED",
		"OUT_OF_RANGE",
		"UNIMPLEMENTED",
		"INTERNAL",
		"UNAVAILABLE",
		"DATA_LOSS",
		"UNAUTHENTICATED",
	};
	if (code < 0 || (size_t)code >= sizeof(names) / sizeof(names[0]))
		return "UNKNOWN";
	return names[code];
}
