"""Counting an operator table as ``torch.autocast("cuda", dtype=torch.float16)`` runs it, on a machine with no GPU.

Published eager fp16 measurements (timm's benchmark with --amp, NVIDIA's DeepLearningExamples "mixed precision") run
an fp32 model under autocast: products and convolutions in fp16, LayerNorm, softmax, sums and others in fp32, with a
cast kernel wherever a tensor meets an operator of the other list (PyTorch's "CUDA Ops that can autocast to float16"
and "... to float32", pytorch.org/docs/stable/amp.html; the lists are ATen/autocast_mode.h of the installed torch).
The profiler's fp16 is a model cast to fp16, which has none of that traffic; this module counts the autocast one, for
the validation of those tables only (benchmarks/count_public_models.py).

Why fake CUDA tensors: autocast is a dispatch key of a tensor's device (AutocastCUDA), so meta tensors never see the
CUDA lists, and CPU autocast applies the CPU lists, which differ. A FakeTensor that says it lives on "cuda" carries
AutocastCUDA and computes on meta, so the CUDA lists run, with no GPU, and the counter (work.py) sees each cast as
an `aten.to` that made a new tensor. ``torch.autocast("cuda")`` disables itself where CUDA is not available, so the
same thread-local switches it sets are set here directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch._subclasses.fake_tensor import FakeTensor, FakeTensorMode
from torch.utils._pytree import tree_leaves

from advisor.profiling.work import count, weights_of
from advisor.schema.report import OperatorGroup

AMP_FP16 = "amp_fp16"  # the table's name: an fp32 model under torch.autocast fp16 on a CUDA card
_CUDA, _META = torch.device("cuda", 0), torch.device("meta")


@contextmanager
def cuda_autocast_fp16() -> Iterator[None]:
    """What ``torch.autocast("cuda", dtype=torch.float16)`` switches on, without its check for a GPU."""
    enabled, dtype, cache = torch.is_autocast_enabled("cuda"), torch.get_autocast_dtype("cuda"), torch.is_autocast_cache_enabled()
    torch.set_autocast_enabled("cuda", True)
    torch.set_autocast_dtype("cuda", torch.float16)
    torch.autocast_increment_nesting()
    try:
        yield
    finally:
        if torch.autocast_decrement_nesting() == 0:
            torch.clear_autocast_cache()
        torch.set_autocast_enabled("cuda", enabled)
        torch.set_autocast_dtype("cuda", dtype)
        torch.set_autocast_cache_enabled(cache)


def count_under_autocast(net: torch.nn.Module, inputs: tuple) -> tuple[int, int, int, list[OperatorGroup]]:
    """``count`` of one call of a model built on meta tensors, run as autocast fp16 runs it on a CUDA card.

    The model and inputs are moved onto fake CUDA tensors in place (the model is of no other use afterwards)."""
    mode = FakeTensorMode()

    def fake(t: torch.Tensor) -> torch.Tensor:
        if t.device.type != "meta":
            raise ValueError(f"count_under_autocast needs a model and inputs on meta tensors, got one on {t.device}")
        return FakeTensor(mode, t, _CUDA)

    net._apply(fake)
    args = tuple(fake(x) if isinstance(x, torch.Tensor) else x for x in inputs)

    def run():
        with cuda_autocast_fp16(), _device_init_off_the_card():
            return net(*args)

    with mode:
        return count(run, weights_of(net))


# Tensor methods whose Python binding initialises the tensor's device before dispatching, which a build without
# CUDA refuses: Python indexing (x[:, 0]) and contiguous(). Found by running every counted model.
_INITIALISE_THE_DEVICE = ("__getitem__", "__setitem__", "contiguous")


@contextmanager
def _device_init_off_the_card() -> Iterator[None]:
    """During those methods the fake tensors they touch say "meta", and a tensor they return says "cuda" again. Their
    ops (slice, select, index, clone) still reach the counter; no autocast list names them."""

    def off_the_card(method):
        def call(*args, **kwargs):
            on_card = [t for t in tree_leaves((args, kwargs)) if isinstance(t, FakeTensor) and t.fake_device == _CUDA]
            for t in on_card:
                t.fake_device = _META
            try:
                out = method(*args, **kwargs)
            finally:
                for t in on_card:
                    t.fake_device = _CUDA
            if isinstance(out, FakeTensor):
                out.fake_device = _CUDA
            return out
        return call

    originals = {name: getattr(torch.Tensor, name) for name in _INITIALISE_THE_DEVICE}
    try:
        for name, method in originals.items():
            setattr(torch.Tensor, name, off_the_card(method))
        yield
    finally:
        for name, method in originals.items():
            setattr(torch.Tensor, name, method)
