#!/bin/sh
# bootstrap.sh - from a fresh Debian 12 machine to a built, tested bellwether.
#
#   sh scripts/bootstrap.sh demo     install what is missing, build, run the demo
#   sh scripts/bootstrap.sh test     install what is missing, build, run the tests
#   sh scripts/bootstrap.sh build    install what is missing, build
#   sh scripts/bootstrap.sh packages PKG...   install these if missing (used
#                                    by tests/fuzz/run-fuzz.sh for clang-14)
#
# Idempotent: it asks dpkg which packages are installed and calls apt-get
# (update, then install) only for the missing ones, as root or through sudo,
# non-interactively. Nothing else on the machine is changed. The tests start
# their own redis-server on free ports and never use a system Redis (6379);
# if the redis-server package starts its service on install, that is left
# alone.
set -eu

die()
{
    echo "bootstrap: error: $*" >&2
    exit 1
}

# the build and the demo
BASE_PKGS="build-essential pkg-config libcurl4-openssl-dev libhiredis-dev
libcjson-dev libcmark-gfm-dev libcmark-gfm-extensions-dev libinih-dev
libcmocka-dev redis-server python3 python3-aiosmtpd tzdata"
# make test: style check, man pages, TLS test certificates, valgrind
TEST_PKGS="clang-format-14 clang-tidy-14 cmark-gfm openssl valgrind"

usage()
{
    echo "usage: sh scripts/bootstrap.sh demo|test|build" >&2
    exit 2
}

installed()
{
    status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
    [ "$status" = "install ok installed" ]
}

# install_missing PKG...: apt-get install only what dpkg lacks.
install_missing()
{
    missing=""
    for p in "$@"; do
        installed "$p" || missing="$missing $p"
    done
    if [ -z "$missing" ]; then
        echo "bootstrap: all $# packages are installed"
        return 0
    fi
    if [ "$(id -u)" = 0 ]; then
        sudo=""
    elif command -v sudo >/dev/null 2>&1; then
        sudo="sudo"
    else
        die "missing packages:$missing; run as root or install sudo"
    fi
    echo "bootstrap: installing:$missing"
    # shellcheck disable=SC2086
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
        die "apt-get update failed; check the network and /etc/apt/sources.list"
    # shellcheck disable=SC2086
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends $missing ||
        die "apt-get install failed for:$missing"
}

check_debian()
{
    if ! command -v dpkg-query >/dev/null 2>&1 ||
        ! command -v apt-get >/dev/null 2>&1 || [ ! -f /etc/debian_version ]; then
        die "this script needs Debian 12 (apt-get and dpkg); elsewhere install the packages listed in README.md by hand"
    fi
    if [ -r /etc/os-release ]; then
        # shellcheck disable=SC1091
        ver=$(. /etc/os-release && echo "${ID:-}:${VERSION_ID:-}")
        case $ver in
        debian:12) ;;
        *) echo "bootstrap: warning: made for Debian 12, this is '$ver'; trying anyway" >&2 ;;
        esac
    fi
}

[ $# -ge 1 ] || usage
mode=$1
shift
cd "$(dirname "$0")/.."

case $mode in
demo | build) pkgs=$BASE_PKGS ;;
test) pkgs="$BASE_PKGS $TEST_PKGS" ;;
packages)
    [ $# -ge 1 ] || usage
    check_debian
    install_missing "$@"
    exit 0
    ;;
*) usage ;;
esac

check_debian
# shellcheck disable=SC2086
install_missing $pkgs
command -v make >/dev/null 2>&1 || die "make is missing although build-essential is installed"

jobs=$(nproc 2>/dev/null || echo 2)
case $mode in
build) exec make -j"$jobs" all ;;
demo)
    make -j"$jobs" all
    exec make demo
    ;;
test)
    rm -f build/test-summary.txt
    if make -j"$jobs" test; then
        exit 0
    fi
    # make's "*** [test] Error 1" came last: end on the count line again
    if [ -f build/test-summary.txt ]; then
        cat build/test-summary.txt
    fi
    exit 1
    ;;
esac
