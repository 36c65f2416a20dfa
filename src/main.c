/*
 * main.c - bellwether's entry point: global options, the command table,
 * and the one place where statuses become exit codes (DESIGN.md).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "bellwether/cli.h"
#include "bellwether/clock.h"
#include "bellwether/error.h"
#include "bellwether/help.h"
#include "bellwether/http.h"
#include "bellwether/log.h"
#include "bellwether/mem.h"

const struct bw_command bw_commands[] = {
    {"collect", cmd_collect, "[--source NAME]... [--full] [--since YYYY-MM-DD]",
     "one collection pass over the sources (for cron)", 0},
    {"report", cmd_report,
     "[--week YYYY-Www] [--team NAME] [--format md|html|json] "
     "[--out FILE|-] [--email]",
     "write the weekly report", 0},
    {"query", cmd_query,
     "METRIC [--from D] [--to D] [--by week|month|repo|project|team|author|"
     "type] [--stat p50,p85,...|value] [--where K=V]... [--items] "
     "[--format table|csv|json]",
     "answer an ad-hoc metric question", 0},
    {"metrics", cmd_metrics, "[--format table|json]",
     "list metric names, units and definitions", 0},
    {"status", cmd_status, "[--format table|json]",
     "sources, last sync, quota, Redis", 0},
    {"reindex", cmd_reindex, "[--source NAME]...",
     "rebuild derived fields from stored events", 0},
    {"check", cmd_check, "[--config-only]",
     "validate the config and reach every service", 0},
    {"init", cmd_init,
     "[--github-org ORG] [--github-repos A/B,...] [--github-api-url URL] "
     "[--jira-url URL --jira-projects A,B] [--jira-email ADDR] "
     "[--redis URL] [--timezone ZONE] [--force]",
     "write a starter config", 0},
    {"daemon", cmd_daemon, "[--pidfile FILE]",
     "scheduled collect + report + email", 0},
    {"demo", cmd_demo, "[--out-dir DIR]", "the built-in demo", 0},
    {"debug", cmd_debug,
     "dump | schedule EXPR [--from T] [--count N] [--tz ZONE]",
     "internal helpers for tests", 1},
    {NULL, NULL, NULL, NULL, 0}};

const struct bw_command *bw_command_find(const char *name)
{
    for (const struct bw_command *c = bw_commands; c->name; c++) {
        if (strcmp(c->name, name) == 0) {
            return c;
        }
    }
    return NULL;
}

void bw_command_help(const struct bw_command *cmd)
{
    /* no trailing blank when a command takes no options (docs compare) */
    printf("usage: bellwether [-c FILE] [-v|-q] %s%s%s\n\n%s\n", cmd->name,
           cmd->usage[0] ? " " : "", cmd->usage, cmd->summary);
}

int bw_cli_load_config(const struct bw_cli *cli, struct bw_config **out)
{
    return bw_config_load(bw_config_path(cli->config_path), out);
}

int bw_cli_load_config_offline(const struct bw_cli *cli, struct bw_config **out)
{
    return bw_config_load_ex(bw_config_path(cli->config_path),
                             BW_CONFIG_NO_SOURCE_SECRETS, NULL, out);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bellwether [-c FILE] [-v|-q] <command> [options]\n\n"
               "commands:\n");
    for (const struct bw_command *c = bw_commands; c->name; c++) {
        if (!c->hidden) {
            fprintf(f, "  %-8s %s\n", c->name, c->summary);
        }
    }
    fprintf(f, "\n`bellwether help COMMAND` or `bellwether COMMAND --help` "
               "describes one command\n");
}

static int command_list_error(const char *name)
{
    char list[256] = "";
    size_t o = 0;

    for (const struct bw_command *c = bw_commands; c->name; c++) {
        int n;

        if (c->hidden) {
            continue;
        }
        n = snprintf(list + o, sizeof(list) - o, "%s%s", o ? ", " : "",
                     c->name);
        if (n < 0 || (size_t)n >= sizeof(list) - o) {
            break;
        }
        o += (size_t)n;
    }
    BW_ERROR("unknown command '%s'; commands are: %s", name, list);
    return BW_EUSAGE;
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"config", required_argument, NULL, 'c'},
        {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0}};
    struct bw_cli cli = {NULL, 0, 0};
    const struct bw_command *cmd;
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:hVc:vq", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("bellwether %s\n", BW_VERSION);
            return 0;
        case 'c':
            cli.config_path = optarg;
            break;
        case 'v':
            cli.verbose++;
            break;
        case 'q':
            cli.quiet = 1;
            break;
        case ':':
            BW_ERROR("option '%s' needs a value; see 'bellwether --help'",
                     argv[optind - 1]);
            return BW_EUSAGE;
        default:
            if (optopt != 0) {
                BW_ERROR("unknown option '-%c'; see 'bellwether --help'",
                         optopt);
            } else {
                BW_ERROR("unknown option '%s'; see 'bellwether --help'",
                         argv[optind - 1]);
            }
            return BW_EUSAGE;
        }
    }
    if (cli.quiet) {
        bw_log_set_level(BW_LOG_QUIET);
    } else if (cli.verbose) {
        bw_log_set_level(cli.verbose > 1 ? BW_LOG_DEBUG : BW_LOG_INFO);
    }
    if (optind >= argc) {
        usage(stderr);
        return BW_EUSAGE;
    }
    if (strcmp(argv[optind], "help") == 0) {
        if (optind + 1 >= argc) {
            usage(stdout);
            return 0;
        }
        if (bw_help_is_topic(argv[optind + 1])) {
            /* hidden: the key tables, for ini(5) (help.h) */
            return bw_help_topic(argc - optind - 1, argv + optind + 1);
        }
        cmd = bw_command_find(argv[optind + 1]);
        if (cmd == NULL) {
            return command_list_error(argv[optind + 1]);
        }
        bw_command_help(cmd);
        return 0;
    }
    cmd = bw_command_find(argv[optind]);
    if (cmd == NULL) {
        return command_list_error(argv[optind]);
    }
    /* a bad BELLWETHER_NOW is a usage error, never a silent real clock */
    if (bw_clock_init() != 0) {
        return BW_EUSAGE;
    }
    for (int i = optind + 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            break;
        }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            bw_command_help(cmd);
            return 0;
        }
    }
    {
        int first = optind;

        optind = 0; /* glibc: start the command's own getopt afresh */
        return cmd->fn(&cli, argc - first, argv + first);
    }
}

int main(int argc, char **argv)
{
    int rc;

    /* a closed pipe is an error to report, not a reason to die silently */
    signal(SIGPIPE, SIG_IGN);
    bw_mem_hook_cjson();
    if (bw_http_global_init()) {
        BW_ERROR("cannot initialise libcurl");
        return 1;
    }
    rc = run(argc, argv);
    bw_http_global_cleanup();
    bw_mem_release_cached();
    if (fflush(stdout) != 0 || ferror(stdout)) {
        BW_ERROR("cannot write to standard output");
        return rc ? bw_exit_code(rc) : 1;
    }
    return bw_exit_code(rc);
}
