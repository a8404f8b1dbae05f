"""`gpu-advisor doctor`: what this machine lacks to profile, measure energy and show the app, and how to fix each.

Checks, each ok, warn (works, with less) or fail (does not work), with the fix:
- the Qt libraries the desktop app's X11 plugin needs (found with ldd on the plugin, plus libxcb-cursor,
  which Qt loads at run time), with the Debian/Ubuntu and Fedora/RHEL package to install;
- the torch build against the GPU and its driver (a CPU-only torch on a machine with an NVIDIA GPU);
- NVML (GPU power and energy) and RAPL (CPU energy: root-only since CVE-2020-8694);
- the catalog's age (its prices move) and the exchange rate's.
It never installs anything and reaches no network.
"""

from __future__ import annotations

import ctypes.util
import os
import subprocess
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

# library -> (Debian/Ubuntu package, Fedora/RHEL package)
QT_PACKAGES = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-xinerama.so.0": ("libxcb-xinerama0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
}


@dataclass
class Check:
    name: str
    status: str  # ok, warn, fail
    detail: str
    fix: str | None = None

    def as_json(self) -> dict:
        return asdict(self)


def qt_plugin() -> Path | None:
    try:
        import importlib.util

        spec = importlib.util.find_spec("PySide6")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    plugin = Path(spec.origin).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.exists() else None


def missing_qt_libraries() -> list[str] | str:
    """The shared libraries the X11 platform plugin cannot find (or why they could not be listed)."""
    plugin = qt_plugin()
    if plugin is None:
        return "PySide6's X11 platform plugin is not installed"
    missing: list[str] = []
    for target in (plugin, plugin.parent.parent.parent / "lib" / "libQt6XcbQpa.so.6"):
        if not target.exists():
            continue
        try:
            out = subprocess.run(["ldd", str(target)], capture_output=True, text=True, timeout=20).stdout
        except (OSError, subprocess.TimeoutExpired):
            return "ldd is not available to list the libraries"
        missing += [line.split()[0] for line in out.splitlines() if "not found" in line]
    if ctypes.util.find_library("xcb-cursor") is None:  # Qt 6.5+ loads it at run time: ldd cannot see it
        missing.append("libxcb-cursor.so.0")
    return sorted(set(missing))


def check_qt() -> Check:
    missing = missing_qt_libraries()
    if isinstance(missing, str):
        return Check("desktop app (Qt)", "warn", missing, "reinstall with bash packaging/dev.sh")
    if not missing:
        return Check("desktop app (Qt)", "ok", "every library the X11 plugin needs is present")
    debian = sorted({QT_PACKAGES.get(lib, (lib, lib))[0] for lib in missing})
    fedora = sorted({QT_PACKAGES.get(lib, (lib, lib))[1] for lib in missing})
    return Check("desktop app (Qt)", "fail",
                 f"missing {', '.join(missing)}: the app cannot open a window (the command line works)",
                 f"Debian/Ubuntu: sudo apt-get install {' '.join(debian)}; Fedora/RHEL: sudo dnf install {' '.join(fedora)}")


def check_torch() -> Check:
    try:
        import torch
    except ImportError:
        return Check("torch", "fail", "torch is not installed", "bash packaging/dev.sh run (installs the right build)")
    from advisor.devices import nvml

    gpus = nvml.gpus()
    build = torch.version.cuda
    if gpus and not build:
        return Check("torch", "fail", f"torch {torch.__version__} is a CPU-only build, but this machine has "
                                      f"{len(gpus)} NVIDIA GPU(s): profiles would run on the CPU",
                     "remove .venv and run bash packaging/dev.sh run (it installs the CUDA build matching the driver)")
    if gpus and not torch.cuda.is_available():
        return Check("torch", "fail", f"torch {torch.__version__} (CUDA {build}) cannot use the GPU: the driver "
                                      f"supports CUDA {nvml.cuda_driver_version()}",
                     "update the NVIDIA driver, or install a torch build for an older CUDA (TORCH_SPEC)")
    if gpus:
        return Check("torch", "ok", f"torch {torch.__version__} (CUDA {build} build, {len(gpus)} GPU(s))")
    if build:  # PyPI's Linux torch: runs on the CPU, but carries the CUDA libraries for nothing
        return Check("torch", "warn", f"torch {torch.__version__} (CUDA {build} build, no NVIDIA GPU: it runs on the CPU)",
                     "the CPU build is about 3.8 GB smaller (an environment of 2.0 GB instead of 5.8 GB, measured with "
                     "dev.sh): remove .venv and run bash packaging/dev.sh run where download.pytorch.org is reachable, "
                     "or with TORCH_SPEC=/path/to/torch-VERSION+cpu-...whl")
    return Check("torch", "ok", f"torch {torch.__version__} (CPU build, no NVIDIA GPU)")


