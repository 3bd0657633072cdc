"""The event-driven EGRU engine (simcore/egru) against the dense step-by-step reference
(simcore/egru/reference.py): per-step c and events to 1e-10 on random networks, the closed-form
silent catch-up and crossing prediction, the counters, the netlist path (inputs from files,
reproducible expansion, backends.run, evsim run) and its error messages."""
from __future__ import annotations

import math
import os
import sys

import numba
import numpy as np
import pytest

import backends
import netspec
from evsim.cli import main
from simcore.egru import network, reference, runner
from simcore.egru.engine import crossing

sys.path.insert(0, os.path.dirname(__file__))
from egru_nets import random_netlist, random_netlist_text  # noqa: E402

TOL = 1e-10


def _egru_units(gn):
    return np.flatnonzero(gn.kinds[gn.unit_pop] == network.EGRU)


def _spontaneous(gn, ref) -> int:
    """Events of EGRU units that received nothing in their step (no delay-0 input this step, no
    delay-1 input or own event last step): threshold crossings the engine must predict."""
    T = ref.y.shape[0]
    m0 = sum(np.abs(gn.dense(0, g)) for g in range(4)) > 0
    m1 = sum(np.abs(gn.dense(1, g)) for g in range(4)) > 0
    fired = ref.y != 0
    prev = np.vstack([gn.y0[None, :] != 0, fired[:-1]])
    touched = (fired @ m0.T.astype(float) > 0) | (prev @ m1.T.astype(float) > 0) | prev
    eg = _egru_units(gn)
    return int((fired[:, eg] & ~touched[:, eg]).sum()) if T else 0


def _check(seed, n_steps=None, par_macs=runner.PARALLEL_MACS):
    gn = network.build(netspec.expand(random_netlist(seed, n_steps)))
    ref = reference.run(gn)
    raw = runner.simulate(gn, np.arange(gn.n), par_macs=par_macs)
    eg = _egru_units(gn)
    np.testing.assert_allclose(raw.rec_c[:, eg], ref.c[:, eg], rtol=0, atol=TOL)
    np.testing.assert_allclose(raw.rec_y[:, eg], ref.y[:, eg], rtol=0, atol=TOL)
    # the event log: the same (step, unit) events, carrying the same values, sources' inputs included
    steps, ids = np.nonzero(ref.y)
    o = np.lexsort((raw.ev_id, raw.ev_step))
    np.testing.assert_array_equal(raw.ev_step[o], steps)
    np.testing.assert_array_equal(raw.ev_id[o], ids)
    np.testing.assert_allclose(raw.ev_val[o], ref.y[steps, ids], rtol=0, atol=TOL)
    np.testing.assert_allclose(runner.state_at_end(raw)[eg], ref.c[-1, eg], rtol=0, atol=TOL)
    return int(raw.catchups.sum()), _spontaneous(gn, ref), int(steps.size)


@pytest.mark.parametrize("seed", range(30))
def test_engine_equals_dense_reference(seed):
    """c and events of every EGRU unit in every step equal the dense reference to 1e-10 (random networks)."""
    _check(seed)


@pytest.mark.parametrize("seed", range(12))
def test_engine_with_dense_blocks_split_over_threads_equals_dense_reference(seed):
    """The same with every batch of dense multiply-adds split over Numba's threads."""
    _check(seed, par_macs=0)


def test_dense_blocks_split_over_threads_give_the_same_run_whatever_the_thread_count():
    """One thread or two: bit-identical c, outputs and events (each sum keeps its event order)."""
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("Numba has a single thread here")
    before = numba.get_num_threads()
    runs = []
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            for seed in range(6):
                gn = network.build(netspec.expand(random_netlist(seed)))
                runs.append(runner.simulate(gn, np.arange(gn.n), par_macs=0))
    finally:
        numba.set_num_threads(before)
    assert sum("all_to_all" in random_netlist_text(seed) for seed in range(6)) >= 3   # dense blocks
    for a, b in zip(runs[:6], runs[6:]):
        np.testing.assert_array_equal(a.rec_c, b.rec_c)
        np.testing.assert_array_equal(a.rec_y, b.rec_y)
        np.testing.assert_array_equal(a.ev_step, b.ev_step)
        np.testing.assert_array_equal(a.ev_id, b.ev_id)
        np.testing.assert_array_equal(a.ev_val, b.ev_val)


