"""tests/arch_check.py (run by make lint) against small trees made here: it
passes a clean one and fails each kind of breach, naming it."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import kt  # noqa: E402

SCRIPT = os.path.join(kt.root(), "tests", "arch_check.py")

CLEAN = {
    "loop.h": "", "loop.c": '#include "loop.h"\n',
    "log.h": "", "log.c": '#include "log.h"\n#include "loop.h"\n',
    "hex.h": "", "http_parse.h": '#include "hex.h"\n', "http_parse.c": '#include "http_parse.h"\n#include <stdio.h>\n',
    "conn.h": "", "conn.c": '#include "conn.h"\n#include "http_parse.h"\n#include "log.h"\n',
    "http_client.h": "", "http_client.c": '#include "http_client.h"\n#include "conn.h"\n',
    "kling.h": '#include "http_client.h"\n', "kling.c": '#include "kling.h"\n',
    "tool_a.h": '#include "kling.h"\n', "tool_a.c": '#include "tool_a.h"\n',
    "mcp.h": "", "mcp.c": '#include "mcp.h"\n', "tools.c": '#include "tool_a.h"\n#include "mcp.h"\n',
}

# name: (files changed from CLEAN, text the finding must hold)
BAD = {
    "cycle through headers": ({"conn.h": '#include "http_client.h"\n'}, "include cycle: "),
    "cycle through sources": ({"loop.c": '#include "loop.h"\n#include "conn.h"\n'}, "include cycle: "),
    "kling includes a tool": ({"kling.c": '#include "kling.h"\n#include "tool_a.h"\n'}, "kling.c includes tool_a.h"),
    "mcp includes a tool": ({"mcp.c": '#include "mcp.h"\n#include "tool_a.h"\n'}, "mcp.c includes tool_a.h"),
    "json includes a tool": ({"json.c": '#include "tool_a.h"\n'}, "json.c includes tool_a.h"),
    "http_parse includes log": ({"http_parse.c": '#include "http_parse.h"\n#include "log.h"\n'},
                                "http_parse.c reaches the I/O module log.h"),
    "http_parse reaches loop through a header": ({"hex.h": '#include "loop.h"\n'},
                                                 "http_parse.c reaches the I/O module loop.h"),
    "http_parse includes the client": ({"http_parse.h": '#include "http_client.h"\n'},
                                       "reaches the I/O module http_client.h"),
}

kt.plan(2 + 2 * len(BAD))


def run(files):
    with tempfile.TemporaryDirectory() as d:
        for name, text in files.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        p = subprocess.run([sys.executable, SCRIPT, d], capture_output=True, text=True, timeout=30)
        return p.returncode, p.stdout + p.stderr


rc, out = run(CLEAN)
kt.eq("arch/clean tree passes", rc, 0)
kt.check("arch/clean tree says so", "no include cycle" in out, out)
for name, (change, want) in BAD.items():
    files = dict(CLEAN)
    files.update(change)
    rc, out = run(files)
    kt.eq(f"arch/{name} fails", rc, 1)
    kt.check(f"arch/{name} is named", want in out, out)
kt.done()
