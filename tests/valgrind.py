#!/usr/bin/env python3
"""make valgrind: the end-to-end core under valgrind's memcheck.

KLING_MCP is a glibc build without sanitizers and with symbols (make
VALGRIND=1: build/vg/kling-mcp). Each session below starts it under

    valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect
             --error-exitcode=99 --child-silent-after-fork=yes

(the DNS lookup runs getaddrinfo in a forked child that exits without
freeing what it inherited: only the server process is judged) and drives it
through the mock Kling API: initialize, tools/list, list_tasks on each
backend (tasks with an API key, legacy with an AK/SK pair, seed), cursors,
faults (Kling errors, retries, bad JSON, wrong shapes, dropped and closed
connections, chunked, oversize, a hang past the deadline), a cancelled call,
bad arguments; then the end of input (or SIGTERM with a call in flight), and
--check. For each: no memcheck error, 0 bytes definitely and indirectly lost,
exit status 0. Prints each session's LEAK SUMMARY.

Then the C unit tests and every fuzz corpus replay of that build (BUILD_DIR,
build/vg), under the same options but following the replay's forked children
(each input runs in one): valgrind sees what ASan cannot, a branch on an
uninitialized byte. test_iso8601 is left out: its exhaustive calendar loops
take a minute under valgrind and touch no heap (ASan and UBSan run it).
"""
import concurrent.futures
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
import kt  # noqa: E402
from harness import McpProc, Stack, text_of  # noqa: E402

KEY, AK, SK = "vg-api-key-0123456789", "vg-access-key", "vg-secret-key-abcdef"
LOGS = tempfile.mkdtemp(prefix="kling-vg-")
VG = ["valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
      "--show-leak-kinds=definite,indirect", "--error-exitcode=99", "--child-silent-after-fork=yes",
      "--num-callers=30", "--track-origins=yes"]


def start(s, name, loopback_ip=True, extra_env=None):
    """kling-mcp under valgrind, wired to the mock of Stack s."""
    env = dict(s.env, **(extra_env or {}))
    if loopback_ip:  # an IP literal: no DNS child at all
        env["KLING_BASE_URL"] = env["KLING_BASE_URL"].replace("localhost", "127.0.0.1")
    log = os.path.join(LOGS, name + ".log")
    mcp = McpProc(env, argv=VG + ["--log-file=" + log, kt.binary()])
    return mcp, log


def judge(name, rc, log):
    text = open(log).read()
    errors = re.search(r"ERROR SUMMARY: (\d+) errors", text)
    definite = re.search(r"definitely lost: ([\d,]+) bytes", text)
    indirect = re.search(r"indirectly lost: ([\d,]+) bytes", text)
    freed = "All heap blocks were freed" in text
    summary = [line.split("== ", 1)[-1] for line in text.splitlines()
               if re.search(r"(in use at exit|definitely lost|indirectly lost|possibly lost|still reachable"
                            r"|ERROR SUMMARY|All heap blocks)", line)]
    for line in summary:
        print(f"# {name}: {line}")
    n = lambda m: int(m.group(1).replace(",", "")) if m else None  # noqa: E731
    kt.check(f"valgrind/{name}: no memcheck error", errors is not None and n(errors) == 0,
             f"see {log}: " + "; ".join(summary))
    kt.check(f"valgrind/{name}: nothing definitely or indirectly lost",
             freed or (n(definite) == 0 and n(indirect) == 0), f"see {log}: " + "; ".join(summary))
    kt.eq(f"valgrind/{name}: exit status", rc, 0)


def ok_page(r):
    return not (r or {}).get("isError") and isinstance(((r or {}).get("structuredContent") or {}).get("tasks"), list)


