/* kling_err — see kling_err.h. Codes and meanings: the error codes Kling documents for its API. */
#include "kling_err.h"

#include <stdio.h>
#include <string.h>

int kling_err_retryable(int http_status, int code)
{
	if (code == 1302 || code == 1303 || (code >= 5000 && code <= 5002))
		return 1;
	if (code >= 1000 && code <= 1999)
		return 0; /* Kling's auth, account and request codes: the same request gets the same answer */
	/* No code, or one that is not Kling's (a gateway's {"code":503,...}): the HTTP status decides. */
	return http_status == 429 || http_status == 500 || http_status == 502 || http_status == 503 ||
	       http_status == 504;
}

/* The hint for a Kling code; NULL when the message says it all. */
static const char *code_hint(int code, enum kling_api ep, enum kling_auth auth)
{
	switch (code) {
	case 1000:
		return auth == KLING_AUTH_API_KEY ? "Check KLING_API_KEY: the service did not accept it."
						  : "Check KLING_ACCESS_KEY and KLING_SECRET_KEY: the service did not accept the pair.";
	case 1001:
		return "No credentials reached the service: set KLING_API_KEY (or KLING_ACCESS_KEY and KLING_SECRET_KEY).";
	case 1002:
		if (ep == KLING_API_TASKS && auth == KLING_AUTH_JWT)
			return "The task list endpoint (/tasks) takes only an API key: create one in the Kling console "
			       "and set KLING_API_KEY, or set KLING_BACKEND=legacy to list with the AK/SK pair.";
		return auth == KLING_AUTH_API_KEY ? "Check KLING_API_KEY (and KLING_REGION: keys of one region may "
						    "not work in the other)."
						  : "Check KLING_ACCESS_KEY and KLING_SECRET_KEY.";
	case 1003:
		return "The token is not valid yet: this device's clock is ahead of the service's or badly "
		       "wrong. Set the clock (NTP) and try again.";
	case 1004:
		return "The token has expired: this device's clock is behind the service's or badly wrong. "
		       "Set the clock (NTP) and try again.";
	case 1100:
	case 1101:
	case 1102:
		return "This is an account matter (status, arrears or resource pack); retrying will not help. "
		       "See the Kling console.";
	case 1103:
		return "The account has no permission for this API; retrying will not help.";
	case 1200:
	case 1201:
		return "The service refused the request's parameters; check the arguments (a cursor must come "
		       "from the same filters).";
	case 1202:
	case 1203:
		return "The endpoint or resource does not exist on this host; check KLING_BASE_URL, KLING_REGION "
		       "and KLING_BACKEND.";
	case 1302:
	case 1303:
		return "The service is rate limiting; wait a moment and try again.";
	case 1304:
		return "The account's IP whitelist does not include this device's address.";
	case 5000:
	case 5001:
	case 5002:
		return "The service had a fault or is under maintenance; try again later.";
	default:
		return NULL;
	}
}

/* The hint for an HTTP status whose body was not a Kling envelope. */
static const char *http_hint(int status, enum kling_api ep)
{
	if (status == 404 && ep == KLING_API_SEED)
		return "This host does not implement GET /v1/task/list (the live Kling API does not): "
		       "use KLING_BACKEND=tasks (API key) or legacy (AK/SK).";
	if (status == 404)
		return "Check KLING_BASE_URL and KLING_REGION.";
	if (status == 401 || status == 403)
		return "Check the credentials.";
	if (status == 407)
		return "The proxy wants credentials: put them in HTTPS_PROXY as http://user:pass@host:port.";
	if (status >= 500)
		return "The service or a gateway in front of it failed; try again later.";
	return NULL;
}

static const char *reason(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 407: return "Proxy Authentication Required";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "";
	}
}

size_t kling_err_text(const struct kling_error *e, enum kling_api ep, enum kling_auth auth,
		      const char *path, char *out, size_t cap)
{
	int n;
	const char *hint;
	if (e->code) {
		n = snprintf(out, cap, "Kling API error %d (HTTP %d): %s", e->code, e->http_status,
			     e->message && *e->message ? e->message : "(no message)");
		hint = code_hint(e->code, ep, auth);
	} else {
		const char *r = reason(e->http_status);
		n = snprintf(out, cap, "Kling API answered HTTP %d%s%s at %s", e->http_status, *r ? " " : "", r,
			     path ? path : "?");
		hint = http_hint(e->http_status, ep);
	}
	if (n >= 0 && (size_t)n < cap && e->request_id && *e->request_id)
		n += snprintf(out + n, cap - (size_t)n, " (request_id %s)", e->request_id);
	if (n >= 0 && (size_t)n < cap)
		n += snprintf(out + n, cap - (size_t)n, ".%s%s", hint ? " " : "", hint ? hint : "");
	if (n < 0)
		n = 0;
	return (size_t)n < cap ? (size_t)n : (cap ? cap - 1 : 0);
}
