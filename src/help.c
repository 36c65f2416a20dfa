/*
 * help.c - the hidden help topics `bellwether help collector [NAME]` and
 * `bellwether help config [SECTION]` (help.h): a key table (config.h)
 * printed as one aligned table, a row per key.
 *
 * The output is read by people and by scripts/gen-ini-doc.sh, which
 * generates the key lists of docs/bellwether.ini.5.md from it (STYLE.md
 * item 3), so its shape is an interface: a heading line, a blank line, a
 * header line starting "KEY" whose words start the columns, one row per
 * key (columns are padded to the widest cell plus two blanks, so a cell may
 * hold blanks; DESCRIPTION comes last and runs to the end of the line), a
 * blank line, then notes. An empty cell is "-".
 */
#include <stdio.h>
#include <string.h>

#include "bellwether/collector.h"
#include "bellwether/config.h"
#include "bellwether/error.h"
#include "bellwether/help.h"
#include "bellwether/log.h"

#define LABEL_MAX 160 /* "NAME_env|NAME_file" of the longest key name */

/* The section kinds bw_config_section_keys() knows, as the INI has them. */
static const struct {
    const char *kind;
    const char *heading;
} sections[] = {{"redis", "[redis]"},
                {"source", "[source NAME]"},
                {"team", "[team NAME]"},
                {"report", "[report]"},
                {"target", "[target METRIC]"},
                {"email", "[email]"},
                {"schedule", "[schedule]"},
                {"plugins", "[plugins]"},
                {NULL, NULL}};

enum {
    COL_KEY = 0,
    COL_TYPE,
    COL_DEFAULT,
    COL_REQUIRED,
    COL_REINDEX,
    NCOLS
};

static const char *const col_names[NCOLS] = {"KEY", "TYPE", "DEFAULT",
                                             "REQUIRED", "REINDEX"};

static const char *type_name(int type)
{
    switch (type) {
    case BW_KT_STR:
        return "string";
    case BW_KT_LIST:
        return "list";
    case BW_KT_INT:
        return "integer";
    case BW_KT_BOOL:
        return "boolean";
    case BW_KT_DURATION:
        return "duration";
    case BW_KT_RATIO:
        return "ratio";
    case BW_KT_DATE:
        return "date";
    case BW_KT_SECRET:
        return "secret";
    case BW_KT_ZONE:
        return "zone";
    case BW_KT_CRON:
        return "cron";
    case BW_KT_URL:
        return "url";
    case BW_KT_BOUND:
        return "bound";
    default:
        return "?";
    }
}

/* "yes" required, "any" at least one of its group, "one" exactly one. */
static const char *required_name(unsigned flags)
{
    if (flags & BW_KF_REQUIRED) {
        return "yes";
    }
    if (flags & BW_KF_ONEOF) {
        return "one";
    }
    if (flags & BW_KF_ANYOF) {
        return "any";
    }
    return "no";
}

/* The cells of one row; label is the caller's buffer for the key. */
static void row_cells(const struct bw_config_key *k, char *label, size_t n,
                      const char *cells[NCOLS])
{
    /* a secret NAME is written NAME_env or NAME_file, never NAME */
    if (k->type == BW_KT_SECRET) {
        snprintf(label, n, "%s_env|%s_file", k->name, k->name);
    } else {
        snprintf(label, n, "%s", k->name);
    }
    cells[COL_KEY] = label;
    cells[COL_TYPE] = type_name(k->type);
    cells[COL_DEFAULT] = k->def && k->def[0] ? k->def : "-";
    cells[COL_REQUIRED] = required_name(k->flags);
    cells[COL_REINDEX] = k->flags & BW_KF_METRIC ? "yes" : "no";
}

/* The keys of a group (BW_KF_ANYOF or BW_KF_ONEOF), "a, b"; 0 if none. */
static int group_names(const struct bw_config_key *keys, unsigned group,
                       char *buf, size_t n)
{
    size_t o = 0;
    int count = 0;

    buf[0] = '\0';
    for (const struct bw_config_key *k = keys; k->type; k++) {
        int w;

        if (!(k->flags & group) || (k->flags & BW_KF_REQUIRED)) {
            continue;
        }
        w = snprintf(buf + o, n - o, "%s%s%s", count ? ", " : "", k->name,
                     k->type == BW_KT_SECRET ? "_env" : "");
        if (w < 0 || (size_t)w >= n - o) {
            break;
        }
        o += (size_t)w;
        count++;
    }
    return count;
}

