"""The compiled engine against closed forms, and its behaviour: grazing crossings, delays,
determinism, counters, interruption."""
from __future__ import annotations

import math
import os
import signal
import textwrap

import numpy as np
import pytest

import backends
import netspec
from simcore.runner import Simulation


def run(text: str, **kw):
    arrays = netspec.expand(netspec.loads(textwrap.dedent(text)))
    return backends.run(arrays, **kw), arrays


def single(model: str, params: str, duration="100 ms", mode="exact", init="", extra=""):
    return run(f"""
        time: {{duration: {duration}, mode: {mode}, dt: 0.1 ms}}
        populations:
          n: {{size: 1, model: {model}, params: {{{params}}}{', init: {' + init + '}' if init else ''}}}
        {extra}
        record: {{spikes: all}}
        """)[0]


def first_spike_tau2(v0, i0, theta, tau_m):
    """REFERENCE.md section 1: with tau_m = 2 tau_s, V = (V0 + I0) x - I0 x^2, x = exp(-t/tau_m)."""
    disc = (v0 + i0) ** 2 - 4 * i0 * theta
    return tau_m * math.log(2 * i0 / ((v0 + i0) + math.sqrt(disc)))


@pytest.mark.parametrize("v0,i0", [(0.0, 4.5), (0.3, 4.2), (-0.2, 6.0), (0.9, 4.0)])
def test_first_spike_matches_tau_m_twice_tau_s_closed_form(v0, i0):
    """lif_exp with tau_m = 2 tau_s: the first spike time equals its closed form to 1e-12."""
    r = single("lif_exp", "tau_m: 20 ms, tau_exc: 10 ms, e_l: 0 V, v_th: 1 V, v_reset: 0 V, t_ref: 50 ms",
               init=f"v: {v0} V, i_exc: {i0} V")
    t = r.spikes["n"][0]
    expected = first_spike_tau2(v0, i0, 1.0, 0.02)
    assert t.size == 1
    assert abs(t[0] - expected) <= 1e-12 * expected


def test_no_spike_when_the_closed_form_has_no_root():
    """lif_exp with tau_m = 2 tau_s and (V0 + I0)^2 < 4 I0 theta never reaches threshold."""
    r = single("lif_exp", "tau_m: 20 ms, tau_exc: 10 ms, e_l: 0 V, v_th: 1 V, v_reset: 0 V",
               init="v: 0 V, i_exc: 3.9 V")
    assert r.spikes["n"][0].size == 0


