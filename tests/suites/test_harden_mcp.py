#!/usr/bin/env python3
"""Hardening of the MCP core and the stdio transport, through the binary with
the loopback mock: answers are never lost to a slow reader, a flood cannot
reach an internal error, end of input answers the accepted calls, signals
restore the descriptors, no core dumps, and the cosmetic messages."""
import atexit
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
import kt  # noqa: E402
from stdio_mcp import StdioMcp  # noqa: E402

sys.path.insert(0, os.path.join(kt.root(), "tests", "mock"))
import fixture  # noqa: E402

SLOW = 4.0 if os.environ.get("SANITIZE") == "1" else 1.0
PLAN = 23
INIT = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "harden", "version": "1"}}}


def line(obj):
    return json.dumps(obj).encode() + b"\n"


def call(i, args, name="list_tasks"):
    return {"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": {"name": name, "arguments": args}}


def text_of(msg):
    try:
        return msg["result"]["content"][0]["text"]
    except (KeyError, IndexError, TypeError):
        return ""


def big_fixture(tmp, n=150):
    """Tasks whose answers are long: every task succeeded with a 2 KB URL."""
    now = int(time.time() * 1000)
    tasks = fixture.make_tasks(now, n=n, seed=3)
    for t in tasks:
        t["status"] = "succeed"
        t["status_message"] = ""
        if not t.get("outputs"):
            t["outputs"] = [{"type": "image", "index": 0, "url": "https://cdn.example/i.png",
                             "watermark_url": "https://cdn.example/i_wm.png"}]
        for o in t["outputs"]:
            for k in ("url", "watermark_url", "mp3_url", "wav_url"):
                if k in o:
                    o[k] += "&pad=" + "p" * 2000
    path = os.path.join(tmp, "big.json")
    with open(path, "w") as f:
        json.dump(tasks, f)
    return path


def public_copy():
    """A copy of the binary that every user can reach (mode 0755 in a 0755
    temp directory whose parents others may enter), since the checkout may sit
    in a private home directory (0700) that nobody cannot enter; its path, or
    a sentence saying why none can be made."""
    try:
        d = tempfile.mkdtemp(prefix="kling-public-")
        os.chmod(d, 0o755)
        path = os.path.join(d, "kling-mcp")
        shutil.copyfile(kt.binary(), path)
        os.chmod(path, 0o755)
    except OSError as e:
        return f"no copy of the binary every user can reach could be made: {e}"
    atexit.register(shutil.rmtree, d, True)
    parent = os.path.dirname(d)
    while True:
        if not os.stat(parent).st_mode & 0o001:
            return f"{parent} cannot be entered by other users, so no copy there can be started as nobody"
        if parent == os.path.dirname(parent):
            return path
        parent = os.path.dirname(parent)


def spawn(env, stdin=subprocess.PIPE, preexec=None):
    p = subprocess.Popen([kt.binary()], stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                         preexec_fn=preexec)
    return p


class Reader:
    """Collects stdout lines (and stderr) of p in threads, once started."""

    def __init__(self, p):
        self.p = p
        self.lines = []
        self.err = b""
        self.cv = threading.Condition()
        self.t_err = threading.Thread(target=self._err, daemon=True)
        self.t_err.start()
        self.t_out = None

    def _err(self):
        for chunk in iter(lambda: self.p.stderr.read1(65536), b""):
            self.err += chunk

    def _out(self):
        buf = b""
        for chunk in iter(lambda: self.p.stdout.read1(1 << 20), b""):
            buf += chunk
            *done, buf = buf.split(b"\n")
            with self.cv:
                self.lines.extend(done)
                self.cv.notify_all()

    def start(self):
        self.t_out = threading.Thread(target=self._out, daemon=True)
        self.t_out.start()

    def wait_for(self, pred, timeout):
        deadline = time.monotonic() + timeout
        with self.cv:
            while not pred(self.lines):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cv.wait(left)
            return True

    def msgs(self):
        out = []
        for ln in list(self.lines):
            try:
                out.append(json.loads(ln))
            except ValueError:
                out.append({"unparsable": ln[:100]})
        return out


