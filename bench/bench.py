#!/usr/bin/env python3
"""bench.py - the benchmark driver behind `make bench` (bench/run.sh).

Measures the figures the issues ask for (bench/README.md explains each one)
against a throw-away redis-server and the API simulator, both on free ports
of 127.0.0.1 and stopped however the run ends, prints the table on stdout
and rewrites bench/RESULTS.md with it: one row per figure (name, value,
unit, target, scale, date, machine). It is not a timed test: it never
fails because a figure misses its target; it exits 1 only when it could
not run at all (no binary, no redis-server).

Phases, each printed to stderr as it starts:
  1. small scale (5 x 200 PRs, 2 x 300 tickets): collect GitHub, then
     Jira Cloud; the CPU and peak RSS of each (the reference point for
     "memory does not grow with history");
  2. large scale (100 x 1000 PRs, 10 x 5000 tickets): the simulator's
     start-up and its 100-PR page; a full GitHub sync (requests per PR,
     CPU, peak RSS, Redis growth), a run with nothing changed (quota), a
     full Jira Cloud sync (the same figures);
  3. on that large store: `query` (a year by week, 90 days by repo) and
     `report` (one week with its trend), wall time as the median of
     several runs, peak RSS as the largest.

CPU and peak RSS are the bellwether process's own, from wait4(2)'s rusage
(user + sys, ru_maxrss) in a small wrapper process (see WRAPPER); wall
times come from a monotonic clock around fork/exec to exit, in the same
wrapper. Requests and quota come from the simulator's /__stats,
Redis memory from INFO memory's used_memory before and after a collect.
A command that does not exist yet (another helper is still writing it)
gives "n/a (command not available yet)" rows, so the table fills in as
they land. Everything runs with BELLWETHER_NOW set to the simulator's
now, so the simulated year and the report's week are the same each run.

Options (bench/run.sh passes its arguments and the BENCH_* variables):
  --large SCALE   the large scale (default large; REPOSxPRS for a smaller
                  run, e.g. 20x1000, recorded as such in the scale column)
  --small SCALE   the small scale (default small)
  --runs N        timed runs of each query and of the report (default 7)
  --out FILE      the results file (default bench/RESULTS.md; - for none)
  --bin FILE      the binary (default ./bellwether)
  --keep          keep the temp dir (configs, logs, Redis) for a look
"""

import argparse
import datetime
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APISIM = os.path.join(ROOT, "tests", "apisim", "apisim")
SINCE = "2025-01-01"        # before the simulated year: collect all of it
SEED = 1
NA_MISSING = "n/a (command not available yet)"

# per-phase limits (seconds): the whole `make bench` stays near 30 minutes
# even when something hangs
T_SIM_START = 120
T_COLLECT_SMALL = 300
T_COLLECT_LARGE = 1500
T_COLLECT_JIRA = 900
T_QUERY = 60
T_REPORT = 120

T0 = time.monotonic()


def log(msg):
    sys.stderr.write("[bench %4.0fs] %s\n" % (time.monotonic() - T0, msg))
    sys.stderr.flush()


# ---- processes -------------------------------------------------------------

class Procs:
    """Every server this run started, stopped however it ends."""

    def __init__(self):
        self.procs = []

    def add(self, p):
        self.procs.append(p)
        return p

    def stop(self, p):
        if p is None or p.poll() is not None:
            return
        p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

    def stop_all(self):
        for p in reversed(self.procs):
            self.stop(p)
        self.procs = []


PROCS = Procs()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# The measuring wrapper: a fresh `python3 -I -S` that forks bellwether and
# reports its rusage. Why not wait4() from this process: Linux keeps the
# larger of the RSS high-water marks across fork and exec, so a child of
# this (large) process would report this process's RSS as its peak. The
# wrapper is ~7 MB, below anything bellwether reaches (its libraries alone
# are ~11 MB), so ru_maxrss is bellwether's own. It also times the child
# itself (fork to exit, no interpreter start-up in the figure) and kills
# it after the time limit.
WRAPPER = r"""
import os, signal, sys, time
res, limit, argv = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
t0 = time.monotonic()
pid = os.fork()
if pid == 0:
    try:
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
timed_out = []
def alarm(signum, frame):
    timed_out.append(1)
    os.kill(pid, signal.SIGKILL)
def term(signum, frame):
    os.kill(pid, signal.SIGKILL)
signal.signal(signal.SIGALRM, alarm)
signal.signal(signal.SIGTERM, term)
signal.setitimer(signal.ITIMER_REAL, limit)
while True:
    try:
        _, status, ru = os.wait4(pid, 0)
        break
    except InterruptedError:
        continue
wall = time.monotonic() - t0
signal.setitimer(signal.ITIMER_REAL, 0)
with open(res, "w") as f:
    f.write("%d %.6f %.6f %.6f %d %d\n" % (
        os.waitstatus_to_exitcode(status), wall, ru.ru_utime, ru.ru_stime,
        ru.ru_maxrss, len(timed_out)))
"""


