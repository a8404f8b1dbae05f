"""gpu-advisor fleet nodes against a real local Ray cluster: a head node on 127.0.0.1 and a second node that
carries a custom accelerator label (no GPU here, so NVML on the node cannot confirm it, and says so)."""

from __future__ import annotations

import json
import socket
import sys

import pytest

pytest.importorskip("ray")

from advisor import cli  # noqa: E402
from tests.fleet.conftest import free_port  # noqa: E402

pytestmark = pytest.mark.slow


def test_the_nodes_are_listed_with_their_labels_checked_on_the_node(cluster, capsys):
    assert cli.main(["fleet", "nodes", "--address", cluster, "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["kind"] == "gpu-advisor-fleet-nodes" and listing["schema_version"] == 1
    nodes = listing["nodes"]
    assert len(nodes) == 2 and sum(n["head"] for n in nodes) == 1
    labelled = next(n for n in nodes if n["ray_accelerator_types"])
    assert labelled["ray_accelerator_types"] == ["T4"] and labelled["reason"] is None
    assert labelled["cpu_model"] and labelled["free_cpus"] == 1.0  # the node answered for itself
    assert "NVML sees no GPU" in labelled["check"]  # a label NVML cannot confirm is said so
    assert cli.main(["fleet", "nodes", "--address", cluster]) == 0
    text = capsys.readouterr().out
    assert "T4" in text and "2 alive nodes" in text


def test_an_address_where_nothing_answers_is_one_line_at_once(capsys):
    port = free_port()  # nothing listens there
    assert cli.main(["fleet", "nodes", "--address", f"127.0.0.1:{port}"]) == 4
    assert "nothing answers at" in capsys.readouterr().err


def test_a_malformed_address_is_a_usage_error(capsys):
    assert cli.main(["fleet", "nodes", "--address", "head-node"]) == 2
    assert "HOST:PORT" in capsys.readouterr().err


def test_without_ray_the_command_says_how_to_get_it(monkeypatch, capsys):
    port = free_port()
    with socket.socket() as listener:  # something answers, so the address is fine; Ray is what is missing
        listener.bind(("127.0.0.1", port))
        listener.listen()
        monkeypatch.setitem(sys.modules, "ray", None)
        assert cli.main(["fleet", "nodes", "--address", f"127.0.0.1:{port}"]) == 2
    assert "pip install 'gpu-advisor[fleet]'" in capsys.readouterr().err
