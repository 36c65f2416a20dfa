/*
 * test_config.c - the config loader: every kind of bad config gives one
 * "FILE:LINE: what; what to do" line (table-driven), good configs give the
 * right values, secrets resolve without ever being printed, and every
 * allocation failing in turn is an error, never a crash or a leak.
 *
 * Configs are parsed from memory with bw_config_parse() (file name
 * "t.ini") and the messages collected in a struct bw_buf; secret files live
 * in a temp dir made by the group setup.
 */
#include "testutil.h"

#include <ctype.h>
#include <ini.h>
#include <limits.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bellwether/buf.h"
#include "bellwether/collector.h"
#include "bellwether/config.h"
#include "bellwether/error.h"
#include "bellwether/github.h"
#include "bellwether/jira.h"
#include "bellwether/mem.h"

#define TOKEN "s3cr3t-token-value"
#define REDIS "[redis]\nurl = redis://127.0.0.1:6379\n" /* lines 1-2 */
#define GH                                                                     \
    "[source gh]\ntype = github\nrepos = acme/api\n"                           \
    "token_env = BW_TEST_TOKEN\n" /* 4 lines */

static char tmpdir[256];

static int group_setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "%s", "/tmp/bw-test-config.XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        return -1;
    }
    setenv("BW_TEST_TOKEN", TOKEN, 1);
    setenv("BW_TEST_EMPTY", "", 1);
    unsetenv("BW_TEST_UNSET_VAR");
    unsetenv("CREDENTIALS_DIRECTORY");
    unsetenv("BELLWETHER_CONFIG");
    return 0;
}

static int group_teardown(void **state)
{
    char cmd[512];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Write a file under tmpdir with the given mode; returns its path. */
static const char *write_tmp(const char *name, const char *text, int mode)
{
    static char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, (mode_t)mode), 0);
    return path;
}

static int parse(const char *ini, struct bw_config **cfg, struct bw_buf *d)
{
    return bw_config_parse("t.ini", ini, strlen(ini), BW_CONFIG_NO_PLUGINS, d,
                           cfg);
}

/* Parse a config that must load; fails the test with its messages. */
static struct bw_config *load_ok(const char *ini)
{
    struct bw_buf d = BW_BUF_INIT;
    struct bw_config *cfg = NULL;
    int rc = parse(ini, &cfg, &d);

    if (rc != 0) {
        print_error("unexpected errors:\n%s", d.data ? d.data : "");
    }
    bw_buf_release(&d);
    assert_int_equal(rc, 0);
    assert_non_null(cfg);
    return cfg;
}

/* Every message line is "t.ini[:LINE]: text" and says what to do. */
static void assert_lines_well_formed(const char *text)
{
    const char *p = text;

    while (p && *p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char line[1024];
        const char *msg;

        snprintf(line, sizeof(line), "%.*s", (int)n, p);
        msg = line;
        if (strncmp(msg, "warning: ", 9) == 0) {
            msg += 9;
        }
        if (strncmp(msg, "t.ini", 5) != 0) {
            fail_msg("message without the file: %s", line);
        }
        msg = strstr(msg, ": ");
        if (msg == NULL ||
            !(islower((unsigned char)msg[2]) || strchr("'[", msg[2]) != NULL)) {
            fail_msg("message not lower case: %s", line);
        }
        if (strstr(line, "; ") == NULL &&
            strstr(line, "more messages") == NULL) {
            fail_msg("message without what to do: %s", line);
        }
        if (line[strlen(line) - 1] == '.') {
            fail_msg("message ends with a full stop: %s", line);
        }
        p = nl ? nl + 1 : NULL;
    }
}

/* ---------------------------------------------------------------------- */
/* Bad configs, one message each                                           */
/* ---------------------------------------------------------------------- */

struct bad_case {
    const char *name;
    const char *ini;
    const char *expect; /* a substring of the messages */
};

