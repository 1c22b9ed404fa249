#!/usr/bin/env bash
# The quick start: installs what is missing, builds mlc, compiles the
# bundled digit classifier (examples/digits/digits.onnx) to a shared
# library, runs the embedding example on the 360 held-out images (it prints
# the accuracy), and runs the model once with `mlc run` on one image.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
bash scripts/build.sh

mkdir -p build/digits
echo "== mlc compile examples/digits/digits.onnx -o build/digits/digits.so"
build/tools/mlc compile examples/digits/digits.onnx -o build/digits/digits.so

echo "== embedding example on the held-out images"
build/examples/embed/embed build/digits/digits.so \
  examples/digits/test_images.npy examples/digits/test_labels.npy

echo "== mlc run on the first held-out image"
build/venv/bin/python - <<'PY'
import numpy as np
from onnx import numpy_helper
x = np.load("examples/digits/test_images.npy")[:1]
y = int(np.load("examples/digits/test_labels.npy")[0])
with open("build/digits/image0.pb", "wb") as f:
    f.write(numpy_helper.from_array(x, name="image").SerializeToString())
print(f"image 0 (label {y}) written to build/digits/image0.pb")
PY
build/tools/mlc run build/digits/digits.so --input image=build/digits/image0.pb
