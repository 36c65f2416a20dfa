#!/bin/sh
# t_docs.sh - the man pages cover the code: every key of the config key
# tables (src/config.c, collectors/*.c) is documented in
# docs/bellwether.ini.5.md (a SECRET key NAME as NAME_env and NAME_file),
# and every section has its heading. (t_cli.sh checks the command list.)
. "$(dirname "$0")/lib.sh"

page=docs/bellwether.ini.5.md
if [ ! -f "$page" ]; then
    not_ok "$page exists"
    bw_done
fi
keys=$(grep -ho '{BW_KT_[A-Z]*, *"[a-z_]*"' src/*.c collectors/*.c |
    sed 's/{BW_KT_\([A-Z]*\), *"\([a-z_]*\)"/\1:\2/' | LC_ALL=C sort -u)
if [ -z "$keys" ]; then
    not_ok "the key tables were found in src/config.c and collectors/*.c"
    bw_done
fi
missing=""
n=0
for k in $keys; do
    type=${k%%:*}
    name=${k#*:}
    n=$((n + 1))
    if [ "$type" = SECRET ]; then
        grep -qF "\`${name}_env\`" "$page" &&
            grep -qF "\`${name}_file\`" "$page" && continue
    else
        grep -qF "\`$name\`" "$page" && continue
    fi
    missing="$missing $name"
done
if [ -z "$missing" ]; then
    ok "all $n config keys of the key tables are in $page"
else
    not_ok "all config keys of the key tables are in $page" \
        "undocumented:$missing"
fi
for s in redis 'source NAME' 'team NAME' report 'target METRIC' email \
    schedule plugins; do
    if grep -q "^# \[$s\]" "$page"; then
        ok "$page has a section for [$s]"
    else
        not_ok "$page has a section for [$s]"
    fi
done
bw_done
