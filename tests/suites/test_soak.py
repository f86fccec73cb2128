#!/usr/bin/env python3
"""The soak (tests/soak.py) in make test: 3,000 list_tasks calls through one
process with faults, memory compared after 1,000 and 3,000 calls. make soak
runs the full 10,000 (about 45 s here, too long for every make test). Under
SANITIZE=1 it runs 1,500 calls for what the sanitizers catch, and does not
judge memory (ASan keeps freed memory in quarantine on purpose)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import kt  # noqa: E402
import soak  # noqa: E402

kt.plan(soak.PLAN)
sanitized = os.environ.get("SANITIZE") == "1"
calls = int(os.environ.get("SOAK_TEST_CALLS", "1500" if sanitized else "3000"))
soak.run(calls, {1000, calls}, prefix="soak-short", memory=not sanitized)
kt.done()
