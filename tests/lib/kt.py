"""Shared helpers for the Python test suites.

Every suite prints one line per check, which tests/run.sh counts:
    PASS <name>
    FAIL <name>: <why>
    SKIP <name>: <why>
A suite exits 0 when it ran to the end (even with failures); any other exit
status is counted by the runner as one extra failure.
"""
import os
import sys

_counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}


def _emit(kind, name, why=""):
    _counts[kind] += 1
    line = f"{kind} {name}" + (f": {why}" if why else "")
    print(line.replace("\n", "\\n"), flush=True)


def check(name, cond, why=""):
    """Record one check; `why` is shown only when it fails."""
    _emit("PASS" if cond else "FAIL", name, "" if cond else (why or "condition false"))
    return bool(cond)


def eq(name, got, want):
    """Check got == want, showing both on failure."""
    return check(name, got == want, f"got {got!r}, want {want!r}")


def skip(name, why):
    _emit("SKIP", name, why)


def fail(name, why):
    _emit("FAIL", name, why)


def counts():
    return dict(_counts)


def root():
    """The repository's top folder."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def binary():
    """The kling-mcp binary under test (KLING_MCP, else build/kling-mcp)."""
    return os.environ.get("KLING_MCP") or os.path.join(root(), "build", "kling-mcp")


def done():
    """Call at the end of a suite."""
    sys.stdout.flush()
    sys.exit(0)
