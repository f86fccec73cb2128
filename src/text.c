/* text — see text.h. */
#include "text.h"

#include <string.h>

size_t text_char(const unsigned char *s, size_t n, size_t i, char rep[TEXT_REP_MAX], size_t *replen)
{
	static const char hexd[] = "0123456789abcdef";
	unsigned char c = s[i];
	unsigned cp;
	size_t k = 1;
	*replen = 0;
	if (c >= 0x80) {
		k = text_utf8_seq(s, n, i);
		if (!k) { /* not UTF-8: U+FFFD for the byte */
			rep[0] = (char)0xEF, rep[1] = (char)0xBF, rep[2] = (char)0xBD;
			*replen = 3;
			return 1;
		}
		if (c != 0xC2 || s[i + 1] > 0x9F)
			return k;
		cp = s[i + 1]; /* C2 80..9F: U+0080..U+009F */
	} else if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F) {
		cp = c;
	} else {
		return 1;
	}
	rep[0] = '\\', rep[1] = 'u', rep[2] = '0', rep[3] = '0';
	rep[4] = hexd[cp >> 4];
	rep[5] = hexd[cp & 15];
	*replen = 6;
	return k;
}

size_t text_clean(const char *in, size_t n, char *out, size_t cap)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0;
	if (!cap)
		return 0;
	for (size_t i = 0; i < n;) {
		char rep[TEXT_REP_MAX] = {0};
		size_t rn, k = text_char(s, n, i, rep, &rn);
		const char *src = rn ? rep : in + i;
		size_t m = rn ? rn : k;
		if (o + m > cap - 1)
			break;
		memcpy(out + o, src, m);
		o += m;
		i += k;
	}
	out[o] = 0;
	return o;
}

static int lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

int text_ieq(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return 0;
	for (size_t i = 0; i < an; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return 0;
	return 1;
}
