#!/usr/bin/env python3
"""The official TypeScript SDK v1 client's task API (client.experimental.tasks:
callToolStream, cancelTask, getTask; 2025-11-25) against the product binary
over stdio and over Streamable HTTP (--listen, a session) and the mock Kling
API, the client's request timeout (3 s) below get_task's wait: see
tests/sdk/tasks.mjs."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import kt  # noqa: E402
import harness  # noqa: E402
from listen import Listener  # noqa: E402

KEY = "sdk-tasks-key-0123456789"
PLAN_CLIENT = 7  # tasks.mjs prints PLAN 7


def run(s, sdk, tag):
    live = "/_mock/live_task"
    slow = s.mock._do("POST", live, {"steps": [{"after_ms": 0, "status": "processing"},
                                               {"after_ms": 8000, "status": "succeed"}]})["task_id"]
    never = s.mock._do("POST", live, {"steps": [{"after_ms": 0, "status": "processing"}]})["task_id"]
    srv = Listener(s.env) if tag.endswith("http") else None
    try:
        url = [f"http://127.0.0.1:{srv.port}/mcp"] if srv else []
        r = subprocess.run(["node", "tasks.mjs", kt.binary(), s.env["KLING_BASE_URL"], s.ca, KEY, slow, never] + url,
                           cwd=sdk, capture_output=True, text=True, timeout=120)
    finally:
        if srv:
            srv.stop()
    lines = r.stdout.splitlines()
    client_plan = lines[0] if lines else ""
    for line in lines[1:]:
        print(line, flush=True)  # the client's check lines, counted by the runner
    ran = sum(1 for x in lines if x.startswith(("PASS ", "FAIL ", "SKIP ")))
    kt._counts["PASS"] += ran  # keep kt's tally (plan check at exit) in step with the lines printed
    kt.check(f"{tag}/client exited 0 after its whole plan",
             r.returncode == 0 and client_plan == f"PLAN {PLAN_CLIENT}" and ran == PLAN_CLIENT,
             f"status {r.returncode}, {client_plan!r}, {ran} checks: {r.stderr[-500:]}")


def main():
    sdk = os.path.join(harness.ROOT, "tests", "sdk")
    if not shutil.which("node") or not os.path.isdir(os.path.join(sdk, "node_modules", "@modelcontextprotocol")):
        kt.plan(1)
        kt.skip("sdk-tasks", "node or tests/sdk/node_modules missing (tests/prepare.sh installs it)")
        kt.done()
    kt.plan(2 * (PLAN_CLIENT + 1))
    s = harness.Stack(api_key=KEY, start_mcp=False)
    try:
        for tag in ("sdk-tasks", "sdk-tasks-http"):
            run(s, sdk, tag)
    finally:
        s.close()
    kt.done()


if __name__ == "__main__":
    main()
