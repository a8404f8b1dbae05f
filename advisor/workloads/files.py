"""Loaders for the user's own model files.

Safe by default: TorchScript and ``torch.export`` programs hold no Python code; Hugging Face folders
are read from the local folder only, from safetensors, never with ``trust_remote_code``; checkpoints
go through ``torch.load(weights_only=True)``. A full pickle runs arbitrary code when loaded, so it is
refused unless the user passes the explicitly named unsafe flag.
"""

from __future__ import annotations

import json
import warnings
import zipfile
from pathlib import Path

import torch

from advisor.errors import InputSpecError, ModelLoadError, first_line
from advisor.schema.inputs import InputSpec
from advisor.schema.report import ModelIdentity
from advisor.schema.request import ModelSpec
from advisor.workloads.model import LoadedModel, parameter_count, sha256_of_path

UNSAFE_FLAG = "--unsafe-pickle-runs-code"
NOT_QUANTIZABLE_SCRIPT = ("TorchScript modules are compiled graphs that torchao and torch.ao cannot rewrite: "
                          "quantize before scripting, or give the model as a .pt2 export or a Hugging Face folder")


NOT_QUANTIZABLE_EXPORT = ("a torch.export program is a flattened graph with no nn.Linear modules for torchao or "
                          "torch.ao to rewrite: quantize before exporting (torchao quantize_, then torch.export), "
                          "or give the model as a Hugging Face folder or a state_dict with --arch")


def check_model_path(path: Path) -> None:
    """A model is a regular file or a folder: anything else (a FIFO, a socket, a device) would block or
    stream forever when opened, so it is refused before it is opened."""
    if path.exists() and not path.is_file() and not path.is_dir():
        raise ModelLoadError(f"model {path} is not a regular file or folder (a FIFO, socket or device): give the "
                             "path of a model file or folder")



def detect_format(path: Path) -> str:
    check_model_path(path)
    if not path.exists():
        raise ModelLoadError(f"model {path} does not exist: give a built-in name (llm, vision, speech, embedding) "
                             "or the path of a model file or folder")
    if path.is_dir():
        if (path / "config.json").is_file():
            return "hf"
        raise ModelLoadError(f"folder {path} has no config.json, so it is not a Hugging Face model folder")
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        return "safetensors"
    if suffix == ".onnx":
        return "onnx"
    if suffix in (".gguf", ".engine", ".plan"):
        raise ModelLoadError(f"{path.name}: {suffix} files are not supported; give a PyTorch model "
                             "(TorchScript, torch.export .pt2, Hugging Face folder or checkpoint) or an ONNX file")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        if any(n.endswith("/constants.pkl") or "/code/" in n for n in names):
            return "torchscript"
        if suffix == ".pt2" or any(n.endswith("archive_format") or "/models/" in n for n in names):
            return "export"
        if any(n.endswith("/data.pkl") for n in names):
            return "checkpoint"
    elif suffix == ".pt2":
        raise ModelLoadError(f"{path.name} is not a torch.export archive (it is not a zip file); is it truncated?")
    return "checkpoint"  # the legacy (non-zip) torch.save format


def load_file(spec: ModelSpec) -> LoadedModel:
    path = Path(spec.path).expanduser()  # type: ignore[arg-type]
    fmt = detect_format(path)
    loader = {"torchscript": _torchscript, "export": _export, "hf": _hf,
              "checkpoint": _checkpoint, "safetensors": _safetensors, "onnx": _onnx}[fmt]
    return loader(path, spec)


def _require_inputs(spec: ModelSpec, kind: str) -> list[InputSpec]:
    if not spec.inputs:
        raise InputSpecError(f"a {kind} does not say what inputs it takes: give them with --input, "
                             "e.g. --input float32[1,3,224,224] (the first dimension is the batch)")
    for item in spec.inputs:
        if item.dtype in ("int64", "int32") and item.low is None:
            raise InputSpecError(f"integer input {item} needs a value range, e.g. {item.dtype}[1,128]:0..30522 "
                                 "(token ids must lie within the vocabulary)")
    return spec.inputs


