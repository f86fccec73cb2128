#!/usr/bin/env python3
"""make bench: what kling-mcp weighs and costs, measured, in one markdown table.

    python3 tests/lib/bench.py --bin B --noca B0 --full BU --glibc BG

  --bin    the product (stripped, CA bundle embedded)
  --noca   the same built with EMBED_CA=0
  --full   the product linked again without -s (symbols: where the bytes go)
  --glibc  an unstripped glibc build, run under callgrind (instruction counts)

Everything runs on loopback against tests/mock/kling_mock.py over HTTPS with a
fresh test CA. The trust store of the memory and latency runs is a copy of the
system bundle with the test CA appended, named by SSL_CERT_FILE (read exactly
as the system bundle is; KLING_CA_FILE is unset), so all of its certificates
are loaded. Times are wall clock on a possibly busy machine: the figures say
what this run saw, nothing is asserted. Python standard library only.
"""
import argparse
import glob
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import bench_listen  # noqa: E402
import harness  # noqa: E402
from stdio_mcp import StdioMcp  # noqa: E402

SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
API_KEY = "bench-api-key"
SPAWNS = 100
CALLS = 1000
BLOCKS = 50               # warm calls and the mock alone alternate in blocks of CALLS / BLOCKS
MOCK_FRESH = 300          # requests of the plain client on new connections
CG_BASE, CG_MORE = 50, 100  # callgrind: instructions of BASE+MORE calls minus BASE calls

# The original TypeScript server on a 2-core x86-64 Linux machine (the issue).
TS = {"size": "56 MB packages + 99 MB runtime", "spawn": "225 ms", "rss1": "80 MB", "rss1000": "95 MB (after 200)",
      "warm": "1.5 ms (plain HTTP)"}


def pct(xs, p):
    s = sorted(xs)
    return s[min(len(s) - 1, int(len(s) * p))]


def ms(ns):
    return "%.3f ms" % (ns / 1e6)


def kib(kb):
    return "%d KiB" % kb


