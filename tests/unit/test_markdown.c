/*
 * test_markdown.c - the Markdown escaper, links and the HTML rendering:
 * hostile text (pipes, emphasis, code spans, links, raw HTML, entities,
 * line breaks, invalid UTF-8, emoji) must come out as the literal text,
 * whether rendered with the cmark-gfm library (the table and strikethrough
 * extensions, as html.c does) or with the `cmark-gfm` command-line tool;
 * and the HTML never holds a raw <script>.
 */
#include "testutil.h"

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm-extension_api.h>
#include <cmark-gfm.h>
#include <unistd.h>

#include "bellwether/buf.h"
#include "bellwether/error.h"
#include "bellwether/mem.h"
#include "bellwether/report.h"

/* Titles a PR or ticket may carry (the simulator's, and more). */
static const char *const hostile[] = {
    "Fix | pipe | in table cells",
    "**Bold** claim and *stars* and _underscores_",
    "Use `code` spans and ``double `ticks` ``",
    "See [x](y) and [click](javascript:alert(1))",
    "<script>alert('xss')</script> in title",
    "First line\nsecond line of the title",
    "Ship it \xF0\x9F\x9A\x80\xF0\x9F\x94\xA5 with ZWJ "
    "\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB",
    "<img src=x onerror=alert(1)> & <b>bold</b> &amp; &lt;",
    "# Not a heading\n> not a quote",
    "| a | b |\n|---|---|\n| c | d |",
    "Tab\there and trailing backslash \\",
    "~~strike~~ <!-- comment --> {{template}} ${var}",
    "CRLF line\r\nbreak and a \"quoted\" 'word'",
    "1. list item? - dash + plus",
    "mail a\\@b.co and www.example.com and https://x.test/?a=1&b=2",
    "![img](http://x/y.png) [ref]: http://x \\* \\_ \\`",
    "trailing two spaces  \nhard break? and a lone \\",
    "<http://autolink.test> <a@b.co> &#x3C;script&#x3E;",
    "\xE2\x80\xAE right-to-left override \xE2\x80\xAC",
    "- [ ] task box",
    "=== setext? ---",
    "",
};

/* The literal text a hostile string must render as: every line break,
 * tab and control byte one space (CR LF one). Valid UTF-8 inputs only. */
static char *expected_text(const char *s)
{
    struct bw_buf b = BW_BUF_INIT;

    for (size_t i = 0; s[i]; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '\r' && s[i + 1] == '\n') {
            continue;
        }
        bw_buf_addch(&b, c < 0x20 || c == 0x7F ? ' ' : (char)c);
    }
    return bw_buf_detach(&b);
}

static char *escaped(const char *s)
{
    struct bw_buf b = BW_BUF_INIT;

    assert_int_equal(bw_md_escape(&b, s, strlen(s)), 0);
    return bw_buf_detach(&b);
}

/* ------------------------------------------------------------ the escaper */

