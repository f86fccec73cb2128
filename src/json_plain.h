/*
 * json_plain — what the JSON reader (json_read.c) and writer (json_write.c)
 * share: the bytes that stand for themselves inside a JSON string, and the
 * scan over a run of them. Private to the two; pure.
 */
#ifndef KLING_JSON_PLAIN_H
#define KLING_JSON_PLAIN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Bytes that stand for themselves inside a JSON string, read or written:
 * printable ASCII but the quote and the backslash (DEL is escaped on output,
 * so it is not plain). Scanning runs of them is the hot loop of parsing and
 * of writing. */
extern const unsigned char json_plain[256]; /* defined in json_read.c */

/* Nonzero when one of the 8 bytes packed in x is not plain: below 0x20,
 * 0x7F or above, '"' or '\\' (the exact complement of json_plain). */
static inline __attribute__((always_inline)) uint64_t json_swar_special(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
	uint64_t below20 = (x - ones * 0x20) & ~x & high;
	uint64_t above7e = ((x + ones * (127 - 0x7E)) | x) & high;
	uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
	return below20 | above7e | ((q - ones) & ~q & high) | ((b - ones) & ~b & high);
}

/* Length of the run of plain bytes (json_plain) at the start of s[0..n),
 * eight at a time while it lasts. */
static inline __attribute__((always_inline)) size_t json_plain_run(const unsigned char *s, size_t n)
{
	size_t i = 0;
	for (; n - i >= 8; i += 8) {
		uint64_t x;
		memcpy(&x, s + i, 8);
		if (json_swar_special(x))
			break;
	}
	while (i < n && json_plain[s[i]])
		i++;
	return i;
}

#endif
