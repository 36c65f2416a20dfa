#!/bin/sh
# run-unit.sh - `make unit`: the cmocka unit tests of one build directory
# (default build/), counted like `make test` does (tests/lib-count.sh).
set -u
cd "$(dirname "$0")/.." || exit 2
. tests/lib-count.sh
build=${1:-build}
bw_count_init
bw_run_unit "$build" unit
bw_count_summary