static void test_escape_cases(void **state)
{
    static const struct {
        const char *in;
        size_t len; /* 0: strlen */
        const char *out;
    } cases[] = {
        {"plain words 123", 0, "plain words 123"},
        {"a|b", 0, "a\\|b"},
        {"*x* _y_", 0, "\\*x\\* \\_y\\_"},
        {"`c`", 0, "\\`c\\`"},
        {"[x](y)", 0, "\\[x\\](y)"},
        {"<script>", 0, "\\<script\\>"},
        {"a\\@b.co", 0, "a\\\\@b.co"},
        {"&amp;", 0, "\\&amp;"},
        {"~~s~~", 0, "\\~\\~s\\~\\~"},
        {"#1 $x$", 0, "\\#1 \\$x\\$"},
        {"l1\nl2", 0, "l1 l2"},
        {"l1\r\nl2", 0, "l1 l2"},
        {"l1\rl2\n\n", 0, "l1 l2  "},
        {"t\tx\x01\x7f", 0, "t x  "},
        {"nul\0in", 6, "nul in"},
        {"\xF0\x9F\x9A\x80 ok", 0, "\xF0\x9F\x9A\x80 ok"},
        {"caf\xC3\xA9", 0, "caf\xC3\xA9"},
        {"bad \xFF byte", 0, "bad \xEF\xBF\xBD byte"},
        {"overlong \xC0\xAF", 0, "overlong \xEF\xBF\xBD\xEF\xBF\xBD"},
        {"surrogate \xED\xA0\x80", 0,
         "surrogate \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
        {"cut \xE2\x82", 0, "cut \xEF\xBF\xBD\xEF\xBF\xBD"},
        {"c1 \xC2\x85 nel", 0, "c1   nel"},
        {"keep . - + ( ) : / ' \" ! = @ % ^ { }", 0,
         "keep . - + ( ) : / ' \" ! = @ % ^ { }"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct bw_buf b = BW_BUF_INIT;
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);

        assert_int_equal(bw_md_escape(&b, cases[i].in, len), 0);
        if (strcmp(b.data ? b.data : "", cases[i].out) != 0) {
            print_error("case %zu: got '%s', want '%s'\n", i,
                        b.data ? b.data : "", cases[i].out);
            fail();
        }
        bw_buf_release(&b);
    }
}

static void test_escape_cut(void **state)
{
    struct bw_buf b = BW_BUF_INIT;

    (void)state;
    assert_int_equal(bw_md_escape_cut(&b, "h\xC3\xA9llo", 3), 0);
    assert_string_equal(b.data, "h\xC3\xA9l\xE2\x80\xA6");
    bw_buf_reset(&b);
    assert_int_equal(bw_md_escape_cut(&b, "abc", 3), 0);
    assert_string_equal(b.data, "abc");
    bw_buf_reset(&b);
    /* an escaped character is one code point of the text */
    assert_int_equal(bw_md_escape_cut(&b, "a*b*c", 2), 0);
    assert_string_equal(b.data, "a\\*\xE2\x80\xA6");
    bw_buf_release(&b);
}

static void test_link(void **state)
{
    struct bw_buf b = BW_BUF_INIT;

    (void)state;
    assert_int_equal(
        bw_md_link(&b, "acme/api\\#42", "https://github.com/acme/api/pull/42"),
        0);
    assert_string_equal(b.data,
                        "[acme/api\\#42](https://github.com/acme/api/pull/42)");
    bw_buf_reset(&b);
    /* a destination cannot end early, open a cell or hold a blank */
    assert_int_equal(bw_md_link(&b, "k", "https://x.test/a b)c|d<e>\"\n"), 0);
    assert_string_equal(b.data,
                        "[k](https://x.test/a%20b%29c%7Cd%3Ce%3E%22%0A)");
    bw_buf_reset(&b);
    /* only http(s): the text alone otherwise */
    assert_int_equal(bw_md_link(&b, "k", "javascript:alert(1)"), 0);
    assert_string_equal(b.data, "k");
    bw_buf_reset(&b);
    assert_int_equal(bw_md_link(&b, "k", NULL), 0);
    assert_string_equal(b.data, "k");
    bw_buf_release(&b);
}

static void test_utf8(void **state)
{
    uint32_t cp;

    (void)state;
    assert_int_equal(bw_utf8_decode((const unsigned char *)"A", 1, &cp), 1);
    assert_int_equal(cp, 'A');
    assert_int_equal(
        bw_utf8_decode((const unsigned char *)"\xF0\x9F\x9A\x80", 4, &cp), 4);
    assert_int_equal(cp, 0x1F680);
    /* truncated: one byte, U+FFFD */
    assert_int_equal(
        bw_utf8_decode((const unsigned char *)"\xF0\x9F\x9A", 3, &cp), 1);
    assert_int_equal(cp, 0xFFFD);
    assert_int_equal(
        bw_utf8_decode((const unsigned char *)"\xF4\x90\x80\x80", 4, &cp), 1);
    assert_int_equal(cp, 0xFFFD);
}

/* ------------------------------------------------- rendering: the library */

/* Concatenated literal text of a document; fails on links, HTML, images,
 * emphasis and strikethrough (none may come from escaped text). */
static void collect_text(cmark_node *doc, struct bw_buf *out)
{
    cmark_iter *it = cmark_iter_new(doc);
    cmark_event_type ev;

    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *n = cmark_iter_get_node(it);
        cmark_node_type t = cmark_node_get_type(n);
        const char *tname = cmark_node_get_type_string(n);

        if (ev != CMARK_EVENT_ENTER) {
            continue;
        }
        if (t == CMARK_NODE_TEXT || t == CMARK_NODE_CODE) {
            bw_buf_adds(out, cmark_node_get_literal(n));
        } else if (t == CMARK_NODE_SOFTBREAK || t == CMARK_NODE_LINEBREAK) {
            bw_buf_addch(out, '\n');
        } else if (t == CMARK_NODE_LINK || t == CMARK_NODE_IMAGE ||
                   t == CMARK_NODE_HTML_INLINE || t == CMARK_NODE_EMPH ||
                   t == CMARK_NODE_STRONG ||
                   strcmp(tname, "strikethrough") == 0) {
            print_error("unexpected %s node\n", tname);
            fail();
        }
    }
    cmark_iter_free(it);
}

