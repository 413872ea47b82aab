"""CPU cost of every registered generator: forward time (median of N, torch.no_grad, 2 threads) at 256²
and 512², GFLOPs (torch.utils.flop_counter, multiply-add = 2 FLOPs), and achieved GFLOP/s as a fraction of
this machine's fp32 matmul throughput measured in the same run (the baseline, so numbers from a loaded
or an idle machine stay comparable). Reference rows from MODELS.md (2 cores, torch 2.13, median of 5) are
printed next to ours with the ratio ours / reference.

    .venv/bin/python benchmarks/bench_networks.py [--sizes 256 512] [--repeats 3] [--threads 2]

Inputs come from each network's `example_inputs(h, w)` (the convention of tests/test_every_network.py),
on random weights at the default config.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from inpaint_studio.networks.registry import create_network, list_networks

# MODELS.md: pipeline → (networks it runs, {size: seconds}, GFLOPs at 512²)
REFERENCE = {
    "DeepFill v2 generator": (["deepfill_v2_generator"], {256: 0.28, 512: 1.8}, 282.0),
    "EdgeConnect edge + inpaint": (
        ["edgeconnect_edge_generator", "edgeconnect_inpaint_generator"],
        {256: 0.70, 512: 3.3},
        774.0,
    ),
    "VCNet MPN + RIN": (["vcnet_mpn", "vcnet_rin"], {256: 0.39, 512: 1.9}, 243.0),
}


def is_generator(name: str) -> bool:
    return "discriminator" not in name


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    """Best-of fp32 matmul throughput: the practical ceiling for conv-heavy networks on this CPU."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b  # warm-up (thread pool, caches)
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def measure(name: str, size: int, repeats: int, channels_last: bool = False) -> tuple[float, float, float]:
    """(median seconds, best seconds, GFLOPs) of one forward pass; the best is the least disturbed by
    other processes on a shared machine."""
    torch.manual_seed(0)
    net = create_network(name).eval()
    inputs = net.example_inputs(size, size)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
        inputs = tuple(t.contiguous(memory_format=torch.channels_last) if t.dim() == 4 else t for t in inputs)
    with torch.no_grad():
        counter = FlopCounterMode(display=False)
        with counter:
            net(*inputs)  # also the warm-up run
        times = [_timed(lambda: net(*inputs)) for _ in range(repeats)]
    return statistics.median(times), min(times), counter.get_total_flops() / 1e9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--networks", nargs="*", help="registered names (default: every generator)")
    ap.add_argument(
        "--channels-last", action="store_true", help="also time NHWC memory format (ratio vs NCHW, same run)"
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    names = args.networks or [n for n in list_networks() if is_generator(n)]
    peak = matmul_gflops()
    print(f"baseline: fp32 2048² matmul {peak:.1f} GFLOP/s on {args.threads} threads\n")
    print(
        f"{'network':36s} {'size':>5s} {'median s':>8s} {'best s':>7s} {'GFLOPs':>8s} {'GFLOP/s':>8s} {'of matmul':>9s}"
    )
    results: dict[tuple[str, int], tuple[float, float]] = {}
    for name in names:
        for size in args.sizes:
            try:
                sec, best, gfl = measure(name, size, args.repeats)
            except Exception as exc:  # report and go on: one broken network must not hide the others
                print(f"{name:36s} {size:5d}  failed: {type(exc).__name__}: {exc}")
                continue
            results[(name, size)] = (sec, gfl)
            line = f"{name:36s} {size:5d} {sec:8.3f} {best:7.3f} {gfl:8.1f} {gfl / sec:8.1f} {gfl / sec / peak:9.1%}"
            if args.channels_last:
                sec_cl, _, _ = measure(name, size, args.repeats, channels_last=True)
                line += f"   channels_last {sec_cl:.3f} s (×{sec_cl / sec:.2f})"
            print(line)

    print("\nagainst MODELS.md (ratio = ours / reference; time ratios depend on machine load, the")
    print("'of matmul' column above is the load-independent efficiency)")
    for label, (nets, ref_times, ref_gflops) in REFERENCE.items():
        for size in args.sizes:
            if not all((n, size) in results for n in nets):
                continue
            sec = sum(results[(n, size)][0] for n in nets)
            gfl = sum(results[(n, size)][1] for n in nets)
            line = f"{label:28s} {size:4d}²  {sec:6.3f} s"
            if size in ref_times:
                line += f" (ref {ref_times[size]:.2f} s, ×{sec / ref_times[size]:.2f})"
            if size == 512:
                line += f"  {gfl:6.1f} GFLOPs (ref {ref_gflops:.0f}, ×{gfl / ref_gflops:.2f})"
            print(line)


if __name__ == "__main__":
    main()