def writer(p, data):
    def run():
        try:
            p.stdin.write(data)
            p.stdin.flush()
        except (BrokenPipeError, OSError):
            pass
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def late_reader(stack, n_calls, read_after, page_size=100, timeout=60):
    """n_calls list_tasks calls written at once, stdout read only after read_after
    seconds; returns (answers by id, exit status, stderr)."""
    p = spawn(stack.env)
    rd = Reader(p)
    data = line(INIT) + b"".join(line(call(i + 1, {"page_size": page_size})) for i in range(n_calls))
    wt = writer(p, data)
    time.sleep(read_after)
    rd.start()
    ids = set(range(1, n_calls + 1))
    rd.wait_for(lambda ls: sum(1 for x in ls if x.startswith(b'{"jsonrpc":"2.0","id":') and
                               not x.startswith(b'{"jsonrpc":"2.0","id":0,')) >= n_calls, timeout * SLOW)
    wt.join(5)
    try:
        p.stdin.close()
    except OSError:
        pass
    try:
        rc = p.wait(30 * SLOW)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    rd.t_out.join(5)
    got = {m.get("id"): m for m in rd.msgs() if isinstance(m, dict) and m.get("id") in ids}
    return got, rc, rd.err.decode(errors="replace")


def backpressure():
    tmp = tempfile.mkdtemp(prefix="kling-harden-")
    fx = big_fixture(tmp)
    with harness.Stack(api_key="k", mock_args=["--fixture", fx], start_mcp=False) as s:
        got, rc, err = late_reader(s, 40, 6.0)
        sizes = sorted(len(json.dumps(m)) for m in got.values())
        kt.check("backpressure/40 calls of 100 long tasks, read 6 s late: every one answered",
                 len(got) == 40 and all("result" in m and not m["result"].get("isError") for m in got.values()),
                 f"{len(got)} answers; stderr: {err[-300:]}")
        kt.check("backpressure/...with pages large enough to pass the backlog threshold (>200 KB each)",
                 sizes and sizes[0] > 200_000, f"sizes {sizes[:3]}")
        kt.check("backpressure/...and nobody was disconnected", "disconnecting" not in err and rc == 0,
                 f"rc={rc} {err[-300:]}")

        # a flood read late: one admission rule, never an internal error
        n = 1500
        got, rc, err = late_reader(s, n, 4.0, timeout=120)
        texts = [text_of(m) for m in got.values()]
        kt.check("flood/1500 calls read 4 s late: every call answered", len(got) == n,
                 f"{len(got)} of {n}; stderr {err[-300:]}")
        kt.check("flood/...none with 'no call slot free'", not any("no call slot" in t for t in texts),
                 next((t for t in texts if "no call slot" in t), ""))
        kt.check("flood/...each a page or 'Too many calls' naming the limits",
                 all(("result" in m and not m["result"].get("isError")) or "LIMIT_QUEUED_CALLS" in text_of(m)
                     for m in got.values()), next((json.dumps(m)[:200] for m in got.values()
                                                   if "result" not in m), ""))
        kt.eq("flood/...exit 0", rc, 0)


