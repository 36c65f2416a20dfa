#!/bin/sh
# t_faults.sh - the fault-injection suite (issue 9)
# tiny
#
# Every fault the API simulator injects, a hostile server (what the
# simulator never sends), Redis killed and restarted mid-page, bellwether
# killed (SIGKILL) or stopped (SIGTERM, SIGINT) mid-walk or in a quota
# wait, and a report directory that is full. Each case checks the exit
# code against DESIGN.md's table and that, after recovery (the fault gone,
# a plain rerun), the data keys equal a clean run's canonical dump (`debug
# dump`); a case that exits 0 must store exactly the clean data at once. A
# report that fails leaves no half-written file. GitHub and Jira sources.
# Any sanitizer report on stderr fails the case (the ASan pass of make
# test runs this script with build-asan/bellwether).
#
# make test runs it at tiny scale (about a minute); `make soak` with
# BW_FAULT_SCALE=small, which also adds a slow case: a quota spent again
# after every reset must still end the run. BW_FAULT_ONLY=gh|jira restricts
# the sources.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faultlib.sh"

# Redis keeps every EXEC in its append-only file, so a Redis killed with
# SIGKILL comes back with what it had acknowledged (the realistic restart)
bw_start_redis --conf "appendonly yes" --conf "appendfsync always"
fl_sim
FL_PROJECTS=$(fl_projects)
if [ -n "$FL_PROJECTS" ]; then
    ok "the simulator serves Jira projects ($FL_PROJECTS)"
else
    not_ok "the simulator lists its Jira projects"
fi
echo "# scale $FL_SCALE, simulator on port $FL_SIM_PORT, Redis $REDIS_URL"

SOURCES=${BW_FAULT_ONLY:-gh jira}
CASE=0
REPORT_OK=""

# ---- clean reference runs --------------------------------------------------

# ref SRC: a clean collect into prefix ref-SRC: and its dump in
# $BW_TMP/ref.SRC; a second collect changes nothing. Sets USE_<src>.
ref()
{
    _s=$1
    _tag=$(echo "$_s" | tr ' ' '+')
    fl_conf "$BW_TMP/ref.$_tag.ini" "ref-$_tag:" "$_s"
    fl_collect "$BW_TMP/ref.$_tag.ini"
    if [ "$FL_RC" != 0 ] && fl_not_impl "$BW_ERR"; then
        skip "clean collect of '$_s'" "its collector is not implemented yet"
        return 1
    fi
    if [ "$FL_RC" != 0 ]; then
        not_ok "clean collect of '$_s' exits 0" "exit status $FL_RC" \
            "$(bw_last_output)"
        return 1
    fi
    fl_dump "$BW_TMP/ref.$_tag.ini" "$BW_TMP/ref.$_tag"
    _n=$(fl_count_items "$BW_TMP/ref.$_tag")
    if [ "$_n" -gt 0 ]; then
        ok "clean collect of '$_s': $_n items (${FL_SECS}s)"
    else
        not_ok "clean collect of '$_s' stores items" "$(head "$BW_ERR")"
        return 1
    fi
    fl_collect "$BW_TMP/ref.$_tag.ini"
    fl_dump "$BW_TMP/ref.$_tag.ini" "$BW_TMP/ref.again"
    if [ "$FL_RC" = 0 ]; then
        fl_same "a second clean collect of '$_s' changes no data key" \
            "$BW_TMP/ref.again" "$BW_TMP/ref.$_tag"
    else
        not_ok "a second clean collect of '$_s' exits 0" "exit $FL_RC" \
            "$(bw_last_output)"
    fi
    return 0
}

USE_gh=""
USE_jira=""
USE_both=""
for s in $SOURCES; do
    if ref "$s"; then
        eval "USE_$s=1"
    fi
done
if [ -n "$USE_gh" ] && [ -n "$USE_jira" ] && ref "gh jira"; then
    USE_both=1
fi

# ---- simulator faults ------------------------------------------------------

