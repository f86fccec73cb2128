/*
 * rng — the entropy source mbedTLS calls (MBEDTLS_ENTROPY_HARDWARE_ALT).
 * getrandom() needs no file: a scratch image has no /dev/random, which is
 * where mbedTLS would look under musl.
 */
#include <errno.h>
#include <stddef.h>
#include <sys/random.h>

int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen);

int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen)
{
	(void)data;
	size_t got = 0;
	while (got < len) {
		ssize_t r = getrandom(output + got, len - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	*olen = got;
	return got == len ? 0 : -1;
}
