#!/bin/sh
# run-replay.sh - `make replay`: every tests/fuzz/fuzz_<name>.c, built as
# BUILD/replay_<name> with tests/fuzz/replay.c, run over the committed corpus
# tests/fuzz/corpus/<name>/ and, when ../shared exists, the real API samples
# (../shared/api-samples/github/*.json for github*, jira likewise).
set -u
cd "$(dirname "$0")/.." || exit 2
. tests/lib-count.sh
build=${1:-build}
bw_count_init
bw_run_replay "$build" replay
bw_count_summary
