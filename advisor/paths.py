"""The user's own folders for gpu-advisor, per platform: settings (the catalog entries saved from the app)
and data (reports that could not be written where asked)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Literal


def user_folder(kind: Literal["config", "data"]) -> Path:
    if sys.platform.startswith("win"):
        variable, default = (("APPDATA", Path("AppData") / "Roaming") if kind == "config"
                             else ("LOCALAPPDATA", Path("AppData") / "Local"))
        base = Path(os.environ.get(variable) or Path.home() / default)
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        variable, default = (("XDG_CONFIG_HOME", Path(".config")) if kind == "config"
                             else ("XDG_DATA_HOME", Path(".local") / "share"))
        base = Path(os.environ.get(variable) or Path.home() / default)
    return base / "gpu-advisor"