static const struct bad_case bad_cases[] = {
    /* structure */
    {"unknown section", REDIS "[bogus]\n", "t.ini:3: unknown section [bogus]"},
    {"unknown section suggests", REDIS "[sorce gh]\n",
     "t.ini:3: unknown section [sorce gh]; did you mean [source]?"},
    {"section case", REDIS "[Report]\n", "did you mean [report]?"},
    {"unknown key", REDIS "colour = red\n",
     "t.ini:3: unknown key 'colour' in [redis]; known keys: url, db"},
    {"unknown key suggests", REDIS "prefx = a\n",
     "t.ini:3: unknown key 'prefx' in [redis]; did you mean 'prefix'?"},
    {"unknown source key lists type", REDIS GH "colour = x\n",
     "t.ini:7: unknown key 'colour' in [source gh]; known keys: type, since"},
    {"key before any section", "x = 1\n" REDIS,
     "t.ini:1: key 'x' comes before any section"},
    {"line without =", REDIS "just words\n",
     "t.ini:3: expected 'key = value' or '[section]'"},
    {"key without name", REDIS "= 5\n", "t.ini:3: a value without a key"},
    {"header without ]", REDIS "[report\n",
     "t.ini:3: section header without ']'"},
    {"text after ]", REDIS "[report] x\n", "t.ini:3: text after ']'"},
    {"unnamed kind with a name", "[redis x]\nurl = redis://h\n",
     "t.ini:1: section [redis] takes no name; write [redis]"},
    {"source without a name", REDIS "[source]\n",
     "t.ini:3: section [source] needs a name; write [source NAME]"},
    {"target without a metric", REDIS "[target]\n",
     "t.ini:3: section [target] needs a name; write [target METRIC]"},
    {"source with a blank name", REDIS "[source \t ]\n",
     "t.ini:3: section [source] needs a name"},
    {"bad source name", REDIS "[source a/b]\n",
     "t.ini:3: bad source name 'a/b'"},
    {"duplicate section", REDIS "[report]\n[report]\n",
     "t.ini:4: duplicate section [report] (first on line 3)"},
    {"duplicate source", REDIS GH GH,
     "t.ini:7: duplicate section [source gh] (first on line 3)"},
    {"duplicate key", REDIS "db = 1\ndb = 2\n",
     "t.ini:4: duplicate key 'db' in [redis] (first on line 3)"},
    {"missing redis section", "[report]\n",
     "t.ini: missing section [redis]; add one"},
    /* types */
    {"int", REDIS "db = x\n",
     "t.ini:3: bad value 'x' for 'db' in [redis]; expected a whole number"},
    {"int negative", REDIS "db = -1\n", "bad value '-1' for 'db'"},
    {"int overflow", REDIS "db = 99999999999999999999999\n",
     "bad value '99999999999999999999999' for 'db'"},
    {"int at least 1", REDIS GH "max_parallel = 0\n",
     "t.ini:7: bad value '0' for 'max_parallel' in [source gh]; expected a "
     "whole number (1 or more)"},
    {"bool", REDIS GH "include_bot_prs = maybe\n",
     "t.ini:7: bad value 'maybe' for 'include_bot_prs' in [source gh]; "
     "expected true or false"},
    {"duration without unit", REDIS "timeout = 5\n",
     "t.ini:3: bad value '5' for 'timeout' in [redis]; expected a duration"},
    {"duration fraction", REDIS "[report]\nstale_after = 1.5h\n",
     "t.ini:4: bad value '1.5h' for 'stale_after'"},
    {"duration unit", REDIS "[report]\nstale_after = 3y\n",
     "bad value '3y' for 'stale_after'"},
    {"ratio over 100%",
     REDIS "[target pr_cycle_time]\nstat = p85\nmax = 3d\n"
           "at_risk_margin = 150%\n",
     "t.ini:6: bad value '150%' for 'at_risk_margin' in [target "
     "pr_cycle_time]; expected a ratio"},
    {"ratio over 1",
     REDIS "[target pr_cycle_time]\nstat = p85\nmax = 3d\n"
           "at_risk_margin = 1.5\n",
     "bad value '1.5' for 'at_risk_margin'"},
    {"date not a day", REDIS GH "since = 2026-02-30\n",
     "t.ini:7: bad value '2026-02-30' for 'since' in [source gh]; expected a "
     "date YYYY-MM-DD"},
    {"date format", REDIS GH "since = 2026-1-1\n",
     "bad value '2026-1-1' for 'since'"},
    {"zone unknown", REDIS "[report]\ntimezone = Mars/Olympus\n",
     "t.ini:4: bad value 'Mars/Olympus' for 'timezone' in [report]; "
     "expected a time zone"},
    {"zone dot dot", REDIS "[report]\ntimezone = ../../etc/passwd\n",
     "bad value '../../etc/passwd' for 'timezone'"},
    {"zone absolute", REDIS "[report]\ntimezone = /etc/localtime\n",
     "bad value '/etc/localtime' for 'timezone'"},
    {"zone not a zone file", REDIS "[report]\ntimezone = zone.tab\n",
     "bad value 'zone.tab' for 'timezone'"},
    {"cron fields", REDIS "[schedule]\ncollect = * * * *\n",
     "t.ini:4: bad cron expression '* * * *' for 'collect' in [schedule]: 4 "
     "fields; expected 5"},
    {"cron range", REDIS "[schedule]\nreport = 0 25 * * 1\n",
     "t.ini:4: bad cron expression '0 25 * * 1' for 'report' in "
     "[schedule]: hour"},
    {"str empty", REDIS GH "org =\n",
     "t.ini:7: 'org' in [source gh] has no value; give one or remove the "
     "line"},
    /* URLs */
    {"redis password", "[redis]\nurl = redis://:pw@127.0.0.1:6379\n",
     "t.ini:2: bad 'url' in [redis]: it holds a password; remove it and use "
     "password_env or password_file"},
    {"redis user and password", "[redis]\nurl = redis://bw:pw@host\n",
     "it holds a password"},
    {"redis user", "[redis]\nurl = redis://bw@host\n",
     "it holds a user name; remove it and set 'username'"},
    {"redis scheme", "[redis]\nurl = http://host\n",
     "t.ini:2: bad 'url' in [redis]: not a Redis URL; write "
     "redis://HOST[:PORT] or unix:///PATH"},
    {"redis tls", "[redis]\nurl = rediss://host\n", "TLS (rediss://)"},
    {"redis port", "[redis]\nurl = redis://host:70000\n", "bad port"},
    {"redis db in path", "[redis]\nurl = redis://host:6379/3\n",
     "the database goes in 'db'"},
    {"redis relative socket", "[redis]\nurl = unix://run/redis.sock\n",
     "not an absolute socket path; write unix:///PATH"},
    {"http scheme", REDIS GH "api_url = ftp://x\n",
     "t.ini:7: bad value 'ftp://x' for 'api_url' in [source gh]; expected "
     "an http:// or https:// URL"},
    {"http credentials",
     REDIS "[source j]\ntype = jira\nurl = https://u:p@jira\n"
           "projects = OPS\ntoken_env = BW_TEST_TOKEN\n",
     "t.ini:5: 'url' in [source j] carries credentials"},
    {"smtp scheme",
     REDIS "[email]\nsmtp_url = https://mail\nfrom = a@b.c\nto = d@e.f\n",
     "t.ini:4: bad value 'https://mail' for 'smtp_url' in [email]; expected "
     "smtps://"},
    /* required keys: at the section's line */
    {"missing redis url", "[redis]\ndb = 1\n",
     "t.ini:1: missing 'url' in [redis]; add it"},
    {"missing type", REDIS "[source gh]\nrepos = a/b\n",
     "t.ini:3: missing 'type' in [source gh]; add type = github"},
    {"unknown type", REDIS "[source gh]\ntype = gitlab\n",
     "t.ini:4: unknown source type 'gitlab' in [source gh]"},
    {"bad type", REDIS "[source gh]\ntype = ../x\n",
     "t.ini:4: bad type '../x' in [source gh]"},
    {"github token", REDIS "[source gh]\ntype = github\nrepos = a/b\n",
     "t.ini:3: missing 'token_env' or 'token_file' in [source gh]; add one"},
    {"jira url",
     REDIS "[source j]\ntype = jira\nprojects = A\ntoken_env = "
           "BW_TEST_TOKEN\n",
     "t.ini:3: missing 'url' in [source j]"},
    {"email smtp_url", REDIS "[email]\nfrom = a@b.c\nto = d@e.f\n",
     "t.ini:3: missing 'smtp_url' in [email]"},
    {"email to", REDIS "[email]\nsmtp_url = smtps://m\nfrom = a@b.c\n",
     "t.ini:3: missing 'to' in [email]"},
    {"email empty section", REDIS "[email]\n",
     "t.ini:3: missing 'from' in [email]"},
    {"email to empty",
     REDIS "[email]\nsmtp_url = smtps://m\nfrom = a@b.c\nto =\n",
     "t.ini:6: 'to' in [email] is empty; list at least one"},
    {"email address",
     REDIS "[email]\nsmtp_url = smtps://m\nfrom = nobody\n"
           "to = d@e.f\n",
     "t.ini:5: bad value 'nobody' for 'from' in [email]; expected a mail "
     "address"},
    {"team needs members", REDIS "[team a]\nemail_to = a@b.c\n",
     "t.ini:3: [team a] needs 'repos' or 'projects' or 'members' or "
     "'jira_users'; add at least one"},
    /* [target] */
    {"target unknown metric",
     REDIS "[target pr_pickup]\nstat = p50\n"
           "max = 8h\n",
     "t.ini:3: unknown metric 'pr_pickup' in [target pr_pickup]; did you "
     "mean 'pr_pickup_time'?"},
    {"target value for a duration",
     REDIS "[target pr_cycle_time]\nstat = value\nmax = 3d\n",
     "t.ini:4: stat 'value' does not fit 'pr_cycle_time' (a duration "
     "metric); use one of p50"},
    {"target stat for a count",
     REDIS "[target pr_merged]\nstat = p50\n"
           "min = 5\n",
     "t.ini:4: stat 'p50' does not fit 'pr_merged' (a count metric); use "
     "value"},
    {"target stat for a rate",
     REDIS "[target pr_unreviewed_merge_rate]\nstat = mean\nmax = 5%\n",
     "does not fit 'pr_unreviewed_merge_rate' (a rate metric); use value"},
    {"target unknown stat",
     REDIS "[target pr_cycle_time]\nstat = p42\nmax = 3d\n",
     "stat 'p42' does not fit 'pr_cycle_time'"},
    {"target both bounds",
     REDIS "[target pr_cycle_time]\nstat = p50\nmax = 3d\nmin = 1h\n",
     "t.ini:6: [target pr_cycle_time] takes only one of 'max' or 'min'; "
     "keep one"},
    {"target no bound", REDIS "[target pr_cycle_time]\nstat = p50\n",
     "t.ini:3: [target pr_cycle_time] needs 'max' or 'min'; add one"},
    {"target no stat", REDIS "[target pr_cycle_time]\nmax = 3d\n",
     "t.ini:3: missing 'stat' in [target pr_cycle_time]"},
    {"target bad duration bound",
     REDIS "[target pr_cycle_time]\nstat = p50\nmax = soon\n",
     "t.ini:5: bad value 'soon' for 'max' in [target pr_cycle_time]; "
     "expected a duration such as 8h"},
    {"target bad ratio bound",
     REDIS "[target pr_large_rate]\nstat = value\nmax = 150%\n",
     "expected a ratio such as 10% or 0.1"},
    {"target bad count bound",
     REDIS "[target pr_merged]\nstat = value\nmin = lots\n",
     "bad value 'lots' for 'min' in [target pr_merged]; expected a number"},
    /* lists */
    {"list empty item",
     REDIS "[source gh]\ntype = github\nrepos = a,,b\n"
           "token_env = BW_TEST_TOKEN\n",
     "t.ini:5: empty item in the list 'repos' in [source gh]; remove the "
     "extra comma"},
    {"list trailing comma",
     REDIS "[source gh]\ntype = github\nrepos = a,\n"
           "token_env = BW_TEST_TOKEN\n",
     "t.ini:5: empty item in the list 'repos'"},
    {"list empty item on a continuation",
     REDIS "[source gh]\ntype = github\nrepos = a,\n    , b\n"
           "token_env = BW_TEST_TOKEN\n",
     "t.ini:6: empty item in the list 'repos'"},
    {"continuation of a single value", REDIS "db = 1\n  2\n",
     "t.ini:4: indented line continues 'db' in [redis], which takes one "
     "value; remove the indentation"},
    /* secrets */
    {"secret both", REDIS GH "token_file = /x\n",
     "t.ini:7: both 'token_env' and 'token_file' in [source gh]; keep one"},
    {"secret env unset",
     REDIS "[source gh]\ntype = github\norg = acme\n"
           "token_env = BW_TEST_UNSET_VAR\n",
     "t.ini:6: environment variable 'BW_TEST_UNSET_VAR' ('token_env' in "
     "[source gh]) is not set or empty; export it or use token_file"},
    {"secret env empty",
     REDIS "[source gh]\ntype = github\norg = acme\n"
           "token_env = BW_TEST_EMPTY\n",
     "environment variable 'BW_TEST_EMPTY'"},
    {"secret env not a name",
     REDIS "[source gh]\ntype = github\norg = acme\n"
           "token_env = ghp-abc/def\n",
     "t.ini:6: 'token_env' in [source gh] is not a variable name"},
    {"secret file unset variable",
     REDIS "[source gh]\ntype = github\norg = acme\n"
           "token_file = ${BW_TEST_UNSET_VAR}/token\n",
     "t.ini:6: variable 'BW_TEST_UNSET_VAR' used in 'token_file' of [source "
     "gh] is not set"},
    {"secret file credentials directory unset",
     REDIS "[source gh]\ntype = github\norg = acme\n"
           "token_file = ${CREDENTIALS_DIRECTORY}/gh\n",
     "variable 'CREDENTIALS_DIRECTORY' used in 'token_file' of [source gh] "
     "is not set; systemd sets it with LoadCredential="},
    {"secret file bad variable",
     REDIS "[source gh]\ntype = github\norg = acme\ntoken_file = ${x\n",
     "t.ini:6: bad '${' in 'token_file' of [source gh]"},
    {"secret file missing",
     REDIS "[source gh]\ntype = github\norg = acme\n"
           "token_file = /nonexistent/bw/token\n",
     "t.ini:6: cannot read secret file '/nonexistent/bw/token' ('token_file' "
     "in [source gh])"},
    {"secret file not regular",
     REDIS "[source gh]\ntype = github\norg = acme\ntoken_file = /tmp\n",
     "secret file '/tmp' ('token_file' in [source gh]) is not a regular "
     "file"},
    {"secret file device",
     REDIS "[source gh]\ntype = github\norg = acme\n"
           "token_file = /dev/zero\n",
     "is not a regular file"},
};