static cmark_node *parse_gfm(const char *md, cmark_parser **pp)
{
    cmark_parser *p;

    cmark_gfm_core_extensions_ensure_registered();
    p = cmark_parser_new(CMARK_OPT_DEFAULT);
    cmark_parser_attach_syntax_extension(p,
                                         cmark_find_syntax_extension("table"));
    cmark_parser_attach_syntax_extension(
        p, cmark_find_syntax_extension("strikethrough"));
    cmark_parser_feed(p, md, strlen(md));
    *pp = p;
    return cmark_parser_finish(p);
}

/* "x " + esc + " y" as a paragraph, a list item, a heading and a table
 * cell: each renders exactly the expected text. */
static void check_literal(const char *h)
{
    static const char *const frames[][2] = {
        {"", "\n"},
        {"- ", "\n"},
        {"## ", "\n"},
        {"| col |\n|:--|\n| ", " |\n"},
        {"| a | b |\n|--:|---|\n| 1 | ", " |\n"},
    };
    char *esc = escaped(h);
    char *want = expected_text(h);

    for (size_t f = 0; f < sizeof(frames) / sizeof(frames[0]); f++) {
        struct bw_buf md = BW_BUF_INIT;
        struct bw_buf got = BW_BUF_INIT;
        struct bw_buf exp = BW_BUF_INIT;
        cmark_parser *p;
        cmark_node *doc;

        bw_buf_printf(&md, "%sx %s y%s", frames[f][0], esc, frames[f][1]);
        doc = parse_gfm(md.data, &p);
        collect_text(doc, &got);
        /* the second table frame has a cell "1" before ours */
        bw_buf_printf(&exp, "%s%sx %s y", f == 4 ? "ab" : "", f == 4 ? "1" : "",
                      want);
        if (f == 3) {
            bw_buf_reset(&exp);
            bw_buf_printf(&exp, "colx %s y", want);
        }
        if (strcmp(got.data ? got.data : "", exp.data) != 0) {
            print_error("frame %zu of '%s':\n  md   '%s'\n  got  '%s'\n  want "
                        "'%s'\n",
                        f, h, md.data, got.data ? got.data : "", exp.data);
            fail();
        }
        cmark_node_free(doc);
        cmark_parser_free(p);
        bw_buf_release(&md);
        bw_buf_release(&got);
        bw_buf_release(&exp);
    }
    bw_free(esc);
    bw_free(want);
}

static void test_hostile_library(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        check_literal(hostile[i]);
    }
}

/* Text content of HTML: tags dropped, the entities cmark writes decoded. */
static char *html_text(const char *html)
{
    static const struct {
        const char *ent, *ch;
    } ents[] = {{"&lt;", "<"},    {"&gt;", ">"},  {"&amp;", "&"},
                {"&quot;", "\""}, {"&#39;", "'"}, {"&#x27;", "'"}};
    struct bw_buf b = BW_BUF_INIT;
    const char *p = html;

    while (*p) {
        size_t e;

        if (*p == '<') {
            const char *gt = strchr(p, '>');

            p = gt ? gt + 1 : p + strlen(p);
            continue;
        }
        for (e = 0; e < sizeof(ents) / sizeof(ents[0]); e++) {
            size_t n = strlen(ents[e].ent);

            if (strncmp(p, ents[e].ent, n) == 0) {
                bw_buf_adds(&b, ents[e].ch);
                p += n;
                break;
            }
        }
        if (e == sizeof(ents) / sizeof(ents[0])) {
            bw_buf_addch(&b, *p++);
        }
    }
    return bw_buf_detach(&b);
}

