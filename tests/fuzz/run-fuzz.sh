#!/bin/sh
# run-fuzz.sh SECONDS [NAME...] - `make fuzz` (FUZZ_SECONDS, default 60):
# timed libFuzzer runs of every tests/fuzz/fuzz_<name>.c (or the NAMEs
# given), STYLE.md item 24.
#
# Builds build-fuzz/libbw.a and build-fuzz/fuzz_<name> with clang-14 and
# -fsanitize=fuzzer,address,undefined (installing clang-14 and
# libclang-rt-14-dev through scripts/bootstrap.sh when missing), then runs
# each target for SECONDS over:
#   build-fuzz/corpus/<name>/   the working corpus (libFuzzer adds to it)
#   tests/fuzz/corpus/<name>/   the committed corpus (read only; made from
#                               simulator output only)
#   build-fuzz/seeds/<name>/    for github* / jira* targets: copies of
#                               ../shared/api-samples/{github,jira}/*.json
#                               when ../shared exists (never committed)
# A crash leaves build-fuzz/artifacts/<name>-crash-*; replay one with
# `build-fuzz/fuzz_<name> FILE`, then add a minimised, simulator-made
# reproducer to tests/fuzz/corpus/<name>/ so `make test` keeps checking it.
# Ends with "N passed, N failed" like the other runners.
set -u
cd "$(dirname "$0")/../.." || exit 2

secs=${1:-60}
[ $# -gt 0 ] && shift
case $secs in
'' | *[!0-9]*)
    echo "usage: sh tests/fuzz/run-fuzz.sh SECONDS [NAME...]" >&2
    exit 2
    ;;
esac
out=build-fuzz
shared=${BW_SHARED_DIR:-../shared}

if ! command -v clang-14 >/dev/null 2>&1 ||
    ! dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null |
    grep -q 'install ok installed'; then
    sh scripts/bootstrap.sh packages clang-14 libclang-rt-14-dev || exit 1
fi

if [ $# -gt 0 ]; then
    names=$*
else
    names=""
    for f in tests/fuzz/fuzz_*.c; do
        [ -f "$f" ] || continue
        n=$(basename "$f" .c)
        names="$names ${n#fuzz_}"
    done
fi
if [ -z "$names" ]; then
    echo "no tests/fuzz/fuzz_*.c yet"
    echo "0 passed, 0 failed"
    exit 0
fi

san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
bins=""
for n in $names; do
    bins="$bins $out/fuzz_$n"
done
# shellcheck disable=SC2086
if ! make --no-print-directory BUILD=$out CC=clang-14 WERROR=0 \
    CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $san" \
    LDFLAGS="-fsanitize=fuzzer $san" $bins; then
    echo "error: cannot build the fuzz targets with clang-14" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

passed=0
failed=0
mkdir -p "$out/artifacts"
for n in $names; do
    work=$out/corpus/$n
    mkdir -p "$work"
    dirs="$work"
    [ -d "tests/fuzz/corpus/$n" ] && dirs="$dirs tests/fuzz/corpus/$n"
    case $n in
    github*) api=github ;;
    jira*) api=jira ;;
    *) api="" ;;
    esac
    if [ -n "$api" ] && [ -d "$shared/api-samples/$api" ]; then
        seeds=$out/seeds/$n
        rm -rf "$seeds"
        mkdir -p "$seeds"
        cp "$shared/api-samples/$api"/*.json "$seeds"/ 2>/dev/null
        dirs="$dirs $seeds"
    fi
    echo "== fuzz_$n for ${secs}s over: $dirs"
    log=$out/fuzz_$n.log
    # shellcheck disable=SC2086
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
        UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        "$out/fuzz_$n" -max_total_time="$secs" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 \
        ${FUZZ_MAX_LEN:+-max_len=$FUZZ_MAX_LEN} \
        -artifact_prefix="$out/artifacts/$n-" $dirs >"$log" 2>&1
    rc=$?
    if [ "$rc" = 0 ]; then
        passed=$((passed + 1))
        echo "ok - fuzz_$n ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" |
            sed 's/.*: *//') runs)"
    else
        failed=$((failed + 1))
        echo "not ok - fuzz_$n (exit $rc; log $log)"
        grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -n 10 |
            sed 's/^/#   /'
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
