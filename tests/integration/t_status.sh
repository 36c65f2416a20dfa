#!/bin/sh
# tiny
# t_status.sh - `bellwether status` against a real redis-server and the API
# simulator: per source the last run, success and failure with the error,
# items stored, requests and quota left, the lease holder, the next
# scheduled run; Redis version and memory; --format json; exit 1 when a
# source's last run failed, its last success is older than stale_after (or
# it never succeeded), or Redis cannot be reached; exit 0 when all is well.
. "$(dirname "$0")/lib.sh"

GITHUB_TOKEN=gh-test-token
JIRA_TOKEN=not-the-token
BELLWETHER_BACKOFF_BASE_MS=2
NOW=1794787200 # the simulator's now, 2026-11-16T00:00:00Z (a Monday)
BELLWETHER_NOW=$NOW
export GITHUB_TOKEN JIRA_TOKEN BELLWETHER_BACKOFF_BASE_MS BELLWETHER_NOW

bw_start_redis
bw_start_apisim --seed 2 --scale tiny --jira-auth "basic:bot@acme.test:jt"
CFG=$BW_TMP/bw.ini
bw_write_config "$CFG" <<EOF
[source gh]
type = github
api_url = $APISIM_URL
org = acme
token_env = GITHUB_TOKEN
since = 2026-05-20

[source jira]
type = jira
url = $APISIM_URL
projects = OPS
email = bot@acme.test
token_env = JIRA_TOKEN
since = 2026-05-20

[report]
timezone = Europe/Berlin
stale_after = 2d

[schedule]
collect = 15,45 * * * *
EOF

# js EXPR: evaluate a Python expression over the last JSON output (d)
js()
{
    "$BW_PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
s = {x["name"]: x for x in d["sources"]}
print(eval(sys.argv[2]))' "$BW_OUT" "$1" 2>&1
}

# ---- never collected -----------------------------------------------------
expect_exit 1 "status before any collect exits 1" bw_run -c "$CFG" status
expect_grep "a source never collected is flagged" \
    "^gh \(github\): STALE: never collected$" "$BW_OUT"
expect_exit 1 "status --format json before any collect exits 1" \
    bw_run -c "$CFG" status --format json
expect_eq "json: ok is false" "$(js 'd["ok"]')" False
expect_eq "json: state never" "$(js 's["gh"]["state"]')" never

# ---- gh ok, jira refused -------------------------------------------------
expect_exit 3 "collect with the Jira token refused exits 3" \
    bw_run -c "$CFG" collect
expect_exit 1 "status with a failed source exits 1" bw_run -c "$CFG" status
expect_grep "the failed source and its error" \
    "^jira \(jira\): FAILED: credentials refused by http://127.0.0.1:[0-9]+/rest/api/2/serverInfo \(401\); check the token in JIRA_TOKEN$" \
    "$BW_OUT"
expect_grep "the good source is ok" "^gh \(github\): ok$" "$BW_OUT"
expect_grep "last success with its age" \
    "^  last success  2026-11-16T00:00:00Z, 0 s ago$" "$BW_OUT"
expect_grep "last failure with the error" \
    "^  last failure  2026-11-16T00:00:00Z, 0 s ago: credentials refused by .* check the token in JIRA_TOKEN$" \
    "$BW_OUT"
expect_grep "items stored" "^  items         [1-9][0-9]* PRs and 0 tickets stored; [1-9][0-9]* items written by the last run$" \
    "$BW_OUT"
expect_grep "requests and quota left at the last run" \
    "^  requests      [1-9][0-9]* at the last run \([0-9]+ not modified\), quota left [0-9]+$" \
    "$BW_OUT"
expect_grep "no lease" "^  lease         free$" "$BW_OUT"
expect_grep "the next scheduled run, in the report zone's schedule" \
    "^  next run      2026-11-16T00:15:00Z \(collect '15,45 \* \* \* \*' in Europe/Berlin\)$" \
    "$BW_OUT"
_v=$(redis-server --version | sed 's/.* v=\([0-9.]*\) .*/\1/')
expect_grep "the Redis version and memory" \
    "^redis $_v \(standalone\) at $REDIS_URL, prefix 'bw:': [0-9.]+ [KMG]iB used \(peak [0-9.]+ [KMG]iB\), maxmemory none" \
    "$BW_OUT"

expect_exit 1 "status --format json with a failed source exits 1" \
    bw_run -c "$CFG" status --format json
