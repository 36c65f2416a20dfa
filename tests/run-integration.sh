#!/bin/sh
# run-integration.sh - `make integration`: tests/integration/t_*.sh against
# a throw-away redis-server and the API simulator (tests/integration/lib.sh),
# two scripts at a time (BW_TEST_JOBS). Arguments: optional script names or
# paths to run only those; BW_BIN picks the binary (default ./bellwether).
set -u
cd "$(dirname "$0")/.." || exit 2
. tests/lib-count.sh
bw_count_init
if [ $# -gt 0 ]; then
    BW_SUITE_PREFIX=integration
    BW_BIN=${BW_BIN:-./bellwether}
    export BW_SUITE_PREFIX BW_BIN
    for t in "$@"; do
        case $t in
        */*) ;;
        *) t=tests/integration/$t ;;
        esac
        case $t in
        *.sh) ;;
        *) t=$t.sh ;;
        esac
        bw_integration_one "$t"
    done
else
    bw_run_integration integration "${BW_BIN:-./bellwether}"
fi
bw_count_summary
