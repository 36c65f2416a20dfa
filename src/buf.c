/*
 * buf.c - growable buffer (see buf.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bellwether/buf.h"
#include "bellwether/error.h"
#include "bellwether/mem.h"

int bw_buf_grow(struct bw_buf *b, size_t extra)
{
    size_t need;
    size_t cap;
    char *p;

    if (extra > SIZE_MAX - b->len - 1) {
        return BW_ENOMEM;
    }
    need = b->len + extra + 1;
    if (b->max && need > b->max + 1) {
        return BW_EIO;
    }
    if (need <= b->cap) {
        return 0;
    }
    cap = b->cap ? b->cap : 64;
    while (cap < need) {
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    }
    p = bw_realloc(b->data, cap);
    if (p == NULL) {
        return BW_ENOMEM;
    }
    if (b->data == NULL) {
        p[0] = '\0';
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int bw_buf_add(struct bw_buf *b, const void *data, size_t len)
{
    int rc = bw_buf_grow(b, len);

    if (rc) {
        return rc;
    }
    if (len) {
        memcpy(b->data + b->len, data, len);
    }
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int bw_buf_adds(struct bw_buf *b, const char *s)
{
    return bw_buf_add(b, s, strlen(s));
}

int bw_buf_addch(struct bw_buf *b, char c)
{
    return bw_buf_add(b, &c, 1);
}

int bw_buf_vprintf(struct bw_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    int n;
    int rc;

    va_copy(cp, ap);
    n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0) {
        return BW_EIO;
    }
    rc = bw_buf_grow(b, (size_t)n);
    if (rc) {
        return rc;
    }
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int bw_buf_printf(struct bw_buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = bw_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

void bw_buf_reset(struct bw_buf *b)
{
    b->len = 0;
    if (b->data) {
        b->data[0] = '\0';
    }
}

void bw_buf_release(struct bw_buf *b)
{
    bw_free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

char *bw_buf_detach(struct bw_buf *b)
{
    char *s;

    if (b->data == NULL && bw_buf_grow(b, 0)) {
        return NULL;
    }
    s = b->data;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return s;
}
