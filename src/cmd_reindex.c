/*
 * cmd_reindex.c - `bellwether reindex [--source NAME]...`: rebuild the
 * derived fields and index rows of every stored item from its stored
 * fields and events, with the sources' current metric settings, and store
 * their config hashes. No HTTP request is made (bw_store_reindex).
 */
#include <getopt.h>
#include <string.h>

#include "bellwether/cli.h"
#include "bellwether/error.h"
#include "bellwether/log.h"
#include "bellwether/mem.h"
#include "bellwether/store.h"

static int wanted(char **names, size_t n, const char *name)
{
    if (n == 0) {
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], name) == 0) {
            return 1;
        }
    }
    return 0;
}

static int parse_args(int argc, char **argv, char ***names, size_t *n)
{
    static const struct option longopts[] = {
        {"source", required_argument, NULL, 's'}, {NULL, 0, NULL, 0}};
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        char **v;

        if (c != 's') {
            BW_ERROR("unknown option '%s' for reindex; see 'bellwether help "
                     "reindex'",
                     argv[optind - 1]);
            return BW_EUSAGE;
        }
        v = bw_realloc(*names, (*n + 1) * sizeof(*v));
        if (v == NULL) {
            return BW_ENOMEM;
        }
        *names = v;
        (*names)[(*n)++] = optarg;
    }
    if (optind < argc) {
        BW_ERROR("unexpected argument '%s' for reindex; see 'bellwether help "
                 "reindex'",
                 argv[optind]);
        return BW_EUSAGE;
    }
    return 0;
}

int cmd_reindex(struct bw_cli *cli, int argc, char **argv)
{
    struct bw_config *cfg = NULL;
    struct bw_store *st = NULL;
    char **names = NULL;
    size_t nnames = 0;
    int rc;

    rc = parse_args(argc, argv, &names, &nnames);
    if (rc == 0) {
        rc = bw_cli_load_config_offline(cli, &cfg);
    }
    for (size_t i = 0; rc == 0 && i < nnames; i++) {
        if (bw_config_source(cfg, names[i]) == NULL) {
            BW_ERROR("unknown source '%s'; see the [source] sections of '%s'",
                     names[i], cfg->file ? cfg->file : "the config");
            rc = BW_EUSAGE;
        }
    }
    if (rc == 0) {
        rc = bw_store_open(&cfg->redis, BW_STORE_CREATE, &st);
    }
    for (size_t i = 0; rc == 0 && i < cfg->nsources; i++) {
        const struct bw_source_conf *src = &cfg->sources[i];
        struct bw_store_reindex_stats rs;

        if (!wanted(names, nnames, src->name)) {
            continue;
        }
        rc = bw_store_reindex(st, src, &rs);
        if (rc == 0) {
            BW_INFO("source '%s': rebuilt %ld PRs and %ld tickets%s", src->name,
                    rs.prs, rs.tickets,
                    rs.skipped ? " (some items did not decode: see above)"
                               : "");
        }
    }
    bw_store_free(st);
    bw_config_free(cfg);
    bw_free(names);
    return rc;
}
