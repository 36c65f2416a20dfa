"""Jira half of the API simulator (tests/apisim/): class JiraApi.

Serves a deterministic synthetic Jira organisation, Cloud or Data Center
flavour, with the shapes of the recorded payloads in ../shared/api-samples/
jira/, and computes the "tickets" part of /__truth from the same histories
the API shows, following METRICS.md ("Tickets (Jira)") independently of the
generator. simcore.py owns HTTP, quota and faults and calls the interface
described in notes/apisim-arch.md: owns, auth_ok, charged, handle,
endpoint_name, rate_headers, limited_response, unauthorized_response, truth,
advance.

The organisation. Projects OPS, API, WEB, ... (scale: tiny 1 x 20 tickets,
small 2 x 300, large 10 x 5000; REPOSxPRS: max(1, repos // 10) projects and
repos * prs / 2 tickets in all). Every ticket's whole lifetime is generated
once from its own seeded stream, from 52 weeks before the start --now (a few
older tickets are still open) to HORIZON after it; a request shows only what
happened at or before the simulated present, so /__advance just reveals more.
Issue ids follow creation order over all projects; history ids follow time
over all histories, so ties in a timestamp are ordered by id.

Times: issue and history timestamps are rendered in SERVER_TZ (with the right
DST offset per instant); JQL date literals are read in USER_TZ, the zone
/myself reports. The JQL subset is documented at parse_jql().

What a client meets (both flavours unless said):
- Fields by name in /field: "Story Points" (Cloud customfield_10016, DC
  customfield_10106; Cloud also has a decoy "Story point estimate") and
  "Flagged" (multicheckboxes; Cloud customfield_10021, DC customfield_10200;
  value [{"self","value":"Impediment","id"}] or null). History items: Cloud
  items carry fieldId except Workflow/RemoteIssueLink; DC items never do.
  A Flagged change is from null -> to "[OPTION]"/"Impediment" (set) or the
  reverse with to/toString null (cleared).
- Statuses: To Do, Selected for Development, Reopened, On Hold (category
  new), In Progress, In Review, QA, Blocked (indeterminate), Peer Check
  (undefined), Done, Closed, Won't Do (done). Triage and Dev Review appear
  in old histories only (deleted since).
- Cloud: /rest/api/3/search/jql (GET/POST; default fields id only; 50 a
  page, at most 100, 5000 for id/key only), inline changelog newest
  --changelog-inline (40) with the true total; issue?expand=changelog keeps
  the newest 100; /issue/{key}/changelog pages oldest first (100);
  /changelog/bulkfetch (histories ordered by time then issue id, grouped per
  issue within a page, "created" in epoch ms, nextPageToken null at the
  end); /rest/api/{2,3}/search answers 410.
- Data Center: /rest/api/2/search with startAt/maxResults (50, at most
  100)/total, 400 past 10,000; full inline changelogs unless
  --changelog-inline is given; issue?expand=changelog keeps the newest 100;
  no /rest/api/3, no paged changelog, no bulkfetch.
- --jira-page-cap N: at most N issues/histories a page, whatever maxResults
  says (the envelope still reports min(asked, 100)).
- A ticket's `updated` is its newest history (or its creation).
"""

import base64
import bisect
import collections
import gc
import hashlib
import json
import math
import random
import re
import threading
import unicodedata
from datetime import datetime, timezone

try:
    from zoneinfo import ZoneInfo
except ImportError:  # pragma: no cover - Python < 3.9
    ZoneInfo = None

try:
    from simcommon import Response
except ImportError:  # pragma: no cover - running without the core
    class Response:
        def __init__(self, status, headers=None, body=b""):
            self.status = status
            self.headers = dict(headers or {})
            self.body = body

HOUR_MS = 3600 * 1000
DAY_MS = 24 * HOUR_MS
WEEK_MS = 7 * DAY_MS

DEFAULT_NOW = 1794787200          # 2026-11-16T00:00:00Z
SERVER_TZ = "Europe/Berlin"       # offsets of every rendered timestamp
USER_TZ = "America/New_York"      # /myself timeZone; JQL literals use it
HISTORY_WEEKS = 52
HORIZON_MS = 13 * WEEK_MS         # generated lifetime after the start now
DC_ISSUE_CHANGELOG_CAP = 100      # GET issue?expand=changelog keeps newest N
CLOUD_INLINE_DEFAULT = 40
DC_WINDOW = 10000                 # Data Center max_result_window

JIRA_SCALES = {"tiny": (1, 20), "small": (2, 300), "large": (10, 5000)}
PROJECT_KEYS = ["OPS", "API", "WEB", "DATA", "MOB", "INFRA", "SEC", "PAY",
                "CORE", "DOCS", "QA", "UX", "ML", "NET", "OBS", "REL"]
PROJECT_NAMES = {"OPS": "Operations", "API": "Public API",
                 "WEB": "Web Frontend", "DATA": "Data Platform",
                 "MOB": "Mobile Apps", "INFRA": "Infrastructure",
                 "SEC": "Security", "PAY": "Payments", "CORE": "Core Services",
                 "DOCS": "Documentation", "QA": "Quality Assurance",
                 "UX": "User Experience", "ML": "Machine Learning",
                 "NET": "Networking", "OBS": "Observability",
                 "REL": "Release Engineering"}

# ------------------------------------------------------------ statuses

CATEGORIES = {  # key -> (id, name, colorName)
    "undefined": (1, "No Category", "medium-gray"),
    "new": (2, "To Do", "blue-gray"),
    "done": (3, "Done", "green"),
    "indeterminate": (4, "In Progress", "yellow"),
}
CATEGORY_ORDER = ["undefined", "new", "indeterminate", "done"]

ST_TODO, ST_SEL, ST_INPROG, ST_REVIEW = "10000", "10001", "3", "10002"
ST_PEER, ST_QA, ST_BLOCKED, ST_HOLD = "10003", "10004", "10005", "10006"
ST_REOPENED, ST_DONE, ST_CLOSED, ST_WONTDO = "4", "10007", "6", "10008"
ST_TRIAGE, ST_DEVREV = "10009", "10010"  # deleted: only in old histories

# id -> (name, category, description, icon file)
STATUS_DEFS = collections.OrderedDict([
    (ST_TODO, ("To Do", "new", "", "open.png")),
    (ST_SEL, ("Selected for Development", "new", "", "open.png")),
    (ST_INPROG, ("In Progress", "indeterminate",
                 "This issue is being actively worked on at the moment by "
                 "the assignee.", "inprogress.png")),
    (ST_REVIEW, ("In Review", "indeterminate", "", "inprogress.png")),
    (ST_PEER, ("Peer Check", "undefined",
               "A second pair of eyes; mapped by stage_in_progress.",
               "generic.png")),
    (ST_QA, ("QA", "indeterminate", "", "inprogress.png")),
    (ST_BLOCKED, ("Blocked", "indeterminate", "Work cannot continue.",
                  "generic.png")),
    (ST_HOLD, ("On Hold", "new", "Parked on purpose.", "generic.png")),
    (ST_REOPENED, ("Reopened", "new",
                   "This issue was once resolved, but the resolution was "
                   "deemed incorrect.", "reopened.png")),
    (ST_DONE, ("Done", "done", "", "closed.png")),
    (ST_CLOSED, ("Closed", "done",
                 "The issue is considered finished, the resolution is "
                 "correct.", "closed.png")),
    (ST_WONTDO, ("Won't Do", "done", "", "closed.png")),
])
DELETED_STATUS_DEFS = {
    ST_TRIAGE: ("Triage", "new", "", "open.png"),
    ST_DEVREV: ("Dev Review", "indeterminate", "", "inprogress.png"),
}
ALL_STATUS_DEFS = dict(STATUS_DEFS)
ALL_STATUS_DEFS.update(DELETED_STATUS_DEFS)

RESOLUTIONS = {"10000": ("Done", "Work has been completed on this issue."),
               "10001": ("Won't Do",
                         "This issue won't be actioned."),
               "10002": ("Duplicate", "The problem is a duplicate of an "
                         "existing issue.")}

PRIORITIES = [("1", "Highest", "highest.svg"), ("2", "High", "high.svg"),
              ("3", "Medium", "medium.svg"), ("4", "Low", "low.svg"),
              ("5", "Lowest", "lowest.svg")]
PRIORITY_BY_ID = {p[0]: p for p in PRIORITIES}

# name -> (id, subtask, hierarchyLevel, avatarId, description)
ISSUE_TYPES = collections.OrderedDict([
    ("Epic", ("10000", False, 1, 10307,
              "A big user story that needs to be broken down.")),
    ("Story", ("10001", False, 0, 10315,
               "Functionality or a feature expressed as a user goal.")),
    ("Task", ("10002", False, 0, 10318, "A small, distinct piece of work.")),
    ("Sub-task", ("10003", True, -1, 10316,
                  "A small piece of work that's part of a larger task.")),
    ("Bug", ("10004", False, 0, 10303,
             "A problem which impairs or prevents the functions of the "
             "product.")),
])

# Custom field ids differ between the flavours on purpose: a collector must
# find them by name in /rest/api/{2,3}/field.
CUSTOM_IDS = {
    "cloud": {"sp": "customfield_10016", "flag": "customfield_10021",
              "rank": "customfield_10019", "sprint": "customfield_10020",
              "spe": "customfield_10026", "epiclink": "customfield_10014",
              "flagopt": "10019"},
    "datacenter": {"sp": "customfield_10106", "flag": "customfield_10200",
                   "rank": "customfield_10005",
                   "sprint": "customfield_10104",
                   "epiclink": "customfield_10100",
                   "epicname": "customfield_10102", "flagopt": "10300"},
}

# history item field codes
(F_STATUS, F_RES, F_ASSG, F_PRIO, F_LABELS, F_SP, F_FLAG, F_SPRINT, F_RANK,
 F_DESC, F_WF, F_RLINK) = range(12)

LABELS = ["customer", "tech-debt", "security", "regression", "ux", "perf",
          "dependencies", "needs-triage", "frontend", "backend", "q4-goal",
          "on-call", "docs", "flaky"]
COMPONENTS = ["Backend", "Frontend", "Database", "Auth", "Billing", "CLI",
              "Deploy", "Monitoring", "Search", "Notifications"]

PEOPLE = ["Alice Jones", "Bob Smith", "Carla D\u00edaz", "Dmitri Ivanov",
          "Eve M\u00fcller", "Farah Khan", "Grace Okafor", "Hiro Tanaka",
          "In\u00eas Costa", "Jamal Wright", "Kai Lee", "Lena Schmidt",
          "Marta Nowak", "Nils Berg", "Olu Adebayo", "Priya Patel",
          "Quinn O'Neil", "Rosa Chen", "Sven Olsen", "Tara Singh",
          "Uma Rao", "Victor Hugo", "Wei Zhang", "Xena Park",
          "Yusuf Demir", "Zo\u00eb \u0141ukasiewicz",
          "\u674e\u5c0f\u9f8d", "Ren\u00e9e <b>Bold</b> | Pipe"]

SUMMARY_VERBS = ["Add", "Fix", "Remove", "Refactor", "Document", "Migrate",
                 "Speed up", "Investigate", "Harden", "Upgrade"]
SUMMARY_THINGS = ["retry logic", "login flow", "CSV export", "rate limiter",
                  "search index", "billing webhook", "audit log",
                  "dark mode", "cache eviction", "health check",
                  "feature flag", "onboarding email", "API pagination",
                  "timezone handling", "error page"]
SUMMARY_PLACES = ["in the dashboard", "for admins", "on mobile",
                  "in the worker", "behind the proxy", "for EU customers",
                  "in nightly jobs", "in the CLI"]
HOSTILE_SUMMARIES = [
    "Fix | pipe | in table cells",
    "**Bold** claim and *stars* and _underscores_",
    "Use `code` spans and ``double `ticks` ``",
    "See [x](y) and [click](javascript:alert(1))",
    "<script>alert('xss')</script> in summary",
    "Ship it \U0001F680 with ZWJ \U0001F469\u200D\U0001F4BB",
    "\u0625\u0635\u0644\u0627\u062D \u0627\u0644\u062E\u0637\u0623 "
    "in the parser (RTL)",
    "<img src=x onerror=alert(1)> & <b>bold</b> &amp; &lt;",
    "# Not a heading > not a quote",
    "~~strike~~ <!-- comment --> {{template}} ${var} %s %n",
    "\u200bleading zero-width space and \"quotes\" 'single'",
    "Trailing backslash \\",
    "Long summary " + "y" * 240,
]

AUTOMATION = -1   # author index of "Automation for Jira"
ADMIN = -2        # author index of the Jira admin (workflow migrations)


def _tz(name):
    if ZoneInfo is None:  # pragma: no cover
        return timezone.utc
    return ZoneInfo(name)


_SERVER_ZONE = _tz(SERVER_TZ)
_USER_ZONE = _tz(USER_TZ)


