"""`gpu-advisor assess CONFIG`: a language model assessed from its configuration on catalog cards (no weights, no
hub, nothing run): the options, the command and its table."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from advisor.errors import UsageError

MAX_TOKENS = 10_000_000  # beyond any model's context: a larger figure is a typo
MAX_CONCURRENCY = 65536


def add_assess_parser(sub) -> None:
    a = sub.add_parser("assess", help="a language model from its config.json: fit, KV cache, TTFT/TPOT per card",
                       description="Assess a decoder-only language model from its Hugging Face configuration (a folder "
                       "or a bare config.json; no weights needed, nothing downloaded) on catalog cards: fit on 1 to 8 "
                       "GPUs, the KV cache's concurrency, time to first token, time per output token, throughput and "
                       "goodput at an SLO. Every figure is projected; docs/llm-serving.md gives the model and its "
                       "validation.")
    a.add_argument("config", help="a Hugging Face model folder or its config.json")
    a.add_argument("--card", action="append", metavar="NAME", help="a catalog card (repeat; default: every card)")
    a.add_argument("--gpus", default="1,2,4,8", help="GPUs per server, tensor parallel (default 1,2,4,8)")
    a.add_argument("--precision", default="bf16,fp8,int8,int4",
                   help="weights: bf16, fp16, fp8, int8 (W8A8), int4 (AWQ/GPTQ, groups of 128) (default bf16,fp8,int8,int4)")
    a.add_argument("--engine", action="append", metavar="NAME",
                   help="serving engine: vllm (a vLLM-class server, default), tensorrt, graphs (torch.compile with CUDA "
                   "graphs), eager (transformers); repeat for several")
    a.add_argument("--kv-dtype", choices=["auto", "fp8"], default="auto",
                   help="the KV cache's element type: auto (16-bit) or fp8 (where the engine offers it)")
    a.add_argument("--prompt-tokens", type=int, default=1024, help="tokens per prompt (default 1024)")
    a.add_argument("--output-tokens", type=int, default=256, help="tokens per reply (default 256)")
    a.add_argument("--concurrency", default="1,8,32", help="sequences served at once (default 1,8,32)")
    a.add_argument("--ttft-slo-ms", type=float, default=2000.0, help="SLO: time to first token, p95 (default 2000)")
    a.add_argument("--tpot-slo-ms", type=float, default=100.0, help="SLO: time per output token, p95 (default 100)")
    a.add_argument("--all", action="store_true", help="table: every row, also GPU counts beyond the first that fits")
    a.add_argument("--catalog-dir", help="a folder of CSV files extending the bundled catalog")
    a.add_argument("--json", action="store_true", help='print {"assessments": [...]} as JSON')
    a.set_defaults(func=cmd_assess)


def _ints(text: str, option: str, low: int, high: int) -> tuple[int, ...]:
    values = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            raise UsageError(f"{option}: an empty item in {text!r}; give a comma-separated list such as 1,8,32")
        try:
            value = int(item)
        except ValueError:
            raise UsageError(f"{option}: {item!r} is not a whole number") from None
        if not low <= value <= high:
            raise UsageError(f"{option}: {value} is out of range ({low} to {high})")
        values.append(value)
    return tuple(sorted(set(values)))


def _names(text: str, option: str) -> tuple[str, ...]:
    items = tuple(t.strip() for t in text.split(","))
    if not all(items):
        raise UsageError(f"{option}: an empty item in {text!r}; give a comma-separated list")
    return tuple(dict.fromkeys(items))


def _positive(value: float, option: str) -> float:
    if not math.isfinite(value) or value <= 0 or value > 1e9:
        raise UsageError(f"{option}: {value} must be a positive number of milliseconds")
    return value


def cmd_assess(args: argparse.Namespace) -> int:
    from advisor.catalog.catalog import load_catalog, user_catalog_dir
    from advisor.performance.llm.architecture import load_architecture
    from advisor.performance.llm.assess import Request, assess
    from advisor.performance.whatif import resolve_cards

    for value, option in ((args.prompt_tokens, "--prompt-tokens"), (args.output_tokens, "--output-tokens")):
        if not 1 <= value <= MAX_TOKENS:
            raise UsageError(f"{option}: {value} is out of range (1 to {MAX_TOKENS:,})")
    request = Request(args.prompt_tokens, args.output_tokens, _positive(args.ttft_slo_ms, "--ttft-slo-ms"),
                      _positive(args.tpot_slo_ms, "--tpot-slo-ms"), args.kv_dtype)
    arch = load_architecture(Path(args.config))
    engines = tuple(dict.fromkeys(n for text in (args.engine or ["vllm"]) for n in _names(text, "--engine")))
    cards = resolve_cards(load_catalog(user_catalog_dir(args.catalog_dir)), args.card)
    rows = assess(arch, cards, _ints(args.gpus, "--gpus", 1, 64), _names(args.precision, "--precision"), engines,
                  _ints(args.concurrency, "--concurrency", 1, MAX_CONCURRENCY), request)
    if args.json:
        print(json.dumps({"model": arch.name, "request": vars(request),
                          "assessments": [row.to_json() for row in rows]}, indent=1))
        return 0
    print(assess_text(arch, rows, request, show_all=args.all))
    return 0


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def assess_text(arch, rows, request, show_all: bool = False) -> str:
    from advisor.catalog.view import table
    from advisor.performance.llm import work

    p = work.parameters(arch)
    active = f", {p.active_per_token / 1e9:.1f}B active per token" if arch.moe else ""
    head = [f"{arch.name}: {arch.model_type}, {p.total / 1e9:.2f}B parameters{active}, {arch.layers} layers, "
            f"{arch.attention}; KV cache {work.kv_bytes_per_token(arch, 'bf16') / 1024:g} KiB per token in 16 bits.",
            f"Prompt {request.prompt_tokens} tokens, reply {request.output_tokens}; SLO TTFT p95 <= "
            f"{request.ttft_slo_ms:g} ms and TPOT p95 <= {request.tpot_slo_ms:g} ms. All figures PROJECTED "
            "(docs/llm-serving.md)."]
    # Per card, engine and precision: the fewest GPUs that fit, unless --all.
    shown = []
    first_fit: dict[tuple[str, str, str], int] = {}
    unfit: dict[tuple[str, str, str], str | None] = {}
    for row in rows:
        key = (row.card, row.engine, row.precision)
        if row.fits:
            first_fit.setdefault(key, row.gpus)
        else:
            unfit.setdefault(key, row.reason)
    for row in rows:
        key = (row.card, row.engine, row.precision)
        if show_all or first_fit.get(key) == row.gpus:
            shown.append(row)
    table_rows = [["card", "GPUs", "prec.", "engine", "conc.", "fits", "max conc.", "TTFT ms", "TPOT ms (band)",
                   "tok/s", "goodput req/s"]]
    for r in shown:
        band = f"{_ms(r.tpot_ms)} ({_ms(r.tpot_low_ms)}-{_ms(r.tpot_high_ms)})" if r.tpot_ms is not None else "-"
        good = f"{r.goodput_requests_per_s:.3g} @{r.goodput_concurrency}" if r.goodput_requests_per_s else "0"
        table_rows.append([r.card.removeprefix("NVIDIA "), str(r.gpus), r.precision, r.engine, str(r.concurrency),
                           "yes" if r.fits else "no", str(r.max_concurrency), _ms(r.ttft_ms), band,
                           f"{r.output_tokens_per_s:,.0f}" if r.output_tokens_per_s else "-", good])
    never = sorted({f"{card} ({precision}, {engine}): {reason}" for (card, engine, precision), reason in unfit.items()
                    if (card, engine, precision) not in first_fit})
    tail = []
    if never:
        tail.append(f"{len(never)} card/precision/engine combinations serve it on none of the GPU counts asked:")
        tail.extend(f"  {line}" for line in never[:12])
        if len(never) > 12:
            tail.append(f"  ... and {len(never) - 12} more (--json lists every row)")
    if basis := next((r.basis for r in rows if r.basis != "cannot serve"), None):
        tail.append(f"Basis: {basis}")
    return "\n".join(head + ["", table(table_rows)] + tail)