def test_equal_time_constants_match_lambert_w_form():
    """tau_exc == tau_m (the degenerate case): V = (V0 + I0 t/tau) e^{-t/tau}; first crossing
    found to 1e-12 (checked against a 50-digit root)."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 50
    r = single("lif_exp", "tau_m: 10 ms, tau_exc: 10 ms, e_l: 0 V, v_th: 1 V, v_reset: 0 V, t_ref: 50 ms",
               init="v: 0.2 V, i_exc: 5 V")
    tau = mpmath.mpf("0.01")
    g = lambda t: (mpmath.mpf("0.2") + 5 * t / tau) * mpmath.exp(-t / tau) - 1  # noqa: E731
    expected = float(mpmath.findroot(g, (mpmath.mpf("0.001"), mpmath.mpf("0.004")), solver="illinois"))
    assert abs(r.spikes["n"][0][0] - expected) <= 1e-12 * expected


@pytest.mark.parametrize("model", ["lif", "lif_exp"])
def test_constant_drive_period_with_refractoriness(model):
    """Constant drive u > v_th: every interval is t_ref + tau_m ln((u - v_reset)/(u - v_th))."""
    r = single(model, "tau_m: 20 ms, e_l: 0 V, v_th: 1 V, v_reset: 0 V, t_ref: 2 ms, i_bias: 1.5 V",
               duration="200 ms", init="v: 0 V")
    t = r.spikes["n"][0]
    first = 0.02 * math.log(1.5 / 0.5)
    period = 0.002 + first
    expected = first + period * np.arange(t.size)
    assert t.size == int((0.2 - first) / period) + 1
    np.testing.assert_allclose(t, expected, rtol=1e-12)


def test_inhibitory_inputs_delay_the_predicted_crossing_exactly():
    """lif under constant drive, hit by inhibitory inputs before its predicted crossing (the
    engine keeps its pending wake after them): the spikes still fall at their closed-form times,
    v_th = u - (u - v0') e^{-(t - t0)/tau_m} after each jump down to v0'."""
    tau, u, w = 0.02, 1.5, -0.3
    r, _ = run(f"""
        time: {{duration: 60 ms, mode: exact}}
        populations:
          src: {{size: 1, model: spike_times, spikes: {{times: [4 ms, 11 ms], ids: [0, 0]}}}}
          n: {{size: 1, model: lif, params: {{tau_m: 20 ms, e_l: 0 V, v_th: 1 V, v_reset: 0 V, t_ref: 2 ms,
                                            i_bias: 1.5 V}}, init: {{v: 0 V}}}}
        projections:
          - {{from: src, to: n, connect: all_to_all, weight: {w!r}, delay: 1 ms}}
        record: {{spikes: all}}
        """)
    v, t = 0.0, 0.0
    for t_in in (0.005, 0.012):
        v = u + (v - u) * math.exp(-(t_in - t) / tau) + w
        t = t_in
    first = t + tau * math.log((u - v) / (u - 1.0))
    period = 0.002 + tau * math.log(u / (u - 1.0))
    expected = first + period * np.arange(int((0.06 - first) / period) + 1)
    np.testing.assert_allclose(r.spikes["n"][0], expected, rtol=1e-12)


def test_if_ramp_period():
    """Non-leaky IF with drive: the period is t_ref + (v_th - v_reset) tau_m / i_bias."""
    r = single("if", "tau_m: 10 ms, v_th: 1 V, v_reset: 0 V, t_ref: 1 ms, i_bias: 0.5 V", init="v: 0 V")
    t = r.spikes["n"][0]
    first = 1.0 * 0.01 / 0.5
    np.testing.assert_allclose(t, first + (0.001 + first) * np.arange(t.size), rtol=1e-12)


def test_adaptation_lengthens_intervals():
    """alif: each spike raises the threshold, so intervals grow from the first to the last."""
    r = single("alif", "tau_m: 20 ms, e_l: 0 V, v_th: 1 V, v_reset: 0 V, t_ref: 1 ms, i_bias: 2 V, "
                       "tau_a: 100 ms, beta: 0.2 V", duration="300 ms", init="v: 0 V")
    isi = np.diff(r.spikes["n"][0])
    assert isi.size > 5 and isi[-1] > 1.5 * isi[0]
    assert np.all(np.diff(isi[:5]) > 0)


def _peak_weight(target):
    """The input weight whose PSP peaks exactly at ``target`` (tau_m 20 ms, tau_exc 5 ms, rest 0)."""
    tm, ts = 0.02, 0.005
    t_peak = tm * ts / (tm - ts) * math.log(tm / ts)
    unit = ts / (ts - tm) * (math.exp(-t_peak / ts) - math.exp(-t_peak / tm))
    return target / unit


@pytest.mark.parametrize("excess,fires", [(1e-9, True), (-1e-9, False)])
def test_grazing_crossing_is_found(excess, fires):
    """A PSP peaking 1e-9 above threshold fires, 1e-9 below does not: a crossing that rises and
    falls back between two events is not missed."""
    w = _peak_weight(1.0 + excess)
    r, _ = run(f"""
        time: {{duration: 50 ms, mode: exact}}
        populations:
          src: {{size: 1, model: spike_times, spikes: {{times: [1 ms], ids: [0]}}}}
          n: {{size: 1, model: lif_exp, params: {{tau_m: 20 ms, tau_exc: 5 ms, e_l: 0 V, v_th: 1 V,
                                                v_reset: 0 V}}, init: {{v: 0 V}}}}
        projections:
          - {{from: src, to: n, connect: all_to_all, weight: {w!r}, delay: 1 ms}}
        record: {{spikes: all}}
        """)
    assert (r.spikes["n"][0].size == 1) == fires


def test_grid_delays_round_as_brian2():
    """Grid mode: D = int(d/dt + 0.5); an input is seen in the sample at its arrival point."""
    r, _ = run("""
        time: {duration: 5 ms, mode: grid, dt: 0.1 ms}
        populations:
          src: {size: 1, model: spike_times, spikes: {times: [1 ms], ids: [0]}}
          n: {size: 3, model: lif, params: {tau_m: 1 s, e_l: 0 V, v_th: 1 V, v_reset: 0 V}, init: {v: 0 V}}
        projections:
          - {from: src, to: n, connect: {pairs: [[0, 0]]}, weight: 0.1 V, delay: 0.54 ms}
          - {from: src, to: n, connect: {pairs: [[0, 1]]}, weight: 0.1 V, delay: 0.55 ms}
          - {from: src, to: n, connect: {pairs: [[0, 2]]}, weight: 0.1 V, delay: 1 ms}
        record: {spikes: all, state: {n: {vars: [v]}}}
        """)
    st = r.state["n"]
    first_seen = [round(float(st["times"][np.flatnonzero(st["v"][:, k] > 0.05)[0]]) * 1e4) for k in range(3)]
    # a source spike in step 10 acts at point 11; + D steps
    assert first_seen == [11 + 5, 11 + 6, 11 + 10]


def test_zero_delay_chain_fires_at_one_instant():
    """Exact mode: a zero-delay feed-forward chain of strong synapses fires all at the input's time."""
    r, _ = run("""
        time: {duration: 10 ms, mode: exact}
        populations:
          src: {size: 1, model: spike_times, spikes: {times: [2 ms], ids: [0]}}
          a: {size: 1, model: lif, params: {e_l: 0 V, v_th: 1 V, v_reset: 0 V}, init: {v: 0 V}}
          b: {size: 1, model: lif, params: {e_l: 0 V, v_th: 1 V, v_reset: 0 V}, init: {v: 0 V}}
        projections:
          - {from: src, to: a, connect: all_to_all, weight: 2 V, delay: 1.5 ms}
          - {from: a, to: b, connect: all_to_all, weight: 2 V, delay: 0 ms}
        record: {spikes: all}
        """)
    assert r.spikes["a"][0].tolist() == [0.0035] and r.spikes["b"][0].tolist() == [0.0035]


def test_inputs_to_a_refractory_delta_neuron_are_lost():
    """lif: an input arriving during the refractory period is lost; lif_exp keeps it in its current."""
    text = """
        time: {{duration: 20 ms, mode: exact}}
        populations:
          src: {{size: 1, model: spike_times, spikes: {{times: [1 ms, 2 ms], ids: [0, 0]}}}}
          n: {{size: 1, model: {model}, params: {{e_l: 0 V, v_th: 1 V, v_reset: 0 V, t_ref: 5 ms,
                tau_m: 1 s{extra}}}, init: {{v: 0 V}}}}
        projections:
          - {{from: src, to: n, connect: all_to_all, weight: {w}, delay: 1 ms}}
        record: {{spikes: all, state: {{n: {{vars: [v], every: 1 ms}}}}}}
        """
    r, _ = run(text.format(model="lif", extra="", w="1.5 V"))
    assert r.spikes["n"][0].tolist() == [0.002]
    assert np.all(r.state["n"]["v"][r.state["n"]["times"] > 0.0025] == 0.0)


def test_same_seed_same_spikes_and_another_seed_differs():
    """Determinism: the same netlist and seed give identical spikes; another seed changes them."""
    text = """
        seed: {seed}
        time: {{duration: 200 ms, mode: exact}}
        populations:
          src: {{size: 50, model: poisson, params: {{rate: 40 Hz}}}}
          n: {{size: 40, model: lif_exp, params: {{e_l: 0 V, v_th: 1 V, v_reset: 0 V, tau_m: 20 ms,
                tau_exc: 5 ms}}}}
        projections:
          - {{from: src, to: n, connect: {{probability: 0.3}}, weight: {{uniform: [0.1 V, 0.5 V]}},
              delay: {{uniform: [1 ms, 10 ms]}}}}
          - {{from: n, to: n, connect: {{probability: 0.2}}, weight: 0.2 V, delay: 2 ms}}
        record: {{spikes: all}}
        """
    a, _ = run(text.format(seed=1))
    b, _ = run(text.format(seed=1))
    c, _ = run(text.format(seed=2))
    for pop in ("src", "n"):
        assert np.array_equal(a.spikes[pop][0], b.spikes[pop][0])
        assert np.array_equal(a.spikes[pop][1], b.spikes[pop][1])
    assert not np.array_equal(a.spikes["src"][0], c.spikes["src"][0])


@pytest.mark.parametrize("threads", [1, 2])
def test_batched_updates_match_one_neuron_at_a_time(threads):
    """Exact mode's batched updates (the default) give the spikes, samples and counters of every
    update one at a time (batch_updates=False) on CUBA, times within 1e-10 s; not bit for bit,
    which shows the batches ran (their exponential differs from libm's in the last bit)."""
    arrays = netspec.expand(netspec.load(os.path.join(os.path.dirname(__file__), "..", "..", "yaml_models",
                                                      "cuba.yaml"), overrides=["time.duration=0.2 s"]))
    on = backends.run(arrays, threads=threads)
    off = backends.run(arrays, threads=threads, batch_updates=False)
    bitwise = True
    for pop in ("exc", "inh"):
        assert np.array_equal(on.spikes[pop][1], off.spikes[pop][1])
        np.testing.assert_allclose(on.spikes[pop][0], off.spikes[pop][0], rtol=0, atol=1e-10)
        bitwise &= np.array_equal(on.spikes[pop][0], off.spikes[pop][0])
    np.testing.assert_allclose(on.state["exc"]["v"], off.state["exc"]["v"], rtol=0, atol=1e-12)
    assert on.counters == off.counters
    assert on.spike_count() > 1000 and not bitwise


def test_counters_count_spikes_and_deliveries():
    """Counters: spikes per population and deliveries = spikes x out-degree before the end."""
    r, arrays = run("""
        time: {duration: 50 ms, mode: exact}
        populations:
          src: {size: 3, model: spike_times, spikes: {times: [1 ms, 2 ms, 3 ms, 40 ms], ids: [0, 1, 2, 0]}}
          n: {size: 4, model: lif_exp, params: {e_l: 0 V, v_th: 10 V, v_reset: 0 V}}
        projections:
          - {from: src, to: n, connect: all_to_all, weight: 0.1 V, delay: 5 ms}
        record: {spikes: all}
        """)
    assert r.counters["src"]["spikes"] == 4
    assert r.counters["n"]["synaptic_events"] == 16
    assert r.counters["n"]["spikes"] == 0


def test_a_stop_request_keeps_what_was_simulated():
    """SIGTERM during a run stops it at the end of a chunk: the result is partial, its spikes are
    those of the time simulated, and a saved file says so."""
    arrays = netspec.expand(netspec.load(os.path.join(os.path.dirname(__file__), "..", "..", "yaml_models",
                                                      "cuba.yaml"), overrides=["time.duration=3 s"]))
    calls = []

    def progress(t, t_end, events, wall):
        calls.append(t)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGTERM)

    raw = Simulation(arrays).run(progress)
    assert raw.partial and 0 < raw.simulated < 3.0
    assert raw.spike_times.size > 0 and raw.spike_times.max() < raw.simulated


