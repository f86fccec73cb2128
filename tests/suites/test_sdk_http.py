"""The official MCP TypeScript SDK client over Streamable HTTP (tests/sdk/http_client.mjs,
@modelcontextprotocol/sdk pinned there) against `kling-mcp --listen` with a bearer
token and the mock Kling API. Loopback only. The client prints PLAN and its checks.
"""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from kt import done, fail, root, skip  # noqa: E402
import harness  # noqa: E402
from listen import Listener  # noqa: E402

D = os.path.join(root(), "tests", "sdk")
PLAN = 9  # http_client.mjs's checks
TOKEN = "sdk-http-test-token-0123456789"


def main():
    if not shutil.which("node") or not os.path.isdir(os.path.join(D, "node_modules", "@modelcontextprotocol", "sdk")):
        print(f"PLAN {PLAN}", flush=True)
        for i in range(PLAN):
            skip(f"sdk_http/{i}", "node or tests/sdk/node_modules missing (tests/prepare.sh installs it)")
        done()
    with harness.Stack(api_key="test-key", start_mcp=False) as st:
        srv = Listener(dict(st.env, KLING_MCP_TOKEN=TOKEN, KLING_LOG_LEVEL="info"))
        try:
            p = subprocess.run(["node", "http_client.mjs", f"http://127.0.0.1:{srv.port}/mcp", TOKEN], cwd=D,
                               capture_output=True, text=True, timeout=90)
            sys.stdout.write(p.stdout)
            if p.returncode != 0:
                fail("sdk_http/exit", f"node exited {p.returncode}: {p.stderr[-600:]}")
        finally:
            rc, err = srv.stop()
            if rc != 0:
                fail("sdk_http/server_exit", f"status {rc}: {err[-600:]}")
            elif TOKEN in err:
                fail("sdk_http/token_logged", "the token appears in the server's log")
    done()


main()
