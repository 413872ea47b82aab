"""Marks network: finds thin opaque marks — scratches, hairlines, dust specks and fibres — for VCNet's blind runs.

The stain network's U-Net (`networks.stain_net.StainNet`: RGB, log-RGB and each pixel against its surroundings
in, group norm), shallower: four levels (1/8 at the bottom, a dilated block there) see ~150 px, enough to tell
a line drawn over the photo from the photo's own edges along a good stretch of it, at full detail for 1-px
marks. Its own network rather than the mask network retrained: that one costs ~12 s per training step on a
CPU, this one ~0.5 s, so it learns new kinds of damage within a sitting.

Output: N×1×H×W logits of where a mark is (`maps` gives it as 0..1).
"""

from __future__ import annotations

from inpaint_studio.networks.registry import register_network
from inpaint_studio.networks.stain_net import StainNet

WIDTHS = (16, 24, 32, 48)


@register_network
def mark_unet(**kwargs: object) -> StainNet:
    kwargs.setdefault("widths", WIDTHS)
    kwargs.setdefault("outputs", 1)
    return StainNet(**kwargs)  # type: ignore[arg-type]
