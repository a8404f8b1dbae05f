"""How a front end names the controls the core's sentences point to. Each sentence is written once, in the core, with
the command line's words for a control (its flag, or a key for a whole command); a front end that names its controls
otherwise (the app: ui/controls.py) passes its own `Controls`, and the core's text then names the control the reader
sees. A recommendation, a calibration's refusal and the errors on the way take one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Controls:
    """``names``: a control's key (a flag of the command line, or a command's key such as ``measure``) to this front
    end's name for it; a flag it does not name is said as the flag."""

    names: Mapping[str, str] = field(default_factory=dict)
    flags: bool = True  # True: values follow their control as on a command line ("--engine graphs")

    def __call__(self, key: str, value: str = "", shown: str = "") -> str:
        """The control ``key``, set to ``value`` where given (``shown``: the value as a form shows it, if otherwise)."""
        name = self.names.get(key, key)
        if not value:
            return name
        return f"{name} {value}" if self.flags or key not in self.names else f"{name} set to {shown or value}"


# The command line's words where they are not a flag: the command that makes a calibration, the profile's own options
# (a recommendation points to what to profile again, which the app sets in another form than the Decide tab's), the
# energy figures a profile can be given, the projection of a report onto a card (the app's What if tab), a language
# model's precisions a recommendation sets aside (advisor/recommend/llm.py SET_ASIDE) and its engine (the app's
# Language model tab shows those precisions and has its own engine).
CLI = Controls({"measure": "gpu-advisor assess CONFIG --measure --out CAL.json", "profile --engine": "--engine",
                "profile --batch": "gpu-advisor profile --batch", "profile --device": "--device",
                "profile power": "--cpu-tdp-w or --wall-power-w", "project --engine": "gpu-advisor project REPORT",
                "assess --precision": "gpu-advisor assess CONFIG --precision int8,int4",
                "llm --engine": "--engine"})
