/* http_parse — see http_parse.h. Pure: no I/O, no allocation, no state. */
#include "http_parse.h"

#include "hex.h"
#include "iso8601.h"
#include "all_limits.h"
#include "text.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

static int is_tchar(unsigned char c)
{
	/* RFC 9110 token characters */
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_blank(unsigned char c) { return c == ' ' || c == '\t'; }

/* A byte allowed in a header value or reason phrase: visible, blank, or
 * obs-text (>= 0x80). */
int http_parse_is_field_char(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }
#define is_vchar http_parse_is_field_char

static int name_is(const struct http_header *h, const char *name)
{
	return text_ieq(h->name, h->name_len, name, strlen(name));
}

static int value_is(const char *v, size_t len, const char *want)
{
	return text_ieq(v, len, want, strlen(want));
}

/* The '\n' ending the line that starts at p, or NULL if not there yet. */
static const char *find_eol(const char *p, const char *end)
{
	return memchr(p, '\n', (size_t)(end - p));
}

/* Header lines from *pp up to and including the empty line that ends the
 * head. On success *pp is just past it, headers[0..*n) are filled and 0 is
 * returned; otherwise an HTTP_PARSE_ code (TOO_MANY past cap headers). */
static int parse_fields(const char **pp, const char *end, struct http_header *headers, size_t cap, size_t *num)
{
	const char *p = *pp, *nl, *le;
	size_t n = 0;
	for (;;) {
		if (p == end)
			return HTTP_PARSE_INCOMPLETE;
		if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) {
			p += *p == '\n' ? 1 : 2;
			break;
		}
		if (*p == '\r' && p + 1 == end)
			return HTTP_PARSE_INCOMPLETE;
		if (is_blank((unsigned char)*p))
			return HTTP_PARSE_INVALID; /* obsolete line folding */
		nl = find_eol(p, end);
		/* Check what we have so far even without the line's end. */
		const char *stop = nl ? nl : end;
		const char *colon = p;
		while (colon < stop && is_tchar((unsigned char)*colon))
			colon++;
		if (colon < stop && (*colon != ':' || colon == p))
			return HTTP_PARSE_INVALID;
		if (!nl)
			return HTTP_PARSE_INCOMPLETE;
		if (colon == stop)
			return HTTP_PARSE_INVALID; /* a line without ':' */
		le = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
		const char *v = colon + 1, *ve = le;
		for (const char *q = v; q < le; q++)
			if (!is_vchar((unsigned char)*q))
				return HTTP_PARSE_INVALID;
		while (v < ve && is_blank((unsigned char)*v))
			v++;
		while (ve > v && is_blank((unsigned char)ve[-1]))
			ve--;
		if (n == cap)
			return HTTP_PARSE_TOO_MANY;
		headers[n].name = p;
		headers[n].name_len = (size_t)(colon - p);
		headers[n].value = v;
		headers[n].value_len = (size_t)(ve - v);
		n++;
		p = nl + 1;
	}
	*pp = p;
	*num = n;
	return 0;
}

int http_parse_response_head(const char *buf, size_t len, int *minor_version, int *status,
			     struct http_header *headers, size_t *num_headers)
{
	size_t cap = *num_headers, n = 0;
	if (len > INT_MAX)
		len = INT_MAX;
	const char *p = buf, *end = buf + len;
	*num_headers = 0;

	/* Status line: HTTP/1.x SP 3DIGIT [SP reason] */
	const char *nl = find_eol(p, end);
	static const char proto[] = "HTTP/1.";
	size_t have = nl ? (size_t)(nl - p) : len;
	size_t cmp = have < 7 ? have : 7;
	if (memcmp(p, proto, cmp) != 0)
		return HTTP_PARSE_INVALID; /* fail early on garbage, even when incomplete */
	if (!nl)
		return HTTP_PARSE_INCOMPLETE;
	const char *le = nl > p && nl[-1] == '\r' ? nl - 1 : nl; /* line end */
	if (le - p < 12 || p[7] < '0' || p[7] > '9' || p[8] != ' ')
		return HTTP_PARSE_INVALID;
	for (int i = 9; i < 12; i++)
		if (p[i] < '0' || p[i] > '9')
			return HTTP_PARSE_INVALID;
	if (le - p > 12 && p[12] != ' ')
		return HTTP_PARSE_INVALID;
	for (const char *q = p + 12; q < le; q++)
		if (!is_vchar((unsigned char)*q))
			return HTTP_PARSE_INVALID;
	int st = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (st < 100 || st > 599) /* RFC 9110 15: the status codes that exist */
		return HTTP_PARSE_INVALID;
	int minor = p[7] - '0';
	p = nl + 1;