def check_nvml() -> Check:
    from advisor.devices import nvml

    gpus = nvml.gpus()
    if not gpus:
        return Check("GPU power and energy (NVML)", "warn", nvml.unavailable_reason() or "no NVIDIA GPU",
                     "none needed on a machine without an NVIDIA GPU")
    unreadable = [f"GPU {g['index']}: {', '.join(g['power_sources_missing'])}" for g in gpus
                  if not g["power_sources"]["nvml_energy_counter"]]
    lost = [f"GPU {g['index']}: {g['reason']}" for g in nvml.lost_gpus()]
    if lost:
        return Check("GPU power and energy (NVML)", "fail", "; ".join(lost), "check the GPU and driver (nvidia-smi)")
    if unreadable:
        return Check("GPU power and energy (NVML)", "warn", "no energy counter on " + "; ".join(unreadable),
                     "energy is integrated from power samples there, less precisely")
    return Check("GPU power and energy (NVML)", "ok", f"energy counter readable on {len(gpus)} GPU(s)")


def check_rapl() -> Check:
    from advisor.devices import rapl

    domains, reason = rapl.discover()
    if domains:
        return Check("CPU energy (RAPL)", "ok", f"readable: {', '.join(d.name for d in domains)}")
    fix = "give --cpu-tdp-w for a labelled estimate, or --wall-power-w from a wall meter"
    if reason and "permission" in reason.lower():
        fix = ("sudo chmod o+r /sys/class/powercap/intel-rapl:*/energy_uj (root-only since CVE-2020-8694; weigh that "
               "risk), or " + fix)
    return Check("CPU energy (RAPL)", "warn", reason or "unreadable", fix)


def check_catalog(today: date | None = None) -> Check:
    from advisor.catalog.audit import audit
    from advisor.catalog.catalog import load_catalog, user_catalog_dir

    today = today or date.today()
    try:
        catalog = load_catalog(user_catalog_dir())
    except Exception as exc:  # the catalog is the user's files: say what is wrong, whatever it is
        return Check("catalog", "fail", str(exc), "correct the named file in your catalog folder")
    ages = [(today - day).days for day in catalog.as_of.values() if day]
    findings = audit(catalog, today)
    stale = [f for f in findings if f.kind == "stale"]
    dated = [day for day in catalog.as_of.values() if day is not None]
    detail = (f"as of {min(dated, default='an unknown date')}; {len(stale)} stale prices, rates or energy figures "
              f"(gpu-advisor catalog audit lists them)")
    if ages and max(ages) > 365:
        return Check("catalog", "warn", detail + ": the catalog is over a year old", "update gpu-advisor or your catalog folder")
    return Check("catalog", "warn" if stale else "ok", detail,
                 "check the audited rows and give today's figures (--usd-per-eur, --electricity-eur-kwh, "
                 "--carbon-g-kwh) before relying on a verdict" if stale else None)


def run_checks() -> list[Check]:
    checks = [check_torch(), check_nvml(), check_rapl(), check_catalog()]
    if os.name == "posix" and not os.uname().sysname == "Darwin":
        checks.insert(0, check_qt())
    return checks


def render(checks: list[Check]) -> str:
    lines = []
    for c in checks:
        lines.append(f"[{c.status.upper():4s}] {c.name}: {c.detail}")
        if c.fix and c.status != "ok":
            lines.append(f"       fix: {c.fix}")
    return "\n".join(lines)
