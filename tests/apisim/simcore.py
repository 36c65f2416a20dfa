"""Core of the API simulator: command line, HTTP server, quota, faults.

The simulator stands in for GitHub's and Jira's REST APIs in bellwether's
tests and demo. This module owns everything that is the same for both APIs:
the fixed command line (DESIGN.md, "API simulator"), a threaded HTTP/1.1
keep-alive server, routing to the API modules (simgithub.GitHubApi and
simjira.JiraApi, which own paths, payloads and ground truth), a quota window
per API, the fault grammar, ETags and conditional requests, latency, and the
control endpoints (/__clock /__stats /__log /__reset /__advance /__truth),
which are never counted, charged or faulted. See README.md.
"""

import argparse
import hashlib
import os
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import simcommon  # noqa: E402
from simcommon import (DEFAULT_NOW, Headers, QuotaState, Request,  # noqa
                       Response, dumps)

FAULT_KINDS_AT = ("ratelimit", "secondary", "secondary-bare", "truncate",
                  "badjson")


class Fault:
    """One parsed fault: kind, api ('gh', 'jira' or None for both), and for
    @N faults the request number and whether it repeats (@N+)."""

    def __init__(self, kind, api=None, n=None, repeat=False, value=None):
        self.kind = kind
        self.api = api
        self.n = n
        self.repeat = repeat
        self.value = value

    def applies(self, api, n):
        if self.api is not None and self.api != api:
            return False
        if self.n is None:
            return True
        return n == self.n or (self.repeat and n > self.n)

    def __repr__(self):
        return "Fault(%s,%s,%s,%s,%s)" % (self.kind, self.api, self.n,
                                          self.repeat, self.value)


def parse_faults(specs):
    """'gh:ratelimit@3,5xx:0.1,slow:200,auth' -> [Fault]. ValueError on a
    bad spec."""
    out = []
    for spec in simcommon.parse_list(specs):
        api = None
        s = spec
        for pfx in ("gh:", "jira:"):
            if s.startswith(pfx):
                api = pfx[:-1]
                s = s[len(pfx):]
        if s == "auth":
            out.append(Fault("auth", api))
        elif s.startswith("slow:"):
            ms = int(s[5:])
            if ms < 0:
                raise ValueError(spec)
            out.append(Fault("slow", api, value=ms))
        elif s.startswith("5xx:"):
            p = float(s[4:])
            if not 0.0 <= p <= 1.0:
                raise ValueError(spec)
            out.append(Fault("5xx", api, value=p))
        elif "@" in s:
            kind, _, num = s.partition("@")
            repeat = num.endswith("+")
            if repeat:
                num = num[:-1]
            if kind not in FAULT_KINDS_AT or not num.isdigit() \
                    or int(num) < 1:
                raise ValueError(spec)
            out.append(Fault(kind, api, int(num), repeat))
        else:
            raise ValueError(spec)
    return out


class ApiState:
    """Per-API bookkeeping: the request counter faults use, the quota
    window, and what was charged since the start or the last /__reset."""

    def __init__(self, module):
        self.module = module
        self.name = module.name
        self.count = 0
        self.win_reset = None      # epoch s (int) when the window resets
        self.win_used = 0
        self.charged_total = 0

    def touch_window(self, t, reset_in):
        if self.win_reset is None or t >= self.win_reset:
            self.win_reset = int(t + reset_in + 0.999999)
            self.win_used = 0

    def quota(self, limit, t, reset_in):
        reset = self.win_reset
        if reset is None or t >= reset:
            reset = int(t + reset_in + 0.999999)
            used = 0
        else:
            used = self.win_used
        return QuotaState(limit, used, reset)


