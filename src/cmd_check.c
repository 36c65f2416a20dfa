/*
 * cmd_check.c - `bellwether check`: validate the config, then reach every
 * service it names.
 *
 * The checks are rows of checks[] (git's commands[] idea), run in order
 * over one shared context. The config check comes first and loads the
 * config the others read; when it fails nothing else can run, so check
 * stops there (exit 2). Any later check (Redis, each source's credentials,
 * SMTP) reports its own line and the run goes on, so one `check` shows
 * every problem; the worst status is returned. Today the config is the
 * only row: the service checks land with their modules.
 */
#include <stdio.h>
#include <string.h>

#include "bellwether/cli.h"
#include "bellwether/config.h"
#include "bellwether/error.h"
#include "bellwether/log.h"

struct check_ctx {
    const struct bw_cli *cli;
    const char *path;      /* the config file checked */
    struct bw_config *cfg; /* set by the config check */
};

struct check {
    const char *name;
    /* 0, or a BW_E* status after logging what is wrong */
    int (*run)(struct check_ctx *ctx);
    int fatal; /* a failure stops the checks after it */
};

/* Load and validate the config: every error is logged as FILE:LINE. */
static int check_config(struct check_ctx *ctx)
{
    int rc = bw_config_load(ctx->path, &ctx->cfg);

    if (rc) {
        return rc;
    }
    printf("config OK: %s\n", ctx->path);
    return 0;
}

static const struct check checks[] = {{"config", check_config, 1},
                                      {NULL, NULL, 0}};

/* Run every check; the first failure's status, or 0. */
static int run_checks(struct check_ctx *ctx)
{
    int worst = 0;

    for (const struct check *c = checks; c->name; c++) {
        int rc = c->run(ctx);

        if (rc && worst == 0) {
            worst = rc;
        }
        if (rc && c->fatal) {
            break;
        }
    }
    return worst;
}

int cmd_check(struct bw_cli *cli, int argc, char **argv)
{
    struct check_ctx ctx;
    int rc;

    if (argc > 1) {
        BW_ERROR("unknown argument '%s' for 'check'; see 'bellwether help "
                 "check'",
                 argv[1]);
        return BW_EUSAGE;
    }
    memset(&ctx, 0, sizeof(ctx));
    ctx.cli = cli;
    ctx.path = bw_config_path(cli->config_path);
    rc = run_checks(&ctx);
    bw_config_free(ctx.cfg);
    return rc;
}
