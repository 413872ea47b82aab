"""Registry of network constructors by name (timm-style: tiny registered functions at the end of each
model file). Importing `inpaint_studio.networks.all` registers every built-in network."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from torch import nn

F = TypeVar("F", bound=Callable[..., nn.Module])

_NETWORKS: dict[str, Callable[..., nn.Module]] = {}


def register_network(fn: F) -> F:
    """Register a constructor under its function name."""
    if fn.__name__ in _NETWORKS:
        raise ValueError(f"network '{fn.__name__}' registered twice")
    _NETWORKS[fn.__name__] = fn
    return fn


def _ensure_builtin() -> None:
    from inpaint_studio.networks import all  # noqa: F401


def list_networks() -> list[str]:
    _ensure_builtin()
    return sorted(_NETWORKS)


def create_network(name: str, **kwargs: Any) -> nn.Module:
    _ensure_builtin()
    try:
        fn = _NETWORKS[name]
    except KeyError:
        raise KeyError(f"unknown network '{name}' (known: {', '.join(sorted(_NETWORKS))})") from None
    return fn(**kwargs)
