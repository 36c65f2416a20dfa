#!/bin/sh
# t_load.sh - the load test of issue 9, run only by `make soak`
# (tests/run-soak.sh sets BW_SOAK=1; make test lists it as skipped).
#
# One Redis and one simulator (GitHub and Jira, BW_LOAD_SCALE, default
# small, a little latency so that the runs overlap). A sequential run
# first: collect, then report, into their own prefix. Then five collects and
# five reports at once into another prefix, with leases on (they always
# are: a collect that finds its source leased skips it, exit 0). Checks:
# every run exits 0, the data keys then equal the sequential run's (canonical
# dump), the report directory written by five reports at once holds only
# whole files (no temp file left, JSON that parses, HTML that ends), and
# one more report equals the sequential one byte for byte.
. "$(dirname "$0")/lib.sh"
if [ -z "${BW_SOAK:-}" ]; then
    bw_skip_all "the load test runs under make soak (tests/run-soak.sh)"
fi
BW_FAULT_SCALE=${BW_LOAD_SCALE:-small}
. "$(dirname "$0")/faultlib.sh"
N=${BW_LOAD_RUNS:-5}

bw_start_redis
fl_sim --latency-ms 5
FL_PROJECTS=$(fl_projects)
echo "# scale $FL_SCALE, $N collects and $N reports at once, projects $FL_PROJECTS"

# ---- the sequential run -------------------------------------------------

mkdir -p "$BW_TMP/rep.seq" "$BW_TMP/rep.par"
FL_CONF_TAIL="[report]
timezone = UTC
out_dir = $BW_TMP/rep.seq"
fl_conf "$BW_TMP/seq.ini" "seq:" "gh jira"
FL_CONF_TAIL="[report]
timezone = UTC
out_dir = $BW_TMP/rep.par"
fl_conf "$BW_TMP/par.ini" "par:" "gh jira"
FL_CONF_TAIL=""

fl_collect "$BW_TMP/seq.ini"
if [ "$FL_RC" != 0 ]; then
    not_ok "the sequential collect exits 0" "exit status $FL_RC" \
        "$(bw_last_output)"
    bw_done
fi
fl_dump "$BW_TMP/seq.ini" "$BW_TMP/dump.seq"
ok "sequential collect: $(fl_count_items "$BW_TMP/dump.seq") items" \
    "(${FL_SECS}s)"
REPORTS=1
# shellcheck disable=SC2086
timeout -k 5 300 $TEST_PREFIX "$BW_BIN" -c "$BW_TMP/seq.ini" report \
    --week 2026-W46 >"$BW_OUT" 2>"$BW_ERR" </dev/null
rc=$?
if [ "$rc" != 0 ] && fl_not_impl "$BW_ERR"; then
    skip "reports under load" "'report' is not implemented yet"
    REPORTS=""
elif [ "$rc" = 0 ]; then
    ok "sequential report: $(ls "$BW_TMP/rep.seq" | tr '\n' ' ')"
else
    not_ok "the sequential report exits 0" "exit status $rc" \
        "$(bw_last_output)"
    REPORTS=""
fi

# ---- N collects and N reports at once ------------------------------------

# the reports need the store's schema to exist; reports on a store being
# filled report whatever is there (they are checked for whole files only)
pids=""
t0=$(fl_now_ms)
i=0
while [ "$i" -lt "$N" ]; do
    i=$((i + 1))
    # shellcheck disable=SC2086
    timeout -k 5 600 $TEST_PREFIX "$BW_BIN" -c "$BW_TMP/par.ini" collect \
        >"$BW_TMP/c$i.out" 2>"$BW_TMP/c$i.err" </dev/null &
    pids="$pids $!"
    echo "$!" >"$BW_TMP/c$i.pid"
    if [ -n "$REPORTS" ]; then
        # shellcheck disable=SC2086
        timeout -k 5 600 $TEST_PREFIX "$BW_BIN" -c "$BW_TMP/par.ini" report \
            --week 2026-W46 >"$BW_TMP/r$i.out" 2>"$BW_TMP/r$i.err" \
            </dev/null &
        echo "$!" >"$BW_TMP/r$i.pid"
    fi
