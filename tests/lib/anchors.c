/*
 * anchors — the embedded bundle's rebuild (tls_store_rebuild) from the
 * command line: reads compact trust anchors (tools/gen_ca.py's form) on
 * standard input and writes the DER certificates rebuilt from them on
 * standard output, which a test then gives the HTTP client as its CA file.
 *
 * usage: anchors < ANCHORS > CERTS.der
 * Exit 0, or 1 when an anchor could not be rebuilt (nothing is written).
 */
#include "tls_store.h"

#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	static unsigned char in[1 << 20];
	size_t len = fread(in, 1, sizeof in, stdin);
	size_t cap = 2 * len + 4096;
	unsigned char *out = malloc(cap);
	int bad = 0;
	size_t n = out ? tls_store_rebuild(in, len, out, cap, &bad) : 0;
	if (!out || bad || !n) {
		fprintf(stderr, "anchors: %s\n", out ? "an anchor could not be rebuilt" : "out of memory");
		return 1;
	}
	fwrite(out, 1, n, stdout);
	free(out);
	return 0;
}