def tasks_session():
    with Stack(api_key=KEY, start_mcp=False) as s:
        mcp, log = start(s, "tasks", loopback_ip=False, extra_env={"KLING_TIMEOUT_MS": "8000",
                                                                    "KLING_LOG_LEVEL": "debug"})
        kt.check("valgrind/tasks: initialize", (mcp.initialize() or {}).get("result") is not None)
        kt.check("valgrind/tasks: tools/list", "tools" in ((mcp.request("tools/list") or {}).get("result") or {}))
        r = mcp.call_tool("list_tasks", {"page_size": 5}, timeout=60)
        kt.check("valgrind/tasks: a page", ok_page(r), text_of(r)[:200])
        cur = ((r or {}).get("structuredContent") or {}).get("next_cursor")
        kt.check("valgrind/tasks: the next page by cursor", ok_page(mcp.call_tool("list_tasks", {"cursor": cur},
                                                                                    timeout=60)))
        kt.check("valgrind/tasks: page 3 by walking the cursor",
                 ok_page(mcp.call_tool("list_tasks", {"page": 3, "page_size": 4, "status": "succeed"}, timeout=60)))
        faults = [
            ({"mode": "kling_error", "http": 400, "code": 1201}, False),
            ({"mode": "kling_error", "http": 429, "code": 1302, "retry_after": 0}, True),
            ({"mode": "http_error", "http": 502, "count": 3, "headers": {"Retry-After": "0"}}, False),
            ({"mode": "bad_json"}, False),
            ({"mode": "wrong_shape"}, False),
            ({"mode": "close_before_reply"}, True),
            ({"mode": "close_mid_body"}, False),
            ({"mode": "connection_close"}, True),
            ({"mode": "chunked", "chunk_size": 50}, True),
            ({"mode": "oversize", "size": 5 * 1024 * 1024}, False),
            ({"mode": "hang", "seconds": 30}, False),
        ]
        for fault, good in faults:
            s.mock.fault(path_prefix="/tasks", **fault)
            r = mcp.call_tool("list_tasks", {}, timeout=60)
            kt.check(f"valgrind/tasks: {fault['mode']} answered as expected",
                     r is not None and bool(ok_page(r)) == good, text_of(r)[:200])
        kt.check("valgrind/tasks: a bad argument", (mcp.call_tool("list_tasks", {"page": 0}) or {}).get("isError"))
        # a call cancelled while its request is in flight
        s.mock.fault(path_prefix="/tasks", mode="delay", ms=3000)
        mcp.send({"jsonrpc": "2.0", "id": "c1", "method": "tools/call",
                  "params": {"name": "list_tasks", "arguments": {}}})
        time.sleep(1)
        mcp.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "c1"}})
        kt.eq("valgrind/tasks: ping after a cancel", (mcp.request("ping", timeout=30) or {}).get("result"), {})
        # the end of input with a call in flight
        s.mock.fault(path_prefix="/tasks", mode="delay", ms=3000)
        mcp.send({"jsonrpc": "2.0", "id": "inflight", "method": "tools/call",
                  "params": {"name": "list_tasks", "arguments": {}}})
        time.sleep(0.5)
        rc, _ = mcp.close(timeout=60)
    judge("tasks", rc, log)


