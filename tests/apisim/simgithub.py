"""GitHub half of the API simulator: a deterministic organisation `acme`.

Generation model. Every pull request's whole lifetime (commits, reviews,
comments, draft changes, closes, reopens, the merge, and events after it) is
drawn once from its own seeded stream (seed, repository, number), so PRs are
independent and can be regenerated on demand. Only what lies at or before the
simulated `now` is visible: the PR's state, draft flag, counts and updated_at
are computed from its visible events, so moving time forward (/__advance)
simply reveals more of each lifetime, and PRs created after the start appear
as time passes. A cheap summary of each PR (event times, state changes) is
kept for every PR so that list endpoints can sort by updated_at; full
lifetimes live in an LRU cache.

The objects served carry every key (with the same JSON type) that the real
payloads in ../shared/api-samples/github have; ground truth (/__truth) is
computed from the same lifetimes following METRICS.md.
"""

import array
import bisect
import fnmatch
import hashlib
import math
import re
import threading
import urllib.parse
from collections import OrderedDict

import simcommon
from simcommon import (DAY, HOUR, WEEK, Response, dumps_str, gh_time,
                       http_date, lognormal, lognormal_hours, parse_bool,
                       parse_list, rng)

API = "https://api.github.com"
WEB = "https://github.com"
ORG = "acme"
ORG_ID = 90210001
TIMELINE_COMMIT_CAP = 250
PR_COMMITS_CAP = 250
REVIEW_STATES = ("APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED")

REPO_NAMES = [
    "api", "web", "mobile", "infra", "docs", "billing", "auth", "search",
    "analytics", "notifications", "gateway", "payments", "reports",
    "scheduler", "storage", "frontend-kit", "cli", "sdk-python", "sdk-go",
    "design-system",
]
ARCHIVED_NAME = "legacy"

PEOPLE = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
    "ivan", "judy", "kim-lee", "liam", "mallory", "niaj", "olivia", "peggy",
    "quinn", "rupert", "sybil", "trent", "ursula", "victor", "walter",
    "xena", "yuki", "zoe", "amir", "bjorn", "chen", "dmitri", "elif",
    "fatima", "gustavo", "hana", "ines", "jamal", "kenji", "lucia", "mateo",
    "noor", "oskar", "priya", "rafael", "sofia", "tomas", "uma", "vikram",
    "wen", "yusuf", "zara",
]
SURNAMES = [
    "Adams", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia",
    "Hansen", "Ito", "Jensen", "Kowalski", "Lopez", "Müller", "Nakamura",
    "O'Brien", "Petrov", "Quist", "Rossi", "Silva", "Tanaka",
]

LABELS = [
    ("bug", "d73a4a", True, "Something isn't working"),
    ("enhancement", "a2eeef", True, "New feature or request"),
    ("documentation", "0075ca", True,
     "Improvements or additions to documentation"),
    ("dependencies", "0366d6", False,
     "Pull requests that update a dependency file"),
    ("needs-review", "fbca04", False, None),
    ("wip", "ededed", False, "Work in progress"),
    ("breaking-change", "b60205", False, None),
    ("good first issue", "7057ff", True,
     "Good for newcomers"),
    ("security", "ee0701", False, "Security fix"),
    ("\U0001F680 release", "0e8a16", False, "Ships in the next release"),
]
LABEL_INFO = {n: (i, c, d, desc) for i, (n, c, d, desc) in enumerate(LABELS)}
PEOPLE_LABELS = [n for n, _, _, _ in LABELS if n != "dependencies"]

VERBS = ["Fix", "Add", "Refactor", "Remove", "Speed up", "Document",
         "Rename", "Simplify", "Handle", "Validate", "Cache", "Retry",
         "Log", "Test", "Split", "Harden"]
NOUNS = ["session cache", "webhook sender", "rate limiter", "login flow",
         "invoice export", "search index", "config loader", "retry policy",
         "CSV parser", "user settings page", "audit log", "billing job",
         "health check", "feature flags", "pagination", "error messages",
         "timezone handling", "upload handler", "metrics endpoint",
         "dark mode"]
SUFFIXES = ["", "", "", " on startup", " for large orgs", " (take 2)",
            " in the worker", " behind a flag", " for Jira Cloud",
            " when the token expires"]
PKGS = ["lodash", "axios", "express", "react", "webpack", "jest",
        "golang.org/x/net", "requests", "urllib3", "django", "serde",
        "tokio", "eslint", "typescript", "pyyaml", "certifi"]
BODIES = [
    "This change {what}.\n\n## Testing\n- [x] unit tests\n- [ ] manual",
    "Closes #{num}.\n\nSee the discussion in the issue for context.",
    "{what}\n\n```diff\n- old\n+ new\n```\n",
    "Small follow-up to #{num}. No functional change intended.",
    "## Why\n{what}\n\n## How\nSee commits. | table | cell |",
]
COMMENT_BODIES = [
    "LGTM \U0001F44D", "Could you add a test for the empty case?",
    "Nit: naming.", "Thanks!", "Why not reuse the existing helper?",
    "Done, PTAL.", "Rebased on main.", "This breaks `make test` for me.",
    "<b>not bold</b> | pipe | *star*", "Any update on this?",
    "@alice can you take a look?", "Merging after CI is green.",
]
REVIEW_BODIES = ["", "", "Looks good.", "A few comments inline.",
                 "Please split this up.", "LGTM with nits", "\U0001F680"]


class User:
    __slots__ = ("login", "id", "type", "name", "email", "assoc", "_obj")

    def __init__(self, login, uid, utype="User", name=None, email=None,
                 assoc="MEMBER"):
        self.login = login
        self.id = uid
        self.type = utype
        self.name = name or login
        self.email = email or "%s@acme.example" % login
        self.assoc = assoc
        self._obj = None

    def is_bot(self):
        return self.type == "Bot" or self.login.endswith("[bot]")

    def obj(self):
        if self._obj is None:
            u = "%s/users/%s" % (API, self.login)
            self._obj = {
                "login": self.login,
                "id": self.id,
                "node_id": node_id("U_", self.id),
                "avatar_url": "https://avatars.githubusercontent.com/u/%d?v=4"
                              % self.id,
                "gravatar_id": "",
                "url": u,
                "html_url": "%s/%s" % (WEB, self.login),
                "followers_url": u + "/followers",
                "following_url": u + "/following{/other_user}",
                "gists_url": u + "/gists{/gist_id}",
                "starred_url": u + "/starred{/owner}{/repo}",
                "subscriptions_url": u + "/subscriptions",
                "organizations_url": u + "/orgs",
                "repos_url": u + "/repos",
                "events_url": u + "/events{/privacy}",
                "received_events_url": u + "/received_events",
                "type": self.type,
                "user_view_type": "public",
                "site_admin": False,
            }
        return self._obj


def uobj(u):
    return None if u is None else u.obj()


def ulogin(u):
    return None if u is None else u.login


def node_id(prefix, n):
    import base64
    return prefix + base64.b64encode(("%012d" % n).encode()).decode()\
        .rstrip("=")


def sha_of(*parts):
    return hashlib.sha1(":".join(str(p) for p in parts).encode())\
        .hexdigest()


class Commit:
    __slots__ = ("a_date", "c_date", "author", "committer", "a_name",
                 "a_email", "c_name", "c_email", "message", "additions",
                 "deletions", "files", "order", "sha")

    def __init__(self, a_date, c_date, author, committer, a_name, a_email,
                 c_name, c_email, message, additions, deletions, files,
                 order):
        self.a_date = a_date
        self.c_date = c_date
        self.author = author
        self.committer = committer
        self.a_name = a_name
        self.a_email = a_email
        self.c_name = c_name
        self.c_email = c_email
        self.message = message
        self.additions = additions
        self.deletions = deletions
        self.files = files
        self.order = order
        self.sha = None


class Review:
    __slots__ = ("user", "state", "t", "pending_at", "dismissed_at", "body",
                 "lines", "id", "commit_id", "seq")

    def __init__(self, user, state, t, body="", lines=0, pending_at=None):
        self.user = user
        self.state = state          # final state; DISMISSED via dismissed_at
        self.t = t                  # submitted_at (None when PENDING)
        self.pending_at = pending_at
        self.dismissed_at = None
        self.body = body
        self.lines = lines
        self.id = 0
        self.commit_id = None
        self.seq = 0

    def state_at(self, now):
        if self.state == "PENDING":
            return "PENDING"
        if self.dismissed_at is not None and self.dismissed_at <= now:
            return "DISMISSED"
        return self.state

    def visible_at(self, now):
        if self.t is None:
            return self.pending_at <= now
        return self.t <= now


class Comment:
    __slots__ = ("user", "t", "body", "id")

    def __init__(self, user, t, body):
        self.user = user
        self.t = t
        self.body = body
        self.id = 0


class Life:
    """A PR's whole lifetime. items: timeline entries (t, seq, kind, a, b)
    sorted by (t, seq); kinds are the timeline's event names; for
    'reviewed'/'line-commented' a is a Review, for 'commented' a Comment,
    for 'committed' a Commit, else a is the actor (User or None)."""

    __slots__ = ("repo", "number", "created", "author", "title", "body",
                 "labels", "base", "head_ref", "initial_draft", "commits",
                 "reviews", "comments", "items", "merge_sha", "id",
                 "head_fork_deleted", "big")


class Summary:
    """What list endpoints need for every PR without its full lifetime."""

    __slots__ = ("number", "created", "id", "title", "author", "labels",
                 "base", "head_ref", "times", "ctimes", "state_ev",
                 "draft_ev", "initial_draft", "merge_sha", "body",
                 "head_fork_deleted", "ncomments", "flags")


class Repo:
    def __init__(self, idx, name, rid, archived, created_at):
        self.idx = idx
        self.name = name
        self.full_name = "%s/%s" % (ORG, name)
        self.id = rid
        self.archived = archived
        self.created_at = created_at
        self.archived_at = None
        self.team = []
        self.prs = []            # Summaries in number order
        self.by_number = {}
        self.next_number = 1
        self.future_rng = None
        self.future_pending = None
        self.future_limit = 0
        self.rate_s = None
        self.outsiders = []
        self._obj = None
        self._json = None


# ----------------------------------------------------------------- the API