def cpu_s(pid):
    """User + system CPU seconds the process has used."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def status_kb(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


# ---------------------------------------------------------------- the MCP side

class Mcp(StdioMcp):
    """kling-mcp as a child with pipes (stdio_mcp.StdioMcp): one request line
    out, one answer line in; the waits are long (callgrind runs it)."""

    def __init__(self, argv, env):
        super().__init__(argv, env)
        self.p = self.proc

    def answer(self):
        line = self.line(600)
        if line is None:
            raise RuntimeError("kling-mcp ended: " + self.stderr()[-2000:])
        return line

    def initialize(self):
        r = self.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                        "clientInfo": {"name": "bench", "version": "1"}}, timeout=600)
        if r is None:
            raise RuntimeError("kling-mcp did not answer initialize: " + self.stderr()[-2000:])
        self.notify("notifications/initialized")
        return r

    def calls(self, n):
        """n list_tasks calls, one after the other; returns their times in ns."""
        out = []
        for _ in range(n):
            msg = (b'{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"list_tasks",'
                   b'"arguments":{}}}\n' % self.next_id)
            self.next_id += 1
            t0 = time.perf_counter_ns()
            self.send_raw(msg)
            ans = self.answer()
            out.append(time.perf_counter_ns() - t0)
            if b'"isError":true' in ans or b'"structuredContent"' not in ans:
                raise RuntimeError("list_tasks failed: " + ans[:600].decode(errors="replace"))
        return out

    def close(self):
        code = super().close(30)
        return code, self.err.decode(errors="replace")


def mcp_env(port, extra):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "KLING_API_KEY": API_KEY,
           "KLING_BASE_URL": "https://localhost:%d" % port}
    env.update(extra)
    return env


# ---------------------------------------------------------------- sizes

def where_the_bytes_go(full):
    """(loaded sections, bytes by origin, largest symbols) of the unstripped product. Origins come from
    the debug info (nm -l): src/ is ours, third_party/mbedtls-* mbedTLS, the rest (no line info) musl."""
    secs = {}
    out = subprocess.run(["readelf", "-SW", full], stdout=subprocess.PIPE, text=True, check=True).stdout
    for m in re.finditer(r"\]\s+(\.\S+)\s+(\S+)\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)\s+\S+\s+(\S+)\s", out):
        if "A" in m.group(4) and m.group(2) != "NOBITS":  # bytes of the file that are loaded
            secs[m.group(1)] = int(m.group(3), 16)
    libc = subprocess.run(["musl-gcc", "-print-file-name=libc.a"], stdout=subprocess.PIPE, text=True).stdout.strip()
    r = subprocess.run(["nm", "--defined-only", libc], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    musl = {f[2] for f in (line.split() for line in r.stdout.splitlines()) if len(f) == 3}
    sources = {}  # data symbols have no line info: find their definition in the sources
    for label, pattern in (("our code", "src/*.c"), ("mbedTLS", "third_party/mbedtls-*/library/*.c")):
        for path in glob.glob(os.path.join(ROOT, pattern)):
            sources[path] = (label, open(path, errors="replace").read())

    def origin(name, where):
        if name == "kling_ca_der":
            return "CA bundle"
        if "/third_party/mbedtls-" in where:
            return "mbedTLS"
        if "/src/" in where or "/gen/" in where:
            return "our code"
        base = name.split(".")[0]
        if base in musl:
            return "musl libc"
        defn = re.compile(r"\b%s\s*(\[[^]]*\]\s*)*=" % re.escape(base))
        for label, text in sources.values():
            if defn.search(text):
                return label
        return "musl libc"

    groups, syms, seen = {}, [], set()
    r = subprocess.run(["nm", "-l", "-S", "--size-sort", full], stdout=subprocess.PIPE, text=True, check=True)
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) < 4 or f[2] in "bB" or f[0] in seen:
            continue  # bss (no bytes in the file), or an alias of a symbol already counted
        seen.add(f[0])
        size, name, where = int(f[1], 16), f[3], f[4] if len(f) > 4 else ""
        g = origin(name, where)
        groups[g] = groups.get(g, 0) + size
        syms.append((size, name, g))
    syms.sort(reverse=True)
    return secs, groups, syms


# ---------------------------------------------------------------- start-up

def spawn_times(argv, env, send, n):
    """ns from posix_spawn to the first line of output (send written first), or to EOF when send is None."""
    out = []
    for _ in range(n):
        rin, win = os.pipe()
        rout, wout = os.pipe()
        devnull = os.open(os.devnull, os.O_WRONLY)
        acts = [(os.POSIX_SPAWN_DUP2, rin, 0), (os.POSIX_SPAWN_DUP2, wout, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]
        t0 = time.perf_counter_ns()
        pid = os.posix_spawn(argv[0], argv, env, file_actions=acts)
        os.close(rin)
        os.close(wout)
        os.close(devnull)
        if send:
            os.write(win, send)
        buf = b""
        while b"\n" not in buf:
            c = os.read(rout, 65536)
            if not c:
                break
            buf += c
        t1 = time.perf_counter_ns()
        if send and b'"serverInfo"' not in buf:
            raise RuntimeError("no initialize answer: %r" % buf[:300])
        os.close(win)
        while os.read(rout, 65536):
            pass
        os.close(rout)
        os.waitpid(pid, 0)
        out.append(t1 - t0)
    return out


# ---------------------------------------------------------------- the mock alone

class PlainClient:
    """The request kling-mcp sends, replayed by a minimal HTTPS client: the mock's own cost."""

    def __init__(self, port, ca, req):
        self.port, self.req = port, req
        self.ctx = ssl.create_default_context(cafile=ca)
        self.s = None

    def connect(self):
        raw = socket.create_connection(("127.0.0.1", self.port))
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.s = self.ctx.wrap_socket(raw, server_hostname="localhost")
        self.buf = b""

    def one(self):
        if self.s is None:
            self.connect()
        self.s.sendall(self.req)
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.s.recv(65536)
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
        need = int(m.group(1))
        while len(rest) < need:
            rest += self.s.recv(65536)
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError("mock answered " + head[:100].decode(errors="replace"))
        self.buf = rest[need:]
        if re.search(rb"(?i)\r\nconnection:\s*close", head):
            self.s.close()
            self.s = None

    def timed(self, n):
        out = []
        for _ in range(n):
            t0 = time.perf_counter_ns()
            self.one()
            out.append(time.perf_counter_ns() - t0)
        return out


def replay_request(entry, port):
    """HTTP/1.1 bytes of the request the mock logged (kling-mcp's list_tasks request)."""
    body = json.dumps(entry["body"], separators=(",", ":")).encode() if entry["body"] is not None else b""
    lines = ["%s %s HTTP/1.1" % (entry["method"], entry["target"]), "Host: localhost:%d" % port]
    for k, v in entry["headers"].items():
        if k not in ("host", "content-length", "connection"):
            lines.append("%s: %s" % (k, v))
    lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


# ---------------------------------------------------------------- callgrind

