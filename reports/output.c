/*
 * output.c - where a report goes: files (all or nothing), stdout, Redis,
 * mail; and bw_report_run(), the one driver `bellwether report`, the
 * daemon's report job and the demo share.
 *
 * A report file is never seen half-written: it is written to a temp file
 * in the same directory (mkstemp), flushed, checked (fflush, ferror),
 * synced and closed, then renamed over the target. Any failure removes the
 * temp file and leaves an existing report as it was. A file size limit
 * (RLIMIT_FSIZE) would kill the process with SIGXFSZ in the middle of the
 * write; it is ignored while writing, so the write fails with EFBIG and
 * takes the same path.
 *
 * Order in bw_report_run: build the model, render, write the files, keep
 * the copy in Redis, and only then mail, so an SMTP failure (exit 1)
 * still leaves the report on disk (DESIGN.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bellwether/clock.h"
#include "bellwether/error.h"
#include "bellwether/log.h"
#include "bellwether/mail.h"
#include "bellwether/mem.h"
#include "bellwether/report.h"
#include "bellwether/store.h"

/* ------------------------------------------------------------------- files */

static int write_stdout(const char *data, size_t len)
{
    if ((len && fwrite(data, 1, len, stdout) != len) || fflush(stdout) != 0 ||
        ferror(stdout)) {
        BW_ERROR("cannot write the report to standard output: %s; check "
                 "where it goes",
                 strerror(errno));
        return BW_EIO;
    }
    return 0;
}

/* Sync the directory so the rename itself survives a crash (best effort:
   some file systems refuse it). */
static void sync_dir(const char *tmpl)
{
    char dir[4096];
    const char *slash = strrchr(tmpl, '/');
    int fd;

    if (slash == NULL) {
        snprintf(dir, sizeof(dir), ".");
    } else {
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - tmpl + 1), tmpl);
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* Write to the temp file f (owned: closed here). 0 or errno. */
static int fill_and_close(FILE *f, const char *data, size_t len)
{
    int err = 0;

    errno = 0;
    if (len && fwrite(data, 1, len, f) != len) {
        err = errno ? errno : EIO;
    }
    if (err == 0 && fflush(f) != 0) {
        err = errno ? errno : EIO;
    }
    if (err == 0 && ferror(f)) {
        err = EIO;
    }
    if (err == 0 && fsync(fileno(f)) != 0 && errno != EINVAL) {
        err = errno;
    }
    if (fclose(f) != 0 && err == 0) {
        err = errno ? errno : EIO;
    }
    return err;
}

int bw_report_write_file(const char *path, const char *data, size_t len)
{
    struct bw_buf tmp = BW_BUF_INIT;
    struct sigaction ign, old;
    const char *slash;
    mode_t mask;
    FILE *f = NULL;
    int fd = -1;
    int made = 0;
    int err = 0;
    int rc;

    if (strcmp(path, "-") == 0) {
        return write_stdout(data, len);
    }
    slash = strrchr(path, '/');
    rc = slash ? bw_buf_printf(&tmp, "%.*s.%s.XXXXXX", (int)(slash - path + 1),
                               path, slash + 1)
               : bw_buf_printf(&tmp, ".%s.XXXXXX", path);
    if (rc) {
        return BW_ENOMEM;
    }
    memset(&ign, 0, sizeof(ign));
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGXFSZ, &ign, &old);
    mask = umask(0);
    umask(mask);
    fd = mkstemp(tmp.data);
    made = fd >= 0;
    if (fd < 0) {
        err = errno;
    } else if (fchmod(fd, 0666 & ~mask) != 0) {
        err = errno;
    } else if ((f = fdopen(fd, "wb")) == NULL) {
        err = errno;
    }
    if (err == 0) {
        fd = -1; /* f owns it now */
        err = fill_and_close(f, data, len);
    }
    if (fd >= 0) {
        close(fd);
    }
    if (err == 0 && rename(tmp.data, path) != 0) {
        err = errno;
    }
    if (err) {
        if (made) {
            unlink(tmp.data);
        }
        BW_ERROR("cannot write the report to '%s': %s; nothing was "
                 "replaced, check the directory, its permissions and free "
                 "space",
                 path, strerror(err));
    } else {
        sync_dir(tmp.data);
    }
    sigaction(SIGXFSZ, &old, NULL);
    bw_buf_release(&tmp);
    return err ? BW_EIO : 0;
}

/* ------------------------------------------------------------------ driver */

void bw_report_run_result_release(struct bw_report_run_result *res)
{
    if (res == NULL) {
        return;
    }
    for (int i = 0; i < 3; i++) {
        bw_free(res->paths[i]);
    }
    bw_report_free(res->report);
    memset(res, 0, sizeof(*res));
}

struct rendered {
    struct bw_buf md, html, json;
};

static int render(const struct bw_report *r, int need, struct rendered *out)
{
    int rc = bw_report_markdown(r, &out->md);

    if (rc == 0 && (need & BW_RF_HTML)) {
        struct bw_buf title = BW_BUF_INIT;

        rc = bw_report_title(r, &title);
        if (rc == 0) {
            rc = bw_markdown_to_html(out->md.data, out->md.len, title.data,
                                     &out->html);
        }
        bw_buf_release(&title);
    }
    if (rc == 0) {
        rc = bw_report_json(r, &out->json);
    }
    return rc;
}

