#!/usr/bin/env python
"""Design aid: what a lif_exp neuron update's arithmetic costs one at a time, and in the SIMD
batches the exact-mode engine takes most updates in (lif_exp.update_batch).

One update here is the engine's arithmetic for an input into a CUBA neuron, without the event
path (queue, grouping, wakes): advance the state in closed form to the input's time
(`lif_exp.advance`, three exponentials), add the input (`apply_input`), then the threshold terms
and the safe time (`threshold_terms`, `crossing.safe_time`: how long no crossing can come).

- ``scalar, libm exp``: one neuron after another on rows picked at random from 4000 (a bucket's
  neurons are scattered like that), libm's `exp`, everything inlined: the engine's way for the
  updates it does not batch (and for all with ``batch_updates=False``);
- ``batched, SIMD``: the engine's batched kernel, `lif_exp.update_batch`, on a batch of the
  bucket's neurons: their rows gathered into contiguous columns, one loop over the batch that the
  compiler vectorizes (with the gated engine's exponential, `simcore.egru.gate_math.exp`:
  Cody-Waite reduction, a degree-13 polynomial and no call, within 1 ulp of NumPy's; Numba's
  `exp` is libm's scalar one, and this llvmlite has no vector library), the rows scattered back.

Both take the common case (not refractory, the time constants apart: plain terms), with selects
for safe_time's branches. Before timing, both are checked against the engine's kernels themselves
(called one neuron at a time) on 200 batches: states and safe times to a few ulps (the
exponentials differ in their last bits), and the same neurons with no crossing ever. It prints the
nanoseconds per update, medians of the repeats (the two alternating), with the compile time apart.
For comparison (docs/engine.md, "The budget for cpp_standalone's speed"): cpp_standalone's whole
CUBA run on one thread comes to 30-40 ns per delivery, evsim's to 90-110 ns per update before
the batches, 93 ns after (nineteenth session).

    .venv/bin/python benchmarks/neuron_batch.py [--batch 192] [--repeat 7]
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np
from numba import njit

from simcore import crossing
from simcore.models import lif_exp as L

N_NEURONS = 4000


@njit(error_model="numpy")
def engine_kernels(st, pr, t_state, rows, t_in, w, port, safe, rate, a, b):
    """One neuron after another through the engine's own kernels (called, where the engine inlines
    them: the reference the others are checked against, not timed)."""
    for x in range(rows.size):
        j = rows[x]
        sv = st[j:j + 1]
        pv = pr[j:j + 1]
        i0 = j * 0
        L.advance(sv, pv, i0, t_state[j], t_in[x], -1.0)
        t_state[j] = t_in[x]
        L.apply_input(sv, pv, i0, port[x], w[x], False)
        n = L.threshold_terms(sv, pv, i0, rate, a, b)
        safe[x] = t_in[x] + crossing.safe_time(n, rate, a, b)


@njit(error_model="numpy")
def scalar(st, pr, t_state, rows, t_in, w, port, safe):
    """One neuron after another, reading its rows where they are, libm's exp: the engine's way
    (lif_exp.input_update's arithmetic, which the batches share, inlined)."""
    for x in range(rows.size):
        j = rows[x]
        h = t_in[x] - t_state[j]
        tm, te, ti = pr[j, L.INV_TM], pr[j, L.INV_TE], pr[j, L.INV_TI]
        v, ie, ii, xs, _ = L.input_update(st[j, L.V], st[j, L.IE], st[j, L.II], tm, te, ti, pr[j, L.V_INF],
                                          pr[j, L.V_TH], pr[j, L.K_E], pr[j, L.K_I], w[x], port[x],
                                          math.exp(-h * tm), math.exp(-h * te), math.exp(-h * ti))
        st[j, L.V] = v
        st[j, L.IE] = ie
        st[j, L.II] = ii
        t_state[j] = t_in[x]
        safe[x] = t_in[x] + xs


@njit(error_model="numpy")
def batched(st, pr, t_state, rows, t_in, w, port, safe, prow, cols, bs):
    """The same on a batch, through the engine's own batched kernel (lif_exp.update_batch: rows
    gathered into columns, one loop the compiler vectorizes with a call-free exponential, rows
    scattered back), with what the engine's run_stage and flush_batch do around it."""
    m = rows.size
    j, h, pf, bound = bs[0], bs[1], bs[2], bs[3]
    for x in range(m):
        j[x] = rows[x]
        h[x] = t_in[x] - t_state[rows[x]]
        pf[x] = port[x]
    L.update_batch(st, pr, prow, j, h, w, pf, m, cols, safe, bound)
    for x in range(m):
        t_state[rows[x]] = t_in[x]
        safe[x] += t_in[x]


def driver(kernel_fn):
    """A compiled loop over every batch through kernel_fn, input times after each neuron's state
    time (as in a run: it only moves forward)."""
    @njit(error_model="numpy")
    def drive(st, pr, t_state, rows, dt, w, port, safe, t_in, extra):
        for q in range(rows.shape[0]):
            for x in range(rows.shape[1]):
                t_in[x] = t_state[rows[q, x]] + dt[q, x]
            kernel_fn(st, pr, t_state, rows[q], t_in, w[q], port[q], safe, *extra)
    return drive


def cuba_neurons(rng):
    """4000 CUBA neurons (yaml_models/cuba.yaml's parameters) in states like a run's."""
    p = {"tau_m": np.full(N_NEURONS, 20e-3), "tau_exc": np.full(N_NEURONS, 5e-3),
         "tau_inh": np.full(N_NEURONS, 10e-3), "e_l": np.full(N_NEURONS, -49e-3),
         "v_th": np.full(N_NEURONS, -50e-3), "v_reset": np.full(N_NEURONS, -60e-3),
         "t_ref": np.full(N_NEURONS, 5e-3), "i_bias": np.zeros(N_NEURONS)}
    p.update(L.derive(p))
    pr = np.stack([p[c] for c in L.COLUMNS], axis=1)
    st = np.stack([rng.uniform(-60e-3, -50.5e-3, N_NEURONS), rng.uniform(0.0, 3e-3, N_NEURONS),
                   rng.uniform(-6e-3, 0.0, N_NEURONS)], axis=1)
    return st, pr


def runners_for(batch: int) -> dict:
    """name -> (compiled loop over batches, its scratch arrays, its safe-time output) for the
    engine's kernels (the reference) and the two timed ways."""
    terms = tuple(np.empty(crossing.MAX_TERMS) for _ in range(3))
    return {"engine kernels": (driver(engine_kernels), terms, np.empty(batch)),
            "scalar, libm exp": (driver(scalar), (), np.empty(batch)),
            "batched, SIMD": (driver(batched), (np.arange(N_NEURONS), np.empty((10, batch)), np.empty((4, batch))),
                              np.empty(batch))}


def compare(runners: dict, st0, pr, rows, dt, w, port) -> dict:
    """Runs every way batch by batch from the same states and compares each with the engine's
    kernels: the largest relative differences of the states and of the finite safe times, whether
    all agree on which safe times are infinite, and how many of the reference's safe times were
    infinite (no crossing ever), at the input (g(0) >= 0: search at once) and in between."""
    t0 = np.zeros(st0.shape[0])
    t_in = np.empty(rows.shape[1])
    states = {name: (st0.copy(), t0.copy()) for name in runners}
    ref_st, ref_ts = states["engine kernels"]
    ref_safe = runners["engine kernels"][2]
    out = {"state": 0.0, "safe": 0.0, "same_infinities": True, "inf": 0, "zero": 0, "finite": 0}
    for q in range(rows.shape[0]):
        for name, (fn, extra, safe) in runners.items():
            st, ts = states[name]
            fn(st, pr, ts, rows[q:q + 1], dt[q:q + 1], w[q:q + 1], port[q:q + 1], safe, t_in, extra)
        fin = np.isfinite(ref_safe)
        out["inf"] += int((~fin).sum())
        out["zero"] += int((ref_safe == t_in).sum())
        out["finite"] += int((fin & (ref_safe != t_in)).sum())
        for name, (fn, extra, safe) in runners.items():
            st, ts = states[name]
            out["state"] = max(out["state"], float(np.max(np.abs(st - ref_st) / np.maximum(np.abs(ref_st), 1e-12))))
            out["same_infinities"] &= bool(np.array_equal(fin, np.isfinite(safe)))
            err = np.abs(safe[fin] - ref_safe[fin]) / np.abs(ref_safe[fin])
            out["safe"] = max(out["safe"], float(np.max(err, initial=0.0)))
            st[:], ts[:] = ref_st, ref_ts      # all go on from the same states
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=192, help="updates per batch (a CUBA bucket has about 184)")
    ap.add_argument("--batches", type=int, default=2000, help="batches per timed repeat")
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(1)
    st0, pr = cuba_neurons(rng)
    t0 = np.zeros(N_NEURONS)
    shape = (args.batches, args.batch)
    rows = np.stack([rng.choice(N_NEURONS, args.batch, replace=False) for _ in range(args.batches)]).astype(np.int64)
    dt = rng.uniform(0.1e-3, 5e-3, shape)                 # since the neuron's last input
    w = rng.choice([7e-4, -5.1e-3], shape)                # CUBA's two weights
    port = (w < 0).astype(np.int64)
    t_in = np.empty(args.batch)
    runners = runners_for(args.batch)

    compile_s = {}
    for name, (fn, extra, safe) in runners.items():
        c = time.perf_counter()
        fn(st0.copy(), pr, t0.copy(), rows[:1], dt[:1], w[:1], port[:1], safe, t_in, extra)
        compile_s[name] = time.perf_counter() - c

    n = min(200, args.batches)
    agree = compare(runners, st0, pr, rows[:n], dt[:n], w[:n], port[:n])
    if not agree["same_infinities"]:
        print("the ways disagree on which neurons can never fire")
        return 1
    print(f"agreement with the engine's kernels over {n} batches: states within {agree['state']:.1e}, "
          f"safe times within {agree['safe']:.1e} (relative)")

    timed = ("scalar, libm exp", "batched, SIMD")
    print(f"\n{'':18} {'ns per update':>14}  {'[min-max]':>15} {'compile (s)':>12}")
    times = {name: [] for name in timed}
    for _ in range(args.repeat):
        for name in timed:             # alternating, so that the machine's spells hit both
            fn, extra, safe = runners[name]
            st, ts = st0.copy(), t0.copy()
            c = time.perf_counter()
            fn(st, pr, ts, rows, dt, w, port, safe, t_in, extra)
            times[name].append((time.perf_counter() - c) / rows.size * 1e9)
    for name, ns in times.items():
        print(f"{name:18} {np.median(ns):14.2f}  [{min(ns):6.2f}-{max(ns):6.2f}] {compile_s[name]:12.2f}")
    print(f"ratio {np.median(times[timed[0]]) / np.median(times[timed[1]]):.2f}x "
          f"({args.repeat} repeats of {rows.size} updates, medians)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
