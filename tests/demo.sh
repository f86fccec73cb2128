#!/bin/sh
# make demo: show kling-mcp working, with no credentials needed.
set -eu
bin=${KLING_MCP:?}
echo "\$ kling-mcp --version"
"$bin" --version
