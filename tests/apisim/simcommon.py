"""Shared helpers of the API simulator (tests/apisim/).

Both API modules (simgithub.py, simjira.py) and the core (simcore.py) use
these: the request/response types the core hands to the modules, seeded
per-item random generators (every item draws from its own stream, so items
can be generated lazily and independently), lognormal durations, hostile
titles, time formatting for GitHub and Jira, and compact UTF-8 JSON.
Python 3 standard library only.
"""

import calendar
import datetime
import json
import math
import random
import time

try:
    import zoneinfo
except ImportError:  # pragma: no cover - Python < 3.9
    zoneinfo = None

HOUR = 3600
DAY = 86400
WEEK = 7 * DAY

# 2026-11-16T00:00:00Z, the simulated present unless --now says otherwise.
DEFAULT_NOW = 1794787200

SCALES = {
    "tiny": (1, 20),
    "small": (5, 200),
    "large": (100, 1000),
}


def parse_scale(text):
    """'tiny' | 'small' | 'large' | 'REPOSxPRS' -> (repos, prs)."""
    text = str(text).strip().lower()
    if text in SCALES:
        return SCALES[text]
    parts = text.split("x")
    if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
        repos, prs = int(parts[0]), int(parts[1])
        if repos >= 1 and prs >= 1:
            return (repos, prs)
    raise ValueError("bad scale '%s': use tiny, small, large or REPOSxPRS"
                     % text)


# ---------------------------------------------------------------- requests

class Headers:
    """Case-insensitive, read-only view of request headers."""

    def __init__(self, pairs=()):
        self._d = {}
        for k, v in pairs:
            self._d[k.lower()] = v

    def get(self, name, default=None):
        return self._d.get(name.lower(), default)

    def __getitem__(self, name):
        return self._d[name.lower()]

    def __contains__(self, name):
        return name.lower() in self._d

    def items(self):
        return self._d.items()


class Request:
    """What the core hands to an API module.

    .method  'GET', 'POST', ...
    .path    the path without the query string, percent-decoded
    .raw_path the request target as sent (path and query, undecoded)
    .query   dict str -> list[str] (parse_qs, blank values kept)
    .qlist   list of (key, value) in the order sent (for Link headers)
    .headers case-insensitive Headers
    .body    bytes
    .now     the simulated present (epoch seconds) when the request began
    """

    def __init__(self, method, path, raw_path, query, qlist, headers, body,
                 now, peer=""):
        self.method = method
        self.path = path
        self.raw_path = raw_path
        self.query = query
        self.qlist = qlist
        self.headers = headers
        self.body = body
        self.now = now
        self.peer = peer

    def q(self, name, default=None):
        """Last value of a query parameter, or default."""
        vals = self.query.get(name)
        if not vals:
            return default
        return vals[-1]

    def json(self):
        if not self.body:
            return None
        return json.loads(self.body.decode("utf-8"))


class Response:
    """What an API module returns. body: bytes, str, or an object that the
    core serialises as compact UTF-8 JSON (see dumps)."""

    def __init__(self, status, headers=None, body=b""):
        self.status = status
        self.headers = dict(headers or {})
        self.body = body

    def body_bytes(self):
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return dumps(self.body)


class QuotaState:
    """Snapshot of one API's quota window, handed to rate_headers() and
    limited_response(). reset is real-time epoch seconds (int)."""

    def __init__(self, limit, used, reset):
        self.limit = limit
        self.used = used
        self.reset = reset

    @property
    def remaining(self):
        return max(0, self.limit - self.used)


# ------------------------------------------------------------------- json

_ENC = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"),
                        check_circular=False)


def dumps(obj):
    """Compact JSON as UTF-8 bytes (no ASCII escaping, like GitHub)."""
    return _ENC.encode(obj).encode("utf-8")


def dumps_str(obj):
    return _ENC.encode(obj)


# ---------------------------------------------------------------- random

def rng(seed, kind, ident):
    """An independent, reproducible random stream for one item."""
    return random.Random("%s:%s:%s" % (seed, kind, ident))


def lognormal(r, median, sigma, lo=None, hi=None):
    """A lognormal draw with the given median (same unit as median)."""
    v = median * math.exp(r.gauss(0.0, sigma))
    if lo is not None and v < lo:
        v = lo
    if hi is not None and v > hi:
        v = hi
    return v


