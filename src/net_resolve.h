/*
 * net_resolve — host name to addresses without blocking the loop.
 *
 * getaddrinfo() blocks (for seconds when a DNS server is slow or gone), and
 * the loop must keep answering ping and cancellations meanwhile. So each
 * lookup runs getaddrinfo() in a forked child that writes the addresses to a
 * pipe the loop watches; a lookup that is cancelled (its caller's deadline
 * passed) kills the child at once. The child uses the system's own resolver,
 * exactly as configured (/etc/hosts, resolv.conf, search domains; NSS under
 * glibc), which a hand-written DNS client would not. The cost is one fork
 * per lookup (~0.2 ms for this small static process), paid rarely: answers
 * are cached for RESOLVE_CACHE_TTL_MS, and IP literals need no lookup.
 */
#ifndef KLING_NET_RESOLVE_H
#define KLING_NET_RESOLVE_H

#include "all_limits.h"

#include <netinet/in.h>
#include <sys/socket.h>

struct net_resolve_addrs {
	int n;
	struct sockaddr_storage addr[LIMIT_RESOLVE_ADDRS]; /* port already set */
	socklen_t len[LIMIT_RESOLVE_ADDRS];
};

/* Exactly one of addrs and error is non-NULL; both are valid only during
 * the call. error is a sentence naming the host. */
typedef void (*net_resolve_fn)(void *ctx, const struct net_resolve_addrs *addrs, const char *error);

struct net_resolve_op;

/* Look host up (an IP literal or a cached name answers on the next loop
 * turn; never from inside this call). Returns the lookup, or NULL when out
 * of memory, pipes or loop slots (then *why says so and fn is not called). */
struct net_resolve_op *net_resolve_start(const char *host, unsigned short port, net_resolve_fn fn, void *ctx, const char **why);

/* Stop a lookup (kills its child); fn is not called. */
void net_resolve_cancel(struct net_resolve_op *op);

/* Forget the cached addresses of host (after none of them answered). */
void net_resolve_forget(const char *host);

/* addr of host answered: list it first in the cache, so the next
 * connection does not wait for an address that did not. */
void net_resolve_prefer(const char *host, const struct sockaddr_storage *addr);

/* Cancel every lookup and empty the cache. */
void net_resolve_shutdown(void);

/* 1 if s is an IPv4 or IPv6 literal (no brackets). */
int net_resolve_is_ip(const char *s);

#endif
