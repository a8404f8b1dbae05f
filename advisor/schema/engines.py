"""One registry of engines: what serves the model, where it can be profiled, which precisions it serves, what it
costs the host per call, and which profiled engine counts as measured for it. Read by everyone, as the precision
registry is (advisor/schema/precisions.py): the profiler picks the backend module that loads a model into the
engine (advisor/engines/), the performance model takes its host cost and fusion, the language-model serving
model its efficiencies and memory reserve, and the recommendation names it in the verdict.

Adding an engine: one row here, one backend module under advisor/engines/ (when it can be profiled) and its tests
(docs/architecture.md lists the files).

Names are the same when profiling and when projecting. torch.compile's modes are options of the torch backend:
`compile` is its default mode (Inductor fuses elementwise operators; eager launches), `graphs` is
mode="reduce-overhead" (the same fused kernels replayed as one CUDA graph per forward pass).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Literal

HostModel = Literal["per_op", "per_pass"]


@dataclass(frozen=True)
class EngineSpec:
    name: str
    label: str  # how a verdict names it: "serve it with {label}"
    backend: str | None  # module of advisor.engines that profiles it; None: projected only, never profiled here
    devices: tuple[str, ...]  # device types it can be profiled on ("cpu", "cuda")
    precisions: tuple[str, ...]  # precision registry names it serves
    quantizes_with: str  # how its quantized variants are made
    package: str | None  # the distribution it needs (None: torch itself)
    import_name: str | None  # the module that tells whether that distribution is installed
    extra: str | None  # the project's optional extra that installs it (pip install '.[extra]')
    # Where it serves in production, whatever this machine can profile: a card ("cuda") or a CPU ("cpu"). The
    # per-operator model projects it only onto those.
    serves_on: tuple[str, ...]
    # Host time of one call: per launched kernel (eager-like) or per forward pass (one graph or engine plan
    # replayed). host_us None: the performance model's fitted eager cost per kernel (per_op) or its graph replay
    # cost (per_pass).
    host_model: HostModel
    host_us: float | None
    # The share of elementwise, normalisation and data-movement kernels (and of their memory traffic) left once
    # the engine fuses them into their neighbours: 1 in eager; matrix products, convolutions and attention
    # always stay.
    elementwise_kept: float
    # The operator kinds its quantized variants run in the quantized dtype: torchao replaces nn.Linear only;
    # an engine that quantizes the whole graph (TensorRT, ONNX Runtime's static int8) runs convolutions and
    # other products in it too.
    quantizes: tuple[str, ...]
    # Profiled engines whose measurement on a card stands for this engine on that card (itself first).
    measured_as: tuple[str, ...]
    # Whether its projection constants were checked on measurements they were not fitted on
    # (docs/projection-validation.md). band_factor widens the path's band (x and ÷) for this engine: from its
    # out-of-sample error where validated, an assumed 1.5 where not (its basis says so).
    validated: bool
    band_factor: float
    # Each call goes through PyTorch's Python dispatcher, where every quantized layer pays its tensor subclass's
    # dispatch (eager only: compiled and exported graphs trace it away).
    python_dispatch: bool = False
    gpu_vendors: tuple[str, ...] = ("NVIDIA", "AMD")  # the cards' makers it runs on
    # On a card, the dtype its quantized variants run the rest of the graph in (None: the precision's own float
    # dtype). TensorRT builds int8 engines with fp16 enabled, so layers left out of int8 run in fp16.
    quantized_float_dtype: str | None = None
    serving: bool = False  # a language-model server: continuous batching and paged KV cache
    options: tuple[tuple[str, str], ...] = ()  # backend options, e.g. torch.compile's mode
    # (precision, device type, why): a precision it serves on that kind of device only, profiled or projected
    only_on: tuple[tuple[str, str, str], ...] = ()
    # Precisions it serves (projected onto cards) that its backend does not profile here, and why
    projected_only: tuple[str, ...] = ()
    projected_why: str = ""

    def option(self, key: str) -> str | None:
        return dict(self.options).get(key)

    def not_on(self, precision: str, device_type: str) -> str | None:
        """Why it does not serve ``precision`` on this kind of device ("cpu", "cuda"), where the registry says so."""
        return next((why for p, device, why in self.only_on if p == precision and device != device_type), None)

    def profiles(self, precision: str, device_type: str) -> bool:
        """Whether its backend profiles this precision on this kind of device (not_served in advisor/engines/base.py
        says why not)."""
        return (self.backend is not None and device_type in self.devices and precision in self.precisions
                and precision not in self.projected_only and self.not_on(precision, device_type) is None)

    def precisions_text(self) -> str:
        """Its precisions, each served on one kind of device only or projected only marked so: "fp32, fp16 (CUDA
        only), int8_static (CPU only)", "fp32, bf16 (projected only)"."""
        only = {p: f"{device.upper()} only" for p, device, _ in self.only_on}
        only |= {p: "projected only" for p in self.projected_only}
        return ", ".join(f"{p} ({only[p]})" if p in only else p for p in self.precisions)

    @property
    def install_hint(self) -> str | None:
        """How to install what it needs, where that is an extra of this project."""
        return f"pip install 'gpu-advisor[{self.extra}]'" if self.extra else None

    def missing(self) -> str | None:
        """Why it cannot run here because its package is not installed, with the command that installs it (asked
        of the import system, without importing the package: the app greys it out at start-up)."""
        if self.import_name is None or importlib.util.find_spec(self.import_name) is not None:
            return None
        return f"{self.label} is not installed: {self.install_hint or f'pip install {self.package}'}"


