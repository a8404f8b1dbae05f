"""The Decide tab's workload form: a preset, then each field of the workload it can change (advisor/recommend/
workload.py), and the workload the form describes."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QLineEdit, QSpinBox

from advisor.catalog.rtt import round_trip_table
from advisor.recommend.engine_choice import AUTO
from advisor.recommend.rules import LEVELS
from advisor.recommend.workload import Workload, load_preset, preset_names
from advisor.schema.engines import card_engines
from advisor.schema.engines import engine as engine_spec
from ui.controls import APP

NO_REGION = "not given"  # the users' region left out: no network round trip counted
# The availability box's entries and the workload's redundancy each stands for (None: by the service hours).
REDUNDANCY = {"by service hours (N+1 at 24 h a day)": None, "none: no spare": "none", "N+1: one spare": "n+1"}
# What auto weighs (advisor/recommend/engine_choice.py), said where the reader chooses it.
AUTO_TIP = ("auto: every validated engine the profile shows the model runs with, on cards without a measurement: "
            "a torch engine the profile ran, TensorRT where the model reached ONNX (an ONNX Runtime or OpenVINO row "
            "measured; an ONNX file profiled alone reaches no card, its operators uncounted). An engine not "
            "validated, or that the model was not shown to run "
            "with, is weighed only when chosen here, and its figures say so (docs/recommendation.md, 'The engine').")


def spin_box(low: float, high: float, value: float, suffix: str, decimals: int = 0) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(low, high)
    spin.setDecimals(decimals)
    spin.setValue(value)
    spin.setSuffix(suffix)
    return spin


class WorkloadForm(QGroupBox):
    """The workload's fields; ``rows`` takes the rows its owner adds under them (a button, a problem line)."""

    def __init__(self) -> None:
        super().__init__("Workload")
        self.rows = form = QFormLayout(self)
        self.preset = QComboBox()
        self.preset.addItems(["custom"] + preset_names())
        self.preset.currentTextChanged.connect(self._apply_preset)
        form.addRow("Preset", self.preset)
        self.peak_rps = spin_box(0, 1e6, 10, " req/s", decimals=2)
        form.addRow("Peak rate", self.peak_rps)
        self.avg_rps = spin_box(0, 1e6, 0, " req/s (0: a third of peak)", decimals=4)  # a third of 1.25 req/s is 0.4167, not 0.42
        form.addRow("Average rate", self.avg_rps)
        self.p95 = spin_box(1, 1e6, 500, " ms")
        form.addRow("p95 latency target", self.p95)
        self.hours = spin_box(0.5, 24, 24, " h/day", decimals=1)
        form.addRow("Service hours", self.hours)
        self.redundancy = QComboBox()
        self.redundancy.addItems(list(REDUNDANCY))
        self.redundancy.setToolTip("N+1 costs one spare (a card on premise, an instance rented) so that one failure "
                                   "still holds the target; by default for a service run 24 h a day")
        form.addRow(APP("--redundancy"), self.redundancy)
        self.batching = QCheckBox("requests may be batched")
        self.batching.setChecked(True)
        form.addRow("", self.batching)
        self.engine = self._engine_box()
        form.addRow(APP("--engine"), self.engine)
        self.sensitivity = QComboBox()
        self.sensitivity.addItems(list(LEVELS))
        form.addRow("Data sensitivity", self.sensitivity)
        self.datacenter = QCheckBox("buy data-centre cards only")
        self.datacenter.setToolTip("leave out workstation and consumer cards cooled by their own fan (RTX A-series, "
                                   "RTX Ada, GeForce): rack servers are made for passively cooled cards")
        form.addRow("", self.datacenter)
        self.marketplace = QCheckBox(APP("--allow-marketplace"))
        self.marketplace.setToolTip("public data only: third parties' machines rented through a marketplace, with no "
                                    "data-centre SLA (left out by default)")
        form.addRow("", self.marketplace)
        self.horizon = QSpinBox()
        self.horizon.setRange(1, 120)
        self.horizon.setValue(36)
        self.horizon.setSuffix(" months")
        form.addRow("Horizon", self.horizon)
        self.prompt_tokens, self.output_tokens = QSpinBox(), QSpinBox()
        for box, what in ((self.prompt_tokens, "prompt"), (self.output_tokens, "reply")):
            box.setRange(0, 1_000_000)
            box.setSpecialValueText("as profiled")
            box.setToolTip(f"language models: tokens in a request's {what} (sized with continuous batching)")
        form.addRow(APP("--prompt-tokens"), self.prompt_tokens)
        form.addRow(APP("--output-tokens"), self.output_tokens)
        self.budget = spin_box(0, 1e9, 0, " EUR (0: none)")
        form.addRow("Budget", self.budget)
        self.owned = QComboBox()
        self.owned.setToolTip("hardware already paid for: 'profiled' is the device the profile ran on; "
                              "'none' if it will not serve")
        form.addRow(APP("--owned-card"), self.owned)
        self.owned_count = QSpinBox()
        self.owned_count.setRange(1, 1000)
        form.addRow(APP("--owned-count"), self.owned_count)
        self.country = QLineEdit()
        self.country.setPlaceholderText("ISO code for grid carbon and electricity price, e.g. FR (empty: EU average)")
        form.addRow(APP("--country"), self.country)
        self.users_region = QComboBox()
        self.users_region.addItems([NO_REGION] + round_trip_table().users_codes)  # the catalog's: set_catalog
        self.users_region.setToolTip("where the users are: a cloud offer's measured network round trip from there "
                                     "(profiles/catalog/rtt.csv) is added to each request; 'not given': none counted")
        form.addRow(APP("--users-region"), self.users_region)

    @staticmethod
    def _engine_box() -> QComboBox:
        """auto, then each engine projected onto cards by its registry label; the item's data is the workload's name."""
        box = QComboBox()
        box.addItem(AUTO, AUTO)
        box.setItemData(0, AUTO_TIP, Qt.ItemDataRole.ToolTipRole)
        for name in card_engines():
            spec = engine_spec(name)
            box.addItem(spec.label + ("" if spec.validated else " (not validated)"), name)
            if not spec.validated:
                box.setItemData(box.count() - 1, f"its projection was not checked on measurements: its band is "
                                                 f"widened by an assumed x/÷{spec.band_factor:g}", Qt.ItemDataRole.ToolTipRole)
        box.setToolTip(AUTO_TIP + " Or one engine, named: every card without a measurement is projected with it.")
        return box

    def set_catalog(self, catalog) -> None:
        """The choices the catalog in use offers: cards to own, and the users' regions its round trips start from."""
        owned = ["profiled", "none", "cpu"] + [c.name for c in catalog.cards]
        for box, items in ((self.owned, owned), (self.users_region, [NO_REGION] + catalog.round_trips.users_codes)):
            current = box.currentText()
            box.clear()
            box.addItems(items)
            box.setCurrentText(current)  # kept where the catalog still offers it

    def _apply_preset(self, name: str) -> None:
        if name == "custom":
            return
        w = load_preset(name)
        self.peak_rps.setValue(w.peak)
        self.avg_rps.setValue(w.average_rps)
        self.p95.setValue(w.p95_ms)
        self.hours.setValue(w.hours_per_day)
        self.redundancy.setCurrentText(next(k for k, v in REDUNDANCY.items() if v == w.redundancy))
        self.batching.setChecked(w.batching)
        self.engine.setCurrentIndex(max(self.engine.findData(w.engine), 0))  # vllm is a language model's: auto here
        self.sensitivity.setCurrentText(w.sensitivity)
        self.marketplace.setChecked(w.allow_marketplace)
        self.datacenter.setChecked(w.datacenter_cards_only)
        self.horizon.setValue(w.horizon_months)
        self.prompt_tokens.setValue(w.prompt_tokens or 0)
        self.output_tokens.setValue(w.output_tokens or 0)
        self.budget.setValue(w.budget_eur or 0)
        self.owned.setCurrentText(w.owned_card or "none")
        self.owned_count.setValue(w.owned_count)
        self.country.setText(w.country or "")
        self.users_region.setCurrentText(w.users_region or NO_REGION)

    def workload(self) -> Workload:
        """The workload the form describes (raises pydantic's ValidationError with the field's problem)."""
        base = load_preset(self.preset.currentText()).model_dump() if self.preset.currentText() != "custom" else {}
        base.update(
            name=self.preset.currentText(), peak_rps=self.peak_rps.value() or None,
            avg_rps=self.avg_rps.value() or None, users=None, p95_ms=self.p95.value(),
            hours_per_day=self.hours.value(), redundancy=REDUNDANCY[self.redundancy.currentText()],
            batching=self.batching.isChecked(), engine=self.engine.currentData(),
            sensitivity=self.sensitivity.currentText(),
            allow_marketplace=self.marketplace.isChecked(), datacenter_cards_only=self.datacenter.isChecked(),
            horizon_months=self.horizon.value(), budget_eur=self.budget.value() or None,
            prompt_tokens=self.prompt_tokens.value() or None, output_tokens=self.output_tokens.value() or None,
            owned_card=self.owned.currentText() or "profiled", owned_count=self.owned_count.value(),
            country=self.country.text().strip().upper() or None,
            users_region=None if self.users_region.currentText() == NO_REGION else self.users_region.currentText())
        if base["avg_rps"] is None and base["peak_rps"] is not None:
            base["avg_rps"] = base["peak_rps"] / 3
        return Workload.model_validate(base)
