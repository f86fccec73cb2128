/*
 * json — the one module that reads and writes JSON, in two files: the reader
 * in json_read.c (the only file that includes jsmn), the writer in
 * json_write.c.
 *
 * Reading. json_parse() first runs a strict RFC 8259 validator over the bytes
 * (jsmn alone accepts {"a":1,}, [1,,3], [10}, 01, tru, bad escapes, raw
 * control characters and invalid UTF-8), then lets jsmn build the token tree.
 * What it refuses: any grammar error, numbers such as 01 1. - +1 .5 1e,
 * literals other than true/false/null, unknown escapes, \u escapes that are
 * not hex or whose surrogates are unpaired, raw bytes below 0x20 in strings,
 * invalid UTF-8 (overlong forms, encoded surrogates, above U+10FFFF, cut
 * sequences), non-ASCII bytes outside strings, nesting deeper than
 * LIMIT_JSON_DEPTH, more tokens than the document's capacity, and anything
 * after the one top-level value but spaces, tabs, CR and LF.
 * json_parse_repair() is the reader for upstream replies: the same, except
 * that inside strings it lets invalid UTF-8, raw control bytes and \u escapes
 * of unpaired surrogates through, and every accessor reads each such byte or
 * escape as U+FFFD — one bad string does not cost the whole document. (A client's
 * request is read strictly, with json_parse.)
 *
 * Tokens are named by int handles: 0 is the top-level value, -1 means "none",
 * and every accessor accepts -1 (answering "absent"), so lookups chain without
 * checks: json_get(d, json_get(d, 0, "params"), "name"). Handles and the
 * (ptr, len) views they give point into the parsed text: they stay valid
 * while that text is unchanged and until the next json_parse() on the doc.
 *
 * Writing. struct json_w builds one JSON value into a bounded buffer, inserts
 * commas itself, escapes every string (", \, newline, tab, U+2028, U+2029),
 * applies text.h's rule to it (other controls, DEL and C1 controls written as
 * the visible text \u00XX, invalid UTF-8 as U+FFFD: nothing a reader of the
 * decoded string would obey, and always valid UTF-8), and keeps
 * its first error (sticky): write everything, then check json_w_error() once.
 */
#ifndef KLING_JSON_H
#define KLING_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "all_limits.h"

enum json_type {
	JSON_NONE = 0, /* the handle is -1 (absent) */
	JSON_OBJECT,
	JSON_ARRAY,
	JSON_STRING,
	JSON_NUMBER,
	JSON_TRUE,
	JSON_FALSE,
	JSON_NULL,
};

/* Errors (negative). json_strerror() gives each a short English phrase. */
enum json_err {
	JSON_OK = 0,
	JSON_E_SYNTAX = -1,    /* not JSON: unexpected byte, missing or extra comma, bracket mismatch, trailing bytes */
	JSON_E_NUMBER = -2,    /* malformed number */
	JSON_E_STRING = -3,    /* bad escape, raw control character, unterminated string */
	JSON_E_SURROGATE = -4, /* \u escape with an unpaired surrogate */
	JSON_E_UTF8 = -5,      /* invalid UTF-8 */
	JSON_E_DEPTH = -6,     /* nested deeper than LIMIT_JSON_DEPTH */
	JSON_E_TOKENS = -7,    /* more tokens than the document can hold */
	JSON_E_TOO_LONG = -8,  /* text longer than INT_MAX bytes */
	JSON_E_NOMEM = -9,     /* json_doc_init could not allocate */
	JSON_E_TYPE = -10,     /* accessor used on a token of another type */
	JSON_E_NOT_INT = -11,  /* number with a non-zero fractional part */
	JSON_E_RANGE = -12,    /* integer outside int64_t */
	JSON_E_SPACE = -13,    /* caller's buffer too small */
	JSON_E_EMPTY = -14,    /* no value at all (empty or blank text) */
};