def measure(argv, env, timeout, out_path):
    """Run argv through WRAPPER: its exit status, wall seconds, user and
    sys CPU seconds, peak RSS (KiB) and stderr (out_path.err)."""
    res = out_path + ".rusage"
    err_path = out_path + ".err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        p = subprocess.Popen([sys.executable, "-I", "-S", "-c", WRAPPER, res,
                              str(timeout)] + argv, env=env, stdout=out,
                             stderr=err, stdin=subprocess.DEVNULL, cwd=ROOT)
        try:
            p.wait(timeout=timeout + 30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    with open(err_path, "rb") as f:
        stderr = f.read().decode("utf-8", "replace")
    try:
        with open(res) as f:
            rc, wall, user, sys_, rss, to = f.read().split()
    except (OSError, ValueError):
        return {"rc": -1, "wall": 0.0, "cpu": 0.0, "user": 0.0, "sys": 0.0,
                "maxrss_kib": 0, "stderr": stderr or "the wrapper failed",
                "timed_out": p.returncode != 0}
    return {"rc": int(rc), "wall": float(wall),
            "cpu": float(user) + float(sys_), "user": float(user),
            "sys": float(sys_), "maxrss_kib": int(rss), "stderr": stderr,
            "timed_out": to == "1"}


def failure(r):
    """Why a measured run does not count, as an n/a value."""
    if r["timed_out"]:
        return "n/a (timed out)"
    if re.search(r"not implemented|unknown command|unknown source type|"
                 r"unknown collector|no collector", r["stderr"], re.I):
        return NA_MISSING
    first = ""
    for line in r["stderr"].splitlines():
        if line.strip():
            first = line.strip()
            if line.startswith("error"):
                break
    first = first.replace("|", "/")[:90]
    return "n/a (exit %d: %s)" % (r["rc"], first)


# ---- redis-server ----------------------------------------------------------

class Redis:
    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "redis")
        os.makedirs(self.dir)
        self.proc = None
        self.port = None
        for _ in range(5):
            self.port = free_port()
            conf = os.path.join(self.dir, "redis.conf")
            with open(conf, "w") as f:
                f.write("port %d\nbind 127.0.0.1\nprotected-mode yes\n"
                        "save \"\"\nappendonly no\ndir %s\n"
                        "daemonize no\nlogfile \"\"\n" % (self.port, self.dir))
            logf = open(os.path.join(self.dir, "redis.log"), "ab")
            self.proc = PROCS.add(subprocess.Popen(
                ["redis-server", conf], stdout=logf, stderr=logf,
                stdin=subprocess.DEVNULL))
            logf.close()
            for _ in range(100):
                if self.proc.poll() is not None:
                    break
                if self.cli("ping").strip() == "PONG":
                    self.url = "redis://127.0.0.1:%d" % self.port
                    return
                time.sleep(0.1)
            PROCS.stop(self.proc)
        raise RuntimeError("cannot start redis-server (see %s/redis.log)"
                           % self.dir)

    def cli(self, *args):
        try:
            return subprocess.run(
                ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port)] +
                list(args), capture_output=True, text=True,
                timeout=120).stdout
        except subprocess.TimeoutExpired:
            return ""

    def used_memory(self):
        m = re.search(r"^used_memory:(\d+)", self.cli("info", "memory"), re.M)
        return int(m.group(1)) if m else None

    def count_keys(self, pattern, regex):
        out = self.cli("--scan", "--pattern", pattern)
        rx = re.compile(regex)
        return sum(1 for k in out.splitlines() if rx.match(k))


