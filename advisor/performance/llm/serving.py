"""A language model served on t GPUs of one card type: whether it fits, how many sequences its KV cache holds, and
time to first token, time per output token and throughput against concurrency, with goodput at an SLO.

Memory per GPU (docs/llm-serving.md): the engine takes memory_share of the card as the driver reports it; from it
come the weights split t ways, the activations of its profiling run (engine_memory.py) and the memory outside torch;
the rest holds KV blocks. Time per step, per operator group (a roofline for each):
    weights   max(weight bytes / (bandwidth x eta_m), matrix FLOPs / (peak x eta_c))   over t GPUs
    attention KV bytes read / (bandwidth x eta_m) + attention FLOPs / (peak x eta_c)   over t GPUs
    + two all-reduces per layer (tensor parallelism) + the engine's host time per step.
Continuous batching: with C sequences in flight and replies of O tokens, C/O requests finish (and arrive) per step;
their prompts are prefilled inside the running steps (chunked prefill), at most the engine's token budget a step, so
prompts that arrive together queue behind each other (first_tokens_ms). A request arrives inside a step in progress,
more likely a long one (one carrying a prefill): the wait for it is length-biased. p95 figures take the Poisson p95 of
the arrivals a request shares its life with. A static batch (eager, graphs) makes a new request wait for the batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from advisor.catalog.cards import Card
from advisor.errors import UsageError
from advisor.performance.llm import engine_memory, work
from advisor.performance.llm.architecture import Architecture
from advisor.performance.llm.engine_memory import Profile
from advisor.performance.llm.engines import MAX_SEQUENCES, OVERHEAD_BYTES, SERVING, ServingEngine
from advisor.performance.llm.interconnect import allreduce_ms, link
from advisor.performance.peaks import peak, unsupported


@dataclass(frozen=True)
class Setup:
    """One way of serving: a card type, how many of them, the weights' precision, the KV dtype and the engine."""

    card: Card
    gpus: int
    precision: str  # a key of work.WEIGHT_FORMATS
    engine: ServingEngine
    kv_dtype: str  # bf16, fp16 or fp8


@dataclass(frozen=True)
class Fit:
    fits: bool
    reason: str | None
    weights_bytes: int  # the whole model
    kv_bytes_per_token: int  # the whole model (all GPUs together)
    kv_capacity_tokens: int  # tokens the KV cache holds across the GPUs
    per_gpu_weights_bytes: float
    per_gpu_activation_bytes: float
    per_gpu_usable_bytes: float  # what the engine's share leaves for weights, activations and the KV cache
    max_sequences: int  # the most sequences the engine runs at once (its max_num_seqs)


@dataclass(frozen=True)
class Timing:
    ttft_ms: float
    ttft_p95_ms: float
    tpot_ms: float
    tpot_p95_ms: float
    output_tokens_per_s: float  # all sequences together
    requests_per_s: float
    bound: str  # what limits a decode step: "memory", "compute" or "host"


def why_not(setup: Setup, a: Architecture) -> str | None:
    """Why this setup cannot serve the model at all, before memory (None: it can)."""
    card, fmt = setup.card, work.WEIGHT_FORMATS[setup.precision]
    if not card.memory_gb or not card.memory_bandwidth_gbs:
        return f"the catalog has no memory size or bandwidth for {card.name}"
    compute = _compute_dtype(card, fmt.compute)
    if problem := unsupported(card, compute):
        return problem
    if setup.precision == "int4" and card.capability is not None and card.capability < (7, 5):
        return f"{card.name} has no int4 kernels in the serving engines (AWQ/GPTQ need compute capability 7.5)"
    if setup.kv_dtype == "fp8" and "fp8" not in setup.engine.kv_dtypes:
        return f"engine {setup.engine.name} keeps its KV cache in 16 bits (no fp8 KV cache)"
    lk = link(card)
    if setup.gpus > lk.max_gpus:
        return f"{card.name} joins at most {lk.max_gpus} GPUs over {lk.kind} in one server"
    if a.heads % setup.gpus:
        return f"{a.heads} attention heads do not split over {setup.gpus} GPUs (tensor parallelism)"
    return None


