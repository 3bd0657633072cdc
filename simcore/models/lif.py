"""lif: leaky integrate-and-fire neuron with delta synapses (an input makes v jump).

    tau_m dv/dt = e_l - v + i_bias          (v held at v_reset while refractory)
    an input of weight w adds w to v, unless the neuron is refractory (then it is lost,
    as in NEST's iaf_psc_delta); spike when v reaches v_th, then v <- v_reset for t_ref

Between inputs v(h) = u + (v0 - u) exp(-h/tau_m), u = e_l + i_bias. In exact mode a jump
that takes v to v_th or above fires at the jump's time; in grid mode v is tested at the next
grid point, as Brian2 does. Both ports (exc, inh) add to v; the sign is the weight's.
"""
from __future__ import annotations

import math

from ..jit import kernel

from netspec.model_spec import NEURON, Constraint, ModelSpec, Param, Port, StateVar

MODEL = ModelSpec(
    name="lif",
    kind=NEURON,
    doc="leaky integrate-and-fire, delta synapses (v jumps by the weight)",
    params={
        "tau_m": Param("second", "10 ms", "membrane time constant", min=0, open_min=True, typical=("0.1 ms", "1 s")),
        "e_l": Param("volt", "-70 mV", "resting potential", typical=("-2 V", "2 V")),
        "v_th": Param("volt", "-55 mV", "threshold", typical=("-2 V", "2 V")),
        "v_reset": Param("volt", "-70 mV", "reset potential", typical=("-2 V", "2 V")),
        "t_ref": Param("second", "2 ms", "refractory period (inputs during it are lost)", min=0,
                       typical=("0 ms", "100 ms")),
        "i_bias": Param("volt", "0 V", "constant input (v relaxes to e_l + i_bias)", typical=("-2 V", "2 V")),
    },
    state={"v": StateVar("volt", default_from="e_l", doc="membrane potential")},
    ports={"exc": Port("volt", "v += w"), "inh": Port("volt", "v += w")},
    default_port="exc",
    constraints=(Constraint("v_reset", "<", "v_th", "a reset at or above threshold would fire forever"),),
)

COLUMNS = ("tau_m", "e_l", "v_th", "v_reset", "t_ref", "i_bias", "inv_tm", "v_inf")
TAU_M, E_L, V_TH, V_RESET, T_REF, I_BIAS, INV_TM, V_INF = range(8)
V = 0


def derive(p: dict) -> dict:
    return {"inv_tm": 1.0 / p["tau_m"], "v_inf": p["e_l"] + p["i_bias"]}


@kernel(refcounted=False)
def advance(s, p, i, t0, t1, ref_until):
    h = t1 - max(t0, ref_until)
    if h <= 0.0:
        return
    v_inf = p[i, V_INF]
    s[i, V] = v_inf + (s[i, V] - v_inf) * math.exp(-h * p[i, INV_TM])


@kernel(refcounted=False)
def threshold_terms(s, p, i, rate, a, b):
    v_inf = p[i, V_INF]
    rate[0] = 0.0
    a[0] = v_inf - p[i, V_TH]
    b[0] = 0.0
    rate[1] = p[i, INV_TM]
    a[1] = s[i, V] - v_inf
    b[1] = 0.0
    return 2


@kernel(refcounted=False)
def apply_input(s, p, i, port, w, refractory):
    if not refractory:
        s[i, V] += w


@kernel(refcounted=False)
def reset(s, p, i):
    s[i, V] = p[i, V_RESET]
    return p[i, T_REF]


#: an input makes v jump: in exact mode the threshold is tested right after it
JUMPS_ON_INPUT = True

LOWERED_BY_NEGATIVE_INPUT = True   # w <= 0 lowers v's whole future course (see lif_exp)

BRIAN2 = {
    "equations": "dv/dt = (e_l - v + i_bias) / tau_m : volt (unless refractory)\n",
    "threshold": "v > v_th",
    "reset": "v = v_reset",
    "refractory": "t_ref",
    "on_pre": {"exc": "v_post += w * int(not_refractory_post)", "inh": "v_post += w * int(not_refractory_post)"},
    "method": "exact",
}