/* The HTML of a document of every hostile string, a table of them too. */
static char *hostile_markdown(void)
{
    struct bw_buf md = BW_BUF_INIT;

    bw_buf_adds(&md, "# Report\n\n| key | title |\n|:--|:--|\n");
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        char *esc = escaped(hostile[i]);

        bw_buf_printf(&md, "| k%zu | t %s t |\n", i, esc);
        bw_free(esc);
    }
    bw_buf_addch(&md, '\n');
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        char *esc = escaped(hostile[i]);

        bw_buf_printf(&md, "- item %s end\n", esc);
        bw_free(esc);
    }
    return bw_buf_detach(&md);
}

static void check_html(const char *html)
{
    char *text = html_text(html);

    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "<img"));
    assert_null(strstr(html, "<b>"));
    assert_null(strstr(html, "href=\"javascript"));
    assert_null(strstr(html, "<a "));
    assert_null(strstr(html, "<del"));
    assert_null(strstr(html, "<em"));
    assert_null(strstr(html, "<strong"));
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        char *want = expected_text(hostile[i]);
        struct bw_buf cell = BW_BUF_INIT;

        bw_buf_printf(&cell, "t %s t", want);
        if (strstr(text, cell.data) == NULL) {
            print_error("'%s' is not in the HTML's text\n", cell.data);
            fail();
        }
        bw_buf_release(&cell);
        bw_free(want);
    }
    bw_free(text);
}

static void test_hostile_html(void **state)
{
    struct bw_buf html = BW_BUF_INIT;
    char *md = hostile_markdown();

    (void)state;
    assert_int_equal(bw_markdown_to_html(md, strlen(md), "t <script>", &html),
                     0);
    check_html(html.data);
    /* the title is escaped too, and the styles are on cmark's own tags */
    assert_non_null(strstr(html.data, "<title>t &lt;script&gt;</title>"));
    assert_non_null(strstr(html.data, "<table style=\""));
    assert_non_null(strstr(html.data, "<td style=\""));
    bw_free(md);
    bw_buf_release(&html);
}

/* The same document through the cmark-gfm command-line tool. */
static void test_hostile_cli(void **state)
{
    char path[] = "/tmp/bw-test-md.XXXXXX";
    struct bw_buf out = BW_BUF_INIT;
    char cmd[256];
    char chunk[4096];
    char *md = hostile_markdown();
    FILE *p;
    size_t n;
    int fd;

    (void)state;
    if (system("command -v cmark-gfm >/dev/null 2>&1") != 0) {
        bw_free(md);
        print_message("cmark-gfm (the CLI) is not installed: 'sh "
                      "scripts/bootstrap.sh test'\n");
        skip();
    }
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, md, strlen(md)), (ssize_t)strlen(md));
    close(fd);
    snprintf(cmd, sizeof(cmd),
             "cmark-gfm --extension table --extension strikethrough %s", path);
    p = popen(cmd, "r");
    assert_non_null(p);
    while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0) {
        bw_buf_add(&out, chunk, n);
    }
    assert_int_equal(pclose(p), 0);
    unlink(path);
    assert_non_null(strstr(out.data, "<table>"));
    check_html(out.data);
    bw_buf_release(&out);
    bw_free(md);
}

/* Allocation failures in the escaper are reported, never crash or leak. */
static void test_escape_torture(void **state)
{
    const char *s = "<script>|*x*| \xF0\x9F\x9A\x80 \xFF";

    (void)state;
    for (long n = 1; n < 64; n++) {
        struct bw_buf b = BW_BUF_INIT;
        int rc;

        bw_mem_fail_at(n, 0);
        rc = bw_md_escape(&b, s, strlen(s));
        bw_mem_fail_at(0, 0);
        bw_buf_release(&b);
        if (rc == 0) {
            break;
        }
        assert_int_equal(rc, BW_ENOMEM);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_cases),
        cmocka_unit_test(test_escape_cut),
        cmocka_unit_test(test_link),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_hostile_library),
        cmocka_unit_test(test_hostile_html),
        cmocka_unit_test(test_hostile_cli),
        cmocka_unit_test(test_escape_torture),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