def _identity(path: Path, source: str, module, inputs: list[InputSpec], description: str,
              task: str = "generic", output_kind: str = "unknown", **extra) -> ModelIdentity:
    digest, size = sha256_of_path(path)
    return ModelIdentity(source=source, name=path.name, path=str(path.resolve()), sha256=digest,
                         file_size_bytes=size, parameter_count=parameter_count(module), task=task,
                         output_kind=output_kind, inputs=inputs, description=description,
                         weights=f"from {path.name}", **extra)


def _torchscript(path: Path, spec: ModelSpec) -> LoadedModel:
    inputs = _require_inputs(spec, "TorchScript model")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # said once, in the notes below
            module = torch.jit.load(str(path), map_location="cpu").eval()
    except Exception as exc:  # torch raises plain RuntimeErrors for damaged archives
        raise ModelLoadError(f"{path.name} could not be loaded as TorchScript: {first_line(exc)}") from None
    return LoadedModel(module=module, quantizable_reason=NOT_QUANTIZABLE_SCRIPT,
                       identity=_identity(path, "torchscript", module, inputs, "TorchScript module"),
                       notes=[f"TorchScript is deprecated as of torch {torch.__version__.split('+')[0]}; "
                              "torch.export (.pt2) is its successor"])


def _export(path: Path, spec: ModelSpec) -> LoadedModel:
    try:
        program = torch.export.load(str(path))
    except Exception as exc:
        raise ModelLoadError(f"{path.name} could not be loaded as a torch.export program: {first_line(exc)}") from None
    inputs = spec.inputs or _export_inputs(program, path)
    module = program.module()
    fixed = _static_batch(program)
    note = (f"this torch.export program was exported for batch {fixed} only (static shapes): other batch sizes "
            "are rejected; export it with dynamic dimensions (torch.export.Dim) to profile others" if fixed is not None else
            "a torch.export program keeps the shapes it was exported with unless exported with dynamic dimensions "
            "(torch.export.Dim): other batch sizes may be rejected")
    return LoadedModel(module=module, identity=_identity(path, "export", module, inputs, "torch.export program"),
                       quantizable_reason=NOT_QUANTIZABLE_EXPORT, fixed_batch=fixed, notes=[note])


ONNX_DTYPES = {"tensor(float)": "float32", "tensor(float16)": "float16", "tensor(double)": "float64",
               "tensor(int64)": "int64", "tensor(int32)": "int32", "tensor(bool)": "bool"}


class OnnxReference(torch.nn.Module):
    """An ONNX file run by ONNX Runtime in fp32, in torch's clothes: the quality reference of its engines' variants
    (torch itself cannot run it: its eager and compile rows say so)."""

    def __init__(self, session) -> None:
        super().__init__()
        self.session = session

    def forward(self, *args, **kwargs):
        values = [*args, *kwargs.values()]
        feeds = {i.name: v.detach().cpu().numpy() for i, v in zip(self.session.get_inputs(), values)}
        return torch.from_numpy(self.session.run(None, feeds)[0])


def _onnx(path: Path, spec: ModelSpec) -> LoadedModel:
    try:
        import onnxruntime as ort
    except ImportError:
        raise ModelLoadError(f"{path.name}: an ONNX file is run by ONNX Runtime, which is not installed: "
                             "pip install 'gpu-advisor[onnx]'") from None
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ModelLoadError(f"{path.name} could not be loaded as an ONNX model: {first_line(exc)}") from None
    inputs, firsts = spec.inputs, set()
    if not inputs:
        inputs = []
        for item in session.get_inputs():
            dtype = ONNX_DTYPES.get(item.type)
            if dtype is None:
                raise InputSpecError(f"{path.name}: input {item.name} is a {item.type}, which generated inputs do not "
                                     "cover; give the inputs with --input")
            dims = list(item.shape)
            if any(not isinstance(d, int) for d in dims[1:]):
                raise InputSpecError(f"{path.name}: input {item.name} has named dimensions {dims}: give its shape with "
                                     f"--input {item.name}={dtype}[1,...]")
            shape = [dims[0] if isinstance(dims[0], int) else 1, *dims[1:]]
            firsts.add(dims[0] if isinstance(dims[0], int) else None)
            if dtype in ("int64", "int32"):
                raise InputSpecError(f"{path.name}: input {item.name} holds integers (token ids?); give its value range "
                                     f"with --input {item.name}={dtype}[{','.join(map(str, shape))}]:0..VOCAB")
            inputs.append(InputSpec(name=item.name, dtype=dtype, shape=shape))
    fixed = firsts.pop() if len(firsts) == 1 else None
    module = OnnxReference(session)
    return LoadedModel(module=module, identity=_identity(path, "onnx", module, inputs, "ONNX model"),
                       quantizable_reason="an ONNX file is quantized by its engines (onnxruntime, openvino), not torch",
                       fixed_batch=fixed, onnx_path=str(path.resolve()),
                       notes=["an ONNX file runs in ONNX Runtime and OpenVINO; its quality reference is ONNX Runtime's "
                              "fp32 output, and its work (FLOPs, bytes) is not counted"])


