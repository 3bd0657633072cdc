"""Training tasks: each makes labelled input spike trains (latency-coded) for the train,
validation and test splits, procedurally or from a data set installed with a package.

A task module defines ``make(params: dict, n_inputs: int, seed: int) -> Splits`` and ``DOC``.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass

import numpy as np

from ..eventprop import Trials

NAMES = ("yinyang", "digits", "delay_pattern")


class TaskError(ValueError):
    """A task cannot be made with these settings; the message says why (the caller locates it)."""


@dataclass
class Dataset:
    """Samples as spikes of the input population (local ids), with labels."""

    ptr: np.ndarray          # (n + 1,)
    times: np.ndarray        # seconds
    ids: np.ndarray          # local input neuron ids
    labels: np.ndarray       # (n,) int64

    @property
    def n(self) -> int:
        return int(self.labels.size)

    @classmethod
    def from_samples(cls, samples, labels) -> "Dataset":
        """From a list of (times, ids) per sample."""
        ptr = np.zeros(len(samples) + 1, dtype=np.int64)
        ts, ids = [], []
        for k, (t, i) in enumerate(samples):
            t = np.asarray(t, dtype=np.float64)
            i = np.asarray(i, dtype=np.int64)
            o = np.lexsort((i, t))
            ts.append(t[o])
            ids.append(i[o])
            ptr[k + 1] = ptr[k] + t.size
        cat = (lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt))
        return cls(ptr, cat(ts, np.float64), cat(ids, np.int64), np.asarray(labels, dtype=np.int64))

    def trials(self, idx, offset: int) -> Trials:
        """The samples ``idx`` as a batch of trials, input neuron ids shifted to global ones."""
        idx = np.asarray(idx, dtype=np.int64)
        lens = self.ptr[idx + 1] - self.ptr[idx]
        ptr = np.zeros(idx.size + 1, dtype=np.int64)
        np.cumsum(lens, out=ptr[1:])
        sel = np.concatenate([np.arange(self.ptr[i], self.ptr[i + 1]) for i in idx]) if idx.size else np.zeros(0, np.int64)
        return Trials(ptr, self.times[sel], self.ids[sel] + offset)

    def sample(self, k: int):
        lo, hi = self.ptr[k], self.ptr[k + 1]
        return self.times[lo:hi], self.ids[lo:hi]


@dataclass
class Splits:
    train: Dataset
    val: Dataset
    test: Dataset
    n_classes: int
    n_inputs: int
    description: str = ""


def make(name: str, params: dict, n_inputs: int, seed: int) -> Splits:
    if name not in NAMES:
        raise TaskError(f"unknown task {name!r} (available: {', '.join(NAMES)})")
    mod = importlib.import_module(f"{__name__}.{name}")
    return mod.make(dict(params), n_inputs, seed)


def take(params: dict, key: str, default, kind=float):
    """A task parameter: a number, or a time string such as '2 ms' (seconds)."""
    if key not in params:
        return default
    v = params.pop(key)
    if isinstance(v, str):
        from netspec.units import parse_quantity

        try:
            value, _, _ = parse_quantity(v)
        except Exception as exc:  # noqa: BLE001 - any parse problem is the user's input
            raise TaskError(f"task_params.{key}: cannot read {v!r} ({exc})") from None
        v = value
    try:
        return kind(v)
    except (TypeError, ValueError):
        raise TaskError(f"task_params.{key}: expected a number (got {v!r})") from None


def leftover(params: dict, known) -> None:
    if params:
        raise TaskError(f"unknown task_params {', '.join(sorted(params))} (expected {', '.join(known)})")
