#!/usr/bin/env python
"""Profile aid for bench_egru.py: how fast can one core do the event-driven work of the 90 % case: per step ~101 events, each 3
contiguous column AXPYs of 1024 doubles from 24 MB of weights (u, r, z), vs BLAS gemv of the
same matrices (default threads and 1 thread). The lower bound of the engine's synaptic work there.

    .venv/bin/python benchmarks/egru_axpy_bound.py
"""
import time, numpy as np, numba
N=1024; T=1000; E=101
rng=np.random.default_rng(0)
W=rng.normal(size=(3, N, N))          # [gate, pre, post]: a sender's row contiguous
ev=np.stack([rng.choice(N, E, replace=False) for _ in range(T)])
@numba.njit(error_model="numpy", _nrt=False, cache=False)
def run(W, ev, acc):
    for t in range(ev.shape[0]):
        for e in range(ev.shape[1]):
            j=ev[t,e]
            for g in range(3):
                d=acc[g]; s=W[g, j]
                for x in range(d.shape[0]):
                    d[x]+=s[x]*0.5
    return acc
def median_seconds(fn, runs=5):
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


acc=np.zeros((3,N)); run(W, ev[:2], acc)
m = median_seconds(lambda: run(W, ev, acc))
print(f"numba column AXPY: {m*1e3:.1f} ms for {3*N*E*T:.3g} MACs = {m/(3*N*E*T)*1e9:.3f} ns/MAC")
Wd=W.transpose(0,2,1).reshape(3*N,N).copy(); y=rng.normal(size=N)


def gemv_steps():
    for t in range(T): Wd@y


m = median_seconds(gemv_steps)
print(f"BLAS gemv (3N x N), default threads: {m*1e3:.1f} ms = {m/(3*N*N*T)*1e9:.3f} ns/MAC")
from threadpoolctl import threadpool_limits
with threadpool_limits(1, "blas"):
    m = median_seconds(gemv_steps)
print(f"BLAS gemv (3N x N), 1 thread: {m*1e3:.1f} ms = {m/(3*N*N*T)*1e9:.3f} ns/MAC")
