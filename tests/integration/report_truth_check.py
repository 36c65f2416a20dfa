#!/usr/bin/env python3
"""report_truth_check.py - every number of `bellwether report --format
json` equals an independent computation from the API simulator's /__truth.

For each --week it runs the report (the organisation, with a section per
[team]) and checks, for the organisation and every team:

  indicators  this week, last week and every week of the trend (by
              truth_metrics.py, the query helper's independent Python
              implementation of METRICS.md), the change Δ (percent, or
              percentage points for ratios), the target (parsed here from
              the INI) and its status per METRICS.md "Targets", walked
              week by week over the trend
  sections    every value (metric, statistic) of the week
  lists       the PRs waiting longest for a first review, the oldest work
              in progress and the tickets blocked over 3 days: computed
              here from /__truth's items at the week's end (keys in order,
              values, how many there were, PR titles and URLs verbatim)

Floats compare to |a - b| <= 1e-6 (DESIGN.md). Prints one line per
difference and exits 1 when there is any; else prints what it checked.

    report_truth_check.py --url APISIM_URL --config bw.ini --now EPOCH
        --bellwether "./bellwether -c bw.ini" --week 2026-W46 [--week ...]
"""

import argparse
import json
import os
import re
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import truth_metrics as tm  # noqa: E402

TOL = 1e-6
SHORT = 5      # BW_REPORT_SHORT_LIST
MAX_ITEMS = 20  # BW_REPORT_MAX_ITEMS
DEFAULT_INDICATORS = [
    ("pr_cycle_time", "p50"), ("pr_pickup_time", "p50"),
    ("pr_merged", "value"), ("pr_open_awaiting_review", "value"),
    ("pr_unreviewed_merge_rate", "value"), ("review_load_top_share", "value"),
    ("ticket_cycle_time", "p50"), ("ticket_throughput", "value"),
    ("ticket_wip", "value"), ("ticket_blocked_over_3d", "value"),
]


# ------------------------------------------------------------------ targets

def parse_bound(text, unit):
    """A [target] bound in the metric's unit (METRICS.md "Targets")."""
    s = text.strip()
    if unit in ("hours", "days"):
        m = re.fullmatch(r"([0-9.]+)\s*([smhdw]?)", s)
        if not m:
            raise ValueError("bad bound %r" % text)
        v = float(m.group(1))
        if not m.group(2):
            return v
        secs = v * {"s": 1, "m": 60, "h": 3600, "d": 86400,
                    "w": 7 * 86400}[m.group(2)]
        return secs / (3600.0 if unit == "hours" else 86400.0)
    if unit == "ratio":
        return float(s[:-1]) / 100.0 if s.endswith("%") else float(s)
    return float(s)


def read_targets(path):
    import configparser
    cp = configparser.ConfigParser(inline_comment_prefixes=(";", "#"),
                                   interpolation=None)
    cp.optionxform = str
    cp.read(path)
    out = {}
    for sec in cp.sections():
        if not sec.startswith("target "):
            continue
        metric = sec[7:].strip()
        unit = tm.METRICS[metric][2]
        s = cp[sec]
        margin = s.get("at_risk_margin", "10%")
        out[metric] = {
            "stat": s.get("stat"),
            "max": parse_bound(s["max"], unit) if "max" in s else None,
            "min": parse_bound(s["min"], unit) if "min" in s else None,
            "margin": parse_bound(margin, "ratio"),
        }
    return out


def status(t, v, prev):
    """METRICS.md: off track outside the bound; at risk inside but within
    the margin of it, or right after an off-track week; else on track;
    no data, no status."""
    if v is None:
        return None
    inside, near = True, False
    if t["max"] is not None:
        if v > t["max"]:
            inside = False
        elif v > t["max"] * (1 - t["margin"]):
            near = True
    if t["min"] is not None:
        if v < t["min"]:
            inside = False
        elif v < t["min"] * (1 + t["margin"]):
            near = True
    if not inside:
        return "off track"
    if near or prev == "off track":
        return "at risk"
    return "on track"


def delta(this, last, ratio):
    """Δ per METRICS.md: (this - last) / last in percent, or the difference
    in percentage points for ratios; no data (None) when last is 0 or
    either side has no data."""
    if this is None or last is None or last == 0:
        return None
    if ratio:
        return (this - last) * 100.0
    return (this - last) / last * 100.0


# ------------------------------------------------------------------- checks

