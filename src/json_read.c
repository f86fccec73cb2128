/* json_read — the reader of json.h: validator, document, getters; the one
 * file that includes jsmn. Relies on jsmn 1.1.0 (non-strict mode is enough:
 * our own validator has already refused everything jsmn would let through). */
#include "json.h"

#include "hex.h"
#include "json_plain.h"
#include "text.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JSMN_STATIC
#define JSMN_PARENT_LINKS
#include "jsmn.h"

/* json_plain.h: the table both halves scan strings with. */
const unsigned char json_plain[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 controls */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20 " */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x30 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x50 backslash */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, /* 0x70 DEL */
	/* 0x80-0xFF: UTF-8, checked sequence by sequence */
};

/* ---- validator ---- */

struct vstate {
	const unsigned char *s;
	size_t n, i;
	size_t err_pos;
	int repair; /* accept bad UTF-8, raw controls and unpaired surrogates inside strings */
	int dirty;  /* ... and some string held them */
};

static int fail_at(struct vstate *v, size_t pos, int err)
{
	v->err_pos = pos;
	return err;
}

/* Four hex digits at s[i..i+4) of n; -1 if short or not hex. */
static long hex4(const unsigned char *s, size_t n, size_t i)
{
	if (n - i < 4)
		return -1;
	long v = 0;
	for (int k = 0; k < 4; k++) {
		int h = hex_value(s[i + (size_t)k]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/* A string starting at the opening quote v->i; leaves v->i after the close. */
static int scan_string(struct vstate *v)
{
	const unsigned char *s = v->s;
	size_t n = v->n, i = v->i + 1;
	while (i < n) {
		i += json_plain_run(s + i, n - i);
		if (i == n)
			break;
		unsigned char c = s[i];
		if (c == 0x7F) {
			i++;
			continue;
		}
		if (c == '"') {
			v->i = i + 1;
			return 0;
		}
		if (c < 0x20) {
			if (!v->repair)
				return fail_at(v, i, JSON_E_STRING);
			v->dirty = 1; /* a raw control: read as U+FFFD, like a bad byte */
			i++;
			continue;
		}
		if (c == '\\') {
			if (i + 1 >= n)
				return fail_at(v, i, JSON_E_STRING);
			unsigned char e = s[i + 1];
			if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' ||
			    e == 't') {
				i += 2;
				continue;
			}
			if (e != 'u')
				return fail_at(v, i, JSON_E_STRING);
			long u = hex4(s, n, i + 2);
			if (u < 0)
				return fail_at(v, i, JSON_E_STRING);
			i += 6;
			if (u >= 0xDC00 && u <= 0xDFFF) { /* low half first */
				if (!v->repair)
					return fail_at(v, i - 6, JSON_E_SURROGATE);
				v->dirty = 1;
			} else if (u >= 0xD800 && u <= 0xDBFF) {
				long lo = n - i >= 6 && s[i] == '\\' && s[i + 1] == 'u' ? hex4(s, n, i + 2) : -2;
				if (lo == -1)
					return fail_at(v, i, JSON_E_STRING);
				if (lo >= 0xDC00 && lo <= 0xDFFF) {
					i += 6;
				} else if (!v->repair) {
					return fail_at(v, i - 6, JSON_E_SURROGATE);
				} else {
					v->dirty = 1; /* a lone high half; what follows is read on its own */
				}
			}
			continue;
		}
		if (c >= 0x80) {
			size_t k = text_utf8_seq(s, n, i);
			if (!k) {
				if (!v->repair)
					return fail_at(v, i, JSON_E_UTF8);
				v->dirty = 1;
				k = 1;
			}
			i += k;
			continue;
		}
		i++;
	}
	return fail_at(v, v->i, JSON_E_STRING); /* unterminated */
}

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? starting at v->i. */
static int scan_number(struct vstate *v)
{
	const unsigned char *s = v->s;
	size_t n = v->n, i = v->i, start = v->i;
	if (s[i] == '-')
		i++;
	if (i >= n || !is_digit(s[i]))
		return fail_at(v, start, JSON_E_NUMBER);
	if (s[i] == '0') {
		i++;
		if (i < n && is_digit(s[i]))
			return fail_at(v, start, JSON_E_NUMBER); /* leading zero */
	} else {
		while (i < n && is_digit(s[i]))
			i++;
	}
	if (i < n && s[i] == '.') {
		i++;
		if (i >= n || !is_digit(s[i]))
			return fail_at(v, start, JSON_E_NUMBER);
		while (i < n && is_digit(s[i]))
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || !is_digit(s[i]))
			return fail_at(v, start, JSON_E_NUMBER);
		while (i < n && is_digit(s[i]))
			i++;
	}
	v->i = i;
	return 0;
}

static int scan_literal(struct vstate *v, const char *word)
{
	size_t k = strlen(word);
	if (v->n - v->i < k || memcmp(v->s + v->i, word, k) != 0)
		return fail_at(v, v->i, JSON_E_SYNTAX);
	v->i += k;
	return 0;
}

enum expect { E_VALUE, E_VALUE_OR_END, E_KEY, E_KEY_OR_END, E_COLON, E_COMMA_OR_END, E_DONE };

/* The whole grammar, iteratively (no recursion: depth is data). Counts the
 * tokens jsmn will make: one per value and one per member key. */
static int validate(struct vstate *v, int max_tokens, int *ntok)
{
	unsigned char stack[LIMIT_JSON_DEPTH];
	int depth = 0, tokens = 0, r;
	enum expect want = E_VALUE;
	const unsigned char *s = v->s;
	for (;;) {
		while (v->i < v->n && (s[v->i] == ' ' || s[v->i] == '\t' || s[v->i] == '\n' || s[v->i] == '\r'))
			v->i++;
		if (v->i == v->n) {
			if (want == E_DONE) {
				*ntok = tokens;
				return 0;
			}
			return fail_at(v, v->i, tokens ? JSON_E_SYNTAX : JSON_E_EMPTY);
		}
		unsigned char c = s[v->i];
		switch (want) {
		case E_DONE:
			return fail_at(v, v->i, JSON_E_SYNTAX); /* trailing bytes */
		case E_COLON:
			if (c != ':')
				return fail_at(v, v->i, JSON_E_SYNTAX);
			v->i++;
			want = E_VALUE;
			continue;
		case E_KEY_OR_END:
		case E_KEY:
			if (c == '}' && want == E_KEY_OR_END) {
				v->i++;
				depth--;
				break; /* a value ended */
			}
			if (c != '"')
				return fail_at(v, v->i, JSON_E_SYNTAX);
			if (++tokens > max_tokens)
				return fail_at(v, v->i, JSON_E_TOKENS);
			if ((r = scan_string(v)) < 0)
				return r;
			want = E_COLON;
			continue;
		case E_COMMA_OR_END: {
			unsigned char top = stack[depth - 1];
			if (c == ',') {
				v->i++;
				want = top == '{' ? E_KEY : E_VALUE;
				continue;
			}
			if ((c == '}' && top == '{') || (c == ']' && top == '[')) {
				v->i++;
				depth--;
				break;
			}
			return fail_at(v, v->i, JSON_E_SYNTAX);
		}
		case E_VALUE_OR_END:
			if (c == ']') {
				v->i++;
				depth--;
				break;
			}
			/* fall through */
		case E_VALUE:
			if (++tokens > max_tokens)
				return fail_at(v, v->i, JSON_E_TOKENS);
			if (c == '{' || c == '[') {
				if (depth == LIMIT_JSON_DEPTH)
					return fail_at(v, v->i, JSON_E_DEPTH);
				stack[depth++] = c;
				v->i++;
				want = c == '{' ? E_KEY_OR_END : E_VALUE_OR_END;
				continue;
			}
			if (c == '"')
				r = scan_string(v);
			else if (c == '-' || is_digit(c))
				r = scan_number(v);
			else if (c == 't')
				r = scan_literal(v, "true");
			else if (c == 'f')
				r = scan_literal(v, "false");
			else if (c == 'n')
				r = scan_literal(v, "null");
			else
				r = fail_at(v, v->i, c >= 0x80 ? JSON_E_UTF8 : JSON_E_SYNTAX);
			if (r < 0)
				return r;
			break;
		}
		/* a value (scalar or container) just ended */
		want = depth == 0 ? E_DONE : E_COMMA_OR_END;
	}
}

/* ---- document ---- */

#define TOK(d) ((jsmntok_t *)(d)->tok_)

int json_doc_init(struct json_doc *d, int max_tokens)
{
	memset(d, 0, sizeof *d);
	if (max_tokens < 1)
		max_tokens = 1;
	d->tok_ = calloc((size_t)max_tokens, sizeof(jsmntok_t));
	if (!d->tok_)
		return JSON_E_NOMEM;
	d->cap = max_tokens;
	return 0;
}

void json_doc_free(struct json_doc *d)
{
	free(d->tok_);
	memset(d, 0, sizeof *d);
}

static int parse(struct json_doc *d, const char *buf, size_t len, int repair)
{
	d->buf = buf;
	d->len = len;
	d->ntok = 0;
	d->err_pos = 0;
	d->dirty = 0;
	if (len > INT_MAX)
		return JSON_E_TOO_LONG;
	struct vstate v = {(const unsigned char *)buf, len, 0, 0, repair, 0};
	int ntok = 0;
	int r = validate(&v, d->cap, &ntok);
	if (r < 0) {
		d->err_pos = v.err_pos;
		return r;
	}
	d->dirty = v.dirty;
	jsmn_parser p;
	jsmn_init(&p);
	r = jsmn_parse(&p, buf, len, TOK(d), (unsigned)d->cap);
	if (r != ntok) /* cannot happen after validation; refuse rather than trust it */
		return JSON_E_SYNTAX;
	d->ntok = ntok;
	return 0;
}

int json_parse(struct json_doc *d, const char *buf, size_t len)
{
	return parse(d, buf, len, 0);
}

int json_parse_repair(struct json_doc *d, const char *buf, size_t len)
{
	return parse(d, buf, len, 1);
}

const char *json_strerror(int err)
{
	switch (err) {
	case JSON_OK: return "no error";
	case JSON_E_SYNTAX: return "invalid JSON syntax";
	case JSON_E_NUMBER: return "malformed number";
	case JSON_E_STRING: return "invalid string (bad escape, control character or missing quote)";
	case JSON_E_SURROGATE: return "unpaired UTF-16 surrogate in a \\u escape";
	case JSON_E_UTF8: return "invalid UTF-8";
	case JSON_E_DEPTH: return "nested too deeply";
	case JSON_E_TOKENS: return "too many values";
	case JSON_E_TOO_LONG: return "text too long";
	case JSON_E_NOMEM: return "out of memory";
	case JSON_E_TYPE: return "wrong type";
	case JSON_E_NOT_INT: return "not an integer";
	case JSON_E_RANGE: return "integer out of range";
	case JSON_E_SPACE: return "buffer too small";
	case JSON_E_EMPTY: return "no JSON value";
	}
	return "unknown error";
}

static const jsmntok_t *tok(const struct json_doc *d, int t)
{
	if (t < 0 || t >= d->ntok)
		return NULL;
	return &TOK(d)[t];
}

enum json_type json_type(const struct json_doc *d, int t)
{
	const jsmntok_t *k = tok(d, t);
	if (!k)
		return JSON_NONE;
	switch (k->type) {
	case JSMN_OBJECT: return JSON_OBJECT;
	case JSMN_ARRAY: return JSON_ARRAY;
	case JSMN_STRING: return JSON_STRING;
	case JSMN_PRIMITIVE:
		switch (d->buf[k->start]) {
		case 't': return JSON_TRUE;
		case 'f': return JSON_FALSE;
		case 'n': return JSON_NULL;
		default: return JSON_NUMBER;
		}
	default: return JSON_NONE;
	}
}

int json_count(const struct json_doc *d, int t)
{
	const jsmntok_t *k = tok(d, t);
	return k && (k->type == JSMN_OBJECT || k->type == JSMN_ARRAY) ? k->size : 0;
}

/* Tokens are in document order, so a subtree is the run of tokens that start
 * before its end. A string token's end is its closing quote, which no later
 * token starts before.
 * Recursion, one level: from a member key to its value, which is never a key.
 * NOLINTNEXTLINE(misc-no-recursion) */
int json_skip(const struct json_doc *d, int t)
{
	const jsmntok_t *k = tok(d, t);
	if (!k)
		return -1;
	if (k->type == JSMN_STRING && k->size == 1) /* a member key: skip its value too */
		return json_skip(d, t + 1);
	int lo = t + 1, hi = d->ntok; /* the first token starting at k->end or later is in [lo, hi] */
	if (k->type != JSMN_OBJECT && k->type != JSMN_ARRAY)
		return lo;
	const jsmntok_t *all = TOK(d);
	/* Starts grow in document order: a binary search, not a walk over a
	 * big subtree for every member skipped (json_get, json_next). */
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (all[mid].start < k->end)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int json_first(const struct json_doc *d, int t)
{
	return json_count(d, t) > 0 ? t + 1 : -1;
}

int json_next(const struct json_doc *d, int t)
{
	const jsmntok_t *k = tok(d, t);
	if (!k || k->parent < 0)
		return -1;
	int j = json_skip(d, t);
	if (j >= d->ntok || TOK(d)[j].parent != k->parent)
		return -1;
	return j;
}

int json_value(const struct json_doc *d, int key)
{
	const jsmntok_t *k = tok(d, key);
	if (!k || k->type != JSMN_STRING || k->size != 1 || key + 1 >= d->ntok)
		return -1;
	return key + 1;
}

const char *json_raw(const struct json_doc *d, int t, size_t *len)
{
	const jsmntok_t *k = tok(d, t);
	if (!k) {
		*len = 0;
		return NULL;
	}
	int start = k->start, end = k->end;
	if (k->type == JSMN_STRING) { /* jsmn leaves the quotes out */
		start--;
		end++;
	}
	*len = (size_t)(end - start);
	return d->buf + start;
}

const char *json_str_raw(const struct json_doc *d, int t, size_t *len)
{
	const jsmntok_t *k = tok(d, t);
	if (!k || k->type != JSMN_STRING) {
		*len = 0;
		return NULL;
	}
	*len = (size_t)(k->end - k->start);
	return d->buf + k->start;
}

static size_t utf8_put(uint32_t cp, unsigned char *o)
{
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xC0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xE0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (unsigned char)(0xF0 | (cp >> 18));
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/* U+FFFD, which stands for a piece of text that was not valid UTF-8 */
static size_t put_fffd(unsigned char *o)
{
	o[0] = 0xEF;
	o[1] = 0xBF;
	o[2] = 0xBD;
	return 3;
}

/* Decode the next character of a validated string body p[0..end) at *pp into
 * out (1-4 bytes: a raw UTF-8 sequence is kept whole), advancing *pp. What a
 * repairing parse let through becomes U+FFFD: each invalid byte, each raw
 * control byte, each \u escape of an unpaired surrogate. */
static size_t next_char(const char **pp, const char *end, unsigned char out[4])
{
	const unsigned char *p = (const unsigned char *)*pp;
	size_t left = (size_t)(end - *pp);
	if (p[0] != '\\') {
		size_t k = p[0] < 0x20 ? 0 : p[0] < 0x80 ? 1 : text_utf8_seq(p, left, 0);
		*pp += k ? k : 1;
		if (!k)
			return put_fffd(out);
		memcpy(out, p, k);
		return k;
	}
	unsigned char c;
	switch (p[1]) {
	case 'b': c = '\b'; break;
	case 'f': c = '\f'; break;
	case 'n': c = '\n'; break;
	case 'r': c = '\r'; break;
	case 't': c = '\t'; break;
	case 'u': {
		uint32_t cp = (uint32_t)hex4(p, 6, 2);
		*pp += 6;
		if (cp >= 0xDC00 && cp <= 0xDFFF)
			return put_fffd(out);
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			long lo = left >= 12 && p[6] == '\\' && p[7] == 'u' ? hex4(p + 6, 6, 2) : -1;
			if (lo < 0xDC00 || lo > 0xDFFF)
				return put_fffd(out);
			cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
			*pp += 6;
		}
		return utf8_put(cp, out);
	}
	default: c = p[1]; break; /* " \ / */
	}
	out[0] = c;
	*pp += 2;
	return 1;
}

size_t json_strlen(const struct json_doc *d, int t)
{
	size_t n;
	const char *p = json_str_raw(d, t, &n);
	if (!p)
		return 0;
	if (!d->dirty && !memchr(p, '\\', n)) /* nothing escaped: as many bytes as raw */
		return n;
	const char *end = p + n;
	size_t total = 0;
	unsigned char tmp[4];
	while (p < end)
		total += next_char(&p, end, tmp);
	return total;
}

int json_unescape(const struct json_doc *d, int t, char *out, size_t cap, size_t *len)
{
	size_t n;
	const char *p = json_str_raw(d, t, &n);
	if (!p)
		return JSON_E_TYPE;
	if (!d->dirty && !memchr(p, '\\', n)) { /* nothing escaped: a copy */
		if (n >= cap)
			return JSON_E_SPACE;
		memcpy(out, p, n);
		out[n] = 0;
		if (len)
			*len = n;
		return 0;
	}
	const char *end = p + n;
	size_t o = 0;
	unsigned char tmp[4];
	while (p < end) {
		size_t k = next_char(&p, end, tmp);
		if (cap < 1 || o + k > cap - 1)
			return JSON_E_SPACE;
		memcpy(out + o, tmp, k);
		o += k;
	}
	if (cap < 1)
		return JSON_E_SPACE;
	out[o] = 0;
	if (len)
		*len = o;
	return 0;
}

size_t json_unescape_prefix(const struct json_doc *d, int t, char *out, size_t cap)
{
	size_t n, o = 0;
	const char *p = json_str_raw(d, t, &n);
	if (p) {
		const char *end = p + n;
		unsigned char tmp[4];
		while (p < end) {
			const char *q = p;
			size_t k = next_char(&q, end, tmp); /* a whole character */
			if (o + k > cap - 1)
				break;
			memcpy(out + o, tmp, k);
			o += k;
			p = q;
		}
	}
	out[o] = 0;
	return o;
}

int json_streqn(const struct json_doc *d, int t, const char *s, size_t n)
{
	size_t rn;
	const char *p = json_str_raw(d, t, &rn);
	if (!p)
		return 0;
	if (!d->dirty && !memchr(p, '\\', rn)) /* the common case: nothing to unescape */
		return rn == n && memcmp(p, s, n) == 0;
	const char *end = p + rn;
	size_t o = 0;
	unsigned char tmp[4];
	while (p < end) {
		size_t k = next_char(&p, end, tmp);
		if (o + k > n || memcmp(s + o, tmp, k) != 0)
			return 0;
		o += k;
	}
	return o == n;
}

/* Whether s[0..n) holds a backslash; for keys, which are short. */
static int has_backslash(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\\')
			return 1;
	return 0;
}

int json_getn(const struct json_doc *d, int obj, const char *key, size_t keylen)
{
	if (json_type(d, obj) != JSON_OBJECT)
		return -1;
	const jsmntok_t *all = TOK(d);
	int found = -1, k = obj + 1;
	for (int m = 0; m < all[obj].size && k >= 0 && k + 1 < d->ntok; m++) {
		const char *raw = d->buf + all[k].start;
		size_t rn = (size_t)(all[k].end - all[k].start);
		/* Raw bytes equal to the key match unless they hold an escape (then
		 * so does the key). An escaped key is longer raw than unescaped and
		 * starts with the key's first byte or a backslash; a shorter one
		 * cannot match. */
		int hit;
		if (d->dirty) /* repaired text is longer than its raw bytes */
			hit = json_streqn(d, k, key, keylen);
		else if (rn == keylen)
			hit = memcmp(raw, key, keylen) == 0 &&
			      (!has_backslash(key, keylen) || json_streqn(d, k, key, keylen));
		else
			hit = rn > keylen && keylen && (raw[0] == key[0] || raw[0] == '\\') &&
			      memchr(raw, '\\', rn) && json_streqn(d, k, key, keylen);
		if (hit)
			found = k + 1; /* the last of duplicate keys wins */
		int t = all[k + 1].type; /* the value: a scalar is one token */
		k = t == JSMN_OBJECT || t == JSMN_ARRAY ? json_skip(d, k + 1) : k + 2;
	}
	return found;
}

int json_is_plain_int(const struct json_doc *d, int t)
{
	if (json_type(d, t) != JSON_NUMBER)
		return 0;
	size_t n;
	const char *p = json_raw(d, t, &n);
	for (size_t i = 0; i < n; i++)
		if (p[i] == '.' || p[i] == 'e' || p[i] == 'E')
			return 0;
	return 1;
}

/* Exact: value = digits × 10^exp10, decided on the decimal digits alone. */
int json_int(const struct json_doc *d, int t, int64_t *out)
{
	if (json_type(d, t) != JSON_NUMBER)
		return JSON_E_TYPE;
	size_t n;
	const char *p = json_raw(d, t, &n), *end = p + n;
	int neg = 0;
	if (*p == '-') {
		neg = 1;
		p++;
	}
	/* the significant digits are int part then fraction part */
	const char *ip = p;
	while (p < end && is_digit((unsigned char)*p))
		p++;
	const char *ip_end = p, *fp = p, *fp_end = p;
	if (p < end && *p == '.') {
		fp = ++p;
		while (p < end && is_digit((unsigned char)*p))
			p++;
		fp_end = p;
	}
	long long exp10 = 0; /* clamped: beyond ±10^9 the answer no longer changes */
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		int eneg = 0;
		if (*p == '+' || *p == '-')
			eneg = *p++ == '-';
		while (p < end) {
			if (exp10 < 1000000000LL)
				exp10 = exp10 * 10 + (*p - '0');
			p++;
		}
		if (eneg)
			exp10 = -exp10;
	}
	exp10 -= (long long)(fp_end - fp);
	/* digit k of the concatenation int||frac */
	size_t nint = (size_t)(ip_end - ip), ndig = nint + (size_t)(fp_end - fp);
#define DIG(k) ((k) < nint ? ip[(k)] : fp[(k) - nint])
	size_t first = 0, last = ndig; /* [first, last) after trimming zeros */
	while (first < ndig && DIG(first) == '0')
		first++;
	if (first == ndig) {
		*out = 0;
		return 0;
	}
	while (DIG(last - 1) == '0') {
		last--;
		exp10++;
	}
	if (exp10 < 0)
		return JSON_E_NOT_INT;
	if ((long long)(last - first) + exp10 > 19)
		return JSON_E_RANGE;
	uint64_t v = 0;
	for (size_t k = first; k < last; k++)
		v = v * 10 + (uint64_t)(DIG(k) - '0'); /* at most 19 digits: fits */
#undef DIG
	for (long long e = 0; e < exp10; e++) {
		if (v > UINT64_MAX / 10)
			return JSON_E_RANGE;
		v *= 10;
	}
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			return JSON_E_RANGE;
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	} else {
		if (v > (uint64_t)INT64_MAX)
			return JSON_E_RANGE;
		*out = (int64_t)v;
	}
	return 0;
}
