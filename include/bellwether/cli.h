/*
 * cli.h - the command table and what every command shares.
 *
 * main parses the global options (-c FILE, -v, -q, --help, --version) and
 * hands the rest to cmd_<name>(cli, argc, argv) with argv[0] the command's
 * name (git's run_builtin). A command returns a BW status; only main maps it
 * to the exit code (bw_exit_code()).
 */
#ifndef BW_CLI_H
#define BW_CLI_H

#include "bellwether/config.h"

struct bw_cli {
    const char *config_path; /* -c FILE, or NULL */
    int verbose;             /* -v count */
    int quiet;               /* -q */
};

struct bw_command {
    const char *name;
    int (*fn)(struct bw_cli *cli, int argc, char **argv);
    const char *usage;   /* the options after the name, one line */
    const char *summary; /* one line */
    int hidden;          /* left out of the command list */
};

extern const struct bw_command bw_commands[];
const struct bw_command *bw_command_find(const char *name);
/* Print "usage: bellwether NAME USAGE" and the summary to stdout. */
void bw_command_help(const struct bw_command *cmd);

/* Load the config the global options name (logs errors; BW_ECONFIG). */
int bw_cli_load_config(const struct bw_cli *cli, struct bw_config **out);
/* The same for commands that call no API (report, query, status, ...):
   the sources' tokens need not be set (BW_CONFIG_NO_SOURCE_SECRETS). */
int bw_cli_load_config_offline(const struct bw_cli *cli,
                               struct bw_config **out);

int cmd_collect(struct bw_cli *cli, int argc, char **argv);
int cmd_report(struct bw_cli *cli, int argc, char **argv);
int cmd_query(struct bw_cli *cli, int argc, char **argv);
int cmd_metrics(struct bw_cli *cli, int argc, char **argv);
int cmd_status(struct bw_cli *cli, int argc, char **argv);
int cmd_reindex(struct bw_cli *cli, int argc, char **argv);
int cmd_check(struct bw_cli *cli, int argc, char **argv);
int cmd_init(struct bw_cli *cli, int argc, char **argv);
int cmd_daemon(struct bw_cli *cli, int argc, char **argv);
int cmd_demo(struct bw_cli *cli, int argc, char **argv);
int cmd_debug(struct bw_cli *cli, int argc, char **argv);

#endif
