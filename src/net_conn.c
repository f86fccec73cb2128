/* net_conn — see net_conn.h. */
#include "net_conn.h"

#include "http_parse.h"
#include "all_limits.h"
#include "log.h"
#include "loop.h"
#include "net_proxy.h"
#include "net_resolve.h"
#include "tls_err.h"
#include "tls_store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mbedtls/net_sockets.h"
#include "mbedtls/psa_util.h"
#include "mbedtls/ssl.h"
#include "psa/crypto.h"

#define HOST_MAX LIMIT_HOST_BYTES
#define KEY_MAX (2 * HOST_MAX + 16)
#define ERR_MAX 512
/* The proxy's answer to CONNECT: a status line and a few headers. */
#define PROXY_REPLY_MAX LIMIT_HTTP_HEAD_BYTES

enum state {
	ST_RESOLVING,
	ST_CONNECTING,
	ST_PROXY_SEND,
	ST_PROXY_RECV,
	ST_HANDSHAKE,
	ST_OPEN,
	ST_IDLE,
	ST_FAILED,
};

struct net_conn {
	enum state state;
	int fd;
	char host[HOST_MAX]; /* origin: SNI and certificate name */
	unsigned short port;
	int via_proxy;
	char key[KEY_MAX]; /* pool and session key: host:port[|proxy:port] */
	net_conn_fn fn;
	void *ctx;
	int64_t deadline;

	struct net_resolve_op *rop;
	struct net_resolve_addrs addrs;
	int next_addr;            /* index of the next address to try */
	char addr_text[64];       /* the address being tried, for messages */
	struct loop_timer timer;  /* connect attempt, then idle timeout */

	char *pbuf;               /* proxy request, then its reply */
	size_t plen, poff;

	mbedtls_ssl_context ssl;
	int ssl_setup;            /* mbedtls_ssl_setup done */
	int tls12_only;           /* the mbedTLS 3.6.6 RSA-PSS workaround is in force */
	struct tls_peer_info peer;
	short want;               /* POLLIN/POLLOUT the TLS layer waits for */
	int sys_errno;            /* errno behind the last socket failure */
	int clean_eof;

	char err[ERR_MAX];
	char phase[2 * HOST_MAX + 128];
	struct net_conn *next;        /* idle pool */
};

struct saved_session {
	char key[KEY_MAX]; /* "" = free */
	mbedtls_ssl_session s;
	/* cppcheck-suppress unusedStructMember ; used through g_sessions[i] (session_save) */
	int64_t when;
};

static int g_tls_ready;
static mbedtls_ssl_config g_conf;
static struct saved_session g_sessions[LIMIT_TLS_SESSIONS];

/* Workaround for an mbedTLS 3.6.6 regression (Mbed-TLS/mbedtls#10668, fixed
 * by #10672): a client offering TLS 1.2 and 1.3 lists rsa_pss_rsae_* among
 * its signature algorithms, but rejects them in a TLS 1.2 ServerKeyExchange
 * ("illegal parameter"), which is what an OpenSSL TLS 1.2 server with an RSA
 * key sends (TLS-inspecting proxies often are such servers). When a TLS 1.2
 * handshake fails that way we connect again offering TLS 1.2 only (then
 * mbedTLS offers only the PKCS#1 v1.5 RSA signatures it can check), and
 * remember the host/port/proxy so later connections go there directly.
 * Still ECDHE and AEAD, certificate and name verified as always. */
static mbedtls_ssl_config g_conf12;
static char g_tls12_keys[LIMIT_TLS_SESSIONS][KEY_MAX];
static int g_tls12_next;

static struct net_proxy_url g_proxy;
static int g_have_proxy;
static char g_proxy_err[300];
static const char *g_no_proxy;

static struct net_conn *g_idle;
static int g_nidle;

static void on_io(void *arg, int fd, short revents);
static void try_next_addr(struct net_conn *c);
static void close_fd(struct net_conn *c);

static void tls_teardown(void);
static void close_idle(void);

