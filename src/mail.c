/*
 * mail.c - one report by mail over SMTP with libcurl: curl_mime builds a
 * multipart/alternative message (the Markdown as text/plain, the HTML as
 * text/html), curl speaks SMTP. mail.h has the rules; the parts that need
 * more than a libcurl option are here:
 *
 * - STARTTLS: CURLOPT_USE_SSL = CURLUSESSL_ALL when credentials are set and
 *   the host is not loopback (a server without STARTTLS is then an error),
 *   CURLUSESSL_TRY otherwise. smtps:// is TLS anyway.
 * - AUTH: libcurl skips authentication without a word when the server does
 *   not offer AUTH, and sends the mail anyway. The debug callback notes
 *   whether an AUTH command went out, and the pre-request callback
 *   (CURLOPT_PREREQFUNCTION, called after EHLO/STARTTLS/AUTH and before
 *   MAIL FROM) aborts when credentials are set and none did.
 * - Headers: built here from checked addresses and an encoded subject, so
 *   nothing from the config or the report can add a header line.
 * - Bodies go out quoted-printable with CRLF line ends (curl's encoder
 *   keeps CRLF as line breaks and would encode a bare LF).
 * - ca_file adds a CA to the system bundle (one in-memory bundle, like
 *   src/http.c), so a private relay and public ones both verify.
 * Credentials never reach a log line: the debug callback never prints
 * what the client sends after AUTH.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>

#include "bellwether/clock.h"
#include "bellwether/error.h"
#include "bellwether/log.h"
#include "bellwether/mail.h"
#include "bellwether/mem.h"
#include "bellwether/report.h"

#define SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"
#define CA_MAX ((size_t)32 << 20)
#define SUBJECT_MAX_CPS 200

/* ------------------------------------------------------------ pure helpers */

int bw_mail_address_ok(const char *addr)
{
    const char *at;
    size_t n;

    if (addr == NULL) {
        return 0;
    }
    n = strlen(addr);
    at = strchr(addr, '@');
    if (n == 0 || n > 254 || at == NULL || at == addr || at[1] == '\0' ||
        strchr(at + 1, '@') != NULL) {
        return 0;
    }
    for (const unsigned char *p = (const unsigned char *)addr; *p; p++) {
        if (*p <= 0x20 || *p >= 0x7F || strchr("<>()[]\\,;:\"", *p)) {
            return 0;
        }
    }
    return 1;
}

static int base64(struct bw_buf *b, const unsigned char *s, size_t n)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16;
        char o[4];

        v |= i + 1 < n ? (unsigned)s[i + 1] << 8 : 0;
        v |= i + 2 < n ? s[i + 2] : 0;
        o[0] = tab[(v >> 18) & 63];
        o[1] = tab[(v >> 12) & 63];
        o[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        o[3] = i + 2 < n ? tab[v & 63] : '=';
        rc = bw_buf_add(b, o, 4);
    }
    return rc;
}

int bw_mail_subject(struct bw_buf *b, const char *subject)
{
    struct bw_buf clean = BW_BUF_INIT;
    const unsigned char *p = (const unsigned char *)(subject ? subject : "");
    size_t len = strlen((const char *)p);
    size_t i = 0;
    size_t cps = 0;
    int ascii = 1;
    int rc = 0;

    /* one line of valid UTF-8 first */
    while (rc == 0 && i < len && cps < SUBJECT_MAX_CPS) {
        uint32_t cp;
        size_t used = bw_utf8_decode(p + i, len - i, &cp);

        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
            cp = ' ';
        }
        ascii &= cp < 0x80;
        rc = bw_utf8_put(&clean, cp);
        i += used;
        cps++;
    }
    if (rc == 0 && ascii) {
        rc = bw_buf_add(b, clean.data ? clean.data : "", clean.len);
    }
    /* encoded words of at most 45 bytes (60 base64 characters) each, cut
       between code points */
    for (size_t o = 0; rc == 0 && !ascii && o < clean.len;) {
        size_t end = o;

        while (end < clean.len) {
            uint32_t cp;
            size_t used = bw_utf8_decode((unsigned char *)clean.data + end,
                                         clean.len - end, &cp);

            if (end + used - o > 45) {
                break;
            }
            end += used;
        }
        rc = (o && bw_buf_addch(b, ' ')) || bw_buf_adds(b, "=?UTF-8?B?") ||
                     base64(b, (unsigned char *)clean.data + o, end - o) ||
                     bw_buf_adds(b, "?=")
                 ? BW_ENOMEM
                 : 0;
        o = end;
    }
    bw_buf_release(&clean);
    return rc;
}

