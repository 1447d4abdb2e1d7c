#!/usr/bin/env bash
# The CUDA parity suite, for the GPU machine: every op case of CpuKernelsTest on CUDA against the
# float64 reference, the PyTorch goldens on CUDA, and whole CPU-vs-CUDA training steps.
# Needs the built jar in target/ (./mixlab builds it), target/test-classes (mvn test-compile) and
# the JUnit console launcher in target/junit (mvn dependency:copy, see docs/cuda.md).
set -euo pipefail
cd "$(dirname "$0")/.."
export MIXLAB_HOME=$PWD
. bin/find-jdk.sh
mixlab_find_jdk
CP="target/mixlab.jar:target/lib/*:target/test-classes"
exec "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Dmixlab.cuda.fp32=true ${MIXLAB_JAVA_OPTS:-} \
  -jar target/junit/junit-platform-console-standalone-*.jar execute --disable-banner --details=tree \
  -cp "$CP" --select-class dev.mixlab.backend.cpu.CudaParityTest --select-class dev.mixlab.train.CudaTrainingParityTest "$@"
