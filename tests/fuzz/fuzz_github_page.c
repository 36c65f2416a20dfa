/*
 * fuzz_github_page.c - the GitHub page parsers (bw_gh_parse_*), then what
 * the store does with their result: pack the events, unpack them again
 * (which must give the same events back) and derive METRICS.md's fields.
 *
 * An input that starts with '[' or '{' is a whole page (the committed
 * simulator pages, the real samples replayed from ../shared) and goes
 * through every parser; otherwise the first byte picks one parser for the
 * rest (cmark-fuzz style).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bellwether/github.h"
#include "bellwether/pr.h"

static char users0[] = "bo", users1[] = "ghost";
static char labels0[] = "wip";
static char base0[] = "release/*";
static char *users_v[] = {users0, users1};
static char *labels_v[] = {labels0};
static char *base_v[] = {base0};
static const struct bw_strlist users = {users_v, 2};
static const struct bw_strlist labels = {labels_v, 1};
static const struct bw_strlist bases = {base_v, 1};

static void check_pack(const struct bw_pr *pr)
{
    struct bw_buf b = BW_BUF_INIT;
    struct bw_pr back;

    bw_pr_init(&back);
    if (bw_pr_pack_events(pr, &b) == 0) {
        if (bw_pr_unpack_events(&back, b.data, b.len) != 0 ||
            back.nevents != pr->nevents) {
            abort();
        }
        for (size_t i = 0; i < pr->nevents; i++) {
            const struct bw_pr_event *x = &pr->events[i], *y = &back.events[i];

            if (x->t != y->t || x->t2 != y->t2 || x->kind != y->kind ||
                x->state != y->state || x->actor_flags != y->actor_flags ||
                (x->actor == NULL) != (y->actor == NULL) ||
                (x->actor && strcmp(x->actor, y->actor) != 0)) {
                abort();
            }
        }
    }
    bw_buf_release(&b);
    bw_pr_release(&back);
}

static void derive(const struct bw_pr *pr)
{
    struct bw_pr_rules rules = {&users, &labels, &bases, 0};
    struct bw_pr_derived d;

    bw_pr_derive(pr, &rules, &d);
    rules.include_bot_prs = 1;
    bw_pr_derive(pr, NULL, &d);
}

static int on_item(void *arg, const struct bw_pr *pr)
{
    (void)arg;
    derive(pr);
    return 0;
}

static void run(int which, const char *s, size_t n)
{
    struct bw_strlist l = {NULL, 0};
    struct bw_pr pr;

    bw_pr_init(&pr);
    switch (which) {
    case 0:
        bw_gh_parse_pulls(s, n, on_item, NULL);
        break;
    case 1:
        bw_gh_parse_pull(s, n, &pr);
        break;
    case 2:
        bw_gh_parse_timeline(s, n, &pr);
        bw_gh_parse_timeline(s, n, &pr); /* a second page appends */
        break;
    case 3:
        bw_gh_parse_reviews(s, n, &pr);
        break;
    case 4:
        bw_gh_parse_commits(s, n, &pr);
        break;
    default:
        bw_gh_parse_repos(s, n, &l);
        bw_strlist_release(&l);
        break;
    }
    check_pack(&pr);
    derive(&pr);
    bw_pr_release(&pr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;

    if (size > 0 && (data[0] == '[' || data[0] == '{')) {
        for (int which = 0; which < 6; which++) {
            run(which, s, size);
        }
    } else if (size > 0) {
        run(data[0] % 6, s + 1, size - 1);
    }
    return 0;
}
