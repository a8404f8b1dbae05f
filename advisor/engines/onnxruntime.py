"""The ONNX Runtime backend: the model exported to ONNX (advisor/engines/onnx_export.py), run by an InferenceSession on
the CPU execution provider, or on an NVIDIA GPU by the CUDA one (advisor/engines/ort_device.py: its providers, the
checks that it runs there, the timed call with IO binding). The engine ``tensorrt`` is this backend with the option
provider=tensorrt: ONNX Runtime's TensorRT provider before the CUDA one, on a GPU only.

Variants: fp32 everywhere. fp16 on a GPU only: the fp32 file converted by ONNX Runtime's own converter
(``onnxruntime.transformers.float16.convert_float_to_float16`` with ``keep_io_types=True``) rather than a second
export of the model cast to fp16: one export serves every variant, the inputs and outputs stay fp32 as the profiler
feeds them, and the converter leaves in fp32 the operators on its block list (mostly those without fp16 kernels).
Not on a CPU: the CPU provider has few fp16 kernels and runs fp16 nodes in fp32 behind inserted casts
(microsoft/onnxruntime, onnxruntime/core/optimizer/insert_cast_transformer.h, commit
5bbbd754f2900aae44631a2c91cf02133e76330f), so a CPU fp16 row would time casts.

int8 by ONNX Runtime's dynamic quantization (weights int8, activations quantized per call) and by its static
quantization (QDQ, activation scales calibrated beforehand on generated inputs, not on real data), on a CPU only: ONNX
Runtime quantizes for GPUs through the TensorRT execution provider, not the CUDA one (its documentation, "Quantization
on GPU": https://onnxruntime.ai/docs/performance/model-optimizations/quantization.html, source microsoft/onnxruntime
docs/performance/model-optimizations/quantization.md, commit 053270ce9a1f42c13f6bc17a4812184c66885ef7, read
2026-12-07), so an int8 row on the CUDA provider would not be int8 compute.

TensorRT: fp32 and fp16 build from the fp32 file (fp16: TensorRT's FP16 flag, not ONNX Runtime's converter, so
TensorRT picks each layer's kernels as it does when serving); int8_static from a QDQ model made by the same static
quantizer with int8 activations, symmetric like the weights, since ONNX Runtime's quantization on a GPU supports int8
activations and weights only (S8S8; its quantization page above, "Data type selection") and TensorRT's quantization is
symmetric (https://docs.nvidia.com/deeplearning/tensorrt/latest/inference-library/work-quantized-types.html, read
2026-12-07). Shapes: TensorRT builds one engine for one optimization profile, set from the batch sizes the profiler
feeds the variant (its first call at batch 1, the quality batch, the measured ones), its kernels chosen for the largest
measured batch size; every other dimension stays at the profiled shape. The build happens while the session is made,
timed into the variant's preparation (prepare_s, and a note), never into a measured call.

A language model with a KV cache (advisor/engines/onnx_generation.py): its prefill and decode graphs, each in its own
session, generated greedily by a loop over InferenceSession.run; fp32, and int8_dynamic with each graph quantized as a
single graph is. On the CPU only: on a GPU every step would copy the cache between host and device."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import torch

from advisor.engines.base import Unsupported, Variant, not_served, scratch
from advisor.engines.onnx_export import EXPORTER, onnx_file
from advisor.engines.onnx_generation import generation_graphs, greedy, prompt
from advisor.engines.ort_device import (
    CUDA_PROVIDER,
    TENSORRT_PROVIDER,
    bound_call,
    check_build,
    check_placement,
    engines_built,
    feeds,
    providers,
    tensorrt_options,
)
from advisor.errors import first_line
from advisor.schema.engines import EngineSpec
from advisor.schema.report import QuantMethod
from advisor.schema.request import ProfileRequest
from advisor.software import package_version
from advisor.workloads.model import make_inputs

CALIBRATION_BATCHES = 8  # seeded generated batches the static quantizer takes its activation ranges from
CALIBRATION_SEED = 1000  # apart from the timing (0) and quality (1) inputs' seeds


def _without_shapes(source: Path, folder: Path) -> Path:
    """A copy without the exporter's recorded intermediate shapes: the quantizer infers them again and refuses a
    model where its inference and the recorded ones differ (the dynamo exporter records some as static)."""
    import onnx

    model = onnx.load(str(source))
    del model.graph.value_info[:]
    path = folder / "float.onnx"
    onnx.save(model, str(path))
    return path


def to_fp16(source: Path, path: Path) -> None:
    """The fp32 file converted to fp16 by ONNX Runtime's converter, its inputs and outputs kept fp32."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    onnx.save(convert_float_to_float16(onnx.load(str(source)), keep_io_types=True), str(path))