static void test_bad_configs(void **state)
{
    size_t failures = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        struct bw_buf d = BW_BUF_INIT;
        struct bw_config *cfg = NULL;
        int rc = parse(c->ini, &cfg, &d);
        const char *text = d.data ? d.data : "";

        if (rc != BW_ECONFIG || cfg != NULL ||
            strstr(text, c->expect) == NULL) {
            print_error("case '%s': rc %d, want BW_ECONFIG with\n  %s\n"
                        "got:\n%s\n",
                        c->name, rc, c->expect, text);
            failures++;
        } else if (strstr(text, TOKEN) != NULL) {
            print_error("case '%s' printed the secret\n", c->name);
            failures++;
        }
        assert_lines_well_formed(text);
        bw_config_free(cfg);
        bw_buf_release(&d);
    }
    assert_int_equal(failures, 0);
}

/* The passwords of a [redis] url never reach a message. */
static void test_redis_password_not_echoed(void **state)
{
    struct bw_buf d = BW_BUF_INIT;
    struct bw_config *cfg;

    (void)state;
    assert_int_equal(parse("[redis]\nurl = redis://u:hunter2@h:1\n", &cfg, &d),
                     BW_ECONFIG);
    assert_null(strstr(d.data, "hunter2"));
    bw_buf_release(&d);
    assert_int_equal(parse("[redis]\nurl = redis://:hunter2@h\n[source x]\n"
                           "type = github\norg = a\ntoken_env = hunter2/x\n",
                           &cfg, &d),
                     BW_ECONFIG);
    /* an *_env value that is no variable name is not echoed either */
    assert_null(strstr(d.data, "hunter2"));
    bw_buf_release(&d);
    /* nor one that is a token pasted in by mistake */
    assert_int_equal(parse(REDIS "[source x]\ntype = github\norg = a\n"
                                 "token_env = ghp_16C7e42F292c6912E7710c83\n",
                           &cfg, &d),
                     BW_ECONFIG);
    assert_null(strstr(d.data, "ghp_"));
    assert_non_null(strstr(d.data, "t.ini:6: the environment variable "
                                   "'token_env' in [source x] names is not "
                                   "set"));
    bw_buf_release(&d);
}

/* All errors of a file are reported, sorted by line, one line each. */
static void test_all_errors_reported(void **state)
{
    static const char ini[] = "[redis]\n"                 /* 1 */
                              "url = redis://h\n"         /* 2 */
                              "db = x\n"                  /* 3 */
                              "bogus = 1\n"               /* 4 */
                              "[report]\n"                /* 5 */
                              "timezone = Nowhere/Land\n" /* 6 */
                              "weeks_of_trend = 0\n"      /* 7 */
                              "[nope]\n"                  /* 8 */
                              "a = b\n"                   /* 9: ignored */
                              "garbage\n"                 /* 10 */
                              "[source s]\n"              /* 11 */
                              "type = jira\n";            /* 12 */
    static const char *const want[] = {
        "t.ini:3: bad value 'x' for 'db'",
        "t.ini:4: unknown key 'bogus'",
        "t.ini:6: bad value 'Nowhere/Land'",
        "t.ini:7: bad value '0' for 'weeks_of_trend'",
        "t.ini:8: unknown section [nope]",
        "t.ini:10: expected 'key = value'",
        "t.ini:11: missing 'url' in [source s]",
        "t.ini:11: missing 'token_env' or 'token_file' in [source s]"};
    struct bw_buf d = BW_BUF_INIT;
    struct bw_config *cfg;
    const char *prev = NULL;
    size_t lines = 0;

    (void)state;
    assert_int_equal(parse(ini, &cfg, &d), BW_ECONFIG);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const char *at = strstr(d.data, want[i]);

        if (at == NULL || (prev != NULL && at < prev)) {
            fail_msg("'%s' missing or out of order in:\n%s", want[i], d.data);
        }
        prev = at;
    }
    for (const char *p = d.data; *p; p++) {
        lines += *p == '\n';
    }
    /* jira's "projects or jql" may add one line once its table flags it */
    assert_true(lines == 8 || lines == 9);
    assert_lines_well_formed(d.data);
    bw_buf_release(&d);
}

/* ---------------------------------------------------------------------- */
/* Good configs                                                            */
/* ---------------------------------------------------------------------- */

