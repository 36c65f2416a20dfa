#!/bin/sh
# checksrc.sh - the style checker behind `make checksrc` (STYLE.md item 21).
#
#   sh scripts/checksrc.sh           check, print TAP-like "ok - ..." lines
#   sh scripts/checksrc.sh --fix     rewrite the files with clang-format
#
# Three checks over every C file under src/ collectors/ reports/ include/
# tests/unit/ tests/fuzz/ bench/:
#   clang-format   clang-format-14 --dry-run --Werror with .clang-format
#   banned calls   sprintf( strcpy( strcat( strtok( atoi( gets( anywhere; raw
#                  malloc( calloc( realloc( free( outside src/mem.c and tests/
#   braces         if/else/for/while/do always take a { block (clang-format
#                  14 has no InsertBraces, so an awk pass checks it)
# The awk pass strips comments and string literals first, so a comment that
# says "never sprintf()" is fine. It takes well under a second.
set -u
cd "$(dirname "$0")/.." || exit 2

CLANG_FORMAT=${CLANG_FORMAT:-clang-format-14}
if ! command -v "$CLANG_FORMAT" >/dev/null 2>&1; then
    if command -v clang-format >/dev/null 2>&1; then
        CLANG_FORMAT=clang-format
    else
        echo "error: clang-format-14 not found; run 'sh scripts/bootstrap.sh test'" >&2
        exit 2
    fi
fi

files=$(find src collectors reports include tests/unit tests/fuzz bench \
    -type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null | LC_ALL=C sort)
if [ -z "$files" ]; then
    echo "ok - checksrc: no C files"
    exit 0
fi

if [ "${1:-}" = "--fix" ]; then
    # shellcheck disable=SC2086
    exec "$CLANG_FORMAT" -i --style=file $files
fi

failed=0
tmp=$(mktemp) || exit 2
trap 'rm -f "$tmp"' EXIT

# shellcheck disable=SC2086
if "$CLANG_FORMAT" --dry-run --Werror --style=file $files >"$tmp" 2>&1; then
    echo "ok - clang-format"
else
    bad=$(grep -o '^[^:]*\.[ch]:[0-9]*' "$tmp" | cut -d: -f1 | sort -u)
    echo "not ok - clang-format"
    for f in $bad; do
        echo "#   $f: not formatted (first: $(grep -m1 "^$f:" "$tmp" |
            cut -d: -f2))"
    done
    echo "#   fix with 'make format' (clang-format-14 -i)"
    failed=1
fi

# shellcheck disable=SC2086
awk '
function report(kind, msg) {
    printf "%s:%d: %s: %s\n", FILENAME, FNR, kind, msg
    nbad[kind]++
}
# Comments and literals out, code kept; in_comment carries across lines.
function strip(line,    out, i, n, c, d, q) {
    out = ""
    n = length(line)
    i = 1
    while (i <= n) {
        c = substr(line, i, 1)
        d = substr(line, i, 2)
        if (in_comment) {
            if (d == "*/") {
                in_comment = 0
                i += 2
                out = out " "
                continue
            }
            i++
            continue
        }
        if (d == "/*") {
            in_comment = 1
            i += 2
            continue
        }
        if (d == "//") {
            break
        }
        if (c == "\"" || c == "\047") {
            q = c
            out = out q
            i++
            while (i <= n) {
                c = substr(line, i, 1)
                if (c == "\\") {
                    i += 2
                    continue
                }
                i++
                if (c == q) {
                    break
                }
            }
            out = out q
            continue
        }
        out = out c
        i++
    }
    return out
}
FNR == 1 {
    in_comment = 0
    in_macro = 0
    header = 0
    raw_ok = (FILENAME == "src/mem.c" || FILENAME ~ /^tests\//)
}
{
    code = strip($0)
    if (code ~ /(^|[^A-Za-z0-9_])(sprintf|strcpy|strcat|strtok|atoi|gets)[ \t]*\(/) {
        report("banned", "use snprintf/bw_buf, memcpy, strtok_r, strtol, fgets")
    }
    if (!raw_ok && code ~ /(^|[^A-Za-z0-9_.>])(malloc|calloc|realloc|free)[ \t]*\(/) {
        report("raw-alloc", "use bw_malloc/bw_calloc/bw_realloc/bw_free (mem.h)")
    }
    t = code
    sub(/^[ \t]+/, "", t)
    sub(/[ \t]+$/, "", t)
    if (in_macro || t ~ /^#/) {
        in_macro = (t ~ /\\$/)
        next
    }
    if (header) {
        rest = t
    } else if (t ~ /^(\}[ \t]*)?(else[ \t]+)?(if|for|while|switch)[ \t]*\(/) {
        header = 1
        depth = 0
        dowhile = (t ~ /^\}[ \t]*while/)
        hline = FNR
        rest = t
        sub(/^[^(]*/, "", rest)
    } else {
        if (t ~ /^(\}[ \t]*)?else([ \t]|$)/ && t !~ /^(\}[ \t]*)?else[ \t]*(\{|if[ \t]*\()/) {
            report("braces", "else without a { block")
        }
        if (t ~ /^do([ \t]|$)/ && t !~ /^do[ \t]*\{/) {
            report("braces", "do without a { block")
        }
        next
    }
    # inside a control header: find the parenthesis that closes it
    n = length(rest)
    for (i = 1; i <= n; i++) {
        c = substr(rest, i, 1)
        if (c == "(") {
            depth++
        } else if (c == ")") {
            depth--
            if (depth == 0) {
                after = substr(rest, i + 1)
                sub(/^[ \t]+/, "", after)
                header = 0
                if (after ~ /^\{/ || (dowhile && after ~ /^;/)) {
                    next
                }
                report("braces", "statement without a { block (if/for/while at line " hline ")")
                next
            }
        }
    }
}
END {
    for (k in nbad) {
        total += nbad[k]
    }
    exit (total > 0)
}
' $files >"$tmp" 2>&1
awk_rc=$?
for kind in banned raw-alloc braces; do
    case $kind in
    banned) name="banned calls" ;;
    raw-alloc) name="no raw allocation outside src/mem.c and tests/" ;;
    braces) name="braces always" ;;
    esac
    if grep -q ": $kind: " "$tmp"; then
        echo "not ok - $name"
        grep ": $kind: " "$tmp" | sed 's/^/#   /'
        failed=1
    else
        echo "ok - $name"
    fi
done
if [ "$awk_rc" -gt 1 ]; then
    echo "not ok - checksrc awk pass ran"
    sed 's/^/#   /' "$tmp"
    failed=1
fi
exit $failed
