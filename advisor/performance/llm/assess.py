"""`gpu-advisor assess CONFIG`: a language model, from its configuration, on catalog cards, GPU counts, precisions,
engines and concurrencies: whether it fits, how many sequences the KV cache holds, TTFT, TPOT with its band,
throughput and goodput at an SLO. Every figure is projected (nothing here ran the model); the basis says from what.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from advisor.catalog.cards import Card
from advisor.errors import UsageError
from advisor.performance.llm import work
from advisor.performance.llm.architecture import Architecture
from advisor.performance.llm.calibration import calibrated_engine
from advisor.performance.llm.engines import unchecked
from advisor.performance.llm.interconnect import link
from advisor.performance.llm.serving import Setup, engine_for, goodput, max_concurrency, memory_fit, timing, why_not
from advisor.schema.llm_calibration import Calibration

DEFAULT_GPUS = (1, 2, 4, 8)
DEFAULT_PRECISIONS = ("bf16", "fp8", "int8", "int4")
DEFAULT_CONCURRENCY = (1, 8, 32)
DEFAULT_PROMPT, DEFAULT_OUTPUT = 1024, 256
DEFAULT_TTFT_SLO_MS, DEFAULT_TPOT_SLO_MS = 2000.0, 100.0  # an interactive chat: a reply starts within 2 s, >= 10 tok/s


# The keys `assess --json` promises for every row (docs/llm-serving.md).
REQUIRED_KEYS = frozenset({"card", "gpus", "precision", "engine", "concurrency", "fits", "max_concurrency",
                           "weights_bytes", "kv_bytes_per_token", "ttft_ms", "tpot_ms", "tpot_low_ms", "tpot_high_ms",
                           "output_tokens_per_s", "basis"})


@dataclass(frozen=True)
class Request:
    prompt_tokens: int = DEFAULT_PROMPT
    output_tokens: int = DEFAULT_OUTPUT
    ttft_slo_ms: float = DEFAULT_TTFT_SLO_MS
    tpot_slo_ms: float = DEFAULT_TPOT_SLO_MS
    kv_dtype: str = "auto"  # auto: the weights' 16-bit dtype; fp8 where the engine offers it

    def __post_init__(self):
        if self.output_tokens < 2:
            raise UsageError("--output-tokens must be at least 2 (a reply of one token has no time per output token)")
        if self.kv_dtype not in ("auto", "fp8"):
            raise UsageError(f"--kv-dtype {self.kv_dtype!r}: use auto or fp8")


@dataclass
class Assessment:
    card: str
    gpus: int
    precision: str
    engine: str
    concurrency: int
    fits: bool  # the weights, the reserve and at least one whole sequence fit in the GPUs' memory
    serves: bool  # and the KV cache holds this row's concurrency: only then are the timings given
    reason: str | None
    max_concurrency: int
    weights_bytes: int
    kv_bytes_per_token: int
    kv_capacity_tokens: int
    ttft_ms: float | None
    ttft_p95_ms: float | None
    tpot_ms: float | None
    tpot_p95_ms: float | None
    tpot_low_ms: float | None
    tpot_high_ms: float | None
    output_tokens_per_s: float | None
    goodput_requests_per_s: float | None  # at the SLO, over every concurrency the KV cache holds
    goodput_concurrency: int | None
    interconnect: str
    bound: str | None
    basis: str

    def to_json(self) -> dict:
        return asdict(self)


def _kv_dtype(request: Request, precision: str) -> str:
    if request.kv_dtype == "fp8":
        return "fp8"
    return "fp16" if precision == "fp16" else "bf16"


def assess(a: Architecture, cards: list[Card], gpus: tuple[int, ...] = DEFAULT_GPUS,
           precisions: tuple[str, ...] = DEFAULT_PRECISIONS, engines: tuple[str, ...] = ("vllm",),
           concurrencies: tuple[int, ...] = DEFAULT_CONCURRENCY, request: Request | None = None,
           calibration: Calibration | None = None) -> list[Assessment]:
    """Every card, engine, precision, GPU count and concurrency; a calibration (checked against the model by
    calibration.for_model) replaces the measured engine's terms where they apply."""
    request = request or Request()
    for precision in precisions:
        if precision not in work.WEIGHT_FORMATS:
            raise UsageError(f"precision {precision!r}: use {', '.join(work.WEIGHT_FORMATS)}")
    serving = [engine_for(name) for name in engines]
    sequence = request.prompt_tokens + request.output_tokens
    if a.max_context and sequence > a.max_context:
        raise UsageError(f"{a.name}: a prompt of {request.prompt_tokens} and a reply of {request.output_tokens} tokens "
                         f"exceed its context of {a.max_context:,} tokens")
    rows: list[Assessment] = []
    for card in cards:
        for published in serving:
            engine = calibrated_engine(calibration, published, card) if calibration else published
            for precision in precisions:
                for count in gpus:
                    setup = Setup(card, count, precision, engine, _kv_dtype(request, precision))
                    rows.extend(_rows(setup, a, request, concurrencies, sequence))
    return rows


