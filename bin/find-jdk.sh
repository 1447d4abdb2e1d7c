# Sourced by ./mixlab and ./test: sets JAVA_HOME to a JDK (or runtime) of version 25 or newer.
# Order: $JAVA_HOME, Temurin 25's usual place, any /usr/lib/jvm/*25*, java on PATH, ./.jre (GPU machine).
java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p'; }
mixlab_find_jdk() {
  local c
  for c in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*-25* /usr/lib/jvm/*25* \
           "$(dirname "$(dirname "$(readlink -f "$(command -v java 2>/dev/null || echo /nonexistent)")")")" \
           "$MIXLAB_HOME/.jre"; do
    [ -n "$c" ] && [ -x "$c/bin/java" ] || continue
    local v; v=$(java_major "$c")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then export JAVA_HOME="$c"; return 0; fi
  done
  echo "mixlab: no Java 25 found; install a JDK 25 (e.g. Temurin 25) or set JAVA_HOME to one" >&2
  return 1
}
