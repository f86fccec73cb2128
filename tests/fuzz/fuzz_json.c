/*
 * fuzz_json — the strict reader and the writer, against each other.
 *
 * Any bytes: json_parse either refuses them (with an error position inside
 * the text) or gives a token tree; a tree is written back out with the
 * writer (keys and strings unescaped then re-escaped, numbers verbatim),
 * which must parse again to the same tree. Accessors are checked on the way:
 * json_get finds the last duplicate, json_int agrees with strtoll on plain
 * integers, json_unescape_prefix gives a prefix of whole characters.
 * The repairing reader accepts only what the strict one refused for a bad
 * string, and reads every string as valid UTF-8 (U+FFFD for the bad bytes).
 * And the input as one string value: the writer's output must parse and
 * give the same bytes back (or U+FFFD where the input was not UTF-8).
 */
#include "fuzz.h"
#include "json.h"
#include "text.h"

#include <errno.h>
#include <string.h>

static struct json_doc A, B;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (json_doc_init(&A, LIMIT_JSON_TOKENS) || json_doc_init(&B, LIMIT_JSON_TOKENS))
		abort();
	return 0;
}

/* Unescaped copy of string t (malloc'd, NUL-terminated), length in *n. */
static char *unesc(const struct json_doc *d, int t, size_t *n)
{
	size_t cap = json_strlen(d, t) + 1;
	char *s = malloc(cap);
	FUZZ_ASSERT(s);
	FUZZ_ASSERT(json_unescape(d, t, s, cap, n) == 0 && *n == cap - 1);
	return s;
}

static int utf8_ok(const unsigned char *s, size_t n);

static void check_string(const struct json_doc *d, int t)
{
	size_t n;
	char *s = unesc(d, t, &n);
	FUZZ_ASSERT(utf8_ok((const unsigned char *)s, n)); /* repaired, if need be */
	FUZZ_ASSERT(json_streqn(d, t, s, n));
	if (n)
		FUZZ_ASSERT(json_unescape(d, t, s, n, NULL) == JSON_E_SPACE); /* one byte short */
	char p[9];
	for (size_t cap = 1; cap <= sizeof p; cap++) {
		size_t k = json_unescape_prefix(d, t, p, cap);
		char *full = unesc(d, t, &n);
		FUZZ_ASSERT(k < cap && p[k] == 0 && k <= n && memcmp(p, full, k) == 0);
		/* whole characters: the next byte of the full value is not a continuation */
		FUZZ_ASSERT(k == n || ((unsigned char)full[k] & 0xC0) != 0x80);
		free(full);
	}
	free(s);
}

static void check_number(const struct json_doc *d, int t)
{
	int64_t v = 0;
	int r = json_int(d, t, &v);
	FUZZ_ASSERT(r == 0 || r == JSON_E_NOT_INT || r == JSON_E_RANGE);
	if (!json_is_plain_int(d, t))
		return;
	size_t n;
	const char *raw = json_raw(d, t, &n);
	char tmp[64];
	if (n >= sizeof tmp) {
		FUZZ_ASSERT(r == JSON_E_RANGE);
		return;
	}
	memcpy(tmp, raw, n);
	tmp[n] = 0;
	errno = 0;
	long long want = strtoll(tmp, NULL, 10);
	if (errno == ERANGE)
		FUZZ_ASSERT(r == JSON_E_RANGE);
	else
		FUZZ_ASSERT(r == 0 && v == want);
}

/* Write token t of d to w, checking accessors on the way. */
static void rewrite(const struct json_doc *d, int t, struct json_w *w)
{
	size_t n;
	switch (json_type(d, t)) {
	case JSON_OBJECT: {
		json_w_obj(w);
		int count = 0;
		for (int k = json_first(d, t); k >= 0; k = json_next(d, k)) {
			count++;
			FUZZ_ASSERT(json_type(d, k) == JSON_STRING);
			char *key = unesc(d, k, &n);
			/* json_get answers the last member with this key */
			int last = -1;
			for (int k2 = json_first(d, t); k2 >= 0; k2 = json_next(d, k2))
				if (json_streqn(d, k2, key, n))
					last = json_value(d, k2);
			FUZZ_ASSERT(json_getn(d, t, key, n) == last);
			json_w_keyn(w, key, n);
			free(key);
			check_string(d, k);
			rewrite(d, json_value(d, k), w);
		}
		FUZZ_ASSERT(count == json_count(d, t));
		json_w_obj_end(w);
		break;
	}
	case JSON_ARRAY: {
		json_w_arr(w);
		int count = 0;
		for (int e = json_first(d, t); e >= 0; e = json_next(d, e)) {
			count++;
			rewrite(d, e, w);
		}
		FUZZ_ASSERT(count == json_count(d, t));
		json_w_arr_end(w);
		break;
	}
	case JSON_STRING: {
		char *s = unesc(d, t, &n);
		json_w_str(w, s, n);
		free(s);
		check_string(d, t);
		break;
	}
	case JSON_NUMBER: {
		const char *raw = json_raw(d, t, &n);
		json_w_raw(w, raw, n);
		check_number(d, t);
		break;
	}
	case JSON_TRUE:
		json_w_bool(w, 1);
		break;
	case JSON_FALSE:
		json_w_bool(w, 0);
		break;
	case JSON_NULL:
		json_w_null(w);
		break;
	default:
		FUZZ_ASSERT(0);
	}
}