def _compute_dtype(card: Card, compute: str) -> str:
    """bf16 arithmetic is served in fp16 on cards that have no bf16 (before Ampere)."""
    if compute == "bf16" and (card.bf16_tflops_dense is None or (card.capability and card.capability < (8, 0))):
        return "fp16"
    return compute


def memory_fit(setup: Setup, a: Architecture, context_tokens: int, profile: Profile | None = None) -> Fit:
    """Whether the model fits and how many tokens its KV cache holds. vLLM's reserve follows its start-up profiling
    (engine_memory.py) with `profile` (default: its settings on this card); other engines keep a fixed overhead and
    the activations of their largest prefill."""
    card, t, engine = setup.card, setup.gpus, setup.engine
    weights = work.weights_bytes(a, setup.precision)
    kv_token = work.kv_bytes_per_token(a, setup.kv_dtype)
    requested = engine_memory.reported_bytes(card) * engine.memory_share
    if engine.profiled_reserve:
        profile = profile or engine_memory.vllm_profile(card)
        usable = requested - engine_memory.non_torch_bytes(t)
        activations = engine_memory.activation_bytes(a, t, profile)
        sequences = profile.sequences
    else:
        usable = requested - OVERHEAD_BYTES
        chunk = engine.prefill_chunk_tokens or context_tokens
        activations = engine_memory.forward_bytes(a, t, chunk) + min(MAX_SEQUENCES, chunk) * a.vocab / t * 4
        sequences = MAX_SEQUENCES
    per_gpu_weights = weights / t
    room = usable - per_gpu_weights - activations
    capacity = max(0, math.floor(room * t / kv_token)) if room > 0 else 0
    fits, reason = True, None
    if room <= 0:
        fits = False
        reason = (f"weights {per_gpu_weights / 1e9:.1f} GB and activations {activations / 1e9:.1f} GB per GPU exceed "
                  f"the {usable / 1e9:.1f} GB the engine can use of {card.memory_gb:g} GiB")
    elif capacity < context_tokens:
        fits = False
        reason = (f"the KV cache holds {capacity:,} tokens, less than one sequence of {context_tokens:,}")
    return Fit(fits, reason, weights, kv_token, capacity, per_gpu_weights, activations, usable, sequences)


def _rates(setup: Setup) -> tuple[float, float]:
    """Bytes per second and FLOPs per second one GPU reaches with this engine."""
    card = setup.card
    fmt = work.WEIGHT_FORMATS[setup.precision]
    rate, _ = peak(card, _compute_dtype(card, fmt.compute), "matmul")
    assert rate is not None and card.memory_bandwidth_gbs is not None  # why_not() refused otherwise
    return card.memory_bandwidth_gbs * 1e9 * setup.engine.eta_memory, rate * 1e12 * setup.engine.eta_compute


def step_ms(setup: Setup, a: Architecture, decode: float, context: float, prefill_tokens: float,
            prompt: int) -> tuple[float, str]:
    """One engine step: `decode` sequences each at `context` tokens, plus `prefill_tokens` of prompts of length
    `prompt`. Returns milliseconds and what bounds the step."""
    t = setup.gpus
    bandwidth, flops = _rates(setup)
    p = work.parameters(a)
    tokens = decode + prefill_tokens
    share = work.WEIGHT_FORMATS[setup.precision].bandwidth_share
    weight_read = work.step_weight_bytes(a, setup.precision, max(1, math.ceil(tokens))) / t / (bandwidth * share)
    matrix = 2.0 * p.active_per_token * tokens / t / flops
    kv_read = decode * context * work.kv_bytes_per_token(a, setup.kv_dtype) / t / bandwidth
    attention = (decode * work.attention_flops_per_token(a, context)
                 + prefill_tokens * work.attention_flops_per_token(a, 1) * (prompt + 1) / 2) / t / flops
    device = max(weight_read, matrix) + kv_read + attention
    comm = allreduce_ms(setup.card, t, tokens, a.hidden, a.layers) / 1000.0
    host = (setup.engine.host_ms_per_step + setup.engine.host_ms_per_layer * a.layers) / 1000.0
    bound = "host" if host > device else ("compute" if matrix > weight_read else "memory")
    return (device + comm + host) * 1000.0, bound