/* A parsed document. Fields are read-only for callers. */
struct json_doc {
	const char *buf; /* the text of the last json_parse (not owned) */
	size_t len;
	int ntok;        /* tokens after a successful parse, else 0 */
	int cap;         /* most tokens one parse may produce */
	size_t err_pos;  /* byte offset of the problem when json_parse failed */
	int dirty;       /* json_parse_repair let a bad string through (read as U+FFFD) */
	void *tok_;      /* private: token storage */
};

/* Allocate room for max_tokens tokens (the only allocation the reader ever
 * makes; a line of LIMIT_JSON_TOKENS costs ~1.3 MiB of address space, touched
 * only as far as used). Returns 0 or JSON_E_NOMEM. */
int json_doc_init(struct json_doc *d, int max_tokens);

/* Release the token storage; d may then be initialized again. */
void json_doc_free(struct json_doc *d);

/* Validate and tokenize buf[0..len). buf is not copied: it must stay
 * unchanged while d's handles are used. Returns 0, or a JSON_E_* code with
 * d->err_pos set (JSON_E_TOKENS and JSON_E_DEPTH stop at the limit). */
int json_parse(struct json_doc *d, const char *buf, size_t len);

/* Like json_parse, but a string holding invalid UTF-8, a raw control byte or
 * an unpaired surrogate escape is accepted (d->dirty is then 1) and read with each bad
 * byte or escape replaced by U+FFFD. For text from upstream servers. */
int json_parse_repair(struct json_doc *d, const char *buf, size_t len);

/* Short English phrase for a JSON_E_* code (static string). */
const char *json_strerror(int err);

/* Type of token t (JSON_NONE for -1 or out of range). */
enum json_type json_type(const struct json_doc *d, int t);

/* Members of an object or elements of an array; 0 for anything else. */
int json_count(const struct json_doc *d, int t);

/* First child: an object's first member *key* token, an array's first
 * element; -1 when empty or not a container. */
int json_first(const struct json_doc *d, int t);

/* Next sibling of t: after a member key, the next key; after an array
 * element, the next element; -1 at the end. Skips t's subtree. */
int json_next(const struct json_doc *d, int t);

/* The value of the member whose key token is key (-1 if key is not a key). */
int json_value(const struct json_doc *d, int key);

/* The handle after t's whole subtree (for a member key: after its value);
 * d->ntok when nothing follows. -1 for -1. */
int json_skip(const struct json_doc *d, int t);

/* Value of member `key` of object obj, comparing *unescaped* keys (so
 * "\u0073tatus" is status). With duplicate keys the last one wins, as in
 * JavaScript's JSON.parse. -1 when absent or obj is not an object. */
int json_getn(const struct json_doc *d, int obj, const char *key, size_t keylen);
static inline int json_get(const struct json_doc *d, int obj, const char *key)
{
	return json_getn(d, obj, key, strlen(key)); /* inline: a literal's length is known */
}

/* The exact source bytes of t (a string with its quotes, a container with
 * its brackets), for echoing a value verbatim. Sets *len; NULL for -1. */
const char *json_raw(const struct json_doc *d, int t, size_t *len);

/* The bytes between a string's quotes, still escaped. NULL if not a string. */
const char *json_str_raw(const struct json_doc *d, int t, size_t *len);

/* Length in bytes of string t once unescaped; 0 if not a string. */
size_t json_strlen(const struct json_doc *d, int t);

/* Unescape string t into out[0..cap): writes the bytes (valid UTF-8, may
 * contain NUL from \u0000) and a terminating NUL, sets *len (may be NULL).
 * Returns 0, JSON_E_TYPE, or JSON_E_SPACE (cap < length + 1; nothing useful
 * written). */
int json_unescape(const struct json_doc *d, int t, char *out, size_t cap, size_t *len);

/* Like json_unescape, but when the value does not fit, write the longest
 * prefix of whole characters that does (always NUL-terminated; "" for a
 * non-string or cap 1). For quoting names in messages. Returns the bytes
 * written. cap must be at least 1. */
size_t json_unescape_prefix(const struct json_doc *d, int t, char *out, size_t cap);

/* 1 when t is a string whose unescaped value is exactly s[0..n) (or the C
 * string s), else 0. No allocation, no copy. */