# recover NAME SRC CONF: the fault gone, a plain rerun exits 0 and the data
# keys equal the clean run's.
recover()
{
    _rtag=$(echo "$2" | tr ' ' '+')
    fl_sim
    fl_collect "$3"
    if [ "$FL_RC" != 0 ]; then
        not_ok "$1: the rerun without the fault exits 0" \
            "exit status $FL_RC" "$(bw_last_output)"
        return 1
    fi
    fl_dump "$3" "$BW_TMP/dump"
    fl_same "$1: after a clean rerun the data keys equal the clean run's" \
        "$BW_TMP/dump" "$BW_TMP/ref.$_rtag"
}

# fault NAME SOURCES WANT "KEY=VALUE ..." SIMULATOR-ARG...: one case.
fault()
{
    _fname=$1
    _fsrc=$2
    _fwant=$3
    _flines=$4
    shift 4
    _ftag=$(echo "$_fsrc" | tr ' ' '+')
    CASE=$((CASE + 1))
    _fconf=$BW_TMP/case$CASE.ini
    fl_sim "$@"
    # shellcheck disable=SC2086
    fl_conf "$_fconf" "case$CASE:" "$_fsrc" $_flines
    fl_collect "$_fconf"
    if [ "$FL_RC" = "$_fwant" ]; then
        ok "$_fname: exit $_fwant (${FL_SECS}s)"
    else
        not_ok "$_fname: exit $_fwant" "exit status $FL_RC after ${FL_SECS}s" \
            "$(bw_last_output)"
    fi
    if [ "$_fwant" != 0 ] && [ ! -s "$BW_ERR" ]; then
        not_ok "$_fname: the failure is explained on stderr"
    fi
    if [ "$FL_RC" = 0 ] && [ "$_fwant" = 0 ]; then
        fl_dump "$_fconf" "$BW_TMP/dump"
        fl_same "$_fname: the data keys equal the clean run's" \
            "$BW_TMP/dump" "$BW_TMP/ref.$_ftag"
        return
    fi
    fl_dump "$_fconf" "$BW_TMP/dump"
    _fkept=$(fl_count_items "$BW_TMP/dump")
    recover "$_fname ($_fkept items kept)" "$_fsrc" "$_fconf"
}

