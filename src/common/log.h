/*
 * logfmt lines on stderr: `ts=... level=info msg="..." key=value...`.
 * Never pass secrets (tokens, card data, credentials): nothing here redacts them.
 * Control characters in the output are replaced, so hostile input cannot forge lines.
 */
#ifndef OSPAY_COMMON_LOG_H
#define OSPAY_COMMON_LOG_H

enum log_level { LOG_LEVEL_DEBUG = 0, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

void log_set_level(int level);
int log_get_level(void);
/* Parses "debug", "info", "warn", "error"; -1 when unknown. */
int log_level_parse(const char *s);

/* kvfmt: printf format for the key=value part (may be ""), quoting is the caller's. */
void log_write(int level, const char *msg, const char *kvfmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_debug(msg, ...) log_write(LOG_LEVEL_DEBUG, msg, __VA_ARGS__)
#define log_info(msg, ...) log_write(LOG_LEVEL_INFO, msg, __VA_ARGS__)
#define log_warn(msg, ...) log_write(LOG_LEVEL_WARN, msg, __VA_ARGS__)
#define log_error(msg, ...) log_write(LOG_LEVEL_ERROR, msg, __VA_ARGS__)

#endif
