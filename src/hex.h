/*
 * hex — the value of one hexadecimal digit. Pure; shared by the JSON \u
 * escapes, the proxy URL's percent escapes and the HTTP chunk sizes.
 */
#ifndef KLING_HEX_H
#define KLING_HEX_H

/* 0..15 for '0'-'9', 'a'-'f', 'A'-'F'; -1 for any other byte. */
int hex_value(unsigned char c);

#endif
