/*
 * registry.c - the built-in collectors (git's commands[] idea) and the
 * lookup that falls back to external plugins.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bellwether/collector.h"
#include "bellwether/github.h"
#include "bellwether/jira.h"
#include "bellwether/log.h"

const struct bw_collector *const bw_builtin_collectors[] = {
    &bw_collector_github, &bw_collector_jira, NULL};

static const struct bw_collector *load_plugin(const char *name, const char *dir)
{
    char path[4096];
    char sym[128];
    const struct bw_collector *c;
    void *h;

    if (dir == NULL || strchr(name, '/') != NULL) {
        return NULL;
    }
    snprintf(path, sizeof(path), "%s/%s.so", dir, name);
    snprintf(sym, sizeof(sym), "bw_collector_%s", name);
    if (access(path, F_OK) != 0) {
        return NULL; /* no such plugin: the caller names the unknown type */
    }
    h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        const char *why = dlerror();

        BW_ERROR("cannot load plugin '%s': %s; rebuild it against this "
                 "bellwether",
                 path, why ? why : "unknown reason");
        return NULL;
    }
    c = dlsym(h, sym);
    if (c == NULL) {
        BW_ERROR("plugin '%s' exports no '%s'; rebuild it against this "
                 "bellwether",
                 path, sym);
        dlclose(h);
        return NULL;
    }
    if (c->abi != BW_COLLECTOR_ABI) {
        BW_ERROR("plugin '%s' has collector ABI %u, this bellwether needs "
                 "%u; rebuild the plugin",
                 path, c->abi, BW_COLLECTOR_ABI);
        dlclose(h);
        return NULL;
    }
    /* the handle stays open for the life of the process */
    return c;
}

const struct bw_collector *bw_collector_find(const char *name,
                                             const char *plugins_path)
{
    for (size_t i = 0; bw_builtin_collectors[i]; i++) {
        if (strcmp(bw_builtin_collectors[i]->name, name) == 0) {
            return bw_builtin_collectors[i];
        }
    }
    return load_plugin(name, plugins_path);
}
