"""Counting an operator table as torch.autocast fp16 runs it on a CUDA card (advisor/profiling/autocast.py), and the
validation projecting the published AMP rows from such tables."""

import pytest
import torch
from torch import nn

from advisor.performance.validation import AMP_FP16, counted_tables, published_points, runs_under_autocast
from advisor.profiling.autocast import count_under_autocast


class _Toy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc, self.norm = nn.Linear(8, 16), nn.LayerNorm(16)

    def forward(self, x):
        return torch.softmax(self.norm(self.fc(x)), -1)


def test_a_linear_layernorm_softmax_toy_counts_as_cuda_autocast_runs_it():
    """Worked by hand (batch 4, 8 in, 16 out). Autocast's CUDA lists (pytorch.org/docs/stable/amp.html): linear in
    fp16, layer_norm and softmax in fp32; a cast kernel wherever a tensor meets the other list."""
    with torch.device("meta"):
        net = _Toy().eval()
    flops, nbytes, ops, groups = count_under_autocast(net, (torch.empty(4, 8, device="meta"),))
    found = sorted((g.op, g.in_linear, g.count, g.bytes, g.weight_bytes) for g in groups)
    assert found == sorted([
        # the linear's operands cast fp32 -> fp16: read 4 bytes and write 2 an element; a weight's copy stays a weight
        ("aten.to.dtype", True, 1, 16 * 6, 16 * 6),  # bias
        ("aten.to.dtype", True, 1, 16 * 8 * 6, 16 * 8 * 6),  # weight
        ("aten.to.dtype", True, 1, 4 * 8 * 6, 0),  # input
        ("aten.linear.default", True, 1, 2 * (4 * 8 + 16 * 8 + 16 + 4 * 16), 2 * (16 * 8 + 16)),  # all fp16
        ("aten.to.dtype", False, 1, 4 * 16 * 6, 0),  # its fp16 output back to fp32 for layer_norm
        ("aten.layer_norm.default", False, 1, 4 * (4 * 16 * 2 + 2 * 16), 4 * 2 * 16),  # all fp32
        ("aten.softmax.int", False, 1, 4 * 4 * 16 * 2, 0),  # fp32 in, fp32 out
    ])
    assert flops == 2 * 4 * 8 * 16 and ops == 7 and nbytes == sum(g.bytes * g.count for g in groups) == 3072


def test_a_model_not_on_meta_tensors_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="meta tensors"):
        count_under_autocast(_Toy(), (torch.empty(4, 8),))


def test_only_eager_fp16_rows_whose_source_says_autocast_take_the_autocast_table():
    points = published_points()
    amp = [p for p in points if runs_under_autocast(p)]
    assert amp and all(p.engine == "eager" and p.precision == "fp16" for p in amp)
    # a model cast with .half() is the product's own fp16: not autocast
    assert not any(runs_under_autocast(p) for p in points if ".half()" in p.setup)
    counted = counted_tables()
    for point in amp:
        assert ":" not in point.model or (point.model, point.size, AMP_FP16) in counted, point.model


def test_an_autocast_table_keeps_the_float_models_arithmetic_and_adds_its_casts():
    counted = counted_tables()
    for (model, size, precision), table in counted.items():
        if precision != AMP_FP16:
            continue
        plain = counted[(model, size, "fp32")]
        assert sum(g.flops * g.count for g in table.operators) == sum(g.flops * g.count for g in plain.operators)
        assert table.op_count > plain.op_count  # the casts are kernels
        assert any(g.op == "aten.to.dtype" for g in table.operators)