def test_complete_pairs_become_a_dense_block_and_repeated_pairs_stay_sparse():
    """A projection with every (sender, target) pair once is a dense block, one as large with a
    repeated pair stays CSR; both runs equal the dense reference."""
    rows = "[" + ", ".join("[0.9, -0.4]" if t % 7 == 0 else "[0.0, 0.0]" for t in range(30)) + "]"
    text = ("name: blocks\nseed: 3\ntime: {steps: 30}\npopulations:\n"
            f"  x: {{size: 2, model: sequence, sequence: {{rows: {rows}}}}}\n"
            "  h: {size: 2, model: egru, params: {b_u: -1, b_r: 0, b_z: 0.2, theta: 0.1}}\n"
            "projections:\n"
            "  - {name: inp, from: x, to: h, connect: {pairs: [[1, 0], [0, 1], [1, 1], [0, 0]]}, port: z, "
            "weight: {values: [0.5, -0.3, 0.8, 1.1]}, delay: 0 s}\n"
            "  - {name: rec, from: h, to: h, connect: {pairs: [[0, 0], [0, 0], [1, 1], [1, 0]]}, port: u, "
            "weight: {values: [0.4, 0.2, -0.6, 0.7]}, delay: 1 s}\n")
    gn = network.build(netspec.expand(netspec.loads(text)))
    sy = runner.synapse_arrays(gn)
    ptr1, bw = sy[5], sy[-1]
    assert bw.size == 4                      # inp: one 2 x 2 block (gate z)
    assert ptr1[-1] == 4                     # rec: four CSR synapses
    ref = reference.run(gn)
    raw = runner.simulate(gn, np.arange(gn.n))
    eg = _egru_units(gn)
    assert np.count_nonzero(ref.y[:, eg]) > 0
    np.testing.assert_allclose(raw.rec_c[:, eg], ref.c[:, eg], rtol=0, atol=TOL)
    np.testing.assert_allclose(raw.rec_y[:, eg], ref.y[:, eg], rtol=0, atol=TOL)


@pytest.mark.slow
@pytest.mark.parametrize("block", range(8))
def test_engine_equals_dense_reference_many(block):
    """The same on 400 more random networks, some 600 steps long."""
    for seed in range(1000 + 50 * block, 1050 + 50 * block):
        _check(seed, 600 if seed % 5 == 0 else None)


def test_random_networks_exercise_catch_up_and_wake_prediction():
    """The random suite has silent stretches caught up in closed form and spontaneous crossings."""
    catchups = spontaneous = events = 0
    for seed in range(30):
        a, b, c = _check(seed)
        catchups, spontaneous, events = catchups + a, spontaneous + b, events + c
    assert catchups > 500 and spontaneous > 50 and events > 1000, (catchups, spontaneous, events)


def test_crossing_matches_brute_force():
    """crossing() returns the least k with z* + q^k (c0 - z*) > theta (or kmax + 1), checked by iteration."""
    rng = np.random.default_rng(5)
    for _ in range(3000):
        zs, theta = rng.uniform(-1, 1), rng.uniform(0.01, 1)
        c0 = rng.uniform(-2, 1.5)
        q = rng.choice([rng.uniform(0, 1), rng.uniform(0.97, 1.0), 1e-300, 0.5])
        kmax = int(rng.integers(1, 400))
        want, c = kmax + 1, c0
        for k in range(1, kmax + 1):
            c = zs + q ** k * (c0 - zs)
            if c > theta:
                want = k
                break
        assert crossing(c0, zs, q, theta, kmax) == want, (c0, zs, q, theta, kmax)


def test_single_silent_unit_fires_at_the_predicted_step():
    """A unit with no input fires first at the step the closed form predicts, carrying c_k, then resets."""
    b_u, b_z, theta, c0 = -2.0, 1.0, 0.6, -0.3
    text = (f"time: {{steps: 40}}\npopulations:\n  h: {{size: 1, model: egru, params: {{b_u: {b_u}, b_z: {b_z}, "
            f"theta: {theta}}}, init: {{c: {c0}}}}}\n")
    res = backends.run(netspec.loads(text))
    us, zs = 1 / (1 + math.exp(-b_u)), math.tanh(b_z)
    q = 1 - us
    k = math.ceil(math.log((zs - theta) / (zs - c0)) / math.log(q))   # c_k > theta first (not a tie here)
    assert zs + q ** k * (c0 - zs) > theta > zs + q ** (k - 1) * (c0 - zs)
    times, ids = res.spikes["h"]
    assert times[0] == k - 1            # step index k - 1: the k-th update from the initial state
    assert res.state["h"]["event_values"][0] == pytest.approx(zs + q ** k * (c0 - zs), abs=1e-12)
    assert res.counters["h"]["closed_form_catchups"] >= 1
    # after an event the paper form subtracts it: c = u* z* + (1 - u*) c_k - c_k, far below theta again
    assert times.size >= 2 and np.all(np.diff(times) > 1)


