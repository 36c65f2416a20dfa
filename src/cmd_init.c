/*
 * cmd_init.c - `bellwether init`: write a commented starter config.
 *
 *   bellwether [-c FILE] init [--github-org ORG] [--github-repos A/B,C/D]
 *       [--github-api-url URL] [--jira-url URL --jira-projects A,B]
 *       [--jira-email ADDR] [--redis URL] [--timezone ZONE] [--force]
 *
 * The file is -c FILE, else $BELLWETHER_CONFIG, else ./bellwether.ini
 * (never /etc/...: a starter config is written where the operator is).
 * Every flag is checked before anything is written, with the same rules
 * the config loader applies, so the result loads with no error once the
 * tokens' variables are set; tokens are only ever referenced by name
 * (token_env = GITHUB_TOKEN, JIRA_TOKEN). The optional keys follow as
 * comments with their defaults, so the file doubles as a reference.
 *
 * The config is written to a temp file in the same directory (mode 0600
 * from mkstemp: it names where secrets come from and the operator may add
 * a password_file path) and then moved into place: link() without --force,
 * which cannot replace a file that appeared meanwhile, rename() with it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bellwether/buf.h"
#include "bellwether/cli.h"
#include "bellwether/clock.h"
#include "bellwether/config.h"
#include "bellwether/error.h"
#include "bellwether/log.h"
#include "bellwether/mem.h"

#define DEFAULT_FILE "bellwether.ini"
#define DEFAULT_REDIS "redis://127.0.0.1:6379"
#define LIST_WRAP 72 /* list lines wrap before this: inih cuts at 200 */

struct init_opts {
    const char *github_org;
    const char *github_repos;
    const char *github_api_url;
    const char *jira_url;
    const char *jira_projects;
    const char *jira_email;
    const char *redis;
    const char *timezone;
    int force;
};

/* ------------------------------------------------------------ checks */

/* GitHub owner and repository names: letters, digits, '.', '_', '-'. */
static int gh_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > 100) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')) {
            return 0;
        }
    }
    return 1;
}

static int repo_ok(const char *s)
{
    const char *slash = strchr(s, '/');

    return slash != NULL && gh_name_ok(s, (size_t)(slash - s)) &&
           gh_name_ok(slash + 1, strlen(slash + 1));
}

/* A Jira project key: an upper-case letter, then letters, digits, '_'. */
static int project_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 255 || s[0] < 'A' || s[0] > 'Z') {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '_')) {
            return 0;
        }
    }
    return 1;
}

/* http(s)://HOST..., printable, no blanks, no user:password@. */
static int http_url_ok(const char *s)
{
    const char *host;
    size_t hlen;

    if (strncmp(s, "https://", 8) == 0) {
        host = s + 8;
    } else if (strncmp(s, "http://", 7) == 0) {
        host = s + 7;
    } else {
        return 0;
    }
    for (const char *p = s; *p; p++) {
        if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == ';' || *p == '#') {
            return 0;
        }
    }
    hlen = strcspn(host, "/?#");
    return hlen > 0 && memchr(host, '@', hlen) == NULL && strlen(s) < 150;
}

static int email_ok(const char *s)
{
    const char *at = strchr(s, '@');

    if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@') ||
        strlen(s) > 254) {
        return 0;
    }
    for (const char *p = s; *p; p++) {
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
            strchr("<>()[]\\,;:\"", *p)) {
            return 0;
        }
    }
    return 1;
}

/* Split a comma list into l (items trimmed, empty ones dropped), each
 * checked by ok(); what names the flag in messages. */
static int split_list(const char *flag, const char *s, int (*ok)(const char *),
                      const char *want, struct bw_strlist *l)
{
    struct bw_buf item = BW_BUF_INIT;
    int rc = 0;

    while (rc == 0 && *s) {
        size_t n = strcspn(s, ",");
        size_t b = 0;

        while (b < n && (s[b] == ' ' || s[b] == '\t')) {
            b++;
        }
        while (n > b && (s[n - 1] == ' ' || s[n - 1] == '\t')) {
            n--;
        }
        bw_buf_reset(&item);
        if (n > b && (rc = bw_buf_add(&item, s + b, n - b)) == 0) {
            if (!ok(item.data)) {
                BW_ERROR("bad %s item '%s'; use %s", flag, item.data, want);
                rc = BW_EUSAGE;
            } else if (!bw_strlist_has(l, item.data)) {
                rc = bw_strlist_add(l, item.data);
            }
        }
        s += strcspn(s, ",");
        s += *s == ',';
    }
    if (rc == 0 && l->n == 0) {
        BW_ERROR("%s is empty; give %s", flag, want);
        rc = BW_EUSAGE;
    }
    bw_buf_release(&item);
    return rc;
}

