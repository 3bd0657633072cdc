"""backends.compare and `evsim compare`: matching, distances, statistics, verdicts, report, CLI.

Synthetic Results of small netlists (no simulator needed), plus Brian2 against itself for the
command line end to end.
"""
from __future__ import annotations

import json
import math
import types

import numpy as np
import pytest

import backends
import netspec
from backends import compare as C
from backends.result import Result
from evsim.cli import main

MS = 1e-3

NET = """\
name: cmp
time: {duration: 1 s, mode: grid, dt: 0.1 ms}
populations:
  src: {size: 2, model: poisson, params: {rate: 10 Hz}}
  n: {size: 3, model: lif}
projections:
  - {from: src, to: n, connect: all_to_all, weight: 1 mV, delay: 1 ms}
"""


def net(text=NET):
    return netspec.loads(text)


def result(spikes: dict, backend="x", **meta) -> Result:
    out = {}
    for pop, pairs in spikes.items():
        pairs = sorted(pairs)
        t = np.array([p[0] for p in pairs], dtype=np.float64)
        i = np.array([p[1] for p in pairs], dtype=np.int32)
        out[pop] = (t, i)
    return Result(backend, out, {}, {}, {"duration": 1.0, "simulated": 1.0, "dt": 1e-4, **meta})


BASE = {"src": [(0.1, 0), (0.2, 1)], "n": [(0.010, 0), (0.020, 1), (0.030, 2), (0.500, 0)]}


def shifted(pop, k, dt):
    """BASE with spike k of pop moved by dt."""
    out = {p: list(v) for p, v in BASE.items()}
    t, i = out[pop][k]
    out[pop][k] = (t + dt, i)
    return out


# ----------------------------------------------------------------------------- matching
def test_identical_results_agree_spike_for_spike():
    """Identical spikes: everything matched, no divergence, zero distance, verdict passes."""
    rep = C.compare(result(BASE), result(BASE), net())
    assert rep.verdict == "spikes" and rep.passed
    n = {p.name: p for p in rep.populations}["n"]
    assert (n.n_a, n.n_b, n.matched, n.fraction_matched) == (4, 4, 4, 1.0)
    assert n.first_divergence is None and n.max_abs_dt == 0.0 and n.van_rossum_mean == 0.0


def test_default_grid_tolerance_is_half_a_step():
    """In grid mode a spike moved by 0.04 ms still matches (tolerance dt/2 = 0.05 ms); by 0.06 ms it
    does not, and the first divergence is the earlier of the two unmatched spikes."""
    ok = C.compare(result(shifted("n", 1, 0.04 * MS)), result(BASE), net())
    assert ok.tolerance == pytest.approx(0.05 * MS) and ok.passed
    assert {p.name: p for p in ok.populations}["n"].max_abs_dt == pytest.approx(0.04 * MS)
    bad = C.compare(result(shifted("n", 1, 0.06 * MS)), result(BASE), net())
    n = {p.name: p for p in bad.populations}["n"]
    assert not bad.passed and (n.matched, n.unmatched_a, n.unmatched_b) == (3, 1, 1)
    assert n.first_divergence == pytest.approx(0.020)
    assert n.fraction_matched == pytest.approx(3 / 4)


def test_extra_spike_is_unmatched_and_counted():
    """An extra spike in one result is one unmatched spike; the fraction is matched / max(n_a, n_b)."""
    extra = {p: list(v) for p, v in BASE.items()}
    extra["n"].append((0.7, 2))
    rep = C.compare(result(extra), result(BASE), net())
    n = {p.name: p for p in rep.populations}["n"]
    assert (n.n_a, n.n_b, n.unmatched_a, n.unmatched_b) == (5, 4, 1, 0)
    assert n.fraction_matched == pytest.approx(4 / 5) and n.first_divergence == pytest.approx(0.7)
    assert not rep.passed


def test_matching_is_maximum_not_nearest_neighbour():
    """a = [0, 90] ms, b = [50, 140] ms with tolerance 51 ms: nearest-neighbour pairing would pair 90
    with 50 and match one pair; the merge matches both."""
    a = result({"n": [(0.0, 0), (0.09, 0)]})
    b = result({"n": [(0.05, 0), (0.14, 0)]})
    rep = C.compare(a, b, net(), tolerance=0.051, populations=["n"])
    n = rep.populations[0]
    assert n.matched == 2 and rep.passed