def lognormal_hours(r, median_h, sigma, lo_h=None, hi_h=None):
    """A lognormal duration in whole seconds, median given in hours."""
    return int(lognormal(r, median_h, sigma, lo_h, hi_h) * HOUR)


def stable_id(*parts, bits=40):
    """A deterministic positive integer from any parts (not random.Random,
    which is slow to seed; a cheap FNV-1a over the text)."""
    h = 0xcbf29ce484222325
    for ch in ":".join(str(p) for p in parts).encode("utf-8"):
        h ^= ch
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h & ((1 << bits) - 1)


# ------------------------------------------------------------------ titles

# Titles that break naive Markdown / HTML writers: pipes, emphasis, code
# spans, links, raw HTML, line breaks, emoji, right-to-left text.
HOSTILE_TITLES = [
    "Fix | pipe | in table cells",
    "**Bold** claim and *stars* and _underscores_",
    "Use `code` spans and ``double `ticks` ``",
    "See [x](y) and [click](javascript:alert(1))",
    "<script>alert('xss')</script> in title",
    "First line\nsecond line of the title",
    "Ship it \U0001F680\U0001F525 with ZWJ \U0001F469\u200D\U0001F4BB",
    "\u0625\u0635\u0644\u0627\u062D \u0627\u0644\u062E\u0637\u0623 in the "
    "parser (RTL)",
    "\u05E2\u05D1\u05E8\u05D9\u05EA \u202Eoverride\u202C mixed direction",
    "<img src=x onerror=alert(1)> & <b>bold</b> &amp; &lt;",
    "# Not a heading\n> not a quote",
    "| a | b |\n|---|---|\n| c | d |",
    "Tab\there and trailing backslash \\",
    "~~strike~~ <!-- comment --> {{template}} ${var}",
    "CRLF line\r\nbreak and a \"quoted\" 'word'",
    "1. list item? - dash + plus",
    "Long title " + "x" * 240,
]


def hostile_title(r):
    return r.choice(HOSTILE_TITLES)


# ------------------------------------------------------------------- time

def gh_time(epoch):
    """GitHub's timestamp form: 2026-11-03T09:12:44Z (UTC)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch)))


def parse_gh_time(text):
    """'2026-11-03T09:12:44Z' (or with an offset) -> epoch seconds."""
    dt = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return int(dt.timestamp())


def _zone(tz):
    if tz is None or tz in ("UTC", "Z", "+0000"):
        return datetime.timezone.utc
    if isinstance(tz, datetime.tzinfo):
        return tz
    if isinstance(tz, (int, float)):  # offset in minutes
        return datetime.timezone(datetime.timedelta(minutes=tz))
    if zoneinfo is None:
        return datetime.timezone.utc
    return zoneinfo.ZoneInfo(tz)


def jira_time(epoch, tz="UTC", millis=0):
    """Jira's timestamp form: 2026-11-03T09:12:44.000+0100 in zone tz (an
    IANA name, a tzinfo, or an offset in minutes). Offset without colon."""
    dt = datetime.datetime.fromtimestamp(int(epoch), _zone(tz))
    off = dt.strftime("%z") or "+0000"
    return "%s.%03d%s" % (dt.strftime("%Y-%m-%dT%H:%M:%S"), millis % 1000,
                          off)


def parse_jira_time(text):
    """'2026-11-03T09:12:44.000+0100' -> epoch seconds (milliseconds
    truncated)."""
    dt = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")
    return int(dt.timestamp())


def iso_utc_minute(epoch):
    """Jira's X-RateLimit-Reset form: 2026-11-16T10:05Z."""
    return time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(int(epoch)))


def http_date(epoch):
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(epoch))


def utc_epoch(y, mo, d, h=0, mi=0, s=0):
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0))


# ------------------------------------------------------------------ params

def parse_list(text):
    """'a, b,,c' -> ['a', 'b', 'c'] (comma-separated config lists)."""
    if text is None:
        return []
    if isinstance(text, (list, tuple)):
        out = []
        for t in text:
            out.extend(parse_list(t))
        return out
    return [p.strip() for p in str(text).split(",") if p.strip()]


def parse_bool(text, default=False):
    if text is None:
        return default
    if isinstance(text, bool):
        return text
    t = str(text).strip().lower()
    if t in ("1", "true", "yes", "on"):
        return True
    if t in ("0", "false", "no", "off", ""):
        return False
    return default