# ---- the API simulator -----------------------------------------------------

class Sim:
    def __init__(self, tmp, scale):
        self.scale = scale
        d = tempfile.mkdtemp(prefix="apisim.", dir=tmp)
        self.out_path = os.path.join(d, "stdout")
        out = open(self.out_path, "wb")
        err = open(os.path.join(d, "stderr"), "wb")
        t0 = time.monotonic()
        self.proc = PROCS.add(subprocess.Popen(
            [sys.executable, APISIM, "--port", "0", "--seed", str(SEED),
             "--scale", scale, "--jira-flavor", "cloud"],
            stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=ROOT))
        out.close()
        err.close()
        self.url = None
        while time.monotonic() - t0 < T_SIM_START:
            if self.proc.poll() is not None:
                break
            with open(self.out_path) as f:
                m = re.search(r"apisim listening on 127\.0\.0\.1:(\d+)",
                              f.read())
            if m:
                self.port = int(m.group(1))
                self.url = "http://127.0.0.1:%d" % self.port
                try:
                    self.now = int(self.get("/__clock")["now"])
                    break
                except OSError:
                    pass
            time.sleep(0.05)
        self.start_s = time.monotonic() - t0
        if self.url is None or not hasattr(self, "now"):
            with open(os.path.join(d, "stderr")) as f:
                tail = f.read()[-600:]
            raise RuntimeError("the simulator (--scale %s) did not start: %s"
                               % (scale, tail))

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=60) as r:
            return json.load(r)

    def post(self, path):
        req = urllib.request.Request(self.url + path, data=b"",
                                     method="POST")
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.load(r)

    def stats(self):
        return self.get("/__stats")

    def reset(self):
        self.post("/__reset")

    def repos(self):
        req = urllib.request.Request(self.url + "/orgs/acme/repos?per_page=100",
                                     headers={"Authorization":
                                              "Bearer bench"})
        with urllib.request.urlopen(req, timeout=60) as r:
            return [x["full_name"] for x in json.load(r) if not x["archived"]]

    def projects(self):
        return [p["key"] for p in self.get("/rest/api/2/project")]

    def page_ms(self, repo, runs=21):
        """Median and max wall ms of one 100-PR list page over a keep-alive
        connection, the request the collector sends first."""
        path = ("/repos/%s/pulls?state=all&sort=updated&direction=desc"
                "&per_page=100&page=1" % repo)
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        times, size = [], 0
        try:
            for i in range(runs + 2):
                t0 = time.monotonic()
                c.request("GET", path, headers={"Authorization":
                                                "Bearer bench"})
                r = c.getresponse()
                body = r.read()
                dt = (time.monotonic() - t0) * 1000
                if r.status != 200:
                    raise RuntimeError("status %d" % r.status)
                size = len(body)
                if i >= 2:
                    times.append(dt)
        finally:
            c.close()
        self.post("/__reset")   # those requests are not the collector's
        return statistics.median(times), max(times), size

    def stop(self):
        PROCS.stop(self.proc)


# ---- the table -------------------------------------------------------------

class Row:
    def __init__(self, key, name, unit, op, target, scale):
        self.key, self.name, self.unit = key, name, unit
        self.op, self.target, self.scale = op, target, scale
        self.value = None       # a number, or None with self.na
        self.na = "n/a (not measured: an earlier step failed)"
        self.fmt = "%.2f"

    def set(self, value, fmt=None):
        self.value = value
        if fmt:
            self.fmt = fmt

    def fail(self, why):
        self.value = None
        self.na = why

    def met(self):
        if self.value is None or self.op is None:
            return None
        return {"<=": self.value <= self.target,
                "<": self.value < self.target,
                "==": self.value == self.target}[self.op]

    def value_text(self):
        return self.na if self.value is None else self.fmt % self.value

    def target_text(self):
        if self.op is None:
            return "(info)"
        sym = {"<=": "≤", "<": "<", "==": "="}[self.op]
        t = "%s %s" % (sym, ("%g" % self.target))
        m = self.met()
        if m is None:
            return t
        return t + (" (met)" if m else " (MISSED)")


