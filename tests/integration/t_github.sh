#!/bin/sh
# t_github.sh - the GitHub collector end to end: real redis-server, the API
# simulator, `bellwether collect` and `bellwether debug dump`, with every
# stored PR compared field by field with /__truth (gh_truth.py), for the
# default rules and for other ones; requests per PR; the incremental run
# (one conditional request per repository); after /__advance only changed
# PRs fetched and the data equal to a --full run's; faults (a body that
# does not parse, 401, an unknown repository, SIGTERM, min_quota_left),
# GitHub Enterprise's /api/v3 prefix, and a server whose paging loops
# (list, timeline and organisation pages that link back, endless pages).
. "$(dirname "$0")/lib.sh"

TOKEN=gh-test-token
export GITHUB_TOKEN=$TOKEN
# retries after a bad body: 10 ms, 20 ms, ... instead of 0.5 s, 1 s, ...
BELLWETHER_BACKOFF_BASE_MS=10
export BELLWETHER_BACKOFF_BASE_MS
SINCE_DAY=2026-05-20
SINCE=$("$BW_PYTHON" -c 'import calendar, time, sys
print(calendar.timegm(time.strptime(sys.argv[1], "%Y-%m-%d")))' $SINCE_DAY)
ALT_USERS=carol,renovate-bot
ALT_LABELS=dependencies
ALT_BASE='release/*'

# gh_conf FILE DB [LINE...]: a config with one github source `gh`.
gh_conf()
{
    _f=$1
    _db=$2
    shift 2
    {
        printf '[redis]\nurl = %s\ndb = %s\nprefix = bw:\n\n' "$REDIS_URL" "$_db"
        printf '[source gh]\ntype = github\ntoken_env = GITHUB_TOKEN\n'
        printf 'since = %s\n' "$SINCE_DAY"
        for _l in "$@"; do
            printf '%s\n' "$_l"
        done
    } >"$_f"
}

# stat FIELD: a figure of /__stats ("requests", "not_modified",
# "quota_used", or an endpoint name of by_endpoint).
stat()
{
    bw_apisim_get /__stats | "$BW_PYTHON" -c 'import json, sys
d = json.load(sys.stdin)
k = sys.argv[1]
print(d[k] if k in d else d["by_endpoint"].get(k, 0))' "$1"
}

# compare NAME CONFIG QUERY REPO...: dump the store of CONFIG and compare
# it with /__truth?QUERY.
compare()
{
    _name=$1
    _conf=$2
    _q=$3
    shift 3
    if ! bw_run -c "$_conf" debug dump >"$BW_TMP/dump" 2>"$BW_ERR"; then
        not_ok "$_name" "debug dump failed" "$(cat "$BW_ERR")"
        return 1
    fi
    if "$BW_PYTHON" tests/integration/gh_truth.py "$BW_TMP/dump" \
        "$APISIM_URL/__truth?$_q" gh "$SINCE" "$@" >"$BW_TMP/cmp" 2>&1; then
        ok "$_name ($(tail -n 1 "$BW_TMP/cmp" | sed 's/^# //'))"
        return 0
    fi
    not_ok "$_name" "$(tail -n 40 "$BW_TMP/cmp")"
    return 1
}

# expect_le NAME A B: ok when A <= B (decimal numbers).
expect_le()
{
    if "$BW_PYTHON" -c 'import sys; sys.exit(0 if float(sys.argv[1]) <=
float(sys.argv[2]) else 1)' "$2" "$3"; then
        ok "$1 ($2 <= $3)"
    else
        not_ok "$1" "$2 > $3"
    fi
}

expect_eq()
{
    if [ "$2" = "$3" ]; then
        ok "$1 ($2)"
    else
        not_ok "$1" "got '$2', expected '$3'"
    fi
}

bw_start_redis

# ---- small scale, default rules ------------------------------------------

bw_start_apisim --seed 1 --scale small --only gh --token "$TOKEN"
REPOS=$("$BW_PYTHON" -c '
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "/orgs/acme/repos?per_page=100",
                             headers={"Authorization": "Bearer " + sys.argv[2]})
with urllib.request.urlopen(req, timeout=30) as r:
    print(" ".join(x["full_name"] for x in json.load(r) if not x["archived"]))
