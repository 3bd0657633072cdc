"""Handwritten digits, latency coded: scikit-learn's bundled 8x8 digits (1797 images of 10
classes, 16 grey levels; UCI optical recognition data), which ships inside the scikit-learn
package and so installs offline from the package registry (``pip install evsim[images]``).

Each of the 64 pixels is one input neuron: a pixel of intensity p > 0 spikes once at
t_early + (1 - p/16) (t_late - t_early) (bright pixels first); a black pixel stays silent. With
``bias: true`` a 65th neuron spikes at t_bias. Splits: a seeded shuffle, n_test (default 360)
and n_val (default 180) images held out, the rest (1257) for training.

task_params: n_val, n_test, t_early (default 2 ms), t_late (default 15 ms), bias (default
false), t_bias (default 2 ms).
"""
from __future__ import annotations

import numpy as np

from . import Dataset, Splits, TaskError, leftover, take

KNOWN = ("n_val", "n_test", "t_early", "t_late", "bias", "t_bias")


def load():
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise TaskError("the digits task needs scikit-learn (pip install 'evsim[images]'): its 8x8 digits "
                        "ship inside the package") from None
    d = load_digits()
    return d.data.astype(np.float64), d.target.astype(np.int64)


def encode(images, t_early, t_late, bias=False, t_bias=2e-3):
    samples = []
    for img in images:
        on = np.flatnonzero(img > 0)
        t = t_early + (1.0 - img[on] / 16.0) * (t_late - t_early)
        ids = on
        if bias:
            t = np.append(t, t_bias)
            ids = np.append(ids, 64)
        samples.append((t, ids))
    return samples


def make(params: dict, n_inputs: int, seed: int) -> Splits:
    n_val = take(params, "n_val", 180, int)
    n_test = take(params, "n_test", 360, int)
    t_early = take(params, "t_early", 2e-3)
    t_late = take(params, "t_late", 15e-3)
    t_bias = take(params, "t_bias", 2e-3)
    bias = bool(params.pop("bias", False))
    leftover(params, KNOWN)
    need = 65 if bias else 64
    if n_inputs != need:
        raise TaskError(f"digits needs an input population of {need} neurons (8x8 pixels"
                        f"{' and a bias' if bias else ''}; got {n_inputs})")
    x, y = load()
    order = np.random.default_rng(seed).permutation(len(y))
    if n_val + n_test >= len(y):
        raise TaskError(f"n_val + n_test must leave training images (there are {len(y)})")
    test, val, train = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
    sets = [Dataset.from_samples(encode(x[i], t_early, t_late, bias, t_bias), y[i]) for i in (train, val, test)]
    return Splits(*sets, n_classes=10, n_inputs=need,
                  description=f"digits 8x8 (scikit-learn) {len(train)}/{len(val)}/{len(test)}")
