#!/bin/sh
# tiny
# t_contrib.sh - the packaging examples in contrib/: the systemd units load
# (systemd-analyze verify, when installed) and keep their promises (a
# dynamic user, LoadCredential= for the tokens, the hardening, reload by
# SIGHUP, the daemon in the foreground), and every crontab.example job has
# a valid schedule and runs bellwether with -q.
. "$(dirname "$0")/lib.sh"

units="bellwether.service bellwether-collect.service bellwether-collect.timer
bellwether-report.service bellwether-report.timer"
for u in $units; do
    if [ -f "contrib/$u" ]; then
        ok "contrib/$u exists"
    else
        not_ok "contrib/$u exists"
    fi
done

# ---- what the service promises -------------------------------------------
svc=contrib/bellwether.service
for line in 'ExecStart=/usr/local/bin/bellwether -c /etc/bellwether/bellwether.ini daemon' \
    'ExecReload=/bin/kill -HUP $MAINPID' 'DynamicUser=yes' \
    'StateDirectory=bellwether' 'NoNewPrivileges=yes' 'ProtectSystem=strict' \
    'ProtectHome=yes' 'PrivateTmp=yes' \
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
    'RestartPreventExitStatus=2' 'LoadCredential=github-token:/etc/bellwether/github-token'; do
    if grep -qxF "$line" "$svc"; then
        ok "$svc: $line"
    else
        not_ok "$svc: $line"
    fi
done
expect_grep "$svc documents token_file under \${CREDENTIALS_DIRECTORY}" \
    'token_file = \$\{CREDENTIALS_DIRECTORY\}/github-token' "$svc"
for s in contrib/bellwether-collect.service contrib/bellwether-report.service; do
    expect_grep "$s is a oneshot" '^Type=oneshot$' "$s"
    expect_grep "$s runs bellwether -q" '^ExecStart=/usr/local/bin/bellwether -q ' "$s"
    expect_grep "$s has a dynamic user" '^DynamicUser=yes$' "$s"
    expect_grep "$s is hardened" '^ProtectSystem=strict$' "$s"
done

# ---- systemd accepts them ---------------------------------------------------
if command -v systemd-analyze >/dev/null 2>&1; then
    d=$BW_TMP/units
    mkdir -p "$d"
    # the real binary, and credential files that exist
    for u in $units; do
        sed "s|/usr/local/bin/bellwether|$BW_BIN|g; s|/etc/bellwether/|$d/|g" \
            "contrib/$u" >"$d/$u"
    done
    for c in github-token jira-token redis-password smtp-password; do
        : >"$d/$c"
    done
    # shellcheck disable=SC2086
    if (cd "$d" && systemd-analyze verify --man=no $(printf './%s ' $units)) \
        >"$BW_TMP/verify" 2>&1; then
        ok "systemd-analyze verify accepts the units"
    else
        not_ok "systemd-analyze verify accepts the units" \
            "$(head -n 10 "$BW_TMP/verify")"
    fi
    for t in bellwether-collect.timer bellwether-report.timer; do
        cal=$(sed -n 's/^OnCalendar=//p' "contrib/$t")
        check "$t: systemd understands OnCalendar=$cal" \
            systemd-analyze calendar "$cal"
    done
else
    skip "systemd-analyze verify accepts the units" "no systemd-analyze"
fi

# ---- crontab.example -------------------------------------------------------
n=0
grep -v '^[[:space:]]*#' contrib/crontab.example | grep -v '^[[:space:]]*$' |
    grep -v '^[A-Z_]*=' >"$BW_TMP/jobs"
while read -r m h dom mon dow cmd; do
    n=$((n + 1))
    expr="$m $h $dom $mon $dow"
    if bw_run debug schedule "$expr" --count 1 >/dev/null 2>"$BW_ERR"; then
        ok "crontab.example: '$expr' is a valid schedule"
    else
        not_ok "crontab.example: '$expr' is a valid schedule" "$(cat "$BW_ERR")"
    fi
    case $cmd in
    "bellwether -q "*) ok "crontab.example: '$cmd' runs with -q" ;;
    *) not_ok "crontab.example: '$cmd' runs with -q" ;;
    esac
done <"$BW_TMP/jobs"
expect_grep "crontab.example collects every half hour" \
    '^\*/30 \* \* \* \* +bellwether -q collect$' contrib/crontab.example
expect_grep "crontab.example reports on Monday mornings" \
    '^0 8 \* \* 1 +bellwether -q report --email$' contrib/crontab.example

bw_done
