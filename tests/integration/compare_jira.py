#!/usr/bin/env python3
"""compare_jira.py - compare the tickets bellwether stored with /__truth.

Used by t_jira.sh. Reads the canonical dump of the store (`bellwether debug
dump`) and the simulator's /__truth (fetched with the same metric settings
as the config), decodes each stored ticket (the packed values documented
in include/bellwether/store.h, the history format of src/ticket.c) and
compares, field by field, what METRICS.md defines:

  current fields   id project type priority status assignee assignee_name
                   labels components parent story_points created_at
                   updated_at flagged_now
  derived          initial_status started_at done_at reopen_count stage
                   blocked_now excluded cycle_time lead_time blocked_time
                   (stored once done; else recomputed from the stored
                   spells at --now) blocked_spells (the tpit row's, when
                   the ticket was ever in progress) flagged_at_creation
  history          transitions (t, id, from, to) and flags (t, id, on)

The stored set must be exactly the tickets the walk is to collect: updated
at or after --since, or not done (status category), however old.

  compare_jira.py --dump FILE --truth FILE --source NAME --now EPOCH
                  --since EPOCH [--incomplete-ok] [--quiet]

Exit 0 when everything matches; else 1 with one line per difference (the
first 40) on stdout. --incomplete-ok: tickets stored flagged incomplete
(a changelog that stayed short) are checked for their fields only.
Floats compare with |a - b| <= 1e-6 (times are whole seconds here).
"""

import argparse
import json
import re
import sys

STAGES = {0: "todo", 1: "in_progress", 2: "done"}
TKF_INCOMPLETE = 0x2


def undump(s):
    """The dump's escaping (\\xHH, \\\\) back to bytes, then UTF-8."""
    out = bytearray()
    i = 0
    b = s.encode("utf-8")
    while i < len(b):
        c = b[i]
        if c == 0x5C and i + 1 < len(b):
            if b[i + 1] == 0x5C:
                out.append(0x5C)
                i += 2
                continue
            if b[i + 1] == ord("x") and i + 3 < len(b):
                out.append(int(b[i + 2:i + 4], 16))
                i += 4
                continue
        out.append(c)
        i += 1
    return out.decode("utf-8")


def unesc(f):
    """A packed text field: '%' alone is None, %XX escapes."""
    if f == "%":
        return None
    return re.sub(r"%([0-9A-F]{2})",
                  lambda m: chr(int(m.group(1), 16)), f)


def text_list(f):
    if f == "":
        return []
    return [unesc(x) for x in f.split(",")]


def num(f):
    return None if f == "" else int(f)


def parse_dump(path, source):
    """{key: {"f": str, "hist": str, "rows": str}} of one source."""
    tickets = {}
    cur = None
    pat = re.compile(r"^hash ticket:\{jira:%s\}:(.+)$" % re.escape(source))
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line.startswith("  "):
                m = pat.match(line)
                cur = tickets.setdefault(m.group(1), {}) if m else None
                continue
            if cur is None:
                continue
            k, sep, v = line[2:].partition(" = ")
            if sep:
                cur[k] = undump(v)
    return tickets


def parse_hist(s):
    """src/ticket.c's packed history -> (transitions, flags)."""
    lines = s.split("\n")
    if lines[0] != "h1":
        raise ValueError("history does not start with h1: %r" % s[:20])
    t = hid = 0
    trs, flags = [], []
    prev_to = None
    for ln in lines[1:]:
        m = re.match(r"^([sf])(-?\d+):(-?\d+)(.*)$", ln)
        if not m:
            raise ValueError("bad history line %r" % ln)
        t += int(m.group(2))
        hid += int(m.group(3))
        rest = m.group(4)
        if m.group(1) == "f":
            bits = int(rest[1:]) if rest.startswith("!") else 0
            flags.append({"t": t, "id": str(hid), "on": bool(bits & 1),
                          "from_set": bool(bits & 2)})
            continue
        toks = [unesc(x) for x in rest[1:].split(" ")]
        to = (toks[0], toks[1])
        frm = (toks[2], toks[3]) if len(toks) >= 4 else prev_to
        trs.append({"t": t, "id": str(hid), "from": frm[1], "to": to[1]})
        prev_to = to
    return trs, flags


def parse_spells(f, base):
    out = []
    if f == "":
        return out
    for sp in f.split(","):
        a, _, b = sp.partition("~")
        out.append([base + int(a), None if b == "" else base + int(b)])
    return out


