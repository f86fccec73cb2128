/* kling_jwt — see kling_jwt.h. */
#include "kling_jwt.h"

#include "hex.h"

#include <stdio.h>
#include <string.h>

#include "mbedtls/md.h"

static char g_token[JWT_MAX];
static int64_t g_exp;       /* expiry of g_token, seconds */
static int64_t g_nbf;
static unsigned char g_keyhash[32]; /* SHA-256 of ak NUL sk: notices a key change without keeping keys */

/* Append s to out as the body of a JSON string (quotes, backslashes and
 * control characters escaped). Returns the new length, or -1 on overflow. */
static int json_escape(char *out, size_t len, size_t cap, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char tmp[8];
		int n;
		if (c == '"' || c == '\\')
			n = snprintf(tmp, sizeof tmp, "\\%c", c);
		else if (c < 0x20)
			n = snprintf(tmp, sizeof tmp, "\\u%04x", c);
		else
			n = snprintf(tmp, sizeof tmp, "%c", c);
		if (len + (size_t)n >= cap)
			return -1;
		memcpy(out + len, tmp, (size_t)n);
		len += (size_t)n;
	}
	out[len] = 0;
	return (int)len;
}

int kling_jwt_make(const char *ak, const char *sk, int64_t now_s, char *out, size_t cap)
{
	static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	size_t akl = strlen(ak), skl = strlen(sk);
	if (!akl || !skl || akl > JWT_MAX_KEY || skl > JWT_MAX_KEY)
		return -1;
	char claims[JWT_MAX_KEY * 6 + 96];
	unsigned char mac[32];
	int ret = -1;
	int n = snprintf(claims, sizeof claims, "{\"iss\":\"");
	n = json_escape(claims, (size_t)n, sizeof claims, ak);
	if (n < 0)
		goto exit;
	int m = snprintf(claims + n, sizeof claims - (size_t)n, "\",\"exp\":%lld,\"nbf\":%lld}",
			 (long long)now_s + JWT_LIFETIME_S, (long long)now_s - JWT_NBF_SKEW_S);
	if (m < 0 || (size_t)m >= sizeof claims - (size_t)n)
		goto exit;
	n += m;

	int h = hex_b64url((const unsigned char *)header, sizeof header - 1, out, cap);
	if (h < 0 || (size_t)h + 1 >= cap)
		goto exit;
	out[h++] = '.';
	int c = hex_b64url((const unsigned char *)claims, (size_t)n, out + h, cap - (size_t)h);
	if (c < 0)
		goto exit;
	size_t signed_len = (size_t)h + (size_t)c;
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	if (!md || mbedtls_md_hmac(md, (const unsigned char *)sk, skl, (const unsigned char *)out, signed_len, mac))
		goto exit;
	if (signed_len + 1 >= cap)
		goto exit;
	out[signed_len++] = '.';
	int s = hex_b64url(mac, sizeof mac, out + signed_len, cap - signed_len);
	if (s >= 0)
		ret = (int)signed_len + s;
exit: /* the signature and what it signed are wiped on every path */
	explicit_bzero(mac, sizeof mac);
	explicit_bzero(claims, sizeof claims);
	return ret;
}

static int key_hash(const char *ak, const char *sk, unsigned char out[32])
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	mbedtls_md_context_t ctx;
	mbedtls_md_init(&ctx);
	int r = !md || mbedtls_md_setup(&ctx, md, 0) || mbedtls_md_starts(&ctx) ||
		mbedtls_md_update(&ctx, (const unsigned char *)ak, strlen(ak) + 1) ||
		mbedtls_md_update(&ctx, (const unsigned char *)sk, strlen(sk)) || mbedtls_md_finish(&ctx, out);
	mbedtls_md_free(&ctx);
	return r ? -1 : 0;
}

const char *kling_jwt_get(const char *ak, const char *sk, int64_t now_s)
{
	unsigned char kh[32];
	if (key_hash(ak, sk, kh) != 0) {
		explicit_bzero(kh, sizeof kh);
		return NULL;
	}
	int fresh = g_token[0] && memcmp(kh, g_keyhash, sizeof kh) == 0 && now_s >= g_nbf &&
		    now_s < g_exp - JWT_RENEW_BEFORE_S;
	if (!fresh) {
		if (kling_jwt_make(ak, sk, now_s, g_token, sizeof g_token) < 0) {
			kling_jwt_wipe();
			explicit_bzero(kh, sizeof kh);
			return NULL;
		}
		memcpy(g_keyhash, kh, sizeof kh);
		g_exp = now_s + JWT_LIFETIME_S;
		g_nbf = now_s - JWT_NBF_SKEW_S;
	}
	explicit_bzero(kh, sizeof kh);
	return g_token;
}

void kling_jwt_wipe(void)
{
	explicit_bzero(g_token, sizeof g_token);
	explicit_bzero(g_keyhash, sizeof g_keyhash);
	g_exp = g_nbf = 0;
}