int bw_mail_date(struct bw_buf *b, int64_t t)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed",
                                       "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr",
                                         "May", "Jun", "Jul", "Aug",
                                         "Sep", "Oct", "Nov", "Dec"};
    time_t tt = (time_t)t;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == NULL) {
        return BW_EPARSE;
    }
    return bw_buf_printf(b, "%s, %02d %s %04d %02d:%02d:%02d +0000",
                         days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
                         tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int bw_mail_url_is_loopback(const char *url)
{
    const char *h = strstr(url ? url : "", "://");
    const char *end;
    const char *at;
    char host[256];
    unsigned char addr[16];
    size_t n;

    if (h == NULL) {
        return 0;
    }
    h += 3;
    end = h + strcspn(h, "/?#");
    at = memchr(h, '@', (size_t)(end - h));
    if (at) {
        h = at + 1;
    }
    if (*h == '[') {
        const char *close = memchr(h, ']', (size_t)(end - h));

        if (close == NULL) {
            return 0;
        }
        n = (size_t)(close - h - 1);
        h++;
    } else {
        const char *colon = memchr(h, ':', (size_t)(end - h));

        n = (size_t)((colon ? colon : end) - h);
    }
    if (n == 0 || n >= sizeof(host)) {
        return 0;
    }
    memcpy(host, h, n);
    host[n] = '\0';
    if (strcasecmp(host, "localhost") == 0) {
        return 1;
    }
    if (inet_pton(AF_INET, host, addr) == 1) {
        return addr[0] == 127;
    }
    if (inet_pton(AF_INET6, host, addr) == 1) {
        static const unsigned char one[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                              0, 0, 0, 0, 0, 0, 0, 1};

        return memcmp(addr, one, 16) == 0;
    }
    return 0;
}

int bw_mail_crlf(struct bw_buf *b, const char *s, size_t len)
{
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < len; i++) {
        if (s[i] == '\r') {
            if (i + 1 < len && s[i + 1] == '\n') {
                i++;
            }
            rc = bw_buf_add(b, "\r\n", 2);
        } else if (s[i] == '\n') {
            rc = bw_buf_add(b, "\r\n", 2);
        } else {
            rc = bw_buf_addch(b, s[i]);
        }
    }
    return rc;
}

/* ------------------------------------------------------------- the message */

struct sender {
    const struct bw_email_conf *conf;
    const volatile sig_atomic_t *stop;
    char url[512]; /* redacted, for messages */
    int creds;     /* username or password set */
    int auth_sent; /* an AUTH command went out */
    int auth_offered;
    int auth_gate; /* the pre-request callback refused */
    char errbuf[CURL_ERROR_SIZE];
};

static int on_debug(CURL *e, curl_infotype type, char *data, size_t size,
                    void *arg)
{
    struct sender *s = arg;

    (void)e;
    if (type == CURLINFO_HEADER_OUT) {
        if (size >= 5 && strncasecmp(data, "AUTH ", 5) == 0) {
            s->auth_sent = 1;
            BW_DEBUG("smtp > AUTH (hidden)");
        } else if (!s->auth_sent || size < 5 ||
                   strncasecmp(data, "MAIL ", 5) == 0 ||
                   strncasecmp(data, "RCPT ", 5) == 0 ||
                   strncasecmp(data, "DATA", 4) == 0 ||
                   strncasecmp(data, "QUIT", 4) == 0) {
            /* nothing after AUTH but these commands is printed: a SASL
               continuation would carry the credentials */
            BW_DEBUG("smtp > %.*s", (int)(size > 200 ? 200 : size), data);
        }
    } else if (type == CURLINFO_HEADER_IN) {
        /* "250-AUTH PLAIN LOGIN" or "250 AUTH=PLAIN" in the EHLO reply */
        if (size >= 8 && strncmp(data, "250", 3) == 0 &&
            strncasecmp(data + 4, "AUTH", 4) == 0) {
            s->auth_offered = 1;
        }
        BW_DEBUG("smtp < %.*s", (int)(size > 200 ? 200 : size), data);
    }
    return 0;
}

/* After EHLO, STARTTLS and AUTH, before MAIL FROM. */
static int on_prereq(void *arg, char *conn_primary_ip, char *conn_local_ip,
                     int conn_primary_port, int conn_local_port)
{
    struct sender *s = arg;

    (void)conn_primary_ip;
    (void)conn_local_ip;
    (void)conn_primary_port;
    (void)conn_local_port;
    if (s->creds && !s->auth_sent) {
        s->auth_gate = 1;
        return CURL_PREREQFUNC_ABORT;
    }
    return CURL_PREREQFUNC_OK;
}