# Projection terms (host_us, elementwise_kept, band_factor) of compile and tensorrt are fitted by
# benchmarks/projection_validation.py on published measurements (2026-12-06; tensorrt refitted 2026-12-07 once the T4's
# tensor peaks took its sustained clock, and both once eval-mode dropouts left the operator tables and again once
# eager's constants were refitted on the AMP tables counted under autocast, docs/projection-validation.md); compile's
# launch cost is eager's (its published tables are all large batches) and graphs takes compile's fusion. The
# onnxruntime (CUDA) and graphs rows stay assumed (validated=False), checked on published measurements (2026-12-07,
# docs/projection-validation.md): ONNX Runtime, held out on a T4, an RTX 3090, an A100 80GB and a V100 PCIe 16GB
# (63 cells), projects 23% median error where the card sets the pace and 9% host-bound, its fp32 tables (the
# precision it projects on a card) 0.77 card-bound once fp32 products took the measured GEMM share (cards.csv
# fp32_gemm_share), but its card-bound fp16 on the V100 (a second card) 0.60 and its fit split's leave-one-table-out
# error is 41% card-bound; graphs' six fp32 cells on a T4 project 1.6-4.5x fast (no other published table found).
# Neither row's constants reach a CPU projection.
# Where ONNX Runtime serves each precision (sources in advisor/engines/onnxruntime.py's docstring).
_ORT_NO_CUDA_INT8 = ("ONNX Runtime's CUDA provider does not run int8 models as int8 compute (ONNX Runtime quantizes "
                     "for GPUs through TensorRT, statically only): profile its int8 with --device cpu, int8_static on "
                     "the GPU with --engine tensorrt, or other int8 on the GPU with --engine eager,compile")
_ORT_ONLY_ON = (
    ("fp16", "cuda", "ONNX Runtime's fp16 is profiled on a GPU only: its CPU provider has few fp16 kernels and runs "
                     "fp16 nodes in fp32 behind inserted casts, so the row would time casts, not fp16"),
    ("int8_dynamic", "cpu", _ORT_NO_CUDA_INT8),
    ("int8_static", "cpu", _ORT_NO_CUDA_INT8),
)
TORCHAO = ("linear",)  # torchao quantizes nn.Linear layers only
WHOLE_GRAPH = ("linear", "matmul", "conv")  # every matrix product and convolution

