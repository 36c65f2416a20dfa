/*
 * cmd_demo.c - `bellwether demo` (not built yet: see the issue tracker).
 */
#include "bellwether/cli.h"
#include "bellwether/error.h"
#include "bellwether/log.h"

int cmd_demo(struct bw_cli *cli, int argc, char **argv)
{
    (void)cli;
    (void)argc;
    (void)argv;
    BW_ERROR("'demo' is not implemented yet");
    return BW_EUSAGE;
}