def test_matching_is_per_neuron():
    """Spikes at the same time but of different neurons never match."""
    a = result({"n": [(0.01, 0)]})
    b = result({"n": [(0.01, 1)]})
    rep = C.compare(a, b, net(), populations=["n"])
    assert rep.populations[0].matched == 0 and not rep.passed


def test_matching_agrees_with_brute_force_maximum_matching():
    """On random trains the merge finds as many pairs as a brute-force maximum bipartite matching."""
    import networkx as nx

    rng = np.random.default_rng(5)
    for _ in range(30):
        ta = np.sort(rng.uniform(0, 0.05, rng.integers(0, 8)))
        tb = np.sort(rng.uniform(0, 0.05, rng.integers(0, 8)))
        tol = 0.004
        g = nx.Graph()
        g.add_nodes_from(("a", i) for i in range(ta.size))
        g.add_nodes_from(("b", j) for j in range(tb.size))
        g.add_edges_from((("a", i), ("b", j)) for i in range(ta.size) for j in range(tb.size)
                         if abs(ta[i] - tb[j]) <= tol)
        best = len(nx.bipartite.maximum_matching(g, top_nodes=[("a", i) for i in range(ta.size)])) // 2
        ma, mb, _, _ = C._match(ta, np.array([0, ta.size]), tb, np.array([0, tb.size]), tol)
        assert int(ma.sum()) == int(mb.sum()) == best


# ----------------------------------------------------------------------------- van Rossum
def _vr_numeric(a, b, tau, t_end=1.0, n=400_001):
    t = np.linspace(0, t_end, n)
    f = sum(np.where(t >= s, np.exp(-(t - s) / tau), 0.0) for s in a) if len(a) else np.zeros_like(t)
    g = sum(np.where(t >= s, np.exp(-(t - s) / tau), 0.0) for s in b) if len(b) else np.zeros_like(t)
    return 2 / tau * np.trapezoid((f - g) ** 2, t)


def test_van_rossum_closed_form_matches_the_integral():
    """D^2 = (2/tau) int (f - g)^2 dt: one lone spike gives 1; two spikes delta apart give
    2 - 2 exp(-delta/tau); random trains (with ties) agree with numerical integration."""
    tau = 10 * MS

    def d2(a, b):
        a, b = np.sort(np.asarray(a, float)), np.sort(np.asarray(b, float))
        return C._van_rossum_sq(a, np.array([0, a.size]), b, np.array([0, b.size]), tau)[0]

    assert d2([0.1], []) == pytest.approx(1.0)
    assert d2([0.1], [0.103]) == pytest.approx(2 - 2 * math.exp(-0.3))
    rng = np.random.default_rng(1)
    for _ in range(5):
        a = np.round(rng.uniform(0.0, 0.8, 6), 3)
        b = np.concatenate([a[:2], np.round(rng.uniform(0.0, 0.8, 4), 3)])
        assert d2(a, b) == pytest.approx(_vr_numeric(a, b, tau), rel=2e-3, abs=1e-4)


def test_van_rossum_norm_is_zero_for_identical_and_one_for_distant_trains():
    """sum D^2 / (n_a + n_b): 0 for identical trains, 1 when no spike has a partner nearby."""
    a = result({"n": [(0.1, 0), (0.3, 1)]})
    b = result({"n": [(0.6, 0), (0.8, 1)]})
    rep = C.compare(a, b, net(), populations=["n"])
    assert rep.populations[0].van_rossum_norm == pytest.approx(1.0, abs=1e-6)
    assert C.compare(a, a, net(), populations=["n"]).populations[0].van_rossum_norm == 0.0


