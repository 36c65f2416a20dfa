/*
 * pack.h - the pieces of packed text that the PR events (pr.c) and the
 * ticket history (ticket.c) have in common: escaped strings and signed
 * decimals.
 *
 * An escaped string has its bytes below '!', '%' and DEL written as %XX
 * (upper-case hex), so it holds no blank, newline or NUL and a packed line
 * can be split at ' '. Each format's own layout stays in its module.
 */
#ifndef BW_PACK_H
#define BW_PACK_H

#include <stdint.h>

#include "bellwether/buf.h"

/* Append s to out escaped. 0 or the bw_buf_add() error. */
int bw_pack_escape(struct bw_buf *out, const char *s);
/* Decode the escaped text [s, end) into a new string; the caller frees
 * *out with bw_free(). BW_EPARSE on a bad escape or %00 (*out untouched),
 * BW_ENOMEM. */
int bw_pack_unescape(const char *s, const char *end, char **out);
/* A signed decimal int64 at *p, before end: no blanks, no '+'. *p is
 * advanced past it; BW_EPARSE when there is none or it overflows. */
int bw_pack_parse_int(const char **p, const char *end, int64_t *v);

#endif
