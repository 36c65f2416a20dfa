#!/bin/sh
# update.sh - the golden reports (tests/golden/*.md), after cmark's spec
# tests: a fixed simulator (tiny scale, seed 7, the default fixed now) and
# a fixed BELLWETHER_NOW give the same bytes every time, so
# tests/integration/t_report.sh compares them byte for byte.
#
#   sh tests/golden/update.sh            rewrite tests/golden/*.md (on
#                                        purpose: `make golden-update`)
#   sh tests/golden/update.sh --out DIR  write them into DIR instead (what
#                                        t_report.sh compares)
#
# Each golden is NAME.md for one (config, command line) pair below; a new
# golden is a new line in `goldens`. Jira links carry the simulator's
# address, which changes with its port: it is written as
# http://apisim.test in the goldens. BW_BIN picks the binary (default
# ./bellwether). It starts its own throw-away redis-server and simulator
# (tests/integration/lib.sh) and stops them however it ends.
. "$(dirname "$0")/../integration/lib.sh"

OUT=$BW_ROOT/tests/golden
if [ "${1:-}" = "--out" ] && [ -n "${2:-}" ]; then
    OUT=$2
fi
mkdir -p "$OUT" || exit 1

export BELLWETHER_NOW=1794787200 GH_TOKEN=golden JIRA_TOKEN=golden
bw_start_redis
bw_start_apisim --seed 7 --scale tiny

# config NAME ZONE: a github and a jira source, one team, two targets.
config()
{
    bw_write_config "$BW_TMP/$1.ini" <<EOF
[source gh]
type = github
api_url = $APISIM_URL
org = acme
token_env = GH_TOKEN

[source jira]
type = jira
url = $APISIM_URL
projects = OPS
email = golden@acme.test
token_env = JIRA_TOKEN

[team core]
repos = acme/api
projects = OPS

[report]
timezone = $2
weeks_of_trend = 8

[target pr_pickup_time]
stat = p50
max = 8h

[target ticket_wip]
stat = value
max = 5
EOF
}

config utc UTC
config berlin Europe/Berlin
check "collect the golden organisation" bw_run -c "$BW_TMP/utc.ini" collect ||
    bw_done

# NAME CONFIG ARGS...
goldens()
{
    golden tiny-org utc
    golden tiny-org-2026-W40 utc --week 2026-W40
    # acme/api#24, titled with code spans, waits for a first review
    golden tiny-org-2026-W29 utc --week 2026-W29
    golden tiny-team-core-berlin-2026-W44 berlin --team core --week 2026-W44
}

golden()
{
    _g=$1
    _c=$2
    shift 2
    if check "golden $_g" bw_run -c "$BW_TMP/$_c.ini" report \
        --out "$BW_TMP/$_g.md" "$@"; then
        sed "s|$APISIM_URL|http://apisim.test|g" "$BW_TMP/$_g.md" >"$OUT/$_g.md"
    fi
}

goldens
bw_done
