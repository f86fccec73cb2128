#!/usr/bin/env python3
"""The soak (tests/soak.py) in make test: 3,000 list_tasks calls through one
process with faults, memory compared after 1,000 and 3,000 calls. make soak
runs the full 10,000 (about 45 s here, too long for every make test)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import kt  # noqa: E402
import soak  # noqa: E402

calls = int(os.environ.get("SOAK_TEST_CALLS", "3000"))
soak.run(calls, {1000, calls}, prefix="soak-short")
kt.done()
