#!/bin/sh
# t_operator.sh - what an operator sees (issue 10): `init` writes a config
# that loads and round-trips through `check` against the simulator and a
# real redis-server; `check` prints one line per check with the right exit
# status (credentials refused 2, Redis or SMTP unreachable 1) and warns
# about jira_users and story points; `collect` prints one summary line per
# source whose figures match the simulator's /__stats and P run:{SRC}, and
# a final status line; nothing else on success, nothing at all under -q,
# one error line under -q on failure; a progress line (with an ETA from a
# Data Center total, and a countdown during a quota wait) through a
# pseudo-terminal, and none without one.
. "$(dirname "$0")/lib.sh"

GH_TOKEN=gh-operator-token
JIRA_TOKEN_V=jira-operator-token
export GITHUB_TOKEN=$GH_TOKEN
export JIRA_TOKEN=$JIRA_TOKEN_V
CONF=$BW_TMP/bw.ini
CR=$(printf '\r')

bw_start_redis
bw_start_apisim --scale tiny --token "$GH_TOKEN" \
    --jira-auth "basic:bot@acme.com:$JIRA_TOKEN_V"

# A command under a pseudo-terminal (util-linux script, else python3's
# pty): its output (stdout and stderr mixed, as a terminal shows them) in
# $BW_OUT, its exit status returned.
bw_pty()
{
    _cmd=""
    for _a in "$@"; do
        _cmd="$_cmd '$(printf '%s' "$_a" | sed "s/'/'\\\\''/g")'"
    done
    if command -v script >/dev/null 2>&1; then
        timeout -k 5 120 script -qfec "$_cmd" /dev/null >"$BW_OUT" 2>&1 \
            </dev/null
        return $?
    fi
    timeout -k 5 120 "$BW_PYTHON" -c 'import os, pty, sys
st = pty.spawn(["/bin/sh", "-c", sys.argv[1]])
sys.exit(os.WEXITSTATUS(st) if os.WIFEXITED(st) else 1)' "$_cmd" \
        >"$BW_OUT" 2>&1 </dev/null
}

# bw_run_env VAR=VALUE ARG...: bw_run with one variable changed.
bw_run_env()
{
    _e=$1
    shift
    # shellcheck disable=SC2086
    env "$_e" $TEST_PREFIX "$BW_BIN" "$@"
}

have_pty=1
if ! command -v script >/dev/null 2>&1 &&
    ! "$BW_PYTHON" -c 'import pty' 2>/dev/null; then
    have_pty=0
fi

# Sum field N (1-based, of the numbers) over the summary lines of stdout.
summary_num()
{
    # $1: source, $2: which number (1 items, 2 new, 3 changed, 5 requests,
    # 6 not modified), $3: file
    sed -n "s/^$1: \([0-9][0-9]*\) [a-zA-Z]* (\([0-9][0-9]*\) new, \([0-9][0-9]*\) changed) in \([0-9.]*\) s, \([0-9][0-9]*\) requests (\([0-9][0-9]*\) not modified).*/\\$2/p" \
        "$3" | head -n 1
}

