#!/bin/sh
# t_demo.sh - `bellwether demo`: it writes the Markdown and HTML report of
# the last complete simulated week, prints their paths and a summary, in
# well under 90 s; and it leaves nothing running, whether it ends by
# itself, by SIGINT, or is killed outright (its children then get SIGTERM
# from the kernel). The simulator runs through a wrapper in this script's
# temp dir, so every process the demo starts names $BW_TMP on its command
# line and can be looked for.
. "$(dirname "$0")/lib.sh"

unset BELLWETHER_NOW
mkdir -p "$BW_TMP/t"
cat >"$BW_TMP/apisim-wrapper.py" <<EOF
import runpy, sys
sys.argv[0] = "$BW_ROOT/tests/apisim/apisim"
sys.path.insert(0, "$BW_ROOT/tests/apisim")
runpy.run_path(sys.argv[0], run_name="__main__")
EOF
export BELLWETHER_APISIM=$BW_TMP/apisim-wrapper.py
export TMPDIR=$BW_TMP/t

# processes whose command line names this script's temp dir
leftovers()
{
    ps -eo pid=,args= | grep -F "$BW_TMP" | grep -v -e grep -e "ps -eo" |
        grep -e apisim-wrapper -e redis-server
}

# the simulator runs (the pattern does not match this grep's own command)
running()
{
    ps -eo args= | grep -q "$BW_TMP/apisim-wrapper[.]py --port"
}

wait_gone()
{
    _i=0
    while [ "$_i" -lt 100 ]; do
        [ -z "$(leftovers)" ] && return 0
        sleep 0.1
        _i=$((_i + 1))
    done
    return 1
}

t0=$(date +%s)
if expect_exit 0 "bellwether demo succeeds" bw_run demo --out-dir "$BW_TMP/demo"; then
    t1=$(date +%s)
    [ $((t1 - t0)) -lt 90 ] && ok "the demo takes $((t1 - t0)) s (< 90)" ||
        not_ok "the demo takes under 90 s" "$((t1 - t0)) s"
fi
for ext in md html; do
    test -s "$BW_TMP/demo/2026-W46.$ext" && ok "demo wrote 2026-W46.$ext" ||
        not_ok "demo wrote 2026-W46.$ext" "$(ls -la "$BW_TMP/demo" 2>&1)"
done
expect_grep "it prints the Markdown report's path" "$BW_TMP/demo/2026-W46.md" "$BW_OUT"
expect_grep "it prints the HTML report's path" "$BW_TMP/demo/2026-W46.html" "$BW_OUT"
expect_grep "it prints a summary" "^this week: [0-9]+ PRs merged" "$BW_OUT"
expect_grep "the report has the teams" "^## Team platform" "$BW_TMP/demo/2026-W46.md"
wait_gone && ok "nothing is left running" || not_ok "nothing is left running" "$(leftovers)"
test -z "$(ls -A "$BW_TMP/t")" && ok "the demo's temp dir is removed" ||
    not_ok "the demo's temp dir is removed" "$(ls -A "$BW_TMP/t")"

# SIGINT while it runs: it stops its children and exits 1 (the binary
# itself, not through bw_run: $! must be its pid)
"$BW_BIN" demo --out-dir "$BW_TMP/demo2" >"$BW_TMP/int.out" 2>"$BW_TMP/int.err" &
pid=$!
bw_track_pid "$pid"
bw_wait_for 60 running
kill -INT "$pid"
wait "$pid"
rc=$?
bw_untrack_pid "$pid"
[ "$rc" = 1 ] && ok "SIGINT stops the demo with exit 1" ||
    not_ok "SIGINT stops the demo with exit 1" "exit $rc" "$(tail -n 5 "$BW_TMP/int.err")"
wait_gone && ok "nothing is left running after SIGINT" ||
    not_ok "nothing is left running after SIGINT" "$(leftovers)"
test -z "$(ls -A "$BW_TMP/t")" && ok "the temp dir is removed after SIGINT" ||
    not_ok "the temp dir is removed after SIGINT" "$(ls -A "$BW_TMP/t")"

# killed outright: the kernel sends its children SIGTERM
"$BW_BIN" demo --out-dir "$BW_TMP/demo3" >/dev/null 2>&1 &
pid=$!
bw_track_pid "$pid"
bw_wait_for 60 running
kill -KILL "$pid"
wait "$pid" 2>/dev/null
rc=$?
bw_untrack_pid "$pid"
[ "$rc" = 137 ] && ok "the demo was killed while it ran" ||
    not_ok "the demo was killed while it ran" "exit $rc"
wait_gone && ok "children stop when the demo is killed (PR_SET_PDEATHSIG)" ||
    not_ok "children stop when the demo is killed (PR_SET_PDEATHSIG)" "$(leftovers)"

bw_done
