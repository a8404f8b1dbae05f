"""Desktop integration on Linux: a menu entry with an icon that opens the app, and reports by double-click.

`gpu-advisor install-desktop` (and the offline bundle's install.sh) writes, under the user's data folder
(XDG_DATA_HOME, ~/.local/share): applications/gpu-advisor.desktop, icons/hicolor/scalable/apps/gpu-advisor.svg
and mime/packages/gpu-advisor.xml, which names the report type (a JSON file whose "kind" is
gpu-advisor.profile-report) so that the file manager offers the app for reports. Nothing is written
outside the user's folder, and nothing is run but the desktop database update tools where present.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

MIME = "application/x-gpu-advisor-report"
ICON = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">
<rect x="4" y="12" width="56" height="40" rx="6" fill="#1f5fa8"/>
<rect x="10" y="18" width="44" height="28" rx="3" fill="#ffffff"/>
<polyline points="14,40 24,32 32,36 42,24 50,28" fill="none" stroke="#2e7d4f" stroke-width="4" stroke-linecap="round"/>
<rect x="12" y="52" width="8" height="6" fill="#1f5fa8"/><rect x="44" y="52" width="8" height="6" fill="#1f5fa8"/>
</svg>
"""
MIME_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">
  <mime-type type="{MIME}">
    <comment>gpu-advisor profile report</comment>
    <sub-class-of type="application/json"/>
    <magic priority="60"><match type="string" value="gpu-advisor.profile-report" offset="0:400"/></magic>
    <glob pattern="*.json" weight="10"/>
  </mime-type>
</mime-info>
"""


def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def install(executable: str | None = None) -> list[Path]:
    """Write the entry, the icon and the report type for this user; returns the files written."""
    exe = executable or shutil.which("gpu-advisor") or str(Path(sys.executable).with_name("gpu-advisor"))
    base = data_home()
    files = {
        base / "applications" / "gpu-advisor.desktop": (
            "[Desktop Entry]\nType=Application\nName=Inference GPU advisor\n"
            "Comment=Profile a model and decide where it should run\n"
            f"Exec={exe} %f\nIcon=gpu-advisor\nTerminal=false\nCategories=Development;Science;\n"
            f"MimeType={MIME};\n"),
        base / "icons" / "hicolor" / "scalable" / "apps" / "gpu-advisor.svg": ICON,
        base / "mime" / "packages" / "gpu-advisor.xml": MIME_XML,
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for tool, arg in (("update-mime-database", base / "mime"), ("update-desktop-database", base / "applications")):
        if shutil.which(tool):
            subprocess.run([tool, str(arg)], capture_output=True, timeout=60)
    return list(files)
