"""The language-model serving model against published measurements, out of sample: fits each engine's
efficiencies on the fit split of profiles/validation/llm_serving.csv and reports the error on its held-out split.

1. Cases: every published row on a catalog card, with a numeric concurrency, prompt and reply, in a precision the
   model knows, served by an engine the model has (gpt-fast -> graphs; transformers' generate -> eager; vLLM,
   SGLang, TGI, LMDeploy -> vllm; TensorRT-LLM -> tensorrt). llama.cpp, fp4 and cards outside the catalog are
   left out and counted, and so is a TTFT row whose load (the csv's load column: how its source sent requests)
   was not read; each TTFT row is projected under its load (projected()).
2. Per engine, a grid search for the decode efficiency (share of memory bandwidth), the host time per step and
   the prefill efficiency (share of the tensor peak) that minimise the mean squared log(projected/published) over
   the engine's fit rows; engines with no fit row keep their assumed constants. Alternating with it, three rounds,
   the constants all engines share: the all-reduce latency per kind of link (fit on the multi-GPU rows) and the
   share of the bandwidth int8 and int4 weights reach (fit on the quantized rows).
3. The band of each engine (x and ÷): from its leave-one-group-out errors on the fit split (each group projected
   with constants fitted without it), the 80th percentile; never narrower than that of all engines pooled.
4. The held-out rows, never fitted on: median error and how often they fall inside the band, per engine and metric.
   Also counted: published setups the memory model says do not fit (a check of the memory accounting).

Usage: python benchmarks/llm_validation.py [--cases]
Paste the printed constants into advisor/performance/llm/engines.py and the tables into docs/llm-serving.md.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import math
import statistics
import time
from dataclasses import dataclass, replace
from pathlib import Path

from advisor.catalog.cards import Card
from advisor.catalog.catalog import bundled_catalog
from advisor.performance.llm import interconnect, work
from advisor.performance.llm.architecture import Architecture, architecture
from advisor.performance.llm.engines import SERVING, ServingEngine
from advisor.performance.llm.serving import Setup, first_tokens_ms, memory_fit, timing, why_not

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "profiles" / "validation"
ENGINE_OF = {"gpt-fast": "graphs", "hf-eager": "eager", "vllm": "vllm", "sglang": "vllm", "tgi": "vllm",
             "lmdeploy": "vllm", "tensorrt-llm": "tensorrt"}
DECODE_METRICS = ("decode_tok_s", "tpot_ms", "throughput_tok_s")


@dataclass(frozen=True)
class Case:
    model: str
    card: Card
    gpus: int
    engine: str
    static: bool  # the source ran a static batch (TensorRT-LLM's gptSessionBenchmark, LMDeploy's profile_generation)
    precision: str
    kv_dtype: str
    concurrency: int
    prompt: int
    output: int
    metric: str
    published: float
    split: str
    group: str
    source: str
    load: str  # how the source sent requests, read for TTFT rows (the csv's header says what each value means)


def load_cases() -> tuple[list[Case], dict[str, int]]:
    configs = json.loads((DATA / "llm_configs.json").read_text(encoding="utf-8"))
    archs = {name: architecture(cfg, name) for name, cfg in configs.items() if not name.startswith("_")}
    cards = {card.name: card for card in bundled_catalog().cards}
    lines = (DATA / "llm_serving.csv").read_text(encoding="utf-8").splitlines()
    skipped: dict[str, int] = {}
    cases = []
    for row in csv.DictReader(line for line in lines if not line.startswith("#")):
        why = None
        if row["engine"] not in ENGINE_OF:
            why = f"engine {row['engine']} not modelled"
        elif row["card"] not in cards:
            why = "card not in the catalog"
        elif row["precision"] not in work.WEIGHT_FORMATS:
            why = f"precision {row['precision']} not modelled"
        elif not (row["concurrency"].isdigit() and row["prompt_tokens"].isdigit() and row["output_tokens"].isdigit()):
            why = "arrivals or lengths not fixed (a dataset or a rate)"
        elif row["model"] not in archs:
            why = "no configuration"
        elif row["metric"] == "ttft_ms" and not row["load"]:
            why = "TTFT with the load not read from its source"
        if why:
            skipped[why] = skipped.get(why, 0) + 1
            continue
        gpus = int(row["gpus"])
        value = float(row["value"])
        if row["unit"].startswith("tok/s/GPU"):
            value *= gpus
        precision = row["precision"]
        kv = row["kv_dtype"] if row["kv_dtype"] in work.KV_BYTES else ("fp16" if precision == "fp16" else "bf16")
        cases.append(Case(row["model"], cards[row["card"]], gpus, ENGINE_OF[row["engine"]],
                          "static batch" in row["notes"], precision, kv, int(row["concurrency"]),
                          max(1, int(row["prompt_tokens"])), max(2, int(row["output_tokens"])), row["metric"], value,
                          row["split"], f"{row['source'][:60]}|{row['model']}|{row['card']}", row["source"],
                          row["load"]))
    return cases, skipped


def _arch_cache() -> dict[str, Architecture]:
    configs = json.loads((DATA / "llm_configs.json").read_text(encoding="utf-8"))
    return {name: architecture(cfg, name) for name, cfg in configs.items() if not name.startswith("_")}


ARCHS = _arch_cache()
# Where every fit starts, whatever the constants in the code now are (they are this script's output): the
# all-reduce latencies NCCL's small messages are known for, no bandwidth lost to dequantizing, half the peaks.
START_LATENCY = {"fabric": 10.0, "pcie": 30.0}
START_FORMATS = {name: replace(f, bandwidth_share=1.0) for name, f in work.WEIGHT_FORMATS.items()}
START_ENGINES = {name: replace(e, eta_memory=0.5, eta_compute=0.5, host_ms_per_step=0.0, host_ms_per_layer=0.0)
                 for name, e in SERVING.items()}


def projected(case: Case, engine: ServingEngine) -> float | None:
    """The model's figure for this published row, in the row's metric and unit (None: the setup cannot serve)."""
    if case.static:
        engine = replace(engine, continuous_batching=False)
    setup = Setup(case.card, case.gpus, case.precision, engine, case.kv_dtype)
    a = ARCHS[case.model]
    if why_not(setup, a):
        return None
    if case.metric == "ttft_ms" and case.load == "single":
        return first_tokens_ms(setup, a, 1, case.prompt, 0, 0)[0]
    tm = timing(setup, a, case.concurrency, case.prompt, case.output)
    if case.metric == "ttft_ms" and case.load.startswith("burst-then-closed-loop:"):
        # The first C requests reach an idle engine at once and queue for the token budget; the rest of the
        # run's requests arrive one by one as others finish (the steady state timing() projects).
        requests = int(case.load.rpartition(":")[2])
        burst = first_tokens_ms(setup, a, case.concurrency, case.prompt, 0, case.prompt)
        return (sum(burst) + (requests - case.concurrency) * tm.ttft_ms) / requests
    if case.metric == "decode_tok_s":
        return 1000.0 / tm.tpot_ms
    if case.metric == "tpot_ms":
        return tm.tpot_ms
    if case.metric == "ttft_ms":
        return tm.ttft_ms
    return tm.output_tokens_per_s


def errors(cases: list[Case], engine: ServingEngine) -> list[float]:
    out = []
    for case in cases:
        value = projected(case, engine)
        if value is not None:
            out.append(value / case.published - 1.0)
    return out


def _loss(cases: list[Case], engine: ServingEngine) -> float:
    """Mean squared log error: every row pulls (a median lets a few constants trade off against each other)."""
    errs = errors(cases, engine)
    return statistics.fmean(math.log(1 + e) ** 2 for e in errs) if errs else math.inf


def fit(base: ServingEngine, cases: list[Case]) -> ServingEngine:
    """Grid search on the fit rows: decode efficiency and host time on the decode metrics, then the prefill
    efficiency on TTFT (and on throughput, which static batches make partly prefill)."""
    name = base.name
    decode = [c for c in cases if c.metric in DECODE_METRICS]
    prefill = [c for c in cases if c.metric in ("ttft_ms", "throughput_tok_s")]
    best = base
    if decode:
        hosts = [0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0]
        grid = itertools.product([x / 40 for x in range(12, 41)], hosts)
        candidates = [replace(base, eta_memory=m, host_ms_per_step=h) for m, h in grid]
        if name == "eager":  # eager launches per layer: fit that share instead of a fixed one
            candidates = [replace(base, eta_memory=m, host_ms_per_step=0.0, host_ms_per_layer=h / 10)
                          for m, h in itertools.product([x / 40 for x in range(12, 41)], range(0, 11))]
        best = min(candidates, key=lambda e: _loss(decode, e))
    if prefill:
        best = min((replace(best, eta_compute=x / 40) for x in range(8, 37)), key=lambda e: _loss(prefill, e))
    return best


def fit_shared(cases: list[Case], engines: dict[str, ServingEngine]) -> None:
    """The all-reduce latency per link family and the int8/int4 bandwidth shares, set in place."""

    def score(rows: list[Case]) -> float:
        errs = [math.log(1 + e) ** 2 for name, group in _by(rows, lambda c: c.engine).items()
                for e in errors(group, engines[name])]
        return statistics.fmean(errs) if errs else math.inf

    for family in interconnect.ALLREDUCE_LATENCY_US:
        rows = [c for c in cases if c.gpus > 1 and interconnect.link(c.card).family == family]
        if rows:
            def at(us: float, family: str = family, rows: list[Case] = rows) -> float:
                interconnect.ALLREDUCE_LATENCY_US[family] = us
                return score(rows)
            interconnect.ALLREDUCE_LATENCY_US[family] = min([2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0,
                                                            180.0], key=at)
    for precision in ("int8", "int4"):
        rows = [c for c in cases if c.precision == precision]
        if rows:
            def share(x: float, precision: str = precision, rows: list[Case] = rows) -> float:
                work.WEIGHT_FORMATS[precision] = replace(work.WEIGHT_FORMATS[precision], bandwidth_share=x)
                return score(rows)
            best = min([x / 20 for x in range(8, 21)], key=share)
            work.WEIGHT_FORMATS[precision] = replace(work.WEIGHT_FORMATS[precision], bandwidth_share=best)


def fit_all(cases: list[Case]) -> dict[str, ServingEngine]:
    """Every constant from these rows, starting from the assumed ones: three rounds of per-engine and shared fits."""
    interconnect.ALLREDUCE_LATENCY_US.update(START_LATENCY)
    work.WEIGHT_FORMATS.update(START_FORMATS)
    fitted = dict(START_ENGINES)
    for _ in range(3):
        for name in SERVING:
            rows = [c for c in cases if c.engine == name]
            if rows:
                fitted[name] = fit(fitted[name], rows)
        fit_shared(cases, fitted)
    return fitted


def logo_bands(cases: list[Case]) -> dict[str, float]:
    """Each engine's band: 1 + the 80th percentile of its leave-one-group-out errors on the fit split (each group
    projected with constants fitted without it), so the band is sized on rows its constants did not see."""
    out: dict[str, list[float]] = {}
    for group in sorted({c.group for c in cases}):
        engines = fit_all([c for c in cases if c.group != group])
        for c in cases:
            if c.group == group:
                value = projected(c, engines[c.engine])
                if value is not None:
                    out.setdefault(c.engine, []).append(abs(math.log(value / c.published)))
    def p80(errs: list[float]) -> float:
        errs = sorted(errs)
        return math.exp(errs[min(len(errs) - 1, math.ceil(0.8 * len(errs)) - 1)])

    # An engine whose fit rows come from one or two sources looks surer than it is: no band is narrower than the
    # pooled one of all engines.
    pooled = p80([e for errs in out.values() for e in errs])
    return {name: round(max(pooled, p80(errs)), 2) for name, errs in out.items()}


def summary(title: str, cases: list[Case], engines: dict[str, ServingEngine]) -> None:
    print(f"\n## {title}\n")
    print("| engine | metric | rows | median abs(projected/published - 1) | inside band |")
    print("| --- | --- | ---: | ---: | ---: |")
    for (name, metric), group in sorted(_by(cases, lambda c: (c.engine, c.metric)).items()):
        engine = engines[name]
        errs = errors(group, engine)
        if not errs:
            continue
        inside = sum(1 for e in errs if 1 / engine.band <= 1 + e <= engine.band)
        print(f"| {name} | {metric} | {len(errs)} | {statistics.median(abs(e) for e in errs):.0%} | "
              f"{inside / len(errs):.0%} |")
    errs = [e for name, group in _by(cases, lambda c: c.engine).items() for e in errors(group, engines[name])]
    if errs:
        print(f"| all | all | {len(errs)} | {statistics.median(abs(e) for e in errs):.0%} | |")


def _by(cases, key) -> dict:
    out: dict = {}
    for c in cases:
        out.setdefault(key(c), []).append(c)
    return out


def memory_check(cases: list[Case]) -> None:
    """Setups that ran, by their publisher, at the published concurrency: does the memory model agree they fit?"""
    print("\n## Memory: published setups whose concurrency the modelled KV cache does not hold at full length\n")
    print("(the engine then queues or preempts requests: a published TTFT far above the projection is the sign)\n")
    misses, total = [], 0
    for case in cases:
        setup = Setup(case.card, case.gpus, case.precision, SERVING[case.engine], case.kv_dtype)
        a = ARCHS[case.model]
        if why_not(setup, a):
            misses.append((case, why_not(setup, a)))
            total += 1
            continue
        total += 1
        f = memory_fit(setup, a, case.prompt + case.output)
        need = case.concurrency * (case.prompt + case.output)
        if not f.fits or f.kv_capacity_tokens < need:
            misses.append((case, f.reason or f"the KV cache holds {f.kv_capacity_tokens:,} tokens; all "
                                              f"{case.concurrency} sequences at full length need {need:,}"))
    print(f"{len(misses)} of {total} published setups:")
    for case, why in misses:
        print(f"- {case.model} on {case.gpus} x {case.card.name}, {case.precision}, {case.engine}, "
              f"C={case.concurrency}: {why}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", action="store_true", help="print every held-out case")
    args = parser.parse_args()
    t0 = time.perf_counter()
    cases, skipped = load_cases()
    fit_set = [c for c in cases if c.split == "fit"]
    held = [c for c in cases if c.split == "held_out"]
    print(f"{len(cases)} cases ({len(fit_set)} fit, {len(held)} held out); left out: "
          + ", ".join(f"{n} {why}" for why, n in sorted(skipped.items())))
    fitted = fit_all(fit_set)
    bands = logo_bands(fit_set)
    fitted = {name: replace(e, band=bands.get(name, e.band)) for name, e in fit_all(fit_set).items()}
    print("\n## Constants (fitted on the fit split)\n")
    print(f"all-reduce latency per call (µs): {interconnect.ALLREDUCE_LATENCY_US}; bandwidth share of int8 weights "
          f"{work.WEIGHT_FORMATS['int8'].bandwidth_share:g}, of int4 {work.WEIGHT_FORMATS['int4'].bandwidth_share:g}")
    for name, e in fitted.items():
        rows = sum(1 for c in fit_set if c.engine == name)
        print(f"{name}: eta_memory={e.eta_memory:.3f} eta_compute={e.eta_compute:.3f} "
              f"host_ms_per_step={e.host_ms_per_step:g} host_ms_per_layer={e.host_ms_per_layer:g} band={e.band:g} "
              f"({rows} fit rows)")
    summary("Fit split (in sample)", fit_set, fitted)
    summary("Held-out split (never fitted on)", held, fitted)
    if args.cases:
        print("\n| model | card | gpus | prec. | engine | C | prompt | reply | metric | published | projected |")
        print("| --- | --- | ---: | --- | --- | ---: | ---: | ---: | --- | ---: | ---: |")
        for c in held:
            value = projected(c, fitted[c.engine])
            shown = f"{value:.4g}" if value is not None else "cannot serve"
            print(f"| {c.model} | {c.card.name} | {c.gpus} | {c.precision} | {c.engine} | {c.concurrency} | "
                  f"{c.prompt} | {c.output} | {c.metric} | {c.published:.4g} | {shown} |")
    memory_check(cases)
    print(f"\n{time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
