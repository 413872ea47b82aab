"""The memory limit of the methods with contextual attention (DeepFill v1 and v2).

Contextual attention scores every 1/8-resolution cell against every other one: memory grows with the square of the
pixel count (1 MP → a 16k × 16k matrix, ~1 GB, several copies live). Larger images are refused with the way out
(the Resize or Crop HD strategy) instead of exhausting memory.

torch is imported inside functions only (listing methods must not import it).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, ClassVar

from inpaint_studio.core.errors import ModelUnavailableError
from inpaint_studio.engine.methods.learned import LearnedMethod

if TYPE_CHECKING:
    import torch


class AttentionMethod(LearnedMethod):
    """A learned method whose network runs contextual attention over the whole padded image."""

    title: ClassVar[str] = ""  # the method in words, for the refusal ("DeepFill v2")

    def __init__(
        self,
        checkpoint: str | os.PathLike[str] | None = None,
        device: str = "auto",
        half: bool = False,
        max_pixels: int = 1024 * 1024,
        working_size: int | None = None,
        texture: bool | None = None,
    ) -> None:
        super().__init__(checkpoint, device, half, working_size, texture)
        self.max_pixels = int(max_pixels)

    def check_attention_memory(self, image: torch.Tensor) -> None:
        h, w = image.shape[-2:]
        if h * w > self.max_pixels:
            raise ModelUnavailableError(
                f"{self.title} at {w}×{h} would need too much memory for contextual attention (limit "
                f"{self.max_pixels / 1e6:.1f} MP): use the Resize or Crop HD strategy"
            )
