"""Blind A/B: two fills shown as "A" and "B" (which is which drawn at random), the user keeps one, and a
tally of wins per pair of methods is kept — the survey's user study as a tool. No Qt: the window stores the
tally's JSON in its settings."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field


@dataclass
class Round:
    """One blind comparison: each method's letter, drawn at random so order and speed reveal nothing."""

    letters: dict[str, str]  # method -> "A" | "B"

    @classmethod
    def draw(cls, first: str, second: str, rng: random.Random | None = None) -> Round:
        pair = [first, second]
        (rng or random.Random()).shuffle(pair)
        return cls({pair[0]: "A", pair[1]: "B"})

    def label(self, method: str) -> str | None:
        return self.letters.get(method)

    def other(self, method: str) -> str:
        return next(m for m in self.letters if m != method)


@dataclass
class Tally:
    """Wins per method, per pair ("deepfill_v2 vs telea": {"deepfill_v2": 3, "telea": 1})."""

    pairs: dict[str, dict[str, int]] = field(default_factory=dict)

    @staticmethod
    def key(a: str, b: str) -> str:
        return " vs ".join(sorted((a, b)))

    def record(self, winner: str, loser: str) -> dict[str, int]:
        counts = self.pairs.setdefault(self.key(winner, loser), {winner: 0, loser: 0})
        counts[winner] = counts.get(winner, 0) + 1
        counts.setdefault(loser, 0)
        return counts

    def summary(self, a: str, b: str) -> str:
        counts = self.pairs.get(self.key(a, b), {})
        return f"{a} {counts.get(a, 0)} : {counts.get(b, 0)} {b}"

    def to_json(self) -> str:
        return json.dumps(self.pairs, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> Tally:
        """A missing or unreadable tally starts empty (it is a convenience, never worth an error)."""
        try:
            data = json.loads(text or "{}")
        except (TypeError, ValueError):
            return cls()
        if not isinstance(data, dict):
            return cls()
        pairs = {
            str(k): {str(m): int(n) for m, n in v.items() if isinstance(n, int)}
            for k, v in data.items() if isinstance(v, dict)
        }
        return cls(pairs)
