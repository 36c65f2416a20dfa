#!/usr/bin/env python3
"""truth_metrics.py - every metric of METRICS.md computed from the API
simulator's /__truth, independently of bellwether's C code.

It reads what METRICS.md reads: the per-PR and per-ticket fields of
/__truth (asked with the same rule parameters as the bellwether config),
their events, transitions and blocked spells, and the Jira status catalog
(GET /rest/api/2/status, where a status's category lives), and it follows
METRICS.md and DESIGN.md ("Command line") to the letter: ISO weeks and
months cut in the [report] timezone, event metrics in the period of their
event, point-in-time metrics at each period's end (the current period's
end being now) or at the range's end for other groupings, exclusions,
teams, numpy-linear percentiles, no data as None.

Used by tests/integration/t_query.sh (query's numbers) and by the report's
exactness test (tests/integration/report_truth_check.py). As a module:

    import truth_metrics as tm
    conf = tm.Conf.from_ini("bw.ini")          # teams, zone, rules, scopes
    truth = tm.Truth.load(APISIM_URL, conf)    # /__truth + status catalog
    res = truth.query("pr_pickup_time", by="week", frm="2026-W40",
                      to="2026-W46", now=NOW, where=[("team", "platform")])
    res["rows"]                                # as `bellwether query --format
                                               # json --stat ALL` prints them
    truth.week_value("ticket_wip", 2026, 46, team="platform", stat="value")

As a command:

    truth_metrics.py query --url URL --config FILE --now EPOCH METRIC
        [--by B] [--from D] [--to D] [--where K=V]...   -> JSON on stdout
    truth_metrics.py compare --url URL --config FILE --now EPOCH
        --bellwether "CMD..." METRIC [same options]     -> exit 1 on a
        difference, one line per difference
"""

import argparse
import bisect
import calendar
import configparser
import datetime
import json
import math
import os
import shlex
import subprocess
import sys
import urllib.parse
import urllib.request

try:
    from zoneinfo import ZoneInfo
except ImportError:  # pragma: no cover
    ZoneInfo = None

HOUR = 3600.0
DAY = 86400.0
WEEK = 7 * 86400
BLOCKED_OVER = 72 * 3600
LARGE = 400
STATS = ["count", "sum", "mean", "min", "max", "p50", "p75", "p85", "p90",
         "p95", "p99"]

# name: (subject, kind, unit), as METRICS.md tables them
METRICS = {
    "pr_coding_time": ("pr", "duration", "hours"),
    "pr_pickup_time": ("pr", "duration", "hours"),
    "pr_review_time": ("pr", "duration", "hours"),
    "pr_cycle_time": ("pr", "duration", "hours"),
    "pr_time_to_first_response": ("pr", "duration", "hours"),
    "pr_size": ("pr", "distribution", "lines"),
    "pr_merged": ("pr", "count", "count"),
    "pr_opened": ("pr", "count", "count"),
    "pr_unreviewed_merge_rate": ("pr", "rate", "ratio"),
    "pr_large_rate": ("pr", "rate", "ratio"),
    "pr_open_awaiting_review": ("pr", "point-in-time", "count"),
    "pr_stale": ("pr", "point-in-time", "count"),
    "review_count_by_reviewer": ("pr", "count", "count"),
    "review_load_top_share": ("pr", "rate", "ratio"),
    "ticket_cycle_time": ("ticket", "duration", "days"),
    "ticket_lead_time": ("ticket", "duration", "days"),
    "ticket_throughput": ("ticket", "count", "count"),
    "ticket_wip": ("ticket", "point-in-time", "count"),
    "ticket_age_in_progress": ("ticket", "duration", "days"),
    "ticket_blocked_over_3d": ("ticket", "point-in-time", "count"),
    "ticket_blocked_share": ("ticket", "distribution", "ratio"),
    "bug_cycle_time": ("ticket", "duration", "days"),
    "ticket_reopen_rate": ("ticket", "rate", "ratio"),
    "ticket_net_flow": ("ticket", "count", "count"),
}
RANGE_END = "(range end)"   # the instant of a grouping that is no period
PIT = {"pr_open_awaiting_review", "pr_stale", "ticket_wip",
       "ticket_age_in_progress", "ticket_blocked_over_3d"}


def has_stats(metric):
    return METRICS[metric][1] in ("duration", "distribution")


