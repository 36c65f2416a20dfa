/*
 * cmd_daemon.c - `bellwether daemon [--pidfile FILE]`: scheduled collect,
 * report and mail in the foreground (systemd style). The options and the
 * first config load are here; the scheduler is daemon.c (daemon.h).
 *
 * Log lines carry timestamps. At the default level the daemon prints its
 * own lines (start, reload, one per job, stop) and warnings; -v adds the
 * collect summaries and other detail, -q keeps errors only.
 */
#include <getopt.h>
#include <string.h>

#include "bellwether/cli.h"
#include "bellwether/daemon.h"
#include "bellwether/error.h"
#include "bellwether/log.h"

static int parse_args(int argc, char **argv, const char **pidfile)
{
    static const struct option longopts[] = {
        {"pidfile", required_argument, NULL, 'p'}, {NULL, 0, NULL, 0}};
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (optarg[0] == '\0') {
                BW_ERROR("--pidfile needs a file name; see 'bellwether help "
                         "daemon'");
                return BW_EUSAGE;
            }
            *pidfile = optarg;
            break;
        case ':':
            BW_ERROR("option '%s' needs a value; see 'bellwether help "
                     "daemon'",
                     argv[optind - 1]);
            return BW_EUSAGE;
        default:
            BW_ERROR("unknown option '%s' for daemon; see 'bellwether help "
                     "daemon'",
                     argv[optind - 1]);
            return BW_EUSAGE;
        }
    }
    if (optind < argc) {
        BW_ERROR("unexpected argument '%s' for daemon; see 'bellwether help "
                 "daemon'",
                 argv[optind]);
        return BW_EUSAGE;
    }
    return 0;
}

int cmd_daemon(struct bw_cli *cli, int argc, char **argv)
{
    struct bw_daemon_opts o;
    struct bw_config *cfg = NULL;
    int rc;

    memset(&o, 0, sizeof(o));
    rc = parse_args(argc, argv, &o.pidfile);
    if (rc) {
        return rc;
    }
    o.config_path = bw_config_path(cli->config_path);
    rc = bw_cli_load_config(cli, &cfg);
    if (rc) {
        return rc;
    }
    /* the daemon's own lines show by default; -q hides them */
    return bw_daemon_run(&o, cfg);
}
