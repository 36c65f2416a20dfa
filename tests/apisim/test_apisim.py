#!/usr/bin/env python3
"""Tests of the API simulator's core and GitHub half (tests/apisim/).

Run: python3 tests/apisim/test_apisim.py   (stdlib unittest, ~20 s)

They start real simulator processes on free ports and talk HTTP to them:
the command line, routing, pagination and Link headers, ETags and 304s,
quota and every fault, time moving (/__advance), determinism, the shape of
every object against the real payloads in ../shared/api-samples/github (the
conformance test; skipped with a message when ../shared is absent), and the
ground truth (/__truth) against an independent reading of METRICS.md done
here from the API's own payloads. The Jira half has test_simjira.py.
APISIM_SLOW=1 adds the large-scale generation timing.
"""

import fnmatch
import http.client
import json
import os
import re
import select
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
APISIM = os.path.join(HERE, "apisim")
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
SHARED = os.path.join(os.path.dirname(REPO_ROOT), "shared")
SAMPLES = os.path.join(SHARED, "api-samples", "github")
NOW = 1794787200

sys.path.insert(0, HERE)


class Sim:
    """One simulator process and a keep-alive connection to it."""

    def __init__(self, *args, only_gh=True, timeout=60):
        cmd = [sys.executable, APISIM, "--port", "0"] + list(args)
        if only_gh:
            cmd += ["--only", "gh"]
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                     stderr=self.err)
        deadline = time.time() + timeout
        line = b""
        while time.time() < deadline:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if r:
                line = self.proc.stdout.readline()
                break
            if self.proc.poll() is not None:
                break
        m = re.match(rb"apisim listening on 127\.0\.0\.1:(\d+)", line)
        if not m:
            self.close()
            raise RuntimeError("apisim did not start: %r %s" % (
                line, self.stderr()))
        self.port = int(m.group(1))
        self.conn = None

    def stderr(self):
        self.err.seek(0)
        return self.err.read().decode("utf-8", "replace")

    def connect(self):
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                               timeout=30)

    def req(self, method, path, headers=None, body=None):
        """-> (status, {lower-case header: value}, body bytes)"""
        for attempt in (0, 1):
            if self.conn is None:
                self.connect()
            try:
                self.conn.request(method, path, body=body,
                                  headers=headers or {})
                r = self.conn.getresponse()
                data = r.read()
                hdrs = {}
                for k, v in r.getheaders():
                    hdrs[k.lower()] = v
                if r.will_close:
                    self.conn.close()
                    self.conn = None
                return r.status, hdrs, data
            except (http.client.RemoteDisconnected, BrokenPipeError,
                    ConnectionResetError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise

    def get(self, path, headers=None):
        return self.req("GET", path, headers)

    def json(self, path, headers=None, method="GET"):
        st, h, b = self.req(method, path, headers)
        if st != 200:
            raise AssertionError("%s %s -> %d %r" % (method, path, st,
                                                     b[:300]))
        return json.loads(b.decode("utf-8"))

    def all_pages(self, path, headers=None):
        """Follow Link rel="next" like a client must; -> list."""
        out = []
        url = path
        pages = 0
        while url and pages < 100:
            st, h, b = self.get(url, headers)
            assert st == 200, (url, st, b[:200])
            out.extend(json.loads(b))
            pages += 1
            nxt = links(h.get("link")).get("next")
            url = None
            if nxt:
                u = urllib.parse.urlsplit(nxt)
                url = u.path + ("?" + u.query if u.query else "")
        return out

    def close(self):
        if self.conn is not None:
            self.conn.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc.stdout.close()
        self.err.close()


def links(header):
    """'<u>; rel="next", ...' -> {"next": u}; also keeps the order."""
    out = {}
    if not header:
        return out
    for m in re.finditer(r'<([^>]*)>;\s*rel="([^"]+)"', header):
        out[m.group(2)] = m.group(1)
    return out


def link_rels(header):
    return re.findall(r'rel="([^"]+)"', header or "")


TINY = None
SMALL = None


def setUpModule():
    global TINY, SMALL
    TINY = Sim("--scale", "tiny")
    SMALL = Sim("--scale", "small")


def tearDownModule():
    for s in (TINY, SMALL):
        if s is not None:
            s.close()


def gh_epoch(text):
    import simcommon
    return simcommon.parse_gh_time(text)


# ------------------------------------------------------------------ core

class CommandLine(unittest.TestCase):
    def test_bad_arguments_exit_2(self):
        runs = []
        for args in (["--port", "0", "--scale", "huge"],
                     ["--port", "0", "--faults", "ratelimit@x"],
                     ["--port", "0", "--faults", "teleport@3"],
                     ["--port", "0", "--faults", "5xx:2"],
                     ["--port", "0", "--prefix", "api/v3"],
                     ["--port", "0", "--jira-auth", "digest:x"],
                     []):
            runs.append((args, subprocess.Popen(
                [sys.executable, APISIM] + args, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE)))
        for args, p in runs:
            err = p.communicate(timeout=30)[1]
            self.assertEqual(p.returncode, 2, (args, err))

    def test_fault_grammar(self):
        import simcore
        fs = simcore.parse_faults("gh:ratelimit@3,5xx:0.25,slow:20,"
                                  "jira:secondary-bare@2+,auth,"
                                  "truncate@7,badjson@1+")
        kinds = [(f.kind, f.api, f.n, f.repeat, f.value) for f in fs]
        self.assertEqual(kinds, [
            ("ratelimit", "gh", 3, False, None),
            ("5xx", None, None, False, 0.25),
            ("slow", None, None, False, 20),
            ("secondary-bare", "jira", 2, True, None),
            ("auth", None, None, False, None),
            ("truncate", None, 7, False, None),
            ("badjson", None, 1, True, None)])
        f = fs[3]
        self.assertFalse(f.applies("jira", 1))
        self.assertTrue(f.applies("jira", 2))
        self.assertTrue(f.applies("jira", 9))
        self.assertFalse(f.applies("gh", 2))
        self.assertTrue(fs[0].applies("gh", 3))
        self.assertFalse(fs[0].applies("gh", 4))

    def test_scales(self):
        import simcommon
        self.assertEqual(simcommon.parse_scale("tiny"), (1, 20))
        self.assertEqual(simcommon.parse_scale("small"), (5, 200))
        self.assertEqual(simcommon.parse_scale("large"), (100, 1000))
        self.assertEqual(simcommon.parse_scale("3x7"), (3, 7))
        self.assertRaises(ValueError, simcommon.parse_scale, "0x5")

    def test_sigterm_exits_cleanly(self):
        s = Sim("--scale", "tiny")
        s.get("/__clock")
        s.proc.terminate()
        self.assertEqual(s.proc.wait(10), 0)
        s.close()


class Control(unittest.TestCase):
    def test_clock_stats_log_reset(self):
        s = Sim("--scale", "tiny")
        try:
            self.assertEqual(s.json("/__clock"), {"now": NOW})
            s.get("/repos/acme/api/pulls", {"User-Agent": "bw-test/1"})
            s.get("/repos/acme/api/pulls/1")
            s.get("/repos/acme/nope/pulls")
            s.get("/rate_limit")
            st = s.json("/__stats")
            self.assertEqual(st["requests"], 4)
            self.assertEqual(st["not_modified"], 0)
            self.assertEqual(st["quota_used"], 3)     # /rate_limit is free
            self.assertEqual(st["by_endpoint"], {
                "GET /repos/{o}/{r}/pulls": 2,
                "GET /repos/{o}/{r}/pulls/{n}": 1,
                "GET /rate_limit": 1})
            log = s.json("/__log")
            self.assertEqual(len(log), 4)
            e = log[0]
            self.assertEqual(set(e), {"t", "method", "path", "status",
                                      "user_agent", "peer"})
            self.assertEqual(e["user_agent"], "bw-test/1")
            self.assertEqual(e["path"], "/repos/acme/api/pulls")
            self.assertEqual(log[2]["status"], 404)
            self.assertRegex(e["peer"], r"^127\.0\.0\.1:\d+$")
            port = int(e["peer"].split(":")[1])
            self.assertEqual(port, s.conn.sock.getsockname()[1])
            st, _, _ = s.req("POST", "/__reset")
            self.assertEqual(st, 200)
            self.assertEqual(s.json("/__stats"),
                             {"requests": 0, "not_modified": 0,
                              "quota_used": 0, "by_endpoint": {}})
            self.assertEqual(s.json("/__log"), [])
            st, _, _ = s.get("/__nope")
            self.assertEqual(st, 404)
        finally:
            s.close()

    def test_keep_alive_and_content_length(self):
        st, h, b = TINY.get("/repos/acme/api/pulls?state=all")
        sock = TINY.conn.sock
        self.assertEqual(int(h["content-length"]), len(b))
        TINY.get("/repos/acme/api/pulls/1")
        self.assertIs(TINY.conn.sock, sock)      # same connection reused

    def test_parallel_clients(self):
        import threading
        errors = []

        def worker(k):
            c = http.client.HTTPConnection("127.0.0.1", SMALL.port,
                                           timeout=30)
            try:
                for i in range(25):
                    for p in ("/repos/acme/web/pulls?state=all&per_page=50"
                              "&page=%d" % (1 + i % 4),
                              "/repos/acme/docs/pulls/%d" % (1 + i),
                              "/repos/acme/api/issues/%d/timeline" % (i + 1)):
                        c.request("GET", p)
                        r = c.getresponse()
                        b = r.read()
                        if r.status == 200:
                            json.loads(b)
                        elif r.status != 404:
                            errors.append((p, r.status))
            except Exception as e:
                errors.append(repr(e))
            finally:
                c.close()

        ts = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        self.assertEqual(errors, [])

    def test_both_apis_when_jira_present(self):
        try:
            import simjira  # noqa: F401
        except Exception as e:
            self.skipTest("simjira.py not loadable: %r" % (e,))
        s = Sim("--scale", "tiny", only_gh=False)
        try:
            tr = s.json("/__truth")
            self.assertIn("prs", tr)
            self.assertIn("tickets", tr)
            self.assertEqual(tr["now"], NOW)
            st, _, _ = s.get("/rest/api/2/serverInfo")
            s.get("/repos/acme/api/pulls")
            stats = s.json("/__stats")
            self.assertEqual(stats["requests"], 2)
        finally:
            s.close()


# ----------------------------------------------------------- GitHub REST

class Pulls(unittest.TestCase):
    def test_default_list_is_open_created_desc_30(self):
        st, h, b = SMALL.get("/repos/acme/api/pulls")
        self.assertEqual(st, 200)
        items = json.loads(b)
        self.assertTrue(0 < len(items) <= 30)
        self.assertTrue(all(x["state"] == "open" for x in items))
        cr = [x["created_at"] for x in items]
        self.assertEqual(cr, sorted(cr, reverse=True))

    def test_sort_updated_defaults_to_asc(self):
        items = SMALL.json("/repos/acme/api/pulls?state=all&sort=updated"
                           "&per_page=100")
        up = [x["updated_at"] for x in items]
        self.assertEqual(up, sorted(up))
        items = SMALL.json("/repos/acme/api/pulls?state=all&sort=updated"
                           "&direction=desc&per_page=100")
        up = [x["updated_at"] for x in items]
        self.assertEqual(up, sorted(up, reverse=True))

    def test_per_page_capped_at_100_and_link_relations(self):
        q = "state=all&sort=updated&direction=desc&per_page=500"
        st, h, b = SMALL.get("/repos/acme/web/pulls?" + q)
        self.assertEqual(len(json.loads(b)), 100)
        q = "state=all&sort=updated&direction=desc&per_page=40"
        st, h, b = SMALL.get("/repos/acme/web/pulls?" + q)
        self.assertEqual(len(json.loads(b)), 40)
        self.assertEqual(link_rels(h["link"]), ["next", "last"])
        lk = links(h["link"])
        port = SMALL.port
        self.assertEqual(
            lk["next"], "http://127.0.0.1:%d/repositories/%d/pulls?"
            "state=all&sort=updated&direction=desc&per_page=40&page=2"
            % (port, 600000000 + 1117))
        self.assertTrue(lk["last"].endswith("&page=5"))
        u = urllib.parse.urlsplit(lk["next"])
        st, h2, b2 = SMALL.get(u.path + "?" + u.query)
        self.assertEqual(link_rels(h2["link"]),
                         ["prev", "next", "last", "first"])
        st, h5, b5 = SMALL.get(u.path + "?" + u.query.replace("page=2",
                                                              "page=5"))
        self.assertEqual(link_rels(h5["link"]), ["prev", "first"])
        self.assertEqual(len(json.loads(b5)), 40)
        every = SMALL.all_pages("/repos/acme/web/pulls?" + q)
        self.assertEqual(len(every), 200)
        self.assertEqual(len({x["number"] for x in every}), 200)

    def test_single_page_has_no_link(self):
        st, h, b = TINY.get("/repos/acme/api/pulls?state=all&per_page=100")
        self.assertNotIn("link", h)
        self.assertEqual(len(json.loads(b)), 20)

    def test_list_versus_single_fields(self):
        items = TINY.json("/repos/acme/api/pulls?state=all&per_page=100")
        for x in items:
            for k in ("additions", "deletions", "commits", "changed_files",
                      "merged", "mergeable"):
                self.assertNotIn(k, x)
            for k in ("updated_at", "draft", "labels", "base", "head",
                      "user", "merged_at", "closed_at", "created_at",
                      "html_url", "state", "title", "number"):
                self.assertIn(k, x)
        one = TINY.json("/repos/acme/api/pulls/%d" % items[0]["number"])
        for k in ("additions", "deletions", "changed_files", "commits",
                  "draft", "labels", "merged", "merged_at", "closed_at",
                  "created_at", "updated_at", "html_url", "state", "title"):
            self.assertIn(k, one)
        self.assertIn("login", one["user"])
        self.assertIn("type", one["user"])
        self.assertIn("ref", one["base"])
        same = {k: one[k] for k in items[0] if k not in ("requested_"
                                                            "reviewers",)}
        self.assertEqual(same, {k: items[0][k] for k in same})

    def test_state_filters_and_base(self):
        allp = TINY.json("/repos/acme/api/pulls?state=all&per_page=100")
        op = TINY.json("/repos/acme/api/pulls?state=open&per_page=100")
        cl = TINY.json("/repos/acme/api/pulls?state=closed&per_page=100")
        self.assertEqual(len(op) + len(cl), len(allp))
        self.assertTrue(op and cl)
        rel = TINY.json("/repos/acme/api/pulls?state=all&base=release/"
                        "2026.10")
        self.assertTrue(rel)
        self.assertTrue(all(x["base"]["ref"] == "release/2026.10"
                            for x in rel))
        st, h, b = TINY.get("/repos/acme/api/pulls?state=bogus")
        self.assertEqual(st, 422)

    def test_repositories_form_and_case_insensitive_names(self):
        a = TINY.get("/repos/acme/api/pulls?state=all")[2]
        b = TINY.get("/repositories/600000000/pulls?state=all")[2]
        c = TINY.get("/repos/ACME/Api/pulls?state=all")[2]
        self.assertEqual(a, b)
        self.assertEqual(a, c)

    def test_org_repos(self):
        repos = TINY.json("/orgs/acme/repos?per_page=100")
        names = [r["full_name"] for r in repos]
        self.assertEqual(names[0], "acme/api")
        self.assertIn("acme/legacy", names)
        arch = [r for r in repos if r["archived"]]
        self.assertEqual([r["full_name"] for r in arch], ["acme/legacy"])
        legacy = TINY.json("/repos/acme/legacy/pulls?state=all")
        self.assertTrue(legacy)                 # archived, with PRs
        repos = SMALL.json("/orgs/acme/repos?per_page=2")
        self.assertEqual(len(repos), 2)
        every = SMALL.all_pages("/orgs/acme/repos?per_page=2")
        self.assertEqual([r["full_name"] for r in every],
                         ["acme/api", "acme/web", "acme/mobile",
                          "acme/infra", "acme/docs", "acme/legacy"])
        st, h, b = SMALL.get("/orgs/nobody/repos")
        self.assertEqual(st, 404)

    def test_errors(self):
        for path in ("/repos/acme/nope/pulls", "/repos/acme/api/pulls/99999",
                     "/repos/other/api/pulls/1", "/repos/acme/api/foo"):
            st, h, b = TINY.get(path)
            self.assertEqual(st, 404, path)
            body = json.loads(b)
            self.assertEqual(body["message"], "Not Found")
            self.assertEqual(body["status"], "404")
            self.assertIn("documentation_url", body)
            self.assertIn("x-ratelimit-remaining", h)

    def test_rate_limit_not_charged(self):
        s = Sim("--scale", "tiny", "--quota", "50")
        try:
            r1 = s.json("/rate_limit")
            r2 = s.json("/rate_limit")
            self.assertEqual(r1["resources"]["core"]["remaining"], 50)
            self.assertEqual(r2["rate"]["remaining"], 50)
            st, h, _ = s.get("/repos/acme/api/pulls")
            self.assertEqual(h["x-ratelimit-remaining"], "49")
            self.assertEqual(h["x-ratelimit-used"], "1")
            self.assertEqual(h["x-ratelimit-limit"], "50")
            self.assertEqual(h["x-ratelimit-resource"], "core")
            r3 = s.json("/rate_limit")
            self.assertEqual(r3["resources"]["core"]["used"], 1)
            reset = int(h["x-ratelimit-reset"])
            self.assertTrue(time.time() + 3500 < reset <= time.time() + 3601)
        finally:
            s.close()


class Conditional(unittest.TestCase):
    def test_etag_304_not_charged(self):
        s = Sim("--scale", "tiny", "--quota", "100")
        try:
            path = "/repos/acme/api/pulls?state=all&sort=updated" \
                   "&direction=desc&per_page=100"
            st, h, b = s.get(path)
            etag = h["etag"]
            self.assertRegex(etag, r'^W/"[0-9a-f]{40}"$')
            self.assertEqual(h["x-ratelimit-remaining"], "99")
            for tag in (etag, etag[2:], '"nope", ' + etag):
                st, h2, b2 = s.get(path, {"If-None-Match": tag})
                self.assertEqual(st, 304)
                self.assertEqual(b2, b"")
                self.assertEqual(h2["x-ratelimit-remaining"], "99")
                self.assertEqual(h2["etag"], etag[2:])
            st, h3, _ = s.get(path, {"If-None-Match": '"other"'})
            self.assertEqual(st, 200)
            self.assertEqual(h3["x-ratelimit-remaining"], "98")
            stats = s.json("/__stats")
            self.assertEqual(stats["not_modified"], 3)
            self.assertEqual(stats["quota_used"], 2)
            self.assertEqual(stats["requests"], 5)
            # the ETag follows the content, not the request
            st, h4, _ = s.get(path.replace("per_page=100", "per_page=5"))
            self.assertNotEqual(h4["etag"], etag)
        finally:
            s.close()


class Auth(unittest.TestCase):
    def test_token_and_prefix(self):
        s = Sim("--scale", "tiny", "--token", "s3cret", "--prefix",
                "/api/v3")
        try:
            st, h, b = s.get("/api/v3/repos/acme/api/pulls")
            self.assertEqual(st, 401)
            body = json.loads(b)
            self.assertEqual(body["message"], "Bad credentials")
            self.assertIn("documentation_url", body)
            st, h, b = s.get("/api/v3/repos/acme/api/pulls",
                             {"Authorization": "Bearer wrong"})
            self.assertEqual(st, 401)
            for auth in ("Bearer s3cret", "token s3cret"):
                st, h, b = s.get("/api/v3/repos/acme/api/pulls?per_page=5"
                                 "&state=all", {"Authorization": auth})
                self.assertEqual(st, 200)
            lk = links(h["link"])
            self.assertIn("/api/v3/repositories/600000000/pulls?",
                          lk["next"])
            u = urllib.parse.urlsplit(lk["next"])
            st, h, b = s.get(u.path + "?" + u.query,
                             {"Authorization": "Bearer s3cret"})
            self.assertEqual(st, 200)
            st, h, b = s.get("/repos/acme/api/pulls",
                             {"Authorization": "Bearer s3cret"})
            self.assertEqual(st, 404)            # not under the prefix
            st, h, b = s.get("/api/v3/rate_limit",
                             {"Authorization": "Bearer s3cret"})
            self.assertEqual(st, 200)
            self.assertEqual(s.json("/__clock")["now"], NOW)  # no auth
        finally:
            s.close()


# ---------------------------------------------------------------- faults

class Faults(unittest.TestCase):
    P = "/repos/acme/api/pulls?state=all"

    def statuses(self, s, n, path=None):
        return [s.get(path or self.P)[0] for _ in range(n)]

    def test_ratelimit_until_window_resets(self):
        s = Sim("--scale", "tiny", "--faults", "gh:ratelimit@3",
                "--reset-in", "1.5")
        try:
            self.assertEqual(self.statuses(s, 2), [200, 200])
            st, h, b = s.get(self.P)
            self.assertEqual(st, 403)
            self.assertEqual(h["x-ratelimit-remaining"], "0")
            self.assertIn("rate limit exceeded", json.loads(b)["message"])
            self.assertNotIn("retry-after", h)
            reset = int(h["x-ratelimit-reset"])
            st, h, b = s.get(self.P)
            self.assertEqual(st, 403)
            self.assertEqual(s.json("/rate_limit")["rate"]["remaining"], 0)
            time.sleep(max(0, reset - time.time()) + 0.05)
            st, h, b = s.get(self.P)
            self.assertEqual(st, 200)
        finally:
            s.close()

    def test_quota_exhausted(self):
        s = Sim("--scale", "tiny", "--quota", "3", "--reset-in", "1")
        try:
            self.assertEqual(self.statuses(s, 4), [200, 200, 200, 403])
            st, h, b = s.get("/rate_limit")
            self.assertEqual(st, 200)
            time.sleep(max(0, int(h["x-ratelimit-reset"]) - time.time())
                       + 0.05)
            self.assertEqual(self.statuses(s, 1), [200])
            self.assertEqual(s.json("/__stats")["quota_used"], 4)
        finally:
            s.close()

    def test_secondary(self):
        s = Sim("--scale", "tiny", "--faults",
                "secondary@2,secondary-bare@4", "--retry-after", "7")
        try:
            r = [s.get(self.P) for _ in range(5)]
            self.assertEqual([x[0] for x in r], [200, 403, 200, 403, 200])
            self.assertEqual(r[1][1]["retry-after"], "7")
            self.assertIn("secondary rate limit",
                          json.loads(r[1][2])["message"])
            self.assertNotIn("retry-after", r[3][1])
            self.assertIn("secondary rate limit",
                          json.loads(r[3][2])["message"])
            self.assertNotEqual(r[1][1]["x-ratelimit-remaining"], "0")
            # counted again from a /__reset
            s.req("POST", "/__reset")
            self.assertEqual(self.statuses(s, 2), [200, 403])
        finally:
            s.close()

    def test_5xx_is_seeded(self):
        runs = []
        for _ in range(2):
            s = Sim("--scale", "tiny", "--faults", "5xx:0.3", "--seed", "9")
            try:
                runs.append(self.statuses(s, 30))
            finally:
                s.close()
        self.assertEqual(runs[0], runs[1])
        self.assertTrue(any(x >= 500 for x in runs[0]))
        self.assertTrue(any(x == 200 for x in runs[0]))

    def test_truncate_and_badjson(self):
        s = Sim("--scale", "tiny", "--faults", "truncate@2,badjson@3+")
        try:
            self.assertEqual(s.get(self.P)[0], 200)
            s.conn.request("GET", self.P)
            r = s.conn.getresponse()
            self.assertRaises(http.client.IncompleteRead, r.read)
            s.conn.close()
            s.conn = None
            for _ in range(2):
                st, h, b = s.get(self.P)
                self.assertEqual(st, 200)
                self.assertEqual(int(h["content-length"]), len(b))
                self.assertRaises(ValueError, json.loads, b)
        finally:
            s.close()

    def test_auth_slow_and_api_prefix(self):
        s = Sim("--scale", "tiny", "--faults", "jira:auth,gh:slow:150,"
                "jira:ratelimit@1+")
        try:
            t = time.time()
            st, h, b = s.get(self.P)
            self.assertEqual(st, 200)
            self.assertGreaterEqual(time.time() - t, 0.14)
            t = time.time()
            s.get("/__clock")                     # control: never slowed
            self.assertLess(time.time() - t, 0.1)
        finally:
            s.close()
        s = Sim("--scale", "tiny", "--faults", "gh:auth")
        try:
            st, h, b = s.get(self.P)
            self.assertEqual(st, 401)
            self.assertEqual(json.loads(b)["message"], "Bad credentials")
            self.assertEqual(s.get("/__stats")[0], 200)
        finally:
            s.close()

    def test_latency(self):
        s = Sim("--scale", "tiny", "--latency-ms", "100")
        try:
            t = time.time()
            s.get(self.P)
            self.assertGreaterEqual(time.time() - t, 0.09)
        finally:
            s.close()


# -------------------------------------------------------------- timeline

class Timeline(unittest.TestCase):
    def truth(self):
        return TINY.json("/__truth")["prs"]

    def test_item_shapes(self):
        seen = set()
        for key, pr in self.truth().items():
            repo, num = key.split("#")
            items = TINY.all_pages("/repos/%s/issues/%s/timeline?per_page"
                                   "=100" % (repo, num))
            for it in items:
                ev = it["event"]
                seen.add(ev)
                if ev == "committed":
                    self.assertNotIn("actor", it)
                    self.assertNotIn("created_at", it)
                    for who in ("author", "committer"):
                        self.assertEqual(set(it[who]),
                                         {"name", "email", "date"})
                    self.assertIn("sha", it)
                    self.assertIn("message", it)
                elif ev == "reviewed":
                    self.assertNotIn("created_at", it)
                    self.assertIn(it["state"], ("approved",
                                                "changes_requested",
                                                "commented", "dismissed"))
                    self.assertIn("submitted_at", it)
                    self.assertIn("id", it)
                    self.assertTrue(it["user"] is None or
                                    {"login", "type"} <= set(it["user"]))
                elif ev == "line-commented":
                    self.assertTrue(it["comments"])
                else:
                    self.assertIn("actor", it, ev)
                    self.assertIn("created_at", it, ev)
                    if it["actor"] is not None:
                        self.assertIn("login", it["actor"])
                        self.assertIn("type", it["actor"])
        for ev in ("committed", "reviewed", "commented", "ready_for_review",
                   "convert_to_draft", "review_requested", "closed",
                   "reopened", "merged"):
            self.assertIn(ev, seen)

    def test_260_commit_pr(self):
        big = [(k, v) for k, v in self.truth().items() if v["commits"] > 250]
        self.assertEqual(len(big), 1)
        key, pr = big[0]
        self.assertEqual(pr["commits"], 260)
        self.assertTrue(pr["commits_truncated"])
        repo, num = key.split("#")
        one = TINY.json("/repos/%s/pulls/%s" % (repo, num))
        self.assertEqual(one["commits"], 260)
        items = TINY.all_pages("/repos/%s/issues/%s/timeline?per_page=100"
                               % (repo, num))
        self.assertEqual(sum(1 for i in items if i["event"] == "committed"),
                         250)
        commits = TINY.all_pages("/repos/%s/pulls/%s/commits?per_page=100"
                                 % (repo, num))
        self.assertEqual(len(commits), 250)
        # at small scale and up too
        sm = SMALL.json("/__truth")["prs"]
        self.assertTrue(any(v["commits"] == 260 for v in sm.values()))
        self.assertTrue(any(100 < v["commits"] < 250 for v in sm.values()))

    def test_reviews_pending_only_in_reviews(self):
        pending = dismissed = 0
        states = set()
        for key, pr in self.truth().items():
            repo, num = key.split("#")
            revs = TINY.all_pages("/repos/%s/pulls/%s/reviews?per_page=100"
                                  % (repo, num))
            tl = [i for i in TINY.all_pages(
                "/repos/%s/issues/%s/timeline?per_page=100" % (repo, num))
                if i["event"] == "reviewed"]
            sub = [r for r in revs if r["state"] != "PENDING"]
            self.assertEqual([r["id"] for r in sub], [i["id"] for i in tl])
            self.assertEqual([r["state"].lower() for r in sub],
                             [i["state"] for i in tl])
            for r in revs:
                states.add(r["state"])
                if r["state"] == "PENDING":
                    pending += 1
                    self.assertNotIn("submitted_at", r)
                else:
                    self.assertIn("submitted_at", r)
                if r["state"] == "DISMISSED":
                    dismissed += 1
            at = [r["submitted_at"] for r in sub]
            self.assertEqual(at, sorted(at))       # chronological
        self.assertTrue(pending and dismissed)
        self.assertEqual(states, {"APPROVED", "CHANGES_REQUESTED",
                                  "COMMENTED", "DISMISSED", "PENDING"})

    def test_comments_endpoints(self):
        tr = self.truth()
        n_issue = n_line = 0
        for key, pr in tr.items():
            repo, num = key.split("#")
            ic = TINY.all_pages("/repos/%s/issues/%s/comments?per_page=100"
                                % (repo, num))
            n_issue += len(ic)
            self.assertEqual(len(ic), sum(1 for e in pr["events"]
                                          if e["kind"] == "commented"))
            n_line += len(TINY.all_pages("/repos/%s/pulls/%s/comments"
                                         % (repo, num)))
        self.assertTrue(n_issue > 100 and n_line > 0)


# ----------------------------------------------------------------- truth

def derive(pr, tl, reviews_api, cfg):
    """METRICS.md "Pull requests", computed here from API payloads alone
    (single PR, its timeline), independently of the simulator's code."""
    E = gh_epoch
    author = pr["user"]["login"] if pr["user"] else None
    deleted = author is None or author == "ghost"

    def is_bot(u):
        return u is not None and (u["type"] == "Bot"
                                  or u["login"].endswith("[bot]"))

    def excluded(u):
        return u is not None and u["login"] in cfg["exclude_users"]

    def is_author(u):
        return (not deleted and u is not None and u["login"] != "ghost"
                and u["login"] == author)

    merged_at = E(pr["merged_at"]) if pr["merged_at"] else None
    created = E(pr["created_at"])
    commits = [i for i in tl if i["event"] == "committed"]
    first_commit = min((E(c["author"]["date"]) for c in commits),
                       default=created)
    drafty = [i for i in tl if i["event"] in ("ready_for_review",
                                              "convert_to_draft")]
    if drafty:
        opened_draft = drafty[0]["event"] == "ready_for_review"
    else:
        opened_draft = pr["draft"]
    if opened_draft:
        rd = [E(i["created_at"]) for i in drafty
              if i["event"] == "ready_for_review"]
        ready = rd[0] if rd else None
    else:
        ready = created
    counted = []
    for i in tl:
        if i["event"] != "reviewed":
            continue
        st = i["state"].upper()
        t = E(i["submitted_at"])
        u = i["user"]
        if st not in ("APPROVED", "CHANGES_REQUESTED", "COMMENTED",
                      "DISMISSED"):
            continue
        if is_author(u) or is_bot(u) or excluded(u):
            continue
        if merged_at is not None and t > merged_at:
            continue
        counted.append((t, u["login"] if u else None, st))
    counted.sort(key=lambda x: x[0])
    ccom = sorted(E(i["created_at"]) for i in tl
                  if i["event"] == "commented"
                  and not (is_author(i["user"]) or is_bot(i["user"])
                           or excluded(i["user"]))
                  and (merged_at is None
                       or E(i["created_at"]) <= merged_at))
    first_review = counted[0][0] if counted else None
    resp = [x for x in (first_review, ccom[0] if ccom else None)
            if x is not None]
    first_response = min(resp) if resp else None
    appr = [x[0] for x in counted if x[2] == "APPROVED"]
    pickup = response = None
    if ready is not None:
        p = [x[0] for x in counted if x[0] >= ready]
        pickup = p[0] if p else None
        c = [t for t in ccom if t >= ready]
        r = [x for x in (pickup, c[0] if c else None) if x is not None]
        response = min(r) if r else None
    labels = [lab["name"] for lab in pr["labels"]]
    reason = None
    bot_author = is_bot(pr["user"])
    if any(lab in cfg["exclude_labels"] for lab in labels):
        reason = "label"
    elif any(fnmatch.fnmatchcase(pr["base"]["ref"], g)
             for g in cfg["exclude_base"]):
        reason = "base"
    elif bot_author and not cfg["include_bot_prs"]:
        reason = "bot"
    elif author is not None and author in cfg["exclude_users"]:
        reason = "user"

    def h(a, b):
        if a is None or b is None or merged_at is None:
            return None
        return max(0, b - a) / 3600.0

    return {
        "state": pr["state"], "draft": pr["draft"],
        "created_at": created, "updated_at": E(pr["updated_at"]),
        "merged_at": merged_at,
        "closed_at": E(pr["closed_at"]) if pr["closed_at"] else None,
        "additions": pr["additions"], "deletions": pr["deletions"],
        "commits": pr["commits"], "author": author,
        "labels": labels, "base": pr["base"]["ref"], "title": pr["title"],
        "url": pr["html_url"],
        "first_commit_at": first_commit,
        "commits_truncated": pr["commits"] > len(commits),
        "ready_at": ready, "first_review_at": first_review,
        "first_response_at": first_response,
        "approved_at": appr[0] if appr else None,
        "size": pr["additions"] + pr["deletions"],
        "review_rounds": sum(1 for x in counted
                             if x[2] == "CHANGES_REQUESTED"),
        "excluded": reason is not None, "excluded_reason": reason,
        "pickup_at": pickup, "response_at": response,
        "coding_time": h(first_commit, ready),
        "pickup_time": h(ready, pickup),
        "review_time": h(first_review, merged_at),
        "cycle_time": h(first_commit, merged_at),
        "time_to_first_response": h(ready, response),
        "counted_reviews": [{"reviewer": x[1], "submitted_at": x[0],
                             "state": x[2]} for x in counted],
    }


class Truth(unittest.TestCase):
    CFG = {"exclude_users": ["alice", "renovate-bot"],
           "include_bot_prs": True, "exclude_labels": ["dependencies"],
           "exclude_base": ["release/*"]}

    def compare_with_api(self, sim, query, cfg):
        tr = sim.json("/__truth" + query)
        self.assertEqual(tr["now"], NOW)
        prs = tr["prs"]
        self.assertTrue(prs)
        for key, t in prs.items():
            repo, num = key.split("#")
            pr = sim.json("/repos/%s/pulls/%s" % (repo, num))
            tl = sim.all_pages("/repos/%s/issues/%s/timeline?per_page=100"
                               % (repo, num))
            want = derive(pr, tl, None, cfg)
            for k, v in want.items():
                got = t[k]
                if isinstance(v, float) or isinstance(got, float):
                    self.assertIsNotNone(got, (key, k))
                    self.assertAlmostEqual(got, v, delta=1e-6,
                                           msg=(key, k))
                else:
                    self.assertEqual(got, v, (key, k))
            self.assertEqual(t["repo"], repo)
            self.assertEqual(t["number"], int(num))
            # events: the opened one plus the timeline's metric kinds
            kinds = [e["kind"] for e in t["events"]]
            self.assertEqual(kinds.count("opened"), 1)
            ts = [e["t"] for e in t["events"]]
            self.assertEqual(ts, sorted(ts))
            tl_kinds = sorted(i["event"] for i in tl if i["event"] in (
                "committed", "reviewed", "commented", "ready_for_review",
                "convert_to_draft", "review_requested", "closed",
                "reopened", "merged"))
            self.assertEqual(sorted(k for k in kinds if k != "opened"),
                             tl_kinds)
            self.assertLessEqual(max(ts), NOW)
            lb = set(t["labels"])
            self.assertEqual(t["review_load_excluded"],
                             bool(lb & set(cfg["exclude_labels"]))
                             or any(fnmatch.fnmatchcase(t["base"], g)
                                    for g in cfg["exclude_base"]))
        return prs

    def test_truth_matches_api_defaults(self):
        cfg = {"exclude_users": [], "include_bot_prs": False,
               "exclude_labels": [], "exclude_base": []}
        prs = self.compare_with_api(TINY, "", cfg)
        reasons = {v["excluded_reason"] for v in prs.values()}
        self.assertEqual(reasons, {None, "bot"})

    def test_truth_matches_api_with_config(self):
        q = "?exclude_users=alice,renovate-bot&include_bot_prs=true" \
            "&exclude_labels=dependencies&exclude_base=release/*"
        prs = self.compare_with_api(TINY, q, self.CFG)
        reasons = {v["excluded_reason"] for v in prs.values()}
        self.assertTrue({"label", "base"} <= reasons, reasons)

    def test_sanity_small(self):
        tr = SMALL.json("/__truth")
        prs = tr["prs"]
        self.assertEqual(len([k for k in prs if not
                              k.startswith("acme/legacy#")]), 5 * 200)
        merged = [v for v in prs.values() if v["merged_at"] is not None]
        self.assertTrue(len(merged) > 500)
        for v in merged:
            self.assertIsNotNone(v["cycle_time"])
            self.assertGreaterEqual(v["cycle_time"], 0)
            self.assertIsNotNone(v["ready_at"])
            self.assertGreaterEqual(v["coding_time"], 0)
            self.assertEqual(v["state"], "closed")
            self.assertFalse(v["draft"])
        for v in prs.values():
            if v["merged_at"] is None:
                for k in ("coding_time", "pickup_time", "review_time",
                          "cycle_time", "time_to_first_response"):
                    self.assertIsNone(v[k])
            self.assertLessEqual(v["updated_at"], NOW)
            self.assertLessEqual(v["created_at"], v["updated_at"])
            for e in v["events"]:
                self.assertNotEqual(e.get("state"), "pending")
        titles = "".join(v["title"] for v in prs.values())
        for bit in ("|", "<script>", "`", "](", "\n", "\U0001F680",
                    "\u0625"):
            self.assertIn(bit, titles)
        bots = [v for v in prs.values() if v["is_bot"]]
        self.assertTrue(bots)
        self.assertTrue(all(v["excluded_reason"] == "bot" for v in bots))
        self.assertTrue(any(v["author"] == "ghost" for v in prs.values()))
        self.assertTrue(any(v["author"] == "dependabot[bot]"
                            and v["author_type"] == "Bot"
                            for v in prs.values()))
        self.assertTrue(any("dependencies" in v["labels"]
                            for v in prs.values()))
        self.assertTrue(any(v["base"].startswith("release/")
                            for v in prs.values()))
        old = [v for v in prs.values() if v["state"] == "open"
               and v["created_at"] < NOW - 52 * 7 * 86400]
        self.assertTrue(old)
        reopened = [v for v in prs.values()
                    if any(e["kind"] == "reopened" for e in v["events"])]
        self.assertTrue(reopened)
        closed_unmerged = [v for v in prs.values()
                           if v["state"] == "closed" and not v["merged_at"]]
        self.assertTrue(closed_unmerged)
        drafts = [v for v in prs.values() if v["draft"]]
        self.assertTrue(drafts)
        converted = [v for v in prs.values() if any(
            e["kind"] == "convert_to_draft" for e in v["events"])]
        self.assertTrue(converted)
        big = [v for v in prs.values() if len(v["events"]) > 100]
        share = len(big) / float(len(prs))
        self.assertTrue(0.01 <= share <= 0.06, share)
        rebased = [v for v in prs.values() if any(
            e["kind"] == "committed" and e["author_date"] < e["t"] - 3600
            for e in v["events"])]
        self.assertTrue(rebased)
        out_of_order = 0
        for v in prs.values():
            ad = [e["author_date"] for e in v["events"]
                  if e["kind"] == "committed"]
            if ad != sorted(ad):
                out_of_order += 1
        self.assertTrue(out_of_order)
        after_merge = [v for v in merged if any(
            e["kind"] == "reviewed" and e["t"] > v["merged_at"]
            for e in v["events"])]
        self.assertTrue(after_merge)
        self_reviews = [v for v in prs.values() if any(
            e["kind"] == "reviewed" and e["actor"] == v["author"]
            for e in v["events"])]
        self.assertTrue(self_reviews)
        bot_reviews = [v for v in prs.values() if any(
            e["kind"] == "reviewed" and e["actor_type"] == "Bot"
            for e in v["events"])]
        self.assertTrue(bot_reviews)
        null_actor = [v for v in prs.values() if any(
            e["kind"] == "commented" and e["actor"] is None
            for e in v["events"])]
        self.assertTrue(null_actor)
        states = {e["state"] for v in prs.values() for e in v["events"]
                  if e["kind"] == "reviewed"}
        self.assertEqual(states, {"approved", "changes_requested",
                                  "commented", "dismissed"})
        legacy = [v for k, v in prs.items() if k.startswith("acme/legacy#")]
        self.assertTrue(legacy)

    def test_truth_is_quick_at_small(self):
        t = time.time()
        SMALL.get("/__truth")
        self.assertLess(time.time() - t, 3.0)


# ---------------------------------------------------------- time, seeds

class TimeAndSeeds(unittest.TestCase):
    def test_deterministic(self):
        a = Sim("--scale", "tiny", "--seed", "5")
        b = Sim("--scale", "tiny", "--seed", "5")
        c = Sim("--scale", "tiny", "--seed", "6")
        try:
            for path in ("/repos/acme/api/pulls?state=all&per_page=100",
                         "/repos/acme/api/pulls/3",
                         "/repos/acme/api/issues/3/timeline?per_page=100",
                         "/orgs/acme/repos", "/__truth"):
                self.assertEqual(a.get(path)[2], b.get(path)[2], path)
            self.assertNotEqual(a.get("/__truth")[2], c.get("/__truth")[2])
        finally:
            for s in (a, b, c):
                s.close()

    def test_now_flag(self):
        s = Sim("--scale", "tiny", "--now", str(NOW - 30 * 86400))
        try:
            tr = s.json("/__truth")
            self.assertEqual(tr["now"], NOW - 30 * 86400)
            for v in tr["prs"].values():
                self.assertLessEqual(v["updated_at"], NOW - 30 * 86400)
        finally:
            s.close()

    def test_advance(self):
        a = Sim("--scale", "small")
        b = Sim("--scale", "small")
        try:
            path = "/repos/acme/%s/pulls?state=all&sort=updated" \
                   "&direction=desc&per_page=100"
            names = ("api", "web", "mobile", "infra", "docs")
            tags = {n: a.get(path % n)[1]["etag"] for n in names}
            before = a.json("/__truth")["prs"]
            for _ in range(2):
                st, _, out = a.req("POST", "/__advance?hours=36")
                self.assertEqual(st, 200)
            self.assertEqual(json.loads(out)["now"], NOW + 72 * 3600)
            st, _, _ = b.req("POST", "/__advance?hours=72")
            self.assertEqual(a.get("/__truth")[2], b.get("/__truth")[2])
            after = a.json("/__truth")["prs"]
            self.assertEqual(a.json("/__clock")["now"], NOW + 72 * 3600)
            new = set(after) - set(before)
            self.assertTrue(new)                  # PRs opened meanwhile
            changed = 0
            for k, v in before.items():
                w = after[k]
                moved = any(NOW < e["t"] <= NOW + 72 * 3600
                            for e in w["events"])
                if moved:
                    changed += 1
                    self.assertGreater(w["updated_at"], v["updated_at"])
                else:
                    self.assertEqual(w["updated_at"], v["updated_at"], k)
            self.assertTrue(changed >= 5, changed)
            # a repository's first page changes exactly when one of its
            # PRs changed or a PR was opened there
            moved_repos = set()
            for k, w in after.items():
                if k not in before or w["updated_at"] != \
                        before[k]["updated_at"]:
                    moved_repos.add(k.split("#")[0].split("/")[1])
            self.assertTrue(moved_repos)
            for n in names:
                st, h1, _ = a.get(path % n, {"If-None-Match": tags[n]})
                self.assertEqual(st, 200 if n in moved_repos else 304, n)
            kinds = {e["kind"] for w in after.values() for e in w["events"]
                     if e["t"] > NOW}
            self.assertTrue({"reviewed", "commented", "merged",
                             "committed"} <= kinds, kinds)
            for w in after.values():
                self.assertLessEqual(w["updated_at"], NOW + 72 * 3600)
            # an unchanged PR keeps its ETag
            same = [k for k, v in before.items()
                    if after[k]["updated_at"] == v["updated_at"]
                    and k.startswith("acme/api#")][0]
            p1 = "/repos/acme/api/pulls/%s" % same.split("#")[1]
            self.assertEqual(a.get(p1)[1]["etag"], b.get(p1)[1]["etag"])
            st, _, _ = a.req("POST", "/__advance?hours=-1")
            self.assertEqual(st, 400)
        finally:
            a.close()
            b.close()


# ------------------------------------------------------------- speed

class Speed(unittest.TestCase):
    def test_100_pr_page(self):
        path = "/repos/acme/docs/pulls?state=all&sort=updated" \
               "&direction=desc&per_page=100&page=%d"
        times = []
        for page in (1, 2):
            t = time.time()
            st, h, b = SMALL.get(path % page)
            times.append(time.time() - t)
            self.assertEqual(len(json.loads(b)), 100)
        sys.stderr.write("\n  100-PR page: %.1f ms cold, " % (
            times[0] * 1000))
        t = time.time()
        SMALL.get(path % 1)
        warm = time.time() - t
        sys.stderr.write("%.1f ms warm ... " % (warm * 1000))
        # 50 ms is the target; allow for a loaded test machine
        self.assertLess(min(times), 0.15)

    @unittest.skipUnless(os.environ.get("APISIM_SLOW"),
                         "set APISIM_SLOW=1 to time the large scale")
    def test_large_generation(self):
        t = time.time()
        s = Sim("--scale", "large", timeout=120)
        dt = time.time() - t
        try:
            sys.stderr.write("\n  large scale ready in %.1f s ... " % dt)
            self.assertLess(dt, 30)
            t = time.time()
            s.get("/repos/acme/api/pulls?state=all&sort=updated&direction"
                  "=desc&per_page=100")
            self.assertLess(time.time() - t, 0.5)
        finally:
            s.close()


# ------------------------------------------------------- conformance

NULLABLE = {
    # fields GitHub documents (or shows) as possibly null
    "body", "closed_at", "merged_at", "merge_commit_sha", "assignee",
    "milestone", "merged_by", "mergeable", "rebaseable", "auto_merge",
    "active_lock_reason", "user", "actor", "author", "committer",
    "homepage", "description", "language", "mirror_url", "license",
    "repo", "commit_id", "commit_url", "state_reason",
    "performed_via_github_app", "signature", "payload", "verified_at",
    "requested_reviewer", "dismissal_commit_id", "start_line",
    "original_start_line", "start_side", "original_line",
    "in_reply_to_id", "position", "line",
}


def jtype(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def conform(sample, ours, where, problems, key=None):
    """Every key of sample exists in ours with the same JSON type (null in
    the sample matches anything; ours may be null only where GitHub allows
    it); objects recursively; lists by their first element."""
    if sample is None:
        return
    if ours is None:
        if key not in NULLABLE:
            problems.append("%s: null, sample has %s" % (where,
                                                         jtype(sample)))
        return
    ts, to = jtype(sample), jtype(ours)
    if ts != to:
        problems.append("%s: %s, sample has %s" % (where, to, ts))
        return
    if ts == "object":
        for k, v in sample.items():
            if k not in ours:
                problems.append("%s.%s: missing" % (where, k))
                continue
            conform(v, ours[k], "%s.%s" % (where, k), problems, k)
    elif ts == "array":
        if sample and ours:
            conform(sample[0], ours[0], where + "[0]", problems, key)


def sample(name):
    with open(os.path.join(SAMPLES, name), encoding="utf-8") as f:
        return json.load(f)


@unittest.skipUnless(os.path.isdir(SAMPLES),
                     "conformance needs ../shared/api-samples/github (the "
                     "real payloads), absent here: skipped")
class Conformance(unittest.TestCase):
    FULL = {"Accept": "application/vnd.github.v3.full+json"}

    @classmethod
    def setUpClass(cls):
        tr = TINY.json("/__truth")["prs"]
        cls.truth = tr
        cls.objs = {}
        tl_all = {}
        revs = []
        for key in tr:
            repo, num = key.split("#")
            for it in TINY.all_pages("/repos/%s/issues/%s/timeline"
                                     "?per_page=100" % (repo, num)):
                tl_all.setdefault(it["event"], []).append(it)
            revs.extend(TINY.all_pages("/repos/%s/pulls/%s/reviews"
                                       % (repo, num)))
        cls.tl = tl_all
        cls.reviews = revs

    def pick(self, items, pred):
        for x in items:
            if pred(x):
                return x
        self.fail("no simulated object fits")

    def check(self, name, ours, drop=()):
        s = sample(name)
        items = s if isinstance(s, list) else [s]
        problems = []
        for i, x in enumerate(items):
            x = {k: v for k, v in x.items() if k not in drop}
            conform(x, ours(x) if callable(ours) else ours,
                    "%s[%d]" % (name, i), problems)
        self.assertEqual(problems, [])

    def test_pull_list_items(self):
        items = TINY.json("/repos/acme/api/pulls?state=all&per_page=100")
        full = TINY.json("/repos/acme/api/pulls?state=all&per_page=100",
                         self.FULL)
        lab = self.pick(items, lambda x: x["labels"] and x["body"]
                        and x["head"]["repo"] and x["assignee"])
        labf = self.pick(full, lambda x: x["number"] == lab["number"])
        self.check("pulls-list.devlake-ants.json", lab)
        self.check("pulls-list.sort-created-desc.json", labf)
        self.check("pulls-list.sort-updated-asc.json", labf)
        # pulls-list.page1.json is a 2013 recording whose head.repo still
        # has the retired 'master_branch' key: checked without it
        s = sample("pulls-list.page1.json")
        problems = []
        for x in s:
            for side in ("head", "base"):
                x[side]["repo"].pop("master_branch", None)
            conform(x, lab, "pulls-list.page1.json", problems)
        self.assertEqual(problems, [])

    def test_single_pull(self):
        tr = self.truth
        merged = [k for k, v in tr.items() if v["merged_at"]
                  and "dependencies" not in v["labels"]]
        opened = [k for k, v in tr.items() if v["state"] == "open"]
        drafts = [k for k, v in tr.items() if v["draft"]]

        def get(key):
            repo, num = key.split("#")
            return TINY.json("/repos/%s/pulls/%s" % (repo, num))

        objs = [get(k) for k in merged + opened]
        m = self.pick(objs, lambda x: x["merged"] and x["labels"]
                      and x["body"] and x["head"]["repo"] and x["assignee"])
        o = self.pick(objs, lambda x: x["state"] == "open" and x["body"]
                      and x["head"]["repo"])
        d = get(drafts[0])
        self.check("pull.pygithub-31.json", m)
        self.check("pull.json", o)
        self.check("pull.draft.json", d)
        self.check("pull.created-as-draft.json", d)

    def test_reviews(self):
        sub = self.pick(self.reviews, lambda r: r["state"] == "APPROVED"
                        and r["user"])
        pend = self.pick(self.reviews, lambda r: r["state"] == "PENDING")
        dis = self.pick(self.reviews, lambda r: r["state"] == "DISMISSED")
        for name in ("pull-reviews.json", "pull-reviews.approved.json",
                     "pull-reviews.devlake-ants-pr53.json",
                     "pull-reviews.perceval.json",
                     "pull-review.submitted.json"):
            self.check(name, sub)
        self.check("pull-reviews.pending.json", pend)
        self.check("pull-review.dismissed.json", dis)
        key = [k for k, v in self.truth.items() if v["counted_reviews"]][0]
        repo, num = key.split("#")
        full = TINY.json("/repos/%s/pulls/%s/reviews" % (repo, num),
                         self.FULL)
        self.check("pull-reviews.github3-671.json", full[0])

    def test_commits(self):
        key = [k for k, v in self.truth.items() if v["commits"] > 3][0]
        repo, num = key.split("#")
        commits = TINY.json("/repos/%s/pulls/%s/commits" % (repo, num))
        c = self.pick(commits, lambda c: c["author"] and c["committer"])
        for name in ("pull-commits.json", "pull-commits.devlake-ants-pr53"
                     ".json", "pull-commits.pygithub-31.json"):
            self.check(name, c)

    def test_timeline_items(self):
        tl = self.tl

        def ours(x):
            ev = x["event"]
            self.assertIn(ev, tl, "simulator has no %s item" % ev)
            return self.pick(tl[ev], lambda i: i.get("actor", 1) is not None
                             and i.get("user", 1) is not None)

        skip = {"locked", "unlocked"}      # issue-only; not generated
        for name in ("issue-timeline.json", "issue-timeline.issue28.json"):
            s = [x for x in sample(name) if x["event"] not in skip]
            problems = []
            for i, x in enumerate(s):
                conform(x, ours(x), "%s[%d]" % (name, i), problems)
            self.assertEqual(problems, [])
        # kinds recorded only from the events API, which adds 'issue' and
        # 'assigner' (API-FACTS fact 24): compared without those keys
        for name, kinds in (("issue-events.review-requested.json",
                             ("review_requested",)),
                            ("issue-events.repo.devlake-ants.json",
                             ("ready_for_review", "closed", "labeled",
                              "subscribed", "assigned",
                              "head_ref_force_pushed")),
                            ("issue-events.repo.github3.page1.json",
                             ("reopened", "merged", "referenced",
                              "head_ref_deleted")),
                            ("issue-events.json", ("merged", "closed",
                                                   "referenced"))):
            problems = []
            for i, x in enumerate(sample(name)):
                if x["event"] not in kinds:
                    continue
                x = {k: v for k, v in x.items()
                     if k not in ("issue", "assigner")}
                conform(x, ours(x), "%s[%d]" % (name, i), problems)
            self.assertEqual(problems, [])
        self.assertIn("convert_to_draft", tl)
        cd = tl["convert_to_draft"][0]
        rr = tl["ready_for_review"][0]
        self.assertEqual(set(cd), set(rr))

    def test_comments(self):
        tl = sample("issue-timeline.json")
        comment = [x for x in tl if x["event"] == "commented"][0]
        line = [x for x in tl if x["event"] == "line-commented"][0]
        ic = None
        for key in self.truth:
            repo, num = key.split("#")
            got = TINY.json("/repos/%s/issues/%s/comments" % (repo, num))
            got = [c for c in got if c["user"]]
            if got:
                ic = got[0]
                break
        rc = None
        for key in self.truth:
            repo, num = key.split("#")
            got = TINY.json("/repos/%s/pulls/%s/comments" % (repo, num))
            if got:
                rc = got[0]
                break
        problems = []
        conform({k: v for k, v in comment.items()
                 if k not in ("event", "actor")}, ic, "issue comment",
                problems)
        conform(line["comments"][0], rc, "review comment", problems)
        self.assertEqual(problems, [])

    def test_errors_and_rate_limit(self):
        s = Sim("--scale", "tiny", "--token", "t", "--faults",
                "secondary@2,ratelimit@3")
        try:
            auth = {"Authorization": "Bearer t"}
            st, h, b = s.get("/repos/acme/api/pulls/999999", auth)
            self.assertEqual(st, 404)
            problems = []
            conform(sample("error-404.json"), json.loads(b), "404",
                    problems)
            conform(sample("error-404.pygithub-2012.json"), json.loads(b),
                    "404 (2012)", problems)
            st, h, b = s.get("/repos/acme/api/pulls", auth)
            self.assertEqual(st, 403)
            conform(sample("error-403-secondary.json"), json.loads(b),
                    "secondary", problems)
            conform(sample("error-403-abuse.perceval.json"), json.loads(b),
                    "secondary (perceval)", problems)
            st, h, b = s.get("/repos/acme/api/pulls", auth)
            self.assertEqual(st, 403)
            conform(sample("error-403-ratelimit.json"), json.loads(b),
                    "primary", problems)
            st, h, b = s.get("/repos/acme/api/pulls")
            self.assertEqual(st, 401)
            conform(sample("error-401.json"), json.loads(b), "401",
                    problems)
            st, h, b = s.get("/repos/acme/api/pulls?state=nope", auth)
            st, h, b = s.get("/rate_limit", auth)
            conform(sample("rate-limit.json"), json.loads(b),
                    "rate_limit", problems)
            self.assertEqual(problems, [])
            st, h, b = TINY.get("/repos/acme/api/pulls?sort=nope")
            self.assertEqual(st, 422)
            conform(sample("error-422.json"), json.loads(b), "422",
                    problems)
            self.assertEqual(problems, [])
        finally:
            s.close()

    def test_repo_objects(self):
        ref = sample("pull.json")["base"]["repo"]
        problems = []
        for r in TINY.json("/orgs/acme/repos"):
            conform(ref, r, "org repo " + r["full_name"], problems)
        conform(ref, TINY.json("/repos/acme/api"), "repo", problems)
        self.assertEqual(problems, [])

    def test_header_conventions(self):
        st, h, b = SMALL.get("/repos/acme/api/pulls?state=all&per_page=10")
        for k in ("etag", "link", "x-ratelimit-limit",
                  "x-ratelimit-remaining", "x-ratelimit-reset",
                  "x-ratelimit-used", "x-ratelimit-resource",
                  "content-type", "content-length"):
            self.assertIn(k, h)
        self.assertTrue(h["content-type"].startswith("application/json"))
        self.assertTrue(h["x-ratelimit-reset"].isdigit())
        with open(os.path.join(SAMPLES, "issues-list.page2.headers.txt"),
                  encoding="utf-8") as f:
            rec = f.read()
        real = re.search(r"^Link: (.*)$", rec, re.M).group(1)
        u = links(h["link"])["next"]
        st, h2, b = SMALL.get(urllib.parse.urlsplit(u).path + "?"
                              + urllib.parse.urlsplit(u).query)
        self.assertEqual(link_rels(h2["link"]), link_rels(real))


if __name__ == "__main__":
    unittest.main(verbosity=2)
