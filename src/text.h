/*
 * text — the one rule for what text a person or a client may be shown, and
 * UTF-8 validation. Pure.
 *
 * Shown as it is: valid UTF-8 but the characters below. Never shown: C0
 * controls other than newline and tab (U+0000–U+001F), DEL (U+007F) and C1
 * controls (U+0080–U+009F, which terminals obey as CSI, OSC... like ESC
 * sequences): each is replaced by the six characters \u00XX naming its code
 * point (so ESC reads \u001b: what was there stays visible, and nothing is
 * obeyed). A byte that is not part of valid UTF-8 is replaced by U+FFFD (a
 * raw 0x9B byte is CSI to a terminal set to Latin-1).
 *
 * The JSON writer applies the rule to every string it writes (tool text,
 * structuredContent, protocol errors, progress), the log to every line, and
 * `--check` to every line it prints; `call` prints the writer's text.
 */
#ifndef KLING_TEXT_H
#define KLING_TEXT_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence starting at s[i] of s[0..n) (lead byte
 * >= 0x80), or 0 if invalid (RFC 3629: no overlongs, no surrogates, <=
 * U+10FFFF). Inline: it is in the JSON reader's and writer's loops. */
static inline size_t text_utf8_seq(const unsigned char *s, size_t n, size_t i)
{
	unsigned char c = s[i];
	size_t need;
	unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		if (c == 0xE0)
			lo = 0xA0; /* overlong below U+0800 */
		else if (c == 0xED)
			hi = 0x9F; /* U+D800..DFFF are surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		if (c == 0xF0)
			lo = 0x90; /* overlong below U+10000 */
		else if (c == 0xF4)
			hi = 0x8F; /* above U+10FFFF */
	} else {
		return 0; /* continuation byte, C0/C1 overlong lead, F5..FF */
	}
	if (n - i - 1 < need)
		return 0;
	if (s[i + 1] < lo || s[i + 1] > hi)
		return 0;
	for (size_t k = 2; k <= need; k++)
		if ((s[i + k] & 0xC0) != 0x80)
			return 0;
	return need + 1;
}

#define TEXT_REP_MAX 6 /* the longest replacement: \u009b */

/* The character at s[i] of s[0..n): returns its length in bytes (>= 1) and
 * sets *replen to 0 when it may be shown, or writes its replacement to rep
 * (*replen bytes, not NUL-terminated) when the rule above says it may not. */
size_t text_char(const unsigned char *s, size_t n, size_t i, char rep[TEXT_REP_MAX], size_t *replen);

/* in[0..n) with the rule applied, into out[0..cap) NUL-terminated; cut at a
 * whole character or replacement when it does not fit. Returns the length. */
size_t text_clean(const char *in, size_t n, char *out, size_t cap);

/* a[0..an) and b[0..bn) equal when ASCII letters are folded to lower case
 * (every other byte compares exact, whatever the locale): the one
 * case-insensitive compare, for header names, URL schemes, host names and
 * file extensions. */
int text_ieq(const char *a, size_t an, const char *b, size_t bn);

#endif