def _rows(setup: Setup, a: Architecture, request: Request, concurrencies: tuple[int, ...],
          sequence: int) -> list[Assessment]:
    lk = link(setup.card)
    template = Assessment(
        card=setup.card.name, gpus=setup.gpus, precision=setup.precision, engine=setup.engine.name, concurrency=0,
        fits=False, serves=False, reason=None, max_concurrency=0, weights_bytes=work.weights_bytes(a, setup.precision),
        kv_bytes_per_token=work.kv_bytes_per_token(a, setup.kv_dtype), kv_capacity_tokens=0, ttft_ms=None,
        ttft_p95_ms=None, tpot_ms=None, tpot_p95_ms=None, tpot_low_ms=None, tpot_high_ms=None,
        output_tokens_per_s=None, goodput_requests_per_s=None, goodput_concurrency=None,
        interconnect=f"{lk.kind}, {lk.gbs_per_direction:g} GB/s each way" if setup.gpus > 1 else "-", bound=None,
        basis="cannot serve")
    if problem := why_not(setup, a):
        return [replace(template, concurrency=c, reason=problem) for c in concurrencies]
    fit = memory_fit(setup, a, sequence)
    held = max_concurrency(fit, sequence, setup)
    engine, band = setup.engine, setup.engine.band
    template = replace(template, fits=fit.fits, reason=fit.reason, max_concurrency=held,
                       kv_capacity_tokens=fit.kv_capacity_tokens,
                       basis=f"projected from the configuration: {engine.name} at {engine.eta_memory:.0%} of "
                             f"{setup.card.memory_bandwidth_gbs:g} GB/s decoding and {engine.eta_compute:.0%} of the "
                             f"tensor peak prefilling ({engine.fitted_on}); band x/÷{band:g}"
                             + (f"; {caveat}" if (caveat := unchecked(setup.card.vendor)) else ""))
    if fit.fits:
        good = goodput(setup, a, fit, request.prompt_tokens, request.output_tokens, request.ttft_slo_ms,
                       request.tpot_slo_ms)
        template = replace(template, goodput_requests_per_s=good.requests_per_s, goodput_concurrency=good.concurrency)
    rows = []
    for c in concurrencies:
        if not fit.fits:
            rows.append(replace(template, concurrency=c))
        elif c > held:
            rows.append(replace(template, concurrency=c, reason=f"the KV cache holds {held} sequences of "
                                                                 f"{sequence:,} tokens, fewer than {c}"))
        else:
            tm = timing(setup, a, c, request.prompt_tokens, request.output_tokens)
            rows.append(replace(template, concurrency=c, serves=True, ttft_ms=tm.ttft_ms, ttft_p95_ms=tm.ttft_p95_ms,
                                tpot_ms=tm.tpot_ms, tpot_p95_ms=tm.tpot_p95_ms, tpot_low_ms=tm.tpot_ms / band,
                                tpot_high_ms=tm.tpot_ms * band, output_tokens_per_s=tm.output_tokens_per_s,
                                bound=tm.bound))
    return rows
