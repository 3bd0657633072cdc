"""Counter-based random numbers for the kernels.

A draw is a pure function of (key, counter): u = hash(key, counter) mapped to (0, 1). The
same netlist and seed therefore give the same spikes whatever order neurons are processed in
and however many threads run (no shared generator state). The hash is SplitMix64's finaliser,
whose output passes BigCrush when fed a counter.
"""
from __future__ import annotations

import numpy as np
from .jit import kernel

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@kernel(refcounted=False)
def mix64(x):
    x = np.uint64(x)
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


@kernel(refcounted=False)
def stream_key(key, index):
    """The key of element ``index`` of a stream (a neuron of a population)."""
    return mix64(np.uint64(key) + np.uint64(index) * _GOLDEN)


@kernel(refcounted=False)
def uniform(key, counter):
    """A double uniform on (0, 1): never 0 or 1, so log(u) and log(1 - u) are finite."""
    x = mix64(np.uint64(key) ^ mix64(np.uint64(counter) + _GOLDEN))
    return ((x >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0)