class Checker:
    def __init__(self, truth, conf, targets, now):
        self.truth = truth
        self.conf = conf
        self.targets = targets
        self.now = now
        self.cal = truth.cal
        self.diffs = []
        self.checked = 0
        self.cache = {}

    def diff(self, where, what, got, want):
        self.diffs.append("%s: %s: got %r, want %r" % (where, what, got, want))

    def same(self, where, what, got, want):
        self.checked += 1
        if got is None or want is None:
            if got is not None or want is not None:
                self.diff(where, what, got, want)
            return
        if isinstance(want, str) or isinstance(got, str):
            if got != want:
                self.diff(where, what, got, want)
            return
        if abs(float(got) - float(want)) > TOL:
            self.diff(where, what, got, want)

    def weeks_back(self, week, n):
        """The n ISO weeks ending with week, oldest first."""
        y, w = int(week[:4]), int(week[6:])
        out = []
        t = self.cal.week_start(y, w)
        for _ in range(n):
            yy, ww = self.cal.week_of(t)
            out.append("%04d-W%02d" % (yy, ww))
            t = self.cal.week_start(yy, ww) - 1
        return list(reversed(out))

    def rows(self, metric, team, first, last):
        key = (metric, team, first, last)
        if key not in self.cache:
            where = [("team", team)] if team else []
            res = self.truth.query(metric, by="week", frm=first, to=last,
                                   now=self.now, where=where)
            self.cache[key] = {r["week"]: r for r in res["rows"]}
        return self.cache[key]

    def value(self, metric, stat, team, week):
        r = self.rows(metric, team, week, week).get(week, {})
        return r.get(stat)

    # ---- indicators ----

    def indicators(self, sc, team, week, where):
        n = self.conf.weeks_of_trend
        nweeks = max(n, 2)
        weeks = self.weeks_back(week, nweeks)
        got = {(i["metric"], i["stat"]): i for i in sc["indicators"]}
        for m, s in DEFAULT_INDICATORS:
            if (m, s) not in got and self.subject_shown(m, sc):
                self.diff(where, "indicator %s %s" % (m, s), "absent",
                          "present")
        for m, t in self.targets.items():
            if (m, t["stat"]) not in got:
                self.diff(where, "target indicator %s %s" % (m, t["stat"]),
                          "absent", "present")
        for ind in sc["indicators"]:
            m, s = ind["metric"], ind["stat"]
            w = "%s %s %s" % (where, m, s)
            rows = self.rows(m, team, weeks[0], weeks[-1])
            vals = [rows.get(x, {}).get(s) for x in weeks]
            self.same(w, "this", ind["this"], vals[-1])
            self.same(w, "last", ind["last"], vals[-2])
            if len(ind["trend"]) != n:
                self.diff(w, "trend length", len(ind["trend"]), n)
            else:
                for x, g, v in zip(weeks[-n:], ind["trend"], vals[-n:]):
                    self.same(w, "trend " + x, g, v)
            ratio = tm.METRICS[m][2] == "ratio"
            self.same(w, "delta", ind["delta"],
                      delta(vals[-1], vals[-2], ratio))
            t = self.targets.get(m)
            if t is None or t["stat"] != s:
                if ind["target"] is not None or ind["status"] is not None:
                    self.diff(w, "target", ind["target"], None)
                continue
            tg = ind["target"] or {}
            self.same(w, "target max", tg.get("max"), t["max"])
            self.same(w, "target min", tg.get("min"), t["min"])
            self.same(w, "target margin", tg.get("at_risk_margin"),
                      t["margin"])
            prev = None
            for v in vals:
                prev = status(t, v, prev)
            self.same(w, "status", ind["status"], prev)

    def subject_shown(self, metric, sc):
        subj = tm.METRICS[metric][0]
        ids = {s["id"] for s in sc["sections"]}
        return ("pull_requests" in ids) if subj == "pr" else \
            ("tickets" in ids)

    # ---- lists ----

    def expected_items(self, section, team, week):
        y, w = int(week[:4]), int(week[6:])
        T = min(self.cal.week_end(y, w), self.now)
        tr = self.truth
        items = []
        if section == "awaiting_review":
            for p in tr.prs:
                if p["excluded"] or (team and not tr.pr_in_team(p, team)):
                    continue
                if tr.pr_awaiting_at(p, T):
                    items.append(("%s#%d" % (p["repo"], p["number"]),
                                  (T - p["ready_at"]) / tm.HOUR, p))
            keep = SHORT
        else:
            for t in tr.tickets:
                if t["excluded"] or (team and not tr.ticket_in_team(t, team)):
                    continue
                if not tr.ticket_in_progress_at(t, T):
                    continue
                if section == "ageing_wip":
                    items.append((t["key"], (T - t["started_at"]) / tm.DAY,
                                  None))
                else:
                    s = tr.ticket_blocked_since(t, T)
                    if s is not None and T - s >= tm.BLOCKED_OVER:
                        items.append((t["key"], (T - s) / tm.DAY, None))
            keep = SHORT if section == "ageing_wip" else MAX_ITEMS
        items.sort(key=lambda x: (-x[1], x[0]))
        return items[:keep], len(items)

    def sections(self, sc, team, week, where):
        for sec in sc["sections"]:
            w = "%s %s" % (where, sec["id"])
            for v in sec["values"]:
                self.same(w, "%s %s" % (v["metric"], v["stat"]), v["value"],
                          self.value(v["metric"], v["stat"], team, week))
            if sec["item_metric"] is None:
                continue
            want, total = self.expected_items(sec["id"], team, week)
            self.same(w, "items_total", sec["items_total"], total)
            got = sec["items"]
            if [i["key"] for i in got] != [k for k, _, _ in want]:
                self.diff(w, "item keys", [i["key"] for i in got],
                          [k for k, _, _ in want])
                continue
            for i, (k, v, p) in zip(got, want):
                self.same(w, "item %s value" % k, i["value"], v)
                if p is not None:
                    self.same(w, "item %s title" % k, i["title"], p["title"])
                    self.same(w, "item %s url" % k, i["url"], p["url"])

    def report(self, j, week):
        if j["week"] != week:
            self.diff(week, "week", j["week"], week)
        self.same(week, "timezone", j["timezone"], self.conf.zone)
        scopes = [(None, j)] + [(n, sc) for n, sc in j["teams"].items()]
        if sorted(j["teams"]) != sorted(self.conf.team_order):
            self.diff(week, "teams", sorted(j["teams"]),
                      sorted(self.conf.team_order))
        for team, sc in scopes:
            where = "%s %s" % (week, "team " + team if team else "org")
            self.indicators(sc, team, week, where)
            self.sections(sc, team, week, where)


