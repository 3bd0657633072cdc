"""The reference engine (reference_engine.py) checked against closed forms and hand-worked
grid schedules, so that it can serve as the oracle of the compiled engine."""
from __future__ import annotations

import math

import numpy as np
import pytest

from reference_engine import first_crossing, MODELS, simulate

DT = 1e-4


def times_of(result, pop, i=None):
    t, ids = result["spikes"][pop]
    return t if i is None else t[ids == i]


# ----------------------------------------------------------------------------- lif_exp, one neuron
def lif_exp_kick(v0_mv, i0_mv, mode="exact", duration="40 ms"):
    return f"""
    time: {{duration: {duration}, mode: {mode}, dt: 0.1 ms}}
    populations:
      n:
        size: 1
        model: lif_exp
        params: {{tau_m: 20 ms, tau_exc: 10 ms, e_l: 0 mV, v_th: 10 mV, v_reset: 0 mV, t_ref: 100 ms}}
        init: {{v: {v0_mv!r} mV, i_exc: {i0_mv!r} mV}}
    """


def tau_2tau_crossing(v0, i0, theta, tau_m):
    """tau_m = 2 tau_s: with x = exp(-t/tau_m), V = (V0 + I0) x - I0 x^2; the first crossing
    takes the larger root x of I0 x^2 - (V0 + I0) x + theta = 0."""
    disc = (v0 + i0) ** 2 - 4 * i0 * theta
    if disc < 0:
        return math.inf
    return tau_m * math.log(2 * i0 / (v0 + i0 + math.sqrt(disc)))


@pytest.mark.parametrize("v0,i0", [(0.0, 50.0), (5.0, 30.0), (-10.0, 80.0), (9.0, 20.0)])
def test_lif_exp_first_spike_tau_m_twice_tau_s(ref_run, v0, i0):
    """lif_exp with tau_m = 2 tau_s fires at the closed-form time, in exact and grid mode."""
    expected = tau_2tau_crossing(v0 * 1e-3, i0 * 1e-3, 10e-3, 20e-3)
    assert 0 < expected < 40e-3
    exact, _ = ref_run(lif_exp_kick(v0, i0))
    t = times_of(exact, "n")
    assert t.size == 1 and t[0] == pytest.approx(expected, rel=1e-12, abs=1e-15)
    grid, _ = ref_run(lif_exp_kick(v0, i0, mode="grid"))
    # the crossing lies in (t_{p-1}, t_p]; Brian2 records it at t_{p-1}
    assert times_of(grid, "n").tolist() == [pytest.approx(math.floor(expected / DT) * DT, abs=1e-12)]


def test_lif_exp_input_spike_then_closed_form(ref_run):
    """A current kick delivered by a delayed input spike gives the closed-form time after its arrival."""
    res, arrays = ref_run("""
    time: {duration: 40 ms, mode: exact}
    populations:
      s: {size: 1, model: spike_times, spikes: {times: [3.3 ms], ids: [0]}}
      n: {size: 1, model: lif_exp, params: {tau_m: 20 ms, tau_exc: 10 ms, e_l: 0 mV, v_th: 10 mV,
                                            v_reset: 0 mV, t_ref: 100 ms}}
    projections:
      - {from: s, to: n, connect: all_to_all, weight: 50 mV, delay: 1.7 ms, port: exc}
    """)
    arrival = 3.3e-3 + float(arrays.projections[0].delay[0])
    expected = arrival + tau_2tau_crossing(0.0, 50e-3, 10e-3, 20e-3)
    assert times_of(res, "n").tolist() == [pytest.approx(expected, rel=1e-12)]


@pytest.mark.parametrize("excess,fires", [(1e-9, True), (-1e-9, False), (1e-6, True), (-1e-6, False)])
def test_lif_exp_grazing_peak(ref_run, excess, fires):
    """A peak just above threshold fires (near the peak time); just below, none: grazing is caught."""
    # V0 = 0: the peak is I0 / 4 at x = 1/2 (t = tau_m ln 2), so I0 = 4 theta grazes the threshold
    i0 = 40.0 * (1 + excess)
    res, _ = ref_run(lif_exp_kick(0.0, i0))
    t = times_of(res, "n")
    if fires:
        expected = tau_2tau_crossing(0.0, i0 * 1e-3, 10e-3, 20e-3)
        assert t.size == 1 and abs(t[0] - expected) < 5e-9
        assert abs(t[0] - 20e-3 * math.log(2)) < 1e-4
    else:
        assert t.size == 0