/* DESIGN.md's example, as printed there. */
static const char design_example[] =
    "[redis]\n"
    "url = redis://127.0.0.1:6379            ; or unix:///run/redis/"
    "redis.sock; no password here\n"
    "db = 0\n"
    "username = bellwether                   ; Redis 6+ ACL user (optional)\n"
    "password_env = REDIS_PASSWORD           ; or password_file\n"
    "prefix = bw:\n"
    "\n"
    "[source gh]\n"
    "type = github\n"
    "api_url = https://api.github.com        ; GitHub Enterprise: "
    "https://HOST/api/v3\n"
    "repos = acme/api, acme/web              ; and/or org = acme (the union "
    "is collected)\n"
    "token_env = GITHUB_TOKEN                ; or token_file\n"
    "since = 2026-01-01                      ; backfill from (items updated "
    "since); default: 180 days before now\n"
    "exclude_users = renovate-bot, ci-user\n"
    "include_bot_prs = false\n"
    "exclude_labels = dependencies           ; PRs with any of these labels "
    "are left out of metrics\n"
    "exclude_base = release/*                ; PRs into these base branches "
    "(shell globs) likewise\n"
    "min_quota_left = 500                    ; stop cleanly (exit 0) rather "
    "than spend the last of the quota\n"
    "max_parallel = 4                        ; requests in flight to this "
    "API\n"
    "max_rate_wait = 15m                     ; wait for a quota reset up to "
    "this, else fail the source\n"
    "ca_file = /etc/ssl/private-ca.pem       ; optional, every source and "
    "[email] takes it\n"
    "\n"
    "[source jira]\n"
    "type = jira\n"
    "url = https://acme.atlassian.net\n"
    "flavor = auto                           ; cloud | datacenter | auto "
    "(serverInfo: deploymentType Cloud, else DC)\n"
    "projects = OPS, API                     ; or jql = ... (exactly one of "
    "the two)\n"
    "email = bot@acme.com                    ; Cloud basic auth user; omit "
    "for a Data Center bearer token\n"
    "token_env = JIRA_TOKEN\n"
    "blocked_statuses = Blocked, On Hold\n"
    "stage_in_progress = Peer Check          ; optional stage_todo / "
    "stage_in_progress / stage_done lists\n"
    "exclude_types = Epic\n"
    "exclude_labels = noise\n"
    "story_points_field = customfield_10016  ; found by name \"Story Points\" "
    "when absent\n"
    "flagged_field = customfield_10021       ; found by name \"Flagged\" when "
    "absent\n"
    "\n"
    "[team platform]\n"
    "repos = acme/api\n"
    "projects = OPS\n"
    "members = alice, bob                    ; GitHub logins\n"
    "jira_users = 5b10ac8d82e05b22cc7d4ef5   ; Jira account ids (Cloud), or "
    "user names (Data Center)\n"
    "email_to = platform-leads@acme.com      ; the daemon also mails this "
    "team its own report\n"
    "\n"
    "[report]\n"
    "timezone = Europe/Berlin\n"
    "out_dir = /var/lib/bellwether/reports   ; YYYY-Www[-team].md, .html, "
    ".json\n"
    "weeks_of_trend = 12\n"
    "stale_after = 2d                        ; a source whose last success "
    "is older is flagged (report, status)\n"
    "\n"
    "[target pr_pickup_time]\n"
    "stat = p50\n"
    "max = 8h\n"
    "at_risk_margin = 10%\n"
    "\n"
    "[email]\n"
    "smtp_url = smtps://smtp.acme.com        ; smtp:// uses STARTTLS "
    "(required when credentials are set,\n"
    "from = bellwether@acme.com              ;   except to a loopback "
    "address)\n"
    "to = leads@acme.com\n"
    "username_env = SMTP_USER\n"
    "password_env = SMTP_PASSWORD\n"
    "\n"
    "[schedule]\n"
    "collect = */30 * * * *                  ; 5-field cron (Vixie syntax), "
    "in [report] timezone\n"
    "report = 0 8 * * 1\n"
    "\n"
    "[plugins]\n"
    "path = /usr/lib/bellwether/plugins      ; external collectors (*.so)\n";

static void set_design_env(void)
{
    setenv("REDIS_PASSWORD", "redis-pw", 1);
    setenv("GITHUB_TOKEN", "gh-token", 1);
    setenv("JIRA_TOKEN", "jira-token", 1);
    setenv("SMTP_USER", "smtp-user", 1);
    setenv("SMTP_PASSWORD", "smtp-pw", 1);
}

static void assert_list(const struct bw_strlist *l, size_t n, ...)
{
    va_list ap;

    assert_int_equal(l->n, n);
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(l->v[i], va_arg(ap, const char *));
    }
    va_end(ap);
}

static void check_design_sources(const struct bw_config *cfg)
{
    const struct bw_source_conf *gh = bw_config_source(cfg, "gh");
    const struct bw_source_conf *jira = bw_config_source(cfg, "jira");
    const struct bw_github_opts *g;
    const struct bw_jira_opts *j;

    assert_non_null(gh);
    assert_non_null(jira);
    assert_ptr_equal(gh->collector, &bw_collector_github);
    assert_string_equal(gh->file, "t.ini");
    assert_int_equal(gh->line, 8);
    assert_int_equal(gh->common.since, 1767225600); /* 2026-01-01Z */
    assert_int_equal(gh->common.max_parallel, 4);
    assert_int_equal(gh->common.max_rate_wait, 900);
    assert_int_equal(gh->common.min_quota_left, 500);
    assert_string_equal(gh->common.ca_file, "/etc/ssl/private-ca.pem");
    g = gh->opts;
    assert_string_equal(g->api_url, "https://api.github.com");
    assert_list(&g->repos, 2, "acme/api", "acme/web");
    assert_null(g->org);
    assert_string_equal(g->token, "gh-token");
    assert_string_equal(g->token_src.env, "GITHUB_TOKEN");
    assert_null(g->token_src.file);
    assert_list(&g->exclude_users, 2, "renovate-bot", "ci-user");
    assert_int_equal(g->include_bot_prs, 0);
    assert_list(&g->exclude_labels, 1, "dependencies");
    assert_list(&g->exclude_base, 1, "release/*");
    assert_int_equal(strlen(gh->metric_hash), 16);
    j = jira->opts;
    assert_int_equal(jira->common.since, -1);
    assert_string_equal(j->url, "https://acme.atlassian.net");
    assert_string_equal(j->flavor, "auto");
    assert_list(&j->projects, 2, "OPS", "API");
    assert_null(j->jql);
    assert_string_equal(j->email, "bot@acme.com");
    assert_string_equal(j->token, "jira-token");
    assert_list(&j->blocked_statuses, 2, "Blocked", "On Hold");
    assert_list(&j->stage_in_progress, 1, "Peer Check");
    assert_int_equal(j->stage_todo.n, 0);
    assert_list(&j->exclude_types, 1, "Epic");
    assert_list(&j->exclude_labels, 1, "noise");
    assert_string_equal(j->story_points_field, "customfield_10016");
    assert_string_equal(j->flagged_field, "customfield_10021");
}

static void test_design_example(void **state)
{
    struct bw_config *cfg;
    const struct bw_team_conf *t;

    (void)state;
    set_design_env();
    cfg = load_ok(design_example);
    assert_string_equal(cfg->file, "t.ini");
    assert_string_equal(cfg->redis.url, "redis://127.0.0.1:6379");
    assert_int_equal(cfg->redis.db, 0);
    assert_string_equal(cfg->redis.username, "bellwether");
    assert_string_equal(cfg->redis.password, "redis-pw");
    assert_string_equal(cfg->redis.password_src.env, "REDIS_PASSWORD");
    assert_string_equal(cfg->redis.prefix, "bw:");
    assert_int_equal(cfg->redis.timeout, 5);
    assert_int_equal(cfg->nsources, 2);
    check_design_sources(cfg);
    assert_int_equal(cfg->nteams, 1);
    t = bw_config_team(cfg, "platform");
    assert_non_null(t);
    assert_null(bw_config_team(cfg, "nope"));
    assert_null(bw_config_source(cfg, "nope"));
    assert_list(&t->repos, 1, "acme/api");
    assert_list(&t->projects, 1, "OPS");
    assert_list(&t->members, 2, "alice", "bob");
    assert_list(&t->jira_users, 1, "5b10ac8d82e05b22cc7d4ef5");
    assert_string_equal(t->email_to, "platform-leads@acme.com");
    assert_string_equal(cfg->report.timezone, "Europe/Berlin");
    assert_string_equal(cfg->report.out_dir, "/var/lib/bellwether/reports");
    assert_int_equal(cfg->report.weeks_of_trend, 12);
    assert_int_equal(cfg->report.stale_after, 2 * 86400);
    assert_int_equal(cfg->ntargets, 1);
    assert_string_equal(cfg->targets[0].metric, "pr_pickup_time");
    assert_string_equal(cfg->targets[0].stat, "p50");
    assert_true(cfg->targets[0].has_max && !cfg->targets[0].has_min);
    assert_true(cfg->targets[0].max == 8.0);
    assert_true(fabs(cfg->targets[0].at_risk_margin - 0.1) < 1e-12);
    assert_true(cfg->email.present);
    assert_string_equal(cfg->email.smtp_url, "smtps://smtp.acme.com");
    assert_string_equal(cfg->email.from, "bellwether@acme.com");
    assert_list(&cfg->email.to, 1, "leads@acme.com");
    assert_string_equal(cfg->email.username, "smtp-user");
    assert_string_equal(cfg->email.password, "smtp-pw");
    assert_string_equal(cfg->schedule.collect, "*/30 * * * *");
    assert_string_equal(cfg->schedule.report, "0 8 * * 1");
    assert_string_equal(cfg->plugins_path, "/usr/lib/bellwether/plugins");
    bw_config_free(cfg);
}

