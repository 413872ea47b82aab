"""The blind A/B round: two models fill the same mask, their results are shown as "A" and "B" (drawn at random,
listed in letter order so neither arrival order nor speed gives them away), the user keeps one with Accept, and
the pick is tallied per pair of methods in the settings. Discard ends a round unscored.

This keeps the round and the tally; the jobs controller starts a round and asks it how to label results."""

from __future__ import annotations

from inpaint_studio.ui.controllers.feedback import Feedback
from inpaint_studio.ui.model.blind_ab import Round, Tally
from inpaint_studio.ui.model.document import Candidate, Document
from inpaint_studio.ui.settings import Settings

TALLY_KEY = "blind_ab_tally"


class BlindAB:
    def __init__(self, settings: Settings, feedback: Feedback) -> None:
        self.settings = settings
        self.feedback = feedback
        self.round: Round | None = None

    def start(self, first: str, second: str) -> None:
        self.round = Round.draw(first, second)
        self.feedback.message("Blind A/B: look at A and B (hold \\ for before), Accept the better one", 15000)

    def label(self, method: str) -> str | None:
        """The letter a method's result is shown under in the round; None outside one."""
        return self.round.label(method) if self.round is not None else None

    def order(self, doc: Document) -> int | None:
        """Candidates in letter order ("A" first), so the first to finish is not the first listed."""
        if self.round is None:
            return None
        doc.candidates.sort(key=lambda c: (self.label(c.method) is None, c.label))
        doc.select(0)
        return 0

    def score(self, doc: Document, kept: Candidate) -> None:
        """Called on Accept: tally the pick if both results were there to choose from; the round ends."""
        ab, self.round = self.round, None
        if ab is None or kept.method not in ab.letters:
            return
        if not set(ab.letters) <= {c.method for c in doc.candidates}:
            return  # accepted before the other arrived: not a comparison
        loser = ab.other(kept.method)
        tally = Tally.from_json(self.settings.get(TALLY_KEY))
        tally.record(kept.method, loser)
        self.settings.set(TALLY_KEY, tally.to_json())
        self.feedback.message(
            f"You kept {ab.label(kept.method)}: {kept.method} (the other was {loser}). "
            f"Blind tally so far: {tally.summary(kept.method, loser)}", 20000)

    def end(self) -> None:
        self.round = None
