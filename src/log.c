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
#define LOG_SECRET_PREFIX 6 /* a piece of a secret this long is masked too */

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

/* Mask, wherever it starts in text, the longest run that equals a prefix of
 * secret of at least LOG_SECRET_PREFIX bytes (the whole secret when it is
 * shorter): a message cut in the middle of a key shows none of it. */
static void redact_one(char *text, size_t len, const char *secret, size_t n)
{
	size_t min = n < LOG_SECRET_PREFIX ? n : LOG_SECRET_PREFIX;
	for (char *p = text; (size_t)(p - text) + min <= len;) {
		char *hit = memmem(p, len - (size_t)(p - text), secret, min);
		if (!hit)
			break;
		size_t k = min, room = len - (size_t)(hit - text);
		while (k < n && k < room && hit[k] == secret[k])
			k++;
		memset(hit, '*', k);
		p = hit + k;
	}
}

void log_redact(char *text, size_t len)
{
	for (int i = 0; i < g_nsecrets; i++) {
		size_t n = strlen(g_secrets[i]);
		if (n < LOG_SECRET_MIN)
			continue; /* emptied since (a wiped token): nothing to find, and memmem would loop */
		redact_one(text, len, g_secrets[i], n);
		const char *sig = strrchr(g_secrets[i], '.'); /* a JWT's signature, alone */
		if (sig && strlen(sig + 1) >= LOG_SECRET_PREFIX)
			redact_one(text, len, sig + 1, strlen(sig + 1));
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
	log_redact(line, len);
	/* one message, one line, and no terminal escapes: controls written as \xHH */
	static const char hex[] = "0123456789abcdef";
	char out[LOG_LINE_MAX * 4 + 2];
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c == '\n' || c == '\r') {
			out[o++] = ' ';
		} else if ((c < 0x20 && c != '\t') || c == 0x7F) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o++] = '\n';
	write_all(2, out, o);
}
