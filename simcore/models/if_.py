"""if: non-leaky integrate-and-fire neuron with delta synapses.

    tau_m dv/dt = i_bias                    (v held at v_reset while refractory)
    an input of weight w adds w to v unless refractory; spike when v reaches v_th

Between inputs v rises (or falls) linearly: v(h) = v0 + h i_bias / tau_m.
"""
from __future__ import annotations

from ..jit import kernel

from netspec.model_spec import NEURON, Constraint, ModelSpec, Param, Port, StateVar

MODEL = ModelSpec(
    name="if",
    kind=NEURON,
    doc="non-leaky integrate-and-fire, delta synapses",
    params={
        "tau_m": Param("second", "10 ms", "time scale of the drive: dv/dt = i_bias / tau_m", min=0, open_min=True,
                       typical=("0.1 ms", "10 s")),
        "v_th": Param("volt", "-55 mV", "threshold", typical=("-2 V", "2 V")),
        "v_reset": Param("volt", "-70 mV", "reset potential", typical=("-2 V", "2 V")),
        "t_ref": Param("second", "2 ms", "refractory period (inputs during it are lost)", min=0,
                       typical=("0 ms", "100 ms")),
        "i_bias": Param("volt", "0 V", "constant drive", typical=("-2 V", "2 V")),
    },
    state={"v": StateVar("volt", default_from="v_reset", doc="membrane potential")},
    ports={"exc": Port("volt", "v += w"), "inh": Port("volt", "v += w")},
    default_port="exc",
    constraints=(Constraint("v_reset", "<", "v_th", "a reset at or above threshold would fire forever"),),
)

COLUMNS = ("tau_m", "v_th", "v_reset", "t_ref", "i_bias", "slope")
TAU_M, V_TH, V_RESET, T_REF, I_BIAS, SLOPE = range(6)
V = 0


def derive(p: dict) -> dict:
    return {"slope": p["i_bias"] / p["tau_m"]}


@kernel(refcounted=False)
def advance(s, p, i, t0, t1, ref_until):
    h = t1 - max(t0, ref_until)
    if h > 0.0:
        s[i, V] += h * p[i, SLOPE]


@kernel(refcounted=False)
def threshold_terms(s, p, i, rate, a, b):
    rate[0] = 0.0
    a[0] = s[i, V] - p[i, V_TH]
    b[0] = p[i, SLOPE]
    return 1


@kernel(refcounted=False)
def apply_input(s, p, i, port, w, refractory):
    if not refractory:
        s[i, V] += w


@kernel(refcounted=False)
def reset(s, p, i):
    s[i, V] = p[i, V_RESET]
    return p[i, T_REF]


JUMPS_ON_INPUT = True

LOWERED_BY_NEGATIVE_INPUT = True   # w <= 0 lowers v's whole future course (see lif_exp)

BRIAN2 = {
    "equations": "dv/dt = i_bias / tau_m : volt (unless refractory)\n",
    "threshold": "v > v_th",
    "reset": "v = v_reset",
    "refractory": "t_ref",
    "on_pre": {"exc": "v_post += w * int(not_refractory_post)", "inh": "v_post += w * int(not_refractory_post)"},
    # Brian2's "exact" (linear) solver refuses dv/dt = const ("Cannot solve the given equations");
    # Euler's step v += dt * i_bias / tau_m is exact for a constant slope.
    "method": "euler",
}