def jira_ts(ms, zone=_SERVER_ZONE):
    """Epoch milliseconds -> '2026-11-03T09:12:44.000+0100'."""
    dt = datetime.fromtimestamp(ms // 1000, zone)
    off = int(dt.utcoffset().total_seconds())
    sign = "+" if off >= 0 else "-"
    off = abs(off)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03d%s%02d%02d" % (
        dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, ms % 1000,
        sign, off // 3600, (off % 3600) // 60)


def iso_minute_utc(epoch):
    """X-RateLimit-Reset form: 2026-11-16T10:05Z (rounded up)."""
    epoch = int(math.ceil(epoch / 60.0) * 60)
    return datetime.fromtimestamp(epoch, timezone.utc).strftime(
        "%Y-%m-%dT%H:%MZ")


def _num_str(v):
    if v is None:
        return None
    if float(v).is_integer():
        return str(int(v))
    return repr(float(v))


def _first(v):
    if isinstance(v, (list, tuple)):
        return v[-1] if v else None
    return v


# ---------------------------------------------------------------- errors

class JiraError(Exception):
    def __init__(self, status, messages, errors=None):
        Exception.__init__(self, "; ".join(messages))
        self.status = status
        self.messages = list(messages)
        self.errors = errors or {}


def _jql_error(msg):
    return JiraError(400, [msg])


# --------------------------------------------------------------- the JQL

_TOKEN_RE = re.compile(
    r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
    r"""|(?P<op>>=|<=|!=|!~|=|>|<|~|\(|\)|,)"""
    r"""|(?P<word>[^\s"'(),=<>!~]+))""")

_DATE_RE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})"
                      r"(?:\s+(\d{1,2}):(\d{2}))?$")

ORDER_FIELDS = {"updated": "updated", "created": "created", "key": "key",
                "issuekey": "key", "id": "id"}
DATE_FIELDS = ("updated", "created")
DATE_OPS = (">=", ">", "<=", "<", "=")


class Query:
    """A parsed JQL query of the supported subset."""

    def __init__(self):
        self.projects = None      # None = any, else set of project keys
        self.conds = []           # (field, op, epoch_ms)
        self.order = []           # (field, desc)
        self.bounded = False

    def norm(self):
        p = ",".join(sorted(self.projects)) if self.projects is not None \
            else "*"
        return "%s|%s|%s" % (p, self.conds, self.order)


def _tokens(text):
    pos = 0
    out = []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise _jql_error("Error in the JQL Query: The character '%s' is "
                             "a reserved JQL character. (line 1, character "
                             "%d)" % (text[pos:].strip()[:1], pos + 1))
        if m.group("str") is not None:
            s = m.group("str")[1:-1]
            s = re.sub(r"\\(.)", r"\1", s)
            out.append(("str", s, m.start("str") + 1))
        elif m.group("op") is not None:
            out.append(("op", m.group("op"), m.start("op") + 1))
        else:
            out.append(("word", m.group("word"), m.start("word") + 1))
        pos = m.end()
    return out


def jql_date_ms(text, field, zone=_USER_ZONE):
    """'yyyy-MM-dd HH:mm' (or yyyy/MM/dd, date only) in the user's zone ->
    epoch ms. A wall time repeated by a fall-back change means its first
    occurrence; one skipped by a spring-forward gap is read with the offset
    before the gap (zoneinfo's fold=0 rule)."""
    m = _DATE_RE.match(text.strip())
    if not m:
        raise _jql_error(
            "Date value '%s' for field '%s' is invalid. Valid formats "
            "include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', "
            "'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."
            % (text, field))
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    hh = int(m.group(4)) if m.group(4) else 0
    mi = int(m.group(5)) if m.group(5) else 0
    try:
        dt = datetime(y, mo, d, hh, mi, tzinfo=zone)
    except ValueError:
        raise _jql_error("Date value '%s' for field '%s' is invalid. Valid "
                         "formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd "
                         "HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
                         "format e.g. '-5d', '4w 2d'." % (text, field))
    return int(dt.timestamp()) * 1000


def parse_jql(text, project_lookup, cloud):
    """Parse the supported JQL subset; raise JiraError(400) otherwise.

    query   := [clause (AND clause)*] [ORDER BY item (, item)*]
    clause  := project = P | project in (P, ...)
             | updated|created  >=|>|<=|<|=  DATE
             | statusCategory  =|!=  C | statusCategory [not] in (C, ...)
             | ( clause (AND clause)* )
    item    := updated|created|key|issuekey|id  [ASC|DESC]  (default ASC)
    P       := a project key (any case, quoted or not), id or quoted name
    C       := a status category name ("To Do", "In Progress", "Done",
               "No Category"), key (new, indeterminate, done, undefined)
               or id (1-4), any case; compared with the current status
    DATE    := "yyyy-MM-dd HH:mm" | "yyyy/MM/dd HH:mm" | yyyy-MM-dd |
               yyyy/MM/dd, read in the /myself time zone (USER_TZ)
    Keywords are case-insensitive. A parenthesised group holds AND-ed
    clauses only (it lets a collector wrap a user's query). OR, NOT, other
    fields and functions are outside the subset (400). On Cloud a query
    without a clause is unbounded (400), at most 7 ORDER BY items."""
    q = Query()
    toks = _tokens(text or "")
    i = 0
    n = len(toks)

    def peek_word(k=0):
        if i + k < n and toks[i + k][0] == "word":
            return toks[i + k][1].lower()
        return None

    def expect_fail(what):
        if i < n:
            raise _jql_error("Error in the JQL Query: Expecting %s but got "
                             "'%s'. (line 1, character %d)"
                             % (what, toks[i][1], toks[i][2]))
        raise _jql_error("Error in the JQL Query: Expecting %s but reached "
                         "the end of the query." % what)

    def value():
        nonlocal i
        if i < n and toks[i][0] in ("str", "word"):
            v = toks[i][1]
            i += 1
            return v
        expect_fail("either a value, 'EMPTY' or a list of values")

    def project_value(v):
        key = project_lookup(v)
        if key is None:
            raise _jql_error("The value '%s' does not exist for the field "
                             "'project'." % v)
        return key

    def category_value(v):
        s = str(v).strip().lower()
        for key in CATEGORY_ORDER:
            cid, cname, _ = CATEGORIES[key]
            if s in (key, cname.lower(), str(cid)):
                return key
        raise _jql_error("The value '%s' does not exist for the field "
                         "'statusCategory'." % v)

    def add_projects(keys):
        if q.projects is None:
            q.projects = set(keys)
        else:
            q.projects &= set(keys)

    depth = 0
    need_and = False
    while i < n and peek_word() != "order":
        if i < n and toks[i] == ("op", ")", toks[i][2]) and depth > 0:
            depth -= 1
            i += 1
            need_and = True
            continue
        if need_and:
            if peek_word() == "and":
                i += 1
            elif peek_word() in ("or", "not"):
                raise _jql_error("Error in the JQL Query: '%s' is outside "
                                 "the JQL subset this simulator supports "
                                 "(project =, project in, updated/created "
                                 "comparisons, statusCategory, AND, "
                                 "parentheses, ORDER BY). (line 1, "
                                 "character %d)" % (toks[i][1].upper(),
                                                    toks[i][2]))
            else:
                expect_fail("either 'OR' or 'AND'")
        need_and = True
        if i < n and toks[i][0] == "op" and toks[i][1] == "(":
            depth += 1
            i += 1
            need_and = False
            continue
        if i >= n or toks[i][0] not in ("word", "str"):
            expect_fail("a field name")
        field = toks[i][1].lower()
        fpos = toks[i][2]
        i += 1
        if field == "project":
            if i < n and toks[i] [0] == "op" and toks[i][1] == "=":
                i += 1
                add_projects([project_value(value())])
            elif peek_word() == "in":
                i += 1
                if not (i < n and toks[i][1] == "("):
                    expect_fail("'('")
                i += 1
                keys = []
                while True:
                    keys.append(project_value(value()))
                    if i < n and toks[i][1] == ",":
                        i += 1
                        continue
                    if i < n and toks[i][1] == ")":
                        i += 1
                        break
                    expect_fail("')'")
                add_projects(keys)
            else:
                raise _jql_error("Error in the JQL Query: the operator for "
                                 "'project' must be '=' or 'in' in this "
                                 "simulator. (line 1, character %d)" % fpos)
        elif field in DATE_FIELDS:
            if not (i < n and toks[i][0] == "op" and toks[i][1] in DATE_OPS):
                expect_fail("an operator (>=, >, <=, <, =)")
            op = toks[i][1]
            i += 1
            v = value()
            q.conds.append((field, op, jql_date_ms(v, field)))
        elif field == "statuscategory":
            neg = False
            if i < n and toks[i][0] == "op" and toks[i][1] in ("=", "!="):
                neg = toks[i][1] == "!="
                i += 1
                cats = [category_value(value())]
            elif peek_word() in ("in", "not"):
                if peek_word() == "not":
                    neg = True
                    i += 1
                    if peek_word() != "in":
                        expect_fail("'IN'")
                i += 1
                if not (i < n and toks[i][1] == "("):
                    expect_fail("'('")
                i += 1
                cats = []
                while True:
                    cats.append(category_value(value()))
                    if i < n and toks[i][1] == ",":
                        i += 1
                        continue
                    if i < n and toks[i][1] == ")":
                        i += 1
                        break
                    expect_fail("')'")
            else:
                expect_fail("an operator (=, !=, in, not in)")
            q.conds.append(("statuscategory", "!=" if neg else "=",
                            tuple(sorted(set(cats)))))
        elif field in ("order", "by"):
            expect_fail("a field name")
        else:
            raise _jql_error("Field '%s' does not exist or you do not have "
                             "permission to view it." % toks[i - 1][1])
        q.bounded = True
    if depth > 0:
        expect_fail("')'")
    if i < n:
        # ORDER BY
        i += 1
        if peek_word() != "by":
            expect_fail("'BY'")
        i += 1
        while True:
            if i >= n or toks[i][0] not in ("word", "str"):
                expect_fail("a field name")
            f = toks[i][1].lower()
            if f not in ORDER_FIELDS:
                raise _jql_error("Error in the JQL Query: ordering by '%s' "
                                 "is outside the JQL subset this simulator "
                                 "supports (updated, created, key, id)."
                                 % toks[i][1])
            i += 1
            desc = False
            if peek_word() in ("asc", "desc"):
                desc = peek_word() == "desc"
                i += 1
            q.order.append((ORDER_FIELDS[f], desc))
            if i < n and toks[i][1] == ",":
                i += 1
                continue
            if i < n:
                expect_fail("',' or the end of the query")
            break
        if cloud and len(q.order) > 7:
            raise _jql_error("The JQL query has too many ORDER BY fields "
                             "(at most 7).")
    if cloud and not q.bounded:
        raise _jql_error("Unbounded JQL queries are not allowed here. "
                         "Please add a search restriction to your query.")
    return q


# ------------------------------------------------------------ the tickets

class Ticket:
    __slots__ = ("gidx", "pidx", "num", "key", "id", "type", "created",
                 "parent", "children", "summary", "components", "reporter",
                 "desc0", "status0", "res0", "assg0", "prio0", "labels0",
                 "sp0", "flag0", "due", "est", "spent",
                 "viewed",
                 "watchers", "fixver", "ev_t", "ev", "hids", "scenario",
                 "old")

    def __init__(self):
        self.parent = None
        self.children = []
        self.scenario = None
        self.old = False


class State:
    """A ticket's field values after its first `vis` histories."""
    __slots__ = ("status", "res", "resdate", "assg", "prio", "labels", "sp",
                 "flag", "sprints", "desc", "catchange", "updated", "vis")


class User:
    __slots__ = ("idx", "display", "account_id", "name", "key", "email",
                 "active", "tz", "account_type")


class _Rng(random.Random):
    """random.Random with a cheaper randrange and choice (the generation
    draws a few million of them; the tiny float bias does not matter)."""

    def randrange(self, a, b=None):
        if b is None:
            a, b = 0, a
        return a + int(self.random() * (b - a))

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]


def _lnh(r, med_h, sigma=0.8, lo_h=0.05):
    """A lognormal duration in ms with the given median in hours."""
    v = med_h * math.exp(r.gauss(0.0, sigma))
    if v < lo_h:
        v = lo_h
    return int(v * HOUR_MS) + r.randrange(1000)


