"""evsim warmup: which engines it compiles for the netlists it is given."""
from __future__ import annotations

from pathlib import Path

import pytest

from evsim.commands import warmup
from netspec import NetlistError

NET = """
name: {name}
time: {{duration: 10 ms, mode: {mode}, dt: 0.1 ms}}
populations:
  src: {{size: 2, model: {source}, {source_args}}}
  n: {{size: 2, model: lif_exp}}
projections:
  - {{from: src, to: n, connect: all_to_all, weight: 1 mV, delay: 1 ms}}
"""
REPO = Path(__file__).resolve().parents[2]
POISSON = ("poisson", "params: {rate: 10 Hz}")
TIMES = ("spike_times", "spikes: [[1 ms], [2 ms]]")


def _netlist(tmp_path, name, mode="exact", source=POISSON):
    path = tmp_path / f"{name}.yaml"
    path.write_text(NET.format(name=name, mode=mode, source=source[0], source_args=source[1]))
    return str(path)


def test_one_job_per_model_set_and_mode(tmp_path):
    """Netlists over the same models in the same mode share one engine; another mode or another
    model set is another job; each job lists the netlists it stands for."""
    a = _netlist(tmp_path, "a")
    b = _netlist(tmp_path, "b")
    c = _netlist(tmp_path, "c", mode="grid")
    d = _netlist(tmp_path, "d", source=TIMES)
    jobs = warmup.own_engine_jobs([a, b, c, d])
    assert [(job, key, names) for job, key, names in jobs] == [
        (("own", a), (("lif_exp", "poisson"), "exact"), [a, b]),
        (("own", c), (("lif_exp", "poisson"), "grid"), [c]),
        (("own", d), (("lif_exp", "spike_times"), "exact"), [d]),
    ]


def test_event_gated_netlists_are_left_out():
    """EGRU netlists (steps mode) run on the gated engine: no spiking engine is compiled for them."""
    assert warmup.own_engine_jobs([REPO / "yaml_models" / "egru_recall.yaml"]) == []


def test_a_bad_netlist_stops_before_anything_compiles(tmp_path):
    """A netlist with a problem raises the located error while the jobs are planned."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    with pytest.raises(NetlistError):
        warmup.own_engine_jobs([_netlist(tmp_path, "a"), str(bad)])


def test_an_own_engine_job_runs_on_the_networks_own_engine(tmp_path, monkeypatch):
    """_ready runs the netlist briefly on the engine over its own models ("all" jobs on the one
    over every model), and reports its times."""
    import simcore.runner

    seen = []
    real = simcore.runner.Simulation

    def spy(arrays, engine="auto", **kw):
        seen.append((engine, arrays.netlist.time.duration))
        return real(arrays, engine=engine, **kw)

    monkeypatch.setattr(simcore.runner, "Simulation", spy)
    seconds, compiling = warmup._ready(("own", _netlist(tmp_path, "a", source=TIMES)))
    assert seen == [("own", 2e-3)]
    assert seconds >= compiling >= 0.0


def test_ready_passes_the_thread_count_to_the_simulation(tmp_path, monkeypatch):
    """_ready(job, threads) builds the simulation for that many threads (which selects the
    engine built for threads: simcore.codegen)."""
    import simcore.runner

    seen = []
    real = simcore.runner.Simulation

    def spy(arrays, engine="auto", threads=1, **kw):
        seen.append(threads)
        return real(arrays, engine=engine, **kw)    # one thread here: nothing more to compile

    monkeypatch.setattr(simcore.runner, "Simulation", spy)
    warmup._ready(("own", _netlist(tmp_path, "a", source=TIMES)), 2)
    assert seen == [2]
