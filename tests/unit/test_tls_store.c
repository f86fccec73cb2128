/* Unit tests of tls_store.h: the embedded compact anchors rebuilt as
 * certificates equal, in what verification reads, to the roots of the bundle
 * they were made from; DER split by ASN.1 lengths, loading a CA file that
 * replaces the store, and the sentences that explain a verification failure. */
#include "ca_bundle.h"
#include "tls_store.h"
#include "t.h"

#include <stdlib.h>

#include "mbedtls/platform.h"

#include "mbedtls/oid.h"
#include "mbedtls/x509.h"

/* The embedded bundle rebuilt as DER certificates (tls_store_rebuild). */
static unsigned char *g_der;
static size_t g_der_len;

static void test_der_index(void)
{
	if (g_der_len == 0) {
		/* the same number of checks as below, each said skipped */
		static const char *const names[] = {
			"tls_store/counting the embedded certificates", "tls_store/every embedded certificate indexed",
			"tls_store/subjects as mbedTLS reads them", "tls_store/index bounded by cap",
			"tls_store/a cut bundle keeps the whole ones", "tls_store/length past the end",
			"tls_store/not a certificate, then a cut header"};
		for (size_t i = 0; i < sizeof names / sizeof *names; i++)
			T_SKIP(names[i], "built with EMBED_CA=0");
		return;
	}
	int bad, cap = (int)kling_ca_count;
	struct tls_anchor *idx = calloc((size_t)cap, sizeof *idx);
	const unsigned char *der = (const unsigned char *)t_guarded(g_der, g_der_len);
	T_CHECK("tls_store/counting the embedded certificates",
		tls_store_index_der(der, g_der_len, NULL, 0, &bad) == cap && bad == 0);
	int n = tls_store_index_der(der, g_der_len, idx, cap, &bad);
	T_CHECK("tls_store/every embedded certificate indexed", n == cap && bad == 0);
	/* each subject found is the one mbedTLS reads */
	int same = 0;
	for (int i = 0; i < n; i++) {
		mbedtls_x509_crt c;
		mbedtls_x509_crt_init(&c);
		if (mbedtls_x509_crt_parse_der(&c, der + idx[i].off, idx[i].len) == 0 &&
		    c.subject_raw.len == idx[i].subj_len &&
		    memcmp(c.subject_raw.p, der + idx[i].subj_off, idx[i].subj_len) == 0)
			same++;
		mbedtls_x509_crt_free(&c);
	}
	T_CHECK("tls_store/subjects as mbedTLS reads them", same == n);
	n = tls_store_index_der(der, g_der_len, idx, 2, &bad);
	T_CHECK("tls_store/index bounded by cap", n == 2 && bad == cap - 2);

	der = (const unsigned char *)t_guarded(g_der, g_der_len - 1);
	n = tls_store_index_der(der, g_der_len - 1, idx, cap, &bad);
	T_CHECK("tls_store/a cut bundle keeps the whole ones", n == cap - 1 && bad == 1);

	static const unsigned char junk[] = {0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x00};
	der = (const unsigned char *)t_guarded(junk, sizeof junk);
	n = tls_store_index_der(der, sizeof junk, idx, cap, &bad);
	T_CHECK("tls_store/length past the end", n == 0 && bad == 1);
	static const unsigned char bogus[] = {0x30, 0x03, 0x01, 0x02, 0x03, 0x30, 0x81};
	der = (const unsigned char *)t_guarded(bogus, sizeof bogus);
	n = tls_store_index_der(der, sizeof bogus, idx, cap, &bad);
	T_CHECK("tls_store/not a certificate, then a cut header", n == 0 && bad == 2);
	free(idx);
}

/* The first certificate of the embedded bundle as DER, and its length. */
static size_t first_der(void)
{
	return ((size_t)g_der[2] << 8 | g_der[3]) + 4; /* 30 82 hh ll */
}

static char *write_temp(const void *data, size_t len)
{
	static char path[64];
	snprintf(path, sizeof path, "/tmp/kling-tls-store-XXXXXX");
	int fd = mkstemp(path);
	int ok = fd >= 0 && write(fd, data, len) == (ssize_t)len;
	if (fd >= 0)
		close(fd);
	return ok ? path : NULL;
}

/* Append the text s to out[*o..) (out holds PEM_MAX bytes). */
#define PEM_MAX 65536
static void app(char *out, size_t *o, const char *s)
{
	size_t n = strlen(s);
	if (*o + n < PEM_MAX) {
		memcpy(out + *o, s, n + 1);
		*o += n;
	}
}

