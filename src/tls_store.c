/* tls_store — see tls_store.h. */
#include "tls_store.h"

#include "ca_bundle.h"
#include "iso8601.h"
#include "all_limits.h"
#include "log.h"
#include "tls_err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mbedtls/asn1.h"
#include "mbedtls/platform.h"
#include "mbedtls/x509.h"

static const char *const system_bundles[] = {
	"/etc/ssl/certs/ca-certificates.crt", /* Debian, Ubuntu, Alpine, Arch */
	"/etc/pki/tls/certs/ca-bundle.crt",   /* Fedora, RHEL, CentOS */
	"/etc/ssl/cert.pem",                  /* OpenWrt, macOS, BSDs */
};

/* Before this instant (2020-01-01T00:00:00Z) the clock is surely unset:
 * every certificate we meet was issued later. */
#define CLOCK_SANE_AFTER 1577836800

static const char g_begin[] = "-----BEGIN CERTIFICATE-----";
static const char g_end[] = "-----END CERTIFICATE-----";

static const char *g_ca_file;
static const unsigned char *g_der; /* the anchors' DER: the embedded bundle, or g_owned */
static unsigned char *g_owned;     /* DER decoded from a file */
static struct tls_anchor *g_idx;
static int g_n;
static int g_loaded;
static char g_source[300];

void tls_store_configure(const char *ca_file)
{
	tls_store_free();
	g_ca_file = ca_file;
}

int tls_store_count(void) { return g_n; }

/* Length of the DER element (header + content) at p[0..avail), or 0 when
 * its header is malformed or it runs past avail. */
static size_t elem_len(const unsigned char *p, size_t avail)
{
	if (avail < 2)
		return 0;
	size_t clen, hdr;
	if (p[1] < 0x80) {
		clen = p[1];
		hdr = 2;
	} else {
		size_t nb = p[1] & 0x7f;
		if (nb == 0 || nb > 4 || avail < 2 + nb)
			return 0;
		clen = 0;
		for (size_t i = 0; i < nb; i++)
			clen = clen << 8 | p[2 + i];
		hdr = 2 + nb;
	}
	return clen > avail - hdr ? 0 : hdr + clen;
}

/* The subject Name (whole TLV) of the certificate der[0..len): *off, *n.
 * Reads only the fields before it. Returns 0, or -1 when der is not one
 * certificate's SEQUENCE with its fields in place. */
static int find_subject(const unsigned char *der, size_t len, size_t *off, size_t *n)
{
	const int seq = MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE;
	const int v0 = MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED; /* [0]: the version */
	unsigned char *p = (unsigned char *)der, *end = p + len; /* get_tag only reads */
	size_t l;
	if (mbedtls_asn1_get_tag(&p, end, &l, seq) != 0 || l != (size_t)(end - p) || /* Certificate */
	    mbedtls_asn1_get_tag(&p, end, &l, seq) != 0)                             /* tbsCertificate */
		return -1;
	end = p + l;
	if (p < end && *p == v0) { /* [0] version */
		if (mbedtls_asn1_get_tag(&p, end, &l, v0) != 0)
			return -1;
		p += l;
	}
	if (mbedtls_asn1_get_tag(&p, end, &l, MBEDTLS_ASN1_INTEGER) != 0) /* serialNumber */
		return -1;
	p += l;
	for (int i = 0; i < 3; i++) { /* signature, issuer, validity */
		if (mbedtls_asn1_get_tag(&p, end, &l, seq) != 0)
			return -1;
		p += l;
	}
	unsigned char *subject = p;
	if (mbedtls_asn1_get_tag(&p, end, &l, seq) != 0)
		return -1;
	*off = (size_t)(subject - der);
	*n = (size_t)(p + l - subject);
	return 0;
}

int tls_store_index_der(const unsigned char *der, size_t len, struct tls_anchor *out, int cap, int *bad)
{
	const unsigned char *p = der, *end = der + len;
	int n = 0;
	*bad = 0;
	while (p < end && p[0] == 0x30) { /* SEQUENCE */
		size_t el = elem_len(p, (size_t)(end - p)), so, sn;
		if (el == 0)
			break;
		size_t off = (size_t)(p - der);
		if (off + el > UINT32_MAX || find_subject(p, el, &so, &sn) != 0 || (out && n >= cap)) {
			(*bad)++;
		} else {
			if (out)
				out[n] = (struct tls_anchor){(uint32_t)off, (uint32_t)el,
							     (uint32_t)(off + so), (uint32_t)sn};
			n++;
		}
		p += el;
	}
	if (p != end)
		(*bad)++;
	return n;
}

