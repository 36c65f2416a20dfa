/*
 * cmd_status.c - `bellwether status` (not built yet: see the issue tracker).
 */
#include "bellwether/cli.h"
#include "bellwether/error.h"
#include "bellwether/log.h"

int cmd_status(struct bw_cli *cli, int argc, char **argv)
{
    (void)cli;
    (void)argc;
    (void)argv;
    BW_ERROR("'status' is not implemented yet");
    return BW_EUSAGE;
}
