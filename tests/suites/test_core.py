#!/usr/bin/env python3
"""The core end-to-end path, short enough to run under emulation on every
architecture (tests/suites/test_cross.sh runs it again for aarch64, armv7 and
mipsel): initialize, tools/list, list_tasks over verified TLS with an API key
and with the AK/SK pair (JWT signed on the device), a certificate that must be
refused, and the server still serving afterwards."""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import kt  # noqa: E402
import harness  # noqa: E402
import fixture  # noqa: E402

NOW = int(time.time() * 1000)
TASKS = fixture.make_tasks(NOW)
KEY, AK, SK = "core-api-key-0123456789", "core-ak", "core-sk-0123456789"
SLOW = 6 if os.environ.get("KLING_CROSS_ARCH") else 1  # emulation is slower


def ids(res):
    return [t.get("task_id") for t in ((res or {}).get("structuredContent") or {}).get("tasks", [])]


def main():
    kt.plan(9)
    fix = fixture.save(TASKS)
    margs = ["--fixture", fix, "--now-ms", str(NOW)]
    recent = [t for t in TASKS if t["created_at_ms"] >= NOW - 30 * 86_400_000]
    with harness.Stack(api_key=KEY, access_key=AK, secret_key=SK, mock_args=margs,
                       env={"KLING_TIMEOUT_MS": str(15000 * SLOW)}) as s:
        s.env.pop("KLING_ACCESS_KEY")
        init = s.mcp.initialize() or {}
        kt.check("core/initialize", (init.get("result") or {}).get("serverInfo", {}).get("name") == "kling-mcp",
                 str(init)[:200])
        tools = (s.mcp.request("tools/list", timeout=10 * SLOW) or {}).get("result", {}).get("tools", [])
        kt.check("core/tools/list has list_tasks and get_task", [t.get("name") for t in tools] == ["list_tasks", "get_task"],
                 str(tools)[:200])
        r = s.mcp.call_tool("list_tasks", {"page_size": 5, "status": "succeed"}, timeout=30 * SLOW)
        want = [t["task_id"] for t in recent if t["status"] == "succeed"][:5]
        kt.eq("core/list_tasks with an API key: exact tasks", ids(r), want)
        r = s.mcp.call_tool("list_tasks", {"page": 0}, timeout=10 * SLOW)
        kt.check("core/bad argument answered with isError", r.get("isError") and "page" in harness.text_of(r))
        s.mcp.close()
        env = {k: v for k, v in s.env.items() if k != "KLING_API_KEY"}
        env.update(KLING_ACCESS_KEY=AK, KLING_SECRET_KEY=SK)
        m = harness.McpProc(env)
        m.initialize()
        r = m.call_tool("list_tasks", {"page_size": 4}, timeout=30 * SLOW)
        kt.eq("core/list_tasks with AK/SK (JWT made here): exact tasks", ids(r), [t["task_id"] for t in TASKS[:4]])
        kt.check("core/the mock verified the JWT", s.mock.requests()[-1].get("auth") == "jwt")
        m.close()
        other = tempfile.mkdtemp()
        ca2, _, _ = harness.make_certs(other)
        m = harness.McpProc(dict(s.env, KLING_CA_FILE=ca2))
        m.initialize()
        r = m.call_tool("list_tasks", {}, timeout=30 * SLOW)
        t = harness.text_of(r).lower()
        kt.check("core/untrusted certificate refused", r.get("isError") and ("certificate" in t or "tls" in t),
                 harness.text_of(r))
        p = m.request("ping", timeout=10 * SLOW)
        kt.check("core/still serving after the failure", p is not None and p.get("result") == {}, str(p))
        code, _ = m.close()
        kt.eq("core/exit 0 at end of input", code, 0)
    os.unlink(fix)
    kt.done()


if __name__ == "__main__":
    main()
