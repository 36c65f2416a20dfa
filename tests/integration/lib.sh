# lib.sh - what every tests/integration/t_<name>.sh sources (POSIX sh).
#
# After hiredis' test.sh: each script gets its own temp dir, a throw-away
# redis-server on a free port bound to 127.0.0.1, the API simulator on
# another, and a trap that stops them and removes the dir however the
# script ends, so two scripts can run at once. Results are TAP-like lines
# counted by tests/lib-count.sh: "ok - NAME", "not ok - NAME" (details on
# following "# " lines) and "ok - NAME # SKIP why".
#
# A script looks like this (the "# tiny" mark, in the first 5 lines, also
# runs it under ASan in `make test`):
#
#   #!/bin/sh
#   # t_example.sh - what it checks
#   # tiny
#   . "$(dirname "$0")/lib.sh"
#   bw_start_redis
#   bw_start_apisim --seed 7 --scale tiny
#   bw_write_config "$BW_TMP/bw.ini" <<EOF
#   [source gh]
#   type = github
#   api_url = $APISIM_URL
#   org = acme
#   token_env = GITHUB_TOKEN
#   EOF
#   expect_exit 0 "collect succeeds" bw_run -c "$BW_TMP/bw.ini" collect
#   expect_grep "collect says nothing on stdout" '^$' "$BW_OUT"
#   bw_done
#
# Variables: BW_ROOT (the checkout; the script runs there), BW_BIN (absolute;
# default ./bellwether), TEST_PREFIX (e.g. "valgrind -q --error-exitcode=1",
# put before the binary by bw_run), BW_TMP (this script's temp dir),
# BW_OUT/BW_ERR (stdout/stderr of the last check/expect_exit command),
# REDIS_PORT, REDIS_URL, APISIM_PORT, APISIM_URL, BW_PYTHON (/usr/bin/python3
# when it exists: Debian's python3-aiosmtpd is only on its path).
#
# Helpers: ok, not_ok NAME [DETAIL...], skip NAME WHY, bw_skip_all WHY,
# check NAME CMD..., expect_exit CODE NAME CMD..., expect_grep NAME ERE FILE,
# expect_no_grep NAME ERE FILE, expect_eq NAME GOT WANT, expect_le NAME A B,
# bw_done; bw_run ARG...; bw_write_config FILE
# (stdin); bw_start_redis [--requirepass PW] [--user ACL] [--conf LINE],
# bw_stop_redis, bw_restart_redis, bw_redis_cli ARG...; bw_start_apisim
# ARG..., bw_stop_apisim, bw_apisim_get PATH, bw_apisim_post PATH,
# bw_http METHOD URL; bw_wait_for SECONDS CMD...; bw_free_port;
# bw_track_pid PID (killed at exit); bw_shared_dir.

