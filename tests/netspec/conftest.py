"""Fixtures of the netlist-layer tests: file writers, the full example written with its data
files, EVSIM_MEMORY_LIMIT, and a helper that runs ``evsim`` in-process. Shared data (example
netlists) lives in netspec_cases.py."""
from __future__ import annotations

import textwrap

import pytest

from netspec_cases import FULL, write_data_files


@pytest.fixture
def write(tmp_path):
    """write(name, text) -> path of a new file under tmp_path (text is dedented)."""

    def _write(name, text):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return str(path)

    return _write


@pytest.fixture
def full_path(tmp_path):
    """Path of FULL written with its data files into tmp_path."""
    write_data_files(tmp_path)
    path = tmp_path / "full.yaml"
    path.write_text(FULL, encoding="utf-8")
    return str(path)


@pytest.fixture
def memory_limit(monkeypatch):
    """Sets EVSIM_MEMORY_LIMIT for one test: memory_limit('1G')."""

    def _set(value):
        monkeypatch.setenv("EVSIM_MEMORY_LIMIT", value)

    return _set


@pytest.fixture
def evsim(capsys):
    """evsim(*argv) -> (exit status, stdout, stderr), running the command line in-process."""
    from evsim.cli import main

    def _run(*argv):
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return _run
