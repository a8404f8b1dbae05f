"""`gpu-advisor assess CONFIG`: a language model assessed from its configuration on catalog cards (no weights, no
hub, nothing run): the options, the command and its table."""

from __future__ import annotations

import argparse
import json
import math
import sys
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
    a.add_argument("--all", action="store_true", help="table: every row, also GPU counts beyond the first that serves")
    a.add_argument("--catalog-dir", help="a folder of CSV files extending the bundled catalog")
    a.add_argument("--json", action="store_true", help='print {"assessments": [...]} as JSON')
    a.add_argument("--measure", action="store_true",
                   help="instead: build the model (fewer layers, seeded random weights) on this machine's GPU or CPU, "
                   "time its prefill and decode, fit the engine's decode terms (needs the hf extra; minutes)")
    a.add_argument("--reps", type=int, help="--measure: interleaved repeats (default 5)")
    a.add_argument("--out", metavar="CAL.json", help="--measure: write the calibration here")
    a.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    a.add_argument("--calibration", metavar="CAL.json",
                   help="apply a GPU measurement's calibration (from --measure --out) to the engine it measured")
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

    if args.measure:
        return measure_command(args)
    if given := [option for option, value in (("--out", args.out), ("--reps", args.reps)) if value is not None]:
        raise UsageError(f"{_options_go(given)} with --measure (assess CONFIG --measure --out CAL.json)")
    for value, option in ((args.prompt_tokens, "--prompt-tokens"), (args.output_tokens, "--output-tokens")):
        if not 1 <= value <= MAX_TOKENS:
            raise UsageError(f"{option}: {value} is out of range (1 to {MAX_TOKENS:,})")
    request = Request(args.prompt_tokens, args.output_tokens, _positive(args.ttft_slo_ms, "--ttft-slo-ms"),
                      _positive(args.tpot_slo_ms, "--tpot-slo-ms"), args.kv_dtype)
    arch = load_architecture(Path(args.config))
    engines = tuple(dict.fromkeys(n for text in (args.engine or ["vllm"]) for n in _names(text, "--engine")))
    cal = applied_calibration(args.calibration, arch, engines)
    cards = resolve_cards(load_catalog(user_catalog_dir(args.catalog_dir)), args.card)
    rows = assess(arch, cards, _ints(args.gpus, "--gpus", 1, 64), _names(args.precision, "--precision"), engines,
                  _ints(args.concurrency, "--concurrency", 1, MAX_CONCURRENCY), request, cal)
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
    from advisor.report.format import count

    p = work.parameters(arch)
    active = f", {count(p.active_per_token)} active per token" if arch.moe else ""
    head = [f"{arch.name}: {arch.model_type}, {count(p.total)} parameters{active}, {arch.layers} layers, "
            f"{arch.attention}; KV cache {work.kv_bytes_per_token(arch, 'bf16') / 1024:g} KiB per token in 16 bits.",
            f"Prompt {request.prompt_tokens} tokens, reply {request.output_tokens}; SLO TTFT p95 <= "
            f"{request.ttft_slo_ms:g} ms and TPOT p95 <= {request.tpot_slo_ms:g} ms. All figures PROJECTED "
            "(docs/llm-serving.md)."]
    # Per card, engine and precision: the fewest GPUs that serve one of the concurrencies asked, unless --all.
    shown = []
    first_fit: dict[tuple[str, str, str], int] = {}
    unfit: dict[tuple[str, str, str], str | None] = {}
    for row in rows:
        key = (row.card, row.engine, row.precision)
        if row.serves:
            first_fit.setdefault(key, row.gpus)
        else:
            unfit.setdefault(key, row.reason)
    for row in rows:
        key = (row.card, row.engine, row.precision)
        if show_all or first_fit.get(key) == row.gpus:
            shown.append(row)
    table_rows = [["card", "GPUs", "prec.", "engine", "conc.", "serves", "max conc.", "TTFT ms", "TPOT ms (band)",
                   "tok/s", "goodput req/s"]]
    for r in shown:
        band = f"{_ms(r.tpot_ms)} ({_ms(r.tpot_low_ms)}-{_ms(r.tpot_high_ms)})" if r.tpot_ms is not None else "-"
        good = f"{r.goodput_requests_per_s:.3g} @{r.goodput_concurrency}" if r.goodput_requests_per_s else "0"
        table_rows.append([r.card.removeprefix("NVIDIA "), str(r.gpus), r.precision, r.engine, str(r.concurrency),
                           "yes" if r.serves else "no", str(r.max_concurrency), _ms(r.ttft_ms), band,
                           f"{r.output_tokens_per_s:,.0f}" if r.output_tokens_per_s else "-", good])
    never = sorted({f"{card} ({precision}, {engine}): {reason}" for (card, engine, precision), reason in unfit.items()
                    if (card, engine, precision) not in first_fit})
    tail = []
    if never:
        tail.append(f"{len(never)} card/precision/engine combinations serve it on none of the GPU counts asked:")
        tail.extend(f"  {line}" for line in never[:12])
        if len(never) > 12:
            tail.append(f"  ... and {len(never) - 12} more (--json lists every row)")
    # One basis of each kind (a calibration's measured card, its host terms on other cards, the published terms).
    from advisor.performance.llm.calibration import basis_kind

    kinds: dict[str, str] = {}
    for r in rows:
        if r.basis != "cannot serve":
            kinds.setdefault(basis_kind(r.basis), r.basis)
    tail.extend(f"Basis: {basis}" for basis in kinds.values())
    tail.append("goodput req/s: the most requests a second with TTFT and TPOT p95 both within the SLO, the timings taken "
                "at the slow end of their band; @N: with N sequences in flight; 0: not even one at a time meets it, or "
                "the model does not fit")
    return "\n".join(head + ["", table(table_rows)] + tail)