int net_conn_configure(const char *ca_file, const char *https_proxy, const char *no_proxy, char *err, size_t errcap)
{
	close_idle(); /* they use the TLS config, which points into the store */
	tls_teardown();
	tls_store_configure(ca_file);
	g_no_proxy = no_proxy;
	g_have_proxy = 0;
	g_proxy_err[0] = 0;
	net_proxy_wipe(&g_proxy);
	if (!https_proxy)
		return 0;
	if (net_proxy_parse_url(https_proxy, &g_proxy, g_proxy_err, sizeof g_proxy_err) != 0) {
		snprintf(err, errcap, "%s", g_proxy_err);
		return -1;
	}
	g_have_proxy = 1;
	log_debug("proxy: %s port %u%s", g_proxy.host, g_proxy.port, g_proxy.auth[0] ? " with Basic auth" : "");
	return 0;
}

static void set_err(struct net_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(struct net_conn *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
}

/* Opening failed: tell the owner (who releases c). */
static void fail(struct net_conn *c)
{
	c->state = ST_FAILED;
	loop_timer_clear(&c->timer);
	if (c->fd >= 0)
		loop_set_events(c->fd, 0);
	c->fn(c->ctx, CONN_ERROR);
}

/* ---- TLS state shared by all connections (lazy) ------------------------ */

static int tls_init(struct net_conn *c)
{
	if (g_tls_ready)
		return 0;
	char why[200];
	if (tls_store_load(why, sizeof why) < 0) {
		set_err(c, "TLS to %s not possible: %s", c->host, why);
		return -1;
	}
	psa_status_t ps = psa_crypto_init();
	if (ps != PSA_SUCCESS) {
		set_err(c, "TLS not possible: the crypto library did not start (PSA error %d)", (int)ps);
		return -1;
	}
	mbedtls_ssl_config_init(&g_conf);
	mbedtls_ssl_config_init(&g_conf12);
	int r;
	if ((r = mbedtls_ssl_config_defaults(&g_conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
					     MBEDTLS_SSL_PRESET_DEFAULT)) != 0 ||
	    (r = mbedtls_ssl_config_defaults(&g_conf12, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
					     MBEDTLS_SSL_PRESET_DEFAULT)) != 0) {
		char e[120];
		tls_err_text(r, e, sizeof e);
		set_err(c, "TLS not possible: %s", e);
		mbedtls_ssl_config_free(&g_conf12);
		mbedtls_ssl_config_free(&g_conf);
		mbedtls_psa_crypto_free();
		return -1;
	}
	mbedtls_ssl_config *confs[2] = {&g_conf, &g_conf12};
	for (int i = 0; i < 2; i++) {
		mbedtls_ssl_config *cf = confs[i];
		mbedtls_ssl_conf_authmode(cf, MBEDTLS_SSL_VERIFY_REQUIRED);
		/* the anchors are parsed when a chain needs them (tls_store.h) */
		mbedtls_ssl_conf_ca_cb(cf, tls_store_ca_cb, NULL);
		/* the kernel's generator (rng.c), as PSA uses it too */
		mbedtls_ssl_conf_rng(cf, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
		mbedtls_ssl_conf_session_tickets(cf, MBEDTLS_SSL_SESSION_TICKETS_ENABLED);
#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
		/* TLS 1.3 tickets arrive after the handshake; ssl_read reports
		 * each one so we can keep it. Resumption stays (EC)DHE. */
		mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(
			cf, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
		mbedtls_ssl_conf_tls13_key_exchange_modes(cf, MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ALL);
#endif
#endif
	}
	mbedtls_ssl_conf_max_tls_version(&g_conf12, MBEDTLS_SSL_VERSION_TLS1_2);
	g_tls_ready = 1;
	return 0;
}

static struct saved_session *session_find(const char *key)
{
	for (int i = 0; i < LIMIT_TLS_SESSIONS; i++)
		if (g_sessions[i].key[0] && strcmp(g_sessions[i].key, key) == 0)
			return &g_sessions[i];
	return NULL;
}

static void session_drop(const char *key)
{
	struct saved_session *s = session_find(key);
	if (s) {
		mbedtls_ssl_session_free(&s->s);
		s->key[0] = 0;
	}
}

/* Keep the session of c (a TLS 1.2 session after the handshake, or a TLS
 * 1.3 ticket just received) for the next connection with the same key. */
static void session_save(struct net_conn *c)
{
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
	mbedtls_ssl_session fresh;
	mbedtls_ssl_session_init(&fresh);
	if (mbedtls_ssl_get_session(&c->ssl, &fresh) != 0) {
		mbedtls_ssl_session_free(&fresh);
		return;
	}
	struct saved_session *s = session_find(c->key);
	for (int i = 0; !s && i < LIMIT_TLS_SESSIONS; i++)
		if (!g_sessions[i].key[0])
			s = &g_sessions[i];
	if (!s) { /* all taken: replace the oldest */
		s = &g_sessions[0];
		for (int i = 1; i < LIMIT_TLS_SESSIONS; i++)
			if (g_sessions[i].when < s->when)
				s = &g_sessions[i];
	}
	if (s->key[0])
		mbedtls_ssl_session_free(&s->s);
	s->s = fresh; /* moves ownership of its allocations */
	snprintf(s->key, sizeof s->key, "%s", c->key);
	s->when = loop_now_ms();
#else
	(void)c;
#endif
}

/* ---- socket I/O for mbedTLS -------------------------------------------- */

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct net_conn *c = ctx;
	ssize_t n;
	do
		n = send(c->fd, buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	c->sys_errno = errno;
	return errno == EPIPE || errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct net_conn *c = ctx;
	ssize_t n;
	do
		n = recv(c->fd, buf, len, 0);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return MBEDTLS_ERR_SSL_WANT_READ;
	c->sys_errno = errno;
	return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
}

/* A sentence for an mbedTLS error while doing what (e.g. "reading from"). */
static void tls_err(struct net_conn *c, const char *what, int r)
{
	if (r == MBEDTLS_ERR_NET_CONN_RESET) {
		set_err(c, "the connection to %s was reset while %s it", c->host, what);
	} else if (r == MBEDTLS_ERR_NET_SEND_FAILED || r == MBEDTLS_ERR_NET_RECV_FAILED) {
		set_err(c, "network error while %s %s: %s", what, c->host, strerror(c->sys_errno));
	} else {
		char e[160];
		tls_err_text(r, e, sizeof e);
		set_err(c, "TLS error while %s %s: %s", what, c->host, e);
	}
}

/* ---- opening ------------------------------------------------------------ */

static void set_events(struct net_conn *c, short ev)
{
	if (c->fd >= 0)
		loop_set_events(c->fd, ev);
}

/* Recursion, bounded: only to try the next address (at most LIMIT_RESOLVE_ADDRS)
 * or for the one TLS 1.2-only retry.
 * NOLINTNEXTLINE(misc-no-recursion) */
static void handshake_step(struct net_conn *c)
{
	int r;
	for (;;) {
		r = mbedtls_ssl_handshake(&c->ssl);
		if (r != MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
			break;
		session_save(c);
	}
	if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
		set_events(c, r == MBEDTLS_ERR_SSL_WANT_READ ? POLLIN : POLLOUT);
		return;
	}
	if (r == MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER && !c->tls12_only &&
	    mbedtls_ssl_get_version_number(&c->ssl) == MBEDTLS_SSL_VERSION_TLS1_2) {
		log_info("TLS: %s port %u chose TLS 1.2 with a signature mbedTLS 3.6.6 refuses; connecting again "
			 "offering TLS 1.2 only",
			 c->host, c->port);
		session_drop(c->key);
		snprintf(g_tls12_keys[g_tls12_next], KEY_MAX, "%s", c->key);
		g_tls12_next = (g_tls12_next + 1) % LIMIT_TLS_SESSIONS;
		mbedtls_ssl_free(&c->ssl);
		mbedtls_ssl_init(&c->ssl);
		c->ssl_setup = 0;
		memset(&c->peer, 0, sizeof c->peer);
		close_fd(c);
		c->next_addr--; /* the same address again */
		try_next_addr(c);
		return;
	}
	if (r != 0) {
		session_drop(c->key);
		uint32_t vflags = mbedtls_ssl_get_verify_result(&c->ssl);
		if (r == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED ||
		    (r == MBEDTLS_ERR_SSL_BAD_CERTIFICATE && vflags && vflags != (uint32_t)-1)) {
			/* BAD_CERTIFICATE: the TLS layer's own checks (key usage,
			 * extended key usage) left their flags in the result too. */
			char why[ERR_MAX - 64];
			tls_store_explain(vflags, &c->peer, c->host, (int64_t)time(NULL),
					  why, sizeof why);
			set_err(c, "TLS certificate check failed: %s", why);
		} else if (r == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE && c->ssl.MBEDTLS_PRIVATE(in_msg) &&
			   tls_err_alert_text(c->ssl.MBEDTLS_PRIVATE(in_msg)[1])) {
			/* mbedTLS has no getter for the alert received; the record is
			 * still in its input buffer: level, description. */
			set_err(c, "TLS handshake with %s failed: the server sent the alert %s", c->host,
				tls_err_alert_text(c->ssl.MBEDTLS_PRIVATE(in_msg)[1]));
		} else if (r == MBEDTLS_ERR_NET_CONN_RESET || r == MBEDTLS_ERR_SSL_CONN_EOF) {
			set_err(c, "%s closed the connection during the TLS handshake (is port %u an HTTPS port?)",
				c->host, c->port);
		} else if (r == MBEDTLS_ERR_SSL_INVALID_RECORD || r == MBEDTLS_ERR_SSL_UNSUPPORTED_EXTENSION ||
			   r == MBEDTLS_ERR_SSL_DECODE_ERROR) {
			char e[120];
			tls_err_text(r, e, sizeof e);
			set_err(c, "TLS handshake with %s failed: %s (is port %u an HTTPS port?)", c->host, e, c->port);
		} else {
			char e[160];
			tls_err_text(r, e, sizeof e);
			set_err(c, "TLS handshake with %s failed: %s", c->host, e);
		}
		fail(c);
		return;
	}
	log_debug("TLS: %s %s with %s port %u", mbedtls_ssl_get_version(&c->ssl), mbedtls_ssl_get_ciphersuite(&c->ssl),
		  c->host, c->port);
	if (mbedtls_ssl_get_version_number(&c->ssl) == MBEDTLS_SSL_VERSION_TLS1_2)
		session_save(c);
	c->err[0] = 0; /* an earlier address's failure: past, and it would keep c out of the pool */
	c->state = ST_OPEN;
	set_events(c, 0);
	c->fn(c->ctx, CONN_READY);
}

/* Recursion, bounded: only to try the next address (at most LIMIT_RESOLVE_ADDRS)
 * or for the one TLS 1.2-only retry.
 * NOLINTNEXTLINE(misc-no-recursion) */
static void tls_start(struct net_conn *c)
{
	if (tls_init(c) != 0) {
		fail(c);
		return;
	}
	c->tls12_only = 0;
	for (int i = 0; i < LIMIT_TLS_SESSIONS; i++)
		if (strcmp(g_tls12_keys[i], c->key) == 0)
			c->tls12_only = 1;
	int r = mbedtls_ssl_setup(&c->ssl, c->tls12_only ? &g_conf12 : &g_conf);
	if (r == 0) {
		c->ssl_setup = 1;
		/* An IP literal: no SNI (RFC 6066 3 allows names only), and the
		 * certificate is matched by tls_store_verify_cb against IP-type
		 * SANs only; NULL tells mbedTLS the name check is done elsewhere. */
		if (inet_pton(AF_INET, c->host, c->peer.ip) == 1)
			c->peer.ip_len = 4;
		else if (inet_pton(AF_INET6, c->host, c->peer.ip) == 1)
			c->peer.ip_len = 16;
		r = mbedtls_ssl_set_hostname(&c->ssl, c->peer.ip_len ? NULL : c->host);
	}
	if (r != 0) {
		tls_err(c, "setting up TLS for", r);
		fail(c);
		return;
	}
	mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
	mbedtls_ssl_set_verify(&c->ssl, tls_store_verify_cb, &c->peer);
	struct saved_session *s = session_find(c->key);
	if (s && mbedtls_ssl_set_session(&c->ssl, &s->s) != 0)
		session_drop(c->key);
	c->state = ST_HANDSHAKE;
	handshake_step(c);
}

static void proxy_start(struct net_conn *c)
{
	c->pbuf = malloc(PROXY_REPLY_MAX);
	int n = c->pbuf ? net_proxy_connect_request(&g_proxy, c->host, c->port, c->pbuf, PROXY_REPLY_MAX) : -1;
	if (n < 0) {
		set_err(c, "cannot build the proxy's CONNECT request for %s", c->host);
		fail(c);
		return;
	}
	c->plen = (size_t)n;
	c->poff = 0;
	c->state = ST_PROXY_SEND;
	set_events(c, POLLOUT);
}

static void proxy_send(struct net_conn *c)
{
	while (c->poff < c->plen) {
		ssize_t n = send(c->fd, c->pbuf + c->poff, c->plen - c->poff, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			set_err(c, "proxy %s port %u: sending CONNECT failed: %s", g_proxy.host, g_proxy.port,
				strerror(errno));
			fail(c);
			return;
		}
		c->poff += (size_t)n;
	}
	explicit_bzero(c->pbuf, c->plen); /* it held the proxy credentials */
	c->plen = 0;
	c->state = ST_PROXY_RECV;
	set_events(c, POLLIN);
}

static void proxy_recv(struct net_conn *c)
{
	ssize_t n = recv(c->fd, c->pbuf + c->plen, PROXY_REPLY_MAX - c->plen, 0);
	if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		set_err(c, "proxy %s port %u closed the connection before answering CONNECT%s%s", g_proxy.host,
			g_proxy.port, n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
		fail(c);
		return;
	}
	c->plen += (size_t)n;
	struct http_header h[LIMIT_HTTP_HEADERS];
	size_t nh = LIMIT_HTTP_HEADERS;
	int minor, status;
	int hl = http_parse_response_head(c->pbuf, c->plen, &minor, &status, h, &nh);
	if (hl == HTTP_PARSE_INCOMPLETE && c->plen < PROXY_REPLY_MAX)
		return;
	if (hl < 0) {
		set_err(c, "proxy %s port %u sent an invalid answer to CONNECT", g_proxy.host, g_proxy.port);
		fail(c);
		return;
	}
	if (status / 100 != 2) {
		if (status == 407)
			set_err(c, "proxy %s port %u requires authentication (HTTP 407): %s", g_proxy.host, g_proxy.port,
				g_proxy.auth[0] ? "it refused the user name and password of HTTPS_PROXY"
						: "put user:password@ in HTTPS_PROXY");
		else
			set_err(c, "proxy %s port %u refused to open a tunnel to %s port %u (HTTP %d)", g_proxy.host,
				g_proxy.port, c->host, c->port, status);
		fail(c);
		return;
	}
	if ((size_t)hl != c->plen) {
		set_err(c, "proxy %s port %u sent bytes after its answer to CONNECT", g_proxy.host, g_proxy.port);
		fail(c);
		return;
	}
	free(c->pbuf);
	c->pbuf = NULL;
	log_debug("proxy: tunnel to %s port %u open", c->host, c->port);
	tls_start(c);
}

static void addr_to_text(const struct sockaddr_storage *ss, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, ip, sizeof ip);
	else
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, ip, sizeof ip);
	snprintf(out, cap, "%s", ip);
}

static const char *target_host(const struct net_conn *c) { return c->via_proxy ? g_proxy.host : c->host; }
static unsigned target_port(const struct net_conn *c) { return c->via_proxy ? g_proxy.port : c->port; }

static void close_fd(struct net_conn *c)
{
	if (c->fd >= 0) {
		loop_unwatch(c->fd);
		close(c->fd);
		c->fd = -1;
	}
}

/* Recursion, bounded: only to try the next address (at most LIMIT_RESOLVE_ADDRS)
 * or for the one TLS 1.2-only retry.
 * NOLINTNEXTLINE(misc-no-recursion) */
static void connected(struct net_conn *c)
{
	loop_timer_clear(&c->timer);
	log_debug("connected to %s port %u", c->addr_text, target_port(c));
	if (c->next_addr > 1)
		net_resolve_prefer(target_host(c), &c->addrs.addr[c->next_addr - 1]);
	if (c->via_proxy)
		proxy_start(c);
	else
		tls_start(c);
}

static void on_attempt_timeout(void *arg)
{
	struct net_conn *c = arg;
	set_err(c, "%s port %u: no answer", c->addr_text, target_port(c));
	log_debug("connect: %s", c->err);
	close_fd(c);
	try_next_addr(c);
}

/* Recursion, bounded: only to try the next address (at most LIMIT_RESOLVE_ADDRS)
 * or for the one TLS 1.2-only retry.
 * NOLINTNEXTLINE(misc-no-recursion) */
static void try_next_addr(struct net_conn *c)
{
	while (c->next_addr < c->addrs.n) {
		int i = c->next_addr++;
		const struct sockaddr_storage *ss = &c->addrs.addr[i];
		addr_to_text(ss, c->addr_text, sizeof c->addr_text);
		int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			set_err(c, "%s port %u: %s", c->addr_text, target_port(c), strerror(errno));
			continue;
		}
		int one = 1;
		/* Without it each small request waits ~40 ms for delayed ACKs. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (loop_watch(fd, POLLOUT, on_io, c) != 0) {
			close(fd);
			set_err(c, "too many open connections (LIMIT_LOOP_FDS)");
			fail(c);
			return;
		}
		c->fd = fd;
		int r;
		do
			r = connect(fd, (const struct sockaddr *)ss, c->addrs.len[i]);
		while (r < 0 && errno == EINTR);
		if (r == 0) {
			connected(c);
			return;
		}
		if (errno == EINPROGRESS) {
			c->state = ST_CONNECTING;
			int left = c->addrs.n - i;
			if (left > 1) { /* the last address gets all the time left */
				int64_t now = loop_now_ms(), share = (c->deadline - now) / left;
				if (share > HTTP_CONNECT_ATTEMPT_MS)
					share = HTTP_CONNECT_ATTEMPT_MS;
				loop_timer_set(&c->timer, now + share, on_attempt_timeout, c);
			}
			return;
		}
		set_err(c, "%s port %u: %s", c->addr_text, target_port(c), strerror(errno));
		log_debug("connect: %s", c->err);
		close_fd(c);
	}
	/* c->err holds the last address's failure */
	char last[ERR_MAX];
	snprintf(last, sizeof last, "%s", c->err);
	net_resolve_forget(target_host(c));
	set_err(c, "cannot connect to %s%s port %u (%d address%s tried): %s", c->via_proxy ? "proxy " : "",
		target_host(c), target_port(c), c->addrs.n, c->addrs.n == 1 ? "" : "es", last);
	fail(c);
}