static void test_defaults(void **state)
{
    struct bw_config *cfg;
    const struct bw_jira_opts *j;

    (void)state;
    cfg = load_ok(REDIS "[source j]\ntype = jira\nurl = http://127.0.0.1:9\n"
                        "jql = project = OPS\ntoken_env = BW_TEST_TOKEN\n");
    assert_int_equal(cfg->redis.db, 0);
    assert_string_equal(cfg->redis.prefix, "bw:");
    assert_int_equal(cfg->redis.timeout, 5);
    assert_null(cfg->redis.password);
    assert_null(cfg->redis.password_src.env);
    assert_string_equal(cfg->report.timezone, "UTC");
    assert_null(cfg->report.out_dir);
    assert_int_equal(cfg->report.weeks_of_trend, 12);
    assert_int_equal(cfg->report.stale_after, 172800);
    assert_false(cfg->email.present);
    assert_null(cfg->email.smtp_url);
    assert_null(cfg->schedule.collect);
    assert_null(cfg->plugins_path);
    assert_int_equal(cfg->nsources, 1);
    assert_int_equal(cfg->sources[0].common.since, -1);
    assert_int_equal(cfg->sources[0].common.max_parallel, 4);
    assert_int_equal(cfg->sources[0].common.max_rate_wait, 900);
    assert_int_equal(cfg->sources[0].common.min_quota_left, 500);
    j = cfg->sources[0].opts;
    assert_string_equal(j->jql, "project = OPS");
    assert_string_equal(j->flavor, "auto");
    assert_string_equal(j->token, TOKEN);
    assert_list(&j->blocked_statuses, 2, "Blocked", "On Hold");
    assert_list(&j->exclude_types, 1, "Epic");
    assert_int_equal(j->projects.n, 0);
    assert_null(j->email);
    bw_config_free(cfg);
}

/* Lists continue on indented lines; Debian's inih leaves inline comments
   on those lines, the loader strips them. */
static void test_list_continuation(void **state)
{
    struct bw_config *cfg;
    const struct bw_github_opts *g;
    const struct bw_jira_opts *j;

    (void)state;
    cfg = load_ok(REDIS "[source gh]\n"
                        "type = github\n"
                        "repos =\n"
                        "    acme/api,\n"
                        "    acme/web, acme/ops ; the rest\n"
                        "\n"
                        "    ; a comment between\n"
                        "    acme/db\n"
                        "exclude_users = a, b,\n"
                        "\tc\n"
                        "token_env = BW_TEST_TOKEN\n"
                        "[source j]\n"
                        "type = jira\n"
                        "url = https://jira.example\n"
                        "jql = project = OPS\n"
                        "      AND type = Bug ; inline\n"
                        "blocked_statuses =\n"
                        "token_env = BW_TEST_TOKEN\n");
    g = cfg->sources[0].opts;
    assert_list(&g->repos, 4, "acme/api", "acme/web", "acme/ops", "acme/db");
    assert_list(&g->exclude_users, 3, "a", "b", "c");
    j = cfg->sources[1].opts;
    assert_string_equal(j->jql, "project = OPS AND type = Bug");
    /* an empty list overrides the default */
    assert_int_equal(j->blocked_statuses.n, 0);
    bw_config_free(cfg);
}

/* What Debian's inih 55 does on its own, which the loader works around. */
static int inih_capture(void *user, const char *section, const char *name,
                        const char *value)
{
    struct bw_buf *b = user;

    (void)section;
    bw_buf_printf(b, "%s=%s|", name, value);
    return 1;
}

static void test_debian_inih_behaviour(void **state)
{
    char ini[400];
    struct bw_buf b = BW_BUF_INIT;
    int rc;

    (void)state;
    /* a 250-byte line is cut at INI_MAX_LINE: the value loses its end, and
       the rest is parsed as a line of its own ("line 3" of a 2-line file) */
    snprintf(ini, sizeof(ini), "[s]\nk = %0245d\n", 0);
    rc = ini_parse_string(ini, inih_capture, &b);
    assert_int_equal(rc, 3);
    assert_true(b.len < 240);
    bw_buf_reset(&b);
    /* ... and a tail that starts with a space continues the value */
    snprintf(ini, sizeof(ini), "[s]\nk = %0195d evil = 1\n", 0);
    rc = ini_parse_string(ini, inih_capture, &b);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(b.data, "|k=evil = 1|"));
    bw_buf_reset(&b);
    /* continuation lines are repeated calls, inline comment left in */
    rc = ini_parse_string("[s]\nk = a, ; c1\n  b, ; c2\n", inih_capture, &b);
    assert_int_equal(rc, 0);
    assert_string_equal(b.data, "k=a,|k=b, ; c2|");
    bw_buf_release(&b);
}

/* 199 bytes are fine, 200 are not; CRLF and a BOM are fine. */
static void test_line_limit_and_encoding(void **state)
{
    char ini[600];
    struct bw_buf d = BW_BUF_INIT;
    struct bw_config *cfg;

    (void)state;
    snprintf(ini, sizeof(ini), REDIS "username = %0188d\n", 0);
    cfg = load_ok(ini); /* "username = " + 188 = 199 bytes */
    assert_int_equal(strlen(cfg->redis.username), 188);
    bw_config_free(cfg);
    snprintf(ini, sizeof(ini), REDIS "username = %0189d\n", 0);
    assert_int_equal(parse(ini, &cfg, &d), BW_ECONFIG);
    assert_non_null(strstr(d.data, "t.ini:3: line is 200 bytes long"));
    bw_buf_release(&d);
    /* a long section header: its keys are not blamed on another section */
    snprintf(ini, sizeof(ini), REDIS "[team %0200d]\nrepos = a/b\n", 0);
    assert_int_equal(parse(ini, &cfg, &d), BW_ECONFIG);
    assert_non_null(strstr(d.data, "t.ini:3: line is 207 bytes long"));
    assert_null(strstr(d.data, "t.ini:4"));
    bw_buf_release(&d);
    cfg = load_ok("\xEF\xBB\xBF[redis]\r\nurl = redis://h:1\r\n"
                  "[report]\r\ntimezone = Europe/Berlin\r\n");
    assert_string_equal(cfg->redis.url, "redis://h:1");
    assert_string_equal(cfg->report.timezone, "Europe/Berlin");
    bw_config_free(cfg);
    /* a NUL byte is reported, not silently cut */
    assert_int_equal(bw_config_parse("t.ini", REDIS "db = 1\0x\n",
                                     sizeof(REDIS "db = 1\0x\n") - 1, 0, &d,
                                     &cfg),
                     BW_ECONFIG);
    assert_non_null(strstr(d.data, "t.ini:3: line holds a NUL byte"));
    bw_buf_release(&d);
}