class Table:
    def __init__(self, date, machine):
        self.rows = []
        self.by_key = {}
        self.date, self.machine = date, machine

    def row(self, key, name, unit, op, target, scale):
        r = Row(key, name, unit, op, target, scale)
        self.rows.append(r)
        self.by_key[key] = r
        return r

    def __getitem__(self, key):
        return self.by_key[key]

    def fail(self, keys, why):
        for k in keys:
            self.by_key[k].fail(why)

    def markdown(self):
        lines = ["| figure | value | unit | target | scale | date | machine |",
                 "|:--|--:|:--|:--|:--|:--|:--|"]
        for r in self.rows:
            lines.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                r.name, r.value_text(), r.unit, r.target_text(), r.scale,
                self.date, self.machine))
        return "\n".join(lines)


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return f.read().split()[0]
    except OSError:
        return "?"


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d CPUs, %s" % (platform.machine(), os.cpu_count() or 0,
                                model.replace("|", "/"))


# ---- configs ---------------------------------------------------------------

def write_conf(path, redis, gh=None, jira=None, teams=False):
    """An INI with the sources given: gh = the simulator's URL, jira =
    (URL, [project keys])."""
    parts = ["[redis]\nurl = %s\nprefix = bw:\n" % redis.url]
    if gh:
        parts.append("[source gh]\ntype = github\napi_url = %s\norg = acme\n"
                     "token_env = BENCH_GITHUB_TOKEN\nsince = %s\n"
                     % (gh, SINCE))
    if jira:
        parts.append("[source jira]\ntype = jira\nurl = %s\nflavor = cloud\n"
                     "projects = %s\ntoken_env = BENCH_JIRA_TOKEN\n"
                     "since = %s\n" % (jira[0], ", ".join(jira[1]), SINCE))
    if teams:
        # two teams, as a real config has: the report then has a section
        # per team, as it would in use
        parts.append("[team platform]\nrepos = acme/api, acme/infra, "
                     "acme/auth\n%s" % ("projects = OPS, INFRA\n"
                                        if jira else ""))
        parts.append("[team product]\nrepos = acme/web, acme/mobile, "
                     "acme/billing\n%s" % ("projects = WEB, MOB, PAY\n"
                                           if jira else ""))
    with open(path, "w") as f:
        f.write("\n".join(parts))
    return path


def iso_week(d):
    y, w, _ = d.isocalendar()
    return "%d-W%02d" % (y, w)


# ---- the phases ------------------------------------------------------------