class GitHubApi:
    name = "gh"

    def __init__(self, opts):
        self.opts = opts
        self.seed = opts.seed
        self.now0 = opts.now
        self.prefix = getattr(opts, "prefix", "") or ""
        self.token = getattr(opts, "token", None)
        nrepos, nprs = opts.scale
        self.nrepos = nrepos
        self.nprs = nprs
        self.lock = threading.RLock()
        self.lives = OrderedDict()
        total = (nrepos + 1) * nprs
        self.life_cap = None if total <= 30000 else 6000
        self.json_cache = OrderedDict()
        self.json_cap = 60000
        self.sorted_cache = {}
        self.req_counter = 0
        self.make_users()
        self.make_repos()
        self.horizon = 14 * DAY
        for repo in self.repos:
            self.populate(repo)

    # ------------------------------------------------------------ users

    def make_users(self):
        n_people = max(12, min(400, 8 + self.nrepos * 4))
        self.people = []
        for i in range(n_people):
            if i < len(PEOPLE):
                login = PEOPLE[i]
            else:
                login = "dev-%d" % (i + 1)
            sur = SURNAMES[i % len(SURNAMES)]
            name = "%s %s" % (login.split("-")[0].capitalize(), sur)
            self.people.append(User(login, 5000001 + i * 37, "User", name))
        self.U_DEPENDABOT = User("dependabot[bot]", 49699333, "Bot",
                                 "dependabot[bot]",
                                 "49699333+dependabot[bot]@users.noreply."
                                 "github.com", "NONE")
        self.U_ACTIONS = User("github-actions[bot]", 41898282, "Bot",
                              "github-actions[bot]",
                              "41898282+github-actions[bot]@users.noreply."
                              "github.com", "NONE")
        self.U_COPILOT = User("copilot-pull-request-reviewer[bot]",
                              175728472, "Bot", "Copilot",
                              "copilot@users.noreply.github.com", "NONE")
        self.U_RENOVATE = User("renovate-bot", 25180681, "User",
                               "Renovate Bot", "bot@renovateapp.com",
                               "CONTRIBUTOR")
        self.U_CI = User("ci-user", 7000001, "User", "CI User",
                         "ci@acme.example", "MEMBER")
        self.U_GHOST = User("ghost", 10137, "User", "Deleted user",
                            "ghost@acme.example", "NONE")
        self.U_WEBFLOW = User("web-flow", 19864447, "User", "GitHub",
                              "noreply@github.com", "NONE")
        self.U_ME = User("bellwether-bot", 7000002, "User", "Bellwether",
                         "bellwether@acme.example")

    # ------------------------------------------------------------ repos

    def make_repos(self):
        self.repos = []
        base_created = simcommon.utc_epoch(2021, 3, 1, 9)
        for i in range(self.nrepos):
            name = REPO_NAMES[i] if i < len(REPO_NAMES) \
                else "service-%02d" % (i + 1)
            # acme/api is the newest so the org listing (created desc)
            # names it first.
            created = base_created + (self.nrepos - i) * 11 * DAY
            self.repos.append(Repo(i, name, 600000000 + i * 1117, False,
                                   created))
        arc = Repo(self.nrepos, ARCHIVED_NAME, 600000000 + 999 * 1117, True,
                   base_created - 400 * DAY)
        arc.archived_at = self.now0 - 20 * WEEK
        self.repos.append(arc)
        self.repo_by_name = {r.name.lower(): r for r in self.repos}
        self.repo_by_id = {r.id: r for r in self.repos}
        for repo in self.repos:
            r = rng(self.seed, "team", repo.name)
            size = min(len(self.people), r.randint(5, 10))
            start = (repo.idx * 3) % len(self.people)
            team = [self.people[(start + k) % len(self.people)]
                    for k in range(size)]
            repo.team = team
            repo.outsiders = [p for p in r.sample(self.people, min(
                4, len(self.people))) if p not in team]

    def populate(self, repo):
        """Plan the PRs visible at the start (exactly --scale's count per
        active repository; fewer in the archived one) and generate them."""
        r = rng(self.seed, "plan", repo.name)
        n = self.nprs if not repo.archived else max(5, self.nprs // 10)
        plans = []
        if repo.archived:
            lo, hi = self.now0 - 52 * WEEK, repo.archived_at - 3 * WEEK
            for _ in range(n):
                plans.append([lo + int(r.random() * (hi - lo)), {}])
        else:
            n_old = int(round(n * 0.02))
            if n >= 20:
                n_old = max(1, n_old)
            lo, hi = self.now0 - 52 * WEEK, self.now0 - 600
            for _ in range(n - n_old):
                plans.append([self.work_time(r, lo, hi), {}])
            for _ in range(n_old):
                t = self.now0 - 104 * WEEK + int(r.random() * 50 * WEEK)
                plans.append([t, {"old": True}])
        plans.sort(key=lambda p: p[0])
        if repo.idx == 0 and n >= 10:
            # a little work in flight at the start, even at --scale tiny
            for k, back in enumerate((9 * DAY, 4 * DAY, 30 * HOUR)):
                plans[-1 - k][0] = self.now0 - back + r.randint(0, 6 * HOUR)
            plans.sort(key=lambda p: p[0])
            self.force_features(r, plans)
        for created, flags in plans:
            self.add_pr(repo, r, created, flags)
        if not repo.archived:
            repo.rate_s = 52 * WEEK / float(self.nprs)
            repo.future_rng = rng(self.seed, "future", repo.name)
            repo.future_pending = self.now0 + 1 + int(
                repo.future_rng.expovariate(1.0 / repo.rate_s))
            repo.future_limit = 0
            self.extend_future_to(repo, self.now0 + self.horizon)

    def work_time(self, r, lo, hi):
        """A creation time in [lo, hi), mostly on weekdays, working hours."""
        for _ in range(8):
            t = lo + int(r.random() * (hi - lo))
            wd = (t // DAY + 3) % 7          # 0 = Monday
            hr = (t % DAY) // HOUR
            if wd < 5 and 7 <= hr < 19:
                return t
            if r.random() < 0.15:
                return t
        return t

    def force_features(self, r, plans):
        """acme/api carries one of each tricky case, even at --scale tiny."""
        feats = [
            {"c260": True, "outcome": "merged"},
            {"author": "dependabot", "outcome": "merged"},
            {"draft_open": True, "outcome": "merged", "hostile": 0},
            {"reopen": True, "outcome": "merged", "hostile": 4},
            {"outcome": "closed", "hostile": 5},
            {"author": "ghost", "outcome": "merged"},
            {"base": "release/2026.10", "outcome": "merged", "hostile": 6},
            {"convert_draft": True, "outcome": "merged", "hostile": 7},
            {"dismiss": True, "outcome": "merged", "pending": True},
            {"post_merge_review": True, "outcome": "merged",
             "self_review": True, "self_comment": True, "hostile": 1},
            {"long_discussion": True, "outcome": "merged"},
            {"author": "renovate", "outcome": "merged"},
            {"null_comment": True, "ghost_review": True,
             "outcome": "merged", "rebase": True, "hostile": 2},
            {"author": "dependabot", "outcome": "closed"},
            {"many_commits": True, "outcome": "merged", "hostile": 3},
            {"bot_review": True, "outcome": "merged", "big": True,
             "hostile": 8},
        ]
        # candidates whose lifetime is long over at the start
        cands = [i for i, p in enumerate(plans)
                 if not p[1].get("old")
                 and self.now0 - 44 * WEEK <= p[0] <= self.now0 - 3 * WEEK]
        if len(cands) < len(feats):
            cands = [i for i, p in enumerate(plans)
                     if not p[1].get("old") and p[0] <= self.now0 - WEEK]
        k = 0
        for f in feats:
            if not cands:
                break
            if len(cands) >= len(feats):      # spread over the year
                i = cands[(k * len(cands)) // len(feats)]
            else:
                i = cands[k % len(cands)]
            k += 1
            if k > len(cands):     # fewer PRs than features: combine
                if "author" in f and "author" in plans[i][1]:
                    continue
                if "outcome" in f and plans[i][1].get("outcome") \
                        not in (None, f["outcome"]):
                    f = dict(f)
                    del f["outcome"]
            plans[i][1].update(f)
        # a draft that never became ready, still open at the start
        recent = [i for i, p in enumerate(plans)
                  if not p[1] and p[0] >= self.now0 - 3 * WEEK]
        if recent:
            plans[recent[-1]][1].update({"draft_open": True,
                                         "never_ready": True,
                                         "outcome": "open"})

    def add_pr(self, repo, r, created, flags):
        number = repo.next_number
        gap = r.random()
        repo.next_number += 1 + (r.randint(1, 3) if gap < 0.3 else 0)
        life = self.gen_life(repo, number, created, flags)
        s = self.summarize(life)
        s.flags = flags
        repo.prs.append(s)
        repo.by_number[number] = s
        self.cache_life(repo, number, life)

    def extend_future_to(self, repo, until):
        """PRs created after the start, drawn in a fixed order from the
        repository's own stream, so that advancing by any steps reveals the
        same PRs with the same numbers."""
        if repo.archived or repo.future_rng is None:
            return
        if until <= repo.future_limit:
            return
        r = repo.future_rng
        t = repo.future_pending
        while t <= until:
            self.add_pr(repo, r, t, {})
            t += int(r.expovariate(1.0 / repo.rate_s)) + 1
        repo.future_pending = t
        repo.future_limit = until

    # ------------------------------------------------------- generation

    def gen_life(self, repo, number, created, flags):
        r = rng(self.seed, "pr", "%s#%d" % (repo.name, number))
        L = Life()
        L.repo = repo
        L.number = number
        L.created = created
        L.id = 3200000000 + repo.idx * 200000 + number
        items = []
        seqc = [0]

        def add(t, kind, a=None, b=None):
            seqc[0] += 1
            items.append((t, seqc[0], kind, a, b))

        commits = []
        reviews = []
        comments = []

        # who
        akind = flags.get("author")
        if akind is None:
            x = r.random()
            if repo.archived and x < 0.2:
                akind = "ghost"
            elif x < 0.07:
                akind = "dependabot"
            elif x < 0.10:
                akind = "renovate"
            elif x < 0.115:
                akind = "ghost"
            else:
                akind = "person"
        deps = akind in ("dependabot", "renovate")
        if akind == "dependabot":
            author = self.U_DEPENDABOT
        elif akind == "renovate":
            author = self.U_RENOVATE
        elif akind == "ghost":
            author = self.U_GHOST
        else:
            author = r.choice(repo.team)
        L.author = author
        L.head_fork_deleted = akind == "ghost"
        others = [p for p in repo.team if p is not author]
        if not others:
            others = [p for p in self.people if p is not author]

        # what
        pkg = r.choice(PKGS)
        v1 = "%d.%d.%d" % (r.randint(0, 9), r.randint(0, 30), r.randint(0, 9))
        v2 = "%s.%d" % (v1.rsplit(".", 1)[0], int(v1.rsplit(".", 1)[1]) + 1)
        if akind == "dependabot":
            L.title = "Bump %s from %s to %s" % (pkg, v1, v2)
            L.body = ("Bumps [%s](https://github.com/example/%s) from %s to "
                      "%s.\n<details>\n<summary>Commits</summary>\n\n- "
                      "See full diff\n</details>\n\n[![Dependabot "
                      "compatibility score](https://example/badge)]"
                      % (pkg, pkg, v1, v2))
            L.head_ref = "dependabot/npm_and_yarn/%s-%s" % (
                pkg.replace("/", "-"), v2)
        elif akind == "renovate":
            L.title = "Update dependency %s to v%s" % (pkg, v2)
            L.body = "This PR contains the following updates: | %s | %s |" \
                % (pkg, v2)
            L.head_ref = "renovate/%s-%s" % (pkg.replace("/", "-"), v2)
        else:
            h = flags.get("hostile")
            if h is not None:
                L.title = simcommon.HOSTILE_TITLES[
                    h % len(simcommon.HOSTILE_TITLES)]
            elif r.random() < 0.05:
                L.title = simcommon.hostile_title(r)
            else:
                L.title = "%s %s%s" % (r.choice(VERBS), r.choice(NOUNS),
                                       r.choice(SUFFIXES))
            x = r.random()
            if x < 0.05:
                L.body = None
            elif x < 0.08:
                L.body = "<script>alert(1)</script>\n| a | b |\n" \
                         "[x](javascript:y) \u202Ereversed\u202C"
            else:
                L.body = r.choice(BODIES).format(
                    what=L.title, num=max(1, number - r.randint(1, 30)))
            slug = re.sub(r"[^a-z0-9]+", "-", L.title.lower())[:30]\
                .strip("-") or "change"
            L.head_ref = "%s/%s-%d" % (author.login, slug, number)
        if deps:
            L.labels = ("dependencies",)
        else:
            labs = []
            x = r.random()
            if x < 0.45:
                labs.append(r.choice(PEOPLE_LABELS))
                if r.random() < 0.3:
                    lab2 = r.choice(PEOPLE_LABELS)
                    if lab2 not in labs:
                        labs.append(lab2)
            if r.random() < 0.02:
                labs.append("dependencies")
            L.labels = tuple(labs)
        if "base" in flags:
            L.base = flags["base"]
        elif deps:
            L.base = "main"
        else:
            x = r.random()
            if x < 0.06:
                L.base = "release/2026.%02d" % r.randint(1, 11)
            elif x < 0.08:
                L.base = "develop"
            else:
                L.base = "main"
        L.big = flags.get("big") or (not deps and r.random() < 0.12)

        # git identities
        if author is self.U_GHOST:
            a_user, a_name, a_email = None, "Former Employee", \
                "former.employee@acme.example"
        else:
            a_user, a_name, a_email = author, author.name, author.email

        order = [0]

        def commit(a_date, c_date, msg=None, user=a_user, name=a_name,
                   email=a_email, cuser=None, cname=None, cemail=None):
            order[0] += 1
            linked = user if r.random() > 0.05 else None
            if cname is None:
                cuser, cname, cemail = linked, name, email
            adds = 1 + int(lognormal(r, 18, 1.2))
            dels = int(lognormal(r, 6, 1.3))
            if L.big:
                adds *= 8
                dels *= 5
            c = Commit(a_date, max(a_date, c_date), linked, cuser, name,
                       email, cname, cemail,
                       msg or r.choice(["Fix tests", "Address review",
                                        "WIP", "Initial version",
                                        "Update docs", "Refactor",
                                        "Handle edge case",
                                        "fixup! Initial version",
                                        "Merge branch 'main'"]),
                       adds, dels, 1 + min(20, int(lognormal(r, 2, 0.8))),
                       order[0])
            commits.append(c)
            return c

        # coding before the PR is opened
        if flags.get("c260"):
            n_pre = 260
        elif flags.get("many_commits") or (not deps and r.random() < 0.005):
            n_pre = r.randint(101, 150)
        elif deps:
            n_pre = 1
        else:
            n_pre = max(1, min(30, int(lognormal(r, 2.2, 0.8))))
        if deps:
            coding = r.randint(30, 600)
        elif n_pre > 100:
            coding = int((10 + r.random() * 14) * DAY)
        else:
            coding = lognormal_hours(r, 20, 1.3, 0.05, 24 * 45)
        first_a = created - coding
        a_dates = sorted(first_a + int(r.random() * max(1, coding - 60))
                         for _ in range(n_pre))
        a_dates[0] = first_a
        rebase = flags.get("rebase") or (not deps and n_pre > 1
                                         and r.random() < 0.25)
        if akind == "dependabot":
            commit(a_dates[0], a_dates[0] + 2,
                   "Bump %s from %s to %s" % (pkg, v1, v2),
                   self.U_DEPENDABOT, self.U_DEPENDABOT.name,
                   self.U_DEPENDABOT.email, self.U_WEBFLOW, "GitHub",
                   "noreply@github.com")
        elif rebase:
            rb = created - r.randint(60, 1800)
            pre = [commit(a, rb) for a in a_dates]
            # interactive rebase: reorder some neighbours
            for _ in range(max(1, len(pre) // 3)):
                i = r.randrange(len(pre))
                j = min(len(pre) - 1, i + 1)
                pre[i].order, pre[j].order = pre[j].order, pre[i].order
        else:
            for a in a_dates:
                c = a + r.randint(0, 90)
                if r.random() < 0.08:   # amended later
                    c = a + lognormal_hours(r, 2, 1.0)
                commit(a, min(c, created - 1))

        def push(t, k=None):
            k = k or r.randint(1, 3)
            for j in range(k):
                a = t - (k - j) * r.randint(60, 1200)
                commit(a, t - (k - j - 1) * r.randint(0, 30))

        def review(user, state, t, lines=None):
            if lines is None:
                lines = r.choice((0, 0, 0, 1, 2, 3)) \
                    if state != "APPROVED" else 0
            rv = Review(user, state, t, r.choice(REVIEW_BODIES), lines)
            reviews.append(rv)
            return rv

        def comment(user, t, body=None):
            c = Comment(user, t, body or r.choice(COMMENT_BODIES))
            comments.append(c)
            return c

        # opened (these noise events share existing times: updated_at is
        # always the time of an event the metrics know about)
        for lab in L.labels:
            add(created, "labeled", author, lab)
        if author.type == "User" and author is not self.U_GHOST \
                and number % 3 == 0:
            add(created, "assigned", author, author)
        if not deps and r.random() < 0.3:
            comment(self.U_ACTIONS, created + r.randint(60, 600),
                    "Coverage: 87.%d%% (+0.1%%) \u2705" % r.randint(0, 9))
        draft = bool(flags.get("draft_open",
                               (not deps) and r.random() < 0.18))
        if flags.get("c260"):
            draft = False
        L.initial_draft = draft
        never_ready = draft and flags.get("never_ready",
                                          r.random() < 0.10)
        outcome = flags.get("outcome")
        if outcome is None:
            x = r.random()
            if flags.get("old"):
                outcome = "open"
            elif deps:
                outcome = "merged" if x < 0.6 else (
                    "closed" if x < 0.9 else "open")
            elif never_ready:
                outcome = "closed" if x < 0.5 else "open"
            else:
                outcome = "merged" if x < 0.80 else (
                    "closed" if x < 0.93 else "open")
        if outcome == "merged" and never_ready:
            never_ready = False

        t = created
        if draft:
            span = lognormal_hours(r, 18, 1.3, 0.1, 24 * 30)
            for _ in range(r.randint(0, 3)):
                push(created + int(r.random() * span), 1)
            if r.random() < 0.06 and others:
                review(r.choice(others), "COMMENTED", created + span // 2)
            if never_ready:
                t_ready = None
                t = created + span
            else:
                t_ready = created + span
                add(t_ready, "ready_for_review", author)
        else:
            t_ready = created
        if t_ready is not None:
            t = t_ready
        last_active = t

        # reviewers
        reviewers = r.sample(others, min(len(others), 2))
        if r.random() < 0.1 and repo.outsiders:
            reviewers[0] = r.choice(repo.outsiders)
        R = reviewers[0]
        R2 = reviewers[-1]
        if t_ready is not None:
            add(t_ready + r.randint(0, 300), "review_requested", author, R)
            if R2 is not R and r.random() < 0.5:
                add(t_ready + r.randint(0, 300), "review_requested", author,
                    R2)
            if flags.get("bot_review") or r.random() < 0.1:
                review(self.U_COPILOT, "COMMENTED",
                       t_ready + r.randint(120, 900), 2)

        unreviewed = r.random() < (0.25 if deps else 0.08)
        if flags.get("dismiss") or flags.get("long_discussion"):
            unreviewed = False
        rounds = r.choices((0, 1, 2, 3), (55, 30, 10, 5))[0]
        exact = bool(flags.get("c260"))    # exactly 260 commits: no pushes
        if deps or unreviewed or exact:
            rounds = 0
        reopen_round = -1
        if flags.get("reopen") or (not deps and r.random() < 0.04):
            reopen_round = r.randint(0, rounds)
        convert_round = -1
        if t_ready is not None and not exact and (
                flags.get("convert_draft") or (not deps
                                               and r.random() < 0.05)):
            convert_round = r.randint(0, rounds)
        self_review = flags.get("self_review") or r.random() < 0.04
        approved_t = None

        if t_ready is not None:
            t += lognormal_hours(r, 1.5 if deps else 5, 1.4, 0.02, 24 * 20)
            for rnd in range(rounds + 1):
                if rnd == convert_round:
                    tc = t - r.randint(600, 3 * HOUR)
                    tc = max(tc, t_ready + 60)
                    add(tc, "convert_to_draft", author)
                    back = tc + lognormal_hours(r, 10, 1.0, 0.2, 24 * 10)
                    push(tc + (back - tc) // 2)
                    add(back, "ready_for_review", author)
                    t = max(t, back + lognormal_hours(r, 2, 1.0, 0.05))
                if rnd == reopen_round:
                    tc = t
                    add(tc, "closed", r.choice((author, R)))
                    if r.random() < 0.5:
                        comment(author, tc + 30, "Closing for now.")
                    t = tc + lognormal_hours(r, 20, 1.0, 0.1, 24 * 20)
                    add(t, "reopened", author if author is not self.U_GHOST
                        else R)
                    t += lognormal_hours(r, 2, 1.0, 0.02)
                if rnd == rounds:
                    break
                if R2 is not R and r.random() < 0.3:
                    review(R2, "COMMENTED", t - r.randint(60, 3 * HOUR))
                review(R, "CHANGES_REQUESTED", t)
                if r.random() < 0.3:
                    comment(R, t + r.randint(30, 600))
                t += lognormal_hours(r, 6, 1.2, 0.05, 24 * 14)
                push(t)
                if flags.get("self_comment") or r.random() < 0.4:
                    comment(author if author is not self.U_GHOST else None,
                            t + r.randint(30, 300), "Done, PTAL.")
                t += lognormal_hours(r, 4, 1.3, 0.02, 24 * 10)
            if not unreviewed:
                if deps and r.random() < 0.5:
                    t = t_ready + r.randint(300, 4 * HOUR)
                rv = review(R, "APPROVED", t)
                approved_t = t
                if flags.get("dismiss") or (not deps and not exact
                                            and r.random() < 0.04):
                    t2 = t + lognormal_hours(r, 3, 1.0, 0.05, 24 * 5)
                    push(t2, 1)
                    rv.dismissed_at = t2
                    add(t2, "review_dismissed", R, rv)
                    t = t2 + lognormal_hours(r, 3, 1.0, 0.05, 24 * 5)
                    review(R, "APPROVED", t)
                    approved_t = t
                if R2 is not R and r.random() < 0.25:
                    review(R2, r.choice(("APPROVED", "COMMENTED")),
                           t + r.randint(60, 6 * HOUR))
            # conversation
            span_end = max(t, t_ready + HOUR)
            for _ in range(self.poisson(r, 0.3 if deps else 1.2)):
                who = r.choice(reviewers + others[:2])
                comment(who, t_ready + int(r.random() * (span_end - t_ready)))
            if not deps and r.random() < 0.35:
                comment(author if author is not self.U_GHOST else None,
                        t_ready + int(r.random() * (span_end - t_ready)))
            if r.random() < 0.03:
                comment(self.U_CI, t_ready + int(r.random() * (
                    span_end - t_ready)), "CI: all checks passed")
            if flags.get("null_comment") or r.random() < 0.008:
                comment(None, t_ready + int(r.random() * (
                    span_end - t_ready)), "Comment by a deleted account")
            if flags.get("ghost_review") or r.random() < 0.01:
                review(self.U_GHOST, "COMMENTED",
                       t_ready + int(r.random() * (span_end - t_ready)))
            if self_review and author is not self.U_GHOST and not deps:
                review(author, "COMMENTED",
                       t_ready + int(r.random() * (span_end - t_ready)))
            if flags.get("pending") or r.random() < 0.03:
                pa = t_ready + int(r.random() * (span_end - t_ready))
                rv = Review(r.choice(others), "PENDING", None,
                            "Draft review", 1, pending_at=pa)
                reviews.append(rv)
            if flags.get("long_discussion") or (not deps
                                                and r.random() < 0.015):
                people = reviewers + others[:4] + [author]
                k = r.randint(100, 160)
                for _ in range(k):
                    comment(r.choice(people),
                            t_ready + int(r.random() * (span_end - t_ready
                                                        + 3 * DAY)))
                t = max(t, span_end + 3 * DAY)
            last_active = t

        # the end
        if outcome == "merged":
            t_m = max(t, approved_t or t) + lognormal_hours(
                r, 0.5 if deps else 2.5, 1.2, 0.01, 24 * 7)
            merger = R if (approved_t is not None or author is self.U_GHOST
                           or deps) else author
            L.merge_sha = sha_of(self.seed, repo.name, number, "merge")
            add(t_m, "referenced", merger, L.merge_sha)
            add(t_m, "merged", merger, L.merge_sha)
            add(t_m, "closed", merger)
            if not deps and r.random() < 0.5:
                add(t_m, "head_ref_deleted", merger)
            if flags.get("post_merge_review") or r.random() < 0.05:
                who = R2 if R2 is not R else r.choice(others)
                review(who, r.choice(("COMMENTED", "APPROVED")),
                       t_m + lognormal_hours(r, 8, 1.0, 0.1, 24 * 10))
            if r.random() < 0.1:
                comment(r.choice(others), t_m + r.randint(60, 2 * DAY),
                        "Thanks!")
        elif outcome == "closed":
            L.merge_sha = None
            t_c = max(t, last_active) + lognormal_hours(r, 30, 1.5, 0.1,
                                                        24 * 60)
            if akind == "dependabot":
                closer = self.U_DEPENDABOT
                comment(self.U_DEPENDABOT, t_c,
                        "Superseded by #%d." % (number + r.randint(1, 9)))
            else:
                closer = r.choice((author, R)) if author is not \
                    self.U_GHOST else R
            add(t_c, "closed", closer)
        else:
            L.merge_sha = None
            # abandoned: a nudge weeks later; half are closed by the stale
            # bot a month or two after that, the rest stay open for good
            quiet = max(t, last_active)
            if r.random() < 0.5:
                quiet += lognormal_hours(r, 24 * 20, 0.6)
                comment(r.choice(others), quiet, "Any update?")
            if not flags.get("old") and not flags.get("never_ready") \
                    and r.random() < 0.5:
                t_c = quiet + int((30 + r.random() * 30) * DAY)
                comment(self.U_ACTIONS, t_c, "This pull request was closed "
                        "because it has been stale for 30 days.")
                add(t_c, "closed", self.U_ACTIONS)
        if repo.archived:
            cut = repo.archived_at - DAY
            commits[:] = [c for c in commits if c.c_date <= cut]
            reviews[:] = [v for v in reviews
                          if (v.t if v.t is not None else v.pending_at)
                          <= cut]
            for v in reviews:
                if v.dismissed_at is not None and v.dismissed_at > cut:
                    v.dismissed_at = None
            comments[:] = [c for c in comments if c.t <= cut]
            items[:] = [it for it in items if it[0] <= cut]
            st = None
            for it in sorted(items):
                if it[2] in ("closed", "reopened"):
                    st = it[2]
            if st != "closed":
                add(cut, "closed", r.choice(repo.team))
            if not any(it[2] == "merged" for it in items):
                L.merge_sha = None
        if not commits:     # a PR always has a commit
            commit(created - 60, created - 60)

        # finish: order, ids, timeline
        commits.sort(key=lambda c: (c.c_date, c.order))
        for k, c in enumerate(commits):
            c.sha = sha_of(self.seed, repo.name, number, "c", k)
        L.commits = commits
        reviews.sort(key=lambda v: (v.t if v.t is not None
                                    else v.pending_at))
        idbase = 3000000000 + (repo.idx * 100000 + number) * 1000
        for k, v in enumerate(reviews):
            v.id = idbase + k
            v.seq = k
            tt = v.t if v.t is not None else v.pending_at
            cid = None
            for c in commits:
                if c.c_date <= tt:
                    cid = c.sha
                else:
                    break
            v.commit_id = cid or commits[0].sha
            if v.t is not None:
                add(v.t, "reviewed", v)
                if v.lines:
                    add(v.t, "line-commented", v)
        comments.sort(key=lambda c: c.t)
        cbase = 5000000000 + (repo.idx * 100000 + number) * 1000
        for k, c in enumerate(comments):
            c.id = cbase + k
            add(c.t, "commented", c)
            if k == 0 and c.user is not None and r.random() < 0.3:
                add(c.t, "subscribed", c.user)
            if k == 0 and c.user is not None and r.random() < 0.08:
                # another PR mentioned this one (a frozen snapshot of it)
                add(c.t, "cross-referenced", c.user,
                    number + 1000 + r.randint(1, 500))
        for c in commits:
            add(c.c_date, "committed", c)
        if rebase and commits:
            add(created, "head_ref_force_pushed", author)
        items.sort(key=lambda it: (it[0], it[1]))
        L.items = items
        L.reviews = reviews
        L.comments = comments
        return L

    @staticmethod
    def poisson(r, lam):
        k = 0
        p = math.exp(-lam)
        s = p
        u = r.random()
        while u > s and k < 50:
            k += 1
            p *= lam / k
            s += p
        return k

    def summarize(self, L):
        s = Summary()
        s.number = L.number
        s.created = L.created
        s.id = L.id
        s.title = L.title
        s.author = L.author
        s.labels = L.labels
        s.base = L.base
        s.head_ref = L.head_ref
        s.body = L.body
        s.merge_sha = L.merge_sha
        s.head_fork_deleted = L.head_fork_deleted
        s.initial_draft = L.initial_draft
        times = [L.created]
        state_ev = []
        draft_ev = []
        for it in L.items:
            times.append(it[0])
            k = it[2]
            if k in ("closed", "reopened", "merged"):
                state_ev.append((it[0], k))
            elif k == "ready_for_review":
                draft_ev.append((it[0], False))
            elif k == "convert_to_draft":
                draft_ev.append((it[0], True))
        times.sort()
        s.times = array.array("q", times)
        s.ctimes = array.array("q", [c.c_date for c in L.commits])
        s.state_ev = tuple(state_ev)
        s.draft_ev = tuple(draft_ev)
        s.ncomments = array.array("q", [c.t for c in L.comments])
        return s

    # ------------------------------------------------------------ caches

    def cache_life(self, repo, number, life):
        with self.lock:
            key = (repo.idx, number)
            self.lives[key] = life
            self.lives.move_to_end(key)
            if self.life_cap is not None:
                while len(self.lives) > self.life_cap:
                    self.lives.popitem(last=False)

    def life(self, repo, s):
        """The full lifetime of a PR: from the cache, else regenerated (the
        same draw: it depends only on seed, repository, number, creation
        time and the plan's flags)."""
        key = (repo.idx, s.number)
        with self.lock:
            L = self.lives.get(key)
            if L is not None:
                self.lives.move_to_end(key)
                return L
        L = self.gen_life(repo, s.number, s.created, s.flags)
        self.cache_life(repo, s.number, L)
        return L

    # ------------------------------------------------------ at a moment

    @staticmethod
    def state_at(s, now):
        state, closed_at, merged_at = "open", None, None
        for t, k in s.state_ev:
            if t > now:
                break
            if k == "closed":
                state, closed_at = "closed", t
            elif k == "reopened":
                state, closed_at = "open", None
            elif k == "merged":
                merged_at = t
        draft = s.initial_draft
        for t, d in s.draft_ev:
            if t > now:
                break
            draft = d
        return state, closed_at, merged_at, draft

    @staticmethod
    def updated_at(s, now):
        i = bisect.bisect_right(s.times, now)
        return s.times[i - 1] if i else s.created

    @staticmethod
    def visible_commits(s, now):
        return bisect.bisect_right(s.ctimes, now)

    def head_sha(self, repo, s, now):
        n = self.visible_commits(s, now)
        if n == 0:
            return sha_of(self.seed, repo.name, "base")
        return sha_of(self.seed, repo.name, s.number, "c", n - 1)

    def visible_prs(self, repo, now):
        prs = repo.prs
        # numbers grow with creation time
        lo, hi = 0, len(prs)
        while lo < hi:
            mid = (lo + hi) // 2
            if prs[mid].created <= now:
                lo = mid + 1
            else:
                hi = mid
        return prs[:lo]

    # ------------------------------------------------------------ module

    def owns(self, path):
        p = self.prefix
        if p:
            if not path.startswith(p + "/"):
                return False
            path = path[len(p):]
        return (path.startswith("/repos/") or path.startswith("/orgs/")
                or path.startswith("/repositories/")
                or path.startswith("/organizations/")
                or path == "/rate_limit" or path == "/user"
                or path.startswith("/user/"))

    def auth_ok(self, req):
        if not self.token:
            return True
        h = req.headers.get("Authorization") or ""
        return h in ("Bearer " + self.token, "token " + self.token,
                     "bearer " + self.token)

    def charged(self, req):
        return self.strip(req.path) != "/rate_limit"

    def strip(self, path):
        if self.prefix and path.startswith(self.prefix):
            return path[len(self.prefix):]
        return path

    ROUTES = [
        (re.compile(r"^/repos/([^/]+)/([^/]+)$"), "repo"),
        (re.compile(r"^/repos/([^/]+)/([^/]+)/pulls$"), "pulls"),
        (re.compile(r"^/repos/([^/]+)/([^/]+)/pulls/(\d+)$"), "pull"),
        (re.compile(r"^/repos/([^/]+)/([^/]+)/pulls/(\d+)/reviews$"),
         "reviews"),
        (re.compile(r"^/repos/([^/]+)/([^/]+)/pulls/(\d+)/commits$"),
         "commits"),
        (re.compile(r"^/repos/([^/]+)/([^/]+)/pulls/(\d+)/comments$"),
         "review_comments"),
        (re.compile(r"^/repos/([^/]+)/([^/]+)/issues/(\d+)/comments$"),
         "issue_comments"),
        (re.compile(r"^/repos/([^/]+)/([^/]+)/issues/(\d+)/timeline$"),
         "timeline"),
    ]
    EP_NAMES = {
        "repo": "/repos/{o}/{r}",
        "pulls": "/repos/{o}/{r}/pulls",
        "pull": "/repos/{o}/{r}/pulls/{n}",
        "reviews": "/repos/{o}/{r}/pulls/{n}/reviews",
        "commits": "/repos/{o}/{r}/pulls/{n}/commits",
        "review_comments": "/repos/{o}/{r}/pulls/{n}/comments",
        "issue_comments": "/repos/{o}/{r}/issues/{n}/comments",
        "timeline": "/repos/{o}/{r}/issues/{n}/timeline",
        "org": "/orgs/{org}",
        "org_repos": "/orgs/{org}/repos",
        "rate_limit": "/rate_limit",
        "user": "/user",
    }
    REPOSITORIES = re.compile(r"^/repositories/(\d+)(/.*)?$")
    ORG_RE = re.compile(r"^/orgs/([^/]+)$")
    ORG_REPOS = re.compile(r"^/orgs/([^/]+)/repos$")
    ORGANIZATIONS_REPOS = re.compile(r"^/organizations/(\d+)/repos$")

    def route(self, path):
        """-> (kind, repo or org name, number) or (None, ...)."""
        p = self.strip(path)
        m = self.REPOSITORIES.match(p)
        if m:
            repo = self.repo_by_id.get(int(m.group(1)))
            rest = m.group(2) or ""
            if repo is None:
                return ("unknown_repo", None, None)
            p = "/repos/%s/%s%s" % (ORG, repo.name, rest)
        for rx, kind in self.ROUTES:
            m = rx.match(p)
            if m:
                num = int(m.group(3)) if m.lastindex >= 3 else None
                return (kind, (m.group(1), m.group(2)), num)
        if p == "/rate_limit":
            return ("rate_limit", None, None)
        if p == "/user":
            return ("user", None, None)
        m = self.ORG_REPOS.match(p)
        if m:
            return ("org_repos", m.group(1), None)
        m = self.ORGANIZATIONS_REPOS.match(p)
        if m:
            return ("org_repos", ORG if int(m.group(1)) == ORG_ID
                    else "?", None)
        m = self.ORG_RE.match(p)
        if m:
            return ("org", m.group(1), None)
        return (None, None, None)

    def endpoint_name(self, req):
        kind = self.route(req.path)[0]
        name = self.EP_NAMES.get(kind)
        if name is None:
            return "%s (unknown)" % req.method
        return "%s %s" % (req.method, name)

    # --------------------------------------------------------- headers

    def rate_headers(self, qs):
        return {
            "x-ratelimit-limit": str(qs.limit),
            "x-ratelimit-remaining": str(qs.remaining),
            "x-ratelimit-reset": str(qs.reset),
            "x-ratelimit-used": str(min(qs.used, qs.limit)),
            "x-ratelimit-resource": "core",
        }

    def std_headers(self):
        with self.lock:
            self.req_counter += 1
            n = self.req_counter
        h = {
            "Content-Type": "application/json; charset=utf-8",
            "Cache-Control": "private, max-age=60, s-maxage=60",
            "Vary": "Accept, Authorization, Cookie, X-GitHub-OTP, "
                    "Accept-Encoding, Accept, X-Requested-With",
            "X-GitHub-Media-Type": "github.v3; format=json",
            "x-github-api-version-selected": "2022-11-28",
            "X-GitHub-Request-Id": "%04X:%05X:%06X:%06X:%08X" % (
                n % 0xFFFF, n * 7 % 0xFFFFF, n * 13 % 0xFFFFFF,
                n * 31 % 0xFFFFFF, (self.now0 + n) & 0xFFFFFFFF),
            "X-Frame-Options": "deny",
            "X-Content-Type-Options": "nosniff",
        }
        if self.token:
            h["X-OAuth-Scopes"] = "repo, read:org"
            h["X-Accepted-OAuth-Scopes"] = "repo"
        return h

    def error(self, status, message, doc, extra=None):
        body = {"message": message, "documentation_url": doc,
                "status": str(status)}
        if extra:
            body.update(extra)
        return Response(status, self.std_headers(), body)

    def not_found(self, doc="https://docs.github.com/rest"):
        return self.error(404, "Not Found", doc)

    def unauthorized_response(self):
        h = self.std_headers()
        h["x-ratelimit-limit"] = "60"
        h["x-ratelimit-remaining"] = "59"
        h["x-ratelimit-used"] = "1"
        h["x-ratelimit-resource"] = "core"
        return Response(401, h, {"message": "Bad credentials",
                                 "documentation_url":
                                     "https://docs.github.com/rest",
                                 "status": "401"})

    def limited_response(self, qs, kind):
        h = self.std_headers()
        h.update(self.rate_headers(qs))
        rid = h["X-GitHub-Request-Id"]
        if kind == "primary":
            h["x-ratelimit-remaining"] = "0"
            h["x-ratelimit-used"] = str(qs.limit)
            return Response(403, h, {
                "message": "API rate limit exceeded for user ID 1. If you "
                           "reach out to GitHub Support for help, please "
                           "include the request ID %s." % rid,
                "documentation_url": "https://docs.github.com/rest/overview/"
                                     "rate-limits-for-the-rest-api",
                "status": "403"})
        if kind == "secondary":
            h["Retry-After"] = str(self.opts.retry_after)
        return Response(403, h, {
            "message": "You have exceeded a secondary rate limit. Please "
                       "wait a few minutes before you try again. If you "
                       "reach out to GitHub Support for help, please "
                       "include the request ID %s." % rid,
            "documentation_url": "https://docs.github.com/free-pro-team@"
                                 "latest/rest/overview/rate-limits-for-the-"
                                 "rest-api#about-secondary-rate-limits",
            "status": "403"})

    # --------------------------------------------------------- handling

    def handle(self, req):
        if req.method not in ("GET", "HEAD"):
            return self.not_found()
        kind, who, num = self.route(req.path)
        if kind is None or kind == "unknown_repo":
            return self.not_found()
        if kind == "rate_limit":
            return self.h_rate_limit(req)
        if kind == "user":
            return Response(200, self.std_headers(), self.U_ME.obj())
        if kind in ("org", "org_repos"):
            if who.lower() != ORG:
                return self.not_found("https://docs.github.com/rest/repos/"
                                      "repos#list-organization-"
                                      "repositories")
            if kind == "org":
                return Response(200, self.std_headers(), self.org_obj())
            return self.h_org_repos(req)
        owner, rname = who
        repo = self.repo_by_name.get(rname.lower()) \
            if owner.lower() == ORG else None
        if repo is None:
            return self.not_found("https://docs.github.com/rest/repos/repos"
                                  "#get-a-repository")
        now = req.now
        if kind == "repo":
            return Response(200, self.std_headers(), self.repo_obj(repo))
        if kind == "pulls":
            return self.h_pulls(req, repo, now)
        s = repo.by_number.get(num)
        if s is None or s.created > now:
            return self.not_found("https://docs.github.com/rest/pulls/pulls"
                                  "#get-a-pull-request")
        L = self.life(repo, s)
        if kind == "pull":
            h = self.std_headers()
            h["Last-Modified"] = http_date(self.updated_at(s, now))
            return Response(200, h, self.pr_json(repo, s, now, True,
                                                 self.full_media(req),
                                                 L).encode("utf-8"))
        if kind == "reviews":
            objs = [self.review_obj(repo, s, v, now, self.full_media(req))
                    for v in L.reviews if v.visible_at(now)]
            return self.paged(req, repo, objs, 30, 100)
        if kind == "commits":
            vis = [c for c in L.commits if c.c_date <= now][:PR_COMMITS_CAP]
            return self.paged(req, repo, vis, 30, 100,
                              lambda c: self.commit_obj(repo, c))
        if kind == "review_comments":
            objs = []
            for v in L.reviews:
                if v.t is not None and v.t <= now:
                    objs.extend(self.line_comment_objs(repo, s, v))
            return self.paged(req, repo, objs, 30, 100)
        if kind == "issue_comments":
            since = req.q("since")
            lo = None
            if since:
                try:
                    lo = simcommon.parse_gh_time(since)
                except ValueError:
                    return self.error(422, "Validation Failed",
                                      "https://docs.github.com/rest")
            vis = [c for c in L.comments if c.t <= now
                   and (lo is None or c.t >= lo)]
            return self.paged(req, repo, vis, 30, 100,
                              lambda c: self.comment_obj(repo, s, c))
        if kind == "timeline":
            vis = self.timeline_items(L, now)
            return self.paged(req, repo, vis, 30, 100,
                              lambda it: self.timeline_obj(repo, s, it,
                                                           now))
        return self.not_found()

    @staticmethod
    def full_media(req):
        acc = req.headers.get("Accept") or ""
        return ".full+json" in acc or "param=full" in acc

    def timeline_items(self, L, now):
        out = []
        ncommits = 0
        for it in L.items:
            if it[0] > now:
                continue
            if it[2] == "committed":
                ncommits += 1
                if ncommits > TIMELINE_COMMIT_CAP:
                    continue
            out.append(it)
        return out

    # ------------------------------------------------------- pagination

    def page_params(self, req, default_pp, max_pp):
        try:
            pp = int(req.q("per_page", default_pp))
        except ValueError:
            pp = default_pp
        if pp < 1:
            pp = default_pp
        pp = min(pp, max_pp)
        try:
            page = int(req.q("page", 1))
        except ValueError:
            page = 1
        return pp, max(1, page)

    def link(self, req, base_path, page, last):
        if last <= 1 and page <= 1:
            return None
        host = req.headers.get("Host") or "127.0.0.1"
        params = [(k, v) for k, v in req.qlist if k != "page"]

        def url(n):
            q = urllib.parse.urlencode(params + [("page", str(n))])
            return "<http://%s%s%s?%s>" % (host, self.prefix, base_path, q)

        rels = []
        if page > 1:
            rels.append('%s; rel="prev"' % url(page - 1))
        if page < last:
            rels.append('%s; rel="next"' % url(page + 1))
            rels.append('%s; rel="last"' % url(last))
        if page > 1:
            rels.append('%s; rel="first"' % url(1))
        return ", ".join(rels) if rels else None

    def link_base(self, req, repo):
        p = self.strip(req.path)
        m = re.match(r"^/repos/[^/]+/[^/]+(/.*)?$", p)
        if m:
            return "/repositories/%d%s" % (repo.id, m.group(1) or "")
        m = self.REPOSITORIES.match(p)
        if m:
            return p
        return p

    def paged(self, req, repo, items, default_pp, max_pp, conv=None):
        pp, page = self.page_params(req, default_pp, max_pp)
        n = len(items)
        last = max(1, (n + pp - 1) // pp)
        chunk = items[(page - 1) * pp: page * pp]
        if conv is not None:
            chunk = [conv(x) for x in chunk]
        h = self.std_headers()
        if n:
            lk = self.link(req, self.link_base(req, repo), page, last)
            if lk:
                h["Link"] = lk
        return Response(200, h, chunk)

    # ------------------------------------------------------------ lists

    def sorted_prs(self, repo, now, sort, direction, state, base):
        key = (repo.idx, now, sort, direction, state, base)
        with self.lock:
            got = self.sorted_cache.get(key)
            if got is not None:
                return got
        vis = self.visible_prs(repo, now)
        rows = []
        for s in vis:
            st = self.state_at(s, now)[0]
            if state != "all" and st != state:
                continue
            if base is not None and s.base != base:
                continue
            rows.append(s)
        desc = direction == "desc"
        if sort == "updated":
            rows.sort(key=lambda s: (self.updated_at(s, now), s.number),
                      reverse=desc)
        elif sort == "popularity":
            rows.sort(key=lambda s: (bisect.bisect_right(s.ncomments, now),
                                     s.number), reverse=desc)
        elif sort == "long-running":
            rows.sort(key=lambda s: (now - s.created, s.number),
                      reverse=desc)
        else:
            rows.sort(key=lambda s: (s.created, s.number), reverse=desc)
        with self.lock:
            if len(self.sorted_cache) > 400:
                self.sorted_cache.clear()
            self.sorted_cache[key] = rows
        return rows

    def h_pulls(self, req, repo, now):
        state = req.q("state", "open")
        sort = req.q("sort", "created")
        if state not in ("open", "closed", "all") or sort not in (
                "created", "updated", "popularity", "long-running"):
            return self.error(422, "Validation Failed",
                              "https://docs.github.com/rest/pulls/pulls"
                              "#list-pull-requests",
                              {"errors": [{"resource": "PullRequest",
                                           "field": "state" if state not in
                                           ("open", "closed", "all")
                                           else "sort",
                                           "code": "invalid"}]})
        direction = req.q("direction")
        if direction not in ("asc", "desc"):
            direction = "desc" if sort == "created" or req.q("sort") is None\
                else "asc"
        base = req.q("base")
        rows = self.sorted_prs(repo, now, sort, direction, state, base)
        pp, page = self.page_params(req, 30, 100)
        n = len(rows)
        last = max(1, (n + pp - 1) // pp)
        chunk = rows[(page - 1) * pp: page * pp]
        full = self.full_media(req)
        body = "[" + ",".join(self.pr_json(repo, s, now, False, full)
                              for s in chunk) + "]"
        h = self.std_headers()
        if n:
            lk = self.link(req, "/repositories/%d/pulls" % repo.id, page,
                           last)
            if lk:
                h["Link"] = lk
        return Response(200, h, body.encode("utf-8"))

    def h_org_repos(self, req):
        sort = req.q("sort", "created")
        direction = req.q("direction")
        if direction not in ("asc", "desc"):
            direction = "asc" if sort == "full_name" else "desc"
        typ = req.q("type", "all")
        repos = list(self.repos)
        if typ in ("forks",):
            repos = []
        if sort == "full_name":
            repos.sort(key=lambda r: r.full_name, reverse=direction == "desc")
        elif sort in ("updated", "pushed"):
            repos.sort(key=lambda r: (self.repo_pushed(r, req.now), r.id),
                       reverse=direction == "desc")
        else:
            repos.sort(key=lambda r: (r.created_at, r.id),
                       reverse=direction == "desc")
        pp, page = self.page_params(req, 30, 100)
        n = len(repos)
        last = max(1, (n + pp - 1) // pp)
        chunk = [self.repo_obj(r, listing=True, now=req.now)
                 for r in repos[(page - 1) * pp: page * pp]]
        h = self.std_headers()
        lk = self.link(req, "/organizations/%d/repos" % ORG_ID, page, last)
        if lk:
            h["Link"] = lk
        return Response(200, h, chunk)

    def h_rate_limit(self, req):
        qs = getattr(req, "quota", None)
        if qs is None:
            qs = simcommon.QuotaState(self.opts.quota, 0, int(req.now))
        core = {"limit": qs.limit, "used": min(qs.used, qs.limit),
                "remaining": qs.remaining, "reset": qs.reset}

        def other(limit):
            return {"limit": limit, "used": 0, "remaining": limit,
                    "reset": qs.reset}

        body = {"resources": {
            "core": core, "search": other(30), "graphql": other(5000),
            "integration_manifest": other(5000), "source_import": other(100),
            "code_scanning_upload": other(1000),
            "code_scanning_autofix": other(10),
            "actions_runner_registration": other(10000),
            "scim": other(15000), "dependency_snapshots": other(100),
            "audit_log": other(1750), "audit_log_streaming": other(15),
            "code_search": other(10)}, "rate": dict(core)}
        h = self.std_headers()
        h["Cache-Control"] = "no-cache"
        return Response(200, h, body)

    # ---------------------------------------------------------- objects

    def org_obj(self):
        u = "%s/orgs/%s" % (API, ORG)
        return {"login": ORG, "id": ORG_ID, "node_id": node_id("O_", ORG_ID),
                "url": u, "repos_url": u + "/repos",
                "events_url": u + "/events", "hooks_url": u + "/hooks",
                "issues_url": u + "/issues",
                "members_url": u + "/members{/member}",
                "public_members_url": u + "/public_members{/member}",
                "avatar_url": "https://avatars.githubusercontent.com/u/%d?v=4"
                              % ORG_ID,
                "description": "Acme Corp (simulated)", "name": "Acme",
                "html_url": "%s/%s" % (WEB, ORG), "type": "Organization",
                "public_repos": len(self.repos)}

    def owner_obj(self):
        u = getattr(self, "_owner", None)
        if u is None:
            u = self._owner = User(ORG, ORG_ID, "Organization")
        return u.obj()

    def repo_pushed(self, repo, now):
        if repo.archived:
            return repo.archived_at - DAY
        best = repo.created_at
        for s in self.visible_prs(repo, now)[-50:]:
            i = self.visible_commits(s, now)
            if i:
                best = max(best, s.ctimes[i - 1])
        return best

    def repo_obj(self, repo, listing=False, now=None):
        if repo._obj is None:
            full = repo.full_name
            u = "%s/repos/%s" % (API, full)
            o = {
                "id": repo.id,
                "node_id": node_id("R_", repo.id),
                "name": repo.name,
                "full_name": full,
                "private": True,
                "owner": self.owner_obj(),
                "html_url": "%s/%s" % (WEB, full),
                "description": "The %s service" % repo.name,
                "fork": False,
                "url": u,
            }
            for k, suffix in (
                    ("forks_url", "/forks"), ("keys_url", "/keys{/key_id}"),
                    ("collaborators_url",
                     "/collaborators{/collaborator}"),
                    ("teams_url", "/teams"), ("hooks_url", "/hooks"),
                    ("issue_events_url", "/issues/events{/number}"),
                    ("events_url", "/events"),
                    ("assignees_url", "/assignees{/user}"),
                    ("branches_url", "/branches{/branch}"),
                    ("tags_url", "/tags"),
                    ("blobs_url", "/git/blobs{/sha}"),
                    ("git_tags_url", "/git/tags{/sha}"),
                    ("git_refs_url", "/git/refs{/sha}"),
                    ("trees_url", "/git/trees{/sha}"),
                    ("statuses_url", "/statuses/{sha}"),
                    ("languages_url", "/languages"),
                    ("stargazers_url", "/stargazers"),
                    ("contributors_url", "/contributors"),
                    ("subscribers_url", "/subscribers"),
                    ("subscription_url", "/subscription"),
                    ("commits_url", "/commits{/sha}"),
                    ("git_commits_url", "/git/commits{/sha}"),
                    ("comments_url", "/comments{/number}"),
                    ("issue_comment_url", "/issues/comments{/number}"),
                    ("contents_url", "/contents/{+path}"),
                    ("compare_url", "/compare/{base}...{head}"),
                    ("merges_url", "/merges"),
                    ("archive_url", "/{archive_format}{/ref}"),
                    ("downloads_url", "/downloads"),
                    ("issues_url", "/issues{/number}"),
                    ("pulls_url", "/pulls{/number}"),
                    ("milestones_url", "/milestones{/number}"),
                    ("notifications_url",
                     "/notifications{?since,all,participating}"),
                    ("labels_url", "/labels{/name}"),
                    ("releases_url", "/releases{/id}"),
                    ("deployments_url", "/deployments")):
                o[k] = u + suffix
            pushed = repo.archived_at - DAY if repo.archived \
                else self.now0 - 3600
            o.update({
                "created_at": gh_time(repo.created_at),
                "updated_at": gh_time(pushed),
                "pushed_at": gh_time(pushed),
                "git_url": "git://github.com/%s.git" % full,
                "ssh_url": "git@github.com:%s.git" % full,
                "clone_url": "https://github.com/%s.git" % full,
                "svn_url": "https://github.com/%s" % full,
                "homepage": None if repo.idx % 2 else
                "https://%s.acme.example" % repo.name,
                "size": 1000 + repo.id % 50000,
                "stargazers_count": repo.id % 17,
                "watchers_count": repo.id % 17,
                "language": ["Go", "TypeScript", "Python", "C",
                             "Java"][repo.idx % 5],
                "has_issues": True,
                "has_projects": True,
                "has_downloads": True,
                "has_wiki": False,
                "has_pages": False,
                "has_discussions": False,
                "forks_count": 0,
                "mirror_url": None,
                "archived": repo.archived,
                "disabled": False,
                "open_issues_count": 0,
                "license": {"key": "mit", "name": "MIT License",
                            "spdx_id": "MIT",
                            "url": "https://api.github.com/licenses/mit",
                            "node_id": "MDc6TGljZW5zZTEz"},
                "allow_forking": False,
                "is_template": False,
                "web_commit_signoff_required": False,
                "topics": ["acme", repo.name],
                "visibility": "private",
                "forks": 0,
                "open_issues": 0,
                "watchers": repo.id % 17,
                "default_branch": "main",
            })
            repo._obj = o
        if not listing:
            return repo._obj
        o = dict(repo._obj)
        o["permissions"] = {"admin": False, "maintain": False, "push": True,
                            "triage": True, "pull": True}
        return o

    def label_obj(self, repo, name):
        i, color, default, desc = LABEL_INFO[name]
        lid = 800000000 + repo.idx * 100 + i
        return {"id": lid, "node_id": node_id("LA_", lid),
                "url": "%s/repos/%s/labels/%s" % (
                    API, repo.full_name, urllib.parse.quote(name)),
                "name": name, "color": color, "default": default,
                "description": desc}

    def pr_json(self, repo, s, now, single, full, L=None):
        """A PR as JSON text; list items are cached by their updated_at."""
        upd = self.updated_at(s, now)
        key = (repo.idx, s.number, upd, single, full,
               self.visible_commits(s, now))
        with self.lock:
            got = self.json_cache.get(key)
            if got is not None:
                return got
        if single and L is None:
            L = self.life(repo, s)
        o = self.pr_obj(repo, s, now, single, full, L, upd, marks=True)
        # the big shared parts (repository, owner) are spliced in as
        # ready-made JSON: a 100-PR page stays well under 50 ms
        text = dumps_str(o).replace(REPO_MARK_JSON, self.repo_json(repo))\
            .replace(OWNER_MARK_JSON, self.owner_json())
        with self.lock:
            self.json_cache[key] = text
            if len(self.json_cache) > self.json_cap:
                for _ in range(self.json_cap // 10):
                    self.json_cache.popitem(last=False)
        return text

    def repo_json(self, repo):
        if repo._json is None:
            repo._json = dumps_str(self.repo_obj(repo))
        return repo._json

    def owner_json(self):
        j = getattr(self, "_owner_json", None)
        if j is None:
            j = self._owner_json = dumps_str(self.owner_obj())
        return j

    def pr_obj(self, repo, s, now, single, full, L, upd, marks=False):
        full_name = repo.full_name
        n = s.number
        pu = "%s/repos/%s/pulls/%d" % (API, full_name, n)
        iu = "%s/repos/%s/issues/%d" % (API, full_name, n)
        hu = "%s/%s/pull/%d" % (WEB, full_name, n)
        state, closed_at, merged_at, draft = self.state_at(s, now)
        head = self.head_sha(repo, s, now)
        repo_o = REPO_MARK if marks else self.repo_obj(repo)
        owner_o = OWNER_MARK if marks else self.owner_obj()
        author = s.author
        o = {
            "url": pu,
            "id": s.id,
            "node_id": node_id("PR_", s.id),
            "html_url": hu,
            "diff_url": hu + ".diff",
            "patch_url": hu + ".patch",
            "issue_url": iu,
            "number": n,
            "state": state,
            "locked": False,
            "title": s.title,
            "user": uobj(author),
            "body": s.body,
            "created_at": gh_time(s.created),
            "updated_at": gh_time(upd),
            "closed_at": gh_time(closed_at) if closed_at else None,
            "merged_at": gh_time(merged_at) if merged_at else None,
            "merge_commit_sha": s.merge_sha if merged_at else
            sha_of(self.seed, full_name, n, "testmerge"),
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "labels": [self.label_obj(repo, lab) for lab in s.labels],
            "milestone": None,
            "draft": draft,
            "commits_url": pu + "/commits",
            "review_comments_url": pu + "/comments",
            "review_comment_url": "%s/repos/%s/pulls/comments{/number}" % (
                API, full_name),
            "comments_url": iu + "/comments",
            "statuses_url": "%s/repos/%s/statuses/%s" % (API, full_name,
                                                         head),
            "head": {
                "label": "%s:%s" % (ORG, s.head_ref),
                "ref": s.head_ref,
                "sha": head,
                "user": uobj(author) if s.head_fork_deleted
                else owner_o,
                "repo": None if s.head_fork_deleted else repo_o,
            },
            "base": {
                "label": "%s:%s" % (ORG, s.base),
                "ref": s.base,
                "sha": sha_of(self.seed, full_name, "base", s.base),
                "user": owner_o,
                "repo": repo_o,
            },
            "_links": {
                "self": {"href": pu},
                "html": {"href": hu},
                "issue": {"href": iu},
                "comments": {"href": iu + "/comments"},
                "review_comments": {"href": pu + "/comments"},
                "review_comment": {"href": "%s/repos/%s/pulls/comments"
                                           "{/number}" % (API, full_name)},
                "commits": {"href": pu + "/commits"},
                "statuses": {"href": "%s/repos/%s/statuses/%s" % (
                    API, full_name, head)},
            },
            "author_association": author.assoc if author else "NONE",
            "auto_merge": None,
            "active_lock_reason": None,
        }
        if author is not None and author.type == "User" \
                and author is not self.U_GHOST and n % 3 == 0:
            o["assignee"] = author.obj()
            o["assignees"] = [author.obj()]
        if full:
            o["body_html"] = "<p>%s</p>" % html_escape(s.body or "")
            o["body_text"] = s.body or ""
        if state == "open" and L is not None:
            o["requested_reviewers"] = self.requested(L, now)
        if not single:
            return o
        vis = [c for c in L.commits if c.c_date <= now]
        reviews_vis = [v for v in L.reviews if v.t is not None
                       and v.t <= now]
        approved = any(v.state_at(now) == "APPROVED" for v in reviews_vis)
        merger = None
        for it in L.items:
            if it[2] == "merged" and it[0] <= now:
                merger = it[3]
        if merged_at:
            mstate, mergeable, rebaseable = "unknown", None, None
        elif state == "closed":
            mstate, mergeable, rebaseable = "unknown", None, None
        elif draft:
            mstate, mergeable, rebaseable = "draft", True, True
        else:
            mstate, mergeable, rebaseable = ("clean" if approved
                                             else "blocked"), True, True
        o.update({
            "merged": merged_at is not None,
            "mergeable": mergeable,
            "rebaseable": rebaseable,
            "mergeable_state": mstate,
            "merged_by": uobj(merger) if merged_at else None,
            "comments": sum(1 for c in L.comments if c.t <= now),
            "review_comments": sum(v.lines for v in reviews_vis),
            "maintainer_can_modify": False,
            "commits": len(vis),
            "additions": sum(c.additions for c in vis),
            "deletions": sum(c.deletions for c in vis),
            "changed_files": min(3000, sum(c.files for c in vis)),
        })
        return o

    def requested(self, L, now):
        pending = []
        for it in L.items:
            if it[0] > now:
                break
            if it[2] == "review_requested" and it[4] not in pending:
                pending.append(it[4])
            elif it[2] == "reviewed" and it[3].user in pending:
                pending.remove(it[3].user)
        return [u.obj() for u in pending if u is not None]

    def review_obj(self, repo, s, v, now, full=False, lower=False):
        pu = "%s/repos/%s/pulls/%d" % (API, repo.full_name, s.number)
        hu = "%s/%s/pull/%d#pullrequestreview-%d" % (WEB, repo.full_name,
                                                     s.number, v.id)
        st = v.state_at(now)
        o = {
            "id": v.id,
            "node_id": node_id("PRR_", v.id),
            "user": uobj(v.user),
            "body": v.body,
            "state": st.lower() if lower else st,
            "html_url": hu,
            "pull_request_url": pu,
            "author_association": v.user.assoc if v.user else "NONE",
            "_links": {"html": {"href": hu},
                       "pull_request": {"href": pu}},
        }
        if v.t is not None:
            o["submitted_at"] = gh_time(v.t)
        o["commit_id"] = v.commit_id
        if full:
            o["body_html"] = "<p>%s</p>" % html_escape(v.body)
            o["body_text"] = v.body
        return o

    def line_comment_objs(self, repo, s, v):
        out = []
        pu = "%s/repos/%s/pulls/%d" % (API, repo.full_name, s.number)
        for k in range(v.lines):
            cid = 4000000000 + (v.id - 3000000000) * 4 + k
            u = "%s/repos/%s/pulls/comments/%d" % (API, repo.full_name, cid)
            hu = "%s/%s/pull/%d#discussion_r%d" % (WEB, repo.full_name,
                                                   s.number, cid)
            line = 10 + (cid % 200)
            out.append({
                "url": u,
                "pull_request_review_id": v.id,
                "id": cid,
                "node_id": node_id("PRRC_", cid),
                "diff_hunk": "@@ -%d,7 +%d,7 @@ def handler(req):\n-    "
                             "old()\n+    new()" % (line, line),
                "path": "src/%s/handler_%d.py" % (repo.name, k),
                "commit_id": v.commit_id,
                "original_commit_id": v.commit_id,
                "user": uobj(v.user),
                "body": ["Nit: rename this.", "Is this thread-safe?",
                         "Missing `free()` here | and *here*"][k % 3],
                "created_at": gh_time(v.t - 30 * (v.lines - k)),
                "updated_at": gh_time(v.t - 30 * (v.lines - k)),
                "html_url": hu,
                "pull_request_url": pu,
                "author_association": v.user.assoc if v.user else "NONE",
                "_links": {"self": {"href": u}, "html": {"href": hu},
                           "pull_request": {"href": pu}},
                "reactions": reactions(u),
                "start_line": None,
                "original_start_line": None,
                "start_side": None,
                "line": line,
                "original_line": line,
                "side": "RIGHT",
                "original_position": 5,
                "position": 5,
                "subject_type": "line",
            })
        return out

    def xref_issue(self, repo, user, number, t):
        """The issue form of the (fictional, already merged) PR that
        mentioned this one, as the timeline embeds it."""
        iu = "%s/repos/%s/issues/%d" % (API, repo.full_name, number)
        hu = "%s/%s/pull/%d" % (WEB, repo.full_name, number)
        iid = 3300000000 + repo.idx * 200000 + number
        created = t - 2 * DAY
        return {
            "url": iu,
            "repository_url": "%s/repos/%s" % (API, repo.full_name),
            "labels_url": iu + "/labels{/name}",
            "comments_url": iu + "/comments",
            "events_url": iu + "/events",
            "html_url": hu,
            "id": iid,
            "node_id": node_id("PR_", iid),
            "number": number,
            "title": "Follow-up: tidy %s" % repo.name,
            "user": uobj(user),
            "labels": [self.label_obj(repo, "enhancement")],
            "state": "closed",
            "locked": False,
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "comments": 1,
            "created_at": gh_time(created),
            "updated_at": gh_time(t),
            "closed_at": gh_time(t),
            "author_association": user.assoc if user else "NONE",
            "sub_issues_summary": {"total": 0, "completed": 0,
                                   "percent_completed": 0},
            "active_lock_reason": None,
            "draft": False,
            "pull_request": {"url": "%s/repos/%s/pulls/%d" % (
                API, repo.full_name, number),
                "html_url": hu, "diff_url": hu + ".diff",
                "patch_url": hu + ".patch", "merged_at": gh_time(t)},
            "body": "Mentions the earlier change.",
            "reactions": reactions(iu),
            "timeline_url": iu + "/timeline",
            "performed_via_github_app": None,
            "state_reason": None,
            "repository": self.repo_obj(repo, listing=True),
        }

    def comment_obj(self, repo, s, c):
        u = "%s/repos/%s/issues/comments/%d" % (API, repo.full_name, c.id)
        return {
            "url": u,
            "html_url": "%s/%s/pull/%d#issuecomment-%d" % (
                WEB, repo.full_name, s.number, c.id),
            "issue_url": "%s/repos/%s/issues/%d" % (API, repo.full_name,
                                                    s.number),
            "id": c.id,
            "node_id": node_id("IC_", c.id),
            "user": uobj(c.user),
            "created_at": gh_time(c.t),
            "updated_at": gh_time(c.t),
            "author_association": c.user.assoc if c.user else "NONE",
            "body": c.body,
            "reactions": reactions(u),
            "performed_via_github_app": None,
        }

    def git_commit_parts(self, repo, c):
        gu = "%s/repos/%s/git/commits/%s" % (API, repo.full_name, c.sha)
        tree = sha_of(c.sha, "tree")
        return {
            "author": {"name": c.a_name, "email": c.a_email,
                       "date": gh_time(c.a_date)},
            "committer": {"name": c.c_name, "email": c.c_email,
                          "date": gh_time(c.c_date)},
            "message": c.message,
            "tree": {"sha": tree,
                     "url": "%s/repos/%s/git/trees/%s" % (
                         API, repo.full_name, tree)},
            "url": gu,
            "verification": {"verified": False, "reason": "unsigned",
                             "signature": None, "payload": None,
                             "verified_at": None},
        }

    def parent_sha(self, repo, c):
        return sha_of(c.sha, "parent")

    def commit_obj(self, repo, c):
        u = "%s/repos/%s/commits/%s" % (API, repo.full_name, c.sha)
        g = self.git_commit_parts(repo, c)
        g["comment_count"] = 0
        p = self.parent_sha(repo, c)
        return {
            "sha": c.sha,
            "node_id": node_id("C_", int(c.sha[:12], 16)),
            "commit": {"author": g["author"], "committer": g["committer"],
                       "message": g["message"], "tree": g["tree"],
                       "url": g["url"], "comment_count": 0,
                       "verification": g["verification"]},
            "url": u,
            "html_url": "%s/%s/commit/%s" % (WEB, repo.full_name, c.sha),
            "comments_url": u + "/comments",
            "author": uobj(c.author),
            "committer": uobj(c.committer),
            "parents": [{"sha": p,
                         "url": "%s/repos/%s/commits/%s" % (
                             API, repo.full_name, p),
                         "html_url": "%s/%s/commit/%s" % (
                             WEB, repo.full_name, p)}],
        }

    def timeline_obj(self, repo, s, it, now):
        t, seq, kind, a, b = it
        if kind == "committed":
            c = a
            g = self.git_commit_parts(repo, c)
            p = self.parent_sha(repo, c)
            return {
                "sha": c.sha,
                "node_id": node_id("C_", int(c.sha[:12], 16)),
                "url": g["url"],
                "html_url": "%s/%s/commit/%s" % (WEB, repo.full_name, c.sha),
                "author": g["author"],
                "committer": g["committer"],
                "tree": g["tree"],
                "message": c.message,
                "parents": [{"sha": p,
                             "url": "%s/repos/%s/git/commits/%s" % (
                                 API, repo.full_name, p),
                             "html_url": "%s/%s/commit/%s" % (
                                 WEB, repo.full_name, p)}],
                "verification": g["verification"],
                "event": "committed",
            }
        if kind == "reviewed":
            o = self.review_obj(repo, s, a, now, lower=True)
            o["event"] = "reviewed"
            return o
        if kind == "line-commented":
            return {"node_id": node_id("PRRT_", a.id),
                    "comments": self.line_comment_objs(repo, s, a),
                    "event": "line-commented"}
        if kind == "commented":
            o = self.comment_obj(repo, s, a)
            o["event"] = "commented"
            o["actor"] = uobj(a.user)
            return o
        if kind == "cross-referenced":
            return {"actor": uobj(a), "created_at": gh_time(t),
                    "updated_at": gh_time(t),
                    "source": {"type": "issue",
                               "issue": self.xref_issue(repo, a, b, t)},
                    "event": "cross-referenced"}
        eid = 9000000000 + (repo.idx * 100000 + s.number) * 10000 + seq
        o = {
            "id": eid,
            "node_id": node_id("E_", eid),
            "url": "%s/repos/%s/issues/events/%d" % (API, repo.full_name,
                                                      eid),
            "actor": uobj(a),
            "event": kind,
            "commit_id": None,
            "commit_url": None,
            "created_at": gh_time(t),
        }
        if kind in ("merged", "referenced"):
            o["commit_id"] = b
            o["commit_url"] = "%s/repos/%s/commits/%s" % (API,
                                                          repo.full_name, b)
        elif kind == "closed":
            o["state_reason"] = None
        elif kind == "review_requested":
            o["review_requester"] = uobj(a)
            o["requested_reviewer"] = uobj(b)
        elif kind == "assigned":
            o["assignee"] = uobj(b)
        elif kind == "labeled":
            o["label"] = {"name": b, "color": LABEL_INFO[b][1]}
        elif kind == "review_dismissed":
            o["dismissed_review"] = {
                "state": "approved", "review_id": b.id,
                "dismissal_message": "New commits pushed",
                "dismissal_commit_id": None}
        o["performed_via_github_app"] = None
        return o

    # ----------------------------------------------------------- truth

    def truth(self, params):
        cfg = TruthConfig(params)
        now = self.opts.now
        out = {}
        for repo in self.repos:
            for s in self.visible_prs(repo, now):
                L = self.life(repo, s)
                key = "%s#%d" % (repo.full_name, s.number)
                out[key] = self.pr_truth(repo, s, L, now, cfg)
        return {"prs": out}

    def pr_truth(self, repo, s, L, now, cfg):
        state, closed_at, merged_at, draft = self.state_at(s, now)
        author = L.author
        deleted_author = author is None or author is self.U_GHOST
        vis_commits = [c for c in L.commits if c.c_date <= now]
        listed = vis_commits[:TIMELINE_COMMIT_CAP]
        first_commit = min(c.a_date for c in listed) if listed else L.created
        truncated = len(vis_commits) > len(listed)
        items = self.timeline_items(L, now)
        draft_ev = [it for it in items
                    if it[2] in ("ready_for_review", "convert_to_draft")]
        if draft_ev:
            opened_draft = draft_ev[0][2] == "ready_for_review"
        else:
            opened_draft = draft
        if opened_draft:
            readies = [it[0] for it in draft_ev
                       if it[2] == "ready_for_review"]
            ready_at = readies[0] if readies else None
        else:
            ready_at = L.created

        def is_bot(u):
            return u is not None and u.is_bot()

        def excluded_user(u):
            return u is not None and u.login in cfg.exclude_users

        def is_author(u):
            if deleted_author or u is None or u is self.U_GHOST:
                return False
            return u.login == author.login

        counted = []
        for v in L.reviews:
            if v.t is None or v.t > now:
                continue
            st = v.state_at(now)
            if st not in REVIEW_STATES:
                continue
            if is_author(v.user) or is_bot(v.user) or excluded_user(v.user):
                continue
            if merged_at is not None and v.t > merged_at:
                continue
            counted.append((v.t, v.seq, v, st))
        counted.sort(key=lambda x: (x[0], x[1]))
        ccomments = []
        for c in L.comments:
            if c.t > now:
                continue
            if is_author(c.user) or is_bot(c.user) or excluded_user(c.user):
                continue
            if merged_at is not None and c.t > merged_at:
                continue
            ccomments.append(c.t)
        ccomments.sort()
        first_review = counted[0][0] if counted else None
        first_comment = ccomments[0] if ccomments else None
        cands = [x for x in (first_review, first_comment) if x is not None]
        first_response = min(cands) if cands else None
        approved = [x[0] for x in counted if x[3] == "APPROVED"]
        approved_at = approved[0] if approved else None
        pickup_at = response_at = None
        if ready_at is not None:
            after = [x[0] for x in counted if x[0] >= ready_at]
            pickup_at = after[0] if after else None
            cafter = [t for t in ccomments if t >= ready_at]
            rc = [x for x in (pickup_at, cafter[0] if cafter else None)
                  if x is not None]
            response_at = min(rc) if rc else None
        vis_adds = sum(c.additions for c in vis_commits)
        vis_dels = sum(c.deletions for c in vis_commits)

        author_bot = author is not None and author.is_bot()
        reason = None
        label_ex = any(lab in cfg.exclude_labels for lab in L.labels)
        base_ex = any(fnmatch.fnmatchcase(L.base, g)
                      for g in cfg.exclude_base)
        # label and base first: they also take the PR's reviews out of
        # review load, so they are the more telling reason (pr.h)
        if label_ex:
            reason = "label"
        elif base_ex:
            reason = "base"
        elif author_bot and not cfg.include_bot_prs:
            reason = "bot"
        elif author is not None and author.login in cfg.exclude_users:
            reason = "user"

        def hours(a, b):
            if a is None or b is None:
                return None
            return max(0, b - a) / 3600.0

        merged = merged_at is not None
        events = [{"kind": "opened", "t": L.created,
                   "actor": ulogin(author),
                   "actor_type": author.type if author else "User"}]
        for it in items:
            k = it[2]
            if k not in TRUTH_KINDS:
                continue
            if k == "committed":
                c = it[3]
                ev = {"kind": k, "t": c.c_date, "actor": None,
                      "actor_type": "User", "author_date": c.a_date}
            elif k == "reviewed":
                v = it[3]
                ev = {"kind": k, "t": v.t, "actor": ulogin(v.user),
                      "actor_type": v.user.type if v.user else "User",
                      "state": v.state_at(now).lower()}
            elif k == "commented":
                c = it[3]
                ev = {"kind": k, "t": c.t, "actor": ulogin(c.user),
                      "actor_type": c.user.type if c.user else "User"}
            else:
                u = it[3]
                ev = {"kind": k, "t": it[0], "actor": ulogin(u),
                      "actor_type": u.type if u else "User"}
            events.append(ev)
        # 'opened' sorts at its time among the timeline's items (stable)
        events.sort(key=lambda e: e["t"])

        return {
            "repo": repo.full_name,
            "number": s.number,
            "title": L.title,
            "url": "%s/%s/pull/%d" % (WEB, repo.full_name, s.number),
            "author": ulogin(author),
            "author_type": author.type if author else "User",
            "is_bot": author_bot,
            "state": state,
            "draft": draft,
            "base": L.base,
            "labels": list(L.labels),
            "created_at": L.created,
            "updated_at": self.updated_at(s, now),
            "closed_at": closed_at,
            "merged_at": merged_at,
            "additions": vis_adds,
            "deletions": vis_dels,
            "commits": len(vis_commits),
            "opened_at": L.created,
            "first_commit_at": first_commit,
            "commits_truncated": truncated,
            "ready_at": ready_at,
            "first_review_at": first_review,
            "first_response_at": first_response,
            "approved_at": approved_at,
            "size": vis_adds + vis_dels,
            "review_rounds": sum(1 for x in counted
                                 if x[3] == "CHANGES_REQUESTED"),
            "excluded": reason is not None,
            "excluded_reason": reason,
            "pickup_at": pickup_at,
            "response_at": response_at,
            "coding_time": hours(first_commit, ready_at) if merged else None,
            "pickup_time": hours(ready_at, pickup_at) if merged else None,
            "review_time": hours(first_review, merged_at) if merged
            else None,
            "cycle_time": hours(first_commit, merged_at) if merged else None,
            "time_to_first_response": hours(ready_at, response_at)
            if merged else None,
            "counted_reviews": [{"reviewer": ulogin(x[2].user),
                                 "submitted_at": x[0], "state": x[3]}
                                for x in counted],
            "review_load_excluded": label_ex or base_ex,
            "events": events,
        }

    # --------------------------------------------------------- advance

    def advance(self, hours, old_now, new_now):
        with self.lock:
            for repo in self.repos:
                self.extend_future_to(repo, new_now + self.horizon)
            self.sorted_cache.clear()


REPO_MARK = "\x00repo\x00"
OWNER_MARK = "\x00owner\x00"
REPO_MARK_JSON = dumps_str(REPO_MARK)
OWNER_MARK_JSON = dumps_str(OWNER_MARK)

TRUTH_KINDS = frozenset(("committed", "reviewed", "commented",
                         "ready_for_review", "convert_to_draft",
                         "review_requested", "closed", "reopened",
                         "merged"))


class TruthConfig:
    """PR-side /__truth parameters (METRICS.md defaults when absent)."""

    def __init__(self, params):
        def get(name):
            v = params.get(name)
            if isinstance(v, list):
                v = v[-1] if v else None
            return v

        self.exclude_users = frozenset(parse_list(get("exclude_users")))
        self.include_bot_prs = parse_bool(get("include_bot_prs"), False)
        self.exclude_labels = frozenset(parse_list(get("exclude_labels")))
        self.exclude_base = tuple(parse_list(get("exclude_base")))


def reactions(url):
    return {"url": url + "/reactions", "total_count": 0, "+1": 0, "-1": 0,
            "laugh": 0, "hooray": 0, "confused": 0, "heart": 0,
            "rocket": 0, "eyes": 0}


def html_escape(text):
    return (text.replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;").replace('"', "&quot;"))
