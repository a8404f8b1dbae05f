"""Count the operators of public architectures, for the projection check on models nobody fitted on.

The validation (benchmarks/projection_validation.py) projects published measurements of public models
(profiles/validation/published_engines.csv) from their operator tables, as it projects a CPU profile onto a card:
the model alone, nothing measured carried. This script counts those tables once, with the profiler's own counter
(advisor/profiling/work.py) on meta tensors, and writes profiles/validation/public_models.json, so the validation
itself needs neither torchvision nor transformers.

Needs torchvision built for the installed torch (and transformers, the project's `hf` extra, for BERT):
    python benchmarks/count_public_models.py [--out profiles/validation/public_models.json] [--missing]
--missing counts only the tables the file at --out lacks and keeps its other tables (new rows need only the package that
builds their models, e.g. transformers for a new BERT sequence length).
Each (model, size) gets the float model's table (precision fp32: a precision scales its bytes); one that an eager fp16
row ran under torch.autocast also gets one counted as autocast runs it on a CUDA card (precision amp_fp16,
advisor/profiling/autocast.py: products in fp16, LayerNorm and softmax in fp32, the casts between them counted).
Model keys: torchvision:<constructor> (at size `default`: the image size in IMAGE_SIZES, else 224) and
hf:bert-base-uncased / hf:bert-large-uncased / hf:nreimers/MiniLM-L6-H384-uncased / hf:distilbert-base-uncased at size
seqN.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from advisor.performance.validation import AMP_FP16, published_points, runs_under_autocast  # noqa: E402
from advisor.profiling.autocast import count_under_autocast  # noqa: E402
from advisor.profiling.work import count, weights_of  # noqa: E402

POINTS = ROOT / "profiles" / "validation" / "published_engines.csv"
OUT = ROOT / "profiles" / "validation" / "public_models.json"
# The resolution each torchvision model is published at where it is not 224 (torchvision's model docs).
IMAGE_SIZES = {"efficientnet_b1": 240, "efficientnet_b2": 288, "efficientnet_b3": 300, "efficientnet_b4": 380,
               "inception_v3": 299, "efficientnet_v2_s": 384, "vit_h_14": 518}
BERT = {  # the published configurations (hidden size, layers, heads, feed-forward)
    "hf:bert-base-uncased": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072),
    "hf:bert-large-uncased": dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096),
    # MiniLM-L6-H384 (sentence-transformers/all-MiniLM-L6-v2's config.json, _name_or_path nreimers/MiniLM-L6-H384-uncased)
    "hf:nreimers/MiniLM-L6-H384-uncased": dict(hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                                               intermediate_size=1536),
}


def wanted(points: Path) -> list[tuple[str, str, str]]:
    """The (model, size, precision) tables the published file needs, besides the built-ins (profiled, not counted here)."""
    rows = [p for p in published_points(points.read_text(encoding="utf-8")) if ":" in p.model]
    return sorted({(p.model, p.size, "fp32") for p in rows} | {(p.model, p.size, AMP_FP16) for p in rows
                                                                if runs_under_autocast(p)})


def build(model: str, size: str, batch: int) -> tuple[torch.nn.Module, tuple, str]:
    """The model on meta tensors, its inputs, and what was built."""
    family, name = model.split(":", 1)
    if family == "torchvision":
        import torchvision

        side = IMAGE_SIZES.get(name, 224)
        try:
            with torch.device("meta"):
                net = getattr(torchvision.models, name)(weights=None).eval()
        except NotImplementedError:  # a constructor that computes its widths from tensors (RegNet): build, then move
            net = getattr(torchvision.models, name)(weights=None).eval().to("meta")
        return (net, (torch.empty(batch, 3, side, side, device="meta"),),
                f"torchvision {torchvision.__version__}, {side}x{side}")
    with torch.device("meta"):
        if family == "hf" and size.startswith("seq"):
            import transformers

            seq = int(size[3:])
            if name == "distilbert-base-uncased":
                net = transformers.DistilBertModel(transformers.DistilBertConfig()).eval()
            else:
                net = transformers.BertModel(transformers.BertConfig(**BERT[model])).eval()
            ids = torch.zeros(batch, seq, dtype=torch.long)
            return net, (ids,), f"transformers {transformers.__version__}, {seq} tokens"
    raise SystemExit(f"cannot build {model} at size {size}: add it to benchmarks/count_public_models.py")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--missing", action="store_true", help="count only the pairs the file at --out lacks")
    args = parser.parse_args()
    kept = json.loads(Path(args.out).read_text(encoding="utf-8"))["tables"] if args.missing else []
    counted = {(t["model"], t["size"], t["precision"]) for t in kept}
    tables = list(kept)
    for model, size, precision in wanted(POINTS):
        if (model, size, precision) in counted:
            continue
        started = time.perf_counter()
        net, inputs, built = build(model, size, 1)
        parameters = sum(p.numel() for p in net.parameters())
        if precision == AMP_FP16:
            flops, nbytes, ops, groups = count_under_autocast(net, inputs)
            built += ", under torch.autocast fp16 with CUDA's op lists (fake CUDA tensors)"
        else:
            flops, nbytes, ops, groups = count(lambda net=net, inputs=inputs: net(*inputs), weights_of(net))
        tables.append({"model": model, "size": size, "precision": precision, "batch_size": 1, "built": built,
                       "flops": flops, "unfused_bytes": nbytes, "op_count": ops, "parameters": parameters,
                       "operators": [g.model_dump() for g in groups]})
        print(f"{model} {size} {precision}: {flops / 1e9:.2f} GFLOP, {ops} operators, {len(groups)} groups ({built}; "
              f"{time.perf_counter() - started:.1f} s)")
    tables.sort(key=lambda t: (t["model"], t["size"], t["precision"]))
    Path(args.out).write_text(json.dumps({"counted_with": f"torch {torch.__version__}, FlopCounterMode on meta "
                                                           "tensors (advisor/profiling/work.py; amp_fp16 tables on fake "
                                                           "CUDA tensors, advisor/profiling/autocast.py), batch 1",
                                          "tables": tables}, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