class Bench:
    def __init__(self, args, tmp, table):
        self.args, self.tmp, self.t = args, tmp, table
        self.bin = os.path.join(tmp, "bellwether")
        shutil.copy2(args.bin, self.bin)   # a rebuild mid-run changes nothing
        self.env = dict(os.environ)
        for k in ("BELLWETHER_CONFIG", "BELLWETHER_BACKOFF_BASE_MS",
                  "BELLWETHER_MIN_SECONDARY_WAIT"):
            self.env.pop(k, None)
        self.env["BENCH_GITHUB_TOKEN"] = "bench-token"
        self.env["BENCH_JIRA_TOKEN"] = "bench-token"
        self.redis = Redis(tmp)
        self.n = 0
        self.have_jira = False
        self.have_gh = False

    def run(self, conf, argv, timeout, name):
        self.n += 1
        out = os.path.join(self.tmp, "%02d-%s.out" % (self.n, name))
        return measure([self.bin, "-c", conf] + argv, self.env, timeout, out)

    def collect(self, sim, conf, source, timeout, items_pattern, items_rx):
        """One measured collect of one source into the shared Redis."""
        sim.reset()
        mem0 = self.redis.used_memory()
        r = self.run(conf, ["collect", "--source", source], timeout,
                     "collect-%s-%s" % (source, sim.scale))
        r["mem"] = self.redis.used_memory() - mem0
        r["stats"] = sim.stats()
        r["items"] = self.redis.count_keys(items_pattern, items_rx)
        return r

    def gh_collect(self, sim, conf, timeout):
        return self.collect(sim, conf, "gh", timeout, "bw:pr:*",
                            r"^bw:pr:\{gh:[^}]+\}:[0-9]+$")

    def jira_collect(self, sim, conf, timeout):
        return self.collect(sim, conf, "jira", timeout, "bw:ticket:*",
                            r"^bw:ticket:\{jira:[^}]+\}:[A-Za-z0-9_]+-[0-9]+$")

    def say(self, what, r):
        if r["rc"] == 0:
            log("  %s: %d items, %.1f s wall, %.2f s CPU (user %.2f, sys "
                "%.2f), peak RSS %.1f MiB, %d requests, Redis +%.1f MiB"
                % (what, r["items"], r["wall"], r["cpu"], r["user"],
                   r["sys"], r["maxrss_kib"] / 1024.0,
                   r["stats"]["requests"], r["mem"] / 1048576.0))
        else:
            log("  %s failed: %s" % (what, failure(r)))

    # -- phase 1
    def small(self):
        t, scale = self.t, self.args.small
        log("small scale (%s): starting the simulator" % scale)
        sim = Sim(self.tmp, scale)
        self.env["BELLWETHER_NOW"] = str(sim.now)
        try:
            gh = write_conf(os.path.join(self.tmp, "gh-small.ini"),
                            self.redis, gh=sim.url)
            log("small scale: GitHub collect")
            r = self.gh_collect(sim, gh, T_COLLECT_SMALL)
            self.say("github small", r)
            keys = ["gh_rss_small", "gh_cpu_small", "gh_rss_flat"]
            if r["rc"] != 0 or r["items"] == 0:
                t.fail(keys, failure(r) if r["rc"] else
                       "n/a (no PR stored)")
            else:
                t["gh_rss_small"].set(r["maxrss_kib"] / 1024.0, "%.1f")
                t["gh_cpu_small"].set(r["cpu"] / r["items"] * 1000, "%.3f")
            projects = sim.projects()
            jc = write_conf(os.path.join(self.tmp, "jira-small.ini"),
                            self.redis, jira=(sim.url, projects))
            log("small scale: Jira Cloud collect (%s)" % ", ".join(projects))
            r = self.jira_collect(sim, jc, T_COLLECT_SMALL)
            self.say("jira small", r)
            keys = ["jira_rss_small", "jira_cpu_small", "jira_rss_flat"]
            if r["rc"] != 0 or r["items"] == 0:
                t.fail(keys, failure(r) if r["rc"] else
                       "n/a (no ticket stored)")
            else:
                t["jira_rss_small"].set(r["maxrss_kib"] / 1024.0, "%.1f")
                t["jira_cpu_small"].set(r["cpu"] / r["items"] * 1000, "%.3f")
        finally:
            sim.stop()
        self.redis.cli("flushall")

    # -- phase 2
    def large(self):
        t, scale = self.t, self.args.large
        log("large scale (%s): starting the simulator (generating takes "
            "a while)" % scale)
        sim = Sim(self.tmp, scale)
        self.sim = sim
        self.env["BELLWETHER_NOW"] = str(sim.now)
        log("  simulator ready in %.1f s" % sim.start_s)
        t["sim_start"].set(sim.start_s, "%.1f")
        try:
            med, mx, size = sim.page_ms("acme/api")
            log("  100-PR page: median %.1f ms, max %.1f ms, %d bytes"
                % (med, mx, size))
            t["sim_page"].set(med, "%.1f")
        except (OSError, RuntimeError, ValueError) as e:
            t["sim_page"].fail("n/a (%s)" % e)
        nrepos = len(sim.repos())
        gh = write_conf(os.path.join(self.tmp, "gh-large.ini"), self.redis,
                        gh=sim.url)
        log("large scale: GitHub full sync of %d repositories (minutes: "
            "the simulator serves ~2k requests/s)" % nrepos)
        r = self.gh_collect(sim, gh, T_COLLECT_LARGE)
        self.say("github large", r)
        keys = ["gh_req_per_pr", "gh_cpu_large", "gh_rss_large",
                "gh_rss_flat", "gh_redis_per_pr", "gh_wall", "sim_rate",
                "gh_nochange_quota", "gh_nochange_requests"]
        if r["rc"] != 0 or r["items"] == 0:
            t.fail(keys, failure(r) if r["rc"] else "n/a (no PR stored)")
        else:
            self.have_gh = True
            n = r["items"]
            self.gh_items = n
            t["gh_req_per_pr"].set(r["stats"]["requests"] / n, "%.3f")
            t["gh_cpu_large"].set(r["cpu"] / n * 1000, "%.3f")
            t["gh_rss_large"].set(r["maxrss_kib"] / 1024.0, "%.1f")
            small = t["gh_rss_small"].value
            if small:
                t["gh_rss_flat"].set(
                    abs(r["maxrss_kib"] / 1024.0 - small) / small * 100,
                    "%.1f")
            t["gh_redis_per_pr"].set(r["mem"] / n, "%.0f")
            t["gh_wall"].set(r["wall"], "%.0f")
            t["sim_rate"].set(r["stats"]["requests"] / r["wall"], "%.0f")
            log("large scale: GitHub run with nothing changed")
            r2 = self.gh_collect(sim, gh, T_COLLECT_SMALL)
            if r2["rc"] != 0:
                t.fail(["gh_nochange_quota", "gh_nochange_requests"],
                       failure(r2))
            else:
                s = r2["stats"]
                log("  no-change run: %d requests, %d answered 304, quota "
                    "used %d, %.2f s wall" % (s["requests"],
                                              s["not_modified"],
                                              s["quota_used"], r2["wall"]))
                t["gh_nochange_quota"].set(s["quota_used"], "%d")
                t["gh_nochange_requests"].set(s["requests"], "%d")
        projects = sim.projects()
        jc = write_conf(os.path.join(self.tmp, "jira-large.ini"), self.redis,
                        jira=(sim.url, projects))
        log("large scale: Jira Cloud full sync of %d projects"
            % len(projects))
        r = self.jira_collect(sim, jc, T_COLLECT_JIRA)
        self.say("jira large", r)
        keys = ["jira_req_per_100", "jira_cpu_large", "jira_rss_large",
                "jira_rss_flat", "jira_redis_per_ticket", "jira_wall"]
        if r["rc"] != 0 or r["items"] == 0:
            t.fail(keys, failure(r) if r["rc"] else
                   "n/a (no ticket stored)")
        else:
            self.have_jira = True
            n = r["items"]
            self.jira_items = n
            t["jira_req_per_100"].set(r["stats"]["requests"] / n * 100,
                                      "%.3f")
            t["jira_cpu_large"].set(r["cpu"] / n * 1000, "%.3f")
            t["jira_rss_large"].set(r["maxrss_kib"] / 1024.0, "%.1f")
            small = t["jira_rss_small"].value
            if small:
                t["jira_rss_flat"].set(
                    abs(r["maxrss_kib"] / 1024.0 - small) / small * 100,
                    "%.1f")
            t["jira_redis_per_ticket"].set(r["mem"] / n, "%.0f")
            t["jira_wall"].set(r["wall"], "%.0f")
        self.projects = projects

    # -- phase 3
    def timed(self, conf, argv, timeout, name):
        """A warm-up run, then --runs timed ones: (median wall, max peak
        RSS KiB, None) or (None, None, why)."""
        r = self.run(conf, argv, timeout, name)
        if r["rc"] != 0:
            return None, None, failure(r)
        walls, rss = [], r["maxrss_kib"]
        for _ in range(self.args.runs):
            r = self.run(conf, argv, timeout, name)
            if r["rc"] != 0:
                return None, None, failure(r)
            walls.append(r["wall"])
            rss = max(rss, r["maxrss_kib"])
        log("  %s: median %.3f s (min %.3f, max %.3f), peak RSS %.1f MiB"
            % (name, statistics.median(walls), min(walls), max(walls),
               rss / 1024.0))
        return statistics.median(walls), rss, None

    def read_side(self):
        t = self.t
        if not self.have_gh:
            t.fail(["query_week", "query_repo", "report_wall", "report_rss"],
                   "n/a (no data: the large GitHub collect failed)")
            return
        sim = self.sim
        conf = write_conf(os.path.join(self.tmp, "all-large.ini"), self.redis,
                          gh=sim.url,
                          jira=(sim.url, self.projects) if self.have_jira
                          else None, teams=True)
        now = datetime.datetime.fromtimestamp(sim.now, datetime.timezone.utc)
        # the last complete ISO week before now, and the 52 weeks up to it
        monday = (now - datetime.timedelta(days=now.weekday())).date()
        last = monday - datetime.timedelta(days=1)
        week = iso_week(last)
        first = iso_week(last - datetime.timedelta(weeks=51))
        d90 = last - datetime.timedelta(days=89)

        argv = ["query", "pr_cycle_time", "--by", "week", "--stat",
                "p50,p85", "--from", first, "--to", week]
        log("query: %s" % " ".join(argv))
        med, _, why = self.timed(conf, argv, T_QUERY, "query-week")
        if why:
            t["query_week"].fail(why)
        else:
            t["query_week"].set(med * 1000, "%.0f")
        argv = ["query", "pr_cycle_time", "--by", "repo", "--from",
                d90.isoformat(), "--to", last.isoformat()]
        log("query: %s" % " ".join(argv))
        med, _, why = self.timed(conf, argv, T_QUERY, "query-repo")
        if why:
            t["query_repo"].fail(why)
        else:
            t["query_repo"].set(med * 1000, "%.0f")
        out = os.path.join(self.tmp, "report.md")
        argv = ["report", "--week", week, "--format", "md", "--out", out]
        log("report: %s" % " ".join(argv))
        med, rss, why = self.timed(conf, argv, T_REPORT, "report")
        if why:
            t.fail(["report_wall", "report_rss"], why)
        else:
            t["report_wall"].set(med, "%.3f")
            t["report_rss"].set(rss / 1024.0, "%.1f")


