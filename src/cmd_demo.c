/*
 * cmd_demo.c - `bellwether demo [--out-dir DIR]`: the whole product in one
 * command, on nothing but this checkout.
 *
 * It starts a throw-away redis-server (own config in a temp dir, listening
 * only on a unix socket there, so no port can clash) and the API simulator
 * (tests/apisim/apisim: `small` scale, fixed seed, fixed now, a free port
 * it picks itself), writes a config with a GitHub and a Jira source, two
 * teams and a few targets, collects both sources, writes the report for
 * the last complete simulated week (BELLWETHER_NOW = the simulator's now)
 * as Markdown and HTML under DIR (default ./demo-output), prints their
 * paths and a short summary, and stops everything it started.
 *
 * Nothing is left running on any exit path: children are stopped (TERM,
 * then KILL after 5 s) and reaped before returning, SIGINT/SIGTERM/SIGHUP
 * only set a flag that every wait checks, and each child asks the kernel
 * for SIGTERM should the demo itself die (PR_SET_PDEATHSIG), so even a
 * kill -9 of the demo stops them. Children run in their own process group:
 * a ^C reaches the demo, which then shuts them down in order.
 *
 * The simulator is found through BELLWETHER_APISIM, else next to the
 * binary (DIR/tests/apisim/apisim or DIR/../tests/apisim/apisim, for
 * build-asan/), else ./tests/apisim/apisim; redis-server and python3 on
 * PATH (BELLWETHER_REDIS_SERVER, BELLWETHER_PYTHON override them).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bellwether/cli.h"
#include "bellwether/clock.h"
#include "bellwether/error.h"
#include "bellwether/log.h"
#include "bellwether/mem.h"
#include "bellwether/query.h"
#include "bellwether/report.h"
#include "bellwether/store.h"

#define DEMO_NOW 1794787200 /* 2026-11-16T00:00:00Z, the simulator's */
#define DEMO_SEED "1"
#define DEMO_SCALE "small"
#define WAIT_REDIS_MS 15000
#define WAIT_APISIM_MS 120000
#define STOP_GRACE_MS 5000

static volatile sig_atomic_t demo_stop;

static void on_signal(int sig)
{
    (void)sig;
    demo_stop = 1;
    bw_store_stop_requested = 1;
}

struct demo {
    char tmp[PATH_MAX];     /* the temp dir */
    char out_dir[PATH_MAX]; /* where the report goes */
    char apisim[PATH_MAX];
    pid_t redis, sim;
    int port; /* the simulator's */
    struct sigaction old_int, old_term, old_hup;
};

static int stopped(void)
{
    return demo_stop || bw_store_stop_requested;
}

/* ------------------------------------------------------------- processes */

/* fork + exec argv with stdout and stderr into files; NULL-ended argv. */
static pid_t spawn(char *const argv[], const char *out, const char *err)
{
    pid_t parent = getpid();
    pid_t pid = fork();

    if (pid != 0) {
        return pid; /* -1 on error */
    }
    /* child: die with the demo, stay out of the terminal's signals */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) {
        _exit(127);
    }
    setpgid(0, 0);
    {
        int in = open("/dev/null", O_RDONLY);
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        int e = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        if (in < 0 || o < 0 || e < 0 || dup2(in, 0) < 0 || dup2(o, 1) < 0 ||
            dup2(e, 2) < 0) {
            _exit(127);
        }
    }
    signal(SIGPIPE, SIG_DFL);
    execvp(argv[0], argv);
    fprintf(stderr, "cannot run '%s': %s\n", argv[0], strerror(errno));
    _exit(127);
}

static int alive(pid_t *pid)
{
    int status;

    if (*pid <= 0) {
        return 0;
    }
    if (waitpid(*pid, &status, WNOHANG) == *pid) {
        *pid = 0;
        return 0;
    }
    return 1;
}

