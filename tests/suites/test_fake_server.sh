#!/bin/sh
# The self-checks of the fake list_tasks backend (tests/lib/fake_backend.h)
# that tests/suites/test_protocol.py and test_sdk.sh call through
# build/tools/fake_server: the program run with no argument prints its own
# PLAN and one mock-self/ line per check (counted with the mock's self-tests).
exec "${BUILD_DIR:?}/tools/fake_server"