' "$APISIM_URL" "$TOKEN")
NREPOS=$(echo "$REPOS" | wc -w)
if [ "$NREPOS" -gt 0 ]; then
    ok "the simulator's organisation has $NREPOS active repositories"
else
    not_ok "the simulator's organisation lists its repositories"
fi
gh_conf "$BW_TMP/gh.ini" 0 "api_url = $APISIM_URL" "org = acme"
bw_apisim_post /__reset >/dev/null
expect_exit 0 "first collect (backfill from $SINCE_DAY)" \
    bw_run -c "$BW_TMP/gh.ini" collect
compare "every PR equals /__truth (default rules)" "$BW_TMP/gh.ini" "" $REPOS
npr=$(grep -c '^hash pr:' "$BW_TMP/dump")
req=$(stat requests)
expect_le "requests per PR on a full sync" \
    "$("$BW_PYTHON" -c "print(round($req / $npr, 4))")" 2.05
expect_eq "one org listing" "$(stat 'GET /orgs/{org}/repos')" 1
expect_eq "one single-PR request per PR" \
    "$(stat 'GET /repos/{o}/{r}/pulls/{n}')" "$npr"

bw_apisim_post /__reset >/dev/null
expect_exit 0 "second collect, nothing changed" \
    bw_run -c "$BW_TMP/gh.ini" collect
expect_eq "one conditional request per repository, plus the org listing" \
    "$(stat requests)" $((NREPOS + 1))
expect_eq "all of them 304" "$(stat not_modified)" $((NREPOS + 1))
expect_eq "no quota spent" "$(stat quota_used)" 0

# ---- after a day: only changed PRs, and the same data as --full ----------

bw_apisim_get /__truth >"$BW_TMP/truth0"
bw_apisim_post '/__advance?hours=24' >/dev/null
bw_apisim_get /__truth >"$BW_TMP/truth1"
bw_apisim_post /__reset >/dev/null
expect_exit 0 "collect after /__advance?hours=24" \
    bw_run -c "$BW_TMP/gh.ini" collect
bw_apisim_get /__log >"$BW_TMP/log"
"$BW_PYTHON" - "$BW_TMP/truth0" "$BW_TMP/truth1" "$BW_TMP/log" "$SINCE" \
    $REPOS >"$BW_TMP/changed" 2>&1 <<'EOF'
import json, re, sys
t0 = json.load(open(sys.argv[1]))["prs"]
t1 = json.load(open(sys.argv[2]))["prs"]
log = json.load(open(sys.argv[3]))
since, repos = int(sys.argv[4]), set(sys.argv[5:])
changed = sorted(k for k, v in t1.items() if v["repo"] in repos and
                 (k not in t0 or t0[k]["updated_at"] != v["updated_at"]) and
                 (v["updated_at"] >= since or v["state"] == "open"))
fetched = sorted(set("%s#%s" % (m.group(1), m.group(2)) for m in
                     (re.match(r"^(?:/api/v3)?/repos/([^/]+/[^/]+)/pulls/"
                               r"(\d+)$", e["path"].split("?")[0])
                      for e in log) if m))
print("changed %d fetched %d" % (len(changed), len(fetched)))
if changed != fetched or not changed:
    print("only changed:", sorted(set(changed) - set(fetched))[:10])
    print("only fetched:", sorted(set(fetched) - set(changed))[:10])
    sys.exit(1)
EOF
if [ $? = 0 ]; then
    ok "only the changed PRs are fetched again ($(head -n 1 "$BW_TMP/changed"))"
else
    not_ok "only the changed PRs are fetched again" "$(cat "$BW_TMP/changed")"
fi
compare "after the advance, every PR equals /__truth" "$BW_TMP/gh.ini" "" \
    $REPOS
cp "$BW_TMP/dump" "$BW_TMP/dump.incremental"
gh_conf "$BW_TMP/full.ini" 1 "api_url = $APISIM_URL" "org = acme"
expect_exit 0 "collect --full into another database" \
    bw_run -c "$BW_TMP/full.ini" collect --full
bw_run -c "$BW_TMP/full.ini" debug dump >"$BW_TMP/dump.full" 2>"$BW_ERR"
if [ -s "$BW_TMP/dump.full" ] &&
    cmp -s "$BW_TMP/dump.incremental" "$BW_TMP/dump.full"; then
    ok "the incremental store's data keys equal the --full run's"
