/* log — see log.h. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LOG_LINE_MAX 2048
#define LOG_SECRETS_MAX 8
#define LOG_SECRET_MIN 4

static enum log_level g_level = LOG_WARN;
static const char *g_secrets[LOG_SECRETS_MAX];
static int g_nsecrets;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_set_level(enum log_level level) { g_level = level; }
enum log_level log_get_level(void) { return g_level; }

int log_parse_level(const char *s, enum log_level *out)
{
	for (int i = 0; i <= LOG_DEBUG; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void log_add_secret(const char *secret)
{
	for (int i = 0; i < g_nsecrets; i++)
		if (g_secrets[i] == secret)
			return;
	if (secret && strlen(secret) >= LOG_SECRET_MIN && g_nsecrets < LOG_SECRETS_MAX)
		g_secrets[g_nsecrets++] = secret;
}

void log_clear_secrets(void) { g_nsecrets = 0; }

void log_redact(char *text, size_t len)
{
	for (int i = 0; i < g_nsecrets; i++) {
		size_t n = strlen(g_secrets[i]);
		if (n < LOG_SECRET_MIN)
			continue; /* emptied since (a wiped token): nothing to find, and memmem would loop */
		for (char *p = text; (size_t)(p - text) + n <= len;) {
			char *hit = memmem(p, len - (size_t)(p - text), g_secrets[i], n);
			if (!hit)
				break;
			memset(hit, '*', n);
			p = hit + n;
		}
	}
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* stderr gone or non-blocking and full: drop the line */
		p += w;
		n -= (size_t)w;
	}
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (level > g_level)
		return;
	char line[LOG_LINE_MAX];
	int h = snprintf(line, sizeof line, "kling-mcp: %s: ", level_names[level]);
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + h, sizeof line - (size_t)h - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	size_t len = (size_t)h + ((size_t)m < sizeof line - (size_t)h - 1 ? (size_t)m : sizeof line - (size_t)h - 2);
	for (size_t i = (size_t)h; i < len; i++) /* one message, one line */
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	log_redact(line, len);
	line[len++] = '\n';
	write_all(2, line, len);
}
