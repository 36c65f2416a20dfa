/* http.c - placeholder until the HTTP module lands. */
#include <curl/curl.h>

#include "bellwether/error.h"
#include "bellwether/http.h"

int bw_http_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : BW_EHTTP;
}

void bw_http_global_cleanup(void)
{
    curl_global_cleanup();
}
