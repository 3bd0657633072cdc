"""lif_exp: leaky integrate-and-fire neuron with exponentially decaying synaptic currents.

    tau_m   dv/dt     = e_l - v + i_exc + i_inh + i_bias      (v held at v_reset while refractory)
    tau_exc di_exc/dt = -i_exc                                (keeps decaying while refractory)
    tau_inh di_inh/dt = -i_inh
    spike when v crosses v_th from below; then v <- v_reset for t_ref
    an input of weight w on port exc (inh) adds w to i_exc (i_inh)

Currents are written in volts, as in Brette et al.'s CUBA benchmark in Brian2 (a current I
into a membrane of resistance R is R*I here); with e_l = 0, v_th = 1 this is the
dimensionless form of the EventProp papers. Between inputs the state is propagated exactly
(Rotter & Diesmann 1999): with u = v_inf = e_l + i_bias, e_x = exp(-h/tau_x),

    v(h) = u + (v0 - u) e_m + sum_s i_s0 P_s(h),
    P_s(h) = tau_s/(tau_s - tau_m) (e_s - e_m) = (h/tau_m) e_m phi1(h (tau_s - tau_m)/(tau_s tau_m)),

the second form (phi1(x) = expm1(x)/x) being used when tau_s is close to tau_m.
"""
from __future__ import annotations

import math

import numpy as np
from ..egru.gate_math import exp as vexp
from ..jit import kernel

from netspec.model_spec import NEURON, Constraint, ModelSpec, Param, Port, StateVar

MODEL = ModelSpec(
    name="lif_exp",
    kind=NEURON,
    doc="leaky integrate-and-fire, exponential synaptic currents (excitatory and inhibitory ports)",
    params={
        "tau_m": Param("second", "10 ms", "membrane time constant", min=0, open_min=True, typical=("0.1 ms", "1 s")),
        "tau_exc": Param("second", "2 ms", "excitatory current time constant", min=0, open_min=True,
                         typical=("0.01 ms", "1 s")),
        "tau_inh": Param("second", "2 ms", "inhibitory current time constant", min=0, open_min=True,
                         typical=("0.01 ms", "1 s")),
        "e_l": Param("volt", "-70 mV", "resting potential", typical=("-2 V", "2 V")),
        "v_th": Param("volt", "-55 mV", "threshold", typical=("-2 V", "2 V")),
        "v_reset": Param("volt", "-70 mV", "reset potential", typical=("-2 V", "2 V")),
        "t_ref": Param("second", "2 ms", "refractory period", min=0, typical=("0 ms", "100 ms")),
        "i_bias": Param("volt", "0 V", "constant input (v relaxes to e_l + i_bias)", typical=("-2 V", "2 V")),
    },
    state={
        "v": StateVar("volt", default_from="e_l", doc="membrane potential"),
        "i_exc": StateVar("volt", 0.0, doc="excitatory synaptic current (in volts)"),
        "i_inh": StateVar("volt", 0.0, doc="inhibitory synaptic current (in volts)"),
    },
    ports={"exc": Port("volt", "adds w to i_exc"), "inh": Port("volt", "adds w to i_inh")},
    default_port="exc",
    constraints=(Constraint("v_reset", "<", "v_th", "a reset at or above threshold would fire forever"),),
)

#: the engine's per-neuron columns, in kernel order: parameters, then derive()'s constants
COLUMNS = ("tau_m", "tau_exc", "tau_inh", "e_l", "v_th", "v_reset", "t_ref", "i_bias",
           "inv_tm", "inv_te", "inv_ti", "k_e", "k_i", "v_inf")
TAU_M, TAU_E, TAU_I, E_L, V_TH, V_RESET, T_REF, I_BIAS, INV_TM, INV_TE, INV_TI, K_E, K_I, V_INF = range(14)
V, IE, II = range(3)

# |k| above this: tau_s so close to tau_m that k (e_s - e_m) would lose digits; use phi1
NEAR = 1e3


def derive(p: dict) -> dict:
    """Per-neuron constants the kernels use (arrays like the parameters)."""
    tm, te, ti = p["tau_m"], p["tau_exc"], p["tau_inh"]
    with np.errstate(divide="ignore"):
        k_e = np.where(te == tm, np.inf, te / (te - tm))
        k_i = np.where(ti == tm, np.inf, ti / (ti - tm))
    return {"inv_tm": 1.0 / tm, "inv_te": 1.0 / te, "inv_ti": 1.0 / ti, "k_e": k_e, "k_i": k_i,
            "v_inf": p["e_l"] + p["i_bias"]}


@kernel(refcounted=False)
def _phi1(x):
    if abs(x) < 1e-5:
        return 1.0 + x * (0.5 + x / 6.0)
    return math.expm1(x) / x


