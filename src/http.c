/* http — see http.h. The pure parsers come first, then the operations. */
#include "http.h"

#include "config.h"
#include "conn.h"
#include "kling_limits.h"
#include "log.h"
#include "loop.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- pure functions ---------------------------------------------------- */

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
static int is_vchar(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static int name_is(const struct http_header *h, const char *name)
{
	size_t n = strlen(name);
	if (h->name_len != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)h->name[i]) != name[i])
			return 0;
	return 1;
}

static int value_is(const char *v, size_t len, const char *want)
{
	size_t n = strlen(want);
	if (len != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)v[i]) != want[i])
			return 0;
	return 1;
}

/* The '\n' ending the line that starts at p, or NULL if not there yet. */
static const char *find_eol(const char *p, const char *end)
{
	return memchr(p, '\n', (size_t)(end - p));
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

	/* Header lines up to an empty line. */
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

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's method). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
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
		int64_t t = days_from_civil(y1 * 100 + y2, mon, day) * 86400 + hh * 3600 + mm * 60 + ss;
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

int http_read_framing(int minor_version, int status, const struct http_header *h, size_t nh, int64_t now_s,
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

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (unsigned char)lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

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
		int v = hexval(c);
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

ssize_t http_decode_chunked(struct http_chunked *d, char *buf, size_t *len)
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
static int safe_value(const char *s)
{
	for (; *s; s++)
		if (!is_vchar((unsigned char)*s))
			return 0;
	return 1;
}

static int safe_host(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '.' || c == ':' || c == '_'))
			return 0;
	}
	return 1;
}

int http_build_head(const struct http_request *req, char *out, size_t cap, const char **why)
{
	*why = NULL;
	int post = req->method && strcmp(req->method, "POST") == 0;
	if (!req->method || (!post && strcmp(req->method, "GET") != 0)) {
		*why = "the method must be GET or POST";
		return -1;
	}
	if (!req->host || !safe_host(req->host)) {
		*why = "the host name holds characters a host name cannot have";
		return -1;
	}
	if (!req->path || req->path[0] != '/') {
		*why = "the path must start with '/'";
		return -1;
	}
	for (const char *p = req->path; *p; p++) {
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f) {
			*why = "the path holds a space, a control character or a non-ASCII byte";
			return -1;
		}
	}
	if (req->authorization && !safe_value(req->authorization)) {
		*why = "the Authorization value holds CR, LF or another control character";
		return -1;
	}
	if (!post && req->body_len) {
		*why = "a GET request cannot carry a body";
		return -1;
	}
	char hostport[300];
	int v6 = strchr(req->host, ':') != NULL;
	int hn = req->port == 443 ? snprintf(hostport, sizeof hostport, v6 ? "[%s]" : "%s", req->host)
				  : snprintf(hostport, sizeof hostport, v6 ? "[%s]:%u" : "%s:%u", req->host, req->port);
	if (hn < 0 || (size_t)hn >= sizeof hostport) {
		*why = "the host name is too long";
		return -1;
	}
	int n = snprintf(out, cap,
			 "%s %s HTTP/1.1\r\n"
			 "Host: %s\r\n"
			 "User-Agent: kling-mcp/" KLING_VERSION "\r\n"
			 "Accept: application/json\r\n"
			 "%s%s%s",
			 req->method, req->path, hostport, req->authorization ? "Authorization: " : "",
			 req->authorization ? req->authorization : "", req->authorization ? "\r\n" : "");
	if (n < 0 || (size_t)n >= cap)
		goto too_long;
	int m = post ? snprintf(out + n, cap - (size_t)n,
				"Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n", req->body_len)
		     : snprintf(out + n, cap - (size_t)n, "\r\n");
	if (m < 0 || (size_t)m >= cap - (size_t)n)
		goto too_long;
	return n + m;
too_long:
	*why = "the request head is too long";
	return -1;
}

/* ---- operations ---------------------------------------------------------- */

enum op_state { OP_START, OP_CONNECTING, OP_SENDING, OP_HEAD, OP_BODY, OP_DONE };

#define HOST_MAX 256
/* Receive-buffer room asked for before each read of a body of unknown size. */
#define READ_ROOM 4096

