"""Central finite differences: the oracle the other estimators are tested against.

Every parameter is moved by +-h and the batch is simulated again, on any backend: ``eventprop``
(the compact forward pass of eventprop.py), ``event`` (the main engine, through
``backends.run``) or ``brian2`` (grid mode only, so only a smoke test there: a grid quantises
spike times). A parameter whose perturbation creates or removes a spike (any trial, any
neuron) has no derivative there; it is reported as unreliable (NaN) rather than guessed.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .eventprop import Spikes, Trials, forward

#: default steps: delays in seconds, weights in the unit of the port (volts)
STEPS = {"weight": 1e-6, "delay": 1e-8}


def simulate(net, trials: Trials, backend: str = "eventprop", max_spikes: int = 4096) -> Spikes:
    """The batch's spikes (input spikes included) on a backend, as a :class:`Spikes`."""
    if backend == "eventprop":
        return forward(net, trials, max_spikes)
    import backends  # an upper layer, imported only when a backend is asked for

    rows = []
    for b in range(trials.n):
        arrays = expanded_with(net, trials, b)
        res = backends.run(arrays, backend=backend)
        ts, ns = [], []
        for name, (t, i) in res.spikes.items():
            pop = arrays.populations[name]
            ts.append(np.asarray(t, dtype=np.float64))
            ns.append(np.asarray(i, dtype=np.int64) + pop.offset)
        t = np.concatenate(ts) if ts else np.zeros(0)
        n = np.concatenate(ns) if ns else np.zeros(0, np.int64)
        o = np.lexsort((n, t))
        rows.append((t[o], n[o]))
    cap = max([r[0].size for r in rows] + [1])
    B = trials.n
    out = Spikes(np.zeros((B, cap)), np.zeros((B, cap), np.int32), np.zeros((B, cap)), np.zeros((B, cap)),
                 np.zeros((B, cap)), np.zeros((B, cap)), np.zeros(B, np.int64), np.zeros(B, np.int64))
    for b, (t, n) in enumerate(rows):
        out.t[b, :t.size] = t
        out.n[b, :t.size] = n
        out.count[b] = t.size
    return out


def expanded_with(net, trials: Trials, b: int):
    """The network's expanded netlist with its current weights and delays and trial b's input
    spikes in place of the source populations' own (every source population's spikes are
    replaced: those with no spike in the trial get none)."""
    ex = net.expanded
    pops = {}
    lo, hi = trials.ptr[b], trials.ptr[b + 1]
    t, ids = trials.times[lo:hi], trials.ids[lo:hi]
    for name, pop in ex.populations.items():
        if pop.model == "spike_times":
            sel = (ids >= pop.offset) & (ids < pop.offset + pop.size)
            tt, ii = t[sel], (ids[sel] - pop.offset).astype(np.int32)
            o = np.lexsort((ii, tt))
            pop = dataclasses.replace(pop, spike_times=tt[o].copy(), spike_ids=ii[o].copy())
        pops[name] = pop
    projs = []
    for p in ex.projections:
        sl = net.slices[p.name]
        projs.append(dataclasses.replace(p, weight=net.weight[sl].astype(p.weight.dtype),
                                         delay=net.delay[sl].astype(p.delay.dtype)))
    return dataclasses.replace(ex, populations=pops, projections=projs)


def finite_difference(net, objective, indices: dict, steps: dict | None = None, progress=None) -> dict:
    """Central differences of ``objective(net) -> (value, signature)`` for the synapses
    ``indices[group]`` (group 'weight' or 'delay', global synapse indices). Returns
    group -> array of derivatives, NaN where the perturbation changed the signature (the spike
    counts: a spike appeared or vanished). ``net`` is restored afterwards."""
    steps = {**STEPS, **(steps or {})}
    _, sig0 = objective(net)
    out = {}
    for group, idx in indices.items():
        arr = net.weight if group == "weight" else net.delay
        h = steps[group]
        g = np.full(len(idx), np.nan)
        for q, s in enumerate(idx):
            x0 = arr[s]
            try:
                arr[s] = x0 + h
                if group == "delay":
                    net.reorder()
                fp, sp = objective(net)
                arr[s] = x0 - h
                if group == "delay":
                    net.reorder()
                fm, sm = objective(net)
            finally:
                arr[s] = x0
                if group == "delay":
                    net.reorder()
            if np.array_equal(sp, sig0) and np.array_equal(sm, sig0):
                g[q] = (fp - fm) / (2.0 * h)
            if progress is not None:
                progress(1)
        out[group] = g
    return out
