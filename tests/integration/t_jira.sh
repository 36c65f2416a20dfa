#!/bin/sh
# t_jira.sh - the Jira collector against a real Redis, the API simulator and
# the real binary: every stored ticket equals /__truth field by field
# (tests/integration/compare_jira.py) at small scale for both flavours,
# with the inline changelog limit and --jira-page-cap, with the default
# rules and another set; reindex after a config change asks nothing; the
# Data Center result-window split; incremental runs (the JQL literal, the
# store equal to a --full one after /__advance); faults at tiny scale (429,
# bad JQL, 401, truncated and bad JSON, 5xx, SIGTERM, Redis killed); a
# status gone from the catalog said once per run, and only with -v.
. "$(dirname "$0")/lib.sh"

SINCE_DAY=2026-05-01
SINCE=1777593600 # its UTC midnight
CFG=$BW_TMP/bw.ini
ALT_KEYS='stage_todo = In Review
stage_done = QA
stage_in_progress = Peer Check, Triage
blocked_statuses = Blocked
exclude_types = Epic, Sub-task
exclude_labels = noise, tech-debt'
ALT_Q='stage_todo=In%20Review&stage_done=QA&stage_in_progress=Peer%20Check,Triage&blocked_statuses=Blocked&exclude_types=Epic,Sub-task&jira_exclude_labels=noise,tech-debt'
JIRA_TOKEN=s3cret-token
export JIRA_TOKEN

bw_start_redis

# jira_sim FLAVOR [APISIM ARG...]: a Jira-only simulator (seed 3) that
# wants the credentials the config sends (Basic on Cloud, Bearer on DC).
jira_sim()
{
    _fl=$1
    shift
    if [ "$_fl" = cloud ]; then
        _auth=basic:bot@acme.test:$JIRA_TOKEN
    else
        _auth=bearer:$JIRA_TOKEN
    fi
    bw_start_apisim --seed 3 --only jira --jira-flavor "$_fl" \
        --jira-auth "$_auth" "$@"
    FLAVOR=$_fl
    sim_now
}

sim_now()
{
    NOW=$(bw_apisim_get /__clock | $BW_PYTHON -c \
        'import json,sys; print(json.load(sys.stdin)["now"])')
    BELLWETHER_NOW=$NOW
    export BELLWETHER_NOW
}

# jira_config [EXTRA KEYS]: the config for the running simulator.
jira_config()
{
    if [ "$FLAVOR" = cloud ]; then
        _email="email = bot@acme.test"
    else
        _email=""
    fi
    bw_write_config "$CFG" <<EOF
[source jira]
type = jira
url = $APISIM_URL
projects = ${PROJECTS:-OPS, API}
$_email
token_env = JIRA_TOKEN
since = $SINCE_DAY
${1:-}
EOF
}

fresh()
{
    bw_redis_cli flushall >/dev/null
    bw_apisim_post /__reset >/dev/null
}

# jira_compare NAME TRUTH_QUERY [compare_jira.py ARG...]
jira_compare()
{
    _name=$1
    _q=$2
    shift 2
    bw_apisim_get "/__truth?$_q" >"$BW_TMP/truth.json"
    bw_run -c "$CFG" debug dump >"$BW_TMP/dump.txt" 2>"$BW_TMP/dump.err"
    check "$_name" "$BW_PYTHON" tests/integration/compare_jira.py \
        --dump "$BW_TMP/dump.txt" --truth "$BW_TMP/truth.json" \
        --source jira --now "$NOW" --since "$SINCE" "$@"
}

stat_of()
{
    bw_apisim_get /__stats | $BW_PYTHON -c 'import json,sys
s = json.load(sys.stdin)
k = sys.argv[1]
print(s["requests"] if k == "requests" else s["by_endpoint"].get(k, 0))' "$1"
}

# ---- Cloud, small scale ----------------------------------------------

jira_sim cloud --scale small
jira_config
fresh
expect_exit 0 "cloud: collect (flavor auto, basic auth)" \
    bw_run -c "$CFG" collect
# a status deleted from the workflow stays in old histories for good: no
# news for a cron job's mail, shown with -v (below)
expect_no_grep "cloud: a status gone from the catalog is not on stderr" \
    'not in /rest/api/2/status' "$BW_ERR"
jira_compare "cloud: every ticket equals /__truth" ""
bw_apisim_get /__log >"$BW_TMP/log.json"
cat >"$BW_TMP/cloud_log.py" <<'EOF'
import json, sys, urllib.parse
log = json.load(open(sys.argv[1]))
n = sum(1 for l in open(sys.argv[2]) if l.startswith("hash ticket:"))
paths = [(e["method"], e["path"]) for e in log]
search = [p for m, p in paths if p.startswith("/rest/api/3/search/jql")]
assert not [p for m, p in paths if p.split("?")[0].endswith("/search")], \
    "the removed /search was asked"
