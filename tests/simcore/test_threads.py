"""Running the neurons in partitions on threads changes nothing in the results."""
from __future__ import annotations

import textwrap

import numba
import numpy as np
import pytest

import backends
import netspec

# 400 Poisson sources -> 2000 lif_exp neurons (about 900 inputs per 1 ms window, so each window
# runs its partitions on the threads), recurrent connections among them so that spikes found in
# one partition reach the other, a zero-delay projection onto lif neurons (a second stage in
# every window, fed by spikes of both partitions), explicit spike times, and sampled membranes
# in both partitions
NET = """
seed: 7
time: {{duration: 300 ms, mode: {mode}, dt: 0.1 ms}}
populations:
  src: {{size: 400, model: poisson, params: {{rate: 40 Hz}}}}
  n:
    size: 2000
    model: lif_exp
    params: {{tau_m: 20 ms, tau_exc: 5 ms, tau_inh: 10 ms, e_l: -60 mV, v_th: -50 mV, v_reset: -60 mV,
              t_ref: 2 ms}}
  cue: {{size: 2, model: spike_times, spikes: [[5 ms, 50 ms, 120.05 ms], [77.7 ms]]}}
  out:
    size: 300
    model: lif
    params: {{tau_m: 10 ms, e_l: -60 mV, v_th: -50 mV, v_reset: -60 mV, t_ref: 1 ms}}
projections:
  - {{name: drive, from: src, to: n, connect: {{out_degree: 60}}, weight: 4 mV, delay: {{uniform: [1 ms, 5 ms]}},
     port: exc}}
  - {{name: rec, from: n, to: n, connect: {{out_degree: 20}}, weight: 2 mV, delay: {{uniform: [1 ms, 3 ms]}}, port: exc}}
  - {{name: inh, from: n, to: n, connect: {{out_degree: 10}}, weight: -3 mV, delay: 2 ms, port: inh}}
  - {{name: read, from: n, to: out, connect: {{out_degree: 5}}, weight: 4 mV, delay: 0 ms}}
  - {{name: kick, from: cue, to: out, connect: all_to_all, weight: 12 mV, delay: 0.5 ms}}
  - {{name: back, from: out, to: n, connect: {{out_degree: 20}}, weight: -1 mV, delay: 1 ms, port: inh}}
record:
  spikes: [n, src, out, cue]
  state: {{n: {{vars: [v, i_exc], neurons: [5, 1990], every: 1 ms}}, out: {{vars: [v], neurons: [0, 299], every: 0.5 ms}}}}
"""


def run(mode: str, threads: int):
    arrays = netspec.expand(netspec.loads(textwrap.dedent(NET.format(mode=mode))))
    return backends.run(arrays, threads=threads)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="Numba has one thread here")
@pytest.mark.parametrize("mode", ["exact", "grid"])
def test_two_threads_give_the_same_spikes_samples_and_counters_as_one(mode):
    """Spikes, samples and counters are bit-identical on one thread and on two, and the second
    run ran its neurons in partitions."""
    one = run(mode, threads=1)
    two = run(mode, threads=2)
    assert one.meta["updates_on_threads"] == 0
    assert two.meta["threads"] == 2
    assert two.meta["updates_on_threads"] > 0.5 * two.counters["n"]["neuron_updates"]
    assert sum(t.size for t, _ in one.spikes.values()) > 1000 and one.spikes["out"][0].size > 100
    assert_same_run(one, two)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="Numba has one thread here")
@pytest.mark.parametrize("mode", ["exact", "grid"])
def test_two_threads_from_one_element_buffers_give_the_same_run(monkeypatch, mode):
    """The partitions stop together at a barrier when one of them runs short of a buffer and go on
    once the runner has grown it: from one-element buffers (queue, spike logs, merge, record,
    samples: every growth path) two threads give the spikes, samples and counters of one thread
    with the default sizes."""
    import simcore.runner

    one = run(mode, threads=1)
    monkeypatch.setattr(simcore.runner, "FIRST_SIZES", dict.fromkeys(simcore.runner.FIRST_SIZES, 1))
    two = run(mode, threads=2)
    assert_same_run(one, two)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="Numba has one thread here")
