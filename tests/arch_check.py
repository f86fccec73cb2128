#!/usr/bin/env python3
"""The architecture of src/ as a check (make lint runs it; the layer order is
in src/README.md, "Layers").

Reads every src/*.c and src/*.h for its #include "x.h" lines and fails (exit 1,
one line per finding) when:
  - a file's module is not in LAYERS below (a new file must be given a layer);
  - a file includes the header of a module in a higher layer (dependencies
    point down: base < net < kling < mcp < tools < transports < entry; within
    a layer any include is allowed, the cycle check keeps it acyclic);
  - a tools file includes mcp.h: tools see the core through its tool
    interface, mcp_tool.h, only (sessions and transports are not theirs);
  - the include graph has a cycle: a module is x.c with x.h, and module a
    depends on module b when a.c or a.h includes b.h (a module including its own
    header is no dependency);
  - a header x.h declares a function not named x_* (or after another module
    of its layer): an exported name says where it lives;
  - an http_parse* file includes, directly or through other headers, an I/O
    module: net_conn, loop, net_resolve, http_client, log or kling_config (the parsers stay pure).
Usage: arch_check.py [SRC_DIR]   (default: src/ of this repository)
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)
IO_MODULES = {"net_conn", "loop", "net_resolve", "http_client", "log", "kling_config"}

# The layers, lowest first, and their modules (a module is x.c with x.h, or a
# header alone). A name ending in * matches every module it starts (json*:
# json_read, json_write); an exact name wins over a pattern.
ORDER = ["base", "net", "kling", "mcp", "tools", "transports", "entry"]
LAYERS = {
    # pure helpers, the loop, and every layer's limits (all_limits.h)
    "base": ["all_limits", "arena", "buf", "ca_bundle", "hex", "iso8601", "json*", "log", "loop", "outq", "rng",
             "text"],
    # connections, name resolution, the proxy tunnel, TLS, the HTTP client and the listener's HTTP
    "net": ["net_*", "tls_*", "http_client", "http_parse", "httpd"],
    # the Kling API: requests, listings, look-ups, its task model, the JWT; kling_config is
    # the environment read at start (main hands the lower layers values)
    "kling": ["kling*"],
    # the MCP core (mcp_core.h is private to its files), JSON-RPC, MCP tasks, the tool interface
    "mcp": ["mcp", "mcp_core", "mcp_held", "mcp_jsonrpc", "mcp_out", "mcp_sched", "mcp_task", "mcp_tool"],
    # the tools, their registry (handed to the core by main), arguments, credentials, rendering
    "tools": ["tool_*", "tools*"],
    # MCP carried over stdio (mcp_stdio, framed by mcp_wire) and over HTTP (mcp_http*)
    "transports": ["mcp_http*", "mcp_stdio", "mcp_wire"],
    # the program: main and the command-line modes (call, --check, --probe)
    "entry": ["cli_*", "main"],
}


def read_includes(src):
    """{file name: [included header names that exist in src]}"""
    files = sorted(f for f in os.listdir(src) if f.endswith((".c", ".h")))
    out = {}
    for f in files:
        with open(os.path.join(src, f), encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        out[f] = [h for h in INCLUDE.findall(text) if os.path.exists(os.path.join(src, h))]
    return out


def module(name):
    return os.path.splitext(name)[0]


def find_cycle(graph):
    """One cycle as a list of modules (first == last), or None."""
    state = {}  # 1 on the stack, 2 done
    stack = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 1:
                return stack[stack.index(n):] + [n]
            if n not in state:
                c = visit(n)
                if c:
                    return c
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            c = visit(m)
            if c:
                return c
    return None


def header_closure(incs, start):
    """Every header reached from file start through #include chains, with the path to it."""
    seen = {}
    todo = [(h, [start, h]) for h in incs.get(start, [])]
    while todo:
        h, path = todo.pop()
        if h in seen:
            continue
        seen[h] = path
        todo.extend((n, path + [n]) for n in incs.get(h, []) if n not in seen)
    return seen


def layer_of(mod):
    """The layer of module mod, or None when the table does not place it."""
    best = None
    for layer, names in LAYERS.items():
        for n in names:
            if n == mod:
                return layer
            if n.endswith("*") and mod.startswith(n[:-1]) and best is None:
                best = layer
    return best


def check(src):
    incs = read_includes(src)
    findings = []
    for f in incs:
        if layer_of(module(f)) is None:
            findings.append(f"{f} is in no layer: give its module one in LAYERS (tests/arch_check.py)")
    for f, hs in incs.items():
        lf = layer_of(module(f))
        for h in hs:
            lh = layer_of(module(h))
            if lf and lh and ORDER.index(lh) > ORDER.index(lf):
                findings.append(f"{f} ({lf}) includes {h} ({lh}): a higher layer")
            if lf == "tools" and h == "mcp.h":
                findings.append(f"{f} (tools) includes mcp.h: a tool includes mcp_tool.h, the core's tool interface")
    graph = {}
    for f, hs in incs.items():
        deps = graph.setdefault(module(f), set())
        deps.update(module(h) for h in hs if module(h) != module(f))
    # Report every cycle, one at a time: break the first edge of each found.
    while True:
        c = find_cycle(graph)
        if not c:
            break
        findings.append("include cycle: " + " -> ".join(c))
        graph[c[0]].discard(c[1])
    for f in incs:
        if module(f).startswith("http_parse"):
            for h, path in sorted(header_closure(incs, f).items()):
                if module(h) in IO_MODULES:
                    findings.append(f"{f} reaches the I/O module {h} (" + " -> ".join(path) +
                                    "): the parsers must stay pure")
    findings += misnamed(src, {module(f) for f in incs})
    return findings, len(incs)


DECL = re.compile(r'^(?!static\b|typedef\b)[A-Za-z_][\w \*]*?[\s\*]([a-z_][a-z0-9_]*)\s*\(', re.M)


def misnamed(src, modules):
    """Functions a header x.h declares that are not named x or x_*, nor after
    another module of x's layer (mcp_tool.h declares the core's mcp_call_*;
    mcp_core.h the mcp_sched_* of its sibling files): a name says its module."""
    out = []
    for f in sorted(os.listdir(src)):
        if not f.endswith(".h"):
            continue
        m = module(f)
        with open(os.path.join(src, f), encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        text = re.sub(r"^\s*#.*$", "", text, flags=re.M)
        peers = [p for p in modules if layer_of(p) == layer_of(m)]
        for name in sorted(set(DECL.findall(text))):
            if not any(name == p or name.startswith(p + "_") for p in peers):
                out.append(f"{f} declares {name}(): an exported name starts with its module's name ({m}_)")
    return out


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
    findings, n = check(src)
    for line in findings:
        print(f"arch: {line}")
    if findings:
        print(f"arch: {len(findings)} finding(s) in {src}")
        return 1
    print(f"arch: {n} files in {len(ORDER)} layers, no upward include, no include cycle, no forbidden dependency,"
          " every exported name after its module")
    return 0


if __name__ == "__main__":
    sys.exit(main())
