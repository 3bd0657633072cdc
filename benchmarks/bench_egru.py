"""EGRU forward pass: evsim's event-driven gated engine against a dense NumPy (BLAS) implementation
of the same equations, in one run.

    .venv/bin/python benchmarks/bench_egru.py [--units 1024] [--steps 1000] [--repeat 5] [--json out.json]

The network: ``--inputs`` sequence channels -> one EGRU layer of ``--units`` units, input and
recurrent projections all-to-all on all three gates (port gates), the recurrent one one step
delayed (so the z input is r_j y_j, the paper's form), paper reset (c_t = ... - y_{t-1}). The input
is sparse (each channel carries a value with probability 0.1 per step). The activity is set by the
candidate bias b_z and threshold theta: for each target sparsity (fraction of units silent per step)
the script searches b_z on a short run, then measures the full run. The dense implementation steps
all units every step with three (N, N) matrix-vector products (u and r from y_{t-1}, z from
r * y_{t-1}) plus the input products, in float64 with NumPy's BLAS; its events are checked against
evsim's (the same network, the same equations). ``--repeat`` pairs of runs, one of each, which goes
first alternating; medians (min, max) of each, the ratio of the medians and the range of the
pairs' ratios;
evsim's Numba compile (or cache load) is reported apart (the first call), the loop time is
``meta['wall_seconds']``. Batch size 1.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import netspec  # noqa: E402
from simcore.egru import network, runner  # noqa: E402
from simcore.egru.network import R, U, Z, ZG  # noqa: E402


def netlist_text(units, inputs, steps, b_z, theta, seed=1, w_rec=0.5, w_in=1.0) -> str:
    return (f"name: egru_bench\nseed: {seed}\ntime: {{steps: {steps}}}\npopulations:\n"
            f"  x: {{size: {inputs}, model: sequence, sequence: {{file: __SEQ__}}}}\n"
            f"  h: {{size: {units}, model: egru, params: {{b_u: -1, b_r: 0, b_z: {float(b_z)!r}, theta: {float(theta)!r}}}}}\n"
            f"projections:\n"
            f"  - {{name: inp, from: x, to: h, connect: all_to_all, port: gates, "
            f"weight: {{normal: {{mean: 0, std: {float(w_in / np.sqrt(inputs))!r}}}}}, delay: 0 s}}\n"
            f"  - {{name: rec, from: h, to: h, connect: all_to_all, port: gates, "
            f"weight: {{normal: {{mean: 0, std: {float(w_rec / np.sqrt(units))!r}}}}}, delay: 1 s}}\n"
            f"record: {{spikes: [h]}}\n")


def build(units, inputs, steps, b_z, theta, seq_path):
    text = netlist_text(units, inputs, steps, b_z, theta).replace("__SEQ__", seq_path)
    return network.build(netspec.expand(netspec.loads(text)))


def dense_arrays(gn):
    """The dense matrices of one input population and one EGRU layer (post x pre)."""
    h = gn.pop_slice("h")
    x = gn.pop_slice("x")
    W_in = np.vstack([gn.dense(0, g)[h, x] for g in (U, R, Z)])          # (3N, n_in)
    W_ur = np.vstack([gn.dense(1, g)[h, h] for g in (U, R)])             # (2N, N)
    W_zr = np.ascontiguousarray(gn.dense(1, ZG)[h, h])                   # (N, N)
    b = np.concatenate([gn.b[h, U], gn.b[h, R], gn.b[h, Z]])
    return W_in, W_ur, W_zr, b, gn.theta[h].copy()


def dense_run(W_in, W_ur, W_zr, b, theta, X):
    """The EGRU equations, every unit every step (paper reset), NumPy/BLAS; returns y (T, N)."""
    T = X.shape[0]
    N = theta.size
    c = np.zeros(N)
    y = np.zeros(N)
    Y = np.empty((T, N))
    for t in range(T):
        a = b + W_in @ X[t]
        a[:2 * N] += W_ur @ y
        u = 1.0 / (1.0 + np.exp(-a[:N]))
        r = 1.0 / (1.0 + np.exp(-a[N:2 * N]))
        z = np.tanh(a[2 * N:] + W_zr @ (r * y))
        c = u * z + (1.0 - u) * c - y
        y = np.where(c > theta, c, 0.0)
        Y[t] = y
    return Y


def sparsity_of(gn, steps=None) -> float:
    raw = runner.simulate(gn)
    T = raw.steps_done
    n = gn.pop_slice("h").stop - gn.pop_slice("h").start
    return 1.0 - raw.ev_count[:T, gn.names.index("h")].sum() / (n * T)


def tune(units, inputs, steps, target, theta, seq) -> tuple:
    """b_z giving about ``target`` silent fraction (bisection on full-length runs): (b_z, sparsity)."""
    lo, hi = -2.0, 3.0                   # the silent fraction falls as b_z rises
    best = (None, None)
    for _ in range(24):
        mid = 0.5 * (lo + hi)
        s = sparsity_of(build(units, inputs, steps, mid, theta, seq))
        if best[1] is None or abs(s - target) < abs(best[1] - target):
            best = (mid, s)
        if s > target:
            lo = mid
        else:
            hi = mid
        if abs(s - target) < 0.002:
            break
    return best


def blas_limit(n):
    import contextlib

    if n is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=n, user_api="blas")


def stats(xs):
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "runs": len(xs)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--units", type=int, default=1024)
    ap.add_argument("--inputs", type=int, default=32)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sparsity", default="0.5,0.9,0.99", help="target silent fractions (comma-separated)")
    ap.add_argument("--theta", type=float, default=0.3)
    ap.add_argument("--blas-threads", type=int, default=None,
                    help="limit the dense implementation's BLAS threads (threadpoolctl; default: BLAS's own, "
                         "all cores); evsim's engine splits large batches of dense multiply-adds over "
                         "NUMBA_NUM_THREADS threads (default: all cores)")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args(argv)
    import tempfile

    import numba

    tmp = tempfile.mkdtemp(prefix="bench_egru_")
    rng = np.random.default_rng(0)
    X = np.where(rng.random((args.steps, args.inputs)) < 0.1, rng.normal(0, 1, (args.steps, args.inputs)), 0.0)
    seq = os.path.join(tmp, "seq.npy")
    np.save(seq, X)
    t0 = time.perf_counter()
    compile_seconds = runner._compile()
    print(f"evsim gated engine: compile (or cache load) {compile_seconds:.2f} s "
          f"(first call in this process, {time.perf_counter() - t0:.2f} s with the tiny warm-up network)")
    try:
        from threadpoolctl import threadpool_info
        blas = ", ".join(f"{d.get('internal_api')} {d.get('num_threads')} threads" for d in threadpool_info())
    except ImportError:
        blas = "threadpoolctl not installed"
    print(f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, numpy {np.__version__}, "
          f"numba {numba.__version__}, BLAS: {blas}, load {os.getloadavg()[0]:.2f}")
    print(f"dense BLAS threads: {args.blas_threads or 'default (all)'}; evsim: {numba.get_num_threads()} "
          f"Numba thread(s)")
    print(f"network: {args.inputs} inputs -> {args.units} EGRU units, all-to-all input and recurrent (gates), "
          f"{args.steps} steps, batch 1, float64\n")
    rows = []
    for target in (float(s) for s in args.sparsity.split(",")):
        b_z, _ = tune(args.units, args.inputs, args.steps, target, args.theta, seq)
        gn = build(args.units, args.inputs, args.steps, b_z, args.theta, seq)
        dense = dense_arrays(gn)
        ev_times, dn_times = [], []
        for k in range(args.repeat):
            # the two run as a pair, which goes first alternating: a run straight after the other
            # shares the machine with its threads winding down (dense measured 4 % slower right
            # after evsim's run than alone)
            for which in (("evsim", "dense") if k % 2 == 0 else ("dense", "evsim")):
                if which == "evsim":
                    raw = runner.simulate(gn)
                    ev_times.append(raw.wall_seconds)
                else:
                    with blas_limit(args.blas_threads):
                        t1 = time.perf_counter()
                        Y = dense_run(*dense, X)
                        dn_times.append(time.perf_counter() - t1)
        h = gn.pop_slice("h")
        sel = (raw.ev_id >= h.start) & (raw.ev_id < h.stop)
        fired = np.zeros_like(Y, dtype=bool)
        fired[raw.ev_step[sel], raw.ev_id[sel] - h.start] = True
        mismatch = int((fired != (Y != 0)).sum())
        c = runner.counters(raw)["h"]
        sparsity = c["activity_sparsity"]
        e, d = stats(ev_times), stats(dn_times)
        pairs = stats([dn / ev for dn, ev in zip(dn_times, ev_times)])
        row = {"target": target, "b_z": b_z, "sparsity": sparsity, "events_per_step": c["events"] / args.steps,
               "evsim_s": e, "dense_s": d, "ratio": d["median"] / e["median"], "ratio_pairs": pairs,
               "synaptic_ops": c["synaptic_ops"], "dense_macs": c["dense_ops"],
               "op_reduction": c["combined_reduction"], "event_mismatches_vs_dense": mismatch}
        rows.append(row)
        print(f"silent {sparsity * 100:6.2f} % (target {target * 100:g} %, b_z {b_z:.3f}): "
              f"evsim {e['median'] * 1e3:8.1f} ms [{e['min'] * 1e3:.1f}, {e['max'] * 1e3:.1f}]  "
              f"dense {d['median'] * 1e3:8.1f} ms [{d['min'] * 1e3:.1f}, {d['max'] * 1e3:.1f}]  "
              f"speed-up {row['ratio']:6.2f}x (pairs {pairs['min']:.2f}-{pairs['max']:.2f})   "
              f"ops {c['synaptic_ops']:.3g} of {c['dense_ops']:.3g} "
              f"({row['op_reduction']:.1f}x fewer), event mismatches vs dense: {mismatch}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"compile_seconds": compile_seconds, "args": vars(args), "rows": rows}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
