#!/bin/sh
# Makes sure a Java runtime for the `spark` dbt target (pyspark starts a JVM) is installed:
# Debian's `openjdk-17-jre-headless` (17 is the release pyspark 4 supports that Debian offers).
# Idempotent: does nothing when `java` (or $JAVA_HOME/bin/java) is there already. Installs
# through apt-get only (as root, or with password-less sudo); never downloads a JDK of its own.
#
# Exit status: 0 when Java is there afterwards; 1 with the reason on stderr otherwise (the Spark
# tests then skip with that reason).
set -eu

if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    exit 0
fi
if command -v java >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_java: java is missing and there is no apt-get to install it" \
        "(install a Java 17 runtime and set JAVA_HOME)" >&2
    exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root="sudo -n"
else
    echo "ensure_java: java is missing; installing it needs root" \
        "(run: sudo apt-get install -y openjdk-17-jre-headless)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Another process may hold the dpkg lock: wait for it rather than fail.
apt_install() {
    $as_root apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends \
        openjdk-17-jre-headless
}
echo "ensure_java: installing Debian's openjdk-17-jre-headless package ..." >&2
if ! apt_install >/dev/null 2>&1; then
    # A fresh machine may have no package lists yet.
    $as_root apt-get -o DPkg::Lock::Timeout=600 update >/dev/null 2>&1 || true
    if ! apt_install >/dev/null; then
        echo "ensure_java: apt-get could not install openjdk-17-jre-headless" >&2
        exit 1
    fi
fi
if ! command -v java >/dev/null 2>&1; then
    echo "ensure_java: openjdk-17-jre-headless installed but java is not on PATH" >&2
    exit 1
fi
echo "ensure_java: $(java -version 2>&1 | head -n 1) installed" >&2