struct http_op {
	enum op_state state;
	http_done_fn done;
	void *ctx;
	int64_t started, deadline;
	struct loop_timer deadline_timer;
	struct loop_timer kick; /* starts the work on the next loop turn */
	char host[HOST_MAX];
	unsigned short port;
	const char *refused; /* set by http_start when the request is invalid */

	char *req; /* head + body, kept for the one retry */
	size_t req_len, req_off;

	struct conn *conn;
	int reused, retried;

	char *buf; /* received bytes: heads, then the decoded body */
	size_t cap, len;
	size_t head_len;   /* of the final head, once parsed */
	size_t heads_seen; /* bytes of 1xx heads dropped so far */
	int got_bytes;     /* any byte of the response arrived */
	int status;
	struct http_framing fr;
	struct http_chunked ch;
	size_t body_len; /* body bytes at buf + head_len */

	char content_type[128];
	char error[700];
	struct http_op *next;
};

static struct http_op *g_ops;
static int g_ready; /* between http_client_init() and http_client_shutdown() */

/* One response buffer of the first size, kept from the last op for the
 * next: musl maps a buffer that large on its own, so each request used to
 * map, fault in and unmap one. */
#define BUF_FIRST_CAP (LIMIT_HTTP_HEAD_BYTES + 1)
static char *g_spare_buf;

static void op_unlink(struct http_op *op)
{
	for (struct http_op **p = &g_ops; *p; p = &(*p)->next) {
		if (*p == op) {
			*p = op->next;
			return;
		}
	}
}

static void op_free(struct http_op *op)
{
	loop_timer_clear(&op->deadline_timer);
	loop_timer_clear(&op->kick);
	conn_release(op->conn, 0);
	op_unlink(op);
	if (op->req) {
		explicit_bzero(op->req, op->req_len); /* it holds the Authorization value */
		free(op->req);
	}
	if (op->buf && op->cap == BUF_FIRST_CAP && !g_spare_buf)
		g_spare_buf = op->buf;
	else
		free(op->buf);
	free(op);
}