# sim_faults SRC: every simulator fault against one source. N is the
# request the fault hits: a list or search page for the single faults,
# a later request for the @N+ forms (after a first page was stored, so a
# kept ETag or a moved mark would show in the recovery).
sim_faults()
{
    s=$1
    case $s in
    gh)
        n1=2
        n2=6
        ;;
    jira)
        n1=5
        n2=6
        ;;
    esac
    fault "$s ratelimit@$n2, reset in 1 s (within max_rate_wait)" "$s" 0 \
        "max_rate_wait=30s" --faults "$s:ratelimit@$n2" --reset-in 1
    fault "$s ratelimit@$n2, reset beyond max_rate_wait" "$s" 1 \
        "max_rate_wait=5s" --faults "$s:ratelimit@$n2" --reset-in 3600
    fault "$s ratelimit@$n2+, reset beyond max_rate_wait" "$s" 1 \
        "max_rate_wait=5s" --faults "$s:ratelimit@$n2+" --reset-in 3600
    if [ "$FL_SCALE" != tiny ]; then
        fault "$s ratelimit@$n2+, reset every second: the run ends" "$s" 1 \
            "max_rate_wait=30s" --faults "$s:ratelimit@$n2+" --reset-in 1
    fi
    fault "$s secondary@$n1 (Retry-After 1 s)" "$s" 0 "" \
        --faults "$s:secondary@$n1"
    # (Retry-After: 0 from then on, so the tries go fast)
    fault "$s secondary@$n2+" "$s" 1 "" --faults "$s:secondary@$n2+" \
        --retry-after 0
    if [ "$s" = gh ]; then
        BELLWETHER_MIN_SECONDARY_WAIT=1
        export BELLWETHER_MIN_SECONDARY_WAIT
        fault "$s secondary-bare@$n1 (no Retry-After, 1 s floor)" "$s" 0 "" \
            --faults "$s:secondary-bare@$n1"
        BELLWETHER_MIN_SECONDARY_WAIT=0
        fault "$s secondary-bare@$n2+ (no floor)" "$s" 1 "" \
            --faults "$s:secondary-bare@$n2+"
        unset BELLWETHER_MIN_SECONDARY_WAIT
    else
        # Jira's bare 429 carries X-RateLimit-Reset (the window's end, an
        # hour away here): a wait beyond max_rate_wait fails the source
        fault "$s secondary-bare@$n1 (429, reset beyond max_rate_wait)" \
            "$s" 1 "max_rate_wait=5s" --faults "$s:secondary-bare@$n1"
        fault "$s secondary-bare@$n2+" "$s" 1 "max_rate_wait=5s" \
            --faults "$s:secondary-bare@$n2+"
    fi
    # five failures in a row must stay unlikely over all requests of a run
    p=0.2
    [ "$FL_SCALE" = tiny ] || p=0.05
    fault "$s 5xx:$p (retried)" "$s" 0 "" --faults "$s:5xx:$p"
    fault "$s 5xx:1 (every try fails)" "$s" 1 "" --faults "$s:5xx:1"
    fault "$s truncate@$n1" "$s" 0 "" --faults "$s:truncate@$n1"
    fault "$s truncate@$n2+" "$s" 1 "" --faults "$s:truncate@$n2+"
    fault "$s badjson@$n1" "$s" 0 "" --faults "$s:badjson@$n1"
    fault "$s badjson@$n2+" "$s" 1 "" --faults "$s:badjson@$n2+"
    fault "$s slow:100" "$s" 0 "" --faults "$s:slow:100"
    fault "$s auth (every request 401)" "$s" 2 "" --faults "$s:auth"
}

for s in $SOURCES; do
    if eval "[ -n \"\$USE_$s\" ]"; then
        sim_faults "$s"
    else
        skip "$s: simulator faults" "no clean run of '$s' to compare with"
    fi
done

if [ -n "$USE_both" ]; then
    fault "gh 401, jira fine: partial" "gh jira" 3 "" --faults gh:auth
    fault "both 401: credentials" "gh jira" 2 "" --faults auth
    fault "gh 5xx every try, jira 401: runtime" "gh jira" 1 "" \
        --faults gh:5xx:1,jira:auth
fi

# ---- processes killed or stopped mid-walk --------------------------------

# A walk slow enough to land a signal in it: every request takes
# LATENCY ms, two at a time; the signal comes after AFTER requests (at
# tiny scale GitHub's one list page is committed at the end of the walk;
# at larger scales after some pages were committed).
slow_args()
{
    case $1:$FL_SCALE in
    gh:tiny) echo "--latency-ms 80" ;;
    gh:*) echo "--latency-ms 5" ;;
    jira:*) echo "--latency-ms 250" ;;
    esac
}
kill_after()
{
    case $1:$FL_SCALE in
    gh:tiny) echo 8 ;;
    gh:*) echo 300 ;;
    jira:*) echo 5 ;;
    esac
}
# how long a whole slowed collect may take
BG_LIMIT=60
[ "$FL_SCALE" = tiny ] || BG_LIMIT=600

