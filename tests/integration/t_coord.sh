#!/bin/sh
# t_coord.sh - leases keep collectors off each other's sources (DESIGN.md,
# "Schedules and the daemon"), with a real redis-server and the API
# simulator:
#   - two daemons and a cron-style `collect -q` loop on one Redis and one
#     simulator: every source collected, never by two processes at once
#     (the simulator's /__log: the User-Agent names the pid, each run is a
#     process), every collect exits 0, and the data keys equal a single
#     collector's;
#   - the loser logs "source 'gh' is being collected by HOST pid N;
#     skipped" and exits 0, without a request for that source;
#   - a lease taken over by another owner stops the run (exit 1, "lost the
#     lease"), and the loser leaves the new owner's lease alone;
#   - the lease is renewed during a quota wait (its TTL never drops far).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemonlib.sh"

GITHUB_TOKEN=gh-test-token
JIRA_TOKEN=jira-test-token
BELLWETHER_BACKOFF_BASE_MS=2
export GITHUB_TOKEN JIRA_TOKEN BELLWETHER_BACKOFF_BASE_MS
VERSION=$("$BW_BIN" --version | sed 's/^bellwether //')

bw_start_redis
bw_start_apisim --seed 11 --scale 2x25 --latency-ms 25 \
    --jira-auth "basic:bot@acme.test:$JIRA_TOKEN"

# conf FILE DB [LINE...]: sources gh (GitHub) and jira (Jira Cloud)
conf()
{
    _f=$1
    _db=$2
    shift 2
    {
        printf '[redis]\nurl = %s\ndb = %s\n\n' "$REDIS_URL" "$_db"
        printf '[source gh]\ntype = github\napi_url = %s\n' "$APISIM_URL"
        printf 'org = acme\ntoken_env = GITHUB_TOKEN\nsince = 2026-05-20\n\n'
        printf '[source jira]\ntype = jira\nurl = %s\nprojects = OPS\n' \
            "$APISIM_URL"
        printf 'email = bot@acme.test\ntoken_env = JIRA_TOKEN\n'
        printf 'since = 2026-05-20\n\n'
        printf '[schedule]\ncollect = * * * * *\nreport = 0 8 * * 1\n'
        for _l in "$@"; do
            printf '%s\n' "$_l"
        done
    } >"$_f"
}

# ---- two daemons and cron ----------------------------------------------
# The daemons' schedule clocks run 60 times faster: `* * * * *` is a slot
# every second for each of them; the cron loop runs collect back to back.
conf "$BW_TMP/bw.ini" 1
bw_apisim_post /__reset >/dev/null
dm_start a "$BW_TMP/bw.ini" "BELLWETHER_DAEMON_FAST=60"
dm_start b "$BW_TMP/bw.ini" "BELLWETHER_DAEMON_FAST=60"
end=$(($(now_ms) + 12000))
: >"$BW_TMP/cron.rc"
: >"$BW_TMP/cron.err"
: >"$BW_TMP/names"
while [ "$(now_ms)" -lt "$end" ]; do
    # shellcheck disable=SC2086
    $TEST_PREFIX "$BW_BIN" -q -c "$BW_TMP/bw.ini" collect \
        >>"$BW_TMP/cron.out" 2>>"$BW_TMP/cron.err" </dev/null &
    _p=$!
    wait "$_p"
    echo "$? $_p" >>"$BW_TMP/cron.rc"
    echo "$_p=cron" >>"$BW_TMP/names"
    sleep 0.2
done
dm_stop a
expect_eq "daemon a: SIGTERM exits 0" "$DM_RC" 0
dm_stop b
expect_eq "daemon b: SIGTERM exits 0" "$DM_RC" 0

_bad=$(awk '$1 != 0' "$BW_TMP/cron.rc" | head -n 3)
expect_eq "every cron-style collect exited 0 ($(wc -l <"$BW_TMP/cron.rc") runs)" \
    "$_bad" ""