class Org:
    """The generated organisation: users, projects, tickets and their full
    histories (including the ones still in the future)."""

    def __init__(self, seed, n_projects, per_project, now0):
        self.seed = seed
        self.now0 = now0
        self.now0_ms = now0 * 1000
        self.w0 = self.now0_ms - HISTORY_WEEKS * WEEK_MS
        self.t_end = self.now0_ms + HORIZON_MS
        # the day the old workflow (Triage, Dev Review) was retired
        self.del_t = self.w0 + 6 * WEEK_MS
        self.sprint_epoch = self.w0 - 40 * WEEK_MS
        self.n_projects = n_projects
        self.per_project = per_project
        self.keys = [PROJECT_KEYS[i] if i < len(PROJECT_KEYS)
                     else "P%02d" % (i + 1) for i in range(n_projects)]
        self.make_users()
        self.tickets = []
        self.by_key = {}
        self.by_id = {}
        self.project_tickets = []
        self.make_tickets()

    # ------------------------------------------------------------ users

    def make_users(self):
        r = _Rng("%s:jira:users" % self.seed)
        n = max(8, min(60, 5 * self.n_projects + 4))
        zones = ["Europe/Berlin", "Europe/London", "America/New_York",
                 "Asia/Kolkata", "America/Los_Angeles", "Australia/Sydney"]
        self.users = []
        for i in range(n):
            u = User()
            u.idx = i
            base = PEOPLE[i % len(PEOPLE)]
            u.display = base if i < len(PEOPLE) else "%s %d" % (
                base, i // len(PEOPLE) + 1)
            plain = unicodedata.normalize(
                "NFKD", PEOPLE[i % len(PEOPLE)].replace("\u0141", "L"))
            plain = "".join(ch for ch in plain
                            if not unicodedata.combining(ch))
            login = re.sub(r"[^a-z0-9]+", ".",
                           plain.lower().replace("'", "")).strip(".")
            login = ".".join(login.split(".")[:2])
            if not login or not login.isascii():
                login = "user%d" % i
            if i >= len(PEOPLE):
                login += str(i // len(PEOPLE) + 1)
            u.name = login
            u.key = "JIRAUSER%d" % (10100 + i)
            u.email = "%s@acme.com" % login
            if i == 5:
                # the newer Atlassian account id form, with a colon
                u.account_id = "712020:%08x-%04x-%04x-%04x-%012x" % (
                    r.getrandbits(32), r.getrandbits(16), r.getrandbits(16),
                    r.getrandbits(16), r.getrandbits(48))
            else:
                u.account_id = "%024x" % r.getrandbits(96)
            u.active = i != 7
            u.tz = zones[i % len(zones)]
            u.account_type = "atlassian"
            self.users.append(u)
        auto = User()
        auto.idx = AUTOMATION
        auto.display = "Automation for Jira"
        auto.account_id = "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077"
        auto.name = "automation"
        auto.key = "JIRAUSER10001"
        auto.email = "automation@acme.com"
        auto.active = True
        auto.tz = "UTC"
        auto.account_type = "app"
        admin = User()
        admin.idx = ADMIN
        admin.display = "Jira Admin"
        admin.account_id = "%024x" % r.getrandbits(96)
        admin.name = "admin"
        admin.key = "admin"
        admin.email = "jira-admin@acme.com"
        admin.active = True
        admin.tz = SERVER_TZ
        admin.account_type = "atlassian"
        self.special_users = {AUTOMATION: auto, ADMIN: admin}
        # teams: overlapping slices of the pool
        self.teams = []
        for p in range(self.n_projects):
            size = 5 + (p % 3)
            start = (p * 4) % n
            self.teams.append([(start + k) % n for k in range(size)])

    def user(self, idx):
        if idx is None:
            return None
        if idx < 0:
            return self.special_users[idx]
        return self.users[idx]

    # ---------------------------------------------------------- tickets

    def make_tickets(self):
        everyone = []
        for p, key in enumerate(self.keys):
            everyone.extend(self.make_project(p, key))
        everyone.sort(key=lambda t: (t.created, t.pidx, t.num))
        for g, t in enumerate(everyone):
            t.gidx = g
            t.id = str(10000 + g)
            self.by_id[t.id] = t
        self.tickets = everyone
        # history ids: one sequence over all histories, in time order
        order = []
        for t in everyone:
            g = t.gidx
            for s, tm in enumerate(t.ev_t):
                order.append((tm << 40) | (g << 12) | s)
        order.sort()
        hid = 100000
        for k in order:
            t = everyone[(k >> 12) & 0xFFFFFFF]
            t.hids[k & 0xFFF] = hid
            hid += 1

    def make_project(self, p, key):
        r = _Rng("%s:jira:project:%s" % (self.seed, key))
        n = self.per_project
        n_old = max(1, int(round(n * 0.04)))
        n_win = max(0, n - n_old)
        n_future = int(round(n * HORIZON_MS / float(HISTORY_WEEKS * WEEK_MS)))
        times = []
        for _ in range(n_old):
            times.append((r.randrange(self.w0 - 40 * WEEK_MS,
                                      self.w0 - DAY_MS), True))
        for _ in range(n_win):
            times.append((self.working_time(r, self.w0, self.now0_ms), False))
        for _ in range(n_future):
            times.append((self.working_time(r, self.now0_ms + 1000,
                                            self.t_end), False))
        times.sort()
        tickets = []
        for i, (tm, old) in enumerate(times):
            t = Ticket()
            t.pidx = p
            t.num = i + 1
            t.key = "%s-%d" % (key, i + 1)
            t.created = tm
            t.old = old
            tickets.append(t)
        self.assign_scenarios(r, tickets)
        self.assign_types(r, tickets)
        for t in tickets:
            self.by_key[t.key] = t
            self.generate(t)
        self.project_tickets.append(tickets)
        return tickets

    def working_time(self, r, lo, hi):
        """A creation time, mostly on weekdays."""
        for _ in range(8):
            tm = r.randrange(lo, hi)
            wd = ((tm // DAY_MS) + 3) % 7   # 0 = Monday
            if wd < 5 or r.random() < 0.15:
                return tm
        return tm

    SCENARIOS = ["long", "verylong", "reopen", "block_flag_overlap",
                 "flag_at_creation", "created_inprog", "created_done",
                 "closed", "backwards", "tie", "never", "wontdo", "hold",
                 "peer", "flag_touch", "flag_nohist", "devrev"]

    def assign_scenarios(self, r, tickets):
        olds = [t for t in tickets if t.old]
        if olds:
            olds[0].scenario = "triage_stuck"
        win = [t for t in tickets if not t.old
               and t.created <= self.now0_ms]
        used = set()
        for sc in self.SCENARIOS:
            if sc == "flag_nohist" and self.per_project < 40:
                continue
            if sc == "devrev":
                cands = [t for t in tickets if t.old and not t.scenario]
                if not cands:
                    continue
            else:
                if sc in ("long", "verylong"):
                    lim = self.now0_ms - 120 * DAY_MS
                else:
                    lim = self.now0_ms - 40 * DAY_MS
                cands = [t for t in win if t.key not in used
                         and t.created <= lim]
                if not cands:
                    cands = [t for t in win if t.key not in used]
                if not cands:
                    continue
            t = cands[r.randrange(len(cands))]
            t.scenario = sc
            used.add(t.key)

    def assign_types(self, r, tickets):
        epics = []
        parents = []
        for t in tickets:
            tr = _Rng("%s:jira:type:%s" % (self.seed, t.key))
            x = tr.random()
            if t.scenario:
                typ = ("Story", "Bug", "Task")[tr.randrange(3)]
            elif x < 0.44:
                typ = "Story"
            elif x < 0.70:
                typ = "Bug"
            elif x < 0.89:
                typ = "Task"
            elif x < 0.92:
                typ = "Epic"
            else:
                typ = "Sub-task"
            if typ == "Sub-task":
                recent = [q for q in parents[-30:]
                          if t.created - q.created < 60 * DAY_MS]
                if recent:
                    par = recent[tr.randrange(len(recent))]
                    t.parent = par
                    par.children.append(t)
                else:
                    typ = "Task"
            elif typ != "Epic" and epics and tr.random() < 0.3:
                t.parent = epics[tr.randrange(max(0, len(epics) - 5),
                                              len(epics))]
                t.parent.children.append(t)
            t.type = typ
            if typ == "Epic":
                epics.append(t)
            elif typ != "Sub-task":
                parents.append(t)

    # -------------------------------------------------------- lifetimes

    def generate(self, t):
        """Generate ticket t's whole lifetime from its own stream."""
        r = _Rng("%s:jira:ticket:%s" % (self.seed, t.key))
        sc = t.scenario
        team = self.teams[t.pidx]
        created = t.created
        H = HOUR_MS
        t.reporter = team[r.randrange(len(team))]
        t.summary = self.make_summary(r, t)
        t.desc0 = None if r.random() < 0.45 else (
            "As discussed in the planning meeting, %s %s.\n\n*Acceptance:* "
            "the change is tested and documented."
            % (r.choice(SUMMARY_VERBS).lower(), r.choice(SUMMARY_THINGS)))
        comps = COMPONENTS[:4 + t.pidx % 5]
        k = r.choice((0, 0, 1, 1, 1, 2))
        t.components = tuple(sorted(r.sample(range(len(comps)), k)))
        labels = []
        for lab in LABELS:
            if r.random() < 0.07:
                labels.append(lab)
        if r.random() < 0.05:
            labels.append("noise")
        t.labels0 = tuple(sorted(labels))
        pr = r.random()
        t.prio0 = "2" if pr < 0.2 else "3" if pr < 0.75 else "4" if pr < 0.9 \
            else "1" if pr < 0.95 else "5"
        if t.type in ("Story", "Bug", "Task") and r.random() < 0.6:
            t.sp0 = float(r.choice((1, 2, 3, 3, 5, 5, 8, 13, 0.5)))
        elif t.type == "Sub-task" and r.random() < 0.2:
            t.sp0 = float(r.choice((1, 2)))
        else:
            t.sp0 = None
        t.due = None
        if r.random() < 0.2:
            t.due = created + int(r.uniform(7, 60) * DAY_MS)
        t.est = None
        if r.random() < 0.3:
            t.est = r.choice((1, 2, 4, 8, 16, 24)) * 3600
        t.spent = None
        if r.random() < 0.2:
            t.spent = int(r.uniform(1, 30)) * 900
        t.viewed = r.random() < 0.6
        t.watchers = 1 + r.randrange(3)
        t.fixver = r.random() < 0.3

        a0 = team[r.randrange(len(team))] if r.random() < 0.55 else None
        t.assg0 = a0
        t.flag0 = sc in ("flag_at_creation", "flag_nohist") or \
            (sc is None and r.random() < 0.015)
        t.res0 = None

        ev = []            # [t_ms, author, items]; items: [(code, to)]
        flags = []         # flag spells (on_ms or None, off_ms or None)

        def emit(tm, items, author=None):
            if author is None:
                author = cur["assg"] if cur["assg"] is not None \
                    else t.reporter
            ev.append([tm, author, items])

        cur = {"assg": a0, "started": False}

        def start(tm, items):
            """Move into In Progress, assigning if nobody is."""
            if cur["assg"] is None:
                who = team[r.randrange(len(team))]
                x = r.random()
                if x < 0.5:
                    items = items + [(F_ASSG, who)]
                    emit(tm, items, who)
                elif x < 0.8:
                    emit(tm, items, who)
                    emit(tm + 1 + r.randrange(900), [(F_ASSG, who)], who)
                else:
                    emit(max(created + 1000, tm - _lnh(r, 2)),
                         [(F_ASSG, who)], who)
                    emit(tm, items, who)
                cur["assg"] = who
            else:
                emit(tm, items)
            cur["started"] = True

        def work(tm, slow=1.0, short=False, force=None):
            """In progress at tm: work, review (maybe back again), QA,
            Done. Returns the time of Done."""
            rounds = 0
            while True:
                rounds += 1
                seg = int(_lnh(r, 14 if short else 40, 0.9) * slow)
                x = r.random()
                blocked = force in ("block_flag_overlap", "hold",
                                    "flag_touch") and rounds == 1
                if blocked or x < 0.16:
                    t1 = tm + int(seg * r.uniform(0.2, 0.6))
                    bst = ST_HOLD if (force == "hold" or
                                      (force is None and r.random() < 0.25)) \
                        else ST_BLOCKED
                    emit(t1, [(F_STATUS, bst)])
                    bdur = _lnh(r, 40, 0.9, lo_h=2)
                    t2 = t1 + bdur
                    y = r.random()
                    if force == "block_flag_overlap" or \
                            (force is None and y < 0.3):
                        f_on = t1 + int(bdur * r.uniform(0.1, 0.6))
                        flags.append((f_on, t2 + _lnh(r, 6, 0.8, lo_h=1)))
                    elif force == "flag_touch" or (force is None and y < 0.4):
                        flags.append((t2, t2 + _lnh(r, 10, 0.8, lo_h=1)))
                    emit(t2, [(F_STATUS, ST_INPROG)])
                    tm = t2 + (seg - (t1 - tm))
                else:
                    tm += seg
                if force is None and r.random() < 0.10:
                    f_on = tm - int(seg * r.uniform(0.3, 0.9))
                    flags.append((f_on, f_on + _lnh(r, 20, 0.9, lo_h=1)))
                rev = ST_REVIEW
                y = r.random()
                if force == "peer" or (force is None and y < 0.12):
                    rev = ST_PEER
                elif (force == "devrev" or y < 0.5) and \
                        tm < self.del_t - 5 * DAY_MS:
                    rev = ST_DEVREV
                emit(tm, [(F_STATUS, rev)])
                dt = _lnh(r, 20, 0.9)
                if rev == ST_DEVREV:
                    dt = min(dt, self.del_t - tm - H)
                tm += dt
                back = force == "backwards" and rounds == 1
                if (back or (force is None and r.random() < 0.2)) \
                        and rounds < 4:
                    emit(tm, [(F_STATUS, ST_INPROG)])
                    continue
                break
            if force == "tie" or (force is None and r.random() < 0.03):
                # automation moves on at the very same millisecond
                emit(tm, [(F_STATUS, ST_QA)])
                emit(tm, [(F_STATUS, ST_DONE), (F_RES, "10000")],
                     AUTOMATION)
                return tm
            if r.random() < 0.3:
                emit(tm, [(F_STATUS, ST_QA)])
                tm += _lnh(r, 16, 0.9)
            emit(tm, [(F_STATUS, ST_DONE), (F_RES, "10000")])
            return tm

        def after_done(tm, force=None):
            x = r.random()
            if force == "reopen" or (force is None and x < 0.08):
                tm += _lnh(r, 60, 1.0)
                to = r.choice((ST_REOPENED, ST_REOPENED, ST_INPROG, ST_TODO))
                emit(tm, [(F_STATUS, to), (F_RES, None)])
                if to != ST_INPROG:
                    tm += _lnh(r, 20, 1.0)
                    emit(tm, [(F_STATUS, ST_INPROG)])
                done = work(tm, short=True)
                if r.random() < 0.15:
                    emit(done + _lnh(r, 100, 1.0), [(F_STATUS, ST_CLOSED)])
                return
            if force == "closed" or (force is None and x < 0.23):
                emit(tm + _lnh(r, 100, 1.0), [(F_STATUS, ST_CLOSED)])

        # ----- the status path
        t.status0 = ST_TODO
        if t.type == "Epic":
            tm = created + _lnh(r, 120, 1.0)
            start(tm, [(F_STATUS, ST_INPROG)])
            if r.random() < 0.5:
                emit(tm + _lnh(r, 1200, 0.8), [(F_STATUS, ST_DONE),
                                               (F_RES, "10000")])
        elif t.old:
            if sc == "triage_stuck" or (self.del_t - created > 3 * DAY_MS
                                        and r.random() < 0.4):
                t.status0 = ST_TRIAGE
                tm = created + min(_lnh(r, 4, 0.8), 2 * DAY_MS)
                emit(tm, [(F_STATUS, ST_TODO)])
            else:
                tm = created
            tm += _lnh(r, 170, 1.0)
            start(tm, [(F_STATUS, ST_INPROG)])
            if sc == "triage_stuck" or (sc is None and r.random() < 0.45):
                pass  # still in progress, for ever
            else:
                done = work(tm, slow=3.0, force="devrev" if sc == "devrev"
                            else None)
                after_done(done)
        elif sc == "created_done" or (sc is None and r.random() < 0.02):
            t.status0 = ST_DONE
            t.res0 = "10000"
            if sc == "created_done" or r.random() < 0.4:
                emit(created + _lnh(r, 100, 1.0), [(F_STATUS, ST_CLOSED)])
        elif sc == "created_inprog" or (sc is None and r.random() < 0.04):
            t.status0 = ST_INPROG
            cur["started"] = True
            if cur["assg"] is None:
                cur["assg"] = team[r.randrange(len(team))]
                t.assg0 = cur["assg"]
            after_done(work(created))
        elif sc == "never" or (sc is None and r.random() < 0.06):
            pass
        elif sc == "wontdo" or (sc is None and r.random() < 0.05):
            to = ST_WONTDO if sc == "wontdo" or r.random() < 0.6 else ST_DONE
            emit(created + _lnh(r, 200, 1.0),
                 [(F_STATUS, to), (F_RES, "10001" if to == ST_WONTDO
                                   else "10000")])
        else:
            short = t.type == "Sub-task"
            tm = created + _lnh(r, 16 if short else 72, 1.1)
            if sc == "tie":
                # automation: Selected and started at the same millisecond,
                # so only the history ids order the first transition
                emit(tm, [(F_STATUS, ST_SEL)])
            elif r.random() < 0.2:
                emit(tm, [(F_STATUS, ST_SEL)])
                tm += _lnh(r, 20, 1.0)
            start(tm, [(F_STATUS, ST_INPROG)])
            if sc is None and r.random() < 0.015:
                pass  # abandoned in progress
            else:
                after_done(work(tm, short=short, force=sc), force=sc)

        # ----- the flag spells (non-overlapping, with a gap between)
        spells = []
        if t.flag0:
            if sc == "flag_nohist":
                spells.append((None, None))
            else:
                spells.append((None, created + _lnh(r, 30, 0.8, lo_h=2)))
        last_off = created
        if spells:
            last_off = spells[0][1] if spells[0][1] is not None else None
        for on, off in sorted(flags):
            if last_off is None or on <= last_off + 60000:
                continue
            spells.append((on, off))
            last_off = off
        for on, off in spells:
            if on is not None:
                ev.append([on, cur["assg"] if cur["assg"] is not None
                           else t.reporter, [(F_FLAG, True)]])
            if off is not None:
                ev.append([off, t.reporter, [(F_FLAG, False)]])

        # ----- the end of the visible activity, for field noise
        last = max([e[0] for e in ev] or [created])
        life_end = min(self.t_end, max(last, created + DAY_MS)
                       + _lnh(r, 24, 1.0))

        def rand_time(lo=None, hi=None):
            lo = created + 60000 if lo is None else lo
            hi = life_end if hi is None else hi
            if hi <= lo:
                hi = lo + 60000
            return r.randrange(lo, hi)

        if r.random() < 0.10 and cur["started"]:
            emit(rand_time(), [(F_ASSG, team[r.randrange(len(team))])])
        if r.random() < 0.06:
            emit(rand_time(), [(F_ASSG, None)], t.reporter)
        if r.random() < 0.08:
            emit(rand_time(), [(F_PRIO, r.choice(("1", "2", "3", "4")))])
        if r.random() < 0.06:
            extra = tuple(sorted(set(t.labels0) | {r.choice(LABELS)}))
            emit(rand_time(), [(F_LABELS, extra)])
        if t.sp0 is not None and r.random() < 0.1:
            emit(rand_time(), [(F_SP, float(r.choice((2, 3, 5, 8))))])
        elif t.sp0 is None and t.type != "Epic" and r.random() < 0.05:
            emit(rand_time(), [(F_SP, float(r.choice((1, 3, 5))))])
        if created < self.del_t and r.random() < 0.3:
            emit(self.del_t + r.randrange(2 * HOUR_MS), [(F_WF, 1)], ADMIN)

        # ----- noise: rank, sprint, description, remote links
        if sc == "long":
            n_noise = 45 + r.randrange(20)
        elif sc == "verylong":
            n_noise = 110 + r.randrange(40)
        elif sc is None and r.random() < 0.065 and \
                created < self.now0_ms - 60 * DAY_MS:
            n_noise = 40 + r.randrange(40) if r.random() < 0.7 \
                else 100 + r.randrange(50)
        else:
            n_noise = r.choice((0, 0, 0, 0, 1, 1, 2, 2, 3, 5))
        noise_hi = life_end
        if n_noise >= 40:
            noise_hi = min(life_end, self.now0_ms - DAY_MS)
            # make the early history long-lived so truncation matters
        sprints = set()
        links = []
        for _ in range(n_noise):
            tm = rand_time(hi=noise_hi)
            x = r.random()
            k = (tm - self.sprint_epoch) // (2 * WEEK_MS) + 1
            if 0.45 <= x < 0.65 and k not in sprints:
                sprints.add(k)
                ev.append([tm, t.reporter, [(F_SPRINT, k)]])
            elif x < 0.65:
                ev.append([tm, t.reporter, [(F_RANK, r.random() < 0.5)]])
            elif x < 0.82:
                ev.append([tm, t.reporter,
                           [(F_DESC, "Updated: %s %s (rev %d)." % (
                               r.choice(SUMMARY_VERBS).lower(),
                               r.choice(SUMMARY_THINGS),
                               r.randrange(100)))]])
            else:
                if links and r.random() < 0.3:
                    link = links[r.randrange(len(links))]   # an update
                else:
                    link = 10500 + r.randrange(5000)
                    links.append(link)
                ev.append([tm, t.reporter, [(F_RLINK, link)]])
        self.finalize(t, ev)

    def make_summary(self, r, t):
        if r.random() < 0.06:
            return HOSTILE_SUMMARIES[r.randrange(len(HOSTILE_SUMMARIES))]
        if t.type == "Epic":
            return "%s: %s" % (r.choice(("Q1", "Q2", "Q3", "Q4")),
                               r.choice(SUMMARY_THINGS).capitalize())
        if t.type == "Bug":
            return "%s fails %s" % (r.choice(SUMMARY_THINGS).capitalize(),
                                    r.choice(SUMMARY_PLACES))
        return "%s %s %s" % (r.choice(SUMMARY_VERBS),
                             r.choice(SUMMARY_THINGS),
                             r.choice(SUMMARY_PLACES))

    def finalize(self, t, ev):
        """Sort the raw events, cut them at the horizon, and replay them to
        fill in every item's `from` (dropping items that change nothing)."""
        for i, e in enumerate(ev):
            e.append(i)
        ev.sort(key=lambda e: (e[0], e[3]))
        st = t.status0
        res = t.res0
        assg = t.assg0
        prio = t.prio0
        labels = t.labels0
        sp = t.sp0
        flag = t.flag0
        sprints = ()
        desc = t.desc0
        dver = 0 if desc is not None else None
        links = set()
        wf = 0
        times = []
        hist = []
        for tm, author, items, _ in ev:
            if tm > self.t_end or tm <= t.created:
                continue
            out = []
            for code, to in items:
                if code == F_STATUS:
                    if to == st:
                        continue
                    out.append((code, st, to))
                    st = to
                elif code == F_RES:
                    if to == res:
                        continue
                    out.append((code, res, to))
                    res = to
                elif code == F_ASSG:
                    if to == assg:
                        continue
                    out.append((code, assg, to))
                    assg = to
                elif code == F_PRIO:
                    if to == prio:
                        continue
                    out.append((code, prio, to))
                    prio = to
                elif code == F_LABELS:
                    if to == labels:
                        continue
                    out.append((code, labels, to))
                    labels = to
                elif code == F_SP:
                    if to == sp:
                        continue
                    out.append((code, sp, to))
                    sp = to
                elif code == F_FLAG:
                    if to == flag:
                        continue
                    out.append((code, flag, to))
                    flag = to
                elif code == F_SPRINT:
                    if to in sprints:
                        continue
                    new = tuple(sorted(set(sprints) | {to}))[-2:]
                    out.append((code, sprints, new))
                    sprints = new
                elif code == F_DESC:
                    nver = 0 if dver is None else dver + 1
                    out.append((code, (desc, dver), (to, nver)))
                    desc, dver = to, nver
                elif code == F_WF:
                    out.append((code, wf, wf + 1))
                    wf += 1
                elif code == F_RANK:
                    out.append((code, None, to))
                elif code == F_RLINK:
                    out.append((code, to if to in links else None, to))
                    links.add(to)
            if out:
                times.append(tm)
                hist.append((author, tuple(out)))
        t.ev_t = times
        t.ev = hist
        t.hids = [0] * len(times)

    # ------------------------------------------------------------ state

    def state(self, t, vis):
        st = State()
        st.vis = vis
        status = t.status0
        res = t.res0
        resdate = t.created if res is not None else None
        assg = t.assg0
        prio = t.prio0
        labels = t.labels0
        sp = t.sp0
        flag = t.flag0
        sprints = ()
        desc = t.desc0
        catchange = t.created
        ev_t = t.ev_t
        evs = t.ev
        for i in range(vis):
            for code, _frm, to in evs[i][1]:
                if code == F_STATUS:
                    if ALL_STATUS_DEFS[to][1] != ALL_STATUS_DEFS[status][1]:
                        catchange = ev_t[i]
                    status = to
                elif code == F_RES:
                    res = to
                    resdate = ev_t[i] if to is not None else None
                elif code == F_ASSG:
                    assg = to
                elif code == F_PRIO:
                    prio = to
                elif code == F_LABELS:
                    labels = to
                elif code == F_SP:
                    sp = to
                elif code == F_FLAG:
                    flag = to
                elif code == F_SPRINT:
                    sprints = to
                elif code == F_DESC:
                    desc = to[0]
        st.status = status
        st.res = res
        st.resdate = resdate
        st.assg = assg
        st.prio = prio
        st.labels = labels
        st.sp = sp
        st.flag = flag
        st.sprints = sprints
        st.desc = desc
        st.catchange = catchange
        st.updated = ev_t[vis - 1] if vis else t.created
        return st


# ------------------------------------------------------------- rendering

class Ctx:
    """Prebuilt JSON objects for one (api version, base URL): users,
    statuses, priorities, types, projects, so an issue is mostly references.
    Objects are shared between responses and never mutated."""

    def __init__(self, api, v, base):
        self.api = api
        self.v = v
        self.base = base
        self.cloud = api.cloud
        org = api.org
        self.ids = CUSTOM_IDS["cloud" if api.cloud else "datacenter"]
        rest = "%s/rest/api/%s" % (base, v)
        self.rest = rest
        self.users = {}
        for u in org.users:
            self.users[u.idx] = self.user_obj(u)
        for k, u in org.special_users.items():
            self.users[k] = self.user_obj(u)
        self.statuses = {}
        for sid in STATUS_DEFS:
            self.statuses[sid] = api.status_obj(sid, rest)
        self.priorities = {}
        for pid, name, icon in PRIORITIES:
            self.priorities[pid] = {
                "self": "%s/priority/%s" % (rest, pid),
                "iconUrl": "%s/images/icons/priorities/%s" % (base, icon),
                "name": name, "id": pid}
        self.types = {}
        for name, (tid, sub, level, av, desc) in ISSUE_TYPES.items():
            o = {"self": "%s/issuetype/%s" % (rest, tid), "id": tid,
                 "description": desc,
                 "iconUrl": "%s/rest/api/2/universal_avatar/view/type/"
                            "issuetype/avatar/%d?size=medium" % (base, av),
                 "name": name, "subtask": sub, "avatarId": av}
            if self.cloud:
                o["entityId"] = "%08x-0000-4000-8000-%012d" % (
                    int(tid), int(tid))
                o["hierarchyLevel"] = level
            self.types[name] = o
        self.projects = [api.project_ref(p, rest) for p in
                         range(org.n_projects)]
        self.components = []
        for p in range(org.n_projects):
            comps = COMPONENTS[:4 + p % 5]
            self.components.append([
                {"self": "%s/component/%d" % (rest, 10000 + p * 20 + i),
                 "id": str(10000 + p * 20 + i), "name": c}
                for i, c in enumerate(comps)])
        self.resolutions = {}
        for rid, (name, desc) in RESOLUTIONS.items():
            self.resolutions[rid] = {
                "self": "%s/resolution/%s" % (rest, rid), "id": rid,
                "description": desc, "name": name}
        flag_opt = self.ids["flagopt"]
        self.flag_value = [{"self": "%s/customFieldOption/%s"
                            % (rest, flag_opt),
                            "value": "Impediment", "id": flag_opt}]
        self.flag_str = "[%s]" % flag_opt
        self.fixversions = []
        for p in range(org.n_projects):
            self.fixversions.append({
                "self": "%s/version/%d" % (rest, 10100 + p),
                "id": str(10100 + p), "description": "",
                "name": "%s 2026.4" % org.keys[p], "archived": False,
                "released": True, "releaseDate": "2026-10-01"})
        self.item_meta = {}
        cid = self.ids
        for code, name, ftype, fid in (
                (F_STATUS, "status", "jira", "status"),
                (F_RES, "resolution", "jira", "resolution"),
                (F_ASSG, "assignee", "jira", "assignee"),
                (F_PRIO, "priority", "jira", "priority"),
                (F_LABELS, "labels", "jira", "labels"),
                (F_SP, "Story Points", "custom", cid["sp"]),
                (F_FLAG, "Flagged", "custom", cid["flag"]),
                (F_SPRINT, "Sprint", "custom", cid["sprint"]),
                (F_RANK, "Rank", "custom", cid["rank"]),
                (F_DESC, "description", "jira", "description"),
                (F_WF, "Workflow", "jira", None),
                (F_RLINK, "RemoteIssueLink", "jira", None)):
            self.item_meta[code] = (name, ftype,
                                    fid if self.cloud else None)

    def user_obj(self, u):
        av = "https://avatar-management.acme.test/%s" % (
            u.account_id if self.cloud else u.name)
        avatars = {"48x48": av + "/48", "24x24": av + "/24",
                   "16x16": av + "/16", "32x32": av + "/32"}
        if self.cloud:
            return {"self": "%s/user?accountId=%s" % (self.rest, u.account_id),
                    "accountId": u.account_id, "emailAddress": u.email,
                    "avatarUrls": avatars, "displayName": u.display,
                    "active": u.active, "timeZone": u.tz,
                    "accountType": u.account_type}
        return {"self": "%s/user?username=%s" % (self.rest, u.name),
                "name": u.name, "key": u.key, "emailAddress": u.email,
                "avatarUrls": avatars, "displayName": u.display,
                "active": u.active, "timeZone": u.tz}

    def status_ref(self, sid):
        o = self.statuses.get(sid)
        if o is None:  # a deleted status never is current; be safe
            o = self.api.status_obj(sid, self.rest)
        return o


class JiraApi:
    name = "jira"

    def __init__(self, opts):
        self.opts = opts
        self.seed = getattr(opts, "seed", 1)
        now = getattr(opts, "now", None)
        self.now0 = int(now) if now is not None else DEFAULT_NOW
        self.now = self.now0
        flavor = (getattr(opts, "jira_flavor", None) or "cloud").lower()
        self.cloud = flavor != "datacenter"
        self.n_projects, self.per_project = jira_scale(opts)
        ci = getattr(opts, "changelog_inline", None)
        if ci is None or ci <= 0:   # not given: the flavour's default
            ci = CLOUD_INLINE_DEFAULT if self.cloud else None
        self.inline = ci
        cap = getattr(opts, "jira_page_cap", None)
        self.page_cap = cap if cap and cap > 0 else None
        self.retry_after = getattr(opts, "retry_after", 1) or 1
        self.auth = self.parse_auth(getattr(opts, "jira_auth", None))
        self.lock = threading.RLock()
        self._org = None
        self._ctx = {}
        self._states = {}
        self._hist_cache = collections.OrderedDict()
        self._query_cache = collections.OrderedDict()
        self._parse_cache = {}
        # generate at once but in the background: the server answers
        # /__clock and GitHub meanwhile; a Jira request waits for the lock
        threading.Thread(target=self._generate_quietly, daemon=True,
                         name="simjira-generate").start()

    def _generate_quietly(self):
        try:
            self.org
        except Exception:  # the first request reports it
            pass

    # ----------------------------------------------------------- plumbing

    @property
    def org(self):
        o = self._org
        if o is None:
            with self.lock:
                if self._org is None:
                    # a million long-lived tuples and no cycles among them:
                    # the cyclic GC would only rescan them, during the
                    # generation and after it
                    was = gc.isenabled()
                    gc.disable()
                    try:
                        self._org = Org(self.seed, self.n_projects,
                                        self.per_project, self.now0)
                    finally:
                        if was:
                            gc.enable()
                    gc.freeze()
                o = self._org
        return o

    @staticmethod
    def parse_auth(spec):
        if not spec:
            return None
        parts = spec.split(":", 2)
        if parts[0] == "basic" and len(parts) == 3:
            raw = ("%s:%s" % (parts[1], parts[2])).encode("utf-8")
            return ("Basic", base64.b64encode(raw).decode("ascii"),
                    parts[1])
        if parts[0] == "bearer" and len(parts) == 2:
            return ("Bearer", parts[1], None)
        raise ValueError("--jira-auth: basic:EMAIL:TOKEN or bearer:TOKEN")

    def owns(self, path):
        return path.startswith("/rest/")

    def auth_ok(self, req):
        if self.auth is None:
            return True
        got = req.headers.get("Authorization") or ""
        scheme, _, cred = got.strip().partition(" ")
        if scheme.lower() != self.auth[0].lower():
            return False
        cred = cred.strip()
        if self.auth[0] == "Basic":
            try:
                return base64.b64decode(cred, validate=True) == \
                    base64.b64decode(self.auth[1])
            except Exception:
                return False
        return cred == self.auth[1]

    def charged(self, req):
        return True

    def unauthorized_response(self):
        return Response(401, {"Content-Type": "application/json;"
                              "charset=UTF-8",
                              "WWW-Authenticate":
                                  'OAuth realm="%s", Basic realm="protected'
                                  '-area"' % "jira"},
                        {"errorMessages": ["You are not authenticated. "
                                           "Authentication required to "
                                           "perform this operation."],
                         "errors": {}})

    def rate_headers(self, qs):
        return {"X-RateLimit-Limit": str(qs.limit),
                "X-RateLimit-Remaining": str(qs.remaining),
                "X-RateLimit-Reset": iso_minute_utc(qs.reset)}

    def limited_response(self, qs, kind):
        import time as _time
        headers = {"Content-Type": "application/json;charset=UTF-8",
                   "X-RateLimit-Limit": str(qs.limit),
                   "X-RateLimit-Remaining": "0",
                   "X-RateLimit-Reset": iso_minute_utc(qs.reset),
                   "RateLimit-Reason": "jira-burst-based"}
        if kind == "primary":
            wait = max(1, int(math.ceil(qs.reset - _time.time())))
            headers["Retry-After"] = str(wait)
            headers["X-RateLimit-Remaining"] = "0"
        else:
            headers["X-RateLimit-Remaining"] = str(qs.remaining)
            headers["RateLimit-Reason"] = "jira-quota-tenant-based"
            if kind == "secondary":
                headers["Retry-After"] = str(self.retry_after)
        return Response(429, headers,
                        {"errorMessages": ["Rate limit exceeded."],
                         "errors": {}})

    def endpoint_name(self, req):
        m = re.match(r"^/rest/api/(2|3|latest)(/.*)?$", req.path)
        if not m:
            return "%s %s" % (req.method, req.path)
        v, rest = m.group(1), (m.group(2) or "/").rstrip("/")
        rest = re.sub(r"^/issue/[^/]+", "/issue/{key}", rest)
        rest = re.sub(r"^/(status|project|statuscategory|user)/[^/]+",
                      r"/\1/{id}", rest)
        return "%s /rest/api/%s%s" % (req.method, v, rest)

    def advance(self, hours, old_now, new_now):
        with self.lock:
            self.now = int(new_now)
            self._query_cache.clear()

    # ---------------------------------------------------------- helpers

    def ctx(self, v, base):
        key = (v, base)
        c = self._ctx.get(key)
        if c is None:
            c = Ctx(self, v, base)
            with self.lock:
                self._ctx[key] = c
        return c

    def status_obj(self, sid, rest):
        name, cat, desc, icon = ALL_STATUS_DEFS[sid]
        cid, cname, color = CATEGORIES[cat]
        base = rest.split("/rest/")[0]
        o = {"self": "%s/status/%s" % (rest, sid), "description": desc,
             "iconUrl": "%s/images/icons/statuses/%s" % (base, icon),
             "name": name}
        if self.cloud:
            o["untranslatedName"] = name
        o["id"] = sid
        o["statusCategory"] = {"self": "%s/statuscategory/%d" % (rest, cid),
                               "id": cid, "key": cat, "colorName": color,
                               "name": cname}
        return o

    def project_ref(self, p, rest):
        org = self.org
        key = org.keys[p]
        pid = str(10000 + p)
        base = rest.split("/rest/")[0]
        av = "%s/rest/api/2/universal_avatar/view/type/project/avatar/%d" % (
            base, 10400 + p)
        o = {"self": "%s/project/%s" % (rest, pid), "id": pid, "key": key,
             "name": PROJECT_NAMES.get(key, "Project %s" % key),
             "projectTypeKey": "software",
             "avatarUrls": {"48x48": av, "24x24": av + "?size=small",
                            "16x16": av + "?size=xsmall",
                            "32x32": av + "?size=medium"}}
        if self.cloud:
            o["simplified"] = False
        else:
            o["projectCategory"] = {
                "self": "%s/projectCategory/10000" % rest, "id": "10000",
                "name": "Engineering",
                "description": "Product engineering teams"}
        return o

    def state(self, t, vis):
        key = (t.gidx, vis)
        st = self._states.get(key)
        if st is None:
            st = self.org.state(t, vis)
            if len(self._states) > 100000:
                self._states.clear()
            self._states[key] = st
        return st

    def visible(self, t, now_ms):
        return bisect.bisect_right(t.ev_t, now_ms)

    def base_url(self, req):
        host = req.headers.get("Host") or "127.0.0.1"
        return "http://%s" % host

    def find_ticket(self, ident, now_ms):
        org = self.org
        t = org.by_id.get(ident) or org.by_key.get(str(ident).upper())
        if t is None or t.created > now_ms:
            return None
        return t

    def project_lookup(self, v):
        org = self.org
        s = str(v).strip()
        for p, key in enumerate(org.keys):
            if s.upper() == key or s == str(10000 + p) or \
                    s.lower() == PROJECT_NAMES.get(key, "").lower():
                return key
        return None

    # ----------------------------------------------------- histories

    def histories(self, t, c):
        """All of t's histories rendered for ctx c (oldest first)."""
        key = (t.gidx, c.v, c.base)
        with self.lock:
            h = self._hist_cache.get(key)
            if h is not None:
                self._hist_cache.move_to_end(key)
                return h
        h = [self.render_history(t, i, c) for i in range(len(t.ev_t))]
        with self.lock:
            self._hist_cache[key] = h
            if len(self._hist_cache) > 5000:
                self._hist_cache.popitem(last=False)
        return h

    def render_history(self, t, i, c):
        author, items = t.ev[i]
        out = []
        for code, frm, to in items:
            name, ftype, fid = c.item_meta[code]
            fv, fs, tv, ts = self.item_values(code, frm, to, c, t)
            it = {"field": name, "fieldtype": ftype}
            if fid is not None:
                it["fieldId"] = fid
            it["from"] = fv
            it["fromString"] = fs
            it["to"] = tv
            it["toString"] = ts
            if code == F_ASSG and self.cloud:
                # as Jira Cloud's assignee items carry them
                it["tmpFromAccountId"] = fv
                it["tmpToAccountId"] = tv
            out.append(it)
        tm = t.ev_t[i]
        h = {"id": str(t.hids[i]), "author": c.users[author],
             "created": jira_ts(tm), "items": out}
        if author == AUTOMATION and self.cloud:
            # what an app's change carries on Cloud
            h["historyMetadata"] = {
                "description": " on behalf of accountId=%s"
                % self.org.user(t.reporter).account_id}
        return h

    def item_values(self, code, frm, to, c, t):
        org = self.org
        if code == F_STATUS:
            return frm, ALL_STATUS_DEFS[frm][0], to, ALL_STATUS_DEFS[to][0]
        if code == F_RES:
            return (frm, RESOLUTIONS[frm][0] if frm else None, to,
                    RESOLUTIONS[to][0] if to else None)
        if code == F_ASSG:
            def uid(x):
                if x is None:
                    return None, None
                u = org.user(x)
                return (u.account_id if self.cloud else u.name), u.display
            a, b = uid(frm)
            d, e = uid(to)
            return a, b, d, e
        if code == F_PRIO:
            return frm, PRIORITY_BY_ID[frm][1], to, PRIORITY_BY_ID[to][1]
        if code == F_LABELS:
            return None, " ".join(frm), None, " ".join(to)
        if code == F_SP:
            return None, _num_str(frm), None, _num_str(to)
        if code == F_FLAG:
            if frm:
                return c.flag_str, "Impediment", None, None
            return None, None, c.flag_str, "Impediment"
        if code == F_SPRINT:
            def sp(v):
                if not v:
                    return None, None
                return (", ".join(str(100 + k) for k in v),
                        ", ".join("%s Sprint %d" % (org.keys[t.pidx], k)
                                  for k in v))
            a, b = sp(frm)
            d, e = sp(to)
            return a, b, d, e
        if code == F_RANK:
            return "", "", "", "Ranked higher" if to else "Ranked lower"
        if code == F_DESC:
            if not self.cloud:
                return None, frm[0], None, to[0]
            # Cloud keeps rich text elsewhere and refers to its version

            def ref(v):
                return None if v is None else (
                    '{"id":"ari:cloud:jira:5d3c1e7a-acme:issuefieldvalue/%s/'
                    'description","version":"%d"}' % (t.id, v + 1))
            return ref(frm[1]), frm[0], ref(to[1]), to[0]
        if code == F_WF:
            key = org.keys[t.pidx]
            names = ["Software Simplified Workflow for Project %s" % key,
                     "%s Workflow v2" % key, "%s Workflow v3" % key]
            return (str(10300 + frm * 100 + t.gidx % 97), names[frm],
                    str(10300 + to * 100 + t.gidx % 97), names[to])
        if code == F_RLINK:
            text = 'This issue links to "Commit %d - %s (Web Link)"' % (
                to, t.summary[:60])
            if frm is None:
                return None, None, str(to), text
            return str(frm), text, str(to), text
        raise AssertionError(code)

    # ------------------------------------------------------------ issues

    def fields_all(self, t, st, c, now_ms):
        org = self.org
        ids = c.ids
        f = {}
        f["statuscategorychangedate"] = jira_ts(st.catchange)
        f["issuetype"] = c.types[t.type]
        if self.cloud:
            f[ids["spe"]] = None
        spent = t.spent if t.spent and \
            STATUS_DEFS[st.status][1] != "new" else None
        f["timespent"] = spent
        f[ids["sp"]] = st.sp
        f["project"] = c.projects[t.pidx]
        f["fixVersions"] = [c.fixversions[t.pidx]] if (
            t.fixver and st.res is not None) else []
        f["aggregatetimespent"] = spent
        f["resolution"] = c.resolutions[st.res] if st.res else None
        f[ids["flag"]] = c.flag_value if st.flag else None
        f["resolutiondate"] = jira_ts(st.resdate) if st.resdate else None
        f["workratio"] = (spent or 0) * 100 // t.est if t.est else -1
        f["watches"] = {"self": "%s/issue/%s/watchers" % (c.rest, t.key),
                        "watchCount": t.watchers, "isWatching": False}
        f["lastViewed"] = jira_ts(min(now_ms, st.updated + 3 * HOUR_MS)) \
            if t.viewed else None
        f["created"] = jira_ts(t.created)
        f["priority"] = c.priorities[st.prio]
        f["labels"] = list(st.labels)
        f[ids["rank"]] = "0|i%05x:" % (t.gidx * 7 % 0xFFFFF)
        f["timeestimate"] = t.est
        f["aggregatetimeoriginalestimate"] = t.est
        f["versions"] = []
        f["issuelinks"] = []
        f["assignee"] = c.users[st.assg] if st.assg is not None else None
        f["updated"] = jira_ts(st.updated)
        f["status"] = c.status_ref(st.status)
        comps = c.components[t.pidx]
        f["components"] = [comps[i] for i in t.components]
        f["timeoriginalestimate"] = t.est
        f["description"] = self.description(st.desc, c)
        if t.est:
            d = "%dh" % (t.est // 3600) if t.est < 28800 else \
                "%dd" % (t.est // 28800)
            f["timetracking"] = {"originalEstimate": d,
                                 "remainingEstimate": d,
                                 "originalEstimateSeconds": t.est,
                                 "remainingEstimateSeconds": t.est}
            prog = {"progress": spent or 0,
                    "total": max(t.est, spent or 0)}
            prog["percent"] = prog["progress"] * 100 // prog["total"]
        else:
            f["timetracking"] = {}
            if spent:
                prog = {"progress": spent, "total": spent, "percent": 100}
            else:
                prog = {"progress": 0, "total": 0}
        if self.cloud:
            f["security"] = None
            sp = st.sprints
            f[ids["sprint"]] = [self.sprint_obj(t, k, now_ms)
                                for k in sp] if sp else None
            f[ids["epiclink"]] = None
            f["issuerestriction"] = {"issuerestrictions": {},
                                     "shouldDisplay": False}
        else:
            sp = st.sprints
            f[ids["sprint"]] = [self.sprint_str(t, k, now_ms)
                                for k in sp] if sp else None
            f[ids["epiclink"]] = None
            f[ids["epicname"]] = t.summary if t.type == "Epic" else None
        f["attachment"] = []
        f["aggregatetimeestimate"] = t.est
        f["summary"] = t.summary
        f["creator"] = c.users[t.reporter]
        subs = []
        for ch in t.children:
            if ch.created > now_ms or ch.type != "Sub-task":
                continue
            subs.append(self.issue_stub(ch, now_ms, c))
        f["subtasks"] = subs
        f["reporter"] = c.users[t.reporter]
        f["aggregateprogress"] = prog
        f["environment"] = None
        f["duedate"] = datetime.fromtimestamp(
            t.due // 1000, _SERVER_ZONE).strftime("%Y-%m-%d") \
            if t.due else None
        f["progress"] = dict(prog)
        f["comment"] = {"comments": [], "self": "%s/issue/%s/comment" % (
            c.rest, t.id), "maxResults": 0, "total": 0, "startAt": 0}
        f["votes"] = {"self": "%s/issue/%s/votes" % (c.rest, t.key),
                      "votes": 0, "hasVoted": False}
        f["worklog"] = {"startAt": 0, "maxResults": 20, "total": 0,
                        "worklogs": []}
        if t.parent is not None and (t.type == "Sub-task" or self.cloud):
            f["parent"] = self.issue_stub(t.parent, now_ms, c)
        if not self.cloud:
            del f["statuscategorychangedate"]
        return f

    def sprint_obj(self, t, k, now_ms):
        start = self.org.sprint_epoch + (k - 1) * 2 * WEEK_MS
        end = start + 2 * WEEK_MS
        state = "closed" if end <= now_ms else "active" if start <= now_ms \
            else "future"
        o = {"id": 100 + k, "name": "%s Sprint %d" % (
            self.org.keys[t.pidx], k), "state": state,
            "boardId": 1 + t.pidx, "goal": "",
            "startDate": datetime.fromtimestamp(start // 1000, timezone.utc)
            .strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "endDate": datetime.fromtimestamp(end // 1000, timezone.utc)
            .strftime("%Y-%m-%dT%H:%M:%S.000Z")}
        if state == "closed":
            o["completeDate"] = o["endDate"]
        return o

    def sprint_str(self, t, k, now_ms):
        o = self.sprint_obj(t, k, now_ms)
        return ("com.atlassian.greenhopper.service.sprint.Sprint@%x[id=%d,"
                "rapidViewId=%d,state=%s,name=%s,startDate=%s,endDate=%s,"
                "completeDate=<null>,sequence=%d,goal=]" % (
                    o["id"] * 7919, o["id"], o["boardId"],
                    o["state"].upper(), o["name"], o["startDate"],
                    o["endDate"], o["id"]))

    def description(self, text, c):
        if text is None:
            return None
        if c.v == "3":
            paras = [p for p in text.split("\n\n") if p]
            return {"type": "doc", "version": 1, "content": [
                {"type": "paragraph",
                 "content": [{"type": "text", "text": p}]} for p in paras]}
        return text

    def issue_stub(self, t, now_ms, c):
        st = self.state(t, self.visible(t, now_ms))
        return {"id": t.id, "key": t.key,
                "self": "%s/issue/%s" % (c.rest, t.id),
                "fields": {"summary": t.summary,
                           "status": c.status_ref(st.status),
                           "priority": c.priorities[st.prio],
                           "issuetype": c.types[t.type]}}

    def issue_json(self, t, now_ms, c, fields_spec, changelog_cap,
                   want_changelog):
        """One issue. fields_spec: None (all), "navigable" (all but comment
        and worklog), "idonly", or a set of field ids. changelog_cap: the
        newest N histories inline (None: all)."""
        vis = self.visible(t, now_ms)
        if fields_spec == "idonly":
            o = {"id": t.id}
        else:
            st = self.state(t, vis)
            allf = self.fields_all(t, st, c, now_ms)
            if fields_spec is None:
                fl = allf
            elif fields_spec == "navigable":
                fl = {k: v for k, v in allf.items()
                      if k not in ("comment", "worklog")}
            else:
                fl = {k: v for k, v in allf.items() if k in fields_spec}
            o = {"expand": "renderedFields,names,schema,operations,editmeta,"
                           "changelog,versionedRepresentations",
                 "id": t.id, "self": "%s/issue/%s" % (c.rest, t.id),
                 "key": t.key, "fields": fl}
        if want_changelog:
            hs = self.histories(t, c)
            total = vis
            lo = 0 if changelog_cap is None else max(0, vis - changelog_cap)
            shown = hs[lo:vis][::-1]   # the newest first
            o["changelog"] = {"startAt": 0, "maxResults": len(shown),
                              "total": total, "histories": shown}
        return o

    # ----------------------------------------------------------- routing

    def handle(self, req):
        now = getattr(req, "now", None)
        now = self.now if now is None else int(now)
        try:
            return self.route(req, now)
        except JiraError as e:
            return self.error(e.status, e.messages, e.errors)

    def json_resp(self, body, status=200):
        return Response(status, {"Content-Type":
                                 "application/json;charset=UTF-8"}, body)

    def error(self, status, messages, errors=None):
        return self.json_resp({"errorMessages": list(messages),
                               "errors": errors or {}}, status)

    def not_found_uri(self, req):
        return self.json_resp({"message": "null for uri: %s%s" % (
            self.base_url(req), req.path), "status-code": 404}, 404)

    def route(self, req, now):
        m = re.match(r"^/rest/api/(2|3|latest)(/.*)?$", req.path)
        if not m:
            return self.not_found_uri(req)
        v = m.group(1)
        if v == "latest":
            v = "2"
        rest = (m.group(2) or "/").rstrip("/") or "/"
        if v == "3" and not self.cloud:
            return self.not_found_uri(req)
        method = req.method.upper()
        if method == "HEAD":
            method = "GET"
        c = self.ctx(v, self.base_url(req))
        now_ms = now * 1000

        def need(*methods):
            if method not in methods:
                raise JiraError(405, ["Method %s is not allowed here."
                                      % req.method])

        if rest == "/serverInfo":
            need("GET")
            return self.json_resp(self.server_info(c, now))
        if rest == "/myself":
            need("GET")
            return self.json_resp(self.myself(c))
        if rest == "/status":
            need("GET")
            return self.json_resp([c.statuses[s] for s in STATUS_DEFS])
        if rest.startswith("/status/"):
            need("GET")
            ident = rest[len("/status/"):]
            for sid, d in STATUS_DEFS.items():
                if ident == sid or ident.lower() == d[0].lower():
                    return self.json_resp(c.statuses[sid])
            raise JiraError(404, ["The status with id '%s' does not exist"
                                  % ident])
        if rest == "/statuscategory":
            need("GET")
            return self.json_resp([
                {"self": "%s/statuscategory/%d" % (c.rest, CATEGORIES[k][0]),
                 "id": CATEGORIES[k][0], "key": k,
                 "colorName": CATEGORIES[k][2], "name": CATEGORIES[k][1]}
                for k in CATEGORY_ORDER])
        if rest == "/field":
            need("GET")
            return self.json_resp(self.field_list(c))
        if rest == "/project":
            need("GET")
            return self.json_resp(self.project_list(c))
        if rest.startswith("/project/"):
            need("GET")
            key = self.project_lookup(rest[len("/project/"):])
            if key is None:
                raise JiraError(404, ["No project could be found with key "
                                      "'%s'." % rest[len("/project/"):]])
            return self.json_resp(self.project_full(c, key))
        mi = re.match(r"^/issue/([^/]+)(/changelog)?$", rest)
        if mi:
            need("GET")
            t = self.find_ticket(mi.group(1), now_ms)
            if t is None:
                raise JiraError(404, ["Issue does not exist or you do not "
                                      "have permission to see it."])
            if mi.group(2):
                if not self.cloud:
                    return self.not_found_uri(req)
                return self.json_resp(self.changelog_page(req, t, c,
                                                          now_ms))
            return self.json_resp(self.get_issue(req, t, c, now_ms))
        if rest in ("/search/jql", "/search/approximate-count"):
            if not self.cloud:
                return self.not_found_uri(req)
            if rest == "/search/approximate-count":
                need("POST")
                return self.json_resp(self.approximate_count(req, now))
            need("GET", "POST")
            return self.json_resp(self.search_jql(req, c, now))
        if rest == "/search":
            need("GET", "POST")
            if self.cloud:
                return self.error(410, [
                    "The requested API has been removed. Please migrate to "
                    "the /rest/api/3/search/jql API. A full migration "
                    "guideline is available at https://developer.atlassian"
                    ".com/changelog/#CHANGE-2046"])
            return self.json_resp(self.search_dc(req, c, now))
        if rest == "/changelog/bulkfetch":
            if not self.cloud:
                return self.not_found_uri(req)
            need("POST")
            return self.json_resp(self.bulkfetch(req, c, now_ms))
        return self.not_found_uri(req)

    # ----------------------------------------------------- small objects

    def server_info(self, c, now):
        if self.cloud:
            return {"baseUrl": c.base, "displayUrl": c.base,
                    "version": "1001.0.0-SNAPSHOT",
                    "versionNumbers": [1001, 0, 0],
                    "deploymentType": "Cloud", "buildNumber": 100280,
                    "buildDate": "2026-11-10T06:35:02.000+0000",
                    "serverTime": jira_ts(now * 1000),
                    "scmInfo": "7c7bd5e8a1f2b0c8b9e6f0a2d4c1e3b5a7f9d0c2",
                    "serverTitle": "Jira",
                    "defaultLocale": {"locale": "en_US"},
                    "serverTimeZone": "Etc/UTC"}
        return {"baseUrl": c.base, "version": "9.12.15",
                "versionNumbers": [9, 12, 15], "deploymentType": "Server",
                "buildNumber": 9120015,
                "buildDate": "2024-10-01T00:00:00.000+0200",
                "databaseBuildNumber": 9120015,
                "serverTime": jira_ts(now * 1000),
                "scmInfo": "0f0e7c1a9b6d4e2f8a3c5b7d9e1f3a5c7b9d1e3f",
                "serverTitle": "Acme Jira"}

    def myself(self, c):
        email = self.auth[2] if self.auth and self.auth[2] else \
            "bellwether@acme.com"
        av = "https://avatar-management.acme.test/bellwether"
        avatars = {"48x48": av + "/48", "24x24": av + "/24",
                   "16x16": av + "/16", "32x32": av + "/32"}
        groups = {"size": 2, "items": []}
        roles = {"size": 1, "items": []}
        if self.cloud:
            return {"self": "%s/user?accountId=5f0c277e70b8a90025a00a77"
                            % c.rest,
                    "accountId": "5f0c277e70b8a90025a00a77",
                    "accountType": "atlassian", "emailAddress": email,
                    "avatarUrls": avatars, "displayName": "Bellwether Bot",
                    "active": True, "timeZone": USER_TZ, "locale": "en_US",
                    "groups": groups, "applicationRoles": roles,
                    "expand": "groups,applicationRoles"}
        return {"self": "%s/user?username=bellwether" % c.rest,
                "key": "JIRAUSER10500", "name": "bellwether",
                "emailAddress": email, "avatarUrls": avatars,
                "displayName": "Bellwether Bot", "active": True,
                "deleted": False, "timeZone": USER_TZ, "locale": "en_US",
                "groups": groups, "applicationRoles": roles,
                "expand": "groups,applicationRoles"}

    def field_list(self, c):
        def sysf(fid, name, typ, system=None, items=None, clause=None,
                 orderable=True, searchable=True):
            o = {"id": fid, "name": name, "custom": False,
                 "orderable": orderable, "navigable": True,
                 "searchable": searchable,
                 "clauseNames": clause or [fid]}
            if self.cloud:
                o["key"] = fid
                o["untranslatedName"] = name
            if typ is not None:
                sch = {"type": typ}
                if items:
                    sch["items"] = items
                sch["system"] = system or fid
                o["schema"] = sch
            return o

        def cf(fid, name, typ, custom, items=None):
            num = int(fid.split("_")[1])
            o = {"id": fid, "name": name, "custom": True, "orderable": True,
                 "navigable": True, "searchable": True,
                 "clauseNames": ["cf[%d]" % num, name]}
            if self.cloud:
                o["key"] = fid
                o["untranslatedName"] = name
            sch = {"type": typ}
            if items:
                sch["items"] = items
            sch["custom"] = custom
            sch["customId"] = num
            o["schema"] = sch
            return o

        ids = c.ids
        out = [
            sysf("issuetype", "Issue Type", "issuetype",
                 clause=["issuetype", "type"]),
            sysf("components", "Component/s", "array", "components",
                 "component", ["component"]),
            sysf("issuekey", "Key", None, clause=["id", "issue", "issuekey",
                                                 "key"],
                 orderable=False, searchable=False),
            sysf("summary", "Summary", "string"),
            sysf("description", "Description", "string"),
            sysf("status", "Status", "status", orderable=False),
            sysf("statusCategory", "Status Category", "statusCategory",
                 clause=["statusCategory"], orderable=False),
            sysf("resolution", "Resolution", "resolution"),
            sysf("resolutiondate", "Resolved", "datetime",
                 clause=["resolutiondate", "resolved"], orderable=False),
            sysf("created", "Created", "datetime",
                 clause=["created", "createdDate"], orderable=False),
            sysf("updated", "Updated", "datetime",
                 clause=["updated", "updatedDate"], orderable=False),
            sysf("priority", "Priority", "priority"),
            sysf("labels", "Labels", "array", "labels", "string"),
            sysf("assignee", "Assignee", "user"),
            sysf("reporter", "Reporter", "user"),
            sysf("creator", "Creator", "user", orderable=False),
            sysf("project", "Project", "project", orderable=False),
            sysf("parent", "Parent", None, orderable=False),
            sysf("subtasks", "Sub-tasks", "array", "subtasks", "issuelinks",
                 orderable=False),
            sysf("fixVersions", "Fix Version/s", "array", "fixVersions",
                 "version", ["fixVersion"]),
            sysf("duedate", "Due date", "date", clause=["due", "duedate"]),
            sysf("timeoriginalestimate", "Original Estimate", "number",
                 clause=["originalEstimate", "timeoriginalestimate"]),
            sysf("comment", "Comment", "array", "comment", "comment",
                 orderable=False),
        ]
        if self.cloud:
            out += [
                cf(ids["rank"], "Rank", "any",
                   "com.pyxis.greenhopper.jira:gh-lexo-rank"),
                cf(ids["epiclink"], "Epic Link", "any",
                   "com.pyxis.greenhopper.jira:gh-epic-link"),
                cf(ids["sprint"], "Sprint", "array",
                   "com.pyxis.greenhopper.jira:gh-sprint", "json"),
                # a trap for substring matching: not "Story Points"
                cf(ids["spe"], "Story point estimate", "number",
                   "com.pyxis.greenhopper.jira:jsw-story-points"),
                cf(ids["sp"], "Story Points", "number",
                   "com.atlassian.jira.plugin.system.customfieldtypes:float"),
                cf(ids["flag"], "Flagged", "array",
                   "com.atlassian.jira.plugin.system.customfieldtypes:"
                   "multicheckboxes", "option"),
            ]
        else:
            out += [
                cf(ids["rank"], "Rank", "any",
                   "com.pyxis.greenhopper.jira:gh-lexo-rank"),
                cf(ids["epiclink"], "Epic Link", "any",
                   "com.pyxis.greenhopper.jira:gh-epic-link"),
                cf(ids["epicname"], "Epic Name", "string",
                   "com.pyxis.greenhopper.jira:gh-epic-label"),
                cf(ids["sprint"], "Sprint", "array",
                   "com.pyxis.greenhopper.jira:gh-sprint", "string"),
                cf(ids["sp"], "Story Points", "number",
                   "com.atlassian.jira.plugin.system.customfieldtypes:float"),
                cf(ids["flag"], "Flagged", "array",
                   "com.atlassian.jira.plugin.system.customfieldtypes:"
                   "multicheckboxes", "option"),
            ]
        return out

    def project_list(self, c):
        out = []
        for p in range(self.org.n_projects):
            o = dict(c.projects[p])
            o["self"] = "%s/project/%s" % (c.rest, o["id"])
            if self.cloud:
                o = {"expand": "description,lead,issueTypes,url,projectKeys,"
                               "permissions,insight",
                     **o, "style": "classic", "isPrivate": False,
                     "properties": {},
                     "entityId": "%08x-1111-4111-8111-%012d" % (p, p),
                     "uuid": "%08x-1111-4111-8111-%012d" % (p, p)}
            else:
                o = {"expand": "description,lead,url,projectKeys", **o,
                     "archived": False}
            out.append(o)
        return out

    def project_full(self, c, key):
        p = self.org.keys.index(key)
        o = dict(self.project_list(c)[p])
        team = self.org.teams[p]
        o["description"] = "%s team backlog" % PROJECT_NAMES.get(key, key)
        o["lead"] = c.users[team[0]]
        o["components"] = c.components[p]
        o["issueTypes"] = [c.types[n] for n in ISSUE_TYPES]
        o["assigneeType"] = "UNASSIGNED"
        o["versions"] = [c.fixversions[p]]
        o["roles"] = {}
        return o

    # ------------------------------------------------------ issue endpoints

    def get_issue(self, req, t, c, now_ms):
        spec = self.fields_param(req.query.get("fields"), default=None)
        expand = self.expand_param(req.query.get("expand"))
        cap = DC_ISSUE_CHANGELOG_CAP
        if self.inline is not None and self.inline < cap and \
                not self.cloud:
            cap = self.inline
        return self.issue_json(t, now_ms, c, spec, cap,
                               "changelog" in expand)

    def changelog_page(self, req, t, c, now_ms):
        start = self.int_param(req.q("startAt"), 0, "startAt")
        asked = self.int_param(req.q("maxResults"), 100, "maxResults")
        mr = max(1, min(asked, 100))
        n = mr if self.page_cap is None else min(mr, self.page_cap)
        vis = self.visible(t, now_ms)
        hs = self.histories(t, c)[:vis]
        start = max(0, start)
        vals = hs[start:start + n]
        last = start + len(vals) >= vis
        url = "%s/issue/%s/changelog" % (c.rest, t.key)
        o = {"self": "%s?maxResults=%d&startAt=%d" % (url, mr, start)}
        if not last:
            o["nextPage"] = "%s?maxResults=%d&startAt=%d" % (
                url, mr, start + len(vals))
        o.update({"maxResults": mr, "startAt": start, "total": vis,
                  "isLast": last, "values": vals})
        return o

    # --------------------------------------------------------- parameters

    @staticmethod
    def int_param(v, default, name):
        v = _first(v)
        if v is None or v == "":
            return default
        try:
            return int(v)
        except (TypeError, ValueError):
            raise JiraError(400, ["The value '%s' is not valid for the "
                                  "parameter '%s'." % (v, name)])

    def fields_param(self, vals, default):
        """-> None (all), 'navigable', 'idonly', or a set of field ids."""
        if vals is None:
            return default
        if isinstance(vals, str):
            vals = [vals]
        names = []
        for v in vals:
            names.extend(p.strip() for p in str(v).split(",") if p.strip())
        if not names:
            return default
        if "*all" in names:
            base = None
        elif "*navigable" in names:
            base = "navigable"
        else:
            base = set()
        minus = set(n[1:] for n in names if n.startswith("-"))
        plus = set(n for n in names if not n.startswith("*")
                   and not n.startswith("-"))
        if base is None or base == "navigable":
            if not minus:
                return base
            allnames = set(self.fields_all_names())
            if base == "navigable":
                allnames -= {"comment", "worklog"}
            return allnames - minus
        plus -= minus
        if plus <= {"id"}:
            return "idonly"
        return plus

    def fields_all_names(self):
        c = self.ctx("2", "http://x")
        t = self.org.tickets[0]
        st = self.state(t, 0)
        return list(self.fields_all(t, st, c, self.now0 * 1000)) + ["parent"]

    @staticmethod
    def expand_param(vals):
        if vals is None:
            return set()
        if isinstance(vals, str):
            vals = [vals]
        out = set()
        for v in vals:
            out.update(p.strip().lower() for p in str(v).split(",")
                       if p.strip())
        return out

    def parsed(self, jql):
        key = jql or ""
        q = self._parse_cache.get(key)
        if q is None:
            q = parse_jql(key, self.project_lookup, self.cloud)
            if len(self._parse_cache) > 1000:
                self._parse_cache.clear()
            self._parse_cache[key] = q
        return q

    def select(self, q, now):
        """The tickets a query matches at `now`, in its order."""
        ck = (q.norm(), now)
        with self.lock:
            res = self._query_cache.get(ck)
            if res is not None:
                self._query_cache.move_to_end(ck)
                return res
        org = self.org
        now_ms = now * 1000
        if q.projects is None:
            groups = org.project_tickets
        else:
            groups = [org.project_tickets[org.keys.index(k)]
                      for k in org.keys if k in q.projects]
        rows = []
        bis = bisect.bisect_right
        conds = q.conds
        for grp in groups:
            for t in grp:
                if t.created > now_ms:
                    break
                ev_t = t.ev_t
                vis = bis(ev_t, now_ms)
                upd = ev_t[vis - 1] if vis else t.created
                ok = True
                for field, op, val in conds:
                    if field == "statuscategory":
                        cat = STATUS_DEFS[self.state(t, vis).status][1]
                        ok = (cat in val) == (op == "=")
                        if not ok:
                            break
                        continue
                    x = upd if field == "updated" else t.created
                    if op == ">=":
                        ok = x >= val
                    elif op == ">":
                        ok = x > val
                    elif op == "<=":
                        ok = x <= val
                    elif op == "<":
                        ok = x < val
                    else:  # '=' on a minute literal: within that minute
                        ok = val <= x < val + 60000
                    if not ok:
                        break
                if ok:
                    rows.append((upd, t))
        order = q.order or [("key", True)]
        rows.sort(key=lambda r: r[1].gidx)
        for field, desc in reversed(order):
            if field == "updated":
                rows.sort(key=lambda r: r[0], reverse=desc)
            elif field == "created":
                rows.sort(key=lambda r: r[1].created, reverse=desc)
            elif field == "id":
                rows.sort(key=lambda r: r[1].gidx, reverse=desc)
            else:
                rows.sort(key=lambda r: (org.keys[r[1].pidx], r[1].num),
                          reverse=desc)
        res = [r[1] for r in rows]
        with self.lock:
            self._query_cache[ck] = res
            if len(self._query_cache) > 64:
                self._query_cache.popitem(last=False)
        return res

    def request_params(self, req):
        """GET query or POST JSON body -> dict of the search parameters."""
        if req.method.upper() == "POST":
            try:
                body = req.json() or {}
            except Exception:
                raise JiraError(400, ["Invalid request payload. Refer to "
                                      "the REST API documentation and try "
                                      "again."])
            if not isinstance(body, dict):
                raise JiraError(400, ["Invalid request payload. Refer to "
                                      "the REST API documentation and try "
                                      "again."])
            return body
        out = {}
        for k, v in req.query.items():
            if k in ("fields", "expand"):
                out[k] = list(v)
            else:
                out[k] = v[-1] if v else None
        return out

    # -------------------------------------------------------- Cloud search

    def token(self, kind, offset, ident):
        raw = "%s:%d:%s" % (kind, offset,
                            hashlib.sha1(ident.encode("utf-8"))
                            .hexdigest()[:10])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def untoken(self, kind, tok, ident):
        try:
            pad = "=" * (-len(tok) % 4)
            raw = base64.urlsafe_b64decode(tok + pad).decode()
            k, off, h = raw.split(":")
            if k != kind or h != hashlib.sha1(
                    ident.encode("utf-8")).hexdigest()[:10]:
                raise ValueError(raw)
            return int(off)
        except Exception:
            raise JiraError(400, ["The provided next page token is invalid "
                                  "or expired."])

    def search_jql(self, req, c, now):
        p = self.request_params(req)
        jql = p.get("jql")
        if jql is None or not str(jql).strip():
            raise JiraError(400, ["Unbounded JQL queries are not allowed "
                                  "here. Please add a search restriction to "
                                  "your query."])
        q = self.parsed(str(jql))
        spec = self.fields_param(p.get("fields"), default="idonly")
        expand = self.expand_param(p.get("expand"))
        want_cl = "changelog" in expand
        limit = 5000 if spec == "idonly" and not want_cl else 100
        asked = self.int_param(p.get("maxResults"), 50, "maxResults")
        n = max(1, min(asked, limit))
        if self.page_cap is not None:
            n = min(n, self.page_cap)
        start = 0
        tok = p.get("nextPageToken")
        if tok:
            start = self.untoken("jql", str(tok), q.norm())
        rows = self.select(q, now)
        page = rows[start:start + n]
        now_ms = now * 1000
        issues = [self.issue_json(t, now_ms, c, spec, self.inline, want_cl)
                  for t in page]
        out = {"issues": issues}
        if "names" in expand:
            out["names"] = {f["id"]: f["name"] for f in self.field_list(c)}
        end = start + len(page)
        if end < len(rows):
            out["nextPageToken"] = self.token("jql", end, q.norm())
            out["isLast"] = False
        else:
            out["isLast"] = True
        return out

    def approximate_count(self, req, now):
        p = self.request_params(req)
        q = self.parsed(str(p.get("jql") or ""))
        return {"count": len(self.select(q, now))}

    # ----------------------------------------------------------- DC search

    def search_dc(self, req, c, now):
        p = self.request_params(req)
        q = self.parsed(str(p.get("jql") or ""))
        start = self.int_param(p.get("startAt"), 0, "startAt")
        asked = self.int_param(p.get("maxResults"), 50, "maxResults")
        if start < 0:
            start = 0
        mr = max(0, min(asked, 100))
        if start + mr > DC_WINDOW:
            raise JiraError(400, [
                "Search limit exceeded. We couldn't complete your search "
                "because it requests {:,} results which exceeded the search "
                "platform limit of {:,}. Try refining your query or contact "
                "your Jira administrator. Repeating the same search may not "
                "work.".format(start + mr, DC_WINDOW)])
        n = mr if self.page_cap is None else min(mr, self.page_cap)
        spec = self.fields_param(p.get("fields"), default="navigable")
        expand = self.expand_param(p.get("expand"))
        rows = self.select(q, now)
        page = rows[start:start + n]
        now_ms = now * 1000
        issues = [self.issue_json(t, now_ms, c, spec, self.inline,
                                  "changelog" in expand) for t in page]
        out = {"expand": "names,schema", "startAt": start, "maxResults": mr,
               "total": len(rows), "issues": issues}
        if "names" in expand:
            out["names"] = {f["id"]: f["name"] for f in self.field_list(c)}
        return out

    # ------------------------------------------------------------ bulkfetch

    def bulkfetch(self, req, c, now_ms):
        p = self.request_params(req)
        ids = p.get("issueIdsOrKeys")
        if not isinstance(ids, list) or not ids or len(ids) > 1000:
            raise JiraError(400, ["issueIdsOrKeys must contain between 1 "
                                  "and 1000 issue ids or keys."])
        fids = p.get("fieldIds") or []
        if not isinstance(fids, list) or len(fids) > 10:
            raise JiraError(400, ["fieldIds must contain at most 10 field "
                                  "ids."])
        asked = self.int_param(p.get("maxResults"), 1000, "maxResults")
        n = max(1, min(asked, 10000))
        if self.page_cap is not None:
            n = min(n, self.page_cap)
        seen = set()
        tickets = []
        for ident in ids:
            t = self.find_ticket(str(ident), now_ms)
            if t is not None and t.gidx not in seen:
                seen.add(t.gidx)
                tickets.append(t)
        want = set(str(f) for f in fids)
        rows = []
        for t in tickets:
            vis = self.visible(t, now_ms)
            hs = self.histories(t, c)
            for i in range(vis):
                h = hs[i]
                if want:
                    items = [it for it in h["items"]
                             if it.get("fieldId") in want]
                    if not items:
                        continue
                else:
                    items = h["items"]
                rows.append((t.ev_t[i], int(t.id), t.hids[i], t, h, items))
        rows.sort(key=lambda r: (r[0], r[1], r[2]))
        ident = json.dumps([sorted(int(t.id) for t in tickets),
                            sorted(want)])
        start = 0
        tok = p.get("nextPageToken")
        if tok:
            start = self.untoken("bulk", str(tok), ident)
        page = rows[start:start + n]
        groups = collections.OrderedDict()
        for tm, _iid, _hid, t, h, items in page:
            g = groups.get(t.id)
            if g is None:
                g = groups[t.id] = {"issueId": t.id, "changeHistories": []}
            ch = {"author": h["author"], "created": tm, "id": h["id"],
                  "items": items}
            if "historyMetadata" in h:
                ch["historyMetadata"] = h["historyMetadata"]
            g["changeHistories"].append(ch)
        out = {"issueChangeLogs": list(groups.values())}
        end = start + len(page)
        out["nextPageToken"] = self.token("bulk", end, ident) \
            if end < len(rows) else None
        return out

    # ---------------------------------------------------------------- truth

    def truth(self, params):
        params = {k: _first(v) for k, v in (params or {}).items()}
        cfg = TruthConfig(params)
        org = self.org
        now = self.now
        now_ms = now * 1000
        out = {}
        for t in org.tickets:
            if t.created > now_ms:
                continue
            out[t.key] = self.ticket_truth(t, now, cfg)
        return {"tickets": out}

    def ticket_truth(self, t, now, cfg):
        org = self.org
        now_ms = now * 1000
        vis = self.visible(t, now_ms)
        st = self.state(t, vis)
        hist = []
        for i in range(vis):
            hist.append((t.ev_t[i] // 1000, t.hids[i], t.ev[i][1]))
        hist.sort(key=lambda h: (h[0], h[1]))
        transitions = []
        flags = []
        for tsec, hid, items in hist:
            for code, frm, to in items:
                if code == F_STATUS:
                    transitions.append({"t": tsec, "id": str(hid),
                                        "from": ALL_STATUS_DEFS[frm][0],
                                        "to": ALL_STATUS_DEFS[to][0]})
                elif code == F_FLAG:
                    flags.append({"t": tsec, "id": str(hid),
                                  "on": bool(to)})
        cur_name = STATUS_DEFS[st.status][0]
        u = org.user(st.assg)
        rec = {
            "key": t.key, "project": org.keys[t.pidx], "id": t.id,
            "type": t.type, "priority": PRIORITY_BY_ID[st.prio][1],
            "status": cur_name,
            "status_category": STATUS_DEFS[st.status][1],
            "assignee": None if u is None else (
                u.account_id if self.cloud else u.name),
            "assignee_name": None if u is None else u.display,
            "labels": list(st.labels),
            "components": [COMPONENTS[i] for i in t.components],
            "parent": t.parent.key if t.parent is not None and (
                t.type == "Sub-task" or self.cloud) else None,
            "story_points": st.sp,
            "created_at": t.created // 1000,
            "updated_at": st.updated // 1000,
            "flagged_now": bool(st.flag),
        }
        rec.update(derive_ticket(rec["created_at"], cur_name, transitions,
                                 flags, bool(st.flag), now, cfg))
        rec["excluded"] = t.type in cfg.exclude_types or \
            any(lab in cfg.exclude_labels for lab in st.labels)
        rec["transitions"] = transitions
        rec["flags"] = flags
        return rec


# ------------------------------------------------------------------ truth

class TruthConfig:
    """The metric-affecting settings of a /__truth request (METRICS.md
    defaults when absent; present but empty means an empty list)."""

    def __init__(self, params):
        def lst(name, default):
            if name not in params or params[name] is None:
                return list(default)
            return [p.strip() for p in str(params[name]).split(",")
                    if p.strip()]
        self.blocked = set(lst("blocked_statuses", ["Blocked", "On Hold"]))
        self.stage_todo = set(lst("stage_todo", []))
        self.stage_in_progress = set(lst("stage_in_progress", []))
        self.stage_done = set(lst("stage_done", []))
        self.exclude_types = set(lst("exclude_types", ["Epic"]))
        if "jira_exclude_labels" in params and \
                params["jira_exclude_labels"] is not None:
            self.exclude_labels = set(lst("jira_exclude_labels", []))
        else:
            self.exclude_labels = set(lst("exclude_labels", []))
        self.category = {d[0]: d[1] for d in STATUS_DEFS.values()}

    def stage(self, name):
        """Status name -> 'todo' | 'in_progress' | 'done'."""
        if name in self.blocked:
            return "in_progress"
        if name in self.stage_todo:
            return "todo"
        if name in self.stage_in_progress:
            return "in_progress"
        if name in self.stage_done:
            return "done"
        cat = self.category.get(name)
        if cat == "indeterminate":
            return "in_progress"
        if cat == "done":
            return "done"
        return "todo"   # new, undefined, or a status deleted since


def derive_ticket(created, current, transitions, flags, flagged_now, now,
                  cfg):
    """METRICS.md "Per ticket" fields from a ticket's status transitions and
    Flagged changes (both in time order, ties by history id; times in epoch
    seconds). Independent of how the simulator generated them."""
    stage = cfg.stage
    initial = transitions[0]["from"] if transitions else current
    started = None
    if stage(initial) == "in_progress":
        started = created
    else:
        for tr in transitions:
            if stage(tr["to"]) == "in_progress":
                started = tr["t"]
                break
    done = None
    if stage(current) == "done":
        for tr in transitions:
            if stage(tr["from"]) != "done" and stage(tr["to"]) == "done":
                done = tr["t"]
        if done is None:
            done = created
    reopen = sum(1 for tr in transitions
                 if stage(tr["from"]) == "done" and
                 stage(tr["to"]) != "done")
    # stretches in a blocked status
    stretches = []
    cur_name = initial
    since = created
    for tr in transitions:
        if cur_name in cfg.blocked and tr["to"] not in cfg.blocked:
            stretches.append([since, tr["t"]])
        if cur_name not in cfg.blocked and tr["to"] in cfg.blocked:
            since = tr["t"]
        cur_name = tr["to"]
    if cur_name in cfg.blocked:
        stretches.append([since, None])
    # flagged stretches
    at_creation = bool(flags) and not flags[0]["on"] or \
        (not flags and flagged_now)
    on_since = created if at_creation else None
    for fl in flags:
        if fl["on"] and on_since is None:
            on_since = fl["t"]
        elif not fl["on"] and on_since is not None:
            stretches.append([on_since, fl["t"]])
            on_since = None
    if on_since is not None:
        stretches.append([on_since, None])
    # union: overlapping or touching stretches join
    stretches.sort(key=lambda s: s[0])
    spells = []
    for s, e in stretches:
        if spells:
            ps, pe = spells[-1]
            if pe is None or s <= pe:
                if pe is not None and (e is None or e > pe):
                    spells[-1][1] = e
                continue
        spells.append([s, e])
    # a status entered and left within the same second is no stretch of
    # time: zero-length spells are dropped (after the union)
    spells = [sp for sp in spells if sp[1] is None or sp[1] > sp[0]]
    blocked_time = None
    if started is not None:
        wend = done if done is not None else now
        total = 0
        for s, e in spells:
            e = now if e is None else e
            lo = max(s, started)
            hi = min(e, wend)
            if hi > lo:
                total += hi - lo
        blocked_time = float(total)
    cycle = lead = None
    if done is not None:
        lead = max(0, done - created) / 86400.0
        if started is not None:
            cycle = max(0, done - started) / 86400.0
    return {"stage": stage(current),
            "blocked_now": bool(spells) and spells[-1][1] is None,
            "initial_status": initial, "started_at": started,
            "done_at": done, "reopen_count": reopen,
            "blocked_spells": spells, "blocked_time": blocked_time,
            "cycle_time": cycle, "lead_time": lead,
            "flagged_at_creation": at_creation}


# ------------------------------------------------------------------- misc

def jira_scale(opts):
    """(projects, tickets per project) for --scale. Named scales: tiny 1 x
    20, small 2 x 300, large 10 x 5000. REPOSxPRS: max(1, repos // 10)
    projects sharing repos * prs / 2 tickets (at least 1 each)."""
    name = str(getattr(opts, "scale_name", "") or "").strip().lower()
    if name in JIRA_SCALES:
        return JIRA_SCALES[name]
    sc = getattr(opts, "scale", None)
    if sc is None:
        return JIRA_SCALES["small"]
    if isinstance(sc, str):
        s = sc.strip().lower()
        if s in JIRA_SCALES:
            return JIRA_SCALES[s]
        a, _, b = s.partition("x")
        sc = (int(a), int(b))
    repos, prs = int(sc[0]), int(sc[1])
    projects = max(1, repos // 10)
    total = max(1, repos * prs // 2)
    return projects, max(1, -(-total // projects))
