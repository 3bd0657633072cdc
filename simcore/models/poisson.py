"""poisson: a source of independent Poisson spike trains.

Exact mode: inter-spike intervals are exponential with mean 1/rate (spikes in [start, stop)).
Grid mode: each step spikes with probability rate*dt, as Brian2's PoissonGroup does, drawn
as a geometric number of silent steps so that a silent source costs nothing.
Draws come from :mod:`simcore.rng`, keyed by seed, population and neuron, so the trains do
not depend on the rest of the network or on the number of threads.
"""
from __future__ import annotations

import math

from ..jit import kernel

from netspec.model_spec import SOURCE, ModelSpec, Param, StateVar

from ..rng import uniform

MODEL = ModelSpec(
    name="poisson",
    kind=SOURCE,
    doc="independent Poisson spike trains",
    params={
        "rate": Param("hertz", None, "mean rate", min=0, typical=("0 Hz", "10 kHz")),
        "start": Param("second", "0 s", "no spikes before this time", min=0),
        "stop": Param("second", "inf s", "no spikes from this time on", min=0),
    },
    state={"count": StateVar("1", 0.0, doc="spikes drawn so far (the random stream's counter)")},
)

COLUMNS = ("rate", "start", "stop")
RATE, START, STOP = range(3)
COUNT = 0


def derive(p: dict) -> dict:
    return {}


@kernel(refcounted=False)
def next_spike(s, p, i, t_prev, key, dt):
    """The next spike time after ``t_prev`` (a grid time n*dt in grid mode, dt > 0); inf if none.

    Called first with t_prev = -inf."""
    rate = p[i, RATE]
    if rate <= 0.0:
        return math.inf
    u = uniform(key, s[i, COUNT])
    s[i, COUNT] += 1.0
    if dt > 0.0:
        q = rate * dt
        if t_prev == -math.inf:
            n_prev = math.ceil(p[i, START] / dt - 1e-9) - 1
        else:
            n_prev = round(t_prev / dt)
        if q >= 1.0:
            n = n_prev + 1
        else:
            n = n_prev + 1 + math.floor(math.log(u) / math.log1p(-q))
        t = n * dt
    else:
        t0 = p[i, START] if t_prev == -math.inf else t_prev
        t = t0 - math.log(u) / rate
    if t >= p[i, STOP]:
        return math.inf
    return t


BRIAN2 = None  # fed to Brian2 as a SpikeGeneratorGroup of the trains drawn here
