"""A model as the user picks it in the model list: a method, and which of its checkpoints (no Qt).

Its name is what candidates, the split view and a blind A/B reveal call it: the method alone when it runs with its
default weights, "METHOD · CHECKPOINT" when a checkpoint row was picked (two checkpoints of one method then read
apart, and can be compared or put in one blind round)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

SEPARATOR = " · "


def pick_name(method: str, checkpoint: str | Path | None) -> str:
    return f"{method}{SEPARATOR}{Path(checkpoint).stem}" if checkpoint else method


@dataclass(frozen=True)
class Pick:
    method: str
    checkpoint: Path | None = None  # None: the method's default weights

    @property
    def name(self) -> str:
        return pick_name(self.method, self.checkpoint)

    @classmethod
    def from_options(cls, method: str, options: dict[str, Any]) -> Pick:
        """What a job runs: its method, and the checkpoint its options name (if any)."""
        checkpoint = options.get("checkpoint")
        return cls(method, Path(checkpoint) if checkpoint else None)
