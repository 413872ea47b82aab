"""The blind A/B round: two models fill the same mask, their results are shown as "A" and "B" (drawn at random,
listed in letter order so neither arrival order nor speed gives them away), the user keeps one with Accept, and
the pick is tallied per pair of models in the settings. Discard ends a round unscored. A model is a method, or a
method with one of its checkpoints ("deepfill_v2 · places2": `ui.model.picks`), so two checkpoints of one method
can meet in a round.

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

    def label(self, model: str) -> str | None:
        """The letter a model's result is shown under in the round; None outside one."""
        return self.round.label(model) if self.round is not None else None

    def order(self, doc: Document) -> int | None:
        """Candidates in letter order ("A" first), so the first to finish is not the first listed."""
        if self.round is None:
            return None
        doc.candidates.sort(key=lambda c: (self.label(c.model) is None, c.label))
        doc.select(0)
        return 0

    def score(self, doc: Document, kept: Candidate) -> None:
        """Called on Accept: tally the pick if both results were there to choose from; the round ends."""
        ab, self.round = self.round, None
        if ab is None or kept.model not in ab.letters:
            return
        if not set(ab.letters) <= {c.model for c in doc.candidates}:
            return  # accepted before the other arrived: not a comparison
        loser = ab.other(kept.model)
        tally = Tally.from_json(self.settings.get(TALLY_KEY))
        tally.record(kept.model, loser)
        self.settings.set(TALLY_KEY, tally.to_json())
        self.feedback.message(
            f"You kept {ab.label(kept.model)}: {kept.model} (the other was {loser}). "
            f"Blind tally so far: {tally.summary(kept.model, loser)}", 20000)

    def end(self) -> None:
        self.round = None