def callgrind_instructions(glibc, env, ncalls, tmp):
    """Instructions kling-mcp executes from exec to exit for initialize + ncalls warm calls."""
    out = os.path.join(tmp, "cg.%d.out" % ncalls)
    m = Mcp(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, glibc], env)
    m.initialize()
    if ncalls:
        m.calls(ncalls)
    rc, err = m.close()
    # the resolver's forked child reports its own count: take the server's
    hit = re.search(r"==%d== Collected : (\d+)" % m.p.pid, err)
    if rc != 0 or not hit:
        raise RuntimeError("callgrind run failed: " + err[-1500:])
    return int(hit.group(1))


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--noca")
    ap.add_argument("--full")
    ap.add_argument("--glibc")
    ap.add_argument("--load")
    a = ap.parse_args()

    rows = []

    def row(what, value, target="", ts=""):
        rows.append((what, value, target, ts))

    def met(ok):
        return " (met)" if ok else " (NOT met)"

    # sizes
    size = os.path.getsize(a.bin)
    row("stripped size, CA bundle embedded", "{:,} B".format(size), "≤ 491,520 B" + met(size <= 491520), TS["size"])
    if a.noca:
        s0 = os.path.getsize(a.noca)
        row("stripped size, `EMBED_CA=0`", "{:,} B".format(s0), "≤ 327,680 B" + met(s0 <= 327680))
    if a.full:
        secs, groups, syms = where_the_bytes_go(a.full)
        keep = [".text", ".rodata", ".rodata1", ".data.rel.ro", ".data", ".eh_frame"]  # .rodata1: the CA bundle
        total = sum(secs.values())
        parts = ["%s {:,}".format(secs[k]) % k for k in keep if k in secs]
        rest = total - sum(secs.get(k, 0) for k in keep)
        parts.append("other sections {:,}".format(rest))
        parts.append("ELF headers and page padding {:,}".format(size - total))
        row("where the bytes go: sections", ", ".join(parts) + " B")
        order = ["CA bundle", "mbedTLS", "our code", "musl libc"]
        named = sum(groups.values())
        g = ["%s {:,}".format(groups.get(k, 0)) % k for k in order]
        g.append("string literals and other unnamed data {:,}".format(total - named))
        row("where the bytes go: named symbols by origin", ", ".join(g) + " B")
        big = [x for x in syms if x[2] != "CA bundle"][:12]
        top = ", ".join("`%s` %s (%s)" % (n, "{:,}".format(sz), g) for sz, n, g in big)
        row("largest symbols", top + " B")

    tmp = tempfile.mkdtemp(prefix="kling-bench-")
    procs = []
    load0 = loadavg()
    try:
        ca, cert, key = harness.make_certs(tmp)
        bundle = os.path.join(tmp, "bundle.pem")
        with open(bundle, "w") as f:
            f.write(open(SYSTEM_BUNDLE).read() + "\n" + open(ca).read())
        ncerts = open(bundle).read().count("BEGIN CERTIFICATE")
        now = str(int(time.time() * 1000))
        margs = ["--cert", cert, "--key", key, "--api-key", API_KEY, "--now-ms", now]
        mock, port = harness.start_mock(tmp, "mock", margs)
        procs.append(mock)
        mock_nt, port_nt = harness.start_mock(tmp, "mock-nt", margs + ["--no-tickets"])
        procs.append(mock_nt)
        ctl, ctl_nt = harness.MockControl(port, ca), harness.MockControl(port_nt, ca)
        for p in (port, port_nt):  # the mocks' first requests (Python warming up) are not ours to time
            m = Mcp([a.bin], mcp_env(p, {"KLING_CA_FILE": ca}))
            m.initialize()
            m.calls(3)
            m.close()
        ctl.reset()
        ctl_nt.reset()

        # start-up
        env = mcp_env(port, {})
        init = (b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25",'
                b'"capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}\n')
        spawn_times([a.bin], env, init, 5)  # page cache, CPU frequency
        st = spawn_times([a.bin], env, init, SPAWNS)
        med = pct(st, 0.5)
        row("spawn → initialize answer, median / p90 (%d spawns)" % SPAWNS, "%s / %s" % (ms(med), ms(pct(st, 0.9))),
            "≤ 2 ms" + met(med <= 2e6), TS["spawn"])
        fl = spawn_times([a.bin, "--version"], env, None, SPAWNS)
        row("for scale: spawn → exit of `kling-mcp --version`, median", ms(pct(fl, 0.5)))

        # memory and warm calls, full system bundle
        env = mcp_env(port, {"SSL_CERT_FILE": bundle})
        m = Mcp([a.bin], env)
        m.initialize()
        rss0 = status_kb(m.p.pid, "VmHWM")
        first = m.calls(1)[0]
        rss1 = status_kb(m.p.pid, "VmHWM")
        req = replay_request([e for e in ctl.requests() if e["path"] == "/tasks"][-1], port)
        plain = PlainClient(port, ca, req)
        plain.one()
        warm, alone, cpu = [], [], 0.0
        for i in range(BLOCKS):  # interleaved small blocks: both see the same machine
            c0 = cpu_s(m.p.pid)
            warm += m.calls((CALLS - 1) // BLOCKS + (1 if i < (CALLS - 1) % BLOCKS else 0))
            cpu += cpu_s(m.p.pid) - c0
            alone += plain.timed(CALLS // BLOCKS)
        rss1000 = status_kb(m.p.pid, "VmHWM")
        rc, err = m.close()
        row("peak RSS (VmHWM) after initialize, before any call", kib(rss0))
        row("peak RSS (VmHWM) after 1 list_tasks call, %d CA certificates loaded" % ncerts, kib(rss1), "",
            TS["rss1"])
        row("peak RSS (VmHWM) after %d list_tasks calls" % CALLS, kib(rss1000),
            "≤ 2,048 KiB" + met(rss1000 <= 2048), TS["rss1000"])
        row("first list_tasks call (resolve, connect, full TLS 1.3 handshake, store loaded)", ms(first))
        wm, am = pct(warm, 0.5), pct(alone, 0.5)
        row("list_tasks on a kept-alive connection, median / p99 (%d calls)" % len(warm),
            "%s / %s" % (ms(wm), ms(pct(warm, 0.99))), "", TS["warm"])
        row("the mock alone: same request, plain keep-alive Python client, median / p99 (%d)" % len(alone),
            "%s / %s" % (ms(am), ms(pct(alone, 0.99))))
        # The per-call target (own cost <= 0.2 ms) is judged on what is
        # measured exactly: the CPU time the process itself used for these
        # calls (/proc, user + system, over all of them) and, below, the
        # instructions per call (callgrind). The difference of two medians
        # taken with two different clients is kept for information only.
        row("wall-clock difference per warm call (difference of medians, two different clients)", ms(wm - am),
            "information only")
        cpu_us = cpu / len(warm) * 1e6
        row("CPU time of kling-mcp per warm call (user + system, /proc, over %d calls)" % len(warm),
            "%.0f µs" % cpu_us, "≤ 200 µs" + met(cpu_us <= 200))

        # fresh connections: the mock closes after every reply
        for c, label, p in ((ctl_nt, "full handshake", port_nt), (ctl, "TLS 1.3 resumption", port)):
            c.fault(mode="connection_close", count=-1, path_prefix="/tasks")
            m = Mcp([a.bin], mcp_env(p, {"SSL_CERT_FILE": bundle}))
            m.initialize()
            fresh = m.calls(CALLS)
            hwm = status_kb(m.p.pid, "VmHWM")
            m.close()
            st = c.stats()
            row("list_tasks on a new connection each call (%s), median / p99 (%d calls; %d connections)"
                % (label, len(fresh), st["connections"]), "%s / %s" % (ms(pct(fresh, 0.5)), ms(pct(fresh, 0.99))))
            if label == "full handshake":
                plain_nt = PlainClient(port_nt, ca, replay_request(
                    [e for e in c.requests() if e["path"] == "/tasks"][-1], port_nt))
                pf = plain_nt.timed(MOCK_FRESH)
                row("the mock alone on a new connection each request (full handshake, Python client), median"
                    " (%d)" % MOCK_FRESH, ms(pct(pf, 0.5)))
                row("peak RSS (VmHWM) after %d full handshakes" % CALLS, kib(hwm))
            c.reset()

        # instructions
        if a.glibc and shutil.which("valgrind"):
            env = mcp_env(port, {"KLING_CA_FILE": ca})
            i0 = callgrind_instructions(a.glibc, env, 0, tmp)
            ib = callgrind_instructions(a.glibc, env, CG_BASE, tmp)
            im = callgrind_instructions(a.glibc, env, CG_BASE + CG_MORE, tmp)
            per = (im - ib) // CG_MORE
            # 0.2 ms at 4 instructions per ns (a 2 GHz core retiring 2 a cycle)
            row("CPU instructions per warm list_tasks call (callgrind, glibc build: (I(%d) − I(%d)) / %d calls)"
                % (CG_BASE + CG_MORE, CG_BASE, CG_MORE), "{:,}".format(per), "≤ 800,000" + met(per <= 800000))
            row("CPU instructions from exec to exit, initialize only (callgrind, glibc build)", "{:,}".format(i0))

        # the HTTP listener (kling-mcp --listen): memory and request rate
        bench_listen.rows(a.bin, a.load, mcp_env(port, {"KLING_CA_FILE": ca}), row, tmp)
    finally:
        for p in procs:
            harness.stop(p)
        shutil.rmtree(tmp, ignore_errors=True)

    rows.append(("machine load (1-minute load average) at start / end", "%s / %s" % (load0, loadavg()), "", ""))
    print("| measure | kling-mcp | target | TypeScript server |")
    print("|---|---|---|---|")
    for r in rows:
        print("| %s | %s | %s | %s |" % r)


if __name__ == "__main__":
    main()
