#!/bin/sh
# t_cli.sh - the command line: --help, --version, help COMMAND, COMMAND
# --help, unknown commands and options (exit 2), and that --help, `help CMD`
# and docs/bellwether.1.md (SYNOPSIS, COMMANDS) agree (git's t0450 idea).
# tiny
. "$(dirname "$0")/lib.sh"

USAGE_PREFIX='usage: bellwether [-c FILE] [-v|-q]'

# --help and -h
expect_exit 0 "--help exits 0" bw_run --help
cp "$BW_OUT" "$BW_TMP/help.txt"
expect_grep "--help prints the usage line" \
    '^usage: bellwether \[-c FILE\] \[-v\|-q\] <command> \[options\]$' \
    "$BW_TMP/help.txt"
commands=$(awk '/^commands:/ { on = 1; next }
    on && /^  [a-z]/ { print $1 }
    on && /^$/ { on = 0 }' "$BW_TMP/help.txt")
if [ -n "$commands" ]; then
    ok "--help lists commands ($(echo $commands))"
else
    not_ok "--help lists commands" "$(cat "$BW_TMP/help.txt")"
fi
expect_exit 0 "-h exits 0" bw_run -h
if cmp -s "$BW_OUT" "$BW_TMP/help.txt"; then
    ok "-h prints what --help prints"
else
    not_ok "-h prints what --help prints"
fi
expect_exit 0 "help without a command exits 0" bw_run help
expect_grep "help without a command lists the commands" '^commands:' "$BW_OUT"

# --version
expect_exit 0 "--version exits 0" bw_run --version
expect_grep "--version prints 'bellwether X.Y.Z'" \
    '^bellwether [0-9]+\.[0-9]+\.[0-9]+' "$BW_OUT"
expect_exit 0 "-V exits 0" bw_run -V

# usage errors: exit 2, one line on stderr naming what to do
expect_exit 2 "no command exits 2" bw_run
expect_grep "no command prints the usage on stderr" '^usage: ' "$BW_ERR"
expect_exit 2 "unknown command exits 2" bw_run frobnicate
expect_grep "unknown command is named" "unknown command 'frobnicate'" "$BW_ERR"
missing=""
for c in $commands; do
    grep -q "$c" "$BW_ERR" || missing="$missing $c"
done
if [ -z "$missing" ]; then
    ok "unknown command prints the command list"
else
    not_ok "unknown command prints the command list" "missing:$missing" \
        "$(cat "$BW_ERR")"
fi
expect_exit 2 "unknown long option exits 2" bw_run --frobnicate
expect_grep "unknown long option is named" "'--frobnicate'" "$BW_ERR"
expect_exit 2 "unknown short option exits 2" bw_run -Z
expect_grep "unknown short option is named" "'-Z'" "$BW_ERR"
expect_exit 2 "-c without a file exits 2" bw_run -c
expect_exit 2 "help for an unknown command exits 2" bw_run help frobnicate

# every command: `help CMD`, `CMD --help` and `CMD -h` print its usage line
for c in $commands; do
    expect_exit 0 "help $c exits 0" bw_run help "$c"
    cp "$BW_OUT" "$BW_TMP/help-$c.txt"
    first=$(head -n 1 "$BW_TMP/help-$c.txt")
    case $first in
    "$USAGE_PREFIX $c" | "$USAGE_PREFIX $c "*)
        ok "help $c prints its usage line"
        ;;
    *)
        not_ok "help $c prints its usage line" "got: $first"
        ;;
    esac
    expect_exit 0 "$c --help exits 0" bw_run "$c" --help
    if cmp -s "$BW_OUT" "$BW_TMP/help-$c.txt"; then
        ok "$c --help prints what help $c prints"
    else
        not_ok "$c --help prints what help $c prints" "$(cat "$BW_OUT")"
    fi
    expect_exit 0 "$c -h exits 0" bw_run "$c" -h
done

# docs/bellwether.1.md agrees with the binary
man=docs/bellwether.1.md
if [ ! -f "$man" ]; then
    not_ok "docs/bellwether.1.md exists"
    bw_done
fi
# SYNOPSIS: the code block's lines naming one command
awk '/^# SYNOPSIS/ { on = 1; next } /^# / { on = 0 }
    on && /^bellwether / { print }' "$man" >"$BW_TMP/synopsis.txt"
doc_cmds=$(sed -n "s/^bellwether \[-c FILE\] \[-v|-q\] \([a-z][a-z]*\)\( .*\)*\$/\1/p" \
    "$BW_TMP/synopsis.txt")
heading_cmds=$(awk '/^# COMMANDS/ { on = 1; next } /^# / { on = 0 }
    on && /^## [a-z]+$/ { print $2 }' "$man")
sorted()
{
    printf '%s\n' $1 | LC_ALL=C sort
}
if [ "$(sorted "$commands")" = "$(sorted "$doc_cmds")" ]; then
    ok "--help and the SYNOPSIS of $man list the same commands"
else
    not_ok "--help and the SYNOPSIS of $man list the same commands" \
        "--help:   $(echo $commands)" "SYNOPSIS: $(echo $doc_cmds)"
fi
if [ "$(sorted "$commands")" = "$(sorted "$heading_cmds")" ]; then
    ok "--help and the COMMANDS of $man list the same commands"
else
    not_ok "--help and the COMMANDS of $man list the same commands" \
        "--help:   $(echo $commands)" "COMMANDS: $(echo $heading_cmds)"
fi
for c in $commands; do
    want=$(head -n 1 "$BW_TMP/help-$c.txt" | sed 's/^usage: //')
    if grep -qxF -- "$want" "$BW_TMP/synopsis.txt"; then
        ok "SYNOPSIS shows the usage of $c as help $c does"
    else
        not_ok "SYNOPSIS shows the usage of $c as help $c does" \
            "help $c: $want" \
            "SYNOPSIS: $(grep -F "] $c" "$BW_TMP/synopsis.txt")"
    fi
done
for l in 'bellwether [-c FILE] [-v|-q] <command> [options]' \
    'bellwether --help | --version' 'bellwether help COMMAND'; do
    if grep -qxF -- "$l" "$BW_TMP/synopsis.txt"; then
        ok "SYNOPSIS shows '$l'"
    else
        not_ok "SYNOPSIS shows '$l'"
    fi
done
# a bad BELLWETHER_NOW is a usage error naming the variable, never a silent
# fall-back to the real clock
BELLWETHER_NOW=yesterday expect_exit 2 "a bad BELLWETHER_NOW exits 2" \
    bw_run metrics
expect_grep "and says which variable is wrong" "BELLWETHER_NOW" "$BW_ERR"
BELLWETHER_NOW=1794787200 expect_exit 0 "a good BELLWETHER_NOW is taken" \
    bw_run metrics
bw_done
