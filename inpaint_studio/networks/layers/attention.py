"""Contextual attention (Yu et al. 2018, as used in DeepFill v1/v2).

For every position of the foreground feature map, compare its 3×3 neighbourhood (at 1/rate resolution)
with every 3×3 background patch that lies entirely in the known region (cosine similarity), optionally
"fuse" the scores so that neighbouring matches reinforce each other (coherent copies), take a softmax
with a large scale (≈ hard assignment) and paste the matching full-resolution 2·rate × 2·rate background
patches back with a transposed convolution.

Defaults follow the published DeepFill v1/v2: patch 3, stride 1, rate 2, fuse kernel 3, softmax scale 10.
The fuse kernel is an identity matrix; the PyTorch fine-tuned layout stores it as the buffer
`fuse_weight` [1, 1, k, k] (`persistent_fuse_weight=True`), the converted TF layout does not.

Two details differ between the published PyTorch code and what our own early checkpoints were trained
with, so each is an explicit option (recorded in every checkpoint's network config):
- `mask_mode`, which cells of the matching grid count as hole. "nearest" (published): the full-resolution
  mask is nearest-sampled onto the 1/(4·rate) grid, i.e. cell (i, j) takes the pixel at (8i, 8j) for rate 2
  (the top-left pixel of its 8×8 block); "maxpool" (ours): a cell with any hole pixel is hole, so thin
  strokes cannot slip between the samples. Either way a background patch is usable only when every cell
  of its 3×3 neighbourhood is known.
- `norm_mode`, how each background patch is normalised for the cosine score. "eps_sum" (published
  PyTorch): divide by sqrt(Σ(w² + 1e-4)); "clamp" (the TF original, ours): by max(‖w‖, 1e-4).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from inpaint_studio.networks.layers.gated import tf_same_pad


def extract_patches(x: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    """B×C×H×W → B×L×C×k×k patches with TF 'SAME' padding (L = ceil(H/s)·ceil(W/s), row-major)."""
    b, c = x.shape[:2]
    x = tf_same_pad(x, kernel, stride)
    p = F.unfold(x, kernel, stride=stride)  # B × (C·k·k) × L
    return p.transpose(1, 2).reshape(b, -1, c, kernel, kernel)


def _conv2d_by_shifts(x: torch.Tensor, kernel: list[list[float]]) -> torch.Tensor:
    """2-D zero-padded 'same' correlation of a large n×n matrix with a small kernel, as shifted adds.
    Equal to F.conv2d(x[None, None], kernel, padding=k // 2), but without im2col's k²-fold copy of an
    L×L score matrix (1 GB at 1 MP) and skipping the zero taps of the identity fuse kernel."""
    out = torch.zeros_like(x)
    n0, n1 = x.shape
    p = len(kernel) // 2
    for a, row in enumerate(kernel):
        for b, wgt in enumerate(row):
            if wgt == 0.0:
                continue
            da, db = a - p, b - p  # out[i, j] += wgt · x[i + da, j + db]
            dst = out[max(0, -da) : n0 - max(0, da), max(0, -db) : n1 - max(0, db)]
            dst.add_(x[max(0, da) : n0 - max(0, -da), max(0, db) : n1 - max(0, -db)], alpha=wgt)
    return out


MASK_MODES = ("nearest", "maxpool")
NORM_MODES = ("eps_sum", "clamp")
_NORM_EPS = 1e-4


def downsample_mask(mask: torch.Tensor, factor: int, mode: str) -> torch.Tensor:
    """B×1×H×W hole mask (1 = hole) → B×1×⌈H/factor⌉×⌈W/factor⌉: "nearest" takes the top-left pixel of each
    factor×factor block (PyTorch's nearest resize by 1/factor), "maxpool" marks a block with any hole pixel."""
    if mode not in MASK_MODES:
        raise ValueError(f"mask mode must be one of {MASK_MODES}, not {mode!r}")
    if factor == 1:
        return mask
    if mode == "nearest":
        return mask[..., ::factor, ::factor]
    return F.max_pool2d(mask, factor, factor, ceil_mode=True)


class ContextualAttention(nn.Module):
    def __init__(
        self,
        ksize: int = 3,
        stride: int = 1,
        rate: int = 2,
        fuse_k: int = 3,
        softmax_scale: float = 10.0,
        fuse: bool = True,
        persistent_fuse_weight: bool = True,
        mask_mode: str = "nearest",
        norm_mode: str = "eps_sum",
    ) -> None:
        super().__init__()
        if rate < 1 or (rate > 1 and rate % 2):
            raise ValueError("rate must be 1 or even")  # the transposed-conv padding below needs it
        if mask_mode not in MASK_MODES:
            raise ValueError(f"mask_mode must be one of {MASK_MODES}, not {mask_mode!r}")
        if norm_mode not in NORM_MODES:
            raise ValueError(f"norm_mode must be one of {NORM_MODES}, not {norm_mode!r}")
        self.mask_mode, self.norm_mode = mask_mode, norm_mode
        self.ksize, self.stride, self.rate = ksize, stride, rate
        self.fuse_k, self.softmax_scale, self.fuse = fuse_k, softmax_scale, fuse
        self.register_buffer(
            "fuse_weight", torch.eye(fuse_k).view(1, 1, fuse_k, fuse_k), persistent=persistent_fuse_weight
        )

    def _fuse(self, y: torch.Tensor, h: int, w: int) -> torch.Tensor:
        """y: 1×L×h×w scores (L = h·w background patches). Convolve the (background index, foreground
        index) matrix with the fuse kernel (identity: a sum along the diagonal), first in row-major then
        in column-major order, so a match is supported by the matches of its horizontal and vertical
        neighbours."""
        n = h * w
        weights = self.fuse_weight.reshape(self.fuse_k, self.fuse_k).tolist()
        y = _conv2d_by_shifts(y.reshape(n, n), weights)
        y = y.reshape(h, w, h, w).permute(1, 0, 3, 2).reshape(n, n)
        y = _conv2d_by_shifts(y, weights)
        return y.reshape(w, h, w, h).permute(1, 0, 3, 2).reshape(1, n, h, w)

    def forward(self, f: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """f: foreground (queries) and b: background (sources), both B×C×H×W; mask: B×1×H×W with 1 = hole
        (patches touching it are never copied), None = everything known. Returns B×C×H×W.
        The mask is taken to the matching grid (÷rate) by `mask_mode`; a caller holding the full-resolution
        mask brings it to H×W with `downsample_mask` in the same mode first."""
        if f.shape != b.shape:
            raise ValueError(f"foreground {tuple(f.shape)} and background {tuple(b.shape)} must match")
        bsz, c, h, w = b.shape
        r = self.rate
        raw = extract_patches(b, 2 * r, r * self.stride)  # B×L×C×2r×2r: what gets pasted
        f_s, b_s = f[:, :, ::r, ::r], b[:, :, ::r, ::r]  # nearest ÷rate (ceil size, matches `raw`)
        hs, ws = b_s.shape[-2:]
        if mask is None:
            mask = b.new_zeros(bsz, 1, h, w)
        m_s = downsample_mask(mask.to(b.dtype), r, self.mask_mode)
        valid = extract_patches(m_s, self.ksize, self.stride).flatten(2).amax(dim=2) == 0  # B×L
        patches = extract_patches(b_s, self.ksize, self.stride)  # B×L×C×k×k
        pad = self.ksize // 2

        outs = []
        for i in range(bsz):
            wi = patches[i]
            if self.norm_mode == "eps_sum":
                norms = (wi.flatten(1).square() + _NORM_EPS).sum(dim=1).sqrt().view(-1, 1, 1, 1)
            else:
                norms = wi.flatten(1).norm(dim=1).clamp_min(_NORM_EPS).view(-1, 1, 1, 1)
            yi = F.conv2d(f_s[i : i + 1], wi / norms, padding=pad)  # 1×L×hs×ws cosine-like scores
            if self.fuse:
                yi = self._fuse(yi, hs, ws)
            mm = valid[i].to(yi.dtype).view(1, -1, 1, 1)
            # In place before the softmax (nothing saved for backward there): the L×L scores dominate memory.
            yi = F.softmax(yi.mul_(mm).mul_(self.softmax_scale), dim=1) * mm
            # Each output pixel receives (2r/r)² = 4 overlapping pasted patches: average them.
            out = F.conv_transpose2d(yi, raw[i], stride=r, padding=r // 2) / 4.0
            outs.append(out[:, :, :h, :w])
        return torch.cat(outs, dim=0)
