# faultlib.sh - helpers for the fault, load and valgrind scripts (sourced
# after lib.sh; POSIX sh). Not a test itself (no t_ prefix).
#
# What they share: one simulator on a port that stays the same across
# restarts (a fault is a command-line flag, so each fault case restarts the
# simulator; a recovery must talk to the same URL, or stored ETags would
# not be sent again and a wrongly kept ETag would go unnoticed), configs
# with a GitHub source `gh`, a Jira source `jira` or both, one key prefix
# per case (so one Redis serves every case), and the canonical dump of the
# data keys compared with a clean run's.
#
#   fl_sim [ARG...]        (re)start tests/apisim/apisim on $FL_SIM_PORT with
#                          the fixed arguments ($FL_SIM_ARGS) and ARG...
#   fl_conf FILE PREFIX SOURCES [LINE...]
#                          a config: SOURCES is gh, jira or "gh jira";
#                          each LINE goes into every source section
#   fl_collect CONF [ARG...]
#                          collect under a time limit ($FL_LIMIT s); the
#                          status in $FL_RC, the seconds in $FL_SECS,
#                          output in $BW_OUT / $BW_ERR
#   fl_dump CONF FILE      the canonical dump of CONF's prefix
#   fl_same NAME DUMP REF  ok when both dumps are equal (and not empty)
#   fl_not_impl FILE       true when FILE says "not implemented yet"
#   fl_bg CONF ARG...      start bellwether ARG... in the background (pid
#                          in $FL_BG), output in $BW_TMP/bg.out|err
#   fl_bg_wait SECONDS     wait for it: $FL_RC (124 when it had to be
#                          killed), $FL_SECS
#   fl_count_items FILE    PRs + tickets in a dump
#
# Settings: BW_FAULT_SCALE (tiny | small | REPOSxPRS, default tiny),
# BW_FAULT_JIRA_FLAVOR (cloud | datacenter, default cloud), FL_LIMIT.

FL_SCALE=${BW_FAULT_SCALE:-tiny}
# the simulator's default present, 2026-11-16T00:00:00Z: every run sees
# the same "now", so every dump is comparable
FL_NOW=1794787200
BELLWETHER_NOW=$FL_NOW
FL_SINCE=2025-11-16
FL_TOKEN=fl-gh-token-4c1d
FL_JTOKEN=fl-jira-token-9e2b
FL_JEMAIL=bot@acme.com
GITHUB_TOKEN=$FL_TOKEN
JIRA_TOKEN=$FL_JTOKEN
# retries after 10 ms, 20 ms, ... instead of 0.5 s, 1 s, ...
BELLWETHER_BACKOFF_BASE_MS=${BELLWETHER_BACKOFF_BASE_MS:-10}
export BELLWETHER_NOW GITHUB_TOKEN JIRA_TOKEN BELLWETHER_BACKOFF_BASE_MS
# Jira Cloud (basic auth: email + token) unless BW_FAULT_JIRA_FLAVOR says
# datacenter (a bearer token, no email)
FL_JIRA_FLAVOR=${BW_FAULT_JIRA_FLAVOR:-cloud}
if [ "$FL_JIRA_FLAVOR" = datacenter ]; then
    FL_SIM_ARGS="--seed 3 --scale $FL_SCALE --token $FL_TOKEN
--jira-flavor datacenter --jira-auth bearer:$FL_JTOKEN"
else
    FL_SIM_ARGS="--seed 3 --scale $FL_SCALE --token $FL_TOKEN
--jira-auth basic:$FL_JEMAIL:$FL_JTOKEN"
fi
FL_SIM_PORT=""
FL_LIMIT=${FL_LIMIT:-120}
FL_PROJECTS=""
FL_BG=""

fl_sim_up()
{
    grep -q "^apisim listening on 127\.0\.0\.1:$FL_SIM_PORT" \
        "$BW_APISIM_DIR/stdout" 2>/dev/null
}

