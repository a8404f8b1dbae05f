"""A Hugging Face folder with the architecture of sentence-transformers/all-MiniLM-L6-v2, for the fidelity
benchmarks on a real Hugging Face model where its weights cannot be fetched (no model hub from this machine).

The configuration is the model's own (huggingface.co/sentence-transformers/all-MiniLM-L6-v2, config.json:
BertModel, 6 layers, hidden size 384, 12 heads, intermediate size 1536, vocabulary 30522, 512 positions);
the weights are seeded random ones, saved as safetensors. Dense fp32 latency does not depend on the
weights' values, so the profiler and torch.utils.benchmark time the same work as on the real model; the
quality figures of such a folder mean nothing and are not used.

Usage: python benchmarks/minilm_folder.py OUT_FOLDER
"""

from __future__ import annotations

import sys
from pathlib import Path


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit("usage: python benchmarks/minilm_folder.py OUT_FOLDER")
    import torch
    from transformers import BertConfig, BertModel

    out = Path(sys.argv[1])
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"{out} is not empty: give a new folder")
    config = BertConfig(vocab_size=30522, hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                        intermediate_size=1536, max_position_embeddings=512, type_vocab_size=2,
                        hidden_act="gelu", layer_norm_eps=1e-12, architectures=["BertModel"])
    torch.manual_seed(0)
    BertModel(config).eval().save_pretrained(out, safe_serialization=True)
    print(out)


if __name__ == "__main__":
    main()
