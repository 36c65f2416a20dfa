#!/bin/sh
# soak_valgrind.sh - valgrind memcheck over every command on a tiny store
# (issue 9, STYLE.md item 23); run by tests/run-soak.sh (make soak), not by
# make test (no t_ prefix). Each run is
#   valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,possible
# and must exit as it would without valgrind, with "ERROR SUMMARY: 0".
# Commands: check, collect (GitHub + Jira), collect again (the conditional
# requests), reindex, debug dump, metrics, query (table, csv, json, --items),
# status, report (every format) and report --email; then failures: a
# source whose pages never parse (exit 1), a refused token (exit 2), a
# SIGTERM mid-collect (exit 1) and a report into a full directory (exit
# 1). A command that is not implemented yet is skipped with a reason.
. "$(dirname "$0")/lib.sh"
BW_FAULT_SCALE=tiny
. "$(dirname "$0")/faultlib.sh"

if ! command -v valgrind >/dev/null 2>&1; then
    bw_skip_all "valgrind is not installed (sh scripts/bootstrap.sh test)"
fi
VG="valgrind -q --error-exitcode=1 --leak-check=full"
VG="$VG --errors-for-leak-kinds=definite,possible --track-fds=no"
VG="$VG --num-callers=30"
if [ -f "$BW_ROOT/tests/valgrind.supp" ]; then
    VG="$VG --suppressions=$BW_ROOT/tests/valgrind.supp"
fi
TEST_PREFIX=$VG
FL_LIMIT=300

bw_start_redis
fl_sim
FL_PROJECTS=$(fl_projects)
mkdir -p "$BW_TMP/reports"
FL_CONF_TAIL="[report]
timezone = UTC
out_dir = $BW_TMP/reports"
fl_conf "$BW_TMP/bw.ini" "vg:" "gh jira"
FL_CONF_TAIL=""

# vg_clean LOG: valgrind (-q) said nothing but warnings
vg_clean()
{
    ! grep -Eq '^==[0-9]+== +[^ W]' "$1"
}

# vg WANT NAME ARG...: bellwether ARG... under valgrind
vg()
{
    _want=$1
    _name=$2
    shift 2
    _t0=$(fl_now_ms)
    # shellcheck disable=SC2086
    timeout -k 5 "$FL_LIMIT" $VG --log-file="$BW_TMP/vg.log" "$BW_BIN" \
        "$@" >"$BW_OUT" 2>"$BW_ERR" </dev/null
    _rc=$?
    _secs=$(fl_since "$_t0")
    if [ "$_rc" != 0 ] && grep -q "not implemented yet" "$BW_ERR"; then
        skip "valgrind: $_name" "'$1' is not implemented yet"
        return 1
    fi
    if [ "$_rc" = "$_want" ] && vg_clean "$BW_TMP/vg.log"; then
        ok "valgrind: $_name (exit $_rc, ${_secs}s)"
        return 0
    fi
    not_ok "valgrind: $_name" "exit status $_rc (want $_want)" \
        "$(grep -v '^==[0-9]*== *$' "$BW_TMP/vg.log" | head -n 40)" \
        "$(bw_last_output)"
    return 1
}

C="-c $BW_TMP/bw.ini"
vg 0 "check" $C check
vg 0 "collect (GitHub + Jira)" $C collect
vg 0 "collect again (conditional requests)" $C collect
vg 0 "reindex" $C reindex
vg 0 "debug dump" $C debug dump
vg 0 "metrics" metrics
vg 0 "metrics --format json" metrics --format json
vg 0 "query pr_cycle_time --by week" $C query pr_cycle_time --by week
vg 0 "query pr_merged --by repo --format csv" $C query pr_merged --by repo \
    --format csv
vg 0 "query --by author --format json" $C query pr_pickup_time --by author \
    --format json
vg 0 "query --items" $C query pr_cycle_time --items
vg 2 "query of an unknown metric" $C query no_such_metric
vg 0 "status" $C status
vg 0 "status --format json" $C status --format json
if vg 0 "report (md, html, json)" $C report --week 2026-W46; then
    vg 0 "report --format html --out -" $C report --week 2026-W46 \
        --format html --out -
    # a plain SMTP sink on loopback (python3-aiosmtpd) for --email
    SMTP_PORT=$(bw_free_port)
    mkdir -p "$BW_TMP/mail"
    "$BW_PYTHON" - "$SMTP_PORT" "$BW_TMP/mail" >"$BW_TMP/smtpd.out" 2>&1 \
        </dev/null <<'EOF' &
