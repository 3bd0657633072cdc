"""alif: lif_exp with an adaptive threshold.

    the membrane and currents follow lif_exp;  tau_a da/dt = -a
    spike when v crosses v_th + a; then v <- v_reset and a <- a + beta

The threshold distance v - v_th - a stays an exponential polynomial (one more term,
-a0 exp(-x/tau_a)), so the exact crossing search of lif_exp applies unchanged.
"""
from __future__ import annotations

import math

from ..jit import kernel

from netspec.model_spec import NEURON, ModelSpec, Param, StateVar

from . import lif_exp as base

MODEL = ModelSpec(
    name="alif",
    kind=NEURON,
    doc="lif_exp with a threshold that jumps by beta at each spike and decays back with tau_a",
    params={
        **base.MODEL.params,
        "tau_a": Param("second", "200 ms", "adaptation time constant", min=0, open_min=True,
                       typical=("1 ms", "100 s")),
        "beta": Param("volt", "1 mV", "threshold increase per spike", typical=("-1 V", "1 V")),
    },
    state={**base.MODEL.state, "a": StateVar("volt", 0.0, doc="threshold adaptation (threshold is v_th + a)")},
    ports=base.MODEL.ports,
    default_port=base.MODEL.default_port,
    constraints=base.MODEL.constraints,
)

COLUMNS = base.COLUMNS + ("tau_a", "beta", "inv_ta")
TAU_A, BETA, INV_TA = range(len(base.COLUMNS), len(base.COLUMNS) + 3)
A = 3


def derive(p: dict) -> dict:
    return {**base.derive(p), "inv_ta": 1.0 / p["tau_a"]}


@kernel(refcounted=False)
def advance(s, p, i, t0, t1, ref_until):
    base.advance(s, p, i, t0, t1, ref_until)
    h = t1 - t0
    if h > 0.0 and s[i, A] != 0.0:
        s[i, A] *= math.exp(-h * p[i, INV_TA])


@kernel(refcounted=False)
def threshold_terms(s, p, i, rate, a, b):
    n = base.threshold_terms(s, p, i, rate, a, b)
    a0 = s[i, A]
    if a0 != 0.0:
        r = p[i, INV_TA]
        for k in range(n):
            if rate[k] == r:
                a[k] -= a0
                return n
        rate[n] = r
        a[n] = -a0
        b[n] = 0.0
        n += 1
    return n


apply_input = base.apply_input


@kernel(refcounted=False)
def reset(s, p, i):
    s[i, A] += p[i, BETA]
    return base.reset(s, p, i)


JUMPS_ON_INPUT = False

LOWERED_BY_NEGATIVE_INPUT = True   # w <= 0 lowers v's whole future course (see lif_exp)

BRIAN2 = {
    **base.BRIAN2,
    "equations": base.BRIAN2["equations"] + "da/dt = -a / tau_a : volt\n",
    "threshold": "v > v_th + a",
    "reset": "v = v_reset\na += beta",
}

