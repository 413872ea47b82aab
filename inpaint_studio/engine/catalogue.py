"""The model catalogue: every registered method, what it does, whether its weights are here, and how it
measured (models/table.json, read through `engine.defaults`). The one list both `inpaint-studio models` and the
app's model picker show; creating a method to ask about it never loads weights (and never imports torch)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inpaint_studio.core.paths import user_models_dir
from inpaint_studio.engine.base import Capabilities, create_method, method_specs
from inpaint_studio.engine.defaults import (
    TASKS,
    below_default,
    default_method,
    measured_summary,
    measured_words,
)
from inpaint_studio.engine.options import OptionSpec, option_specs

# Tasks whose default is chosen among the methods `auto` routes to (auto itself may not win them).
_AUTO_ROUTES_TO = ("box", "thin")


@dataclass(frozen=True)
class ModelInfo:
    """One registered method as a person choosing a model sees it."""

    name: str
    description: str
    capabilities: Capabilities
    status: str  # "builtin" | "shipped" | "imported" | "missing"
    weights: str  # where its weights are, or why it cannot run
    options: list[OptionSpec]  # what an options form offers
    card: str = ""  # the model card (NAME.md beside the checkpoint) when there is one
    resolved: dict[str, Any] = field(default_factory=dict)  # what each "auto" option means with these weights
    words: str = ""  # how it measured, in plain words ("" = not measured)
    numbers: str = ""  # the measured numbers behind the words
    default_for: tuple[str, ...] = ()  # the tasks (engine.defaults.TASKS) it is the measured default for
    below: str = ""  # the default it measures clearly below, if any (choosing it costs quality)
    # Checkpoints listed under this method, one entry each (filled by the checkpoint store when it lists them).
    checkpoints: tuple[Any, ...] = ()  # engine.named_checkpoints.CheckpointEntry, the default first

    @property
    def available(self) -> bool:
        return self.status != "missing"


def describe_models(table_path: Path | None = None) -> list[ModelInfo]:
    """Every registered method, in registration order. One broken method is reported, never hides the others."""
    found = [_describe(spec) for spec in method_specs()]
    usable = [info["name"] for info in found if info["status"] != "missing"]
    defaults = {task: default_method(task, table_path, available=usable,
                                     exclude=("auto",) if task in _AUTO_ROUTES_TO else ())
                for task in TASKS}
    words, numbers = measured_words(table_path), measured_summary(table_path)
    below = below_default(table_path, available=usable)
    return [
        ModelInfo(**info, words=words.get(info["name"], ""), numbers=numbers.get(info["name"], ""),
                  default_for=tuple(task for task, name in defaults.items() if name == info["name"]),
                  below=below.get(info["name"], ""))
        for info in found
    ]


def measured_defaults(infos: list[ModelInfo]) -> dict[str, str]:
    """{task: the method that is its measured default}, from a catalogue listing."""
    return {task: info.name for info in infos for task in info.default_for}


def _describe(spec: Any) -> dict[str, Any]:
    options = option_specs(spec.factory, spec.defaults)
    card, resolved = "", {}
    try:
        method = create_method(spec.name)
        available = method.is_available()
        weights = method.weights_info()
        checkpoint = getattr(method, "checkpoint_path", lambda: None)() if available else None
        if checkpoint is not None and checkpoint.with_suffix(".md").is_file():
            card = str(checkpoint.with_suffix(".md"))
        resolved = method.resolved_options([o.name for o in options if o.auto]) if available else {}
    except Exception as exc:  # noqa: BLE001 - one broken model must not hide the others
        available, weights = False, f"cannot be created: {exc}"
    if not available:
        status = "missing"
    elif not spec.capabilities.learned:
        status = "builtin"
    else:
        status = "imported" if str(user_models_dir()) in weights else "shipped"
    return {"name": spec.name, "description": spec.description, "capabilities": spec.capabilities,
            "status": status, "weights": weights, "options": options, "card": card, "resolved": resolved,
            "checkpoints": _checkpoints(spec)}


def _checkpoints(spec: Any) -> tuple[Any, ...]:
    """A learned method's checkpoints, the default first (JSON only: listing loads no weights)."""
    if not spec.capabilities.learned:
        return ()
    from inpaint_studio.engine.named_checkpoints import list_checkpoints

    try:
        return tuple(list_checkpoints(spec.name))
    except Exception:  # noqa: BLE001 - an unreadable models folder must not hide the method
        return ()
