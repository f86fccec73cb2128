/*
 * net_conn — one upstream connection and the pool of idle ones.
 *
 * Opening a connection, every step non-blocking inside the loop:
 *   resolve the host (net_resolve.h; IP literals skip it) — or the proxy's host
 *   → TCP connect to each address in turn (IPv4 and IPv6, TCP_NODELAY; each
 *     attempt gets an equal share of the time left, at most
 *     HTTP_CONNECT_ATTEMPT_MS, the last one all of it; the address that
 *     answered goes first next time)
 *   → through a proxy: CONNECT host:port (Basic auth when configured)
 *   → TLS 1.2/1.3 handshake: SNI, MBEDTLS_SSL_VERIFY_REQUIRED against the
 *     trust store (tls_store.h), certificate checked for the host name or IP;
 *     a session remembered from an earlier connection to the same
 *     host/port/proxy is offered for resumption
 *   → ready: the owner reads and writes through net_conn_read()/net_conn_write().
 * Then net_conn_release() puts it in the idle pool (keyed by host, port and
 * proxy), where it is watched: a server close, an unexpected byte, or
 * HTTP_IDLE_TIMEOUT_MS of rest closes it; net_conn_get() takes it back out.
 *
 * Memory per open connection: the mbedTLS context with its record buffers
 * (MBEDTLS_SSL_IN_CONTENT_LEN 16 KiB in, 4 KiB out, plus overheads), the
 * peer's certificate chain (kept for TLS 1.3), and this module's ~1.5 KiB.
 *
 * All the owner's notifications come through its net_conn_fn from the loop,
 * never from inside a net_conn_* call.
 */
#ifndef KLING_NET_CONN_H
#define KLING_NET_CONN_H

#include <stddef.h>
#include <stdint.h>

#define CONN_FAIL (-1)  /* net_conn_error() says why */
#define CONN_AGAIN (-2) /* call net_conn_wait() and try again on CONN_IO */

enum net_conn_event {
	CONN_READY, /* the connection is open: read and write */
	CONN_ERROR, /* opening failed: net_conn_error() says why; release it */
	CONN_IO,    /* what net_conn_wait() waited for may now proceed */
};
typedef void (*net_conn_fn)(void *ctx, int event);

struct net_conn;

/* Remember the trust store source and the proxy settings (strings must
 * outlive the module). Idle connections, TLS state and the store from an
 * earlier configuration are dropped; no connection may be owned meanwhile.
 * Returns 0, or -1 with err set when https_proxy cannot be used; requests
 * that would go through it then fail with err. */
int net_conn_configure(const char *ca_file, const char *https_proxy, const char *no_proxy, char *err, size_t errcap);

/* A connection to host:port. With allow_reuse, an idle one from the pool
 * is returned ready (*reused = 1; no CONN_READY follows). Otherwise a new
 * one is started (*reused = 0) and fn gets CONN_READY or CONN_ERROR later;
 * deadline_ms bounds its connect attempts. Returns NULL with err set when
 * it cannot even start (bad proxy setting, no fd or loop slot left). */
struct net_conn *net_conn_get(const char *host, unsigned short port, int64_t deadline_ms, int allow_reuse, net_conn_fn fn,
		      void *ctx, int *reused, char *err, size_t errcap);

/* Decrypted bytes into buf[0..cap). Returns the count (> 0), 0 at the end
 * of the stream (the server closed, with or without close_notify),
 * CONN_AGAIN, or CONN_FAIL. */
long net_conn_read(struct net_conn *c, void *buf, size_t cap);

/* Encrypt and send up to len bytes of buf; after CONN_AGAIN the same bytes
 * must be offered again. Returns the count taken (> 0), CONN_AGAIN, or
 * CONN_FAIL. */
long net_conn_write(struct net_conn *c, const void *buf, size_t len);

/* After CONN_AGAIN: fn gets CONN_IO once the socket is ready for what the
 * TLS layer needs (it may need to write while reading). */
void net_conn_wait(struct net_conn *c);

/* 1 if the last end of stream came with a TLS close_notify. */
int net_conn_closed_cleanly(const struct net_conn *c);

/* 1 if decrypted bytes wait to be read (then the connection cannot be
 * reused: the server sent more than the response). */
int net_conn_pending(const struct net_conn *c);

/* The last error, a sentence ("" when none). Valid until c is released. */
const char *net_conn_error(const struct net_conn *c);

/* What an opening connection is doing, for a timeout message: "resolving
 * api.example.com", "connecting to 1.2.3.4 port 443", "waiting for the
 * proxy's answer to CONNECT", "doing the TLS handshake with ..."; "" once open. */
const char *net_conn_phase(struct net_conn *c);

/* Give c back (NULL is ignored): keep != 0 puts an open, clean connection
 * in the idle pool; anything else closes it. c must not be used afterwards.
 * Returns 1 when it went to the pool. */
int net_conn_release(struct net_conn *c, int keep);

/* Close every idle connection, free the TLS state, the remembered sessions
 * and the trust store, wipe the proxy credentials. Connections still owned
 * must have been released first. */
void net_conn_shutdown(void);

#endif