static void test_secret_files(void **state)
{
    char ini[1024];
    struct bw_buf d = BW_BUF_INIT;
    struct bw_config *cfg;
    const struct bw_github_opts *g;
    char path[512];

    (void)state;
    snprintf(path, sizeof(path), "%s", write_tmp("gh", "file-token\n", 0600));
    snprintf(ini, sizeof(ini),
             REDIS "[source gh]\ntype = github\norg = acme\n"
                   "token_file = %s\n",
             path);
    assert_int_equal(parse(ini, &cfg, &d), 0);
    assert_null(d.data); /* mode 600: no warning */
    g = cfg->sources[0].opts;
    assert_string_equal(g->token, "file-token");
    assert_string_equal(g->token_src.file, path);
    assert_null(g->token_src.env);
    bw_config_free(cfg);

    /* ${CREDENTIALS_DIRECTORY}, as systemd's LoadCredential= sets it */
    write_tmp("gh2", "cred-token\r\n\n", 0400);
    setenv("CREDENTIALS_DIRECTORY", tmpdir, 1);
    cfg = load_ok(REDIS "[source gh]\ntype = github\norg = acme\n"
                        "token_file = ${CREDENTIALS_DIRECTORY}/gh2\n");
    unsetenv("CREDENTIALS_DIRECTORY");
    g = cfg->sources[0].opts;
    assert_string_equal(g->token, "cred-token");
    snprintf(path, sizeof(path), "%s/gh2", tmpdir);
    assert_string_equal(g->token_src.file, path);
    bw_config_free(cfg);

    /* readable by the group: a warning naming the file, still loads */
    snprintf(path, sizeof(path), "%s",
             write_tmp("open", "open-token-value\n", 0640));
    snprintf(ini, sizeof(ini),
             REDIS "[source gh]\ntype = github\norg = acme\n"
                   "token_file = %s\n",
             path);
    assert_int_equal(parse(ini, &cfg, &d), 0);
    assert_non_null(d.data);
    assert_non_null(strstr(d.data, "warning: t.ini:6: secret file '"));
    assert_non_null(strstr(d.data, "is readable by group or others; chmod "
                                   "600 '"));
    assert_non_null(strstr(d.data, path));
    assert_null(strstr(d.data, "open-token-value"));
    assert_lines_well_formed(d.data);
    bw_config_free(cfg);
    bw_buf_release(&d);

    /* an empty secret file is an error */
    snprintf(path, sizeof(path), "%s", write_tmp("empty", "\n", 0600));
    snprintf(ini, sizeof(ini),
             REDIS "[source gh]\ntype = github\norg = acme\n"
                   "token_file = %s\n",
             path);
    assert_int_equal(parse(ini, &cfg, &d), BW_ECONFIG);
    assert_non_null(strstr(d.data, "is empty; write the secret into it"));
    bw_buf_release(&d);
}

static void test_secret_env(void **state)
{
    struct bw_config *cfg;

    (void)state;
    setenv("BW_TEST_SMTP_PW", "mail-pw", 1);
    cfg = load_ok(REDIS "[email]\nsmtp_url = smtp://127.0.0.1:2525\n"
                        "from = a@b.c\nto = d@e.f, g@h.i\n"
                        "password_env = BW_TEST_SMTP_PW\n");
    assert_string_equal(cfg->email.password, "mail-pw");
    assert_string_equal(cfg->email.password_src.env, "BW_TEST_SMTP_PW");
    assert_null(cfg->email.username);
    assert_list(&cfg->email.to, 2, "d@e.f", "g@h.i");
    bw_config_free(cfg);
}

static void test_redis_urls(void **state)
{
    static const struct {
        const char *url;
        int ok;
        const char *host;
        int port;
        const char *path;
    } cases[] = {
        {"redis://127.0.0.1:6379", 1, "127.0.0.1", 6379, ""},
        {"redis://cache.internal", 1, "cache.internal", 6379, ""},
        {"redis://cache:7000/", 1, "cache", 7000, ""},
        {"redis://[::1]:6380", 1, "::1", 6380, ""},
        {"REDIS://h", 1, "h", 6379, ""},
        {"unix:///run/redis/redis.sock", 1, "", 0, "/run/redis/redis.sock"},
        {"redis://", 0, NULL, 0, NULL},
        {"redis://:6379", 0, NULL, 0, NULL},
        {"redis://h:0", 0, NULL, 0, NULL},
        {"redis://h:x", 0, NULL, 0, NULL},
        {"redis://h:6379/0", 0, NULL, 0, NULL},
        {"redis://h?db=1", 0, NULL, 0, NULL},
        {"redis://:pw@h", 0, NULL, 0, NULL},
        {"redis://[::1", 0, NULL, 0, NULL},
        {"unix://", 0, NULL, 0, NULL},
        {"unix:///", 0, NULL, 0, NULL},
        {"tcp://h", 0, NULL, 0, NULL},
        {"redis://h h", 0, NULL, 0, NULL},
    };
    struct bw_redis_addr a;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = bw_redis_url_parse(cases[i].url, &a);

        if ((rc == 0) != cases[i].ok) {
            fail_msg("'%s': rc %d", cases[i].url, rc);
        }
        if (cases[i].ok) {
            assert_string_equal(a.host, cases[i].host);
            assert_int_equal(a.port, cases[i].port);
            assert_string_equal(a.path, cases[i].path);
        }
    }
    assert_int_equal(bw_redis_url_parse(NULL, &a), BW_EPARSE);
}

/* ---------------------------------------------------------------------- */
/* Value parsers                                                           */
/* ---------------------------------------------------------------------- */

static void test_parse_duration(void **state)
{
    static const struct {
        const char *s;
        long want; /* -1: error */
    } cases[] = {
        {"90s", 90},
        {"90m", 5400},
        {"8h", 28800},
        {"3d", 259200},
        {"2w", 1209600},
        {"0s", 0},
        {"15m", 900},
        {"007h", 25200},
        {"", -1},
        {"5", -1},
        {"h", -1},
        {"-5m", -1},
        {"1.5h", -1},
        {"5 m", -1},
        {" 5m", -1},
        {"5mm", -1},
        {"5M", -1},
        {"5y", -1},
        {"99999999999999999999s", -1},
        {"9223372036854775807w", -1},
        {"15250284452472w", -1},
        {"9223372036854775807s", LONG_MAX},
        {"15250284452471w", 9223372036854460800L},
    };
    long v;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = bw_parse_duration(cases[i].s, &v);

        if (cases[i].want < 0) {
            if (rc != BW_EPARSE) {
                fail_msg("'%s' parsed as %ld", cases[i].s, v);
            }
        } else if (rc != 0 || v != cases[i].want) {
            fail_msg("'%s': rc %d, %ld != %ld", cases[i].s, rc, v,
                     cases[i].want);
        }
    }
    assert_int_equal(bw_parse_duration(NULL, &v), BW_EPARSE);
}

static void test_parse_ratio(void **state)
{
    static const struct {
        const char *s;
        double want; /* -1: error */
    } cases[] = {
        {"10%", 0.1}, {"0.1", 0.1}, {"0", 0},     {"1", 1},
        {"100%", 1},  {"0%", 0},    {".5", 0.5},  {"12.5%", 0.125},
        {"1.0", 1},   {"", -1},     {"%", -1},    {"101%", -1},
        {"1.01", -1}, {"-0.1", -1}, {"abc", -1},  {"inf", -1},
        {"nan", -1},  {"0x1", -1},  {" 0.1", -1}, {"10 %", -1},
        {"1e-1", -1}, {".", -1},    {"10%%", -1}, {"0.1.2", -1},
    };
    double v;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = bw_parse_ratio(cases[i].s, &v);

        if (cases[i].want < 0) {
            if (rc != BW_EPARSE) {
                fail_msg("'%s' parsed as %g", cases[i].s, v);
            }
        } else if (rc != 0 || fabs(v - cases[i].want) > 1e-12) {
            fail_msg("'%s': rc %d, %g != %g", cases[i].s, rc, v, cases[i].want);
        }
    }
}

static void test_bools_and_dates(void **state)
{
    static const char *const yes[] = {"true", "yes", "on", "1", "TRUE", "Yes"};
    char ini[256];
    struct bw_config *cfg;

    (void)state;
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        snprintf(ini, sizeof(ini),
                 REDIS GH "include_bot_prs = %s\nsince = 2024-02-29\n", yes[i]);
        cfg = load_ok(ini);
        assert_int_equal(
            ((struct bw_github_opts *)cfg->sources[0].opts)->include_bot_prs,
            1);
        assert_int_equal(cfg->sources[0].common.since, 1709164800);
        bw_config_free(cfg);
    }
    cfg = load_ok(REDIS GH "since = 1970-01-01\n");
    assert_int_equal(cfg->sources[0].common.since, 0);
    bw_config_free(cfg);
}