def test_first_crossing_finds_narrow_excursion_directly():
    """first_crossing catches an excursion far narrower than its sampling step (by the peak of g)."""
    m = MODELS["lif_exp"]
    p = dict(tau_m=0.02, tau_exc=0.01, tau_inh=0.002, e_l=0.0, v_th=0.01, v_reset=0.0, t_ref=0.0, i_bias=0.0)
    i0 = 0.04 * (1 + 1e-12)
    t = first_crossing(m, p, {"v": 0.0, "i_exc": i0, "i_inh": 0.0}, 0.0, 1.0)
    assert abs(t - 0.02 * math.log(2)) < 1e-6
    assert first_crossing(m, p, {"v": 0.0, "i_exc": 0.04 * (1 - 1e-12), "i_inh": 0.0}, 0.0, 1.0) == math.inf


@pytest.mark.parametrize("rel", [0.0, 1e-7, -3e-4, 2e-3])
def test_lif_exp_tau_s_equal_or_near_tau_m(ref_run, rel):
    """tau_exc = tau_m: V = (I0 t/tau_m) e^{-t/tau_m}, first crossing -tau_m W0(-theta/I0); near it, continuous."""
    mpmath = pytest.importorskip("mpmath")
    tau_m = 10e-3
    tau_s = tau_m * (1 + rel)
    res, _ = ref_run(f"""
    time: {{duration: 40 ms, mode: exact}}
    populations:
      n:
        size: 1
        model: lif_exp
        params: {{tau_m: 10 ms, tau_exc: {tau_s!r} s, e_l: 0 mV, v_th: 10 mV, v_reset: 0 mV, t_ref: 100 ms}}
        init: {{v: 0 mV, i_exc: 40 mV}}
    """)
    t = times_of(res, "n")
    assert t.size == 1
    if rel == 0.0:
        expected = float(-tau_m * mpmath.lambertw(-10.0 / 40.0, 0).real)
    else:
        # V = I0 K (e^{-t/tau_s} - e^{-t/tau_m}), K = tau_s/(tau_s - tau_m), solved in 50 digits
        mpmath.mp.dps = 50
        ts, tm = mpmath.mpf(tau_s), mpmath.mpf(tau_m)
        i0, theta = mpmath.mpf("0.04"), mpmath.mpf("0.01")

        def f(x):
            return i0 * ts / (ts - tm) * (mpmath.exp(-x / ts) - mpmath.exp(-x / tm)) - theta
        expected = float(mpmath.findroot(f, (mpmath.mpf("1e-4"), tm * mpmath.log(2) * 1.5), solver="anderson"))
    assert t[0] == pytest.approx(expected, rel=1e-11)


# ----------------------------------------------------------------------------- constant drive
def drive(model, mode, extra="", duration="100 ms"):
    return f"""
    time: {{duration: {duration}, mode: {mode}, dt: 0.1 ms}}
    populations:
      n:
        size: 1
        model: {model}
        params: {{tau_m: 10 ms, e_l: -70 mV, v_th: -55 mV, v_reset: -70 mV, t_ref: 2 ms, i_bias: 20 mV{extra}}}
    """


@pytest.mark.parametrize("model,extra", [("lif", ""), ("lif_exp", ""), ("alif", ", beta: 0 mV")])
def test_constant_drive_period_exact(ref_run, model, extra):
    """Constant drive: first spike tau_m ln((u-v_r)/(u-v_th)), then period t_ref + that time."""
    u, v_r, v_th, tm, tref = -50e-3, -70e-3, -55e-3, 10e-3, 2e-3
    t_free = tm * math.log((u - v_r) / (u - v_th))
    res, _ = ref_run(drive(model, "exact", extra))
    t = times_of(res, "n")
    expected = [t_free + k * (tref + t_free) for k in range(7) if t_free + k * (tref + t_free) < 0.1]
    assert t.size == len(expected) == 6
    np.testing.assert_allclose(t, expected, rtol=0, atol=1e-13)


