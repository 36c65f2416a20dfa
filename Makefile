# bellwether - build, tests, benchmarks, install.
#
# `make` builds ./bellwether. Everything else lands in $(BUILD)/ (build/ by
# default, build-asan/ for the sanitizer pass). Sources are discovered:
# src/*.c (minus main.c), collectors/*.c and reports/*.c form libbw.a, each
# tests/unit/test_<module>.c is one cmocka executable, each
# tests/fuzz/fuzz_<name>.c one fuzz target (replayed over its corpus by
# `make test`, run by libFuzzer under `make fuzz`).

VERSION := 0.1.0
PREFIX ?= /usr/local
DESTDIR ?=
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
BUILD ?= build
CC ?= cc
PKG_CONFIG ?= pkg-config
WERROR ?= 1

PKGS := libcurl hiredis libcjson libcmark-gfm inih
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS))
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka)

WARN := -Wall -Wextra -Wstrict-prototypes -Wwrite-strings -Wshadow \
	-Wformat=2 -Wno-missing-field-initializers
ifeq ($(WERROR),1)
WARN += -Werror
endif
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -DBW_VERSION='"$(VERSION)"' \
	$(WARN) -Iinclude $(PKG_CFLAGS) $(CFLAGS)
LIBS := $(PKG_LIBS) -lm -ldl -lpthread

LIB_SRCS := $(filter-out src/main.c,$(wildcard src/*.c collectors/*.c reports/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/%)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
REPLAY_BINS := $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=$(BUILD)/replay_%)
HEADERS := $(wildcard include/bellwether/*.h)
MAN_SRCS := $(wildcard docs/*.[0-9].md)
MAN_PAGES := $(MAN_SRCS:docs/%.md=$(BUILD)/man/%)

ifeq ($(BUILD),build)
BIN := bellwether
else
BIN := $(BUILD)/bellwether
endif

ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined

.PHONY: all demo test unit replay asan soak fuzz bench checksrc format \
	golden-update install clean man integration

all: $(BIN)

$(BUILD)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libbw.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BIN): $(BUILD)/obj/src/main.o $(BUILD)/libbw.a
	$(CC) $(ALL_CFLAGS) -rdynamic -o $@ $^ $(LIBS) $(LDFLAGS)

$(BUILD)/test_%: tests/unit/test_%.c $(BUILD)/libbw.a $(wildcard tests/unit/*.h)
	$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libbw.a \
		$(CMOCKA_LIBS) $(LIBS) $(LDFLAGS)

$(BUILD)/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(BUILD)/libbw.a
	$(CC) $(ALL_CFLAGS) -o $@ $< tests/fuzz/replay.c $(BUILD)/libbw.a \
		$(LIBS) $(LDFLAGS)

# Each runner ends with "N passed, N failed" (counting: tests/lib-count.sh).
# libFuzzer binaries (tests/fuzz/run-fuzz.sh builds them in build-fuzz/ with
# clang-14 and -fsanitize=fuzzer,address,undefined in LDFLAGS).
$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(BUILD)/libbw.a
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libbw.a $(LIBS) $(LDFLAGS)

unit: $(UNIT_BINS)
	@sh tests/run-unit.sh $(BUILD)

replay: $(REPLAY_BINS)
	@sh tests/run-replay.sh $(BUILD)

# The one test command (DESIGN.md): style, unit, integration, fuzz corpora,
# then unit, replay and tiny integration again under ASan+UBSan. Ends with
# "N passed, N failed" (tests/run-all.sh says what runs in which order).
# The builds run with -k: what does not build counts as one failed build
# and its suites as failed, and the other suites still run.
test:
	@rc=0; \
	$(MAKE) --no-print-directory -k all $(UNIT_BINS) $(REPLAY_BINS) || rc=1; \
	$(MAKE) --no-print-directory -k BUILD=build-asan CFLAGS="$(ASAN_FLAGS)" \
		LDFLAGS="-fsanitize=address,undefined" build-asan/bellwether \
		$(UNIT_SRCS:tests/unit/%.c=build-asan/%) \
		$(FUZZ_SRCS:tests/fuzz/fuzz_%.c=build-asan/replay_%) || rc=1; \
	BW_BUILD_FAILED=$$rc sh tests/run-all.sh

integration: all
	@sh tests/run-integration.sh

asan:
	$(MAKE) BUILD=build-asan CFLAGS="$(ASAN_FLAGS)" \
		LDFLAGS="-fsanitize=address,undefined" build-asan/bellwether \
		$(UNIT_SRCS:tests/unit/%.c=build-asan/%) \
		$(FUZZ_SRCS:tests/fuzz/fuzz_%.c=build-asan/replay_%)

soak: all
	@sh tests/run-soak.sh

fuzz:
	@sh tests/fuzz/run-fuzz.sh $(or $(FUZZ_SECONDS),60)

bench: all
	@sh bench/run.sh

demo: all
	./bellwether demo

# Style (STYLE.md item 21): clang-format-14 --dry-run, banned calls, braces.
checksrc:
	@sh scripts/checksrc.sh

# Rewrite every C file in place with .clang-format (what checksrc checks).
format:
	@sh scripts/checksrc.sh --fix

golden-update: all
	@sh tests/golden/update.sh

man: $(MAN_PAGES)

# cmark-gfm writes the body; the .TH title line (NAME, section) comes from
# the file name: docs/bellwether.ini.5.md -> "BELLWETHER.INI" "5".
$(BUILD)/man/%: docs/%.md
	@mkdir -p $(dir $@)
	{ n='$*'; printf '.TH "%s" "%s" "" "bellwether $(VERSION)" "bellwether"\n' \
		"$$(echo "$${n%.*}" | tr a-z A-Z)" "$${n##*.}"; \
		cmark-gfm -t man $<; } > $@.tmp && mv $@.tmp $@

install: all man
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/doc/bellwether/examples
	install -m 0755 bellwether $(DESTDIR)$(PREFIX)/bin/bellwether
	for p in $(MAN_PAGES); do \
		s=$${p##*.}; install -m 0644 $$p $(DESTDIR)$(PREFIX)/share/man/man$$s/; \
	done
	for f in contrib/*; do \
		[ -f "$$f" ] && install -m 0644 $$f \
			$(DESTDIR)$(PREFIX)/share/doc/bellwether/examples/; \
	done; true
	# systemd units, with ExecStart pointing at the installed binary
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	for f in contrib/*.service contrib/*.timer; do \
		sed 's|/usr/local/bin/bellwether|$(PREFIX)/bin/bellwether|g' $$f \
			> $(DESTDIR)$(SYSTEMDUNITDIR)/$${f##*/} && \
		chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$${f##*/} || exit 1; \
	done

clean:
	rm -rf build build-asan build-fuzz bellwether
