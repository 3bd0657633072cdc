"""Sequence tasks for training event-gated networks (evsim train on an EGRU netlist): dense input
values per step for the netlist's sequence population, one label per sequence (read out at the
last step). Both install offline.

recall (generated): n_classes cue channels and n_noise distractor channels. At one random step
in the first ``cue_window`` steps the cue channel of the label carries 1; every other step each
distractor channel carries a N(0, 1) value with probability ``p_noise``. The network must keep
the cue until the last of ``steps`` steps. task_params: steps (default 30), n_classes (4),
n_noise (4), cue_window (5), p_noise (0.3), n_train (4000), n_val (500), n_test (1000).
Input size: n_classes + n_noise.

seq_digits: scikit-learn's bundled 8x8 digits (1797 images, 16 grey levels; pip install
'evsim[images]'), values p/16, fed ``pixel`` by pixel (64 steps, 1 input; the default) or
``row`` by row (8 steps, 8 inputs). Split: a seeded shuffle, n_test (360) and n_val (180) held
out, 1257 for training. task_params: order (pixel | row), n_val, n_test, shift (0 to 3, default
0: each training image, every time it is drawn, translated by (dy, dx) drawn uniformly from
{-shift..shift}^2, pixels moved in from outside 0; validation and test images never).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from simcore.learning.tasks import TaskError, leftover, take

NAMES = ("recall", "seq_digits")


@dataclass
class SeqDataset:
    x: np.ndarray          # (n, T, n_in) float64
    labels: np.ndarray     # (n,) int64

    @property
    def n(self) -> int:
        return int(self.labels.size)

    def trials(self, idx, offset=None) -> np.ndarray:
        """The sequences ``idx`` as a batch (B, T, n_in) (``offset``: unused, the trainer's signature)."""
        return self.x[np.asarray(idx, dtype=np.int64)]


@dataclass
class SeqSplits:
    train: SeqDataset
    val: SeqDataset
    test: SeqDataset
    n_classes: int
    n_inputs: int
    n_steps: int
    description: str = ""
    augment: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None   # training batches only


def make(name: str, params: dict, n_inputs: int, seed: int) -> SeqSplits:
    if name not in NAMES:
        raise TaskError(f"unknown task {name!r} for event-gated networks (available: {', '.join(NAMES)})")
    return (recall if name == "recall" else seq_digits)(dict(params), n_inputs, seed)


def recall(params: dict, n_inputs: int, seed: int) -> SeqSplits:
    known = ("steps", "n_classes", "n_noise", "cue_window", "p_noise", "n_train", "n_val", "n_test")
    steps = take(params, "steps", 30, int)
    ncls = take(params, "n_classes", 4, int)
    nnoise = take(params, "n_noise", 4, int)
    window = take(params, "cue_window", 5, int)
    p_noise = take(params, "p_noise", 0.3)
    sizes = [take(params, k, d, int) for k, d in (("n_train", 4000), ("n_val", 500), ("n_test", 1000))]
    leftover(params, known)
    if ncls < 2 or nnoise < 0 or not 1 <= window < steps or not 0 <= p_noise <= 1 or min(sizes) < 1:
        raise TaskError("recall needs n_classes >= 2, n_noise >= 0, 1 <= cue_window < steps, 0 <= p_noise <= 1 "
                        "and at least one sequence per split")
    if n_inputs != ncls + nnoise:
        raise TaskError(f"recall needs an input population of n_classes + n_noise = {ncls + nnoise} elements "
                        f"(got {n_inputs})")
    rng = np.random.default_rng([seed, 11])
    out = []
    for n in sizes:
        labels = rng.integers(0, ncls, n)
        x = np.zeros((n, steps, ncls + nnoise))
        if nnoise:
            x[:, :, ncls:] = rng.normal(0.0, 1.0, (n, steps, nnoise)) * (rng.random((n, steps, nnoise)) < p_noise)
        cue = rng.integers(0, window, n)
        x[np.arange(n), cue, :] = 0.0
        x[np.arange(n), cue, labels] = 1.0
        out.append(SeqDataset(x, labels.astype(np.int64)))
    return SeqSplits(*out, n_classes=ncls, n_inputs=ncls + nnoise, n_steps=steps,
                     description=f"delayed recall ({ncls} classes, {steps} steps) {'/'.join(map(str, sizes))}")


def seq_digits(params: dict, n_inputs: int, seed: int) -> SeqSplits:
    from simcore.learning.tasks.digits import load

    order_kind = params.pop("order", "pixel")
    n_val = take(params, "n_val", 180, int)
    n_test = take(params, "n_test", 360, int)
    shift = take(params, "shift", 0, int)
    leftover(params, ("order", "n_val", "n_test", "shift"))
    if order_kind not in ("pixel", "row"):
        raise TaskError(f"task_params.order: expected pixel or row (got {order_kind!r})")
    if not 0 <= shift <= 3:
        raise TaskError(f"task_params.shift: expected 0 to 3 pixels (got {shift})")
    need = 1 if order_kind == "pixel" else 8
    if n_inputs != need:
        raise TaskError(f"seq_digits ({order_kind} by {order_kind}) needs an input population of {need} "
                        f"element{'s' if need > 1 else ''} (got {n_inputs})")
    x, y = load()
    if n_val + n_test >= len(y):
        raise TaskError(f"n_val + n_test must leave training images (there are {len(y)})")
    seq = (x / 16.0).reshape(len(y), 64 // need, need)
    order = np.random.default_rng(seed).permutation(len(y))
    test, val, train = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
    sets = [SeqDataset(seq[i], y[i]) for i in (train, val, test)]
    return SeqSplits(*sets, n_classes=10, n_inputs=need, n_steps=64 // need,
                     description=f"sequential digits 8x8 ({order_kind} by {order_kind}, {64 // need} steps) "
                                 f"{len(train)}/{len(val)}/{len(test)}" + (f", shifts up to {shift}" if shift else ""),
                     augment=(lambda x, rng: shift_images(x, shift, rng)) if shift else None)


def shift_images(x: np.ndarray, shift: int, rng: np.random.Generator) -> np.ndarray:
    """A batch of 8x8 images stored as sequences (B, T, n_in) with T * n_in = 64, each translated
    by its own (dy, dx) uniform in {-shift..shift}^2: out[b, i, j] = img[b, i - dy, j - dx], 0 where
    that falls outside the image."""
    b = x.shape[0]
    img = np.pad(x.reshape(b, 8, 8), ((0, 0), (shift, shift), (shift, shift)))
    dy, dx = rng.integers(-shift, shift + 1, (2, b))
    rows = (shift - dy)[:, None] + np.arange(8)
    cols = (shift - dx)[:, None] + np.arange(8)
    return img[np.arange(b)[:, None, None], rows[:, :, None], cols[:, None, :]].reshape(x.shape)