def test_results_file_round_trip(tmp_path):
    """A saved result loads back equal (spikes, state, counters, meta) and reads with plain NumPy."""
    r = single("lif_exp", "e_l: 0 V, v_th: 1 V, v_reset: 0 V, i_bias: 1.2 V",
               extra="", duration="50 ms")
    path = str(tmp_path / "r.npz")
    r.save(path)
    back = backends.Result.load(path)
    assert np.array_equal(back.spikes["n"][0], r.spikes["n"][0])
    assert back.counters == r.counters and back.meta == r.meta
    assert "spikes/n/times" in np.load(path).files


@pytest.mark.parametrize("mode", ["exact", "grid"])
def test_buffers_grown_from_one_element_give_the_same_run(monkeypatch, mode):
    """The one-thread bucket loop stops when a buffer runs short and goes on once the runner has
    grown it: from one-element buffers (every growth path taken) the spikes, samples and counters
    equal a run with the default sizes."""
    import simcore.runner

    net = netspec.load("yaml_models/cuba.yaml", overrides=["time.duration=0.05 s", f"time.mode={mode}"])
    default = backends.run(net)
    monkeypatch.setattr(simcore.runner, "FIRST_SIZES", dict.fromkeys(simcore.runner.FIRST_SIZES, 1))
    tiny = backends.run(net)
    for pop in default.spikes:
        for a, b in zip(default.spikes[pop], tiny.spikes[pop]):
            np.testing.assert_array_equal(a, b)
    for pop in default.state:
        for key in default.state[pop]:
            np.testing.assert_array_equal(default.state[pop][key], tiny.state[pop][key])
    assert default.counters == tiny.counters
    assert sum(len(t) for t, _ in default.spikes.values()) > 100