static void on_resolved(void *ctx, const struct net_resolve_addrs *addrs, const char *error)
{
	struct net_conn *c = ctx;
	c->rop = NULL;
	if (!addrs) {
		set_err(c, "%s%s", c->via_proxy ? "proxy: " : "", error);
		fail(c);
		return;
	}
	c->addrs = *addrs;
	c->next_addr = 0;
	try_next_addr(c);
}

/* ---- the pool ------------------------------------------------------------ */

static void destroy(struct net_conn *c)
{
	loop_timer_clear(&c->timer);
	if (c->rop)
		net_resolve_cancel(c->rop);
	if (c->ssl_setup && (c->state == ST_OPEN || c->state == ST_IDLE) && !c->err[0])
		mbedtls_ssl_close_notify(&c->ssl); /* courtesy; not waited for */
	mbedtls_ssl_free(&c->ssl);
	close_fd(c);
	if (c->pbuf) {
		explicit_bzero(c->pbuf, PROXY_REPLY_MAX);
		free(c->pbuf);
	}
	free(c);
}

static void idle_remove(struct net_conn *c)
{
	for (struct net_conn **p = &g_idle; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			g_nidle--;
			c->next = NULL;
			return;
		}
	}
}

static void on_idle_timeout(void *arg)
{
	struct net_conn *c = arg;
	log_debug("closing the idle connection to %s port %u", c->host, c->port);
	idle_remove(c);
	destroy(c);
}