expect_eq "json: ok false" "$(js 'd["ok"]')" False
expect_eq "json: jira failed, with its error" \
    "$(js '(s["jira"]["state"], s["jira"]["failed"], s["jira"]["error"].split(" by ")[0], s["jira"]["error"].endswith("check the token in JIRA_TOKEN"))')" \
    "('failed', True, 'credentials refused', True)"
expect_eq "json: gh ok" "$(js '(s["gh"]["state"], s["gh"]["last_status"])')" \
    "('ok', 'ok')"
expect_eq "json: times" \
    "$(js '(s["gh"]["last_run"], s["gh"]["last_success"], s["gh"]["last_success_age"], s["gh"]["next_run"])')" \
    "('2026-11-16T00:00:00Z', '2026-11-16T00:00:00Z', 0, '2026-11-16T00:15:00Z')"
expect_eq "json: items, requests and quota are numbers" \
    "$(js 'all(isinstance(s["gh"][k], int) and s["gh"][k] > 0 for k in ("requests", "quota_left", "items_last_run")) and s["gh"]["stored"]["prs"] > 0')" \
    True
expect_eq "json: Redis version, memory" \
    "$(js '(d["redis"]["reachable"], d["redis"]["version"], d["redis"]["used_memory"] > 0)')" \
    "(True, '$_v', True)"
expect_eq "json: the lease is null" "$(js 's["gh"]["lease"]')" None

# ---- all well: exit 0 ----------------------------------------------------
JIRA_TOKEN=jt
expect_exit 0 "collect with the right token exits 0" bw_run -c "$CFG" collect
expect_exit 0 "status with every source fresh and ok exits 0" \
    bw_run -c "$CFG" status
expect_grep "jira is ok now" "^jira \(jira\): ok$" "$BW_OUT"
expect_grep "tickets stored" "^  items         0 PRs and [1-9][0-9]* tickets stored" \
    "$BW_OUT"
expect_exit 0 "status --format json exits 0" bw_run -c "$CFG" status --format json
expect_eq "json: ok true" "$(js 'd["ok"]')" True

# ---- a lease holder -------------------------------------------------------
bw_redis_cli SET 'bw:lease:{gh}' "build-7 4242 1794787100 beef" PX 45000 \
    >/dev/null
expect_exit 0 "status with a lease held exits 0" bw_run -c "$CFG" status
expect_grep "the lease holder" \
    "^  lease         held by build-7 pid 4242 since 2026-11-15T23:58:20Z, expires in 4[0-5] s unless renewed$" \
    "$BW_OUT"
expect_exit 0 "status --format json with a lease held" \
    bw_run -c "$CFG" status --format json
expect_eq "json: the lease" \
    "$(js '(s["gh"]["lease"]["holder"], s["gh"]["lease"]["host"], s["gh"]["lease"]["pid"], s["gh"]["lease"]["since"], 40 <= s["gh"]["lease"]["expires_in"] <= 45)')" \
    "('build-7 pid 4242', 'build-7', 4242, '2026-11-15T23:58:20Z', True)"
bw_redis_cli DEL 'bw:lease:{gh}' >/dev/null

# ---- stale ---------------------------------------------------------------
BELLWETHER_NOW=$((NOW + 3 * 86400))
expect_exit 1 "status three days later exits 1 (stale_after 2d)" \
    bw_run -c "$CFG" status
BELLWETHER_NOW=$NOW
expect_grep "stale sources are flagged" \
    "^gh \(github\): STALE: last success 3 d ago, stale_after is 2 d$" "$BW_OUT"

# ---- usage and Redis down ------------------------------------------------
expect_exit 2 "status --format xml exits 2" bw_run -c "$CFG" status --format xml
expect_exit 2 "status with an argument exits 2" bw_run -c "$CFG" status gh
bw_stop_redis
expect_exit 1 "status with Redis down exits 1" bw_run -c "$CFG" status \
    --format json
expect_eq "json with Redis down: reachable false" \
    "$(js '(d["ok"], d["redis"]["reachable"], s["gh"]["state"])')" \
    "(False, False, 'unknown')"
expect_grep "Redis down: the error says so" "cannot reach Redis at" "$BW_ERR"
expect_exit 1 "status table with Redis down exits 1" bw_run -c "$CFG" status
expect_grep "the table says Redis is not reachable" \
    "^redis at $REDIS_URL: NOT REACHABLE$" "$BW_OUT"

bw_done
