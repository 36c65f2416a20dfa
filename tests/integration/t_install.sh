#!/bin/sh
# t_install.sh - `make install PREFIX=/usr DESTDIR=...` installs the binary,
# the man pages rendered from docs/*.md by cmark-gfm, and contrib/ files as
# examples, and nothing outside DESTDIR.
. "$(dirname "$0")/lib.sh"

dest=$BW_TMP/root
# a make of its own, not part of the caller's jobserver
unset MAKEFLAGS MAKELEVEL MFLAGS
if ! command -v cmark-gfm >/dev/null 2>&1; then
    not_ok "cmark-gfm is installed (renders the man pages)" \
        "run 'sh scripts/bootstrap.sh test'"
    bw_done
fi
# -o all: install what make test built, do not rebuild it here
check "make install PREFIX=/usr DESTDIR=..." \
    make --no-print-directory -o all install PREFIX=/usr DESTDIR="$dest" ||
    bw_done

bin=$dest/usr/bin/bellwether
if [ -x "$bin" ]; then
    ok "the binary is installed in PREFIX/bin"
else
    not_ok "the binary is installed in PREFIX/bin" "$(find "$dest" | head)"
fi
expect_exit 0 "the installed binary runs" "$bin" --version
expect_grep "the installed binary is this version" '^bellwether [0-9]' \
    "$BW_OUT"

for md in docs/*.[0-9].md; do
    [ -f "$md" ] || continue
    page=$(basename "$md" .md)
    sec=${page##*.}
    f=$dest/usr/share/man/man$sec/$page
    if [ -s "$f" ]; then
        ok "man page $page is installed in man$sec"
    else
        not_ok "man page $page is installed in man$sec"
        continue
    fi
    expect_grep "$page starts with a .TH line" '^\.TH "' "$f"
    expect_grep "$page has a NAME section" '^NAME$|^\.SH NAME' "$f"
    expect_grep "$page is roff (cmark-gfm -t man), not Markdown" '^\.SH' "$f"
    expect_no_grep "$page has no Markdown headings left" '^#+ ' "$f"
    if command -v groff >/dev/null 2>&1; then
        check "$page renders with groff" groff -man -Tutf8 -ww -z "$f"
    fi
done

n=0
for f in contrib/*; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    if cmp -s "$f" "$dest/usr/share/doc/bellwether/examples/$(basename "$f")"
    then
        ok "contrib file $(basename "$f") is installed as an example"
    else
        not_ok "contrib file $(basename "$f") is installed as an example"
    fi
done
[ "$n" = 0 ] && skip "contrib files installed" "contrib/ is empty so far"

for f in contrib/*.service contrib/*.timer; do
    [ -f "$f" ] || continue
    u="$dest/usr/lib/systemd/system/$(basename "$f")"
    if [ -f "$u" ] && ! grep -q /usr/local/bin "$u"; then
        ok "unit $(basename "$f") is installed, ExecStart in PREFIX/bin"
    else
        not_ok "unit $(basename "$f") is installed, ExecStart in PREFIX/bin"
    fi
done
expect_grep "the daemon unit runs the installed binary" \
    '^ExecStart=/usr/bin/bellwether ' "$dest/usr/lib/systemd/system/bellwether.service"

outside=$(find "$dest" -mindepth 1 -maxdepth 1 ! -name usr)
if [ -z "$outside" ]; then
    ok "nothing is installed outside PREFIX"
else
    not_ok "nothing is installed outside PREFIX" "$outside"
fi
bw_done