/* Decode the base64 of s[0..n) (white space skipped) into out, which may be
 * s itself or lie before it (each 4 characters read give 3 bytes written).
 * Returns the byte count, or -1 when s is not base64. */
static long b64_decode(const unsigned char *s, size_t n, unsigned char *out)
{
	uint32_t acc = 0;
	int bits = 0, pad = 0;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned c = s[i];
		unsigned v;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			if (++pad > 2)
				return -1;
			continue;
		}
		if (pad)
			return -1; /* data after the padding */
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+')
			v = 62;
		else if (c == '/')
			v = 63;
		else
			return -1;
		acc = acc << 6 | v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return (long)o;
}

/* Turn the CERTIFICATE blocks of the PEM text buf[0..len) into their DER,
 * one after the other from buf[0], in place. A block that is not base64 of
 * one certificate is left out and counted in *bad. Returns the DER bytes. */
static size_t pem_to_der(unsigned char *buf, size_t len, int *bad)
{
	size_t r = 0, w = 0;
	*bad = 0;
	for (;;) {
		const unsigned char *b = memmem(buf + r, len - r, g_begin, sizeof g_begin - 1);
		if (!b)
			break;
		size_t body = (size_t)(b - buf) + sizeof g_begin - 1;
		const unsigned char *e = memmem(buf + body, len - body, g_end, sizeof g_end - 1);
		if (!e) {
			(*bad)++; /* cut short */
			break;
		}
		long k = b64_decode(buf + body, (size_t)(e - buf) - body, buf + w);
		size_t so, sn;
		if (k > 0 && elem_len(buf + w, (size_t)k) == (size_t)k &&
		    find_subject(buf + w, (size_t)k, &so, &sn) == 0)
			w += (size_t)k;
		else
			(*bad)++;
		r = (size_t)(e - buf) + sizeof g_end - 1;
	}
	return w;
}

/* The embedded anchors (tools/gen_ca.py, whose docstring lists what mbedTLS
 * reads of a trusted root and so what each anchor keeps) are rebuilt, when
 * the embedded bundle is the store, into certificates mbedTLS parses: v3,
 * serial 1, a signatureAlgorithm that fits the key, issuer = subject, the
 * validity, subject and key, basicConstraints cA (pathLen) and keyUsage,
 * and an empty signature (never checked: the chain walk stops at a trusted
 * root). Those are all the fields of a trusted root that mbedTLS 3.6's
 * x509_crt_check_parent, x509_crt_find_parent_in and x509_crt_verify_chain
 * read; the serial and issuer serve only CRLs, which are not used.
 * Rebuilding is pure, so the same bundle gives the same bytes. Each is
 * written backwards, from its end, so that every length is
 * known when its header is written. */
enum { A_NB_GEN = 1, A_NA_GEN = 2, A_PATHLEN = 4, A_KU = 8, A_EC = 16, A_MAX_EXTRA = 160 };

static unsigned char *put(unsigned char *p, const void *src, size_t n) { return memcpy(p - n, src, n); }

/* Put the tag and minimal DER length of the contents p[0..end) before them. */
static unsigned char *wrap(unsigned char *p, const unsigned char *end, unsigned char tag)
{
	size_t n = (size_t)(end - p), k = n;
	if (n > 0x7f) {
		unsigned char nb = 0x80;
		for (; k; k >>= 8, nb++)
			*--p = (unsigned char)k;
		*--p = nb;
	} else {
		*--p = (unsigned char)n;
	}
	*--p = tag;
	return p;
}

/* UTCTime (YYMMDDhhmmssZ) or GeneralizedTime of the 7 BCD bytes bcd. */
static unsigned char *put_time(unsigned char *p, const unsigned char *bcd, int gen)
{
	unsigned char *end = p;
	*--p = 'Z';
	int first = gen ? 0 : 1; /* UTCTime leaves out the century */
	for (int i = 6; i >= first; i--) {
		*--p = (unsigned char)('0' + (bcd[i] & 15));
		*--p = (unsigned char)('0' + (bcd[i] >> 4));
	}
	return wrap(p, end, gen ? 0x18 : 0x17);
}