assert search, "no search/jql"
for p in search:
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(p).query)
    assert q["maxResults"] == ["100"], q
    assert q["expand"] == ["changelog"], q
    f = q["fields"][0].split(",")
    assert "*all" not in f and "description" not in f and len(f) <= 14, f
assert len(search) <= n // 100 + 3, (len(search), n)
bulk = [p for m, p in paths if m == "POST" and "bulkfetch" in p]
assert 1 <= len(bulk) <= 3, len(bulk)
print("%d tickets, %d searches, %d bulkfetch, %d requests"
      % (n, len(search), len(bulk), len(paths)))
EOF
check "cloud: search/jql with maxResults=100 and the needed fields only, \
never the old /search, bulkfetch for cut changelogs" \
    "$BW_PYTHON" "$BW_TMP/cloud_log.py" "$BW_TMP/log.json" "$BW_TMP/dump.txt"
expect_exit 0 "cloud: collect -v --full" bw_run -v -c "$CFG" collect --full
_unk=$(grep -c 'is not in /rest/api/2/status' "$BW_ERR")
_ids=$(sed -n 's/.*(id \([0-9]*\)) of .* is not in \/rest\/api\/2\/status.*/\1/p' \
    "$BW_ERR" | sort -u | wc -l | tr -d ' ')
if [ "$_unk" -gt 0 ] && [ "$_unk" = "$_ids" ]; then
    ok "cloud: -v names each status gone from the catalog once ($_ids)"
else
    not_ok "cloud: -v names each status gone from the catalog once" \
        "$_unk lines for $_ids status ids" "$(grep 'not in /rest' "$BW_ERR")"
fi

# the inline limit on, and the other rules
jira_sim cloud --scale small --changelog-inline 5
jira_config "$ALT_KEYS"
fresh
expect_exit 0 "cloud, inline changelog cut to 5, other rules: collect" \
    bw_run -c "$CFG" collect
jira_compare "cloud, inline limit, other rules: equals /__truth" "$ALT_Q"

jira_sim cloud --scale small --jira-page-cap 7
jira_config
fresh
expect_exit 0 "cloud, --jira-page-cap 7: collect" bw_run -c "$CFG" collect
jira_compare "cloud, page cap: equals /__truth" ""

# ---- incremental (Cloud): the JQL literal, then the store equals --full

bw_apisim_get /__truth >"$BW_TMP/before.json"
bw_apisim_post '/__advance?hours=24' >/dev/null
bw_apisim_post /__reset >/dev/null
sim_now
expect_exit 0 "cloud: incremental collect after 24 h" \
    bw_run -c "$CFG" collect
bw_apisim_get /__log >"$BW_TMP/log.json"
cat >"$BW_TMP/jql.py" <<'EOF'
import json, sys, urllib.parse
from datetime import datetime
from zoneinfo import ZoneInfo
log = json.load(open(sys.argv[1]))
before = json.load(open(sys.argv[2]))["tickets"].values()
since = int(sys.argv[3])
mark = max(t["updated_at"] for t in before
           if t["updated_at"] >= since or t["status_category"] != "done")
want = datetime.fromtimestamp(mark - 3660, ZoneInfo("America/New_York"))
want = want.strftime('updated >= "%Y-%m-%d %H:%M"')
jqls = [urllib.parse.parse_qs(urllib.parse.urlsplit(e["path"]).query)
        ["jql"][0] for e in log if "/search/jql" in e["path"]]
assert jqls, "no search"
for j in jqls:
    assert want in j, (want, j)
    assert "statusCategory" not in j, j
print(jqls[0])
EOF
check "cloud: the next run asks updated >= mark - 61 min in the user's zone" \
    "$BW_PYTHON" "$BW_TMP/jql.py" "$BW_TMP/log.json" "$BW_TMP/before.json" \
    "$SINCE"
jira_compare "cloud: incremental store equals /__truth" ""
cp "$BW_TMP/dump.txt" "$BW_TMP/incremental.txt"
bw_redis_cli flushall >/dev/null
expect_exit 0 "cloud: --full collect" bw_run -c "$CFG" collect --full
bw_run -c "$CFG" debug dump >"$BW_TMP/full.txt" 2>/dev/null
check "cloud: incremental data keys equal a --full run's" \
    cmp "$BW_TMP/incremental.txt" "$BW_TMP/full.txt"

# ---- Data Center, small scale ----------------------------------------

jira_sim datacenter --scale small
jira_config
fresh
expect_exit 0 "datacenter: collect (flavor auto, bearer token)" \
    bw_run -c "$CFG" collect
jira_compare "datacenter: every ticket equals /__truth" ""
bw_apisim_get /__stats >"$BW_TMP/stats.json"
check "datacenter: /rest/api/2/search, never /rest/api/3" \
    "$BW_PYTHON" -c 'import json,sys