@pytest.mark.parametrize("model,extra", [("lif", ""), ("lif_exp", ""), ("alif", ", beta: 0 mV")])
def test_constant_drive_period_grid(ref_run, model, extra):
    """Grid: first spike found at point floor(t/dt)+1; then held R-1 points and k free steps."""
    t_free = 10e-3 * math.log(4.0)          # 13.86 ms
    k = math.floor(t_free / DT) + 1         # free steps until v > v_th: 139
    R = int(2e-3 / DT + 0.001)              # 20
    p = [k]
    while True:
        nxt = p[-1] - 1 + R + k
        if nxt > 1000:
            break
        p.append(nxt)
    res, _ = ref_run(drive(model, "grid", extra))
    np.testing.assert_allclose(times_of(res, "n"), [(q - 1) * DT for q in p if q <= 1000], atol=1e-12)


def test_brian2_recording_convention_grid(ref_run):
    """REFERENCE.md: a drive towards 20 mV from 0 with tau 10 ms crosses 10 mV at 6.9315 ms; recorded 6.9 ms."""
    text = """
    time: {duration: 10 ms, mode: MODE, dt: 0.1 ms}
    populations:
      n: {size: 1, model: lif, params: {tau_m: 10 ms, e_l: 0 mV, v_th: 10 mV, v_reset: 0 mV, i_bias: 20 mV}}
    """
    grid, _ = ref_run(text.replace("MODE", "grid"))
    exact, _ = ref_run(text.replace("MODE", "exact"))
    assert times_of(grid, "n").tolist() == [pytest.approx(6.9e-3, abs=1e-12)]
    assert times_of(exact, "n").tolist() == [pytest.approx(10e-3 * math.log(2), rel=1e-13)]


def test_if_linear_ramp_period(ref_run):
    """if: v ramps at i_bias/tau_m, so the period is t_ref + tau_m (v_th - v_reset) / i_bias."""
    text = """
    time: {duration: 100 ms, mode: MODE, dt: 0.1 ms}
    populations:
      n: {size: 1, model: if, params: {tau_m: 10 ms, v_th: -55 mV, v_reset: -70 mV, t_ref: 2 ms, i_bias: 7 mV},
          init: {v: -70 mV}}
    """
    ramp = 10e-3 * 15e-3 / 7e-3                       # 21.43 ms
    exact, _ = ref_run(text.replace("MODE", "exact"))
    expected = [ramp + j * (2e-3 + ramp) for j in range(5) if ramp + j * (2e-3 + ramp) < 0.1]
    np.testing.assert_allclose(times_of(exact, "n"), expected, rtol=0, atol=1e-13)
    grid, _ = ref_run(text.replace("MODE", "grid"))
    k = math.floor(ramp / DT) + 1                     # 215 steps of 0.07 mV
    p = [k]
    while p[-1] - 1 + 20 + k <= 1000:
        p.append(p[-1] - 1 + 20 + k)
    np.testing.assert_allclose(times_of(grid, "n"), [(q - 1) * DT for q in p], atol=1e-12)


# ----------------------------------------------------------------------------- alif
ALIF = """
time: {duration: 150 ms, mode: MODE, dt: 0.1 ms}
populations:
  n: {size: 1, model: alif, params: {tau_m: 10 ms, tau_a: 10 ms, beta: 4 mV, e_l: -70 mV, v_th: -55 mV,
                                     v_reset: -70 mV, t_ref: 2 ms, i_bias: 20 mV}}
record:
  state: {n: {vars: [v, a], every: 0.1 ms}}
"""