def _static_batch(program) -> int | None:
    """The batch size a program was exported for, when every user input's first dimension is that fixed number."""
    names = set(program.graph_signature.user_inputs)
    firsts = set()
    for node in program.graph.nodes:
        val = node.meta.get("val") if node.op == "placeholder" and node.name in names else None
        if isinstance(val, torch.Tensor) and val.dim() > 0:
            if not isinstance(val.shape[0], int):
                return None  # a dynamic batch
            firsts.add(int(val.shape[0]))
    return firsts.pop() if len(firsts) == 1 else None


def _export_inputs(program, path: Path) -> list[InputSpec]:
    """The user inputs' shapes and dtypes, read from the exported graph's placeholders."""
    names = set(program.graph_signature.user_inputs)
    specs = []
    for node in program.graph.nodes:
        if node.op != "placeholder" or node.name not in names:
            continue
        val = node.meta.get("val")
        if not isinstance(val, torch.Tensor):
            raise InputSpecError(f"{path.name}: input {node.name} is not a tensor; give the inputs with --input")
        dtype = str(val.dtype).removeprefix("torch.")
        try:
            shape = [int(d) for d in val.shape]
        except TypeError:  # a dynamic dimension: use its hint
            shape = [int(d.node.hint) if hasattr(d, "node") else 1 for d in val.shape]
        if dtype in ("int64", "int32"):
            raise InputSpecError(f"{path.name}: input {node.name} holds integers (token ids?); give its value range "
                                 f"with --input {dtype}[{','.join(map(str, shape))}]:0..VOCAB")
        specs.append(InputSpec(dtype=dtype, shape=shape))
    return specs


def _checkpoint(path: Path, spec: ModelSpec) -> LoadedModel:
    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:
        text = str(exc)
        if "weights_only" not in text and "Unsupported global" not in text:
            raise ModelLoadError(f"{path.name} could not be read as a PyTorch checkpoint: {first_line(exc)}") from None
        if not spec.unsafe_pickle:
            culprit = _unsupported_global(text)
            raise ModelLoadError(
                f"{path.name} is a full Python pickle{culprit}: loading it runs code from the file, so it is "
                f"refused. Safer: save the model with torch.export (.pt2), TorchScript, or as a state_dict "
                f"loaded into --arch. If you trust this file completely, pass {UNSAFE_FLAG}.") from None
        try:
            obj = torch.load(str(path), map_location="cpu", weights_only=False)
        except Exception as exc2:
            raise ModelLoadError(f"{path.name} could not be unpickled: {first_line(exc2)} (the classes it references "
                                 "must be importable: run from your code's folder or set PYTHONPATH)") from None
        if not isinstance(obj, torch.nn.Module):
            raise ModelLoadError(f"{path.name} holds a {type(obj).__name__}, not a torch.nn.Module") from None
        inputs = _require_inputs(spec, "pickled model")
        return LoadedModel(module=obj.eval(), identity=_identity(
            path, "pickle", obj, inputs, f"pickled {type(obj).__module__}.{type(obj).__qualname__} (loaded unsafely)"))
    return _state_dict_into_arch(path, spec, _find_state_dict(obj, path), "checkpoint")


def _safetensors(path: Path, spec: ModelSpec) -> LoadedModel:
    from safetensors.torch import load_file
    try:
        state = load_file(str(path))
    except Exception as exc:
        raise ModelLoadError(f"{path.name} could not be read as safetensors: {first_line(exc)}") from None
    return _state_dict_into_arch(path, spec, state, "checkpoint")


