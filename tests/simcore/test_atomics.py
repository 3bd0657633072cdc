"""The atomic operations the partitions' barrier is built on."""
from __future__ import annotations

import threading

import numpy as np
from numba import njit

from simcore.atomics import atomic_add, atomic_load, atomic_store, cpu_relax


@njit(nogil=True)
def _add_many(a, n):
    for _ in range(n):
        atomic_add(a, 0, 1)
    cpu_relax()


@njit
def _ops(a):
    before = atomic_add(a, 1, 5)
    atomic_store(a, 2, 7)
    return before, atomic_load(a, 1), atomic_load(a, 2)


def test_atomic_add_returns_the_value_before_and_load_store_round_trip():
    """atomic_add returns the element's old value; atomic_store then atomic_load give the value back."""
    a = np.array([0, 3, 0], dtype=np.int64)
    assert _ops(a) == (3, 8, 7)
    assert a.tolist() == [0, 8, 7]


def test_no_increment_is_lost_between_threads():
    """Four threads adding 1 to one element 200 000 times each leave exactly 800 000."""
    a = np.zeros(1, dtype=np.int64)
    _add_many(a, 1)
    a[0] = 0
    threads = [threading.Thread(target=_add_many, args=(a, 200_000)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert a[0] == 800_000
