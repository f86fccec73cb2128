#!/usr/bin/env python3
"""Behaviours users rely on, each through the kling-mcp binary against the mock
Kling API (nothing here calls a module directly):
  - deep pages on POST /tasks: page 7 x 100 walks the cursor at most 500 tasks
    a request (the API's largest `limit`), and gives the same tasks as seven
    next_cursor steps and as the fixture's own order; a page past
    LIMIT_TASKS_SKIP is refused without a request;
  - deep pages on the legacy backend: page 21 x 100 (2,000 tasks skipped, the
    LIMIT_LEGACY_SKIP depth) merges the product lists newest first and gives
    exactly the fixture's tasks 2,000..2,099; page 22 is refused naming the
    limit and next_cursor, without a request;
  - KLING_LEGACY_PRODUCTS end to end: only the named /v1/<product> lists are
    asked, merged newest first; a malformed value is reported, naming it;
  - SIGINT: idle, and with a call in flight, the process exits 0 promptly;
  - the deadline: a call the API never answers ends at KLING_TIMEOUT_MS;
  - a certificate for another host name: a clear TLS error naming the name,
    and the process still serves.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "mock"))
import kt  # noqa: E402
import harness  # noqa: E402
import fixture  # noqa: E402

DAY = 86_400_000
NOW = 1_795_922_400_000  # a fixed "now" for the mock and the fixture
TASKS = fixture.make_tasks(NOW, 2300)
KEY, AK, SK = "paths-api-key-0123456789", "paths-ak", "paths-sk-0123456789"
SLOW = 4.0 if os.environ.get("SANITIZE") == "1" else 1.0
PLAN = 10 + 5 + 5 + 4 + 3 + 3


def ids(res):
    return [t.get("task_id") for t in ((res or {}).get("structuredContent") or {}).get("tasks", [])]


def text(res):
    return harness.text_of(res)


def tasks_requests(mock):
    return [r for r in mock.requests() if r.get("method") == "POST" and r.get("path") == "/tasks"]


def deep_tasks(fix):
    """POST /tasks: the 500-per-request walk and the depth limit."""
    with harness.Stack(api_key=KEY, mock_args=["--fixture", fix, "--now-ms", str(NOW)],
                       env={"KLING_TIMEOUT_MS": str(int(20000 * SLOW))}) as s:
        s.mcp.initialize()
        recent = [t["task_id"] for t in TASKS if NOW - 30 * DAY <= t["created_at_ms"] <= NOW]
        s.mock.reset()
        r = s.mcp.call_tool("list_tasks", {"page": 7, "page_size": 100}, timeout=30 * SLOW)
        reqs = tasks_requests(s.mock)
        limits = [(q.get("body") or {}).get("limit") for q in reqs]
        kt.eq("tasks/page 7 x 100: the fixture's tasks 600..699 of the last 30 days", ids(r), recent[600:700])
        kt.check("tasks/page 7 x 100: every request asks at most 500 tasks (the API's limit)",
                 limits and all(isinstance(n, int) and 1 <= n <= 500 for n in limits), f"limits {limits}")
        kt.check("tasks/page 7 x 100: 700 tasks asked in all, the cursor walked, no more than 3 requests",
                 2 <= len(reqs) <= 3 and sum(limits) == 700 and all((q.get("body") or {}).get("cursor")
                                                                   for q in reqs[1:]),
                 f"limits {limits}, bodies {[q.get('body') for q in reqs][:2]}")
        walked, cursor = [], None
        for _ in range(7):
            args = {"page_size": 100, **({"cursor": cursor} if cursor else {})}
            p = s.mcp.call_tool("list_tasks", args, timeout=30 * SLOW)
            walked.append(ids(p))
            cursor = ((p or {}).get("structuredContent") or {}).get("next_cursor")
            if not cursor:
                break
        kt.eq("tasks/page 7 by number is the 7th step of next_cursor", walked[-1] if len(walked) == 7 else walked,
              ids(r))
        r = s.mcp.call_tool("list_tasks", {"page": 8, "page_size": 100}, timeout=30 * SLOW)
        kt.eq("tasks/page 8 x 100 (a walk of 800): tasks 700..799", ids(r), recent[700:800])
        r = s.mcp.call_tool("list_tasks", {"page": len(recent) // 100 + 2, "page_size": 100}, timeout=30 * SLOW)
        sc = (r or {}).get("structuredContent") or {}
        kt.check("tasks/past the last task: an empty page, has_more false",
                 not r.get("isError") and sc.get("tasks") == [] and sc.get("has_more") is False,
                 json.dumps(r)[:300])
        s.mock.reset()
        r = s.mcp.call_tool("list_tasks", {"page": 52, "page_size": 100}, timeout=30 * SLOW)
        t = text(r)
        kt.check("tasks/page 52 x 100 (5,100 skipped) refused: too deep, names next_cursor",
                 r.get("isError") and "too deep" in t and "next_cursor" in t and "5000" in t, t)
        kt.eq("tasks/...without a request", len(tasks_requests(s.mock)), 0)
        r = s.mcp.call_tool("list_tasks", {"page": 51, "page_size": 100}, timeout=30 * SLOW)
        kt.check("tasks/page 51 x 100 (exactly 5,000 skipped) is allowed", not (r or {}).get("isError"), text(r))
        code, _ = s.mcp.close()
        kt.eq("tasks/exit 0", code, 0)


def deep_legacy(fix):
    """Legacy backend: the merge, newest first, down to LIMIT_LEGACY_SKIP."""
    with harness.Stack(access_key=AK, secret_key=SK, mock_args=["--fixture", fix, "--now-ms", str(NOW)],
                       env={"KLING_TIMEOUT_MS": str(int(20000 * SLOW))}) as s:
        s.mcp.initialize()
        all_ids = [t["task_id"] for t in TASKS]
        r = s.mcp.call_tool("list_tasks", {"page": 3, "page_size": 50}, timeout=30 * SLOW)
        kt.eq("legacy/page 3 x 50: the merge of every product list, newest first", ids(r), all_ids[100:150])
        s.mock.reset()
        r = s.mcp.call_tool("list_tasks", {"page": 21, "page_size": 100}, timeout=60 * SLOW)
        kt.eq("legacy/page 21 x 100 (2,000 skipped, the limit): tasks 2,000..2,099", ids(r), all_ids[2000:2100])
        sizes = [int((q.get("query") or {}).get("pageSize", ["0"])[0]) if isinstance(
            (q.get("query") or {}).get("pageSize"), list) else int((q.get("query") or {}).get("pageSize", 0))
            for q in s.mock.requests() if q.get("path", "").startswith("/v1/")]
        kt.check("legacy/...in at most 32 requests of at most 500 tasks", 0 < len(sizes) <= 32 and
                 all(0 < n <= 500 for n in sizes), f"{len(sizes)} requests, pageSize {sizes[:12]}")
        s.mock.reset()
        r = s.mcp.call_tool("list_tasks", {"page": 22, "page_size": 100}, timeout=30 * SLOW)
        t = text(r)
        kt.check("legacy/page 22 x 100 refused: too deep, names the 2000 limit and next_cursor, no request",
                 r.get("isError") and "too deep" in t and "2000" in t and "next_cursor" in t and
                 not s.mock.requests(), t)
        code, _ = s.mcp.close()
        kt.eq("legacy/exit 0", code, 0)


def legacy_products(fix):
    """KLING_LEGACY_PRODUCTS, through the process and the mock's request log."""
    with harness.Stack(access_key=AK, secret_key=SK, mock_args=["--fixture", fix, "--now-ms", str(NOW)],
                       env={"KLING_LEGACY_PRODUCTS": "images/generations,videos/omni-video"}) as s:
        s.mcp.initialize()
        s.mock.reset()
        r = s.mcp.call_tool("list_tasks", {"page_size": 30}, timeout=30 * SLOW)
        want = [t["task_id"] for t in TASKS if t["product"] in ("images/generations", "videos/omni-video")][:30]
        kt.eq("legacy-products/two products: their tasks only, merged newest first", ids(r), want)
        paths = {q.get("path") for q in s.mock.requests()}
        kt.eq("legacy-products/only those two lists asked", paths,
              {"/v1/images/generations", "/v1/videos/omni-video"})
        code, _ = s.mcp.close()
        kt.eq("legacy-products/exit 0", code, 0)
        env = dict(s.env, KLING_LEGACY_PRODUCTS="images/generations,not a product")
        m = harness.McpProc(env)
        m.initialize()
        r = m.call_tool("list_tasks", {}, timeout=10 * SLOW)
        code, err = m.close()
        said = text(r) + err
        kt.check("legacy-products/a malformed value is reported, naming the variable and the value",
                 "KLING_LEGACY_PRODUCTS" in said and "not a product" in said, said[:300])
        s.mock.reset()
        env = dict(s.env, KLING_LEGACY_PRODUCTS="videos/text2video")
        m = harness.McpProc(env)
        m.initialize()
        r = m.call_tool("list_tasks", {"page_size": 5}, timeout=30 * SLOW)
        m.close()
        kt.eq("legacy-products/one product: its newest five",
              ids(r), [t["task_id"] for t in TASKS if t["product"] == "videos/text2video"][:5])


