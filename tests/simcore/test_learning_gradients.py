"""EventProp against central finite differences and the main engine, on random small lif_exp networks."""
from __future__ import annotations

import numpy as np
import pytest

import backends
from learning_nets import SpikeTimeLoss, build, random_netlist
from simcore.learning import eventprop as ep
from simcore.learning import estimators
from simcore.learning.losses import Layout, TrainLoss

CASES = [(seed, rec, tref) for seed in range(3) for rec in (False, True) for tref in (True, False)]


def engine_spikes(net, trials):
    """Spikes of the main engine on the same network and inputs, as sorted (time, neuron) pairs."""
    from simcore.learning.finite_difference import expanded_with

    arrays = expanded_with(net, trials, 0)
    res = backends.run(arrays)
    out = []
    for name, (t, i) in res.spikes.items():
        pop = arrays.populations[name]
        if pop.model != "spike_times":
            out += [(float(a), int(b) + pop.offset) for a, b in zip(t, i)]
    return sorted(out)


@pytest.mark.parametrize("seed,recurrent,t_ref", CASES)
def test_forward_equals_main_engine(seed, recurrent, t_ref):
    """The compact EventProp forward pass fires the main engine's spikes (same neurons, times within 1e-10 s)."""
    net, trials = build(random_netlist(seed, recurrent, t_ref))
    sp = ep.forward(net, trials)
    t, n = sp.trial(0)
    mine = sorted((float(a), int(b)) for a, b in zip(t, n) if not net.is_source[b])
    theirs = engine_spikes(net, trials)
    assert len(mine) == len(theirs) and len(mine) > 5
    assert all(a[1] == b[1] and abs(a[0] - b[0]) < 1e-10 for a, b in zip(mine, theirs))


def _compare(net, trials, loss, layout=None, labels=(0,), backend="eventprop"):
    g = estimators.eventprop_gradient(net, layout, loss, trials, labels)
    f = estimators.fd_gradient(net, layout, loss, trials, labels, backend=backend)
    ew, nw = estimators.relative_error(g.weight, f.weight)
    ed, nd = estimators.relative_error(g.delay, f.delay)
    return ew, ed, nw, nd, g


@pytest.mark.parametrize("seed,recurrent,t_ref", CASES)
def test_eventprop_matches_finite_differences(seed, recurrent, t_ref):
    """Weight and delay gradients of a loss on every spike time agree with central differences to 1e-6."""
    net, trials = build(random_netlist(seed, recurrent, t_ref))
    loss = SpikeTimeLoss(net.n, seed)
    ew, ed, nw, nd, g = _compare(net, trials, loss)
    counts = g.evaluation.counts[0][~net.is_source.astype(bool)]
    assert counts.max() >= 2                      # several spikes per neuron
    assert nw > 0.9 * net.n_syn and nd > 0.9 * net.n_syn
    assert ew < 1e-6 and ed < 1e-6, (ew, ed)


def test_eventprop_matches_finite_differences_on_main_engine():
    """The oracle run on the main engine (backends.run) agrees with EventProp as well."""
    net, trials = build(random_netlist(7, True, True, sizes=(4, 3), n_in=3))
    loss = SpikeTimeLoss(net.n, 7)
    ew, ed, nw, nd, _ = _compare(net, trials, loss, backend="event")
    assert nw > 0.8 * net.n_syn and ew < 1e-6 and ed < 1e-6, (ew, ed)


@pytest.mark.parametrize("seed", range(4))
def test_max_over_time_readout_gradients(seed):
    """Max-over-time membrane readout with cross-entropy (kinks from inhibitory inputs included) matches finite differences."""
    net, trials = build(random_netlist(seed, seed % 2 == 1, True, sizes=(5,), readout=3))
    layout = Layout.of(net, "out", ["h0"])
    loss = TrainLoss("max_v", scale=0.5)
    ew, ed, nw, nd, g = _compare(net, trials, loss, layout, labels=(1,))
    assert g.evaluation.readouts.v.size == 3
    assert ew < 1e-6 and ed < 1e-6, (ew, ed)


@pytest.mark.parametrize("seed", range(3))
def test_ttfs_loss_and_regularisers_gradients(seed):
    """Time-to-first-spike cross-entropy with the early-spike term and both regularisers matches finite differences."""
    text = random_netlist(seed, False, True, sizes=(8, 3))
    net, trials = build(text)
    layout = Layout.of(net, "h1", ["h0"])
    loss = TrainLoss("ttfs", tau0=2e-3, tau1=20e-3, alpha=0.05, reg_silent=0.3, reg_upper=0.2, target_spikes=1)
    ew, ed, nw, nd, g = _compare(net, trials, loss, layout, labels=(2,))
    assert ew < 1e-6 and ed < 1e-6, (ew, ed)


def test_silent_regulariser_sees_silent_neurons():
    """A hidden neuron that never fires gets a gradient through its membrane maximum."""
    text = random_netlist(3, False, True, sizes=(6, 3)).replace("v_th: 1 V", "v_th: 3 V", 1)
    net, trials = build(text)
    layout = Layout.of(net, "h1", ["h0"])
    loss = TrainLoss("ttfs", reg_silent=1.0)
    spikes = ep.forward(net, trials)
    ev = loss.evaluate(net, layout, spikes, [0])
    assert ev.readouts.v.size > 0 and np.all(ev.dl_dv < 0)
    ew, ed, *_ = _compare(net, trials, loss, layout)
    assert ew < 1e-6 and ed < 1e-6
