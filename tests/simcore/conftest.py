"""Fixtures of the simcore tests: the reference engine (tests/simcore/reference_engine.py) and a
helper that runs a YAML netlist written to a temporary directory."""
from __future__ import annotations

import os
import sys
import textwrap

import pytest

# reference_engine.py sits beside this file; make ``import reference_engine`` work whatever
# pytest's import mode (tests/simcore has no __init__.py: its name would shadow the simcore package)
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import reference_engine  # noqa: E402


@pytest.fixture
def ref_run(tmp_path):
    """run(yaml_text, mode=None, name="net") -> (reference result dict, netspec.Expanded)."""
    import netspec

    def run(text: str, mode: str | None = None, name: str = "net"):
        path = tmp_path / f"{name}.yaml"
        path.write_text(textwrap.dedent(text))
        arrays = netspec.expand(netspec.load(str(path)))
        return reference_engine.simulate(arrays, mode), arrays

    return run