def scale_label(kind, scale):
    named = {"gh": {"tiny": "1×20", "small": "5×200", "large": "100×1000"},
             "jira": {"tiny": "1×20", "small": "2×300", "large": "10×5000"}}
    s = scale.lower()
    if s in named[kind]:
        return "%s (%s)" % (s, named[kind][s])
    return s.replace("x", "×")


def build_table(args, date):
    t = Table(date, machine())
    gl = "GitHub " + scale_label("gh", args.large)
    gs = "GitHub " + scale_label("gh", args.small)
    jl = "Jira Cloud " + scale_label("jira", args.large)
    js = "Jira Cloud " + scale_label("jira", args.small)
    both = "%s + %s, a year" % (gl, jl)
    sim = "simulator " + args.large
    t.row("sim_start", "simulator: large scale generated and serving",
          "s", "<", 30, sim)
    t.row("sim_page", "simulator: one 100-PR list page (median)", "ms",
          "<", 50, sim)
    t.row("gh_req_per_pr", "GitHub full sync: API requests per PR",
          "requests/PR", "<=", 2.05, gl)
    t.row("gh_nochange_quota", "GitHub run with nothing changed: quota used",
          "requests", "==", 0, gl)
    t.row("gh_nochange_requests",
          "GitHub run with nothing changed: requests sent (all 304)",
          "requests", None, None, gl)
    t.row("gh_cpu_large", "GitHub full sync: collector CPU (user+sys)",
          "s/1000 PRs", "<=", 0.4, gl)
    t.row("gh_cpu_small", "GitHub full sync: collector CPU (user+sys)",
          "s/1000 PRs", "<=", 0.4, gs)
    t.row("gh_rss_large", "GitHub full sync: collector peak RSS", "MiB",
          "<=", 32, gl)
    t.row("gh_rss_small", "GitHub full sync: collector peak RSS", "MiB",
          "<=", 32, gs)
    t.row("gh_rss_flat", "GitHub peak RSS: large vs small", "% difference",
          "<=", 10, "%s vs %s" % (args.large, args.small))
    t.row("gh_redis_per_pr", "GitHub full sync: Redis used_memory growth",
          "bytes/PR", "<=", 2048, gl)
    t.row("gh_wall", "GitHub full sync: wall time (simulator-bound)", "s",
          None, None, gl)
    t.row("sim_rate", "simulator: requests served during that sync",
          "requests/s", None, None, gl)
    t.row("jira_req_per_100", "Jira Cloud full sync: API requests",
          "requests/100 tickets", "<=", 1.2, jl)
    t.row("jira_cpu_large", "Jira Cloud full sync: collector CPU "
          "(user+sys)", "s/1000 tickets", "<=", 0.4, jl)
    t.row("jira_cpu_small", "Jira Cloud full sync: collector CPU "
          "(user+sys)", "s/1000 tickets", "<=", 0.4, js)
    t.row("jira_rss_large", "Jira Cloud full sync: collector peak RSS",
          "MiB", "<=", 32, jl)
    t.row("jira_rss_small", "Jira Cloud full sync: collector peak RSS",
          "MiB", "<=", 32, js)
    t.row("jira_rss_flat", "Jira peak RSS: large vs small", "% difference",
          "<=", 10, "%s vs %s" % (args.large, args.small))
    t.row("jira_redis_per_ticket", "Jira Cloud full sync: Redis used_memory "
          "growth", "bytes/ticket", "<=", 2048, jl)
    t.row("jira_wall", "Jira Cloud full sync: wall time (simulator-bound)",
          "s", None, None, jl)
    t.row("report_wall", "report: one week with its trend, md (median)", "s",
          "<=", 1, both)
    t.row("report_rss", "report: peak RSS", "MiB", "<=", 64, both)
    t.row("query_week", "query pr_cycle_time --by week --stat p50,p85, a "
          "year (median)", "ms", "<=", 100, gl)
    t.row("query_repo", "query pr_cycle_time --by repo, 90 days (median)",
          "ms", "<=", 100, gl)
    return t


