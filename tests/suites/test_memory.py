#!/usr/bin/env python3
"""Memory that is never needed stays untouched. The static storage (.bss)
holds fixed pools sized for the worst case (the call slots of every session,
the listener's tables); only the slots a run uses may be touched, so a pool's
pages that are never written or read cost no memory. Touched pages are those
/proc/PID/pagemap shows present in the anonymous mapping right after the
binary's own: a page only read is present too (the kernel's shared zero
page here, real memory where reads are backed), so a walk over a whole pool
shows. The embedded CA bundle (over 100 KB) sits after all other read-only data,
so a run that reads its roots from a file maps none of it beside the
constants every run reads. And connections that only connect and leave,
many at once, must not cost a read buffer each."""
import os
import re
import shutil
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import kt  # noqa: E402
import harness  # noqa: E402
from listen import Listener  # noqa: E402

KEY = "mem-suite-key-0123456789"
# Pages of static storage a run may touch: the small variables of every module
# (about ten pages with one call slot in use) and room for layout changes. The
# whole of it is over 90 pages, the call slots alone over 80.
TOUCHED_MAX = 24
LEAVERS = 200
LEAVER_KIB = 2  # per connection at most, while it is open (its state is ~0.5 KiB)


def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def bss_pages(pid, binary):
    """(present pages, all pages) of the anonymous mapping that follows the binary's last mapping, or None
    when there is none (not a static layout, e.g. under an emulator) or pagemap cannot be read."""
    real = os.path.realpath(binary)
    end, bss = None, None
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            fields = line.split()
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            path = fields[5] if len(fields) > 5 else ""
            if path and os.path.realpath(path) == real:
                end = hi
            elif end is not None and bss is None and lo == end and not path and "w" in fields[1]:
                bss = (lo, hi)
    if not bss:
        return None
    try:
        with open(f"/proc/{pid}/pagemap", "rb") as pm:
            pm.seek(bss[0] // 4096 * 8)
            data = pm.read((bss[1] - bss[0]) // 4096 * 8)
    except OSError:
        return None
    present = sum(1 for (v,) in struct.iter_unpack("<Q", data) if v >> 63)
    return present, len(data) // 8


def present_pages(pid, lo, hi):
    with open(f"/proc/{pid}/pagemap", "rb") as pm:
        pm.seek(lo // 4096 * 8)
        data = pm.read((hi - lo) // 4096 * 8)
    return sum(1 for (v,) in struct.iter_unpack("<Q", data) if v >> 63)


def fault_around_bytes():
    """The kernel maps the page-cache pages around a read fault in windows of this size, aligned to it."""
    try:
        with open("/sys/kernel/debug/fault_around_bytes") as f:
            return max(4096, int(f.read().strip()))
    except (OSError, ValueError):
        return 65536


def bundle_pages(binary):
    """(first, end) of the CA bundle's pages that no read outside it can map: the whole pages of .rodata1
    less those sharing a fault-around window with the data just before or just after it (constants every run
    reads map their whole window). None with a reason when there is no bundle or no section."""
    if not shutil.which("readelf"):
        return None, "no readelf"
    out = subprocess.run(["readelf", "-SW", binary], capture_output=True, text=True).stdout
    m = re.search(r"\]\s+\.rodata1\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", out)
    if not m:
        return None, "the CA bundle has no section of its own (.rodata1)"
    addr, size = int(m.group(1), 16), int(m.group(2), 16)
    if size < 16 * 4096:
        return None, f"the bundle is {size} bytes (EMBED_CA=0?)"
    w = fault_around_bytes()
    lo = (addr + w - 1) // w * w  # past the window of the data before
    hi = (addr + size) // w * w  # before the window of the data after
    return (lo, hi), f"{(hi - lo) // 4096} pages of the bundle out of reach of fault-around ({w} B windows)"


def check_bundle_unmapped(name, pid, binary):
    """No page of the CA bundle's section (.rodata1) is mapped, apart from those sharing a fault-around window
    with the data beside it: the bundle was never read (a read anywhere in it maps its whole window)."""
    rng, why = bundle_pages(binary)
    if rng is None:
        (kt.fail if "section" in why else kt.skip)(name, why)
        return
    lo, hi = rng
    if hi <= lo:  # every page shares a window with its neighbours: a pass would prove nothing
        kt.skip(name, f"{why}: with this layout every page of the bundle can be mapped by a read of the "
                "data beside it, so page presence cannot tell whether it was read")
        return
    try:
        n = present_pages(pid, lo, hi)
    except OSError as e:
        kt.skip(name, f"pagemap unreadable ({e})")
        return
    kt.check(name, n == 0, f"{n} mapped of the {why}")


def check_touched(name, pid, binary):
    if os.environ.get("SANITIZE") == "1":
        kt.skip(name, "sanitizer builds are dynamic and ASan's own memory lies after the binary's: "
                "the static product is measured (make test)")
        return
    got = bss_pages(pid, binary)
    if got is None:
        kt.skip(name, "no static storage mapping found after the binary's, or pagemap unreadable")
        return
    kt.check(name, got[0] <= TOUCHED_MAX, f"{got[0]} of {got[1]} pages touched, want <= {TOUCHED_MAX}")


def stdio(s):
    binary = kt.binary()
    m = s.mcp
    m.initialize()
    r = m.call_tool("list_tasks", {"page_size": 5}, timeout=30)
    ok = bool(r) and not r.get("isError") and "structuredContent" in r
    kt.check("memory/stdio: list_tasks answered", ok, str(r)[:300])
    check_touched("memory/stdio: static storage touched after initialize and one call", m.proc.pid, binary)
    check_bundle_unmapped("memory/stdio: the embedded CA bundle unmapped when roots come from a file",
                          m.proc.pid, binary)
    for _ in range(20):
        m.call_tool("list_tasks", {"page_size": 5}, timeout=30)
    check_touched("memory/stdio: static storage touched after 21 calls", m.proc.pid, binary)
    m.close()


def listener(s):
    srv = Listener(s.env)
    try:
        pid = srv.proc.pid
        r = srv.post({"jsonrpc": "2.0", "id": 1, "method": "ping"})
        kt.eq("memory/listen: ping answered", r.status, 200)
        for _ in range(3):
            srv.initialize()
        check_touched("memory/listen: static storage touched after a ping and 3 sessions", pid, srv.bin)
        time.sleep(0.1)
        before = status_kb(pid, "VmRSS")
        socks = [srv.connect() for _ in range(LEAVERS)]
        time.sleep(0.3)
        for c in socks:
            c.close()
        time.sleep(0.5)
        grew = status_kb(pid, "VmHWM") - before
        kt.check(f"memory/listen: {LEAVERS} connections that leave at once cost no read buffer each",
                 grew <= LEAVERS * LEAVER_KIB, f"peak grew {grew} KiB, want <= {LEAVERS * LEAVER_KIB}")
        r = srv.post({"jsonrpc": "2.0", "id": 2, "method": "ping"})
        kt.eq("memory/listen: still serving", r.status, 200)
    finally:
        srv.stop()


def main():
    kt.plan(8)
    with harness.Stack(api_key=KEY) as s:
        stdio(s)
        listener(s)
    kt.done()


if __name__ == "__main__":
    main()
