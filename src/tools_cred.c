/* tools_cred — see tools_cred.h. */
#include "tools_cred.h"

#include "kling_config.h"

#include <stdio.h>

int tools_cred_ready(const struct kling_config *cfg, char *err, size_t cap)
{
	if (cfg && cfg->error[0]) {
		snprintf(err, cap,
			 "kling-mcp is misconfigured: %s. Fix the environment the MCP client starts kling-mcp with, "
			 "then restart it.",
			 cfg->error);
		return -1;
	}
	if (cfg && !kling_config_has_credentials(cfg)) {
		snprintf(err, cap,
			 "No Kling AI credentials: set KLING_API_KEY (an API key from the Kling developer console), "
			 "or both KLING_ACCESS_KEY and KLING_SECRET_KEY (an AccessKey/SecretKey pair), in the "
			 "environment the MCP client starts kling-mcp with, then restart it.");
		return -1;
	}
	return 0;
}
