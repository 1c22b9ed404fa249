#!/bin/sh
# Builds the runtime's unit tests with ThreadSanitizer (there is no CMake
# switch for it) and runs them.  Usage, from the repository root:
#   sh tests/runtime/tsan.sh [OUT_DIR]
set -eu
root=$(pwd)
out=${1:-${TMPDIR:-/tmp}/mlcrt-tsan}
mkdir -p "$out"
for t in pool model session; do
  ${CC:-gcc} -std=c11 -D_GNU_SOURCE -fsanitize=thread -g -O1 \
    -I"$root" -I"$root/include" -I"$root/tests" \
    -DMLC_SOURCE_DIR="\"$root\"" -DMLC_BUILD_DIR="\"$root/build\"" \
    -DMLC_TEST_DATA_DIR="\"$root/tests/data\"" \
    "$root"/runtime/*.c "$root/tests/runtime/test_$t.c" \
    -o "$out/test_$t" -lcmocka -lpthread -ldl
  TSAN_OPTIONS="halt_on_error=1 suppressions=$root/tests/runtime/tsan.supp" \
    "$out/test_$t"
done
echo "tsan: all runtime tests passed"
