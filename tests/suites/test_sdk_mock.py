#!/usr/bin/env python3
"""The official TypeScript SDK as the client of the product binary against the
mock Kling API, for each backend: the SDK's own callTool validates every
structuredContent against the declared outputSchema (see tests/sdk/client.mjs)."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import kt  # noqa: E402
import harness  # noqa: E402

KEY, AK, SK = "sdk-mock-key-0123456789", "sdk-mock-ak", "sdk-mock-sk-0123456789"


PLAN_CLIENT = 30  # client.mjs --mock prints PLAN 30 (three backends x five calls x two checks)


def main():
    sdk = os.path.join(harness.ROOT, "tests", "sdk")
    if not shutil.which("node") or not os.path.isdir(os.path.join(sdk, "node_modules", "@modelcontextprotocol")):
        kt.plan(1)
        kt.skip("sdk/mock", "node or tests/sdk/node_modules missing (tests/prepare.sh installs it)")
        kt.done()
    kt.plan(PLAN_CLIENT + 1)
    s = harness.Stack(api_key=KEY, access_key=AK, secret_key=SK, start_mcp=False)
    try:
        r = subprocess.run(["node", "client.mjs", "--mock", kt.binary(), s.env["KLING_BASE_URL"], s.ca, KEY, AK, SK],
                           cwd=sdk, capture_output=True, text=True, timeout=120)
        lines = r.stdout.splitlines()
        client_plan = lines[0] if lines else ""
        for line in lines[1:]:
            print(line, flush=True)  # the client's check lines, counted by the runner
        ran = sum(1 for x in lines if x.startswith(("PASS ", "FAIL ", "SKIP ")))
        kt._counts["PASS"] += ran  # keep kt's own tally (plan check at exit) in step with the lines printed
        kt.check("sdk/mock client exited 0 after its whole plan",
                 r.returncode == 0 and client_plan == f"PLAN {PLAN_CLIENT}" and ran == PLAN_CLIENT,
                 f"status {r.returncode}, {client_plan!r}, {ran} checks: {r.stderr[-500:]}")
    finally:
        s.close()
    kt.done()


if __name__ == "__main__":
    main()