ENGINES: dict[str, EngineSpec] = {spec.name: spec for spec in (
    EngineSpec("eager", "eager PyTorch", "torch", ("cpu", "cuda"),
               ("fp32", "fp16", "bf16", "int8_dynamic", "int8_weight_only", "int4_weight_only", "fp8"),
               "torchao (torch.ao's dynamic int8 on a CPU)", None, None, None, serves_on=("cpu", "cuda"),
               host_model="per_op", host_us=None, elementwise_kept=1.0, quantizes=TORCHAO, python_dispatch=True,
               measured_as=("eager",), validated=True, band_factor=1.0),
    EngineSpec("compile", "torch.compile (Inductor)", "torch", ("cpu", "cuda"),
               ("fp32", "fp16", "bf16", "int8_dynamic", "int8_weight_only", "int4_weight_only", "fp8"),
               "torchao, then compiled", None, None, None, serves_on=("cpu", "cuda"),
               host_model="per_op", host_us=None, elementwise_kept=0.5, quantizes=TORCHAO,
               measured_as=("compile",), validated=True, band_factor=1.5, options=(("mode", "default"),)),
    EngineSpec("graphs", "torch.compile with CUDA graphs", "torch", ("cuda",),
               ("fp32", "fp16", "bf16", "int8_dynamic", "int8_weight_only", "int4_weight_only", "fp8"),
               "torchao, then compiled", None, None, None, serves_on=("cuda",),
               host_model="per_pass", host_us=None, elementwise_kept=0.5, quantizes=TORCHAO,
               measured_as=("graphs",), validated=False, band_factor=1.5, options=(("mode", "reduce-overhead"),)),
    # Profiled on a CPU (fp32, int8) and, with the GPU build (onnx-gpu), on an NVIDIA GPU by the CUDA provider (fp32,
    # fp16); advisor/engines/onnxruntime.py says why each precision is profiled where it is.
    EngineSpec("onnxruntime", "ONNX Runtime", "onnxruntime", ("cpu", "cuda"),
               ("fp32", "fp16", "int8_dynamic", "int8_static"),
               "ONNX Runtime's own converter (fp16) and quantizer (dynamic int8; static int8 calibrated on generated "
               "inputs)",
               "onnxruntime", "onnxruntime", "onnx", serves_on=("cpu", "cuda"),
               host_model="per_op", host_us=10.0, elementwise_kept=0.5, quantizes=WHOLE_GRAPH,
               measured_as=("onnxruntime",), validated=False, band_factor=1.5, only_on=_ORT_ONLY_ON),
    EngineSpec("openvino", "OpenVINO", "openvino", ("cpu",), ("fp32", "bf16", "int8_weight_only"),
               "NNCF weight compression (int8)", "openvino", "openvino", "openvino", serves_on=("cpu",),
               host_model="per_op", host_us=10.0, elementwise_kept=0.5, quantizes=TORCHAO,
               measured_as=("openvino",), validated=False, band_factor=1.5),
    # Profiled on an NVIDIA GPU through ONNX Runtime's TensorRT execution provider (the onnxruntime backend with
    # provider=tensorrt, the onnx-gpu extra; advisor/engines/ort_device.py). int8 in TensorRT is static (the scales of
    # the ONNX file's Q/DQ nodes, from ONNX Runtime's static quantizer), never dynamic; bf16 and fp8 are projected.
    EngineSpec("tensorrt", "TensorRT", "onnxruntime", ("cuda",), ("fp32", "fp16", "bf16", "int8_static", "fp8"),
               "ONNX Runtime's static quantizer (QDQ, symmetric int8 activations and weights, calibrated on generated "
               "inputs); TensorRT builds int8 from its Q/DQ scales",
               "onnxruntime-gpu", "onnxruntime", "onnx-gpu", serves_on=("cuda",), gpu_vendors=("NVIDIA",),
               quantized_float_dtype="fp16",
               host_model="per_op", host_us=5.0, elementwise_kept=0.6, quantizes=WHOLE_GRAPH,
               measured_as=("tensorrt",), validated=True, band_factor=1.18, options=(("provider", "tensorrt"),),
               projected_only=("bf16", "fp8"),
               projected_why="ONNX Runtime's TensorRT provider builds fp32, fp16 and int8 from Q/DQ here; bf16 and "
                             "fp8 need a model quantized for them (ModelOpt), which this profiler does not make"),
    EngineSpec("vllm", "a vLLM-class serving engine", None, (),
               ("fp16", "bf16", "fp8", "int8_weight_only", "int4_weight_only"),
               "pre-quantized checkpoints (FP8, AWQ/GPTQ int4, int8 weight-only)", "vllm", "vllm", None,
               serves_on=("cuda",), host_model="per_pass", host_us=None, elementwise_kept=0.3, quantizes=TORCHAO,
               measured_as=("vllm",), validated=False, band_factor=1.5, serving=True),
)}


def engine(name: str) -> EngineSpec:
    try:
        return ENGINES[name]
    except KeyError:
        raise ValueError(f"unknown engine {name!r}; known: {', '.join(ENGINES)}") from None


def counts_as(measured: str, engine: str) -> bool:
    """Whether a row measured with the engine ``measured`` stands for ``engine`` (its registry row's measured_as):
    the one rule the projection, the what-if table and the recommendation apply to every measured cell."""
    return engine in ENGINES and measured in ENGINES[engine].measured_as


def elsewhere(spec: EngineSpec, device_type: str) -> str | None:
    """Why this engine is not profiled on this kind of device ("cpu", "cuda"), and where to profile it instead."""
    if device_type in spec.devices:
        return None
    where = " and ".join(d.upper() for d in spec.devices)
    fix = "with --device cpu" if "cpu" in spec.devices else "on a machine with a CUDA GPU (--device cuda)"
    return f"{spec.label} is profiled on {where} only, and this run is on {device_type}: profile it {fix}"


def none_profiled_on(names: list[str], device_type: str) -> str | None:
    """Why a profile of these engines alone would measure nothing on this kind of device: none of them is profiled
    there (each of its rows would only say so); None when one is. Checked before the model is loaded."""
    specs = [engine(name) for name in names]
    if not specs or any(device_type in spec.devices for spec in specs):
        return None
    here = [name for name in profiled_engines() if device_type in ENGINES[name].devices]
    fixes = [elsewhere(spec, device_type) for spec in specs]
    return (f"--engine {','.join(names)}: " + "; ".join(dict.fromkeys(f for f in fixes if f))
            + (f"; or choose an engine profiled on {device_type}: {', '.join(here)}" if here else ""))


def profiled_engines() -> tuple[str, ...]:
    """The engines a backend can profile here (the rest are projected only)."""
    return tuple(name for name, spec in ENGINES.items() if spec.backend is not None)


def card_engines() -> tuple[str, ...]:
    """The engines the per-operator model projects onto GPU cards (a serving engine for language models has its
    own model, advisor/performance/llm)."""
    return tuple(name for name, spec in ENGINES.items() if "cuda" in spec.serves_on and not spec.serving)