expect_no_grep "collect -q printed nothing on stderr" '.' "$BW_TMP/cron.err"
for d in a b; do
    sed -n 's/.*(due [^,]*, pid \([0-9]*\)).*/\1='"$d"'/p' "$BW_TMP/$d.err" \
        >>"$BW_TMP/names"
    expect_no_grep "daemon $d: no job failed" ': failed|error' "$BW_TMP/$d.err"
done
bw_apisim_get /__log >"$BW_TMP/log.json"
# shellcheck disable=SC2046
if "$BW_PYTHON" tests/integration/leaselog.py "$BW_TMP/log.json" "$VERSION" \
    $(cat "$BW_TMP/names") >"$BW_TMP/leaselog" 2>&1; then
    ok "no two processes collected a source at once: $(tr '\n' ';' <"$BW_TMP/leaselog")"
else
    not_ok "no two processes collected a source at once" \
        "$(head -n 20 "$BW_TMP/leaselog")"
fi
for s in gh jira; do
    expect_grep "source $s was collected" "^$s: [1-9][0-9]* runs" \
        "$BW_TMP/leaselog"
    expect_eq "no lease on $s is left behind" \
        "$(bw_redis_cli -n 1 EXISTS "bw:lease:{$s}")" 0
done
if grep -q 'skipped, being collected by' "$BW_TMP/a.err" "$BW_TMP/b.err"; then
    ok "a daemon's job skipped a source leased by another process"
else
    skip "a daemon's job skipped a source leased by another process" \
        "no collision happened this time"
fi
# the same data as one collector alone
conf "$BW_TMP/single.ini" 2
check "a single collector from scratch" bw_run -c "$BW_TMP/single.ini" collect
bw_run -c "$BW_TMP/bw.ini" debug dump >"$BW_TMP/coord.dump"
bw_run -c "$BW_TMP/single.ini" debug dump >"$BW_TMP/single.dump"
if grep -q '^hash pr:' "$BW_TMP/single.dump" &&
    grep -q '^hash ticket:' "$BW_TMP/single.dump" &&
    cmp -s "$BW_TMP/coord.dump" "$BW_TMP/single.dump"; then
    ok "the data keys equal a single collector's ($(wc -l <"$BW_TMP/single.dump") lines)"
else
    not_ok "the data keys equal a single collector's" \
        "$(diff "$BW_TMP/coord.dump" "$BW_TMP/single.dump" | head -n 10)"
fi

# ---- the loser skips, exit 0 ---------------------------------------------
bw_redis_cli -n 1 SET 'bw:lease:{gh}' "otherhost 4242 1794787200 feedface" \
    PX 60000 >/dev/null
bw_apisim_post /__reset >/dev/null
expect_exit 0 "collect with gh leased elsewhere exits 0" \
    bw_run -c "$BW_TMP/bw.ini" collect
expect_grep "the loser logs the holder and skips" \
    "^warning: source 'gh' is being collected by otherhost pid 4242; skipped$" \
    "$BW_ERR"
_n=$(bw_apisim_get /__log | "$BW_PYTHON" -c 'import json, sys
log = json.load(sys.stdin)
print(sum(1 for e in log if not e["path"].startswith("/rest/")),
      sum(1 for e in log if e["path"].startswith("/rest/")))')
case $_n in
"0 "[1-9]*) ok "the skipped source got no request, the other was collected ($_n)" ;;
*) not_ok "the skipped source got no request, the other was collected" "$_n" ;;
esac
expect_eq "the other process's lease is left alone" \
    "$(bw_redis_cli -n 1 GET 'bw:lease:{gh}')" \
    "otherhost 4242 1794787200 feedface"
expect_exit 0 "collect -q with gh leased elsewhere exits 0 silently" \
    bw_run -q -c "$BW_TMP/bw.ini" collect --source gh
expect_no_grep "... and prints nothing" '.' "$BW_ERR"
bw_redis_cli -n 1 DEL 'bw:lease:{gh}' >/dev/null

# ---- a lease taken over stops the run ------------------------------------
# A full collect into an empty db renews every 100 ms; another owner
# overwrites the lease mid-run.
conf "$BW_TMP/lost.ini" 3
# shellcheck disable=SC2086
env BELLWETHER_LEASE_RENEW_MS=100 $TEST_PREFIX "$BW_BIN" -c "$BW_TMP/lost.ini" \
    collect --source gh >"$BW_TMP/lost.out" 2>"$BW_TMP/lost.err" &
