#!/bin/sh
# run.sh - `make bench`: the benchmark figures of the issues, printed and
# written to bench/RESULTS.md (one table, a row per figure: name, value,
# unit, target, scale, date, machine). Not a timed test: a missed target is
# a row that says so, not a failure. bench/README.md explains each figure;
# bench/bench.py does the work (a throw-away redis-server and the API
# simulator on free ports, bellwether's own rusage for CPU and peak RSS).
#
#   sh bench/run.sh [--large SCALE] [--small SCALE] [--runs N] [--out FILE]
#                   [--keep]
#
# BENCH_LARGE, BENCH_SMALL and BENCH_RUNS set the same through make, e.g.
# `BENCH_LARGE=20x1000 make bench` for a shorter run (the scale column says
# what ran). At the default large scale it takes about 5-10 minutes on two
# cores, most of it the simulator serving ~200k GitHub requests.
set -u
cd "$(dirname "$0")/.." || exit 2
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
if ! command -v "$PY" >/dev/null 2>&1; then
    echo "error: python3 not found; run 'sh scripts/bootstrap.sh test'" >&2
    exit 1
fi
exec "$PY" bench/bench.py "$@"
