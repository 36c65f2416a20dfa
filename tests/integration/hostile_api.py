#!/usr/bin/env python3
"""hostile_api.py - an API server that misbehaves on purpose (t_faults.sh,
t_secrets.sh): what the simulator cannot send. Standard library only.

    hostile_api.py MODE PORT OFFSITE_PORT LOGFILE

Listens on 127.0.0.1:PORT (the "API") and 127.0.0.1:OFFSITE_PORT (another
origin). Every request on either port is appended to LOGFILE as one JSON
line: {"port", "method", "path", "authorization"} (the header's value as
received: a test looks for its token there). Prints "hostile listening" when
both are up; stops by itself after 300 s.

MODE, for every GitHub-like request on PORT:
  reset-huge       403, x-ratelimit-remaining 0, x-ratelimit-reset
                   99999999999999999 (epoch seconds far past year 9999)
  reset-garbage    403, remaining 0, reset "-5"
  retry-huge       429, Retry-After 99999999999999999999
  retry-date-far   429, Retry-After an HTTP date in year 9999
  link-offsite     200 [] with Link rel="next" to OFFSITE_PORT (a page URL
                   on another origin: a client must not send its token there)
  redirect-offsite 302 to OFFSITE_PORT
  link-loop        200 [] with Link rel="next" to the same URL (a client must
                   not walk it forever)
  huge-body        200 with a body of 80 MiB of '[' (past any sane max body)
  deep-json        200 with 100000 nested arrays
OFFSITE_PORT always answers 200 [].
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODE, PORT, OFFSITE, LOG = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    sys.argv[4]
lock = threading.Lock()


def log(port, handler):
    with lock, open(LOG, "a") as f:
        f.write(json.dumps({
            "port": port, "method": handler.command, "path": handler.path,
            "authorization": handler.headers.get("Authorization")}) + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, headers, body):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        port = self.server.server_address[1]
        log(port, self)
        if port == OFFSITE:
            self.send(200, {}, "[]")
            return
        limited = {"x-ratelimit-limit": "5000",
                   "x-ratelimit-remaining": "0",
                   "x-ratelimit-used": "5000",
                   "x-ratelimit-resource": "core"}
        msg = '{"message":"API rate limit exceeded for user ID 1."}'
        off = "http://127.0.0.1:%d/repositories/1/pulls?page=2" % OFFSITE
        if MODE == "reset-huge":
            limited["x-ratelimit-reset"] = "99999999999999999"
            self.send(403, limited, msg)
        elif MODE == "reset-garbage":
            limited["x-ratelimit-reset"] = "-5"
            self.send(403, limited, msg)
        elif MODE == "retry-huge":
            self.send(429, {"Retry-After": "99999999999999999999"}, msg)
        elif MODE == "retry-date-far":
            self.send(429, {"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"},
                      msg)
        elif MODE == "link-offsite":
            self.send(200, {"Link": '<%s>; rel="next"' % off}, "[]")
        elif MODE == "redirect-offsite":
            self.send(302, {"Location": off}, "")
        elif MODE == "link-loop":
            url = "http://127.0.0.1:%d%s" % (PORT, self.path)
            self.send(200, {"Link": '<%s>; rel="next"' % url}, "[]")
        elif MODE == "huge-body":
            n = 80 << 20
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(n))
            self.end_headers()
            chunk = b"[" * (1 << 20)
            try:
                for _ in range(n >> 20):
                    self.wfile.write(chunk)
            except OSError:
                pass
        elif MODE == "deep-json":
            self.send(200, {}, "[" * 100000 + "]" * 100000)
        else:
            self.send(500, {}, '{"message":"unknown mode"}')


def serve(port):
    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()


serve(PORT)
serve(OFFSITE)
print("hostile listening", flush=True)
time.sleep(300)
