"""The same training code under DistributedDataParallel: two CPU processes with gloo, each on its own data
shard, end with bit-identical networks (gradients are averaged, spectral-norm buffers broadcast), and only
rank 0 writes the run directory."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import torch
import torch.multiprocessing as mp

from trainer.loop import build_config, train
from trainer.toydata import write_toy_images


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, root: str, recipe: str, stage: str) -> None:
    os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": str(rank),
                       "LOCAL_RANK": str(rank), "WORLD_SIZE": str(world)})
    torch.set_num_threads(1)
    cfg = build_config(recipe, stage, cli_options={
        "data": f"{root}/train", "val_data": f"{root}/val", "image_size": 32, "batch_size": 2, "width": 0.125,
        "steps": 3, "val_images": 2, "val_every": 100, "sample_every": 0, "progress": False, "device": "cpu",
        "threads": 1, "lr": 1e-3, "network": {"num_blocks": 1}, "run_dir": f"{root}/run",
    })
    result = train(cfg, log=lambda m: None)
    assert result.recipe is not None
    states = {k: {n: t.clone() for n, t in m.state_dict().items()} for k, m in result.recipe.nets.items()}
    torch.save({"states": states, "step": result.step}, f"{root}/rank{rank}.pt")


def _run_two_ranks(tmp_path: Path, recipe: str, stage: str = "") -> tuple[dict, dict]:
    write_toy_images(tmp_path / "train", 8, size=(40, 48), seed=0)
    write_toy_images(tmp_path / "val", 2, size=(40, 48), seed=1)
    # fork: the children inherit the imported modules (spawning two fresh interpreters costs ~10 s here).
    mp.start_processes(_worker, args=(2, _free_port(), str(tmp_path), recipe, stage), nprocs=2, join=True,
                       start_method="fork")
    return (torch.load(tmp_path / "rank0.pt", weights_only=True),
            torch.load(tmp_path / "rank1.pt", weights_only=True))


def test_two_gloo_ranks_stay_identical(tmp_path):
    a, b = _run_two_ranks(tmp_path, "vcnet", "joint")  # WGAN-GP, two critics, MPN + RIN trained together
    assert a["step"] == b["step"] == 3
    for net, state in a["states"].items():
        for key, value in state.items():
            assert torch.equal(value, b["states"][net][key]), f"{net}.{key} differs between ranks"
    ckpt = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)
    assert ckpt["world_size"] == 2 and ckpt["step"] == 3
    assert all(torch.equal(v, a["states"]["rin"][k]) for k, v in ckpt["models"]["rin"].items())
    # something was learned: the checkpoint differs from a fresh network of the same seed
    torch.manual_seed(ckpt["config"]["seed"])
    from trainer.config import TrainConfig
    from trainer.recipes import get_recipe

    fresh = get_recipe("vcnet")(TrainConfig.from_dict(ckpt["config"]), torch.device("cpu"), None)
    fresh.build()
    assert any(not torch.equal(v, ckpt["models"]["rin"][k]) for k, v in fresh.nets["rin"].state_dict().items())