@pytest.mark.parametrize("threads", [1, 2])
def test_free_chunk_count_follows_the_free_list(monkeypatch, threads):
    """has_room trusts the free-chunk count (meta[M_NFREE]) that push, release and the queue's
    growth keep: from one-chunk queues, after every kernel call, it equals the free list's length."""
    import numba

    import simcore.runner as runner

    if threads > numba.config.NUMBA_NUM_THREADS:
        pytest.skip("Numba has one thread here")
    monkeypatch.setattr(runner, "FIRST_SIZES", dict.fromkeys(runner.FIRST_SIZES, 1))
    monkeypatch.setattr(runner, "CHUNK_SECONDS", 1e-9)
    checked = []

    def check(eng, chunk_next, meta):
        n, c = 0, meta[eng.M_FREE]
        while c >= 0:
            n, c = n + 1, chunk_next[c]
        checked.append((n, int(meta[eng.M_NFREE])))

    single, parts = runner._Single.until, runner._Partitioned.until

    def single_until(self, st, nf, ni, meta, *args):
        out = single(self, st, nf, ni, meta, *args)
        check(self.eng, self.q[2], meta)
        return out

    def parts_until(self, *args):
        out = parts(self, *args)
        for p in range(self.parts.bounds.size - 1):
            check(self.eng, self.parts.cn[p], self.parts.meta[p])
        return out

    monkeypatch.setattr(runner._Single, "until", single_until)
    monkeypatch.setattr(runner._Partitioned, "until", parts_until)
    net = netspec.load("yaml_models/cuba.yaml", overrides=["time.duration=0.05 s"])
    backends.run(net, threads=threads)
    assert len(checked) > 20
    assert all(n == counted for n, counted in checked), checked[:5]
    assert max(counted for _, counted in checked) > 0


