#!/bin/sh
# t_report.sh - `bellwether report` end to end: the golden reports byte for
# byte (tests/golden/update.sh --out), every number of the JSON report for
# several weeks against /__truth at small scale (report_truth_check.py),
# the same bytes when re-run, the files, stdout and the copy in Redis with
# its history, hostile titles inert through the cmark-gfm CLI, usage
# errors (exit 2), a file size limit and a Redis that is down (exit 1,
# nothing half-written).
# tiny
. "$(dirname "$0")/lib.sh"

NOW=1794787200
export BELLWETHER_NOW=$NOW GH_TOKEN=gh-token JIRA_TOKEN=jira-token

# ---- the golden reports -----------------------------------------------------
if BW_BIN=$BW_BIN sh "$BW_ROOT/tests/golden/update.sh" --out "$BW_TMP/golden" \
    >"$BW_TMP/golden.log" 2>&1; then
    ok "the golden reports are generated"
else
    not_ok "the golden reports are generated" "$(tail -n 12 "$BW_TMP/golden.log")"
fi
n=0
for g in "$BW_ROOT"/tests/golden/*.md; do
    [ -f "$g" ] || continue
    n=$((n + 1))
    name=$(basename "$g")
    if cmp -s "$g" "$BW_TMP/golden/$name"; then
        ok "golden $name: the same bytes"
    else
        not_ok "golden $name: the same bytes" \
            "$(diff -u "$g" "$BW_TMP/golden/$name" 2>&1 | head -n 30)" \
            "(if the change is intended: make golden-update)"
    fi
done
[ "$n" -ge 3 ] && ok "$n golden reports are committed" ||
    not_ok "golden reports are committed" "found $n in tests/golden"
for g in "$BW_TMP"/golden/*.md; do
    [ -f "$g" ] || continue
    [ -f "$BW_ROOT/tests/golden/$(basename "$g")" ] ||
        not_ok "golden $(basename "$g") is committed" "run make golden-update"
done

# ---- a small organisation ---------------------------------------------------
bw_start_redis
bw_start_apisim --seed 1 --scale small
CFG=$BW_TMP/bw.ini
OUT=$BW_TMP/out
mkdir -p "$OUT"
bw_write_config "$CFG" <<EOF
[source gh]
type = github
api_url = $APISIM_URL
org = acme
token_env = GH_TOKEN
since = 2025-06-01

[source jira]
type = jira
url = $APISIM_URL
projects = OPS, API
email = bot@acme.test
token_env = JIRA_TOKEN
since = 2025-06-01

[team platform]
repos = acme/api, acme/infra
projects = OPS

[team product]
repos = acme/web
members = alice, bob
projects = API

[report]
timezone = UTC
out_dir = $OUT
weeks_of_trend = 12

[target pr_pickup_time]
stat = p50
max = 8h

[target pr_cycle_time]
stat = p85
max = 10d

[target pr_unreviewed_merge_rate]
stat = value
max = 10%
at_risk_margin = 20%

[target ticket_cycle_time]
stat = p50
min = 1d

[target ticket_wip]
stat = value
max = 30
EOF
check "collect GitHub and Jira at small scale" bw_run -c "$CFG" collect || bw_done

# every number of several weeks, point-in-time ones included, teams too
if "$BW_PYTHON" "$BW_ROOT/tests/integration/report_truth_check.py" \
    --url "$APISIM_URL" --config "$CFG" --now "$NOW" \
    --bellwether "$TEST_PREFIX $BW_BIN -c $CFG" \
    --week 2026-W46 --week 2026-W45 --week 2026-W41 --week 2026-W33 \
    >"$BW_TMP/truth.out" 2>&1; then
    ok "every number of the JSON report equals /__truth ($(tail -n 1 "$BW_TMP/truth.out"))"
else
    not_ok "every number of the JSON report equals /__truth" \
        "$(head -n 25 "$BW_TMP/truth.out")"
fi

# the same store in another zone: weeks cut at Berlin's midnights, the
# trends across both daylight-saving changes (2026-W13 and 2026-W43)
sed -e 's|^timezone = UTC$|timezone = Europe/Berlin|' \
    -e 's|^weeks_of_trend = 12$|weeks_of_trend = 6|' "$CFG" >"$BW_TMP/berlin.ini"
if "$BW_PYTHON" "$BW_ROOT/tests/integration/report_truth_check.py" \
    --url "$APISIM_URL" --config "$BW_TMP/berlin.ini" --now "$NOW" \
    --bellwether "$TEST_PREFIX $BW_BIN -c $BW_TMP/berlin.ini" \
    --week 2026-W44 --week 2026-W15 >"$BW_TMP/truth2.out" 2>&1; then
    ok "in Europe/Berlin across DST changes too ($(tail -n 1 "$BW_TMP/truth2.out"))"
else
    not_ok "in Europe/Berlin across DST changes too" "$(head -n 25 "$BW_TMP/truth2.out")"
fi

# ---- files, stdout, Redis -----------------------------------------------------
check "report writes into [report] out_dir" bw_run -c "$CFG" report
for ext in md html json; do
    test -s "$OUT/2026-W46.$ext" && ok "out_dir/2026-W46.$ext is written" ||
        not_ok "out_dir/2026-W46.$ext is written" "$(ls -la "$OUT")"
done
ls -A "$OUT" >"$BW_TMP/ls"
expect_no_grep "no temp file is left" '^\.' "$BW_TMP/ls"
bw_redis_cli --raw HGET 'bw:report:{org}:2026-W46' md >"$BW_TMP/stored.md"
# redis-cli --raw adds one newline
if printf '\n' | cat "$OUT/2026-W46.md" - | cmp -s - "$BW_TMP/stored.md"; then
    ok "the Markdown is kept in Redis"
else
    not_ok "the Markdown is kept in Redis" "$(head -c 300 "$BW_TMP/stored.md")"
fi
gen0=$(bw_redis_cli HGET 'bw:report:{org}:2026-W46' generations)
log0=$(bw_redis_cli LLEN 'bw:report:{org}:log')
check "report again (a second generation)" bw_run -c "$CFG" report --format md
test "$(bw_redis_cli HGET 'bw:report:{org}:2026-W46' generations)" = $((gen0 + 1)) &&
    ok "the week's hash counts its generations" ||
    not_ok "the week's hash counts its generations" "before: $gen0"
test "$(bw_redis_cli LLEN 'bw:report:{org}:log')" = $((log0 + 1)) &&
    ok "every generation is in the history log" ||
    not_ok "every generation is in the history log" "before: $log0"
bw_redis_cli LINDEX 'bw:report:{org}:log' 0 >"$BW_TMP/log0"
expect_grep "a log entry: generated_at week bytes" "^$NOW 2026-W46 [0-9]+ [0-9]+$" "$BW_TMP/log0"
check "report of an earlier week" bw_run -c "$CFG" report --week 2026-W44 --format json
bw_redis_cli ZRANGE 'bw:report:{org}:weeks' 0 -1 >"$BW_TMP/weeks"
if grep -qx 2026-W44 "$BW_TMP/weeks" && sort -c "$BW_TMP/weeks" 2>/dev/null; then
    ok "the weeks reported are indexed oldest first"
else
    not_ok "the weeks reported are indexed oldest first" "$(cat "$BW_TMP/weeks")"
fi
check "report --team" bw_run -c "$CFG" report --team platform --format md
expect_grep "a team's report is titled with the team" '^# Weekly report 2026-W46: team platform$' "$OUT/2026-W46-platform.md"
test "$(bw_redis_cli EXISTS 'bw:report:{team:platform}:2026-W46')" = 1 &&
    ok "a team's report is kept under its own key" ||
    not_ok "a team's report is kept under its own key"
bw_run -c "$CFG" debug dump >"$BW_TMP/dump" 2>&1
expect_no_grep "report keys stay out of the canonical dump" 'report:' "$BW_TMP/dump"

# the same bytes when re-run with BELLWETHER_NOW fixed
for f in md html json; do
    bw_run -c "$CFG" report --format $f --out "$BW_TMP/a.$f" >/dev/null 2>&1
    bw_run -c "$CFG" report --format $f --out "$BW_TMP/b.$f" >/dev/null 2>&1
    if [ -s "$BW_TMP/a.$f" ] && cmp -s "$BW_TMP/a.$f" "$BW_TMP/b.$f"; then
        ok "re-running gives the same $f bytes"
    else
        not_ok "re-running gives the same $f bytes" "$(diff "$BW_TMP/a.$f" "$BW_TMP/b.$f" | head -n 10)"
    fi
done
check "--out - --format json writes JSON to stdout" bw_run -c "$CFG" report --out - --format json
"$BW_PYTHON" -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["week"]=="2026-W46" and j["indicators"] and j["sections"] and "platform" in j["teams"]' "$BW_OUT" &&
    ok "stdout holds the JSON report" || not_ok "stdout holds the JSON report" "$(head -c 300 "$BW_OUT")"
cp "$BW_OUT" "$BW_TMP/report-w46.json"
# query answers with the report's numbers (issue 7: the same code)
check "query equals the report for every indicator, org and teams" \
    "$BW_PYTHON" "$BW_ROOT/tests/integration/query_vs_report.py" \
    "$BW_TMP/report-w46.json" -- $TEST_PREFIX "$BW_BIN" -c "$CFG"
rm -f "$OUT"/*
check "--format md,html into out_dir" bw_run -c "$CFG" report --format md,html
test "$(ls "$OUT" | tr '\n' ' ')" = "2026-W46.html 2026-W46.md " &&
    ok "only the formats asked for are written" || not_ok "only the formats asked for are written" "$(ls "$OUT")"

# ---- hostile text through the cmark-gfm CLI and the library -------------------
if command -v cmark-gfm >/dev/null 2>&1; then
    for w in 2026-W46 2026-W41 2026-W29; do
        bw_run -c "$CFG" report --week $w --format md --out "$BW_TMP/h-$w.md" >/dev/null 2>&1
        bw_run -c "$CFG" report --week $w --format html --out "$BW_TMP/h-$w.html" >/dev/null 2>&1
        bw_run -c "$CFG" report --week $w --format json --out "$BW_TMP/h-$w.json" >/dev/null 2>&1
        cmark-gfm --extension table --extension strikethrough "$BW_TMP/h-$w.md" >"$BW_TMP/h-$w.cli.html"
    done
    if out=$("$BW_PYTHON" - "$BW_TMP" <<'EOF' 2>&1
import html, json, re, sys
d = sys.argv[1]
def text(h):
    return html.unescape(re.sub(r"<[^>]*>", "", h))
def lit(s):
    s = s.replace("\r\n", " ")
    s = "".join(" " if ord(c) < 32 or ord(c) == 127 or 0x80 <= ord(c) <= 0x9f else c for c in s)
    return s[:100]
problems, n = [], 0
for w in ("2026-W46", "2026-W41", "2026-W29"):
    j = json.load(open("%s/h-%s.json" % (d, w), encoding="utf-8"))
    pages = {k: open("%s/h-%s.%s" % (d, w, k), encoding="utf-8").read()
             for k in ("html", "cli.html")}
    for k, h in pages.items():
        if "<script" in h.lower() or "javascript:" in re.sub(r">[^<]*<", "><", h):
            problems.append("%s %s holds a script or a javascript: link" % (w, k))
    texts = {k: text(h) for k, h in pages.items()}
    for sc in [j] + list(j["teams"].values()):
        for s in sc["sections"]:
            for it in s["items"]:
                for k, t in texts.items():
                    n += 1
                    for want in (it["key"], lit(it["title"] or "")):
                        if want not in t:
                            problems.append("%s %s: %r is not literal text" % (w, k, want))
print("\n".join(problems[:10]) if problems else "%d item titles literal" % n)
sys.exit(1 if problems else 0)
EOF
); then
        ok "item keys and titles are literal text in the HTML of both renderers ($out)"
    else
        not_ok "item keys and titles are literal text in the HTML of both renderers" "$out"
    fi
else
    skip "hostile titles through the cmark-gfm CLI" "cmark-gfm is not installed (sh scripts/bootstrap.sh test)"
fi

# ---- freshness ---------------------------------------------------------------------
expect_grep "the freshness line names every source" '^Data: \*\*gh\*\* synced 2026-11-16 00:00; \*\*jira\*\* synced 2026-11-16 00:00\.$' "$BW_TMP/a.md"
expect_no_grep "fresh sources get no warning" 'older than' "$BW_TMP/a.md"
BELLWETHER_NOW=$((NOW + 10 * 86400)) bw_run -c "$CFG" report --out "$BW_TMP/late.md" >/dev/null 2>&1
expect_grep "a week ending long after the last sync warns" \
    '^> .*Source gh\*\*: its data is older than 2\.0 days at the week' "$BW_TMP/late.md"
expect_grep "a late report is for the last complete week" '^# Weekly report 2026-W47$' "$BW_TMP/late.md"

# ---- usage errors -------------------------------------------------------------------
expect_exit 2 "a week that has not started exits 2" bw_run -c "$CFG" report --week 2027-W10 --out -
expect_grep "it says so" "has not started" "$BW_ERR"
expect_exit 2 "a bad week exits 2" bw_run -c "$CFG" report --week 2026-W99 --out -
expect_exit 2 "an unknown team exits 2" bw_run -c "$CFG" report --team nope --out -
expect_grep "it names the team" "unknown team 'nope'" "$BW_ERR"
expect_exit 2 "an unknown format exits 2" bw_run -c "$CFG" report --format pdf
expect_exit 2 "two formats into one file exit 2" bw_run -c "$CFG" report --format md,json --out "$BW_TMP/x"
expect_exit 2 "a stray argument exits 2" bw_run -c "$CFG" report extra

# ---- nothing half-written ----------------------------------------------------------
printf 'the old report\n' >"$BW_TMP/keep.md"
expect_exit 1 "a file size limit fails the report (exit 1)" \
    sh -c "ulimit -f 4; exec $TEST_PREFIX \"$BW_BIN\" -c \"$CFG\" report --out \"$BW_TMP/keep.md\""
test "$(cat "$BW_TMP/keep.md")" = "the old report" &&
    ok "the old report is left whole" || not_ok "the old report is left whole" "$(head -c 200 "$BW_TMP/keep.md")"
test -z "$(ls -A "$BW_TMP" | grep '^\.keep')" && ok "no temp file is left behind" ||
    not_ok "no temp file is left behind" "$(ls -A "$BW_TMP")"
bw_stop_redis
expect_exit 1 "Redis down exits 1" bw_run -c "$CFG" report --out "$BW_TMP/down.md"
test ! -e "$BW_TMP/down.md" && ok "no report file when Redis is down" ||
    not_ok "no report file when Redis is down"

bw_done
