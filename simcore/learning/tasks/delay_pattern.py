"""Spatio-temporal pattern detection: a task for delays, which weights alone do not solve.

n inputs spike once each. Class 1 (pattern): input i spikes at s + p_i (+ jitter), the offsets
p_i ~ U[0, span] fixed for the task and s ~ U[0, window] drawn per sample. Class 0 (no pattern):
every input is shifted on its own, t_i = s_i + p_i with independent s_i ~ U[0, window]. Each
input's spike time has the same distribution in both classes; only the joint timing differs.
A neuron whose delays are d_i = D - p_i sees the pattern's spikes arrive together and fires
(or peaks) higher; with equal delays and synaptic time constants much shorter than the span,
the pattern's spikes arrive as spread out as the others' and no choice of weights separates
the classes well.

task_params: n_train (2000), n_val (500), n_test (500), span (15 ms), window (15 ms),
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
        if c == 1:
            t = rng.uniform(0, window) + offsets + rng.normal(0, jitter, n_in)
        else:
            t = rng.uniform(0, window, n_in) + offsets
        out.append((np.maximum(t, 0.0), np.arange(n_in)))
        labels.append(c)
    return out, labels


def make(params: dict, n_inputs: int, seed: int) -> Splits:
    n_train = take(params, "n_train", 2000, int)
    n_val = take(params, "n_val", 500, int)
    n_test = take(params, "n_test", 500, int)
    span = take(params, "span", 15e-3)
    window = take(params, "window", 15e-3)
    jitter = take(params, "jitter", 0.2e-3)
    leftover(params, KNOWN)
    if n_inputs < 2:
        raise TaskError(f"delay_pattern needs at least 2 input neurons (got {n_inputs})")
    offsets = np.random.default_rng([seed, 99]).uniform(0, span, n_inputs)
    sets = []
    for k, n in enumerate((n_train, n_val, n_test)):
        s, lab = samples(n, n_inputs, offsets, window, jitter, np.random.default_rng([seed, k]))
        sets.append(Dataset.from_samples(s, lab))
    return Splits(*sets, n_classes=2, n_inputs=n_inputs,
                  description=f"delay pattern, {n_inputs} inputs, span {span * 1e3:g} ms, window {window * 1e3:g} ms")