/* ------------------------------------------------------------ options */

static int parse_args(int argc, char **argv, struct init_opts *o)
{
    static const struct option longopts[] = {
        {"github-org", required_argument, NULL, 'o'},
        {"github-repos", required_argument, NULL, 'r'},
        {"github-api-url", required_argument, NULL, 'a'},
        {"jira-url", required_argument, NULL, 'j'},
        {"jira-projects", required_argument, NULL, 'p'},
        {"jira-email", required_argument, NULL, 'e'},
        {"redis", required_argument, NULL, 'R'},
        {"timezone", required_argument, NULL, 't'},
        {"force", no_argument, NULL, 'f'},
        {NULL, 0, NULL, 0}};
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            o->github_org = optarg;
            break;
        case 'r':
            o->github_repos = optarg;
            break;
        case 'a':
            o->github_api_url = optarg;
            break;
        case 'j':
            o->jira_url = optarg;
            break;
        case 'p':
            o->jira_projects = optarg;
            break;
        case 'e':
            o->jira_email = optarg;
            break;
        case 'R':
            o->redis = optarg;
            break;
        case 't':
            o->timezone = optarg;
            break;
        case 'f':
            o->force = 1;
            break;
        case ':':
            BW_ERROR("option '%s' needs a value; see 'bellwether help init'",
                     argv[optind - 1]);
            return BW_EUSAGE;
        default:
            BW_ERROR("unknown option '%s' for init; see 'bellwether help "
                     "init'",
                     argv[optind - 1]);
            return BW_EUSAGE;
        }
    }
    if (optind < argc) {
        BW_ERROR("unexpected argument '%s' for init; the file is named by "
                 "-c FILE before the command",
                 argv[optind]);
        return BW_EUSAGE;
    }
    return 0;
}

/* Everything the flags say, checked; lists split. */
struct init_plan {
    struct bw_strlist repos, projects;
};

static int check_opts(const struct init_opts *o, struct init_plan *pl)
{
    struct bw_redis_addr addr;
    int rc = 0;

    if (o->github_org && !gh_name_ok(o->github_org, strlen(o->github_org))) {
        BW_ERROR("bad --github-org '%s'; use the organisation's login, e.g. "
                 "acme",
                 o->github_org);
        return BW_EUSAGE;
    }
    if (o->github_repos &&
        (rc = split_list("--github-repos", o->github_repos, repo_ok,
                         "owner/name[,owner/name...]", &pl->repos)) != 0) {
        return rc;
    }
    if (o->github_api_url && !http_url_ok(o->github_api_url)) {
        BW_ERROR("bad --github-api-url '%s'; use https://api.github.com or "
                 "https://HOST/api/v3, without credentials",
                 o->github_api_url);
        return BW_EUSAGE;
    }
    if (o->github_api_url && !o->github_org && !o->github_repos) {
        BW_ERROR("--github-api-url needs --github-org or --github-repos");
        return BW_EUSAGE;
    }
    if ((o->jira_url == NULL) != (o->jira_projects == NULL)) {
        BW_ERROR("--jira-url and --jira-projects go together; give both");
        return BW_EUSAGE;
    }
    if (o->jira_email && !o->jira_url) {
        BW_ERROR("--jira-email needs --jira-url and --jira-projects");
        return BW_EUSAGE;
    }
    if (o->jira_url && !http_url_ok(o->jira_url)) {
        BW_ERROR("bad --jira-url '%s'; use https://SITE.atlassian.net or "
                 "your Data Center's base URL, without credentials",
                 o->jira_url);
        return BW_EUSAGE;
    }
    if (o->jira_projects &&
        (rc = split_list("--jira-projects", o->jira_projects, project_ok,
                         "project keys like OPS,API", &pl->projects)) != 0) {
        return rc;
    }
    if (o->jira_email && !email_ok(o->jira_email)) {
        BW_ERROR("bad --jira-email '%s'; use the address of the Jira Cloud "
                 "user the token belongs to",
                 o->jira_email);
        return BW_EUSAGE;
    }
    if (o->redis && bw_redis_url_parse(o->redis, &addr) != 0) {
        BW_ERROR("bad --redis '%s'; use redis://HOST[:PORT] or "
                 "unix:///PATH (no password: set password_env later)",
                 o->redis);
        return BW_EUSAGE;
    }
    if (o->timezone && !bw_tz_valid(o->timezone)) {
        BW_ERROR("unknown time zone '%s'; use a name under "
                 "/usr/share/zoneinfo such as Europe/Berlin, or UTC",
                 o->timezone);
        return BW_EUSAGE;
    }
    return 0;
}