def end_of_input():
    with harness.Stack(api_key="k", start_mcp=False) as s:
        tmp = tempfile.mkdtemp(prefix="kling-harden-")
        req = os.path.join(tmp, "requests.txt")
        with open(req, "wb") as f:
            f.write(line(INIT) + line({"jsonrpc": "2.0", "method": "notifications/initialized"}) +
                    b"".join(line(call(i, {"page_size": 2})) for i in (1, 2, 3)))
        with open(req, "rb") as f:
            t0 = time.monotonic()
            p = subprocess.run([kt.binary()], stdin=f, capture_output=True, env=s.env, timeout=30 * SLOW)
        msgs = [json.loads(x) for x in p.stdout.splitlines() if x.strip()]
        ids = sorted(m.get("id") for m in msgs)
        kt.check("eof/`kling-mcp < requests.txt` answers every call, then exits 0",
                 ids == [0, 1, 2, 3] and p.returncode == 0 and
                 all("result" in m and not m["result"].get("isError", False) for m in msgs),
                 f"rc={p.returncode} ids={ids} {p.stderr[-300:]!r}")
        kt.check("eof/...having sent them upstream", len([r for r in s.mock.requests() or []
                                                           if r.get("path") == "/tasks"]) >= 3)

        # a call that is slow upstream: answered within its deadline after EOF
        s.mock.fault(mode="delay", ms=5000, count=-1, path_prefix="/tasks")
        env = dict(s.env, KLING_TIMEOUT_MS="1000")
        t0 = time.monotonic()
        p = subprocess.run([kt.binary()], input=line(INIT) + line(call(7, {"page_size": 1})), capture_output=True,
                           env=env, timeout=30 * SLOW)
        took = time.monotonic() - t0
        msgs = [json.loads(x) for x in p.stdout.splitlines() if x.strip()]
        last = msgs[-1] if msgs else {}
        kt.check("eof/a call slow upstream is answered at its deadline after EOF (isError naming the timeout)",
                 last.get("id") == 7 and last.get("result", {}).get("isError") and
                 ("1000 ms" in text_of(last) or "timeout" in text_of(last)) and
                 p.returncode == 0, f"rc={p.returncode} last={json.dumps(last)[:400]} {p.stderr[-200:]!r}")
        kt.check("eof/...within the deadline and its backstop", took < 3.0 * SLOW, f"{took:.2f}s")

        # SIGTERM still exits at once, even with calls in flight after EOF
        p = spawn(s.env)
        rd = Reader(p)
        rd.start()
        p.stdin.write(line(INIT) + line(call(8, {"page_size": 1})))
        p.stdin.close()
        time.sleep(0.5)
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(2 * SLOW)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
        kt.check("eof/SIGTERM with a call in flight after EOF exits 0 at once",
                 rc == 0 and time.monotonic() - t0 < 1.0 * SLOW, f"rc={rc}")
        s.mock.reset()