/* Progress, about once a second and on every state change: a signal. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    const struct sender *s = arg;

    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return s->stop && *s->stop ? 1 : 0;
}

static int read_file(const char *path, struct bw_buf *b)
{
    char chunk[8192];
    FILE *f = fopen(path, "rb");
    size_t n;
    int rc = 0;

    if (f == NULL) {
        return BW_EIO;
    }
    while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        rc = bw_buf_add(b, chunk, n);
    }
    if (rc == 0 && ferror(f)) {
        rc = BW_EIO;
    }
    fclose(f);
    return rc;
}

/* The system bundle plus ca_file, as one PEM blob in *ca. */
static int load_ca(CURL *e, const char *ca_file, struct bw_buf *ca)
{
    char *def = NULL;
    const char *sys = SYSTEM_CA;
    size_t mark;

    ca->max = CA_MAX;
    if (curl_easy_getinfo(e, CURLINFO_CAINFO, &def) == CURLE_OK && def) {
        sys = def;
    }
    if (read_file(sys, ca) != 0) {
        bw_buf_reset(ca);
    }
    if (bw_buf_addch(ca, '\n')) {
        return BW_ENOMEM;
    }
    mark = ca->len;
    errno = 0;
    if (read_file(ca_file, ca) != 0) {
        BW_ERROR("cannot read [email] ca_file '%s': %s; fix the path", ca_file,
                 errno ? strerror(errno) : "too large");
        return BW_ECONFIG;
    }
    if (strstr(ca->data + mark, "-----BEGIN CERTIFICATE-----") == NULL) {
        BW_ERROR("no PEM certificate in [email] ca_file '%s'; give a PEM "
                 "file",
                 ca_file);
        return BW_ECONFIG;
    }
    return 0;
}

static int add_header(struct curl_slist **l, const char *line)
{
    struct curl_slist *n = curl_slist_append(*l, line);

    if (n == NULL) {
        return BW_ENOMEM;
    }
    *l = n;
    return 0;
}

/* Date, From, To, Subject, Message-ID (curl adds MIME-Version). */
static int build_headers(const struct bw_email_conf *conf,
                         const struct bw_mail *m, const struct bw_strlist *to,
                         struct curl_slist **l)
{
    struct bw_buf h = BW_BUF_INIT;
    unsigned char rnd[8] = {0};
    const char *domain = strchr(conf->from, '@') + 1;
    int rc;

    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
        /* uniqueness, not secrecy: fall back to the clock */
        int64_t t = bw_monotonic_ms();

        memcpy(rnd, &t, sizeof(rnd));
    }
    rc = bw_buf_adds(&h, "Date: ") || bw_mail_date(&h, m->date) ||
                 add_header(l, h.data)
             ? BW_ENOMEM
             : 0;
    bw_buf_reset(&h);
    rc = rc || bw_buf_printf(&h, "From: bellwether <%s>", conf->from) ||
         add_header(l, h.data);
    bw_buf_reset(&h);
    rc = rc || bw_buf_adds(&h, "To: ");
    for (size_t i = 0; rc == 0 && i < to->n; i++) {
        rc = bw_buf_printf(&h, "%s<%s>", i ? ", " : "", to->v[i]);
    }
    rc = rc || add_header(l, h.data);
    bw_buf_reset(&h);
    rc = rc || bw_buf_adds(&h, "Subject: ") ||
         bw_mail_subject(&h, m->subject) || add_header(l, h.data);
    bw_buf_reset(&h);
    rc = rc ||
         bw_buf_printf(&h,
                       "Message-ID: <bellwether.%lld.%02x%02x%02x%02x%02x%02x"
                       "%02x%02x@%s>",
                       (long long)m->date, rnd[0], rnd[1], rnd[2], rnd[3],
                       rnd[4], rnd[5], rnd[6], rnd[7], domain) ||
         add_header(l, h.data) ||
         add_header(l, "Content-Type: multipart/alternative") ||
         add_header(l, "X-Mailer: bellwether/" BW_VERSION);
    bw_buf_release(&h);
    return rc ? BW_ENOMEM : 0;
}

