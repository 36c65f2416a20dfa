#!/bin/sh
# tiny
# t_config.sh - the config through the real binary: `bellwether check
# --config-only` (no network) says "✓ config FILE: ..." and exits 0 for a
# good config; a bad one exits 2 with
# one "FILE:LINE: what; what to do" line per error on stderr; the config
# is found through -c, $BELLWETHER_CONFIG and ./bellwether.ini; secrets
# never reach the output. No servers needed.
. "$(dirname "$0")/lib.sh"

export BW_T_TOKEN=t-secret-token-123
export BW_T_REDIS_PW=r-secret-pw-456

good=$BW_TMP/good.ini
cat >"$good" <<'EOF'
[redis]
url = redis://127.0.0.1:6379
password_env = BW_T_REDIS_PW

[source gh]
type = github
repos = acme/api,
    acme/web            ; continued
token_env = BW_T_TOKEN

[target pr_cycle_time]
stat = p85
max = 3d
EOF

expect_exit 0 "a good config passes check" bw_run -c "$good" check --config-only
expect_grep "check prints '✓ config FILE'" "^✓ config $good: " "$BW_OUT"
expect_no_grep "check of a good config prints nothing on stderr" '.' \
    "$BW_ERR"

# several errors: all reported, in line order, exit 2
bad=$BW_TMP/bad.ini
cat >"$bad" <<'EOF'
[redis]
url = redis://:r-secret-pw-456@127.0.0.1
db = x
[source gh]
type = github
repos = acme/api,,acme/web
token_env = BW_T_UNSET_VARIABLE
colour = red
[target pr_merged]
stat = p50
min = 5
[bogus]
EOF
expect_exit 2 "a bad config exits 2" bw_run -c "$bad" check --config-only
for want in \
    "$bad:2: bad 'url' in \\[redis\\]: it holds a password" \
    "$bad:3: bad value 'x' for 'db' in \\[redis\\]" \
    "$bad:6: empty item in the list 'repos' in \\[source gh\\]" \
    "$bad:7: environment variable 'BW_T_UNSET_VARIABLE'" \
    "$bad:8: unknown key 'colour' in \\[source gh\\]" \
    "$bad:10: stat 'p50' does not fit 'pr_merged'" \
    "$bad:12: unknown section \\[bogus\\]"; do
    expect_grep "stderr names ${want#"$BW_TMP/"}" "$want" "$BW_ERR"
done
expect_no_grep "the redis password is not printed" 'r-secret-pw' "$BW_ERR"
expect_grep "stdout says the config check failed" "^✗ config $bad: " "$BW_OUT"
expect_no_grep "and holds no error detail (that is stderr's)" ':[0-9][0-9]*: ' \
    "$BW_OUT"
lines=$(grep -c "^error: $bad:[0-9]*: " "$BW_ERR")
if [ "$lines" = 7 ]; then
    ok "one line per error (7)"
else
    not_ok "one line per error" "got $lines lines:" "$(cat "$BW_ERR")"
fi
if grep "^error: $bad:" "$BW_ERR" | sed 's/^error: [^:]*:\([0-9]*\):.*/\1/' |
    sort -n -c 2>/dev/null; then
    ok "errors come in line order"
else
    not_ok "errors come in line order" "$(cat "$BW_ERR")"
fi
expect_exit 2 "-q still prints errors" bw_run -q -c "$bad" check --config-only
expect_grep "-q output names FILE:LINE" "^error: $bad:3: " "$BW_ERR"

# a missing key is reported at its section's line
printf '[redis]\ndb = 1\n' >"$BW_TMP/nourl.ini"
expect_exit 2 "a missing required key exits 2" \
    bw_run -c "$BW_TMP/nourl.ini" check --config-only
expect_grep "a missing key names its section's line" \
    "nourl.ini:1: missing 'url' in \\[redis\\]" "$BW_ERR"