# signal_case NAME SRC SIGNAL WANT [AFTER SIM-ARG...]: collect in the
# background, SIGNAL after some requests (AFTER of them, then one second
# more), exit WANT within 10 s of the signal, then recovery.
signal_case()
{
    _sname=$1
    _ssrc=$2
    _ssig=$3
    _swant=$4
    _safter=""
    shift 4
    if [ $# -gt 0 ]; then
        _safter=$1
        shift
    fi
    CASE=$((CASE + 1))
    _sconf=$BW_TMP/case$CASE.ini
    # shellcheck disable=SC2046
    fl_sim $(slow_args "$_ssrc") "$@"
    fl_conf "$_sconf" "case$CASE:" "$_ssrc" "max_parallel=2" \
        "max_rate_wait=2h"
    fl_bg "$_sconf" collect
    if ! fl_wait_requests "${_safter:-$(kill_after "$_ssrc")}" 60; then
        fl_bg_wait "$BG_LIMIT"
        not_ok "$_sname: the collect was still running when signalled" \
            "it ended first with $FL_RC after ${FL_SECS}s" \
            "$(tail -n 5 "$BW_TMP/bg.err")"
        return
    fi
    [ -n "$_safter" ] && sleep 1
    _st0=$(fl_now_ms)
    kill "-$_ssig" "$FL_BG" 2>/dev/null
    fl_bg_wait 30
    _ssecs=$(fl_since "$_st0")
    if [ "$FL_RC" = "$_swant" ]; then
        ok "$_sname: exit $_swant, ${_ssecs}s after the signal"
    else
        not_ok "$_sname: exit $_swant" "exit status $FL_RC" \
            "$(tail -n 8 "$BW_TMP/bg.err")"
    fi
    if [ "$_ssig" != KILL ]; then
        expect_le "$_sname: stops within 10 s" "$_ssecs" 10
    fi
    fl_dump "$_sconf" "$BW_TMP/dump"
    _skept=$(fl_count_items "$BW_TMP/dump")
    recover "$_sname ($_skept items kept)" "$_ssrc" "$_sconf"
}

# redis_case SRC: Redis killed (SIGKILL) mid-walk and started again on the
# same port from its append-only file. The collect may ride it out (exit
# 0) or fail (exit 1); either way the rerun completes the store exactly.
redis_case()
{
    _rsrc=$1
    CASE=$((CASE + 1))
    _rconf=$BW_TMP/case$CASE.ini
    # shellcheck disable=SC2046
    fl_sim $(slow_args "$_rsrc")
    fl_conf "$_rconf" "case$CASE:" "$_rsrc" "max_parallel=2"
    fl_bg "$_rconf" collect
    if ! fl_wait_requests "$(kill_after "$_rsrc")" 60; then
        fl_bg_wait "$BG_LIMIT"
        not_ok "$_rsrc Redis killed mid-page: the collect was still running" \
            "it ended first with $FL_RC"
        return
    fi
    kill -9 "$REDIS_PID" 2>/dev/null
    wait "$REDIS_PID" 2>/dev/null
    bw_untrack_pid "$REDIS_PID"
    REDIS_PID=""
    sleep 0.3
    if ! bw_restart_redis; then
        fl_bg_wait 30
        return
    fi
    fl_bg_wait "$BG_LIMIT"
    case $FL_RC in
    0 | 1)
        ok "$_rsrc Redis killed and restarted mid-page: exit $FL_RC" \
            "(${FL_SECS}s)"
        ;;
    *)
        not_ok "$_rsrc Redis killed and restarted mid-page: exit 0 or 1" \
            "exit status $FL_RC" "$(tail -n 8 "$BW_TMP/bg.err")"
        ;;
    esac
    if [ "$FL_RC" = 1 ] && ! grep -qi redis "$BW_TMP/bg.err"; then
        not_ok "$_rsrc Redis killed: the error names Redis" \
            "$(tail -n 5 "$BW_TMP/bg.err")"
    fi
    fl_dump "$_rconf" "$BW_TMP/dump"
    _rkept=$(fl_count_items "$BW_TMP/dump")
    recover "$_rsrc Redis killed mid-page ($_rkept items kept)" "$_rsrc" \
        "$_rconf"
}

for s in $SOURCES; do
    if eval "[ -z \"\$USE_$s\" ]"; then
        skip "$s: signals and Redis restarts" "no clean run to compare with"
        continue
    fi
    signal_case "$s SIGKILL mid-page" "$s" KILL 137
    signal_case "$s SIGTERM mid-walk" "$s" TERM 1
    redis_case "$s"
