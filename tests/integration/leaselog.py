#!/usr/bin/env python3
"""leaselog.py - check the API simulator's request log (GET /__log) for
collectors that overlapped on one source (t_coord.sh).

Every request names its process in the User-Agent, "bellwether/VERSION
(pid N)" (DESIGN.md), and the daemon runs each job in its own process, so a
(source, pid) pair is one collection run. For each source the runs' time
spans [first request, last request] must not overlap: the lease keeps two
processes off one source. A request's source is its API: /rest/... is the
Jira source, everything else the GitHub one.

usage: leaselog.py LOG.json VERSION [PID=NAME ...]
  PID=NAME pairs name known processes in the summary (e.g. the cron-style
  collects); other pids are counted as "other".
Prints one summary line per source; exits 1 with the overlaps (or a
malformed User-Agent) listed when there are any.
"""

import json
import re
import sys


def main():
    log = json.load(open(sys.argv[1]))
    version = sys.argv[2]
    names = dict(a.split("=", 1) for a in sys.argv[3:])
    ua_re = re.compile(r"^bellwether/" + re.escape(version) + r" \(pid (\d+)\)$")
    spans = {}  # (source, pid) -> [first, last, requests]
    bad = []
    for e in log:
        m = ua_re.match(e.get("user_agent") or "")
        if not m:
            bad.append("request %s %s has User-Agent %r" %
                       (e.get("method"), e.get("path"), e.get("user_agent")))
            continue
        src = "jira" if e["path"].startswith("/rest/") else "gh"
        key = (src, m.group(1))
        s = spans.setdefault(key, [e["t"], e["t"], 0])
        s[0] = min(s[0], e["t"])
        s[1] = max(s[1], e["t"])
        s[2] += 1
    problems = bad[:10]
    for src in sorted({k[0] for k in spans}):
        runs = sorted((v[0], v[1], pid, v[2])
                      for (s, pid), v in spans.items() if s == src)
        for a, b in zip(runs, runs[1:]):
            if b[0] <= a[1]:
                problems.append(
                    "%s: pid %s (%.3f..%.3f) and pid %s (%.3f..%.3f) overlap"
                    % (src, a[2], a[0], a[1], b[2], b[0], b[1]))
        by = {}
        for r in runs:
            n = names.get(r[2], "other")
            by[n] = by.get(n, 0) + 1
        print("%s: %d runs (%s), %d requests, no two at once" % (
            src, len(runs),
            ", ".join("%s %d" % kv for kv in sorted(by.items())),
            sum(r[3] for r in runs)))
    for p in problems:
        print("PROBLEM: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