/* ------------------------------------------------------------ the text */

/* "key = a, b," with continuation lines indented, none past LIST_WRAP. */
static int put_list(struct bw_buf *b, const char *key,
                    const struct bw_strlist *l)
{
    size_t col;
    int rc = bw_buf_printf(b, "%s =", key);

    col = strlen(key) + 2;
    for (size_t i = 0; rc == 0 && i < l->n; i++) {
        size_t w = strlen(l->v[i]) + 2;

        if (i > 0 && col + w > LIST_WRAP) {
            rc = bw_buf_adds(b, "\n   ");
            col = 3;
        }
        if (rc == 0) {
            rc = bw_buf_printf(b, " %s%s", l->v[i], i + 1 < l->n ? "," : "");
            col += w;
        }
    }
    return rc ? rc : bw_buf_addch(b, '\n');
}

static int text_head(struct bw_buf *b, const struct init_opts *o)
{
    return bw_buf_printf(
        b,
        "; bellwether configuration, written by `bellwether init`.\n"
        "; Check it with `bellwether check`; collect with `bellwether "
        "collect`\n"
        "; (from cron: see the README). Every key is described in\n"
        "; bellwether.ini(5). Lines starting with ';' are comments: the\n"
        "; commented keys show their defaults.\n"
        ";\n"
        "; Secrets never sit in this file: *_env names an environment "
        "variable,\n"
        "; *_file a file (mode 0600) holding the secret.\n"
        "\n"
        "[redis]\n"
        "url = %s\n"
        "; db = 0\n"
        "; username = bellwether               ; Redis 6+ ACL user\n"
        "; password_env = REDIS_PASSWORD       ; or password_file = PATH\n"
        "prefix = bw:\n",
        o->redis ? o->redis : DEFAULT_REDIS);
}

static int text_github(struct bw_buf *b, const struct init_opts *o,
                       const struct init_plan *pl)
{
    int rc;

    if (!o->github_org && pl->repos.n == 0) {
        return bw_buf_adds(
            b, "\n; A GitHub source (bellwether init --github-org ORG):\n"
               "; [source gh]\n"
               "; type = github\n"
               "; org = acme                          ; and/or repos = "
               "acme/api, acme/web\n"
               "; token_env = GITHUB_TOKEN\n");
    }
    rc = bw_buf_adds(b, "\n[source gh]\ntype = github\n");
    if (rc == 0 && o->github_api_url) {
        rc = bw_buf_printf(b, "api_url = %s\n", o->github_api_url);
    } else if (rc == 0) {
        rc = bw_buf_adds(b, "; api_url = https://api.github.com  ; "
                            "Enterprise: https://HOST/api/v3\n");
    }
    if (rc == 0 && o->github_org) {
        rc = bw_buf_printf(b, "org = %s\n", o->github_org);
    }
    if (rc == 0 && pl->repos.n > 0) {
        rc = put_list(b, "repos", &pl->repos);
    }
    if (rc == 0) {
        rc = bw_buf_adds(
            b,
            "token_env = GITHUB_TOKEN                ; or token_file = PATH\n"
            "; since = 2026-01-01          ; backfill from (default: 180 days "
            "ago)\n"
            "; exclude_users = renovate-bot, ci-user\n"
            "; include_bot_prs = false\n"
            "; exclude_labels = dependencies\n"
            "; exclude_base = release/*\n"
            "; min_quota_left = 500        ; stop cleanly before the quota "
            "runs out\n"
            "; max_parallel = 4\n"
            "; max_rate_wait = 15m\n");
    }
    return rc;
}