	int r = parse_fields(&p, end, headers, cap, &n);
	if (r < 0)
		return r;
	*minor_version = minor;
	*status = st;
	*num_headers = n;
	return (int)(p - buf);
}

/* Unsigned decimal of at most 18 digits (so it fits in int64_t); -1 if not. */
static int64_t parse_decimal(const char *v, size_t len)
{
	if (len == 0 || len > 18)
		return -1;
	int64_t x = 0;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	return x;
}

static int two_digits(const char *p)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return -1;
	return (p[0] - '0') * 10 + (p[1] - '0');
}

int http_parse_retry_after(const char *v, size_t len, int64_t now_s)
{
	int64_t secs = parse_decimal(v, len);
	size_t digits = 0;
	while (digits < len && v[digits] >= '0' && v[digits] <= '9')
		digits++;
	if (secs < 0 && len && digits == len)
		secs = 86400; /* a number too long to hold: the longest wait, not none */
	if (secs < 0) {
		/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT", exactly 29 bytes. */
		static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
		if (len != 29 || v[3] != ',' || v[4] != ' ' || v[7] != ' ' || v[11] != ' ' || v[16] != ' ' ||
		    v[19] != ':' || v[22] != ':' || v[25] != ' ' || memcmp(v + 26, "GMT", 3) != 0)
			return -1;
		int day = two_digits(v + 5), mon = -1;
		for (int i = 0; i < 12; i++)
			if (memcmp(v + 8, months + 3 * i, 3) == 0)
				mon = i + 1;
		int y1 = two_digits(v + 12), y2 = two_digits(v + 14);
		int hh = two_digits(v + 17), mm = two_digits(v + 20), ss = two_digits(v + 23);
		if (day < 1 || day > 31 || mon < 0 || y1 < 0 || y2 < 0 || hh < 0 || hh > 23 || mm < 0 || mm > 59 ||
		    ss < 0 || ss > 60)
			return -1;
		int64_t t = iso8601_days_from_civil(y1 * 100 + y2, mon, day) * 86400 + hh * 3600 + mm * 60 + ss;
		secs = t - now_s;
	}
	if (secs < 0)
		secs = 0;
	return secs > 86400 ? 86400 : (int)secs;
}

/* Does the comma list v contain the token tok (case-insensitive)? */
static int list_has(const char *v, size_t len, const char *tok)
{
	size_t i = 0;
	while (i < len) {
		while (i < len && (is_blank((unsigned char)v[i]) || v[i] == ','))
			i++;
		size_t s = i;
		while (i < len && v[i] != ',')
			i++;
		size_t e = i;
		while (e > s && is_blank((unsigned char)v[e - 1]))
			e--;
		if (e > s && value_is(v + s, e - s, tok))
			return 1;
	}
	return 0;
}

