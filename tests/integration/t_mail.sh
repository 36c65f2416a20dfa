#!/bin/sh
# t_mail.sh - `report --email` against real SMTP servers on 127.0.0.1:
# plain delivery to `python3 -m aiosmtpd`; STARTTLS + AUTH, implicit TLS
# (smtps) + AUTH, and the refusals (no STARTTLS with credentials to a
# non-loopback name, no AUTH offered, a wrong password, an unknown CA, a
# server that is down) against tests/integration/smtp_server.py with a
# throw-away CA made here by openssl. Each received message is parsed with
# Python's email package: multipart/alternative, text/plain = the Markdown
# report, text/html, and the Subject/Date/Message-ID/From/To headers. An
# SMTP failure exits 1 and still leaves the report file.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
    bw_skip_all "python3-aiosmtpd is not installed for /usr/bin/python3 (sh scripts/bootstrap.sh test)"
fi
if ! command -v openssl >/dev/null 2>&1; then
    bw_skip_all "openssl is not installed (sh scripts/bootstrap.sh test)"
fi

export BELLWETHER_NOW=1794787200
export GH_TOKEN=gh-token SMTP_USER=mailer SMTP_PASSWORD='s3cret pass'
bw_start_redis
bw_start_apisim --seed 5 --scale tiny

# ---- a throw-away CA and a certificate for mail.test ----------------------
CA=$BW_TMP/ca
mkdir -p "$CA"
{
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=bellwether test CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$CA/ca.key" -out "$CA/ca.pem" &&
        openssl req -newkey rsa:2048 -nodes -subj "/CN=mail.test" \
            -keyout "$CA/srv.key" -out "$CA/srv.csr" &&
        printf 'subjectAltName=DNS:mail.test\nextendedKeyUsage=serverAuth\n' >"$CA/ext" &&
        openssl x509 -req -in "$CA/srv.csr" -CA "$CA/ca.pem" -CAkey "$CA/ca.key" \
            -CAcreateserial -days 2 -extfile "$CA/ext" -out "$CA/srv.pem"
} >"$CA/log" 2>&1 || {
    not_ok "make a throw-away CA with openssl" "$(tail -n 5 "$CA/log")"
    bw_done
}
ok "throw-away CA and server certificate made with openssl"

# ---- servers ------------------------------------------------------------

SMTP_PID=""
smtp_stop()
{
    if [ -n "$SMTP_PID" ]; then
        bw_kill_pid "$SMTP_PID"
        bw_untrack_pid "$SMTP_PID"
        SMTP_PID=""
    fi
}

# smtp_start NAME ARG...: smtp_server.py on a free port into $BW_TMP/NAME.
smtp_start()
{
    smtp_stop
    MAILDIR=$BW_TMP/$1
    shift
    mkdir -p "$MAILDIR"
    SMTP_PORT=$(bw_free_port)
    "$PY" "$BW_ROOT/tests/integration/smtp_server.py" --port "$SMTP_PORT" \
        --dir "$MAILDIR" --lifetime 120 "$@" >"$MAILDIR.out" 2>"$MAILDIR.err" &
    SMTP_PID=$!
    bw_track_pid "$SMTP_PID"
    if ! bw_wait_for 20 grep -q "listening" "$MAILDIR.out"; then
        not_ok "start smtp_server.py $*" "$(tail -n 5 "$MAILDIR.err")"
        bw_done
    fi
}

# The plain server of the issue: python3 -m aiosmtpd with a Maildir.
aiosmtpd_start()
{
    smtp_stop
    MAILDIR=$BW_TMP/$1
    SMTP_PORT=$(bw_free_port)
    "$PY" -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" \
        -c aiosmtpd.handlers.Mailbox "$MAILDIR" >"$MAILDIR.out" 2>"$MAILDIR.err" &
    SMTP_PID=$!
    bw_track_pid "$SMTP_PID"
    if ! bw_wait_for 20 "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $SMTP_PORT), 1).close()"; then
        not_ok "start python3 -m aiosmtpd" "$(tail -n 5 "$MAILDIR.err")"
        bw_done
    fi
}

