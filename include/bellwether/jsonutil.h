/*
 * jsonutil.h - the cJSON look-ups both collectors' page parsers share
 * (collectors/github.c, collectors/jira.c).
 *
 * What these return points into the cJSON tree (borrowed: valid until the
 * root's cJSON_Delete()); bw_json_copy_str() is how a parser keeps a string
 * past that.
 */
#ifndef BW_JSONUTIL_H
#define BW_JSONUTIL_H

#include <cJSON.h>

/* Member key of o, or NULL when o is no object or has no such member. */
const cJSON *bw_json_get(const cJSON *o, const char *key);
/* The text of string member key of o, or NULL (absent, or not a string). */
const char *bw_json_str(const cJSON *o, const char *key);
/* Replace the owned *dst (freed with bw_free()) by a copy of s, or by NULL
 * when s is NULL. BW_ENOMEM leaves *dst as it was. */
int bw_json_copy_str(char **dst, const char *s);

#endif