/* The trees at a and b are the same (types, counts, strings unescaped,
 * numbers verbatim). */
static void same(int a, int b)
{
	enum json_type ta = json_type(&A, a);
	FUZZ_ASSERT(ta == json_type(&B, b));
	size_t na, nb;
	if (ta == JSON_OBJECT || ta == JSON_ARRAY) {
		FUZZ_ASSERT(json_count(&A, a) == json_count(&B, b));
		for (int x = json_first(&A, a), y = json_first(&B, b); x >= 0 || y >= 0;
		     x = json_next(&A, x), y = json_next(&B, y)) {
			FUZZ_ASSERT(x >= 0 && y >= 0);
			same(x, y);
			if (ta == JSON_OBJECT)
				same(json_value(&A, x), json_value(&B, y));
		}
	} else if (ta == JSON_STRING) {
		/* what the writer wrote back is the string with text.h's rule applied */
		char *sa = unesc(&A, a, &na), *sb = unesc(&B, b, &nb), *want = malloc(7 * na + 1);
		FUZZ_ASSERT(want);
		size_t nw = text_clean(sa, na, want, 7 * na + 1);
		FUZZ_ASSERT(nw == nb && memcmp(want, sb, nb) == 0);
		free(want);
		free(sa);
		free(sb);
	} else if (ta == JSON_NUMBER) {
		const char *ra = json_raw(&A, a, &na), *rb = json_raw(&B, b, &nb);
		FUZZ_ASSERT(na == nb && memcmp(ra, rb, na) == 0);
	}
}

/* 1 when s[0..n) is valid UTF-8 (RFC 3629). */
static int utf8_ok(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		size_t k;
		unsigned cp, min;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xC0 && c < 0xE0) {
			k = 1, cp = c & 0x1F, min = 0x80;
		} else if (c >= 0xE0 && c < 0xF0) {
			k = 2, cp = c & 0x0F, min = 0x800;
		} else if (c >= 0xF0 && c < 0xF8) {
			k = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return 0;
		}
		if (n - i - 1 < k)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + j] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += k + 1;
	}
	return 1;
}

/* A's tree, written out and read again strictly, is the same tree. */
static void round_trip(void)
{
	struct json_w w;
	size_t n;
	json_w_init(&w, 7 * A.len + 64); /* \\u007f (the rule's visible text, escaped) is 7 bytes for one */
	rewrite(&A, 0, &w);
	FUZZ_ASSERT(json_w_error(&w) == 0);
	const char *out = json_w_data(&w, &n);
	FUZZ_ASSERT(json_parse(&B, out, n) == 0);
	same(0, 0);
	json_w_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct json_w w;
	size_t n;

	int r = json_parse(&A, text, size);
	if (r != 0) {
		FUZZ_ASSERT(r < 0 && A.err_pos <= size && *json_strerror(r) && !A.dirty);
		/* the repairing reader lets through only what was refused for a
		 * bad string, and then reads every string as valid UTF-8 */
		if (json_parse_repair(&A, text, size) == 0) {
			FUZZ_ASSERT(A.dirty && (r == JSON_E_UTF8 || r == JSON_E_SURROGATE || r == JSON_E_STRING));
			round_trip();
		}
	} else {
		FUZZ_ASSERT(A.ntok >= 1 && !A.dirty);
		round_trip();
		int ntok = A.ntok;
		FUZZ_ASSERT(json_parse_repair(&A, text, size) == 0 && !A.dirty && A.ntok == ntok);
	}

	/* the whole input as a string value */
	json_w_init(&w, 7 * size + 16);
	json_w_str(&w, text, size);
	FUZZ_ASSERT(json_w_error(&w) == 0);
	const char *out = json_w_data(&w, &n);
	FUZZ_ASSERT(json_parse(&B, out, n) == 0 && json_type(&B, 0) == JSON_STRING);
	/* nothing the writer emits is raw control, DEL or a line separator */
	for (size_t i = 0; i < n; i++)
		FUZZ_ASSERT((unsigned char)out[i] >= 0x20 && out[i] != 0x7f);
	FUZZ_ASSERT(memmem(out, n, "\xE2\x80\xA8", 3) == NULL && memmem(out, n, "\xE2\x80\xA9", 3) == NULL);
	size_t back_n = json_strlen(&B, 0);
	char *back = malloc(back_n + 1);
	FUZZ_ASSERT(back && json_unescape(&B, 0, back, back_n + 1, NULL) == 0);
	if (utf8_ok(data, size)) {
		char *want = malloc(7 * size + 1);
		FUZZ_ASSERT(want);
		size_t nw = text_clean(text, size, want, 7 * size + 1);
		FUZZ_ASSERT(back_n == nw && memcmp(back, want, nw) == 0);
		free(want);
	} else
		FUZZ_ASSERT(memmem(back, back_n, "\xEF\xBF\xBD", 3) != NULL);
	free(back);
	json_w_free(&w);
	return 0;
}
