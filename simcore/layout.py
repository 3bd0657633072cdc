"""The compiled network: an expanded netlist as the flat arrays the engine kernel reads.

Neurons are global rows of two float64 matrices, ``state`` (the models' state variables) and
``params`` (each model's COLUMNS: parameters and derived constants). Synapses are stored per
projection in CSR order by source, sorted by delay inside each row, so that expanding a spike
walks one contiguous row and can stop at the first delivery beyond the end of the run.
A weight or delay that is the same for all of a projection's synapses is stored once.

Memory per synapse: int32 target + weight (8, 4 with precision single, 0 if constant) +
delay (8 in exact mode, 4 in grid mode as int32 steps, 0 if constant).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from netspec import GRID
from netspec.graph import processing_order

from .columns import param_matrix, state_matrix
from .models import module as model_module
from .sources import population_key

NEURON_KIND, GENERATOR_KIND, LIST_KIND = 0, 1, 2
#: prediction horizon: a neuron that may cross threshold later than this is looked at again
#: then (cheaper than solving for a crossing far in the future that the next input will move)
DEFAULT_HORIZON = 5e-3


class Cfg(NamedTuple):
    """The engine's scalars."""

    n: int                      # neurons (sources included)
    grid: bool
    dt: float                   # grid step (grid mode), else 0
    t_end: float                # events at or after this time are not simulated
    width: float                # bucket width (seconds): the minimum positive delay
    ticks_per_bucket: int       # grid mode: bucket width in steps
    n_slots: int                # calendar ring size
    horizon: float              # prediction horizon (seconds)
    n_stages: int               # zero-delay stages
    batch: bool                 # exact mode: common neuron updates in SIMD batches (flush_batch)


class Net(NamedTuple):
    """Static arrays of a compiled network; column meanings are the constants of
    engine_template.py (P_*, J_*, JF_*)."""

    pop_i: np.ndarray           # int64 (P, 7): offset, model, kind, stage, record, first/last+1 in pop_proj
    pop_key: np.ndarray         # uint64 (P): random-stream key
    neuron_pop: np.ndarray      # int32 (N)
    params: np.ndarray          # float64 (rows, PC): per population if uniform, else per neuron
    prow: np.ndarray            # int64 (N): each neuron's row in params
    model_jumps: np.ndarray     # bool (M): inputs make the threshold function jump
    model_lowered: np.ndarray   # bool (M): an input of weight <= 0 never brings a crossing earlier
    pop_proj: np.ndarray        # int64: projections leaving each population
    proj_i: np.ndarray          # int64 (Q, 8): port, row-0 source, indptr offset, synapse offset,
                                #   weight constant?, delay constant?, weight offset, delay offset
    proj_f: np.ndarray          # float64 (Q, 2): the constant weight, the constant delay
    indptr: np.ndarray          # int64: CSR rows of every projection, one after another
    syn_target: np.ndarray      # int32
    syn_weight: np.ndarray      # float64 or float32 (projections with varying weights)
    syn_delay: np.ndarray       # float64 seconds (exact mode, varying delays)
    syn_steps: np.ndarray       # int32 steps (grid mode, varying delays)
    src_ptr: np.ndarray         # int64 (N+1): listed source spikes per neuron
    src_times: np.ndarray       # float64: their event times (grid: the point they act at)
    rec_neuron: np.ndarray      # int64 (R): the neuron of each sampling slot
    rec_group: np.ndarray       # int64 (R): the slot's record entry
    rec_every: np.ndarray       # float64 (G): sampling interval per record entry
    rec_var_ptr: np.ndarray     # int64 (G+1) into rec_vars
    rec_vars: np.ndarray        # int64: state columns sampled


class Layout(NamedTuple):
    cfg: Cfg
    net: Net
    state0: np.ndarray          # float64 (N, SC)
    model_names: tuple          # dispatch order
    stages: list                # population names per stage
    synapse_order: list         # per projection: index into the expanded arrays of each CSR synapse
    bytes_per_synapse: float
    # for a run on partitions (threads): row r's synapses onto partition p's neurons are
    # syn_ptr[r, p] <= s < syn_ptr[r, p + 1] (indptr's numbering); (0, 0) for one partition
    syn_ptr: np.ndarray


