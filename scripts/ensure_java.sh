#!/bin/sh
# Makes sure a Java runtime for the `spark` dbt target (pyspark starts a JVM) is installed:
# Debian's `openjdk-17-jre-headless` (17 is the release pyspark 4 supports that Debian offers).
# Idempotent: does nothing when `java` (or $JAVA_HOME/bin/java) is there already. Installs
# through apt-get only (scripts/apt_install.sh); never downloads a JDK of its own.
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
sh "$(dirname "$0")/apt_install.sh" ensure_java openjdk-17-jre-headless || {
    echo "ensure_java: install a Java 17 runtime and set JAVA_HOME" >&2
    exit 1
}
if ! command -v java >/dev/null 2>&1; then
    echo "ensure_java: openjdk-17-jre-headless installed but java is not on PATH" >&2
    exit 1
fi
echo "ensure_java: $(java -version 2>&1 | head -n 1) installed" >&2