def _find_state_dict(obj, path: Path) -> dict:
    if isinstance(obj, dict):
        for key in ("state_dict", "model_state_dict", "model"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
        if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            return obj
    raise ModelLoadError(f"{path.name} holds a {type(obj).__name__} that is neither a model nor a state_dict of tensors")


def _state_dict_into_arch(path: Path, spec: ModelSpec, state: dict, source: str) -> LoadedModel:
    from advisor.workloads.builtin import load_builtin

    if spec.architecture is None:
        raise ModelLoadError(f"{path.name} holds weights only (a state_dict): name the architecture they belong to "
                             "with --arch llm|vision|speech|embedding and its --size, or give a TorchScript, "
                             ".pt2 or Hugging Face model instead")
    base = load_builtin(spec.model_copy(update={"builtin": spec.architecture, "path": None, "inputs": []}))
    state = {k.removeprefix("module."): v for k, v in state.items()}  # DataParallel checkpoints
    expected = base.module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state) if expected[k].shape != state[k].shape)
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} (e.g. {', '.join(missing[:3])})")
        if unexpected:
            parts.append(f"unexpected {len(unexpected)} (e.g. {', '.join(unexpected[:3])})")
        if wrong:
            k = wrong[0]
            parts.append(f"{len(wrong)} of another shape (e.g. {k}: file {tuple(state[k].shape)}, "
                         f"architecture {tuple(expected[k].shape)})")
        raise ModelLoadError(f"{path.name} does not match --arch {spec.architecture} --size {spec.size}: "
                             + "; ".join(parts))
    base.module.load_state_dict(state, strict=True)
    digest, size = sha256_of_path(path)
    base.identity = base.identity.model_copy(update={
        "source": source, "name": path.name, "path": str(path.resolve()), "sha256": digest,
        "file_size_bytes": size, "weights": f"from {path.name}",
        "description": f"weights from {path.name} in the built-in {spec.architecture} architecture ({spec.size})"})
    return base


def _hf(path: Path, spec: ModelSpec) -> LoadedModel:
    try:
        import transformers
    except ImportError:
        raise ModelLoadError("Hugging Face model folders need the optional transformers package: "
                             "pip install 'gpu-advisor[hf]'") from None
    from advisor.files import read_text

    text = read_text(path / "config.json", "model configuration", error=ModelLoadError)
    try:
        config_data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ModelLoadError(f"{path.name}/config.json is not valid JSON ({first_line(exc, 120)}): fix or replace it") from None
    if not isinstance(config_data, dict):
        raise ModelLoadError(f"{path.name}/config.json is not a JSON object: fix or replace it")
    if "auto_map" in config_data:
        raise ModelLoadError(f"{path.name} needs custom Python code from the folder (trust_remote_code), "
                             "which the advisor never runs; export the model with torch.export (.pt2) instead")
    if not any(path.glob("*.safetensors")):
        raise ModelLoadError(f"{path.name} has no *.safetensors weights; the advisor does not unpickle "
                             "pytorch_model.bin files. Convert them to safetensors first")
    task, output_kind, model_class = _hf_head(transformers, config_data, path)
    try:
        model, info = model_class.from_pretrained(str(path), local_files_only=True, trust_remote_code=False,
                                                  use_safetensors=True, dtype=torch.float32, output_loading_info=True)
    except Exception as exc:
        raise ModelLoadError(f"{path.name} could not be loaded by transformers {transformers.__version__}: "
                             f"{first_line(exc)}") from None
    _check_loaded_exactly(path, info)
    model.eval()
    config = model.config
    new_tokens = None
    vocab = getattr(config, "vocab_size", None)
    if spec.inputs:  # token ids without a range are drawn from the vocabulary the config states
        inputs = [s.model_copy(update={"low": 0, "high": vocab}) if s.dtype == "int64" and s.high is None and vocab else s
                  for s in spec.inputs]
    else:
        main = getattr(model, "main_input_name", "input_ids")
        if main == "input_ids":
            if not vocab:
                raise InputSpecError(f"{path.name}: no vocab_size in its config; give --input input_ids=int64[1,128]:0..VOCAB")
            inputs = [InputSpec(name="input_ids", dtype="int64", shape=[1, spec.seq_len or 128], low=0, high=vocab)]
        elif main == "pixel_values":
            size = getattr(config, "image_size", 224)
            size = size if isinstance(size, int) else size[0]
            inputs = [InputSpec(name="pixel_values", dtype="float32", shape=[1, getattr(config, "num_channels", 3), size, size])]
        elif main == "input_features":
            inputs = [InputSpec(name="input_features", dtype="float32", shape=[1, getattr(config, "num_mel_bins", 80), 3000])]
        else:
            raise InputSpecError(f"{path.name}: its main input is {main!r}; give the inputs with --input {main}=...")
    if task == "llm":
        new_tokens = spec.new_tokens or 32
    arch = model_class.__name__
    identity = _identity(path, "hf", model, inputs, f"Hugging Face {arch} "
                         f"(transformers {transformers.__version__})", task=task, output_kind=output_kind,
                         seq_len=inputs[0].shape[1] if inputs[0].dtype == "int64" else None, new_tokens=new_tokens)
    return LoadedModel(module=model, identity=identity, generation_step=_hf_step(model) if task == "llm" else None)