def test_counters_match_counts_from_the_reference():
    """Events per step, sparsity, synaptic ops done, dense MACs (with and without weight sparsity), reductions."""
    for seed in (3, 7, 11, 19):
        net = random_netlist(seed)
        arrays = netspec.expand(net)
        res = backends.run(arrays)
        gn = network.build(arrays)
        ref = reference.run(gn)
        T = gn.n_steps
        fired = ref.y != 0
        prev = np.vstack([gn.y0[None, :] != 0, fired[:-1]])
        tot_ops = tot_dense = tot_sparse = 0
        for k, name in enumerate(gn.names):
            sl = gn.pop_slice(name)
            c = res.counters[name]
            assert c["events_per_step"] == fired[:, sl].sum(1).tolist()
            assert c["events"] == int(fired[:, sl].sum())
            assert c["activity_sparsity"] == pytest.approx(1 - fired[:, sl].sum() / (fired[:, sl].size))
            if gn.kinds[k] != network.EGRU:
                continue
            # done: one multiply-accumulate per synapse into this population per delivered event
            ops = 0
            for d, src in ((0, fired), (1, prev)):
                for g in range(4):
                    nz = gn.dense(d, g)[sl] != 0
                    ops += int((src.astype(np.int64) @ nz.T.astype(np.int64)).sum())
            # dense equivalents from the netlist: all pre x post pairs of every projection, per gate and step
            dense = sparse_w = 0
            for proj in arrays.projections:
                if name not in proj.post_pops:
                    continue
                n_gates = 3 if proj.port == "gates" else 1
                n_pre = sum(arrays.populations[x].size for x in proj.pre_pops)
                n_syn = int(np.count_nonzero((proj.post >= sl.start) & (proj.post < sl.stop)))   # global ids
                dense += n_gates * n_pre * (sl.stop - sl.start) * T
                sparse_w += n_gates * n_syn * T
            assert c["synaptic_ops"] == ops
            assert c["dense_ops"] == dense
            assert c["dense_ops_sparse_weights"] == sparse_w
            assert c["combined_reduction"] == pytest.approx(dense / ops if ops else (1.0 if not dense else math.inf))
            assert c["parameter_reduction"] == pytest.approx(dense / sparse_w)
            tot_ops, tot_dense, tot_sparse = tot_ops + ops, tot_dense + dense, tot_sparse + sparse_w
        t = res.counters["total"]
        assert (t["synaptic_ops"], t["dense_ops"], t["dense_ops_sparse_weights"]) == (tot_ops, tot_dense, tot_sparse)
        n_eg = _egru_units(gn).size
        assert t["activity_sparsity"] == pytest.approx(1 - fired[:, _egru_units(gn)].sum() / (n_eg * T))


def test_weight_sparsity_shows_in_the_parameter_reduction():
    """A projection connected with probability 0.25 stores ~1/4 of the pairs: parameter reduction ~4."""
    text = ("seed: 2\ntime: {steps: 50}\npopulations:\n"
            "  x: {size: 20, model: sequence, sequence: {times: [0 s, 10 s, 20 s], ids: [1, 2, 3], values: [1, 2, 3]}}\n"
            "  h: {size: 200, model: egru}\nprojections:\n"
            "  - {from: x, to: h, connect: {probability: 0.25}, port: gates, weight: {normal: {mean: 0, std: 1}}, "
            "delay: 0 s}\n")
    c = backends.run(netspec.loads(text)).counters["h"]
    assert 3.5 < c["parameter_reduction"] < 4.5
    assert c["combined_reduction"] > c["activity_reduction"]


def test_expansion_is_reproducible_from_the_seed():
    """The same netlist and seed give the same synapses, weights, thresholds and result; another seed differs."""
    text = random_netlist_text(4)
    a = network.build(netspec.expand(netspec.loads(text)))
    b = network.build(netspec.expand(netspec.loads(text)))
    c = network.build(netspec.expand(netspec.loads(text.replace("seed: 4", "seed: 5"))))
    for x in ("theta", "b", "c0"):
        np.testing.assert_array_equal(getattr(a, x), getattr(b, x))
    np.testing.assert_array_equal(a.csr1.w, b.csr1.w)
    np.testing.assert_array_equal(a.csr0.w, b.csr0.w)
    assert not np.array_equal(a.theta, c.theta)
    ra, rb = reference.run(a), reference.run(b)
    np.testing.assert_array_equal(ra.y, rb.y)


