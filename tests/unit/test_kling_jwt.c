/* Unit tests of the HS256 token: base64url vectors (RFC 4648 §10), a token
 * checked against an independent implementation (Python's hmac), caching. */
#include "hex.h"
#include "kling_jwt.h"
#include "t.h"

/* The vectors of RFC 4648 §10, in base64url without padding. */
static const char *const b64_in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
static const char *const b64_want[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
#define NB64 (sizeof b64_in / sizeof *b64_in)

static void test_b64url(void)
{
	char out[16], name[64];
	for (size_t i = 0; i < NB64; i++) {
		hex_b64url((const unsigned char *)b64_in[i], strlen(b64_in[i]), out, sizeof out);
		snprintf(name, sizeof name, "jwt/b64url \"%s\"", b64_in[i]);
		T_STREQ(name, out, b64_want[i]);
	}
	const unsigned char hi[] = {0xfb, 0xff, 0xfe};
	hex_b64url(hi, 3, out, sizeof out);
	T_STREQ("jwt/b64url uses - and _", out, "-__-");
	T_CHECK("jwt/b64url refuses a small buffer", hex_b64url((const unsigned char *)"foobar", 6, out, 8) == -1);
}

static void test_token(void)
{
	/* Made by Python: hmac.new(b"secret-key", header.claims, sha256), base64url unpadded. */
	const char *want = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
			   "eyJpc3MiOiJBS1wieCIsImV4cCI6MTcwMDAwMTgwMCwibmJmIjoxNjk5OTk5OTk1fQ."
			   "tlU74gbhz-8p5v6DzOwY8nxKUoqJv-lla0l9X5ljUIA";
	char tok[JWT_MAX];
	int n = kling_jwt_make("AK\"x", "secret-key", 1700000000, tok, sizeof tok);
	T_STREQ("jwt/token matches an independent HS256 (escaped iss)", tok, want);
	T_CHECK("jwt/length returned", n == (int)strlen(want));
	T_CHECK("jwt/empty key refused", kling_jwt_make("", "sk", 1, tok, sizeof tok) == -1);
	char big[JWT_MAX_KEY + 2];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = 0;
	T_CHECK("jwt/over-long key refused", kling_jwt_make(big, "sk", 1, tok, sizeof tok) == -1);
	T_CHECK("jwt/small buffer refused", kling_jwt_make("ak", "sk", 1, tok, 40) == -1);
	memset(big, 1, sizeof big - 2);
	big[JWT_MAX_KEY] = 0;
	T_CHECK("jwt/longest key of control characters fits", kling_jwt_make(big, "sk", 1, tok, sizeof tok) > 0);
}

static void test_cache(void)
{
	char a[JWT_MAX];
	const char *t1 = kling_jwt_get("ak", "sk", 1000);
	snprintf(a, sizeof a, "%s", t1 ? t1 : "");
	const char *t2 = kling_jwt_get("ak", "sk", 1000 + JWT_LIFETIME_S - JWT_RENEW_BEFORE_S - 1);
	T_CHECK("jwt/cached token reused", t2 && strcmp(a, t2) == 0);
	const char *t3 = kling_jwt_get("ak", "sk", 1000 + JWT_LIFETIME_S - JWT_RENEW_BEFORE_S);
	T_CHECK("jwt/renewed 5 minutes before expiry", t3 && strcmp(a, t3) != 0);
	kling_jwt_get("ak", "sk", 5000);
	snprintf(a, sizeof a, "%s", kling_jwt_get("ak", "sk", 5000));
	T_CHECK("jwt/renewed when the keys change", strcmp(a, kling_jwt_get("ak", "sk2", 5000)) != 0);
	snprintf(a, sizeof a, "%s", kling_jwt_get("ak", "sk", 5000));
	T_CHECK("jwt/renewed when the clock moved back", strcmp(a, kling_jwt_get("ak", "sk", 4000)) != 0);
	kling_jwt_wipe();
}

int main(void)
{
	t_plan((int)NB64 + 12); /* one check per vector, and 12 more */
	test_b64url();
	test_token();
	test_cache();
	return t_done();
}