int http_parse_read_framing(int minor_version, int status, const struct http_header *h, size_t nh, int64_t now_s,
		      struct http_framing *f)
{
	memset(f, 0, sizeof *f);
	f->content_length = -1;
	f->retry_after_s = -1;
	f->keep_alive = minor_version >= 1;
	int te = 0;
	for (size_t i = 0; i < nh; i++) {
		if (name_is(&h[i], "content-length")) {
			if (f->content_length >= 0) {
				f->error = "the response repeats Content-Length";
				return -1;
			}
			f->content_length = parse_decimal(h[i].value, h[i].value_len);
			if (f->content_length < 0) {
				f->error = "the response has an invalid Content-Length";
				return -1;
			}
		} else if (name_is(&h[i], "transfer-encoding")) {
			if (te++ || !value_is(h[i].value, h[i].value_len, "chunked")) {
				f->error = "the response uses a Transfer-Encoding other than chunked";
				return -1;
			}
			f->chunked = 1;
		} else if (name_is(&h[i], "connection")) {
			if (list_has(h[i].value, h[i].value_len, "close"))
				f->keep_alive = 0;
		} else if (name_is(&h[i], "content-type")) {
			f->content_type = h[i].value;
			f->content_type_len = h[i].value_len;
		} else if (name_is(&h[i], "location")) {
			f->location = h[i].value;
			f->location_len = h[i].value_len;
		} else if (name_is(&h[i], "retry-after")) {
			f->retry_after_s = http_parse_retry_after(h[i].value, h[i].value_len, now_s);
		}
	}
	if (f->chunked && f->content_length >= 0) {
		f->error = "the response has both Content-Length and Transfer-Encoding (refused: request smuggling)";
		return -1;
	}
	f->no_body = status < 200 || status == 204 || status == 304;
	if (f->no_body) {
		f->chunked = 0;
		f->content_length = 0;
	}
	if (!f->chunked && f->content_length < 0)
		f->keep_alive = 0; /* the body ends when the server closes */
	return 0;
}

enum {
	CH_SIZE,    /* hex digits of the chunk size */
	CH_EXT,     /* after the size: extensions up to the line end */
	CH_SIZE_LF, /* the LF after the size line's CR */
	CH_DATA,    /* chunk bytes */
	CH_DATA_CR, /* CRLF after the chunk bytes */
	CH_DATA_LF,
	CH_TRAILER_START, /* after the last chunk: a trailer line or the end */
	CH_TRAILER,
	CH_END_LF,
	CH_DONE,
};

/* One framing byte c in state d->state. Returns 0, or an HTTP_PARSE_ error
 * with d->error set. */
static int chunk_framing_byte(struct http_chunked *d, unsigned char c)
{
	if (d->state == CH_SIZE || d->state == CH_EXT) {
		if (++d->line > (size_t)LIMIT_HTTP_CHUNK_LINE_BYTES) {
			d->error = "a chunk-size line of the response is too long";
			return HTTP_PARSE_INVALID;
		}
	}
	switch (d->state) {
	case CH_SIZE: {
		int v = hex_value(c);
		if (v >= 0) {
			if (++d->digits > 15) { /* 60 bits: no overflow */
				d->error = "a chunk size of the response is too large";
				return HTTP_PARSE_INVALID;
			}
			d->left = d->left * 16 + (uint64_t)v;
			return 0;
		}
		if (d->digits == 0 || (c != ';' && !is_blank(c) && c != '\r' && c != '\n')) {
			d->error = "a chunk size of the response is not hexadecimal";
			return HTTP_PARSE_INVALID;
		}
		d->state = CH_EXT;
		__attribute__((fallthrough)); /* the byte after the digits */
	}
	case CH_EXT:
		if (c == '\r') {
			d->state = CH_SIZE_LF;
		} else if (c == '\n') {
			goto line_end;
		} else if (!is_vchar(c)) {
			d->error = "a chunk extension of the response holds a control character";
			return HTTP_PARSE_INVALID;
		}
		return 0;
	case CH_SIZE_LF:
		if (c != '\n') {
			d->error = "a chunk-size line of the response has a CR without LF";
			return HTTP_PARSE_INVALID;
		}
		goto line_end;
	case CH_DATA_CR:
		if (c == '\r') {
			d->state = CH_DATA_LF;
			return 0;
		}
		__attribute__((fallthrough)); /* a bare LF is tolerated */
	case CH_DATA_LF:
		if (c != '\n') {
			d->error = "a chunk of the response is longer than its size says";
			return HTTP_PARSE_INVALID;
		}
		d->state = CH_SIZE;
		return 0;
	case CH_TRAILER_START:
		if (c == '\n')
			d->state = CH_DONE;
		else if (c == '\r')
			d->state = CH_END_LF;
		else
			d->state = CH_TRAILER;
		return 0;
	case CH_TRAILER:
		if (c == '\n') {
			d->state = CH_TRAILER_START;
		} else if (c != '\r' && !is_vchar(c)) {
			d->error = "a trailer of the response holds a control character";
			return HTTP_PARSE_INVALID;
		}
		return 0;
	case CH_END_LF:
		if (c != '\n') {
			d->error = "the chunked body does not end with CRLF";
			return HTTP_PARSE_INVALID;
		}
		d->state = CH_DONE;
		return 0;
	default:
		return 0;
	}
line_end:
	if (d->left > d->limit - d->total) {
		d->error = "a chunk would pass the body limit";
		return HTTP_PARSE_TOO_BIG;
	}
	d->line = 0;
	d->digits = 0;
	d->state = d->left ? CH_DATA : CH_TRAILER_START;
	return 0;
}

