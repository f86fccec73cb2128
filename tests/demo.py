#!/usr/bin/env python3
"""make demo: kling-mcp working as an assistant would use it, against the mock
Kling API on loopback (HTTPS with a throwaway test CA). No credentials needed:
the mock accepts the demo's own key. It exits 1, saying why, when a step did
not give what the demo shows (CI runs it)."""
import json
import os
import sys
import textwrap

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402


def show(title, text):
    print(f"\n=== {title}")
    print(textwrap.indent(text.rstrip(), "  "))


def call(s, args):
    print(f"\n>>> tools/call list_tasks {json.dumps(args)}")
    r = s.mcp.call_tool("list_tasks", args)
    print(textwrap.indent(harness.text_of(r).rstrip(), "  "))
    return r


problems = []


def expect(what, ok):
    if not ok:
        problems.append(what)


def pages(r, n):
    sc = (r or {}).get("structuredContent") or {}
    return not (r or {}).get("isError") and len(sc.get("tasks") or []) == n


def main():
    with harness.Stack(api_key="demo-key-not-a-secret") as s:
        print(f"kling-mcp {os.environ.get('KLING_MCP', 'build/kling-mcp')} <-> mock Kling API at "
              f"{s.env['KLING_BASE_URL']} (verified TLS, test CA)")
        init = s.mcp.initialize()["result"]
        show("initialize", f"protocol {init['protocolVersion']}, server {init['serverInfo']['name']} "
                           f"{init['serverInfo']['version']}")
        tool = s.mcp.request("tools/list")["result"]["tools"][0]
        args = ", ".join(f"{k} ({v.get('type', '')})" for k, v in tool["inputSchema"]["properties"].items())
        show("tools/list", f"{tool['name']} — {tool.get('title', '')}\narguments: {args}")
        expect("tools/list names list_tasks", tool["name"] == "list_tasks")
        r = call(s, {"page_size": 3})
        expect("a page of 3 tasks", pages(r, 3))
        cursor = (r.get("structuredContent") or {}).get("next_cursor")
        r = call(s, {"status": "failed", "page_size": 2})
        expect("2 failed tasks", pages(r, 2) and all(t["status"] == "failed" for t in r["structuredContent"]["tasks"]))
        expect("a next_cursor on the first page", bool(cursor))
        if cursor:
            expect("the next 3 by cursor", pages(call(s, {"cursor": cursor, "page_size": 3}), 3))
        r = call(s, {"start_time": "2026-13-01"})
        expect("a bad date is an isError naming start_time", r.get("isError") and "start_time" in harness.text_of(r))
        print("\n(the assistant reads the error above, corrects the date and tries again)")
        sc = s.mcp.call_tool("list_tasks", {"page_size": 1}).get("structuredContent")
        show("structuredContent of a one-task page (what a program reads)", json.dumps(sc, indent=2,
                                                                                       ensure_ascii=False))
        expect("one task in structuredContent", len((sc or {}).get("tasks") or []) == 1)
        code, _ = s.mcp.close()
        expect("exit 0 at the end", code == 0)
    if problems:
        print("\ndemo: FAILED: " + "; ".join(problems))
        sys.exit(1)


if __name__ == "__main__":
    main()
