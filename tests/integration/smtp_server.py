#!/usr/bin/python3
"""smtp_server.py - a throw-away SMTP server for tests/integration/t_mail.sh.

An aiosmtpd Controller (Debian's python3-aiosmtpd: run it with
/usr/bin/python3) on 127.0.0.1 that can offer STARTTLS, speak implicit TLS
(smtps), require or refuse AUTH, and stores what it receives:

    DIR/msg-N.eml    the message as received (bytes)
    DIR/msg-N.json   {"mail_from", "rcpt_tos", "auth_user", "tls"}

Usage:
    smtp_server.py --port P --dir DIR [--mode plain|starttls|smtps]
                   [--cert PEM --key PEM] [--auth USER:PASSWORD]
                   [--no-auth] [--auth-over-plain]

  --mode plain      no TLS at all (default)
  --mode starttls   STARTTLS offered (needs --cert/--key)
  --mode smtps      TLS from the first byte (needs --cert/--key)
  --auth U:P        AUTH PLAIN/LOGIN accepted for exactly these credentials
                    (others get 535); AUTH is offered after TLS only
  --auth-over-plain offer AUTH without TLS too (loopback tests)
  --no-auth         never advertise AUTH in the EHLO reply

Prints "smtp_server listening on 127.0.0.1:PORT" once it accepts
connections; SIGTERM or SIGINT stop it (exit 0). Bounded: it exits by
itself after --lifetime seconds (default 300).
"""

import argparse
import json
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, directory, no_auth, implicit_tls):
        self.directory = directory
        self.implicit_tls = implicit_tls
        self.no_auth = no_auth
        self.count = 0
        self.lock = threading.Lock()

    async def handle_EHLO(self, server, session, envelope, hostname,
                          responses):
        session.host_name = hostname
        if self.no_auth:
            responses = [r for r in responses
                         if not r[4:].upper().startswith("AUTH")]
        return responses

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            n = self.count
        base = os.path.join(self.directory, "msg-%d" % n)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(base + ".eml.tmp", base + ".eml")
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "auth_user": (session.auth_data.login.decode()
                          if isinstance(session.auth_data, LoginPassword)
                          else None),
            # session.ssl is set by STARTTLS only
            "tls": self.implicit_tls or session.ssl is not None,
        }
        with open(base + ".json", "w") as f:
            json.dump(meta, f)
        return "250 OK"


def make_authenticator(user, password):
    def authenticator(server, session, envelope, mechanism, auth_data):
        if (isinstance(auth_data, LoginPassword)
                and auth_data.login == user.encode()
                and auth_data.password == password.encode()):
            return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)
    return authenticator


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--mode", choices=("plain", "starttls", "smtps"),
                   default="plain")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--auth")
    p.add_argument("--auth-over-plain", action="store_true")
    p.add_argument("--no-auth", action="store_true")
    p.add_argument("--lifetime", type=float, default=300)
    a = p.parse_args()

    ctx = None
    if a.mode != "plain":
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)
    # aiosmtpd counts only STARTTLS as TLS for auth_require_tls: over
    # implicit TLS (smtps) AUTH would never be offered
    kwargs = {"auth_require_tls": not a.auth_over_plain and a.mode != "smtps"}
    if a.auth:
        user, _, password = a.auth.partition(":")
        kwargs["authenticator"] = make_authenticator(user, password)
        kwargs["auth_required"] = True
    if a.mode == "starttls":
        kwargs["tls_context"] = ctx
    elif a.mode == "smtps":
        kwargs["ssl_context"] = ctx
    handler = Handler(a.dir, a.no_auth, a.mode == "smtps")
    ctl = Controller(handler, hostname="127.0.0.1", port=a.port, **kwargs)
    ctl.start()
    print("smtp_server listening on 127.0.0.1:%d" % a.port, flush=True)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait(a.lifetime)
    ctl.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