def test_sequence_inputs_from_rows_files_and_events_agree(tmp_path):
    """One input given as inline rows, .npy, .csv, .npz (dense key and events) reaches the engine identically."""
    rng = np.random.default_rng(0)
    rows = np.where(rng.random((12, 3)) < 0.3, rng.normal(size=(12, 3)).round(4), 0.0)
    np.save(tmp_path / "s.npy", rows)
    np.savetxt(tmp_path / "s.csv", rows, delimiter=",")
    s, i = np.nonzero(rows)
    np.savez(tmp_path / "s.npz", dense=rows, steps=s, ids=i, values=rows[s, i])
    np.savez(tmp_path / "e.npz", steps=s, ids=i, values=rows[s, i])
    forms = ["{rows: [" + ", ".join("[" + ", ".join(repr(float(v)) for v in r) + "]" for r in rows) + "]}",
             "{file: s.npy}", "{file: s.csv}", "{file: s.npz, key: dense}", "{file: e.npz}",
             "{times: [" + ", ".join(f"{t} s" for t in s) + "], ids: " + str(i.tolist()) + ", values: "
             + str(rows[s, i].tolist()) + "}"]
    got = []
    for f in forms:
        text = (f"seed: 1\ntime: {{steps: 12}}\npopulations:\n  x: {{size: 3, model: sequence, sequence: {f}}}\n"
                f"  h: {{size: 4, model: egru}}\nprojections:\n"
                f"  - {{from: x, to: h, connect: all_to_all, port: gates, weight: {{normal: {{mean: 0, std: 1}}}}, "
                f"delay: 0 s}}\n")
        gn = network.build(netspec.expand(netspec.loads(text, base_dir=str(tmp_path))))
        got.append((gn.in_ptr, gn.in_id, gn.in_val, reference.run(gn).y))
    for g in got[1:]:
        for a, b in zip(got[0], g):
            np.testing.assert_array_equal(a, b)
    assert got[0][1].size == np.count_nonzero(rows)


def test_inputs_of_sources_out_of_processing_order_are_consumed_by_their_own_source():
    """Two sources where the later-processed one has lower unit indices: each gets only its own inputs."""
    text = ("time: {steps: 6}\npopulations:\n"
            "  a: {size: 2, model: sequence, sequence: {rows: [[0, 0], [1, 0], [0, 0], [0, 2], [1, 1], [0, 0]]}}\n"
            "  h: {size: 3, model: egru, params: {theta: 0.1}}\n"
            "  b: {size: 2, model: sequence, sequence: {rows: [[1, 0], [0, 0], [0, 3], [0, 2], [0, 0], [2, 0]]}}\n"
            "  g: {size: 3, model: egru, params: {theta: 0.1}}\nprojections:\n"
            "  - {from: b, to: h, connect: all_to_all, port: z, weight: 1.0, delay: 0 s}\n"
            "  - {from: h, to: g, connect: all_to_all, port: z, weight: 0.5, delay: 0 s}\n"
            "  - {from: a, to: g, connect: all_to_all, port: u, weight: -1.0, delay: 0 s}\n")
    gn = network.build(netspec.expand(netspec.loads(text)))
    ref = reference.run(gn)
    raw = runner.simulate(gn, np.arange(gn.n))
    eg = _egru_units(gn)
    np.testing.assert_allclose(raw.rec_c[:, eg], ref.c[:, eg], rtol=0, atol=TOL)
    assert np.array_equal(raw.ev_count[:, gn.names.index("a")], (ref.y[:, gn.pop_slice("a")] != 0).sum(1))