def test_alif_threshold_adaptation_exact(ref_run):
    """alif with tau_a = tau_m: ISIs follow tau_m ln(((u-v_r) e^{t_ref/tau_m} + a_k)/(u-v_th)), a sums betas."""
    u, v_r, v_th, tm, tref, beta = -50e-3, -70e-3, -55e-3, 10e-3, 2e-3, 4e-3
    res, _ = ref_run(ALIF.replace("MODE", "exact"))
    t = times_of(res, "n")
    expected = [tm * math.log((u - v_r) / (u - v_th))]
    a = beta                                   # just after the first spike
    while True:
        s = tm * math.log(((u - v_r) * math.exp(tref / tm) + a) / (u - v_th))
        if expected[-1] + s >= 0.15:
            break
        expected.append(expected[-1] + s)
        a = a * math.exp(-s / tm) + beta
    assert t.size == len(expected) >= 5
    np.testing.assert_allclose(t, expected, rtol=0, atol=1e-12)
    isi = np.diff(t)
    assert np.all(np.diff(isi) > 0)            # adaptation: intervals lengthen
    rec = res["state"]["n"]
    st = rec["times"]
    a_expected = np.array([sum(beta * math.exp(-(x - tj) / tm) for tj in t if tj <= x) for x in st])
    np.testing.assert_allclose(rec["a"][:, 0], a_expected, rtol=1e-9, atol=1e-15)
    assert np.all(rec["v"][:, 0] < v_th + rec["a"][:, 0])


def test_alif_threshold_adaptation_grid(ref_run):
    """Grid alif: a decays by exp(-dt/tau_a) per step and jumps by beta at the reset of each spike's point."""
    res, _ = ref_run(ALIF.replace("MODE", "grid"))
    t = times_of(res, "n")
    assert t.size >= 5
    points = np.rint(t / DT).astype(int) + 1
    rec = res["state"]["n"]
    n = np.rint(rec["times"] / DT).astype(int)
    a_expected = np.array([sum(4e-3 * math.exp(-(m - q) * DT / 10e-3) for q in points if q <= m) for m in n])
    np.testing.assert_allclose(rec["a"][:, 0], a_expected, rtol=1e-9, atol=1e-15)
    # at each spike's point p the sampled v is the reset, and it is held through point p + R - 1
    for q in points:
        np.testing.assert_array_equal(rec["v"][q:q + 20, 0], -70e-3)
    # each spike was found on a state above the adapted threshold (the state at p before the reset)
    assert np.all(np.diff(np.diff(t)) >= 0)


# ----------------------------------------------------------------------------- delays
DELAY_LINE = """
time: {duration: 10 ms, mode: MODE, dt: 0.1 ms}
populations:
  s: {size: 1, model: spike_times, spikes: {times: [1 ms, 4.25 ms], ids: [0, 0]}}
  n: {size: 6, model: lif, params: {t_ref: 1 ms}}
projections:
  - {from: s, to: n, connect: all_to_all, weight: 20 mV,
     delay: {values: [0.1 ms, 0.54 ms, 0.55 ms, 0.96 ms, 1.04 ms, 2.37 ms]}}
"""


def test_delay_line_exact(ref_run):
    """Exact mode: each target fires exactly at source time + its delay (a delta kick above threshold)."""
    res, arrays = ref_run(DELAY_LINE.replace("MODE", "exact"))
    delays = np.asarray(arrays.projections[0].delay, dtype=float)
    for j, d in enumerate(delays):
        assert times_of(res, "n", j).tolist() == [1e-3 + d, 4.25e-3 + d]
    assert times_of(res, "s").tolist() == [1e-3, 4.25e-3]


def test_grid_delay_rounding(ref_run):
    """Grid mode: D = int(d/dt + 0.5) (0.54 ms -> 5, 0.55 ms -> 6) and the spike at t_n acts at n+1+D."""
    res, _ = ref_run(DELAY_LINE.replace("MODE", "grid"))
    D = [1, 5, 6, 10, 10, 24]
    for j, dj in enumerate(D):
        # source step n (4.25 ms -> step 42), input at point n + 1 + D, spike found at the next
        # point, recorded one step earlier: at t_{n+1+D}
        expected = [(10 + 1 + dj) * DT, (42 + 1 + dj) * DT]
        np.testing.assert_allclose(times_of(res, "n", j), expected, atol=1e-12)
    np.testing.assert_allclose(times_of(res, "s"), [1e-3, 4.2e-3], atol=1e-15)


def test_grid_input_shows_in_state_after_delay(ref_run):
    """REFERENCE.md: an input spike at 1.0 ms with delay 0.5 ms appears as a jump in v sampled at 1.6 ms."""
    text = """
    time: {duration: 3 ms, mode: grid, dt: 0.1 ms}
    populations:
      s: {size: 1, model: spike_times, spikes: {times: [1 ms], ids: [0]}}
      n: {size: 1, model: lif}
    projections:
      - {from: s, to: n, connect: all_to_all, weight: 5 mV, delay: 0.5 ms}
    record:
      state: {n: {vars: [v]}}
    """
    res, _ = ref_run(text)
    v = res["state"]["n"]["v"][:, 0]
    assert res["state"]["n"]["times"].size == 30
    np.testing.assert_array_equal(v[:16], -70e-3)
    assert v[16] == pytest.approx(-65e-3, abs=1e-15)


