import pytest

from advisor.errors import InputSpecError
from advisor.schema.inputs import parse_input_spec
from advisor.workloads.model import make_inputs


def test_parses_shapes_names_and_ranges():
    spec = parse_input_spec("float32[1,3,224,224]")
    assert (spec.name, spec.dtype, spec.shape) == (None, "float32", [1, 3, 224, 224])
    spec = parse_input_spec(" input_ids = int64[2, 128]:0..30522 ")
    assert (spec.name, spec.dtype, spec.shape, spec.low, spec.high) == ("input_ids", "int64", [2, 128], 0, 30522)
    assert str(spec) == "input_ids=int64[2,128]:0..30522"


@pytest.mark.parametrize("text, message", [
    ("float32", "not understood"),
    ("complex64[1,2]", "unknown dtype"),
    ("float32[]", "at least the batch"),
    ("float32[1,0]", "positive"),
    ("float32[1,x]", "whole numbers"),
    ("float32[1,4]:0..10", "integer inputs only"),
    ("int64[1,4]:10..10", "empty"),
])
def test_bad_specs_say_what_is_wrong(text, message):
    with pytest.raises(InputSpecError, match=message):
        parse_input_spec(text)


def test_generated_inputs_are_seeded_batched_and_within_range():
    specs = [parse_input_spec("ids=int64[1,64]:5..9"), parse_input_spec("mask=bool[1,64]")]
    _, first = make_inputs(specs, 4, seed=3)
    _, again = make_inputs(specs, 4, seed=3)
    assert first["ids"].shape == (4, 64)
    assert first["ids"].min() >= 5 and first["ids"].max() < 9
    assert (first["ids"] == again["ids"]).all()
    with pytest.raises(InputSpecError, match="value range"):
        make_inputs([parse_input_spec("int64[1,4]")], 1, 0)