# ------------------------------------------------------------ statistics

def percentile(sorted_values, q):
    """numpy.percentile's default: linear between closest ranks."""
    n = len(sorted_values)
    if n == 0:
        return None
    pos = (n - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * \
        (pos - lo)


def statistics(values):
    v = sorted(values)
    n = len(v)
    out = {"count": n, "sum": math.fsum(v),
           "mean": math.fsum(v) / n if n else None,
           "min": v[0] if n else None, "max": v[-1] if n else None}
    for name, q in (("p50", .5), ("p75", .75), ("p85", .85), ("p90", .9),
                    ("p95", .95), ("p99", .99)):
        out[name] = percentile(v, q)
    return out


# ---------------------------------------------------------------- calendar

class Calendar:
    """ISO weeks and months of a time zone. A local midnight maps to the
    first instant the local clock reaches it (a skipped one: the end of
    the gap), as METRICS.md and clock.h say."""

    def __init__(self, zone="UTC"):
        self.tz = datetime.timezone.utc if zone in (None, "", "UTC") \
            else ZoneInfo(zone)

    def local(self, t):
        return datetime.datetime.fromtimestamp(t, self.tz)

    def _wall(self, t):
        d = self.local(t).replace(tzinfo=None)
        return calendar.timegm(d.timetuple())

    def resolve(self, date):
        """First instant whose local wall time reaches date 00:00."""
        naive = datetime.datetime(date.year, date.month, date.day)
        target = calendar.timegm(naive.timetuple())
        if self.tz is datetime.timezone.utc:
            return target
        found = []
        for fold in (0, 1):
            t = int(naive.replace(tzinfo=self.tz, fold=fold).timestamp())
            if self._wall(t) == target:
                found.append(t)
        if found:
            return min(found)       # a repeated time: its first occurrence
        lo, hi = target - 2 * 86400, target + 2 * 86400
        while lo < hi:              # a skipped time: the end of the gap
            mid = (lo + hi) // 2
            if self._wall(mid) >= target:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def week_start(self, y, w):
        return self.resolve(datetime.date.fromisocalendar(y, w, 1))

    def week_of(self, t):
        iy, iw, _ = self.local(t).isocalendar()
        return iy, iw

    def week_next(self, y, w):
        d = datetime.date.fromisocalendar(y, w, 1) + datetime.timedelta(7)
        iy, iw, _ = d.isocalendar()
        return iy, iw

    def week_end(self, y, w):
        return self.week_start(*self.week_next(y, w))

    def month_start(self, y, m):
        return self.resolve(datetime.date(y, m, 1))

    def month_of(self, t):
        d = self.local(t)
        return d.year, d.month

    @staticmethod
    def month_next(y, m):
        return (y + 1, 1) if m == 12 else (y, m + 1)

    def month_end(self, y, m):
        return self.month_start(*self.month_next(y, m))

    def day_start(self, date):
        return self.resolve(date)

    def parse(self, s, end):
        """--from/--to: YYYY-MM-DD or YYYY-Www; end gives the exclusive
        end of the inclusive day or week."""
        if "W" in s.upper():
            y, w = s.upper().split("-W")
            y, w = int(y), int(w)
            return self.week_end(y, w) if end else self.week_start(y, w)
        d = datetime.date.fromisoformat(s)
        if end:
            d += datetime.timedelta(1)
        return self.day_start(d)

    def fmt_date(self, t):
        return self.local(t).strftime("%Y-%m-%d")


def query_range(cal, frm, to, by, weeks_of_trend, now):
    """DESIGN.md's range rules: [from, to)."""
    n = weeks_of_trend or 12
    f = cal.parse(frm, False) if frm else None
    t = cal.parse(to, True) if to else None
    if t is None:
        if f is not None:
            t = now
        else:
            y, w = cal.week_of(now)
            t = cal.week_start(y, w)       # the end of the last complete one
    if f is None:
        y, w = cal.week_of(t - 1)
        d = datetime.date.fromisocalendar(y, w, 1) - \
            datetime.timedelta(7 * (n - 1))
        iy, iw, _ = d.isocalendar()
        f = cal.week_start(iy, iw)
    if f >= t:
        raise ValueError("from after to")
    if by == "week":
        f = cal.week_start(*cal.week_of(f))
        t = cal.week_end(*cal.week_of(t - 1))
    elif by == "month":
        f = cal.month_start(*cal.month_of(f))
        t = cal.month_end(*cal.month_of(t - 1))
    return f, t


def periods(cal, by, f, t, now):
    """[(name, start, end)]; end clamped to now; none starting at now or
    later."""
    out = []
    if by == "week":
        y, w = cal.week_of(f)
        while True:
            s, e = cal.week_start(y, w), cal.week_end(y, w)
            if s >= t or s >= now:
                break
            out.append(("%04d-W%02d" % (y, w), s, min(e, now)))
            y, w = cal.week_next(y, w)
    elif by == "month":
        y, m = cal.month_of(f)
        while True:
            s, e = cal.month_start(y, m), cal.month_end(y, m)
            if s >= t or s >= now:
                break
            out.append(("%04d-%02d" % (y, m), s, min(e, now)))
            y, m = cal.month_next(y, m)
    elif f < now:
        out.append((None, f, min(t, now)))
    return out


# ------------------------------------------------------------------ config

def _list(v):
    if v is None:
        return []
    return [x.strip() for x in v.replace("\n", ",").split(",") if x.strip()]


class Conf:
    """What of a bellwether config the numbers depend on."""

    def __init__(self):
        self.zone = "UTC"
        self.weeks_of_trend = 12
        self.teams = {}            # name -> dict of lists
        self.team_order = []
        self.gh = {}               # rules of the (one) github source
        self.jira = {}             # rules of the (one) jira source
        self.repos = None          # collected repositories (None: all)
        self.org = None            # [source] org: its non-archived repos
        self.projects = None
        self.gh_since = None
        self.jira_since = None

    @classmethod
    def from_ini(cls, path):
        cp = configparser.ConfigParser(inline_comment_prefixes=(";", "#"),
                                       interpolation=None)
        cp.optionxform = str
        cp.read(path)
        c = cls()
        for sec in cp.sections():
            s = cp[sec]
            if sec == "report":
                c.zone = s.get("timezone", "UTC")
                c.weeks_of_trend = int(s.get("weeks_of_trend", "12"))
            elif sec.startswith("team "):
                name = sec[5:].strip()
                c.team_order.append(name)
                c.teams[name] = {k: _list(s.get(k)) for k in
                                 ("repos", "projects", "members",
                                  "jira_users")}
            elif sec.startswith("source "):
                since = s.get("since")
                since = calendar.timegm(datetime.date.fromisoformat(
                    since).timetuple()) if since else None
                if s.get("type") == "github":
                    c.gh = {k: s.get(k) for k in ("exclude_users",
                            "include_bot_prs", "exclude_labels",
                            "exclude_base") if s.get(k) is not None}
                    c.repos = _list(s.get("repos")) or None
                    c.org = s.get("org")
                    c.gh_since = since
                elif s.get("type") == "jira":
                    c.jira = {k: s.get(k) for k in (
                        "blocked_statuses", "stage_todo",
                        "stage_in_progress", "stage_done", "exclude_types",
                        "exclude_labels") if s.get(k) is not None}
                    c.projects = _list(s.get("projects")) or None
                    c.jira_since = since
        return c

    def truth_params(self):
        p = dict(self.gh)
        for k, v in self.jira.items():
            p["jira_exclude_labels" if k == "exclude_labels" else k] = v
        if "jira_exclude_labels" not in p:
            p["jira_exclude_labels"] = ""
        return p


# ------------------------------------------------------------------- truth

def _get_json(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read().decode("utf-8"))


def ci(a, b):
    return a is not None and b is not None and a.lower() == b.lower()


def ci_in(x, values):
    return x is not None and any(ci(x, v) for v in values)


class Truth:
    def __init__(self, truth, catalog, conf):
        self.conf = conf
        self.cal = Calendar(conf.zone)
        self.now = truth.get("now")
        self.catalog = catalog      # status name -> category key
        self.prs = [p for p in truth.get("prs", {}).values()
                    if self._pr_collected(p)]
        self.tickets = [t for t in truth.get("tickets", {}).values()
                        if self._ticket_collected(t)]
        self._stage_rules()
        for t in self.tickets:
            self._ticket_prepare(t)
        for p in self.prs:
            self._pr_prepare(p)

    @classmethod
    def load(cls, url, conf, jira_auth=None):
        q = urllib.parse.urlencode(conf.truth_params())
        truth = _get_json(url.rstrip("/") + "/__truth?" + q)
        headers = {}
        if jira_auth:
            headers["Authorization"] = jira_auth
        try:
            st = _get_json(url.rstrip("/") + "/rest/api/2/status", headers)
        except Exception:       # no Jira side: tickets are not asked about
            st = []
        catalog = {s["name"]: s["statusCategory"]["key"] for s in st}
        if conf.org:
            # the collector takes an org's non-archived repositories only
            page, names = 1, list(conf.repos or [])
            while True:
                repos = _get_json("%s/orgs/%s/repos?per_page=100&page=%d" % (
                    url.rstrip("/"), conf.org, page))
                names += [r["full_name"] for r in repos
                          if not r.get("archived")]
                if len(repos) < 100:
                    break
                page += 1
            conf.repos = names
        return cls(truth, catalog, conf)

    # ---- what was collected (DESIGN.md: since bounds finished work) ----

    def _pr_collected(self, p):
        c = self.conf
        if c.repos is not None and not ci_in(p["repo"], c.repos):
            return False
        if c.gh_since is not None and p["state"] != "open" and \
                p["updated_at"] < c.gh_since:
            return False
        return True

    def _ticket_collected(self, t):
        c = self.conf
        if c.projects is not None and t["project"] not in c.projects:
            return False
        if c.jira_since is not None and t["status_category"] == "done" and \
                t["updated_at"] < c.jira_since:
            return False
        return True

    # ---- tickets: stages from the catalog and the rules ----

    def _stage_rules(self):
        j = self.conf.jira
        self.blocked = set(_list(j.get("blocked_statuses",
                                       "Blocked, On Hold")))
        self.st_todo = set(_list(j.get("stage_todo")))
        self.st_prog = set(_list(j.get("stage_in_progress")))
        self.st_done = set(_list(j.get("stage_done")))

    def stage(self, name):
        if name in self.blocked:
            return "in_progress"
        if name in self.st_todo:
            return "todo"
        if name in self.st_prog:
            return "in_progress"
        if name in self.st_done:
            return "done"
        cat = self.catalog.get(name)     # a deleted status: todo
        return {"indeterminate": "in_progress", "done": "done"}.get(cat,
                                                                    "todo")

    def _ticket_prepare(self, t):
        trs = sorted(t["transitions"], key=lambda x: (x["t"], int(x["id"])))
        initial = trs[0]["from"] if trs else t["status"]
        t["_times"] = [x["t"] for x in trs]
        t["_status_after"] = [x["to"] for x in trs]
        t["_initial"] = initial

    def ticket_status_at(self, t, T):
        """The status after every transition at or before T."""
        i = bisect.bisect_right(t["_times"], T)
        return t["_status_after"][i - 1] if i else t["_initial"]

    def ticket_in_progress_at(self, t, T):
        return t["created_at"] <= T and \
            self.stage(self.ticket_status_at(t, T)) == "in_progress"

    @staticmethod
    def ticket_blocked_since(t, T):
        for s, e in t["blocked_spells"]:
            if s <= T and (e is None or T < e):
                return s
        return None

    # ---- PRs: state at an instant from the events ----

    def _pr_prepare(self, p):
        ev = p["events"]
        p["_acts"] = sorted(e["t"] for e in ev)
        drafty = [e for e in ev if e["kind"] in ("ready_for_review",
                                                  "convert_to_draft")]
        p["_draft0"] = (drafty[0]["kind"] == "ready_for_review") if drafty \
            else bool(p["draft"])
        p["_drafty"] = sorted((e["t"], e["kind"]) for e in drafty)
        p["_state"] = sorted((e["t"], e["kind"]) for e in ev if e["kind"] in
                             ("closed", "reopened", "merged"))

    @staticmethod
    def pr_open_at(p, T):
        if not p["created_at"] < T:
            return False
        is_open = True
        for t, kind in p["_state"]:
            if t > T:
                break
            is_open = kind == "reopened"
        return is_open

    @staticmethod
    def pr_draft_at(p, T):
        d = p["_draft0"]
        for t, kind in p["_drafty"]:
            if t > T:
                break
            d = kind == "convert_to_draft"
        return d

    def pr_awaiting_at(self, p, T):
        return self.pr_open_at(p, T) and not self.pr_draft_at(p, T) and \
            p["ready_at"] is not None and p["ready_at"] < T and \
            all(r["submitted_at"] >= T for r in p["counted_reviews"])

    def pr_last_activity(self, p, T):
        i = bisect.bisect_right(p["_acts"], T)
        return p["_acts"][i - 1] if i else None

    def pr_stale_at(self, p, T):
        last = self.pr_last_activity(p, T)
        return self.pr_open_at(p, T) and last is not None and \
            last <= T - WEEK

    # ---- teams and filters ----

    def pr_in_team(self, p, team):
        tm = self.conf.teams[team]
        return ci_in(p["repo"], tm["repos"]) or \
            ci_in(p["author"] or "ghost", tm["members"])

    def ticket_in_team(self, t, team):
        tm = self.conf.teams[team]
        return ci_in(t["project"], tm["projects"]) or \
            (t["assignee"] is not None and t["assignee"] in tm["jira_users"]) \
            or (t["assignee_name"] is not None and
                t["assignee_name"] in tm["jira_users"])

    # ---- the query ----

    def query(self, metric, by=None, frm=None, to=None, now=None,
              where=()):
        """Rows as `bellwether query METRIC --format json` with every
        statistic (or value) prints them, plus from/to."""
        now = self.now if now is None else now
        subject, kind, unit = METRICS[metric]
        cal = self.cal
        f, t = query_range(cal, frm, to, by, self.conf.weeks_of_trend, now)
        pers = periods(cal, by, f, t, now)
        ev_end = min(t, now)
        where = list(where)
        wd = {}
        for k, v in where:
            wd.setdefault(k, []).append(v)
        for tname in wd.get("team", []):
            if tname not in self.conf.teams:
                raise ValueError("unknown team " + tname)
        groups = {}     # name -> accumulator
        order = []

        def group(name):
            if name not in groups:
                groups[name] = {"vals": [], "num": 0, "den": 0, "rev": {}}
                order.append(name)
            return groups[name]

        if by in ("week", "month"):
            for name, s, e in pers:
                group(name)
        elif by == "team":
            for name in self.conf.team_order:
                if not wd.get("team") or name in wd["team"]:
                    group(name)
        elif by is None:
            group(None)

        def names_of(attr, at, period):
            """Groups of an item (attr: dict), counted at `at`."""
            if by in ("week", "month"):
                if period is not None and period != RANGE_END:
                    return [period]
                for name, s, e in pers:
                    if s <= at < e:
                        return [name]
                return []
            if by == "team":
                return [n for n in list(groups) if attr["in_team"](n)]
            if by is None:
                return [None]
            key = attr[by]
            # names compare case-insensitively (first spelling kept)
            if key is not None:
                for n in groups:
                    if n is not None and n.lower() == key.lower():
                        return [n]
            return [key]

        def passes(attr):
            for k, vals in wd.items():
                if k == "team":
                    if not any(attr["in_team"](v) for v in vals):
                        return False
                elif k == "label":
                    if not any(v in attr["labels"] for v in vals):
                        return False
                elif k == "author":
                    if not any(ci(attr["author"], v) or
                               ci(attr.get("author_name"), v) for v in vals):
                        return False
                else:
                    if not any(ci(attr.get(k), v) for v in vals):
                        return False
            return True

        def add(attr, at, op, value=None, period=None, reviewer=None):
            if period is None and not (f <= at < ev_end):
                return
            if not passes(attr):
                return
            for n in names_of(attr, at, period):
                g = group(n)
                if op == "value":
                    g["vals"].append(value)
                elif op == "num":
                    g["num"] += 1
                elif op == "den":
                    g["den"] += 1
                elif op == "both":
                    g["num"] += 1
                    g["den"] += 1
                elif op == "reviewer":
                    g["den"] += 1
                    g["rev"][reviewer] = g["rev"].get(reviewer, 0) + 1

        instants = []
        if metric in PIT and pers:
            if by in ("week", "month"):
                instants = [(e, name) for name, s, e in pers]
            else:
                instants = [(ev_end, RANGE_END)]

        if subject == "pr":
            self._pr_metric(metric, add, instants)
        else:
            self._ticket_metric(metric, add, instants)

        rows = []
        if by in ("week", "month", "team", None):
            names = order
        else:
            names = sorted(order, key=lambda n: (n is None, n or ""))
        for n in names:
            g = groups[n]
            row = {} if by is None else {by: n}
            if has_stats(metric):
                row.update(statistics(g["vals"]))
            elif kind == "rate":
                num = max(g["rev"].values()) if metric == \
                    "review_load_top_share" and g["rev"] else g["num"]
                row["value"] = num / g["den"] if g["den"] else None
            elif metric == "ticket_net_flow":
                row["value"] = g["num"] - g["den"]
            else:
                row["value"] = g["num"]
            rows.append(row)
        if by == "week":
            names = ["%04d-W%02d" % cal.week_of(x) for x in (f, t - 1)]
        elif by == "month":
            names = ["%04d-%02d" % cal.month_of(x) for x in (f, t - 1)]
        else:
            names = [cal.fmt_date(f), cal.fmt_date(t - 1)]
        return {"metric": metric, "unit": unit, "by": by, "from": names[0],
                "to": names[1], "from_t": f, "to_t": t, "rows": rows}

    def _pr_metric(self, metric, add, instants):
        for p in self.prs:
            attr = {"repo": p["repo"], "author": p["author"] or "ghost",
                    "labels": p["labels"],
                    "in_team": lambda n, p=p: self.pr_in_team(p, n)}
            if metric in ("review_count_by_reviewer",
                          "review_load_top_share"):
                if p["review_load_excluded"]:
                    continue
                for r in p["counted_reviews"]:
                    ra = dict(attr)
                    ra["author"] = r["reviewer"] or "ghost"
                    if metric == "review_count_by_reviewer":
                        add(ra, r["submitted_at"], "num")
                    else:
                        add(ra, r["submitted_at"], "reviewer",
                            reviewer=ra["author"])
                continue
            if p["excluded"]:
                continue
            if metric in ("pr_open_awaiting_review", "pr_stale"):
                for T, per in instants:
                    ok = self.pr_awaiting_at(p, T) if \
                        metric == "pr_open_awaiting_review" else \
                        self.pr_stale_at(p, T)
                    if ok:
                        add(attr, T, "num", period=per)
                continue
            if metric == "pr_opened":
                add(attr, p["created_at"], "num")
                continue
            m = p["merged_at"]
            if m is None:
                continue
            field = {"pr_coding_time": "coding_time",
                     "pr_pickup_time": "pickup_time",
                     "pr_review_time": "review_time",
                     "pr_cycle_time": "cycle_time",
                     "pr_time_to_first_response": "time_to_first_response",
                     "pr_size": "size"}.get(metric)
            if field:
                if p[field] is not None:
                    add(attr, m, "value", float(p[field]))
            elif metric == "pr_merged":
                add(attr, m, "num")
            elif metric == "pr_unreviewed_merge_rate":
                add(attr, m, "both" if not p["counted_reviews"] else "den")
            elif metric == "pr_large_rate":
                add(attr, m, "both" if p["size"] > LARGE else "den")

    def _ticket_metric(self, metric, add, instants):
        for t in self.tickets:
            if t["excluded"]:
                continue
            attr = {"project": t["project"], "type": t["type"],
                    "author": t["assignee"] if t["assignee"] else
                    t["assignee_name"],
                    "author_name": t["assignee_name"],
                    "labels": t["labels"],
                    "in_team": lambda n, t=t: self.ticket_in_team(t, n)}
            if metric in ("ticket_wip", "ticket_age_in_progress",
                          "ticket_blocked_over_3d"):
                for T, per in instants:
                    if not self.ticket_in_progress_at(t, T):
                        continue
                    if metric == "ticket_wip":
                        add(attr, T, "num", period=per)
                    elif metric == "ticket_age_in_progress":
                        add(attr, T, "value", (T - t["started_at"]) / DAY,
                            period=per)
                    else:
                        s = self.ticket_blocked_since(t, T)
                        if s is not None and T - s >= BLOCKED_OVER:
                            add(attr, T, "num", period=per)
                continue
            if metric == "ticket_net_flow":
                add(attr, t["created_at"], "num")
                if t["done_at"] is not None:
                    add(attr, t["done_at"], "den")
                continue
            d = t["done_at"]
            if d is None:
                continue
            if metric == "ticket_cycle_time" and t["cycle_time"] is not None:
                add(attr, d, "value", t["cycle_time"])
            elif metric == "bug_cycle_time" and t["type"] == "Bug" and \
                    t["cycle_time"] is not None:
                add(attr, d, "value", t["cycle_time"])
            elif metric == "ticket_lead_time" and t["lead_time"] is not None:
                add(attr, d, "value", t["lead_time"])
            elif metric == "ticket_throughput":
                add(attr, d, "num")
            elif metric == "ticket_blocked_share":
                c = t["cycle_time"]
                if c is not None and c > 0:
                    add(attr, d, "value", (t["blocked_time"] or 0) / (c * DAY))
            elif metric == "ticket_reopen_rate":
                add(attr, d, "both" if t["reopen_count"] > 0 else "den")

    def week_value(self, metric, year, week, team=None, stat=None):
        """One number of one ISO week (the report's)."""
        w = "%04d-W%02d" % (year, week)
        where = [("team", team)] if team else []
        res = self.query(metric, by="week", frm=w, to=w, where=where)
        row = res["rows"][0] if res["rows"] else {}
        return row.get(stat or ("p50" if has_stats(metric) else "value"))


# ------------------------------------------------------------------ compare

def compare_rows(got, want, by, tol=1e-6):
    """Differences between two row lists (one line each)."""
    diffs = []
    key = (lambda r: r.get(by)) if by else (lambda r: None)
    g = {key(r): r for r in got}
    w = {key(r): r for r in want}
    for k in sorted(set(g) | set(w), key=lambda x: (x is None, str(x))):
        if k not in g:
            diffs.append("row %r missing from bellwether: want %s" %
                         (k, json.dumps(w[k])))
            continue
        if k not in w:
            diffs.append("row %r not in the truth: got %s" %
                         (k, json.dumps(g[k])))
            continue
        for stat, wv in w[k].items():
            if stat == by:
                continue
            gv = g[k].get(stat, "absent")
            if wv is None or gv is None or gv == "absent":
                if gv != wv:
                    diffs.append("%r %s: got %s, want %s" % (k, stat, gv, wv))
            elif abs(float(gv) - float(wv)) > tol:
                diffs.append("%r %s: got %r, want %r" % (k, stat, gv, wv))
    return diffs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=("query", "compare"))
    ap.add_argument("metric")
    ap.add_argument("--url", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--now", type=int)
    ap.add_argument("--by")
    ap.add_argument("--from", dest="frm")
    ap.add_argument("--to")
    ap.add_argument("--where", action="append", default=[])
    ap.add_argument("--bellwether", help="command prefix for compare")
    ap.add_argument("--jira-auth")
    a = ap.parse_args(argv)
    conf = Conf.from_ini(a.config)
    truth = Truth.load(a.url, conf, a.jira_auth)
    where = [tuple(x.split("=", 1)) for x in a.where]
    want = truth.query(a.metric, a.by, a.frm, a.to, a.now, where)
    if a.mode == "query":
        json.dump(want, sys.stdout)
        sys.stdout.write("\n")
        return 0
    cmd = shlex.split(a.bellwether) + ["query", a.metric, "--format", "json",
                                       "--stat", ",".join(STATS)
                                       if has_stats(a.metric) else "value"]
    for opt, v in (("--by", a.by), ("--from", a.frm), ("--to", a.to)):
        if v:
            cmd += [opt, v]
    for x in a.where:
        cmd += ["--where", x]
    env = dict(os.environ)
    if a.now is not None:
        env["BELLWETHER_NOW"] = str(a.now)
    p = subprocess.run(cmd, capture_output=True, env=env, timeout=120)
    if p.returncode != 0:
        print("bellwether failed (%d): %s" % (p.returncode,
                                              p.stderr.decode()[-400:]))
        return 1
    got = json.loads(p.stdout)
    diffs = compare_rows(got["rows"], want["rows"], a.by)
    for k in ("metric", "unit", "by", "from", "to"):
        if got.get(k) != want.get(k):
            diffs.append("%s: got %r, want %r" % (k, got.get(k), want.get(k)))
    for d in diffs[:20]:
        print(d)
    total = sum(r.get("count", r.get("value", 0)) or 0
                for r in want["rows"])
    print("# %s by %s: %d rows, %s counted, %d differences" %
          (a.metric, a.by or "-", len(want["rows"]), round(total, 6),
           len(diffs)))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
