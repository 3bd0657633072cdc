"""Gradient estimators behind one interface: ``estimate(name, ...) -> Gradient``.

* ``eventprop``: exact adjoint gradients (eventprop.py), one forward and one backward pass.
* ``finite_difference``: central differences (finite_difference.py), on any backend.

Both return gradients shaped like the network's concatenated weight and delay arrays (per
projection: ``Gradient.of(net, name)``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import eventprop as ep
from .finite_difference import finite_difference, simulate

ESTIMATORS = ("eventprop", "finite_difference")


@dataclass
class Gradient:
    loss: float
    weight: np.ndarray      # (S,) dL/dw (NaN where an estimator has none)
    delay: np.ndarray       # (S,) dL/dd
    evaluation: object = None

    def of(self, net, proj: str, what: str) -> np.ndarray:
        return (self.weight if what == "weight" else self.delay)[net.slices[proj]]


def eventprop_gradient(net, layout, loss, trials, labels, max_spikes: int = 4096) -> Gradient:
    spikes = ep.forward(net, trials, max_spikes)
    ev = loss.evaluate(net, layout, spikes, labels)
    gw, gd = ep.backward(net, spikes, ev.dl_dt, ev.readouts, ev.dl_dv)
    return Gradient(ev.loss, gw, gd, ev)


def objective(layout, loss, trials, labels, backend: str = "eventprop", max_spikes: int = 4096):
    """net -> (batch loss, spike counts) on a backend: what finite differences vary."""

    def f(net):
        spikes = simulate(net, trials, backend, max_spikes)
        ev = loss.evaluate(net, layout, spikes, labels, need_grad=False)
        return ev.loss, ev.counts

    return f


def fd_gradient(net, layout, loss, trials, labels, indices: dict | None = None, backend: str = "eventprop",
                steps: dict | None = None, max_spikes: int = 4096, progress=None) -> Gradient:
    """Central differences for the synapses in ``indices`` (group -> global synapse indices;
    default: all); the others are NaN."""
    if indices is None:
        indices = {"weight": np.arange(net.n_syn), "delay": np.arange(net.n_syn)}
    f = objective(layout, loss, trials, labels, backend, max_spikes)
    value, _ = f(net)
    got = finite_difference(net, f, indices, steps, progress)
    gw = np.full(net.n_syn, np.nan)
    gd = np.full(net.n_syn, np.nan)
    if "weight" in got:
        gw[indices["weight"]] = got["weight"]
    if "delay" in got:
        gd[indices["delay"]] = got["delay"]
    return Gradient(value, gw, gd)


def relative_error(a: np.ndarray, b: np.ndarray) -> tuple[float, int]:
    """||a - b|| / ||b|| over the entries where both are finite, and how many those are."""
    ok = np.isfinite(a) & np.isfinite(b)
    n = int(ok.sum())
    if n == 0:
        return float("nan"), 0
    den = np.linalg.norm(b[ok])
    num = np.linalg.norm(a[ok] - b[ok])
    if den == 0:
        return (0.0 if num == 0 else float("inf")), n
    return float(num / den), n