/* TERM, wait up to STOP_GRACE_MS, then KILL; always reaped. */
static void stop_child(pid_t *pid)
{
    int status;

    if (*pid <= 0) {
        return;
    }
    kill(*pid, SIGTERM);
    for (int waited = 0; waited < STOP_GRACE_MS; waited += 50) {
        if (waitpid(*pid, &status, WNOHANG) == *pid) {
            *pid = 0;
            return;
        }
        poll(NULL, 0, 50);
    }
    kill(*pid, SIGKILL);
    while (waitpid(*pid, &status, 0) < 0 && errno == EINTR) {
    }
    *pid = 0;
}

static void path_in(char *out, size_t n, const char *dir, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

static void show_log(const char *what, const char *path)
{
    char line[512];
    FILE *f = fopen(path, "r");
    int n = 0;

    if (f == NULL) {
        return;
    }
    while (fgets(line, sizeof(line), f) && n++ < 10) {
        line[strcspn(line, "\n")] = '\0';
        BW_ERROR("%s: %s", what, line);
    }
    fclose(f);
}

/* ----------------------------------------------------------------- redis */

static int unix_connect_ok(const char *path)
{
    struct sockaddr_un a;
    size_t n = strlen(path);
    int fd;
    int ok;

    if (n >= sizeof(a.sun_path)) {
        return 0;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return 0;
    }
    memset(&a, 0, sizeof(a));
    a.sun_family = AF_UNIX;
    memcpy(a.sun_path, path, n + 1);
    ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

static int start_redis(struct demo *d)
{
    char conf[PATH_MAX + 16], sock[PATH_MAX + 16], log[PATH_MAX + 16];
    const char *bin = getenv("BELLWETHER_REDIS_SERVER");
    char *argv[3];
    FILE *f;

    path_in(conf, sizeof(conf), d->tmp, "redis.conf");
    path_in(sock, sizeof(sock), d->tmp, "redis.sock");
    path_in(log, sizeof(log), d->tmp, "redis.log");
    if (strlen(sock) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        BW_ERROR("the temp dir '%s' is too long for a unix socket; set "
                 "TMPDIR to a shorter path",
                 d->tmp);
        return BW_EIO;
    }
    f = fopen(conf, "w");
    if (f == NULL) {
        BW_ERROR("cannot write '%s': %s", conf, strerror(errno));
        return BW_EIO;
    }
    fprintf(f,
            "port 0\nunixsocket %s\nunixsocketperm 700\nbind 127.0.0.1\n"
            "protected-mode yes\nsave \"\"\nappendonly no\ndir %s\n"
            "daemonize no\nlogfile \"\"\ndatabases 1\n",
            sock, d->tmp);
    if (fclose(f) != 0) {
        BW_ERROR("cannot write '%s': %s", conf, strerror(errno));
        return BW_EIO;
    }
    argv[0] = (char *)(bin && bin[0] ? bin : "redis-server");
    argv[1] = conf;
    argv[2] = NULL;
    d->redis = spawn(argv, log, log);
    if (d->redis < 0) {
        BW_ERROR("cannot start redis-server: %s", strerror(errno));
        return BW_EIO;
    }
    for (int waited = 0; waited < WAIT_REDIS_MS && !stopped(); waited += 50) {
        if (unix_connect_ok(sock)) {
            return 0;
        }
        if (!alive(&d->redis)) {
            break;
        }
        poll(NULL, 0, 50);
    }
    if (stopped()) {
        return BW_EINTR;
    }
    show_log("redis-server", log);
    BW_ERROR("redis-server did not start; install it with 'sh "
             "scripts/bootstrap.sh demo' (or set BELLWETHER_REDIS_SERVER)");
    return BW_EIO;
}

/* ------------------------------------------------------------- simulator */

static int file_ok(const char *p)
{
    struct stat sb;

    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

static int find_apisim(struct demo *d)
{
    const char *env = getenv("BELLWETHER_APISIM");
    char exe[PATH_MAX - 64]; /* room for the suffixes below */
    ssize_t n;

    if (env && env[0]) {
        snprintf(d->apisim, sizeof(d->apisim), "%s", env);
        if (file_ok(d->apisim)) {
            return 0;
        }
        BW_ERROR("BELLWETHER_APISIM '%s' is not a file; point it at "
                 "tests/apisim/apisim",
                 env);
        return BW_ECONFIG;
    }
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        char *slash;

        exe[n] = '\0';
        slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
        }
        snprintf(d->apisim, sizeof(d->apisim), "%s/tests/apisim/apisim", exe);
        if (file_ok(d->apisim)) {
            return 0;
        }
        snprintf(d->apisim, sizeof(d->apisim), "%s/../tests/apisim/apisim",
                 exe);
        if (file_ok(d->apisim)) {
            return 0;
        }
    }
    snprintf(d->apisim, sizeof(d->apisim), "tests/apisim/apisim");
    if (file_ok(d->apisim)) {
        return 0;
    }
    BW_ERROR("cannot find the API simulator tests/apisim/apisim next to the "
             "binary; run the demo from the checkout or set "
             "BELLWETHER_APISIM");
    return BW_ECONFIG;
}

/* The port from "apisim listening on 127.0.0.1:PORT", or 0. */
static int read_port(const char *path)
{
    char line[256];
    FILE *f = fopen(path, "r");
    int port = 0;

    if (f == NULL) {
        return 0;
    }
    while (port == 0 && fgets(line, sizeof(line), f)) {
        const char *p = strstr(line, "apisim listening on 127.0.0.1:");

        if (p) {
            long v = strtol(p + 30, NULL, 10);

            port = v > 0 && v < 65536 ? (int)v : 0;
        }
    }
    fclose(f);
    return port;
}

static int start_apisim(struct demo *d)
{
    char out[PATH_MAX + 16], err[PATH_MAX + 16], now[32];
    const char *py = getenv("BELLWETHER_PYTHON");
    char *argv[12];
    int i = 0;

    path_in(out, sizeof(out), d->tmp, "apisim.out");
    path_in(err, sizeof(err), d->tmp, "apisim.log");
    snprintf(now, sizeof(now), "%d", DEMO_NOW);
    argv[i++] = (char *)(py && py[0] ? py : "python3");
    argv[i++] = d->apisim;
    argv[i++] = (char *)"--port";
    argv[i++] = (char *)"0";
    argv[i++] = (char *)"--scale";
    argv[i++] = (char *)DEMO_SCALE;
    argv[i++] = (char *)"--seed";
    argv[i++] = (char *)DEMO_SEED;
    argv[i++] = (char *)"--now";
    argv[i++] = now;
    argv[i] = NULL;
    d->sim = spawn(argv, out, err);
    if (d->sim < 0) {
        BW_ERROR("cannot start the API simulator: %s", strerror(errno));
        return BW_EIO;
    }
    for (int waited = 0; waited < WAIT_APISIM_MS && !stopped(); waited += 50) {
        d->port = read_port(out);
        if (d->port) {
            return 0;
        }
        if (!alive(&d->sim)) {
            break;
        }
        poll(NULL, 0, 50);
    }
    if (stopped()) {
        return BW_EINTR;
    }
    show_log("apisim", err);
    BW_ERROR("the API simulator '%s' did not start; check python3 (or set "
             "BELLWETHER_PYTHON)",
             d->apisim);
    return BW_EIO;
}

/* ---------------------------------------------------------------- config */

static int write_config(const struct demo *d, char *path, size_t n)
{
    FILE *f;

    path_in(path, n, d->tmp, "bellwether.ini");
    f = fopen(path, "w");
    if (f == NULL) {
        BW_ERROR("cannot write '%s': %s", path, strerror(errno));
        return BW_EIO;
    }
    fprintf(f,
            "; written by `bellwether demo`: a throw-away setup\n"
            "[redis]\nurl = unix://%s/redis.sock\nprefix = bw:\n\n"
            "[source gh]\ntype = github\napi_url = http://127.0.0.1:%d\n"
            "org = acme\ntoken_env = BELLWETHER_DEMO_TOKEN\n\n"
            "[source jira]\ntype = jira\nurl = http://127.0.0.1:%d\n"
            "projects = OPS, API\nemail = demo@example.com\n"
            "token_env = BELLWETHER_DEMO_TOKEN\n"
            "; statuses of the old workflow, deleted since\n"
            "stage_todo = Triage\nstage_in_progress = Dev Review\n\n"
            "[team platform]\nrepos = acme/api, acme/infra\nprojects = OPS\n\n"
            "[team product]\nrepos = acme/web, acme/mobile\nprojects = API\n\n"
            "[report]\ntimezone = UTC\nout_dir = %s\nweeks_of_trend = 12\n"
            "stale_after = 2d\n\n"
            "[target pr_pickup_time]\nstat = p50\nmax = 8h\n\n"
            "[target pr_cycle_time]\nstat = p85\nmax = 10d\n\n"
            "[target pr_unreviewed_merge_rate]\nstat = value\nmax = 10%%\n\n"
            "[target ticket_cycle_time]\nstat = p50\nmax = 5d\n\n"
            "[target ticket_wip]\nstat = value\nmax = 30\n",
            d->tmp, d->port, d->port, d->out_dir);
    if (fclose(f) != 0) {
        BW_ERROR("cannot write '%s': %s", path, strerror(errno));
        return BW_EIO;
    }
    return 0;
}

/* --------------------------------------------------------------- summary */

static const struct bw_report_indicator *
find_ind(const struct bw_report_scope *sc, const char *metric)
{
    for (size_t i = 0; i < sc->nindicators; i++) {
        if (strcmp(sc->indicators[i].metric->name, metric) == 0) {
            return &sc->indicators[i];
        }
    }
    return NULL;
}

static double ind_value(const struct bw_report_scope *sc, const char *metric)
{
    const struct bw_report_indicator *in = find_ind(sc, metric);

    return in ? in->this_week : NAN;
}

/* "12.3 h"-style text of a value, an en dash for no data. */
static const char *num(char *buf, size_t n, double v, int decimals)
{
    if (isnan(v)) {
        snprintf(buf, n, "\xE2\x80\x93");
    } else {
        snprintf(buf, n, "%.*f", decimals, v);
    }
    return buf;
}

static void summary(const struct bw_report_run_result *res, double secs)
{
    const struct bw_report *r = res->report;
    const struct bw_report_scope *sc = &r->main;
    char from[BW_TIME_BUFSZ] = "?", to[BW_TIME_BUFSZ] = "?";
    char a[32], b[32], c[32], e[32], f[32];
    size_t off = 0, risk = 0;

    bw_format_date_local(r->start, from);
    bw_format_date_local(r->end - 1, to);
    for (size_t i = 0; i < sc->nindicators; i++) {
        off += sc->indicators[i].status == BW_TS_OFF_TRACK;
        risk += sc->indicators[i].status == BW_TS_AT_RISK;
    }
    printf("\nweekly report %s (%s to %s), collected and written in %.1f s:\n",
           r->week_name, from, to, secs);
    for (int i = 0; i < 3; i++) {
        if (res->paths[i]) {
            char abs[PATH_MAX];

            printf("  %s\n",
                   realpath(res->paths[i], abs) ? abs : res->paths[i]);
        }
    }
    printf("\nthis week: %s PRs merged, PR cycle time p50 %s h, pickup p50 %s "
           "h; %s tickets done, %s in progress\n",
           num(a, sizeof(a), ind_value(sc, "pr_merged"), 0),
           num(b, sizeof(b), ind_value(sc, "pr_cycle_time"), 1),
           num(c, sizeof(c), ind_value(sc, "pr_pickup_time"), 1),
           num(e, sizeof(e), ind_value(sc, "ticket_throughput"), 0),
           num(f, sizeof(f), ind_value(sc, "ticket_wip"), 0));
    printf("needs attention: %zu indicator%s off track, %zu at risk, %zu "
           "ticket%s blocked over 3 days, %zu PR%s awaiting a first review\n",
           off, off == 1 ? "" : "s", risk,
           sc->sections[BW_RS_BLOCKED].items_total,
           sc->sections[BW_RS_BLOCKED].items_total == 1 ? "" : "s",
           sc->sections[BW_RS_AWAITING_REVIEW].items_total,
           sc->sections[BW_RS_AWAITING_REVIEW].items_total == 1 ? "" : "s");
}

/* ------------------------------------------------------------- the steps */

static int collect(const char *ini)
{
    struct bw_cli cli = {ini, 0, 0};
    char *argv[] = {(char *)"collect", NULL};
    int level = bw_log_level;
    int rc;

    /* the per-source summaries are the demo's progress report */
    if (bw_log_level >= BW_LOG_WARN && bw_log_level < BW_LOG_INFO) {
        bw_log_set_level(BW_LOG_INFO);
    }
    optind = 0;
    rc = cmd_collect(&cli, 1, argv);
    bw_log_set_level(level);
    return rc;
}

static int report(const struct demo *d, const char *ini,
                  struct bw_report_run_result *res)
{
    struct bw_report_run_opts o;
    struct bw_config *cfg = NULL;
    struct bw_store *st = NULL;
    int rc = bw_config_load(ini, &cfg);

    memset(&o, 0, sizeof(o));
    o.formats = BW_RF_MD | BW_RF_HTML;
    o.out_dir = d->out_dir;
    if (rc == 0) {
        rc = bw_tz_set(cfg->report.timezone);
    }
    if (rc == 0) {
        rc = bw_store_open(&cfg->redis, 0, &st);
    }
    if (rc == 0) {
        rc = bw_report_run(st, cfg, &o, res);
    }
    bw_store_free(st);
    bw_config_free(cfg);
    return rc;
}

static int make_out_dir(struct demo *d, const char *want)
{
    if (mkdir(want, 0755) != 0 && errno != EEXIST) {
        BW_ERROR("cannot create the demo output directory '%s': %s; pick "
                 "another with --out-dir",
                 want, strerror(errno));
        return BW_EIO;
    }
    if (realpath(want, d->out_dir) == NULL) {
        BW_ERROR("cannot use the demo output directory '%s': %s", want,
                 strerror(errno));
        return BW_EIO;
    }
    return 0;
}

static void remove_tmp(const struct demo *d)
{
    DIR *dir;
    struct dirent *e;

    if (d->tmp[0] == '\0') {
        return;
    }
    dir = opendir(d->tmp);
    while (dir && (e = readdir(dir)) != NULL) {
        char p[PATH_MAX + 300];

        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        snprintf(p, sizeof(p), "%s/%s", d->tmp, e->d_name);
        unlink(p);
    }
    if (dir) {
        closedir(dir);
    }
    if (rmdir(d->tmp) != 0) {
        BW_WARN("cannot remove the demo's temp dir '%s': %s; remove it by "
                "hand",
                d->tmp, strerror(errno));
    }
}

static void signals(struct demo *d, int install)
{
    struct sigaction sa;

    if (!install) {
        sigaction(SIGINT, &d->old_int, NULL);
        sigaction(SIGTERM, &d->old_term, NULL);
        sigaction(SIGHUP, &d->old_hup, NULL);
        return;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &d->old_int);
    sigaction(SIGTERM, &sa, &d->old_term);
    sigaction(SIGHUP, &sa, &d->old_hup);
}

static int parse_args(int argc, char **argv, const char **out_dir)
{
    static const struct option longopts[] = {
        {"out-dir", required_argument, NULL, 'o'}, {NULL, 0, NULL, 0}};
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (c == 'o') {
            *out_dir = optarg;
            continue;
        }
        BW_ERROR("unknown option '%s' for demo; see 'bellwether help demo'",
                 argv[optind - 1]);
        return BW_EUSAGE;
    }
    if (optind < argc) {
        BW_ERROR("unexpected argument '%s' for demo", argv[optind]);
        return BW_EUSAGE;
    }
    return 0;
}

