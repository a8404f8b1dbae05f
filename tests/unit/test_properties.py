"""Property-based tests of the three parsers that read what people and other programs write: input specs,
reports and catalog files. Whatever the text, each either returns a valid value or raises the project's own
error with a message; nothing else escapes (no traceback reaches a user)."""

import copy
import json
import string
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.catalog.catalog import MODELS
from advisor.catalog.table import CatalogError, parse_table
from advisor.errors import AdvisorError, InputSpecError
from advisor.report.io import parse_report
from advisor.schema.inputs import parse_input_spec

FIXTURE = Path(__file__).parents[1] / "fixtures" / "report-v2-llm-tiny.json"
SETTINGS = settings(max_examples=300, deadline=None, derandomize=True,  # the same examples on every CI run
                    suppress_health_check=[HealthCheck.too_slow])

spec_text = st.one_of(
    st.text(max_size=60),
    st.builds(lambda name, dtype, dims, rng: f"{name}{dtype}[{','.join(dims)}]{rng}",
              st.sampled_from(["", "x=", "input_ids=", "1bad=", " = "]),
              st.sampled_from(["float32", "int64", "bool", "float8", "int", ""]),
              st.lists(st.one_of(st.integers(-3, 10**6).map(str), st.sampled_from(["", " ", "x", "1.5", "1e3"])),
                       max_size=5),
              st.sampled_from(["", ":0..10", ":5..1", ":-2..3", ":..", ":0..x"])),
)


@SETTINGS
@given(spec_text)
def test_an_input_spec_parses_or_says_why(text):
    try:
        spec = parse_input_spec(text)
    except InputSpecError as exc:
        assert str(exc)
        return
    assert spec.shape and all(d > 0 for d in spec.shape)
    assert spec.low is None or spec.low < spec.high
    assert parse_input_spec(spec.label if hasattr(spec, "label") else text) == spec


def _mutations():
    """Edits of a real report: a value replaced, a key removed, a key added, anywhere in the tree."""
    leaf = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
                     st.text(max_size=12), st.just([]), st.just({}))
    return st.lists(st.tuples(st.sampled_from(["replace", "remove", "add"]), st.integers(0, 10**6), leaf), min_size=1,
                    max_size=4)


def _nodes(tree, out=None):
    out = [] if out is None else out
    if isinstance(tree, dict):
        out.append(tree)
        for value in tree.values():
            _nodes(value, out)
    elif isinstance(tree, list):
        for value in tree:
            _nodes(value, out)
    return out


BASE = json.loads(FIXTURE.read_text())


@SETTINGS
@given(_mutations())
def test_a_damaged_report_loads_validly_or_is_refused_naming_the_problem(edits):
    data = json.loads(json.dumps(BASE))
    for action, index, value in edits:
        nodes = _nodes(data)
        node = nodes[index % len(nodes)]
        keys = sorted(node)
        if action == "add" or not keys:
            node["zz_unknown"] = copy.deepcopy(value)  # a fresh value each time: no shared object, no cycle
        elif action == "remove":
            node.pop(keys[index % len(keys)])
        else:
            node[keys[index % len(keys)]] = copy.deepcopy(value)
    try:
        report = parse_report(json.dumps(data), "r.json")
    except AdvisorError as exc:
        assert str(exc).startswith("r.json")
        return
    for variant in report.variants:  # what loads is physically possible
        for batch in variant.batches:
            if batch.latency:
                assert batch.latency.p50_ms > 0


@SETTINGS
@given(st.sampled_from(sorted(MODELS)), st.lists(st.text(alphabet=string.printable, max_size=30), min_size=1, max_size=8))
def test_a_catalog_file_loads_or_names_the_file_row_and_field(file_name, cells):
    model = MODELS[file_name]
    header = ",".join(model.model_fields)
    row = ",".join(cells)
    text = f"# as_of 2026-11-29\n{header}\n{row}\n"
    try:
        rows, _ = parse_table(text, file_name, model)
    except CatalogError as exc:
        assert file_name in str(exc)
        return
    for parsed in rows:
        for value in parsed.model_dump().values():
            assert not (isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))))
