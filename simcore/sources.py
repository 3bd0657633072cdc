"""Spike trains of source populations, drawn exactly as the engine draws them.

The engine generates source spikes on the fly; other consumers (the Brian2 backend, which feeds
them to a SpikeGeneratorGroup, and the reference engine in the tests) call
:func:`source_spikes` to get the identical trains.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from netspec.rng import label_key

from .columns import param_matrix, state_matrix
from .models import module as model_module
from .rng import stream_key


def population_key(seed: int, pop_name: str) -> int:
    """The random-stream key of a source population (an unsigned 64-bit integer)."""
    return label_key(seed, "population", pop_name, "spikes")


def grid_step(times: np.ndarray, dt: float) -> np.ndarray:
    """Brian2's SpikeGeneratorGroup binning: the step whose start is at or just before t."""
    return np.asarray((np.asarray(times) + 1e-3 * dt) / dt, dtype=np.int64)


def source_spikes(arrays, pop_name: str) -> tuple[np.ndarray, np.ndarray]:
    """(times, local ids) of a source population over the run, sorted by (time, id).

    In grid mode the times are the recorded step times t_n (see docs/semantics.md)."""
    net = arrays.netlist
    pop = arrays.populations[pop_name]
    duration = net.time.duration
    dt = net.time.dt if net.time.mode == "grid" else 0.0
    if pop.spike_times is not None:
        times, ids = pop.spike_times, pop.spike_ids
        if dt > 0:
            steps = grid_step(times, dt)
            times = steps * dt
        keep = times < _end(duration, dt)
        return times[keep], ids[keep]
    mod = model_module(pop.model)
    key = np.uint64(population_key(net.seed, pop_name))
    times, ids = _draw_all(mod.next_spike, state_matrix(pop), param_matrix(pop), key, _end(duration, dt), dt)
    order = np.lexsort((ids, times))
    return times[order], ids[order].astype(np.int32)


def _end(duration: float, dt: float) -> float:
    """Spikes are recorded at times below this (grid: the start of the last step)."""
    if dt > 0:
        n_steps = int(duration / dt + 0.5)
        return (n_steps - 0.5) * dt
    return duration


def _draw_all(next_spike, state, columns, key, end, dt):
    times, ids = [], []
    for i in range(state.shape[0]):
        t = _train(next_spike, state, columns, i, key, end, dt)
        times.append(t)
        ids.append(np.full(t.size, i, dtype=np.int32))
    if not times:
        return np.empty(0), np.empty(0, dtype=np.int32)
    return np.concatenate(times), np.concatenate(ids)


def _train(next_spike, state, columns, i, key, end, dt):
    return _train_kernel(next_spike, state, columns, i, key, end, dt)


@njit
def _train_kernel(next_spike, state, columns, i, pop_key, end, dt):
    out = []
    key = stream_key(pop_key, i)
    t = next_spike(state, columns, i, -math.inf, key, dt)
    while t < end:
        out.append(t)
        t = next_spike(state, columns, i, t, key, dt)
    return np.array(out, dtype=np.float64)