class Sim:
    """The simulator's state shared by all handler threads."""

    def __init__(self, opts):
        self.opts = opts
        self.now = opts.now
        self.lock = threading.RLock()
        self.faults = opts.fault_list
        self.apis = []
        self.load_modules()
        self.reset_counters()

    def load_modules(self):
        only = getattr(self.opts, "only", None)
        if only in (None, "gh"):
            import simgithub
            self.apis.append(ApiState(simgithub.GitHubApi(self.opts)))
        if only == "gh":
            return
        try:
            import simjira
        except ImportError as e:
            sys.stderr.write("apisim: no Jira part (%s)\n" % e)
            return
        except Exception as e:  # a broken simjira must not hide GitHub
            sys.stderr.write("apisim: Jira part failed to load: %r\n" % e)
            return
        self.apis.append(ApiState(simjira.JiraApi(self.opts)))

    def reset_counters(self):
        with self.lock:
            self.requests = 0
            self.not_modified = 0
            self.by_endpoint = {}
            self.log = []
            for a in self.apis:
                a.count = 0
                a.charged_total = 0
                a.win_reset = None
                a.win_used = 0

    def find_api(self, path):
        for a in self.apis:
            if a.module.owns(path):
                return a
        return None

    def faults_for(self, api, n):
        return [f for f in self.faults if f.applies(api, n)]

    def stats(self):
        with self.lock:
            return {"requests": self.requests,
                    "not_modified": self.not_modified,
                    "quota_used": sum(a.charged_total for a in self.apis),
                    "by_endpoint": dict(self.by_endpoint)}

    def advance(self, hours):
        with self.lock:
            old = self.now
            new = old + int(round(hours * 3600))
            if new < old:
                raise ValueError("time only moves forward")
            self.now = new
            self.opts.now = new
            for a in self.apis:
                a.module.advance(hours, old, new)
            return new

    def truth(self, params):
        out = {"now": self.now, "prs": {}, "tickets": {}}
        for a in self.apis:
            out.update(a.module.truth(params))
        out["now"] = self.now
        return out


def etag_of(body):
    return 'W/"%s"' % hashlib.sha1(body).hexdigest()


def etag_matches(header, etag):
    if not header:
        return False
    want = etag[2:] if etag.startswith("W/") else etag
    for tag in header.split(","):
        tag = tag.strip()
        if tag == "*":
            return True
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag == want:
            return True
    return False


def server_error(api_name, status):
    if api_name == "jira":
        body = {"errorMessages": ["Internal server error"], "errors": {}}
    else:
        body = {"message": "Server Error"}
    return Response(status, {"Content-Type": "application/json;"
                             " charset=utf-8"}, body)


