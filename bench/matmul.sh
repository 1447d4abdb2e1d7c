#!/usr/bin/env bash
# Builds the JMH module and runs mixlab's MatMul against OpenBLAS (cblas_sgemm via FFM) at the
# linear-layer shapes, printing a GFLOP/s table. Extra arguments go to JMH, e.g.
#   bench/matmul.sh -p shape=4096x512x1536 -p layout=fwd
set -euo pipefail
cd "$(dirname "$0")"
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
THREADS=${THREADS:-2}
mvn -q -f pom.xml package -DskipTests
# (-jvmArgsAppend on the command line replaces the @Fork annotation's, so it repeats the module flags.)
# Both sides use the same number of threads: mixlab's pool and OpenBLAS's.
export OPENBLAS_NUM_THREADS=$THREADS
exec "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  -Dmixlab.threads="$THREADS" -Dbench.threads="$THREADS" \
  -cp "target/classes:target/lib/*" dev.mixlab.bench.BenchMain \
  -jvmArgsAppend "--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Dmixlab.threads=$THREADS -Dbench.threads=$THREADS" "$@"
