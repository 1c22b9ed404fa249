"""The models of the end-to-end tests, built with torch (random weights
from fixed seeds) and exported to ONNX with static shapes.

Each builder returns (module, example_input, opset).  Nothing is
downloaded: torchvision's constructors are called with weights=None.
"""
import math

import torch
from torch import nn

SEED = 1234


def randomize_batchnorm(module):
    """Gives every BatchNorm random statistics and affine parameters.
    Fresh ones (mean 0, variance 1, scale 1, shift 0) are nearly the
    identity, and with them MobileNetV2's logits shrink to about 1e-9 (mean
    |logit| 7e-10), where a relative comparison proves little; with these
    they are about 0.06 (ResNet-18's about 4.5), and the folded
    BatchNorms have real scales and shifts to get right."""
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.normal_(0.0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.1)
    return module


def resnet18():
    import torchvision
    torch.manual_seed(SEED)
    model = randomize_batchnorm(torchvision.models.resnet18(weights=None))
    return model, (1, 3, 224, 224), 13


def mobilenetv2():
    import torchvision
    torch.manual_seed(SEED)
    model = randomize_batchnorm(torchvision.models.mobilenet_v2(weights=None))
    return model, (1, 3, 224, 224), 13


class EncoderBlock(nn.Module):
    """A BERT-like encoder layer written out so that the exported graph
    holds plain MatMul/Add, Reshape/Transpose, Softmax, Erf-based Gelu and
    LayerNormalization (opset 17) nodes."""

    def __init__(self, d=64, heads=4, ffn=256):
        super().__init__()
        self.heads, self.dh = heads, d // heads
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln1 = nn.LayerNorm(d)
        self.ff1 = nn.Linear(d, ffn)
        self.ff2 = nn.Linear(ffn, d)
        self.ln2 = nn.LayerNorm(d)
        self.act = nn.GELU()

    def forward(self, x):
        b, s, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=-1)

        def heads(t):
            return t.reshape(b, s, self.heads, self.dh).transpose(1, 2)

        q, k, v = heads(q), heads(k), heads(v)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.dh), -1)
        ctx = (att @ v).transpose(1, 2).reshape(b, s, d)
        x = self.ln1(x + self.proj(ctx))
        return self.ln2(x + self.ff2(self.act(self.ff1(x))))


class Encoder(nn.Module):
    def __init__(self, layers=2, d=64):
        super().__init__()
        self.blocks = nn.Sequential(*[EncoderBlock(d) for _ in range(layers)])

    def forward(self, x):
        return self.blocks(x)


def transformer():
    torch.manual_seed(SEED)
    return Encoder(), (1, 16, 64), 17


BUILDERS = {
    "resnet18": resnet18,
    "mobilenetv2": mobilenetv2,
    "transformer": transformer,
}


def export(name, path):
    """Exports model `name` to `path`; returns the input shape."""
    module, shape, opset = BUILDERS[name]()
    module.eval()
    with torch.no_grad():
        torch.onnx.export(module, torch.zeros(shape), path,
                          input_names=["input"], output_names=["output"],
                          opset_version=opset, do_constant_folding=True)
    return shape