def test_exact_state_is_right_continuous(ref_run):
    """Exact mode: a sample at an input's time shows the input; at a spike's time, the reset."""
    q = 2.0 ** -10                                   # 0.9765625 ms, exact in binary
    text = f"""
    time: {{duration: {8 * q!r} s, mode: exact}}
    populations:
      s: {{size: 2, model: spike_times, spikes: {{times: [{3 * q!r} s, {5 * q!r} s], ids: [0, 1]}}}}
      n: {{size: 1, model: lif, params: {{t_ref: 0.5 ms}}}}
    projections:
      - {{from: s, to: n, connect: {{pairs: [[0, 0], [1, 0]]}}, weight: {{values: [5 mV, 30 mV]}},
         delay: {q!r} s}}
    record:
      state: {{n: {{vars: [v], every: {q!r} s}}}}
    """
    res, _ = ref_run(text)
    v = res["state"]["n"]["v"][:, 0]
    np.testing.assert_allclose(res["state"]["n"]["times"], np.arange(8) * q)
    np.testing.assert_array_equal(v[:4], -70e-3)
    assert v[4] == pytest.approx(-65e-3, abs=1e-15)          # the input at 4q is in the sample at 4q
    assert times_of(res, "n").tolist() == [6 * q]
    assert v[6] == -70e-3                                     # the spike at 6q: reset value


# ----------------------------------------------------------------------------- event rules
def test_delta_inputs_lost_while_refractory(ref_run):
    """lif: inputs during [t_spike, t_spike + t_ref] are lost; lif_exp keeps them (currents)."""
    text = """
    time: {duration: 8 ms, mode: MODE, dt: 0.1 ms}
    populations:
      s: {size: 1, model: spike_times, spikes: {times: [1 ms, 2 ms, 2.5 ms], ids: [0, 0, 0]}}
      d: {size: 1, model: lif, params: {t_ref: 2 ms}}
      c: {size: 1, model: lif_exp, params: {t_ref: 2 ms}}
    projections:
      - {from: s, to: d, connect: all_to_all, weight: 20 mV, delay: 1 ms}
      - {from: s, to: c, connect: all_to_all, weight: 1 mV, delay: 1 ms}
    record:
      state: {d: {vars: [v]}, c: {vars: [v, i_exc]}}
    """
    exact, _ = ref_run(text.replace("MODE", "exact"))
    assert times_of(exact, "d").tolist() == [pytest.approx(2e-3)]       # the kicks at 3, 3.5 ms are lost
    v = exact["state"]["d"]["v"][:, 0]
    np.testing.assert_array_equal(v[20:], -70e-3)
    ie = exact["state"]["c"]["i_exc"][:, 0]
    assert ie[40] == pytest.approx(1e-3 * sum(math.exp(-(4e-3 - ta) / 2e-3) for ta in (2e-3, 3e-3, 3.5e-3)), rel=1e-9)
    grid, _ = ref_run(text.replace("MODE", "grid"))
    # grid: kick at point 21, spike found at 22 (recorded 2.1 ms), held points 22..41: inputs at 31, 36 lost
    assert times_of(grid, "d").tolist() == [pytest.approx(2.1e-3)]
    np.testing.assert_array_equal(grid["state"]["d"]["v"][22:, 0], -70e-3)


def test_simultaneous_inputs_applied_together(ref_run):
    """Inputs at one instant are summed before the threshold test: +20 mV and -20 mV together do not fire."""
    text = """
    time: {duration: 5 ms, mode: MODE, dt: 0.1 ms}
    populations:
      s: {size: 2, model: spike_times, spikes: {times: [1 ms, 1 ms, 2 ms], ids: [0, 1, 0]}}
      n: {size: 1, model: lif}
    projections:
      - {from: s, to: n, connect: {pairs: [[0, 0], [1, 0]]}, weight: {values: [20 mV, -20 mV]},
         delay: 1 ms}
    """
    for mode, expected in (("exact", 3e-3), ("grid", 3.1e-3)):
        res, _ = ref_run(text.replace("MODE", mode), name=mode)
        assert times_of(res, "n").tolist() == [pytest.approx(expected, abs=1e-12)]


