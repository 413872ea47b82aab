"""Scale-out: the same command under `torchrun --nproc_per_node N` trains with DistributedDataParallel —
NCCL on GPUs, gloo on CPU. Rank 0 alone logs and writes checkpoints."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_from_env(device_type: str) -> Dist:
    """Join the process group torchrun describes (WORLD_SIZE/RANK/LOCAL_RANK); single process otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device_type == "cuda" else "gloo", rank=rank, world_size=world)
    return Dist(rank, world, local)


def wrapper(d: Dist, device: torch.device):
    """The function that wraps a trained network for this run (identity when single-process)."""
    if not d.enabled:
        return lambda m: m

    def wrap(module: nn.Module) -> nn.Module:
        ids = [device.index] if device.type == "cuda" else None
        # Some published architectures keep modules their forward never uses (VCNet's BatchNorms) so that
        # checkpoint keys match: DDP must not wait for their gradients.
        return nn.parallel.DistributedDataParallel(module, device_ids=ids, find_unused_parameters=True)

    return wrap


def any_rank(flag: bool, d: Dist, device: torch.device) -> bool:
    """True on every rank when the flag is set on any (a Ctrl+C seen by one process stops all together)."""
    if not d.enabled:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def barrier(d: Dist) -> None:
    if d.enabled:
        dist.barrier()


def shutdown(d: Dist) -> None:
    if d.enabled and dist.is_initialized():
        dist.destroy_process_group()
