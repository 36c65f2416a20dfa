#!/bin/sh
# t_harness.sh - the integration harness itself (lib.sh): a throw-away
# redis-server on a free port (restart on the same port, requirepass, ACL
# users), the API simulator on port 0, and the cleanup trap, so that a
# failing product test never hides a broken harness.
. "$(dirname "$0")/lib.sh"

bw_start_redis
check "redis-server answers PING on its own port" bw_redis_cli ping
echo "$REDIS_URL" >"$BW_TMP/url"
expect_grep "REDIS_URL names 127.0.0.1 and the port" \
    "^redis://127\.0\.0\.1:$REDIS_PORT\$" "$BW_TMP/url"
if [ "$REDIS_PORT" != 6379 ]; then
    ok "the test Redis is not on port 6379"
else
    not_ok "the test Redis is not on port 6379"
fi
check "SET works" bw_redis_cli set bw:harness 1
bw_redis_cli config get save >"$BW_TMP/save"
expect_grep "persistence is off (save \"\")" '^$' "$BW_TMP/save"
bw_redis_cli config get bind >"$BW_TMP/bind"
expect_grep "bound to 127.0.0.1 only" '^127\.0\.0\.1$' "$BW_TMP/bind"

old_pid=$REDIS_PID
old_port=$REDIS_PORT
bw_restart_redis
if [ "$REDIS_PORT" = "$old_port" ] && [ "$REDIS_PID" != "$old_pid" ]; then
    ok "bw_restart_redis keeps the port, new process"
else
    not_ok "bw_restart_redis keeps the port, new process" \
        "port $old_port -> $REDIS_PORT, pid $old_pid -> $REDIS_PID"
fi
if kill -0 "$old_pid" 2>/dev/null; then
    not_ok "the old redis-server is gone"
else
    ok "the old redis-server is gone"
fi
check "PING after the restart" bw_redis_cli ping
bw_redis_cli get bw:harness >"$BW_TMP/get"
expect_grep "the restarted Redis starts empty" '^$' "$BW_TMP/get"

bw_stop_redis
bw_start_redis --requirepass s3cret --user 'bw on >pw2 ~bw:* +@all'
redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >"$BW_TMP/noauth" 2>&1
expect_grep "--requirepass: PING without a password is refused" 'NOAUTH' \
    "$BW_TMP/noauth"
check "--requirepass: bw_redis_cli authenticates" bw_redis_cli ping
redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --user bw --pass pw2 \
    --no-auth-warning set bw:x 1 >"$BW_TMP/acl1" 2>&1
expect_grep "--user: the ACL user may write under bw:" '^OK$' "$BW_TMP/acl1"
redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --user bw --pass pw2 \
    --no-auth-warning set other:x 1 >"$BW_TMP/acl2" 2>&1
expect_grep "--user: the ACL user may not write elsewhere" 'NOPERM' \
    "$BW_TMP/acl2"

bw_write_config "$BW_TMP/bw.ini" <<EOT
[report]
timezone = UTC
EOT
expect_grep "bw_write_config puts the test Redis first" \
    "^url = redis://127\.0\.0\.1:$REDIS_PORT\$" "$BW_TMP/bw.ini"
expect_grep "bw_write_config keeps the heredoc" '^timezone = UTC$' \
    "$BW_TMP/bw.ini"

if [ -f tests/apisim/apisim ]; then
    bw_start_apisim --scale tiny
    check "apisim answers /__clock" bw_apisim_get /__clock
    expect_grep "/__clock holds now" '"now"' "$BW_OUT"
    check "apisim /__reset" bw_apisim_post /__reset
    sim_pid=$APISIM_PID
    bw_stop_apisim
    if kill -0 "$sim_pid" 2>/dev/null; then
        not_ok "bw_stop_apisim stops it"
    else
        ok "bw_stop_apisim stops it"
    fi
else
    skip "the API simulator" "tests/apisim/apisim does not exist yet"
fi

# the trap: a child script's servers and temp dir are gone after it ends,
# also when it is killed
cat >"$BW_TMP/t_child.sh" <<EOT
. "$BW_ROOT/tests/integration/lib.sh"
bw_start_redis
echo "\$REDIS_PID \$BW_TMP" >"$BW_TMP/child.info"
sleep 60
EOT
BW_TEST_JOBS= timeout -k 5 3 sh "$BW_TMP/t_child.sh" >/dev/null 2>&1
read -r child_pid child_tmp <"$BW_TMP/child.info"
if [ -n "$child_pid" ] && ! kill -0 "$child_pid" 2>/dev/null &&
    [ ! -d "$child_tmp" ]; then
    ok "a killed script leaves no redis-server and no temp dir"
else
    not_ok "a killed script leaves no redis-server and no temp dir" \
        "pid $child_pid, dir $child_tmp"
fi
bw_done