def drop_archived(truth, config, url):
    """`org =` collects the organisation's repositories that are not
    archived (issue 4): leave the archived ones' PRs out of the truth too
    (truth_metrics.Conf keeps only `repos`)."""
    import configparser
    import urllib.request
    cp = configparser.ConfigParser(inline_comment_prefixes=(";", "#"),
                                   interpolation=None)
    cp.read(config)
    listed = set()
    orgs = []
    for sec in cp.sections():
        if sec.startswith("source ") and cp[sec].get("type") == "github":
            listed |= {r.lower() for r in tm._list(cp[sec].get("repos"))}
            if cp[sec].get("org"):
                orgs.append(cp[sec]["org"].strip())
    archived = set()
    for org in orgs:
        for page in range(1, 100):
            u = "%s/orgs/%s/repos?per_page=100&page=%d" % (url.rstrip("/"),
                                                            org, page)
            with urllib.request.urlopen(u, timeout=60) as r:
                repos = json.loads(r.read().decode("utf-8"))
            if not repos:
                break
            archived |= {x["full_name"].lower() for x in repos
                         if x.get("archived")}
    archived -= listed
    truth.prs = [p for p in truth.prs if p["repo"].lower() not in archived]
    return sorted(archived)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--now", type=int, required=True)
    ap.add_argument("--bellwether", required=True,
                    help="command prefix, e.g. './bellwether -c bw.ini'")
    ap.add_argument("--week", action="append", required=True)
    ap.add_argument("--jira-auth")
    a = ap.parse_args(argv)
    conf = tm.Conf.from_ini(a.config)
    truth = tm.Truth.load(a.url, conf, a.jira_auth)
    drop_archived(truth, a.config, a.url)
    ck = Checker(truth, conf, read_targets(a.config), a.now)
    for week in a.week:
        cmd = shlex.split(a.bellwether) + ["report", "--week", week,
                                           "--format", "json", "--out", "-"]
        p = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=300)
        if p.returncode != 0:
            print("%s: report exited %d: %s" % (week, p.returncode,
                                                p.stderr.decode()[-500:]))
            return 1
        ck.report(json.loads(p.stdout.decode("utf-8")), week)
    for d in ck.diffs[:200]:
        print(d)
    if ck.diffs:
        print("%d differences in %d numbers" % (len(ck.diffs), ck.checked))
        return 1
    print("%d numbers of %d weeks equal the truth" % (ck.checked,
                                                       len(a.week)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
