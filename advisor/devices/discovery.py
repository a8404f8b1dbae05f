"""What this machine has: its CPU, its NVIDIA GPUs (through NVML) and what torch can use.

Asks NVML, not torch.cuda, about GPUs, so listing devices creates no CUDA context.
"""

from __future__ import annotations

from advisor.devices import cpu, nvml
from advisor.software import package_version


def discover() -> dict:
    import torch

    from advisor.profiling.variants import support_table

    gpus = nvml.gpus()
    reason = nvml.unavailable_reason()
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    devices = [{"device": "cpu", "name": cpu.cpu_model() or "CPU",
                "precisions": support_table(torch.device("cpu"), None)}]
    for g in gpus:
        cap = tuple(int(x) for x in g["compute_capability"].split(".")) if g["compute_capability"] else None
        devices.append({"device": f"cuda:{g['index']}", "name": g["name"],
                        "precisions": support_table(torch.device("cuda", g["index"]), cap)})
    if mps:
        devices.append({"device": "mps", "name": "Apple GPU (MPS)", "precisions": support_table(torch.device("mps"), None)})
    cuda_build = torch.version.cuda
    return {
        "cpu": cpu.describe(),
        "nvidia": {"gpus": gpus, "driver_version": nvml.driver_version(),
                   "cuda_driver_version": nvml.cuda_driver_version(), "unavailable_reason": reason},
        "torch": {"version": torch.__version__, "cuda_build": cuda_build,
                  "cuda_usable": bool(cuda_build) and bool(gpus),
                  "cuda_note": None if cuda_build or not gpus else
                  "this torch is a CPU-only build: install a CUDA build of torch to profile on the GPU",
                  "mps_available": mps},
        "libraries": {"torchao": package_version("torchao"), "transformers": package_version("transformers")},
        "devices": devices,
        "auto_device": "cuda:0" if gpus and cuda_build else ("mps" if mps else "cpu"),
    }


def format_devices(found: dict) -> str:
    c = found["cpu"]
    lines = [f"CPU   {c['model'] or 'unknown model'}: {c['cores_physical']} cores, {c['threads_logical']} threads "
             f"({c['usable_cpus']} usable), {c['memory_total_bytes'] / 2**30:.1f} GiB RAM",
             f"      fast precisions: {', '.join(c['fast_precisions']) or 'none detected (fp32 only)'}"]
    nv = found["nvidia"]
    if nv["gpus"]:
        lines.append(f"NVIDIA driver {nv['driver_version']}, CUDA {nv['cuda_driver_version']}")
        for g in nv["gpus"]:
            mem = f"{g['memory_total_bytes'] / 2**30:.0f} GiB" if g["memory_total_bytes"] else "? GiB"
            power = f", power limit {g['power_limit_w']:.0f} W" if g["power_limit_w"] else ""
            lines.append(f"GPU {g['index']} {g['name']}: {mem}, compute capability {g['compute_capability']}{power}")
    else:
        lines.append(f"GPU   none: {nv['unavailable_reason']}")
    t = found["torch"]
    lines.append(f"torch {t['version']} ({'CUDA ' + t['cuda_build'] if t['cuda_build'] else 'CPU-only build'})"
                 f"; torchao {found['libraries']['torchao'] or 'not installed'}"
                 f"; transformers {found['libraries']['transformers'] or 'not installed'}")
    if t["cuda_note"]:
        lines.append(f"note: {t['cuda_note']}")
    for dev in found["devices"]:
        ok = [p for p, why in dev["precisions"].items() if why is None]
        lines.append(f"{dev['device']:<7} precisions: {', '.join(ok)}")
        for p, why in dev["precisions"].items():
            if why:
                lines.append(f"        {p}: unsupported: {why}")
    lines.append(f"auto device: {found['auto_device']}")
    return "\n".join(lines)
