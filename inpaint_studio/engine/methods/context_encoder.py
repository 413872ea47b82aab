"""The `context_encoder` method and its published layout.

Published convention (the common PyTorch port of Pathak et al. 2016), followed exactly: a 128² RGB window in
[−1, 1] whose centre 56² (the centre 64² less a 4 px overlap band) is painted in the fixed mean colour; the
network paints the centre 64². It only ever learned that one hole, so each hole of the photo is filled in
tiles of at most 56² from a 128² window centred on the tile (`engine.methods.windowed`); the learned hole is
painted as in training and only the photo's hole pixels are taken from the prediction. Other unknown pixels
of a window (the rest of the hole) are Telea-filled first (`prefill_context`): painted in the mean colour they
would be flat blocks in a context that, in training, was always whole (the fills came out grey). Neighbouring
tiles overlap by OVERLAP_FRACTION of the tile on each side and are feathered together there (the window stays
128²: the channel-wise fully connected bottleneck fixes it).

Published files: `netG_streetview.pth` (and `netlocalD.pth`), each `{'epoch', 'state_dict'}` with the
port's `main.N` keys (= ours).

torch is imported inside functions only (listing methods must not import it).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from inpaint_studio.engine.base import CancelFn, Capabilities, ProgressFn, register_method
from inpaint_studio.engine.importer import PublishedLayout, flatten_keys, register_layout
from inpaint_studio.engine.methods.learned import LearnedMethod
from inpaint_studio.engine.methods.windowed import fill_in_windows

OVERLAP_FRACTION = 0.125  # of the learned hole, on each side of a tile


@register_method
class ContextEncoderMethod(LearnedMethod):
    name = "context_encoder"
    description = (
        "Context Encoder (2016): for small holes, filled from a fixed window around each (the centre hole it "
        "learned: 56 px in the published 128 px window, 28 px in the shipped 64 px one); larger holes in parts"
    )
    capabilities = Capabilities(needs_mask=True, learned=True)
    required_components = ("generator",)
    train_recipe = "context_encoder"
    published_file = "netG_streetview.pth"

    def fill_hole(self, image: np.ndarray, mask: np.ndarray, edges: np.ndarray | None,
                  progress: ProgressFn | None, cancel: CancelFn | None) -> np.ndarray:
        import torch

        from inpaint_studio.networks.context_encoder import HOLE_COLOUR, generator_input

        net = self.modules["generator"]
        colour = HOLE_COLOUR[::-1] if self.channel_order == "BGR" else HOLE_COLOUR
        a, b = net.hole_box()
        c0, c1 = net.centre_box()

        def fill(window: np.ndarray, hole: np.ndarray) -> np.ndarray:
            window = prefill_context(window, hole, a, b)
            x = self.to_tensor(window) * 2 - 1
            # Only the hole it learned is painted, as in training; every other unknown pixel of the window
            # already holds the Telea context above.
            m = torch.zeros_like(x[:, :1])
            m[..., a:b, a:b] = 1.0
            out = x.clone()
            out[..., c0:c1, c0:c1] = net(generator_input(x, m, colour))
            return self.to_uint8((out + 1) / 2)

        with self.running():
            tile = b - a
            overlap = min(round(OVERLAP_FRACTION * tile), (tile - 1) // 2)
            return fill_in_windows(image, mask, net.input_size, tile, fill, progress, cancel, overlap=overlap)


def prefill_context(window: np.ndarray, hole: np.ndarray, a: int, b: int) -> np.ndarray:
    """`window` with its unknown pixels outside the learned centre hole [a, b)² filled by Telea.

    The network only ever saw a whole, real context around its centre hole; in a photo the window around a tile
    also holds other unknown pixels (the rest of a stroke, a neighbouring hole), which the mean colour would
    paint as flat grey blocks it never learned from. A classical fill there keeps its input in distribution;
    those pixels are context only, never written back (the tile's own pixels come from the network)."""
    from inpaint_studio.engine.base import create_method

    outside = hole > 0
    outside[a:b, a:b] = False
    if not outside.any():
        return window
    # Telea must not read the unknown pixels inside the centre either (they still hold the photo's object).
    # Its bare fill, as VCNet's Telea fill: this runs inside the pipeline's one run, once per tile.
    filled = create_method("telea").fill_hole(window, np.where(hole > 0, np.uint8(255), np.uint8(0)), None, None, None)
    out = window.copy()
    out[outside] = filled[outside]
    return out


# --- published layout ----------------------------------------------------------------------------


def _state(obj: Any) -> Mapping[str, Any]:
    return obj["state_dict"] if isinstance(obj, Mapping) and isinstance(obj.get("state_dict"), Mapping) else obj


def _is_generator(obj: Any) -> bool:
    keys = {k.removeprefix("module.") for k in flatten_keys(_state(obj))}
    return {"main.0.weight", "main.14.weight", "main.17.weight", "main.29.weight"} <= keys


def _is_discriminator(obj: Any) -> bool:
    keys = {k.removeprefix("module.") for k in flatten_keys(_state(obj))}
    return {"main.0.weight", "main.11.weight"} <= keys and "main.14.weight" not in keys


def _convert(component: str) -> Any:
    def convert(obj: Any) -> dict[str, dict[str, Any]]:
        from inpaint_studio.networks.context_encoder import from_published

        return {component: from_published(dict(_state(obj)))}

    return convert


def _generator_name(path: Path) -> str:
    """netG_streetview.pth → context_encoder-streetview (the data set the port names its generator after)."""
    stem = path.stem
    return f"context_encoder-{stem.removeprefix('netG_') or stem}"


_COMPONENTS = {
    "generator": {"network": "context_encoder_generator", "config": {}},
    "discriminator": {"network": "context_encoder_discriminator", "config": {}},
}

register_layout(
    PublishedLayout(
        name="context_encoder_generator",
        method="context_encoder",
        detect=_is_generator,
        convert=_convert("generator"),
        components=_COMPONENTS,
        merge=True,
        default_name=_generator_name,
        description="Context Encoder PyTorch port, generator (netG_streetview.pth)",
    )
)

register_layout(
    PublishedLayout(
        name="context_encoder_discriminator",
        method="context_encoder",
        detect=_is_discriminator,
        convert=_convert("discriminator"),
        components=_COMPONENTS,
        merge=True,
        # netlocalD.pth names no data set: it joins the port's published Street View generator (`--name` to
        # pair it with another)
        default_name=lambda path: "context_encoder-streetview",
        description="Context Encoder PyTorch port, local discriminator (netlocalD.pth)",
    )
)