/* Rebuild the anchor at in[0..avail) into out[0..cap): *used and *made are
 * the bytes read and written. Returns 0, or -1 when it is malformed or
 * does not fit. */
static int rebuild_one(const unsigned char *in, size_t avail, unsigned char *out, size_t cap, size_t *used,
		       size_t *made)
{
	/* sha256WithRSAEncryption, ecdsa-with-SHA256: parsed, never used (the
	 * chain walk stops at a trusted root before its sig_md is checked) */
	static const unsigned char rsa[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
					    0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00};
	static const unsigned char ec[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
	static const unsigned char v3_serial1[] = {0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x01, 0x01};
	static const unsigned char ext_ku[] = {0x06, 0x03, 0x55, 0x1d, 0x0f, 0x01, 0x01, 0xff};
	static const unsigned char ext_bc[] = {0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff};
	unsigned flags = avail ? in[0] : 0;
	size_t i = 1, pl = flags & A_PATHLEN ? i++ : 0, ku = i, kn;
	if (avail < i + 14)
		return -1;
	kn = flags & A_KU ? elem_len(in + i, avail - i - 14) : 0;
	if ((flags & A_KU) && !kn)
		return -1;
	const unsigned char *t = in + i + kn, *subj = t + 14;
	size_t sn = elem_len(subj, avail - i - kn - 14), left = avail - i - kn - 14 - sn;
	size_t kyn = sn ? elem_len(subj + sn, left) : 0;
	if (!kyn || 2 * sn + kn + kyn + A_MAX_EXTRA > cap)
		return -1;
	unsigned char *end = out + 2 * sn + kn + kyn + A_MAX_EXTRA, *p = put(end, "\x03\x01\x00", 3);
	const unsigned char *alg = flags & A_EC ? ec : rsa;
	p = put(p, alg, alg[1] + 2u);
	unsigned char *tbs = p, *x = p;
	if (flags & A_KU) {
		p = wrap(put(p, in + ku, kn), x, 0x04);
		p = wrap(put(p, ext_ku, sizeof ext_ku), x, 0x30);
	}
	unsigned char *bc = p;
	if (flags & A_PATHLEN)
		p = put(p, (const unsigned char[]){0x02, 0x01, in[pl]}, 3);
	p = wrap(wrap(put(p, "\x01\x01\xff", 3), bc, 0x30), bc, 0x04);
	p = wrap(wrap(wrap(put(p, ext_bc, sizeof ext_bc), bc, 0x30), x, 0x30), x, 0xa3);
	p = put(put(p, subj + sn, kyn), subj, sn);
	unsigned char *v = p;
	p = wrap(put_time(put_time(p, t + 7, (flags & A_NA_GEN) != 0), t, (flags & A_NB_GEN) != 0), v, 0x30);
	p = put(put(put(p, subj, sn), alg, alg[1] + 2u), v3_serial1, sizeof v3_serial1);
	p = wrap(wrap(p, tbs, 0x30), end, 0x30);
	*made = (size_t)(end - p);
	memmove(out, p, *made);
	*used = i + kn + 14 + sn + kyn;
	return 0;
}

size_t tls_store_rebuild(const unsigned char *in, size_t len, unsigned char *out, size_t cap, int *bad)
{
	size_t r = 0, w = 0, used, made;
	*bad = 0;
	while (r < len) {
		if (rebuild_one(in + r, len - r, out + w, cap - w, &used, &made) != 0) {
			(*bad)++; /* the rest cannot be split: stop */
			break;
		}
		r += used;
		w += made;
	}
	return w;
}

/* Make der[0..len) the store (owned: free it with the store). Returns the
 * number of anchors (0: the store stays empty), or -1 out of memory. */
static int adopt(const unsigned char *der, size_t len, unsigned char *owned, int *bad)
{
	int n = tls_store_index_der(der, len, NULL, 0, bad);
	if (n == 0) {
		free(owned);
		return 0;
	}
	struct tls_anchor *idx = malloc((size_t)n * sizeof *idx);
	if (!idx) {
		free(owned);
		return -1;
	}
	tls_store_index_der(der, len, idx, n, bad);
	g_der = der;
	g_owned = owned;
	g_idx = idx;
	g_n = n;
	return n;
}

/* Rebuild the embedded anchors as the store (the embedded bytes are read
 * here only). Returns the number of anchors (0: none), or -1 out of memory;
 * *bad counts those left out. */
static int load_embedded(int *bad)
{
	int bad_der = 0;
	size_t cap = 2 * kling_ca_der_len + A_MAX_EXTRA * kling_ca_count, len = 0;
	unsigned char *buf = malloc(cap ? cap : 1), *fit;
	if (!buf)
		return -1;
	len = tls_store_rebuild(kling_ca_der, kling_ca_der_len, buf, cap, bad);
	if ((fit = realloc(buf, len ? len : 1)) != NULL) /* give back the room not needed */
		buf = fit;
	int n = adopt(buf, len, buf, &bad_der);
	*bad += bad_der;
	return n;
}

/* Load a PEM file (or DER certificates) as the store. Returns the number
 * of anchors, or -1 with err set. */
static int load_file(const char *path, const char *label, char *err, size_t errcap)
{
	struct stat st;
	/* O_NONBLOCK: a FIFO (or a device) opens at once instead of waiting for
	 * a writer in the loop's thread; it is then refused as not a regular file.
	 * A regular file reads the same either way. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errcap, "cannot read the CA file %s (%s): %s", path, label, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > LIMIT_CA_FILE_BYTES) {
		snprintf(err, errcap, "cannot read the CA file %s (%s): %s", path, label,
			 S_ISREG(st.st_mode) ? "larger than LIMIT_CA_FILE_BYTES" : "not a regular file");
		close(fd);
		return -1;
	}
	size_t cap = (size_t)st.st_size, len = 0;
	unsigned char *buf = malloc(cap ? cap : 1);
	while (buf && len < cap) {
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errcap, "cannot read the CA file %s (%s): %s", path, label,
				 strerror(errno));
			free(buf);
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (!buf) {
		snprintf(err, errcap, "cannot read the CA file %s (%s): out of memory", path, label);
		return -1;
	}
	int bad = 0, bad_der, pem = memmem(buf, len, g_begin, sizeof g_begin - 1) != NULL;
	int der = !pem && len && buf[0] == 0x30; /* else: not a certificate file at all */
	if (pem) {
		len = pem_to_der(buf, len, &bad);
		unsigned char *fit = realloc(buf, len ? len : 1); /* the text is gone: give back the rest */
		if (fit)
			buf = fit;
	}
	int n = adopt(buf, len, buf, &bad_der);
	bad += bad_der;
	if (n <= 0) {
		snprintf(err, errcap, "the CA file %s (%s) holds no usable certificate: %s", path, label,
			 n < 0	       ? "out of memory"
			 : pem || der ? "none could be read"
				      : "no certificate in it (neither PEM nor DER)");
		return -1;
	}
	if (bad)
		log_info("trust store: %d certificate(s) of %s could not be read and were skipped", bad,
			 path);
	return n;
}

int tls_store_load(char *err, size_t errcap)
{
	if (g_loaded)
		return 0;
	int n;
	if (g_ca_file) {
		const char *k = getenv("KLING_CA_FILE");
		const char *label = k && strcmp(k, g_ca_file) == 0 ? "KLING_CA_FILE" : "SSL_CERT_FILE";
		if ((n = load_file(g_ca_file, label, err, errcap)) < 0)
			return -1;
		snprintf(g_source, sizeof g_source, "%s %s (%d certificate%s)", label, g_ca_file, n, n == 1 ? "" : "s");
	} else {
		n = -1;
		for (size_t i = 0; n < 0 && i < sizeof system_bundles / sizeof *system_bundles; i++) {
			struct stat st;
			if (stat(system_bundles[i], &st) != 0)
				continue;
			char why[300];
			n = load_file(system_bundles[i], "system bundle", why, sizeof why);
			if (n < 0)
				log_warn("trust store: %s", why);
			else
				snprintf(g_source, sizeof g_source, "system bundle %s (%d certificates)",
					 system_bundles[i], n);
		}
		if (n < 0) {
			int bad = 0;
			n = KLING_EMBED_CA ? load_embedded(&bad) : 0; /* EMBED_CA=0: no rebuild code linked */
			if (bad)
				log_info("trust store: %d embedded certificate(s) could not be read", bad);
			if (n <= 0) {
				snprintf(err, errcap,
					 "no trust store: KLING_CA_FILE is not set, no system CA bundle exists "
					 "(/etc/ssl/certs/ca-certificates.crt, /etc/pki/tls/certs/ca-bundle.crt, "
					 "/etc/ssl/cert.pem) and this build embeds none (EMBED_CA=0)");
				return -1;
			}
			snprintf(g_source, sizeof g_source, "embedded bundle (%d certificates)", n);
		}
	}
	g_loaded = 1;
	log_debug("trust store: %s", g_source);
	return 0;
}

int tls_store_ca_cb(void *ctx, mbedtls_x509_crt const *child, mbedtls_x509_crt **candidates)
{
	(void)ctx;
	mbedtls_x509_crt *chain = NULL;
	for (int i = 0; i < g_n; i++) {
		const struct tls_anchor *a = &g_idx[i];
		if (a->subj_len != child->issuer_raw.len ||
		    memcmp(g_der + a->subj_off, child->issuer_raw.p, a->subj_len) != 0)
			continue;
		if (!chain) {
			chain = mbedtls_calloc(1, sizeof *chain); /* mbedTLS frees it with mbedtls_free */
			if (!chain)
				return -1;
			mbedtls_x509_crt_init(chain);
		}
		if (mbedtls_x509_crt_parse_der_nocopy(chain, g_der + a->off, a->len) != 0)
			log_debug("trust store: certificate %d of %s could not be parsed", i + 1, g_source);
	}
	if (chain && chain->raw.len == 0) { /* none parsed */
		mbedtls_x509_crt_free(chain);
		mbedtls_free(chain);
		chain = NULL;
	}
	*candidates = chain;
	return 0;
}

const char *tls_store_source(void) { return g_source; }

/* 1 when crt has an IP-type subjectAltName of the n bytes ip. Without the
 * extension the list is one zeroed entry: tag 0, not an IP. */
static int has_ip_san(const mbedtls_x509_crt *crt, const unsigned char *ip, size_t n)
{
	const mbedtls_x509_sequence *s = &crt->subject_alt_names;
	do {
		if ((s->buf.tag & MBEDTLS_ASN1_TAG_VALUE_MASK) == MBEDTLS_X509_SAN_IP_ADDRESS && s->buf.len == n &&
		    memcmp(s->buf.p, ip, n) == 0)
			return 1;
		s = s->next;
	} while (s);
	return 0;
}

int tls_store_verify_cb(void *p_info, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
	struct tls_peer_info *info = p_info;
	if (depth == 0 && info && info->ip_len && !has_ip_san(crt, info->ip, info->ip_len))
		*flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
	if (depth == 0 && info) {
		info->have = 1;
		if (mbedtls_x509_dn_gets(info->subject, sizeof info->subject, &crt->subject) < 0)
			info->subject[0] = 0;
		if (mbedtls_x509_dn_gets(info->issuer, sizeof info->issuer, &crt->issuer) < 0)
			info->issuer[0] = 0;
		info->valid_from = crt->valid_from;
		info->valid_to = crt->valid_to;
	}
	return 0;
}

/* Append to out the formatted text, after "; " when out is not empty. */
static void add(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void add(char *out, size_t cap, const char *fmt, ...)
{
	size_t n = strlen(out);
	if (n && n + 2 < cap) {
		memcpy(out + n, "; ", 3);
		n += 2;
	}
	if (n + 1 >= cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out + n, cap - n, fmt, ap);
	va_end(ap);
}

/* The verification flags other than the four explained with details; the
 * words are ours (MBEDTLS_X509_REMOVE_INFO leaves mbedTLS's out). */
static const struct {
	uint32_t flag;
	const char *text;
} g_flag_words[] = {
	{MBEDTLS_X509_BADCERT_REVOKED, "the certificate has been revoked"},
	{MBEDTLS_X509_BADCERT_MISSING, "the server sent no certificate"},
	{MBEDTLS_X509_BADCERT_SKIP_VERIFY, "the certificate was not checked"},
	{MBEDTLS_X509_BADCERT_KEY_USAGE, "the certificate's key usage does not allow TLS"},
	{MBEDTLS_X509_BADCERT_EXT_KEY_USAGE, "the certificate is not for TLS servers (extended key usage)"},
	{MBEDTLS_X509_BADCERT_NS_CERT_TYPE, "the certificate is not for TLS servers (Netscape type)"},
	{MBEDTLS_X509_BADCERT_BAD_MD, "a certificate of the chain is signed with a hash not accepted"},
	{MBEDTLS_X509_BADCERT_BAD_PK, "a certificate of the chain has a key type that is not accepted"},
	{MBEDTLS_X509_BADCERT_BAD_KEY, "a certificate of the chain has a key that is too small"},
	{MBEDTLS_X509_BADCERT_OTHER, "the certificate was refused for another reason"},
};

/* "YYYY-MM-DDThh:mm:ssZ" of Unix seconds t, or "?" outside 1970..9999. */
static void fmt_unix(int64_t t, char *out, size_t cap)
{
	char iso[ISO8601_LEN + 1];
	if (t < 0 || t > ISO8601_MAX_MS / 1000 || iso8601_format(t * 1000, iso) < 0)
		snprintf(out, cap, "?");
	else
		snprintf(out, cap, "%.19sZ", iso); /* without the milliseconds */
}

static void fmt_x509_time(const mbedtls_x509_time *t, char *out, size_t cap)
{
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", t->year, t->mon, t->day, t->hour, t->min, t->sec);
}

void tls_store_explain(uint32_t flags, const struct tls_peer_info *peer, const char *host, int64_t now_s, char *out,
		       size_t cap)
{
	out[0] = 0;
	int64_t now = now_s;
	char nowstr[32];
	fmt_unix(now, nowstr, sizeof nowstr);
	char from[32] = "?", to[32] = "?";
	if (peer && peer->have) {
		fmt_x509_time(&peer->valid_from, from, sizeof from);
		fmt_x509_time(&peer->valid_to, to, sizeof to);
	}
	uint32_t rest = flags;
	if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) {
		add(out, cap, "the certificate of %s%s%s%s is not signed by a trusted CA (trust store: %s)", host,
		    peer && peer->have ? " (issued by " : "", peer && peer->have ? peer->issuer : "",
		    peer && peer->have ? ")" : "", g_source[0] ? g_source : "none");
		rest &= ~(uint32_t)MBEDTLS_X509_BADCERT_NOT_TRUSTED;
	}
	if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) {
		add(out, cap, "the certificate%s%s%s is not valid for the name %s", peer && peer->have ? " (" : "",
		    peer && peer->have ? peer->subject : "", peer && peer->have ? ")" : "", host);
		rest &= ~(uint32_t)MBEDTLS_X509_BADCERT_CN_MISMATCH;
	}
	if (flags & MBEDTLS_X509_BADCERT_EXPIRED) {
		add(out, cap, "the certificate of %s expired at %s (the clock reads %s)", host, to, nowstr);
		rest &= ~(uint32_t)MBEDTLS_X509_BADCERT_EXPIRED;
	}
	if (flags & MBEDTLS_X509_BADCERT_FUTURE) {
		add(out, cap, "the certificate of %s is not valid before %s (the clock reads %s)", host, from, nowstr);
		rest &= ~(uint32_t)MBEDTLS_X509_BADCERT_FUTURE;
	}
	for (size_t i = 0; rest && i < sizeof g_flag_words / sizeof *g_flag_words; i++) {
		if (rest & g_flag_words[i].flag) {
			add(out, cap, "%s", g_flag_words[i].text);
			rest &= ~g_flag_words[i].flag;
		}
	}
	if (rest)
		add(out, cap, "the certificate was not accepted (verification flags 0x%x)", (unsigned)rest);
	if (now < CLOCK_SANE_AFTER)
		add(out, cap, "the system clock reads %s: set the clock first (e.g. with NTP), certificates cannot be "
			      "checked without it", nowstr);
}

void tls_store_free(void)
{
	free(g_owned);
	free(g_idx);
	g_owned = NULL;
	g_idx = NULL;
	g_der = NULL;
	g_n = 0;
	g_loaded = 0;
	g_source[0] = 0;
}
