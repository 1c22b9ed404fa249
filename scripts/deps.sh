#!/usr/bin/env bash
# Installs the Debian 12 packages mlc needs to build and test, and only the
# missing ones: dpkg-query checks first, so a machine that has everything
# needs no root and no network.  Otherwise it runs `apt-get update` once and
# `apt-get install -y --no-install-recommends` on what is missing, as root or
# through sudo.  The CUDA toolkit is optional and not installed here.
# Python packages from PyPI (onnx, onnxruntime) are not installed here: the
# build puts them in build/venv (tests/python/requirements.txt).
set -euo pipefail

packages=(
  build-essential cmake pkg-config llvm-19-dev
  libprotobuf-c-dev protobuf-c-compiler libcmocka-dev libonnx-dev
  python3 python3-venv python3-pip
  python3-torch python3-torchvision python3-sklearn
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "deps: need root or sudo to install: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
