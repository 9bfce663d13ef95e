"""Small torch models exported with torch.onnx.export's defaults (opset 14
on Debian's torch 1.13), each needing one of onnx_normalize's rewrites
before OpenCV DNN 4.6 imports or runs it, written to OUT_DIR as NAME.onnx
with NAME_x.npy (the input) and NAME_ref.npy (PyTorch in float64):

  relu6              Clip with min/max as inputs (ReLU6 at opset >= 11)
  class_token        a ViT-like encoder: Expand of the class token,
                     attention (its in-projection sliced at sizes read
                     with Shape), LayerNorm and biases on [1, T, D]
  layer_norm_1x1     convnext's classifier: LayerNorm on the last axis of
                     [1, 1, 1, C] (a Div by a [1, 1, 1, 1] tensor)
  layer_norm_hwc     convnext's block: LayerNorm and Linear on [1, H, W, C],
                     exported at 8x8, its input and reference at 12x12
                     (normalized for the size it runs at)
  dropout_p0         F.dropout(p=0.0) as written in a forward (training=True
                     by default: Dropout with a BOOL training_mode input)
  pad_default_value  F.pad with its default value (Pad's third input "")
  shifted_windows    swin's shifted window attention at 24x24 (4 windows of
                     4x4 tokens): its pad sizes, window shapes and attention
                     mask are Shape/Mod/Range/ScatterND/Where chains many
                     steps deep, and its biases are added on a leading axis
                     of 4 windows
  einsum_attention   maxvit's attention products as einsum ("B G H I D,
                     B G H J D -> B G H I J", then "... I J, ... J D ->
                     ... I D"), with Linear biases on [1, G, H, I, D]
  layer_norm_flat    maxvit's classifier: LayerNorm on a flattened [1, C]
                     (Sub and Div of [1, C] and [1, 1])
  mobilenet_v2       torchvision's, untrained (equal BatchNorm parameters
                     exported once, then Identity nodes) at 64x64
  mobilenet_v2_perturbed  the same with every parameter distinct

usage: make_normalize_models.py OUT_DIR [NAME...]   (all when none named)
"""
import sys
import warnings

import numpy as np
import torch
import torchvision

warnings.filterwarnings("ignore")


class Relu6(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)
        self.act = torch.nn.ReLU6()

    def forward(self, x):
        return self.act(self.conv(x) * 4)


class ClassToken(torch.nn.Module):
    def __init__(self, dim=8, patch=4, tokens=16):
        super().__init__()
        self.patch = torch.nn.Conv2d(3, dim, patch, patch)
        self.class_token = torch.nn.Parameter(torch.randn(1, 1, dim))
        self.pos = torch.nn.Parameter(torch.randn(1, tokens + 1, dim))
        self.attn = torch.nn.MultiheadAttention(dim, 2, batch_first=True)
        self.norm = torch.nn.LayerNorm(dim)
        self.head = torch.nn.Linear(dim, 5)

    def forward(self, x):
        n = x.shape[0]
        t = self.patch(x).reshape(n, self.patch.out_channels, -1).permute(0, 2, 1)
        t = torch.cat([self.class_token.expand(n, -1, -1), t], dim=1) + self.pos
        t = t + self.attn(t, t, t, need_weights=False)[0]
        return self.head(self.norm(t)[:, 0])


class LayerNorm1x1(torch.nn.Module):
    def __init__(self, c=6):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, c, 3)
        self.pool = torch.nn.AdaptiveAvgPool2d(1)
        self.norm = torch.nn.LayerNorm(c, eps=1e-6)
        self.head = torch.nn.Linear(c, 3)

    def forward(self, x):
        y = self.pool(self.conv(x)).permute(0, 2, 3, 1)
        return self.head(torch.flatten(self.norm(y).permute(0, 3, 1, 2), 1))


