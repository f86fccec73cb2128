#!/usr/bin/env python3
"""make demo: kling-mcp working as an assistant would use it, against the mock
Kling API on loopback (HTTPS with a throwaway test CA): list_tasks, then
get_task waiting for a task to finish, with its progress lines. No credentials
needed: the mock accepts the demo's own key."""
import json
import os
import sys
import textwrap
import time

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


def main():
    with harness.Stack(api_key="demo-key-not-a-secret") as s:
        print(f"kling-mcp {os.environ.get('KLING_MCP', 'build/kling-mcp')} <-> mock Kling API at "
              f"{s.env['KLING_BASE_URL']} (verified TLS, test CA)")
        init = s.mcp.initialize()["result"]
        show("initialize", f"protocol {init['protocolVersion']}, server {init['serverInfo']['name']} "
                           f"{init['serverInfo']['version']}")
        lines = []
        for tool in s.mcp.request("tools/list")["result"]["tools"]:
            args = ", ".join(f"{k} ({v.get('type', '')})" for k, v in tool["inputSchema"]["properties"].items())
            lines.append(f"{tool['name']} — {tool.get('title', '')}\n  arguments: {args}")
        show("tools/list", "\n".join(lines))
        r = call(s, {"page_size": 3})
        cursor = (r.get("structuredContent") or {}).get("next_cursor")
        call(s, {"status": "failed", "page_size": 2})
        if cursor:
            call(s, {"cursor": cursor, "page_size": 3})
        r = call(s, {"start_time": "2026-13-01"})
        print("\n(the assistant reads the error above, corrects the date and tries again)")
        sc = s.mcp.call_tool("list_tasks", {"page_size": 1}).get("structuredContent")
        show("structuredContent of a one-task page (what a program reads)", json.dumps(sc, indent=2,
                                                                                       ensure_ascii=False))
        wait(s)
        s.mcp.close()


def wait(s):
    """get_task waiting for a task the mock moves from submitted to processing to succeed,
    with the progress notifications as they arrive."""
    live = s.mock._do("POST", "/_mock/live_task", {"model_name": "kling-v2-1-master"})
    args = {"task_id": live["task_id"], "wait_seconds": 60}
    print(f"\n>>> tools/call get_task {json.dumps(args)}  (with a progressToken)")
    rid = s.mcp.next_id
    s.mcp.next_id += 1
    s.mcp.send({"jsonrpc": "2.0", "id": rid, "method": "tools/call",
                "params": {"name": "get_task", "arguments": args, "_meta": {"progressToken": "demo"}}})
    t0 = time.monotonic()
    while True:
        msg = s.mcp.recv(70)
        if msg is None:
            print("  (no answer)")
            return
        if msg.get("method") == "notifications/progress":
            p = msg["params"]
            print(f"  <<< progress {p.get('progress')} at {time.monotonic() - t0:4.1f} s: {p.get('message')}")
        elif msg.get("id") == rid:
            break
    r = msg.get("result", {})
    print(f"  <<< result at {time.monotonic() - t0:4.1f} s")
    print(textwrap.indent(harness.text_of(r).rstrip(), "  "))
    for c in r.get("content", []):
        if c.get("type") == "resource_link":
            print(f"  resource_link {c.get('name')} ({c.get('mimeType')}): {c.get('uri')}")
    st = r.get("structuredContent") or {}
    print(f"  finished: {st.get('finished')}, waited_ms: {st.get('waited_ms')}")


if __name__ == "__main__":
    main()
