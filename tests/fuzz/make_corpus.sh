#!/bin/sh
# Builds the seed corpora for the fuzzers under DEST (default
# build-fuzz/corpus): up to COUNT (default 300) of the smallest model.onnx
# files of the ONNX node suite, their input_0.pb tensors, examples/digits,
# and the committed seeds for the graph text parser and the npy reader.
# Nothing here is committed: the corpora are rebuilt at fuzz time.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
suite=${NODE_TESTS:-$here/../../../shared/onnx-node-tests}
dest=${1:-build-fuzz/corpus}
count=${COUNT:-300}
mkdir -p "$dest/onnx" "$dest/tensor" "$dest/graph" "$dest/npy"
if [ -d "$suite" ]; then
  # Smallest models first: quick to mutate, and they cover most ops.
  find "$suite" -name model.onnx -size -8k -printf '%s %p\n' | sort -n |
    head -n "$count" | while read -r _ path; do
      name=$(basename "$(dirname "$path")")
      cp "$path" "$dest/onnx/$name.onnx"
      pb=$(dirname "$path")/test_data_set_0/input_0.pb
      [ -f "$pb" ] && cp "$pb" "$dest/tensor/$name.pb"
    done
else
  echo "note: $suite not found; onnx and tensor corpora start empty" >&2
fi
cp "$here/../../examples/digits/digits.onnx" "$dest/onnx/"
cp "$here/seeds/graph/"* "$dest/graph/"
cp "$here/seeds/npy/"* "$dest/npy/"
for d in onnx tensor graph npy; do
  echo "$dest/$d: $(ls "$dest/$d" | wc -l) files"
done
