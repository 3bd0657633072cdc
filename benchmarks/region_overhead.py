#!/usr/bin/env python
"""Profile aid for the engine on threads: what one Numba parallel region costs with nothing in it.

The partitioned engine (`evsim run --threads N`) runs one parallel region per stage of every
bucket, and CUBA's 0.1 ms delay makes 10 000 buckets per simulated second: this times 10 000
empty regions of NUMBA_NUM_THREADS threads, entered from compiled code (as run_until_parts does)
and from Python, medians of 5.

    NUMBA_NUM_THREADS=2 .venv/bin/python benchmarks/region_overhead.py
"""
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
    print(f"{numba.get_num_threads()} threads, threading layer {numba.threading_layer()}")
    print(f"{REGIONS} empty regions from compiled code: {inside * 1e3:.1f} ms ({inside / REGIONS * 1e6:.2f} us each)")
    print(f"{REGIONS} empty regions from Python:        {outside * 1e3:.1f} ms ({outside / REGIONS * 1e6:.2f} us each)")


if __name__ == "__main__":
    main()
