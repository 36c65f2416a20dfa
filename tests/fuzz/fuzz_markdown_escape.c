/*
 * fuzz_markdown_escape.c - fuzz bw_md_escape() (reports/markdown.c), the
 * escaper every PR title, ticket summary and name goes through.
 *
 * The first byte picks where the escaped text lands (cmark-fuzz style):
 * a paragraph, a list item, a heading, a table cell, or a link's text;
 * the rest is the text. Beyond "no crash, no leak, no read past the end"
 * it checks the escaper's promise with cmark-gfm itself (the table and
 * strikethrough extensions, as html.c renders): the document's literal
 * text is exactly the input with control bytes as spaces (CR LF as one)
 * and invalid UTF-8 as U+FFFD, and no link, image, raw HTML, emphasis or
 * strikethrough node appears, except the one link of the link frame.
 *
 * Corpus: tests/fuzz/corpus/markdown_escape/ (the simulator's hostile
 * titles, hand-made edge cases).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm-extension_api.h>
#include <cmark-gfm.h>

#include "bellwether/buf.h"
#include "bellwether/report.h"

#define MAX_INPUT 4096

static const char *const frames[][3] = {
    /* prefix, suffix, text before ours */
    {"x ", " y\n", ""},
    {"- x ", " y\n", ""},
    {"### x ", " y\n", ""},
    {"| h |\n|:--|\n| x ", " y |\n", "h"},
    {"[x ", " y](https://example.test/)\n", ""},
};

/* The text the input must render as. */
static void expected(const uint8_t *s, size_t n, struct bw_buf *out)
{
    size_t i = 0;

    while (i < n) {
        uint32_t cp;
        size_t used;

        if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
            i++;
            continue;
        }
        used = bw_utf8_decode(s + i, n - i, &cp);
        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
            cp = ' ';
        }
        bw_utf8_put(out, cp);
        i += used;
    }
}

/* Literal text of the document; abort on a node escaped text never makes
 * (links are allowed in the link frame: that is its own). */
static void text_of(cmark_node *doc, int frame, struct bw_buf *out)
{
    cmark_iter *it = cmark_iter_new(doc);
    cmark_event_type ev;
    int links = 0;

    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *nd = cmark_iter_get_node(it);
        cmark_node_type t = cmark_node_get_type(nd);

        if (ev != CMARK_EVENT_ENTER) {
            continue;
        }
        if (t == CMARK_NODE_TEXT || t == CMARK_NODE_CODE) {
            bw_buf_adds(out, cmark_node_get_literal(nd));
        } else if (t == CMARK_NODE_SOFTBREAK || t == CMARK_NODE_LINEBREAK ||
                   t == CMARK_NODE_IMAGE || t == CMARK_NODE_HTML_INLINE ||
                   t == CMARK_NODE_HTML_BLOCK || t == CMARK_NODE_EMPH ||
                   t == CMARK_NODE_STRONG || t == CMARK_NODE_CODE_BLOCK ||
                   strcmp(cmark_node_get_type_string(nd), "strikethrough") ==
                       0) {
            abort();
        } else if (t == CMARK_NODE_LINK && (frame != 4 || ++links > 1)) {
            abort();
        }
    }
    cmark_iter_free(it);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bw_buf esc = BW_BUF_INIT;
    struct bw_buf md = BW_BUF_INIT;
    struct bw_buf want = BW_BUF_INIT;
    struct bw_buf got = BW_BUF_INIT;
    cmark_parser *p;
    cmark_node *doc;
    size_t frame;

    if (size < 1 || size > MAX_INPUT) {
        return 0;
    }
    frame = data[0] % (sizeof(frames) / sizeof(frames[0]));
    data++;
    size--;
    if (bw_md_escape(&esc, (const char *)data, size) != 0) {
        abort();
    }
    /* one line, no control bytes */
    for (size_t i = 0; i < esc.len; i++) {
        unsigned char c = (unsigned char)esc.data[i];

        if (c < 0x20 || c == 0x7F) {
            abort();
        }
    }
    bw_buf_printf(&md, "%s%s%s", frames[frame][0], esc.data ? esc.data : "",
                  frames[frame][1]);
    bw_buf_printf(&want, "%sx ", frames[frame][2]);
    expected(data, size, &want);
    bw_buf_adds(&want, " y");

    cmark_gfm_core_extensions_ensure_registered();
    p = cmark_parser_new(CMARK_OPT_DEFAULT);
    cmark_parser_attach_syntax_extension(p,
                                         cmark_find_syntax_extension("table"));
    cmark_parser_attach_syntax_extension(
        p, cmark_find_syntax_extension("strikethrough"));
    cmark_parser_feed(p, md.data, md.len);
    doc = cmark_parser_finish(p);
    text_of(doc, (int)frame, &got);
    if (got.len != want.len || memcmp(got.data, want.data, got.len) != 0) {
        abort();
    }
    cmark_node_free(doc);
    cmark_parser_free(p);
    bw_buf_release(&esc);
    bw_buf_release(&md);
    bw_buf_release(&want);
    bw_buf_release(&got);
    return 0;
}
