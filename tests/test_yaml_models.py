"""The shipped models in yaml_models/: each one validates, is documented, and does what its header
says, on the event engine.

A model's header (its leading comment block) documents its source and expected behaviour, and
states the measured numbers as ``# expect:`` lines, which this test checks against a run of the
model as shipped (``# expect:``) or in grid mode (``# expect (grid):``):

    # expect: n.spikes = 68                       spikes of population n (a count: exact)
    # expect: n[2].first = 13.862944 ms +- 1 ns   first spike time of neuron 2 of n
    # expect: exc.rate = 37.5 Hz +- 5 %           mean rate per neuron over the run
    # expect: g9.mean = 60.5 ms +- 0.05 ms        mean spike time

Quantities: ``spikes`` (count), ``rate`` (spikes per neuron per second), ``first``, ``last`` and
``mean`` (spike times), ``cv`` (mean ISI CV over neurons with at least 3 spikes). A tolerance is
``+- <quantity>`` or ``+- <number> %``; counts without one must match exactly.
The cross-check against Brian2 is tests/backends/test_models_vs_brian2.py.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import backends
import netspec
from evsim.cli import main
from netspec.units import parse_quantity

ROOT = Path(__file__).resolve().parents[1]
MODELS = sorted((ROOT / "yaml_models").glob("*.yaml"))
IDS = [p.stem for p in MODELS]

EXPECT = re.compile(r"^#\s*expect\s*(?:\((?P<mode>\w+)\))?\s*:\s*(?P<target>[A-Za-z_][\w-]*)(?:\[(?P<neuron>\d+)\])?"
                    r"\.(?P<quantity>\w+)\s*=\s*(?P<value>[^+]*?)\s*(?:\+-\s*(?P<tol>.+?))?\s*$")
QUANTITIES = {"spikes": None, "rate": "Hz", "first": "s", "last": "s", "mean": "s", "cv": ""}


@dataclass
class Expectation:
    line: str
    mode: str | None     # None: the model as shipped
    pop: str
    neuron: int | None
    quantity: str
    value: float
    abs_tol: float | None
    rel_tol: float | None

    def check(self, actual: float) -> bool:
        if self.abs_tol is None and self.rel_tol is None:
            return actual == self.value
        tol = self.abs_tol if self.abs_tol is not None else self.rel_tol * abs(self.value)
        return abs(actual - self.value) <= tol


def header(path) -> list[str]:
    """The leading comment block of a model file."""
    out = []
    for line in Path(path).read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            break
        out.append(line.strip())
    return out


def expectations(path) -> list[Expectation]:
    out = []
    for line in header(path):
        if not re.match(r"^#\s*expect\b", line):
            continue
        m = EXPECT.match(line)
        if not m:
            raise ValueError(f"{Path(path).name}: cannot read {line!r} "
                             f"(expected '# expect: pop[.neuron].quantity = value [+- tolerance]')")
        q = m["quantity"]
        if q not in QUANTITIES:
            raise ValueError(f"{Path(path).name}: {line!r}: unknown quantity {q!r} (one of {', '.join(QUANTITIES)})")
        value, _, _ = parse_quantity(m["value"])
        abs_tol = rel_tol = None
        if m["tol"]:
            tol = m["tol"].strip()
            if tol.endswith("%"):
                rel_tol = float(tol[:-1]) / 100
            else:
                abs_tol, _, _ = parse_quantity(tol)
        elif q != "spikes":
            raise ValueError(f"{Path(path).name}: {line!r}: a {q} needs a tolerance (+- ...)")
        out.append(Expectation(line, m["mode"], m["target"], None if m["neuron"] is None else int(m["neuron"]),
                               q, float(value), abs_tol, rel_tol))
    return out


def measure(result, net, e: Expectation) -> float:
    times, ids = result.spikes[e.pop]
    size = net.populations[e.pop].size
    if e.neuron is not None:
        times, ids, size = times[ids == e.neuron], ids[ids == e.neuron], 1
    if e.quantity == "spikes":
        return float(times.size)
    if e.quantity == "rate":
        return times.size / (size * result.meta["simulated"])
    if e.quantity in ("first", "last", "mean"):
        if times.size == 0:
            return math.nan
        return float({"first": times.min, "last": times.max, "mean": times.mean}[e.quantity]())
    cvs = []
    for n in np.unique(ids):
        isi = np.diff(np.sort(times[ids == n]))
        if isi.size >= 2 and isi.mean() > 0:
            cvs.append(isi.std() / isi.mean())
    return float(np.mean(cvs)) if cvs else math.nan


def test_models_are_shipped():
    names = {p.stem for p in MODELS}
    assert {"cuba", "brunel", "synfire", "delay_line"} <= names


@pytest.mark.parametrize("path", MODELS, ids=IDS)
def test_model_validates(path, capsys):
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err
    net = netspec.load(path, overrides=["time.mode=grid"])   # grid overrides work: time.dt is set
    assert net.time.dt is not None
    netspec.expand(net)


@pytest.mark.parametrize("path", MODELS, ids=IDS)
def test_model_is_documented(path):
    """A header of some length naming a source and what to expect, with measured numbers to check."""
    lines = header(path)
    text = "\n".join(lines).lower()
    assert len(lines) >= 8, f"{path.name}: document the model in its header (source, expected behaviour)"
    assert "expect" in text and ("measured" in text), f"{path.name}: say what to expect and what was measured"
    assert expectations(path), f"{path.name}: state the measured numbers as '# expect:' lines"


@pytest.mark.parametrize("path", MODELS, ids=IDS)
def test_model_does_what_its_header_says(path):
    exps = expectations(path)
    failures = []
    for mode in sorted({e.mode or "" for e in exps}):
        overrides = [f"time.mode={mode}"] if mode else []
        net = netspec.load(path, overrides=overrides)
        result = backends.run(netspec.expand(net), backend="event")
        for e in (x for x in exps if (x.mode or "") == mode):
            if e.pop not in result.spikes:
                failures.append(f"{e.line}: population {e.pop!r} is not recorded")
                continue
            actual = measure(result, net, e)
            if not e.check(actual):
                failures.append(f"{e.line}: measured {actual!r}")
    assert not failures, f"{path.name}:\n" + "\n".join(failures)


def test_expectation_lines_are_read(tmp_path):
    p = tmp_path / "m.yaml"
    p.write_text("# expect: n.spikes = 68\n# expect (grid): n[2].first = 13.8 ms +- 1 ns\n"
                 "#expect: exc.rate = 37.5 Hz +- 5 %\nname: m\n# expect: later.spikes = 1\n")
    a, b, c = expectations(p)
    assert (a.pop, a.neuron, a.quantity, a.value, a.mode) == ("n", None, "spikes", 68.0, None)
    assert (b.neuron, b.mode, b.abs_tol) == (2, "grid", pytest.approx(1e-9)) and b.value == pytest.approx(0.0138)
    assert c.rel_tol == pytest.approx(0.05) and c.check(37.5 * 1.049) and not c.check(37.5 * 1.051)
    p.write_text("# expect: n.first = 3 ms\nname: m\n")
    with pytest.raises(ValueError, match="needs a tolerance"):
        expectations(p)
    p.write_text("# expect: n spikes 3\nname: m\n")
    with pytest.raises(ValueError, match="cannot read"):
        expectations(p)