/* Servers up, config, collect, report: everything between start and stop. */
static int demo_run(struct demo *d, struct bw_report_run_result *res)
{
    char ini[PATH_MAX + 32];
    char now[32];
    int rc = start_redis(d);

    if (rc == 0) {
        rc = start_apisim(d);
    }
    if (rc == 0) {
        rc = write_config(d, ini, sizeof(ini));
    }
    if (rc == 0) {
        /* the simulated present: every "now" of collect and report */
        snprintf(now, sizeof(now), "%d", DEMO_NOW);
        setenv("BELLWETHER_NOW", now, 1);
        setenv("BELLWETHER_DEMO_TOKEN", "demo", 1);
        rc = bw_clock_init();
    }
    if (rc == 0 && !stopped()) {
        printf("collecting GitHub (org acme) and Jira (OPS, API) from "
               "http://127.0.0.1:%d ...\n",
               d->port);
        fflush(stdout);
        rc = collect(ini);
    }
    if (rc == 0 && !stopped()) {
        rc = report(d, ini, res);
    }
    if (rc == 0 && stopped()) {
        rc = BW_EINTR;
    }
    return rc;
}

static int make_tmp(struct demo *d)
{
    const char *tmpdir = getenv("TMPDIR");
    const char *base = tmpdir && tmpdir[0] ? tmpdir : "/tmp";

    snprintf(d->tmp, sizeof(d->tmp), "%s/bellwether-demo.XXXXXX", base);
    if (mkdtemp(d->tmp) == NULL) {
        BW_ERROR("cannot create a temp dir under '%s': %s; set TMPDIR", base,
                 strerror(errno));
        d->tmp[0] = '\0';
        return BW_EIO;
    }
    return 0;
}

