/*
 * fuzz_config.c - the INI loader (src/config.c: our line reader, inih, the
 * key tables, secrets) on arbitrary bytes. Never crash or leak; a config
 * either loads or fails with messages, each one line that names the file;
 * a secret's value never appears in a message.
 *
 * Input: the whole input is the INI file. The first byte picks whether
 * messages are collected ('!' logs them to stderr instead, to exercise
 * that path). External plugins are off (BW_CONFIG_NO_PLUGINS): the fuzzer
 * must not dlopen() whatever a [plugins] path names. Secret variables
 * GITHUB_TOKEN, JIRA_TOKEN, REDIS_PASSWORD, SMTP_USER and SMTP_PASSWORD
 * are set, so inputs get past the secret checks.
 */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bellwether/buf.h"
#include "bellwether/config.h"
#include "bellwether/error.h"
#include "bellwether/log.h"

#define SECRET "fuzz-secret-value-7f3a"
#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            abort();                                                           \
        }                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const vars[] = {"GITHUB_TOKEN", "JIRA_TOKEN",
                                       "REDIS_PASSWORD", "SMTP_USER",
                                       "SMTP_PASSWORD"};

    (void)argc;
    (void)argv;
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        setenv(vars[i], SECRET, 1);
    }
    unsetenv("CREDENTIALS_DIRECTORY");
    return 0;
}

/* Every message line names the file; none carries the secret (unless
   the input itself holds it: values are quoted). */
static void check_messages(const char *text, const uint8_t *data, size_t size)
{
    const char *p = text;

    CHECK(memmem(data, size, SECRET, strlen(SECRET)) != NULL ||
          strstr(text, SECRET) == NULL);
    while (*p) {
        const char *nl = strchr(p, '\n');

        CHECK(nl != NULL);
        if (strncmp(p, "warning: ", 9) == 0) {
            p += 9;
        }
        CHECK(strncmp(p, "fuzz.ini", 8) == 0);
        p = nl + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bw_buf diag = BW_BUF_INIT;
    struct bw_config *cfg = NULL;
    int logged = size > 0 && data[0] == '!';
    int rc;

    if (size > 65536) {
        return 0;
    }
    if (logged) {
        bw_log_set_level(BW_LOG_QUIET);
    }
    rc = bw_config_parse("fuzz.ini", (const char *)data, size,
                         BW_CONFIG_NO_PLUGINS, logged ? NULL : &diag, &cfg);
    CHECK(rc == 0 || rc == BW_ECONFIG || rc == BW_ENOMEM);
    CHECK((rc == 0) == (cfg != NULL));
    if (rc == BW_ECONFIG && !logged) {
        CHECK(diag.len > 0);
    }
    if (diag.data != NULL) {
        check_messages(diag.data, data, size);
    }
    if (cfg != NULL) {
        CHECK(cfg->redis.url != NULL && cfg->redis.prefix != NULL);
        CHECK(cfg->report.timezone != NULL);
        for (size_t i = 0; i < cfg->nsources; i++) {
            CHECK(cfg->sources[i].collector != NULL);
            CHECK(strlen(cfg->sources[i].metric_hash) == 16);
            CHECK(bw_config_source(cfg, cfg->sources[i].name) != NULL);
        }
        for (size_t i = 0; i < cfg->ntargets; i++) {
            CHECK(cfg->targets[i].has_max != cfg->targets[i].has_min);
        }
    }
    bw_config_free(cfg);
    bw_buf_release(&diag);
    return 0;
}