BW_ROOT=$(cd "$(dirname "$0")/../.." && pwd) || exit 1
cd "$BW_ROOT" || exit 1
BW_BIN=${BW_BIN:-./bellwether}
case $BW_BIN in
/*) ;;
*) BW_BIN=$BW_ROOT/${BW_BIN#./} ;;
esac
TEST_PREFIX=${TEST_PREFIX:-}
BW_TEST_NAME=$(basename "$0" .sh)
BW_TMP=$(mktemp -d "${TMPDIR:-/tmp}/bw-$BW_TEST_NAME.XXXXXX") || {
    echo "not ok - $BW_TEST_NAME: cannot create a temp dir"
    exit 1
}
BW_OUT=$BW_TMP/last.out
BW_ERR=$BW_TMP/last.err
BW_PIDS=""
BW_FAILS=0
BW_CASES=0
# Debian's python3-aiosmtpd is only on /usr/bin/python3's path
if [ -z "${BW_PYTHON:-}" ]; then
    BW_PYTHON=python3
    [ -x /usr/bin/python3 ] && BW_PYTHON=/usr/bin/python3
fi
export BW_BIN BW_ROOT BW_TMP
# tests never read a config by accident, nor the machine's clock override
unset BELLWETHER_CONFIG
: >"$BW_OUT"
: >"$BW_ERR"
if [ ! -x "$BW_BIN" ]; then
    echo "not ok - $BW_TEST_NAME: $BW_BIN is not built (make, or make asan)"
    rm -rf "$BW_TMP"
    exit 1
fi

# ---- results ---------------------------------------------------------------

ok()
{
    BW_CASES=$((BW_CASES + 1))
    echo "ok - $*"
}

# not_ok NAME [DETAIL...]: each detail argument becomes a "# " line.
not_ok()
{
    BW_CASES=$((BW_CASES + 1))
    BW_FAILS=$((BW_FAILS + 1))
    echo "not ok - $1"
    shift
    for _d in "$@"; do
        printf '%s\n' "$_d" | sed 's/^/#   /'
    done
}

skip()
{
    BW_CASES=$((BW_CASES + 1))
    echo "ok - $1 # SKIP ${2:-}"
}

# Skip the whole script (e.g. ../shared is absent) and exit 0.
bw_skip_all()
{
    echo "ok - $BW_TEST_NAME # SKIP $*"
    exit 0
}

# Show what the last command printed, for a failure's details.
bw_last_output()
{
    if [ -s "$BW_OUT" ]; then
        echo "stdout:"
        tail -n 12 "$BW_OUT" | cut -c 1-300
    fi
    if [ -s "$BW_ERR" ]; then
        echo "stderr:"
        tail -n 12 "$BW_ERR" | cut -c 1-300
    fi
}

# check NAME COMMAND [ARG...]: ok when the command exits 0. Its stdout and
# stderr are kept in $BW_OUT and $BW_ERR.
check()
{
    _name=$1
    shift
    "$@" >"$BW_OUT" 2>"$BW_ERR" </dev/null
    _rc=$?
    if [ "$_rc" = 0 ]; then
        ok "$_name"
    else
        not_ok "$_name" "command: $*" "exit status $_rc, expected 0" \
            "$(bw_last_output)"
    fi
    return "$_rc"
}

# expect_exit CODE NAME COMMAND [ARG...]
expect_exit()
{
    _want=$1
    _name=$2
    shift 2
    "$@" >"$BW_OUT" 2>"$BW_ERR" </dev/null
    _rc=$?
    if [ "$_rc" = "$_want" ]; then
        ok "$_name"
        return 0
    fi
    not_ok "$_name" "command: $*" "exit status $_rc, expected $_want" \
        "$(bw_last_output)"
    return 1
}

# expect_grep NAME ERE FILE: ok when a line of FILE matches ERE.
expect_grep()
{
    if grep -Eq -- "$2" "$3" 2>/dev/null; then
        ok "$1"
        return 0
    fi
    not_ok "$1" "no line of $3 matches /$2/" "$(head -c 1500 "$3" 2>&1)"
    return 1
}

# expect_no_grep NAME ERE FILE: ok when no line of FILE matches ERE.
expect_no_grep()
{
    if grep -Eq -- "$2" "$3" 2>/dev/null; then
        not_ok "$1" "$3 matches /$2/:" "$(grep -En -- "$2" "$3" | head -n 5)"
        return 1
    fi
    ok "$1"
    return 0
}

# expect_eq NAME GOT WANT: ok when the two strings are equal.
expect_eq()
{
    if [ "$2" = "$3" ]; then
        ok "$1 ($2)"
        return 0
    fi
    not_ok "$1" "got '$2', expected '$3'"
    return 1
}

# expect_le NAME A B: ok when the number A <= B.
expect_le()
{
    if awk -v a="$2" -v b="$3" 'BEGIN { exit !(a + 0 <= b + 0) }'; then
        ok "$1 ($2 <= $3)"
        return 0
    fi
    not_ok "$1" "$2 > $3"
    return 1
}

# Exit with the status the results call for (1 when anything failed).
bw_done()
{
    if [ "$BW_CASES" = 0 ]; then
        not_ok "$BW_TEST_NAME reported no result"
    fi
    [ "$BW_FAILS" = 0 ] && exit 0
    exit 1
}

# ---- running bellwether ------------------------------------------------

# bw_run ARG...: the binary under test, behind $TEST_PREFIX (unquoted on
# purpose: it is a command and its options).
bw_run()
{
    # shellcheck disable=SC2086
    $TEST_PREFIX "$BW_BIN" "$@"
}

# bw_write_config FILE: write the config from stdin (use a heredoc), with a
# [redis] section for the throw-away Redis in front unless stdin has one.
bw_write_config()
{
    _body=$(cat)
    {
        case $_body in
        *"[redis]"*) ;;
        *)
            if [ -n "${REDIS_URL:-}" ]; then
                printf '[redis]\nurl = %s\nprefix = bw:\n\n' "$REDIS_URL"
            fi
            ;;
        esac
        printf '%s\n' "$_body"
    } >"$1"
}

# ---- processes ---------------------------------------------------------

bw_track_pid()
{
    BW_PIDS="$BW_PIDS $1"
}

bw_untrack_pid()
{
    _left=""
    for _p in $BW_PIDS; do
        [ "$_p" = "$1" ] || _left="$_left $_p"
    done
    BW_PIDS=$_left
}

# Stop one process we started: TERM, up to 5 s, then KILL.
bw_kill_pid()
{
    kill "$1" 2>/dev/null || return 0
    _i=0
    while kill -0 "$1" 2>/dev/null && [ "$_i" -lt 50 ]; do
        sleep 0.1
        _i=$((_i + 1))
    done
    kill -9 "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    return 0
}

# A free TCP port on 127.0.0.1 (the kernel picks it; the caller retries if
# someone takes it before the server binds it).
bw_free_port()
{
    "$BW_PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

bw_cleanup()
{
    trap - INT TERM EXIT
    for _p in $BW_PIDS; do
        bw_kill_pid "$_p"
    done
    BW_PIDS=""
    if [ -n "${BW_TMP:-}" ] && [ -d "$BW_TMP" ]; then
        if [ -n "${BW_KEEP_TMP:-}" ]; then
            echo "# kept $BW_TMP"
        else
            rm -rf "$BW_TMP"
        fi
    fi
}

# The EXIT trap keeps the script's own exit status; INT, TERM and PIPE exit
# too, which runs it.
trap 'bw_cleanup' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# `sh t_x.sh | head` must not leave servers behind either
trap 'exit 141' PIPE

# bw_wait_for SECONDS COMMAND...: poll every 0.1 s until it succeeds.
bw_wait_for()
{
    _limit=$(($1 * 10))
    shift
    _i=0
    while [ "$_i" -lt "$_limit" ]; do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
        _i=$((_i + 1))
    done
    return 1
}

# ---- Redis -------------------------------------------------------------

# bw_redis_cli ARG...: redis-cli against the throw-away server (authenticated
# when it was started with --requirepass).
bw_redis_cli()
{
    if [ -n "${REDIS_PASSWORD:-}" ]; then
        redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --no-auth-warning \
            -a "$REDIS_PASSWORD" "$@"
    else
        redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"
    fi
}

bw_redis_up()
{
    _r=$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>&1)
    case $_r in
    *PONG* | *NOAUTH* | *WRONGPASS* | *NOPERM*) return 0 ;;
    esac
    return 1
}

bw_redis_launch()
{
    redis-server "$BW_REDIS_DIR/redis.conf" >>"$BW_REDIS_DIR/redis.log" 2>&1 &
    REDIS_PID=$!
    bw_track_pid "$REDIS_PID"
    if bw_wait_for 10 bw_redis_up; then
        return 0
    fi
    bw_kill_pid "$REDIS_PID"
    bw_untrack_pid "$REDIS_PID"
    REDIS_PID=""
    return 1
}

# bw_start_redis [--requirepass PW] [--user ACL-RULE]... [--conf LINE]...
#   --requirepass PW   the default user needs PW (exported as REDIS_PASSWORD
#                      for bw_redis_cli)
#   --user RULE        an ACL line, e.g. --user 'bw on >pw ~bw:* +@all'
#   --conf LINE        any other redis.conf line
# Exports REDIS_PORT, REDIS_URL (redis://127.0.0.1:PORT) and REDIS_PID.
bw_start_redis()
{
    BW_REDIS_EXTRA=""
    REDIS_PASSWORD=""
    while [ $# -gt 0 ]; do
        case $1 in
        --requirepass)
            REDIS_PASSWORD=$2
            BW_REDIS_EXTRA="${BW_REDIS_EXTRA}requirepass $2
"
            shift 2
            ;;
        --user)
            BW_REDIS_EXTRA="${BW_REDIS_EXTRA}user $2
"
            shift 2
            ;;
        --conf)
            BW_REDIS_EXTRA="${BW_REDIS_EXTRA}$2
"
            shift 2
            ;;
        *)
            echo "bw_start_redis: unknown option '$1'" >&2
            return 2
            ;;
        esac
    done
    if ! command -v redis-server >/dev/null 2>&1; then
        not_ok "start redis-server" "redis-server not found; run" \
            "'sh scripts/bootstrap.sh test'"
        exit 1
    fi
    BW_REDIS_DIR=$(mktemp -d "$BW_TMP/redis.XXXXXX") || exit 1
    for _try in 1 2 3 4 5; do
        REDIS_PORT=$(bw_free_port) || break
        cat >"$BW_REDIS_DIR/redis.conf" <<EOF
port $REDIS_PORT
bind 127.0.0.1
protected-mode yes
save ""
appendonly no
dir $BW_REDIS_DIR
daemonize no
logfile ""
databases 16
$BW_REDIS_EXTRA
EOF
        if bw_redis_launch; then
            REDIS_URL=redis://127.0.0.1:$REDIS_PORT
            export REDIS_PORT REDIS_URL REDIS_PID REDIS_PASSWORD
            return 0
        fi
    done
    not_ok "start redis-server" "$(tail -n 5 "$BW_REDIS_DIR/redis.log")"
    exit 1
}

bw_stop_redis()
{
    if [ -n "${REDIS_PID:-}" ]; then
        bw_kill_pid "$REDIS_PID"
        bw_untrack_pid "$REDIS_PID"
        REDIS_PID=""
    fi
}

# Restart on the same port with the same config (fault tests); its data is
# gone, as with save "".
bw_restart_redis()
{
    bw_stop_redis
    if bw_redis_launch; then
        export REDIS_PID
        return 0
    fi
    not_ok "restart redis-server on port $REDIS_PORT" \
        "$(tail -n 5 "$BW_REDIS_DIR/redis.log")"
    return 1
}

# ---- the API simulator -------------------------------------------------

# bw_http METHOD URL: the body on stdout; fails on a connection error or an
# HTTP status of 400 or more.
bw_http()
{
    "$BW_PYTHON" - "$1" "$2" <<'EOF'
import sys, urllib.request
req = urllib.request.Request(sys.argv[2], method=sys.argv[1],
                             data=b"" if sys.argv[1] == "POST" else None)
try:
    with urllib.request.urlopen(req, timeout=10) as r:
        sys.stdout.buffer.write(r.read())
except Exception as e:
    print(e, file=sys.stderr)
    sys.exit(1)
EOF
}

# bw_apisim_get PATH, bw_apisim_post PATH: the simulator's control endpoints,
# e.g. bw_apisim_get /__stats, bw_apisim_post '/__advance?hours=24'.
bw_apisim_get()
{
    bw_http GET "$APISIM_URL$1"
}

bw_apisim_post()
{
    bw_http POST "$APISIM_URL$1"
}

bw_apisim_port_from_log()
{
    sed -n 's/^apisim listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' \
        "$BW_APISIM_DIR/stdout" | head -n 1
}

# bw_start_apisim [ARG...]: tests/apisim/apisim --port 0 ARG..., then wait
# for its "apisim listening on 127.0.0.1:PORT" line and for /__clock.
# Exports APISIM_PORT, APISIM_URL (http://127.0.0.1:PORT) and APISIM_PID.
# One simulator per script (a second call stops the first).
bw_start_apisim()
{
    _sim=${BW_APISIM:-$BW_ROOT/tests/apisim/apisim}
    if [ ! -f "$_sim" ]; then
        not_ok "start the API simulator" "$_sim does not exist yet"
        exit 1
    fi
    bw_stop_apisim
    BW_APISIM_DIR=$(mktemp -d "$BW_TMP/apisim.XXXXXX") || exit 1
    # the log must exist before the poll below reads it
    : >"$BW_APISIM_DIR/stdout"
    "$BW_PYTHON" "$_sim" --port 0 "$@" >"$BW_APISIM_DIR/stdout" \
        2>"$BW_APISIM_DIR/stderr" </dev/null &
    APISIM_PID=$!
    bw_track_pid "$APISIM_PID"
    _i=0
    APISIM_PORT=""
    # generating a large organisation takes a while: up to 60 s
    while [ "$_i" -lt "${BW_APISIM_WAIT:-600}" ]; do
        APISIM_PORT=$(bw_apisim_port_from_log)
        [ -n "$APISIM_PORT" ] && break
        kill -0 "$APISIM_PID" 2>/dev/null || break
        sleep 0.1
        _i=$((_i + 1))
    done
    if [ -n "$APISIM_PORT" ]; then
        APISIM_URL=http://127.0.0.1:$APISIM_PORT
        if bw_wait_for 20 bw_http GET "$APISIM_URL/__clock"; then
            export APISIM_PORT APISIM_URL APISIM_PID
            return 0
        fi
    fi
    not_ok "start the API simulator ($*)" \
        "stdout: $(tail -n 5 "$BW_APISIM_DIR/stdout")" \
        "stderr: $(tail -n 10 "$BW_APISIM_DIR/stderr")"
    exit 1
}

bw_stop_apisim()
{
    if [ -n "${APISIM_PID:-}" ]; then
        bw_kill_pid "$APISIM_PID"
        bw_untrack_pid "$APISIM_PID"
        APISIM_PID=""
    fi
}

# The real API recordings next to the checkout, or bw_skip_all.
bw_shared_dir()
{
    _s=${BW_SHARED_DIR:-$BW_ROOT/../shared}
    if [ -d "$_s/api-samples" ]; then
        echo "$_s"
        return 0
    fi
    return 1
}
