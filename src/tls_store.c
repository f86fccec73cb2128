/* tls_store — see tls_store.h. */
#include "tls_store.h"

#include "ca_bundle.h"
#include "iso8601.h"
#include "log.h"
#include "tls_err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mbedtls/x509.h"

static const char *const system_bundles[] = {
	"/etc/ssl/certs/ca-certificates.crt", /* Debian, Ubuntu, Alpine, Arch */
	"/etc/pki/tls/certs/ca-bundle.crt",   /* Fedora, RHEL, CentOS */
	"/etc/ssl/cert.pem",                  /* OpenWrt, macOS, BSDs */
};

/* Before this instant (2020-01-01T00:00:00Z) the clock is surely unset:
 * every certificate we meet was issued later. */
#define CLOCK_SANE_AFTER 1577836800

static const char *g_ca_file;
static mbedtls_x509_crt g_chain;
static int g_loaded;
static char g_source[300];

void tls_store_configure(const char *ca_file)
{
	tls_store_free();
	g_ca_file = ca_file;
}

static int count_certs(const mbedtls_x509_crt *c)
{
	int n = 0;
	for (; c && c->raw.len; c = c->next)
		n++;
	return n;
}

/* Parse a PEM (or single DER) file into g_chain. Returns the number of
 * certificates, or -1 with err set. */
static int load_file(const char *path, const char *label, char *err, size_t errcap)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		snprintf(err, errcap, "cannot read the CA file %s (%s): %s", path, label, strerror(errno));
		return -1;
	}
	int r = mbedtls_x509_crt_parse_file(&g_chain, path);
	int n = count_certs(&g_chain);
	if (r < 0 || n == 0) {
		char why[120] = "no certificate in it";
		if (r < 0)
			tls_err_text(r, why, sizeof why);
		snprintf(err, errcap, "the CA file %s (%s) holds no usable certificate: %s", path, label, why);
		mbedtls_x509_crt_free(&g_chain);
		mbedtls_x509_crt_init(&g_chain);
		return -1;
	}
	if (r > 0)
		log_info("trust store: %d certificate(s) of %s could not be parsed and were skipped", r, path);
	return n;
}

int tls_store_parse_der_list(mbedtls_x509_crt *chain, const unsigned char *der, size_t len, int *bad)
{
	const unsigned char *p = der, *end = der + len;
	int n = 0;
	*bad = 0;
	while (end - p >= 2 && p[0] == 0x30) { /* SEQUENCE */
		size_t clen, hdr;
		if (p[1] < 0x80) {
			clen = p[1];
			hdr = 2;
		} else {
			size_t nb = p[1] & 0x7f;
			if (nb == 0 || nb > 4 || (size_t)(end - p) < 2 + nb)
				break;
			clen = 0;
			for (size_t i = 0; i < nb; i++)
				clen = clen << 8 | p[2 + i];
			hdr = 2 + nb;
		}
		if (clen > (size_t)(end - p) - hdr)
			break;
		if (mbedtls_x509_crt_parse_der_nocopy(chain, p, hdr + clen) == 0)
			n++;
		else
			(*bad)++;
		p += hdr + clen;
	}
	if (p != end)
		(*bad)++;
	return n;
}

/* The embedded bundle (ca_bundle.h). Returns the count parsed. */
static int load_embedded(void)
{
	int bad;
	tls_store_parse_der_list(&g_chain, kling_ca_der, kling_ca_der_len, &bad);
	if (bad)
		log_info("trust store: %d embedded certificate(s) could not be parsed", bad);
	return count_certs(&g_chain);
}

mbedtls_x509_crt *tls_store_get(char *err, size_t errcap)
{
	if (g_loaded)
		return &g_chain;
	mbedtls_x509_crt_init(&g_chain);
	int n;
	if (g_ca_file) {
		const char *k = getenv("KLING_CA_FILE");
		const char *label = k && strcmp(k, g_ca_file) == 0 ? "KLING_CA_FILE" : "SSL_CERT_FILE";
		if ((n = load_file(g_ca_file, label, err, errcap)) < 0)
			return NULL;
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
			n = load_embedded();
			if (n == 0) {
				snprintf(err, errcap,
					 "no trust store: KLING_CA_FILE is not set, no system CA bundle exists "
					 "(/etc/ssl/certs/ca-certificates.crt, /etc/pki/tls/certs/ca-bundle.crt, "
					 "/etc/ssl/cert.pem) and this build embeds none (EMBED_CA=0)");
				mbedtls_x509_crt_free(&g_chain);
				return NULL;
			}
			snprintf(g_source, sizeof g_source, "embedded bundle (%d certificates)", n);
		}
	}
	g_loaded = 1;
	log_debug("trust store: %s", g_source);
	return &g_chain;
}

const char *tls_store_source(void) { return g_source; }

int tls_store_verify_cb(void *p_info, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
	(void)flags;
	struct tls_peer_info *info = p_info;
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
	{MBEDTLS_X509_BADCERT_NS_CERT_TYPE, "the certificate is not for TLS servers (Netscape certificate type)"},
	{MBEDTLS_X509_BADCERT_BAD_MD, "a certificate of the chain is signed with a hash that is not accepted"},
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
	mbedtls_x509_crt_free(&g_chain); /* safe on a zeroed or empty chain */
	mbedtls_x509_crt_init(&g_chain);
	g_loaded = 0;
	g_source[0] = 0;
}