def decode(key, rec):
    f = rec["f"].split("|")
    if len(f) != 29:
        raise ValueError("%s: f has %d values, not 18 + 11" % (key, len(f)))
    created = num(f[15])
    sp = f[13]
    d = {
        "key": key, "id": unesc(f[0]), "project": unesc(f[1]),
        "type": unesc(f[4]), "priority": unesc(f[5]),
        "status_id": unesc(f[6]), "status": unesc(f[7]),
        "assignee": unesc(f[8]), "assignee_name": unesc(f[9]),
        "labels": text_list(f[10]), "components": text_list(f[11]),
        "parent": unesc(f[12]),
        "story_points": None if sp == "" else float(sp),
        "flagged_now": f[14] == "1", "created_at": created,
        "updated_at": num(f[16]), "incomplete": f[17] == "1",
        "initial_status": unesc(f[18]),
        "started_at": None if f[19] == "" else created + int(f[19]),
        "done_at": None if f[20] == "" else created + int(f[20]),
        "reopen_count": int(f[21]), "stage": STAGES[int(f[22])],
        "blocked_now": f[23] == "1", "excluded": f[24] == "1",
        "unknown_status": f[25] == "1",
        "blocked_secs": num(f[26]), "cycle_secs": num(f[27]),
        "lead_secs": num(f[28]),
    }
    d["transitions"], d["flags"] = parse_hist(rec.get("hist", "h1"))
    d["tpit"] = None
    for row in rec.get("rows", "").split("\n"):
        if row.startswith("t "):
            r = row[2:].split("|")
            base = int(r[6])
            d["tpit"] = {"started": base,
                         "in_progress": parse_spells(r[7], base),
                         "blocked": parse_spells(r[8], base)}
    return d


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-6


def blocked_time(spells, started, done, now):
    if started is None:
        return None
    end = done if done is not None else now
    total = 0
    for s, e in spells:
        e = now if e is None else e
        lo, hi = max(s, started), min(e, end)
        if hi > lo:
            total += hi - lo
    return float(total)


def compare(got, want, now, diffs):
    k = got["key"]

    def eq(name, a, b):
        if a != b:
            diffs.append("%s %s: stored %r, truth %r" % (k, name, a, b))

    def near(name, a, b):
        if not close(a, b):
            diffs.append("%s %s: stored %r, truth %r" % (k, name, a, b))

    for name in ("id", "project", "type", "priority", "status", "assignee",
                 "assignee_name", "labels", "components", "parent",
                 "created_at", "updated_at", "flagged_now"):
        eq(name, got[name], want[name])
    near("story_points", got["story_points"], want["story_points"])
    if got["incomplete"] and ARGS.incomplete_ok:
        return
    eq("transitions", got["transitions"], want["transitions"])
    eq("flags", [{"t": f["t"], "id": f["id"], "on": f["on"]}
                 for f in got["flags"]], want["flags"])
    fl = got["flags"]
    eq("flagged_at_creation",
       fl[0]["from_set"] if fl else got["flagged_now"],
       want["flagged_at_creation"])
    for name in ("initial_status", "started_at", "done_at", "reopen_count",
                 "stage", "blocked_now", "excluded"):
        eq(name, got[name], want[name])
    days = lambda s: None if s is None else s / 86400.0  # noqa: E731
    near("cycle_time", days(got["cycle_secs"]), want["cycle_time"])
    near("lead_time", days(got["lead_secs"]), want["lead_time"])
    tp = got["tpit"]
    if tp is not None:
        eq("blocked_spells", tp["blocked"], want["blocked_spells"])
    if got["done_at"] is not None:
        near("blocked_time", got["blocked_secs"], want["blocked_time"])
    elif tp is not None:
        near("blocked_time", blocked_time(tp["blocked"], got["started_at"],
                                          None, now), want["blocked_time"])
    if got["unknown_status"] and want["stage"] != "todo" and \
            got["stage"] == "todo":
        diffs.append("%s: unknown status made todo, truth %s"
                     % (k, want["stage"]))


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", required=True)
    ap.add_argument("--truth", required=True)
    ap.add_argument("--source", default="jira")
    ap.add_argument("--now", type=int, required=True)
    ap.add_argument("--since", type=int, required=True)
    ap.add_argument("--incomplete-ok", action="store_true")
    ap.add_argument("--quiet", action="store_true")
    ARGS = ap.parse_args()
    with open(ARGS.truth, encoding="utf-8") as fh:
        truth = json.load(fh)["tickets"]
    stored = parse_dump(ARGS.dump, ARGS.source)
    want_keys = {k for k, t in truth.items()
                 if t["updated_at"] >= ARGS.since or
                 t["status_category"] != "done"}
    diffs = []
    for k in sorted(want_keys - set(stored)):
        diffs.append("%s: in truth (updated %d, %s), not stored"
                     % (k, truth[k]["updated_at"],
                        truth[k]["status_category"]))
    for k in sorted(set(stored) - want_keys):
        diffs.append("%s: stored, but the walk should not collect it" % k)
    incomplete = 0
    for k in sorted(set(stored) & want_keys):
        try:
            got = decode(k, stored[k])
        except (ValueError, KeyError, IndexError) as e:
            diffs.append("%s: does not decode: %s" % (k, e))
            continue
        incomplete += got["incomplete"]
        compare(got, truth[k], ARGS.now, diffs)
    for d in diffs[:40]:
        print(d)
    if len(diffs) > 40:
        print("... and %d more" % (len(diffs) - 40))
    if not ARGS.quiet:
        print("# %d tickets stored, %d expected, %d incomplete, %d "
              "differences" % (len(stored), len(want_keys), incomplete,
                               len(diffs)))
    return 1 if diffs else 0


ARGS = None

if __name__ == "__main__":
    sys.exit(main())
