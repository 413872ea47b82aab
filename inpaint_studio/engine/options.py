"""What a method's constructor lets a person set, described without Qt so any front end can build a form.

A method's options are its constructor's keyword arguments. Plain ones (numbers, flags, text) describe
themselves by their default; an option whose default is None means "the checkpoint's measured setting"
(VCNet's threshold, detector and fill, a network's working size): its kind comes from the type hint and its
allowed values from the class's `option_choices` / `option_ranges`, so a form can offer "auto" beside them.
"""

from __future__ import annotations

import inspect
import types
import typing
from dataclasses import dataclass
from typing import Any

# Never a user option: the app's settings (device) or the model picker (checkpoint) decide these.
_NOT_OPTIONS = ("self", "device", "checkpoint", "checkpoint_path", "weights")
_KINDS: dict[type, str] = {bool: "bool", int: "int", float: "float", str: "text"}


@dataclass(frozen=True)
class OptionSpec:
    name: str
    kind: str  # "bool" | "int" | "float" | "text" | "choice"
    default: Any  # None: "auto", the checkpoint's (measured) setting
    choices: tuple[str, ...] = ()
    minimum: float = 0.0
    maximum: float = 1e9  # QSpinBox holds int32: 1e9 keeps max_pixels-sized values intact

    @property
    def auto(self) -> bool:
        return self.default is None


def _hinted_kind(hint: Any) -> str | None:
    """`float | None` -> "float"; None for anything that is not one plain type (maybe optional)."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        plain = [a for a in typing.get_args(hint) if a is not type(None)]
        hint = plain[0] if len(plain) == 1 else None
    return _KINDS.get(hint) if isinstance(hint, type) else None


def option_specs(factory: Any, defaults: dict[str, Any] | None = None) -> list[OptionSpec]:
    """The options a form may offer for `factory` (a method class), `defaults` overriding its signature's."""
    defaults = defaults or {}
    try:
        params = list(inspect.signature(factory).parameters.values())
    except (TypeError, ValueError):
        return []
    try:
        hints = typing.get_type_hints(factory.__init__)
    except Exception:  # noqa: BLE001 - an unresolvable hint only hides that option's "auto" form
        hints = {}
    choices: dict[str, tuple[str, ...]] = getattr(factory, "option_choices", {})
    ranges: dict[str, tuple[float, float]] = getattr(factory, "option_ranges", {})
    out: list[OptionSpec] = []
    for p in params:
        if p.name in _NOT_OPTIONS or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        value = defaults.get(p.name, p.default)
        if value is inspect.Parameter.empty:
            continue
        lo, hi = ranges.get(p.name, (0.0, 1e9))
        if p.name in choices:
            if value is not None and value not in choices[p.name]:
                continue
            out.append(OptionSpec(p.name, "choice", value, tuple(choices[p.name])))
            continue
        kind = _KINDS.get(type(value)) if value is not None else _hinted_kind(hints.get(p.name))
        if kind is not None:
            out.append(OptionSpec(p.name, kind, value, (), float(lo), float(hi)))
    return out


_KIND_WORDS = {"bool": "true|false", "int": "integer", "float": "number", "text": "text"}


def describe_options(options: list[OptionSpec]) -> str:
    """One line naming every option, its kind and default: `radius (integer ≥ 0, default 5)`."""
    parts = []
    for o in options:
        kind = "|".join(o.choices) if o.kind == "choice" else _KIND_WORDS[o.kind]
        if o.kind in ("int", "float"):
            kind += f" {_range(o)}"
        default = "auto" if o.auto else str(o.default).lower() if o.kind == "bool" else o.default
        parts.append(f"{o.name} ({kind}, default {default})")
    return "; ".join(parts) or "none"


def check_options(name: str, factory: Any, defaults: dict[str, Any] | None, values: dict[str, Any]) -> None:
    """Refuse, naming the method's options in one line, an option `factory` lacks or a value of the wrong kind
    or out of range (OptionError). Keys outside the form's options (`checkpoint`) are the caller's to check."""
    from inpaint_studio.core.errors import OptionError

    specs = {o.name: o for o in option_specs(factory, defaults)}
    for key, value in values.items():
        spec = specs.get(key)
        problem = f" has no option {key}" if spec is None else _value_problem(spec, value)
        if problem:
            raise OptionError(f"model '{name}'{problem} (its options: {describe_options(list(specs.values()))})")


def _value_problem(spec: OptionSpec, value: Any) -> str | None:
    if spec.kind == "choice":
        return None if value in spec.choices else f": option {spec.name} takes {'|'.join(spec.choices)}, not '{value}'"
    if spec.kind == "bool":
        return None if isinstance(value, bool) else f": option {spec.name} takes true or false, not '{value}'"
    if spec.kind == "text":
        return None
    wanted = int if spec.kind == "int" else (int, float)
    if isinstance(value, bool) or not isinstance(value, wanted):
        return f": option {spec.name} takes {'an integer' if spec.kind == 'int' else 'a number'}, not '{value}'"
    if not spec.minimum <= value <= spec.maximum:
        return f": option {spec.name} must be {_range(spec)}, got {value}"
    return None


def _range(spec: OptionSpec) -> str:
    return f"≥ {spec.minimum:g}" if spec.maximum >= 1e9 else f"{spec.minimum:g}–{spec.maximum:g}"