static int add_part(curl_mime *mime, const char *type, const char *body,
                    size_t len, struct bw_buf *crlf)
{
    curl_mimepart *part = curl_mime_addpart(mime);

    bw_buf_reset(crlf);
    if (part == NULL || bw_mail_crlf(crlf, body ? body : "", len)) {
        return BW_ENOMEM;
    }
    if (curl_mime_data(part, crlf->data ? crlf->data : "", crlf->len) ||
        curl_mime_type(part, type) ||
        curl_mime_encoder(part, "quoted-printable")) {
        return BW_ENOMEM;
    }
    return 0;
}

static int check_addresses(const struct bw_email_conf *conf,
                           const struct bw_strlist *to)
{
    if (!bw_mail_address_ok(conf->from)) {
        BW_ERROR("[email] from '%s' is not a plain address user@domain; fix "
                 "it",
                 conf->from ? conf->from : "");
        return BW_ECONFIG;
    }
    if (to == NULL || to->n == 0) {
        BW_ERROR("no recipient for the report; set [email] to (or the "
                 "team's email_to)");
        return BW_ECONFIG;
    }
    for (size_t i = 0; i < to->n; i++) {
        if (!bw_mail_address_ok(to->v[i])) {
            BW_ERROR("recipient '%s' is not a plain address user@domain; "
                     "fix [email] to or email_to",
                     to->v[i]);
            return BW_ECONFIG;
        }
    }
    return 0;
}

static int explain(const struct sender *s, CURLcode cc)
{
    const char *why = s->errbuf[0] ? s->errbuf : curl_easy_strerror(cc);

    if (cc == CURLE_ABORTED_BY_CALLBACK && !s->auth_gate && s->stop &&
        *s->stop) {
        BW_ERROR("sending the report by mail through '%s' was interrupted "
                 "by a signal; nothing was delivered",
                 s->url);
        return BW_EINTR;
    }
    if (s->auth_gate) {
        BW_ERROR("the SMTP server at '%s' %s, but [email] sets "
                 "credentials; nothing was sent: use a server that offers "
                 "AUTH (after STARTTLS) or remove username/password",
                 s->url,
                 s->auth_offered ? "offered no AUTH mechanism curl can use"
                                 : "did not offer AUTH");
    } else if (cc == CURLE_USE_SSL_FAILED) {
        BW_ERROR("the SMTP server at '%s' does not offer STARTTLS and [email] "
                 "sets credentials: %s; use smtps:// or a server with "
                 "STARTTLS (plain text only to a loopback address)",
                 s->url, why);
    } else if (cc == CURLE_LOGIN_DENIED) {
        BW_ERROR("the SMTP server at '%s' refused the credentials: %s; check "
                 "[email] username and password",
                 s->url, why);
    } else if (cc == CURLE_PEER_FAILED_VERIFICATION ||
               cc == CURLE_SSL_CACERT_BADFILE) {
        BW_ERROR("cannot verify the certificate of the SMTP server at '%s': "
                 "%s; set [email] ca_file to the CA that signed it",
                 s->url, why);
    } else {
        BW_ERROR("cannot send the report by mail through '%s': %s; check "
                 "[email] smtp_url and the server",
                 s->url, why);
    }
    return BW_ESMTP;
}

static int setup(CURL *e, struct sender *s, const struct bw_email_conf *conf,
                 struct curl_slist *rcpt, struct curl_slist *connect_to,
                 const struct bw_buf *ca)
{
    int smtps = strncasecmp(conf->smtp_url, "smtps://", 8) == 0;
    long use_ssl =
        s->creds && !smtps && !bw_mail_url_is_loopback(conf->smtp_url)
            ? (long)CURLUSESSL_ALL
            : (long)CURLUSESSL_TRY;
    char from[300];
    CURLcode c = CURLE_OK;

    snprintf(from, sizeof(from), "<%s>", conf->from);
#define SET(opt, val)                                                          \
    do {                                                                       \
        if (c == CURLE_OK) {                                                   \
            c = curl_easy_setopt(e, opt, val);                                 \
        }                                                                      \
    } while (0)
    SET(CURLOPT_URL, conf->smtp_url);
    SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_ERRORBUFFER, s->errbuf);
    SET(CURLOPT_CONNECTTIMEOUT, 30L);
    SET(CURLOPT_TIMEOUT, 300L);
    SET(CURLOPT_USE_SSL, use_ssl);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_MAIL_FROM, from);
    SET(CURLOPT_MAIL_RCPT, rcpt);
    SET(CURLOPT_VERBOSE, 1L);
    SET(CURLOPT_DEBUGFUNCTION, on_debug);
    SET(CURLOPT_DEBUGDATA, s);
    SET(CURLOPT_PREREQFUNCTION, on_prereq);
    SET(CURLOPT_PREREQDATA, s);
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_XFERINFODATA, s);
    if (conf->username) {
        SET(CURLOPT_USERNAME, conf->username);
    }
    if (conf->password) {
        SET(CURLOPT_PASSWORD, conf->password);
    }
    if (connect_to) {
        SET(CURLOPT_CONNECT_TO, connect_to);
    }
    if (ca->len) {
        struct curl_blob blob = {ca->data, ca->len, CURL_BLOB_NOCOPY};

        SET(CURLOPT_CAINFO_BLOB, &blob);
    }