def unauthorized(api):
    fn = getattr(api.module, "unauthorized_response", None)
    if fn is not None:
        return fn()
    if api.name == "jira":
        return Response(401, {"Content-Type": "application/json;"
                              "charset=UTF-8",
                              "WWW-Authenticate": 'Basic realm="protected"'},
                        {"errorMessages": ["You are not authenticated. "
                                           "Authentication required to "
                                           "perform this operation."],
                         "errors": {}})
    return Response(401, {"Content-Type": "application/json; charset=utf-8"},
                    {"message": "Bad credentials",
                     "documentation_url": "https://docs.github.com/rest",
                     "status": "401"})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "apisim"
    sys_version = ""
    timeout = 120  # idle keep-alive connections end after this

    def setup(self):
        BaseHTTPRequestHandler.setup(self)
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP,
                                       socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, fmt, *args):
        if self.server.sim.opts.verbose:
            sys.stderr.write("apisim: %s\n" % (fmt % args))

    def do_GET(self):
        self.serve("GET")

    def do_POST(self):
        self.serve("POST")

    def do_PUT(self):
        self.serve("PUT")

    def do_DELETE(self):
        self.serve("DELETE")

    def do_PATCH(self):
        self.serve("PATCH")

    def do_HEAD(self):
        self.serve("HEAD")

    # -------------------------------------------------------------- plumbing

    def read_body(self):
        n = self.headers.get("Content-Length")
        if n is None:
            return b""
        try:
            n = int(n)
        except ValueError:
            return b""
        return self.rfile.read(n) if n > 0 else b""

    def send(self, status, headers, body, method, cut=False):
        self.send_response_only(status)
        self.send_header("Date", simcommon.http_date(time.time()))
        have_ct = any(k.lower() == "content-type" for k in headers)
        for k, v in headers.items():
            if k.lower() == "content-length":
                continue
            self.send_header(k, str(v))
        if status != 304 and status >= 200:
            if not have_ct:
                self.send_header("Content-Type",
                                 "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
        if cut:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if method == "HEAD" or status == 304:
            return
        if cut:
            self.wfile.write(body[:len(body) // 2])
            try:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            return
        self.wfile.write(body)

    def peer(self):
        try:
            host, port = self.client_address[:2]
            return "%s:%d" % (host, port)
        except Exception:
            return str(self.client_address)

    # ---------------------------------------------------------------- serve

    def serve(self, method):
        sim = self.server.sim
        raw = self.path
        if raw.startswith("http://") or raw.startswith("https://"):
            raw = "/" + raw.split("/", 3)[3] if raw.count("/") >= 3 else "/"
        path_enc, _, qs = raw.partition("?")
        path = urllib.parse.unquote(path_enc)
        body = self.read_body()
        qlist = urllib.parse.parse_qsl(qs, keep_blank_values=True)
        query = {}
        for k, v in qlist:
            query.setdefault(k, []).append(v)
        headers = Headers(self.headers.items())
        if path.startswith("/__"):
            self.control(sim, method, path, query)
            return
        req = Request(method, path, raw, query, qlist, headers, body,
                      sim.now, self.peer())
        api = sim.find_api(path)
        if api is None:
            resp = Response(404, {}, {"message": "Not Found"})
            out = resp.body_bytes()
            self.send(404, resp.headers, out, method)
            self.log_request_done(sim, req, 404)
            return
        status = self.serve_api(sim, api, req)
        self.log_request_done(sim, req, status)

    def log_request_done(self, sim, req, status):
        with sim.lock:
            sim.log.append({"t": round(time.time(), 3),
                            "method": req.method, "path": req.raw_path,
                            "status": status,
                            "user_agent": req.headers.get("User-Agent"),
                            "peer": req.peer})

    def serve_api(self, sim, api, req):
        opts = sim.opts
        mod = api.module
        with sim.lock:
            api.count += 1
            n = api.count
            sim.requests += 1
            try:
                ep = mod.endpoint_name(req)
            except Exception:
                ep = "%s %s" % (req.method, req.path)
            sim.by_endpoint[ep] = sim.by_endpoint.get(ep, 0) + 1
        faults = sim.faults_for(api.name, n)
        kinds = set(f.kind for f in faults)
        delay = opts.latency_ms / 1000.0
        for f in faults:
            if f.kind == "slow":
                delay += f.value / 1000.0
        if delay > 0:
            time.sleep(delay)

        charged = False
        t = time.time()
        if "auth" in kinds or not mod.auth_ok(req):
            resp = unauthorized(api)
        else:
            try:
                is_charged = mod.charged(req)
            except Exception:
                is_charged = True
            with sim.lock:
                api.touch_window(t, opts.reset_in)
                if "ratelimit" in kinds:
                    api.win_used = max(api.win_used, opts.quota)
                qs = api.quota(opts.quota, t, opts.reset_in)
            resp = None
            if is_charged and qs.remaining <= 0:
                resp = mod.limited_response(qs, "primary")
            elif "secondary" in kinds:
                resp = mod.limited_response(qs, "secondary")
            elif "secondary-bare" in kinds:
                resp = mod.limited_response(qs, "secondary-bare")
            else:
                p5 = [f.value for f in faults if f.kind == "5xx"]
                if p5:
                    r = simcommon.rng(opts.seed, "5xx", "%s:%d" % (api.name,
                                                                  n))
                    if r.random() < max(p5):
                        resp = server_error(api.name,
                                            r.choice((500, 502, 503)))
            if resp is None:
                req.quota = qs
                try:
                    resp = mod.handle(req)
                except Exception as e:  # a bug: say so, do not hang
                    import traceback
                    traceback.print_exc()
                    resp = server_error(api.name, 500)
                    resp.body = {"message": "apisim bug: %r" % (e,)}
                charged = is_charged
        out = resp.body_bytes()
        status = resp.status
        headers = {}
        if (req.method in ("GET", "HEAD") and status == 200 and out
                and not any(k.lower() == "etag" for k in resp.headers)):
            etag = etag_of(out)
            resp.headers["ETag"] = etag
            if etag_matches(req.headers.get("If-None-Match"), etag):
                status = 304
                out = b""
                charged = False
                resp.headers["ETag"] = etag[2:]
                with sim.lock:
                    sim.not_modified += 1
        with sim.lock:
            if charged:
                api.win_used += 1
                api.charged_total += 1
            qs = api.quota(opts.quota, time.time(), opts.reset_in)
        try:
            headers.update(mod.rate_headers(qs))
        except Exception:
            pass
        headers.update(resp.headers)
        cut = False
        if out and "truncate" in kinds:
            cut = True
        elif out and "badjson" in kinds:
            out = out[:max(1, len(out) // 2)] + b'\xff"}]{,garbage'
        if status == 304:
            for k in list(headers):
                if k.lower() in ("content-type", "link"):
                    del headers[k]
        self.send(status, headers, out, req.method, cut=cut)
        return status

    # -------------------------------------------------------------- control

    def control(self, sim, method, path, query):
        def q(name, default=None):
            v = query.get(name)
            return v[-1] if v else default

        status = 200
        try:
            if path == "/__clock":
                body = {"now": sim.now}
            elif path == "/__stats":
                body = sim.stats()
            elif path == "/__log":
                with sim.lock:
                    body = list(sim.log)
            elif path == "/__reset":
                sim.reset_counters()
                body = {"ok": True}
            elif path == "/__advance":
                hours = float(q("hours", "0"))
                if hours < 0:
                    raise ValueError("hours must be >= 0")
                body = {"now": sim.advance(hours)}
            elif path == "/__truth":
                params = {k: v[-1] for k, v in query.items()}
                body = sim.truth(params)
            else:
                status = 404
                body = {"message": "unknown control endpoint"}
        except ValueError as e:
            status = 400
            body = {"message": str(e)}
        except Exception as e:  # a simulator bug: answer, do not hang up
            import traceback
            traceback.print_exc()
            status = 500
            body = {"message": "apisim bug: %r" % (e,),
                    "traceback": traceback.format_exc()}
        out = dumps(body)
        self.send(status, {"Content-Type": "application/json; charset=utf-8",
                           "Cache-Control": "no-store"}, out, method)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="apisim",
        description="GitHub and Jira REST API simulator for bellwether's "
                    "tests (see tests/apisim/README.md)")
    p.add_argument("--port", type=int, required=True,
                   help="TCP port on 127.0.0.1 (0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1", help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--scale", default="small",
                   help="tiny | small | large | REPOSxPRS (default small)")
    p.add_argument("--now", type=int, default=DEFAULT_NOW,
                   help="simulated present, epoch seconds "
                        "(default 2026-11-16T00:00:00Z)")
    p.add_argument("--faults", action="append", default=[],
                   help="SPEC[,SPEC]: ratelimit@N secondary@N "
                        "secondary-bare@N 5xx:P truncate@N badjson@N "
                        "slow:MS auth; @N+ repeats; gh: or jira: prefix")
    p.add_argument("--latency-ms", type=int, default=0)
    p.add_argument("--token", default=None)
    p.add_argument("--jira-flavor", choices=("cloud", "datacenter"),
                   default="cloud")
    p.add_argument("--jira-auth", default=None,
                   help="basic:EMAIL:TOKEN or bearer:TOKEN")
    p.add_argument("--quota", type=int, default=1000000)
    p.add_argument("--reset-in", type=float, default=3600)
    p.add_argument("--retry-after", type=int, default=1)
    p.add_argument("--prefix", default="",
                   help="serve GitHub under this prefix (/api/v3)")
    # None: the Jira module's flavour-dependent defaults (Cloud cuts inline
    # changelogs to 40 histories, Data Center does not; see simjira.py)
    p.add_argument("--changelog-inline", type=int, default=None)
    p.add_argument("--jira-page-cap", type=int, default=None)
    p.add_argument("--verbose", action="store_true", help=argparse.SUPPRESS)
    # a debugging aid: serve one API only (the other's paths answer 404)
    p.add_argument("--only", choices=("gh", "jira"), default=None,
                   help=argparse.SUPPRESS)
    opts = p.parse_args(argv)
    try:
        opts.scale_name = opts.scale
        opts.scale = simcommon.parse_scale(opts.scale)
    except ValueError as e:
        p.error(str(e))
    try:
        opts.fault_list = parse_faults(opts.faults)
    except ValueError as e:
        p.error("bad fault spec '%s'" % e)
    opts.prefix = opts.prefix.rstrip("/")
    if opts.prefix and not opts.prefix.startswith("/"):
        p.error("--prefix must start with /")
    if opts.quota < 0 or opts.reset_in <= 0 or opts.latency_ms < 0:
        p.error("--quota, --reset-in and --latency-ms must be positive")
    if opts.jira_auth is not None:
        parts = opts.jira_auth.split(":", 2)
        if not ((parts[0] == "basic" and len(parts) == 3)
                or (parts[0] == "bearer" and len(parts) == 2)):
            p.error("--jira-auth: basic:EMAIL:TOKEN or bearer:TOKEN")
    return opts


def make_server(opts):
    """Build the simulator and its server (bound, not yet serving)."""
    sim = Sim(opts)
    srv = Server((opts.host, opts.port), Handler)
    srv.sim = sim
    return srv


def main(argv=None):
    opts = parse_args(argv)
    srv = make_server(opts)

    def on_signal(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    host, port = srv.server_address[:2]
    sys.stdout.write("apisim listening on %s:%d\n" % (host, port))
    sys.stdout.flush()
    try:
        srv.serve_forever(poll_interval=0.2)
    except SystemExit:
        pass
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
