#!/bin/sh
# Makes sure the system Chromium that the report's browser tests drive is installed: Debian's
# `chromium` package at /usr/bin/chromium (override with MICROFUNNEL_CHROMIUM). Idempotent: does
# nothing when it is there already. Installs through apt-get only (as root, or with password-less
# sudo); never downloads a browser build of its own (no `playwright install`).
#
# Exit status: 0 when the browser is there afterwards; 1 with the reason on stderr otherwise
# (the tests then skip with that reason).
set -eu

CHROMIUM="${MICROFUNNEL_CHROMIUM:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if [ "$CHROMIUM" != /usr/bin/chromium ]; then
    echo "ensure_chromium: $CHROMIUM (MICROFUNNEL_CHROMIUM) is not an executable file" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_chromium: /usr/bin/chromium is missing and there is no apt-get to install it" \
        "(install a Chromium and set MICROFUNNEL_CHROMIUM to its path)" >&2
    exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root="sudo -n"
else
    echo "ensure_chromium: /usr/bin/chromium is missing; installing it needs root" \
        "(run: sudo apt-get install -y chromium)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Another process may hold the dpkg lock (e.g. a parallel test worker running this script):
# wait for it rather than fail.
apt_install() {
    $as_root apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends \
        chromium fonts-liberation
}
echo "ensure_chromium: installing Debian's chromium package ..." >&2
if ! apt_install >/dev/null 2>&1; then
    # A fresh machine may have no package lists yet.
    $as_root apt-get -o DPkg::Lock::Timeout=600 update >/dev/null 2>&1 || true
    if ! apt_install >/dev/null; then
        echo "ensure_chromium: apt-get could not install chromium" >&2
        exit 1
    fi
fi
if [ ! -x "$CHROMIUM" ]; then
    echo "ensure_chromium: chromium installed but $CHROMIUM is missing" >&2
    exit 1
fi
echo "ensure_chromium: $("$CHROMIUM" --version 2>/dev/null || echo chromium) installed" >&2