static void print_table(const struct bw_config_key *keys)
{
    size_t width[NCOLS];
    char label[LABEL_MAX];
    char names[512];
    const char *cells[NCOLS];

    for (int c = 0; c < NCOLS; c++) {
        width[c] = strlen(col_names[c]);
    }
    for (const struct bw_config_key *k = keys; k->type; k++) {
        row_cells(k, label, sizeof(label), cells);
        for (int c = 0; c < NCOLS; c++) {
            size_t w = strlen(cells[c]);

            width[c] = w > width[c] ? w : width[c];
        }
    }
    for (int c = 0; c < NCOLS; c++) {
        printf("%-*s  ", (int)width[c], col_names[c]);
    }
    printf("DESCRIPTION\n");
    for (const struct bw_config_key *k = keys; k->type; k++) {
        row_cells(k, label, sizeof(label), cells);
        for (int c = 0; c < NCOLS; c++) {
            printf("%-*s  ", (int)width[c], cells[c]);
        }
        printf("%s\n", k->desc && k->desc[0] ? k->desc : "-");
    }
    printf("\n");
    if (group_names(keys, BW_KF_ANYOF, names, sizeof(names))) {
        printf("REQUIRED any: at least one of %s\n", names);
    }
    if (group_names(keys, BW_KF_ONEOF, names, sizeof(names))) {
        printf("REQUIRED one: exactly one of %s\n", names);
    }
    for (const struct bw_config_key *k = keys; k->type; k++) {
        if (k->flags & BW_KF_METRIC) {
            printf("REINDEX yes: a change rebuilds derived fields from the "
                   "stored events (no refetch)\n");
            break;
        }
    }
}

/* ------------------------------------------------------------- topics */

static int list_collectors(void)
{
    printf("collectors (the type of a [source NAME]):\n");
    for (size_t i = 0; bw_builtin_collectors[i]; i++) {
        const struct bw_collector *c = bw_builtin_collectors[i];

        printf("  %-10s %s\n", c->name, c->description ? c->description : "");
    }
    printf("\n`bellwether help collector NAME` prints its keys; "
           "`bellwether help config source` the keys every source takes\n");
    return 0;
}

static int help_collector(const char *name)
{
    char list[256] = "";
    size_t o = 0;

    for (size_t i = 0; bw_builtin_collectors[i]; i++) {
        const struct bw_collector *c = bw_builtin_collectors[i];
        int w;

        if (strcmp(c->name, name) == 0) {
            printf("[source NAME] type = %s: %s\n\n", c->name,
                   c->description ? c->description : "");
            print_table(c->keys);
            printf("every source also takes the keys of `bellwether help "
                   "config source`\n");
            return 0;
        }
        w = snprintf(list + o, sizeof(list) - o, "%s%s", o ? ", " : "",
                     c->name);
        if (w > 0 && (size_t)w < sizeof(list) - o) {
            o += (size_t)w;
        }
    }
    BW_ERROR("unknown collector '%s'; the built-in collectors are: %s", name,
             list);
    return BW_EUSAGE;
}

static int list_sections(void)
{
    printf("config sections (bellwether.ini(5)):\n");
    for (size_t i = 0; sections[i].kind; i++) {
        printf("  %-10s %s\n", sections[i].kind, sections[i].heading);
    }
    printf("\n`bellwether help config SECTION` prints its keys; "
           "`bellwether help collector TYPE` a source type's own\n");
    return 0;
}

static int help_section(const char *kind)
{
    const struct bw_config_key *keys = bw_config_section_keys(kind);
    char list[256] = "";
    size_t o = 0;

    for (size_t i = 0; keys && sections[i].kind; i++) {
        if (strcmp(sections[i].kind, kind) == 0) {
            printf("%s%s\n\n", sections[i].heading,
                   strcmp(kind, "source") == 0
                       ? ": the keys every source takes, besides `type` "
                         "(required: a collector, `bellwether help "
                         "collector`) and its type's own keys"
                       : "");
            print_table(keys);
            return 0;
        }
    }
    for (size_t i = 0; sections[i].kind; i++) {
        int w = snprintf(list + o, sizeof(list) - o, "%s%s", o ? ", " : "",
                         sections[i].kind);

        if (w > 0 && (size_t)w < sizeof(list) - o) {
            o += (size_t)w;
        }
    }
    BW_ERROR("unknown config section '%s'; the sections are: %s", kind, list);
    return BW_EUSAGE;
}

int bw_help_is_topic(const char *word)
{
    return word != NULL &&
           (strcmp(word, "collector") == 0 || strcmp(word, "config") == 0);
}

int bw_help_topic(int argc, char **argv)
{
    int collector = strcmp(argv[0], "collector") == 0;

    if (argc > 2) {
        BW_ERROR("unexpected argument '%s'; use 'bellwether help %s [%s]'",
                 argv[2], argv[0], collector ? "NAME" : "SECTION");
        return BW_EUSAGE;
    }
    if (argc < 2) {
        return collector ? list_collectors() : list_sections();
    }
    return collector ? help_collector(argv[1]) : help_section(argv[1]);
}
