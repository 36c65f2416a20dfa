/*
 * help.h - `bellwether help collector [NAME]` and `bellwether help config
 * [SECTION]`: the config key tables (config.h) printed as a table.
 *
 * STYLE.md item 3: the key tables are the one source of truth, so the key
 * lists of docs/bellwether.ini.5.md are generated from this output by
 * scripts/gen-ini-doc.sh, and tests/integration/t_docs.sh checks that the
 * committed page equals what it generates. The topics are hidden: main's
 * command list does not show them, bellwether(1) and bellwether.ini(5) do.
 */
#ifndef BW_HELP_H
#define BW_HELP_H

/* Nonzero when word is a help topic ("collector", "config"). */
int bw_help_is_topic(const char *word);

/*
 * Print a topic to stdout: argv[0] is the topic, argv[1] an optional
 * collector or section name (without one, the names are listed). 0, or
 * BW_EUSAGE for an unknown name or an extra argument (logged).
 */
int bw_help_topic(int argc, char **argv);

#endif
