# daemonlib.sh - helpers of the daemon, lease and status tests (t_daemon.sh,
# t_coord.sh, t_status.sh), sourced after lib.sh (POSIX sh).
#
#   dm_start NAME CONFIG "ENV=V ..." [DAEMON-ARG...]
#       start `bellwether -c CONFIG daemon ARGS` in the background with the
#       environment assignments (may be ""), stdout and stderr in
#       $BW_TMP/NAME.out and $BW_TMP/NAME.err; its pid in DM_PID_<NAME>
#   dm_pid NAME                    print that pid
#   dm_wait_log NAME ERE SECONDS   wait until a line of NAME.err matches
#   dm_stop NAME [SIGNAL]          send SIGNAL (TERM), wait up to 12 s;
#                                  DM_RC = exit status ("hung" when it did
#                                  not exit: then it is killed), DM_MS =
#                                  milliseconds it took
#   dm_dues NAME LABEL             the due instants of the job lines of
#                                  LABEL ("collect 'gh'", "report") in
#                                  NAME.err, sorted, one per line
#   dm_alive NAME                  true while the daemon runs
#   now_ms                         wall clock in milliseconds
#
# The schedule clock of a daemon under test: BELLWETHER_NOW=EPOCH starts
# it there and BELLWETHER_DAEMON_FAST=N runs it N times faster than real
# time (daemon.h), so hours of schedule pass in seconds and the daemon's own
# loop (bw_cron_next in the [report] timezone) picks the due times.

now_ms()
{
    echo $(($(date +%s%N) / 1000000))
}

dm_start()
{
    _dn=$1
    _dc=$2
    _de=$3
    shift 3
    # shellcheck disable=SC2086
    env $_de $TEST_PREFIX "$BW_BIN" -c "$_dc" daemon "$@" \
        >"$BW_TMP/$_dn.out" 2>"$BW_TMP/$_dn.err" </dev/null &
    eval "DM_PID_$_dn=\$!"
    bw_track_pid "$!"
}

dm_pid()
{
    eval "echo \$DM_PID_$1"
}

dm_alive()
{
    kill -0 "$(dm_pid "$1")" 2>/dev/null
}

dm_grep()
{
    grep -Eq -- "$2" "$BW_TMP/$1.err"
}

dm_wait_log()
{
    bw_wait_for "$3" dm_grep "$1" "$2"
}

dm_stop()
{
    _dp=$(dm_pid "$1")
    _t0=$(now_ms)
    kill -"${2:-TERM}" "$_dp" 2>/dev/null
    _i=0
    while kill -0 "$_dp" 2>/dev/null && [ "$_i" -lt 120 ]; do
        sleep 0.1
        _i=$((_i + 1))
    done
    DM_MS=$(($(now_ms) - _t0))
    if kill -0 "$_dp" 2>/dev/null; then
        kill -9 "$_dp" 2>/dev/null
        wait "$_dp" 2>/dev/null
        DM_RC=hung
    else
        wait "$_dp"
        DM_RC=$?
    fi
    bw_untrack_pid "$_dp"
}

dm_dues()
{
    sed -n "s/.*$2 (due \([0-9TZ:-]*\)[,)].*/\1/p" "$BW_TMP/$1.err" | sort -u
}
