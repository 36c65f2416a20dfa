/* config.c - placeholder until the config module lands. */
#include <stdlib.h>

#include "bellwether/config.h"
#include "bellwether/error.h"

const char *bw_config_path(const char *path)
{
    return path;
}

int bw_config_load(const char *path, struct bw_config **out)
{
    (void)path;
    *out = NULL;
    return BW_ECONFIG;
}

int bw_parse_duration(const char *s, long *seconds)
{
    (void)s;
    (void)seconds;
    return BW_EPARSE;
}

int bw_parse_ratio(const char *s, double *ratio)
{
    (void)s;
    (void)ratio;
    return BW_EPARSE;
}
