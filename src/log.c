/* log — see log.h. */
#include "log.h"

#include "all_limits.h"
#include "text.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_LINE_MAX 2048
#define LOG_SECRETS_MAX 8
#define LOG_SECRET_MIN 4
#define LOG_SECRET_PREFIX 6 /* a piece of a secret this long that starts it is masked too */
#define LOG_FORM_MAX 6144  /* one form of one secret (a 2 KiB key URL-encoded) */

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

/* ---- every piece of LIMIT_SECRET_PIECE bytes, in every form ----
 * The table holds each LIMIT_SECRET_PIECE-byte window of each form of each
 * secret, sorted. A text's bytes are masked when they lie in a window of the
 * text found in the table: the union of those windows is exactly the set of
 * pieces of LIMIT_SECRET_PIECE bytes or more shared with a secret, found in
 * one pass of one table look-up per byte (a first-byte bitmap skips most). It
 * is rebuilt when a secret changes (the cached JWT is rewritten in place). */
static uint64_t g_pieces[LIMIT_SECRET_PIECES];
static size_t g_npieces;
static uint64_t g_first[4];  /* bitmap of the pieces' first bytes */
static uint64_t g_sum = 1;   /* of the secrets the table was built from (1: never built) */

static uint64_t piece_at(const char *p)
{
	uint64_t x;
	memcpy(&x, p, sizeof x);
	return x;
}

static void add_form(const char *f, size_t n)
{
	for (size_t i = 0; i + LIMIT_SECRET_PIECE <= n && g_npieces < LIMIT_SECRET_PIECES; i++) {
		g_pieces[g_npieces++] = piece_at(f + i);
		g_first[(unsigned char)f[i] >> 6] |= UINT64_C(1) << ((unsigned char)f[i] & 63);
	}
}

/* Form `kind` of s: 0 raw, 1 JSON-escaped, 2 JSON-escaped with \/, 3 and 4
 * URL-encoded (%XX upper and lower case). Returns its length (0: too long). */
static size_t form(const char *s, int kind, char *out, size_t cap)
{
	static const char up[] = "0123456789ABCDEF", lo[] = "0123456789abcdef";
	size_t o = 0;
	for (; *s && o + 3 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		int url = kind >= 3, unreserved = ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
						    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
		int json_esc = c == '"' || c == '\\' || (c == '/' && kind == 2);
		if (kind == 0 || (!url && !json_esc) || (url && unreserved)) {
			out[o++] = (char)c;
		} else if (!url) {
			out[o++] = '\\', out[o++] = (char)c;
		} else {
			const char *h = kind == 3 ? up : lo;
			out[o++] = '%', out[o++] = h[c >> 4], out[o++] = h[c & 15];
		}
	}
	return *s ? 0 : o;
}

static int cmp_piece(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* A checksum of the registered secrets' current bytes (FNV-1a). */
static uint64_t secrets_sum(void)
{
	uint64_t h = UINT64_C(14695981039346656037);
	for (int i = 0; i < g_nsecrets; i++)
		for (const unsigned char *p = (const unsigned char *)g_secrets[i];; p++) {
			h = (h ^ *p) * UINT64_C(1099511628211);
			if (!*p)
				break;
		}
	return h;
}

static void build_pieces(void)
{
	static char buf[LOG_FORM_MAX];
	g_npieces = 0;
	memset(g_first, 0, sizeof g_first);
	for (int kind = 0; kind <= 4; kind++) /* the raw forms first: they matter most */
		for (int i = 0; i < g_nsecrets; i++) {
			size_t n = form(g_secrets[i], kind, buf, sizeof buf);
			if (kind == 0 || n != strlen(g_secrets[i]) || memcmp(buf, g_secrets[i], n) != 0)
				add_form(buf, n);
		}
	explicit_bzero(buf, sizeof buf);
	qsort(g_pieces, g_npieces, sizeof *g_pieces, cmp_piece);
}

static int is_piece(const char *p)
{
	unsigned char c = (unsigned char)*p;
	if (!(g_first[c >> 6] >> (c & 63) & 1))
		return 0;
	uint64_t x = piece_at(p);
	return bsearch(&x, g_pieces, g_npieces, sizeof *g_pieces, cmp_piece) != NULL;
}

/* Mask every byte of text that lies in a piece of a secret. Byte i can be
 * overwritten once the last window holding it (the one starting at i) has
 * been looked up, so one pass does it in place. */
static void mask_pieces(char *text, size_t len)
{
	uint64_t sum = secrets_sum();
	if (sum != g_sum) {
		build_pieces();
		g_sum = sum;
	}
	size_t until = 0;
	for (size_t i = 0; i < len; i++) {
		if (i + LIMIT_SECRET_PIECE <= len && is_piece(text + i))
			until = i + LIMIT_SECRET_PIECE;
		if (i < until)
			text[i] = '*';
	}
}

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
	mask_pieces(text, len); /* first: it must see the text as it came */
	for (int i = 0; i < g_nsecrets; i++) {
		size_t n = strlen(g_secrets[i]);
		if (n < LOG_SECRET_MIN)
			continue; /* emptied since (a wiped token): nothing to find, and memmem would loop */
		redact_one(text, len, g_secrets[i], n);
		const char *sig = strrchr(g_secrets[i], '.'); /* a JWT's signature, cut short */
		if (sig && strlen(sig + 1) >= LOG_SECRET_PREFIX)
			redact_one(text, len, sig + 1, strlen(sig + 1));
	}
}

void log_redact_whole(char *text, size_t len)
{
	mask_pieces(text, len);
	for (int i = 0; i < g_nsecrets; i++) {
		size_t n = strlen(g_secrets[i]);
		if (n >= LOG_SECRET_MIN && n < LIMIT_SECRET_PIECE)
			redact_one(text, len, g_secrets[i], n); /* whole only: min is n */
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
	/* one message, one line (CR and LF become spaces), and text.h's rule */
	for (size_t i = 0; i < len; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	char out[LOG_LINE_MAX * TEXT_REP_MAX + 2];
	size_t o = text_clean(line, len, out, sizeof out - 1);
	out[o++] = '\n';
	write_all(2, out, o);
}
