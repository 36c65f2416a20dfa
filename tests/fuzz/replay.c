/*
 * replay.c - run a fuzz target over saved inputs without libFuzzer.
 *
 * Linked with one tests/fuzz/fuzz_<name>.c into build/replay_<name>, so
 * `make test` replays every committed corpus (and, under build-asan/, with
 * ASan+UBSan) on a machine without clang. Arguments are files, or
 * directories whose regular files (dot files skipped) are replayed in name
 * order. Each input is copied into a buffer of exactly its size, so a
 * target that reads past the end trips ASan as it would under libFuzzer.
 * The output mimics cmocka's summary ("[  PASSED  ] N test(s).") so
 * tests/lib-count.sh counts one test per input; a crash aborts the run and
 * counts as a failure.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* optional in a target, as with libFuzzer */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static long passed;
static long failed;

static int read_input(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t len = 0;
    size_t cap = 0;
    int rc = -1;

    if (f == NULL) {
        fprintf(stderr, "replay: cannot open '%s': %s\n", path,
                strerror(errno));
        return -1;
    }
    for (;;) {
        size_t n;

        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            uint8_t *p = realloc(buf, ncap);

            if (p == NULL) {
                fprintf(stderr, "replay: out of memory reading '%s'\n", path);
                goto out;
            }
            buf = p;
            cap = ncap;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            break;
        }
    }
    if (ferror(f)) {
        fprintf(stderr, "replay: cannot read '%s'\n", path);
        goto out;
    }
    /* exactly len bytes, so reading one past the end is caught by ASan */
    *data = malloc(len ? len : 1);
    if (*data == NULL) {
        goto out;
    }
    if (len) {
        memcpy(*data, buf, len);
    }
    *size = len;
    rc = 0;
out:
    free(buf);
    fclose(f);
    return rc;
}

static void replay_file(const char *path)
{
    uint8_t *data = NULL;
    size_t size = 0;

    if (read_input(path, &data, &size) != 0) {
        printf("[  FAILED  ] %s\n", path);
        failed++;
        return;
    }
    /* announce first: if the target crashes, the log names the input */
    printf("[ RUN      ] %s\n", path);
    fflush(stdout);
    LLVMFuzzerTestOneInput(data, size);
    printf("[       OK ] %s\n", path);
    free(data);
    passed++;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int skip_dot(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

static void replay_dir(const char *dir)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, skip_dot, by_name);

    if (n < 0) {
        printf("[  FAILED  ] %s: cannot list: %s\n", dir, strerror(errno));
        failed++;
        return;
    }
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        int len = snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);

        if (len > 0 && (size_t)len < sizeof(path) && stat(path, &st) == 0 &&
            S_ISREG(st.st_mode)) {
            replay_file(path);
        }
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize) {
        LLVMFuzzerInitialize(&argc, &argv);
    }
    for (int i = 1; i < argc; i++) {
        struct stat st;

        if (stat(argv[i], &st) != 0) {
            printf("[  FAILED  ] %s: %s\n", argv[i], strerror(errno));
            failed++;
        } else if (S_ISDIR(st.st_mode)) {
            replay_dir(argv[i]);
        } else {
            replay_file(argv[i]);
        }
    }
    printf("[==========] %ld input(s) replayed.\n", passed + failed);
    printf("[  PASSED  ] %ld test(s).\n", passed);
    if (failed) {
        printf("[  FAILED  ] %ld test(s), listed above.\n", failed);
    }
    return failed ? 1 : 0;
}
