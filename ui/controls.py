"""The app's names for the controls the core's sentences point to (advisor/controls.py): the label of each in its
form, which the forms take from here, so that a verdict's "recommend again with --engine graphs" reads, in the app,
"with Engine on cards set to CUDA graphs"."""

from __future__ import annotations

from advisor.controls import Controls

ENERGY_FACTS = "Energy facts"  # the Catalog tab's table of energy.csv (ui/catalog_view.py)
# The figures the command line gives a recommendation (--usd-per-eur, ...): the Decide tab has no field for them; the
# app takes them from the catalog, whose rows its Catalog tab corrects.
_CATALOG_ROW = f"its row corrected in the Catalog tab's {ENERGY_FACTS}"

APP = Controls({
    # the Decide tab's workload form (ui/workload_form.py)
    "--engine": "Engine on cards", "--owned-card": "Owned hardware", "--owned-count": "How many",
    "--prompt-tokens": "Prompt tokens", "--output-tokens": "Reply tokens", "--redundancy": "Availability",
    "--country": "Country", "--users-region": "Users' region", "--allow-marketplace": "consider marketplace offers",
    "--usd-per-eur": _CATALOG_ROW, "--electricity-eur-kwh": _CATALOG_ROW, "--carbon-g-kwh": _CATALOG_ROW,
    "--pue": _CATALOG_ROW,
    # the profile form (ui/profile_form.py)
    "profile --engine": "Engines", "profile --batch": "Batch sizes", "profile --device": "Device",
    # what the profile form has no field for: said as the command line's options, named as such
    "profile power": "--cpu-tdp-w or --wall-power-w on the command line (gpu-advisor profile)",
    # the What if tab (ui/whatif_view.py)
    "project --engine": "Engine",
    # where the Decide form has no field: the hosts' site is the command line's (a preset may set it)
    "--site": "the command line's --site",
    # the Language model tab (ui/llm_view.py) and its calibration (ui/llm_calibration.py)
    "assess --precision": "the Language model tab",
    "llm --engine": "Engine", "--reps": "Repeats", "measure": "Measure here…",
}, flags=False)
