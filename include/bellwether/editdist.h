/*
 * editdist.h - the edit distance behind the "did you mean" suggestions
 * for mistyped names: config keys, sections and sources (config.c) and
 * metric names (query.c).
 */
#ifndef BW_EDITDIST_H
#define BW_EDITDIST_H

#include <stddef.h>

/* The longest name bw_edit_distance() measures. */
#define BW_EDIT_MAX 64

/* Levenshtein distance of a and b, bytes compared case-blind when
 * fold_case; SIZE_MAX (far apart) when either is longer than max
 * (at most BW_EDIT_MAX). */
size_t bw_edit_distance(const char *a, const char *b, size_t max,
                        int fold_case);

#endif