@kernel(refcounted=False)
def _psc(h, e_m, e_s, k, inv_tm, tau_s, tau_m):
    """P_s(h): the voltage a unit current of time constant tau_s adds over h from v = 0."""
    if abs(k) < NEAR:
        return k * (e_s - e_m)
    return h * inv_tm * e_m * _phi1(h * (tau_s - tau_m) / (tau_s * tau_m))


@kernel(refcounted=False)
def advance(s, p, i, t0, t1, ref_until):
    """State of neuron i from t0 to t1 with no input; v held until ref_until."""
    h = t1 - t0
    if h <= 0.0:
        return
    ie = s[i, IE]
    ii = s[i, II]
    if ref_until > t0:
        # refractory part: v stays at its reset value while the currents decay
        hr = min(ref_until, t1) - t0
        if ie != 0.0:
            ie *= math.exp(-hr * p[i, INV_TE])
        if ii != 0.0:
            ii *= math.exp(-hr * p[i, INV_TI])
        h -= hr
        if h <= 0.0:
            s[i, IE] = ie
            s[i, II] = ii
            return
    e_m = math.exp(-h * p[i, INV_TM])
    v_inf = p[i, V_INF]
    v = v_inf + (s[i, V] - v_inf) * e_m
    if ie != 0.0:
        e_e = math.exp(-h * p[i, INV_TE])
        v += ie * _psc(h, e_m, e_e, p[i, K_E], p[i, INV_TM], p[i, TAU_E], p[i, TAU_M])
        ie *= e_e
    if ii != 0.0:
        e_i = math.exp(-h * p[i, INV_TI])
        v += ii * _psc(h, e_m, e_i, p[i, K_I], p[i, INV_TM], p[i, TAU_I], p[i, TAU_M])
        ii *= e_i
    s[i, V] = v
    s[i, IE] = ie
    s[i, II] = ii


@kernel(refcounted=False)
def threshold_terms(s, p, i, rate, a, b):
    """v(x) - v_th as sum_k (a_k + b_k x) exp(-rate_k x), x the time since the state's time;
    returns the number of terms. (Particular solution of a current i_s0: i_s0 k_s e^{-x/tau_s}.)"""
    v_inf = p[i, V_INF]
    rate[0] = 0.0
    a[0] = v_inf - p[i, V_TH]
    b[0] = 0.0
    rate[1] = p[i, INV_TM]
    a[1] = s[i, V] - v_inf
    b[1] = 0.0
    n = 2
    ie = s[i, IE]
    ii = s[i, II]
    if ie != 0.0:
        k = p[i, K_E]
        if math.isinf(k):
            b[1] += ie * p[i, INV_TM]          # tau_exc == tau_m: a t e^{-t/tau_m} term
        else:
            rate[n] = p[i, INV_TE]
            a[n] = ie * k
            b[n] = 0.0
            a[1] -= ie * k
            n += 1
    if ii != 0.0:
        k = p[i, K_I]
        if math.isinf(k):
            b[1] += ii * p[i, INV_TM]
        elif n == 3 and rate[2] == p[i, INV_TI]:
            a[2] += ii * k                     # same time constant as i_exc: one term
            a[1] -= ii * k
        else:
            rate[n] = p[i, INV_TI]
            a[n] = ii * k
            b[n] = 0.0
            a[1] -= ii * k
            n += 1
    return n


@kernel(refcounted=False)
def apply_input(s, p, i, port, w, refractory):
    if port == 0:
        s[i, IE] += w
    else:
        s[i, II] += w


@kernel(refcounted=False)
def reset(s, p, i):
    """Applies the reset; returns the refractory period."""
    s[i, V] = p[i, V_RESET]
    return p[i, T_REF]


@kernel(refcounted=False, inline="always")
def _decay(x):
    """e^x for x <= 0 without a call, so that a loop over neurons vectorizes: gate_math's exp
    (within one ulp of libm's), and 0 below -708, where that one stops at e^-708 (libm's is below
    3.3e-308 there: a current decays to exactly zero, as in advance after long enough)."""
    e = vexp(x)
    return e if x > -708.0 else 0.0


@kernel(refcounted=False, inline="always")
def batch_ok(s, p, i):
    """Whether the engine may take neuron i's update (one input, not refractory, before its safe
    time) in a batch (update_batch): its time constants apart, so that update_batch's closed form
    and four plain threshold terms are exactly advance's and threshold_terms'."""
    return abs(p[i, K_E]) < NEAR and abs(p[i, K_I]) < NEAR and p[i, INV_TE] != p[i, INV_TI]


