#!/bin/sh
# tiny
# t_plugins.sh - external collectors: a .so in [plugins] path exporting
# bw_collector_<name> is loaded and run by `collect`; one built for another
# collector ABI is refused (exit 2, "rebuild the plugin"); a file that is
# not a loadable library is refused with the loader's reason.
. "$(dirname "$0")/lib.sh"

if ! command -v cc >/dev/null 2>&1; then
    skip "plugins" "no C compiler to build a test plugin"
    bw_done
fi
bw_start_redis
plug=$BW_TMP/plugins
mkdir -p "$plug"

# a minimal collector: one scope, nothing emitted, success
cat >"$BW_TMP/plugin.tmpl" <<'EOC'
#include <stddef.h>
#include "bellwether/collector.h"

struct fake_opts {
    char *greeting;
};

static const struct bw_config_key fake_keys[] = {
    {BW_KT_STR, "greeting", "hello", offsetof(struct fake_opts, greeting),
     "a key of the plugin's own", 0, 0},
    {0, NULL, NULL, 0, NULL, 0, 0}};

static int fake_init(const struct bw_source_conf *src, void **ctx)
{
    *ctx = src->opts;
    return 0;
}

static int fake_collect(void *ctx, struct bw_sink *sink)
{
    (void)ctx;
    sink->stats.items_seen = 0;
    return sink->commit_page(sink->ctx);
}

static void fake_free(void *ctx)
{
    (void)ctx;
}

const struct bw_collector bw_collector_NAME = {
    ABI, "NAME", "a test plugin", fake_keys, sizeof(struct fake_opts),
    NULL, NULL, fake_init, fake_collect, NULL, NULL, fake_free};
EOC
build_plugin() # NAME ABI
{
    sed -e "s/NAME/$1/g" -e "s/ABI/$2/" "$BW_TMP/plugin.tmpl" >"$BW_TMP/$1.c" &&
        cc -std=c11 -shared -fPIC -I"$BW_ROOT/include" \
            $(pkg-config --cflags libcurl hiredis libcjson 2>/dev/null) \
            -o "$plug/$1.so" "$BW_TMP/$1.c"
}
check "a plugin builds against include/bellwether" build_plugin fake 1
check "a plugin of another ABI builds" build_plugin oldabi 99
printf 'not an ELF file\n' >"$plug/broken.so"

conf()
{
    bw_write_config "$BW_TMP/$1.ini" <<EOC
[plugins]
path = $plug

[source s1]
type = $1
$2
EOC
}

conf fake "greeting = hi"
expect_exit 0 "collect runs a plugin's collector" \
    bw_run -c "$BW_TMP/fake.ini" collect
expect_grep "and summarises its source" "^s1: " "$BW_OUT"
expect_exit 0 "the plugin's keys are part of the config" \
    bw_run -c "$BW_TMP/fake.ini" check --config-only

conf fake "colour = blue"
expect_exit 2 "an unknown key of a plugin's source exits 2" \
    bw_run -c "$BW_TMP/fake.ini" check --config-only
expect_grep "naming the key and line" "fake.ini:[0-9]+: .*colour" "$BW_ERR"

conf oldabi ""
expect_exit 2 "a plugin of another collector ABI is refused" \
    bw_run -c "$BW_TMP/oldabi.ini" check --config-only
expect_grep "saying to rebuild it" "collector ABI 99.*rebuild the plugin" \
    "$BW_ERR"

conf broken ""
expect_exit 2 "a .so that does not load is refused" \
    bw_run -c "$BW_TMP/broken.ini" check --config-only
expect_grep "with the loader's reason" "cannot load plugin .*broken\.so" \
    "$BW_ERR"

conf nosuch ""
expect_exit 2 "an unknown type with no plugin exits 2" \
    bw_run -c "$BW_TMP/nosuch.ini" check --config-only
bw_done
