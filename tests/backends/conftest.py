"""Shared helpers for the backend tests: tiny netlists written to tmp_path, Brian2 availability."""
from __future__ import annotations

import importlib.util
import textwrap

import pytest

HAVE_BRIAN2 = importlib.util.find_spec("brian2") is not None


def pytest_collection_modifyitems(config, items):
    if HAVE_BRIAN2:
        return
    skip = pytest.mark.skip(reason="Brian2 is not installed (pip install 'evsim[brian2]')")
    for item in items:
        if "brian2" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def write_netlist(tmp_path):
    """write_netlist(yaml_text, name="net.yaml") -> path of the file written in tmp_path."""
    def write(text: str, name: str = "net.yaml") -> str:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return str(path)

    return write
