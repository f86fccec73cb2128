/*
 * http_parse — the pure parts of HTTP/1.1: response heads, body framing,
 * Retry-After, chunked decoding, and request heads (for the HTTP transport).
 * No I/O, no allocation, no global state: unit-tested and fuzzed. Buffers are
 * (ptr, len) and never read past len. Includes no I/O module.
 */
#ifndef KLING_HTTP_PARSE_H
#define KLING_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum {
	HTTP_PARSE_INVALID = -1,    /* not HTTP, or malformed */
	HTTP_PARSE_INCOMPLETE = -2, /* need more bytes */
	HTTP_PARSE_TOO_MANY = -3,   /* more headers than the caller's array */
	HTTP_PARSE_TOO_BIG = -4,    /* chunked: the body passes the decoder's limit */
};

struct http_header {
	const char *name; /* not NUL-terminated */
	size_t name_len;
	const char *value; /* leading and trailing blanks removed */
	size_t value_len;
};

/* Parse a response head (status line and headers up to the empty line) at
 * the start of buf[0..len). CRLF or bare LF line ends; obsolete line folding,
 * control characters, malformed names and a status outside 100..599 are
 * invalid. On entry *num_headers
 * is the capacity of headers[]; on success it is the count found.
 * Returns the head's length in bytes (the body starts there), or
 * HTTP_PARSE_INVALID / _INCOMPLETE / _TOO_MANY. Only the first INT_MAX bytes
 * are looked at. */
int http_parse_response_head(const char *buf, size_t len, int *minor_version, int *status,
			     struct http_header *headers, size_t *num_headers);

/* How the body of a parsed response is delimited, and what else we read
 * from its headers. */
struct http_framing {
	int chunked;            /* Transfer-Encoding: chunked */
	int64_t content_length; /* -1 when absent */
	int no_body;            /* 1xx, 204, 304: nothing follows the head */
	int keep_alive;         /* the connection may carry another request */
	int retry_after_s;      /* -1 when absent or unreadable */
	const char *content_type, *location; /* views into the head, NULL when absent */
	size_t content_type_len, location_len;
	const char *error;      /* on failure: why, a static sentence */
};

/* Read the framing of a response from its parsed head. now_s (Unix seconds)
 * turns a Retry-After date into seconds. Content-Length repeated (even with
 * the same value), listed, signed or not a number, Transfer-Encoding other
 * than exactly "chunked", or both headers at once, are refused. Returns 0, or
 * -1 with f->error set. */
int http_parse_read_framing(int minor_version, int status, const struct http_header *h, size_t nh, int64_t now_s,
		      struct http_framing *f);

/* Retry-After value: delta-seconds or an IMF-fixdate ("Sun, 06 Nov 1994
 * 08:49:37 GMT") taken relative to now_s. Returns seconds (clamped to
 * 0..86400), or -1 when unreadable. */
int http_parse_retry_after(const char *v, size_t len, int64_t now_s);

/* State of a chunked decoder. Zero it, set limit (most body bytes allowed),
 * then feed it buffers in order. */
struct http_chunked {
	size_t limit;      /* set by the caller */
	size_t total;      /* body bytes decoded so far */
	size_t overhead;   /* framing bytes seen so far */
	const char *error; /* why, after INVALID or TOO_BIG */
	/* private */
	int state;
	uint64_t left;     /* bytes left in the current chunk */
	unsigned digits;
	size_t line;       /* bytes in the current size/trailer line */
	size_t trailer;    /* bytes of trailers */
};

/* Decode buf[0..*len) in place: on return buf[0..*len) holds the body bytes
 * decoded by this call. Chunk extensions and trailers are skipped; framing is
 * bounded (LIMIT_HTTP_CHUNK_LINE_BYTES per line, trailers within
 * LIMIT_HTTP_HEAD_BYTES, LIMIT_HTTP_CHUNK_OVERHEAD_BYTES overall). Returns
 * HTTP_PARSE_INCOMPLETE (all input used, feed more), HTTP_PARSE_INVALID or
 * HTTP_PARSE_TOO_BIG (d->error says why), or >= 0 when the body is complete:
 * the count of bytes after the message's end (left in place, not moved). */
