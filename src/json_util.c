/*
 * json_util.c - cJSON look-ups for the collectors' page parsers
 * (jsonutil.h). Pure: no I/O, no globals.
 */
#include <cJSON.h>

#include "bellwether/error.h"
#include "bellwether/jsonutil.h"
#include "bellwether/mem.h"

const cJSON *bw_json_get(const cJSON *o, const char *key)
{
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

const char *bw_json_str(const cJSON *o, const char *key)
{
    const cJSON *v = bw_json_get(o, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int bw_json_copy_str(char **dst, const char *s)
{
    char *copy = NULL;

    if (s != NULL && (copy = bw_strdup(s)) == NULL) {
        return BW_ENOMEM;
    }
    bw_free(*dst);
    *dst = copy;
    return 0;
}