/* Append the PEM of der[0..n): lines of 64 characters, CRLF when crlf. */
static void pem(const unsigned char *der, size_t n, char *out, size_t *o, int crlf)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *eol = crlf ? "\r\n" : "\n";
	app(out, o, "-----BEGIN CERTIFICATE-----");
	app(out, o, eol);
	for (size_t i = 0, col = 0; i < n; i += 3) {
		unsigned v = (unsigned)der[i] << 16 | (i + 1 < n ? (unsigned)der[i + 1] << 8 : 0) |
			     (i + 2 < n ? der[i + 2] : 0);
		char q[5] = {b64[v >> 18 & 63], b64[v >> 12 & 63], i + 1 < n ? b64[v >> 6 & 63] : '=',
			     i + 2 < n ? b64[v & 63] : '=', 0};
		app(out, o, q);
		if ((col += 4) == 64 || i + 3 >= n) {
			app(out, o, eol);
			col = 0;
		}
	}
	app(out, o, "-----END CERTIFICATE-----\n");
}

static void test_file(void)
{
	char err[400];
	tls_store_configure("/nonexistent/ca.pem");
	T_CHECK("tls_store/missing file", tls_store_load(err, sizeof err) < 0 &&
						  strstr(err, "/nonexistent/ca.pem") &&
						  strstr(err, "SSL_CERT_FILE"));
	if (!g_der_len)
		return;
	/* a DER file with one certificate: the first of the bundle */
	char *path = write_temp(g_der, first_der());
	T_CHECK("tls_store/temp file", path != NULL);
	setenv("KLING_CA_FILE", path, 1);
	tls_store_configure(path);
	T_CHECK("tls_store/DER file loaded", tls_store_load(err, sizeof err) == 0);
	T_CHECK("tls_store/CA file replaces the store", tls_store_count() == 1);
	T_CHECK("tls_store/source names the variable and file",
		strstr(tls_store_source(), "KLING_CA_FILE") && strstr(tls_store_source(), "(1 certificate)"));
	T_CHECK("tls_store/loaded once", tls_store_load(err, sizeof err) == 0 && tls_store_count() == 1);
	tls_store_free();
	T_CHECK("tls_store/free forgets the source", tls_store_source()[0] == 0 && tls_store_count() == 0);
	unlink(path);

	/* PEM: two certificates (LF, then CRLF lines), a broken block between,
	 * text around them */
	size_t n1 = first_der(), n2 = ((size_t)g_der[n1 + 2] << 8 | g_der[n1 + 3]) + 4;
	char *text = malloc(PEM_MAX);
	size_t o = 0;
	app(text, &o, "# a comment\n");
	pem(g_der, n1, text, &o, 0);
	app(text, &o, "-----BEGIN CERTIFICATE-----\nnot*base64\n-----END CERTIFICATE-----\n");
	app(text, &o, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
	pem(g_der + n1, n2, text, &o, 1);
	path = write_temp(text, o);
	setenv("KLING_CA_FILE", path, 1);
	tls_store_configure(path);
	T_CHECK("tls_store/PEM file loaded", tls_store_load(err, sizeof err) == 0);
	T_CHECK("tls_store/PEM: the good blocks kept, the bad ones left out", tls_store_count() == 2);
	T_CHECK("tls_store/PEM: source counts them", strstr(tls_store_source(), "(2 certificates)") != NULL);

	/* the callback: a certificate's issuer finds its anchor; the root
	 * (self-signed) finds itself, parsed from the DER kept */
	mbedtls_x509_crt root, *cands = NULL;
	mbedtls_x509_crt_init(&root);
	T_CHECK("tls_store/parse a root", mbedtls_x509_crt_parse_der(&root, g_der + n1, n2) == 0);
	T_CHECK("tls_store/ca_cb finds the anchor by the issuer",
		tls_store_ca_cb(NULL, &root, &cands) == 0 && cands && cands->raw.len == n2 &&
			memcmp(cands->raw.p, g_der + n1, n2) == 0 && cands->next == NULL);
	mbedtls_x509_crt_free(cands);
	mbedtls_free(cands);
	static const unsigned char other[] = {0x30, 0x03, 0x31, 0x01, 0x00};
	root.issuer_raw.p = (unsigned char *)other;
	root.issuer_raw.len = sizeof other;
	cands = (mbedtls_x509_crt *)1;
	T_CHECK("tls_store/ca_cb: an unknown issuer has no candidate",
		tls_store_ca_cb(NULL, &root, &cands) == 0 && cands == NULL);
	mbedtls_x509_crt_free(&root);
	unlink(path);

	/* PEM with no usable block */
	o = 0;
	app(text, &o, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
	path = write_temp(text, o);
	setenv("KLING_CA_FILE", path, 1);
	tls_store_configure(path);
	T_CHECK("tls_store/PEM without a usable certificate",
		tls_store_load(err, sizeof err) < 0 && strstr(err, "holds no usable certificate"));
	unlink(path);
	free(text);
	unsetenv("KLING_CA_FILE");
	tls_store_configure(NULL);
}

/* The certificate that tls_store's ca_cb finds in the loaded store with
 * c's subject and key, or NULL. *chain is the list to free. */
static const mbedtls_x509_crt *original(const mbedtls_x509_crt *c, mbedtls_x509_crt **chain)
{
	mbedtls_x509_crt child;
	mbedtls_x509_crt_init(&child);
	child.issuer_raw = c->subject_raw;
	*chain = NULL;
	if (tls_store_ca_cb(NULL, &child, chain) != 0)
		return NULL;
	for (const mbedtls_x509_crt *o = *chain; o && o->raw.len; o = o->next)
		if (o->pk_raw.len == c->pk_raw.len && memcmp(o->pk_raw.p, c->pk_raw.p, c->pk_raw.len) == 0)
			return o;
	return NULL;
}

/* 1 when the rebuilt anchor c carries what mbedTLS reads of the root o. */
static int same_facts(const mbedtls_x509_crt *c, const mbedtls_x509_crt *o)
{
	const int ku = MBEDTLS_X509_EXT_KEY_USAGE;
	return memcmp(&c->valid_from, &o->valid_from, sizeof c->valid_from) == 0 &&
	       memcmp(&c->valid_to, &o->valid_to, sizeof c->valid_to) == 0 &&
	       c->MBEDTLS_PRIVATE(ca_istrue) == 1 && (o->MBEDTLS_PRIVATE(ca_istrue) || o->version < 3) &&
	       c->MBEDTLS_PRIVATE(max_pathlen) == o->MBEDTLS_PRIVATE(max_pathlen) &&
	       (c->MBEDTLS_PRIVATE(ext_types) & ku) == (o->MBEDTLS_PRIVATE(ext_types) & ku) &&
	       c->MBEDTLS_PRIVATE(key_usage) == o->MBEDTLS_PRIVATE(key_usage);
}

static void test_rebuild(void)
{
	static const char *const names[] = {
		"tls_store/every embedded anchor rebuilt",
		"tls_store/rebuilt anchors parse: v3, issuer = subject, a CA",
		"tls_store/rebuilt anchors keep the validity, key, pathLen, keyUsage of the bundle's roots",
		"tls_store/a cut anchor stops the rebuild, the whole ones kept",
		"tls_store/an anchor that does not fit is left out"};
	if (kling_ca_der_len == 0) {
		for (size_t i = 0; i < sizeof names / sizeof *names; i++)
			T_SKIP(names[i], "built with EMBED_CA=0");
		return;
	}
	int bad, idx_bad, cap = (int)kling_ca_count;
	T_CHECK(names[0], g_der_len > 0 && tls_store_index_der(g_der, g_der_len, NULL, 0, &idx_bad) == cap &&
				  idx_bad == 0);
	struct tls_anchor *idx = calloc((size_t)cap, sizeof *idx);
	int n = tls_store_index_der(g_der, g_der_len, idx, cap, &idx_bad), parsed = 0, same = 0;
	/* the roots the bundle was made from, as a CA file */
	char err[400];
	setenv("KLING_CA_FILE", TEST_CA_BUNDLE, 1);
	tls_store_configure(TEST_CA_BUNDLE);
	int have_src = tls_store_load(err, sizeof err) == 0;
	for (int i = 0; i < n; i++) {
		mbedtls_x509_crt c, *chain = NULL;
		mbedtls_x509_crt_init(&c);
		if (mbedtls_x509_crt_parse_der(&c, g_der + idx[i].off, idx[i].len) == 0 && c.version == 3 &&
		    c.MBEDTLS_PRIVATE(ca_istrue) && c.issuer_raw.len == c.subject_raw.len &&
		    memcmp(c.issuer_raw.p, c.subject_raw.p, c.subject_raw.len) == 0) {
			parsed++;
			const mbedtls_x509_crt *o = have_src ? original(&c, &chain) : NULL;
			same += o && same_facts(&c, o);
			mbedtls_x509_crt_free(chain);
			mbedtls_free(chain);
		}
		mbedtls_x509_crt_free(&c);
	}
	T_CHECK(names[1], n == cap && parsed == n);
	if (have_src)
		T_CHECK(names[2], same == n);
	else
		T_SKIP(names[2], err);
	unsetenv("KLING_CA_FILE");
	tls_store_configure(NULL);

	size_t cap2 = 2 * kling_ca_der_len + 160 * kling_ca_count, len;
	unsigned char *out = malloc(cap2);
	const unsigned char *in = (const unsigned char *)t_guarded(kling_ca_der, kling_ca_der_len - 1);
	len = tls_store_rebuild(in, kling_ca_der_len - 1, out, cap2, &bad);
	T_CHECK(names[3], bad == 1 && len == idx[n - 1].off && memcmp(out, g_der, len) == 0);
	len = tls_store_rebuild(kling_ca_der, kling_ca_der_len, out, idx[1].off + 100, &bad);
	T_CHECK(names[4], bad == 1 && len == idx[1].off);
	free(out);
	free(idx);
}

static void test_explain(void)
{
	char out[600];
	struct tls_peer_info peer;
	memset(&peer, 0, sizeof peer);
	peer.have = 1;
	strcpy(peer.subject, "CN=wrong.example");
	strcpy(peer.issuer, "CN=Some CA");
	peer.valid_from = (mbedtls_x509_time){2020, 1, 1, 0, 0, 0};
	peer.valid_to = (mbedtls_x509_time){2020, 1, 2, 0, 0, 0};
	int64_t now = 1800000000; /* 2027 */
	tls_store_explain(MBEDTLS_X509_BADCERT_NOT_TRUSTED, &peer, "api.example", now, out, sizeof out);
	T_CHECK("explain/unknown CA", strstr(out, "not signed by a trusted CA") && strstr(out, "issued by CN=Some CA") &&
					      strstr(out, "trust store:"));
	tls_store_explain(MBEDTLS_X509_BADCERT_CN_MISMATCH, &peer, "api.example", now, out, sizeof out);
	T_CHECK("explain/name mismatch", strstr(out, "(CN=wrong.example) is not valid for the name api.example") != NULL);
	tls_store_explain(MBEDTLS_X509_BADCERT_EXPIRED, &peer, "h", now, out, sizeof out);
	T_CHECK("explain/expired with dates",
		strstr(out, "expired at 2020-01-02T00:00:00Z") && strstr(out, "the clock reads 2027-01-15"));
	T_CHECK("explain/no clock hint with a sane clock", !strstr(out, "set the clock"));
	tls_store_explain(MBEDTLS_X509_BADCERT_FUTURE, &peer, "h", now, out, sizeof out);
	T_CHECK("explain/not yet valid", strstr(out, "not valid before 2020-01-01T00:00:00Z") != NULL);
	tls_store_explain(MBEDTLS_X509_BADCERT_FUTURE | MBEDTLS_X509_BADCERT_NOT_TRUSTED, &peer, "h", 1000, out,
			  sizeof out);
	T_CHECK("explain/clock before 2020", strstr(out, "the system clock reads 1970-01-01T00:16:40Z: set the clock "
							 "first") != NULL);
	T_CHECK("explain/several reasons joined", strstr(out, "); the certificate of h is not valid before 2020"));
	tls_store_explain(MBEDTLS_X509_BADCERT_REVOKED, NULL, "h", now, out, sizeof out);
	T_CHECK("explain/other flags in words", strstr(out, "revoked") != NULL && !strchr(out, '\n'));
	tls_store_explain(MBEDTLS_X509_BADCERT_NOT_TRUSTED, NULL, "h", now, out, 40);
	T_CHECK("explain/bounded", strlen(out) < 40);
}

int main(void)
{
	t_plan(35);
	size_t cap = 2 * kling_ca_der_len + 160 * kling_ca_count;
	int bad;
	g_der = malloc(cap ? cap : 1);
	g_der_len = tls_store_rebuild(kling_ca_der, kling_ca_der_len, g_der, cap, &bad);
	test_rebuild();
	test_der_index();
	test_file();
	test_explain();
	tls_store_free();
	free(g_der);
	return t_done();
}
