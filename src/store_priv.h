/*
 * store_priv.h - what the store's files share and nobody else sees: the
 * connection struct, the command queue pipelines are built in, the packed
 * text codec and the item packers.
 *
 *   store.c        connection, AUTH/SELECT, reconnect, pipelines, schema,
 *                  bookkeeping keys, index scans, the canonical dump
 *   store_items.c  PR/ticket <-> packed hash values, index rows of an item
 *   store_sink.c   the sink: pages as WATCH + MULTI/EXEC, reindex
 *   store_rows.c   the escaped text codec, row parsers, point-in-time rules
 */
#ifndef BW_STORE_PRIV_H
#define BW_STORE_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include <hiredis.h>

#include "bellwether/buf.h"
#include "bellwether/config.h"
#include "bellwether/pr.h"
#include "bellwether/store.h"
#include "bellwether/ticket.h"

/* Internal status: the connection dropped (reconnect, then retry once). */
#define ST_CONN_LOST 1

struct bw_store {
    redisContext *c;
    struct bw_redis_addr addr;
    char url[320]; /* for messages: no credentials */
    char *prefix;
    size_t plen;
    long db;
    char *username;        /* NULL: AUTH with the password alone */
    char *password;        /* NULL: no AUTH */
    char secret_name[300]; /* "$REDIS_PASSWORD" or "file PATH" */
    struct timeval tv;
    int empty;      /* no schema key (opened without CREATE) */
    int fault_kind; /* enum bw_store_fault */
    long fault_after;
    int fault_times;
};

/* ---- command queue: commands as argument vectors in one arena -------- */

struct st_cmdq {
    struct bw_buf data;  /* every argument's bytes, back to back */
    size_t *aoff, *alen; /* per argument */
    size_t na, acap;
    size_t *first; /* per command: index of its first argument */
    size_t nc, ccap;
    size_t arg_start;  /* of the argument being built */
    const char **argv; /* send scratch */
    size_t *argvlen;
    size_t vcap;
};

void st_cmdq_init(struct st_cmdq *q);
void st_cmdq_reset(struct st_cmdq *q);
void st_cmdq_release(struct st_cmdq *q);
/* Start a command; its arguments follow. */
int st_cmd(struct st_cmdq *q);
int st_arg(struct st_cmdq *q, const void *p, size_t n);
int st_args(struct st_cmdq *q, const char *s);
int st_argi(struct st_cmdq *q, int64_t v);
/* P KIND (tag NULL), P KIND:{TAG} (id NULL) or P KIND:{TAG}:ID. */
int st_argkey(struct st_cmdq *q, const struct bw_store *st, const char *kind,
              const char *tag, const char *id);
/* An argument built piecewise: begin, append to &q->data, end. */
void st_arg_begin(struct st_cmdq *q);
int st_arg_end(struct st_cmdq *q);
size_t st_cmd_argc(const struct st_cmdq *q, size_t i);
/* Argument j of command i (pointer into the arena, not NUL-terminated). */
const char *st_cmd_arg(const struct st_cmdq *q, size_t i, size_t j,
                       size_t *len);

/* Append command i to the connection's output buffer. 0 or ST_CONN_LOST. */
int st_append(struct bw_store *st, const struct st_cmdq *q, size_t i);
/* Read the next reply (caller frees). 0, ST_CONN_LOST or BW_EREDIS. */
int st_read(struct bw_store *st, redisReply **out);
/*
 * Send every command of q and read every reply into *out (q->nc entries;
 * free with st_replies_free()). Error replies are kept for the caller to
 * check. 0, ST_CONN_LOST, BW_EREDIS or BW_ENOMEM.
 */
int st_roundtrip(struct bw_store *st, const struct st_cmdq *q,
                 redisReply ***out);
void st_replies_free(redisReply **r, size_t n);
/* st_roundtrip with one reconnect on a dropped connection. */
int st_run(struct bw_store *st, const struct st_cmdq *q, redisReply ***out);
/* st_run of a queue of one command, its reply checked with st_check(). */
int st_run_one(struct bw_store *st, const struct st_cmdq *q, const char *cmd,
               redisReply ***out);
/* Run op; on ST_CONN_LOST reconnect once and run it again. */
int st_retry(struct bw_store *st, int (*op)(struct bw_store *, void *),
             void *arg);
/* Log an error reply (what, then what to do) and map it to a status:
 * NOAUTH/NOPERM/WRONGPASS -> BW_EAUTH, else BW_EREDIS. */