# cfg FILE EMAIL-SECTION-BODY: the config with that [email] section.
cfg()
{
    bw_write_config "$1" <<EOF
[source gh]
type = github
api_url = $APISIM_URL
org = acme
token_env = GH_TOKEN

[team platform_1]
repos = acme/api

[report]
timezone = UTC
out_dir = $BW_TMP/out

[email]
$2
EOF
}

# check_message FILE MD: a multipart/alternative message whose text/plain
# part is the Markdown report MD, with a text/html part and the headers.
check_message()
{
    "$PY" - "$1" "$2" "$3" <<'EOF'
import email, email.policy, sys
msg = email.message_from_binary_file(open(sys.argv[1], "rb"),
                                     policy=email.policy.default)
want_md = open(sys.argv[2], encoding="utf-8").read()
subject_has = sys.argv[3]
problems = []
if msg.get_content_type() != "multipart/alternative":
    problems.append("content type %s" % msg.get_content_type())
parts = {p.get_content_type(): p for p in msg.iter_parts()}
if set(parts) != {"text/plain", "text/html"}:
    problems.append("parts %s" % sorted(parts))
else:
    text = parts["text/plain"].get_content().replace("\r\n", "\n")
    if text != want_md:
        problems.append("text/plain differs from the Markdown report")
    html = parts["text/html"].get_content()
    if "<table" not in html or "<script" in html:
        problems.append("text/html has no table or has a <script>")
for h in ("Subject", "Date", "Message-ID", "From", "To"):
    if not msg[h]:
        problems.append("no %s header" % h)
if subject_has not in str(msg["Subject"]):
    problems.append("Subject %r lacks %r" % (str(msg["Subject"]), subject_has))
if "leads@acme.test" not in str(msg["To"]) or "cto@acme.test" not in str(msg["To"]):
    problems.append("To is %r" % str(msg["To"]))
if "bellwether@acme.test" not in str(msg["From"]):
    problems.append("From is %r" % str(msg["From"]))
if problems:
    print("\n".join(problems))
    sys.exit(1)
EOF
}

# meta_is FILE EXPR: a Python expression over the stored envelope m.
meta_is()
{
    "$PY" -c "import json,sys; m=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"
}

nmsgs()
{
    find "$1" -type f \( -name 'msg-*.eml' -o -path '*/new/*' \) 2>/dev/null | wc -l
}

EMAIL_BASE="from = bellwether@acme.test
to = leads@acme.test, cto@acme.test"
CREDS="username_env = SMTP_USER
password_env = SMTP_PASSWORD"

cfg "$BW_TMP/c0.ini" "smtp_url = smtp://127.0.0.1:1
$EMAIL_BASE"
check "collect the simulated organisation" bw_run -c "$BW_TMP/c0.ini" collect

# ---- 1. plain delivery to python3 -m aiosmtpd ------------------------------
aiosmtpd_start plain
cfg "$BW_TMP/c1.ini" "smtp_url = smtp://127.0.0.1:$SMTP_PORT
$EMAIL_BASE"
if expect_exit 0 "report --email delivers to python3 -m aiosmtpd" \
    bw_run -c "$BW_TMP/c1.ini" report --email --out "$BW_TMP/r1.md"; then
    bw_wait_for 10 test "$(nmsgs "$BW_TMP/plain")" -ge 1
    f=$(find "$BW_TMP/plain" -type f -path '*/new/*' | head -n 1)
    if [ -n "$f" ] && out=$(check_message "$f" "$BW_TMP/r1.md" "2026-W46" 2>&1); then
        ok "the message is multipart/alternative: the Markdown, the HTML, the headers"
    else
        not_ok "the message is multipart/alternative: the Markdown, the HTML, the headers" "$out"
    fi