done
if [ -n "$USE_gh" ]; then
    signal_case "gh SIGINT mid-walk" gh INT 1
    # a quota wait of an hour (allowed: max_rate_wait = 2h) is abandoned
    signal_case "gh SIGTERM during a quota wait" gh TERM 1 6 \
        --faults gh:ratelimit@6 --reset-in 3600
fi
if [ -n "$USE_jira" ]; then
    signal_case "jira SIGTERM during a quota wait" jira TERM 1 5 \
        --faults jira:ratelimit@5 --reset-in 3600
fi

# ---- a hostile server: what the simulator never sends -----------------------

# hostile MODE WANT LIMIT: collect acme/api from hostile_api.py in MODE;
# exit WANT within LIMIT seconds, no crash (the ASan pass runs this too).
hostile()
{
    fl_hostile "$1"
    CASE=$((CASE + 1))
    cat >"$BW_TMP/case$CASE.ini" <<EOF
[redis]
url = $REDIS_URL
prefix = case$CASE:

[source gh]
type = github
api_url = $HOSTILE_URL
repos = acme/api
token_env = GITHUB_TOKEN
max_rate_wait = 5s
EOF
    _hl=$FL_LIMIT
    FL_LIMIT=$3
    fl_collect "$BW_TMP/case$CASE.ini"
    FL_LIMIT=$_hl
    _hn=$(grep -c . "$HOSTILE_LOG")
    if [ "$FL_RC" = "$2" ]; then
        ok "hostile server, $1: exit $2 after $_hn requests (${FL_SECS}s)"
    elif [ "$FL_RC" = 124 ] || [ "$FL_RC" = 137 ]; then
        not_ok "hostile server, $1: the collect ends by itself" \
            "still running after $3 s and $_hn requests"
    else
        not_ok "hostile server, $1: exit $2" "exit status $FL_RC" \
            "$(bw_last_output)"
    fi
}

if [ -n "$USE_gh" ]; then
    hostile reset-huge 1 30
    hostile reset-garbage 1 30
    hostile retry-huge 1 30
    hostile retry-date-far 1 30
    hostile huge-body 1 30
    hostile deep-json 1 30
    # a next page that is the same page again must not be walked forever
    hostile link-loop 1 12
fi

# ---- reports: a full report directory -------------------------------------

# The reports of the clean GitHub (or Jira) store for one week, into DIR.
REF_SRC=""
[ -n "$USE_jira" ] && REF_SRC=jira
[ -n "$USE_gh" ] && REF_SRC=gh
[ -n "$USE_both" ] && REF_SRC="gh jira"
REF_TAG=$(echo "$REF_SRC" | tr ' ' '+')

# report_conf FILE DIR [REDIS-URL]: the reference store, reports into DIR.
report_conf()
{
    FL_CONF_TAIL="[report]
timezone = UTC
out_dir = $2"
    _ru=$REDIS_URL
    [ -n "${3:-}" ] && REDIS_URL=$3
    fl_conf "$1" "ref-$REF_TAG:" "$REF_SRC"
    REDIS_URL=$_ru
    FL_CONF_TAIL=""
}

# run_report CONF [ULIMIT-BLOCKS]: `report --week 2026-W46`, in a subshell
# with RLIMIT_FSIZE set and SIGXFSZ ignored when a limit is given (the
# write then fails with EFBIG, as on a full disk).
run_report()
{
    _rc_conf=$1
    _rc_lim=${2:-}
    (
        if [ -n "$_rc_lim" ]; then
            trap '' XFSZ
            ulimit -f "$_rc_lim" || exit 99
        fi
        # shellcheck disable=SC2086
        exec timeout -k 5 "$FL_LIMIT" $TEST_PREFIX "$BW_BIN" -c "$_rc_conf" \
            report --week 2026-W46
    ) >"$BW_OUT" 2>"$BW_ERR" </dev/null
    FL_RC=$?
    fl_san "$BW_ERR" "report -c $(basename "$_rc_conf")"
}