int st_reply_error(struct bw_store *st, const redisReply *r, const char *cmd);
/* 0 when r is not an error reply, else st_reply_error(). */
int st_check(struct bw_store *st, const redisReply *r, const char *cmd);
/* Drop the connection now (tests, faults). */
void st_drop(struct bw_store *st);
/* BW_STORE_FAULT_DROP: flush what is buffered, then cut the socket. */
void st_fault_drop(struct bw_store *st);

/* Tag of a source ("SRC:SRC") or of a scope ("SRC:SCOPE"); BW_EPARSE for
 * names that may not sit in a hash tag. */
int st_tag(struct bw_buf *out, const char *source, const char *scope);
/* Escape glob specials of s for SCAN MATCH. */
int st_glob_escape(struct bw_buf *out, const char *s);
/* SCAN MATCH pattern over the whole keyspace: keys appended to out. */
int st_scan_keys(struct bw_store *st, const char *pattern,
                 struct bw_strlist *out);

/* ---- packed text (store_rows.c) ---------------------------------------- */

/* Escaped text field; NULL as "%". */
int st_put_str(struct bw_buf *b, const char *s);
int st_put_strn(struct bw_buf *b, const char *s, size_t n);
/* Decimal integer. */
int st_put_i64(struct bw_buf *b, int64_t v);
/* A time: empty for BW_NOTIME. */
int st_put_time(struct bw_buf *b, int64_t t);
/* Time relative to base (empty for BW_NOTIME). */
int st_put_rel(struct bw_buf *b, int64_t t, int64_t base);
/* A list of strings joined by ','. */
int st_put_list(struct bw_buf *b, const struct bw_strlist *l);
/* Spells "s~e" joined by ',', relative to base; end BW_NOTIME empty. */
int st_put_spells(struct bw_buf *b, const struct bw_spell *v, size_t n,
                  int64_t base);
/* A double in the shortest form that reads back the same; NAN empty. */
int st_put_double(struct bw_buf *b, double v);
/* Seconds from hours (bw_pr_derive) or days: NAN empty. */
int st_put_secs(struct bw_buf *b, double v, double unit);

/*
 * Split s[0..len) in place at '|' into at most max fields (NUL-terminated,
 * still escaped); returns the count, or -1 when there are more than max.
 */
int st_split(char *s, size_t len, char **fields, int max);
/* Unescape a field in place; returns NULL for the "%" field (a NULL
 * string), the field otherwise; *bad set on a malformed escape. */
char *st_unesc(char *f, int *bad);
/* Decimal int64; "" gives def. 0 or BW_EPARSE. */
int st_get_i64(const char *f, int64_t def, int64_t *out);
int st_get_long(const char *f, long def, long *out);
int st_get_double(const char *f, double *out); /* "" -> NAN */
/* Split a ','-list field (in place) and unescape each item into a
 * strlist copy. */
int st_get_list(char *f, struct bw_strlist *out);

/* ---- items (store_items.c) -------------------------------------------- */

/* One index member an item has now. */
struct st_row {
    int ix; /* enum bw_store_ix */
    int64_t score;
    size_t off, len; /* member in the item's row text */
};

/* Everything one item writes, packed. */
struct st_item {
    int kind;            /* BW_REC_PR or BW_REC_TICKET */
    struct bw_buf tag;   /* "SRC:owner/repo" */
    struct bw_buf id;    /* "42" or "OPS-7" */
    struct bw_buf f, ev; /* "fields|derived", events or history */
    struct bw_buf rows;  /* "C MEMBER\n..." as stored */
    struct st_row *rv;
    size_t nrows, rcap;
    int64_t version; /* updated_at */
};

void st_item_init(struct st_item *it);
void st_item_reset(struct st_item *it);
void st_item_release(struct st_item *it);
/* Pack a PR / a ticket (derived with the rules) into it. */
int st_item_pr(struct st_item *it, const char *tag, const struct bw_pr *pr,
               const struct bw_pr_rules *rules);
int st_item_ticket(struct st_item *it, const char *tag,
                   const struct bw_ticket *t,
                   const struct bw_ticket_rules *rules, int64_t now);
/* Index letters used in the "rows" value, by enum bw_store_ix. */
extern const char st_ix_letter[BW_IX_COUNT];
int st_ix_of_letter(char c);

/* Decode the hash values of a stored PR / ticket into pr / t (init()ed by
 * the caller). repo and number (or key) come from the key. */
int st_unpack_pr(const char *repo, long number, const char *f, size_t flen,
                 const char *ev, size_t evlen, struct bw_pr *pr);
int st_unpack_ticket(const char *key, const char *f, size_t flen,
                     const char *hist, size_t hlen, struct bw_ticket *t);

#endif