def sigint():
    with harness.Stack(api_key=KEY, env={"KLING_TIMEOUT_MS": "30000"}) as s:
        s.mcp.initialize()
        time.sleep(0.05)
        t0 = time.monotonic()
        s.mcp.proc.send_signal(signal.SIGINT)
        try:
            rc = s.mcp.proc.wait(3 * SLOW)
        except subprocess.TimeoutExpired:
            rc = None
        took = time.monotonic() - t0
        kt.check("sigint/idle: exits 0 within 1 s", rc == 0 and took < 1 * SLOW, f"rc={rc} after {took:.2f} s")
        s.mcp.close()
        m = harness.McpProc(s.env)
        m.initialize()
        s.mock.fault(mode="hang", seconds=30, path_prefix="/tasks")
        m.send({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
                "params": {"name": "list_tasks", "arguments": {}}})
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not s.mock.requests():
            time.sleep(0.02)
        kt.check("sigint/the call reached the API first", len(s.mock.requests()) == 1, str(s.mock.requests())[:200])
        t0 = time.monotonic()
        m.proc.send_signal(signal.SIGINT)
        try:
            rc = m.proc.wait(3 * SLOW)
        except subprocess.TimeoutExpired:
            rc = None
        took = time.monotonic() - t0
        kt.check("sigint/with a call in flight: exits 0 within 1 s, not waiting for the API",
                 rc == 0 and took < 1 * SLOW, f"rc={rc} after {took:.2f} s")
        code, err = m.close()
        kt.check("sigint/the API key never on stderr", KEY not in err, err[:200])


