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
py=build/venv/bin/python
"$py" -c 'import numpy as np; np.save("build/digits/image0.npy", np.load("examples/digits/test_images.npy")[:1])'
build/tools/mlc run build/digits/digits.so --input image=build/digits/image0.npy \
  --output-dir build/digits/out
"$py" -c 'import numpy as np
logits = np.load("build/digits/out/logits.npy")
label = int(np.load("examples/digits/test_labels.npy")[0])
print(f"image 0: predicted {int(logits.argmax())}, label {label}; logits in build/digits/out/logits.npy")'
