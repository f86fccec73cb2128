/*
 * rng — random bytes from the kernel (getrandom()), for session ids, task
 * ids and mbedTLS (rng.c also supplies mbedTLS's external random generator).
 * It needs no file, and blocks only before the kernel's pool is first
 * initialized. Stateless: safe from any call site.
 */
#ifndef KLING_RNG_H
#define KLING_RNG_H

#include <stddef.h>

/* Fill p[0..n) with random bytes: 0, or -1 when the kernel gives none. */
int rng_bytes(void *p, size_t n);

#endif
