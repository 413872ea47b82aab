"""Progress reporting and cancelling: the callbacks every long job takes, shared by core and the engine.

progress(fraction in [0, 1], short message); cancel() -> True once the user asked to stop.
"""

from __future__ import annotations

from collections.abc import Callable

from inpaint_studio.core.errors import Cancelled

ProgressFn = Callable[[float, str], None]
CancelFn = Callable[[], bool]


def check_cancel(cancel: CancelFn | None) -> None:
    """Raise Cancelled if the caller asked to stop; long jobs call this between expensive steps."""
    if cancel is not None and cancel():
        raise Cancelled("cancelled")


def report(progress: ProgressFn | None, fraction: float, message: str = "") -> None:
    if progress is not None:
        progress(min(max(fraction, 0.0), 1.0), message)


def sub_progress(progress: ProgressFn | None, start: float, end: float) -> ProgressFn | None:
    """A callback for one step of a longer job: its 0..1 maps onto `start`..`end` of the whole, so the
    whole job reports increasing fractions while each step reports its own 0 to 1."""
    if progress is None:
        return None

    def step(fraction: float, message: str) -> None:
        report(progress, start + (end - start) * min(max(fraction, 0.0), 1.0), message)

    return step
