#!/usr/bin/env bash
# Installs what is missing, builds mlc, and runs the whole test suite with
# CTest (unit tests, ONNX node conformance, end-to-end models).  Exits
# nonzero when a test fails.  Extra arguments go to ctest, e.g.
#   scripts/test.sh -L unit        scripts/test.sh -R e2e_
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