s = json.load(open(sys.argv[1]))["by_endpoint"]
assert s.get("GET /rest/api/2/search", 0) > 0, s
assert not [k for k in s if "/rest/api/3" in k], s' "$BW_TMP/stats.json"

# reindex after a config change: no request, the other rules' truth
jira_config "$ALT_KEYS"
bw_apisim_post /__reset >/dev/null
expect_exit 0 "datacenter: reindex after a config change" \
    bw_run -c "$CFG" reindex
check "datacenter: reindex asked nothing" test "$(stat_of requests)" = 0
jira_compare "datacenter: reindexed store equals the other rules' truth" \
    "$ALT_Q"
expect_exit 0 "datacenter: collect with the new rules" \
    bw_run -c "$CFG" collect
jira_compare "datacenter: still equal after a collect" "$ALT_Q"

# incremental after /__advance equals --full (Data Center)
bw_apisim_post '/__advance?hours=24' >/dev/null
sim_now
expect_exit 0 "datacenter: incremental collect after 24 h" \
    bw_run -c "$CFG" collect
bw_run -c "$CFG" debug dump >"$BW_TMP/incremental.txt" 2>/dev/null
bw_redis_cli flushall >/dev/null
expect_exit 0 "datacenter: --full collect" bw_run -c "$CFG" collect --full
bw_run -c "$CFG" debug dump >"$BW_TMP/full.txt" 2>/dev/null
check "datacenter: incremental data keys equal a --full run's" \
    cmp "$BW_TMP/incremental.txt" "$BW_TMP/full.txt"

# the result window, lowered to 40 for the test, with pages of 7
jira_sim datacenter --scale small --jira-page-cap 7
jira_config
fresh
BELLWETHER_JIRA_WINDOW=40
export BELLWETHER_JIRA_WINDOW
expect_exit 0 "datacenter, page cap 7, result window 40: collect" \
    bw_run -c "$CFG" collect
unset BELLWETHER_JIRA_WINDOW
jira_compare "datacenter, window split: equals /__truth" ""
bw_apisim_get /__log >"$BW_TMP/log.json"
cat >"$BW_TMP/window.py" <<'EOF'
import json, sys, urllib.parse
log = json.load(open(sys.argv[1]))
windows = 0
for e in log:
    if "/rest/api/2/search" not in e["path"]:
        continue
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(e["path"]).query)
    start, ask = int(q["startAt"][0]), int(q["maxResults"][0])
    assert start + ask <= 40, (start, ask)
    windows += start == 0
assert windows > 6, windows
print("%d windows" % windows)
EOF
check "datacenter: no request reaches past the window; walks split" \
    "$BW_PYTHON" "$BW_TMP/window.py" "$BW_TMP/log.json"

# a changelog that stays short: stored flagged incomplete, with a warning
jira_sim datacenter --scale small --changelog-inline 10
jira_config
fresh
expect_exit 0 "datacenter, inline changelog cut to 10: collect" \
    bw_run -c "$CFG" collect
expect_grep "datacenter: short changelogs are warned about" \
    "stays short|keep a short changelog" "$BW_ERR"
jira_compare "datacenter, short changelogs: the rest equals /__truth" "" \
    --incomplete-ok
expect_grep "datacenter: some were stored incomplete" \
    "[1-9][0-9]* incomplete" "$BW_OUT"
check "datacenter: GET issue?expand=changelog tried for them" \
    test "$(stat_of 'GET /rest/api/2/issue/{key}')" -gt 0

# ---- faults (tiny: one project) --------------------------------------

PROJECTS=OPS

jira_sim cloud --scale tiny --faults 'jira:truncate@5,jira:secondary@6'
jira_config
fresh
expect_exit 0 "faults: a 429 with Retry-After and a cut body are retried" \
    bw_run -c "$CFG" collect
jira_compare "faults: the store still equals /__truth" ""
bw_apisim_get /__log >"$BW_TMP/log.json"
check "faults: the simulator did answer 429 once" "$BW_PYTHON" -c \
    'import json,sys
assert [e for e in json.load(open(sys.argv[1])) if e["status"] == 429]' \
    "$BW_TMP/log.json"

jira_sim cloud --scale tiny --faults 'jira:5xx:0.25'
jira_config
fresh
expect_exit 0 "faults: 5xx answers are retried" bw_run -c "$CFG" collect
jira_compare "faults: after 5xx the store equals /__truth" ""

jira_sim cloud --scale tiny --faults 'jira:badjson@5+'
jira_config
fresh
expect_exit 1 "faults: a search page that never parses fails the run" \
    bw_run -c "$CFG" collect
