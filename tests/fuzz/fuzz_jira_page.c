/*
 * fuzz_jira_page.c - the Jira page parsers (bw_jira_parse_*), then what the
 * store does with their result: derive METRICS.md's ticket fields, pack the
 * history and unpack it again (which must give the same history back).
 *
 * An input that starts with '[' or '{' is a whole page (the committed
 * simulator pages, the real samples replayed from ../shared) and goes
 * through every parser; otherwise the first byte picks one parser for the
 * rest (cmark-fuzz style).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bellwether/jira.h"
#include "bellwether/mem.h"
#include "bellwether/ticket.h"

static char id1[] = "1", id3[] = "3", id5[] = "10007";
static char n1[] = "To Do", n3[] = "In Progress", n5[] = "Done";
static char c1[] = "new", c3[] = "indeterminate", c5[] = "done";
static struct bw_status_info catalog[] = {
    {id1, n1, c1}, {id3, n3, c3}, {id5, n5, c5}};
static char blocked0[] = "Blocked", blocked1[] = "On Hold";
static char epic[] = "Epic", peer[] = "Peer Check", noise[] = "noise";
static char *blocked_v[] = {blocked0, blocked1};
static char *types_v[] = {epic};
static char *peer_v[] = {peer};
static char *noise_v[] = {noise};
static const struct bw_strlist blocked = {blocked_v, 2};
static const struct bw_strlist types = {types_v, 1};
static const struct bw_strlist peers = {peer_v, 1};
static const struct bw_strlist labels = {noise_v, 1};
static const struct bw_strlist none = {NULL, 0};

static char fsp[] = "customfield_10016", ffl[] = "customfield_10021";
static char fdc[] = "customfield_10200", fname[] = "Flagged";

static int same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static void check_pack(const struct bw_ticket *t)
{
    struct bw_buf b = BW_BUF_INIT;
    struct bw_ticket back;

    bw_ticket_init(&back);
    if (bw_ticket_pack_history(t, &b) == 0) {
        if (bw_ticket_unpack_history(&back, b.data, b.len) != 0 ||
            back.ntrs != t->ntrs || back.nflags != t->nflags) {
            abort();
        }
        for (size_t i = 0; i < t->ntrs; i++) {
            const struct bw_ticket_tr *x = &t->trs[i], *y = &back.trs[i];

            if (x->t != y->t || x->hid != y->hid ||
                !same(x->from_id, y->from_id) ||
                !same(x->from_name, y->from_name) ||
                !same(x->to_id, y->to_id) || !same(x->to_name, y->to_name)) {
                abort();
            }
        }
        for (size_t i = 0; i < t->nflags; i++) {
            if (memcmp(&t->flags[i], &back.flags[i], sizeof(t->flags[i]))) {
                abort();
            }
        }
    }
    bw_buf_release(&b);
    bw_ticket_release(&back);
}

/* strict: the times came from dates (never BW_NOTIME), so the spells
 * must be sorted, disjoint and of some length, only the last one open */
static void derive(const struct bw_ticket *t, int strict)
{
    struct bw_ticket_rules r;
    struct bw_ticket_derived d;

    memset(&r, 0, sizeof(r));
    r.statuses = catalog;
    r.nstatuses = 3;
    r.blocked_statuses = &blocked;
    r.stage_todo = &none;
    r.stage_in_progress = &peers;
    r.stage_done = &none;
    r.exclude_types = &types;
    r.exclude_labels = &labels;
    if (bw_ticket_derive(t, &r, 1800000000, &d) == 0) {
        for (size_t i = 0; strict && i < d.nblocked; i++) {
            if ((i + 1 < d.nblocked &&
                 (d.blocked[i].end == BW_NOTIME ||
                  d.blocked[i].end >= d.blocked[i + 1].start)) ||
                (d.blocked[i].end != BW_NOTIME &&
                 d.blocked[i].end <= d.blocked[i].start)) {
                abort();
            }
        }
        bw_ticket_derived_release(&d);
    }
    if (bw_ticket_derive(t, NULL, 0, &d) == 0) {
        bw_ticket_derived_release(&d);
    }
    check_pack(t);
}

static int on_hist(void *arg, const char *issue_id, struct bw_ticket *h)
{
    (void)arg;
    (void)issue_id;
    derive(h, 0); /* no created_at: spells may start at none */
    return 0;
}

static void run(int which, const char *s, size_t n)
{
    struct bw_jira_fieldmap fm = {fsp, which & 0x10 ? fdc : ffl, fname};
    struct bw_jira_search p;
    struct bw_jira_issue one;
    struct bw_ticket t;
    struct bw_status_info *v = NULL;
    struct bw_jira_fieldmap got;
    struct bw_buf b = BW_BUF_INIT;
    size_t nv = 0;
    char *tok = NULL;
    long next = 0;
    int last = 0, cloud = 0;

    bw_jira_search_init(&p);
    bw_ticket_init(&t);
    bw_ticket_init(&one.t);
    memset(&got, 0, sizeof(got));
    switch (which & 0x0f) {
    case 0:
        if (bw_jira_parse_search(s, n, "https://x", &fm, &p) == 0) {
            for (size_t i = 0; i < p.n; i++) {
                derive(&p.v[i].t, 1);
            }
        }
        break;
    case 1:
        if (bw_jira_parse_issue(s, n, NULL, &fm, &one) == 0) {
            derive(&one.t, 1);
        }
        break;
    case 2:
        if (bw_jira_parse_changelog(s, n, &fm, &t, &last, &next) == 0) {
            derive(&t, 0);
        }
        break;
    case 3:
        bw_jira_parse_bulkfetch(s, n, &fm, on_hist, NULL, &tok);
        break;
    case 4:
        bw_jira_parse_statuses(s, n, &v, &nv);
        break;
    case 5:
        bw_jira_parse_fields(s, n, NULL, NULL, &got);
        bw_jira_parse_fields(s, n, fsp, NULL, &got);
        break;
    case 6:
        bw_jira_parse_errors(s, n, &b);
        break;
    case 7:
        bw_jira_parse_server_info(s, n, &cloud);
        break;
    default:
        if (bw_ticket_unpack_history(&t, s, n) == 0) {
            derive(&t, 0);
        }
        break;
    }
    bw_free(tok);
    bw_jira_statuses_free(v, nv);
    bw_jira_fieldmap_release(&got);
    bw_buf_release(&b);
    bw_ticket_release(&t);
    bw_ticket_release(&one.t);
    bw_jira_search_release(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;

    if (size > 0 && (s[0] == '{' || s[0] == '[')) {
        for (int which = 0; which < 9; which++) {
            run(which, s, size);
            run(which | 0x10, s, size);
        }
    } else if (size > 0) {
        run(data[0], s + 1, size - 1);
    }
    return 0;
}
