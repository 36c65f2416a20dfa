#!/bin/sh
# run-all.sh - the body of `make test` (DESIGN.md "Set-up, tests and CI").
#
# make builds everything first (./bellwether, build/test_*, build/replay_*
# and the same under build-asan/), then this runs, in order:
#   style        make checksrc
#   unit         build/test_*                 (cmocka)
#   replay       build/replay_* over tests/fuzz/corpus/<name>/ (+ ../shared)
#   apisim       python3 tests/apisim/test_*.py (unittest)
#   integration  tests/integration/t_*.sh with BW_BIN=./bellwether
#   asan         build-asan/test_*, build-asan/replay_* and the integration
#                scripts marked "# tiny", with BW_BIN=build-asan/bellwether
# and ends with the line "N passed, N failed" (", N skipped" when any), exit
# status 1 when anything failed. Counting: tests/lib-count.sh.
set -u
cd "$(dirname "$0")/.." || exit 2
. tests/lib-count.sh
# make runs this as a plain command: no jobserver for the makes below
unset MAKEFLAGS MFLAGS MAKELEVEL

bw_count_init

if [ "${BW_BUILD_FAILED:-0}" != 0 ]; then
    echo "0 1 0" >"$BW_LOGDIR/build.counts"
    echo "FAIL build: make -k stopped with errors (above); what was not built fails below"
fi

bw_section "style"
bw_suite tap style/checksrc ${MAKE:-make} --no-print-directory checksrc

bw_section "unit tests"
bw_run_unit build unit

bw_section "fuzz corpora replayed"
bw_run_replay build replay

bw_section "API simulator self-tests"
bw_run_apisim

bw_section "integration (BW_BIN=./bellwether)"
bw_run_integration integration ./bellwether

bw_section "ASan+UBSan: unit, replay, tiny integration"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1
export ASAN_OPTIONS UBSAN_OPTIONS
bw_run_unit build-asan asan
bw_run_replay build-asan asan
bw_run_integration asan build-asan/bellwether tiny

bw_count_summary
