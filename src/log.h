/*
 * log — leveled messages to stderr, never to stdout (stdout carries only
 * JSON-RPC). Registered secrets, and every piece of 8 bytes or more of one,
 * are masked with '*' in every message, so a key or token that reaches a log
 * line by accident is still not written; text.h's rule keeps terminal
 * escapes out.
 */
#ifndef KLING_LOG_H
#define KLING_LOG_H

#include <stddef.h>

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* Set the level; messages above it are dropped. Default LOG_WARN. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Parse "error"|"warn"|"info"|"debug" (case-sensitive). Returns 0, or -1. */
int log_parse_level(const char *s, enum log_level *out);

/* Register a secret (NUL-terminated, kept by pointer, must outlive logging)
 * to be masked in all later messages. Up to 8; strings under 4 bytes are
 * ignored (masking them would garble ordinary text), at registration and
 * each time (a registered buffer may be emptied, or rewritten in place, as
 * the cached JWT is); registering the same pointer again is a no-op. */
void log_add_secret(const char *secret);
/* Forget all registered secrets (call before wiping them). */
void log_clear_secrets(void);

/* Overwrite with '*' (same length) every piece of LIMIT_SECRET_PIECE (8)
 * bytes or more of a registered secret found in text[0..len), wherever it
 * starts in the secret and in the text, in the secret's raw, URL-encoded
 * (%XX in either case) and JSON-escaped (\" \\ and \/) forms; also the whole
 * of a shorter secret, and a piece of 6 bytes or more that starts a secret or
 * a JWT's signature (a message cut in the middle of a key). The one masking
 * of the program: log lines, and text that leaves it other than through the
 * log (upstream error messages and task strings that echo a credential). */
void log_redact(char *text, size_t len);

/* The same for a whole string, never cut (a value read from a Kling reply):
 * only pieces of LIMIT_SECRET_PIECE bytes or more (and a whole short secret)
 * are masked. A run of 6 or 7 bytes equal to a secret's start is not: that
 * rule is for a message cut inside a key, and in a whole value it would mask
 * a task id that merely shares a key's first bytes. */
void log_redact_whole(char *text, size_t len);

/* Write one line "kling-mcp: <level>: <message>\n" to stderr if enabled. */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
