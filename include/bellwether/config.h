/*
 * config.h - the INI configuration, parsed once into typed structs.
 *
 * Every key is a row of a key table (struct bw_config_key): the core's own
 * sections have static tables in config.c, and each collector brings the
 * table of its [source NAME] keys (struct bw_collector.keys), filled into an
 * options struct of collector->opts_size bytes. Unknown sections or keys,
 * wrong types and missing required keys are errors naming FILE:LINE (a
 * missing key: its section's line), and bw_config_load() returns BW_ECONFIG
 * after logging them. Secrets are named by *_env / *_file keys and resolved
 * at load time; they never appear in logs, errors, reports or Redis.
 */
#ifndef BW_CONFIG_H
#define BW_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct bw_collector;

enum bw_ktype {
    BW_KT_STR = 1,  /* char * */
    BW_KT_LIST,     /* struct bw_strlist: comma separated, may continue on
                       indented lines */
    BW_KT_INT,      /* long, decimal, >= 0 */
    BW_KT_BOOL,     /* int: true/false/yes/no/on/off/1/0 */
    BW_KT_DURATION, /* long seconds: "90s", "90m", "8h", "3d", "2w" */
    BW_KT_RATIO,    /* double: "10%" or "0.1" */
    BW_KT_DATE,     /* int64_t UTC epoch of YYYY-MM-DD 00:00 UTC; -1 unset */
    BW_KT_SECRET,   /* char *: key NAME accepts NAME_env or NAME_file; the
                       resolved secret is stored, the env/file name is kept
                       in the struct bw_secret_src given by aux_offset */
    BW_KT_ZONE,     /* char *: a zone with a file under /usr/share/zoneinfo */
    BW_KT_CRON,     /* char *: a 5-field cron expression (validated) */
    BW_KT_URL,      /* char *: must not carry a password */
    BW_KT_BOUND     /* double: a [target] bound in its metric's unit;
                       aux_offset: the int set to 1 when given */
};

#define BW_KF_REQUIRED 0x1 /* must be present (SECRET: one of _env/_file) */
#define BW_KF_METRIC 0x2   /* affects derived fields: part of config hash */
/* At least one of the keys so flagged in a section must be set ("repos or
   org"); BW_KF_ONEOF: exactly one ("projects or jql"). */
#define BW_KF_ANYOF 0x4
#define BW_KF_ONEOF 0x8
/* Flag bits 0x100 and up are config.c's own (its private tables). */

struct bw_config_key {
    int type;          /* enum bw_ktype; 0 ends a table */
    const char *name;  /* key name as written in the INI */
    const char *def;   /* default as text, or NULL */
    size_t offset;     /* offsetof() in the options struct */
    const char *desc;  /* one line, for help and the ini(5) page */
    unsigned flags;    /* BW_KF_* */
    size_t aux_offset; /* SECRET: offsetof() its struct bw_secret_src */
};

struct bw_strlist {
    char **v;
    size_t n;
};

/* Where a secret came from, for messages that name the variable or file. */
struct bw_secret_src {
    char *env;  /* the variable's name, or NULL */
    char *file; /* the file's path, or NULL */
};

/* Keys every [source NAME] takes, whatever its type. */
struct bw_source_common {
    int64_t since; /* -1: unset (default: 180 days before now) */
    char *ca_file;
    long max_parallel;   /* default 4 */
    long max_rate_wait;  /* seconds, default 15m */
    long min_quota_left; /* default 500 */
};

struct bw_source_conf {
    char *name; /* [source NAME] */
    const struct bw_collector *collector;
    const char *file; /* borrowed from struct bw_config */
    int line;         /* the section's line */
    struct bw_source_common common;
    void *opts;        /* collector->opts_size bytes, filled from its keys */
    char *metric_hash; /* hex digest of the BW_KF_METRIC keys' values */
};

struct bw_team_conf {
    char *name;
    int line;
    struct bw_strlist repos, projects, members, jira_users;
    char *email_to;
};

struct bw_target_conf {
    char *metric;
    int line;
    char *stat; /* p50, p85, mean, ... or value */
    int has_max, has_min;
    /* in the metric's unit (hours, days, ratio 0..1, count, lines) */
    double max, min;
    double at_risk_margin; /* ratio, default 0.1 */
};

struct bw_redis_conf {
    char *url; /* redis://host:port or unix:///path, no password */
    long db;
    char *username;
    char *password; /* secret, may be NULL */
    struct bw_secret_src password_src;
    char *prefix; /* default "bw:" */
    long timeout; /* seconds, connect and command, default 5 */
};

