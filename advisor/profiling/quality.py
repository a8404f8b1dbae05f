"""How far a variant's output drifts from fp32's on the same seeded inputs."""

from __future__ import annotations

import torch

from advisor.schema.report import Quality


def compare(reference: torch.Tensor, candidate: torch.Tensor, output_kind: str) -> Quality:
    """Per item: rows of logits (every position of a language model), else one item per batch entry."""
    ref = reference.detach().to("cpu", torch.float64)
    out = candidate.detach().to("cpu", torch.float64)
    if ref.shape != out.shape:
        raise ValueError(f"output shape {tuple(out.shape)} differs from fp32's {tuple(ref.shape)}")
    if output_kind == "logits":
        ref_items, out_items = ref.reshape(-1, ref.shape[-1]), out.reshape(-1, out.shape[-1])
    else:
        ref_items, out_items = ref.reshape(ref.shape[0], -1), out.reshape(out.shape[0], -1)
    cosine = torch.nn.functional.cosine_similarity(ref_items, out_items, dim=1, eps=1e-30)
    finite = torch.isfinite(out).all().item()
    top1 = top1_reason = None
    if output_kind == "logits":
        top1 = (ref_items.argmax(dim=1) == out_items.argmax(dim=1)).double().mean().item()
    else:
        top1_reason = f"outputs are {output_kind}, not logits: top-1 agreement does not apply"
    nan = float("nan")
    return Quality(
        items=ref_items.shape[0],
        cosine_similarity_mean=cosine.mean().item() if finite else nan,
        cosine_similarity_min=cosine.min().item() if finite else nan,
        relative_l2_error=(torch.linalg.vector_norm(out - ref) / torch.linalg.vector_norm(ref).clamp_min(1e-30)).item()
        if finite else nan,
        max_abs_error=(out - ref).abs().max().item() if finite else nan,
        top1_agreement=top1,
        top1_unavailable_reason=top1_reason,
    )