# a line of 200 bytes or more (Debian's inih would cut it silently)
{
    printf '[redis]\nurl = redis://127.0.0.1:6379\n'
    printf 'username = %0189d\n' 0
} >"$BW_TMP/long.ini"
expect_exit 2 "a 200-byte line exits 2" bw_run -c "$BW_TMP/long.ini" check --config-only
expect_grep "the long line is named" "long.ini:3: line is 200 bytes long" \
    "$BW_ERR"

# a missing file
expect_exit 2 "a missing config exits 2" \
    bw_run -c "$BW_TMP/none.ini" check --config-only
expect_grep "a missing config is named" "cannot read config '$BW_TMP/none.ini'" \
    "$BW_ERR"

# where the config comes from: $BELLWETHER_CONFIG, then ./bellwether.ini
BELLWETHER_CONFIG=$good expect_exit 0 "\$BELLWETHER_CONFIG is read" bw_run check --config-only
unset BELLWETHER_CONFIG # some shells keep a function's prefix assignment
expect_grep "\$BELLWETHER_CONFIG names the file" "^✓ config $good: " "$BW_OUT"
mkdir "$BW_TMP/cwd" && cp "$good" "$BW_TMP/cwd/bellwether.ini"
(cd "$BW_TMP/cwd" && bw_run check --config-only) >"$BW_TMP/cwd.out" 2>&1
rc=$?
if [ "$rc" = 0 ] && grep -q '^✓ config bellwether.ini: ' "$BW_TMP/cwd.out"
then
    ok "./bellwether.ini is read when nothing else names a config"
else
    not_ok "./bellwether.ini is read" "exit $rc" "$(cat "$BW_TMP/cwd.out")"
fi

# secrets from files: ${CREDENTIALS_DIRECTORY}, a warning for loose modes
mkdir "$BW_TMP/creds"
printf 'file-secret-789\n' >"$BW_TMP/creds/gh"
chmod 640 "$BW_TMP/creds/gh"
cat >"$BW_TMP/file.ini" <<'EOF'
[redis]
url = unix:///run/redis/redis.sock
[source gh]
type = github
org = acme
token_file = ${CREDENTIALS_DIRECTORY}/gh
EOF
CREDENTIALS_DIRECTORY=$BW_TMP/creds expect_exit 0 \
    "token_file under \${CREDENTIALS_DIRECTORY} loads" \
    bw_run -c "$BW_TMP/file.ini" check --config-only
expect_grep "a group-readable secret file is warned about" \
    "warning: .*file.ini:6: secret file '$BW_TMP/creds/gh' is readable by group or others; chmod 600" \
    "$BW_ERR"
expect_no_grep "the secret file's content is not printed" 'file-secret' \
    "$BW_ERR"
unset CREDENTIALS_DIRECTORY
chmod 600 "$BW_TMP/creds/gh"
CREDENTIALS_DIRECTORY=$BW_TMP/creds expect_exit 0 \
    "a mode 600 secret file loads" bw_run -c "$BW_TMP/file.ini" check --config-only
unset CREDENTIALS_DIRECTORY
expect_no_grep "a mode 600 secret file draws no warning" 'warning' "$BW_ERR"
(unset CREDENTIALS_DIRECTORY; bw_run -c "$BW_TMP/file.ini" check --config-only) \
    >"$BW_OUT" 2>"$BW_ERR"
if [ $? = 2 ] && grep -q "file.ini:6: variable 'CREDENTIALS_DIRECTORY'" \
    "$BW_ERR"; then
    ok "an unset \${CREDENTIALS_DIRECTORY} exits 2 naming the variable"
else
    not_ok "an unset \${CREDENTIALS_DIRECTORY} exits 2" "$(bw_last_output)"
fi

# the example config shipped in contrib/ loads
REDIS_PASSWORD=x GITHUB_TOKEN=x JIRA_TOKEN=x SMTP_USER=x SMTP_PASSWORD=x \
    expect_exit 0 "contrib/bellwether.ini.example passes check" \
    bw_run -c contrib/bellwether.ini.example check --config-only

# check takes no other arguments
expect_exit 2 "check with an unknown argument exits 2" \
    bw_run -c "$good" check --frobnicate
expect_grep "the unknown argument is named" "'--frobnicate'" "$BW_ERR"

bw_done