# One start attempt on $FL_SIM_PORT; 0 when it answers /__clock.
fl_sim_launch()
{
    BW_APISIM_DIR=$(mktemp -d "$BW_TMP/apisim.XXXXXX") || return 1
    : >"$BW_APISIM_DIR/stdout"
    # shellcheck disable=SC2086
    "$BW_PYTHON" "$BW_ROOT/tests/apisim/apisim" --port "$FL_SIM_PORT" \
        $FL_SIM_ARGS "$@" >"$BW_APISIM_DIR/stdout" \
        2>"$BW_APISIM_DIR/stderr" </dev/null &
    APISIM_PID=$!
    bw_track_pid "$APISIM_PID"
    _fi=0
    while [ "$_fi" -lt 300 ]; do
        fl_sim_up && break
        kill -0 "$APISIM_PID" 2>/dev/null || break
        sleep 0.05
        _fi=$((_fi + 1))
    done
    APISIM_URL=http://127.0.0.1:$FL_SIM_PORT
    APISIM_PORT=$FL_SIM_PORT
    export APISIM_URL APISIM_PORT APISIM_PID
    # (it prints the line once its socket listens)
    if fl_sim_up; then
        return 0
    fi
    bw_stop_apisim
    return 1
}

fl_sim()
{
    bw_stop_apisim
    if [ -n "$FL_SIM_PORT" ]; then
        # the same port again (the old server's socket may linger a moment)
        for _ft in 1 2 3 4 5; do
            fl_sim_launch "$@" && return 0
            sleep 0.5
        done
    else
        for _ft in 1 2 3 4 5; do
            FL_SIM_PORT=$(bw_free_port) || break
            fl_sim_launch "$@" && return 0
        done
    fi
    not_ok "start the API simulator ($*)" \
        "stderr: $(tail -n 10 "$BW_APISIM_DIR/stderr" 2>/dev/null)"
    exit 1
}

# The simulator's Jira project keys, comma separated (after fl_sim).
fl_projects()
{
    "$BW_PYTHON" - "$APISIM_URL" "$FL_JEMAIL:$FL_JTOKEN" "$FL_JIRA_FLAVOR" \
        <<'EOF' 2>/dev/null
import base64, json, sys, urllib.request
if sys.argv[3] == "datacenter":
    auth = "Bearer " + sys.argv[2].split(":", 1)[1]
else:
    auth = "Basic " + base64.b64encode(sys.argv[2].encode()).decode()
req = urllib.request.Request(sys.argv[1] + "/rest/api/2/project",
                             headers={"Authorization": auth})
with urllib.request.urlopen(req, timeout=20) as r:
    print(", ".join(p["key"] for p in json.load(r)))
EOF
}

fl_conf()
{
    _ff=$1
    _fp=$2
    _fs=$3
    shift 3
    {
        printf '[redis]\nurl = %s\nprefix = %s\n' "$REDIS_URL" "$_fp"
        if [ -n "${FL_REDIS_EXTRA:-}" ]; then
            printf '%s\n' "$FL_REDIS_EXTRA"
        fi
        for _fcs in $_fs; do
            case $_fcs in
            gh)
                printf '\n[source gh]\ntype = github\napi_url = %s\n' \
                    "$APISIM_URL"
                printf 'org = acme\ntoken_env = GITHUB_TOKEN\n'
                ;;
            jira)
                printf '\n[source jira]\ntype = jira\nurl = %s\n' \
                    "$APISIM_URL"
                printf 'projects = %s\ntoken_env = JIRA_TOKEN\n' \
                    "$FL_PROJECTS"
                if [ "$FL_JIRA_FLAVOR" != datacenter ]; then
                    printf 'email = %s\n' "$FL_JEMAIL"
                fi
                ;;
            esac
            printf 'since = %s\n' "$FL_SINCE"
            for _fl in "$@"; do
                printf '%s\n' "$_fl"
            done
        done
        if [ -n "${FL_CONF_TAIL:-}" ]; then
            printf '\n%s\n' "$FL_CONF_TAIL"
        fi
    } >"$_ff"
}

fl_now_ms()
{
    date +%s%3N
}

# Seconds (one decimal) since a fl_now_ms stamp.
fl_since()
{
    awk -v a="$1" -v b="$(fl_now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'
}

# fl_san FILE WHAT: a not_ok when FILE holds a sanitizer or valgrind report
# (the ASan pass runs these scripts with build-asan/bellwether).
fl_san()
{
    if grep -Eq 'runtime error:|ERROR: (AddressSanitizer|LeakSanitizer)|==[0-9]+== (Invalid|Conditional|Use of uninit|Mismatched|Syscall param)|definitely lost: [1-9]' \
        "$1" 2>/dev/null; then
        not_ok "no sanitizer report: $2" "$(grep -E -A 6 \
            'runtime error:|Sanitizer|==[0-9]+== ' "$1" | head -n 12)"
    fi
}

