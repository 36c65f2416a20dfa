#!/bin/sh
# run-soak.sh - the body of `make soak` (DESIGN.md "Set-up, tests and CI";
# issue 9): the slow checks kept out of `make test`. make builds
# ./bellwether first; then, in order:
#   valgrind  tests/integration/soak_valgrind.sh: memcheck
#             (--error-exitcode=1 --leak-check=full) over check, collect,
#             reindex, dump, metrics, query, status, report (+ --email) on a
#             tiny store, and over failures (bad pages, 401, SIGTERM, a full
#             report directory)
#   faults    tests/integration/t_faults.sh at each scale of
#             $BW_SOAK_SCALES (default "small"; e.g. "small 20x400" for a
#             longer run), then its Jira cases against Jira Data Center
#   fuzz      tests/fuzz/run-fuzz.sh: every fuzz target for $FUZZ_SECONDS
#             (default 60) under libFuzzer (clang-14, installed when missing)
#   load      tests/integration/t_load.sh: five collects and five reports
#             at once against one Redis and simulator ($BW_LOAD_SCALE,
#             default small), data keys equal to a sequential run's
# and ends with "N passed, N failed" like make test (tests/lib-count.sh),
# exit status 1 when anything failed. BW_SOAK_ONLY="valgrind load" runs
# only those sections. Logs: build/test-logs/run-soak.PID/.
set -u
cd "$(dirname "$0")/.." || exit 2
. tests/lib-count.sh
unset MAKEFLAGS MFLAGS MAKELEVEL

BW_BIN=${BW_BIN:-./bellwether}
BW_SOAK=1
export BW_BIN BW_SOAK
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
SCALES=${BW_SOAK_SCALES:-small}
ONLY=${BW_SOAK_ONLY:-valgrind faults fuzz load}

wanted()
{
    case " $ONLY " in
    *" $1 "*) return 0 ;;
    esac
    return 1
}

bw_count_init

if [ ! -x "$BW_BIN" ]; then
    echo "0 1 0" >"$BW_LOGDIR/build.counts"
    echo "FAIL build: $BW_BIN is not built (run make first)"
fi

if wanted valgrind; then
    bw_section "valgrind memcheck (tiny)"
    BW_SUITE_TIMEOUT=900 bw_suite tap soak/valgrind \
        sh tests/integration/soak_valgrind.sh
fi

if wanted faults; then
    for scale in $SCALES; do
        bw_section "fault injection ($scale)"
        BW_FAULT_SCALE=$scale BW_SUITE_TIMEOUT=3600 \
            bw_suite tap "soak/faults-$scale" sh tests/integration/t_faults.sh
    done
    # make test covers Jira Cloud; Data Center pages by startAt
    bw_section "fault injection (tiny, Jira Data Center)"
    BW_FAULT_SCALE=tiny BW_FAULT_JIRA_FLAVOR=datacenter BW_FAULT_ONLY=jira \
        BW_SUITE_TIMEOUT=1800 bw_suite tap soak/faults-jira-dc \
        sh tests/integration/t_faults.sh
fi

if wanted fuzz; then
    n=$(ls tests/fuzz/fuzz_*.c 2>/dev/null | wc -l)
    bw_section "fuzzing ($n targets, ${FUZZ_SECONDS}s each)"
    # the build (clang-14, all of libbw.a) plus each target's time
    BW_SUITE_TIMEOUT=$((900 + n * (FUZZ_SECONDS + 30))) \
        bw_suite tap soak/fuzz sh tests/fuzz/run-fuzz.sh "$FUZZ_SECONDS"
fi

if wanted load; then
    bw_section "load: five collects and five reports at once"
    BW_SUITE_TIMEOUT=1800 bw_suite tap soak/load \
        sh tests/integration/t_load.sh
fi

bw_count_summary
