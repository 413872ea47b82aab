"""The main window's blind A/B: two ticked models fill the same mask, their results are shown as "A" and "B"
(drawn at random, listed in letter order so neither arrival order nor speed gives them away), the user keeps
one with Accept, and the pick is tallied per pair of methods in the settings. Discard ends a round unscored.

A mixin of MainWindow: it uses the window's panel, document, settings and job submission."""

from __future__ import annotations

from inpaint_studio.ui.model.blind_ab import Round, Tally
from inpaint_studio.ui.model.document import Candidate

TALLY_KEY = "blind_ab_tally"


class BlindABActions:
    _ab_round: Round | None = None

    def blind_ab(self) -> list[int]:
        names = [n for n in self.panel.ticked_models() if n not in self.models or self.models[n].available]
        if len(names) != 2:
            self.show_error("Blind A/B: tick exactly two models, the two to compare without knowing which is which")
            return []
        if not self._needs_document():
            return []
        doc = self.document
        if doc.candidates:
            if not self.ask_drop_candidates(len(doc.candidates)):
                return []
            self.discard_results()
        jobs = [self.inpaint_job(name, f"compare:{name}") for name in names]
        if any(job is None for job in jobs):
            return []  # the reason is already on screen (an empty mask, say)
        self._ab_round = Round.draw(*names)
        self.statusBar().showMessage("Blind A/B: look at A and B (hold \\ for before), Accept the better one", 15000)
        return [self._submit(job) for job in jobs]

    def _ab_label(self, method: str) -> str | None:
        return self._ab_round.label(method) if self._ab_round is not None else None

    def _ab_order(self) -> int | None:
        """Candidates in letter order ("A" first), so the first to finish is not the first listed."""
        doc = self.document
        if self._ab_round is None or doc is None:
            return None
        doc.candidates.sort(key=lambda c: (self._ab_label(c.method) is None, c.label))
        doc.select(0)
        return 0

    def _ab_score(self, kept: Candidate) -> None:
        """Called on Accept: tally the pick if both results were there to choose from; the round ends."""
        ab, self._ab_round = self._ab_round, None
        doc = self.document
        if ab is None or doc is None or kept.method not in ab.letters:
            return
        if not set(ab.letters) <= {c.method for c in doc.candidates}:
            return  # accepted before the other arrived: not a comparison
        loser = ab.other(kept.method)
        tally = Tally.from_json(self.settings.get(TALLY_KEY))
        tally.record(kept.method, loser)
        self.settings.set(TALLY_KEY, tally.to_json())
        self.statusBar().showMessage(
            f"You kept {ab.label(kept.method)}: {kept.method} (the other was {loser}). "
            f"Blind tally so far: {tally.summary(kept.method, loser)}", 20000)

    def _ab_end(self) -> None:
        self._ab_round = None