fl_collect()
{
    _fc=$1
    shift
    _ft0=$(fl_now_ms)
    # shellcheck disable=SC2086
    timeout -k 5 "$FL_LIMIT" $TEST_PREFIX "$BW_BIN" -c "$_fc" collect "$@" \
        >"$BW_OUT" 2>"$BW_ERR" </dev/null
    FL_RC=$?
    FL_SECS=$(fl_since "$_ft0")
    fl_san "$BW_ERR" "collect -c $(basename "$_fc")"
}

fl_dump()
{
    # shellcheck disable=SC2086
    timeout -k 5 "$FL_LIMIT" $TEST_PREFIX "$BW_BIN" -c "$1" debug dump \
        >"$2" 2>"$BW_TMP/dump.err" </dev/null
    fl_san "$BW_TMP/dump.err" "debug dump -c $(basename "$1")"
}

fl_count_items()
{
    grep -Ec '^hash (pr|ticket):' "$1"
}

fl_same()
{
    if [ -s "$3" ] && cmp -s "$2" "$3"; then
        ok "$1"
        return 0
    fi
    not_ok "$1" "the dump ($(fl_count_items "$2") items) differs from the" \
        "clean run's ($(fl_count_items "$3") items):" \
        "$(diff "$3" "$2" | head -n 16 | cut -c 1-200)"
    return 1
}

fl_not_impl()
{
    grep -q "not implemented yet" "$1" 2>/dev/null
}

fl_bg()
{
    _fb=$1
    shift
    FL_BG_T0=$(fl_now_ms)
    # shellcheck disable=SC2086
    $TEST_PREFIX "$BW_BIN" -c "$_fb" "$@" >"$BW_TMP/bg.out" \
        2>"$BW_TMP/bg.err" </dev/null &
    FL_BG=$!
    bw_track_pid "$FL_BG"
}

# Wait up to SECONDS for the background run; kill it (KILL) past that.
fl_bg_wait()
{
    _fw=0
    _flimit=$(($1 * 10))
    while kill -0 "$FL_BG" 2>/dev/null && [ "$_fw" -lt "$_flimit" ]; do
        sleep 0.1
        _fw=$((_fw + 1))
    done
    if kill -0 "$FL_BG" 2>/dev/null; then
        kill -9 "$FL_BG" 2>/dev/null
        wait "$FL_BG" 2>/dev/null
        FL_RC=124
    else
        wait "$FL_BG"
        FL_RC=$?
    fi
    FL_SECS=$(fl_since "$FL_BG_T0")
    fl_san "$BW_TMP/bg.err" "background run"
    bw_untrack_pid "$FL_BG"
    FL_BG=""
}

# Sleep until the background run has made N requests to the simulator
# (or up to SECONDS): a kill then lands in the middle of the walk.
fl_wait_requests()
{
    _fn=$1
    _fend=$(($(date +%s) + $2))
    while [ "$(date +%s)" -lt "$_fend" ]; do
        _fr=$(bw_http GET "$APISIM_URL/__stats" 2>/dev/null |
            sed -n 's/^{"requests": *\([0-9]*\).*/\1/p')
        [ -n "$_fr" ] && [ "$_fr" -ge "$_fn" ] && return 0
        kill -0 "$FL_BG" 2>/dev/null || return 1
        sleep 0.02
    done
    return 1
}

# fl_hostile MODE: (re)start tests/integration/hostile_api.py in MODE on
# two free ports: $HOSTILE_URL (the API) and $HOSTILE_OFFSITE (another
# origin); every request it sees goes to $HOSTILE_LOG (JSON lines).
fl_hostile()
{
    if [ -n "${HOSTILE_PID:-}" ]; then
        bw_kill_pid "$HOSTILE_PID"
        bw_untrack_pid "$HOSTILE_PID"
    fi
    HOSTILE_LOG=$BW_TMP/hostile.$1.log
    : >"$HOSTILE_LOG"
    _hp=$(bw_free_port)
    _ho=$(bw_free_port)
    "$BW_PYTHON" "$BW_ROOT/tests/integration/hostile_api.py" "$1" "$_hp" \
        "$_ho" "$HOSTILE_LOG" >"$BW_TMP/hostile.out" 2>&1 </dev/null &
    HOSTILE_PID=$!
    bw_track_pid "$HOSTILE_PID"
    HOSTILE_URL=http://127.0.0.1:$_hp
    HOSTILE_OFFSITE=$_ho
    bw_wait_for 10 grep -q "hostile listening" "$BW_TMP/hostile.out"
}
