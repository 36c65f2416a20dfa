#!/usr/bin/env python3
"""gh_truth.py - compare the PRs of a `bellwether debug dump` with the API
simulator's /__truth, field by field (t_github.sh).

usage: gh_truth.py DUMP TRUTH_URL SOURCE SINCE REPO...

DUMP is the canonical dump (store.h: "hash pr:{SOURCE:owner/repo}:N" then
"  field = value" lines); TRUTH_URL is /__truth with the same rule
parameters as the source's config; SINCE the source's since (epoch). The
PRs expected are those of the REPOs that were updated at or after SINCE or
are open (DESIGN.md: `since` bounds finished work only); every one of them
must be stored, nothing else, and every field of METRICS.md's "Per PR"
must equal the truth (durations, stored in whole seconds, to 1e-6 h).
Counted reviews are checked against the ix:reviews rows of PRs not
excluded by label or base. Prints one line per mismatch (at most 10 per
field) and a summary; exit status 1 on any mismatch.
"""

import json
import re
import sys
import urllib.request

REASONS = {0: None, 1: "bot", 2: "user", 3: "label", 4: "base"}
STATES = {1: "APPROVED", 2: "CHANGES_REQUESTED", 3: "COMMENTED",
          4: "DISMISSED", 5: "PENDING"}
F_FIELDS = ["title", "url", "author", "author_flags", "open", "draft", "base",
            "labels", "created_at", "updated_at", "closed_at", "merged_at",
            "additions", "deletions", "commits"]
# The derived fields: the `d` value of the first store layout, or the
# 17 values after the 15 fields in `f` (store.h, "PR hash"), where the
# seven times are relative to created_at and `excluded` is implied by
# excluded_reason.
D_FIELDS = ["first_commit_at", "ready_at", "first_review_at",
            "first_response_at", "approved_at", "pickup_at", "response_at",
            "size", "review_rounds", "commits_truncated", "excluded",
            "excluded_reason", "review_load_excluded", "coding_time",
            "pickup_time", "review_time", "cycle_time",
            "time_to_first_response"]
D_IN_F = [n for n in D_FIELDS if n != "excluded"]
D_REL = D_FIELDS[:7]
TIMES = ["created_at", "updated_at", "closed_at", "merged_at",
         "first_commit_at", "ready_at", "first_review_at",
         "first_response_at", "approved_at", "pickup_at", "response_at"]
HOURS = ["coding_time", "pickup_time", "review_time", "cycle_time",
         "time_to_first_response"]


def dump_unescape(s):
    """The dump's \\xHH and \\\\ back to characters."""
    return re.sub(r"\\(x[0-9A-Fa-f]{2}|\\)",
                  lambda m: "\\" if m.group(1) == "\\"
                  else chr(int(m.group(1)[1:], 16)), s)


def pct(s):
    """One packed text field: "%" alone is NULL, %XX a byte."""
    if s == "%":
        return None
    raw = re.sub(rb"%([0-9A-F]{2})", lambda m: bytes([int(m.group(1), 16)]),
                 s.encode("utf-8", "surrogateescape"))
    return raw.decode("utf-8")


def packed(value, names):
    parts = value.split("|")
    if len(parts) != len(names):
        raise ValueError("%d fields, expected %d: %r" % (len(parts),
                                                         len(names), value))
    return dict(zip(names, parts))


def read_dump(path, source):
    """{ "owner/repo#N": {"f": {...}, "d": {...}} }, and the reviews rows
    { "owner/repo#N": [(score, reviewer, state, k)] }."""
    prs, reviews = {}, {}
    key = kind = None
    key_re = re.compile(r"^(\w+) (.*)$")
    pr_re = re.compile(r"^pr:\{%s:([^}]*)\}:(\d+)$" % re.escape(source))
    rv_re = re.compile(r"^ix:reviews:\{%s:([^}]*)\}$" % re.escape(source))
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.startswith("  "):
                m = key_re.match(line)
                kind, key = (m.group(1), m.group(2)) if m else (None, None)
                continue
            body = dump_unescape(line[2:])
            m = pr_re.match(key or "")
            if kind == "hash" and m:
                name = "%s#%s" % (m.group(1), m.group(2))
                field, _, value = body.partition(" = ")
                item = prs.setdefault(name, {})
                if field == "f" and value.count("|") + 1 == len(F_FIELDS):
                    item["f"] = packed(value, F_FIELDS)
                elif field == "f":
                    both = packed(value, F_FIELDS + D_IN_F)
                    item["f"] = dict((n, both[n]) for n in F_FIELDS)
                    d = dict((n, both[n]) for n in D_IN_F)
                    base = int(both["created_at"])
                    for n in D_REL:
                        if d[n] != "":
                            d[n] = str(base + int(d[n]))
                    d["excluded"] = "0" if d["excluded_reason"] == "0" \
                        else "1"
                    item["d"] = d
                elif field == "d":
                    item["d"] = packed(value, D_FIELDS)
                continue
            m = rv_re.match(key or "")
            if kind == "zset" and m:
                score, _, member = body.partition(" ")
                n, reviewer, _author, state, k = member.split("|")
                reviews.setdefault("%s#%s" % (m.group(1), n), []).append(
                    (int(float(score)), pct(reviewer), int(state), int(k)))
    return prs, reviews