def deadline():
    with harness.Stack(api_key=KEY, env={"KLING_TIMEOUT_MS": "1000"}) as s:
        s.mcp.initialize()
        s.mock.fault(mode="hang", seconds=30, path_prefix="/tasks")
        t0 = time.monotonic()
        r = s.mcp.call_tool("list_tasks", {}, timeout=15 * SLOW)
        took = time.monotonic() - t0
        # the words come from whichever timer of the same deadline fires first:
        # the call's (naming KLING_TIMEOUT_MS) or the HTTP request's ("timeout after")
        kt.check("deadline/a call the API never answers: isError saying it timed out",
                 (r or {}).get("isError") is True and ("KLING_TIMEOUT_MS" in text(r) or "timeout after" in text(r)),
                 json.dumps(r)[:300])
        kt.check("deadline/...at the deadline (1 s)", 0.9 < took < 2.0 * SLOW, f"{took:.2f} s")
        p = s.mcp.request("ping", timeout=5 * SLOW)
        kt.eq("deadline/then ping answered", (p or {}).get("result"), {})


def wrong_host():
    """A certificate from the trusted CA, but for another name."""
    tmp = tempfile.mkdtemp(prefix="kling-host-")
    ca, _, _ = harness.make_certs(tmp)
    with open(os.path.join(tmp, "other.cnf"), "w") as f:
        f.write("subjectAltName=DNS:other.example\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    for c in (["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
               "-keyout", "other.key", "-out", "other.csr", "-subj", "/CN=other.example"],
              ["openssl", "x509", "-req", "-in", "other.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
               "-CAcreateserial", "-out", "other.pem", "-days", "2", "-extfile", "other.cnf"]):
        subprocess.run(c, cwd=tmp, check=True, capture_output=True)
    proc, port = harness.start_mock(tmp, "other", ["--cert", os.path.join(tmp, "other.pem"),
                                                    "--key", os.path.join(tmp, "other.key"), "--api-key", KEY])
    try:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "KLING_BASE_URL": f"https://localhost:{port}",
               "KLING_CA_FILE": ca, "KLING_API_KEY": KEY}
        m = harness.McpProc(env)
        m.initialize()
        r = m.call_tool("list_tasks", {}, timeout=30 * SLOW)
        t = text(r)
        kt.check("host/a certificate for other.example at localhost: isError saying it is not valid for localhost",
                 r.get("isError") is True and "not valid for the name localhost" in t and "other.example" in t, t)
        kt.eq("host/no task data came through", ((r or {}).get("structuredContent") or {}).get("tasks"), None)
        p = m.request("ping", timeout=10 * SLOW)
        code, _ = m.close()
        kt.check("host/still serving, exit 0 at the end", (p or {}).get("result") == {} and code == 0, f"{p} rc={code}")
    finally:
        harness.stop(proc)


def main():
    kt.plan(PLAN)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(TASKS, f)
    try:
        for part in (deep_tasks, deep_legacy, legacy_products):
            part(f.name)
        sigint()
        deadline()
        wrong_host()
    finally:
        os.unlink(f.name)
    kt.done()


if __name__ == "__main__":
    main()
