#!/bin/sh
# t_store.sh - the store through the real binary: Redis down (exit 1,
# "cannot reach Redis at URL"), a store of another schema (refused), a
# wrong password (exit 2, naming the secret's variable, never the secret),
# and `debug dump` / `reindex` on an empty store.
# tiny
. "$(dirname "$0")/lib.sh"

GITHUB_TOKEN=test-token
export GITHUB_TOKEN

# ---- Redis down: a free port nobody listens on
down_port=$(bw_free_port)
bw_write_config "$BW_TMP/down.ini" <<EOF
[redis]
url = redis://127.0.0.1:$down_port
timeout = 2s

[source gh]
type = github
repos = acme/api
token_env = GITHUB_TOKEN
EOF
expect_exit 1 "collect with Redis down exits 1" \
    bw_run -c "$BW_TMP/down.ini" collect
expect_grep "Redis down: 'cannot reach Redis at URL: reason; ...'" \
    "cannot reach Redis at redis://127\.0\.0\.1:$down_port: .+; start redis-server or fix \[redis\] url" \
    "$BW_ERR"
expect_exit 1 "debug dump with Redis down exits 1" \
    bw_run -c "$BW_TMP/down.ini" debug dump
expect_grep "debug dump with Redis down says why" "cannot reach Redis at" \
    "$BW_ERR"

# ---- a live Redis with an ACL user
bw_start_redis --user 'bw on >s3cret ~* &* +@all'
bw_write_config "$BW_TMP/ok.ini" <<EOF
[redis]
url = $REDIS_URL
username = bw
password_env = BW_T_REDIS_PW

[source gh]
type = github
repos = acme/api
token_env = GITHUB_TOKEN
EOF

BW_T_REDIS_PW=s3cret
export BW_T_REDIS_PW
expect_exit 0 "debug dump on an empty store exits 0" \
    bw_run -c "$BW_TMP/ok.ini" debug dump
if [ -s "$BW_OUT" ]; then
    not_ok "debug dump on an empty store prints nothing" "$(head "$BW_OUT")"
else
    ok "debug dump on an empty store prints nothing"
fi
expect_exit 0 "reindex on an empty store exits 0" \
    bw_run -c "$BW_TMP/ok.ini" reindex
expect_exit 0 "debug dump after reindex exits 0" \
    bw_run -c "$BW_TMP/ok.ini" debug dump
expect_grep "the store got its schema key" '^string schema$' "$BW_OUT"
expect_exit 2 "debug without a subcommand exits 2" \
    bw_run -c "$BW_TMP/ok.ini" debug

# ---- wrong password: exit 2, the variable named, the secret never shown
BW_T_REDIS_PW=not-the-password
expect_exit 2 "a wrong Redis password exits 2" \
    bw_run -c "$BW_TMP/ok.ini" debug dump
expect_grep "a wrong password names its variable" \
    "refused the password of user 'bw' from [$]BW_T_REDIS_PW" "$BW_ERR"
expect_no_grep "a wrong password is never printed" "not-the-password" \
    "$BW_ERR"
BW_T_REDIS_PW=s3cret

# ---- another schema: refused, naming prefix and both versions
bw_redis_cli SET bw:schema 7 >/dev/null
expect_exit 1 "collect on a store of schema 7 exits 1" \
    bw_run -c "$BW_TMP/ok.ini" collect
expect_grep "another schema is refused" \
    "prefix 'bw:' has schema 7, this bellwether needs 1; use another prefix" \
    "$BW_ERR"
expect_exit 1 "debug dump refuses it too" \
    bw_run -c "$BW_TMP/ok.ini" debug dump
if [ "$(bw_redis_cli GET bw:schema)" = 7 ]; then
    ok "the other schema's key is left alone"
else
    not_ok "the other schema's key is left alone"
fi

bw_done
