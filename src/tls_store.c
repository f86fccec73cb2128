/* tls_store — see tls_store.h. */
#include "tls_store.h"

#include "ca_bundle.h"
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mbedtls/error.h"
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
			mbedtls_strerror(r, why, sizeof why);
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

/* NOLINTNEXTLINE(readability-non-const-parameter): mbedTLS's f_vrfy signature */
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

static void fmt_x509_time(const mbedtls_x509_time *t, char *out, size_t cap)
{
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", t->year, t->mon, t->day, t->hour, t->min, t->sec);
}

void tls_store_explain(uint32_t flags, const struct tls_peer_info *peer, const char *host, int64_t now_s, char *out,
		       size_t cap)
{
	out[0] = 0;
	time_t now = (time_t)now_s;
	struct tm tm;
	char nowstr[32] = "?";
	if (gmtime_r(&now, &tm))
		strftime(nowstr, sizeof nowstr, "%Y-%m-%dT%H:%M:%SZ", &tm);
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
	if (rest) {
		char info[400];
		int n = mbedtls_x509_crt_verify_info(info, sizeof info, "", rest);
		/* one line per flag: join them */
		for (int i = 0; i < n && info[i]; i++)
			if (info[i] == '\n')
				info[i] = i + 1 < n && info[i + 1] ? ',' : 0;
		add(out, cap, "%s", n > 0 ? info : "the certificate was not accepted");
	}
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
