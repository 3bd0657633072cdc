"""Running an event-gated netlist on the gated engine: buffers, chunks, counters, the Result.

    raw = simulate(build(arrays))          # the engine's output and counters
    result = run(arrays)                   # a backends.Result (what backends/event.py returns)

Counters (per EGRU population, and "total"), the quantities the event-based literature reports:

- ``events``, ``events_per_step`` (a list), ``activity_sparsity`` = 1 - events / (units x steps);
- ``unit_updates`` (units computed in full) against ``dense_unit_updates`` (units x steps), and
  ``closed_form_catchups`` (silent stretches skipped in one step);
- synaptic operations (multiply-accumulates) into the population's gates:
  ``synaptic_ops`` (done: one per stored synapse of each event, activity and parameter sparsity),
  ``dense_ops`` (a dense GRU step of the same projections: n_pre x n_post per gate and step),
  ``dense_ops_sparse_weights`` (every step, stored synapses only: parameter sparsity alone),
  ``event_ops_dense_weights`` (events x full rows: activity sparsity alone), and the reductions
  ``activity_reduction``, ``parameter_reduction`` and ``combined_reduction`` (dense / done).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numba
import numpy as np

from .engine import PARALLEL_MACS, init_wakes, run_steps
from .network import EGRU, SEQUENCE, GatedNet, build, silent_constants

#: events the log holds before it is drained (a chunk stops early rather than overflow)
EVENT_LOG = 1 << 20


@dataclass
class Raw:
    gn: GatedNet
    steps_done: int
    partial: bool
    ev_step: np.ndarray
    ev_id: np.ndarray          # global unit index
    ev_val: np.ndarray
    ev_count: np.ndarray       # (n_steps, n_pops)
    macs: np.ndarray           # per population (target side)
    updates: np.ndarray
    catchups: np.ndarray
    rec_units: np.ndarray
    rec_c: np.ndarray          # (steps, n_rec)
    rec_y: np.ndarray
    wall_seconds: float
    compile_seconds: float
    c: np.ndarray              # final state
    tl: np.ndarray             # step of each unit's stored state


_compiled = False


def _compile() -> float:
    """Compiles (or loads from Numba's cache) the kernels once per process; returns the seconds spent."""
    global _compiled
    if _compiled:
        return 0.0
    t0 = time.perf_counter()
    from .network import Csr  # noqa: F401  (a tiny network of one unit runs every branch's types)

    gn = _tiny()
    _simulate(gn, np.zeros(0, np.int64), None, warm=True)
    _compiled = True
    return time.perf_counter() - t0


def _tiny():
    import netspec

    net = netspec.loads("time: {steps: 2}\npopulations:\n  x: {size: 1, model: sequence, sequence: {rows: [[1.0]]}}\n"
                        "  h: {size: 1, model: egru}\nprojections:\n  - {from: x, to: h, connect: all_to_all, "
                        "weight: 1.0}\n  - {from: h, to: h, connect: all_to_all, weight: 1.0, delay: 1}\n")
    return build(netspec.expand(net))


def simulate(gn: GatedNet, record_units=None, progress=None, par_macs: int = PARALLEL_MACS) -> Raw:
    """Runs the network; ``record_units`` (global indices) have c and y kept every step.
    ``progress(step, n_steps, events, wall)`` is called between chunks. Ctrl-C stops the run
    between chunks and returns what was simulated (``partial``). Batches of at least
    ``par_macs`` dense multiply-adds are split over Numba's threads (NUMBA_NUM_THREADS); the
    result does not depend on the number of threads."""
    compile_seconds = _compile()
    rec = np.asarray(record_units if record_units is not None else [], dtype=np.int64)
    raw = _simulate(gn, rec, progress, par_macs=par_macs)
    raw.compile_seconds = compile_seconds
    return raw


def _simulate(gn: GatedNet, rec, progress, warm=False, par_macs: int = PARALLEL_MACS) -> Raw:
    n, n_pop, T = gn.n, len(gn.names), gn.n_steps
    us, zs, q = silent_constants(gn)
    bu, br, bz = (np.ascontiguousarray(gn.b[:, g]) for g in range(3))
    c = gn.c0.astype(np.float64).copy()
    tl = np.full(n, -1, dtype=np.int64)
    yp = gn.y0.astype(np.float64).copy()
    acc = np.zeros(3 * n)
    pop_all = np.full(n_pop, -1, dtype=np.int64)
    pop_hot = np.full(n_pop, -5, dtype=np.int64)
    tmark = np.full(n, -1, dtype=np.int64)
    tlist = np.zeros(max(n, 1), dtype=np.int64)
    tcount = np.zeros(n_pop, dtype=np.int64)
    whead = np.full(T + 1, -1, dtype=np.int64)
    wnext = np.full(n, -1, dtype=np.int64)
    wprev = np.full(n, -1, dtype=np.int64)
    wstep = np.full(n, -1, dtype=np.int64)
    ev_id = np.zeros((2, max(n, 1)), dtype=np.int64)
    ev_val = np.zeros((2, max(n, 1)))
    ev_popstart = np.zeros((2, n_pop + 1), dtype=np.int64)
    ev_n = np.zeros(2, dtype=np.int64)
    # the initial events (y at step -1) sit in the buffer of step -1, by processing position
    egru = np.zeros(n, dtype=bool)
    for k in range(n_pop):
        if gn.kinds[k] == EGRU:
            egru[gn.offsets[k]:gn.offsets[k + 1]] = True
    yp[~egru] = 0.0
    prv = 1  # (-1) & 1
    m = 0
    for pos, k in enumerate(gn.order):
        ev_popstart[prv, pos] = m
        idx = np.arange(gn.offsets[k], gn.offsets[k + 1])
        idx = idx[yp[idx] != 0.0]
        ev_id[prv, m:m + idx.size] = idx
        ev_val[prv, m:m + idx.size] = yp[idx]
        m += idx.size
    ev_popstart[prv, n_pop] = m
    ev_n[prv] = m
    init_wakes(gn.kinds.astype(np.int64), gn.offsets, gn.mode, yp, c, zs, q, gn.theta, T, whead, wnext, wprev, wstep)
    cap = max(EVENT_LOG, 2 * n)
    out_step = np.zeros(cap, dtype=np.int64)
    out_id = np.zeros(cap, dtype=np.int64)
    out_val = np.zeros(cap)
    out_n = np.zeros(1, dtype=np.int64)
    ev_count = np.zeros((T, n_pop), dtype=np.int64)
    macs = np.zeros(n_pop, dtype=np.int64)
    updates = np.zeros(n_pop, dtype=np.int64)
    catchups = np.zeros(n_pop, dtype=np.int64)
    rec_c = np.zeros((T, rec.size))
    rec_y = np.zeros((T, rec.size))
    sy = synapse_arrays(gn)
    args = (T, gn.kinds.astype(np.int64), gn.offsets, gn.order, gn.unit_pop.astype(np.int64),
            bu, br, bz, gn.theta, gn.mode, zs, q, *sy,
            gn.in_ptr, gn.in_id.astype(np.int64), gn.in_val,
            c, tl, yp, acc, tmark, tlist, tcount, pop_all, pop_hot, whead, wnext, wprev, wstep,
            ev_id, ev_val, ev_popstart, ev_n, out_step, out_id, out_val, out_n,
            ev_count, macs, updates, catchups, rec, rec_c, rec_y,
            np.zeros(n, dtype=np.int64), np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n, dtype=np.bool_), par_macs,
            numba.get_num_threads())
    logs = []
    t = 0
    partial = False
    t_start = time.perf_counter()
    chunk = T if progress is None else max(1, min(T, 200))
    try:
        while t < T:
            t = run_steps(t, min(T, t + chunk), *args)
            if out_n[0] + n > cap or t >= T:
                k = int(out_n[0])
                logs.append((out_step[:k].copy(), out_id[:k].copy(), out_val[:k].copy()))
                out_n[0] = 0
            if progress is not None:
                progress(t, T, int(macs.sum()), time.perf_counter() - t_start)
    except KeyboardInterrupt:
        partial = True
        k = int(out_n[0])
        logs.append((out_step[:k].copy(), out_id[:k].copy(), out_val[:k].copy()))
    wall = time.perf_counter() - t_start
    ev_step, ev_ids, ev_vals = (np.concatenate([x[i] for x in logs]) if logs else np.zeros(0)
                                for i in range(3))
    return Raw(gn, t, partial, ev_step.astype(np.int64), ev_ids.astype(np.int64), ev_vals.astype(np.float64),
               ev_count, macs, updates, catchups, rec, rec_c[:t], rec_y[:t], wall, 0.0, c, tl)


