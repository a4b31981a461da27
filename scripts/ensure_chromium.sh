#!/bin/sh
# Makes sure the system Chromium that the report's browser tests drive is installed: Debian's
# `chromium` package at /usr/bin/chromium (override with MICROFUNNEL_CHROMIUM). Idempotent: does
# nothing when it is there already. Installs through apt-get only (scripts/apt_install.sh); never
# downloads a browser build of its own (no `playwright install`).
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
sh "$(dirname "$0")/apt_install.sh" ensure_chromium chromium fonts-liberation || {
    echo "ensure_chromium: install a Chromium and set MICROFUNNEL_CHROMIUM to its path" >&2
    exit 1
}
if [ ! -x "$CHROMIUM" ]; then
    echo "ensure_chromium: chromium installed but $CHROMIUM is missing" >&2
    exit 1
fi
echo "ensure_chromium: $("$CHROMIUM" --version 2>/dev/null || echo chromium) installed" >&2
