/*
 * editdist.c - Levenshtein distance of two short names, for the "did you
 * mean" suggestions (editdist.h). One row of the table, on the stack.
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "bellwether/editdist.h"

static int same(char x, char y, int fold_case)
{
    if (fold_case) {
        return tolower((unsigned char)x) == tolower((unsigned char)y);
    }
    return x == y;
}

size_t bw_edit_distance(const char *a, const char *b, size_t max, int fold_case)
{
    size_t la = strlen(a);
    size_t lb = strlen(b);
    size_t row[BW_EDIT_MAX + 1];

    if (max > BW_EDIT_MAX) {
        max = BW_EDIT_MAX;
    }
    if (la > max || lb > max) {
        return SIZE_MAX;
    }
    for (size_t j = 0; j <= lb; j++) {
        row[j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];

        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + !same(a[i - 1], b[j - 1], fold_case);

            if (up + 1 < best) {
                best = up + 1;
            }
            if (row[j - 1] + 1 < best) {
                best = row[j - 1] + 1;
            }
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}
