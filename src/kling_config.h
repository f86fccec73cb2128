/*
 * kling_config — the environment read once at start into one struct; defaults;
 * the --help text. Problems do not stop the server: the first one is kept in
 * config.error and every tool call answers with it (an MCP client shows that;
 * it shows nothing useful for a server that exits).
 */
#ifndef KLING_KLING_CONFIG_H
#define KLING_KLING_CONFIG_H

#include "all_limits.h"
#include "kling_task.h"
#include "log.h"

#define CONFIG_MAX_PRODUCTS 16
#define CONFIG_HOST_MAX LIMIT_HOST_BYTES
#define CONFIG_PATH_MAX 256
#define CONFIG_ERROR_MAX 512
/* Longest KLING_API_KEY: it travels whole in one Authorization value (kling.c
 * sizes its copy from this); real keys are tens of bytes. */
#define CONFIG_API_KEY_MAX 2048
/* Longest file a secret is read from (KLING_*_FILE): one key or token. */
#define CONFIG_SECRET_FILE_MAX 4096
#define CONFIG_SECRET_FILE_MAX_S "4096"
#define CONFIG_TASK_KEY_MIN 16 /* KLING_MCP_TASK_KEY: bytes, as HMAC-SHA256 needs to resist guessing */

struct kling_config {
	/* Credentials: heap copies, wiped by kling_config_wipe(); NULL when unset. */
	char *api_key;
	char *access_key;
	char *secret_key;

	/* Where to send requests: from KLING_BASE_URL, else KLING_REGION. */
	char host[CONFIG_HOST_MAX];       /* name or IP literal, no brackets */
	unsigned short port;              /* 443 unless the URL says otherwise */
	char base_path[CONFIG_PATH_MAX];  /* "" or "/prefix" without trailing '/' */
	const char *region;               /* "global" or "cn" (static string) */

	enum kling_api backend;             /* as asked (KLING_BACKEND) */
	const char *products[CONFIG_MAX_PRODUCTS]; /* legacy product set */
	int nproducts;

	const char *ca_file;              /* KLING_CA_FILE, else SSL_CERT_FILE; NULL = system/embedded */
	int timeout_ms;
	enum log_level log_level;
	const char *https_proxy;          /* HTTPS_PROXY / https_proxy (a copy, wiped by kling_config_wipe), NULL when unset */
	const char *no_proxy;             /* NO_PROXY / no_proxy */

	/* The HTTP listener (kling-mcp --listen). */
	const char *listen;               /* --listen or KLING_MCP_LISTEN; NULL = stdio */
	char *mcp_token;                  /* KLING_MCP_TOKEN (heap copy, wiped); NULL when unset */
	char *task_key;                   /* KLING_MCP_TASK_KEY (heap copy, wiped): signs 2026 task ids; NULL: random */
	const char *allowed_origins;      /* KLING_MCP_ALLOWED_ORIGINS, comma list */
	const char *allowed_hosts;        /* KLING_MCP_ALLOWED_HOSTS, comma list */

	char error[CONFIG_ERROR_MAX];     /* first problem found, "" when none */
};

/* Read the environment into c (which it zeroes first). Never fails: problems
 * go to c->error and the defaults stay in force. The struct keeps pointers
 * into the environment for non-secret strings. */
void kling_config_load(struct kling_config *c);

/* The backend auto resolves to: tasks with an API key, else legacy with the
 * AK/SK pair, else tasks (whose call then reports missing credentials). */
enum kling_api kling_config_effective_backend(const struct kling_config *c);

/* 1 when some credential (API key, or both AK and SK) is configured. */
int kling_config_has_credentials(const struct kling_config *c);

/* Overwrite and free the credential copies (at exit). */
void kling_config_wipe(struct kling_config *c);

/* Overwrite the values of KLING_API_KEY and KLING_SECRET_KEY, and the
 * user:password of HTTPS_PROXY/https_proxy, in this
 * process's environment (once kling_config_load has copied them), so they are not
 * readable in /proc/PID/environ, a core dump or a forked child for the
 * months the server runs. getenv() then finds them empty. */
void kling_config_wipe_environment(void);

/* The --help text. */
const char *kling_config_help(void);

#endif
