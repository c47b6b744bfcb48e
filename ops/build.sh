#!/usr/bin/env bash
# Builds Ferry's jars (no tests) when a source is newer than the last build. See --help.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

case "${1:-}" in
  -h|--help) echo "Usage: ops/build.sh [--force]   build Ferry (mvn install, no tests) if sources changed since the last build"; exit 0 ;;
esac

stamp=$FERRY_ROOT/control-plane/target/runtime-classpath.txt
if [ "${1:-}" != "--force" ] && [ -f "$stamp" ] && \
   [ -z "$(find "$FERRY_ROOT" -path '*/target' -prune -o \( -name '*.java' -o -name 'pom.xml' -o -name '*.conf' -o -name '*.xml' \) -newer "$stamp" -print -quit)" ]; then
  exit 0
fi
ensure_java_and_maven
say "building Ferry (mvn install, tests skipped)"
(cd "$FERRY_ROOT" && mvn -B -q install -DskipTests) || die "the build failed; run 'mvn -B install -DskipTests' to see why"
touch "$stamp" # maven leaves an unchanged class path file alone: without this every run would build again