def test_zero_delay_chain_in_topological_order(ref_run):
    """Zero delays: source -> a -> b fire at one instant in exact mode (b listed first); grid: a step per hop."""
    text = """
    time: {duration: 5 ms, mode: MODE, dt: 0.1 ms}
    populations:
      b: {size: 1, model: lif}
      a: {size: 1, model: lif}
      s: {size: 1, model: spike_times, spikes: {times: [1 ms], ids: [0]}}
    projections:
      - {from: a, to: b, connect: all_to_all, weight: 20 mV, delay: 0 ms}
      - {from: s, to: a, connect: all_to_all, weight: 20 mV, delay: 0 ms}
    """
    exact, _ = ref_run(text.replace("MODE", "exact"))
    assert times_of(exact, "a").tolist() == [1e-3] and times_of(exact, "b").tolist() == [1e-3]
    grid, _ = ref_run(text.replace("MODE", "grid"))
    assert times_of(grid, "a").tolist() == [pytest.approx(1.1e-3)]
    assert times_of(grid, "b").tolist() == [pytest.approx(1.2e-3)]


def test_spike_at_time_zero(ref_run):
    """A neuron starting above threshold fires at t = 0 in exact mode; grid finds it at point 1 (recorded 0)."""
    text = """
    time: {duration: 1 ms, mode: MODE, dt: 0.1 ms}
    populations:
      n: {size: 2, model: lif_exp, init: {v: {values: [-50 mV, -60 mV]}}}
    """
    for mode in ("exact", "grid"):
        res, _ = ref_run(text.replace("MODE", mode), name=mode)
        t, ids = res["spikes"]["n"]
        assert t.tolist() == [0.0] and ids.tolist() == [0]


def test_mode_argument_overrides_netlist(ref_run):
    """simulate(arrays, mode) runs the other mode: the same as writing that mode in the netlist."""
    text = drive("lif_exp", "MODE", duration="40 ms")
    as_grid, _ = ref_run(text.replace("MODE", "grid"), name="g")
    as_exact, arrays = ref_run(text.replace("MODE", "exact"), name="e")
    forced = simulate(arrays, mode="grid")
    np.testing.assert_array_equal(forced["spikes"]["n"][0], as_grid["spikes"]["n"][0])
    assert not np.array_equal(as_exact["spikes"]["n"][0], as_grid["spikes"]["n"][0])


def test_grid_two_source_spikes_in_one_step_refused(ref_run):
    """Grid mode: two spikes of one source binned into one step are an error (as in Brian2)."""
    with pytest.raises(ValueError, match="two spikes"):
        ref_run("""
        time: {duration: 5 ms, mode: grid, dt: 0.1 ms}
        populations:
          s: {size: 1, model: spike_times, spikes: {times: [1 ms, 1.05 ms], ids: [0, 0]}}
        """)


def test_record_spikes_selection(ref_run):
    """Only the populations named in record.spikes are returned; every one of them, sorted by (time, id)."""
    res, _ = ref_run("""
    time: {duration: 20 ms, mode: exact}
    populations:
      p: {size: 3, model: poisson, params: {rate: 500 Hz}}
      n: {size: 2, model: lif_exp}
    projections:
      - {from: p, to: n, connect: all_to_all, weight: 3 mV, delay: 0.3 ms}
    record: {spikes: [p]}
    """)
    assert set(res["spikes"]) == {"p"}
    t, ids = res["spikes"]["p"]
    assert t.size > 5 and t.dtype == np.float64 and ids.dtype == np.int32
    assert np.all(np.lexsort((ids, t)) == np.arange(t.size))