else
    not_ok "the incremental store's data keys equal the --full run's" \
        "$(diff "$BW_TMP/dump.incremental" "$BW_TMP/dump.full" | head -n 20)"
fi

# ---- other rules: derived fields rebuilt, nothing fetched again ----------

gh_conf "$BW_TMP/alt.ini" 0 "api_url = $APISIM_URL" "org = acme" \
    "exclude_users = $ALT_USERS" "include_bot_prs = false" \
    "exclude_labels = $ALT_LABELS" "exclude_base = $ALT_BASE"
bw_apisim_post /__reset >/dev/null
expect_exit 0 "collect with other exclusion rules" \
    bw_run -c "$BW_TMP/alt.ini" collect
expect_eq "the rule change fetches no PR again" \
    "$(stat 'GET /repos/{o}/{r}/pulls/{n}')" 0
compare "every PR equals /__truth (exclude_users, labels, base)" \
    "$BW_TMP/alt.ini" \
    "exclude_users=$ALT_USERS&include_bot_prs=false&exclude_labels=$ALT_LABELS&exclude_base=$ALT_BASE" \
    $REPOS
gh_conf "$BW_TMP/bots.ini" 0 "api_url = $APISIM_URL" "org = acme" \
    "exclude_users = ghost" "include_bot_prs = true"
expect_exit 0 "collect with include_bot_prs and a deleted user excluded" \
    bw_run -c "$BW_TMP/bots.ini" collect
compare "every PR equals /__truth (include_bot_prs, exclude ghost)" \
    "$BW_TMP/bots.ini" "exclude_users=ghost&include_bot_prs=true" $REPOS

# `bellwether reindex` alone: back to the default rules, no request at all
bw_apisim_post /__reset >/dev/null
expect_exit 0 "reindex with the default rules" \
    bw_run -c "$BW_TMP/gh.ini" reindex
expect_eq "reindex sends no request" "$(stat requests)" 0
compare "after reindex every PR equals /__truth (default rules)" \
    "$BW_TMP/gh.ini" "" $REPOS

# ---- faults (tiny scale, acme/api only) -----------------------------------

bw_redis_cli -n 0 flushdb >/dev/null
bw_start_apisim --seed 1 --scale tiny --only gh --faults 'gh:badjson@2+'
gh_conf "$BW_TMP/f.ini" 0 "api_url = $APISIM_URL" "repos = acme/api"
expect_exit 1 "a page that never parses fails the source" \
    bw_run -c "$BW_TMP/f.ini" collect
expect_grep "the error names the URL" \
    '127\.0\.0\.1:[0-9]+/repos/acme/api/' "$BW_ERR"
if [ "$(grep -c . "$BW_ERR")" -le 2 ]; then
    ok "the failure is reported on one line (plus the summary)"
else
    not_ok "the failure is reported on one line" "$(cat "$BW_ERR")"
fi
bw_run -c "$BW_TMP/f.ini" debug dump >"$BW_TMP/dump" 2>/dev/null
expect_no_grep "nothing of that page is stored" '^hash pr:' "$BW_TMP/dump"

bw_start_apisim --seed 1 --scale tiny --only gh --faults 'gh:badjson@3'
gh_conf "$BW_TMP/f.ini" 0 "api_url = $APISIM_URL" "repos = acme/api"
expect_exit 0 "a body that parses on the retry is fine" \
    bw_run -c "$BW_TMP/f.ini" collect
compare "and every PR equals /__truth" "$BW_TMP/f.ini" "" acme/api

bw_start_apisim --seed 1 --scale tiny --only gh --faults 'gh:auth'
gh_conf "$BW_TMP/f.ini" 0 "api_url = $APISIM_URL" "org = acme"
expect_exit 2 "a 401 exits 2" bw_run -c "$BW_TMP/f.ini" collect
expect_grep "the message names the token's variable" 'GITHUB_TOKEN' "$BW_ERR"
expect_no_grep "the token never appears" "$TOKEN" "$BW_ERR"

bw_start_apisim --seed 1 --scale tiny --only gh
gh_conf "$BW_TMP/f.ini" 0 "api_url = $APISIM_URL" "repos = acme/nope"
expect_exit 2 "an unknown repository exits 2" bw_run -c "$BW_TMP/f.ini" collect
expect_grep "naming it" "unknown repository 'acme/nope'" "$BW_ERR"

