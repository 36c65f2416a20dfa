/*
 * cmd_report.c - `bellwether report [--week YYYY-Www] [--team NAME]
 * [--format md|html|json] [--out FILE|-] [--email]`: the weekly report.
 *
 * Options, config and the store; the work is bw_report_run() (report.h),
 * shared with the daemon and the demo. Where it goes:
 *   --out FILE (or -)  that file (stdout), in --format (default md);
 *   else [report] out_dir: DIR/YYYY-Www[-team].md, .html and .json, or only
 *                      the --format ones (a comma list);
 *   else stdout, in --format (default md).
 * --email also mails it ([email]; a team's email_to with --team). An SMTP
 * failure exits 1 with the files already written. SIGINT/SIGTERM stop it
 * between steps (exit 1): a file is either written whole or not at all.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "bellwether/cli.h"
#include "bellwether/clock.h"
#include "bellwether/error.h"
#include "bellwether/log.h"
#include "bellwether/mem.h"
#include "bellwether/report.h"
#include "bellwether/store.h"

struct report_args {
    struct bw_report_run_opts run;
    const char *week; /* --week as given */
};

static void on_signal(int sig)
{
    (void)sig;
    bw_store_stop_requested = 1;
}

/* "md,html" -> BW_RF_* mask; 0 for a bad list. */
static int parse_formats(const char *s)
{
    char one[16];
    int mask = 0;

    while (*s) {
        size_t n = strcspn(s, ",");
        int f;

        if (n == 0 || n >= sizeof(one)) {
            return 0;
        }
        memcpy(one, s, n);
        one[n] = '\0';
        f = bw_report_format_find(one);
        if (f == 0) {
            return 0;
        }
        mask |= f;
        s += n;
        s += *s == ',';
    }
    return mask;
}

static int single(int mask)
{
    return mask == BW_RF_MD || mask == BW_RF_HTML || mask == BW_RF_JSON;
}

static int parse_args(int argc, char **argv, struct report_args *a)
{
    static const struct option longopts[] = {
        {"week", required_argument, NULL, 'w'},
        {"team", required_argument, NULL, 't'},
        {"format", required_argument, NULL, 'f'},
        {"out", required_argument, NULL, 'o'},
        {"email", no_argument, NULL, 'e'},
        {NULL, 0, NULL, 0}};
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (c) {
        case 'w':
            a->week = optarg;
            if (bw_parse_week(optarg, &a->run.year, &a->run.week)) {
                BW_ERROR("bad --week '%s'; use an ISO week YYYY-Www, e.g. "
                         "2026-W46",
                         optarg);
                return BW_EUSAGE;
            }
            break;
        case 't':
            a->run.team = optarg;
            break;
        case 'f':
            a->run.formats = parse_formats(optarg);
            if (a->run.formats == 0) {
                BW_ERROR("bad --format '%s'; use md, html or json (a comma "
                         "list when writing to [report] out_dir)",
                         optarg);
                return BW_EUSAGE;
            }
            break;
        case 'o':
            a->run.out = optarg;
            break;
        case 'e':
            a->run.email = 1;
            break;
        case ':':
            BW_ERROR("option '%s' needs a value; see 'bellwether help report'",
                     argv[optind - 1]);
            return BW_EUSAGE;
        default:
            BW_ERROR("unknown option '%s' for report; see 'bellwether help "
                     "report'",
                     argv[optind - 1]);
            return BW_EUSAGE;
        }
    }
    if (optind < argc) {
        BW_ERROR("unexpected argument '%s' for report; see 'bellwether help "
                 "report'",
                 argv[optind]);
        return BW_EUSAGE;
    }
    return 0;
}

static int check_args(const struct bw_config *cfg, const struct report_args *a)
{
    const char *dir = cfg->report.out_dir;
    int to_dir = a->run.out == NULL && dir && dir[0];

    if (a->run.formats && !to_dir && !single(a->run.formats)) {
        BW_ERROR("--format names several formats but the report goes to "
                 "one %s; give one format (several go to [report] out_dir)",
                 a->run.out ? "file" : "stream");
        return BW_EUSAGE;
    }
    if (a->run.team && bw_config_team(cfg, a->run.team) == NULL) {
        BW_ERROR("unknown team '%s'; add a [team %s] section or pick one the "
                 "config has",
                 a->run.team, a->run.team);
        return BW_EUSAGE;
    }
    return 0;
}

int cmd_report(struct bw_cli *cli, int argc, char **argv)
{
    struct report_args a;
    struct bw_report_run_result res;
    struct sigaction sa, old_int, old_term;
    struct bw_config *cfg = NULL;
    struct bw_store *st = NULL;
    int rc;

    memset(&a, 0, sizeof(a));
    memset(&res, 0, sizeof(res));
    rc = parse_args(argc, argv, &a);
    if (rc == 0) {
        rc = bw_cli_load_config_offline(cli, &cfg);
    }
    if (rc == 0) {
        rc = check_args(cfg, &a);
    }
    if (rc == 0) {
        rc = bw_tz_set(cfg->report.timezone ? cfg->report.timezone : "UTC");
    }
    if (rc) {
        goto out;
    }
    bw_store_stop_requested = 0;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    rc = bw_store_open(&cfg->redis, 0, &st);
    if (rc == 0 && bw_store_is_empty(st)) {
        BW_WARN("the store at %s holds no data yet; run 'bellwether "
                "collect' first",
                bw_store_url(st));
    }
    if (rc == 0) {
        rc = bw_report_run(st, cfg, &a.run, &res);
    }
    for (int i = 0; rc == 0 && i < 3; i++) {
        if (res.paths[i]) {
            BW_INFO("wrote '%s'", res.paths[i]);
        }
    }
    if (rc == 0 && bw_store_stop_requested) {
        rc = BW_EINTR;
        BW_ERROR("report interrupted by a signal; the files written are "
                 "whole, the rest was skipped");
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
out:
    bw_report_run_result_release(&res);
    bw_store_free(st);
    bw_config_free(cfg);
    return rc;
}
