"""Yin-Yang (Kriener, Göltz & Petrovici 2021), generated procedurally (no download).

Points (x, y) uniform in the unit square inside the circle of radius r_big = 0.5 around (0.5, 0.5),
class balanced (the class is chosen first, then points are drawn until one has it): class 2
(dots) within r_small = 0.1 of (0.75, 0.5) or (0.25, 0.5); class 1 (yin) if within (r_small,
r_big/2] of the left dot's centre, or above the middle and farther than r_big/2 from the right
dot's centre; class 0 (yang) otherwise. Features (x, y, 1 - x, 1 - y), each a spike at
t_early + f (t_late - t_early), plus one bias spike at t_bias: 5 input neurons.
Splits 5000 / 1000 / 1000 drawn with different seeds (seed, seed + 1, seed + 2).

task_params: n_train, n_val, n_test, t_early (default 2 ms), t_late (default 15 ms),
t_bias (default 2 ms), bias (default true: the fifth input neuron).
"""
from __future__ import annotations

import numpy as np

from . import Dataset, Splits, TaskError, leftover, take

R_SMALL, R_BIG = 0.1, 0.5
KNOWN = ("n_train", "n_val", "n_test", "t_early", "t_late", "t_bias", "bias")


def which_class(x, y):
    """Class of points (arrays)."""
    d_right = np.hypot(x - 1.5 * R_BIG, y - R_BIG)
    d_left = np.hypot(x - 0.5 * R_BIG, y - R_BIG)
    dots = (d_right < R_SMALL) | (d_left < R_SMALL)
    yin = ((d_left > R_SMALL) & (d_left <= 0.5 * R_BIG)) | ((y > R_BIG) & (d_right > 0.5 * R_BIG))
    return np.where(dots, 2, np.where(yin, 1, 0))


def points(n: int, seed: int):
    """n class-balanced points and labels."""
    rng = np.random.default_rng(seed)
    xy = np.empty((n, 2))
    labels = np.empty(n, dtype=np.int64)
    for k in range(n):
        c = int(rng.integers(3))
        while True:
            x, y = rng.random(2)
            if np.hypot(x - R_BIG, y - R_BIG) > R_BIG:
                continue
            if which_class(np.array([x]), np.array([y]))[0] == c:
                break
        xy[k] = x, y
        labels[k] = c
    return xy, labels


def encode(xy, t_early, t_late, t_bias, bias=True) -> Dataset:
    feats = np.column_stack([xy[:, 0], xy[:, 1], 1 - xy[:, 0], 1 - xy[:, 1]])
    times = t_early + feats * (t_late - t_early)
    n_in = 5 if bias else 4
    if bias:
        times = np.column_stack([times, np.full(len(xy), t_bias)])
    n = len(xy)
    ids = np.tile(np.arange(n_in), n)
    t = times.reshape(-1)
    ptr = np.arange(n + 1, dtype=np.int64) * n_in
    # sort each sample's spikes by (time, id)
    out_t, out_i = np.empty_like(t), np.empty_like(ids)
    for k in range(n):
        sl = slice(ptr[k], ptr[k + 1])
        o = np.lexsort((ids[sl], t[sl]))
        out_t[sl], out_i[sl] = t[sl][o], ids[sl][o]
    return Dataset(ptr, out_t, out_i.astype(np.int64), np.zeros(n, dtype=np.int64))


def make(params: dict, n_inputs: int, seed: int) -> Splits:
    n_train = take(params, "n_train", 5000, int)
    n_val = take(params, "n_val", 1000, int)
    n_test = take(params, "n_test", 1000, int)
    t_early = take(params, "t_early", 2e-3)
    t_late = take(params, "t_late", 15e-3)
    t_bias = take(params, "t_bias", 2e-3)
    bias = bool(params.pop("bias", True))
    leftover(params, KNOWN)
    need = 5 if bias else 4
    if n_inputs != need:
        raise TaskError(f"yinyang needs an input population of {need} neurons (x, y, 1-x, 1-y"
                        f"{', bias' if bias else ''}; got {n_inputs})")
    if not t_late > t_early >= 0:
        raise TaskError(f"yinyang needs 0 <= t_early < t_late (got {t_early}, {t_late})")
    sets = []
    for k, n in enumerate((n_train, n_val, n_test)):
        xy, labels = points(n, seed + k)
        ds = encode(xy, t_early, t_late, t_bias, bias)
        ds.labels = labels
        sets.append(ds)
    return Splits(*sets, n_classes=3, n_inputs=need,
                  description=f"Yin-Yang {n_train}/{n_val}/{n_test}, latencies {t_early * 1e3:g}-{t_late * 1e3:g} ms")