/* An idle connection became readable: a TLS 1.3 ticket is kept, anything
 * else (close_notify, FIN, reset, stray data) closes it. */
static void idle_readable(struct net_conn *c)
{
	unsigned char b[1];
	for (;;) {
		int r = mbedtls_ssl_read(&c->ssl, b, sizeof b);
		if (r == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
			session_save(c);
			continue;
		}
		if (r == MBEDTLS_ERR_SSL_WANT_READ)
			return;
		log_debug("the idle connection to %s port %u was closed by the server", c->host, c->port);
		c->state = ST_FAILED; /* no close_notify into a closed connection */
		idle_remove(c);
		destroy(c);
		return;
	}
}

static void on_io(void *arg, int fd, short revents)
{
	(void)fd;
	struct net_conn *c = arg;
	switch (c->state) {
	case ST_CONNECTING: {
		int e = 0;
		socklen_t el = sizeof e;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0)
			e = errno;
		if (e == 0 && !(revents & (POLLERR | POLLHUP))) {
			connected(c);
			return;
		}
		loop_timer_clear(&c->timer);
		set_err(c, "%s port %u: %s", c->addr_text, target_port(c), strerror(e ? e : ECONNREFUSED));
		log_debug("connect: %s", c->err);
		close_fd(c);
		try_next_addr(c);
		return;
	}
	case ST_PROXY_SEND:
		proxy_send(c);
		return;
	case ST_PROXY_RECV:
		proxy_recv(c);
		return;
	case ST_HANDSHAKE:
		handshake_step(c);
		return;
	case ST_OPEN:
		set_events(c, 0);
		c->fn(c->ctx, CONN_IO);
		return;
	case ST_IDLE:
		idle_readable(c);
		return;
	default:
		set_events(c, 0);
		return;
	}
}

