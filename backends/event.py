"""The `event` backend: evsim's own compiled event-driven engine (simcore)."""
from __future__ import annotations

import contextlib
import platform
import time

import numpy as np

from .result import Result

#: nominal step for counting the work a clock-driven simulator would do in exact mode
NOMINAL_DT = 1e-4


def run(arrays, progress=None, horizon: float | None = None, engine: str = "auto",
        threads: int | None = None, batch_updates: bool = True) -> Result:
    """Simulates an expanded netlist. ``progress(sim_time, t_end, events, wall)`` is called as
    the run goes on. An interrupted run (Ctrl-C, SIGTERM) returns what was simulated so far,
    with ``meta['partial']`` true. ``engine``, ``threads``: which compiled engine, on how many
    threads (simcore.runner.Simulation; default one; event-gated networks: Numba's thread
    count by default, see simcore/egru). ``batch_updates=False``: every neuron update one at a
    time (simcore.layout.build)."""
    from simcore.egru.network import is_gated
    from simcore.runner import Simulation, numba_threads

    if is_gated(arrays.netlist):            # event-gated units (EGRU): the discrete-step gated engine
        from simcore.egru.runner import run as run_gated

        with contextlib.nullcontext() if threads is None else numba_threads(threads):
            return run_gated(arrays, progress=progress)

    t0 = time.perf_counter()
    sim = Simulation(arrays, horizon=horizon, engine=engine, threads=1 if threads is None else threads,
                     batch_updates=batch_updates)
    build_seconds = time.perf_counter() - t0
    raw = sim.run(progress)
    return to_result(arrays, raw, build_seconds)


def to_result(arrays, raw, build_seconds: float = 0.0) -> Result:
    net = arrays.netlist
    lay = raw.layout
    pops = list(arrays.populations.values())
    spikes = {}
    for p in pops:
        if p.name not in net.record.spikes:
            continue
        sel = (raw.spike_ids >= p.offset) & (raw.spike_ids < p.offset + p.size)
        t = raw.spike_times[sel]
        i = (raw.spike_ids[sel] - p.offset).astype(np.int32)
        order = np.lexsort((i, t))
        spikes[p.name] = (t[order], i[order])
    state = _samples(arrays, lay, raw)
    counters = _counters(arrays, raw)
    import numba

    meta = {
        "backend": "event", "netlist": net.name, "mode": net.time.mode, "dt": net.time.dt,
        "duration": net.time.duration, "simulated": raw.simulated, "partial": raw.partial,
        "seed": net.seed, "wall_seconds": raw.wall_seconds, "compile_seconds": raw.compile_seconds,
        "build_seconds": build_seconds, "numba": numba.__version__, "numpy": np.__version__,
        "python": platform.python_version(), "bucket_width": lay.cfg.width, "n_slots": lay.cfg.n_slots,
        "bytes_per_synapse": lay.bytes_per_synapse, "engine_models": list(lay.model_names),
        "threads": raw.threads, "updates_on_threads": raw.updates_on_threads,
    }
    return Result("event", spikes, state, counters, meta)


def _samples(arrays, lay, raw) -> dict:
    net = lay.net
    out = {}
    rec = arrays.netlist.record.state
    # values are stored per sample as the group's variables, in the order taken
    widths = np.diff(net.rec_var_ptr)
    slot_width = widths[net.rec_group[raw.sample_slot]] if raw.sample_slot.size else np.zeros(0, np.int64)
    starts = np.concatenate([[0], np.cumsum(slot_width)])[:-1].astype(np.int64)
    for g, entry in enumerate(rec):
        pop = arrays.populations[entry.population]
        slots = np.flatnonzero(net.rec_group == g)
        neurons = net.rec_neuron[slots] - pop.offset
        sel = np.flatnonzero(np.isin(raw.sample_slot, slots))
        times = np.unique(raw.sample_time[sel])
        col = {int(s): c for c, s in enumerate(slots)}
        row = np.searchsorted(times, raw.sample_time[sel])
        values = {v: np.full((times.size, slots.size), np.nan) for v in entry.vars}
        for k, e in enumerate(sel):
            c = col[int(raw.sample_slot[e])]
            for vi, v in enumerate(entry.vars):
                values[v][row[k], c] = raw.sample_values[starts[e] + vi]
        out[entry.population] = {"times": times, "neurons": neurons.astype(np.int32), **values}
    return out


def _counters(arrays, raw) -> dict:
    net = arrays.netlist
    dt = net.time.dt if net.time.mode == "grid" else NOMINAL_DT
    t = raw.simulated
    steps = t / dt if dt else 0.0
    syn_in = {p: 0 for p in arrays.populations}
    for proj in arrays.projections:
        if len(proj.post_pops) == 1:
            syn_in[proj.post_pops[0]] += proj.size
        else:
            for name in proj.post_pops:
                pop = arrays.populations[name]
                syn_in[name] += int(np.count_nonzero((proj.post >= pop.offset) & (proj.post < pop.offset + pop.size)))
    out = {}
    tot = {"spikes": 0, "synaptic_events": 0, "neuron_updates": 0, "dense_neuron_updates": 0.0,
           "dense_synaptic_ops": 0.0, "neurons": 0}
    for k, (name, pop) in enumerate(arrays.populations.items()):
        spikes, deliveries, updates = (int(x) for x in raw.counters[k, :3])
        dense_updates = pop.size * steps
        c = {
            "neurons": pop.size, "spikes": spikes, "rate_hz": spikes / (pop.size * t) if t else 0.0,
            "synaptic_events": deliveries, "neuron_updates": updates,
            "activity_sparsity": 1.0 - spikes / dense_updates if dense_updates else 1.0,
            "dense_neuron_updates": dense_updates, "dense_synaptic_ops": syn_in[name] * steps,
        }
        out[name] = c
        for key in tot:
            tot[key] += c[key]
    tot["rate_hz"] = tot["spikes"] / (tot["neurons"] * t) if t else 0.0
    tot["activity_sparsity"] = 1.0 - tot["spikes"] / tot["dense_neuron_updates"] if tot["dense_neuron_updates"] else 1.0
    tot["step_for_dense_counts"] = dt
    out["total"] = tot
    return out