def signals_and_process():
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "KLING_API_KEY": "k",
           "KLING_BASE_URL": "https://127.0.0.1:9"}
    r, w = os.pipe()
    p = subprocess.Popen([kt.binary()], stdin=r, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    os.write(w, line(INIT))
    ready = select.select([p.stdout], [], [], 5 * SLOW)[0]
    if ready:
        p.stdout.readline()
    p.send_signal(signal.SIGHUP)
    try:
        rc = p.wait(2 * SLOW)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    kt.eq("signal/SIGHUP exits 0 like SIGTERM", rc, 0)
    kt.check("signal/...restoring standard input's blocking mode", os.get_blocking(r), "stdin left O_NONBLOCK")
    os.close(r)
    os.close(w)
    p.stdout.close()
    p.stderr.close()

    def unlimited_core():
        import resource
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    m = StdioMcp([kt.binary()], env, preexec_fn=unlimited_core)
    m.initialize()
    limits = open(f"/proc/{m.proc.pid}/limits").read()
    core = next((ln for ln in limits.splitlines() if ln.startswith("Max core file size")), "")
    kt.check("process/core dumps off at start (RLIMIT_CORE 0), even when started unlimited",
             core.split()[4:6] == ["0", "0"], core)
    m.close()

    public = public_copy() if os.geteuid() == 0 else None
    if os.geteuid() != 0:
        kt.skip("process/not dumpable", "needs root to start the binary as another user")
    elif isinstance(public, str) and not os.path.isfile(public):
        kt.skip("process/not dumpable", public)
    else:
        def as_nobody():
            os.setgid(65534)
            os.setuid(65534)
        m = StdioMcp([public], env, preexec_fn=as_nobody)
        ok = m.initialize()
        st = os.stat(f"/proc/{m.proc.pid}/status") if ok else None
        # the kernel gives a non-dumpable process's /proc files to root
        kt.check("process/not dumpable (its /proc files belong to root, not to its user)",
                 st is not None and st.st_uid == 0, f"uid {st.st_uid if st else None}")
        m.close()


def cosmetic():
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "KLING_API_KEY": "k",
           "KLING_BASE_URL": "https://127.0.0.1:9"}
    data = (b"\xef\xbb\xbf" + line({"jsonrpc": "2.0", "id": 1, "method": "ping"}) +
            line({"jsonrpc": "2.0", "id": 2, "method": "ping\u0000"}) +
            line({"jsonrpc": "2.0", "id": 3, "method": "x\u001b[31m"}))
    p = subprocess.run([kt.binary()], input=data, capture_output=True, env=env, timeout=10 * SLOW)
    msgs = {m.get("id"): m for m in (json.loads(x) for x in p.stdout.splitlines() if x.strip())}
    kt.eq("bom/a UTF-8 BOM opening a line is skipped: the ping is answered", (msgs.get(1) or {}).get("result"), {})
    err = (msgs.get(2) or {}).get("error") or {}
    kt.check("method/ping\\u0000 is -32601 naming it with the NUL escaped, not as 'ping'",
             err.get("code") == -32601 and err.get("message") == "Method not found: ping\\u0000", repr(err))
    err = (msgs.get(3) or {}).get("error") or {}
    kt.check("method/a terminal escape in a method name is shown escaped",
             "\x1b" not in err.get("message", "x\x1b") and "\\u001b" in err.get("message", ""), repr(err))

    # a waiting call past its deadline never says "behind 0 running calls"
    with harness.Stack(api_key="k", start_mcp=False) as s:
        s.mock.fault(mode="delay", ms=3000, count=-1, path_prefix="/tasks")
        env = dict(s.env, KLING_TIMEOUT_MS="100")
        p = spawn(env)
        rd = Reader(p)
        rd.start()
        p.stdin.write(line(INIT) + b"".join(line(call(i, {"page_size": 1})) for i in range(1, 7)))
        p.stdin.flush()
        rd.wait_for(lambda ls: len(ls) >= 7, 10 * SLOW)
        p.stdin.close()
        p.wait(10 * SLOW)
        texts = [text_of(m) for m in rd.msgs() if isinstance(m, dict) and m.get("id") != 0]
        kt.check("deadline/6 calls past a 100 ms deadline all answered, none 'behind 0 running calls'",
                 len(texts) == 6 and not any("behind 0 running" in t for t in texts),
                 repr([t[:90] for t in texts if "behind" in t or not t][:3]))


def second_initialize():
    """Two official SDK clients in turn through one process's stdio (a bridge's way)."""
    names = ["first client initializes, lists and calls",
             "second client through the same process is initialized", "the second client's calls work"]
    sdk = os.path.join(kt.root(), "tests", "sdk")
    if not os.path.isdir(os.path.join(sdk, "node_modules", "@modelcontextprotocol", "sdk")) or \
            subprocess.run(["sh", "-c", "command -v node"], capture_output=True).returncode:
        for n in names:
            kt.skip("sdk-bridge/" + n, "node or tests/sdk/node_modules missing")
        return
    with harness.Stack(api_key="k", start_mcp=False) as s:
        p = subprocess.run(["node", os.path.join(sdk, "reinit.mjs"), kt.binary()], capture_output=True, cwd=sdk,
                           env=dict(os.environ, **s.env), timeout=60 * SLOW)
    seen = 0
    for ln in p.stdout.decode(errors="replace").splitlines():
        kind, _, rest = ln.partition(" ")
        if kind in ("PASS", "FAIL") and rest.startswith("sdk-bridge/"):
            name, _, why = rest.partition(": ")
            kt.check(name, kind == "PASS", why)
            seen += 1
    if seen != len(names):
        kt.fail("sdk-bridge/ran", f"{seen} checks; stderr {p.stderr[-300:]!r}")


def main():
    kt.plan(PLAN)
    second_initialize()
    backpressure()
    end_of_input()
    signals_and_process()
    cosmetic()
    kt.done()


if __name__ == "__main__":
    main()