static void make_key(char *out, size_t cap, const char *host, unsigned short port, int via_proxy)
{
	if (via_proxy)
		snprintf(out, cap, "%s:%u|%s:%u", host, port, g_proxy.host, g_proxy.port);
	else
		snprintf(out, cap, "%s:%u", host, port);
}

struct net_conn *net_conn_get(const char *host, unsigned short port, int64_t deadline_ms, int allow_reuse, net_conn_fn fn,
		      void *ctx, int *reused, char *err, size_t errcap)
{
	*reused = 0;
	if (strlen(host) >= HOST_MAX) {
		snprintf(err, errcap, "the host name is too long");
		return NULL;
	}
	int via_proxy = g_proxy_err[0] || g_have_proxy ? !net_proxy_bypass(g_no_proxy, host) : 0;
	if (via_proxy && g_proxy_err[0]) {
		snprintf(err, errcap, "%s", g_proxy_err);
		return NULL;
	}
	char key[KEY_MAX];
	make_key(key, sizeof key, host, port, via_proxy);
	if (allow_reuse) {
		for (struct net_conn *c = g_idle; c; c = c->next) {
			if (strcmp(c->key, key) != 0)
				continue;
			idle_remove(c);
			loop_timer_clear(&c->timer);
			set_events(c, 0);
			c->state = ST_OPEN;
			c->fn = fn;
			c->ctx = ctx;
			c->clean_eof = 0;
			*reused = 1;
			return c;
		}
	}
	struct net_conn *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errcap, "out of memory");
		return NULL;
	}
	c->fd = -1;
	c->via_proxy = via_proxy;
	snprintf(c->host, sizeof c->host, "%s", host);
	c->port = port;
	snprintf(c->key, sizeof c->key, "%s", key);
	c->fn = fn;
	c->ctx = ctx;
	c->deadline = deadline_ms;
	mbedtls_ssl_init(&c->ssl);
	c->state = ST_RESOLVING;
	const char *why;
	c->rop = net_resolve_start(target_host(c), (unsigned short)target_port(c), on_resolved, c, &why);
	if (!c->rop) {
		snprintf(err, errcap, "cannot look up %s: %s", target_host(c), why);
		mbedtls_ssl_free(&c->ssl);
		free(c);
		return NULL;
	}
	return c;
}