ssize_t http_parse_decode_chunked(struct http_chunked *d, char *buf, size_t *len);

/* The first header named name (case-insensitive; name in lower case), or
 * NULL; *count (when not NULL) is set to how many headers have that name. */
const struct http_header *http_parse_header_find(const struct http_header *h, size_t nh, const char *name, size_t *count);

/* A request line: views into the caller's buffer, not NUL-terminated. */
struct http_request_line {
	const char *method; /* a token: GET, POST, DELETE, OPTIONS... */
	size_t method_len;
	const char *target; /* the request-target as sent: "/mcp?x=1", "*", or an absolute URI */
	size_t target_len;
	int minor_version; /* 0 or 1: HTTP/1.0 or HTTP/1.1 */
};

/* Parse a request head (request line and headers up to the empty line) at
 * the start of buf[0..len), for a server. Empty lines before the request line
 * are skipped (RFC 9112 2.2). CRLF or bare LF line ends; a bare CR,
 * obsolete line folding, control characters, a method that is not a token, a
 * target with a space, control or non-ASCII byte, a version other than
 * HTTP/1.0 or HTTP/1.1 are invalid, as soon as the bytes show it (even
 * before the head is complete). On entry *num_headers is the capacity of
 * headers[] (at most LIMIT_HTTP_HEADERS are used); on success the count found.
 * Returns the head's length in bytes (the body starts there), or
 * HTTP_PARSE_INCOMPLETE (need more bytes; only while fewer than
 * LIMIT_HTTP_HEAD_BYTES have come), HTTP_PARSE_INVALID, HTTP_PARSE_TOO_MANY
 * (more headers than allowed) or HTTP_PARSE_TOO_BIG (the head is, or would
 * be, over LIMIT_HTTP_HEAD_BYTES). */
int http_parse_request_head(const char *buf, size_t len, struct http_request_line *rl, struct http_header *headers,
			    size_t *num_headers);

/* How a request's body is delimited, and what else the server needs. */
struct http_request_framing {
	int chunked;            /* Transfer-Encoding: chunked */
	int64_t content_length; /* 0 when neither header is present */
	int keep_alive;         /* the client may send another request on the connection */
	int expect_continue;    /* Expect: 100-continue */
	const char *host;       /* the Host value (a view), NULL when absent */
	size_t host_len;
	int status;             /* on failure: the status to answer, 400 or 501 */
	const char *error;      /* on failure: why, a static sentence */
};

/* Read the framing of a request from its parsed head (RFC 9112 6): refused
 * (400) are Content-Length repeated (even with the same value), listed,
 * signed, empty or not a number of at most 18 digits; Transfer-Encoding
 * repeated, or in an HTTP/1.0 request; both headers at once (request
 * smuggling); a missing (HTTP/1.1) or repeated Host; an Expect other than
 * 100-continue (417 is not used: 400). A Transfer-Encoding other than exactly
 * "chunked" is 501. Returns 0, or -1 with f->status and f->error set. */
int http_parse_read_request_framing(const struct http_request_line *rl, const struct http_header *h, size_t nh,
			      struct http_request_framing *f);

/* Write "host:port" into out[0..cap), with brackets around an IPv6 literal
 * ("[::1]:8443"), the port left out when it is omit_port (443 for https, 0
 * for never). Returns the length, or -1 when it does not fit. */
int http_parse_format_host_port(char *out, size_t cap, const char *host, unsigned port, unsigned omit_port);

/* 1 for a byte allowed in a header value or reason phrase: visible ASCII,
 * blank, or obs-text (>= 0x80); 0 for CR, LF, NUL and other controls. */
int http_parse_is_field_char(unsigned char c);

#endif