def test_a_wake_beyond_the_rings_reach_costs_no_update_until_due():
    """A wake parked in the ring's farthest bucket (the ring reaches 6.2 ms ahead here) is pushed
    on when that bucket comes, without updating the neuron: a neuron whose first possible crossing
    is 0.95 s away costs its first update and the safe-time steps after 0.95 s, not one per 6 ms."""
    r, arrays = run("""
        time: {duration: 1 s, mode: exact, dt: 0.1 ms}
        populations:
          n: {size: 1, model: lif_exp, params: {tau_m: 1 s, e_l: 0 mV, v_th: 10 mV, v_reset: 0 mV, i_bias: 10.5 mV}}
        projections:
          - {name: self, from: n, to: n, connect: all_to_all, weight: 0 mV, delay: 0.1 ms}
        record: {spikes: all}
        """)
    sim = Simulation(arrays)
    assert (sim.layout.cfg.n_slots - 2) * sim.layout.cfg.width < 0.007
    assert r.counters["n"]["spikes"] == 0
    assert 2 <= r.counters["n"]["neuron_updates"] <= 20     # 164 when each parked wake ran the neuron


@pytest.mark.parametrize("mode", ["exact", "grid"])
def test_sampling_a_source_changes_no_spike(mode):
    """A sample runs its source without its next spike being due: the source keeps the spike it
    has queued (one per source counts), so sampling every step changes no spike of the sources or
    of their targets, and each source's draw counter stays within one of the spikes it emitted."""
    text = """
        time: {{duration: 200 ms, mode: {mode}, dt: 0.1 ms}}
        populations:
          src: {{size: 20, model: poisson, params: {{rate: 40 Hz}}}}
          n: {{size: 10, model: lif_exp, params: {{tau_m: 20 ms, tau_exc: 5 ms, e_l: 0 mV, v_th: 10 mV, v_reset: 0 mV}}}}
        projections:
          - {{name: input, from: src, to: n, connect: all_to_all, weight: 3 mV, delay: 1 ms}}
        record:
          spikes: all
          {state}
        """
    plain, _ = run(text.format(mode=mode, state=""))
    sampled, _ = run(text.format(mode=mode, state="state: {src: {vars: [count], every: 0.1 ms}}"))
    for pop in ("src", "n"):
        for a, b in zip(plain.spikes[pop], sampled.spikes[pop]):
            np.testing.assert_array_equal(a, b)
    assert plain.spikes["src"][0].size > 100 and plain.spikes["n"][0].size > 10
    drawn = sampled.state["src"]["count"][-1]
    emitted = np.bincount(sampled.spikes["src"][1], minlength=20)
    assert np.all((drawn - emitted >= 0) & (drawn - emitted <= 1))
