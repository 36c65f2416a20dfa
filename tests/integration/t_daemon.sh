#!/bin/sh
# t_daemon.sh - `bellwether daemon` end to end, against a real redis-server
# and the API simulator: its own loop's due times through both
# daylight-saving changes of Europe/Berlin and America/New_York (the
# schedule clock driven by BELLWETHER_NOW + BELLWETHER_DAEMON_FAST, the due
# times checked against hand-written lists and against `debug schedule`),
# the report job's files, retries with doubling backoff, a bad cron
# expression (exit 2), SIGTERM in the middle of a collect (exit 0 within
# 10 s, nothing half-written: the store then equals a single collector's),
# SIGINT, SIGHUP (a new config taken, a bad one refused and the old one
# kept), and --pidfile (exclusive, stale files replaced, removed on exit).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemonlib.sh"

GITHUB_TOKEN=gh-test-token
export GITHUB_TOKEN
# HTTP retries after a failed request: milliseconds, not seconds
BELLWETHER_BACKOFF_BASE_MS=2
export BELLWETHER_BACKOFF_BASE_MS

bw_start_redis
bw_start_apisim --seed 5 --scale tiny --only gh

# conf FILE DB ZONE COLLECT REPORT API_URL [LINE...] (API_URL "": the
# simulator)
conf()
{
    _f=$1
    _db=$2
    _z=$3
    _c=$4
    _r=$5
    _api=${6:-$APISIM_URL}
    shift 6
    mkdir -p "$BW_TMP/reports-$_db"
    {
        printf '[redis]\nurl = %s\ndb = %s\n\n' "$REDIS_URL" "$_db"
        printf '[source gh]\ntype = github\napi_url = %s\norg = acme\n' "$_api"
        printf 'token_env = GITHUB_TOKEN\nsince = 2026-05-20\n\n'
        printf '[report]\ntimezone = %s\nout_dir = %s\n\n' "$_z" \
            "$BW_TMP/reports-$_db"
        printf '[schedule]\ncollect = %s\nreport = %s\n' "$_c" "$_r"
        for _l in "$@"; do
            printf '%s\n' "$_l"
        done
    } >"$_f"
}