import os, sys, time
from aiosmtpd.controller import Controller

class Sink:
    async def handle_DATA(self, server, session, envelope):
        n = len(os.listdir(sys.argv[2]))
        with open(os.path.join(sys.argv[2], "%d.eml" % n), "wb") as f:
            f.write(envelope.original_content or envelope.content)
        return "250 OK"

c = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
c.start()
print("smtpd listening", flush=True)
time.sleep(300)
EOF
    bw_track_pid $!
    if bw_wait_for 10 grep -q listening "$BW_TMP/smtpd.out"; then
        cat "$BW_TMP/bw.ini" - >"$BW_TMP/mail.ini" <<EOF

[email]
smtp_url = smtp://127.0.0.1:$SMTP_PORT
from = bellwether@acme.com
to = leads@acme.com
EOF
        if vg 0 "report --email" -c "$BW_TMP/mail.ini" report \
            --week 2026-W46 --email; then
            expect_eq "valgrind: the mail arrived" \
                "$(ls "$BW_TMP/mail" | wc -l)" 1
        fi
    else
        skip "valgrind: report --email" "no SMTP sink (python3-aiosmtpd)"
    fi
fi

# ---- failure paths --------------------------------------------------------

fl_sim --faults gh:badjson@2+
fl_conf "$BW_TMP/bad.ini" "vgbad:" gh
vg 1 "collect whose pages never parse" -c "$BW_TMP/bad.ini" collect
fl_sim --faults auth
vg 2 "collect with a refused token" -c "$BW_TMP/bad.ini" collect
fl_sim --latency-ms 100
fl_conf "$BW_TMP/term.ini" "vgterm:" gh "max_parallel=2"
# shellcheck disable=SC2086
$VG --log-file="$BW_TMP/vg.term.log" "$BW_BIN" -c "$BW_TMP/term.ini" \
    collect >"$BW_OUT" 2>"$BW_ERR" </dev/null &
FL_BG=$!
FL_BG_T0=$(fl_now_ms)
bw_track_pid "$FL_BG"
if fl_wait_requests 6 60; then
    kill -TERM "$FL_BG"
    fl_bg_wait 60
    if [ "$FL_RC" = 1 ] && vg_clean "$BW_TMP/vg.term.log"; then
        ok "valgrind: SIGTERM mid-collect (exit 1)"
    else
        not_ok "valgrind: SIGTERM mid-collect" "exit status $FL_RC" \
            "$(grep -v '^==[0-9]*== *$' "$BW_TMP/vg.term.log" | head -n 40)"
    fi
else
    fl_bg_wait 120
    not_ok "valgrind: SIGTERM mid-collect" "it ended before the signal" \
        "(exit $FL_RC)"
fi
mkdir -p "$BW_TMP/full"
sed "s|^out_dir = .*|out_dir = $BW_TMP/full|" "$BW_TMP/bw.ini" \
    >"$BW_TMP/full.ini"
(
    trap '' XFSZ
    ulimit -f 2
    # shellcheck disable=SC2086
    exec timeout -k 5 "$FL_LIMIT" $VG --log-file="$BW_TMP/vg.full.log" \
        "$BW_BIN" -c "$BW_TMP/full.ini" report --week 2026-W46
) >"$BW_OUT" 2>"$BW_ERR" </dev/null
rc=$?
if grep -q "not implemented yet" "$BW_ERR"; then
    skip "valgrind: report into a full directory" "not implemented yet"
elif [ "$rc" = 1 ] && vg_clean "$BW_TMP/vg.full.log"; then
    ok "valgrind: report into a full directory (exit 1)"
else
    not_ok "valgrind: report into a full directory" "exit status $rc" \
        "$(grep -v '^==[0-9]*== *$' "$BW_TMP/vg.full.log" | head -n 40)" \
        "$(bw_last_output)"
fi

bw_done