def prefill_budget(setup: Setup) -> int:
    """Tokens one step computes, decodes first (chunked prefill): vLLM's max_num_batched_tokens on this card
    (engine_memory.vllm_profile), TensorRT-LLM's max_num_tokens (prefill_chunk_tokens); 0: no budget (a whole batch)."""
    if setup.engine.profiled_reserve:
        return engine_memory.vllm_profile(setup.card).batched_tokens
    return setup.engine.prefill_chunk_tokens


def first_tokens_ms(setup: Setup, a: Architecture, arrivals: int, prompt: int, decoding: int,
                    context: float) -> list[float]:
    """`arrivals` prompts of `prompt` tokens reaching the engine together while `decoding` sequences decode at
    `context` tokens: each one's milliseconds to its first token, in arrival order. Each step decodes the running
    sequences and fills the rest of the token budget with the waiting prompts in arrival order (vLLM's scheduler
    and TensorRT-LLM's in-flight batching); a prompt done decodes from the next step on."""
    budget = prefill_budget(setup)
    left = [prompt] * arrivals
    times: list[float] = []
    elapsed = 0.0
    while len(times) < arrivals:
        running = decoding + len(times)
        # vLLM refuses a budget below max_num_seqs (SchedulerConfig._verify_args), and TensorRT-LLM's 8,192 tokens
        # are above the 256 sequences assumed for it, so the decodes never fill a step; the floor only ends the loop.
        room = max(budget - running, 1) if budget else sum(left)
        tokens = min(room, sum(left))
        step, _ = step_ms(setup, a, running, context, tokens, prompt)
        elapsed += step
        while tokens > 0:
            took = min(tokens, left[0])
            left[0] -= took
            tokens -= took
            if left[0] == 0:
                left.pop(0)
                times.append(elapsed)
    return times


def step_in_progress_ms(short: float, long: float, share_long: float) -> tuple[float, float]:
    """The mean and p95 wait for the step in progress when a request arrives, where a share of the steps are long
    (they carry a prefill): an arrival falls in a step with odds in proportion to its length (the inspection
    paradox), then waits out a uniform part of it. Mean: E[S^2] / 2E[S]."""
    p = min(1.0, max(0.0, share_long))
    time_long = p * long / ((1 - p) * short + p * long) if long > 0 else 0.0
    mean = ((1 - p) * short ** 2 + p * long ** 2) / (2 * ((1 - p) * short + p * long)) if long > 0 else 0.0
    # P(wait > x) = time_long x (1 - x/long) + (1 - time_long) x (1 - x/short) for x below both lengths.
    if time_long * (1 - short / long) >= 0.05:
        return mean, long * (1 - 0.05 / time_long)
    rate = time_long / long + ((1 - time_long) / short if short > 0 else 0.0)
    return mean, (0.95 / rate if rate > 0 else 0.0)


def poisson_p95(mean: float) -> float:
    """The 95th percentile of a Poisson count with this mean (normal approximation above 30)."""
    if mean <= 0:
        return 0.0
    if mean > 30:
        return mean + 1.645 * math.sqrt(mean)
    k, term = 0, math.exp(-mean)
    total = term
    while total < 0.95:
        k += 1
        term *= mean / k
        total += term
    return float(k)


