"""tests/arch_check.py (run by make lint) against small trees made here and
copies of src/: it passes a clean tree and src/ itself, and fails each kind of
breach (an upward include, a file in no layer, a cycle, an impure parser),
naming it."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import kt  # noqa: E402

SCRIPT = os.path.join(kt.root(), "tests", "arch_check.py")
SRC = os.path.join(kt.root(), "src")

# One module of each layer, each including only below or beside it.
CLEAN = {
    "loop.h": "", "loop.c": '#include "loop.h"\n',
    "log.h": "", "log.c": '#include "log.h"\n#include "loop.h"\n',
    "hex.h": "", "json_read.h": '#include "hex.h"\n', "json_read.c": '#include "json_read.h"\n',
    "http_parse.h": '#include "hex.h"\n', "http_parse.c": '#include "http_parse.h"\n#include <stdio.h>\n',
    "net_conn.h": "", "net_conn.c": '#include "net_conn.h"\n#include "http_parse.h"\n#include "log.h"\n',
    "http_client.h": "", "http_client.c": '#include "http_client.h"\n#include "net_conn.h"\n',
    "kling.h": '#include "http_client.h"\n', "kling.c": '#include "kling.h"\n',
    "mcp_tool.h": '#include "json_read.h"\n', "mcp.h": '#include "mcp_tool.h"\n', "mcp.c": '#include "mcp.h"\n',
    "mcp_jsonrpc.h": "", "mcp_jsonrpc.c": '#include "mcp_jsonrpc.h"\n#include "mcp.h"\n',
    "tool_get_task.h": '#include "kling.h"\n#include "mcp_tool.h"\n', "tool_get_task.c": '#include "tool_get_task.h"\n',
    "tools.h": '#include "mcp_tool.h"\n', "tools.c": '#include "tools.h"\n#include "tool_get_task.h"\n',
    "mcp_stdio.h": "", "mcp_stdio.c": '#include "mcp_stdio.h"\n#include "mcp.h"\n',
    "main.c": '#include "tools.h"\n#include "mcp_stdio.h"\n#include "mcp.h"\n',
}

# name: (files changed from CLEAN, texts the finding must hold)
BAD = {
    "cycle through headers": ({"net_conn.h": '#include "http_client.h"\n'}, ["include cycle: "]),
    "cycle through sources": ({"loop.c": '#include "loop.h"\n#include "log.h"\n', "log.h": '#include "loop.h"\n',
                               "loop.h": '#include "log.h"\n'}, ["include cycle: "]),
    "kling includes a tool": ({"kling.c": '#include "kling.h"\n#include "tool_get_task.h"\n'},
                              ["kling.c (kling) includes tool_get_task.h (tools)"]),
    "the MCP core includes the registry": ({"mcp.c": '#include "mcp.h"\n#include "tools.h"\n'},
                                           ["mcp.c (mcp) includes tools.h (tools)"]),
    "a json* module includes the core": ({"json_read.c": '#include "json_read.h"\n#include "mcp.h"\n'},
                                         ["json_read.c (base) includes mcp.h (mcp)"]),
    "the client includes the Kling layer": ({"http_client.c": '#include "http_client.h"\n#include "kling.h"\n'},
                                            ["http_client.c (net) includes kling.h (kling)"]),
    "a header points up": ({"kling.h": '#include "http_client.h"\n#include "mcp.h"\n'},
                           ["kling.h (kling) includes mcp.h (mcp)"]),
    "a tool includes the core's own header": ({"tool_get_task.c": '#include "tool_get_task.h"\n#include "mcp.h"\n'},
                                              ["tool_get_task.c (tools) includes mcp.h: a tool includes mcp_tool.h"]),
    "an exported name without its module's prefix": ({"kling.h": '#include "http_client.h"\nint http_fetch(void);\n'},
                                                   ["kling.h declares http_fetch(): an exported name starts with"]),
    "a file in no layer": ({"helpers.c": '#include "log.h"\n'}, ["helpers.c is in no layer"]),
    "http_parse includes log": ({"http_parse.c": '#include "http_parse.h"\n#include "log.h"\n'},
                                ["http_parse.c reaches the I/O module log.h"]),
    "http_parse reaches loop through a header": ({"hex.h": '#include "loop.h"\n'},
                                                 ["http_parse.c reaches the I/O module loop.h"]),
    "http_parse includes the client": ({"http_parse.h": '#include "http_client.h"\n'},
                                       ["reaches the I/O module http_client.h"]),
}

kt.plan(2 + 2 * len(BAD) + 2 + 2 + 2 + 2)


def run(d):
    p = subprocess.run([sys.executable, SCRIPT, d], capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout + p.stderr


def run_files(files):
    with tempfile.TemporaryDirectory() as d:
        for name, text in files.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        return run(d)


def run_src(change):
    """arch_check.py on a copy of src/ with change(dir) applied."""
    with tempfile.TemporaryDirectory() as d:
        copy = os.path.join(d, "src")
        shutil.copytree(SRC, copy)
        change(copy)
        return run(copy)


def append(path, text):
    with open(path, "a") as f:
        f.write(text)


rc, out = run_files(CLEAN)
kt.eq("arch/clean tree passes", rc, 0)
kt.check("arch/clean tree says so", "no upward include, no include cycle" in out, out)
for name, (change, want) in BAD.items():
    files = dict(CLEAN)
    files.update(change)
    rc, out = run_files(files)
    kt.eq(f"arch/{name} fails", rc, 1)
    kt.check(f"arch/{name} is named", all(w in out for w in want), out)

rc, out = run(SRC)
kt.eq("arch/src passes", rc, 0)
kt.check("arch/src says so", "no upward include" in out, out)

# src/ as it is, one line added: the HTTP client includes the MCP core.
rc, out = run_src(lambda d: append(os.path.join(d, "http_client.c"), '#include "mcp.h"\n'))
kt.eq("arch/src with an upward include fails", rc, 1)
kt.check("arch/src with an upward include names the file and both layers",
         "http_client.c (net) includes mcp.h (mcp): a higher layer" in out and out.count("arch: ") == 2, out)

# src/ with a new module the table does not place.
rc, out = run_src(lambda d: append(os.path.join(d, "newmod.c"), '#include "log.h"\n'))
kt.eq("arch/src with a file in no layer fails", rc, 1)
kt.check("arch/src with a file in no layer names it", "newmod.c is in no layer" in out, out)

# the exact name wins over a pattern: jsonrpc is the MCP layer's, not json*'s (base)
rc, out = run_src(lambda d: append(os.path.join(d, "mcp_jsonrpc.c"), '#include "mcp_tool.h"\n'))
kt.eq("arch/jsonrpc (mcp) may include the tool interface", rc, 0)
rc, out = run_src(lambda d: append(os.path.join(d, "mcp_jsonrpc.c"), '#include "tools.h"\n'))
kt.check("arch/jsonrpc (mcp) may not include the registry",
         rc == 1 and "mcp_jsonrpc.c (mcp) includes tools.h (tools)" in out, out)
kt.done()