def write_results(path, t, notes):
    text = ["# Benchmark results", "",
            "Written by `make bench` (bench/run.sh, bench/bench.py); "
            "bench/README.md explains how each figure is measured. Values "
            "are those of the last run; rows that say n/a could not be "
            "measured, and why.", "", t.markdown(), ""]
    if notes:
        text += ["Notes:", ""] + ["- " + n for n in notes] + [""]
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(text))
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--large", default=os.environ.get("BENCH_LARGE",
                                                      "large"))
    ap.add_argument("--small", default=os.environ.get("BENCH_SMALL",
                                                      "small"))
    ap.add_argument("--runs", type=int, default=int(os.environ.get(
        "BENCH_RUNS", "7")))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench",
                                                  "RESULTS.md"))
    ap.add_argument("--bin", default=os.path.join(ROOT, "bellwether"))
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if not re.match(r"^(tiny|small|large|\d+x\d+)$", args.large) or \
            not re.match(r"^(tiny|small|large|\d+x\d+)$", args.small):
        sys.stderr.write("error: a scale is tiny, small, large or REPOSxPRS\n")
        return 2
    if not os.access(args.bin, os.X_OK):
        sys.stderr.write("error: '%s' is not built; run make\n" % args.bin)
        return 1
    for tool in ("redis-server", "redis-cli"):
        if shutil.which(tool) is None:
            sys.stderr.write("error: %s not found; run 'sh scripts/"
                             "bootstrap.sh test'\n" % tool)
            return 1

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    load0 = loadavg()
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    table = build_table(args, date)
    notes = []
    tmp = tempfile.mkdtemp(prefix="bw-bench.")
    rc = 0
    try:
        b = Bench(args, tmp, table)
        log("binary %s, Redis on port %d, temp dir %s"
            % (args.bin, b.redis.port, tmp))
        b.small()
        b.large()
        b.read_side()
    except KeyboardInterrupt:
        log("interrupted: stopping what this run started")
        notes.append("The run was interrupted; the rows not measured say "
                     "n/a.")
        rc = 130
    except (RuntimeError, OSError) as e:
        log("error: %s" % e)
        notes.append("The run stopped early: %s" % e)
        rc = 1
    finally:
        PROCS.stop_all()
        if args.keep:
            log("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    missed = [r for r in table.rows if r.met() is False]
    notes.append("Load average (1 min) when the run started: %s on %d "
                 "CPUs, which bellwether shares with the simulator and "
                 "Redis; other work on the machine shows in the CPU and "
                 "wall figures." % (load0, os.cpu_count() or 0))
    if args.large != "large":
        notes.append("The large phase ran at %s, not at the issues' large "
                     "scale (100×1000 PRs, 10×5000 tickets)." % args.large)
    for r in missed:
        notes.append("MISSED: %s, %s: %s %s, target %s %s." % (
            r.name, r.scale, r.value_text(), r.unit,
            r.target_text().replace(" (MISSED)", ""), r.unit))
    print(table.markdown())
    for n in notes:
        print("- " + n)
    if args.out != "-":
        write_results(args.out, table, notes)
        log("wrote %s (%d figures, %d missed, %d n/a) in %.0f s"
            % (os.path.relpath(args.out, ROOT), len(table.rows), len(missed),
               sum(1 for r in table.rows if r.value is None),
               time.monotonic() - T0))
    return rc


if __name__ == "__main__":
    sys.exit(main())
