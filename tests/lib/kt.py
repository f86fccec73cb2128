"""Shared helpers for the Python test suites.

Every suite first declares how many checks it will run, then prints one line
per check; tests/run.sh counts them:
    PLAN <n>                 the first line: the checks this suite must run
    PASS <name>
    FAIL <name>: <why>
    SKIP <name>: <why>       a check that cannot run here, and why
    ERROR <what>: <why>      not a check: something broke (an exception in
                             any thread); the runner fails the suite
    NOTRUN <name>            printed at exit for each named check that was
                             planned (plan(names=...)) and did not run
A suite that runs fewer or more checks than planned, prints an ERROR line, or
exits with a status other than 0, fails in tests/run.sh.

An uncaught exception in any thread is reported as ERROR and makes the suite
exit 1, even when the main thread goes on to done(). Names starting with
"mock-self/" test the test apparatus itself (the mock, the catalogues), not
the product: the runner counts them apart.
"""
import atexit
import os
import sys
import threading
import traceback

_counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
_lock = threading.RLock()
_plan = None
_planned_names = None
_ran_names = set()
_last = None
_errors = []
SELF = "mock-self/"  # prefix of the checks that test the test apparatus


def plan(n, names=None):
    """Declare the number of checks (must come before any of them). With
    names (an iterable of check names, n of them or a subset), the ones that
    did not run are listed at exit."""
    global _plan, _planned_names
    with _lock:
        if _plan is not None or sum(_counts.values()):
            _error("plan", "plan() called twice or after a check ran")
        _plan = int(n)
        _planned_names = list(names) if names is not None else None
        print(f"PLAN {_plan}", flush=True)
    if os.environ.get("KT_PLAN_ONLY") == "1":  # another suite asks for the plan only
        os._exit(0)


def _error(what, why):
    with _lock:
        _errors.append(what)
        print(f"ERROR {what}: {why}".replace("\n", "\\n"), flush=True)


def _emit(kind, name, why=""):
    global _last
    with _lock:
        _counts[kind] += 1
        _ran_names.add(name)
        _last = name
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


def ran():
    """How many checks have run so far."""
    return sum(_counts.values())


def root():
    """The repository's top folder."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def binary():
    """The kling-mcp binary under test (KLING_MCP, else build/kling-mcp)."""
    return os.environ.get("KLING_MCP") or os.path.join(root(), "build", "kling-mcp")


def _thread_hook(args):
    if args.exc_type is SystemExit:
        return
    tb = "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))
    sys.stderr.write(tb)
    name = args.thread.name if args.thread else "?"
    _error(f"exception in thread {name}", f"{args.exc_type.__name__}: {args.exc_value}")


def _main_hook(exc_type, exc, tb):
    sys.__excepthook__(exc_type, exc, tb)
    if not issubclass(exc_type, KeyboardInterrupt):
        _error("exception", f"{exc_type.__name__}: {exc} (after check {_last!r})")


threading.excepthook = _thread_hook
sys.excepthook = _main_hook


def run_threads(*targets):
    """Run each callable in its own thread and wait for all; an exception in
    one is an ERROR (see _thread_hook) and the suite then exits 1."""
    threads = [threading.Thread(target=f, name=getattr(f, "__name__", "thread")) for f in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _at_exit():
    with _lock:
        if _planned_names is not None:
            for n in _planned_names:
                if n not in _ran_names:
                    print(f"NOTRUN {n}")
        if _plan is not None and ran() != _plan:
            print(f"# planned {_plan} checks, ran {ran()}; the last that ran: {_last!r}")
        sys.stdout.flush()
        if _errors:
            sys.stderr.flush()
            os._exit(1)


atexit.register(_at_exit)


def done():
    """Call at the end of a suite: exit 0, or 1 after an ERROR."""
    sys.stdout.flush()
    sys.exit(1 if _errors else 0)