# ----------------------------------------------------------------------------- statistics
def test_rates_and_cvs_with_normal_confidence_intervals():
    """Mean rate over neurons and mean ISI CV over neurons with >= 3 spikes, each with
    mean +- 1.96 sd/sqrt(n)."""
    spikes = {"n": [(t, 0) for t in (0.1, 0.2, 0.3, 0.4)] + [(t, 1) for t in (0.1, 0.15, 0.4)] + [(0.5, 2)]}
    rep = C.compare(result(spikes), result(spikes), net(), populations=["n"])
    p = rep.populations[0]
    rates = np.array([4.0, 3.0, 1.0])
    half = 1.959963984540054 * rates.std(ddof=1) / math.sqrt(3)
    assert p.rate_a == pytest.approx(rates.mean())
    assert p.rate_a_ci == pytest.approx((rates.mean() - half, rates.mean() + half))
    isi = np.array([0.05, 0.25])
    cvs = np.array([0.0, isi.std() / isi.mean()])
    assert p.cv_neurons_a == 2 and p.cv_a == pytest.approx(cvs.mean())
    half = 1.959963984540054 * cvs.std(ddof=1) / math.sqrt(2)
    assert p.cv_a_ci == pytest.approx((cvs.mean() - half, cvs.mean() + half))