static int text_jira(struct bw_buf *b, const struct init_opts *o,
                     const struct init_plan *pl)
{
    int rc;

    if (!o->jira_url) {
        return bw_buf_adds(
            b, "\n; A Jira source (bellwether init --jira-url URL "
               "--jira-projects A,B):\n"
               "; [source jira]\n"
               "; type = jira\n"
               "; url = https://acme.atlassian.net\n"
               "; projects = OPS, API\n"
               "; email = bot@acme.com               ; Cloud; omit for a "
               "Data Center token\n"
               "; token_env = JIRA_TOKEN\n");
    }
    rc = bw_buf_printf(b,
                       "\n[source jira]\ntype = jira\nurl = %s\n"
                       "; flavor = auto                ; cloud | datacenter "
                       "| auto\n",
                       o->jira_url);
    if (rc == 0) {
        rc = put_list(b, "projects", &pl->projects);
    }
    if (rc == 0 && o->jira_email) {
        rc = bw_buf_printf(b, "email = %s\n", o->jira_email);
    } else if (rc == 0) {
        rc = bw_buf_adds(b, "; email = bot@acme.com         ; Jira Cloud: "
                            "the token's user (basic auth)\n");
    }
    if (rc == 0) {
        rc = bw_buf_adds(
            b, "token_env = JIRA_TOKEN                  ; or token_file = "
               "PATH\n"
               "; blocked_statuses = Blocked, On Hold\n"
               "; exclude_types = Epic\n"
               "; story_points_field = customfield_10016  ; found by name "
               "when absent\n"
               "; flagged_field = customfield_10021\n");
    }
    return rc;
}

static int text_tail(struct bw_buf *b, const struct init_opts *o)
{
    return bw_buf_printf(
        b,
        "\n[report]\n"
        "timezone = %s\n"
        "; out_dir = /var/lib/bellwether/reports\n"
        "; weeks_of_trend = 12\n"
        "; stale_after = 2d\n"
        "\n"
        "; A team narrows reports and queries:\n"
        "; [team platform]\n"
        "; repos = acme/api\n"
        "; projects = OPS\n"
        "; members = alice, bob                ; GitHub logins\n"
        "; jira_users = 5b10ac8d82e05b22cc7d4ef5  ; Jira account ids or user "
        "names\n"
        "\n"
        "; A target marks a metric on track, at risk or off track:\n"
        "; [target pr_pickup_time]\n"
        "; stat = p50\n"
        "; max = 8h\n"
        "\n"
        "; Mail the weekly report (the daemon, or `bellwether report "
        "--email`):\n"
        "; [email]\n"
        "; smtp_url = smtps://smtp.acme.com\n"
        "; from = bellwether@acme.com\n"
        "; to = leads@acme.com\n"
        "; username_env = SMTP_USER\n"
        "; password_env = SMTP_PASSWORD\n"
        "\n"
        "; Schedules of `bellwether daemon` (5-field cron, report time "
        "zone):\n"
        "; [schedule]\n"
        "; collect = */30 * * * *\n"
        "; report = 0 8 * * 1\n",
        o->timezone ? o->timezone : "UTC");
}

static int build_text(struct bw_buf *b, const struct init_opts *o,
                      const struct init_plan *pl)
{
    int rc = text_head(b, o);

    if (rc == 0) {
        rc = text_github(b, o, pl);
    }
    if (rc == 0) {
        rc = text_jira(b, o, pl);
    }
    if (rc == 0) {
        rc = text_tail(b, o);
    }
    return rc;
}

/* ------------------------------------------------------------ writing */

/* The temp file's name: "DIR/.NAME.XXXXXX" next to path. */
static int temp_name(const char *path, struct bw_buf *tmp)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL) {
        return bw_buf_printf(tmp, ".%s.XXXXXX", path);
    }
    return bw_buf_printf(tmp, "%.*s/.%s.XXXXXX", (int)(slash - path), path,
                         slash + 1);
}

static int write_all(int fd, const char *s, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, s, len);

        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return BW_EIO;
        }
        s += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Move tmp to path: never over an existing file unless force. */
