#!/bin/sh
# The official MCP TypeScript SDK (tests/sdk, pinned by package-lock.json and
# installed by tests/prepare.sh) as the client: see tests/sdk/client.mjs.
. "$(dirname "$0")/../lib/kt.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${KLING_MCP:?}
fake=${BUILD_DIR:?}/tools/fake_server
# client.mjs prints its own PLAN; when it cannot run, this one check is skipped.
if ! command -v node >/dev/null 2>&1; then
	plan 1
	skip "sdk" "node is not installed"
	exit 0
fi
if [ ! -d "$top/tests/sdk/node_modules/@modelcontextprotocol/sdk" ]; then
	plan 1
	skip "sdk" "tests/sdk/node_modules missing (tests/prepare.sh installs it)"
	exit 0
fi
cd "$top/tests/sdk" && timeout 60 node client.mjs "$bin" "$fake"