static const struct bw_buf *pick(const struct rendered *x, int fmt)
{
    return fmt == BW_RF_HTML ? &x->html : fmt == BW_RF_JSON ? &x->json : &x->md;
}

static int fmt_index(int fmt)
{
    return fmt == BW_RF_HTML ? 1 : fmt == BW_RF_JSON ? 2 : 0;
}

/* The files (or stdout) the options ask for. */
static int write_outputs(const struct bw_config *cfg,
                         const struct bw_report_run_opts *o,
                         const struct bw_report *r, const struct rendered *x,
                         struct bw_report_run_result *res)
{
    const char *dir = o->out_dir ? o->out_dir : cfg->report.out_dir;
    static const int all[] = {BW_RF_MD, BW_RF_HTML, BW_RF_JSON};
    int rc = 0;

    if (o->out || dir == NULL || dir[0] == '\0') {
        int fmt = o->formats ? o->formats : BW_RF_MD;
        const struct bw_buf *b = pick(x, fmt);
        const char *path = o->out ? o->out : "-";

        rc = bw_report_write_file(path, b->data ? b->data : "", b->len);
        if (rc == 0 && strcmp(path, "-") != 0) {
            res->paths[fmt_index(fmt)] = bw_strdup(path);
        }
        return rc;
    }
    for (size_t i = 0; rc == 0 && i < 3; i++) {
        struct bw_buf path = BW_BUF_INIT;
        int fmt = all[i];
        const struct bw_buf *b = pick(x, fmt);

        if (o->formats && !(o->formats & fmt)) {
            continue;
        }
        rc = bw_buf_printf(&path, "%s%s", dir,
                           dir[strlen(dir) - 1] == '/' ? "" : "/") ||
                     bw_report_basename(r, &path) ||
                     bw_buf_printf(&path, ".%s", bw_report_format_ext(fmt))
                 ? BW_ENOMEM
                 : 0;
        if (rc == 0) {
            rc =
                bw_report_write_file(path.data, b->data ? b->data : "", b->len);
        }
        if (rc == 0) {
            res->paths[fmt_index(fmt)] = bw_buf_detach(&path);
            rc = res->paths[fmt_index(fmt)] ? 0 : BW_ENOMEM;
        }
        bw_buf_release(&path);
    }
    return rc;
}

static int mail(const struct bw_config *cfg, const struct bw_report_run_opts *o,
                const struct bw_report *r, const struct rendered *x)
{
    const struct bw_team_conf *team =
        o->team ? bw_config_team(cfg, o->team) : NULL;
    struct bw_strlist to = {NULL, 0};
    struct bw_buf subject = BW_BUF_INIT;
    struct bw_mail m;
    char *one[1];
    int rc = bw_report_title(r, &subject);

    memset(&m, 0, sizeof(m));
    if (team && team->email_to && team->email_to[0]) {
        one[0] = team->email_to;
        to.v = one;
        to.n = 1;
        m.to = &to;
    }
    m.subject = subject.data;
    m.text = x->md.data;
    m.text_len = x->md.len;
    m.html = x->html.data;
    m.html_len = x->html.len;
    m.date = r->generated_at;
    m.stop = &bw_store_stop_requested;
    if (rc == 0) {
        rc = bw_mail_send(&cfg->email, &m);
    }
    bw_buf_release(&subject);
    return rc;
}

int bw_report_run(struct bw_store *st, const struct bw_config *cfg,
                  const struct bw_report_run_opts *o,
                  struct bw_report_run_result *res)
{
    struct bw_report_run_result local;
    struct bw_report_opts bo;
    struct rendered x = {BW_BUF_INIT, BW_BUF_INIT, BW_BUF_INIT};
    struct bw_report *r = NULL;
    int rc;

    if (res == NULL) {
        res = &local;
    }
    memset(res, 0, sizeof(*res));
    if (o->email && !cfg->email.present) {
        BW_ERROR("--email needs an [email] section in '%s'; add smtp_url, "
                 "from and to",
                 cfg->file ? cfg->file : "the config");
        return BW_ECONFIG;
    }
    memset(&bo, 0, sizeof(bo));
    bo.year = o->year;
    bo.week = o->week;
    bo.team = o->team;
    bo.now = bw_now();
    rc = bw_report_build(st, cfg, &bo, &r);
    if (rc == 0) {
        snprintf(res->week_name, sizeof(res->week_name), "%s", r->week_name);
        rc = render(r, BW_RF_HTML, &x);
    }
    if (rc == 0 && bw_store_stop_requested) {
        rc = BW_EINTR;
    }
    if (rc == 0) {
        rc = write_outputs(cfg, o, r, &x, res);
    }
    if (rc == 0 && bw_store_stop_requested) {
        rc = BW_EINTR;
    }
    if (rc == 0 && !o->no_store && !bw_store_is_empty(st)) {
        rc = bw_store_report_put(st, r, x.md.data, x.md.len, x.json.data,
                                 x.json.len);
    }
    if (rc == 0 && o->email && bw_store_stop_requested) {
        rc = BW_EINTR;
    }
    if (rc == 0 && o->email) {
        rc = mail(cfg, o, r, &x);
        res->mailed = rc == 0;
    }
    bw_buf_release(&x.md);
    bw_buf_release(&x.html);
    bw_buf_release(&x.json);
    res->report = r;
    if (res == &local) {
        bw_report_run_result_release(&local);
    }
    return rc;
}
