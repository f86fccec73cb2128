#!/bin/sh
# make demo: list_tasks and get_task (a wait with progress) against the mock Kling API, no credentials needed.
set -eu
exec python3 "$(dirname "$0")/demo.py"
