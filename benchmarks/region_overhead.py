#!/usr/bin/env python
"""Profile aid for the engine on threads: what one synchronisation of its threads costs.

CUBA's 0.1 ms delay makes 10 000 buckets per simulated second, and the partitions of the engine
on threads (`evsim run --threads N`) synchronise once or twice per bucket. This times 10 000 of
each, medians of 5: empty Numba parallel regions of NUMBA_NUM_THREADS threads, entered from
compiled code and from Python (what the engine did per stage until 2026-12-07), and the engine's
own barrier (`meet` of the threads engine, compiled over lif_exp), NUMBA_NUM_THREADS Python
threads each calling it 10 000 times with nothing in between.

    NUMBA_NUM_THREADS=2 .venv/bin/python benchmarks/region_overhead.py
"""
import threading
import time

import numba
import numpy as np
from numba import njit, prange

REGIONS = 10_000


@njit(parallel=True, cache=False)
def one_region(a):
    for p in prange(numba.get_num_threads()):
        a[p * 16] += 1.0     # one cache line per thread


@njit(parallel=True, cache=False)
def many_regions(a, n):
    for _ in range(n):
        for p in prange(numba.get_num_threads()):
            a[p * 16] += 1.0


def barrier_loop():
    """A nogil kernel that meets the other threads ``n`` times at the engine's barrier."""
    from simcore import codegen

    eng = codegen.engine_for(("lif_exp",), grid=False, threads=True)
    meet = eng.meet

    @njit(nogil=True, cache=False)
    def meet_many(sync, n_parts, p, n):
        zero = np.int64(0)
        for _ in range(n):
            meet(sync, n_parts, p, zero, zero, zero, zero, zero)

    return eng, meet_many


def median_seconds(fn, runs=5):
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def main():
    a = np.zeros(16 * numba.config.NUMBA_NUM_THREADS)
    one_region(a)
    many_regions(a, 10)

    def from_python():
        for _ in range(REGIONS):
            one_region(a)

    inside = median_seconds(lambda: many_regions(a, REGIONS))
    outside = median_seconds(from_python)

    n = numba.config.NUMBA_NUM_THREADS
    eng, meet_many = barrier_loop()
    sync = np.zeros(eng.sync_size(n), dtype=np.int64)
    meet_many(np.zeros(eng.sync_size(1), dtype=np.int64), 1, 0, 1)

    def barriers():
        threads = [threading.Thread(target=meet_many, args=(sync, n, p, REGIONS)) for p in range(1, n)]
        for t in threads:
            t.start()
        meet_many(sync, n, 0, REGIONS)
        for t in threads:
            t.join()

    met = median_seconds(barriers)
    print(f"{numba.get_num_threads()} threads, threading layer {numba.threading_layer()}")
    print(f"{REGIONS} empty regions from compiled code: {inside * 1e3:.1f} ms ({inside / REGIONS * 1e6:.2f} us each)")
    print(f"{REGIONS} empty regions from Python:        {outside * 1e3:.1f} ms ({outside / REGIONS * 1e6:.2f} us each)")
    print(f"{REGIONS} engine barriers, {n} threads:      {met * 1e3:.1f} ms ({met / REGIONS * 1e6:.2f} us each, "
          "thread start included)")


if __name__ == "__main__":
    main()
