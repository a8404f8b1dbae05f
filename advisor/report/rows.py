"""The results table of a profile, once: one row per variant and batch size (one per variant that did not
run), each cell a value with its unit and provenance. The command line, the HTML and PDF documents, the
CSV file and the app all render these rows, so they show the same cells, the same words for an unknown
value and the same mark on an estimate.

Text: three significant digits (``advisor.report.format.number``); an unknown value is ``–`` (``-`` in
a terminal); an estimated figure is written ``~value``, and its method column says ``ESTIMATE``. The CSV
file writes the raw values, with the same columns and the provenance of the energy figure beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from advisor.report.format import number
from advisor.report.noise import RERUN, UNSETTLED_SHARE, describe, unsettled, unsettled_batches
from advisor.schema.report import BatchResult, ProfileReport, VariantResult

Provenance = Literal["measured", "estimated", "given", "counted"]
MISSING = "–"

# How each energy method is named wherever a result is shown (the report keeps the method's key).
ENERGY_LABELS = {"nvml_energy_counter": "NVML counter", "nvml_power_samples": "NVML power",
                 "rapl": "RAPL", "estimate_tdp": "ESTIMATE (TDP)", "user_supplied": "wall meter (given)"}


@dataclass(frozen=True)
class Column:
    key: str
    title: str  # with its unit, as a header
    numeric: bool = True
    llm_only: bool = False  # shown for language models only
    detail: bool = False  # in the CSV file only: tables for people stay narrow


COLUMNS: tuple[Column, ...] = (
    Column("engine", "engine", numeric=False),
    Column("precision", "precision", numeric=False),
    Column("batch", "batch"),
    Column("status", "status", numeric=False),
    Column("p50_ms", "p50 ms"),
    Column("p50_ci_pct", "p50 ±%"),  # half the bootstrap 95% interval, in % of p50
    Column("p50_ci_low_ms", "p50 95% low ms", detail=True),
    Column("p50_ci_high_ms", "p50 95% high ms", detail=True),
    Column("p95_ms", "p95 ms"),
    Column("p90_ms", "p90 ms", detail=True),
    Column("p99_ms", "p99 ms"),
    Column("mean_ms", "mean ms", detail=True),
    Column("std_ms", "std ms", detail=True),
    Column("samples", "samples", detail=True),
    Column("spread_pct", "spread %"),
    Column("host", "host", numeric=False),  # quiet, or busy (a round ran while other programs or steal took time)
    Column("items_per_s", "items/s"),
    Column("size_bytes", "size"),
    Column("memory_bytes", "mem+"),  # what a call adds above the cell's start: GPU allocated, else the RSS
    Column("rss_peak_bytes", "worker RSS peak", detail=True),
    Column("gpu_peak_bytes", "GPU peak allocated", detail=True),
    Column("cosine", "cosine"),
    Column("top1", "top-1"),
    Column("j_per_item", "J/item"),
    Column("energy_by", "energy by", numeric=False),
    Column("ttft_ms", "TTFT ms", llm_only=True),
    Column("tpot_ms", "TPOT ms", llm_only=True),
    Column("tokens_per_s", "tok/s", llm_only=True),
    Column("tokens_per_j", "tok/J", llm_only=True),
)


@dataclass(frozen=True)
class Cell:
    value: float | int | str | None
    provenance: Provenance | None = None  # None: not a figure (a name, a status)
    digits: str | None = None  # a fixed format ("5f") where three significant digits would hide the point
    unit: Literal["bytes"] | None = None  # written with its own unit (606 KB, 90.3 MB, 1.20 GB)

    def text(self, missing: str = MISSING) -> str:
        if self.value is None:
            return missing
        if isinstance(self.value, str):
            return self.value
        if self.unit == "bytes":
            return ("~" if self.provenance == "estimated" else "") + size_text(float(self.value), missing)
        if isinstance(self.value, int) and not isinstance(self.value, bool) and self.digits is None:
            return str(self.value)
        shown = format(self.value, self.digits) if self.digits else number(float(self.value), missing)
        return ("~" if self.provenance == "estimated" else "") + shown


@dataclass
class ResultRow:
    engine: str
    precision: str
    batch: int | None
    status: str
    reason: str | None  # why it did not run, or what to know about the cell
    cells: dict[str, Cell] = field(default_factory=dict)

    @property
    def estimated(self) -> bool:
        return any(c.provenance == "estimated" for c in self.cells.values())

    def text(self, key: str, missing: str = MISSING) -> str:
        return self.cells.get(key, Cell(None)).text(missing)


@dataclass
class ResultTable:
    columns: list[Column]
    rows: list[ResultRow]
    notes: list[str]  # said once under the table: energy unavailable, estimates, built-in weights, warnings


def columns_for(report: ProfileReport, detail: bool = False) -> list[Column]:
    """The columns shown for this report: the language-model ones for a language model; ``detail`` adds the
    CSV file's extra ones."""
    llm = bool(report.model and report.model.new_tokens)
    return [c for c in COLUMNS if (llm or not c.llm_only) and (detail or not c.detail)]


