/* kling_config — see kling_config.h. */
#include "kling_config.h"

#include "all_limits.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HOST_GLOBAL "api-singapore.klingai.com"
#define HOST_CN "api-beijing.klingai.com"

/* The legacy product lists, in the order they are merged. */
static const char *const default_products[] = {
	"videos/text2video", "videos/image2video", "videos/omni-video",
	"videos/video-extend", "images/generations", "images/kolors-virtual-try-on",
};

/* HTTPS_PROXY's copy (its password is wiped from the environment). */
static char g_proxy_buf[2048];

/* KLING_LEGACY_PRODUCTS is split in place in this copy. */
static char g_products_buf[1024];

static void set_error(struct kling_config *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_error(struct kling_config *c, const char *fmt, ...)
{
	if (c->error[0])
		return; /* keep the first problem */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->error, sizeof c->error, fmt, ap);
	va_end(ap);
}

/* getenv, treating an empty value as unset. */
static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

/* NAME's value, or the content of the file NAME_FILE names (how Docker
 * secrets and systemd's LoadCredential hand secrets over), read once here
 * with its trailing line end removed. Both set is an error naming both. */
static char *secret_copy(struct kling_config *c, const char *name)
{
	char fname[32], buf[CONFIG_SECRET_FILE_MAX + 2];
	snprintf(fname, sizeof fname, "%s_FILE", name);
	const char *v = env(name), *path = env(fname);
	if (!path)
		return v ? strdup(v) : NULL;
	if (v) {
		set_error(c, "%s and %s are both set: keep one", name, fname);
		return NULL;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1); /* raw read: no stdio buffer keeps a copy */
	int err = errno;
	if (fd >= 0)
		close(fd);
	if (n < 0 || n > CONFIG_SECRET_FILE_MAX) {
		set_error(c, "%s: cannot read \"%.200s\": %s", fname, path,
			  n < 0 ? strerror(err) : "longer than " CONFIG_SECRET_FILE_MAX_S " bytes");
		n = 0;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = 0;
	char *copy = n ? strdup(buf) : NULL;
	explicit_bzero(buf, sizeof buf);
	if (!n && !c->error[0])
		set_error(c, "%s: \"%.200s\" is empty", fname, path);
	return copy;
}

/* A credential with a control character cannot be sent (a header value);
 * most often a CR left by a file with CRLF line ends. */
static void check_secret(struct kling_config *c, const char *name, const char *v)
{
	for (size_t i = 0; v && v[i]; i++) {
		unsigned char ch = (unsigned char)v[i];
		if (ch < 0x20 || ch == 0x7F) {
			set_error(c, "%s holds a control character (%s at byte %zu of %zu)%s: remove it", name,
				  ch == '\r' ? "a carriage return" : ch == '\n' ? "a line feed" : "a control byte", i + 1,
				  strlen(v), ch == '\r' ? "; was it read from a file with CRLF line ends?" : "");
			return;
		}
	}
}

/* Parse "https://host[:port][/path]" into c. Returns 0 or -1 (error set). */
static int parse_base_url(struct kling_config *c, const char *url)
{
	static const char scheme[] = "https://";
	if (strncmp(url, scheme, sizeof scheme - 1) != 0) {
		set_error(c, "KLING_BASE_URL must start with https:// (credentials never travel in clear): \"%.100s\"", url);
		return -1;
	}
	const char *h = url + sizeof scheme - 1, *end;
	int bracket = *h == '[';
	if (bracket) { /* IPv6 literal */
		end = strchr(h, ']');
		if (!end)
			goto bad;
		h++;
	} else {
		end = h + strcspn(h, ":/?#");
	}
	size_t hl = (size_t)(end - h);
	if (hl == 0 || hl >= sizeof c->host)
		goto bad;
	memcpy(c->host, h, hl);
	c->host[hl] = 0;
	if (*end == ']')
		end++;
	c->port = 443;
	if (bracket && !memchr(h, ':', hl))
		goto bad; /* brackets hold an IPv6 literal only */
	if (*end == ':') { /* digits only: no sign, no space */
		const char *d = end + 1;
		long p = 0;
		size_t nd = 0;
		while (d[nd] >= '0' && d[nd] <= '9' && nd < 6)
			p = p * 10 + (d[nd++] - '0');
		if (nd == 0 || p < 1 || p > 65535)
			goto bad;
		c->port = (unsigned short)p;
		end = d + nd;
	}
	if (*end && *end != '/')
		goto bad;
	size_t pl = strcspn(end, "?#");
	if (end[pl])
		goto bad;
	while (pl > 0 && end[pl - 1] == '/')
		pl--;
	if (pl >= sizeof c->base_path)
		goto bad;
	memcpy(c->base_path, end, pl);
	c->base_path[pl] = 0;
	for (const char *p = c->host; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '@')
			goto bad;
	return 0;
bad:
	set_error(c, "KLING_BASE_URL is not a valid https URL (https://host[:port][/path]): \"%.100s\"", url);
	c->host[0] = 0;
	return -1;
}

static void load_products(struct kling_config *c)
{
	const char *v = env("KLING_LEGACY_PRODUCTS");
	if (!v || strlen(v) >= sizeof g_products_buf) {
		if (v)
			set_error(c, "KLING_LEGACY_PRODUCTS is longer than %zu bytes", sizeof g_products_buf - 1);
		for (size_t i = 0; i < sizeof default_products / sizeof *default_products; i++)
			c->products[c->nproducts++] = default_products[i];
		return;
	}
	memcpy(g_products_buf, v, strlen(v) + 1); /* length checked above */
	for (char *p = g_products_buf; *p;) {
		char *comma = strchr(p, ',');
		if (comma)
			*comma = 0;
		while (*p == ' ')
			p++;
		if (*p) {
			if (strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789-_/") != strlen(p) || p[0] == '/')
				set_error(c, "KLING_LEGACY_PRODUCTS: \"%.60s\" is not a product path like videos/text2video", p);
			else if (c->nproducts < CONFIG_MAX_PRODUCTS)
				c->products[c->nproducts++] = p;
			else
				set_error(c, "KLING_LEGACY_PRODUCTS lists more than %d products", CONFIG_MAX_PRODUCTS);
		}
		if (!comma)
			break;
		p = comma + 1;
	}
	if (c->nproducts == 0)
		set_error(c, "KLING_LEGACY_PRODUCTS names no product");
}

static void load_endpoint(struct kling_config *c)
{
	const char *region = env("KLING_REGION");
	c->region = "global";
	if (region && strcmp(region, "cn") == 0)
		c->region = "cn";
	else if (region && strcmp(region, "global") != 0)
		set_error(c, "KLING_REGION must be \"global\" or \"cn\", not \"%.40s\"", region);
	const char *url = env("KLING_BASE_URL");
	if (url) {
		parse_base_url(c, url);
		return;
	}
	snprintf(c->host, sizeof c->host, "%s", strcmp(c->region, "cn") == 0 ? HOST_CN : HOST_GLOBAL);
	c->port = 443;
}

static void load_misc(struct kling_config *c)
{
	const char *b = env("KLING_BACKEND");
	c->backend = KLING_API_AUTO;
	if (b) {
		int found = 0;
		for (int i = KLING_API_AUTO; i <= KLING_API_SEED; i++) {
			if (strcmp(b, kling_task_api_name((enum kling_api)i)) == 0) {
				c->backend = (enum kling_api)i;
				found = 1;
			}
		}
		if (!found)
			set_error(c, "KLING_BACKEND must be auto, tasks, legacy or seed, not \"%.40s\"", b);
	}
	c->timeout_ms = DEFAULT_TIMEOUT_MS;
	const char *t = env("KLING_TIMEOUT_MS");
	if (t) {
		char *e;
		long v = strtol(t, &e, 10);
		if (*e || v < MIN_TIMEOUT_MS || v > MAX_TIMEOUT_MS)
			set_error(c, "KLING_TIMEOUT_MS must be a whole number from %d to %d, not \"%.40s\"",
				  MIN_TIMEOUT_MS, MAX_TIMEOUT_MS, t);
		else
			c->timeout_ms = (int)v;
	}
	c->log_level = LOG_WARN;
	const char *l = env("KLING_LOG_LEVEL");
	if (l && log_parse_level(l, &c->log_level) != 0)
		set_error(c, "KLING_LOG_LEVEL must be error, warn, info or debug, not \"%.40s\"", l);
	c->ca_file = env("KLING_CA_FILE");
	if (!c->ca_file)
		c->ca_file = env("SSL_CERT_FILE");
	const char *proxy = env("HTTPS_PROXY");
	if (!proxy)
		proxy = env("https_proxy");
	if (proxy && strlen(proxy) >= sizeof g_proxy_buf) {
		set_error(c, "HTTPS_PROXY is longer than %zu bytes", sizeof g_proxy_buf - 1);
	} else if (proxy) { /* a copy: its user:password is wiped from the environment */
		memcpy(g_proxy_buf, proxy, strlen(proxy) + 1);
		c->https_proxy = g_proxy_buf;
	}
	c->no_proxy = env("NO_PROXY");
	if (!c->no_proxy)
		c->no_proxy = env("no_proxy");
	c->listen = env("KLING_MCP_LISTEN");
	c->allowed_origins = env("KLING_MCP_ALLOWED_ORIGINS");
	c->allowed_hosts = env("KLING_MCP_ALLOWED_HOSTS");
}

void kling_config_load(struct kling_config *c)
{
	memset(c, 0, sizeof *c);
	c->api_key = secret_copy(c, "KLING_API_KEY");
	c->access_key = secret_copy(c, "KLING_ACCESS_KEY");
	c->secret_key = secret_copy(c, "KLING_SECRET_KEY");
	c->mcp_token = secret_copy(c, "KLING_MCP_TOKEN");
	c->task_key = secret_copy(c, "KLING_MCP_TASK_KEY");
	if (c->task_key && strlen(c->task_key) < CONFIG_TASK_KEY_MIN)
		set_error(c, "KLING_MCP_TASK_KEY is %zu bytes: use at least %d random ones (e.g. head -c 32 /dev/urandom "
			  "| base64)", strlen(c->task_key), CONFIG_TASK_KEY_MIN);
	check_secret(c, "KLING_API_KEY", c->api_key);
	check_secret(c, "KLING_ACCESS_KEY", c->access_key);
	check_secret(c, "KLING_SECRET_KEY", c->secret_key);
	if (c->api_key && strlen(c->api_key) > CONFIG_API_KEY_MAX)
		set_error(c, "KLING_API_KEY is %zu bytes, longer than any Kling key (at most %d)", strlen(c->api_key),
			  CONFIG_API_KEY_MAX);
	if (!c->api_key && (!c->access_key) != (!c->secret_key))
		set_error(c, "%s is set but %s is not: the AK/SK pair needs both",
			  c->access_key ? "KLING_ACCESS_KEY" : "KLING_SECRET_KEY",
			  c->access_key ? "KLING_SECRET_KEY" : "KLING_ACCESS_KEY");
	load_endpoint(c);
	load_products(c);
	load_misc(c);
}

int kling_config_has_credentials(const struct kling_config *c)
{
	return c->api_key || (c->access_key && c->secret_key);
}

enum kling_api kling_config_effective_backend(const struct kling_config *c)
{
	if (c->backend != KLING_API_AUTO)
		return c->backend;
	if (!c->api_key && c->access_key && c->secret_key)
		return KLING_API_LEGACY;
	return KLING_API_TASKS;
}

static void wipe_free(char **p)
{
	if (*p) {
		explicit_bzero(*p, strlen(*p));
		free(*p);
		*p = NULL;
	}
}

void kling_config_wipe(struct kling_config *c)
{
	wipe_free(&c->api_key);
	wipe_free(&c->access_key);
	wipe_free(&c->secret_key);
	wipe_free(&c->mcp_token);
	wipe_free(&c->task_key);
	explicit_bzero(g_proxy_buf, sizeof g_proxy_buf);
	c->https_proxy = NULL;
}

void kling_config_wipe_environment(void)
{
	static const char *const names[] = {"KLING_API_KEY", "KLING_SECRET_KEY", "KLING_MCP_TOKEN",
						    "KLING_MCP_TASK_KEY"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		char *v = getenv(names[i]); /* points into the environment block itself */
		if (v)
			explicit_bzero(v, strlen(v));
	}
	static const char *const proxies[] = {"HTTPS_PROXY", "https_proxy"};
	for (size_t i = 0; i < sizeof proxies / sizeof *proxies; i++) {
		char *v = getenv(proxies[i]);
		if (!v)
			continue;
		char *auth = strstr(v, "://");
		auth = auth ? auth + 3 : v;
		size_t n = strcspn(auth, "/?#");
		char *at = memrchr(auth, '@', n);
		if (at) /* the user:password before it */
			explicit_bzero(auth, (size_t)(at - auth));
	}
}

const char *kling_config_help(void)
{
	return "usage: kling-mcp [--listen [ADDR:]PORT | --help | --version | --check | --probe URL |\n"
	       "                  call TOOL [ARGS_JSON] [--json]]\n"
	       "\n"
	       "An MCP server whose tools list the generation tasks of a Kling AI account\n"
	       "(list_tasks) and look one up, waiting for it to finish (get_task). With no\n"
	       "argument it serves MCP on standard input/output.\n"
	       "\n"
	       "  --listen [ADDR:]PORT  serve MCP over HTTP at http://ADDR:PORT/mcp (127.0.0.1)\n"
	       "  --help     this text\n"
	       "  --version  program version, mbedTLS version, build target\n"
	       "  --check    diagnose configuration, clock, DNS, TLS and credentials; exit 0 or 1\n"
	       "  --probe URL  GET an http:// URL (the listener's /health): exit 0 on 2xx, else 1\n"
	       "  call TOOL [ARGS_JSON] [--json]\n"
	       "             one tool call, e.g. call list_tasks '{\"status\":\"failed\"}': its text\n"
	       "             (or with --json its structuredContent) on stdout; exit 0, 1 when the\n"
	       "             tool answered with an error (also on stderr), 2 on a usage error\n"
	       "\n"
	       "Environment:\n"
	       "  KLING_API_KEY          API key, sent as Authorization: Bearer\n"
	       "  KLING_ACCESS_KEY       AccessKey of an AK/SK pair (turned into an HS256 JWT)\n"
	       "  KLING_SECRET_KEY       SecretKey of the pair\n"
	       "  KLING_REGION           global (default, api-singapore.klingai.com) or cn (api-beijing.klingai.com)\n"
	       "  KLING_BASE_URL         https://host[:port][/path], overrides the region; https only\n"
	       "  KLING_BACKEND          auto (default: tasks with an API key, else legacy), tasks, legacy, seed\n"
	       "  KLING_LEGACY_PRODUCTS  comma list of legacy product paths (default: videos/text2video,\n"
	       "                         videos/image2video, videos/omni-video, videos/video-extend,\n"
	       "                         images/generations, images/kolors-virtual-try-on)\n"
	       "  KLING_CA_FILE          PEM file that replaces the trust store (SSL_CERT_FILE is read\n"
	       "                         the same way when this is unset); else the system bundle, else\n"
	       "                         the bundle embedded at build time\n"
	       "  KLING_TIMEOUT_MS       deadline of one tool call, everything included (default 30000)\n"
	       "  KLING_LOG_LEVEL        error, warn (default), info, debug; logs go to stderr only\n"
	       "  HTTPS_PROXY, https_proxy  http://[user:pass@]host:port, used with CONNECT\n"
	       "  NO_PROXY, no_proxy     hosts (suffixes, or *) reached without the proxy\n"
	       "  KLING_MCP_LISTEN       same as --listen\n"
	       "  KLING_MCP_TOKEN        bearer token HTTP clients must send (needed off loopback)\n"
	       "  KLING_MCP_TASK_KEY     key (16+ bytes) signing task ids of protocol 2026-07-28, shared by\n"
	       "                         replicas that answer each other's tasks; random per process if unset\n"
	       "  KLING_MCP_ALLOWED_ORIGINS, KLING_MCP_ALLOWED_HOSTS  more Origin, Host values (commas)\n"
	       "  KLING_API_KEY_FILE, KLING_ACCESS_KEY_FILE, KLING_SECRET_KEY_FILE, KLING_MCP_TOKEN_FILE,\n"
	       "  KLING_MCP_TASK_KEY_FILE\n"
	       "                         read that variable's value from this file instead (one line)\n";
}