check "faults: nothing of that page is stored, no mark moved" \
    test "$(bw_redis_cli --scan --pattern 'bw:ticket:*' | wc -l)" = 0 -a \
    "$(bw_redis_cli --scan --pattern 'bw:cursor:*' | wc -l)" = 0
jira_sim cloud --scale tiny
jira_config
expect_exit 0 "faults: a rerun converges" bw_run -c "$CFG" collect
jira_compare "faults: after the rerun the store equals /__truth" ""

# a configured jql: its ORDER BY is dropped, the walk adds its own
jira_config "jql = project = OPS ORDER BY created DESC"
sed -i '/^projects = /d' "$CFG"
fresh
expect_exit 0 "jql: collect with a configured query" bw_run -c "$CFG" collect
jira_compare "jql: the store equals /__truth" ""
expect_exit 0 "jql: the next run is incremental" bw_run -c "$CFG" collect
bw_apisim_get /__log >"$BW_TMP/log.json"
check "jql: the user's query in parentheses, then updated >=" \
    "$BW_PYTHON" -c 'import json,sys,urllib.parse
log = json.load(open(sys.argv[1]))
j = [urllib.parse.parse_qs(urllib.parse.urlsplit(e["path"]).query)["jql"][0]
     for e in log if "/search/jql" in e["path"]]
assert j[-1].startswith("(project = OPS) AND updated >= "), j[-1]
assert j[-1].endswith(" ORDER BY updated ASC, key ASC"), j[-1]' \
    "$BW_TMP/log.json"

jira_config "flavor = datacenter"
expect_exit 2 "faults: flavor = datacenter against Jira Cloud exits 2" \
    bw_run -c "$CFG" collect
expect_grep "faults: ... and says to set the flavour" \
    "HTTP 410.*set flavor = cloud" "$BW_ERR"

jira_config "jql = project = OPS OR project = API"
sed -i '/^projects = /d' "$CFG"
expect_exit 2 "faults: bad JQL exits 2" bw_run -c "$CFG" collect
expect_grep "faults: bad JQL prints Jira's errorMessages on one line" \
    "HTTP 400\\).*'OR' is outside the JQL subset" "$BW_ERR"

jira_config
JIRA_TOKEN=wrong-token
expect_exit 2 "faults: refused credentials exit 2" bw_run -c "$CFG" collect
JIRA_TOKEN=s3cret-token
expect_grep "faults: the 401 names the token's variable" "JIRA_TOKEN" \
    "$BW_ERR"
expect_no_grep "faults: the token never shows" "wrong-token|s3cret" \
    "$BW_ERR"

# SIGTERM mid-run: stops quickly, exit 1, a rerun converges
jira_sim cloud --scale tiny --faults slow:400
jira_config
fresh
"$BW_BIN" -c "$CFG" collect >"$BW_TMP/term.out" 2>"$BW_TMP/term.err" &
_pid=$!
sleep 2
kill -TERM "$_pid"
_t=0
while kill -0 "$_pid" 2>/dev/null && [ "$_t" -lt 100 ]; do
    sleep 0.1
    _t=$((_t + 1))
done
wait "$_pid"
_rc=$?
if [ "$_rc" = 1 ] && [ "$_t" -lt 100 ]; then
    ok "faults: SIGTERM stops the collect within 10 s (exit 1)"
else
    not_ok "faults: SIGTERM stops the collect within 10 s (exit 1)" \
        "exit $_rc after $_t tenths" "$(tail -n 5 "$BW_TMP/term.err")"
    kill -9 "$_pid" 2>/dev/null
fi
check "faults: after SIGTERM no mark moved" \
    test "$(bw_redis_cli --scan --pattern 'bw:cursor:*' | wc -l)" = 0
jira_sim cloud --scale tiny
jira_config
expect_exit 0 "faults: rerun after SIGTERM" bw_run -c "$CFG" collect
jira_compare "faults: after SIGTERM the store converges to /__truth" ""

# Redis killed mid-run: the run fails; with Redis back, a rerun converges
jira_sim cloud --scale tiny --faults slow:400
jira_config
fresh
"$BW_BIN" -c "$CFG" collect >"$BW_TMP/kill.out" 2>"$BW_TMP/kill.err" &
_pid=$!
sleep 2.5
bw_stop_redis
wait "$_pid"
_rc=$?
if [ "$_rc" = 1 ]; then
    ok "faults: Redis killed mid-run fails the run (exit 1)"
else
    not_ok "faults: Redis killed mid-run fails the run (exit 1)" \
        "exit $_rc" "$(tail -n 5 "$BW_TMP/kill.err")"
fi
bw_restart_redis
jira_sim cloud --scale tiny
jira_config
expect_exit 0 "faults: rerun with Redis back" bw_run -c "$CFG" collect
jira_compare "faults: after Redis came back the store equals /__truth" ""

bw_done
