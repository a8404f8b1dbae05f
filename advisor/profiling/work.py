"""FLOPs and bytes per batch, counted once on the float model, in total and operator by operator.

``FlopCounterMode`` counts matrix products, convolutions and attention. Run on meta tensors it is
exact and costs no compute; on real CPU tensors it misses the fused CPU attention kernel
(4.295 of 4.429 GFLOP for an encoder, measured on a 2-vCPU machine), so meta is tried first and the method recorded.
The byte count adds up every operator's inputs and outputs (an upper bound: nothing fused or cached).
Operators with the same name, kind and sizes are grouped with a count: that table is what the
performance model (advisor/performance) costs on other cards.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

from advisor.schema.report import OperatorGroup, WorkCount

# Operators that run on tensor cores (or the CPU's matrix units); everything else is costed by its bytes.
_MATMUL = {"mm", "addmm", "bmm", "baddbmm", "matmul", "linear", "_int_mm", "_scaled_mm", "addbmm", "dot", "mv"}
_CONV = {"convolution", "_convolution", "cudnn_convolution", "conv2d", "conv1d", "conv3d", "mkldnn_convolution"}


def operator_kind(name: str) -> str:
    """matmul, conv, attention or other, from an aten overload packet name such as 'addmm'."""
    if name in _MATMUL:
        return "matmul"
    if name in _CONV:
        return "conv"
    if "scaled_dot_product" in name or "flash_attention" in name or "efficient_attention" in name:
        return "attention"
    return "other"


_GATHERS = {"embedding", "index_select", "embedding_bag"}


def _bytes_of(value) -> int:
    return sum(v.numel() * v.element_size() for v in torch.utils._pytree.tree_leaves(value) if isinstance(v, torch.Tensor))


def _storage_key(tensor: torch.Tensor) -> int | None:
    try:
        return tensor.untyped_storage()._cdata
    except (RuntimeError, NotImplementedError):  # tensor subclasses without a plain storage
        return None


# ATen's dropouts return their input, with no kernel, when not training or when p is 0 (_dropout_impl in
# pytorch/pytorch aten/src/ATen/native/Dropout.cpp, checked at @92426d6 and in torch 2.13). Counted on meta, a
# FlopCounterMode decomposes them into a copy, so they are recognised by name and arguments.
_DROPOUTS = {"dropout", "feature_dropout", "alpha_dropout", "feature_alpha_dropout"}


def _runs_no_kernel(name: str, args: tuple, kwargs: dict) -> bool:
    """A dropout in eval mode (an inference profile's model is in eval mode): no kernel, no bytes, no launch."""
    if name not in _DROPOUTS:
        return False
    given = dict(zip(("input", "p", "train"), args)) | kwargs
    return given.get("train") is False or given.get("p") == 0


def _cast(func, args: tuple, out) -> bool:
    """A `to` that made a new tensor (a dtype cast, as torch.autocast inserts): a copy kernel. `to` has a view's
    schema, and returns its input, with no kernel, when nothing changes; prim ops (prim.device) only ask."""
    return (func._overloadpacket.__name__ in ("to", "_to_copy") and bool(args) and isinstance(args[0], torch.Tensor)
            and isinstance(out, torch.Tensor) and _storage_key(out) != _storage_key(args[0]))


class _OperatorCounter(TorchDispatchMode):
    """Records every operator (views excepted) with its FLOPs (read from the enclosing FlopCounterMode),
    its bytes, the bytes of model weights among them, and whether it ran inside an nn.Linear."""

    def __init__(self, flops: FlopCounterMode, weight_storages: set[int], linear_depth: list[int]) -> None:
        super().__init__()
        self.flops = flops
        self.weight_storages = weight_storages
        self.linear_depth = linear_depth
        self.bytes = 0
        self.ops = 0
        self.groups: dict[tuple, int] = {}
        self.weight_copies: list[torch.Tensor] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        before = self.flops.get_total_flops()
        out = func(*args, **(kwargs or {}))
        name = func._overloadpacket.__name__
        cast = _cast(func, args, out)
        if (func.namespace == "prim" or func in (torch.ops.aten.detach.default,) or _runs_no_kernel(name, args, kwargs or {})
                or (func.is_view and not cast)):
            return out
        if cast and _storage_key(args[0]) in self.weight_storages and (copy := _storage_key(out)) is not None:
            # autocast's copy of a weight (fp32 to fp16) has the weight's size at every batch: a weight too. Kept alive,
            # so that no later tensor gets its storage's address (the key) once it is freed.
            self.weight_storages.add(copy)
            self.weight_copies.append(out)
        self.ops += 1
        nbytes = weight = 0
        for value in torch.utils._pytree.tree_leaves((args, kwargs, out)):
            if isinstance(value, torch.Tensor):
                size = value.numel() * value.element_size()
                if _storage_key(value) in self.weight_storages:
                    if name in _GATHERS:  # a lookup reads the rows it returns, not the whole table
                        size = min(size, _bytes_of(out))
                    weight += size
                nbytes += size
        self.bytes += nbytes
        key = (str(func), operator_kind(name), self.linear_depth[0] > 0,
               self.flops.get_total_flops() - before, nbytes, weight)
        self.groups[key] = self.groups.get(key, 0) + 1
        return out


def weights_of(module: torch.nn.Module) -> list[torch.Tensor]:
    return [*module.parameters(), *module.buffers()]


def count(run: Callable[[], object], weights: list[torch.Tensor] | tuple = ()) -> tuple[int, int, int, list[OperatorGroup]]:
    """Total FLOPs, unfused bytes and operators of one call, and the per-operator table.

    ``weights``: the model's parameters and buffers, as the call sees them."""
    flops = FlopCounterMode(display=False)
    depth = [0]

    def enter(module, _args):
        if isinstance(module, torch.nn.Linear):
            depth[0] += 1

    def leave(module, _args, _out):
        if isinstance(module, torch.nn.Linear):
            depth[0] -= 1

    counter = _OperatorCounter(flops, {k for k in map(_storage_key, weights) if k is not None}, depth)
    hooks = [torch.nn.modules.module.register_module_forward_pre_hook(enter),
             torch.nn.modules.module.register_module_forward_hook(leave)]
    try:
        with torch.inference_mode(), flops, counter:
            run()
    finally:
        for hook in hooks:
            hook.remove()
    groups = [OperatorGroup(op=op, kind=kind, in_linear=linear, count=n, flops=f, bytes=b, weight_bytes=w)
              for (op, kind, linear, f, b, w), n in counter.groups.items()]
    return flops.get_total_flops(), counter.bytes, counter.ops, groups


def to_meta(value):
    return torch.utils._pytree.tree_map(
        lambda v: torch.empty_like(v, device="meta") if isinstance(v, torch.Tensor) else v, value)


def io_bytes(inputs: tuple, output) -> int:
    return _bytes_of((inputs, output))


def work_count(batch_size: int, run_meta: Callable[[], object] | None, run_real: Callable[[], object],
               device_type: str, weight_reads: int, io: int | None,
               meta_weights: list | tuple = (), real_weights: list | tuple = ()) -> WorkCount:
    """Count on meta when possible, else on the real model and say which."""
    if run_meta is not None:
        try:
            flops, nbytes, ops, groups = count(run_meta, meta_weights)
            return WorkCount(batch_size=batch_size, flops=flops, unfused_bytes=nbytes, io_bytes=io, op_count=ops,
                             operators=groups, weight_reads=weight_reads,
                             flops_method="torch FlopCounterMode on meta tensors (exact shapes)")
        except Exception:  # data-dependent code cannot run on meta: count on real tensors instead
            pass
    try:
        flops, nbytes, ops, groups = count(run_real, real_weights)
    except Exception as exc:
        return WorkCount(batch_size=batch_size, flops=None, weight_reads=weight_reads, io_bytes=io,
                         flops_unavailable_reason=f"counting failed: {str(exc).splitlines()[0][:200]}")
    method = f"torch FlopCounterMode on {device_type} tensors"
    if device_type == "cpu":
        method += " (misses the fused CPU attention kernel: a small undercount for attention models)"
    return WorkCount(batch_size=batch_size, flops=flops, unfused_bytes=nbytes, io_bytes=io, op_count=ops,
                     operators=groups, weight_reads=weight_reads, flops_method=method)
