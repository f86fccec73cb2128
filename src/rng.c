/*
 * rng — the random generator of mbedTLS (MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG):
 * the kernel's, through getrandom(). It needs no file (a scratch image has
 * no /dev/random, where mbedTLS would look under musl) and is already a
 * seeded CSPRNG, so mbedTLS's entropy pool and CTR_DRBG are left out
 * (-4.4 KB). PSA and the TLS layer (mbedtls_psa_get_random) both use it,
 * through rng_bytes (see rng.h), which session and task ids use too.
 */
#include "rng.h"

#include <errno.h>
#include <stddef.h>
#include <sys/random.h>

#include "psa/crypto.h"

int rng_bytes(void *p, size_t n)
{
	unsigned char *o = p;
	while (n) {
		ssize_t r = getrandom(o, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		o += r;
		n -= (size_t)r;
	}
	return 0;
}

psa_status_t mbedtls_psa_external_get_random(mbedtls_psa_external_random_context_t *context, uint8_t *output,
					     size_t output_size, size_t *output_length)
{
	(void)context;
	if (rng_bytes(output, output_size) < 0)
		return PSA_ERROR_INSUFFICIENT_ENTROPY;
	*output_length = output_size;
	return PSA_SUCCESS;
}
