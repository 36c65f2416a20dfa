# lib-count.sh - run test suites and count their cases (sourced, POSIX sh).
#
# Sourced by tests/run-all.sh (make test), run-unit.sh, run-replay.sh and
# run-integration.sh, so every runner counts the same way. A *suite* is one
# executable or script; it runs with stdin from /dev/null, its output goes to
# $BW_LOGDIR/<label>.log, and the cases it reports are counted by its kind:
#
#   cmocka    "[  PASSED  ] N test(s)."  "[  FAILED  ] N test(s)"  and
#             "[  SKIPPED ] N test(s)" summed over all groups (the fuzz
#             replay driver prints the same lines)
#   unittest  "Ran N tests" and "OK (skipped=S)" / "FAILED (failures=F,
#             errors=E, skipped=S, unexpected successes=U)"
#   tap       one line per case: "ok - NAME", "ok - NAME # SKIP why",
#             "not ok - NAME" (tests/integration/lib.sh and checksrc.sh)
#
# A suite that exits non-zero (a crash, a sanitizer report, a timeout) but
# reported no failed case counts one failed case; one that reports nothing
# at all counts one failed case too. Each suite prints one line as it ends
# and leaves "PASSED FAILED SKIPPED" in <label>.counts; bw_count_summary
# adds them up and prints the last line, "N passed, N failed[, N skipped]".

# one directory per run, so that two runs in one checkout (two people, or
# make unit while make test runs) do not delete each other's logs
BW_LOGDIR=${BW_LOGDIR:-build/test-logs/$(basename "$0" .sh).$$}
BW_SUITE_TIMEOUT=${BW_SUITE_TIMEOUT:-300}
# seconds each suite took last time, "label secs" per line
BW_DURATIONS=${BW_DURATIONS:-build/test-durations.txt}
BW_PYTHON=${BW_PYTHON:-}
if [ -z "$BW_PYTHON" ]; then
    # Debian's python3-aiosmtpd is only on /usr/bin/python3's path
    if [ -x /usr/bin/python3 ]; then
        BW_PYTHON=/usr/bin/python3
    else
        BW_PYTHON=python3
    fi
fi
export BW_LOGDIR BW_SUITE_TIMEOUT BW_PYTHON BW_DURATIONS
# cmocka must print its plain summary lines, not TAP or XML
unset CMOCKA_MESSAGE_OUTPUT CMOCKA_XML_FILE

bw_count_init()
{
    rm -rf "$BW_LOGDIR"
    mkdir -p "$BW_LOGDIR"
    # logs of runs older than a day go
    find "$(dirname "$BW_LOGDIR")" -mindepth 1 -maxdepth 1 -type d \
        -mmin +1440 -exec rm -rf {} + 2>/dev/null
    BW_COUNT_START=$(date +%s)
}

bw_section()
{
    echo "== $*"
}

# Counts from a log: prints "PASSED FAILED SKIPPED FOUND" (FOUND=0 when the
# log holds no result line of its kind).
bw_count_log()
{
    case $1 in
    cmocka)
        awk '
        /^\[  (PASSED|FAILED|SKIPPED) *\] [0-9]+ test\(s\)/ {
            found = 1
            match($0, /\] [0-9]+/)
            n = substr($0, RSTART + 2, RLENGTH - 2) + 0
            if ($0 ~ /PASSED/) { p += n }
            else if ($0 ~ /FAILED/) { f += n }
            else { s += n }
        }
        END { printf "%d %d %d %d\n", p, f, s, found }' "$2"
        ;;
    unittest)
        awk '
        /^Ran [0-9]+ tests? in / { found = 1; total += $2 }
        /^(OK|FAILED)( \(|$)/ {
            line = $0
            while (match(line, /[a-z ]+=[0-9]+/)) {
                kv = substr(line, RSTART, RLENGTH)
                line = substr(line, RSTART + RLENGTH)
                split(kv, a, "=")
                k = a[1]
                sub(/^ +/, "", k)
                if (k == "failures" || k == "errors" ||
                    k == "unexpected successes") {
                    f += a[2]
                } else if (k == "skipped") {
                    s += a[2]
                }
            }
        }
        END {
            p = total - f - s
            if (p < 0) { p = 0 }
            printf "%d %d %d %d\n", p, f, s, found
        }' "$2"
        ;;
    tap)
        awk '
        /^not ok([ \t]|$)/ { found = 1; f++; next }
        /^ok([ \t]|$)/ {
            found = 1
            if (toupper($0) ~ /#[ \t]*SKIP/) { s++ } else { p++ }
        }
        END { printf "%d %d %d %d\n", p, f, s, found }' "$2"
        ;;
    esac
}