def test_evsim_run_writes_results_and_prints_the_gated_summary(tmp_path, capsys):
    """`evsim run` on an EGRU netlist: exit 0, events/sparsity/ops in the summary, an .npz Result."""
    path = tmp_path / "net.yaml"
    path.write_text(random_netlist_text(8))
    out = tmp_path / "out.npz"
    assert main(["run", str(path), "-q", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "gated engine" in text and "activity sparsity" in text and "dense MACs" in text
    r = backends.Result.load(str(out))
    res = backends.run(str(path))
    for name in res.spikes:
        np.testing.assert_array_equal(r.spikes[name][0], res.spikes[name][0])
    assert r.counters["total"]["synaptic_ops"] == res.counters["total"]["synaptic_ops"]


BAD = [
    ("port", "  - {from: x, to: h, connect: all_to_all, port: v, weight: 1.0, delay: 0 s}\n", "",
     "net.yaml:6:58: unknown port 'v' for model 'egru' (expected one of 'gates', 'u', 'r', 'z')"),
    ("width", "", "rows: [[1, 0], [0, 1, 3]]",
     "net.yaml:3:59: x.sequence.rows[1]: expected 2 values (one per element), got 3"),
    ("delay", "  - {from: x, to: h, connect: all_to_all, port: z, weight: 1.0, delay: 2 s}\n", "",
     "net.yaml:6:81: p: delays in an event-gated network are 0 (this step's events) or one step dt = 1 s "
     "(the previous step's)"),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_gated_netlists_are_refused_with_locations(case, tmp_path, capsys, monkeypatch):
    """Bad EGRU netlists: file:line:col messages, exit 2, no traceback (evsim validate and run)."""
    _, proj, seq, message = case
    seq = seq or "rows: [[1, 0], [0, 1]]"
    proj = proj.replace("{from", "{name: p, from") if proj else ""
    text = (f"time: {{steps: 3}}\npopulations:\n  x: {{size: 2, model: sequence, sequence: {{{seq}}}}}\n"
            f"  h: {{size: 3, model: egru}}\nprojections:\n{proj or '  []'}")
    if not proj:
        text = text.replace("projections:\n  []", "projections: []")
    (tmp_path / "net.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    for cmd in ("validate", "run"):
        assert main([cmd, "net.yaml"]) == 2
        err = capsys.readouterr().err
        assert message in err.splitlines(), err
        assert "Traceback" not in err


def test_egru_in_exact_mode_is_refused(tmp_path, capsys, monkeypatch):
    """An EGRU population in exact mode: a located message naming the modes it supports, exit 2."""
    (tmp_path / "net.yaml").write_text("time: {duration: 5 ms, mode: exact}\npopulations:\n"
                                       "  h: {size: 3, model: egru}\n")
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "net.yaml"]) == 2
    assert "net.yaml:3:23: model 'egru' cannot run in exact mode (it supports one of 'steps', 'grid')" in \
        capsys.readouterr().err.splitlines()


def test_compare_refuses_gated_netlists(tmp_path, capsys):
    """`evsim compare` on an EGRU netlist says there is no Brian2 translation, exit 2."""
    path = tmp_path / "net.yaml"
    path.write_text(random_netlist_text(2))
    assert main(["compare", str(path)]) == 2
    assert "no Brian2" in capsys.readouterr().err
    with pytest.raises(backends.BackendError, match="no Brian2 translation"):
        backends.run(str(path), backend="brian2")


def test_chunked_runs_and_a_small_event_log_give_the_same_run(monkeypatch):
    """Running in chunks (progress reporting) and draining a tiny event log change nothing."""
    gn = network.build(netspec.expand(random_netlist(1000, 600)))
    whole = runner.simulate(gn, np.arange(gn.n))
    calls = []
    monkeypatch.setattr(runner, "EVENT_LOG", 8)           # the log holds 2 N events: drained often
    chunked = runner.simulate(gn, np.arange(gn.n), progress=lambda *a: calls.append(a))
    assert len(calls) >= 3 and calls[-1][0] == gn.n_steps
    for x in ("ev_step", "ev_id", "ev_val", "rec_c", "rec_y", "macs", "updates", "ev_count"):
        np.testing.assert_array_equal(getattr(whole, x), getattr(chunked, x))


def test_activity_counters_of_a_dense_layer():
    """event_ops_dense_weights = events x fan-out per gate; activity reduction = dense / that."""
    text = ("seed: 5\ntime: {steps: 120}\npopulations:\n"
            "  x: {size: 6, model: sequence, sequence: {times: [0 s, 1 s, 40 s, 90 s], ids: [0, 1, 2, 5], "
            "values: [2, -1, 1.5, 3]}}\n"
            "  h: {size: 40, model: egru, params: {b_u: -1, b_z: {uniform: [-0.5, 0.6]}}}\n"
            "projections:\n"
            "  - {from: x, to: h, connect: all_to_all, port: gates, weight: {normal: {mean: 0, std: 1}}, delay: 0 s}\n"
            "  - {from: h, to: h, connect: all_to_all, port: z, weight: {normal: {mean: 0, std: 0.4}}, delay: 1 s}\n")
    res = backends.run(netspec.loads(text))
    c = res.counters["h"]
    ev_x, ev_h = res.counters["x"]["events"], c["events"]
    assert ev_h > 0
    assert c["event_ops_dense_weights"] == 3 * ev_x * 40 + ev_h * 40
    assert c["dense_ops"] == (3 * 6 * 40 + 40 * 40) * 120
    assert c["activity_reduction"] == pytest.approx(c["dense_ops"] / c["event_ops_dense_weights"])
    # all-to-all: stored synapses = dense pairs, so done = events x fan-out except the last step's
    # recurrent events (delivered after the run) and plus the initial ones (none here)
    last = int(res.spikes["h"][0].size and (res.spikes["h"][0] == 119).sum())
    assert c["synaptic_ops"] == c["event_ops_dense_weights"] - last * 40


def test_result_state_and_events_equal_the_reference():
    """backends.run's recorded c, y and event values (per population, local ids) equal the reference."""
    for seed in (5, 14):
        arrays = netspec.expand(random_netlist(seed))
        res = backends.run(arrays)
        gn = network.build(arrays)
        ref = reference.run(gn)
        for name in gn.egru_names():
            sl = gn.pop_slice(name)
            st = res.state[name]
            np.testing.assert_array_equal(st["times"], np.arange(gn.n_steps) * gn.dt)
            np.testing.assert_allclose(st["c"], ref.c[:, sl], rtol=0, atol=TOL)
            np.testing.assert_allclose(st["y"], ref.y[:, sl], rtol=0, atol=TOL)
            steps, ids = np.nonzero(ref.y[:, sl])
            np.testing.assert_array_equal(res.spikes[name][0], steps * gn.dt)
            np.testing.assert_array_equal(res.spikes[name][1], ids)
            np.testing.assert_allclose(st["event_values"], ref.y[:, sl][steps, ids], rtol=0, atol=TOL)


def test_progress_bar_labels_the_gated_engines_rate_as_synaptic_operations():
    """The bar of a steps-mode (gated) run shows synaptic operations per second, a spiking run's events per second."""
    from evsim.commands.run import ProgressBar

    for step, label in ((1e-3, "2e+03 syn. ops/s"), (None, "2e+03 events/s")):
        bar = ProgressBar(1.0, step)
        bar(0.5, 1.0, 1000, 0.5)
        assert bar.bar.postfix == label
        bar.close()


def test_gate_math_matches_numpy_and_gives_the_same_bits_vectorised_or_not():
    """The engine's exp, sigmoid and tanh are within 1 ulp / 4.5e-16 of NumPy's, the same bits in a vectorised loop and alone, and exact at the extremes."""
    import numba

    from simcore.egru import gate_math as gm

    @numba.njit
    def loop(x, e, s, t):
        for i in range(x.shape[0]):
            e[i] = gm.exp(x[i])
            s[i] = gm.sigmoid(x[i])
            t[i] = gm.tanh(x[i])

    x = np.concatenate([np.linspace(-750.0, 750.0, 300_001), np.random.default_rng(0).normal(0.0, 3.0, 100_000)])
    e, s, t = np.empty_like(x), np.empty_like(x), np.empty_like(x)
    loop(x, e, s, t)
    inside = (x >= -708.0) & (x <= 709.0)
    ref = np.exp(x[inside])
    assert np.max(np.abs(e[inside] - ref) / np.spacing(ref)) <= 1.0
    with np.errstate(over="ignore"):
        assert np.max(np.abs(s - 1.0 / (1.0 + np.exp(-x)))) <= 4.5e-16
    assert np.max(np.abs(t - np.tanh(x))) <= 4.5e-16
    alone = x[::997]
    np.testing.assert_array_equal([gm.exp(v) for v in alone], e[::997])
    np.testing.assert_array_equal([gm.tanh(v) for v in alone], t[::997])
    assert gm.sigmoid(800.0) == 1.0 and 0.0 <= gm.sigmoid(-800.0) < 1.3e-308
    assert gm.tanh(400.0) == 1.0 and gm.tanh(-400.0) == -1.0 and gm.tanh(0.0) == 0.0
    assert np.isnan(gm.exp(np.nan)) and np.isnan(gm.sigmoid(np.nan))
