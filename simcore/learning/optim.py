"""Optimisers (Adam, SGD with momentum) and learning-rate schedules, one per parameter group,
with their state as plain arrays (saved in checkpoints)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

SCHEDULES = ("constant", "exponential", "cosine")


@dataclass
class Schedule:
    """Learning rate of epoch e (from 0): constant; exponential lr * decay^e; cosine from lr
    down to lr * final over ``epochs``."""

    lr: float
    kind: str = "constant"
    decay: float = 1.0
    epochs: int = 1
    final: float = 0.0

    def at(self, epoch: int) -> float:
        if self.kind == "exponential":
            return self.lr * self.decay ** epoch
        if self.kind == "cosine":
            x = min(epoch / max(self.epochs - 1, 1), 1.0)
            return self.lr * (self.final + (1 - self.final) * 0.5 * (1 + math.cos(math.pi * x)))
        return self.lr


@dataclass
class Adam:
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    m: np.ndarray = field(default=None, repr=False)
    v: np.ndarray = field(default=None, repr=False)
    t: int = 0

    def step(self, x: np.ndarray, g: np.ndarray, lr: float) -> None:
        """x -= lr * m_hat / (sqrt(v_hat) + eps), in place."""
        if self.m is None:
            self.m = np.zeros_like(x)
            self.v = np.zeros_like(x)
        self.t += 1
        self.m *= self.beta1
        self.m += (1 - self.beta1) * g
        self.v *= self.beta2
        self.v += (1 - self.beta2) * g * g
        mh = self.m / (1 - self.beta1 ** self.t)
        vh = self.v / (1 - self.beta2 ** self.t)
        x -= lr * mh / (np.sqrt(vh) + self.eps)

    def state(self) -> dict:
        return {"m": self.m, "v": self.v, "t": np.asarray(self.t)}

    def load(self, st: dict) -> None:
        self.m, self.v, self.t = np.array(st["m"]), np.array(st["v"]), int(st["t"])


@dataclass
class SGD:
    momentum: float = 0.0
    buf: np.ndarray = field(default=None, repr=False)

    def step(self, x: np.ndarray, g: np.ndarray, lr: float) -> None:
        if self.momentum:
            if self.buf is None:
                self.buf = np.zeros_like(x)
            self.buf *= self.momentum
            self.buf += g
            g = self.buf
        x -= lr * g

    def state(self) -> dict:
        return {"buf": self.buf if self.buf is not None else np.zeros(0)}

    def load(self, st: dict) -> None:
        b = np.array(st["buf"])
        self.buf = b if b.size else None


def clip_norm(g: np.ndarray, max_norm: float | None) -> np.ndarray:
    """g scaled by min(1, max_norm / ||g||_2) (unchanged without max_norm): a step in the
    gradient's direction whose size no single batch can blow up."""
    if max_norm is None:
        return g
    norm = float(np.sqrt(np.dot(g, g)))
    return g * (max_norm / norm) if norm > max_norm else g


def decay_weights(x: np.ndarray, rate: float, lr: float, lr0: float) -> None:
    """Decoupled weight decay (Loshchilov & Hutter 2019, AdamW), in place: x *= 1 - rate * lr / lr0,
    the rate per optimiser step scaled by the schedule's factor lr / lr0; the optimiser's step then
    follows on the decayed x. Unlike an L2 term in the loss, Adam's per-parameter scaling does not
    weaken it where gradients are large."""
    if rate:
        x *= 1.0 - rate * lr / lr0


def make(kind: str, **kw):
    if kind == "adam":
        return Adam(**{k: v for k, v in kw.items() if k in ("beta1", "beta2", "eps") and v is not None})
    if kind == "sgd":
        return SGD(**{k: v for k, v in kw.items() if k == "momentum" and v is not None})
    raise ValueError(f"unknown optimizer {kind!r}")