long net_conn_read(struct net_conn *c, void *buf, size_t cap)
{
	for (;;) {
		int r = mbedtls_ssl_read(&c->ssl, buf, cap);
		if (r > 0)
			return r;
		switch (r) {
		case 0:
		case MBEDTLS_ERR_SSL_CONN_EOF:
			c->clean_eof = 0;
			return 0;
		case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
			c->clean_eof = 1;
			return 0;
		case MBEDTLS_ERR_SSL_WANT_READ:
			c->want = POLLIN;
			return CONN_AGAIN;
		case MBEDTLS_ERR_SSL_WANT_WRITE:
			c->want = POLLOUT;
			return CONN_AGAIN;
		case MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET:
			session_save(c);
			continue;
		default:
			tls_err(c, "reading from", r);
			return CONN_FAIL;
		}
	}
}

long net_conn_write(struct net_conn *c, const void *buf, size_t len)
{
	int r = mbedtls_ssl_write(&c->ssl, buf, len);
	if (r >= 0)
		return r;
	if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
		c->want = r == MBEDTLS_ERR_SSL_WANT_READ ? POLLIN : POLLOUT;
		return CONN_AGAIN;
	}
	tls_err(c, "writing to", r);
	return CONN_FAIL;
}

void net_conn_wait(struct net_conn *c) { set_events(c, (short)(c->want ? c->want : POLLIN)); }