static void finish_error(struct http_op *op, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void finish_error(struct http_op *op, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(op->error, sizeof op->error, fmt, ap);
	va_end(ap);
	conn_release(op->conn, 0);
	op->conn = NULL;
	op->state = OP_DONE;
	loop_timer_clear(&op->deadline_timer);
	log_debug("https://%s:%u: %s", op->host, op->port, op->error);
	op->done(op->ctx, NULL, op->error);
	op_free(op);
}

static void finish_ok(struct http_op *op)
{
	/* released first, so done may reuse it at once */
	int keep = conn_release(op->conn, op->fr.keep_alive);
	op->conn = NULL;
	op->state = OP_DONE;
	loop_timer_clear(&op->deadline_timer);
	op->buf[op->head_len + op->body_len] = 0;
	struct http_response r = {
		.status = op->status,
		.body = op->buf + op->head_len,
		.body_len = op->body_len,
		.retry_after_s = op->fr.retry_after_s,
		.content_type = op->content_type,
		.reused = op->reused,
	};
	log_debug("https://%s:%u: HTTP %d, %zu body bytes, %lld ms%s", op->host, op->port, op->status, op->body_len,
		  (long long)(loop_now_ms() - op->started), keep ? ", connection kept" : "");
	op->done(op->ctx, &r, NULL);
	op_free(op);
}

/* printable ASCII copy of s[0..len) for an error message */
static void sanitize(const char *s, size_t len, char *out, size_t cap)
{
	size_t n = 0, i = 0;
	for (; i < len && n + 4 < cap; i++)
		out[n++] = (char)(s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '.');
	if (i < len) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = 0;
}

static void on_conn(void *ctx, int event);
static void do_send(struct http_op *op);

/* Recursion, bounded: the only cycle is the one resend on a fresh connection (op->retried).
 * NOLINTNEXTLINE(misc-no-recursion) */
static void open_conn(struct http_op *op)
{
	char err[400];
	op->state = OP_CONNECTING;
	op->conn = conn_get(op->host, op->port, op->deadline, !op->retried, on_conn, op, &op->reused, err, sizeof err);
	if (!op->conn) {
		finish_error(op, "%s", err);
		return;
	}
	if (op->reused) {
		op->state = OP_SENDING;
		do_send(op);
	}
}

/* A failure before any byte of the reply on a kept-alive connection: the
 * server most likely closed it as we reused it. Send again, once, on a new
 * connection. Returns 1 when that started. */
/* Recursion, bounded: the only cycle is the one resend on a fresh connection (op->retried).
 * NOLINTNEXTLINE(misc-no-recursion) */
static int retry_fresh(struct http_op *op)
{
	if (!op->reused || op->retried || op->got_bytes)
		return 0;
	log_info("https://%s:%u: the kept-alive connection was closed by the server (%s); sending again on a new one",
		 op->host, op->port, conn_error(op->conn)[0] ? conn_error(op->conn) : "end of stream");
	conn_release(op->conn, 0);
	op->conn = NULL;
	op->retried = 1;
	op->reused = 0;
	op->req_off = 0;
	op->len = 0;
	op->heads_seen = 0;
	open_conn(op);
	return 1;
}

static void do_recv(struct http_op *op);

/* Recursion, bounded: the only cycle is the one resend on a fresh connection (op->retried).
 * NOLINTNEXTLINE(misc-no-recursion) */
static void do_send(struct http_op *op)
{
	while (op->req_off < op->req_len) {
		long n = conn_write(op->conn, op->req + op->req_off, op->req_len - op->req_off);
		if (n == CONN_AGAIN) {
			conn_wait(op->conn);
			return;
		}
		if (n < 0) {
			if (!retry_fresh(op))
				finish_error(op, "sending the request to %s failed: %s", op->host, conn_error(op->conn));
			return;
		}
		op->req_off += (size_t)n;
	}
	op->state = OP_HEAD;
	if (!op->buf) {
		op->cap = BUF_FIRST_CAP;
		op->buf = g_spare_buf ? g_spare_buf : malloc(op->cap);
		g_spare_buf = NULL;
		if (!op->buf) {
			finish_error(op, "out of memory for the response");
			return;
		}
	}
	do_recv(op);
}

/* Make room for need bytes in op->buf (plus the final NUL). */
static int reserve(struct http_op *op, size_t need)
{
	if (need + 1 <= op->cap)
		return 0;
	size_t cap = op->cap * 2 > need + 1 ? op->cap * 2 : need + 1;
	size_t max = op->head_len + LIMIT_HTTP_BODY_BYTES + READ_ROOM + 1;
	if (cap > max)
		cap = max;
	if (cap < need + 1)
		return -1;
	char *b = realloc(op->buf, cap);
	if (!b)
		return -1;
	op->buf = b;
	op->cap = cap;
	return 0;
}

static void oversize(struct http_op *op, const char *how)
{
	finish_error(op, "the response body from %s is %s, over the limit of %d bytes (LIMIT_HTTP_BODY_BYTES)",
		     op->host, how, LIMIT_HTTP_BODY_BYTES);
}

/* Feed the chunked decoder the n new bytes at the end of the body. Returns
 * 1 when the body is complete, 0 for more, -1 after finishing with an error. */
static int feed_chunked(struct http_op *op, size_t n)
{
	char *p = op->buf + op->head_len + op->body_len;
	ssize_t r = http_decode_chunked(&op->ch, p, &n);
	op->body_len += n;
	op->len = op->head_len + op->body_len;
	if (r == HTTP_PARSE_INCOMPLETE)
		return 0;
	if (r == HTTP_PARSE_TOO_BIG) {
		oversize(op, "larger");
		return -1;
	}
	if (r < 0) {
		finish_error(op, "bad chunked framing from %s: %s", op->host, op->ch.error);
		return -1;
	}
	if (r > 0)
		op->fr.keep_alive = 0; /* bytes after the response: do not trust the stream */
	return 1;
}

/* The head is in buf[0..hl): read its framing and start the body. Returns
 * 1 when the response is complete, 0 to read on, -1 after an error. */
static int head_done(struct http_op *op, int minor, const struct http_header *h, size_t nh, int hl)
{
	if (http_read_framing(minor, op->status, h, nh, (int64_t)time(NULL), &op->fr) != 0) {
		finish_error(op, "bad response framing from %s: %s", op->host, op->fr.error);
		return -1;
	}
	if (op->status >= 300 && op->status < 400) {
		char loc[220];
		sanitize(op->fr.location, op->fr.location ? op->fr.location_len : 0, loc, sizeof loc);
		if (op->fr.location)
			finish_error(op, "%s answered HTTP %d, a redirect to %s: not followed (it would carry the "
					 "credentials elsewhere); check the base URL",
				     op->host, op->status, loc);
		else
			finish_error(op, "%s answered HTTP %d (a redirect without Location)", op->host, op->status);
		return -1;
	}
	size_t ctl = op->fr.content_type ? op->fr.content_type_len : 0;
	if (ctl >= sizeof op->content_type)
		ctl = sizeof op->content_type - 1;
	if (ctl)
		memcpy(op->content_type, op->fr.content_type, ctl);
	op->content_type[ctl] = 0;
	op->fr.content_type = op->fr.location = NULL; /* views into buf, which may move */
	op->head_len = (size_t)hl;
	size_t have = op->len - op->head_len;
	op->state = OP_BODY;
	if (op->fr.no_body) {
		op->body_len = 0;
		if (have)
			op->fr.keep_alive = 0;
		return 1;
	}
	if (op->fr.content_length >= 0) {
		if (op->fr.content_length > LIMIT_HTTP_BODY_BYTES) {
			char how[64];
			snprintf(how, sizeof how, "%lld bytes", (long long)op->fr.content_length);
			oversize(op, how);
			return -1;
		}
		size_t cl = (size_t)op->fr.content_length;
		if (reserve(op, op->head_len + cl) != 0) {
			finish_error(op, "out of memory for a response body of %zu bytes", cl);
			return -1;
		}
		if (have > cl) {
			op->fr.keep_alive = 0; /* more than announced */
			have = cl;
		}
		op->body_len = have;
		op->len = op->head_len + have;
		return op->body_len == cl;
	}
	if (op->fr.chunked) {
		memset(&op->ch, 0, sizeof op->ch);
		op->ch.limit = LIMIT_HTTP_BODY_BYTES;
		op->body_len = 0;
		return feed_chunked(op, have);
	}
	op->body_len = have; /* until the server closes */
	if (op->body_len > LIMIT_HTTP_BODY_BYTES) {
		oversize(op, "larger");
		return -1;
	}
	return 0;
}

/* Parse the heads in buf. Returns 1 complete, 0 read on, -1 error. */
static int parse_heads(struct http_op *op)
{
	for (;;) {
		struct http_header h[LIMIT_HTTP_HEADERS];
		size_t nh = LIMIT_HTTP_HEADERS;
		int minor;
		int hl = http_parse_response_head(op->buf, op->len, &minor, &op->status, h, &nh);
		if (hl == HTTP_PARSE_INCOMPLETE) {
			if (op->heads_seen + op->len >= LIMIT_HTTP_HEAD_BYTES) {
				finish_error(op, "the response head from %s is over %d bytes (LIMIT_HTTP_HEAD_BYTES)",
					     op->host, LIMIT_HTTP_HEAD_BYTES);
				return -1;
			}
			return 0;
		}
		if (hl == HTTP_PARSE_TOO_MANY) {
			finish_error(op, "the response from %s has more than %d headers (LIMIT_HTTP_HEADERS)", op->host,
				     LIMIT_HTTP_HEADERS);
			return -1;
		}
		if (hl < 0) {
			char first[48];
			sanitize(op->buf, op->len < 32 ? op->len : 32, first, sizeof first);
			finish_error(op, "the response from %s is not valid HTTP/1.1 (it begins \"%s\")", op->host, first);
			return -1;
		}
		/* Interim heads count towards the limit. Checked here too, not only
		 * while incomplete: otherwise the verdict on a final head that ends
		 * just past the limit would depend on how the bytes were split. */
		if (op->heads_seen + (size_t)hl > LIMIT_HTTP_HEAD_BYTES) {
			finish_error(op, "the response heads from %s are over %d bytes (LIMIT_HTTP_HEAD_BYTES)", op->host,
				     LIMIT_HTTP_HEAD_BYTES);
			return -1;
		}
		if (op->status >= 200)
			return head_done(op, minor, h, nh, hl);
		if (op->status == 101) {
			finish_error(op, "%s answered 101 Switching Protocols, which was not asked for", op->host);
			return -1;
		}
		/* 1xx interim response (100 Continue, 103 Early Hints...): skip. */
		op->heads_seen += (size_t)hl;
		memmove(op->buf, op->buf + hl, op->len - (size_t)hl);
		op->len -= (size_t)hl;
		if (op->heads_seen >= LIMIT_HTTP_HEAD_BYTES) {
			finish_error(op, "the response heads from %s are over %d bytes (LIMIT_HTTP_HEAD_BYTES)", op->host,
				     LIMIT_HTTP_HEAD_BYTES);
			return -1;
		}
	}
}

/* n new bytes arrived at buf + len. Returns 1 complete, 0 on, -1 error. */
static int got(struct http_op *op, size_t n)
{
	op->got_bytes = 1;
	if (op->state == OP_HEAD) {
		op->len += n;
		return parse_heads(op);
	}
	if (op->fr.chunked)
		return feed_chunked(op, n);
	op->len += n;
	op->body_len += n;
	if (op->fr.content_length >= 0)
		return op->body_len == (size_t)op->fr.content_length;
	if (op->body_len > LIMIT_HTTP_BODY_BYTES) {
		oversize(op, "larger");
		return -1;
	}
	return 0;
}

/* Recursion, bounded: the only cycle is the one resend on a fresh connection (op->retried).
 * NOLINTNEXTLINE(misc-no-recursion) */
static void do_recv(struct http_op *op)
{
	for (;;) {
		size_t room;
		if (op->state == OP_HEAD) {
			room = op->cap - 1 - op->len;
		} else if (op->fr.content_length >= 0) {
			room = (size_t)op->fr.content_length - op->body_len;
		} else {
			if (op->cap - 1 - op->len < READ_ROOM && reserve(op, op->len + READ_ROOM) != 0 &&
			    op->cap - 1 == op->len) {
				oversize(op, "larger");
				return;
			}
			room = op->cap - 1 - op->len;
		}
		long n = conn_read(op->conn, op->buf + op->len, room);
		if (n == CONN_AGAIN) {
			conn_wait(op->conn);
			return;
		}
		if (n < 0 || (n == 0 && op->state == OP_HEAD)) {
			if (retry_fresh(op))
				return;
			if (n < 0)
				finish_error(op, "reading the response from %s failed: %s", op->host, conn_error(op->conn));
			else if (!op->got_bytes)
				finish_error(op, "%s closed the connection without answering", op->host);
			else
				finish_error(op, "%s closed the connection in the middle of the response head", op->host);
			return;
		}
		if (n == 0) {
			if (!op->fr.chunked && op->fr.content_length < 0) {
				if (!conn_closed_cleanly(op->conn))
					log_debug("https://%s:%u: body ended by a close without TLS close_notify",
						  op->host, op->port);
				finish_ok(op);
			} else {
				finish_error(op, "%s closed the connection in the middle of the response body (after %zu "
						 "body bytes)",
					     op->host, op->body_len);
			}
			return;
		}
		int r = got(op, (size_t)n);
		if (r < 0)
			return;
		if (r > 0) {
			finish_ok(op);
			return;
		}
	}
}

static void on_conn(void *ctx, int event)
{
	struct http_op *op = ctx;
	if (event == CONN_ERROR) {
		finish_error(op, "%s", conn_error(op->conn));
		return;
	}
	if (event == CONN_READY)
		op->state = OP_SENDING;
	if (op->state == OP_SENDING)
		do_send(op);
	else
		do_recv(op);
}

static void on_kick(void *arg)
{
	struct http_op *op = arg;
	if (op->refused) {
		finish_error(op, "request to %s refused before sending: %s", op->host, op->refused);
		return;
	}
	open_conn(op);
}

static void on_deadline(void *arg)
{
	struct http_op *op = arg;
	const char *phase = op->conn ? conn_phase(op->conn) : "";
	char what[600];
	if (*phase)
		snprintf(what, sizeof what, "%s", phase);
	else if (op->state == OP_SENDING || op->state == OP_CONNECTING || op->state == OP_START)
		snprintf(what, sizeof what, "sending the request to %s", op->host);
	else if (op->state == OP_HEAD)
		snprintf(what, sizeof what, "waiting for the response of %s", op->host);
	else if (op->fr.content_length >= 0)
		snprintf(what, sizeof what, "reading the response body from %s (%zu of %lld bytes)", op->host,
			 op->body_len, (long long)op->fr.content_length);
	else
		snprintf(what, sizeof what, "reading the response body from %s (%zu bytes so far)", op->host,
			 op->body_len);
	int64_t budget = op->deadline > op->started ? op->deadline - op->started : 0;
	finish_error(op, "timeout after %lld ms while %s", (long long)budget, what);
}

int http_client_init(const struct config *cfg)
{
	char err[300];
	g_ready = 1;
	if (conn_configure(cfg->ca_file, cfg->https_proxy, cfg->no_proxy, err, sizeof err) != 0) {
		log_warn("%s", err); /* and each request through the proxy says it */
		return -1;
	}
	return 0;
}

struct http_op *http_start(const struct http_request *req, int64_t deadline_ms, http_done_fn done, void *ctx)
{
	struct http_op *op = calloc(1, sizeof *op);
	if (!op)
		return NULL;
	op->done = done;
	op->ctx = ctx;
	op->started = loop_now_ms();
	op->deadline = deadline_ms;
	op->port = req->port;
	snprintf(op->host, sizeof op->host, "%s", req->host ? req->host : "");
	if (!g_ready) {
		op->refused = "the HTTP client is not initialized (http_client_init)";
	} else if (!req->host || strlen(req->host) >= sizeof op->host) {
		op->refused = "the host name is missing or too long";
	} else if (req->body_len > LIMIT_HTTP_REQUEST_BODY_BYTES) {
		op->refused = "the body is over LIMIT_HTTP_REQUEST_BODY_BYTES";
	} else if (req->port == 0) {
		op->refused = "port 0";
	} else {
		size_t cap = 512 + strlen(req->host) + (req->path ? strlen(req->path) : 0) +
			     (req->authorization ? strlen(req->authorization) : 0);
		op->req = malloc(cap + req->body_len);
		if (!op->req) {
			free(op);
			return NULL;
		}
		int n = http_build_head(req, op->req, cap, &op->refused);
		if (n >= 0) {
			if (req->body_len)
				memcpy(op->req + n, req->body, req->body_len);
			op->req_len = (size_t)n + req->body_len;
			log_debug("%s https://%s:%u%s", req->method, req->host, req->port, req->path);
		}
	}
	op->next = g_ops;
	g_ops = op;
	loop_timer_set(&op->kick, op->started, on_kick, op);
	loop_timer_set(&op->deadline_timer, deadline_ms, on_deadline, op);
	return op;
}

void http_cancel(struct http_op *op)
{
	if (!op || op->state == OP_DONE)
		return;
	op_free(op);
}

struct run_state {
	http_done_fn done;
	void *ctx;
	int finished;
};

static void run_done(void *ctx, const struct http_response *resp, const char *error)
{
	struct run_state *rs = ctx;
	rs->finished = 1;
	rs->done(rs->ctx, resp, error);
}

int http_run(const struct http_request *req, int64_t deadline_ms, http_done_fn done, void *ctx)
{
	struct run_state rs = {done, ctx, 0};
	struct http_op *op = http_start(req, deadline_ms, run_done, &rs);
	if (!op)
		return -1;
	while (!rs.finished) {
		if (loop_run_once(-1) < 0) {
			http_cancel(op);
			return -1;
		}
	}
	return 0;
}

void http_client_shutdown(void)
{
	/* An op whose done is running (OP_DONE) is freed when done returns. */
	struct http_op **p = &g_ops;
	while (*p) {
		struct http_op *op = *p;
		if (op->state == OP_DONE) {
			p = &op->next;
			continue;
		}
		*p = op->next; /* unlinked here, so the walk never looks at it again */
		op->next = NULL;
		op_free(op);
	}
	conn_shutdown();
	free(g_spare_buf);
	g_spare_buf = NULL;
	g_ready = 0;
}
