/*
 * mail.h - sending one report by mail over SMTP with libcurl (src/mail.c;
 * with src/http.c the only files that include curl).
 *
 * One message per call: multipart/alternative, text/plain (the Markdown)
 * and text/html, both UTF-8 and quoted-printable, built with curl_mime;
 * headers Date, From, To, Subject (RFC 2047 when not plain ASCII),
 * Message-ID and MIME-Version. Header values cannot be injected: the
 * addresses must be plain addr-specs (no blanks, no control bytes, no
 * <>()[]\,;:"), and the subject's control bytes become spaces before it is
 * encoded.
 *
 * Transport security ([email] smtp_url):
 *   smtps://HOST[:PORT]   TLS from the first byte (implicit TLS, port 465)
 *   smtp://HOST[:PORT]    STARTTLS is required whenever credentials are set
 *                         ([email] username/password), except to a loopback
 *                         address (localhost, 127.0.0.0/8, ::1), where it is
 *                         used when offered; without credentials it is used
 *                         when offered
 * The certificate is always verified; [email] ca_file adds a CA. With
 * credentials set, a server that does not offer AUTH (or no mechanism
 * curl can use) is an error before any MAIL FROM: libcurl alone would
 * skip authentication silently and send anyway.
 *
 * Tests only: BELLWETHER_SMTP_CONNECT_TO=HOST:PORT:CONNECT-HOST:CONNECT-PORT
 * (curl's CURLOPT_CONNECT_TO) sends a connection for smtp_url's host to
 * another address, so a test server on 127.0.0.1 can stand for a remote
 * host name (and its certificate's name).
 */
#ifndef BW_MAIL_H
#define BW_MAIL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "bellwether/buf.h"
#include "bellwether/config.h"

struct bw_mail {
    const char *subject; /* UTF-8, one line */
    const char *text;    /* text/plain body (LF line ends are fine) */
    size_t text_len;
    const char *html; /* text/html body */
    size_t html_len;
    const struct bw_strlist *to; /* NULL: the [email] to list */
    int64_t date;                /* the Date header: bw_now() */
    /* When not NULL and set (a signal handler's flag), the transfer stops
       and bw_mail_send() returns BW_EINTR; nothing is delivered half. */
    const volatile sig_atomic_t *stop;
};

/*
 * Send m as [email] conf says. 0 once the server accepted the message;
 * BW_ESMTP when it could not be sent (logged: what failed, the URL without
 * credentials, what to do); BW_ECONFIG for a bad smtp_url scheme or
 * address (logged); BW_EINTR when m->stop was set; BW_ENOMEM.
 */
int bw_mail_send(const struct bw_email_conf *conf, const struct bw_mail *m);

/* ---- pure helpers (tested) ------------------------------------------- */

/* 1 when addr is a plain addr-spec bellwether sends to: local@domain,
 * printable ASCII without blanks or any of <>()[]\,;:", at most 254
 * bytes, one '@' with text on both sides. */
int bw_mail_address_ok(const char *addr);
/* The Subject header's value: ASCII as is, else RFC 2047 "=?UTF-8?B?...?="
 * words (whole code points each); control bytes as spaces, invalid UTF-8
 * as U+FFFD, cut at 200 code points. Never holds CR or LF. */
int bw_mail_subject(struct bw_buf *b, const char *subject);
/* RFC 5322 date in UTC: "Mon, 16 Nov 2026 00:00:00 +0000". */
int bw_mail_date(struct bw_buf *b, int64_t t);
/* 1 when the URL's host is loopback: localhost, 127.0.0.0/8 or ::1. */
int bw_mail_url_is_loopback(const char *url);
/* Append s with every line ending as CRLF (bare CR and LF alike). */
int bw_mail_crlf(struct bw_buf *b, const char *s, size_t len);

#endif