def partition_bounds(n: int, parts: int) -> np.ndarray:
    """The first neuron of each of ``parts`` consecutive blocks of n neurons, then n."""
    return np.array([p * n // parts for p in range(parts + 1)], dtype=np.int64)


def bucket_width(arrays, grid: bool, dt: float) -> tuple[float, int]:
    """The calendar's bucket width: the smallest positive delay (a spike in one bucket can only
    reach later buckets). Grid mode: in whole steps."""
    positive = [float(p.delay[p.delay > 0].min()) for p in arrays.projections if p.size and np.any(p.delay > 0)]
    if grid:
        steps = [int(d / dt + 0.5) for d in positive]
        w = max(1, min(steps)) if steps else max(1, int(round(1e-3 / dt)))
        return w * dt, w
    if positive:
        return min(positive), 0
    return min(arrays.netlist.time.duration, 1e-3), 0


def build(arrays, model_names: tuple, horizon: float = DEFAULT_HORIZON, parts: int = 1,
          batch_updates: bool = True) -> Layout:
    """Compiles an expanded netlist for an engine whose dispatch holds ``model_names``, to run on
    ``parts`` partitions (partition_bounds): with more than one, each CSR row is grouped by the
    partition of its targets (sorted by delay within a group), so that a partition reads only
    its own synapses. ``batch_updates``: exact mode takes the common neuron updates of models
    that provide one in SIMD batches (update_batch, with an exponential within one ulp of libm's:
    spike times can differ from the one-at-a-time path's in the last bits; docs/engine.md)."""
    net_spec = arrays.netlist
    t = net_spec.time
    grid = t.mode == GRID
    dt = t.dt if grid else 0.0
    pops = list(arrays.populations.values())
    n = sum(p.size for p in pops)
    P = len(pops)
    pop_index = {p.name: k for k, p in enumerate(pops)}
    offsets = np.array([p.offset for p in pops] + [n], dtype=np.int64)
    bounds = partition_bounds(n, parts)

    mods = [model_module(p.model) for p in pops]
    pc = max([len(m.COLUMNS) for m in mods] + [1])
    sc = max([len(m.MODEL.state) for m in mods] + [1])
    # one parameter row per population whose parameters are uniform (it stays in cache), one per
    # neuron where they vary; prow maps each neuron to its row
    rows = []
    prow = np.zeros(n, dtype=np.int64)
    state0 = np.zeros((n, sc))
    n_rows = 0
    for p, m in zip(pops, mods):
        pm = param_matrix(p)
        full = np.zeros((pm.shape[0], pc))
        full[:, :pm.shape[1]] = pm
        if p.size and np.all(full == full[0]):
            rows.append(full[:1])
            prow[p.offset:p.offset + p.size] = n_rows
            n_rows += 1
        else:
            rows.append(full)
            prow[p.offset:p.offset + p.size] = n_rows + np.arange(p.size)
            n_rows += p.size
        sm = state_matrix(p)
        state0[p.offset:p.offset + p.size, :sm.shape[1]] = sm
    params = np.ascontiguousarray(np.concatenate(rows)) if rows else np.zeros((0, pc))
    kinds = np.array([LIST_KIND if p.spike_times is not None else
                      (GENERATOR_KIND if hasattr(m, "next_spike") else NEURON_KIND) for p, m in zip(pops, mods)],
                     dtype=np.int64)
    model_idx = np.array([model_names.index(p.model) for p in pops], dtype=np.int64)

    stages = processing_order(net_spec, arrays.delay_ranges())
    stage_of = {name: s for s, names in enumerate(stages) for name in names}
    pop_stage = np.array([stage_of[p.name] for p in pops], dtype=np.int64)
    neuron_pop = np.repeat(np.arange(P, dtype=np.int32), [p.size for p in pops])

    width, ticks = bucket_width(arrays, grid, dt)
    if grid:
        n_steps = int(t.duration / dt + 0.5)
        t_end = (n_steps + 0.5) * dt     # event times are grid points 0..n_steps
        horizon = max(horizon, width)
        horizon = math.ceil(horizon / width) * width
    else:
        t_end = t.duration
        horizon = max(horizon, width)

    # synapses: per projection CSR by global source, rows sorted by delay
    q_port, q_lo, q_ioff, q_soff, q_wc, q_wic, q_dc, q_dic, q_woff, q_doff = ([] for _ in range(10))
    w_off = 0
    d_off = 0
    indptrs, targets, weights, delays, steps, orders, syn_ptrs = [], [], [], [], [], [], []
    syn_off = 0
    ind_off = 0
    max_delay = 0.0
    w_dtype = np.float32 if net_spec.precision == "single" else np.float64
    for proj in arrays.projections:
        pre = proj.pre.astype(np.int64)
        lo = int(min(offsets[pop_index[n_]] for n_ in proj.pre_pops))
        hi = int(max(offsets[pop_index[n_] + 1] for n_ in proj.pre_pops))
        d = np.asarray(proj.delay, dtype=np.float64)
        d_steps = np.asarray(d / dt + 0.5, dtype=np.int64) if grid else None
        key = d_steps if grid else d
        keys = (np.arange(pre.size), key, pre)
        if parts > 1:
            part = np.searchsorted(bounds, proj.post, side="right") - 1
            keys = (np.arange(pre.size), key, part, pre)
        order = np.lexsort(keys) if pre.size else np.zeros(0, np.int64)
        counts = np.bincount(pre - lo, minlength=hi - lo) if pre.size else np.zeros(hi - lo, np.int64)
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        if parts > 1:
            in_part = np.bincount((pre - lo) * parts + part, minlength=(hi - lo) * parts).reshape(-1, parts)
            ptr = np.empty((hi - lo + 1, parts + 1), dtype=np.int64)
            ptr[:, 0] = indptr
            ptr[:-1, 1:] = indptr[:-1, None] + np.cumsum(in_part, axis=1)
            ptr[-1, 1:] = indptr[-1]
            syn_ptrs.append(ptr)
        w = np.asarray(proj.weight)
        w_const = proj.size > 0 and (w.strides[0] == 0 or np.all(w == w[0]))
        d_const = proj.size > 0 and (d.strides[0] == 0 or np.all(d == d[0]))
        q_port.append(model_port(arrays, proj))
        q_lo.append(lo)
        q_ioff.append(ind_off)
        q_soff.append(syn_off)
        q_wc.append(float(w[0]) if w_const else 0.0)
        q_wic.append(bool(w_const))
        if grid:
            q_dc.append(float(d_steps[0]) if d_const else 0.0)
        else:
            q_dc.append(float(d[0]) if d_const else 0.0)
        q_dic.append(bool(d_const))
        q_woff.append(w_off)
        q_doff.append(d_off)
        indptrs.append(indptr)
        targets.append(proj.post[order].astype(np.int32))
        if not w_const:
            weights.append(np.ascontiguousarray(w[order]).astype(w_dtype))
            w_off += proj.size
        if not d_const:
            if grid:
                steps.append(d_steps[order].astype(np.int32))
            else:
                delays.append(d[order])
            d_off += proj.size
        orders.append(order)
        if proj.size:
            max_delay = max(max_delay, float(d.max()))
        syn_off += proj.size
        ind_off += indptr.size
    n_syn = syn_off
    cat = (lambda xs, dt_: np.concatenate(xs).astype(dt_) if xs else np.zeros(0, dt_))

    pop_projs = [[q for q, proj in enumerate(arrays.projections) if p.name in proj.pre_pops] for p in pops]
    pop_proj_ptr = np.concatenate([[0], np.cumsum([len(x) for x in pop_projs])]).astype(np.int64)
    pop_proj = np.array([q for x in pop_projs for q in x], dtype=np.int64)

    src_ptr, src_times = _listed_sources(pops, n, grid, dt, t_end)

    rec_neuron, rec_group, rec_every, rec_var_ptr, rec_vars = _recording(arrays, pop_index, offsets, grid, dt)

    n_slots = int(math.ceil((max_delay + horizon) / width)) + 3
    n_slots = 1 << (n_slots - 1).bit_length()    # a power of two: the ring index is a mask, not a division
    pop_i = np.zeros((P, 7), dtype=np.int64)
    pop_i[:, 0] = offsets[:-1]
    pop_i[:, 1] = model_idx
    pop_i[:, 2] = kinds
    pop_i[:, 3] = pop_stage
    pop_i[:, 4] = [p.name in net_spec.record.spikes for p in pops]
    pop_i[:, 5] = pop_proj_ptr[:-1]
    pop_i[:, 6] = pop_proj_ptr[1:]
    proj_i = np.array([q_port, q_lo, q_ioff, q_soff, q_wic, q_dic, q_woff, q_doff], dtype=np.int64).T.reshape(-1, 8)
    proj_f = np.array([q_wc, q_dc], dtype=np.float64).T.reshape(-1, 2)
    cfg = Cfg(n=n, grid=grid, dt=float(dt), t_end=float(t_end), width=float(width), ticks_per_bucket=int(ticks),
              n_slots=n_slots, horizon=float(horizon), n_stages=len(stages),
              batch=bool(batch_updates) and not grid)
    net = Net(
        pop_i=pop_i,
        pop_key=np.array([population_key(net_spec.seed, p.name) for p in pops], dtype=np.uint64),
        neuron_pop=neuron_pop, params=params, prow=prow,
        model_jumps=np.array([bool(getattr(model_module(m), "JUMPS_ON_INPUT", False)) for m in model_names]),
        model_lowered=np.array([bool(getattr(model_module(m), "LOWERED_BY_NEGATIVE_INPUT", False))
                                for m in model_names]),
        pop_proj=pop_proj, proj_i=np.ascontiguousarray(proj_i), proj_f=np.ascontiguousarray(proj_f),
        indptr=cat(indptrs, np.int64), syn_target=cat(targets, np.int32),
        syn_weight=cat(weights, w_dtype), syn_delay=cat(delays, np.float64), syn_steps=cat(steps, np.int32),
        src_ptr=src_ptr, src_times=src_times,
        rec_neuron=rec_neuron, rec_group=rec_group, rec_every=rec_every, rec_var_ptr=rec_var_ptr, rec_vars=rec_vars,
    )
    syn_ptr = np.concatenate(syn_ptrs) if syn_ptrs else np.zeros((0, 0), dtype=np.int64)
    syn_bytes = (net.syn_target.nbytes + net.syn_weight.nbytes + net.syn_delay.nbytes + net.syn_steps.nbytes
                 + syn_ptr.nbytes)
    return Layout(cfg, net, state0, tuple(model_names), stages, orders, syn_bytes / n_syn if n_syn else 0.0,
                  syn_ptr)


def model_port(arrays, proj) -> int:
    """Index of the projection's port among its target model's ports."""
    model = model_module(arrays.populations[proj.post_pops[0]].model).MODEL
    return list(model.ports).index(proj.port)


def _listed_sources(pops, n, grid, dt, t_end):
    """Per-neuron sorted event times of spike_times sources (grid: the point they act at)."""
    counts = np.zeros(n, dtype=np.int64)
    chunks = []
    for p in pops:
        if p.spike_times is None:
            continue
        times = np.asarray(p.spike_times, dtype=np.float64)
        ids = np.asarray(p.spike_ids, dtype=np.int64)
        if grid:
            step = np.asarray((times + 1e-3 * dt) / dt, dtype=np.int64)
            times = (step + 1) * dt              # recorded at t_n, acting at point n + 1
        keep = times < t_end
        times, ids = times[keep], ids[keep]
        g = ids + p.offset
        counts += np.bincount(g, minlength=n)
        chunks.append((g, times))
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    out = np.zeros(int(ptr[-1]))
    if chunks:
        g = np.concatenate([c[0] for c in chunks])
        tt = np.concatenate([c[1] for c in chunks])
        order = np.lexsort((tt, g))
        out[:] = tt[order]
    return ptr, out


def _recording(arrays, pop_index, offsets, grid, dt):
    rec = arrays.netlist.record
    neurons, groups, every, var_ptr, var_cols = [], [], [], [0], []
    for g, entry in enumerate(rec.state):
        pop = arrays.populations[entry.population]
        mod = model_module(pop.model)
        names = list(mod.MODEL.state)
        idx = range(pop.size) if entry.neurons is None else entry.neurons
        neurons.extend(int(offsets[pop_index[pop.name]]) + int(i) for i in idx)
        groups.extend([g] * len(idx))
        every.append(entry.every if entry.every is not None else (dt if grid else 1e-4))
        var_cols.extend(names.index(v) for v in entry.vars)
        var_ptr.append(len(var_cols))
    return (np.array(neurons, dtype=np.int64), np.array(groups, dtype=np.int64), np.array(every, dtype=np.float64),
            np.array(var_ptr, dtype=np.int64), np.array(var_cols, dtype=np.int64))