struct bw_report_conf {
    char *timezone;      /* default "UTC" */
    char *out_dir;       /* may be NULL */
    long weeks_of_trend; /* default 12 */
    long stale_after;    /* seconds, default 2d */
};

struct bw_email_conf {
    int present;
    char *smtp_url;
    char *from;
    struct bw_strlist to;
    char *username, *password; /* secrets, may be NULL */
    struct bw_secret_src username_src, password_src;
    char *ca_file;
};

struct bw_schedule_conf {
    char *collect; /* cron expression or NULL */
    char *report;
};

struct bw_config {
    char *file;
    struct bw_redis_conf redis;
    struct bw_source_conf *sources;
    size_t nsources;
    struct bw_team_conf *teams;
    size_t nteams;
    struct bw_report_conf report;
    struct bw_target_conf *targets;
    size_t ntargets;
    struct bw_email_conf email;
    struct bw_schedule_conf schedule;
    char *plugins_path;
};

/*
 * The file to read: path if given, else $BELLWETHER_CONFIG, else
 * ./bellwether.ini, else /etc/bellwether/bellwether.ini. Static or borrowed.
 */
const char *bw_config_path(const char *path);

/*
 * Parse and validate path. On success *out is the config (caller frees
 * with bw_config_free()). Errors are logged as "FILE:LINE: what is wrong"
 * and BW_ECONFIG returned; a missing file is BW_ECONFIG too. BW_ENOMEM when
 * memory ran out. *out is NULL on any error.
 */
int bw_config_load(const char *path, struct bw_config **out);
void bw_config_free(struct bw_config *cfg);

#define BW_CONFIG_NO_PLUGINS 0x1 /* built-in collectors only (fuzzing) */
/* Leave [source] secrets unread (token NULL, its *_env / *_file name kept):
   for commands that call no API (report, query, status, reindex, ...), so
   they run without the collectors' tokens in the environment. */
#define BW_CONFIG_NO_SOURCE_SECRETS 0x2

struct bw_buf;
/*
 * bw_config_load() with options: flags are BW_CONFIG_*; when diag is not
 * NULL, errors and warnings are appended to it one line each ("FILE:LINE:
 * what is wrong; what to do\n", warnings prefixed "warning: ") instead of
 * being logged. Errors come sorted by line; a line of 0 (a missing
 * section) prints as "FILE: ...".
 */
int bw_config_load_ex(const char *path, unsigned flags, struct bw_buf *diag,
                      struct bw_config **out);
/* The same over data[0..len) in memory; name is the file messages give. */
int bw_config_parse(const char *name, const char *data, size_t len,
                    unsigned flags, struct bw_buf *diag,
                    struct bw_config **out);

/* Fill an options struct from a key table's defaults (no file). */
int bw_config_defaults(const struct bw_config_key *keys, void *opts);
/* Free what a key table's fill allocated inside opts (not opts itself). */
void bw_config_opts_release(const struct bw_config_key *keys, void *opts);

/* Parsers shared with the CLI; 0 or BW_EPARSE. */
int bw_parse_duration(const char *s, long *seconds);
int bw_parse_ratio(const char *s, double *ratio);
/* Exact (case-sensitive) membership; 0 for an empty or NULL list. */
int bw_strlist_has(const struct bw_strlist *l, const char *s);
/* Shell glob match (fnmatch) of s against any pattern in l. */
int bw_strlist_glob(const struct bw_strlist *l, const char *s);
/* Append a copy of s; 0 or BW_ENOMEM (l unchanged). */
int bw_strlist_add(struct bw_strlist *l, const char *s);
void bw_strlist_release(struct bw_strlist *l);

/* A [redis] url taken apart: TCP host and port, or a unix socket path. */
struct bw_redis_addr {
    char host[256]; /* "" for a unix socket; IPv6 without the brackets */
    int port;       /* 6379 when the URL names none; 0 for a socket */
    char path[256]; /* unix socket path, "" for TCP */
};
/* redis://HOST[:PORT][/] or unix:///PATH, no credentials: 0 or BW_EPARSE. */
int bw_redis_url_parse(const char *url, struct bw_redis_addr *addr);

/*
 * The core's key table of a section kind ("redis", "source" (the keys
 * every source takes besides its collector's and `type`), "team",
 * "report", "target", "email", "schedule", "plugins"), for help and the
 * ini(5) page; NULL for another name.
 */
const struct bw_config_key *bw_config_section_keys(const char *kind);

const struct bw_team_conf *bw_config_team(const struct bw_config *cfg,
                                          const char *name);
const struct bw_source_conf *bw_config_source(const struct bw_config *cfg,
                                              const char *name);

#endif