# ----------------------------------------------------------------------------- exact vs grid
CONVERGE = """
time: {duration: 25 ms, mode: MODE, dt: DT}
populations:
  s: {size: 2, model: spike_times,
      spikes: {times: [1 ms, 2.5 ms, 6 ms, 6.5 ms, 12 ms, 15 ms, 18.3 ms], ids: [0, 1, 0, 1, 0, 1, 1]}}
  a: {size: 2, model: lif_exp, params: {tau_m: 10 ms, tau_exc: 3 ms, t_ref: 2 ms, i_bias: 16 mV}}
  b: {size: 1, model: alif, params: {tau_m: 15 ms, tau_exc: 4 ms, t_ref: 1 ms, beta: 2 mV, tau_a: 50 ms}}
projections:
  - {from: s, to: a, connect: all_to_all, weight: {values: [12 mV, 9 mV, 7 mV, 14 mV]}, delay: 0.5 ms}
  - {from: a, to: b, connect: all_to_all, weight: 70 mV, delay: {values: [1.2 ms, 2 ms]}}
"""


def test_exact_and_grid_converge_as_dt_shrinks(ref_run):
    """Grid spike times approach the exact ones as dt shrinks (error a few dt, same spikes)."""
    exact, _ = ref_run(CONVERGE.replace("MODE", "exact").replace("DT", "0.1 ms"), name="exact")
    ref = {pop: exact["spikes"][pop] for pop in ("a", "b")}
    assert ref["a"][0].size >= 4 and ref["b"][0].size >= 2
    errors = []
    for dt in (1e-4, 1e-5, 3e-6):
        grid, _ = ref_run(CONVERGE.replace("MODE", "grid").replace("DT", f"{dt!r} s"), name=f"g{dt}")
        worst = 0.0
        for pop in ("a", "b"):
            te, ie = ref[pop]
            tg, ig = grid["spikes"][pop]
            for i in np.unique(ie):
                a, b = te[ie == i], tg[ig == i]
                assert a.size == b.size, (pop, i, dt, a, b)
                worst = max(worst, float(np.max(np.abs(a - b))))
        assert worst <= 6 * dt, (dt, worst)
        errors.append(worst)
    assert errors[-1] < errors[0] / 10


# ----------------------------------------------------------------------------- Brian2 itself
BRIAN2_NET = """
seed: 5
time: {duration: 100 ms, mode: grid, dt: 0.1 ms}
populations:
  s: {size: 10, model: poisson, params: {rate: 150 Hz}}
  e: {size: 12, model: lif_exp, params: {tau_m: 10 ms, tau_exc: 3 ms, tau_inh: 6 ms, t_ref: 2.05 ms, i_bias: 10 mV},
      init: {v: {uniform: [-70 mV, -56 mV]}}}
  d: {size: 6, model: lif, params: {tau_m: 8 ms, t_ref: 1.5 ms, i_bias: 12 mV}}
  a: {size: 5, model: alif, params: {tau_m: 12 ms, tau_a: 50 ms, beta: 3 mV, t_ref: 0.1 ms, i_bias: 17 mV}}
  f: {size: 4, model: if, params: {tau_m: 10 ms, t_ref: 0 ms, i_bias: 3 mV}}
projections:
  - {from: s, to: e, connect: {probability: 0.5}, weight: 9 mV, delay: {uniform: [0.1 ms, 3 ms]}}
  - {from: e, to: [e, d, a, f], connect: {probability: 0.3}, weight: {uniform: [2 mV, 6 mV]},
     delay: {uniform: [0.1 ms, 2.5 ms]}}
  - {from: d, to: [e, a], connect: {probability: 0.4}, weight: -8 mV, delay: 0 ms, port: inh}
  - {from: s, to: d, connect: {probability: 0.3}, weight: 4 mV, delay: 0 ms}
  - {from: a, to: f, connect: all_to_all, weight: 2.5 mV, delay: 1 ms}
record:
  state: {e: {vars: [v, i_exc, i_inh]}, a: {vars: [v, a]}, f: {vars: [v]}}
"""

B2_EQS = {
    "lif_exp": "dv/dt = (e_l - v + i_exc + i_inh + i_bias) / tau_m : volt (unless refractory)\n"
               "di_exc/dt = -i_exc / tau_exc : volt\ndi_inh/dt = -i_inh / tau_inh : volt\n",
    "lif": "dv/dt = (e_l - v + i_bias) / tau_m : volt (unless refractory)\n",
    "if": "dv/dt = i_bias / tau_m : volt (unless refractory)\n",
}
B2_EQS["alif"] = B2_EQS["lif_exp"] + "da/dt = -a / tau_a : volt\n"