def _options_go(given: list[str]) -> str:
    """"--out goes" or "--out and --reps go": the options given, as a sentence's subject."""
    return f"{' and '.join(given)} {'go' if len(given) > 1 else 'goes'}"


def applied_calibration(given: str | None, arch, engines: tuple[str, ...]):
    """--calibration's file, checked against the model and the engines asked (None without the option)."""
    if not given:
        return None
    from advisor.performance.llm.calibration import for_model, load_calibration

    return for_model(load_calibration(Path(given)), arch, engines, Path(given))


def measure_command(args: argparse.Namespace) -> int:
    """assess CONFIG --measure: measure, print the points and the fit, write --out; exit 1 when nothing calibrated."""
    from advisor.catalog.catalog import load_catalog, user_catalog_dir
    from advisor.cli.measure_text import calibration_text
    from advisor.files import check_writable, destination
    from advisor.performance.llm.architecture import architecture, config_file, read_config
    from advisor.performance.llm.calibration import calibrate, write_calibration
    from advisor.performance.llm.measure import MAX_REPS, REPS, depths, measure, probe_bandwidth_gbs, require_hf

    if args.calibration:
        raise UsageError("--measure makes a calibration; apply it afterwards: assess CONFIG --calibration CAL.json")
    if given := [option for option, value in (("--engine", args.engine), ("--card", args.card)) if value]:
        # measured as asked otherwise: eager whatever --engine named, and no word said
        raise UsageError(f"{_options_go(given)} with the projection, not "
                         "--measure, which times eager (and graphs on a CUDA GPU) on this machine: leave "
                         f"{'them' if len(given) > 1 else 'it'} out")
    reps = REPS if args.reps is None else args.reps
    if not 2 <= reps <= MAX_REPS:
        raise UsageError(f"--reps {reps}: give 2 to {MAX_REPS} repeats")
    path = Path(args.config)
    config = read_config(path)
    name = path.name if path.is_dir() else path.parent.name or path.name
    depths(architecture(config, name))  # one line on what is wrong with it (a 1-layer model), before anything is built
    if args.out is not None and not args.out.strip():
        raise UsageError("--out is empty: give the calibration file's name, e.g. --out CAL.json")
    if args.out:
        # refused before minutes of measuring
        destination(Path(args.out), args.overwrite, inputs=[config_file(path)], example="calibration.json")
        check_writable(Path(args.out).parent, "--out path")
    require_hf()
    m = measure(config, name, reps=reps, progress=lambda line: print(f"measure: {line}", file=sys.stderr, flush=True))
    card = load_catalog(user_catalog_dir(args.catalog_dir)).find_card(m.device_name) if m.device == "cuda" else None
    if card is not None and card.memory_bandwidth_gbs:
        bandwidth, source = card.memory_bandwidth_gbs, f"catalog: {card.name}"
    else:
        probes = probe_bandwidth_gbs(m.device)
        best = max(probes, key=lambda k: probes[k])
        bandwidth, source = probes[best], f"probe: {best}, the fastest of {len(probes)} probes"
    cal = calibrate(m, bandwidth, source, card)
    print(calibration_text(cal, m.full))
    if args.out:
        write_calibration(cal, Path(args.out), args.overwrite, inputs=(config_file(path),))
        print(f"Wrote {args.out}")
    return 0 if any(f.refused is None for f in cal.fits.values()) else 1
