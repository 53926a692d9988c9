/*
 * A call's outcome with gRPC's codes, carried from the domain up to the RPC reply.
 * Fixed-size storage: filling a status never allocates and never fails (long
 * texts are truncated).
 */
#ifndef OSPAY_COMMON_STATUS_H
#define OSPAY_COMMON_STATUS_H

#include <stdarg.h>
#include <stddef.h>

enum status_code {
	ST_OK = 0,
	ST_CANCELLED = 1,
	ST_INVALID_ARGUMENT = 3,
	ST_DEADLINE_EXCEEDED = 4,
	ST_NOT_FOUND = 5,
	ST_ALREADY_EXISTS = 6,
	ST_PERMISSION_DENIED = 7,
	ST_RESOURCE_EXHAUSTED = 8,
	ST_FAILED_PRECONDITION = 9,
	ST_ABORTED = 10,
	ST_UNIMPLEMENTED = 12,
	ST_INTERNAL = 13,
	ST_UNAVAILABLE = 14,
	ST_UNAUTHENTICATED = 16,
};

#define STATUS_MAX_VIOLATIONS 16

typedef struct status_violation {
	char field[64];
	char description[160];
} status_violation_t;

typedef struct status {
	int code;
	char message[256];
	size_t n_violations;
	status_violation_t violations[STATUS_MAX_VIOLATIONS];
} status_t;

/* Resets st to OK. */
void status_clear(status_t *st);

/* Sets code and a printf-style message; returns code (so `return status_set(...)` reads well). */
int status_set(status_t *st, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* status_set for callers with their own variable arguments (srv_fail, srv_async_fail). */
void status_vset(status_t *st, int code, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/*
 * Adds a field violation and makes the code INVALID_ARGUMENT (message "invalid
 * request" unless one was set). Violations past STATUS_MAX_VIOLATIONS are dropped.
 */
void status_violation(status_t *st, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The code's gRPC name ("NOT_FOUND"); "UNKNOWN" for numbers it does not know. */
const char *status_code_name(int code);

#endif
