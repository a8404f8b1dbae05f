import pytest
import torch
from torch import nn

from advisor.profiling import quality, work


def test_identical_outputs_are_perfect_and_noise_is_measured():
    ref = torch.randn(8, 10)
    same = quality.compare(ref, ref.clone(), "logits")
    assert same.cosine_similarity_min == pytest.approx(1.0) and same.top1_agreement == 1.0
    assert same.max_abs_error == 0 and same.relative_l2_error == 0
    noisy = quality.compare(ref, ref + 0.5 * torch.randn(8, 10), "logits")
    assert noisy.cosine_similarity_mean < 0.999 and noisy.relative_l2_error > 0.1
    assert noisy.items == 8


def test_logits_are_compared_per_position_and_embeddings_per_item():
    ref = torch.randn(2, 5, 7)
    assert quality.compare(ref, ref, "logits").items == 10
    hidden = quality.compare(ref, ref, "hidden")
    assert hidden.items == 2 and hidden.top1_agreement is None and "not logits" in hidden.top1_unavailable_reason


def test_a_non_finite_output_is_not_reported_as_good():
    ref = torch.randn(4, 3)
    bad = ref.clone()
    bad[0, 0] = float("inf")
    result = quality.compare(ref, bad, "embedding")
    assert result.cosine_similarity_mean != result.cosine_similarity_mean  # NaN


def test_flops_of_a_linear_layer_are_exact_on_meta():
    layer = nn.Linear(64, 32)
    with torch.device("meta"):
        meta_layer = nn.Linear(64, 32)
    x = torch.randn(8, 64)
    counted = work.work_count(8, lambda: meta_layer(work.to_meta(x)), lambda: layer(x), "cpu", 1, None)
    assert counted.flops == 2 * 8 * 64 * 32
    assert "meta" in counted.flops_method
    # weight + bias + input read, output written (at least).
    assert counted.unfused_bytes >= 4 * (64 * 32 + 32 + 8 * 64 + 8 * 32)


def test_counting_falls_back_to_real_tensors_and_says_so():
    layer = nn.Linear(4, 4)

    def data_dependent():
        raise RuntimeError("cannot run on meta")

    counted = work.work_count(1, data_dependent, lambda: layer(torch.randn(1, 4)), "cpu", 1, None)
    assert counted.flops == 2 * 16 and "cpu tensors" in counted.flops_method


def test_eval_mode_dropout_is_not_counted_as_a_kernel_but_an_in_place_relu_is():
    # ATen's dropout returns its input when not training: no kernel, no bytes, no launch. relu_ returns its input too,
    # but writes it.
    with torch.device("meta"):
        net = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.1), nn.ReLU(inplace=True)).eval()
    x = torch.empty(4, 8, device="meta")
    _, nbytes, ops, groups = work.count(lambda: net(x), work.weights_of(net))
    assert [g.op for g in groups] == ["aten.linear.default", "aten.relu_.default"]
    assert ops == 2
    # by hand, fp32: linear reads 4x8 input (128 B), 8x8 weight (256 B), bias (32 B), writes 4x8 (128 B); relu_ reads and
    # writes 4x8 (256 B). The dropout between them would have added 256 B more.
    assert nbytes == 544 + 256