ssize_t http_parse_decode_chunked(struct http_chunked *d, char *buf, size_t *len)
{
	size_t in = 0, out = 0, n = *len;
	ssize_t ret = HTTP_PARSE_INCOMPLETE;
	while (in < n && d->state != CH_DONE) {
		if (d->state == CH_DATA) {
			size_t take = n - in;
			if ((uint64_t)take > d->left)
				take = (size_t)d->left;
			memmove(buf + out, buf + in, take);
			in += take;
			out += take;
			d->left -= take;
			d->total += take;
			if (d->left == 0)
				d->state = CH_DATA_CR;
			continue;
		}
		d->overhead++;
		if (d->state == CH_TRAILER || d->state == CH_TRAILER_START) {
			if (++d->trailer > (size_t)LIMIT_HTTP_HEAD_BYTES) {
				d->error = "the trailers of the response are too long";
				ret = HTTP_PARSE_INVALID;
				break;
			}
		}
		int r = chunk_framing_byte(d, (unsigned char)buf[in++]);
		if (r < 0) {
			ret = r;
			break;
		}
		if (d->overhead > (size_t)LIMIT_HTTP_CHUNK_OVERHEAD_BYTES && d->overhead > d->total) {
			d->error = "the chunked framing of the response outweighs its data";
			ret = HTTP_PARSE_INVALID;
			break;
		}
	}
	if (d->state == CH_DONE && ret == HTTP_PARSE_INCOMPLETE)
		ret = (ssize_t)(n - in);
	*len = out;
	return ret;
}

/* A header value we put on the wire: visible ASCII, blanks and obs-text, no
 * CR, LF, NUL or other control (header injection). */