int net_conn_closed_cleanly(const struct net_conn *c) { return c->clean_eof; }

int net_conn_pending(const struct net_conn *c) { return mbedtls_ssl_get_bytes_avail(&c->ssl) > 0 || mbedtls_ssl_check_pending(&c->ssl); }

const char *net_conn_error(const struct net_conn *c) { return c->err; }

const char *net_conn_phase(struct net_conn *c)
{
	switch (c->state) {
	case ST_RESOLVING:
		snprintf(c->phase, sizeof c->phase, "resolving %s%s", c->via_proxy ? "the proxy " : "", target_host(c));
		break;
	case ST_CONNECTING:
		snprintf(c->phase, sizeof c->phase, "connecting to %s%s (%s) port %u", c->via_proxy ? "the proxy " : "",
			 target_host(c), c->addr_text, target_port(c));
		break;
	case ST_PROXY_SEND:
	case ST_PROXY_RECV:
		snprintf(c->phase, sizeof c->phase, "waiting for the proxy %s to open a tunnel to %s port %u",
			 g_proxy.host, c->host, c->port);
		break;
	case ST_HANDSHAKE:
		snprintf(c->phase, sizeof c->phase, "doing the TLS handshake with %s", c->host);
		break;
	default:
		c->phase[0] = 0;
	}
	return c->phase;
}

