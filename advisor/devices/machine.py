"""Is this machine the user's own hardware? A virtual machine or a cloud instance is rented, not owned.

Read, never guessed from names the user chose: the ``hypervisor`` flag a CPU reports under a hypervisor
(/proc/cpuinfo's flags line; Linux sets it from CPUID leaf 1, ECX bit 31) and the DMI system vendor and
product (/sys/class/dmi/id/sys_vendor, product_name) that virtual and cloud platforms fill with their own name.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

# DMI vendor or product names of virtual machines and cloud instances (lower case, as a substring).
VIRTUAL_DMI = (
    "qemu",
    "kvm",
    "vmware",
    "virtualbox",
    "xen",
    "bochs",
    "parallels",
    "virtual machine",
    "amazon ec2",
    "google compute engine",
    "openstack",
    "alibaba cloud",
    "digitalocean",
    "scaleway",
    "hetzner vserver",
    "oraclecloud",
    "cloud-hypervisor",
    "firecracker",
)


@dataclass(frozen=True)
class Machine:
    """The machine the recommendation runs on: its host name and, if it is virtual, how that was seen."""

    hostname: str
    virtual: str | None  # None: no sign of a hypervisor or a cloud platform


def virtual_reason(root: Path = Path("/")) -> str | None:
    """How this machine shows that it is virtual or a cloud instance; None where it shows nothing."""
    try:
        cpuinfo = (root / "proc" / "cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        cpuinfo = ""
    for line in cpuinfo.splitlines():
        if line.startswith("flags") and "hypervisor" in line.split(":", 1)[-1].split():
            return "the CPU reports a hypervisor (/proc/cpuinfo): a virtual machine"
    for name in ("sys_vendor", "product_name"):
        try:
            value = (root / "sys" / "class" / "dmi" / "id" / name).read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            continue
        if any(sign in value.lower() for sign in VIRTUAL_DMI):
            return f"its DMI {name.replace('_', ' ')} is {value!r}: a virtual machine or cloud instance"
    return None


def this_machine() -> Machine:
    return Machine(socket.gethostname(), virtual_reason())
