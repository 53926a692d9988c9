#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

static int g_level = LOG_LEVEL_INFO;

void log_set_level(int level)
{
	g_level = level;
}

int log_get_level(void)
{
	return g_level;
}

int log_level_parse(const char *s)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

void log_write(int level, const char *msg, const char *kvfmt, ...)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	if (level < g_level)
		return;
	char line[2048], ts[40];
	util_rfc3339(util_wall_ms(), ts, sizeof(ts));
	int n = snprintf(line, sizeof(line), "ts=%s level=%s msg=\"%s\"", ts, names[level & 3],
			 msg);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(line) - 2 && kvfmt[0] != '\0') {
		line[n++] = ' ';
		va_list ap;
		va_start(ap, kvfmt);
		int m = vsnprintf(line + n, sizeof(line) - (size_t)n, kvfmt, ap);
		va_end(ap);
		if (m > 0)
			n += m;
	}
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	for (int i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20)
			line[i] = '?';
	line[n++] = '\n';
	/* One write per line so lines from concurrent processes never interleave. */
	ssize_t w = write(STDERR_FILENO, line, (size_t)n);
	(void)w;
}