def result_table(report: ProfileReport) -> ResultTable:
    rows = []
    for v in report.variants:
        if v.status != "ok":
            rows.append(ResultRow(v.engine, v.precision, None, v.status, v.reason,
                                  {"engine": Cell(v.engine), "precision": Cell(v.precision), "status": Cell(v.status)}))
            continue
        rows += [_row(v, b) for b in v.batches]
    notes = []
    unavailable = sorted({b.energy_unavailable_reason for v in report.variants for b in v.batches
                          if b.energy is None and b.energy_unavailable_reason})
    notes += [f"energy: {reason}" for reason in unavailable]
    noisy = [describe(v, report.row_name(v)) for v in report.variants if unsettled_batches(v)]
    if noisy:
        notes.append(f"unsettled: {'; '.join(noisy)}: the 95% interval of p50 is wider than "
                     f"{UNSETTLED_SHARE:.0%} of it, too wide to rank precisions or engines on; {RERUN}")
    if any(r.estimated for r in rows):
        notes.append("energy: ~ marks an ESTIMATE (not a measurement); see the report's method_detail")
    if report.model and report.model.source == "builtin":
        notes.append(f"{report.model.name} has {report.model.weights}: quality figures test the quantization, not "
                     "a trained model's accuracy")
    notes += report.warnings
    return ResultTable(columns_for(report), rows, notes)


def _row(v: VariantResult, b: BatchResult) -> ResultRow:
    lat, e, g, m, q = b.latency, b.energy, b.generation, b.memory, v.quality
    energy: Provenance = "estimated" if e and e.estimated else "given" if e and e.method == "user_supplied" \
        else "measured"
    memory = None
    if m is not None:
        gpu = m.gpu_allocated_increase_bytes
        # a GPU cell without torch's figure (ONNX Runtime's own arena) has none: the host's memory is not its own
        memory = gpu if gpu is not None or m.gpu_method else m.cpu_rss_increase_bytes
    cells = {
        "engine": Cell(v.engine), "precision": Cell(v.precision), "batch": Cell(b.batch_size),
        "status": Cell("unsettled" if b.status == "ok" and unsettled(lat) else b.status),
        "p50_ms": Cell(_of(lat, "p50_ms"), "measured"), "p95_ms": Cell(_of(lat, "p95_ms"), "measured"),
        "p90_ms": Cell(_of(lat, "p90_ms"), "measured"), "p99_ms": Cell(_of(lat, "p99_ms"), "measured"),
        "mean_ms": Cell(_of(lat, "mean_ms"), "measured"), "std_ms": Cell(_of(lat, "std_ms"), "measured"),
        "samples": Cell(_of(lat, "samples"), "counted"), "spread_pct": Cell(_of(lat, "round_spread_pct"), "measured"),
        "p50_ci_pct": Cell(_ci_pct(lat), "measured"),
        "p50_ci_low_ms": Cell(lat.p50_ci95_ms[0] if lat and lat.p50_ci95_ms else None, "measured"),
        "p50_ci_high_ms": Cell(lat.p50_ci95_ms[1] if lat and lat.p50_ci95_ms else None, "measured"),
        "host": Cell(None if lat is None or lat.host_quiet is None else "quiet" if lat.host_quiet else "busy"),
        "items_per_s": Cell(b.throughput_items_per_s, "measured"),
        "size_bytes": Cell(v.model_size_bytes, "measured", unit="bytes"),
        "memory_bytes": Cell(memory, "measured", unit="bytes"),
        "rss_peak_bytes": Cell(_of(m, "cpu_rss_peak_bytes"), "measured", unit="bytes"),
        "gpu_peak_bytes": Cell(_of(m, "gpu_peak_allocated_bytes"), "measured", unit="bytes"),
        "cosine": Cell(_of(q, "cosine_similarity_mean"), "measured", digits=".5f"),
        "top1": Cell(_of(q, "top1_agreement"), "measured", digits=".3f"),
        "j_per_item": Cell(_of(e, "energy_per_item_j"), energy),
        "energy_by": Cell(ENERGY_LABELS.get(e.method, e.method) if e else None),
        "ttft_ms": Cell(_of(g, "ttft_p50_ms"), "measured"), "tpot_ms": Cell(_of(g, "tpot_p50_ms"), "measured"),
        "tokens_per_s": Cell(_of(g, "tokens_per_s"), "measured"), "tokens_per_j": Cell(_of(e, "tokens_per_j"), energy),
    }
    return ResultRow(v.engine, v.precision, b.batch_size, b.status, b.reason, cells)


def size_text(value: float, missing: str = MISSING) -> str:
    """Bytes for people, in decimal units as the sizes of files are: 606 KB, 90.3 MB, 1.20 GB."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if abs(value) >= scale:
            return f"{number(value / scale, missing)} {unit}"
    return f"{value:.0f} B"


def _of(record, name: str):
    """A field of a record that may be missing (a cell without energy, a variant without a quality figure)."""
    return None if record is None else getattr(record, name)


def _ci_pct(lat) -> float | None:
    if lat is None or not lat.p50_ci95_ms or lat.p50_ms <= 0:
        return None
    low, high = lat.p50_ci95_ms
    return 100.0 * (high - low) / 2.0 / lat.p50_ms