int json_streqn(const struct json_doc *d, int t, const char *s, size_t n);
static inline int json_streq(const struct json_doc *d, int t, const char *s)
{
	return json_streqn(d, t, s, strlen(s));
}

/* The exact integer value of number t. Mathematically integral numbers in any
 * notation count (2, 2.0, 2e0, 200e-2), as in JSON Schema's "integer"; no
 * floating point is used. Returns 0, JSON_E_TYPE (not a number),
 * JSON_E_NOT_INT (fractional part) or JSON_E_RANGE (outside int64_t). */
int json_int(const struct json_doc *d, int t, int64_t *out);

/* 1 when number t is written as a plain integer: -?(0|[1-9][0-9]*), no
 * fraction or exponent. 0 otherwise (also for non-numbers). */
int json_is_plain_int(const struct json_doc *d, int t);

/* ---- writer ---- */

enum json_w_err {
	JSON_W_OK = 0,
	JSON_W_E_FULL = -1,  /* the value would exceed the writer's maximum size */
	JSON_W_E_STATE = -2, /* misuse: key outside an object, unbalanced end, depth, second top-level value */
	JSON_W_E_NOMEM = -3, /* growing the buffer failed */
};

struct json_w {
	struct buf b; /* the bytes written, b.p[0..b.len) */
	int err;      /* first error, sticky */
	int fixed;    /* buffer given by the caller, never grown or freed */
	int depth;    /* open containers */
	int in_str;   /* between json_w_str_open and json_w_str_close */
	int done;     /* the top-level value is complete */
	unsigned char kind[LIMIT_JSON_DEPTH + 1];  /* '{' or '[' per open level */
	unsigned char state[LIMIT_JSON_DEPTH + 1]; /* 0 empty, 1 has items, 2 key written */
};

/* A writer whose heap buffer grows as needed up to max bytes. */
void json_w_init(struct json_w *w, size_t max);
/* A writer over the caller's buffer mem[0..cap) (never grown, not freed). */
void json_w_init_fixed(struct json_w *w, char *mem, size_t cap);
/* Empty the writer for the next value, keeping its buffer and maximum. */
void json_w_reset(struct json_w *w);
/* Free a heap buffer (no-op for a fixed one); the writer is then empty. */
void json_w_free(struct json_w *w);

/* The first error (JSON_W_E_*), or JSON_W_E_STATE if a container or string
 * is still open; 0 when a complete value has been written. */
int json_w_error(const struct json_w *w);
/* The bytes written so far (not NUL-terminated; valid until the next write
 * or reset). */
const char *json_w_data(const struct json_w *w, size_t *len);

void json_w_obj(struct json_w *w);
void json_w_obj_end(struct json_w *w);
void json_w_arr(struct json_w *w);
void json_w_arr_end(struct json_w *w);
/* A member name inside an object; the next call writes its value. */
void json_w_keyn(struct json_w *w, const char *key, size_t n);
static inline void json_w_key(struct json_w *w, const char *key) { json_w_keyn(w, key, strlen(key)); }
/* A string value from n bytes (escaped, with text.h's rule applied). */
void json_w_str(struct json_w *w, const char *s, size_t n);
static inline void json_w_cstr(struct json_w *w, const char *s) { json_w_str(w, s, strlen(s)); }
void json_w_int(struct json_w *w, int64_t v);
void json_w_bool(struct json_w *w, int b);
void json_w_null(struct json_w *w);
/* A complete JSON value copied verbatim (from json_raw of a parsed doc, or a
 * constant known to be valid JSON). */
void json_w_raw(struct json_w *w, const char *json, size_t n);

/* A string value written in pieces: open, add any number of pieces, close.
 * Each piece is escaped on its own, so a UTF-8 character must not be split
 * across two pieces (its halves would each become U+FFFD). */
void json_w_str_open(struct json_w *w);
void json_w_str_add(struct json_w *w, const char *s, size_t n);
static inline void json_w_str_addc(struct json_w *w, const char *s) { json_w_str_add(w, s, strlen(s)); }
void json_w_str_add_int(struct json_w *w, int64_t v);
void json_w_str_close(struct json_w *w);

#endif