@pytest.mark.parametrize("mode", ["exact", "grid"])
def test_random_networks_on_two_threads_in_one_window_chunks(monkeypatch, mode):
    """Random small networks (several models, zero-delay stages, sources, recurrence) give the
    same spikes and counters on two threads, with every buffer starting at one element and every
    call of the partitions ending after one delay window (so they leave and come back at every
    window, with spikes still to deliver), as on one thread."""
    import sys
    from pathlib import Path

    import simcore.runner

    sys.path.insert(0, str(Path(__file__).parent))
    from random_networks import random_netlist

    nets = [netspec.expand(netspec.loads(random_netlist(seed, mode=mode, duration_ms=80.0))) for seed in range(12)]
    ones = [backends.run(arrays, threads=1, engine="all") for arrays in nets]
    monkeypatch.setattr(simcore.runner, "FIRST_SIZES", dict.fromkeys(simcore.runner.FIRST_SIZES, 1))
    monkeypatch.setattr(simcore.runner, "CHUNK_SECONDS", 1e-9)
    spikes = 0
    for arrays, one in zip(nets, ones):
        two = backends.run(arrays, threads=2, engine="all")   # one engine per mode to compile
        assert two.meta["threads"] == 2
        for pop, (t, i) in one.spikes.items():
            np.testing.assert_array_equal(t, two.spikes[pop][0])
            np.testing.assert_array_equal(i, two.spikes[pop][1])
            spikes += t.size
        assert one.counters == two.counters
    assert spikes > 1000


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="Numba has one thread here")
@pytest.mark.parametrize("failing", [0, 1])
def test_a_partition_that_fails_leaves_no_thread_waiting(monkeypatch, failing):
    """When one partition's call fails (partition 0 on the calling thread, or a worker), the
    error reaches the caller and no other partition is left waiting at a barrier."""
    import threading

    from simcore.runner import Simulation

    arrays = netspec.expand(netspec.loads(textwrap.dedent(NET.format(mode="exact"))))
    sim = Simulation(arrays, threads=2)
    real = sim.engine.part_loop
    idle = sim.engine.STEP_IDLE

    def part_loop(*args):
        p, sync = args[6], args[7]
        if p == failing and sync[sim.engine.Y_STEP] != idle and sync[sim.engine.Y_BUCKET] > 50:
            raise RuntimeError("partition failed")
        return real(*args)

    monkeypatch.setattr(sim.engine, "part_loop", part_loop)
    errors = []

    def run():
        try:
            sim.run()
        except RuntimeError as e:
            errors.append(e)

    before = threading.active_count()
    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    runner.join(timeout=120)
    assert not runner.is_alive(), "the run never ended: a partition waits at a barrier"
    assert [str(e) for e in errors] == ["partition failed"]
    assert threading.active_count() == before


def assert_same_run(one, two):
    """NET's spikes, samples and counters are the same in both results."""
    for pop in ("n", "src", "out", "cue"):
        np.testing.assert_array_equal(one.spikes[pop][0], two.spikes[pop][0])
        np.testing.assert_array_equal(one.spikes[pop][1], two.spikes[pop][1])
    for pop, names in (("n", ("times", "v", "i_exc")), ("out", ("times", "v"))):
        for name in names:
            np.testing.assert_array_equal(one.state[pop][name], two.state[pop][name])
    assert one.counters == two.counters


def test_threads_must_be_a_positive_whole_number():
    """threads = 0 is refused with a message, before anything compiles."""
    arrays = netspec.expand(netspec.loads(textwrap.dedent(NET.format(mode="exact"))))
    with pytest.raises(ValueError, match="threads must be"):
        backends.run(arrays, threads=0)


# one source whose every spike makes all 10 000 neurons fire at the same instant: each partition
# fires 5000 spikes in that window, more than its spike buffer first holds (4096), so it grows
VOLLEY = """
seed: 3
time: {duration: 30 ms, mode: exact}
populations:
  src: {size: 1, model: poisson, params: {rate: 300 Hz}}
  n:
    size: 10000
    model: lif_exp
    params: {tau_m: 20 ms, tau_exc: 1 ms, e_l: 0 mV, v_th: 10 mV, v_reset: 0 mV, t_ref: 2 ms}
projections:
  - {name: volley, from: src, to: n, connect: all_to_all, weight: 200 mV, delay: 1 ms, port: exc}
record:
  spikes: [n]
"""


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="Numba has one thread here")
def test_a_window_with_more_spikes_than_a_thread_buffer_holds():
    """Windows in which every neuron fires (more spikes per thread than its buffer holds) give the
    same spikes on two threads as on one."""
    one, two = on_one_and_two_threads(VOLLEY)
    t1 = one.spikes["n"][0]
    assert t1.size >= 20000 and np.unique(t1).size < t1.size / 5000     # volleys of 10 000
    assert two.meta["updates_on_threads"] >= 20000


def on_one_and_two_threads(text: str):
    """The netlist's results on one thread and on two, after checking that their spikes and
    counters are the same."""
    arrays = netspec.expand(netspec.loads(textwrap.dedent(text)))
    one = backends.run(arrays, threads=1)
    two = backends.run(arrays, threads=2)
    for pop, (t, i) in one.spikes.items():
        np.testing.assert_array_equal(t, two.spikes[pop][0])
        np.testing.assert_array_equal(i, two.spikes[pop][1])
    assert one.counters == two.counters
    return one, two


# 6 sources at 200 Hz onto 10 000 neurons, all to all, delays spread over 1-30 ms: about 360 000
# deliveries wait in the queues at a time, 180 000 per partition, more than a partition's first
# pool of queue chunks holds (1024 chunks of 64 entries), so the queues grow while the run goes on
FLOOD = """
seed: 5
time: {duration: 100 ms, mode: exact}
populations:
  src: {size: 6, model: poisson, params: {rate: 200 Hz}}
  n:
    size: 10000
    model: lif_exp
    params: {tau_m: 20 ms, tau_exc: 5 ms, e_l: 0 mV, v_th: 10 mV, v_reset: 0 mV, t_ref: 2 ms}
projections:
  - {name: flood, from: src, to: n, connect: all_to_all, weight: 1.5 mV, delay: {uniform: [1 ms, 30 ms]}, port: exc}
record:
  spikes: [n]
"""


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="Numba has one thread here")
def test_queues_that_grow_during_the_run():
    """Partition queues that outgrow their first pool of chunks give the same spikes on two threads as on one."""
    one, _ = on_one_and_two_threads(FLOOD)
    assert one.counters["n"]["synaptic_events"] > 500_000 and one.spikes["n"][0].size > 1000
