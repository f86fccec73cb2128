#!/usr/bin/env python3
"""The architecture of src/ as a check (make lint runs it; src/README.md states the rules).

Reads every src/*.c and src/*.h for its #include "x.h" lines and fails (exit 1,
one line per finding) when:
  - the include graph has a cycle: a module is x.c with x.h, and module a
    depends on module b when a.c or a.h includes b.h (a module including its own
    header is no dependency);
  - a kling*, http*, conn, loop, json*, jsonrpc or mcp* file includes a header
    whose name starts with tool_ (tools sit above the Kling client and the MCP
    core; the registry in tools.c is the one place that names them);
  - an http_parse* file includes, directly or through other headers, an I/O
    module: conn, loop, resolve, http_client, log or config (the parsers stay pure).
Usage: arch_check.py [SRC_DIR]   (default: src/ of this repository)
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)
NO_TOOLS = re.compile(r'^(kling.*|http.*|conn|loop|json.*|jsonrpc|mcp.*)$')
IO_MODULES = {"conn", "loop", "resolve", "http_client", "log", "config"}


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


def check(src):
    incs = read_includes(src)
    findings = []
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
    for f, hs in incs.items():
        if NO_TOOLS.match(module(f)):
            for h in hs:
                if h.startswith("tool_"):
                    findings.append(f"{f} includes {h}: a tool header, above this layer")
        if module(f).startswith("http_parse"):
            for h, path in sorted(header_closure(incs, f).items()):
                if module(h) in IO_MODULES:
                    findings.append(f"{f} reaches the I/O module {h} (" + " -> ".join(path) +
                                    "): the parsers must stay pure")
    return findings, len(incs)


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
    findings, n = check(src)
    for line in findings:
        print(f"arch: {line}")
    if findings:
        print(f"arch: {len(findings)} finding(s) in {src}")
        return 1
    print(f"arch: {n} files, no include cycle, no forbidden dependency")
    return 0


if __name__ == "__main__":
    sys.exit(main())