bw_redis_cli -n 0 flushdb >/dev/null
bw_start_apisim --seed 1 --scale tiny --only gh --prefix /api/v3
gh_conf "$BW_TMP/f.ini" 0 "api_url = $APISIM_URL/api/v3" "org = acme"
expect_exit 0 "GitHub Enterprise: api_url with /api/v3" \
    bw_run -c "$BW_TMP/f.ini" collect
compare "and every PR equals /__truth" "$BW_TMP/f.ini" "" acme/api

# SIGTERM mid-walk: exit 1 quickly, and nothing half-done is committed (the
# next run completes the store exactly)
bw_redis_cli -n 0 flushdb >/dev/null
bw_start_apisim --seed 1 --scale small --only gh --latency-ms 20 \
    --token "$TOKEN"
gh_conf "$BW_TMP/f.ini" 0 "api_url = $APISIM_URL" "org = acme" \
    "max_parallel = 2"
# shellcheck disable=SC2086
$TEST_PREFIX "$BW_BIN" -c "$BW_TMP/f.ini" collect >"$BW_OUT" 2>"$BW_ERR" &
cpid=$!
sleep 4
kill -TERM "$cpid" 2>/dev/null
t0=$(date +%s)
wait "$cpid"
crc=$?
t1=$(date +%s)
expect_eq "SIGTERM: the collect exits 1" "$crc" 1
expect_le "SIGTERM: within 10 seconds" $((t1 - t0)) 10
bw_run -c "$BW_TMP/f.ini" debug dump >"$BW_TMP/dump" 2>/dev/null
stored=$(grep -c '^hash pr:' "$BW_TMP/dump")
expect_exit 0 "the next collect goes on" bw_run -c "$BW_TMP/f.ini" collect
compare "and completes the store (after $stored PRs before the signal)" \
    "$BW_TMP/f.ini" "" $REPOS

# min_quota_left: stop cleanly (exit 0) and go on where it stopped
bw_redis_cli -n 0 flushdb >/dev/null
# the window must outlast the first run (it resets --reset-in seconds after
# its first request), or the run may finish on a fresh quota
bw_start_apisim --seed 1 --scale tiny --only gh --quota 16 --reset-in 6
gh_conf "$BW_TMP/q.ini" 0 "api_url = $APISIM_URL" "repos = acme/api" \
    "min_quota_left = 6"
expect_exit 0 "min_quota_left stops a backfill with exit 0" \
    bw_run -c "$BW_TMP/q.ini" collect
expect_grep "and says so" 'min_quota_left' "$BW_ERR"
bw_run -c "$BW_TMP/q.ini" debug dump >"$BW_TMP/dump" 2>/dev/null
first=$(grep -c '^hash pr:' "$BW_TMP/dump")
runs=1
while [ $runs -lt 8 ] && grep -q min_quota_left "$BW_ERR"; do
    sleep 6.2
    bw_run -c "$BW_TMP/q.ini" collect >"$BW_OUT" 2>"$BW_ERR" || break
    runs=$((runs + 1))
done
compare "later runs finish the walk ($first PRs, then $runs runs)" \
    "$BW_TMP/q.ini" "" acme/api

# ---- a server whose paging loops ------------------------------------------

# loop_api.py MODE PORT COUNT_FILE: a GitHub-like API for acme/api whose
# `next` links go round in circles (MODE list, timeline, org) or never end
# (endless); it counts the requests it answers in COUNT_FILE and stops by
# itself after 120 s.
cat >"$BW_TMP/loop_api.py" <<'EOF'
import json, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

MODE, PORT, COUNT = sys.argv[1], int(sys.argv[2]), sys.argv[3]
BASE = "http://127.0.0.1:%d" % PORT
lock = threading.Lock()
served = [0]


