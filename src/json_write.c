/* json_write — the writer of json.h (struct json_w). */
#include "json.h"

#include "json_plain.h"
#include "text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void json_w_init(struct json_w *w, size_t max)
{
	memset(w, 0, sizeof *w);
	buf_init(&w->b, max);
}

void json_w_init_fixed(struct json_w *w, char *mem, size_t cap)
{
	memset(w, 0, sizeof *w);
	w->b.p = mem;
	w->b.cap = w->b.max = cap;
	w->fixed = 1;
}

void json_w_reset(struct json_w *w)
{
	struct buf b = w->b;
	int fixed = w->fixed;
	memset(w, 0, sizeof *w);
	w->b = b;
	w->b.len = 0;
	w->fixed = fixed;
}

void json_w_free(struct json_w *w)
{
	if (!w->fixed)
		buf_free(&w->b);
	json_w_reset(w);
}

int json_w_error(const struct json_w *w)
{
	if (w->err)
		return w->err;
	return w->done && !w->depth && !w->in_str ? 0 : JSON_W_E_STATE;
}

const char *json_w_data(const struct json_w *w, size_t *len)
{
	*len = w->b.len;
	return w->b.p;
}

/* Grow the buffer for n more bytes (reserve's slow path). */
static int grow(struct json_w *w, size_t n)
{
	int r = w->fixed ? BUF_E_MAX : buf_grow(&w->b, n);
	if (r < 0)
		w->err = r == BUF_E_MAX ? JSON_W_E_FULL : JSON_W_E_NOMEM;
	return r < 0 ? -1 : 0;
}

/* Room for n more bytes: 0, or -1 with the error kept. */
static inline __attribute__((always_inline)) int reserve(struct json_w *w, size_t n)
{
	if (w->err)
		return -1;
	return n <= w->b.cap - w->b.len ? 0 : grow(w, n);
}

static inline __attribute__((always_inline)) void put(struct json_w *w, const char *s, size_t n)
{
	if (reserve(w, n) < 0)
		return;
	memcpy(w->b.p + w->b.len, s, n);
	w->b.len += n;
}

static inline __attribute__((always_inline)) void putc_(struct json_w *w, char c)
{
	if (reserve(w, 1) == 0)
		w->b.p[w->b.len++] = c;
}

static void misuse(struct json_w *w)
{
	if (!w->err)
		w->err = JSON_W_E_STATE;
}

/* Before a value: the comma, and checks that a value may come here. */
static int before_value(struct json_w *w)
{
	if (w->err)
		return -1;
	if (w->in_str) {
		misuse(w);
		return -1;
	}
	if (w->depth == 0) {
		if (w->done) {
			misuse(w);
			return -1;
		}
		return 0;
	}
	int lv = w->depth;
	if (w->kind[lv] == '{') {
		if (w->state[lv] != 2) { /* a value needs its key first */
			misuse(w);
			return -1;
		}
		w->state[lv] = 1;
		return 0;
	}
	if (w->state[lv] == 1)
		putc_(w, ',');
	w->state[lv] = 1;
	return w->err ? -1 : 0;
}

static void after_value(struct json_w *w)
{
	if (w->depth == 0)
		w->done = 1;
}

static void open_(struct json_w *w, char c)
{
	if (before_value(w) < 0)
		return;
	if (w->depth == LIMIT_JSON_DEPTH) {
		misuse(w);
		return;
	}
	putc_(w, c);
	w->depth++;
	w->kind[w->depth] = (unsigned char)c;
	w->state[w->depth] = 0;
}

static void close_(struct json_w *w, char open, char c)
{
	if (w->err)
		return;
	if (w->in_str || w->depth == 0 || w->kind[w->depth] != (unsigned char)open ||
	    w->state[w->depth] == 2) {
		misuse(w);
		return;
	}
	putc_(w, c);
	w->depth--;
	after_value(w);
}

void json_w_obj(struct json_w *w) { open_(w, '{'); }
void json_w_obj_end(struct json_w *w) { close_(w, '{', '}'); }
void json_w_arr(struct json_w *w) { open_(w, '['); }
void json_w_arr_end(struct json_w *w) { close_(w, '[', ']'); }

