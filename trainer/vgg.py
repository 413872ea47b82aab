"""VGG19 feature extractor for the perceptual, style and ID-MRF losses.

ImageNet weights cannot be downloaded at run time, so the user passes torchvision's `vgg19-*.pth` file
(`--vgg-weights`). The layer indices reproduce torchvision's `features` Sequential so that file's
`features.N.weight` keys load as they are (weights_only=True, no code executed)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from inpaint_studio.core.errors import CheckpointError

# (out_channels per conv) per block; "M" = 2×2 max-pool. VGG19 configuration "E".
_CFG: list[int | str] = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
                         512, 512, 512, 512, "M"]
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def _layer_names() -> dict[str, int]:
    """Map 'relu3_2' → index of that ReLU in `features`."""
    names: dict[str, int] = {}
    idx, block, conv = 0, 1, 0
    for v in _CFG:
        if v == "M":
            idx += 1
            block, conv = block + 1, 0
        else:
            conv += 1
            names[f"relu{block}_{conv}"] = idx + 1
            idx += 2
    return names


LAYERS = _layer_names()


class VGG19Features(nn.Module):
    """Frozen VGG19 trunk; `forward(x, layers)` takes RGB in [0, 1] and returns the named ReLU outputs."""

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 3
        for v in _CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(c_in, int(v), 3, padding=1), nn.ReLU(inplace=False)]
                c_in = int(v)
        self.features = nn.Sequential(*layers)
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> VGG19Features:
        return super().train(False)  # always frozen

    def forward(self, x: Tensor, layers: list[str]) -> list[Tensor]:
        wanted = {LAYERS[name]: name for name in layers}
        last = max(wanted)
        found: dict[str, Tensor] = {}
        h = (x - self.mean) / self.std
        for i, module in enumerate(self.features):
            h = module(h)
            if i in wanted:
                found[wanted[i]] = h
            if i == last:
                break
        return [found[name] for name in layers]


def load_vgg19(path: Path) -> VGG19Features:
    """Load torchvision's vgg19 ImageNet file (its `features.*` keys; the classifier is ignored)."""
    from inpaint_studio.engine.importer import load_weights_only

    state = load_weights_only(path, "VGG19 weights")
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    features = {k: v for k, v in state.items() if isinstance(k, str) and k.startswith("features.")}
    model = VGG19Features()
    expected = model.state_dict()
    if set(features) != set(expected):
        raise CheckpointError(f"{path} is not a torchvision VGG19 file (features.* keys do not match)")
    for k, v in features.items():
        if v.shape != expected[k].shape:
            raise CheckpointError(f"{path}: {k} has shape {tuple(v.shape)}, VGG19 needs {tuple(expected[k].shape)}")
    model.load_state_dict(features)
    return model
