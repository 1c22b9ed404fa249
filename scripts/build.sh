#!/usr/bin/env bash
# Configures and builds mlc into build/ (warnings are errors), including the
# test venv build/venv.  Shared by quickstart.sh and test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
cmake -S . -B build -DMLC_WERROR=ON
cmake --build build -j"$jobs"