done
i=0
bad=""
skipped=0
while [ "$i" -lt "$N" ]; do
    i=$((i + 1))
    wait "$(cat "$BW_TMP/c$i.pid")"
    rc=$?
    [ "$rc" = 0 ] || bad="$bad collect$i=$rc($(head -c 200 "$BW_TMP/c$i.err"))"
    if grep -Eqi 'lease|another process|skipp' "$BW_TMP/c$i.out" \
        "$BW_TMP/c$i.err"; then
        skipped=$((skipped + 1))
    fi
    fl_san "$BW_TMP/c$i.err" "concurrent collect $i"
    if [ -n "$REPORTS" ]; then
        wait "$(cat "$BW_TMP/r$i.pid")"
        rc=$?
        [ "$rc" = 0 ] || bad="$bad report$i=$rc($(head -c 200 "$BW_TMP/r$i.err"))"
        fl_san "$BW_TMP/r$i.err" "concurrent report $i"
    fi
done
secs=$(fl_since "$t0")
if [ -z "$bad" ]; then
    ok "$N collects${REPORTS:+ and $N reports} at once all exit 0 (${secs}s;" \
        "$skipped collects said a lease held them off)"
else
    not_ok "$N collects${REPORTS:+ and $N reports} at once all exit 0" "$bad"
fi
fl_dump "$BW_TMP/par.ini" "$BW_TMP/dump.par"
fl_same "after them the data keys equal the sequential run's" \
    "$BW_TMP/dump.par" "$BW_TMP/dump.seq"

# one more collect changes nothing
fl_collect "$BW_TMP/par.ini"
fl_dump "$BW_TMP/par.ini" "$BW_TMP/dump.par2"
if [ "$FL_RC" = 0 ]; then
    fl_same "one more collect changes no data key" "$BW_TMP/dump.par2" \
        "$BW_TMP/dump.seq"
else
    not_ok "one more collect exits 0" "exit status $FL_RC" "$(bw_last_output)"
fi

# ---- the reports written at once -------------------------------------------

if [ -n "$REPORTS" ]; then
    extra=$(ls -A "$BW_TMP/rep.par" | grep -Ev '^2026-W46\.(md|html|json)$')
    if [ -z "$extra" ]; then
        ok "the report directory holds only the reports" \
            "($(ls "$BW_TMP/rep.par" | tr '\n' ' '))"
    else
        not_ok "the report directory holds only the reports" "left: $extra"
    fi
    whole=""
    for f in "$BW_TMP"/rep.par/*.json; do
        [ -f "$f" ] || continue
        "$BW_PYTHON" -c 'import json, sys; json.load(open(sys.argv[1]))' \
            "$f" 2>/dev/null || whole="$whole $(basename "$f"):not-json"
    done
    for f in "$BW_TMP"/rep.par/*.html; do
        [ -f "$f" ] || continue
        tail -c 200 "$f" | grep -qi '</html>' ||
            whole="$whole $(basename "$f"):no-</html>"
    done
    for f in "$BW_TMP"/rep.par/*; do
        [ -s "$f" ] || whole="$whole $(basename "$f"):empty"
    done
    if [ -z "$whole" ]; then
        ok "each report written under load is whole"
    else
        not_ok "each report written under load is whole" "$whole"
    fi
    # shellcheck disable=SC2086
    timeout -k 5 300 $TEST_PREFIX "$BW_BIN" -c "$BW_TMP/par.ini" report \
        --week 2026-W46 >"$BW_OUT" 2>"$BW_ERR" </dev/null
    rc=$?
    expect_eq "a report after the load: exit" "$rc" 0
    diffs=""
    for f in "$BW_TMP"/rep.seq/*; do
        b=$(basename "$f")
        cmp -s "$f" "$BW_TMP/rep.par/$b" || diffs="$diffs $b"
    done
    if [ -z "$diffs" ]; then
        ok "it equals the sequential run's report byte for byte"
    else
        not_ok "it equals the sequential run's report byte for byte" \
            "differ:$diffs" "$(diff "$BW_TMP/rep.seq/2026-W46.md" \
                "$BW_TMP/rep.par/2026-W46.md" | head -n 12)"
    fi
fi

bw_done