def pr(n):
    return {"number": n, "state": "closed", "draft": False,
            "created_at": "2026-06-01T10:00:00Z",
            "updated_at": "2026-06-0%dT10:00:00Z" % (n + 1),
            "closed_at": "2026-06-0%dT10:00:00Z" % (n + 1),
            "merged_at": None, "user": {"login": "alice", "type": "User"},
            "title": "pr %d" % n, "html_url": BASE + "/pr/%d" % n,
            "base": {"ref": "main"}, "labels": [], "additions": 1,
            "deletions": 1, "commits": 1}


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, body, link=None):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if link:
            self.send_header("Link", '<%s%s>; rel="next"' % (BASE, link))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        with lock:
            served[0] += 1
            with open(COUNT, "w") as f:
                f.write("%d\n" % served[0])
        u = urlsplit(self.path)
        page = int(parse_qs(u.query).get("page", ["1"])[0])
        first = u.path + "?" + "&".join(
            p for p in u.query.split("&") if not p.startswith("page="))
        if u.path == "/orgs/acme/repos":
            # page 1 -> page 2 -> page 1 again
            names = ["acme/api", "acme/web"]
            self.send([{"full_name": names[page - 1], "archived": False}],
                      first + ("&page=2" if page == 1 else ""))
        elif u.path == "/repos/acme/api/pulls":
            if MODE == "endless":
                self.send([], first + "&page=%d" % (page + 1))
            elif MODE == "list":
                # page 1 -> page 2 -> page 1 again
                self.send([pr(page)], first + ("&page=2" if page == 1 else ""))
            else:
                self.send([pr(1)])
        elif u.path.startswith("/repos/acme/api/pulls/"):
            self.send(pr(int(u.path.rsplit("/", 1)[1])))
        elif u.path.endswith("/timeline"):
            # in MODE timeline, the next page is the page itself
            self.send([], self.path if MODE == "timeline" else None)
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()


srv = ThreadingHTTPServer(("127.0.0.1", PORT), H)
srv.daemon_threads = True
threading.Thread(target=srv.serve_forever, daemon=True).start()
print("loop_api listening", flush=True)
time.sleep(120)
EOF

# loop_case MODE NAME MAX_REQUESTS [CONFIG LINE]: collect from loop_api.py
# in MODE: exit 1 by itself, one error line naming the page, few requests,
# nothing of the looping page stored.
loop_case()
{
    _port=$(bw_free_port)
    : >"$BW_TMP/loop.count"
    "$BW_PYTHON" "$BW_TMP/loop_api.py" "$1" "$_port" "$BW_TMP/loop.count" \
        >"$BW_TMP/loop.out" 2>&1 </dev/null &
    _lpid=$!
    bw_track_pid "$_lpid"
    bw_wait_for 10 grep -q "loop_api listening" "$BW_TMP/loop.out"
    bw_redis_cli -n 0 flushdb >/dev/null
    gh_conf "$BW_TMP/loop.ini" 0 "api_url = http://127.0.0.1:$_port" \
        "${4:-repos = acme/api}"
    expect_exit 1 "paging loop, $2: the collect stops by itself (exit 1)" \
        bw_run -c "$BW_TMP/loop.ini" collect
    expect_grep "paging loop, $2: the error names the page" \
        "^error: \[github:gh\] stopped paging GET http://127\.0\.0\.1:$_port/" \
        "$BW_ERR"
    expect_eq "paging loop, $2: one error line" \
        "$(grep -c '^error' "$BW_ERR")" 1
    expect_le "paging loop, $2: requests" "$(cat "$BW_TMP/loop.count")" "$3"
    bw_run -c "$BW_TMP/loop.ini" debug dump >"$BW_TMP/dump" 2>/dev/null
    expect_no_grep "paging loop, $2: nothing of the looping page is stored" \
        '^hash pr:.*:2$' "$BW_TMP/dump"
    if [ "$1" = list ]; then
        expect_grep "paging loop, $2: the page before it stays stored" \
            '^hash pr:.*:1$' "$BW_TMP/dump"
    fi
    kill "$_lpid" 2>/dev/null
    wait "$_lpid" 2>/dev/null
    bw_untrack_pid "$_lpid"
}

loop_case list "a list page links back to the first" 4
loop_case timeline "a timeline page links to itself" 3
loop_case org "the organisation's second page links back to the first" 2 \
    "org = acme"
BELLWETHER_MAX_PAGES=5
export BELLWETHER_MAX_PAGES
loop_case endless "new list pages without end (BELLWETHER_MAX_PAGES=5)" 5
unset BELLWETHER_MAX_PAGES

bw_done