@kernel(refcounted=False, inline="always")
def input_update(v, ie, ii, tm, te, ti, v_inf, v_th, k_e, k_i, w, port, e_m, e_e, e_i):
    """One update in the common case (batch_ok, not refractory), given e^{-h r} for r = 1/tau_m,
    1/tau_exc, 1/tau_inh (tm, te, ti): advance's closed form over h, the input of weight w at
    port (0: exc), then threshold_terms' four plain terms after it, g(x) = a_0 + a_m e^{-x/tau_m}
    + a_e e^{-x/tau_exc} + a_i e^{-x/tau_inh}, and from them crossing.safe_time's bound (with
    selects for its branches, so that a loop of these vectorizes) and upper_bound's over all
    time, a_0 + sum_k max(a_k, 0). Returns (v, i_exc, i_inh, safe time, bound)."""
    v = v_inf + (v - v_inf) * e_m + ie * (k_e * (e_e - e_m)) + ii * (k_i * (e_i - e_m))
    ie = ie * e_e + (w if port == 0 else 0.0)
    ii = ii * e_i + (w if port != 0 else 0.0)
    a_0 = v_inf - v_th
    a_e = ie * k_e
    a_i = ii * k_i
    a_m = v - v_inf - a_e - a_i
    # safe_time: slopes -r_k a_k, their positive parts (M1), curvatures r_k^2 a_k (M2)
    d_m = -tm * a_m
    d_e = -te * a_e
    d_i = -ti * a_i
    g0 = a_0 + a_m + a_e + a_i
    s1 = d_m + d_e + d_i
    m1 = max(d_m, 0.0) + max(d_e, 0.0) + max(d_i, 0.0)
    m2 = max(-tm * d_m, 0.0) + max(-te * d_e, 0.0) + max(-ti * d_i, 0.0)
    x1 = -g0 / m1
    root = math.sqrt(max(s1 * s1 - 2.0 * m2 * g0, 0.0))
    x2 = -2.0 * g0 / (s1 + root) if s1 >= 0.0 else (root - s1) / m2
    xs = x2 if x2 > x1 else x1
    xs = (math.inf if s1 <= 0.0 else -g0 / s1) if m2 <= 0.0 else xs
    xs = math.inf if m1 <= 0.0 else xs
    xs = 0.0 if g0 >= 0.0 else xs
    return v, ie, ii, xs, a_0 + max(a_m, 0.0) + max(a_e, 0.0) + max(a_i, 0.0)


@kernel(refcounted=False)
def update_batch(s, p, prow, j, h, w, port, nb, cols, x_safe, bound):
    """The exact-mode engine's batched update of neurons j[:nb] (batch_ok, not refractory, no
    crossing before the input): input_update for each, advancing it by h[x] with an input of
    weight w[x] at port[x]; the safe times into x_safe, the bounds into bound. The state and
    parameter rows are gathered into ``cols`` (10 rows of at least nb), so that the update is one
    loop without calls or branches, which the compiler vectorizes (_decay's exponential), and the
    state is scattered back."""
    for x in range(nb):
        n = np.int64(j[x])
        r = prow[n]
        cols[V, x] = s[n, V]
        cols[IE, x] = s[n, IE]
        cols[II, x] = s[n, II]
        cols[3, x] = p[r, INV_TM]
        cols[4, x] = p[r, INV_TE]
        cols[5, x] = p[r, INV_TI]
        cols[6, x] = p[r, V_INF]
        cols[7, x] = p[r, V_TH]
        cols[8, x] = p[r, K_E]
        cols[9, x] = p[r, K_I]
    for x in range(nb):
        tm, te, ti = cols[3, x], cols[4, x], cols[5, x]
        cols[V, x], cols[IE, x], cols[II, x], x_safe[x], bound[x] = input_update(
            cols[V, x], cols[IE, x], cols[II, x], tm, te, ti, cols[6, x], cols[7, x], cols[8, x], cols[9, x],
            w[x], port[x], _decay(-h[x] * tm), _decay(-h[x] * te), _decay(-h[x] * ti))
    for x in range(nb):
        n = np.int64(j[x])
        s[n, V] = cols[V, x]
        s[n, IE] = cols[IE, x]
        s[n, II] = cols[II, x]


#: inputs change currents, not v: no threshold test right after an input
JUMPS_ON_INPUT = False

#: an input of weight w <= 0 adds w times a non-negative kernel to v's whole future course, so it
#: never brings a threshold crossing earlier: the engine keeps its prediction after such inputs
LOWERED_BY_NEGATIVE_INPUT = True

BRIAN2 = {
    "equations": """
dv/dt = (e_l - v + i_exc + i_inh + i_bias) / tau_m : volt (unless refractory)
di_exc/dt = -i_exc / tau_exc : volt
di_inh/dt = -i_inh / tau_inh : volt
""",
    "threshold": "v > v_th",
    "reset": "v = v_reset",
    "refractory": "t_ref",
    "on_pre": {"exc": "i_exc_post += w", "inh": "i_inh_post += w"},
    "method": "exact",
}