sim_stat()
{
    bw_apisim_get /__stats | "$BW_PYTHON" -c \
        'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# ---- init ----------------------------------------------------------------

expect_exit 0 "init writes a config from flags" \
    bw_run -c "$CONF" init --github-org acme --github-repos acme/api \
    --github-api-url "$APISIM_URL" --jira-url "$APISIM_URL" \
    --jira-projects OPS --jira-email bot@acme.com --redis "$REDIS_URL" \
    --timezone Europe/Berlin
expect_grep "init says what it wrote" "^wrote $CONF" "$BW_OUT"
expect_eq "the config has mode 0600" "$(stat -c %a "$CONF")" 600
expect_grep "tokens are referenced by variable name" \
    '^token_env = GITHUB_TOKEN' "$CONF"
expect_grep "the Jira token too" '^token_env = JIRA_TOKEN' "$CONF"
expect_grep "the zone is written" '^timezone = Europe/Berlin' "$CONF"
expect_no_grep "no secret in the file" "$GH_TOKEN|$JIRA_TOKEN_V" "$CONF"
if awk 'length($0) >= 200 { bad = 1 } END { exit bad }' "$CONF"; then
    ok "every line is under 200 bytes"
else
    not_ok "every line is under 200 bytes"
fi
cp "$CONF" "$BW_TMP/orig.ini"
expect_exit 2 "init refuses to overwrite" bw_run -c "$CONF" init
expect_grep "and says to use --force" '--force' "$BW_ERR"
if cmp -s "$CONF" "$BW_TMP/orig.ini"; then
    ok "the existing file is untouched"
else
    not_ok "the existing file is untouched"
fi
expect_exit 0 "init --force overwrites" \
    bw_run -q -c "$BW_TMP/other.ini" init --github-repos 'acme/api, acme/web'
expect_eq "-q: init prints nothing" "$(cat "$BW_OUT")" ""
expect_grep "a repos list" '^repos = acme/api, acme/web$' "$BW_TMP/other.ini"
expect_exit 0 "init --force over an existing file" \
    bw_run -c "$BW_TMP/other.ini" init --force --github-org acme
expect_no_grep "the new content replaced the old" '^repos =' \
    "$BW_TMP/other.ini"
expect_exit 2 "an unknown time zone is refused" \
    bw_run -c "$BW_TMP/tz.ini" init --timezone Mars/Olympus
expect_exit 2 "a repository without an owner is refused" \
    bw_run -c "$BW_TMP/tz.ini" init --github-repos acme
expect_exit 2 "--jira-url without --jira-projects is refused" \
    bw_run -c "$BW_TMP/tz.ini" init --jira-url https://x.atlassian.net
expect_exit 2 "a redis URL with a password is refused" \
    bw_run -c "$BW_TMP/tz.ini" init --redis redis://u:pw@127.0.0.1:6379
if [ ! -e "$BW_TMP/tz.ini" ]; then
    ok "refused flags write no file"
else
    not_ok "refused flags write no file"
fi
# a long repos list wraps onto continuation lines and still loads
long=$(i=0; while [ $i -lt 40 ]; do printf 'acme/repository-%02d,' $i;
    i=$((i + 1)); done)
expect_exit 0 "init with 40 repositories" \
    bw_run -c "$BW_TMP/long.ini" init --github-repos "$long" \
    --github-api-url "$APISIM_URL" --redis "$REDIS_URL"
expect_exit 0 "which round-trips through check" \
    bw_run -c "$BW_TMP/long.ini" check
expect_grep "and loads as one source" '^✓ config .*: 1 source' "$BW_OUT"

# ---- check: the round trip ----------------------------------------------

expect_exit 0 "check passes on init's output" bw_run -c "$CONF" check
expect_grep "✓ config" '^✓ config ' "$BW_OUT"
expect_grep "✓ redis" '^✓ redis redis://127\.0\.0\.1:' "$BW_OUT"
expect_grep "✓ github credentials" '^✓ source gh \(github\): credentials accepted' \
    "$BW_OUT"
expect_grep "✓ jira credentials" '^✓ source jira \(jira\): credentials accepted' \
    "$BW_OUT"
expect_grep "the last line counts" '^4 checks passed, 0 failed' "$BW_OUT"
expect_eq "check writes nothing to stderr" "$(cat "$BW_ERR")" ""
bw_apisim_post /__reset >/dev/null
bw_run -c "$CONF" check >/dev/null 2>&1
# GET /rate_limit (no quota), GET /myself, and GET /field for story points
expect_eq "one credentials request per source (and Jira's field list)" \
    "$(bw_apisim_get /__stats | "$BW_PYTHON" -c 'import json, sys
s = json.load(sys.stdin)
print(s["requests"], s["quota_used"], s["by_endpoint"].get("GET /rate_limit"))')" \
    "3 2 1"

expect_exit 2 "a refused Jira token exits 2" \
    bw_run_env JIRA_TOKEN=wrong -c "$CONF" check
expect_grep "✗ on the Jira line" '^✗ source jira \(jira\): credentials refused' \
    "$BW_OUT"
expect_grep "the other checks still ran" '^✓ source gh ' "$BW_OUT"
expect_grep "the error line names the variable" 'JIRA_TOKEN' "$BW_ERR"
expect_no_grep "never the token" "wrong|$GH_TOKEN" "$BW_ERR"

port=$(bw_free_port)
sed "s|^url = $REDIS_URL|url = redis://127.0.0.1:$port|" "$CONF" \
    >"$BW_TMP/noredis.ini"
expect_exit 1 "Redis unreachable exits 1" bw_run -c "$BW_TMP/noredis.ini" check
expect_grep "✗ redis" '^✗ redis ' "$BW_OUT"
expect_grep "and the sources were still checked" '^✓ source gh ' "$BW_OUT"

{ cat "$CONF"; printf '\n[source extra]\ntype = github\nrepos = a/b\n'; } \
    >"$BW_TMP/bad.ini"
expect_exit 2 "a config error exits 2" bw_run -c "$BW_TMP/bad.ini" check
expect_grep "✗ config" '^✗ config ' "$BW_OUT"
expect_grep "the error names FILE:LINE" 'bad\.ini:[0-9]+:' "$BW_ERR"

# SMTP: a real server (aiosmtpd) answers; a closed port is unreachable
smtp_port=$(bw_free_port)
if "$BW_PYTHON" -c 'import aiosmtpd' 2>/dev/null; then
    "$BW_PYTHON" -m aiosmtpd -n -l "127.0.0.1:$smtp_port" \
        >"$BW_TMP/smtp.log" 2>&1 &
    bw_track_pid $!
    { cat "$CONF"; printf '\n[email]\nsmtp_url = smtp://127.0.0.1:%s\n' \
        "$smtp_port"; printf 'from = bw@acme.com\nto = leads@acme.com\n'; } \
        >"$BW_TMP/mail.ini"
    if bw_wait_for 10 "$BW_PYTHON" -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' \
        "$smtp_port"; then
        expect_exit 0 "check reaches the SMTP server" \
            bw_run -c "$BW_TMP/mail.ini" check
        expect_grep "✓ email" '^✓ email smtp://127\.0\.0\.1:[0-9]+: SMTP server answers' \
            "$BW_OUT"
    else
        not_ok "the test SMTP server starts" "$(cat "$BW_TMP/smtp.log")"
    fi
else
    skip "check reaches the SMTP server" "python3-aiosmtpd is not installed"
fi
port=$(bw_free_port)
{ cat "$CONF"; printf '\n[email]\nsmtp_url = smtp://127.0.0.1:%s\n' "$port";
    printf 'from = bw@acme.com\nto = leads@acme.com\n'; } >"$BW_TMP/nomail.ini"
expect_exit 1 "an unreachable SMTP server exits 1" \
    bw_run -c "$BW_TMP/nomail.ini" check
expect_grep "✗ email" '^✗ email smtp://127\.0\.0\.1:[0-9]+: unreachable' "$BW_OUT"

# ---- collect: the summary, not a tty --------------------------------------

bw_apisim_post /__reset >/dev/null
expect_exit 0 "collect (stdout and stderr are files)" bw_run -c "$CONF" collect
cp "$BW_OUT" "$BW_TMP/sum1"
expect_grep "the GitHub summary line" \
    '^gh: [0-9]+ PRs \([0-9]+ new, [0-9]+ changed\) in [0-9]+\.[0-9] s, [0-9]+ requests \([0-9]+ not modified\), quota [0-9]+/[0-9]+ left$' \
    "$BW_TMP/sum1"
expect_grep "the Jira summary line" \
    '^jira: [0-9]+ tickets \([0-9]+ new, [0-9]+ changed\) in [0-9]+\.[0-9] s, [0-9]+ requests \([0-9]+ not modified\)' \
    "$BW_TMP/sum1"
expect_grep "the final line says what the exit status means" \
    '^collect: ok, 2 sources \(exit 0\)$' "$BW_TMP/sum1"
expect_eq "three lines on stdout" "$(wc -l <"$BW_TMP/sum1" | tr -d ' ')" 3
# (the tiny organisation has a deleted Jira status: the collector warns)
expect_eq "nothing but warnings on stderr (cron mails only the summary)" \
    "$(grep -v '^warning: ' "$BW_ERR")" ""
if grep -q "$CR" "$BW_TMP/sum1" "$BW_ERR"; then
    not_ok "no progress output without a terminal"
else
    ok "no progress output without a terminal"
fi
req=$(($(summary_num gh 5 "$BW_TMP/sum1") + $(summary_num jira 5 "$BW_TMP/sum1")))
expect_eq "requests in the summaries = the simulator's count" \
    "$req" "$(sim_stat requests)"
bw_run -c "$CONF" debug dump >"$BW_TMP/dump" 2>/dev/null
expect_eq "new PRs = PRs stored" "$(summary_num gh 2 "$BW_TMP/sum1")" \
    "$(grep -c '^hash pr:' "$BW_TMP/dump")"
expect_eq "new tickets = tickets stored" "$(summary_num jira 2 "$BW_TMP/sum1")" \
    "$(grep -c '^hash ticket:' "$BW_TMP/dump")"
expect_eq "P run:{gh} keeps the requests" \
    "$(bw_redis_cli hget 'bw:run:{gh}' requests)" "$(summary_num gh 5 "$BW_TMP/sum1")"
expect_eq "P run:{gh} keeps the new items" \
    "$(bw_redis_cli hget 'bw:run:{gh}' items_new)" "$(summary_num gh 2 "$BW_TMP/sum1")"
expect_eq "P run:{jira} keeps the summary line" \
    "$(bw_redis_cli hget 'bw:run:{jira}' summary)" \
    "$(grep '^jira: ' "$BW_TMP/sum1")"
expect_eq "P run:{gh} keeps the quota limit" \
    "$(bw_redis_cli hget 'bw:run:{gh}' quota_limit)" \
    "$(sed -n 's|.*, quota [0-9]*/\([0-9]*\) left$|\1|p' "$BW_TMP/sum1" | head -n 1)"

bw_apisim_post /__reset >/dev/null
expect_exit 0 "a second collect" bw_run -c "$CONF" collect
cp "$BW_OUT" "$BW_TMP/sum2"
expect_grep "nothing new or changed" '^gh: [0-9]+ PRs \(0 new, 0 changed\)' \
    "$BW_TMP/sum2"
expect_eq "304s in the summary = the simulator's not_modified" \
    "$(($(summary_num gh 6 "$BW_TMP/sum2") + $(summary_num jira 6 "$BW_TMP/sum2")))" \
    "$(sim_stat not_modified)"

expect_exit 0 "collect -q" bw_run -q -c "$CONF" collect
expect_eq "-q: nothing on stdout" "$(cat "$BW_OUT")" ""
expect_eq "-q: nothing on stderr" "$(cat "$BW_ERR")" ""
expect_exit 3 "collect -q with a refused token (exit 3)" \
    bw_run_env GITHUB_TOKEN=wrong -q -c "$CONF" collect
expect_eq "-q failure: nothing on stdout" "$(cat "$BW_OUT")" ""
expect_eq "-q failure: one error line" "$(grep -c . "$BW_ERR")" 1
expect_exit 1 "collect -q with Redis unreachable" \
    bw_run -q -c "$BW_TMP/noredis.ini" collect
expect_eq "-q failure: one error line" "$(grep -c . "$BW_ERR")" 1
expect_exit 3 "collect with a refused token" \
    bw_run_env GITHUB_TOKEN=wrong -c "$CONF" collect
expect_grep "the failed source's line says so" \
    '^gh: .*; failed: credentials refused$' "$BW_OUT"
expect_grep "the final line means exit 3" '^collect: partial, 1 of 2 .*\(exit 3\)$' \
    "$BW_OUT"

# ---- check after a collect: jira_users and story points ------------------

{ cat "$CONF"; printf '\n[team t]\nprojects = OPS\njira_users = nobody-at-all\n'; } \
    >"$BW_TMP/team.ini"
expect_exit 0 "a jira_users warning does not fail check" \
    bw_run -c "$BW_TMP/team.ini" check
expect_grep "⚠ jira_users that match no assignee" \
    "^⚠ team t: jira_users 'nobody-at-all' matches no assignee" "$BW_OUT"
sed 's/^type = jira$/type = jira\nstory_points_field = customfield_99999/' \
    "$CONF" >"$BW_TMP/sp.ini"
expect_exit 0 "a story points warning does not fail check" \
    bw_run -c "$BW_TMP/sp.ini" check
expect_grep "⚠ story_points_field unknown to the site" \
    '^⚠ source jira: story_points_field = customfield_99999 is not a field' \
    "$BW_OUT"

# ---- progress through a pseudo-terminal ----------------------------------

if [ "$have_pty" = 0 ]; then
    skip "progress on a terminal" "neither script(1) nor python3's pty"
    bw_done
fi
bw_redis_cli flushdb >/dev/null
bw_pty "$BW_BIN" -c "$CONF" collect
rc=$?
expect_eq "collect on a terminal exits 0" "$rc" 0
if grep -q "$CR" "$BW_OUT" &&
    grep -Eq '(^|'"$CR"')gh: [0-9]+ PRs.* requests.*/s' "$BW_OUT"; then
    ok "a progress line is drawn and redrawn in place"
else
    not_ok "a progress line is drawn and redrawn in place" \
        "$(od -c "$BW_OUT" | head -n 20)"
fi
expect_grep "the summary follows it" \
    '^(.*'"$CR"')?gh: [0-9]+ PRs \([0-9]+ new' "$BW_OUT"
bw_pty "$BW_BIN" -q -c "$CONF" collect
expect_eq "-q on a terminal: no output at all" "$(cat "$BW_OUT")" ""

# An ETA from a Data Center total, slowed down so the line has time
bw_redis_cli flushdb >/dev/null
bw_start_apisim --only jira --scale small --jira-flavor datacenter \
    --jira-auth "bearer:$JIRA_TOKEN_V" --jira-page-cap 20 --latency-ms 200
cat >"$BW_TMP/dc.ini" <<EOF
[redis]
url = $REDIS_URL

[source dc]
type = jira
url = $APISIM_URL
projects = OPS, API
token_env = JIRA_TOKEN
EOF
bw_pty "$BW_BIN" -c "$BW_TMP/dc.ini" collect
expect_eq "a Data Center collect on a terminal exits 0" "$?" 0
expect_grep "items done / known" "dc: [0-9]+/[0-9]+ tickets" "$BW_OUT"
expect_grep "an ETA" "dc: [0-9]+/[0-9]+ tickets.*ETA [0-9]+[smh]" "$BW_OUT"

# A quota wait counts down
bw_redis_cli flushdb >/dev/null
bw_start_apisim --only gh --scale tiny --token "$GH_TOKEN" --quota 12 \
    --reset-in 3
cat >"$BW_TMP/q.ini" <<EOF
[redis]
url = $REDIS_URL

[source gh]
type = github
api_url = $APISIM_URL
repos = acme/api
token_env = GITHUB_TOKEN
min_quota_left = 0
EOF
bw_pty "$BW_BIN" -c "$BW_TMP/q.ini" collect
expect_eq "a collect that waits for the quota exits 0" "$?" 0
expect_grep "the wait is shown with a countdown" \
    'gh: waiting [0-9]+s for the quota reset' "$BW_OUT"

bw_done