def legacy_and_seed_sessions():
    with Stack(access_key=AK, secret_key=SK, start_mcp=False,
               mock_args=["--legacy-products", "videos/text2video,images/generations"]) as s:
        mcp, log = start(s, "legacy")
        mcp.initialize()
        r = mcp.call_tool("list_tasks", {"page_size": 5}, timeout=60)
        kt.check("valgrind/legacy: a merged page (404 products skipped)", ok_page(r), text_of(r)[:200])
        cur = ((r or {}).get("structuredContent") or {}).get("next_cursor")
        kt.check("valgrind/legacy: the next page by cursor", ok_page(mcp.call_tool("list_tasks", {"cursor": cur},
                                                                                     timeout=60)))
        kt.check("valgrind/legacy: filtered page 2",
                 ok_page(mcp.call_tool("list_tasks", {"status": "failed", "page": 2, "page_size": 3}, timeout=60)))
        s.mock.fault(path_prefix="/v1/videos", mode="kling_error", http=401, code=1004)
        kt.check("valgrind/legacy: an error from one product",
                 (mcp.call_tool("list_tasks", {}, timeout=60) or {}).get("isError"))
        rc, _ = mcp.close(timeout=60)
    judge("legacy", rc, log)
    with Stack(api_key=KEY, backend="seed", start_mcp=False) as s:
        mcp, log = start(s, "seed")
        mcp.initialize()
        kt.check("valgrind/seed: a page", ok_page(mcp.call_tool("list_tasks", {"page": 2, "page_size": 3},
                                                                timeout=60)))
        # SIGTERM while a call is in flight
        s.mock.fault(path_prefix="/v1/task/list", mode="hang", seconds=10)
        mcp.send({"jsonrpc": "2.0", "id": "hung", "method": "tools/call",
                  "params": {"name": "list_tasks", "arguments": {}}})
        time.sleep(1.5)
        mcp.proc.send_signal(signal.SIGTERM)
        rc, _ = mcp.close(timeout=60)
    judge("seed, ended by SIGTERM mid-call", rc, log)


def check_session():
    with Stack(api_key=KEY, start_mcp=False) as s:
        log = os.path.join(LOGS, "check.log")
        env = dict(s.env)
        p = subprocess.run(VG + ["--log-file=" + log, kt.binary(), "--check"], env=env, capture_output=True,
                           timeout=300)
        kt.check("valgrind/--check: ran", b"--check" in p.stdout, p.stdout[-300:])
    judge("--check", p.returncode, log)


def units_and_replays():
    build = os.environ.get("BUILD_DIR") or os.path.join(os.path.dirname(HERE), "build", "vg")
    opts = [o for o in VG if not o.startswith("--child-silent")]
    runs = [(f"unit/{n}", [os.path.join(build, "tests", n)]) for n in sorted(os.listdir(os.path.join(build, "tests")))
            if n.startswith("test_") and n != "test_iso8601"]
    corpus = os.path.join(HERE, "fuzz", "corpus")
    runs += [(f"replay/{n}", [os.path.join(build, "replay", n), os.path.join(corpus, n)])
             for n in sorted(os.listdir(os.path.join(build, "replay")))]
    def one(item):
        name, argv = item
        log = os.path.join(LOGS, name.replace("/", "-") + ".log")
        p = subprocess.run(opts + ["--log-file=" + log + ".%p"] + argv, capture_output=True, timeout=600)
        out = p.stdout.decode("utf-8", "replace")
        fails = [line for line in out.splitlines() if line.startswith("FAIL")]
        logs = [os.path.join(LOGS, f) for f in os.listdir(LOGS) if f.startswith(os.path.basename(log) + ".")]
        bad = [f for f in logs if re.search(r"ERROR SUMMARY: [1-9]", open(f).read())]
        return name, p.returncode == 0 and not fails and not bad, \
            f"exit {p.returncode}; {fails[:2]}; see {bad[:2] or logs[:1]}"

    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        for name, ok, why in pool.map(one, runs):
            kt.check(f"valgrind/{name}: no memcheck error or leak, every check passed", ok, why)


def main():
    if subprocess.run(["valgrind", "--version"], capture_output=True).returncode != 0:
        kt.fail("valgrind", "valgrind is not installed")
        sys.exit(1)
    t0 = time.monotonic()
    tasks_session()
    legacy_and_seed_sessions()
    check_session()
    units_and_replays()
    c = kt.counts()
    if c["FAIL"]:
        print(f"# valgrind: {time.monotonic() - t0:.0f} s; logs kept in {LOGS}")
    else:
        print(f"# valgrind: {time.monotonic() - t0:.0f} s")
        shutil.rmtree(LOGS, ignore_errors=True)
    print(f"{c['PASS']} passed, {c['FAIL']} failed")
    sys.exit(1 if c["FAIL"] else 0)


if __name__ == "__main__":
    main()
