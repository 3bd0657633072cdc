"""Seeded random streams, one per named purpose.

Every random draw of an expansion comes from its own stream, keyed by the netlist seed and
a label such as ``('projection', 'ee', 'delay')``. Adding a projection therefore changes no
other projection's draws, and the same netlist and seed give bit-identical arrays on every
machine (numpy's PCG64 and its distributions are platform independent for a numpy version).
"""
from __future__ import annotations

import hashlib

import numpy as np


def label_key(*label) -> int:
    """A stable 64-bit integer for a label (Python's hash() changes between runs)."""
    text = "\x1f".join(str(x) for x in label).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


def stream(seed: int, *label) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), label_key(*label)])))