int net_conn_release(struct net_conn *c, int keep)
{
	if (!c)
		return 0;
	if (!keep || c->state != ST_OPEN || c->err[0] || net_conn_pending(c)) {
		destroy(c);
		return 0;
	}
	if (g_nidle >= LIMIT_HTTP_IDLE_CONNS) { /* evict the oldest: the last in the list */
		struct net_conn *old = g_idle;
		while (old->next)
			old = old->next;
		idle_remove(old);
		destroy(old);
	}
	c->state = ST_IDLE;
	c->fn = NULL;
	c->ctx = NULL;
	c->next = g_idle;
	g_idle = c;
	g_nidle++;
	set_events(c, POLLIN);
	loop_timer_set(&c->timer, loop_now_ms() + HTTP_IDLE_TIMEOUT_MS, on_idle_timeout, c);
	return 1;
}

/* Free the shared TLS state and what depends on it: sessions, the
 * TLS-1.2-only list, the trust store. */
static void tls_teardown(void)
{
	for (int i = 0; i < LIMIT_TLS_SESSIONS; i++) {
		if (g_sessions[i].key[0])
			mbedtls_ssl_session_free(&g_sessions[i].s);
		g_sessions[i].key[0] = 0;
	}
	memset(g_tls12_keys, 0, sizeof g_tls12_keys);
	if (g_tls_ready) {
		mbedtls_ssl_config_free(&g_conf12);
		mbedtls_ssl_config_free(&g_conf);
		mbedtls_psa_crypto_free();
		g_tls_ready = 0;
	}
	tls_store_free();
}

static void close_idle(void)
{
	while (g_idle) {
		struct net_conn *c = g_idle;
		idle_remove(c);
		destroy(c);
	}
}

void net_conn_shutdown(void)
{
	close_idle();
	tls_teardown();
	net_resolve_shutdown();
	net_proxy_wipe(&g_proxy);
	g_have_proxy = 0;
	g_proxy_err[0] = 0;
}
