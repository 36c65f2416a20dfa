#!/bin/sh
# t_query.sh - `bellwether query` and `bellwether metrics` end to end: a real
# redis-server, the API simulator at small scale (default seed), one
# `bellwether collect` of a github and a jira source, then queries of every
# metric of METRICS.md compared with an independent computation from
# /__truth (truth_metrics.py): by week over twelve weeks for the whole
# organisation and for a team, point-in-time metrics at the range's end and
# in an unfinished week, other groupings; and the command line's errors
# (exit 2, one line each), the output formats and `metrics`.
. "$(dirname "$0")/lib.sh"

export GITHUB_TOKEN=gh-test-token
export JIRA_TOKEN=jira-test-token
TM=tests/integration/truth_metrics.py

bw_start_redis
bw_start_apisim --scale small
NOW=$(bw_apisim_get /__clock | "$BW_PYTHON" -c \
    'import json, sys; print(json.load(sys.stdin)["now"])')

CONF=$BW_TMP/bw.ini
bw_write_config "$CONF" <<EOF
[source gh]
type = github
api_url = $APISIM_URL
repos = acme/api, acme/web, acme/mobile, acme/infra, acme/docs
token_env = GITHUB_TOKEN
since = 2025-06-01
exclude_users = renovate-bot
exclude_labels = dependencies
exclude_base = release/*

[source jira]
type = jira
url = $APISIM_URL
projects = OPS, API
token_env = JIRA_TOKEN
since = 2025-06-01

[team platform]
repos = acme/api
projects = OPS
members = alice, bob

[team web]
repos = acme/web, acme/mobile
projects = API

[report]
timezone = Europe/Berlin
weeks_of_trend = 12
EOF

# ---- the command line, before any data ----------------------------------

expect_exit 0 "metrics lists the catalogue" bw_run metrics
expect_grep "metrics: a point-in-time metric" \
    '^ticket_blocked_over_3d +count +point-in-time' "$BW_OUT"
if [ "$(awk '{ if (length($0) > n) n = length($0) } END { print n + 0 }' \
    "$BW_OUT")" -le 80 ]; then
    ok "metrics fits 80 columns"
else
    not_ok "metrics fits 80 columns"
fi
expect_exit 0 "metrics --format json" bw_run metrics --format json
if "$BW_PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["metrics"]) == 24
assert all(set(m) >= {"name", "unit", "kind", "definition"}
           for m in d["metrics"])' "$BW_OUT"; then
    ok "metrics json has 24 metrics with unit, kind, definition"
else
    not_ok "metrics json has 24 metrics with unit, kind, definition"
fi

# usage errors: exit 2, exactly one line on stderr, nothing on stdout
usage_error()
{
    _name=$1
    _re=$2
    shift 2
    if expect_exit 2 "$_name: exit 2" bw_run -c "$CONF" "$@"; then
        if [ "$(wc -l <"$BW_ERR")" -eq 1 ] && [ ! -s "$BW_OUT" ] &&
            grep -Eq -- "$_re" "$BW_ERR"; then
            ok "$_name: one line"
        else
            not_ok "$_name: one line matching /$_re/" "$(cat "$BW_ERR")"
        fi
    fi
}
usage_error "unknown metric" "unknown metric 'pr_cycle_tme'; did you mean pr_cycle_time" \
    query pr_cycle_tme
usage_error "--by the metric lacks" "--by project does not apply" \
    query pr_cycle_time --by project
usage_error "--stat the metric lacks" "--stat 'p50' does not apply" \
    query pr_merged --stat p50
usage_error "unknown --stat" "--stat 'median'" \
    query pr_size --stat median
usage_error "bad date" "bad --from '2026-02-30'" \
    query pr_merged --from 2026-02-30
usage_error "bad week" "bad --to '2026-W54'" query pr_merged --to 2026-W54
usage_error "from after to" "after" \
    query pr_merged --from 2026-11-01 --to 2026-10-01
usage_error "unknown team" "unknown team 'nobody'" \
    query pr_merged --where team=nobody
usage_error "bad --where" "unknown key in --where" \
    query pr_merged --where colour=red
usage_error "--where that does not apply" "--where project does not apply" \
    query pr_merged --where project=OPS
usage_error "unknown --format" "unknown --format" \
    query pr_merged --format xml

# ---- collect -------------------------------------------------------------

if ! check "collect a github and a jira source" \
    bw_run -c "$CONF" collect; then
    bw_done
fi
export BELLWETHER_NOW=$NOW

# cmp_query NAME METRIC [OPTION...]: query's JSON against the truth
cmp_query()
{
    _name=$1
    shift
    if "$BW_PYTHON" "$TM" compare --url "$APISIM_URL" --config "$CONF" \
        --now "${QNOW:-$NOW}" --bellwether "$BW_BIN -c $CONF" "$@" \
        >"$BW_TMP/cmp" 2>&1; then
        ok "$_name ($(tail -n 1 "$BW_TMP/cmp" | sed 's/^# //'))"
    else
        not_ok "$_name" "$(tail -n 25 "$BW_TMP/cmp")"
    fi
}

METRICS=$(bw_run metrics --format json | "$BW_PYTHON" -c 'import json, sys
print(" ".join(m["name"] for m in json.load(sys.stdin)["metrics"]))')

for m in $METRICS; do
    cmp_query "$m by week, W35-W46" "$m" --by week --from 2026-W35 \
        --to 2026-W46
done
for m in $METRICS; do
    cmp_query "$m by week, team platform" "$m" --by week \
        --from 2026-W41 --to 2026-W46 --where team=platform
done
# point-in-time at the range's end (no grouping, the default range), per
# team, per author and per type or repository
for m in pr_open_awaiting_review pr_stale ticket_wip ticket_age_in_progress \
    ticket_blocked_over_3d; do
    cmp_query "$m over the default range" "$m"
    cmp_query "$m by team" "$m" --by team --from 2026-09-01 --to 2026-10-15
    cmp_query "$m by author" "$m" --by author
done
cmp_query "pr_awaiting by repo" pr_open_awaiting_review --by repo
cmp_query "ticket_wip by type" ticket_wip --by type
cmp_query "ticket_age by project" ticket_age_in_progress --by project
# other groupings and filters
cmp_query "pr_cycle_time by month" pr_cycle_time --by month \
    --from 2026-06-01 --to 2026-11-15
cmp_query "pr_pickup_time by repo" pr_pickup_time --by repo \
    --from 2026-08-17
cmp_query "review_count_by_reviewer by author" review_count_by_reviewer \
    --by author --from 2026-W44 --to 2026-W46
cmp_query "review_load_top_share by team" review_load_top_share --by team
cmp_query "ticket_cycle_time by type" ticket_cycle_time --by type
cmp_query "ticket_lead_time by author" ticket_lead_time --by author \
    --where project=OPS
cmp_query "pr_merged by author, label" pr_merged --by author \
    --where label=bug
cmp_query "review_count_by_reviewer with a label" review_count_by_reviewer \
    --where label=bug
cmp_query "pr_size by week, two repos" pr_size --by week \
    --where repo=acme/web --where repo=acme/docs
cmp_query "ticket_net_flow by month" ticket_net_flow --by month \
    --from 2026-01-01
# an unfinished week: its end is now
QNOW=$((NOW - 3 * 86400 - 7 * 3600))
for m in pr_merged pr_open_awaiting_review pr_stale ticket_wip \
    ticket_blocked_over_3d pr_cycle_time ticket_throughput; do
    cmp_query "$m in an unfinished week" "$m" --by week --from 2026-W44 \
        --to 2026-W47
done
QNOW=""

# ---- formats ---------------------------------------------------------------

expect_exit 0 "query json" bw_run -c "$CONF" query pr_cycle_time --by week \
    --format json
if "$BW_PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert list(d) == ["metric", "unit", "by", "from", "to", "rows"], list(d)
assert d["metric"] == "pr_cycle_time" and d["unit"] == "hours"
assert d["by"] == "week" and d["from"] == "2026-W35" and d["to"] == "2026-W46"
assert len(d["rows"]) == 12
for r in d["rows"]:
    assert list(r) == ["week", "count", "p50", "p85"], list(r)' "$BW_OUT"; then
    ok "json shape (DESIGN.md)"
else
    not_ok "json shape (DESIGN.md)" "$(head -c 600 "$BW_OUT")"
fi
expect_exit 0 "query table" bw_run -c "$CONF" query pr_pickup_time --by repo
if [ "$(awk '{ if (length($0) > n) n = length($0) } END { print n + 0 }' \
    "$BW_OUT")" -le 80 ] && grep -q '^acme/api ' "$BW_OUT"; then
    ok "table fits 80 columns"
else
    not_ok "table fits 80 columns" "$(cat "$BW_OUT")"
fi
expect_exit 0 "query csv" bw_run -c "$CONF" query ticket_wip --by author \
    --format csv
if "$BW_PYTHON" -c 'import csv, sys
raw = open(sys.argv[1], "rb").read()
assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert rows[0] == ["author", "name", "value"], rows[0]
assert len(rows) > 2' "$BW_OUT"; then
    ok "csv is RFC 4180"
else
    not_ok "csv is RFC 4180" "$(head -c 400 "$BW_OUT")"
fi
expect_exit 0 "query --items" bw_run -c "$CONF" query \
    pr_unreviewed_merge_rate --from 2026-W40 --to 2026-W46 --items \
    --format json
if "$BW_PYTHON" - "$BW_OUT" "$APISIM_URL" "$CONF" "$NOW" "$TM" <<'EOF'
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("tm", sys.argv[5])
tm = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tm)
d = json.load(open(sys.argv[1]))
truth = tm.Truth.load(sys.argv[2], tm.Conf.from_ini(sys.argv[3]))
f, t = tm.query_range(truth.cal, "2026-W40", "2026-W46", None, 12,
                      int(sys.argv[4]))
want = sorted("%s#%d" % (p["repo"], p["number"]) for p in truth.prs
              if not p["excluded"] and p["merged_at"] is not None
              and f <= p["merged_at"] < t and not p["counted_reviews"])
got = sorted(i["key"] for i in d["items"])
assert got == want, (got[:5], want[:5])
assert all(i["url"].startswith("https://github.com/") for i in d["items"])
EOF
then
    ok "--items lists the unreviewed merges"
else
    not_ok "--items lists the unreviewed merges"
fi
expect_exit 0 "an empty range is not an error" bw_run -c "$CONF" query \
    pr_cycle_time --by week --from 2024-W01 --to 2024-W02 --format json
expect_grep "empty weeks: count 0, null statistics" \
    '"count":0,"p50":null,"p85":null' "$BW_OUT"

# ---- Jira Data Center: assignees are user names (jira_users too) ----------

unset BELLWETHER_NOW
bw_start_apisim --scale small --jira-flavor datacenter
DC_USER=$(bw_apisim_get /__truth | "$BW_PYTHON" -c 'import json, sys
t = json.load(sys.stdin)["tickets"].values()
print(sorted({x["assignee"] for x in t if x["assignee"]})[0])')
CONF=$BW_TMP/dc.ini
bw_write_config "$CONF" <<EOF
[redis]
url = $REDIS_URL
db = 1
prefix = bw:

[source jira]
type = jira
url = $APISIM_URL
projects = OPS, API
token_env = JIRA_TOKEN
since = 2025-06-01

[team people]
jira_users = $DC_USER
EOF
if check "collect a Data Center jira source" bw_run -c "$CONF" collect; then
    export BELLWETHER_NOW=$NOW
    for m in ticket_wip ticket_cycle_time ticket_blocked_share; do
        cmp_query "Data Center $m by author" "$m" --by author
        cmp_query "Data Center $m, a team of jira_users" "$m" --by week \
            --where team=people
    done
fi

bw_done