/* The byte that is not plain at s[i] of s[0..n) (a control, '"', '\\',
 * DEL, or UTF-8), written to w: the quote and the backslash escaped, newline
 * and tab as \n and \t, U+2028/U+2029 as \u escapes (they end a line in
 * JavaScript source), valid UTF-8 as it is, and whatever text.h's rule does not
 * show as its replacement (\u001b as six visible characters, U+FFFD).
 * Returns the bytes consumed. */
static size_t put_special(struct json_w *w, const unsigned char *s, size_t n, size_t i)
{
	unsigned char c = s[i];
	const char *esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n" : c == '\t' ? "\\t" : NULL;
	if (esc) {
		put(w, esc, 2);
		return 1;
	}
	if (c == 0xE2 && n - i >= 3 && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9)) {
		put(w, s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
		return 3;
	}
	char rep[TEXT_REP_MAX] = {0};
	size_t rn, k = text_char(s, n, i, rep, &rn);
	if (!rn) {
		put(w, (const char *)s + i, k);
	} else {
		if (rep[0] == '\\')
			put(w, "\\", 1); /* the replacement's backslash, escaped */
		put(w, rep, rn);
	}
	return k;
}

/* Escape s[0..n) as the inside of a JSON string. The hot loop of writing:
 * runs of plain bytes are copied whole; the rest is put_special's. */
static void put_escaped(struct json_w *w, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < n && !w->err) {
		size_t run = json_plain_run(s + i, n - i);
		put(w, (const char *)s + i, run);
		i += run;
		if (i < n)
			i += put_special(w, s, n, i);
	}
}

void json_w_keyn(struct json_w *w, const char *key, size_t n)
{
	if (w->err)
		return;
	int lv = w->depth;
	if (w->in_str || lv == 0 || w->kind[lv] != '{' || w->state[lv] == 2) {
		misuse(w);
		return;
	}
	if (w->state[lv] == 1)
		putc_(w, ',');
	putc_(w, '"');
	put_escaped(w, key, n);
	put(w, "\":", 2);
	w->state[lv] = 2;
}

void json_w_str(struct json_w *w, const char *s, size_t n)
{
	if (before_value(w) < 0)
		return;
	putc_(w, '"');
	put_escaped(w, s, n);
	putc_(w, '"');
	after_value(w);
}

/* Decimal digits of v into buf (at least 21 bytes); returns the length. */
static size_t fmt_int(int64_t v, char *buf)
{
	char tmp[24];
	size_t n = 0;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	size_t o = 0;
	if (v < 0)
		buf[o++] = '-';
	while (n)
		buf[o++] = tmp[--n];
	return o;
}

void json_w_int(struct json_w *w, int64_t v)
{
	if (before_value(w) < 0)
		return;
	char buf[24];
	size_t n = fmt_int(v, buf); /* before put reads buf (cppcheck cannot tell) */
	put(w, buf, n);
	after_value(w);
}

void json_w_bool(struct json_w *w, int b)
{
	if (before_value(w) < 0)
		return;
	if (b)
		put(w, "true", 4);
	else
		put(w, "false", 5);
	after_value(w);
}

void json_w_null(struct json_w *w)
{
	if (before_value(w) < 0)
		return;
	put(w, "null", 4);
	after_value(w);
}

void json_w_raw(struct json_w *w, const char *json, size_t n)
{
	if (before_value(w) < 0)
		return;
	put(w, json, n);
	after_value(w);
}

void json_w_str_open(struct json_w *w)
{
	if (before_value(w) < 0)
		return;
	putc_(w, '"');
	w->in_str = 1;
}

void json_w_str_add(struct json_w *w, const char *s, size_t n)
{
	if (w->err)
		return;
	if (!w->in_str) {
		misuse(w);
		return;
	}
	put_escaped(w, s, n);
}

void json_w_str_add_int(struct json_w *w, int64_t v)
{
	char buf[24];
	json_w_str_add(w, buf, fmt_int(v, buf));
}

void json_w_str_close(struct json_w *w)
{
	if (w->err)
		return;
	if (!w->in_str) {
		misuse(w);
		return;
	}
	putc_(w, '"');
	w->in_str = 0;
	after_value(w);
}
