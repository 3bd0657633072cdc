#!/usr/bin/env python
"""Profile aid for bench_egru.py: how fast can one core do the event-driven work of the 90 % case: per step ~101 events, each 3
contiguous column AXPYs of 1024 doubles from 24 MB of weights (u, r, z), vs BLAS gemv of the
same matrices (default threads and 1 thread). The lower bound of the engine's synaptic work there.
Also the same sums with a sender's three gate rows stored next to each other ([pre, gate, post],
one 24 KB stretch per event instead of three 8 KB rows 8 MB apart), timed alternately with the
engine's layout ([gate, pre, post]).

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
@numba.njit(error_model="numpy", _nrt=False, cache=False, inline="always")
def axpy4(d, s0, s1, s2, s3):
    """d += s0 / 2; d += s1 / 2; ... element by element, d loaded and stored once."""
    for x in range(d.shape[0]):
        a = d[x]
        a += s0[x] * 0.5
        a += s1[x] * 0.5
        a += s2[x] * 0.5
        a += s3[x] * 0.5
        d[x] = a


@numba.njit(error_model="numpy", _nrt=False, cache=False, inline="always")
def axpy1(d, s0):
    for x in range(d.shape[0]):
        d[x] += s0[x] * 0.5


@numba.njit(error_model="numpy", _nrt=False, cache=False)
def run4(W, ev, acc):
    """The same sums four events at a time, as the engine does (each acc element loaded and
    stored once per four rows, the additions in the same order: the same bits)."""
    for t in range(ev.shape[0]):
        for g in range(3):
            d = acc[g]
            e = 0
            while e + 4 <= ev.shape[1]:
                s0 = W[g, ev[t, e]]; s1 = W[g, ev[t, e + 1]]; s2 = W[g, ev[t, e + 2]]; s3 = W[g, ev[t, e + 3]]
                axpy4(d, s0, s1, s2, s3)
                e += 4
            while e < ev.shape[1]:
                axpy1(d, W[g, ev[t, e]])
                e += 1
    return acc


@numba.njit(error_model="numpy", _nrt=False, cache=False)
def run4_interleaved(Wi, ev, acc):
    """run4 over Wi[pre, gate, post]: four events at a time, their three gates one after the
    other (each sum receives the same additions in the same order: the same bits)."""
    for t in range(ev.shape[0]):
        e = 0
        while e + 4 <= ev.shape[1]:
            for g in range(3):
                d = acc[g]
                s0 = Wi[ev[t, e], g]; s1 = Wi[ev[t, e + 1], g]; s2 = Wi[ev[t, e + 2], g]; s3 = Wi[ev[t, e + 3], g]
                axpy4(d, s0, s1, s2, s3)
            e += 4
        while e < ev.shape[1]:
            for g in range(3):
                d = acc[g]
                axpy1(d, Wi[ev[t, e], g])
            e += 1
    return acc


def median_seconds(fn, runs=5):
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


acc=np.zeros((3,N)); run(W, ev[:2], acc)
m = median_seconds(lambda: run(W, ev, acc))
print(f"numba column AXPY: {m*1e3:.1f} ms for {3*N*E*T:.3g} MACs = {m/(3*N*E*T)*1e9:.3f} ns/MAC")
acc4=np.zeros((3,N)); run4(W, ev[:2], acc4)
m = median_seconds(lambda: run4(W, ev, acc4))
print(f"numba column AXPY, four rows per pass: {m*1e3:.1f} ms = {m/(3*N*E*T)*1e9:.3f} ns/MAC")
one, four = run(W, ev, np.zeros((3, N))), run4(W, ev, np.zeros((3, N)))
print(f"  the same sums bit for bit: {np.array_equal(one, four)}")
Wi = np.ascontiguousarray(W.transpose(1, 0, 2))
acci = np.zeros((3, N)); run4_interleaved(Wi, ev[:2], acci)
print(f"  gate rows interleaved, the same sums bit for bit: {np.array_equal(four, run4_interleaved(Wi, ev, np.zeros((3, N))))}")
ratios = []
for _ in range(6):
    m4 = median_seconds(lambda: run4(W, ev, acc4))
    mi = median_seconds(lambda: run4_interleaved(Wi, ev, acci))
    ratios.append(mi / m4)
print(f"numba four rows per pass, gate rows interleaved / separate, 6 alternations: median {np.median(ratios):.3f} "
      f"[{min(ratios):.3f}-{max(ratios):.3f}]")
Wd=W.transpose(0,2,1).reshape(3*N,N).copy(); y=rng.normal(size=N)


def gemv_steps():
    for t in range(T): Wd@y


m = median_seconds(gemv_steps)
print(f"BLAS gemv (3N x N), default threads: {m*1e3:.1f} ms = {m/(3*N*N*T)*1e9:.3f} ns/MAC")
from threadpoolctl import threadpool_limits
with threadpool_limits(1, "blas"):
    m = median_seconds(gemv_steps)
print(f"BLAS gemv (3N x N), 1 thread: {m*1e3:.1f} ms = {m/(3*N*N*T)*1e9:.3f} ns/MAC")