int cmd_demo(struct bw_cli *cli, int argc, char **argv)
{
    struct bw_report_run_result res;
    struct demo d;
    const char *want = "demo-output";
    int64_t t0 = bw_monotonic_ms();
    int rc;

    (void)cli;
    memset(&d, 0, sizeof(d));
    memset(&res, 0, sizeof(res));
    rc = parse_args(argc, argv, &want);
    if (rc == 0) {
        rc = find_apisim(&d);
    }
    if (rc == 0) {
        rc = make_out_dir(&d, want);
    }
    if (rc == 0) {
        rc = make_tmp(&d);
    }
    if (rc) {
        return rc;
    }
    demo_stop = 0;
    bw_store_stop_requested = 0;
    signals(&d, 1);
    printf("bellwether demo: a throw-away redis-server and the API simulator "
           "(%s scale, seed %s)\n",
           DEMO_SCALE, DEMO_SEED);
    fflush(stdout);
    rc = demo_run(&d, &res);
    stop_child(&d.sim);
    stop_child(&d.redis);
    remove_tmp(&d);
    signals(&d, 0);
    if (rc == 0) {
        summary(&res, (double)(bw_monotonic_ms() - t0) / 1000.0);
        printf("\nredis-server and the simulator are stopped; nothing is left "
               "running.\n");
    } else if (rc == BW_EINTR) {
        BW_ERROR("demo interrupted; redis-server and the simulator are "
                 "stopped");
    } else if (rc == BW_EPARTIAL) {
        BW_ERROR("demo: a source failed to collect (see above); nothing is "
                 "left running");
    }
    bw_report_run_result_release(&res);
    return rc;
}