/* ---------------------------------------------------------------------- */
/* Key groups, hash, tables                                                */
/* ---------------------------------------------------------------------- */

static int table_has_flag(const struct bw_config_key *keys, const char *name,
                          unsigned flag)
{
    for (const struct bw_config_key *k = keys; k->type; k++) {
        if (strcmp(k->name, name) == 0) {
            return (k->flags & flag) != 0;
        }
    }
    return 0;
}

static void expect_error(const char *ini, const char *want)
{
    struct bw_buf d = BW_BUF_INIT;
    struct bw_config *cfg;

    assert_int_equal(parse(ini, &cfg, &d), BW_ECONFIG);
    if (strstr(d.data, want) == NULL) {
        fail_msg("want '%s' in:\n%s", want, d.data);
    }
    bw_buf_release(&d);
}

/* "repos or org" and "exactly one of projects or jql" come from the
   collectors' key tables (BW_KF_ANYOF / BW_KF_ONEOF). */
static void test_github_groups(void **state)
{
    (void)state;
    if (!table_has_flag(bw_collector_github.keys, "repos", BW_KF_ANYOF) ||
        !table_has_flag(bw_collector_github.keys, "org", BW_KF_ANYOF)) {
        print_message("collectors/github.c does not flag repos and org "
                      "BW_KF_ANYOF yet\n");
        skip();
    }
    expect_error(REDIS "[source gh]\ntype = github\n"
                       "token_env = BW_TEST_TOKEN\n",
                 "t.ini:3: [source gh] needs 'repos' or 'org'; add at least "
                 "one");
    expect_error(REDIS "[source gh]\ntype = github\nrepos =\n"
                       "token_env = BW_TEST_TOKEN\n",
                 "t.ini:3: [source gh] needs 'repos' or 'org'");
}

static void test_jira_groups(void **state)
{
    (void)state;
    if (!table_has_flag(bw_collector_jira.keys, "projects", BW_KF_ONEOF) ||
        !table_has_flag(bw_collector_jira.keys, "jql", BW_KF_ONEOF)) {
        print_message("collectors/jira.c does not flag projects and jql "
                      "BW_KF_ONEOF yet\n");
        skip();
    }
    expect_error(REDIS "[source j]\ntype = jira\nurl = https://j\n"
                       "token_env = BW_TEST_TOKEN\n",
                 "t.ini:3: [source j] needs 'projects' or 'jql'; add one");
    expect_error(REDIS "[source j]\ntype = jira\nurl = https://j\n"
                       "projects = A\njql = project = A\n"
                       "token_env = BW_TEST_TOKEN\n",
                 "t.ini:7: [source j] takes only one of 'projects' or "
                 "'jql'; keep one");
}

static char *hash_of(const char *ini)
{
    struct bw_config *cfg = load_ok(ini);
    char *h = strdup(cfg->sources[0].metric_hash);

    bw_config_free(cfg);
    return h;
}

static void test_metric_hash(void **state)
{
#define J REDIS "[source j]\ntype = jira\nurl = https://j\nprojects = A\n"
    static const char *const same[] = {
        J "token_env = BW_TEST_TOKEN\n",
        J "token_env = BW_TEST_EMPTY2\nmax_parallel = 9\nemail = x@y\n",
        J "token_env = BW_TEST_TOKEN\nblocked_statuses = Blocked, On Hold\n",
        J "token_env = BW_TEST_TOKEN\nblocked_statuses = On Hold,Blocked\n"
          "exclude_types = Epic\n",
    };
    static const char *const differ[] = {
        J "token_env = BW_TEST_TOKEN\nblocked_statuses = Blocked\n",
        J "token_env = BW_TEST_TOKEN\nexclude_labels = noise\n",
        J "token_env = BW_TEST_TOKEN\nstage_done = Closed\n",
        J "token_env = BW_TEST_TOKEN\nstage_todo = Closed\n",
        J "token_env = BW_TEST_TOKEN\nexclude_types = Epic, Sub-task\n",
    };
#undef J
    char *base;

    (void)state;
    setenv("BW_TEST_EMPTY2", "another-token", 1);
    base = hash_of(same[0]);
    assert_int_equal(strlen(base), 16);
    assert_int_equal(strspn(base, "0123456789abcdef"), 16);
    for (size_t i = 1; i < sizeof(same) / sizeof(same[0]); i++) {
        char *h = hash_of(same[i]);

        assert_string_equal(h, base);
        free(h);
    }
    for (size_t i = 0; i < sizeof(differ) / sizeof(differ[0]); i++) {
        char *h = hash_of(differ[i]);

        assert_string_not_equal(h, base);
        for (size_t j = 0; j < i; j++) {
            char *o = hash_of(differ[j]);

            assert_string_not_equal(h, o);
            free(o);
        }
        free(h);
    }
    free(base);
}

static void test_defaults_api(void **state)
{
    struct bw_github_opts g;
    struct bw_jira_opts j;
    struct bw_target_conf t;

    (void)state;
    memset(&g, 0xA5, sizeof(g)); /* every field is written */
    assert_int_equal(bw_config_defaults(bw_collector_github.keys, &g), 0);
    assert_string_equal(g.api_url, "https://api.github.com");
    assert_int_equal(g.repos.n, 0);
    assert_null(g.repos.v);
    assert_null(g.org);
    assert_null(g.token);
    assert_null(g.token_src.env);
    assert_int_equal(g.include_bot_prs, 0);
    bw_config_opts_release(bw_collector_github.keys, &g);
    assert_null(g.api_url);
    assert_int_equal(bw_config_defaults(bw_collector_jira.keys, &j), 0);
    assert_list(&j.blocked_statuses, 2, "Blocked", "On Hold");
    assert_string_equal(j.flavor, "auto");
    bw_config_opts_release(bw_collector_jira.keys, &j);
    assert_int_equal(j.blocked_statuses.n, 0);
    assert_int_equal(bw_config_defaults(bw_config_section_keys("target"), &t),
                     0);
    assert_true(fabs(t.at_risk_margin - 0.1) < 1e-12);
    assert_false(t.has_max);
    bw_config_opts_release(bw_config_section_keys("target"), &t);
    for (const char *const *k =
             (const char *const[]){"redis", "source", "team", "report",
                                   "target", "email", "schedule", "plugins",
                                   NULL};
         *k; k++) {
        assert_non_null(bw_config_section_keys(*k));
    }
    assert_null(bw_config_section_keys("bogus"));
}

static void test_strlist(void **state)
{
    struct bw_strlist l = {NULL, 0};

    (void)state;
    assert_false(bw_strlist_has(&l, "a"));
    assert_false(bw_strlist_glob(&l, "a"));
    assert_int_equal(bw_strlist_add(&l, "release/*"), 0);
    assert_int_equal(bw_strlist_add(&l, "main"), 0);
    assert_true(bw_strlist_has(&l, "main"));
    assert_false(bw_strlist_has(&l, "Main"));
    assert_false(bw_strlist_has(NULL, "main"));
    assert_true(bw_strlist_glob(&l, "release/1.2"));
    assert_true(bw_strlist_glob(&l, "main"));
    assert_false(bw_strlist_glob(&l, "develop"));
    bw_strlist_release(&l);
    assert_int_equal(l.n, 0);
    assert_null(l.v);
    bw_strlist_release(&l);
}

static void test_config_path(void **state)
{
    char cwd[1024];
    char dir[600];

    (void)state;
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    snprintf(dir, sizeof(dir), "%s/cwd", tmpdir);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(chdir(dir), 0);
    assert_string_equal(bw_config_path("x.ini"), "x.ini");
    assert_string_equal(bw_config_path(NULL), "/etc/bellwether/bellwether.ini");
    write_tmp("cwd/bellwether.ini", "", 0600);
    assert_string_equal(bw_config_path(NULL), "bellwether.ini");
    setenv("BELLWETHER_CONFIG", "/from/env.ini", 1);
    assert_string_equal(bw_config_path(NULL), "/from/env.ini");
    assert_string_equal(bw_config_path("x.ini"), "x.ini");
    unsetenv("BELLWETHER_CONFIG");
    assert_int_equal(chdir(cwd), 0);
}