def as_time(s):
    return None if s == "" else int(s)


def main():
    if len(sys.argv) < 6:
        print(__doc__, file=sys.stderr)
        return 2
    dump, url, source, since = sys.argv[1:5]
    repos = set(sys.argv[5:])
    since = int(since)
    with urllib.request.urlopen(url, timeout=60) as r:
        truth = json.load(r)["prs"]
    want = {k: v for k, v in truth.items()
            if v["repo"] in repos and (v["updated_at"] >= since or
                                       v["state"] == "open")}
    prs, reviews = read_dump(dump, source)
    problems = {}

    def bad(field, key, t, got):
        problems.setdefault(field, []).append("%s: truth %r, stored %r"
                                              % (key, t, got))

    for key in sorted(set(want) - set(prs)):
        bad("missing", key, "present", None)
    for key in sorted(set(prs) - set(want)):
        bad("unexpected", key, None, "present")
    for key in sorted(set(want) & set(prs)):
        t, f, d = want[key], prs[key].get("f"), prs[key].get("d")
        if f is None or d is None:
            bad("fields", key, "f and d", sorted(prs[key]))
            continue
        got = dict((n, as_time(f[n])) for n in TIMES if n in f)
        got.update((n, as_time(d[n])) for n in TIMES if n in d)
        for n in TIMES:
            if t[n] != got[n]:
                bad(n, key, t[n], got[n])
        if t["opened_at"] != got["created_at"]:
            bad("opened_at", key, t["opened_at"], got["created_at"])
        for n in HOURS:
            s = d[n]
            h = None if s == "" else int(s) / 3600.0
            if (t[n] is None) != (h is None) or \
                    (h is not None and abs(t[n] - h) > 1e-6):
                bad(n, key, t[n], h)
        pairs = [
            ("size", t["size"], int(d["size"])),
            ("review_rounds", t["review_rounds"], int(d["review_rounds"])),
            ("commits_truncated", t["commits_truncated"],
             d["commits_truncated"] == "1"),
            ("excluded", t["excluded"], d["excluded"] == "1"),
            ("excluded_reason", t["excluded_reason"],
             REASONS.get(int(d["excluded_reason"]), "?")),
            ("review_load_excluded", t["review_load_excluded"],
             d["review_load_excluded"] == "1"),
            ("author", t["author"], pct(f["author"])),
            ("is_bot", t["is_bot"], bool(int(f["author_flags"]) & 1)),
            ("state", t["state"], "open" if f["open"] == "1" else "closed"),
            ("draft", t["draft"], f["draft"] == "1"),
            ("base", t["base"], pct(f["base"])),
            ("labels", t["labels"],
             [pct(x) for x in f["labels"].split(",")] if f["labels"] else []),
            ("title", t["title"], pct(f["title"])),
            ("url", t["url"], pct(f["url"])),
            ("additions", t["additions"], int(f["additions"])),
            ("deletions", t["deletions"], int(f["deletions"])),
            ("commits", t["commits"], int(f["commits"])),
        ]
        for n, a, b in pairs:
            if a != b:
                bad(n, key, a, b)
        if not t["review_load_excluded"]:
            tr = [(c["submitted_at"], c["reviewer"], c["state"])
                  for c in t["counted_reviews"]]
            sr = [(s, r, STATES.get(st)) for s, r, st, _k in
                  sorted(reviews.get(key, []), key=lambda x: x[3])]
            if sorted(tr, key=lambda x: (x[0], str(x[1]))) != \
                    sorted(sr, key=lambda x: (x[0], str(x[1]))):
                bad("counted_reviews", key, tr, sr)
        elif reviews.get(key):
            bad("counted_reviews", key, "none (label/base)", reviews[key])
    for field in sorted(problems):
        lines = problems[field]
        print("# %s: %d mismatch(es)" % (field, len(lines)))
        for line in lines[:10]:
            print("#   " + line)
    print("# compared %d PRs (%d expected, %d stored): %s"
          % (len(set(want) & set(prs)), len(want), len(prs),
             "equal" if not problems else "MISMATCH"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