fi
# a team's report: the subject names the team
if expect_exit 0 "report --team --email" \
    bw_run -c "$BW_TMP/c1.ini" report --team platform_1 --email --out "$BW_TMP/r1t.md"; then
    bw_wait_for 10 test "$(nmsgs "$BW_TMP/plain")" -ge 2
    f=$(grep -l "team platform_1" "$BW_TMP"/plain/new/* 2>/dev/null | head -n 1)
    if [ -n "$f" ] && out=$(check_message "$f" "$BW_TMP/r1t.md" "team platform_1" 2>&1); then
        ok "a team's report is mailed with the team in the subject"
    else
        not_ok "a team's report is mailed with the team in the subject" "$out"
    fi
fi

# ---- 2. STARTTLS + AUTH, a remote-looking name, ca_file -----------------------
smtp_start tls --mode starttls --cert "$CA/srv.pem" --key "$CA/srv.key" \
    --auth "mailer:s3cret pass"
export BELLWETHER_SMTP_CONNECT_TO="mail.test:$SMTP_PORT:127.0.0.1:$SMTP_PORT"
cfg "$BW_TMP/c2.ini" "smtp_url = smtp://mail.test:$SMTP_PORT
$EMAIL_BASE
$CREDS
ca_file = $CA/ca.pem"
if expect_exit 0 "STARTTLS + AUTH with ca_file delivers" \
    bw_run -c "$BW_TMP/c2.ini" report --email --out "$BW_TMP/r2.md"; then
    if meta_is "$MAILDIR/msg-1.json" 'm["tls"] and m["auth_user"] == "mailer" and m["mail_from"] == "bellwether@acme.test" and sorted(m["rcpt_tos"]) == ["cto@acme.test", "leads@acme.test"]'; then
        ok "the server saw TLS, the user and both recipients"
    else
        not_ok "the server saw TLS, the user and both recipients" "$(cat "$MAILDIR/msg-1.json" 2>&1)"
    fi
    out=$(check_message "$MAILDIR/msg-1.eml" "$BW_TMP/r2.md" "2026-W46" 2>&1) &&
        ok "the STARTTLS message parses with both parts" ||
        not_ok "the STARTTLS message parses with both parts" "$out"
fi
expect_no_grep "no password in the output" "s3cret" "$BW_ERR"

# wrong password
SMTP_PASSWORD=wrong expect_exit 1 "a refused password exits 1" \
    bw_run -c "$BW_TMP/c2.ini" report --email --out "$BW_TMP/r2b.md"
expect_grep "it says the credentials were refused" "refused the credentials" "$BW_ERR"

# no ca_file: the certificate does not verify
cfg "$BW_TMP/c2c.ini" "smtp_url = smtp://mail.test:$SMTP_PORT
$EMAIL_BASE
$CREDS"
expect_exit 1 "an unknown CA exits 1" \
    bw_run -c "$BW_TMP/c2c.ini" report --email --out "$BW_TMP/r2c.md"
expect_grep "it says to set ca_file" "ca_file" "$BW_ERR"
test "$(nmsgs "$MAILDIR")" = 1 && ok "nothing more was delivered" ||
    not_ok "nothing more was delivered" "$(ls "$MAILDIR")"

# ---- 3. implicit TLS (smtps://) + AUTH -----------------------------------------
smtp_start smtps --mode smtps --cert "$CA/srv.pem" --key "$CA/srv.key" \
    --auth "mailer:s3cret pass"
export BELLWETHER_SMTP_CONNECT_TO="mail.test:$SMTP_PORT:127.0.0.1:$SMTP_PORT"
cfg "$BW_TMP/c3.ini" "smtp_url = smtps://mail.test:$SMTP_PORT
$EMAIL_BASE
$CREDS
ca_file = $CA/ca.pem"
if expect_exit 0 "smtps:// + AUTH delivers" \
    bw_run -c "$BW_TMP/c3.ini" report --email --out "$BW_TMP/r3.md"; then
    meta_is "$MAILDIR/msg-1.json" 'm["tls"] and m["auth_user"] == "mailer"' &&
        ok "the smtps server saw TLS and the user" ||
        not_ok "the smtps server saw TLS and the user" "$(cat "$MAILDIR/msg-1.json")"
fi

# ---- 4. credentials but no STARTTLS, to a non-loopback name ------------------
smtp_start nostarttls --mode plain --auth "mailer:s3cret pass" --auth-over-plain
export BELLWETHER_SMTP_CONNECT_TO="mail.test:$SMTP_PORT:127.0.0.1:$SMTP_PORT"
cfg "$BW_TMP/c4.ini" "smtp_url = smtp://mail.test:$SMTP_PORT
$EMAIL_BASE
$CREDS"
rm -rf "$BW_TMP/out"
mkdir -p "$BW_TMP/out"
expect_exit 1 "credentials without STARTTLS to a remote name exit 1" \
    bw_run -c "$BW_TMP/c4.ini" report --email
expect_grep "it says STARTTLS is missing" "STARTTLS" "$BW_ERR"
test "$(nmsgs "$MAILDIR")" = 0 && ok "no credentials or message went out in plain text" ||
    not_ok "no credentials or message went out in plain text" "$(ls "$MAILDIR")"
test -s "$BW_TMP/out/2026-W46.md" && test -s "$BW_TMP/out/2026-W46.html" &&
    ok "the report files are written although the mail failed" ||
    not_ok "the report files are written although the mail failed" "$(ls -la "$BW_TMP/out")"

# the same server through 127.0.0.1: loopback, plain text allowed
cfg "$BW_TMP/c4b.ini" "smtp_url = smtp://127.0.0.1:$SMTP_PORT
$EMAIL_BASE
$CREDS"
unset BELLWETHER_SMTP_CONNECT_TO
if expect_exit 0 "credentials over plain text to a loopback address deliver" \
    bw_run -c "$BW_TMP/c4b.ini" report --email --out "$BW_TMP/r4b.md"; then
    meta_is "$MAILDIR/msg-1.json" 'not m["tls"] and m["auth_user"] == "mailer"' &&
        ok "the loopback server saw the user" ||
        not_ok "the loopback server saw the user" "$(cat "$MAILDIR/msg-1.json")"
fi

# ---- 5. credentials set, AUTH not offered ---------------------------------------
smtp_start noauth --mode starttls --cert "$CA/srv.pem" --key "$CA/srv.key" --no-auth
export BELLWETHER_SMTP_CONNECT_TO="mail.test:$SMTP_PORT:127.0.0.1:$SMTP_PORT"
cfg "$BW_TMP/c5.ini" "smtp_url = smtp://mail.test:$SMTP_PORT
$EMAIL_BASE
$CREDS
ca_file = $CA/ca.pem"
expect_exit 1 "credentials set but AUTH not offered exits 1" \
    bw_run -c "$BW_TMP/c5.ini" report --email --out "$BW_TMP/r5.md"
expect_grep "it says AUTH was not offered" "did not offer AUTH" "$BW_ERR"
test "$(nmsgs "$MAILDIR")" = 0 && ok "nothing was sent without AUTH" ||
    not_ok "nothing was sent without AUTH" "$(ls "$MAILDIR")"
test -s "$BW_TMP/r5.md" && ok "the report file is still written" ||
    not_ok "the report file is still written"
unset BELLWETHER_SMTP_CONNECT_TO

# ---- 6. the server is down --------------------------------------------------------
smtp_stop
cfg "$BW_TMP/c6.ini" "smtp_url = smtp://127.0.0.1:$SMTP_PORT
$EMAIL_BASE"
rm -f "$BW_TMP/r6.md"
expect_exit 1 "an SMTP server that is down exits 1" \
    bw_run -c "$BW_TMP/c6.ini" report --email --out "$BW_TMP/r6.md"
test -s "$BW_TMP/r6.md" && ok "the report file is written before the mail fails" ||
    not_ok "the report file is written before the mail fails"

# --email without [email]
bw_write_config "$BW_TMP/c7.ini" <<EOF
[source gh]
type = github
api_url = $APISIM_URL
org = acme
token_env = GH_TOKEN
EOF
expect_exit 2 "--email without an [email] section exits 2" \
    bw_run -c "$BW_TMP/c7.ini" report --email --out "$BW_TMP/r7.md"

bw_done
