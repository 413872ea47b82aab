"""Fake published checkpoints for tests: the exact keys and shapes of a reference manifest
(`tests/manifests/*.json`, copies of the shared reference), random values, saved with torch.save in the
published top-level layout. No real weights are needed or downloaded.

    from fake_checkpoints import write_fake_pth      # tests/ is on sys.path under pytest
    path = write_fake_pth("deepfill_v2_pytorch_finetuned", tmp_path / "states_pt_places2.pth")
    path = write_fake_pth("edgeconnect", tmp_path / "places2" / "EdgeModel_gen.pth",
                          file="EdgeModel_gen.pth", extra={"iteration": 1000})
    path = write_fake_pth("deepfill_v2_official_converted", p, files=["states_tf_places2.pth",
                          "training_checkpoint"])          # G plus the training checkpoint's D

Manifest keys read "<file>:<top-level key>/<state_dict key>" (an empty top-level key: the file is a bare state
dict, saved as one); `files` picks which files' top-level
entries go into the one saved dict (default: the manifest's first file).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch

MANIFEST_DIR = Path(__file__).resolve().parent / "manifests"


def load_manifest(name: str) -> dict[str, Any]:
    path = MANIFEST_DIR / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _split(full_key: str) -> tuple[str, str, str]:
    file_part, rest = full_key.split(":", 1)
    top, key = rest.split("/", 1)
    return file_part, top, key


def manifest_files(manifest: Mapping[str, Any]) -> list[str]:
    """File names in first-seen order (e.g. ["states_pt_places2.pth", "training_checkpoint"])."""
    seen: list[str] = []
    for k in manifest["params"]:
        f = _split(k)[0]
        if f not in seen:
            seen.append(f)
    return seen


def manifest_shapes(manifest: Mapping[str, Any], file: str | None = None) -> dict[str, dict[str, list[int]]]:
    """{top-level key: {state_dict key: shape}} for one file (default: the first)."""
    file = file or manifest_files(manifest)[0]
    out: dict[str, dict[str, list[int]]] = {}
    for full, shape in manifest["params"].items():
        f, top, key = _split(full)
        if f == file:
            out.setdefault(top, {})[key] = list(shape)
    return out


def _fake_tensor(full_key: str, key: str, shape: list[int], dtype: str, gen: torch.Generator) -> torch.Tensor:
    if dtype == "int64":
        return torch.zeros(shape, dtype=torch.int64)
    leaf = key.rsplit(".", 1)[-1]
    if leaf == "fuse_weight" and len(shape) == 4:
        return torch.eye(shape[-1]).view(shape)  # the identity the published buffer holds
    if leaf in ("weight_u", "weight_v"):
        t = torch.randn(shape, generator=gen)
        return t / t.norm()
    if leaf == "running_var":
        return torch.rand(shape, generator=gen) + 0.5
    if leaf == "running_mean":
        return torch.randn(shape, generator=gen) * 0.1
    fan_in = max(1, int(torch.tensor(shape[1:]).prod()) if len(shape) > 1 else 1)
    scale = (1.0 / fan_in) ** 0.5 if len(shape) > 1 else 0.02  # keep activations in a sane range
    return torch.randn(shape, generator=gen) * scale


def fake_published_dict(
    manifest_name: str, files: Iterable[str] | None = None, *, seed: int = 0
) -> dict[str, Any]:
    """{top-level key: state_dict} with random tensors of every listed key and shape."""
    manifest = load_manifest(manifest_name)
    wanted = list(files) if files is not None else manifest_files(manifest)[:1]
    exceptions = {k: v for k, v in (manifest.get("dtype_exceptions") or {}).items()}
    gen = torch.Generator().manual_seed(seed)
    out: dict[str, Any] = {}
    for full, shape in manifest["params"].items():
        f, top, key = _split(full)
        if f not in wanted:
            continue
        dtype = exceptions.get(full, manifest.get("default_dtype", "float32"))
        tensor = _fake_tensor(full, key, list(shape), dtype, gen)
        if top:
            out.setdefault(top, {})[key] = tensor
        else:  # "<file>:/<key>": the file is a bare state dict (DeepFill v1's gen_*.pt)
            out[key] = tensor
    if not out:
        raise KeyError(f"{manifest_name}: no params for files {wanted} (have {manifest_files(manifest)})")
    return out


def write_fake_pth(
    manifest_name: str,
    path: str | Path,
    *,
    file: str | None = None,
    files: Iterable[str] | None = None,
    extra: Mapping[str, Any] | None = None,
    seed: int = 0,
) -> Path:
    """torch.save a fake published file; `extra` adds non-tensor top-level entries (e.g. iteration)."""
    obj = fake_published_dict(
        manifest_name, files if files is not None else ([file] if file else None), seed=seed
    )
    obj.update(extra or {})
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    torch.save(obj, p)
    return p
