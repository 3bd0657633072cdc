"""Spatio-temporal pattern detection: a task for delays, which weights alone do not solve.

n inputs spike once each, at s + slot, the n slots evenly spaced over [0, span] (span / (n - 1)
apart) and s ~ U[0, window] drawn per sample (plus a small jitter). Class 1 (pattern): input i
always takes slot p_i, an order fixed for the task. Class 0: the inputs take the slots in a random
other order. Both classes have the same spike times up to a shift, only which input fires when
differs. A readout whose delays are d_i = D - p_i sees the pattern's spikes arrive together and
peaks high; with equal delays the spikes arrive span / (n - 1) apart in both classes, and a
readout that integrates over less than that peaks at max_i w_i times one PSP whatever the order:
no choice of weights separates the classes.

task_params: n_train (2000), n_val (500), n_test (500), span (30 ms), window (30 ms),
jitter (0.2 ms).
"""
from __future__ import annotations

import numpy as np

from . import Dataset, Splits, TaskError, leftover, take

KNOWN = ("n_train", "n_val", "n_test", "span", "window", "jitter")


def samples(n, n_in, offsets, window, jitter, rng):
    out, labels = [], []
    for _ in range(n):
        c = int(rng.integers(2))
        slots = offsets
        if c == 0:
            while True:
                perm = rng.permutation(n_in)
                if np.any(perm != np.arange(n_in)):
                    break
            slots = offsets[perm]
        t = rng.uniform(0, window) + slots + rng.normal(0, jitter, n_in)
        out.append((np.maximum(t, 0.0), np.arange(n_in)))
        labels.append(c)
    return out, labels


def make(params: dict, n_inputs: int, seed: int) -> Splits:
    n_train = take(params, "n_train", 2000, int)
    n_val = take(params, "n_val", 500, int)
    n_test = take(params, "n_test", 500, int)
    span = take(params, "span", 30e-3)
    window = take(params, "window", 30e-3)
    jitter = take(params, "jitter", 0.2e-3)
    leftover(params, KNOWN)
    if n_inputs < 2:
        raise TaskError(f"delay_pattern needs at least 2 input neurons (got {n_inputs})")
    offsets = np.random.default_rng([seed, 99]).permutation(np.linspace(0.0, span, n_inputs))
    sets = []
    for k, n in enumerate((n_train, n_val, n_test)):
        s, lab = samples(n, n_inputs, offsets, window, jitter, np.random.default_rng([seed, k]))
        sets.append(Dataset.from_samples(s, lab))
    return Splits(*sets, n_classes=2, n_inputs=n_inputs,
                  description=f"delay pattern, {n_inputs} inputs, span {span * 1e3:g} ms, window {window * 1e3:g} ms")