lost_pid=$!
bw_track_pid "$lost_pid"
lease3()
{
    [ "$(bw_redis_cli -n 3 EXISTS 'bw:lease:{gh}')" = 1 ]
}
bw_wait_for 10 lease3
bw_redis_cli -n 3 SET 'bw:lease:{gh}' "thief 4343 1794787200 cafe" \
    PX 60000 >/dev/null
t_over=$(now_ms)
wait "$lost_pid"
lost_rc=$?
t_end=$(now_ms)
bw_untrack_pid "$lost_pid"
expect_eq "a lost lease: collect exits 1" "$lost_rc" 1
expect_grep "a lost lease is logged with the new holder" \
    "lost the lease on source 'gh': thief pid 4343 holds it now; stopping this run, nothing more is committed" \
    "$BW_TMP/lost.err"
expect_le "a lost lease stops the run within 2 s (ms)" \
    "$((t_end - t_over))" 2000
expect_eq "the new owner's lease is left alone" \
    "$(bw_redis_cli -n 3 GET 'bw:lease:{gh}')" "thief 4343 1794787200 cafe"
expect_eq "the run is recorded as failed" \
    "$(bw_redis_cli -n 3 HGET 'bw:run:{gh}' status)" failed
expect_eq "... with the error 'lease lost'" \
    "$(bw_redis_cli -n 3 HGET 'bw:run:{gh}' error)" "lease lost"

# ---- renewal during a quota wait -----------------------------------------
# 12 requests per 4 s window: the collect waits almost 4 s for each reset.
# The HTTP client ticks about once a second while it waits and the lease is
# renewed at each tick (every 200 ms asked): its TTL never drops below 58 s,
# where a wait without renewals would take it to 56 s.
bw_start_apisim --seed 11 --scale tiny --only gh --quota 12 --reset-in 4
cat >"$BW_TMP/quota.ini" <<EOF
[redis]
url = $REDIS_URL
db = 4

[source gh]
type = github
api_url = $APISIM_URL
org = acme
token_env = GITHUB_TOKEN
since = 2026-05-20
min_quota_left = 0
EOF
# shellcheck disable=SC2086
env BELLWETHER_LEASE_RENEW_MS=200 $TEST_PREFIX "$BW_BIN" -v \
    -c "$BW_TMP/quota.ini" collect --source gh >"$BW_TMP/quota.out" 2>"$BW_TMP/quota.err" &
q_pid=$!
bw_track_pid "$q_pid"
t0=$(now_ms)
: >"$BW_TMP/pttl"
while kill -0 "$q_pid" 2>/dev/null; do
    bw_redis_cli -n 4 PTTL 'bw:lease:{gh}' >>"$BW_TMP/pttl"
    sleep 0.1
done
wait "$q_pid"
q_rc=$?
t1=$(now_ms)
bw_untrack_pid "$q_pid"
expect_eq "quota waits: collect exits 0" "$q_rc" 0
_n=$(bw_apisim_get /__log | "$BW_PYTHON" -c 'import json, sys
print(sum(1 for e in json.load(sys.stdin) if e["status"] == 403))')
case $_n in
0 | "") not_ok "quota waits: the quota ran out (403s in /__log)" "$_n" ;;
*) ok "quota waits: the quota ran out ($_n 403s in /__log)" ;;
esac
expect_le "quota waits: the collect took over 3.5 s (ms)" 3500 "$((t1 - t0))"
_min=$(awk '$1 > 0 { if (m == "" || $1 < m) m = $1 } END { print m }' \
    "$BW_TMP/pttl")
expect_le "quota waits: the lease was renewed meanwhile (min TTL ms)" \
    58000 "${_min:-0}"
expect_eq "quota waits: the lease is released at the end" \
    "$(bw_redis_cli -n 4 EXISTS 'bw:lease:{gh}')" 0

bw_done
