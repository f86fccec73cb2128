/*
 * kling_jwt — the HS256 token that stands for an AccessKey/SecretKey pair.
 *
 * Header {"alg":"HS256","typ":"JWT"}, claims {"iss":AK,"exp":now+1800,"nbf":now-5}
 * (whole seconds, no iat), each part base64url without padding (RFC 7515),
 * signed with HMAC-SHA256 keyed by the secret key's bytes. A token is reused
 * until 5 minutes before it expires, so a burst of calls signs once.
 */
#ifndef KLING_KLING_JWT_H
#define KLING_KLING_JWT_H

#include <stddef.h>
#include <stdint.h>

#define JWT_LIFETIME_S 1800   /* what Kling's own examples use */
#define JWT_NBF_SKEW_S 5      /* tolerate a server clock slightly behind ours */
#define JWT_RENEW_BEFORE_S 300
#define JWT_MAX_KEY 256       /* longer access/secret keys are refused */
#define JWT_MAX 2304          /* fits a JWT_MAX_KEY-byte key of control characters (6 bytes each escaped) */

/* Write a fresh token for (ak, sk) issued at now_s into out[cap] with a NUL.
 * Returns its length, or -1 when a key is empty or too long, or out is too
 * small. Does not touch the cache. */
int kling_jwt_make(const char *ak, const char *sk, int64_t now_s, char *out, size_t cap);

/* The cached token for (ak, sk), renewed when now_s is within
 * JWT_RENEW_BEFORE_S of its expiry, when it is not yet valid at now_s (the
 * clock moved back), or when the keys changed. The pointer stays valid until
 * the next kling_jwt_get() or kling_jwt_wipe(). NULL when kling_jwt_make() fails. */
const char *kling_jwt_get(const char *ak, const char *sk, int64_t now_s);

/* Overwrite the cached token (at exit). */
void kling_jwt_wipe(void);

#endif
