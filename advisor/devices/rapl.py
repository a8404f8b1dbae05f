"""CPU energy from Intel RAPL (also exposed by AMD Zen since Linux 5.8) under /sys/class/powercap.

Only the package domains and their DRAM subdomains are summed: the other subdomains (core, uncore)
are parts of the package and would count twice. The counters are microjoules that wrap at
``max_energy_range_uj``; readable by root only since CVE-2020-8694.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

POWERCAP = Path("/sys/class/powercap")


@dataclass(frozen=True)
class Domain:
    name: str  # e.g. package-0, dram
    path: Path
    max_range_uj: int


def discover(root: Path = POWERCAP) -> tuple[list[Domain], str | None]:
    """The package and DRAM domains that can be read, or none and the reason."""
    packages = sorted(p for p in root.glob("intel-rapl:*") if p.name.count(":") == 1)
    if not packages:
        return [], f"no RAPL interface under {root} (virtual machines and CI machines usually have none)"
    domains = []
    for package in packages:
        candidates = [package] + sorted(p for p in package.glob(f"{package.name}:*") if _name(p) == "dram")
        for path in candidates:
            try:
                int((path / "energy_uj").read_text())
                domains.append(Domain(_name(path), path, int((path / "max_energy_range_uj").read_text())))
            except PermissionError:
                return [], (f"RAPL is readable by root only here ({path / 'energy_uj'}: permission denied, a "
                            "mitigation of CVE-2020-8694): run as root, or let this user read the energy_uj files")
            except (OSError, ValueError) as exc:
                return [], f"RAPL at {path} cannot be read: {exc}"
    return domains, None


def _name(path: Path) -> str:
    try:
        return (path / "name").read_text().strip()
    except OSError:
        return path.name


class RaplCounter:
    """Joules used since the counter was created, summed over domains, counter wrap handled."""

    def __init__(self, domains: list[Domain]) -> None:
        self.domains = domains
        self._last = [self._read(d) for d in domains]
        self.total_j = 0.0

    @staticmethod
    def _read(domain: Domain) -> int:
        return int((domain.path / "energy_uj").read_text())

    def read_j(self) -> float:
        for i, domain in enumerate(self.domains):
            now = self._read(domain)
            delta = now - self._last[i]
            if delta < 0:  # wrapped past max_energy_range_uj
                delta += domain.max_range_uj + 1
            self.total_j += delta / 1e6
            self._last[i] = now
        return self.total_j
