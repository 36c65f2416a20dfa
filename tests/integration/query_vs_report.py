#!/usr/bin/env python3
"""query_vs_report.py - `bellwether query` and the weekly report are the
same numbers (issue 7: "for any week and team, query's numbers equal the
report's JSON"): for every indicator of a JSON report (the organisation's
and each team's), the query of that metric and statistic by week over the
report's trend weeks must give the trend, this week and last week exactly.

usage: query_vs_report.py REPORT.json -- BELLWETHER [ARGS...]
(the command prefix runs bellwether, e.g. `./bellwether -c bw.ini`).
Prints one line per mismatch and exits 1 on any, else prints a count."""
import datetime
import json
import subprocess
import sys


def weeks_back(week, n):
    y, w = int(week[:4]), int(week[6:])
    d = datetime.date.fromisocalendar(y, w, 1)
    out = []
    for i in range(n - 1, -1, -1):
        iy, iw, _ = (d - datetime.timedelta(weeks=i)).isocalendar()
        out.append("%d-W%02d" % (iy, iw))
    return out


def same(a, b):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-6


def main():
    path = sys.argv[1]
    cmd = sys.argv[sys.argv.index("--") + 1:]
    rep = json.load(open(path, encoding="utf-8"))
    scopes = [(None, rep)] + sorted((rep.get("teams") or {}).items())
    bad = checked = 0
    for team, body in scopes:
        for ind in body["indicators"]:
            metric, stat, trend = ind["metric"], ind["stat"], ind["trend"]
            weeks = weeks_back(rep["week"], len(trend))
            q = cmd + ["query", metric, "--from", weeks[0], "--to",
                       weeks[-1], "--by", "week", "--stat", stat,
                       "--format", "json"]
            if team:
                q += ["--where", "team=" + team]
            p = subprocess.run(q, capture_output=True, text=True,
                               timeout=120)
            if p.returncode != 0:
                print("query failed: %s: %s" % (" ".join(q[len(cmd):]),
                                                p.stderr.strip()))
                bad += 1
                continue
            rows = {r["week"]: r.get(stat) for r in
                    json.loads(p.stdout)["rows"]}
            got = [rows.get(w) for w in weeks]
            where = "%s %s%s" % (metric, stat,
                                 " team " + team if team else "")
            checked += 1
            if not all(same(a, b) for a, b in zip(got, trend)):
                print("%s: query %s != report trend %s" % (where, got,
                                                          trend))
                bad += 1
            elif not same(got[-1], ind["this"]) or \
                    not same(got[-2], ind["last"]):
                print("%s: this/last differ: query %s %s, report %s %s" %
                      (where, got[-1], got[-2], ind["this"], ind["last"]))
                bad += 1
    print("%d indicators compared, %d differences" % (checked, bad))
    return 1 if bad or not checked else 0


if __name__ == "__main__":
    sys.exit(main())