# bw_suite KIND LABEL COMMAND [ARG...]: run one suite, print its line.
bw_suite()
{
    _bs_kind=$1
    _bs_label=$2
    shift 2
    _bs_safe=$(printf '%s' "$_bs_label" | tr '/ ' '__')
    _bs_log=$BW_LOGDIR/$_bs_safe.log
    [ -d "$BW_LOGDIR" ] || mkdir -p "$BW_LOGDIR"
    _bs_t0=$(date +%s)
    case $1 in
    */*)
        if [ ! -x "$1" ]; then
            echo "0 1 0" >"$BW_LOGDIR/$_bs_safe.counts"
            echo "$1 was not built (see the build errors above)" >"$_bs_log"
            bw_suite_report "$_bs_label" "$_bs_kind" "$_bs_log" 0 1 0 0 \
                "not built"
            return 1
        fi
        ;;
    esac
    timeout -k 10 "$BW_SUITE_TIMEOUT" "$@" >"$_bs_log" 2>&1 </dev/null
    _bs_rc=$?
    _bs_secs=$(($(date +%s) - _bs_t0))
    # shellcheck disable=SC2046
    set -- $(bw_count_log "$_bs_kind" "$_bs_log") 0 0 0 0
    _bs_p=$1
    _bs_f=$2
    _bs_s=$3
    _bs_note=""
    if [ "$4" = 0 ]; then
        _bs_f=$((_bs_f + 1))
        _bs_note="no test results"
    fi
    if [ "$_bs_rc" != 0 ] && [ "$_bs_f" = 0 ]; then
        _bs_f=1
    fi
    if [ "$_bs_rc" = 124 ] || [ "$_bs_rc" = 137 ]; then
        _bs_note="timed out after ${BW_SUITE_TIMEOUT}s"
    elif [ "$_bs_rc" != 0 ]; then
        _bs_note="${_bs_note:+$_bs_note, }exit status $_bs_rc"
    fi
    echo "$_bs_p $_bs_f $_bs_s" >"$BW_LOGDIR/$_bs_safe.counts"
    echo "$_bs_label $_bs_secs" >"$BW_LOGDIR/$_bs_safe.secs"
    bw_suite_report "$_bs_label" "$_bs_kind" "$_bs_log" "$_bs_p" "$_bs_f" \
        "$_bs_s" "$_bs_secs" "$_bs_note"
    [ "$_bs_f" = 0 ]
}

# One line per suite; a failed suite also shows what failed, in one write so
# that two suites running at once do not interleave their reports.
bw_suite_report()
{
    _br_skip=""
    [ "$6" != 0 ] && _br_skip=", $6 skipped"
    if [ "$5" = 0 ]; then
        _br_status=PASS
    else
        _br_status=FAIL
    fi
    {
        printf '%s %-34s %4d passed, %d failed%s (%ss)%s\n' "$_br_status" \
            "$1" "$4" "$5" "$_br_skip" "$7" "${8:+ [$8]}"
        if [ "$5" != 0 ]; then
            case $2 in
            tap) _br_pat='^not ok' ;;
            cmocka) _br_pat='^\[  (FAILED|ERROR|LINE) +\]|Sanitizer|runtime error' ;;
            unittest) _br_pat='^(FAIL|ERROR): ' ;;
            esac
            if grep -Eq "$_br_pat" "$3"; then
                grep -E -A 6 "$_br_pat" "$3" | head -n 40
            else
                tail -n 15 "$3"
            fi
            echo "(full log: $3)"
        fi
    } | sed '2,$s/^/     | /' >"$3.report"
    cat "$3.report"
}

bw_count_summary()
{
    _bc_secs=$(($(date +%s) - ${BW_COUNT_START:-$(date +%s)}))
    _bc_line=$(cat "$BW_LOGDIR"/*.counts 2>/dev/null | awk '
        { p += $1; f += $2; s += $3 }
        END {
            printf "%d passed, %d failed", p, f
            if (s > 0) { printf ", %d skipped", s }
            printf "\n"
        }')
    # durations for the next run's ordering (longest integration first)
    if cat "$BW_LOGDIR"/*.secs >"$BW_DURATIONS.new" 2>/dev/null; then
        [ -f "$BW_DURATIONS" ] && awk 'NR == FNR { seen[$1] = 1; print; next }
            !($1 in seen)' "$BW_DURATIONS.new" "$BW_DURATIONS" \
            >"$BW_DURATIONS.tmp" && mv "$BW_DURATIONS.tmp" "$BW_DURATIONS.new"
        mv "$BW_DURATIONS.new" "$BW_DURATIONS"
    fi
    echo "== ${_bc_secs}s, logs in $BW_LOGDIR/"
    # bootstrap.sh repeats it after make's own "*** Error" line
    echo "$_bc_line" >"${BW_SUMMARY:-build/test-summary.txt}" 2>/dev/null
    echo "$_bc_line"
    case $_bc_line in
    *", 0 failed"*) return 0 ;;
    *) return 1 ;;
    esac
}

# ---- the suites -----------------------------------------------------------

# Unit tests: BUILD dir, then optionally the executables (default: one per
# tests/unit/test_*.c).
bw_run_unit()
{
    _ru_build=$1
    _ru_prefix=${2:-unit}
    _ru_list=""
    for _ru_src in tests/unit/test_*.c; do
        [ -f "$_ru_src" ] || continue
        _ru_name=$(basename "$_ru_src" .c)
        _ru_list="$_ru_list $_ru_build/$_ru_name"
    done
    for _ru_bin in $_ru_list; do
        bw_suite cmocka "$_ru_prefix/$(basename "$_ru_bin")" "$_ru_bin"
    done
    return 0
}

# The inputs replayed through replay_NAME: the committed corpus, plus the
# real API samples next to the checkout for github* and jira* targets.
bw_replay_inputs()
{
    _ri_shared=${BW_SHARED_DIR:-../shared}
    if [ -d "tests/fuzz/corpus/$1" ]; then
        echo "tests/fuzz/corpus/$1"
    fi
    case $1 in
    github*) _ri_api=github ;;
    jira*) _ri_api=jira ;;
    *) _ri_api="" ;;
    esac
    if [ -n "$_ri_api" ] && [ -d "$_ri_shared/api-samples/$_ri_api" ]; then
        for _ri_f in "$_ri_shared/api-samples/$_ri_api"/*.json; do
            [ -f "$_ri_f" ] && echo "$_ri_f"
        done
    fi
    return 0
}

bw_run_replay()
{
    _rr_build=$1
    _rr_prefix=${2:-replay}
    for _rr_src in tests/fuzz/fuzz_*.c; do
        [ -f "$_rr_src" ] || continue
        _rr_name=$(basename "$_rr_src" .c)
        _rr_name=${_rr_name#fuzz_}
        _rr_inputs=$(bw_replay_inputs "$_rr_name")
        if [ -z "$_rr_inputs" ]; then
            _rr_safe=$(printf '%s' "$_rr_prefix/replay_$_rr_name" | tr '/ ' '__')
            echo "0 0 1" >"$BW_LOGDIR/$_rr_safe.counts"
            echo "SKIP $_rr_prefix/replay_$_rr_name (no tests/fuzz/corpus/$_rr_name/)"
            continue
        fi
        # shellcheck disable=SC2086
        bw_suite cmocka "$_rr_prefix/replay_$_rr_name" \
            "$_rr_build/replay_$_rr_name" $_rr_inputs
    done
    return 0
}

# The simulator's own tests: each tests/apisim/test_*.py is one suite.
bw_run_apisim()
{
    for _ra_py in tests/apisim/test_*.py; do
        [ -f "$_ra_py" ] || continue
        bw_suite unittest "apisim/$(basename "$_ra_py" .py)" \
            "$BW_PYTHON" "$_ra_py"
    done
    return 0
}

# Is an integration script marked "# tiny" in its first 5 lines?
bw_is_tiny()
{
    head -n 5 "$1" | grep -Eq '^#[[:space:]]*tiny([[:space:]]|$)'
}

# Run one integration script as a suite (used through xargs -P as well).
bw_integration_one()
{
    _io_name=$(basename "$1" .sh)
    case $(head -n 1 "$1") in
    '#!'*bash*) _io_sh=bash ;;
    *) _io_sh=sh ;;
    esac
    bw_suite tap "${BW_SUITE_PREFIX:-integration}/$_io_name" "$_io_sh" "$1"
}

# bw_run_integration PREFIX BW_BIN [tiny]: the tests/integration/t_*.sh
# scripts, $BW_TEST_JOBS (default 2) at a time; each script gets its own
# ports and temp dirs from lib.sh, so running two at once is safe.
bw_run_integration()
{
    _ri_list=""
    for _ri_t in tests/integration/t_*.sh; do
        [ -f "$_ri_t" ] || continue
        if [ "${3:-}" = tiny ] && ! bw_is_tiny "$_ri_t"; then
            continue
        fi
        _ri_list="$_ri_list $_ri_t"
    done
    [ -n "$_ri_list" ] || return 0
    # longest first (as timed last run; new scripts count as long), so two
    # at a time finish together
    # shellcheck disable=SC2086
    _ri_list=$(for _ri_t in $_ri_list; do
        _ri_s=$(awk -v l="$1/$(basename "$_ri_t" .sh)" '$1 == l { print $2 }' \
            "$BW_DURATIONS" 2>/dev/null | tail -n 1)
        echo "${_ri_s:-100000} $_ri_t"
    done | sort -k1,1nr -k2,2 | cut -d' ' -f2)
    BW_SUITE_PREFIX=$1
    BW_BIN=$2
    export BW_SUITE_PREFIX BW_BIN
    # shellcheck disable=SC2086
    printf '%s\n' $_ri_list | xargs -n 1 -P "${BW_TEST_JOBS:-2}" sh -c \
        '. tests/lib-count.sh && bw_integration_one "$1"' sh
    return 0
}
