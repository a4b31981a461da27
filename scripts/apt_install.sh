#!/bin/sh
# Installs Debian packages for the project's own setup scripts (ensure_chromium.sh,
# ensure_java.sh): `sh scripts/apt_install.sh <what> <package>...`. Through apt-get only, as root
# or with password-less sudo; waits for another dpkg user (a parallel test worker running a
# setup script) rather than failing, and refreshes the package lists once if the first try
# fails (a fresh machine may have none). Exit status 1 with the reason on stderr otherwise.
set -eu

what="$1"
shift
if ! command -v apt-get >/dev/null 2>&1; then
    echo "$what: there is no apt-get to install $*" >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    as_root=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root="sudo -n"
else
    echo "$what: installing $* needs root (run: sudo apt-get install -y $*)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_install() {
    $as_root apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "$@"
}
echo "$what: installing Debian's $* ..." >&2
if ! apt_install "$@" >/dev/null 2>&1; then
    $as_root apt-get -o DPkg::Lock::Timeout=600 update >/dev/null 2>&1 || true
    if ! apt_install "$@" >/dev/null; then
        echo "$what: apt-get could not install $*" >&2
        exit 1
    fi
fi
