/*
 * cmd_debug.c - `bellwether debug dump`, a hidden command for tests: the
 * canonical dump of the store's data keys (bw_store_dump), so a test can
 * check that an incremental store equals a --full one byte for byte.
 * `bellwether debug schedule EXPR [--from T] [--count N] [--tz ZONE]`
 * prints an expression's due times (daemon.h; the daemon's tests).
 */
#include <stdio.h>
#include <string.h>

#include "bellwether/cli.h"
#include "bellwether/daemon.h"
#include "bellwether/error.h"
#include "bellwether/log.h"
#include "bellwether/store.h"

static int dump(struct bw_cli *cli)
{
    struct bw_config *cfg = NULL;
    struct bw_store *st = NULL;
    int rc = bw_cli_load_config_offline(cli, &cfg);

    if (rc == 0) {
        rc = bw_store_open(&cfg->redis, 0, &st);
    }
    if (rc == 0) {
        rc = bw_store_dump(st, stdout);
    }
    bw_store_free(st);
    bw_config_free(cfg);
    return rc;
}

int cmd_debug(struct bw_cli *cli, int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "dump") == 0) {
        return dump(cli);
    }
    /* ---- debug schedule (the daemon's; daemon.c) ---- */
    if (argc >= 2 && strcmp(argv[1], "schedule") == 0) {
        return bw_daemon_debug_schedule(argc - 1, argv + 1);
    }
    BW_ERROR("usage: bellwether debug dump (the canonical dump of the "
             "store's data keys) | debug schedule EXPR [--from T] "
             "[--count N] [--tz ZONE]");
    return BW_EUSAGE;
}