def timing(setup: Setup, a: Architecture, concurrency: int, prompt: int, output: int) -> Timing:
    """Serving C = concurrency sequences at a time, each a prompt of `prompt` tokens and a reply of `output`."""
    c = concurrency
    context = prompt + output / 2  # a sequence's average context over its reply
    if setup.engine.continuous_batching:
        decode, bound = step_ms(setup, a, c, context, 0, prompt)
        prefill_cost = step_ms(setup, a, c, context, prompt, prompt)[0] - decode  # one prompt inside a step
        arrivals_per_step = c / output
        tpot = decode + arrivals_per_step * prefill_cost
        # Over its reply a request shares the steps with about C other arrivals' prefills.
        tpot_p95 = decode + poisson_p95(c) * prefill_cost / output
        # Alone (C = 1) a request finds the engine idle; otherwise it waits out the step in progress, then its prompt
        # runs beside the others' decodes, behind the prompts that arrived with it.
        others = step_ms(setup, a, c - 1, context, 0, prompt)[0] if c > 1 else 0.0
        wait, wait_p95 = step_in_progress_ms(others, others + prefill_cost, arrivals_per_step) if c > 1 else (0.0, 0.0)
        own = first_tokens_ms(setup, a, 1, prompt, c - 1, context)[-1]
        ttft = wait + own + arrivals_per_step * prefill_cost
        together = 1 + round(poisson_p95(arrivals_per_step))
        ttft_p95 = wait_p95 + first_tokens_ms(setup, a, together, prompt, c - 1, context)[-1]
        duration = ttft + (output - 1) * tpot
    else:
        # A static batch: the C prompts prefill together, then C replies decode together; a request arriving
        # meanwhile waits for the batch to finish.
        decode, bound = step_ms(setup, a, c, context, 0, prompt)
        batch_prefill, _ = step_ms(setup, a, 0, 0, c * prompt, prompt)
        tpot = tpot_p95 = decode
        duration = batch_prefill + (output - 1) * decode
        ttft = batch_prefill + (0.5 * duration if c > 1 else 0.0)
        ttft_p95 = batch_prefill + (0.95 * duration if c > 1 else 0.0)
    requests_per_s = c / (duration / 1000.0)
    return Timing(ttft, ttft_p95, tpot, tpot_p95, requests_per_s * output, requests_per_s, bound)


@dataclass(frozen=True)
class Goodput:
    requests_per_s: float  # 0 when no concurrency meets the SLO
    concurrency: int  # the concurrency that gives it (0: none)
    timing: Timing | None


def goodput(setup: Setup, a: Architecture, fit: Fit, prompt: int, output: int, ttft_slo_ms: float,
            tpot_slo_ms: float) -> Goodput:
    """The most requests per second served with TTFT p95 and TPOT p95 both within the SLO, within the KV cache,
    with the timings sized at the slow end of the band."""
    band = setup.engine.band
    limit = max_concurrency(fit, prompt + output, setup)
    best = Goodput(0.0, 0, None)
    if limit < 1:
        return best

    def ok(c: int) -> Timing | None:
        tm = timing(setup, a, c, prompt, output)
        return tm if tm.ttft_p95_ms * band <= ttft_slo_ms and tm.tpot_p95_ms * band <= tpot_slo_ms else None

    # Throughput grows with concurrency and so do the latencies: walk up in doubling steps, then bisect the last gap.
    low, c = 0, 1
    while c <= limit and (tm := ok(c)) is not None:
        best, low = Goodput(tm.requests_per_s / band, c, tm), c
        c *= 2
    high = min(c, limit + 1)
    while high - low > 1:
        mid = (low + high) // 2
        if (tm := ok(mid)) is not None:
            best, low = Goodput(tm.requests_per_s / band, mid, tm), mid
        else:
            high = mid
    return best


def max_concurrency(fit: Fit, sequence_tokens: int, setup: Setup) -> int:
    """Sequences the KV cache holds at once at this length; a serving engine also stops at its max_num_seqs."""
    if not fit.fits:
        return 0
    held = fit.kv_capacity_tokens // max(1, sequence_tokens)
    return min(held, fit.max_sequences) if setup.engine.continuous_batching else held


def engine_for(name: str) -> ServingEngine:
    try:
        return SERVING[name]
    except KeyError:
        raise UsageError(f"engine {name!r} has no language-model serving model; use one of {', '.join(SERVING)}") \
            from None