def _check_loaded_exactly(path: Path, info: dict) -> None:
    """Every weight of the model came from the folder and every weight of the folder went into the model:
    otherwise transformers initialises the missing ones at random and says only so in a log line, and the
    profile would describe a different model."""
    problems = []
    for key, what in (("missing_keys", "missing from the folder (they would be random)"),
                      ("unexpected_keys", "in the folder but not in the model"),
                      ("mismatched_keys", "of another shape than the model's")):
        names = [k if isinstance(k, str) else k[0] for k in info.get(key) or []]
        if names:
            problems.append(f"{len(names)} weights {what}: {', '.join(names[:4])}{', ...' if len(names) > 4 else ''}")
    if problems:
        raise ModelLoadError(f"{path.name} does not match its config.json: {'; '.join(problems)}. Check that the "
                             "weights belong to this config (and its architectures entry)")


def _hf_head(transformers, config_data: dict, path: Path):
    """The class the config names (a head: causal LM, classifier); AutoModel when it names none.

    The kind of head is read from transformers' own auto-mappings, not guessed from the name. An
    architecture transformers does not ship is refused: falling back to another model would profile
    something else than what the folder holds.
    """
    from transformers.models.auto import modeling_auto as auto

    def names(mapping) -> set[str]:
        return {n for v in mapping.values() for n in ((v,) if isinstance(v, str) else v)}

    arch = (config_data.get("architectures") or [""])[0]
    if not arch:
        return "generic", "hidden", transformers.AutoModel
    model_class = getattr(transformers, arch, None)
    if model_class is None or not hasattr(model_class, "from_pretrained"):
        raise ModelLoadError(f"{path.name}: its config.json names the architecture {arch!r}, which transformers "
                             f"{transformers.__version__} does not have; give a folder whose architectures entry names "
                             "a transformers model class (e.g. BertModel, GPT2LMHeadModel)")
    if arch in names(auto.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES):
        return "llm", "logits", model_class
    if arch in names(auto.MODEL_FOR_IMAGE_CLASSIFICATION_MAPPING_NAMES):
        return "vision", "logits", model_class
    if arch in names(auto.MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES):
        return "generic", "logits", model_class
    return "generic", "hidden", model_class


def _hf_step(model):
    """One decoder step with the KV cache; transformers 5.24 renamed ``past_key_values`` to ``cache``."""
    import inspect

    key = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"

    def step(module, input_ids: torch.Tensor, past):
        out = module(input_ids=input_ids, use_cache=True, **{key: past})
        return out.logits, out[key]
    return step


def _unsupported_global(text: str) -> str:
    marker = "Unsupported global: GLOBAL "
    if marker in text:
        name = text.split(marker, 1)[1].split()[0].rstrip(".,")
        return f" (it references {name})"
    return ""


def load_model(spec: ModelSpec) -> LoadedModel:
    """Load what the request names, on the CPU; the caller moves it to the device."""
    if spec.builtin:
        from advisor.workloads.builtin import load_builtin
        return load_builtin(spec)
    return load_file(spec)
