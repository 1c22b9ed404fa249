#!/usr/bin/python3
"""Trains the small digit classifier that mlc's examples and quick start use.

Data: scikit-learn's bundled copy of the UCI "Optical Recognition of
Handwritten Digits" test set (sklearn.datasets.load_digits: 1,797 images of
8x8 pixels with values 0..16), so nothing is downloaded.  The images are
scaled to [0, 1] (pixel / 16), split 80/20 with a fixed seed (stratified),
and a small CNN (Conv-Relu-MaxPool-Conv-Relu-Flatten-Linear) is trained
with fixed seeds on the CPU.

Writes, next to this file (or into --out-dir):
  digits.onnx        opset 13, input "image" f32[1,1,8,8], output
                     "logits" f32[1,10], static shapes
  test_images.npy    float32 [N,1,8,8], the held-out images, scaled
  test_labels.npy    int64 [N], their labels

Needs torch and scikit-learn (Debian: python3-torch, python3-sklearn); run
with /usr/bin/python3 on Debian.  When onnxruntime is importable the
exported model's held-out accuracy is checked in it too.
"""
import argparse
import os
import random
import sys

import numpy as np
import torch
from torch import nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 20241125


class DigitsNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),                              # 16 x 4 x 4
            nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.ReLU(),
        )
        self.classifier = nn.Linear(32 * 4 * 4, 10)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def load_split():
    digits = load_digits()
    images = (digits.images.astype(np.float32) / 16.0)[:, None, :, :]
    labels = digits.target.astype(np.int64)
    return train_test_split(images, labels, test_size=0.2,
                            random_state=SEED, stratify=labels)


def train(model, x, y, epochs=40):
    torch.manual_seed(SEED)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    loss_fn = nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(xt))
        for i in range(0, len(xt), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
    model.eval()


def accuracy_torch(model, x, y):
    with torch.no_grad():
        pred = model(torch.from_numpy(x)).argmax(1).numpy()
    return float((pred == y).mean())


def accuracy_ort(path, x, y):
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    pred = [int(sess.run(["logits"], {"image": x[i:i + 1]})[0].argmax())
            for i in range(len(x))]
    return float((np.array(pred) == y).mean())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--epochs", type=int, default=40)
    args = ap.parse_args()

    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)  # same float order on every machine

    x_train, x_test, y_train, y_test = load_split()
    model = DigitsNet()
    train(model, x_train, y_train, args.epochs)
    acc = accuracy_torch(model, x_test, y_test)
    print(f"held-out accuracy (torch): {acc:.4f} on {len(y_test)} images")

    os.makedirs(args.out_dir, exist_ok=True)
    onnx_path = os.path.join(args.out_dir, "digits.onnx")
    torch.onnx.export(model, torch.zeros(1, 1, 8, 8), onnx_path,
                      input_names=["image"], output_names=["logits"],
                      opset_version=13, do_constant_folding=True)
    np.save(os.path.join(args.out_dir, "test_images.npy"),
            np.ascontiguousarray(x_test, dtype=np.float32))
    np.save(os.path.join(args.out_dir, "test_labels.npy"),
            y_test.astype(np.int64))
    print(f"wrote {onnx_path}, test_images.npy, test_labels.npy")

    ort_acc = accuracy_ort(onnx_path, x_test, y_test)
    if ort_acc is not None:
        print(f"held-out accuracy (onnxruntime): {ort_acc:.4f}")
        if ort_acc < 0.95:
            print("error: accuracy below 0.95", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
