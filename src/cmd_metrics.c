/*
 * cmd_metrics.c - `bellwether metrics [--format table|json]`: every metric
 * of METRICS.md with its unit, kind and one-line definition, from the one
 * catalogue in src/metrics.c (the names `query` accepts). Needs no config.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "bellwether/buf.h"
#include "bellwether/cli.h"
#include "bellwether/error.h"
#include "bellwether/log.h"
#include "bellwether/query.h"

int cmd_metrics(struct bw_cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'F'}, {NULL, 0, NULL, 0}};
    struct bw_buf out = BW_BUF_INIT;
    int fmt = BW_QF_TABLE;
    int c, rc = 0;

    (void)cli;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (c == 'F') {
            fmt = bw_query_format_find(optarg);
            if (fmt != BW_QF_TABLE && fmt != BW_QF_JSON) {
                BW_ERROR("unknown --format '%s' for metrics; use table or "
                         "json",
                         optarg);
                return BW_EUSAGE;
            }
        } else if (c == ':') {
            BW_ERROR("option '%s' needs a value; see 'bellwether help "
                     "metrics'",
                     argv[optind - 1]);
            return BW_EUSAGE;
        } else {
            BW_ERROR("unknown option '%s' for metrics; see 'bellwether help "
                     "metrics'",
                     argv[optind - 1]);
            return BW_EUSAGE;
        }
    }
    if (optind < argc) {
        BW_ERROR("unexpected argument '%s' for metrics; see 'bellwether help "
                 "metrics'",
                 argv[optind]);
        return BW_EUSAGE;
    }
    rc = bw_metrics_write(&out, fmt);
    if (rc == 0 && out.len && fwrite(out.data, 1, out.len, stdout) != out.len) {
        rc = BW_EIO;
    }
    if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout))) {
        rc = BW_EIO;
    }
    if (rc == BW_EIO) {
        BW_ERROR("cannot write the metric list to standard output");
    }
    bw_buf_release(&out);
    return rc;
}