static int install(const char *tmp, const char *path, int force)
{
    if (force) {
        return rename(tmp, path) == 0 ? 0 : errno;
    }
    if (link(tmp, path) == 0) {
        unlink(tmp);
        return 0;
    }
    if (errno == EEXIST) {
        return EEXIST;
    }
    /* no hard links on this file system: check, then rename */
    if (access(path, F_OK) == 0) {
        return EEXIST;
    }
    return rename(tmp, path) == 0 ? 0 : errno;
}

static int write_config(const char *path, const struct bw_buf *text, int force)
{
    struct bw_buf tmp = BW_BUF_INIT;
    int fd = -1;
    int rc;
    int err;

    if ((rc = temp_name(path, &tmp)) != 0) {
        goto out;
    }
    fd = mkstemp(tmp.data); /* mode 0600 */
    if (fd < 0) {
        BW_ERROR("cannot create a file next to '%s': %s; check that the "
                 "directory exists and is writable",
                 path, strerror(errno));
        rc = BW_EIO;
        goto out;
    }
    rc = write_all(fd, text->data, text->len);
    if (rc == 0 && fchmod(fd, 0600) != 0) {
        rc = BW_EIO;
    }
    if (rc == 0 && fsync(fd) != 0) {
        rc = BW_EIO;
    }
    if (close(fd) != 0 && rc == 0) {
        rc = BW_EIO;
    }
    fd = -1;
    if (rc) {
        BW_ERROR("cannot write '%s': %s; check the disk", tmp.data,
                 strerror(errno));
        unlink(tmp.data);
        goto out;
    }
    err = install(tmp.data, path, force);
    if (err) {
        unlink(tmp.data);
        if (err == EEXIST) {
            BW_ERROR("'%s' exists; pass --force to overwrite it, or choose "
                     "another file with -c FILE",
                     path);
            rc = BW_EUSAGE;
        } else {
            BW_ERROR("cannot write '%s': %s", path, strerror(err));
            rc = BW_EIO;
        }
    }
out:
    bw_buf_release(&tmp);
    return rc;
}

/* -c FILE, else $BELLWETHER_CONFIG, else ./bellwether.ini. */
static const char *target_path(const struct bw_cli *cli)
{
    const char *env = getenv("BELLWETHER_CONFIG");

    if (cli->config_path != NULL && *cli->config_path) {
        return cli->config_path;
    }
    return env != NULL && *env ? env : DEFAULT_FILE;
}

static void next_steps(const char *path, const struct init_opts *o,
                       const struct init_plan *pl)
{
    int gh = o->github_org != NULL || pl->repos.n > 0;

    printf("wrote %s (mode 0600)\n", path);
    if (gh || o->jira_url) {
        printf("next: export %s%s%s (the tokens), then run 'bellwether -c "
               "%s check'\n",
               gh ? "GITHUB_TOKEN" : "", gh && o->jira_url ? " and " : "",
               o->jira_url ? "JIRA_TOKEN" : "", path);
    } else {
        printf("next: add a [source] (see the commented examples), then run "
               "'bellwether -c %s check'\n",
               path);
    }
}

int cmd_init(struct bw_cli *cli, int argc, char **argv)
{
    struct init_opts o;
    struct init_plan pl;
    struct bw_buf text = BW_BUF_INIT;
    const char *path = target_path(cli);
    struct stat sb;
    int rc;

    memset(&o, 0, sizeof(o));
    memset(&pl, 0, sizeof(pl));
    rc = parse_args(argc, argv, &o);
    if (rc == 0) {
        rc = check_opts(&o, &pl);
    }
    if (rc) {
        goto out;
    }
    if (stat(path, &sb) == 0 && (S_ISDIR(sb.st_mode) || !o.force)) {
        BW_ERROR("'%s' exists; %s", path,
                 S_ISDIR(sb.st_mode)
                     ? "name a file with -c FILE"
                     : "pass --force to overwrite it, or choose another "
                       "file with -c FILE");
        rc = BW_EUSAGE;
        goto out;
    }
    rc = build_text(&text, &o, &pl);
    if (rc == 0) {
        rc = write_config(path, &text, o.force);
    }
    if (rc == 0 && !cli->quiet) {
        next_steps(path, &o, &pl);
    }
out:
    bw_buf_release(&text);
    bw_strlist_release(&pl.repos);
    bw_strlist_release(&pl.projects);
    return rc;
}