#: a (sender population, target population, gate, delay) group of synapses is stored as a dense
#: block when it connects every pair exactly once (all_to_all): an event is then one contiguous
#: multiply-add over the targets, with no indices
def synapse_arrays(gn: GatedNet) -> tuple:
    """The kernel's synapse arguments (see engine.run_steps): CSR for delay 0, delay 1 without the
    r-scaled z, and the r-scaled z (ZG), each without the fully connected groups, which become
    dense blocks."""
    n, n_pop = gn.n, len(gn.names)
    up = gn.unit_pop.astype(np.int64)
    sizes = np.diff(gn.offsets)
    classes = []
    for delay, csr in ((0, gn.csr0), (1, gn.csr1)):
        pre = np.repeat(np.arange(n, dtype=np.int64), np.diff(csr.ptr))
        post = csr.post.astype(np.int64)
        gate = csr.gate.astype(np.int64)
        if delay == 0:
            classes.append((pre, post, gate, csr.w))
        else:
            zg = gate == 3
            classes.append((pre[~zg], post[~zg], gate[~zg], csr.w[~zg]))
            classes.append((pre[zg], post[zg], np.full(int(zg.sum()), 2), csr.w[zg]))
    out = []
    blocks = []          # (class, pre pop, post pop, gate, weights (n_pre, n_post))
    for ci, (pre, post, gate, w) in enumerate(classes):
        keep = np.ones(pre.size, dtype=bool)
        if pre.size:
            key = (up[pre] * n_pop + up[post]) * 3 + gate
            order = np.argsort(key, kind="stable")
            sorted_key = key[order]
            start = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
            stop = np.r_[start[1:], sorted_key.size]
            for st, sp in zip(start, stop):
                ct = sp - st
                k = int(sorted_key[st])
                g = k % 3
                kpre, kpost = divmod(k // 3, n_pop)
                if ct != sizes[kpre] * sizes[kpost]:
                    continue
                idx = order[st:sp]
                a = pre[idx] - gn.offsets[kpre]
                b = post[idx] - gn.offsets[kpost]
                if np.bincount(a * sizes[kpost] + b, minlength=ct).max() != 1:
                    continue                      # repeated pairs: not a plain dense block
                m = np.zeros((sizes[kpre], sizes[kpost]))
                m[a, b] = w[idx]
                blocks.append((ci, kpre, kpost, g, m))
                keep[idx] = False
        p, q_, g_, w_ = pre[keep], post[keep], gate[keep], w[keep]
        o = np.argsort(p, kind="stable")
        p, q_, g_, w_ = p[o], q_[o], g_[o], w_[o]
        ptr = np.zeros(n + 1, dtype=np.int64)
        ptr[1:] = np.cumsum(np.bincount(p, minlength=n))
        cnt = np.zeros(n * n_pop, dtype=np.int64)
        np.add.at(cnt, p * n_pop + up[q_], 1)
        out.append((ptr, q_.astype(np.int64), g_.astype(np.int8), np.ascontiguousarray(w_, dtype=np.float64), cnt))
    blocks.sort(key=lambda b: (b[0], b[1]))
    bptrs = []
    for ci in range(3):
        bp = np.zeros(n_pop + 1, dtype=np.int64)
        base = sum(1 for b in blocks if b[0] < ci)
        counts = np.bincount([b[1] for b in blocks if b[0] == ci], minlength=n_pop)
        bp[0] = base
        bp[1:] = base + np.cumsum(counts)
        bptrs.append(bp)
    nb = len(blocks)
    b_pre_lo = np.array([gn.offsets[b[1]] for b in blocks], dtype=np.int64).reshape(nb)
    b_post_lo = np.array([gn.offsets[b[2]] for b in blocks], dtype=np.int64).reshape(nb)
    b_post_hi = np.array([gn.offsets[b[2] + 1] for b in blocks], dtype=np.int64).reshape(nb)
    b_post_pop = np.array([b[2] for b in blocks], dtype=np.int64).reshape(nb)
    b_gate = np.array([b[3] for b in blocks], dtype=np.int64).reshape(nb)
    sizes_b = [b[4].size for b in blocks]
    b_woff = np.concatenate([[0], np.cumsum(sizes_b)[:-1]]).astype(np.int64) if nb else np.zeros(0, np.int64)
    bw = np.concatenate([b[4].ravel() for b in blocks]) if nb else np.zeros(0)
    has_zg = np.zeros(n, dtype=np.int8)
    gpre = np.repeat(np.arange(n), np.diff(gn.csr1.ptr))[gn.csr1.gate == 3]
    has_zg[gpre] = 1
    (p0, q0, g0, w0, c0), (p1, q1, g1, w1, c1), (pg, qg, gg, wg, cg) = out
    return (p0, q0, g0, w0, c0, p1, q1, g1, w1, c1, pg, qg, gg, wg, cg, has_zg,
            bptrs[0], bptrs[1], bptrs[2], b_pre_lo, b_post_lo, b_post_hi, b_post_pop, b_gate, b_woff,
            np.ascontiguousarray(bw))


def state_at_end(raw: Raw) -> np.ndarray:
    """c of every unit after the last step simulated (silent units brought up to date)."""
    us, zs, q = silent_constants(raw.gn)
    t = raw.steps_done - 1
    k = t - raw.tl
    return np.where(k > 0, zs + np.power(q, k) * (raw.c - zs), raw.c)


# ----------------------------------------------------------------------------- counters
def counters(raw: Raw) -> dict:
    gn = raw.gn
    T = raw.steps_done
    # events of each unit, for the ops an event-driven pass with dense weights would do
    per_unit = np.bincount(raw.ev_id, minlength=gn.n).astype(np.float64)
    pop_events = np.array([per_unit[gn.offsets[k]:gn.offsets[k + 1]].sum() for k in range(len(gn.names))])
    out = {}
    proj_pre = {pr.name: pr.pre_pops for pr in gn.arrays.projections}
    dense = dict.fromkeys(gn.names, 0.0)
    dense_sparse_w = dict.fromkeys(gn.names, 0.0)
    event_dense_w = dict.fromkeys(gn.names, 0.0)
    for name, post_name, g, n_pre, n_post, n_syn in gn.blocks:
        dense[post_name] += n_pre * n_post * T
        dense_sparse_w[post_name] += n_syn * T
        pre_events = sum(pop_events[gn.names.index(x)] for x in proj_pre[name])
        event_dense_w[post_name] += pre_events * n_post
    duration = T * gn.dt
    tot = {k: 0.0 for k in ("neurons", "events", "spikes", "synaptic_ops", "synaptic_events", "dense_ops",
                            "dense_ops_sparse_weights", "event_ops_dense_weights", "unit_updates",
                            "dense_unit_updates", "closed_form_catchups")}
    for k, name in enumerate(gn.names):
        size = int(gn.offsets[k + 1] - gn.offsets[k])
        ev = int(raw.ev_count[:T, k].sum())
        c = {"neurons": size, "events": ev, "spikes": ev, "rate_hz": ev / (size * duration) if duration else 0.0,
             "events_per_step": raw.ev_count[:T, k].tolist(),
             "activity_sparsity": 1.0 - ev / (size * T) if T else 1.0}
        if gn.kinds[k] == EGRU:
            c.update({
                "synaptic_ops": int(raw.macs[k]), "synaptic_events": int(raw.macs[k]),
                "dense_ops": dense[name], "dense_ops_sparse_weights": dense_sparse_w[name],
                "event_ops_dense_weights": event_dense_w[name],
                "unit_updates": int(raw.updates[k]), "dense_unit_updates": size * T,
                "closed_form_catchups": int(raw.catchups[k]),
            })
            c.update(_reductions(c))
        else:
            c.update({"synaptic_ops": 0, "synaptic_events": 0})
        out[name] = c
        for key in tot:
            if key in c and (gn.kinds[k] == EGRU or key in ("neurons", "events", "spikes")):
                tot[key] += c[key]
    n_egru = sum(int(gn.offsets[k + 1] - gn.offsets[k]) for k in range(len(gn.names)) if gn.kinds[k] == EGRU)
    ev_egru = sum(out[nm]["events"] for k, nm in enumerate(gn.names) if gn.kinds[k] == EGRU)
    tot["activity_sparsity"] = 1.0 - ev_egru / (n_egru * T) if n_egru and T else 1.0
    tot["rate_hz"] = tot["spikes"] / (tot["neurons"] * duration) if duration and tot["neurons"] else 0.0
    tot.update(_reductions(tot))
    tot["steps"] = T
    tot["step_for_dense_counts"] = gn.dt
    for key in ("events", "spikes", "synaptic_ops", "synaptic_events", "unit_updates", "dense_unit_updates",
                "closed_form_catchups", "neurons"):
        tot[key] = int(tot[key])
    out["total"] = tot
    return out


def _reductions(c) -> dict:
    def ratio(a, b):
        return float(a) / float(b) if b else float("inf") if a else 1.0

    return {"activity_reduction": ratio(c["dense_ops"], c["event_ops_dense_weights"]),
            "parameter_reduction": ratio(c["dense_ops"], c["dense_ops_sparse_weights"]),
            "combined_reduction": ratio(c["dense_ops"], c["synaptic_ops"])}


# ----------------------------------------------------------------------------- Result
def run(arrays, progress=None):
    """Simulates an expanded event-gated netlist; a backends.Result (spikes: the events, at
    step x dt; state: recorded c and y, and each population's event values)."""
    import platform

    import numba

    from backends.result import Result

    net = arrays.netlist
    t0 = time.perf_counter()
    gn = build(arrays)
    rec_entries = []
    units = []
    for entry in net.record.state:
        k = gn.names.index(entry.population)
        size = int(gn.offsets[k + 1] - gn.offsets[k])
        local = np.arange(size) if entry.neurons is None else np.asarray(entry.neurons, dtype=np.int64)
        every = 1 if entry.every is None else max(1, int(round(entry.every / gn.dt)))
        rec_entries.append((entry, local, len(units), every))
        units.extend((gn.offsets[k] + local).tolist())
    build_seconds = time.perf_counter() - t0
    prog = None
    if progress is not None:
        def prog(step, total, events, wall):
            progress(step * gn.dt, total * gn.dt, events, wall)
    raw = simulate(gn, units, prog)
    spikes, state = {}, {}
    for k, name in enumerate(gn.names):
        lo, hi = gn.offsets[k], gn.offsets[k + 1]
        sel = (raw.ev_id >= lo) & (raw.ev_id < hi)
        steps, ids, vals = raw.ev_step[sel], (raw.ev_id[sel] - lo).astype(np.int32), raw.ev_val[sel]
        o = np.lexsort((ids, steps))
        if name in net.record.spikes:
            spikes[name] = (steps[o] * gn.dt, ids[o])
            state.setdefault(name, {})["event_values"] = vals[o]
    for entry, local, start, every in rec_entries:
        rows = np.arange(0, raw.steps_done, every)
        cols = slice(start, start + local.size)
        d = state.setdefault(entry.population, {})
        d.update({"times": rows * gn.dt, "neurons": local.astype(np.int32)})
        for var in entry.vars:
            d[var] = (raw.rec_c if var == "c" else raw.rec_y)[rows, cols]
    meta = {
        "backend": "event", "engine": "gated", "netlist": net.name, "mode": net.time.mode, "dt": gn.dt,
        "duration": net.time.duration, "steps": gn.n_steps, "steps_done": raw.steps_done,
        "simulated": raw.steps_done * gn.dt, "partial": raw.partial, "seed": net.seed,
        "wall_seconds": raw.wall_seconds, "compile_seconds": raw.compile_seconds, "build_seconds": build_seconds,
        "numba": numba.__version__, "numpy": np.__version__, "python": platform.python_version(),
    }
    return Result("event", spikes, state, counters(raw), meta)


__all__ = ["simulate", "run", "counters", "state_at_end", "Raw", "SEQUENCE", "EGRU"]