int http_parse_format_host_port(char *out, size_t cap, const char *host, unsigned port, unsigned omit_port)
{
	int v6 = strchr(host, ':') != NULL;
	int n = port == omit_port ? snprintf(out, cap, v6 ? "[%s]" : "%s", host)
				  : snprintf(out, cap, v6 ? "[%s]:%u" : "%s:%u", host, port);
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

/* ---- requests ------------------------------------------------------------ */

const struct http_header *http_parse_header_find(const struct http_header *h, size_t nh, const char *name, size_t *count)
{
	const struct http_header *first = NULL;
	size_t k = 0;
	for (size_t i = 0; i < nh; i++) {
		if (name_is(&h[i], name)) {
			if (!first)
				first = &h[i];
			k++;
		}
	}
	if (count)
		*count = k;
	return first;
}

/* The request line at p (empty lines already skipped). Returns the byte
 * after its '\n' through *next and 0, or an HTTP_PARSE_ code. Bytes are
 * checked as they come, so garbage fails without waiting for a line end. */
static int parse_request_line(const char *p, const char *end, struct http_request_line *rl, const char **next)
{
	const char *q = p;
	while (q < end && is_tchar((unsigned char)*q))
		q++;
	if (q == end)
		return HTTP_PARSE_INCOMPLETE;
	if (*q != ' ' || q == p)
		return HTTP_PARSE_INVALID;
	rl->method = p;
	rl->method_len = (size_t)(q - p);
	const char *t = ++q;
	while (q < end && (unsigned char)*q > ' ' && (unsigned char)*q < 0x7f)
		q++;
	if (q == end)
		return HTTP_PARSE_INCOMPLETE;
	if (*q != ' ' || q == t)
		return HTTP_PARSE_INVALID;
	rl->target = t;
	rl->target_len = (size_t)(q - t);
	q++;
	static const char ver[] = "HTTP/1.x\r\n";
	for (size_t i = 0; i < sizeof ver - 1; i++, q++) {
		if (q == end)
			return HTTP_PARSE_INCOMPLETE;
		if (i == 7) {
			if (*q != '0' && *q != '1')
				return HTTP_PARSE_INVALID;
			rl->minor_version = *q - '0';
		} else if (i == 8 && *q == '\n') {
			q++;
			break; /* a bare LF ends the line */
		} else if (*q != ver[i]) {
			return HTTP_PARSE_INVALID;
		}
	}
	*next = q;
	return 0;
}

int http_parse_request_head(const char *buf, size_t len, struct http_request_line *rl, struct http_header *headers,
			    size_t *num_headers)
{
	size_t cap = *num_headers, n = 0;
	if (cap > LIMIT_HTTP_HEADERS)
		cap = LIMIT_HTTP_HEADERS;
	*num_headers = 0;
	memset(rl, 0, sizeof *rl);
	/* Nothing past the limit is looked at: a head that has not ended there
	 * never will within it. */
	int over = len > (size_t)LIMIT_HTTP_HEAD_BYTES;
	const char *p = buf, *end = buf + (over ? (size_t)LIMIT_HTTP_HEAD_BYTES : len);
	while (p < end && (*p == '\n' || *p == '\r')) {
		if (*p == '\r' && p + 1 < end && p[1] != '\n')
			return HTTP_PARSE_INVALID;
		p++;
	}
	const char *q;
	int r = p == end ? HTTP_PARSE_INCOMPLETE : parse_request_line(p, end, rl, &q);
	if (r == 0)
		r = parse_fields(&q, end, headers, cap, &n);
	if (r == HTTP_PARSE_INCOMPLETE && (over || len == (size_t)LIMIT_HTTP_HEAD_BYTES))
		return HTTP_PARSE_TOO_BIG;
	if (r < 0)
		return r;
	*num_headers = n;
	return (int)(q - buf);
}

int http_parse_read_request_framing(const struct http_request_line *rl, const struct http_header *h, size_t nh,
			      struct http_request_framing *f)
{
	memset(f, 0, sizeof *f);
	f->status = 400;
	size_t ncl, nte, nhost, nexp;
	const struct http_header *cl = http_parse_header_find(h, nh, "content-length", &ncl);
	const struct http_header *te = http_parse_header_find(h, nh, "transfer-encoding", &nte);
	const struct http_header *host = http_parse_header_find(h, nh, "host", &nhost);
	const struct http_header *exp = http_parse_header_find(h, nh, "expect", &nexp);
	if (ncl > 1) {
		f->error = "the request repeats Content-Length";
		return -1;
	}
	if (nte > 1) {
		f->error = "the request repeats Transfer-Encoding";
		return -1;
	}
	if (cl && te) {
		f->error = "the request has both Content-Length and Transfer-Encoding (refused: request smuggling)";
		return -1;
	}
	if (te && rl->minor_version == 0) {
		f->error = "an HTTP/1.0 request cannot use Transfer-Encoding";
		return -1;
	}
	if (te && !value_is(te->value, te->value_len, "chunked")) {
		f->status = 501;
		f->error = "the request uses a Transfer-Encoding other than chunked";
		return -1;
	}
	if (cl) {
		f->content_length = parse_decimal(cl->value, cl->value_len);
		if (f->content_length < 0) {
			f->error = "the request has an invalid Content-Length";
			return -1;
		}
	}
	f->chunked = te != NULL;
	if (nhost > 1 || (!host && rl->minor_version >= 1)) {
		f->error = nhost > 1 ? "the request repeats Host" : "an HTTP/1.1 request must have a Host header";
		return -1;
	}
	if (host) {
		f->host = host->value;
		f->host_len = host->value_len;
	}
	if (nexp > 1 || (exp && !value_is(exp->value, exp->value_len, "100-continue"))) {
		f->error = "the request has an Expect other than 100-continue";
		return -1;
	}
	f->expect_continue = exp != NULL;
	int close = 0, ka = 0;
	for (size_t i = 0; i < nh; i++) {
		if (name_is(&h[i], "connection")) {
			close |= list_has(h[i].value, h[i].value_len, "close");
			ka |= list_has(h[i].value, h[i].value_len, "keep-alive");
		}
	}
	f->keep_alive = !close && (rl->minor_version >= 1 || ka);
	f->status = 0;
	return 0;
}
