#!/bin/sh
# Installs the build in BUILD_DIR into a temporary prefix, then builds and
# runs a consumer with find_package(mlc) (shared and static runtime) and
# with pkg-config (shared and static).  Usage: check.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mlc-install-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cc=${CC:-cc}

# The whole install when the compiler was built, else the runtime alone.
if [ -x "$build/tools/mlc" ]; then
  cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
  test -x "$tmp/prefix/bin/mlc"
else
  echo "no $build/tools/mlc: installing the runtime component only"
  cmake --install "$build" --prefix "$tmp/prefix" --component runtime \
    >/dev/null
fi
test -f "$tmp/prefix/include/mlc/mlcrt.h"
test -f "$tmp/prefix/include/mlc/model_abi.h"

cmake -S "$here" -B "$tmp/cmake" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  >"$tmp/configure.log"
if [ -x "$tmp/prefix/bin/mlc" ]; then  # MLC_EXECUTABLE must point at it
  grep -q "; mlc: $tmp/prefix/bin/mlc\$" "$tmp/configure.log"
fi
cmake --build "$tmp/cmake" >/dev/null
"$tmp/cmake/consumer_shared"
"$tmp/cmake/consumer_static"
ldd "$tmp/cmake/consumer_shared" | grep -q "$tmp/prefix/lib.*libmlcrt.so"

pc=$(find "$tmp/prefix" -name mlcrt.pc)
export PKG_CONFIG_PATH=$(dirname "$pc")
test "$(pkg-config --modversion mlcrt)" = 0.1.0
# As docs/c-api.md shows it: with an rpath, so no LD_LIBRARY_PATH.
$cc "$here/consumer.c" -o "$tmp/pc_shared" $(pkg-config --cflags --libs mlcrt) \
   -Wl,-rpath,"$(pkg-config --variable=libdir mlcrt)"
env -u LD_LIBRARY_PATH "$tmp/pc_shared"
$cc "$here/consumer.c" -o "$tmp/pc_static" -static-libgcc \
    $(pkg-config --cflags mlcrt) \
    "$(pkg-config --variable=libdir mlcrt)/libmlcrt.a" \
    $(pkg-config --libs-only-other --static mlcrt) -lpthread -ldl
"$tmp/pc_static"
echo "install check passed"