class OnnxRuntimeBackend:
    def __init__(self, spec: EngineSpec, request: ProfileRequest) -> None:
        self.spec = spec
        self.threads = request.threads
        self.seed = request.seed
        self.tensorrt = spec.option("provider") == "tensorrt"
        # every batch size the profiler feeds a variant (session.py: first call at 1, quality, measured)
        self.batches_fed = sorted({1, request.quality_batch, *request.batch_sizes})
        self.largest_measured = max(request.batch_sizes)

    def missing(self) -> str | None:
        return self.spec.missing()

    def _session(self, path: Path, device: torch.device, tensorrt: dict | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        if self.threads:
            options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: its warnings would flood the worker's stderr
        session = ort.InferenceSession(str(path), options, providers=providers(device, tensorrt))
        check_placement(session, device, CUDA_PROVIDER if tensorrt is None else TENSORRT_PROVIDER)
        return session

    def prepare(self, precision: str, loaded, device: torch.device) -> Variant:
        if why := not_served(self.spec, precision, device):
            raise Unsupported(why)
        check_build(device, TENSORRT_PROVIDER if self.tensorrt else CUDA_PROVIDER)
        version = package_version("onnxruntime") or package_version("onnxruntime-gpu") or "?"
        if loaded.generation_step is not None:
            return self._prepare_generation(precision, loaded, device, version)
        source = onnx_file(loaded)
        exported = "the ONNX file as given" if loaded.onnx_path else EXPORTER
        provider = providers(device, {} if self.tensorrt else None)[0]
        provider_name = provider if isinstance(provider, str) else provider[0]
        notes: list[str] = []
        size = None
        if precision == "fp32" or (self.tensorrt and precision == "fp16"):
            import onnx

            flag = ", trt_fp16_enable" if precision == "fp16" else ""
            path, api = source, f"{exported}, then InferenceSession ({provider_name}{flag})"
            size = onnx.load(str(source)).ByteSize()  # with the weights a given file may keep beside it
            if flag:
                notes.append("TensorRT's FP16 flag on the fp32 file: TensorRT picks fp16 or fp32 kernels layer by "
                             "layer; inputs and outputs stay fp32")
        elif precision == "fp16":
            path = scratch("onnxruntime-") / "fp16.onnx"
            try:
                to_fp16(source, path)
            except Exception as exc:
                raise Unsupported(f"ONNX Runtime's fp16 converter could not convert this model: {first_line(exc)}") from None
            api = (f"{exported}, then onnxruntime.transformers.float16.convert_float_to_float16(keep_io_types=True), "
                   f"InferenceSession ({provider_name})")
            notes.append("inputs and outputs stay fp32 (keep_io_types): the graph casts them at its ends")
        else:
            path, api = self._quantized(precision, loaded, source, notes)
            if self.tensorrt:
                api += f", InferenceSession ({provider_name}, trt_int8_enable, trt_fp16_enable)"
        session = self._tensorrt_session(path, precision, loaded, device, notes) if self.tensorrt else \
            self._session(path, device)
        method = QuantMethod(library="onnxruntime", library_version=version, api=api,
                             compute_dtype="int8" if precision.startswith("int8") else precision, notes=notes)
        return Variant(precision, session, method, torch.float32, engine=self.spec.name,
                       extra={"size_bytes": size or path.stat().st_size, "device": device})

    def _prepare_generation(self, precision: str, loaded, device: torch.device, version: str) -> Variant:
        """A language model's prefill and decode graphs, each in its own session (the variant's module: prefill)."""
        if device.type != "cpu" or self.tensorrt:
            raise Unsupported(f"{self.spec.label} serves a language model's generation on the CPU only here (on a GPU "
                              "each step would copy the KV cache through the host): profile it with --engine eager or "
                              "compile, or on --device cpu")
        if precision not in ("fp32", "int8_dynamic"):
            raise Unsupported(f"{self.spec.label} serves a language model's generation in fp32 and int8_dynamic here "
                              f"({precision} would need calibration inputs with a KV cache): profile one of those")
        graphs = generation_graphs(loaded)
        paths, api = [graphs.prefill, graphs.decode], f"{EXPORTER} (a prefill and a decode graph)"
        notes = ["prefill and decode graphs, each with its own copy of the weights; the timed call is a greedy loop "
                 "over InferenceSession.run, the KV cache fed back as numpy arrays between steps"]
        if precision == "int8_dynamic":
            paths = [self._quantized(precision, loaded, path, notes)[0] for path in paths]
            api += ", then onnxruntime.quantization.quantize_dynamic(weight_type=QInt8) on each"
        prefill, decode = (self._session(path, device) for path in paths)
        method = QuantMethod(library="onnxruntime", library_version=version,
                             api=api + f", InferenceSession ({providers(device, None)[0]}) for each",
                             compute_dtype="int8" if precision.startswith("int8") else precision, notes=notes)
        return Variant(precision, prefill, method, torch.float32, engine=self.spec.name,
                       extra={"size_bytes": sum(path.stat().st_size for path in paths), "device": device,
                              "decode": decode})

    def _quantized(self, precision: str, loaded, source: Path, notes: list[str]) -> tuple[Path, str]:
        from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static

        folder = scratch("onnxruntime-")
        path = folder / f"{precision}.onnx"
        try:
            source = _without_shapes(source, folder)
            if precision == "int8_dynamic":
                quantize_dynamic(str(source), str(path), weight_type=QuantType.QInt8)
                return path, "onnxruntime.quantization.quantize_dynamic(weight_type=QInt8)"
            # TensorRT: int8 activations, symmetric (the module's docstring says why); the CPU provider: uint8
            activations = QuantType.QInt8 if self.tensorrt else QuantType.QUInt8
            quantize_static(str(source), str(path), self._calibration(loaded, source),
                            quant_format=QuantFormat.QDQ, activation_type=activations, weight_type=QuantType.QInt8,
                            extra_options={"ActivationSymmetric": self.tensorrt, "WeightSymmetric": True})
        except Exception as exc:
            raise Unsupported(f"ONNX Runtime's quantizer could not quantize this model: {first_line(exc)}") from None
        notes.append(f"calibrated on {CALIBRATION_BATCHES} batches of generated (seeded random) inputs, "
                     "not on real data: on real inputs its activation ranges, and so its quality, differ")
        kind = "QInt8 symmetric" if self.tensorrt else "QUInt8"
        return path, f"onnxruntime.quantization.quantize_static(QDQ, activations {kind}, weights QInt8)"

    def _tensorrt_session(self, path: Path, precision: str, loaded, device: torch.device, notes: list[str]):
        """The session on ONNX Runtime's TensorRT provider, its engine built here (timed into the preparation, never
        into a measured call), refused where TensorRT took no node (the row would measure the CUDA provider)."""
        cache = scratch("tensorrt-")
        shapes, shapes_note = self._shape_profile(path, loaded)
        t0 = time.perf_counter()
        try:
            session = self._session(path, device, tensorrt_options(precision, cache, shapes))
            built = engines_built(cache)
        except Unsupported:
            raise
        except Exception as exc:
            raise Unsupported(f"TensorRT could not build this model: {first_line(exc)}") from None
        finally:
            shutil.rmtree(cache, ignore_errors=True)  # the engines are loaded: the files would only fill the disk
        if not built:
            raise Unsupported("TensorRT took no node of this model (ONNX Runtime ran it all on its CUDA provider): the "
                              "row would measure ONNX Runtime's CUDA provider, not TensorRT; profile that with "
                              "--engine onnxruntime")
        notes.append(f"TensorRT built {built} engine{'s' if built > 1 else ''} in {time.perf_counter() - t0:.1f} s while "
                     "preparing (not timed); nodes it did not take ran on ONNX Runtime's CUDA provider")
        notes.append(shapes_note)
        return session

    def _shape_profile(self, path: Path, loaded) -> tuple[dict[str, str], str]:
        """TensorRT's optimization profile ({"min"|"opt"|"max": "name:1x128,..."}) for the model's dynamic inputs,
        and the note that says it."""
        if loaded.fixed_batch:
            return {}, f"the model's shapes are static: TensorRT built its engine for batch {loaded.fixed_batch}"
        import onnx

        graph = onnx.load(str(path), load_external_data=False).graph
        weights = {t.name for t in graph.initializer}
        inputs = [i for i in graph.input if i.name not in weights]
        args, kwargs = make_inputs(loaded.inputs, 1, 0)
        dims = [(i.name, list(v.shape[1:])) for i, v in zip(inputs, [*args, *kwargs.values()])
                if any(not d.HasField("dim_value") for d in i.type.tensor_type.shape.dim)]

        def at(batch: int) -> str:
            return ",".join(f"{name}:{'x'.join(map(str, [batch, *rest]))}" for name, rest in dims)

        low, high, opt = self.batches_fed[0], self.batches_fed[-1], self.largest_measured
        return ({"min": at(low), "opt": at(opt), "max": at(high)} if dims else {},
                f"one TensorRT engine for batch sizes {low} to {high} (an explicit optimization profile), its kernels "
                f"chosen for batch {opt}; every other dimension fixed at the profiled shape")

    def _calibration(self, loaded, source: Path):
        from onnxruntime.quantization import CalibrationDataReader

        session = self._session(source, torch.device("cpu"))
        batch = loaded.fixed_batch or 1
        batches = [feeds(session, *make_inputs(loaded.inputs, batch, CALIBRATION_SEED + self.seed + i))
                   for i in range(CALIBRATION_BATCHES)]

        class Reader(CalibrationDataReader):
            def __init__(self) -> None:
                self.items = iter(batches)

            def get_next(self):
                return next(self.items, None)

        return Reader()

    def forward(self, variant: Variant, args: tuple, kwargs: dict) -> torch.Tensor:
        session = variant.module
        return torch.from_numpy(session.run(None, feeds(session, args, kwargs))[0])

    def make_call(self, variant: Variant, args: tuple, kwargs: dict, step, new_tokens: int | None):
        session = variant.module
        device = variant.extra["device"]
        if (decode := variant.extra.get("decode")) is not None:
            ids, prefill_run, decode_run = prompt(args, kwargs), _runner(session), _runner(decode)

            def generate(timer) -> None:
                greedy(prefill_run, decode_run, ids, new_tokens or 1, timer)

            return generate
        if device.type == "cuda":
            return bound_call(session, args, kwargs, device)
        host_feeds = feeds(session, args, kwargs)  # converted once, outside the timed call
        run = session.run

        def call(timer) -> None:
            run(None, host_feeds)

        return call

    def size_bytes(self, variant: Variant) -> tuple[int | None, str]:
        return variant.extra.get("size_bytes"), "ONNX model size (serialized, weights included)"


def _runner(session):
    """One graph's call with its inputs in order (onnx_generation.greedy's contract)."""
    names, run = [i.name for i in session.get_inputs()], session.run
    return lambda inputs: run(None, dict(zip(names, inputs)))


Backend = OnnxRuntimeBackend
