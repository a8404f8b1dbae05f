"""What this machine has: its CPU, its NVIDIA GPUs (through NVML) and what torch can profile on each.

Above both the hardware probes (``advisor.devices``) and the profiler (which precisions run where), so
neither needs the other. Asks NVML, not torch.cuda, about GPUs, so listing devices creates no CUDA context.
"""

from __future__ import annotations

from advisor.devices import cpu, nvml, rapl
from advisor.schema.devices import DeviceListing
from advisor.software import package_version


def discover() -> DeviceListing:
    import torch

    from advisor.engines.torch import support_table

    gpus = nvml.gpus()
    reason = nvml.unavailable_reason()
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    devices = [{"device": "cpu", "name": cpu.cpu_model() or "CPU",
                "precisions": support_table(torch.device("cpu"), None)}]
    for g in gpus:
        cap = None
        if g["compute_capability"]:
            major, minor = g["compute_capability"].split(".")
            cap = (int(major), int(minor))
        devices.append({"device": f"cuda:{g['index']}", "name": g["name"],
                        "precisions": support_table(torch.device("cuda", g["index"]), cap)})
    if mps:
        devices.append({"device": "mps", "name": "Apple GPU (MPS)", "precisions": support_table(torch.device("mps"), None)})
    cuda_build = torch.version.cuda
    domains, rapl_reason = rapl.discover()
    return DeviceListing.model_validate({
        "cpu": cpu.describe(),
        "cpu_power": {"rapl_domains": [d.name for d in domains], "rapl_unavailable_reason": rapl_reason},
        "nvidia": {"gpus": gpus, "lost_gpus": nvml.lost_gpus(), "driver_version": nvml.driver_version(),
                   "cuda_driver_version": nvml.cuda_driver_version(), "unavailable_reason": reason},
        "torch": {"version": torch.__version__, "cuda_build": cuda_build,
                  "cuda_usable": bool(cuda_build) and bool(gpus),
                  "cuda_note": None if cuda_build or not gpus else
                  "this torch is a CPU-only build: install a CUDA build of torch to profile on the GPU",
                  "mps_available": mps},
        "libraries": {"torchao": package_version("torchao"), "transformers": package_version("transformers")},
        "devices": devices,
        "auto_device": "cuda:0" if gpus and cuda_build else ("mps" if mps else "cpu"),
    })


def format_devices(listing: DeviceListing) -> str:
    found = listing.model_dump()
    c = found["cpu"]
    tdp = f"TDP {c['tdp_w_per_socket']:g} W per socket" if c["tdp_w_per_socket"] else "TDP unknown"
    lines = [f"CPU   {c['model'] or 'unknown model'}: {c['sockets'] or '?'} socket(s), {c['cores_physical']} cores, "
             f"{c['threads_logical']} threads ({c['usable_cpus']} usable), {c['memory_total_bytes'] / 2**30:.1f} GiB RAM, "
             f"{tdp}",
             f"      fast precisions: {', '.join(c['fast_precisions']) or 'none detected (fp32 only)'}"]
    power = found["cpu_power"]
    if power["rapl_domains"]:
        lines.append(f"      power: RAPL readable ({', '.join(power['rapl_domains'])})")
    else:
        lines.append(f"      power: no RAPL: {power['rapl_unavailable_reason']}")
        lines.append("             energy on this CPU: give --cpu-tdp-w for an estimate, or --wall-power-w measured at the wall"
                     if not c["tdp_w_per_socket"] else "             energy on this CPU: estimated from the TDP (labelled)")
    nv = found["nvidia"]
    if nv["gpus"]:
        lines.append(f"NVIDIA driver {nv['driver_version']}, CUDA {nv['cuda_driver_version']}")
        for g in nv["gpus"]:
            mem = f"{g['memory_total_bytes'] / 2**30:.0f} GiB" if g["memory_total_bytes"] else "? GiB"
            power = ""
            if g["power_limit_w"]:
                power = f", power limit {g['power_limit_w']:.0f} W"
                if g["power_default_limit_w"] and g["power_default_limit_w"] != g["power_limit_w"]:
                    power += f" (default {g['power_default_limit_w']:.0f} W)"
            lines.append(f"GPU {g['index']} {g['name']}: {mem}, compute capability {g['compute_capability']}{power}")
            pcie = (f"PCIe gen {g['pcie_generation_current']} x{g['pcie_width_current']} (max gen "
                    f"{g['pcie_generation_max']} x{g['pcie_width_max']})" if g["pcie_generation_max"] else "PCIe unknown")
            lines.append(f"      {pcie}; max clocks SM {g['max_sm_clock_mhz'] or '?'} MHz, memory "
                         f"{g['max_memory_clock_mhz'] or '?'} MHz; MIG {g['mig_mode'] or 'not supported'}; "
                         f"UUID {g['uuid']}")
            readable = [k for k, ok in g["power_sources"].items() if ok]
            lines.append(f"      power: {', '.join(readable) or 'nothing readable'}")
            for source, why in g["power_sources_missing"].items():
                lines.append(f"             {source}: {why}")
    else:
        lines.append(f"GPU   none: {nv['unavailable_reason']}")
    for g in nv.get("lost_gpus", []):
        lines.append(f"GPU {g['index']} cannot be read: {g['reason']}")
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
