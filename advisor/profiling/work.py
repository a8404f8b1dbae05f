"""FLOPs and bytes per batch, counted once on the float model.

``FlopCounterMode`` counts matrix products, convolutions and attention. Run on meta tensors it is
exact and costs no compute; on real CPU tensors it misses the fused CPU attention kernel
(METHODS.md: 4.295 of 4.429 GFLOP for an encoder), so meta is tried first and the method recorded.
The byte count adds up every operator's inputs and outputs (an upper bound: nothing fused or cached).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

from advisor.report.schema import WorkCount



class _ByteCounter(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.bytes = 0
        self.ops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func.is_view or func in (torch.ops.aten.detach.default,):
            return out
        self.ops += 1
        for value in torch.utils._pytree.tree_leaves((args, kwargs, out)):
            if isinstance(value, torch.Tensor):
                self.bytes += value.numel() * value.element_size()
        return out


def count(run: Callable[[], object]) -> tuple[int, int, int]:
    flops = FlopCounterMode(display=False)
    counter = _ByteCounter()
    with torch.inference_mode(), flops, counter:
        run()
    return flops.get_total_flops(), counter.bytes, counter.ops


def to_meta(value):
    return torch.utils._pytree.tree_map(
        lambda v: torch.empty_like(v, device="meta") if isinstance(v, torch.Tensor) else v, value)


def io_bytes(inputs: tuple, output) -> int:
    leaves = torch.utils._pytree.tree_leaves((inputs, output))
    return sum(v.numel() * v.element_size() for v in leaves if isinstance(v, torch.Tensor))


def work_count(batch_size: int, run_meta: Callable[[], object] | None, run_real: Callable[[], object],
               device_type: str, weight_reads: int, io: int | None) -> WorkCount:
    """Count on meta when possible, else on the real model and say which."""
    if run_meta is not None:
        try:
            flops, nbytes, ops = count(run_meta)
            return WorkCount(batch_size=batch_size, flops=flops, unfused_bytes=nbytes, io_bytes=io, op_count=ops,
                             weight_reads=weight_reads, flops_method="torch FlopCounterMode on meta tensors (exact shapes)")
        except Exception:  # data-dependent code cannot run on meta: count on real tensors instead
            pass
    try:
        flops, nbytes, ops = count(run_real)
    except Exception as exc:
        return WorkCount(batch_size=batch_size, flops=None, weight_reads=weight_reads, io_bytes=io,
                         flops_unavailable_reason=f"counting failed: {str(exc).splitlines()[0][:200]}")
    method = f"torch FlopCounterMode on {device_type} tensors"
    if device_type == "cpu":
        method += " (misses the fused CPU attention kernel: a small undercount for attention models)"
    return WorkCount(batch_size=batch_size, flops=flops, unfused_bytes=nbytes, io_bytes=io, op_count=ops,
                     weight_reads=weight_reads, flops_method=method)