class LayerNormHwc(torch.nn.Module):
    def __init__(self, c=6):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, c, 3, padding=1)
        self.norm = torch.nn.LayerNorm(c, eps=1e-6)
        self.linear = torch.nn.Linear(c, c)
        self.pool = torch.nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        y = self.linear(self.norm(self.conv(x).permute(0, 2, 3, 1)))
        return torch.flatten(self.pool(y.permute(0, 3, 1, 2)), 1)


class DropoutP0(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)

    def forward(self, x):
        return torch.relu(torch.nn.functional.dropout(self.conv(x), p=0.0))


class PadDefaultValue(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)

    def forward(self, x):
        return torch.nn.functional.pad(self.conv(x), (1, 2, 0, 1)) * 2


class ShiftedWindows(torch.nn.Module):
    def __init__(self, dim=8):
        super().__init__()
        from torchvision.models.swin_transformer import ShiftedWindowAttention
        self.patch = torch.nn.Conv2d(3, dim, 4, 4)
        self.attn = ShiftedWindowAttention(dim, [4, 4], [2, 2], 2)

    def forward(self, x):
        t = self.patch(x).permute(0, 2, 3, 1)
        return self.attn(t).permute(0, 3, 1, 2)


class EinsumAttention(torch.nn.Module):
    def __init__(self, d=16):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, d, 2, 2)
        self.q, self.k, self.v = (torch.nn.Linear(d, d) for _ in range(3))

    def forward(self, x):
        y = self.conv(x).reshape(1, 2, 2, 4, 16)
        q, k, v = self.q(y), self.k(y), self.v(y)
        a = torch.einsum("B G H I D, B G H J D -> B G H I J", q, k).softmax(-1)
        return torch.einsum("B G H I J, B G H J D -> B G H I D", a, v)


class LayerNormFlat(torch.nn.Module):
    def __init__(self, c=6):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, c, 3)
        self.pool = torch.nn.AdaptiveAvgPool2d(1)
        self.norm = torch.nn.LayerNorm(c)
        self.head = torch.nn.Linear(c, 3)

    def forward(self, x):
        return self.head(self.norm(torch.flatten(self.pool(self.conv(x)), 1)))


def perturbed(model):
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1e-3 * torch.randn_like(p))
        for name, b in model.named_buffers():
            if b.dtype.is_floating_point:
                b.add_(1e-3 * torch.rand_like(b))
    return model


def save(out_dir, name, model, size, export_size=None):
    torch.manual_seed(1)
    model = model.eval()
    x = torch.randn(1, 3, size, size)
    export_size = export_size or size
    torch.onnx.export(model, torch.randn(1, 3, export_size, export_size), f"{out_dir}/{name}.onnx")
    with torch.no_grad():
        ref = model.double()(x.double()).numpy()
    np.save(f"{out_dir}/{name}_x.npy", x.numpy())
    np.save(f"{out_dir}/{name}_ref.npy", ref)


MODELS = {
    "relu6": (Relu6, 8, None),
    "class_token": (ClassToken, 16, None),
    "layer_norm_1x1": (lambda: perturbed(LayerNorm1x1()), 8, None),
    "layer_norm_hwc": (lambda: perturbed(LayerNormHwc()), 12, 8),
    "dropout_p0": (DropoutP0, 8, None),
    "pad_default_value": (PadDefaultValue, 8, None),
    "shifted_windows": (lambda: perturbed(ShiftedWindows()), 24, None),
    "einsum_attention": (EinsumAttention, 8, None),
    "layer_norm_flat": (lambda: perturbed(LayerNormFlat()), 8, None),
    "mobilenet_v2": (lambda: torchvision.models.mobilenet_v2(weights=None), 64, None),
    "mobilenet_v2_perturbed": (lambda: perturbed(torchvision.models.mobilenet_v2(weights=None)), 64, None),
}


def main(out_dir, names):
    for name in names or MODELS:
        make, size, export_size = MODELS[name]
        torch.manual_seed(0)
        save(out_dir, name, make(), size, export_size)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
