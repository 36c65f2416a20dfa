/*
 * buf.h - a growable byte buffer, always NUL-terminated once allocated.
 *
 * Used to assemble Markdown, JSON, request URLs and packed records without
 * fixed-size arrays. The buffer owns data; bw_buf_release() frees it and
 * bw_buf_detach() hands it to the caller (free with bw_free()).
 */
#ifndef BW_BUF_H
#define BW_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct bw_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max; /* 0: unbounded; else growth past max fails (BW_EIO) */
};

/* clang-format off */
#define BW_BUF_INIT {NULL, 0, 0, 0}
/* clang-format on */

int bw_buf_grow(struct bw_buf *b, size_t extra);
int bw_buf_add(struct bw_buf *b, const void *data, size_t len);
int bw_buf_adds(struct bw_buf *b, const char *s);
int bw_buf_addch(struct bw_buf *b, char c);
int bw_buf_printf(struct bw_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int bw_buf_vprintf(struct bw_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Forget the contents, keep the memory. */
void bw_buf_reset(struct bw_buf *b);
/* Free the memory; the buffer is BW_BUF_INIT again (max kept). */
void bw_buf_release(struct bw_buf *b);
/* Hand the string to the caller (never NULL on success: "" when empty);
 * caller frees with bw_free(). The buffer is empty afterwards. */
char *bw_buf_detach(struct bw_buf *b);

#endif