def _brian2_run(arrays):
    """The netlist built by hand in Brian2 (numpy target), sources fed as SpikeGeneratorGroups."""
    b2 = pytest.importorskip("brian2")
    from simcore.sources import source_spikes

    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = arrays.netlist.time.dt * b2.second
    net, groups = b2.Network(), {}
    for name, pop in arrays.populations.items():
        if pop.model in ("poisson", "spike_times"):
            t, i = source_spikes(arrays, name)
            g = b2.SpikeGeneratorGroup(pop.size, i, t * b2.second, name=name)
        else:
            unit = {k: b2.second if k.startswith(("tau", "t_")) else b2.volt for k in pop.params}
            decl = "".join(f"{k} : {'second' if u is b2.second else 'volt'} (constant)\n" for k, u in unit.items())
            g = b2.NeuronGroup(pop.size, B2_EQS[pop.model] + decl, name=name, refractory="t_ref",
                               threshold="v > v_th + a" if pop.model == "alif" else "v > v_th",
                               reset="v = v_reset\na += beta" if pop.model == "alif" else "v = v_reset",
                               method="euler" if pop.model == "if" else "exact")   # euler is exact for dv/dt = const
            for k, u in unit.items():
                setattr(g, k, np.asarray(pop.params[k]) * u)
            for k, val in pop.init.items():
                setattr(g, k, np.asarray(val) * b2.volt)
        groups[name] = g
        net.add(g)
    for proj in arrays.projections:
        for pre_name in proj.pre_pops:
            for post_name in proj.post_pops:
                pre, post = arrays.populations[pre_name], arrays.populations[post_name]
                sel = ((proj.pre >= pre.offset) & (proj.pre < pre.offset + pre.size)
                       & (proj.post >= post.offset) & (proj.post < post.offset + post.size))
                if not sel.any():
                    continue
                if post.model in ("lif", "if"):
                    on_pre = "v_post += w * int(not_refractory_post)"
                else:
                    on_pre = f"i_{proj.port}_post += w"
                syn = b2.Synapses(groups[pre_name], groups[post_name], "w : volt", on_pre=on_pre)
                syn.connect(i=proj.pre[sel] - pre.offset, j=proj.post[sel] - post.offset)
                syn.w = np.asarray(proj.weight)[sel] * b2.volt
                syn.delay = np.asarray(proj.delay)[sel] * b2.second
                net.add(syn)
    spikes = {n: b2.SpikeMonitor(g) for n, g in groups.items()}
    states = {r.population: b2.StateMonitor(groups[r.population], list(r.vars), record=True)
              for r in arrays.netlist.record.state}
    net.add(*spikes.values(), *states.values())
    net.run(arrays.netlist.time.duration * b2.second, namespace={})
    out_spikes = {}
    for n, m in spikes.items():
        t, i = np.asarray(m.t / b2.second), np.asarray(m.i)
        order = np.lexsort((i, t))
        out_spikes[n] = (t[order], i[order])
    out_states = {n: {v: np.asarray(getattr(m, v)).T for v in m.record_variables} for n, m in states.items()}
    return out_spikes, out_states


@pytest.mark.brian2
@pytest.mark.slow
def test_grid_mode_matches_brian2_spike_for_spike(ref_run):
    """Grid mode reproduces Brian2 2.11 itself: every spike (time, id) and every sampled state value."""
    pytest.importorskip("brian2")
    ref, arrays = ref_run(BRIAN2_NET)
    b2_spikes, b2_states = _brian2_run(arrays)
    assert sum(ref["spikes"][p][0].size for p in "edaf") > 100
    for pop, (times, ids) in ref["spikes"].items():
        bt, bi = b2_spikes[pop]
        np.testing.assert_array_equal(ids, bi, err_msg=pop)
        np.testing.assert_allclose(times, bt, rtol=0, atol=1e-12, err_msg=pop)
    for pop, rec in ref["state"].items():
        for var, value in rec.items():
            if var not in ("times", "neurons"):
                np.testing.assert_allclose(value, b2_states[pop][var], rtol=1e-9, atol=1e-12, err_msg=f"{pop}.{var}")
