"""TorchScript models (and files that are not) for the torch backend's tests,
with PyTorch float64 references, written into one folder:

  small_cnn.pt      traced conv-bn-relu-pool x2 + linear, [3, 32, 32] -> [1, 10]
  extractor.pt      create_feature_extractor of the same net: dict {"mid", "out"}
  scripted.pt       torch.jit.script, control flow, returns a tuple (map, vector)
  float64.pt        returns float64 (the backend converts)
  throws.pt         raises in forward when an input value exceeds 0.5
  state_dict.pt     torch.save(model.state_dict()): a checkpoint, not TorchScript
  eager.pth         torch.save(model): a pickled eager model
  not_zip.pt        text
  input.png         a 32x32 RGB image with values in [0, 0.5] (image.decode's
                    [3, 32, 32] in [0, 1]), the input of every reference
  bright.png        the same with one value 0.9 (throws.pt fails on it)
  ref_<name>.npy    float64 outputs of each model's float64 copy on input.png

No downloads: weights=None-style random init, seeded, plus a perturbation of
the batch-norm statistics so that folding them is exercised.
Usage: make_torch_models.py OUT_DIR
"""
import sys
from pathlib import Path
from typing import Tuple

import numpy as np
import torch
from PIL import Image
from torch import nn
from torchvision.models.feature_extraction import create_feature_extractor

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
torch.manual_seed(14)


class SmallCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.AdaptiveAvgPool2d(4))
        self.fc = nn.Linear(16 * 16, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


class Scripted(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        y = self.conv(x)
        for _ in range(2):  # a loop tracing would unroll
            if bool(y.mean() > 0):
                y = torch.relu(y)
            else:
                y = y * 0.5 + 0.1
        return y, y.mean(dim=(2, 3))


class Float64Out(nn.Module):
    def forward(self, x):
        return x.double().mean(dim=1) * 3.0


class Throws(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if bool(x.max() > 0.5):
            raise RuntimeError("featpipe test: input value above 0.5")
        return x * 2.0


def perturbed(m):
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.2, 0.2)
            mod.running_var.uniform_(0.5, 1.5)
            mod.weight.data.uniform_(0.5, 1.5)
            mod.bias.data.uniform_(-0.1, 0.1)
    return m.eval()


pixels = torch.randint(0, 128, (32, 32, 3), dtype=torch.uint8)
Image.fromarray(pixels.numpy(), "RGB").save(out / "input.png")
bright = pixels.clone()
bright[5, 7, 1] = 230
Image.fromarray(bright.numpy(), "RGB").save(out / "bright.png")
# As image.decode gives it: [channel, height, width], value / 255.
x = (pixels.permute(2, 0, 1).double() / 255.0).unsqueeze(0).float()


def ref(name, model):
    """float64 copy of `model` on the float64 input: the reference."""
    with torch.no_grad():
        y = model.double()((pixels.permute(2, 0, 1).double() / 255.0).unsqueeze(0))
    if isinstance(y, dict):
        for k, v in y.items():
            np.save(out / f"ref_{name}_{k}.npy", v[0].numpy())
    elif isinstance(y, tuple):
        for k, v in enumerate(y):
            np.save(out / f"ref_{name}_{k}.npy", v[0].numpy())
    else:
        np.save(out / f"ref_{name}.npy", y[0].numpy())


with torch.no_grad():
    cnn = perturbed(SmallCnn())
    torch.jit.save(torch.jit.trace(cnn, x), out / "small_cnn.pt")
    torch.save(cnn.state_dict(), out / "state_dict.pt")
    torch.save(cnn, out / "eager.pth")
    ref("small_cnn", cnn)

    cnn2 = perturbed(SmallCnn())
    ext = create_feature_extractor(cnn2, return_nodes={"features.6": "mid", "fc": "out"}).eval()
    torch.jit.save(torch.jit.trace(ext, x, strict=False), out / "extractor.pt")
    ref("extractor", ext)

    scripted = Scripted().eval()
    torch.jit.save(torch.jit.script(scripted), out / "scripted.pt")
    ref("scripted", scripted)

    torch.jit.save(torch.jit.script(Float64Out()), out / "float64.pt")
    ref("float64", Float64Out())
    torch.jit.save(torch.jit.script(Throws()), out / "throws.pt")

(out / "not_zip.pt").write_text("this is not a model\n")
print("torch models in", out)
