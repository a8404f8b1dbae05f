"""The app's names for the controls the core's sentences point to (advisor/controls.py): the label of each in its
form, which the forms take from here, so that a verdict's "recommend again with --engine graphs" reads, in the app,
"with Engine on cards set to CUDA graphs"."""

from __future__ import annotations

from advisor.controls import Controls

APP = Controls({
    # the Decide tab's workload form (ui/workload_form.py)
    "--engine": "Engine on cards", "--owned-card": "Owned hardware", "--owned-count": "How many",
    "--prompt-tokens": "Prompt tokens", "--output-tokens": "Reply tokens", "--redundancy": "Availability",
    "--country": "Country", "--users-region": "Users' region", "--allow-marketplace": "consider marketplace offers",
    # the profile form (ui/profile_form.py)
    "profile --engine": "Engines", "profile --batch": "Batch sizes", "profile --device": "Device",
    # the Language model tab (ui/llm_view.py) and its calibration (ui/llm_calibration.py)
    "llm --engine": "Engine", "--reps": "Repeats", "measure": "Measure here…",
}, flags=False)