iso()
{
    "$BW_PYTHON" -c 'import sys, calendar, time
print(calendar.timegm(time.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%SZ")))' "$1"
}

# ---- due times through the daylight-saving changes ----------------------
#
# collect = */30 * * * *, report = 30 1,2 * * * (both 01:30 and 02:30 local
# fall in or next to the changes). A due time in a spring-forward gap runs
# at the gap's end (02:00, 02:30 and 03:00 are one run at 03:00 new time);
# a due time the fall-back change repeats runs at its first occurrence only.

# dst NAME ZONE START END "COLLECT DUES" "REPORT DUES"
dst()
{
    _n=$1
    conf "$BW_TMP/$_n.ini" 1 "$2" '*/30 * * * *' '30 1,2 * * *' ""
    dm_start "$_n" "$BW_TMP/$_n.ini" \
        "BELLWETHER_NOW=$(iso "$3") BELLWETHER_DAEMON_FAST=7200"
    if ! dm_wait_log "$_n" "collect 'gh' \(due $4[,)]" 40; then
        not_ok "$_n: the daemon reached $4" "$(tail -n 5 "$BW_TMP/$_n.err")"
    fi
    dm_stop "$_n"
    expect_eq "$_n: SIGTERM exits 0" "$DM_RC" 0
    _got=$(dm_dues "$_n" "collect 'gh'" | awk -v e="$4" '$0 <= e' |
        tr '\n' ' ')
    expect_eq "$_n: collect ran at exactly these instants" "$_got" "$5 "
    _got=$(dm_dues "$_n" "report" | awk -v e="$4" '$0 <= e' | tr '\n' ' ')
    expect_eq "$_n: report ran at exactly these instants" "$_got" "$6 "
    # the same list from the schedule module directly
    _n5=$(echo "$5" | wc -w)
    _got=$(bw_run debug schedule '*/30 * * * *' --from "$3" --count "$_n5" \
        --tz "$2" | awk '{print $2}' | tr '\n' ' ')
    expect_eq "$_n: 'debug schedule' agrees" "$_got" "$5 "
    expect_grep "$_n: the collect jobs succeeded" \
        "collect 'gh' \(due [^)]*\): ok, " "$BW_TMP/$_n.err"
    expect_no_grep "$_n: no job failed" "failed|error" "$BW_TMP/$_n.err"
}

dst berlin_spring Europe/Berlin 2026-03-28T22:30:00Z 2026-03-29T03:00:00Z \
    "2026-03-28T23:00:00Z 2026-03-28T23:30:00Z 2026-03-29T00:00:00Z 2026-03-29T00:30:00Z 2026-03-29T01:00:00Z 2026-03-29T01:30:00Z 2026-03-29T02:00:00Z 2026-03-29T02:30:00Z 2026-03-29T03:00:00Z" \
    "2026-03-29T00:30:00Z 2026-03-29T01:00:00Z"
dst berlin_fall Europe/Berlin 2026-10-24T21:30:00Z 2026-10-25T03:00:00Z \
    "2026-10-24T22:00:00Z 2026-10-24T22:30:00Z 2026-10-24T23:00:00Z 2026-10-24T23:30:00Z 2026-10-25T00:00:00Z 2026-10-25T00:30:00Z 2026-10-25T02:00:00Z 2026-10-25T02:30:00Z 2026-10-25T03:00:00Z" \
    "2026-10-24T23:30:00Z 2026-10-25T00:30:00Z"
dst newyork_spring America/New_York 2026-03-08T04:30:00Z 2026-03-08T09:00:00Z \
    "2026-03-08T05:00:00Z 2026-03-08T05:30:00Z 2026-03-08T06:00:00Z 2026-03-08T06:30:00Z 2026-03-08T07:00:00Z 2026-03-08T07:30:00Z 2026-03-08T08:00:00Z 2026-03-08T08:30:00Z 2026-03-08T09:00:00Z" \
    "2026-03-08T06:30:00Z 2026-03-08T07:00:00Z"
dst newyork_fall America/New_York 2026-11-01T03:30:00Z 2026-11-01T08:30:00Z \
    "2026-11-01T04:00:00Z 2026-11-01T04:30:00Z 2026-11-01T05:00:00Z 2026-11-01T05:30:00Z 2026-11-01T07:00:00Z 2026-11-01T07:30:00Z 2026-11-01T08:00:00Z 2026-11-01T08:30:00Z" \
    "2026-11-01T05:30:00Z 2026-11-01T07:30:00Z"

# the report jobs wrote their weeks (the last complete week before the
# schedule clock): md, html and json
for w in 2026-W12 2026-W42 2026-W09 2026-W43; do
    if [ -s "$BW_TMP/reports-1/$w.md" ] && [ -s "$BW_TMP/reports-1/$w.html" ] &&
        [ -s "$BW_TMP/reports-1/$w.json" ]; then
        ok "the report job wrote $w.md, .html and .json"
    else
        not_ok "the report job wrote $w.md, .html and .json" \
            "$(ls "$BW_TMP/reports-1")"
    fi
done
expect_grep "a report job logs its files" \
    "report \(due [^)]*\): 2026-W12 written to .*\.md, .*\.html, .*\.json; [0-9.]+ s" \
    "$BW_TMP/berlin_spring.err"
expect_grep "a job line has its counts and duration" \
    "collect 'gh' \(due [^)]*\): ok, [0-9]+ items in [0-9]+ pages, [0-9]+ requests \([0-9]+ not modified\), quota left [0-9]+; [0-9.]+ s" \
    "$BW_TMP/berlin_spring.err"
expect_grep "log lines carry timestamps" \
    '^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9:]+Z daemon started \(pid [0-9]+\)' \
    "$BW_TMP/berlin_spring.err"

# ---- the report job mails the report, and each team with email_to its own
MAILDIR=$BW_TMP/mail
mkdir -p "$MAILDIR"
SMTP_PORT=$(bw_free_port)
"$BW_PYTHON" tests/integration/smtp_server.py --port "$SMTP_PORT" \
    --dir "$MAILDIR" --lifetime 120 >"$MAILDIR.out" 2>"$MAILDIR.err" &
bw_track_pid "$!"
if bw_wait_for 20 grep -q listening "$MAILDIR.out"; then
    conf "$BW_TMP/mail.ini" 1 Europe/Berlin '*/30 * * * *' '0 8 * * 1' "" \
        '' '[email]' "smtp_url = smtp://127.0.0.1:$SMTP_PORT" \
        'from = bellwether@acme.test' 'to = leads@acme.test' '' \
        '[team platform]' 'members = alice' \
        'email_to = platform-leads@acme.test' '' '[team web]' 'members = bob'
    dm_start mail "$BW_TMP/mail.ini" \
        "BELLWETHER_NOW=$(iso 2026-11-16T06:50:00Z) BELLWETHER_DAEMON_FAST=600"
    dm_wait_log mail "report \(due 2026-11-16T07:00:00Z" 30
    dm_stop mail
    expect_eq "mail: SIGTERM exits 0" "$DM_RC" 0
    expect_grep "mail: the report job says what it mailed" \
        "report \(due 2026-11-16T07:00:00Z, pid [0-9]+\): 2026-W46 written to .*, mailed; team 'platform' written to .*2026-W46-platform\.md.*, mailed; [0-9.]+ s" \
        "$BW_TMP/mail.err"
    # both due at 07:00: the report waits for the collect it reports on
    _c=$(grep -n "collect 'gh' (due 2026-11-16T07:00:00Z" "$BW_TMP/mail.err" |
        cut -d: -f1)
    _r=$(grep -n "report (due 2026-11-16T07:00:00Z" "$BW_TMP/mail.err" |
        cut -d: -f1)
    expect_le "mail: the report ran after the collect due with it (lines)" \
        "${_c:-999}" "$((${_r:-0} - 1))"
    _got=$("$BW_PYTHON" -c 'import json, glob, sys
print(" ".join(sorted(",".join(json.load(open(f))["rcpt_tos"])
      for f in glob.glob(sys.argv[1] + "/msg-*.json"))))' "$MAILDIR")
    expect_eq "mail: the organisation's report to [email] to, platform's to its email_to, none to web" \
        "$_got" "leads@acme.test platform-leads@acme.test"
    if grep -l "^Subject: .*team platform" "$MAILDIR"/msg-*.eml >/dev/null 2>&1; then
        ok "mail: the team's message names the team"
    else
        not_ok "mail: the team's message names the team" \
            "$(grep -h '^Subject' "$MAILDIR"/msg-*.eml)"
    fi
else
    not_ok "start smtp_server.py" "$(tail -n 5 "$MAILDIR.err")"
fi

# ---- a bad cron expression: exit 2, naming the field ---------------------
conf "$BW_TMP/badcron.ini" 1 UTC '0 24 * * *' '0 8 * * 1' ""
expect_exit 2 "a bad [schedule] collect exits 2" \
    bw_run -c "$BW_TMP/badcron.ini" daemon
expect_grep "the error names the field" "hour: 24 is out of range" "$BW_ERR"
expect_exit 2 "an unknown option exits 2" \
    bw_run -c "$BW_TMP/berlin_spring.ini" daemon --bogus

# ---- retries: capped, doubling backoff before the next slot --------------
# The source's API refuses connections; collect = 0 * * * *. Retries come
# after 60, 120, 240, ... schedule seconds, and never at the next slot.
dead_port=$(bw_free_port)
conf "$BW_TMP/retry.ini" 2 UTC '0 * * * *' '0 8 * * 1' \
    "http://127.0.0.1:$dead_port"
dm_start retry "$BW_TMP/retry.ini" \
    "BELLWETHER_NOW=$(iso 2026-11-16T09:59:50Z) BELLWETHER_DAEMON_FAST=300"
dm_wait_log retry "next try at its slot 2026-11-16T11:00:00Z" 40
dm_stop retry
expect_eq "retry: SIGTERM exits 0" "$DM_RC" 0
_got=$(sed -n 's/.*collect .gh. failed (exit [0-9]*, \([0-9]*\) in a row); retrying at [0-9TZ:-]* (in \([0-9]*\) s).*/\1:\2/p' \
    "$BW_TMP/retry.err" | head -n 4 | tr '\n' ' ')
expect_eq "retry: delays double from 60 s" "$_got" "1:60 2:120 3:240 4:480 "
expect_grep "retry: the retried runs are logged as retries" \
    "collect 'gh' \(retry [0-9]+, pid [0-9]+\): failed" "$BW_TMP/retry.err"
expect_grep "retry: no retry at or after the next slot" \
    "failed \(exit 1, [0-9]+ in a row\); next try at its slot 2026-11-16T11:00:00Z" \
    "$BW_TMP/retry.err"

# ---- SIGTERM in the middle of a collect ------------------------------------
# A slower simulator (60 ms a request); the store in db 3. The lease key
# shows the collect is under way.
bw_start_apisim --seed 5 --scale 2x30 --only gh --latency-ms 60
conf "$BW_TMP/term.ini" 3 UTC '* * * * *' '0 8 * * 1' ""
dm_start term "$BW_TMP/term.ini" "BELLWETHER_DAEMON_FAST=60" \
    --pidfile "$BW_TMP/term.pid"
lease_up()
{
    [ "$(bw_redis_cli -n 3 EXISTS 'bw:lease:{gh}')" = 1 ]
}
if bw_wait_for 20 lease_up; then
    ok "SIGTERM: a collect is under way (its lease is taken)"
else
    not_ok "SIGTERM: a collect is under way (its lease is taken)" \
        "$(cat "$BW_TMP/term.err")"
fi
# slots come every second, the collect takes longer: never two at once
if dm_wait_log term "collect 'gh' \(due [^)]*\): skipped, the run started [0-9]+ s ago \(pid [0-9]+\) is still going" 10; then
    ok "a slot that comes while the job runs is skipped, and logged"
else
    not_ok "a slot that comes while the job runs is skipped, and logged" \
        "$(tail -n 5 "$BW_TMP/term.err")"
fi
expect_eq "SIGTERM: that collect is still under way" \
    "$(bw_redis_cli -n 3 EXISTS 'bw:lease:{gh}')" 1
expect_eq "--pidfile holds the daemon's pid" "$(cat "$BW_TMP/term.pid")" \
    "$(dm_pid term)"
# a second daemon on the same pidfile refuses to start
expect_exit 1 "a second daemon with the same --pidfile exits 1" \
    bw_run -c "$BW_TMP/term.ini" daemon --pidfile "$BW_TMP/term.pid"
expect_grep "... naming the running one" \
    "another bellwether daemon \(pid $(dm_pid term)\) holds pidfile" "$BW_ERR"
dm_stop term TERM
expect_eq "SIGTERM mid-collect exits 0" "$DM_RC" 0
expect_le "SIGTERM mid-collect: stopped within 10 s (ms)" "$DM_MS" 10000
expect_grep "SIGTERM: the running collect is stopped" \
    "SIGTERM: stopping 1 running job" "$BW_TMP/term.err"
expect_grep "SIGTERM: the collect says it was interrupted" \
    "collect 'gh' \(due [^)]*\): interrupted" "$BW_TMP/term.err"
expect_grep "SIGTERM: the daemon says it stopped" "SIGTERM: stopped" \
    "$BW_TMP/term.err"
expect_eq "SIGTERM: the lease is released" \
    "$(bw_redis_cli -n 3 EXISTS 'bw:lease:{gh}')" 0
expect_eq "SIGTERM: the run is recorded as interrupted" \
    "$(bw_redis_cli -n 3 HGET 'bw:run:{gh}' status)" interrupted
if [ -e "$BW_TMP/term.pid" ]; then
    not_ok "the pidfile is removed on exit"
else
    ok "the pidfile is removed on exit"
fi
# nothing half-written: finishing with collect gives what one collector
# gets from scratch
conf "$BW_TMP/single.ini" 4 UTC '* * * * *' '0 8 * * 1' ""
check "SIGTERM: a collect afterwards completes" \
    bw_run -c "$BW_TMP/term.ini" collect
check "a single collector from scratch" bw_run -c "$BW_TMP/single.ini" collect
bw_run -c "$BW_TMP/term.ini" debug dump >"$BW_TMP/term.dump"
bw_run -c "$BW_TMP/single.ini" debug dump >"$BW_TMP/single.dump"
if [ -s "$BW_TMP/single.dump" ] && cmp -s "$BW_TMP/term.dump" \
    "$BW_TMP/single.dump"; then
    ok "SIGTERM: the store equals a single collector's ($(wc -l <"$BW_TMP/single.dump") lines)"
else
    not_ok "SIGTERM: the store equals a single collector's" \
        "$(diff "$BW_TMP/term.dump" "$BW_TMP/single.dump" | head -n 10)"
fi

# ---- stale pidfiles ------------------------------------------------------
sh -c 'echo $$' >"$BW_TMP/stale.pid" # a pid that has exited
dm_start stale "$BW_TMP/term.ini" "BELLWETHER_DAEMON_FAST=60" \
    --pidfile "$BW_TMP/stale.pid"
dm_wait_log stale "daemon started" 10
expect_grep "a stale pidfile is replaced, with a warning" \
    "removing stale pidfile '$BW_TMP/stale.pid' \(pid [0-9]+ is not a running bellwether\)" \
    "$BW_TMP/stale.err"
expect_eq "... and holds the new pid" "$(cat "$BW_TMP/stale.pid")" \
    "$(dm_pid stale)"
dm_stop stale INT
expect_eq "SIGINT exits 0" "$DM_RC" 0
expect_grep "SIGINT: the daemon says it stopped" "SIGINT: stopped" \
    "$BW_TMP/stale.err"

# ---- SIGHUP: a new config is taken, a bad one refused ----------------------
conf "$BW_TMP/hup.ini" 5 UTC '*/30 * * * *' '0 8 * * 1' ""
dm_start hup "$BW_TMP/hup.ini" \
    "BELLWETHER_NOW=$(iso 2026-11-16T00:00:00Z) BELLWETHER_DAEMON_FAST=1800"
dm_wait_log hup "collect 'gh' \(due 2026-11-16T00:30:00Z[,)]" 20
conf "$BW_TMP/hup.ini" 5 UTC '10,25,40,55 * * * *' '0 8 * * 1' ""
kill -HUP "$(dm_pid hup)"
dm_wait_log hup "reloaded config '.*hup.ini'.* collect '10,25,40,55 \* \* \* \*'" 10
expect_grep "SIGHUP: the new schedule is taken" \
    "reloaded config .*collect '10,25,40,55 \* \* \* \*' next at" \
    "$BW_TMP/hup.err"
dm_wait_log hup "collect 'gh' \(due [^)]*:(10|25|40|55):00Z[,)]" 10
# a config with an error: refused, the old one kept
conf "$BW_TMP/hup.ini" 5 UTC '*/30 * * * *' '0 8 * * 1' "" 'bogus = 1'
kill -HUP "$(dm_pid hup)"
dm_wait_log hup "cannot reload the config" 10
expect_grep "SIGHUP with a bad config: the error is logged (file:line)" \
    "hup.ini:[0-9]+: .*bogus" "$BW_TMP/hup.err"
expect_grep "SIGHUP with a bad config: the old config is kept" \
    "cannot reload the config '.*hup.ini' \(see above\); keeping the config loaded before" \
    "$BW_TMP/hup.err"
# three more slots after the refused reload
jobs_after_refusal()
{
    [ "$(sed -n '/cannot reload the config/,$p' "$BW_TMP/hup.err" |
        grep -c "collect 'gh' (due")" -ge 3 ]
}
bw_wait_for 10 jobs_after_refusal
if dm_alive hup; then
    ok "SIGHUP with a bad config: the daemon goes on"
else
    not_ok "SIGHUP with a bad config: the daemon goes on"
fi
_bad=$(sed -n '/cannot reload the config/,$p' "$BW_TMP/hup.err" |
    sed -n "s/.*collect 'gh' (due [0-9-]*T[0-9][0-9]:\([0-9][0-9]\):00Z[,)].*/\1/p" |
    grep -v -E '^(10|25|40|55)$' | head -n 3)
expect_eq "SIGHUP with a bad config: jobs keep the old schedule" "$_bad" ""
dm_stop hup
expect_eq "SIGHUP test: SIGTERM exits 0" "$DM_RC" 0

bw_done