static void test_load_file(void **state)
{
    struct bw_buf d = BW_BUF_INIT;
    struct bw_config *cfg;
    char missing[512];
    const char *path;

    (void)state;
    path = write_tmp("ok.ini", REDIS, 0600);
    assert_int_equal(bw_config_load(path, &cfg), 0);
    assert_string_equal(cfg->file, path);
    bw_config_free(cfg);
    snprintf(missing, sizeof(missing), "%s/missing.ini", tmpdir);
    assert_int_equal(bw_config_load_ex(missing, 0, &d, &cfg), BW_ECONFIG);
    assert_null(cfg);
    assert_non_null(strstr(d.data, "cannot read config '"));
    assert_non_null(strstr(d.data, "missing.ini': "));
    bw_buf_release(&d);
    /* a directory is no config */
    assert_int_equal(bw_config_load_ex(tmpdir, 0, &d, &cfg), BW_ECONFIG);
    assert_non_null(strstr(d.data, "cannot read config '"));
    bw_buf_release(&d);
    path = write_tmp("bad.ini", REDIS "db = x\n", 0600);
    assert_int_equal(bw_config_load_ex(path, 0, &d, &cfg), BW_ECONFIG);
    assert_non_null(strstr(d.data, "bad.ini:3: bad value 'x' for 'db'"));
    bw_buf_release(&d);
}

/* contrib/bellwether.ini.example documents every key and loads cleanly. */
static void test_contrib_example(void **state)
{
    struct bw_buf d = BW_BUF_INIT;
    struct bw_config *cfg;
    const char *path = "contrib/bellwether.ini.example";
    FILE *f = fopen(path, "r");
    int rc;

    (void)state;
    if (f == NULL) {
        print_message("%s not found (run from the checkout)\n", path);
        skip();
    }
    fclose(f);
    set_design_env();
    rc = bw_config_load_ex(path, BW_CONFIG_NO_PLUGINS, &d, &cfg);
    if (rc != 0 || d.data != NULL) {
        fail_msg("%s: rc %d\n%s", path, rc, d.data ? d.data : "");
    }
    assert_int_equal(cfg->nsources, 2);
    assert_true(cfg->email.present);
    bw_config_free(cfg);
}

/* ---------------------------------------------------------------------- */
/* Allocation failures                                                     */
/* ---------------------------------------------------------------------- */

/*
 * Make each allocation of a parse fail in turn (or every one from the Nth
 * on): each must end in an error and a NULL config, never a crash, and
 * ASan (make asan) sees no leak. Stops at the first run with no failure.
 */
static void torture(const char *ini, int fail_all, int want)
{
    int done = 0;

    for (long n = 1; n < 100000 && !done; n++) {
        struct bw_buf d = BW_BUF_INIT;
        struct bw_config *cfg = NULL;
        int rc, failed;

        bw_mem_fail_at(n, fail_all);
        rc = parse(ini, &cfg, &d);
        failed = bw_mem_failed();
        bw_mem_fail_at(0, 0);
        if (!failed) {
            if (rc != want) {
                fail_msg("no failure injected, rc %d:\n%s", rc,
                         d.data ? d.data : "");
            }
            done = 1;
        } else if (rc != BW_ENOMEM || cfg != NULL) {
            fail_msg("allocation %ld failed, rc %d:\n%s", n, rc,
                     d.data ? d.data : "");
        }
        bw_buf_release(&d);
        bw_config_free(cfg);
    }
    assert_true(done);
}

static void test_torture(void **state)
{
    char ini[1024];

    (void)state;
    write_tmp("tort", "torture-token\n", 0600);
    setenv("BW_TEST_DIR", tmpdir, 1);
    snprintf(ini, sizeof(ini), "%s",
             REDIS "password_env = BW_TEST_TOKEN\n"
                   "[source gh]\ntype = github\nrepos = a/b,\n  c/d\n"
                   "token_file = ${BW_TEST_DIR}/tort\n"
                   "exclude_users = x, y\n"
                   "[source j]\ntype = jira\nurl = https://j\n"
                   "projects = A\ntoken_env = BW_TEST_TOKEN\n"
                   "[team t]\nmembers = x\n"
                   "[target pr_cycle_time]\nstat = p85\nmax = 3d\n"
                   "[report]\ntimezone = Europe/Berlin\n"
                   "[email]\nsmtp_url = smtps://m\nfrom = a@b.c\nto = d@e.f\n"
                   "[schedule]\ncollect = */30 * * * *\n");
    torture(ini, 0, 0);
    torture(ini, 1, 0);
    /* and a config full of errors */
    torture(REDIS "db = x\n[bogus]\nk = v\n[source s]\ntype = nope\n"
                  "[target pr_pickup]\nstat = p50\n",
            0, BW_ECONFIG);
}

/* Commands that call no API load a config whose tokens are not set. */
static void test_offline_secrets(void **state)
{
    static const char ini[] = "[redis]\nurl = redis://127.0.0.1:6379\n"
                              "[source gh]\ntype = github\nrepos = acme/api\n"
                              "token_env = BW_TEST_UNSET_TOKEN\n";
    struct bw_buf d = BW_BUF_INIT;
    struct bw_config *cfg = NULL;
    const struct bw_github_opts *o;

    (void)state;
    unsetenv("BW_TEST_UNSET_TOKEN");
    assert_int_equal(parse(ini, &cfg, &d), BW_ECONFIG);
    assert_non_null(strstr(d.data, "BW_TEST_UNSET_TOKEN"));
    bw_buf_reset(&d);
    assert_int_equal(
        bw_config_parse("t.ini", ini, strlen(ini),
                        BW_CONFIG_NO_PLUGINS | BW_CONFIG_NO_SOURCE_SECRETS, &d,
                        &cfg),
        0);
    o = cfg->sources[0].opts;
    assert_null(o->token);
    assert_string_equal(o->token_src.env, "BW_TEST_UNSET_TOKEN");
    bw_config_free(cfg);
    bw_buf_release(&d);
}

/* An API URL with a query string could carry a token: refused, unechoed. */
static void test_url_query_refused(void **state)
{
    static const char ini[] =
        "[redis]\nurl = redis://127.0.0.1:6379\n"
        "[source gh]\ntype = github\nrepos = acme/api\n"
        "api_url = https://api.example.com/?access_token=s3cr3tvalue\n"
        "token_env = HOME\n";
    struct bw_buf d = BW_BUF_INIT;
    struct bw_config *cfg = NULL;

    (void)state;
    assert_int_equal(parse(ini, &cfg, &d), BW_ECONFIG);
    assert_non_null(strstr(d.data, "t.ini:6: 'api_url'"));
    assert_non_null(strstr(d.data, "query or fragment"));
    assert_null(strstr(d.data, "s3cr3tvalue"));
    bw_buf_release(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_configs),
        cmocka_unit_test(test_redis_password_not_echoed),
        cmocka_unit_test(test_all_errors_reported),
        cmocka_unit_test(test_design_example),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_list_continuation),
        cmocka_unit_test(test_debian_inih_behaviour),
        cmocka_unit_test(test_line_limit_and_encoding),
        cmocka_unit_test(test_secret_files),
        cmocka_unit_test(test_secret_env),
        cmocka_unit_test(test_redis_urls),
        cmocka_unit_test(test_parse_duration),
        cmocka_unit_test(test_parse_ratio),
        cmocka_unit_test(test_bools_and_dates),
        cmocka_unit_test(test_github_groups),
        cmocka_unit_test(test_jira_groups),
        cmocka_unit_test(test_metric_hash),
        cmocka_unit_test(test_defaults_api),
        cmocka_unit_test(test_strlist),
        cmocka_unit_test(test_config_path),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_contrib_example),
        cmocka_unit_test(test_torture),
        cmocka_unit_test(test_offline_secrets),
        cmocka_unit_test(test_url_query_refused),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