def _regular(rate_hz, n=3, jitter=0.0, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        t = np.arange(0.001, 1.0, 1.0 / rate_hz)
        t = np.sort(t + rng.uniform(0, jitter, t.size)) if jitter else t
        out += [(float(x), i) for x in t if x < 1.0]
    return out


def test_statistical_verdict_uses_5_percent_rates_and_10_percent_cvs():
    """stats passes with rates 4 % apart and fails with rates 6 % apart (the reference is b); a
    CV 20 % apart fails even with equal rates."""
    ref = result({"n": _regular(50)})
    close = result({"n": _regular(52)})
    far = result({"n": _regular(53)})
    assert C.compare(close, ref, net(), verdict="stats", populations=["n"]).passed
    rep = C.compare(far, ref, net(), verdict="stats", populations=["n"])
    assert not rep.passed and rep.populations[0].rate_rel_diff == pytest.approx(0.06)
    a = result({"n": _regular(50, jitter=0.019, seed=1)})
    b = result({"n": _regular(50, jitter=0.001, seed=1)})
    rep = C.compare(a, b, net(), verdict="stats", populations=["n"])
    assert rep.populations[0].rate_rel_diff == 0.0 and rep.populations[0].cv_rel_diff > 0.2
    assert not rep.passed and rep.verdict == "stats" and rep.reason == "chosen by the caller"


def test_statistics_of_silent_populations():
    """Both silent: rates equal, CV not tested, stats pass; a silent reference with spikes in the
    other fails (infinite relative difference, null in JSON)."""
    empty = result({"n": []})
    assert C.compare(empty, empty, net(), verdict="stats", populations=["n"]).passed
    rep = C.compare(result({"n": [(0.1, 0)]}), empty, net(), verdict="stats", populations=["n"])
    assert not rep.passed and math.isinf(rep.populations[0].rate_rel_diff)
    assert json.loads(rep.to_json())["populations"][0]["rate_rel_diff"] is None


# ----------------------------------------------------------------------------- auto verdict
def _net_with(size_a, size_b, projections):
    return net(f"""\
name: auto
time: {{duration: 1 s, mode: grid, dt: 0.1 ms}}
populations:
  a: {{size: {size_a}, model: lif}}
  b: {{size: {size_b}, model: lif}}
projections:
{projections}
""")


def test_auto_verdict_is_statistical_for_large_recurrent_populations():
    """auto: stats when a population of more than 100 neurons lies on a cycle (self-loop or through
    another population), spikes for 100 neurons or a feed-forward network, with the reason given."""
    self_loop = "  - {from: a, to: a, connect: {probability: 0.1}, weight: 1 mV, delay: 1 ms}"
    v, why = C.auto_verdict(_net_with(101, 5, self_loop))
    assert v == "stats" and "'a' (101 neurons)" in why
    assert C.auto_verdict(_net_with(100, 5, self_loop))[0] == "spikes"
    ff = "  - {from: a, to: b, connect: {probability: 0.1}, weight: 1 mV, delay: 1 ms}"
    v, why = C.auto_verdict(_net_with(500, 500, ff))
    assert v == "spikes" and "no population of more than 100 neurons is on a cycle" in why
    loop = ff + "\n  - {from: b, to: a, connect: {probability: 0.1}, weight: 1 mV, delay: 1 ms}"
    v, why = C.auto_verdict(_net_with(5, 200, loop))
    assert v == "stats" and "'b' (200 neurons)" in why and "'a'" not in why
    rep = C.compare(result({}), result({}), _net_with(5, 200, loop))
    assert rep.verdict == "stats" and "possibly chaotic" in rep.reason


def test_auto_verdict_is_statistical_for_an_exact_run_against_a_grid_run():
    """An exact-mode netlist's exact run against a grid run (Brian2, or the engine in grid mode):
    spike times differ by the grid's rounding, so auto compares statistically; two runs on the same
    time base keep the spike-for-spike test."""
    exact = net(NET.replace("mode: grid, dt: 0.1 ms", "mode: exact, dt: 0.1 ms"))
    ours = result(BASE, "event", mode="exact")
    for grid_run in (result(BASE, "brian2", mode="exact", dt_source="netlist time.dt"),
                     result(BASE, "event", mode="grid")):
        rep = C.compare(ours, grid_run, exact)
        assert rep.verdict == "stats" and "exact-mode run against a grid run" in rep.reason
        assert C.compare(ours, grid_run, exact, verdict="spikes").verdict == "spikes"
    assert C.compare(ours, result(BASE, "event", mode="exact"), exact).verdict == "spikes"
    grid = net()
    assert C.compare(result(BASE, "event", mode="grid"), result(BASE, "brian2", mode="grid"), grid).verdict == "spikes"


# ----------------------------------------------------------------------------- options and report
def test_exact_mode_tolerance_is_one_grid_step_and_noted():
    """Exact mode: default tolerance is the grid step of the grid run (meta dt), with a note; an
    explicit tolerance wins."""
    exact = net(NET.replace("mode: grid, dt: 0.1 ms", "mode: exact"))
    rep = C.compare(result(BASE, dt=0.2 * MS), result(BASE, dt=None), exact)
    assert rep.tolerance == pytest.approx(0.2 * MS) and any("exact-mode" in n for n in rep.notes)
    assert C.compare(result(BASE), result(BASE), exact, tolerance=1 * MS).tolerance == 1 * MS


def test_partial_result_limits_the_compared_time():
    """A partial result: spikes are compared before the earlier stop time only, with a note."""
    a = result(BASE, partial=True, simulated=0.3)
    rep = C.compare(a, result(BASE), net())
    assert rep.horizon == pytest.approx(0.3) and rep.passed
    assert {p.name: p for p in rep.populations}["n"].n_b == 3
    assert any("partial" in n for n in rep.notes)


def test_population_recorded_by_one_side_only_is_noted():
    """A population whose spikes only one result holds is skipped with a note."""
    rep = C.compare(result(BASE), result({"src": BASE["src"]}), net())
    assert [p.name for p in rep.populations] == ["src"]
    assert any("'n'" in n and "only one result" in n for n in rep.notes)


def test_report_text_and_json():
    """to_text has the test used and why, a row per population and the verdict line; to_json is
    valid JSON with the same facts."""
    rep = C.compare(result(shifted("n", 0, 1 * MS), "event"), result(BASE, "brian2"), net())
    text = rep.to_text()
    assert text.splitlines()[0].startswith("event vs brian2: spike-for-spike test (no population")
    assert "src (source)" in text and "\nn " in text and "DISAGREE" in text.splitlines()[-1]
    assert "n: 1 spikes of event and 1 of brian2 unmatched; first at 10 ms" in text
    data = json.loads(rep.to_json())
    assert data["passed"] is False and data["test"] == "spike-for-spike" and data["a"] == "event"
    assert [p["name"] for p in data["populations"]] == ["src", "n"]
    assert data["populations"][1]["first_divergence"] == pytest.approx(0.010)


def test_bad_arguments():
    """Unknown verdicts, negative tolerances and unknown populations are ValueErrors."""
    with pytest.raises(ValueError, match="verdict must be one of"):
        C.compare(result(BASE), result(BASE), net(), verdict="maybe")
    with pytest.raises(ValueError, match="tolerance must be >= 0"):
        C.compare(result(BASE), result(BASE), net(), tolerance=-1.0)
    with pytest.raises(ValueError, match="unknown population"):
        C.compare(result(BASE), result(BASE), net(), populations=["zzz"])


# ----------------------------------------------------------------------------- command line
def _fake_backends(monkeypatch, results: dict):
    """backends.get(name) returns a module whose run() gives results[name]."""
    def get(name):
        return types.SimpleNamespace(run=lambda arrays, **kw: results[name])

    monkeypatch.setattr(backends, "get", get)


def test_cli_exit_status_follows_the_verdict(write_netlist, monkeypatch, capsys, tmp_path):
    """evsim compare exits 0 when the backends agree, 1 when they disagree, and writes the JSON."""
    path = write_netlist(NET)
    _fake_backends(monkeypatch, {"event": result(BASE, "event"), "brian2": result(BASE, "brian2")})
    out = tmp_path / "r.json"
    assert main(["compare", path, "--json", str(out)]) == 0
    assert "AGREE" in capsys.readouterr().out
    assert json.loads(out.read_text())["passed"] is True
    _fake_backends(monkeypatch, {"event": result(shifted("n", 0, 1 * MS), "event"), "brian2": result(BASE, "brian2")})
    assert main(["compare", path, "--verdict", "spikes"]) == 1
    assert "DISAGREE" in capsys.readouterr().out
    assert main(["compare", path, "--verdict", "stats"]) == 0


def test_cli_tolerance_and_overrides(write_netlist, monkeypatch, capsys):
    """--tolerance takes a time with a unit; --mode/--dt/--duration/--set reach the netlist; a bad
    tolerance or a grid mode without dt is exit 2."""
    path = write_netlist(NET.replace("mode: grid, dt: 0.1 ms", "mode: exact"))
    seen = {}

    def get(name):
        def run(arrays, **kw):
            seen["time"] = arrays.netlist.time
            seen["size"] = arrays.populations["n"].size
            return result(shifted("n", 0, 0.3 * MS) if name == "event" else BASE, name)
        return types.SimpleNamespace(run=run)

    monkeypatch.setattr(backends, "get", get)
    assert main(["compare", path, "--tolerance", "0.5ms", "--verdict", "spikes"]) == 0
    assert main(["compare", path, "--tolerance", "0.2 ms", "--verdict", "spikes"]) == 1
    capsys.readouterr()
    assert main(["compare", path, "--mode", "grid", "--dt", "0.2ms", "--duration", "500ms",
                 "--set", "populations.n.size=4"]) in (0, 1)
    assert seen["time"].mode == "grid" and seen["time"].dt == pytest.approx(0.2 * MS)
    assert seen["time"].duration == pytest.approx(0.5) and seen["size"] == 4
    assert main(["compare", path, "--tolerance", "3 mV"]) == 2
    assert "--tolerance: expected a time" in capsys.readouterr().err
    assert main(["compare", path, "--mode", "grid"]) == 2


def test_cli_compares_an_exact_netlist_in_grid_mode_unless_told(write_netlist, monkeypatch, capsys):
    """Brian2 runs on a grid: without --mode an exact-mode netlist is compared in grid mode (its
    time.dt, else 0.1 ms) and the report says so; --mode exact keeps the exact engine."""
    seen = []

    def get(name):
        def run(arrays, **kw):
            seen.append((name, arrays.netlist.time.mode, arrays.netlist.time.dt))
            return result(BASE, name)
        return types.SimpleNamespace(run=run)

    monkeypatch.setattr(backends, "get", get)
    path = write_netlist(NET.replace("mode: grid, dt: 0.1 ms", "mode: exact"))
    assert main(["compare", path]) == 0
    assert seen == [("event", "grid", pytest.approx(0.1 * MS)), ("brian2", "grid", pytest.approx(0.1 * MS))]
    captured = capsys.readouterr()
    assert "compared in grid mode" in captured.out and "compared in grid mode" in captured.err
    seen.clear()
    path = write_netlist(NET.replace("mode: grid, dt: 0.1 ms", "mode: exact, dt: 0.2 ms"), "b.yaml")
    assert main(["compare", path]) == 0
    assert seen[0][1:] == ("grid", pytest.approx(0.2 * MS))
    seen.clear()
    capsys.readouterr()
    assert main(["compare", path, "--mode", "exact"]) == 0
    assert [s[1] for s in seen] == ["exact", "exact"]
    assert "compared in grid mode" not in capsys.readouterr().out


def test_cli_missing_backend_is_exit_2(write_netlist, monkeypatch, capsys):
    """A backend module that does not exist (yet) is reported, exit 2."""
    monkeypatch.setitem(backends.BACKENDS, "event", "backends._no_such_backend")
    assert main(["compare", write_netlist(NET)]) == 2
    assert "the event backend is not available" in capsys.readouterr().err


@pytest.mark.brian2
def test_cli_brian2_against_itself(write_netlist, tmp_path, capsys):
    """End to end: Brian2 against Brian2 on a small grid netlist agrees spike for spike (exit 0)."""
    path = write_netlist("""\
        name: self
        seed: 2
        time: {duration: 50 ms, mode: grid, dt: 0.1 ms}
        populations:
          drive: {size: 10, model: poisson, params: {rate: 300 Hz}}
          n: {size: 5, model: lif}
        projections:
          - {from: drive, to: n, connect: {probability: 0.5}, weight: 6 mV, delay: {uniform: [0.5 ms, 2 ms]}}
        """)
    out = tmp_path / "r.json"
    assert main(["compare", path, "--with", "brian2", "--against", "brian2", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "brian2(1) vs brian2(2): spike-for-spike test" in text
    data = json.loads(out.read_text())
    assert data["passed"] and all(p["fraction_matched"] == 1.0 for p in data["populations"])
    assert sum(p["n_a"] for p in data["populations"] if p["name"] == "n") > 0


# ----------------------------------------------------------------------------- exact against grid
DELAY_LINE = str(__import__("pathlib").Path(__file__).resolve().parents[2] / "yaml_models" / "delay_line.yaml")


def test_grid_convergence_pairs_each_neurons_kth_spikes():
    """grid_convergence pairs a neuron's k-th spikes across runs and reports their largest and mean error."""
    exact = result({"n": [(1.00 * MS, 0), (5.00 * MS, 0), (2.00 * MS, 1)]}, "event")
    grid = result({"n": [(1.05 * MS, 0), (5.30 * MS, 0), (2.02 * MS, 1), (9.0 * MS, 1)]}, "event")
    (row,) = C.grid_convergence(exact, {0.1 * MS: grid}, net())
    assert (row.n_exact, row.n_grid, row.paired) == (3, 4, 3)
    assert row.max_abs_dt == pytest.approx(0.30 * MS)
    assert row.mean_abs_dt == pytest.approx((0.05 + 0.30 + 0.02) * MS / 3)
    assert row.within_one_step == pytest.approx(2 / 3)
    assert "0.3 ms" in C.convergence_table([row])


def test_cli_dt_sweep_error_falls_with_dt(capsys, tmp_path):
    """evsim compare --dt-sweep on the delay-line model: same spikes at every dt, the grid's time
    error below one step and falling at least 5x per 10x smaller dt; JSON rows written."""
    out = tmp_path / "sweep.json"
    assert main(["compare", DELAY_LINE, "--dt-sweep", "0.1ms,0.01ms,0.001ms", "--json", str(out)]) == 0
    assert "k-th spikes paired" in capsys.readouterr().out
    rows = json.loads(out.read_text())["rows"]
    assert [r["dt"] for r in rows] == pytest.approx([1e-4, 1e-5, 1e-6])
    for r in rows:
        assert r["n_exact"] == r["n_grid"] == r["paired"] > 0
        assert r["max_abs_dt"] < r["dt"]
    for coarse, fine in zip(rows, rows[1:]):
        assert fine["max_abs_dt"] * 5 < coarse["max_abs_dt"]


def test_cli_dt_sweep_bad_steps_is_exit_2(capsys):
    """A --dt-sweep without a positive time is a usage error (exit 2)."""
    assert main(["compare", DELAY_LINE, "--dt-sweep", "0ms"]) == 2
    assert "--dt-sweep" in capsys.readouterr().err
    assert main(["compare", DELAY_LINE, "--dt-sweep", "3 mV"]) == 2
