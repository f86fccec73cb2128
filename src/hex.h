/*
 * hex — the byte encodings: the value of one hexadecimal digit (the JSON \u
 * escapes, the proxy URL's percent escapes, the HTTP chunk sizes) and
 * base64url (the JWT's parts, the task ids of mcp_tasks). Pure.
 */
#ifndef KLING_HEX_H
#define KLING_HEX_H

#include <stddef.h>

/* 0..15 for '0'-'9', 'a'-'f', 'A'-'F'; -1 for any other byte. */
int hex_value(unsigned char c);

/* base64url without padding of in[0..n) into out[cap] with a NUL. Returns the
 * length written, or -1 when cap is too small. */
int hex_b64url(const unsigned char *in, size_t n, char *out, size_t cap);

#endif