# same_files NAME DIR REF-DIR PARTIAL: every file in DIR equals the one of
# the same name in REF-DIR (no other file, no temp file left); PARTIAL=1
# allows files of REF-DIR to be missing.
same_files()
{
    _bad=""
    for _f in "$2"/* "$2"/.[!.]*; do
        [ -e "$_f" ] || continue
        _b=$(basename "$_f")
        if [ ! -f "$3/$_b" ]; then
            _bad="$_bad unexpected:$_b($(wc -c <"$_f")B)"
        elif ! cmp -s "$_f" "$3/$_b"; then
            _bad="$_bad differs:$_b($(wc -c <"$_f")B of $(wc -c <"$3/$_b")B)"
        fi
    done
    if [ "$4" != 1 ]; then
        for _f in "$3"/*; do
            [ -e "$2/$(basename "$_f")" ] || _bad="$_bad missing:$(basename "$_f")"
        done
    fi
    if [ -z "$_bad" ]; then
        ok "$1 ($(ls "$2" | tr '\n' ' '))"
        return 0
    fi
    not_ok "$1" "$_bad"
    return 1
}

if [ -z "$REF_SRC" ]; then
    skip "reports with a full directory" "no clean store"
else
    mkdir -p "$BW_TMP/rep.clean" "$BW_TMP/rep.full" "$BW_TMP/rep.down"
    report_conf "$BW_TMP/rep.clean.ini" "$BW_TMP/rep.clean"
    run_report "$BW_TMP/rep.clean.ini"
    if [ "$FL_RC" != 0 ] && fl_not_impl "$BW_ERR"; then
        skip "reports with a full directory" "'report' is not implemented yet"
    elif [ "$FL_RC" != 0 ]; then
        not_ok "a clean report exits 0" "exit status $FL_RC" \
            "$(bw_last_output)"
    elif [ -z "$(ls "$BW_TMP/rep.clean")" ]; then
        not_ok "a clean report writes files into out_dir"
    else
        REPORT_OK=1
        ok "a clean report writes $(ls "$BW_TMP/rep.clean" | tr '\n' ' ')"
        # a limit of half the smallest file (in 512-byte blocks, at least 1)
        small=$(wc -c "$BW_TMP"/rep.clean/* | sort -n | head -n 1 |
            awk '{ print $1 }')
        blocks=$((small / 1024))
        [ "$blocks" -lt 1 ] && blocks=1
        if [ "$small" -le 512 ]; then
            skip "the report directory is full" \
                "the smallest report file is only $small bytes"
        else
            report_conf "$BW_TMP/rep.full.ini" "$BW_TMP/rep.full"
            run_report "$BW_TMP/rep.full.ini" "$blocks"
            expect_eq "report into a full directory (ulimit -f $blocks): exit" \
                "$FL_RC" 1
            if [ -s "$BW_ERR" ]; then
                ok "the failure is explained: $(head -n 1 "$BW_ERR" |
                    cut -c 1-160)"
            else
                not_ok "a failed report says why on stderr"
            fi
            same_files "no half-written report is left" "$BW_TMP/rep.full" \
                "$BW_TMP/rep.clean" 1
            run_report "$BW_TMP/rep.full.ini"
            expect_eq "the report again with room: exit" "$FL_RC" 0
            same_files "the reports then equal the clean ones" \
                "$BW_TMP/rep.full" "$BW_TMP/rep.clean" 0
        fi
        # Redis gone: exit 1 and nothing written
        down=redis://127.0.0.1:$(bw_free_port)
        report_conf "$BW_TMP/rep.down.ini" "$BW_TMP/rep.down" "$down"
        run_report "$BW_TMP/rep.down.ini"
        expect_eq "report with Redis down: exit" "$FL_RC" 1
        if [ -z "$(ls -A "$BW_TMP/rep.down")" ]; then
            ok "report with Redis down writes no file"
        else
            not_ok "report with Redis down writes no file" \
                "$(ls -A "$BW_TMP/rep.down")"
        fi
    fi
fi
[ -n "$REPORT_OK" ] || echo "# reports: not checked (see above)"

bw_done
