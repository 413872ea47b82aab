"""Every registered network runs forward on random weights with finite outputs of the documented shapes:
at 256² and at an odd size 250×333 (`-m slow`: about 10 s per big network on this shared 2-core machine),
and at a small odd size 125×167 in the default suite (same code paths: padding, cropping, attention grid).

Convention: every registered network (nn.Module) has two methods

    example_inputs(h: int, w: int, batch: int = 1) -> tuple[Tensor, ...]
        valid inputs at h×w in the network's documented input convention (value range, channel layout,
        mask 1 = hole, ...), so `net(*net.example_inputs(h, w))` runs. A network that only accepts a
        fixed size (VCNet's global discriminator) returns inputs of that size.
    output_shapes(h: int, w: int, batch: int = 1) -> list[tuple[int, ...]]
        the shape of every tensor that call returns (a tensor, or a tuple/list of tensors, in order).
"""

from __future__ import annotations

import pytest
import torch

from inpaint_studio.networks.registry import create_network, list_networks

FULL_SIZES = [(256, 256), (250, 333)]
QUICK_SIZE = (125, 167)


def _flatten(out) -> list[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flatten(o)]
    if isinstance(out, dict):
        return [t for o in out.values() for t in _flatten(o)]
    raise TypeError(f"unexpected output type {type(out).__name__}")


def _check_forward(name: str, sizes: list[tuple[int, int]]) -> None:
    torch.manual_seed(0)
    net = create_network(name).eval()
    missing = [f for f in ("example_inputs", "output_shapes") if not callable(getattr(net, f, None))]
    assert not missing, f"{type(net).__name__} lacks {missing} (convention in tests/test_every_network.py)"
    for h, w in sizes:
        inputs = net.example_inputs(h, w)
        with torch.no_grad():
            outs = _flatten(net(*inputs))
        shapes = [tuple(t.shape) for t in outs]
        expected = [tuple(s) for s in net.output_shapes(h, w)]
        assert shapes == expected, f"{name} at {h}×{w}: got {shapes}, expected {expected}"
        for t in outs:
            assert torch.isfinite(t).all(), f"{name} at {h}×{w}: non-finite output"


@pytest.mark.parametrize("name", list_networks())
def test_network_forward_quick(name):
    _check_forward(name, [QUICK_SIZE])


@pytest.mark.slow
@pytest.mark.parametrize("name", list_networks())
def test_network_forward_at_full_sizes(name):
    _check_forward(name, FULL_SIZES)
