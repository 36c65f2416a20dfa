/*
 * html.c - the report as HTML: its Markdown rendered by cmark-gfm, wrapped
 * in a small document with inline CSS that mail clients keep.
 *
 * cmark-gfm (STYLE.md 15): the core extensions are registered once and the
 * parser gets `table` and `strikethrough` only. `autolink` stays off: it
 * would turn escaped text ("a\@b.co", "www.x") back into links. Rendering
 * is safe (0.29's default; CMARK_OPT_UNSAFE is never passed): raw HTML
 * becomes a comment and javascript:/vbscript:/file:/data: links lose their
 * href. The report's own text never holds raw HTML anyway: markdown.c
 * escapes '<' and '&', so every '<' in cmark's output opens a tag cmark
 * wrote itself.
 *
 * Mail clients (Gmail, Outlook) drop <style> blocks and external sheets, so
 * style="" attributes are added to the tags cmark writes (table cells,
 * code spans, headings, quotes) by a scan over its output. cmark's own
 * allocator aborts on OOM, like hiredis: that is said here, not hidden.
 */
#include <string.h>

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm-extension_api.h>
#include <cmark-gfm.h>

#include "bellwether/error.h"
#include "bellwether/log.h"
#include "bellwether/report.h"

#define FONT                                                                   \
    "-apple-system,BlinkMacSystemFont,'Segoe UI',Helvetica,Arial,sans-serif"
#define MONO "SFMono-Regular,Consolas,'Liberation Mono',Menlo,monospace"
#define CELL "border:1px solid #d0d7de;padding:4px 10px;"

/* The tags that get a style, and the style. */
static const struct {
    const char *tag;
    const char *style;
} styles[] = {
    {"table", "border-collapse:collapse;margin:0 0 16px 0;font-size:14px"},
    {"th", CELL "background:#f6f8fa;font-weight:600"},
    {"td", CELL},
    {"code", "font-family:" MONO ";white-space:pre;font-size:13px"},
    {"h1", "font-size:24px;margin:0 0 12px 0"},
    {"h2", "font-size:20px;margin:24px 0 12px 0;padding-bottom:4px;"
           "border-bottom:1px solid #d0d7de"},
    {"h3", "font-size:16px;margin:20px 0 8px 0"},
    {"blockquote", "margin:0 0 16px 0;padding:6px 12px;"
                   "border-left:4px solid #d4a72c;background:#fff8c5"},
    {"hr", "border:0;border-top:1px solid #d0d7de;margin:24px 0"},
    {"a", "color:#0969da"},
};

static int html_escape(struct bw_buf *b, const char *s)
{
    int rc = 0;

    for (const char *p = s; rc == 0 && *p; p++) {
        switch (*p) {
        case '&':
            rc = bw_buf_adds(b, "&amp;");
            break;
        case '<':
            rc = bw_buf_adds(b, "&lt;");
            break;
        case '>':
            rc = bw_buf_adds(b, "&gt;");
            break;
        case '"':
            rc = bw_buf_adds(b, "&quot;");
            break;
        case '\'':
            rc = bw_buf_adds(b, "&#39;");
            break;
        default:
            rc = bw_buf_addch(b, *p);
        }
    }
    return rc;
}

/* The style of the tag starting at p ('<' + name + ' ' or '>'), or NULL. */
static const char *style_of(const char *p, size_t *namelen)
{
    for (size_t i = 0; i < sizeof(styles) / sizeof(styles[0]); i++) {
        size_t n = strlen(styles[i].tag);

        if (strncmp(p + 1, styles[i].tag, n) == 0 &&
            (p[1 + n] == '>' || p[1 + n] == ' ')) {
            *namelen = n;
            return styles[i].style;
        }
    }
    return NULL;
}

/* Copy cmark's HTML, adding style="" to the tags of styles[]. */
static int add_styles(struct bw_buf *b, const char *html)
{
    const char *p = html;
    int rc = 0;

    while (rc == 0 && *p) {
        const char *lt = strchr(p, '<');
        const char *style;
        size_t n;

        if (lt == NULL) {
            return bw_buf_adds(b, p);
        }
        rc = bw_buf_add(b, p, (size_t)(lt - p));
        style = rc ? NULL : style_of(lt, &n);
        if (style) {
            rc = bw_buf_add(b, lt, n + 1) ||
                         bw_buf_printf(b, " style=\"%s\"", style)
                     ? BW_ENOMEM
                     : 0;
            p = lt + n + 1;
        } else if (rc == 0) {
            rc = bw_buf_addch(b, '<');
            p = lt + 1;
        }
    }
    return rc;
}

static int attach(cmark_parser *parser, const char *name)
{
    cmark_syntax_extension *ext = cmark_find_syntax_extension(name);

    if (ext == NULL || !cmark_parser_attach_syntax_extension(parser, ext)) {
        BW_ERROR("cmark-gfm has no '%s' extension; reinstall "
                 "libcmark-gfm-extensions",
                 name);
        return BW_ENOMEM;
    }
    return 0;
}

int bw_markdown_to_html(const char *md, size_t len, const char *title,
                        struct bw_buf *out)
{
    /* CMARK_OPT_DEFAULT is safe; never CMARK_OPT_UNSAFE */
    const int opts = CMARK_OPT_DEFAULT | CMARK_OPT_VALIDATE_UTF8;
    cmark_parser *parser;
    cmark_node *doc = NULL;
    char *html = NULL;
    int rc;

    cmark_gfm_core_extensions_ensure_registered();
    parser = cmark_parser_new(opts);
    if (parser == NULL) {
        return BW_ENOMEM;
    }
    rc = attach(parser, "table");
    if (rc == 0) {
        rc = attach(parser, "strikethrough");
    }
    if (rc == 0) {
        cmark_parser_feed(parser, md, len);
        doc = cmark_parser_finish(parser);
        if (doc) {
            html = cmark_render_html(
                doc, opts, cmark_parser_get_syntax_extensions(parser));
        }
        rc = html ? 0 : BW_ENOMEM;
    }
    if (rc == 0) {
        rc = bw_buf_adds(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
                              "<meta charset=\"utf-8\">\n"
                              "<meta name=\"viewport\" content=\"width="
                              "device-width, initial-scale=1\">\n<title>") ||
                     html_escape(out, title ? title : "") ||
                     bw_buf_adds(out, "</title>\n</head>\n<body style=\""
                                      "margin:0;padding:16px;font-family:" FONT
                                      ";font-size:14px;line-height:1.5;"
                                      "color:#1f2328;background:#ffffff\">\n"
                                      "<div style=\"max-width:980px\">\n") ||
                     add_styles(out, html) ||
                     bw_buf_adds(out, "</div>\n</body>\n</html>\n")
                 ? BW_ENOMEM
                 : 0;
    }
    if (html) {
        cmark_get_default_mem_allocator()->free(html);
    }
    if (doc) {
        cmark_node_free(doc);
    }
    cmark_parser_free(parser);
    return rc;
}

int bw_report_html(const struct bw_report *r, struct bw_buf *out)
{
    struct bw_buf md = BW_BUF_INIT;
    struct bw_buf title = BW_BUF_INIT;
    int rc = bw_report_markdown(r, &md);

    if (rc == 0) {
        rc = bw_report_title(r, &title);
    }
    if (rc == 0) {
        rc = bw_markdown_to_html(md.data, md.len, title.data, out);
    }
    bw_buf_release(&md);
    bw_buf_release(&title);
    return rc;
}