#undef SET
    return c == CURLE_OK ? 0 : BW_ENOMEM;
}

/* What one transfer owns, released together. */
struct mailing {
    CURL *e;
    curl_mime *mime;
    struct curl_slist *rcpt, *headers, *connect_to;
    struct bw_buf crlf, ca;
};

static void mailing_release(struct mailing *x)
{
    if (x->e) {
        curl_easy_cleanup(x->e);
    }
    curl_mime_free(x->mime);
    curl_slist_free_all(x->rcpt);
    curl_slist_free_all(x->headers);
    curl_slist_free_all(x->connect_to);
    bw_buf_release(&x->crlf);
    bw_buf_release(&x->ca);
}

/* Recipients, CA bundle, headers, the two parts, every option. */
static int prepare(struct mailing *x, struct sender *s,
                   const struct bw_email_conf *conf, const struct bw_mail *m,
                   const struct bw_strlist *to)
{
    const char *ct = getenv("BELLWETHER_SMTP_CONNECT_TO");
    int rc = x->e ? 0 : BW_ENOMEM;

    for (size_t i = 0; rc == 0 && i < to->n; i++) {
        char r[300];

        snprintf(r, sizeof(r), "<%s>", to->v[i]);
        rc = add_header(&x->rcpt, r);
    }
    if (rc == 0 && ct && ct[0]) {
        rc = add_header(&x->connect_to, ct);
    }
    if (rc == 0 && conf->ca_file && conf->ca_file[0]) {
        rc = load_ca(x->e, conf->ca_file, &x->ca);
    }
    if (rc == 0) {
        rc = build_headers(conf, m, to, &x->headers);
    }
    if (rc == 0) {
        x->mime = curl_mime_init(x->e);
        rc = x->mime ? 0 : BW_ENOMEM;
    }
    if (rc == 0) {
        rc = add_part(x->mime, "text/plain; charset=utf-8", m->text,
                      m->text_len, &x->crlf);
    }
    if (rc == 0) {
        rc = add_part(x->mime, "text/html; charset=utf-8", m->html, m->html_len,
                      &x->crlf);
    }
    if (rc == 0) {
        rc = setup(x->e, s, conf, x->rcpt, x->connect_to, &x->ca);
    }
    if (rc == 0 && (curl_easy_setopt(x->e, CURLOPT_HTTPHEADER, x->headers) ||
                    curl_easy_setopt(x->e, CURLOPT_MIMEPOST, x->mime))) {
        rc = BW_ENOMEM;
    }
    return rc;
}

int bw_mail_send(const struct bw_email_conf *conf, const struct bw_mail *m)
{
    const struct bw_strlist *to = m->to && m->to->n ? m->to : &conf->to;
    struct mailing x;
    struct sender s;
    int rc;

    memset(&s, 0, sizeof(s));
    memset(&x, 0, sizeof(x));
    s.conf = conf;
    s.stop = m->stop;
    bw_redact_url(conf->smtp_url ? conf->smtp_url : "", s.url, sizeof(s.url));
    s.creds = (conf->username && conf->username[0]) ||
              (conf->password && conf->password[0]);
    if (conf->smtp_url == NULL ||
        (strncasecmp(conf->smtp_url, "smtp://", 7) != 0 &&
         strncasecmp(conf->smtp_url, "smtps://", 8) != 0)) {
        BW_ERROR("[email] smtp_url '%s' is not smtp:// or smtps://; fix it",
                 s.url);
        return BW_ECONFIG;
    }
    rc = check_addresses(conf, to);
    if (rc) {
        return rc;
    }
    x.e = curl_easy_init();
    rc = prepare(&x, &s, conf, m, to);
    if (rc == 0) {
        CURLcode cc = curl_easy_perform(x.e);

        rc = cc == CURLE_OK ? 0 : explain(&s, cc);
    }
    if (rc == 0) {
        BW_INFO("mailed the report to %zu recipient%s through '%s'", to->n,
                to->n == 1 ? "" : "s", s.url);
    }
    mailing_release(&x);
    return rc;
}
