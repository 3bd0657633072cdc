"""egru: the event-based gated recurrent unit (Subramoney et al., ICLR 2023), in discrete time.

Per unit i and step t, with v the values arriving on each gate's port (events y of other
units, one step delayed on recurrent projections, or sequence inputs):

    u_t = sigmoid(b_u + sum_j W_u[i, j] v_j)                 update gate
    r_t = sigmoid(b_r + sum_j W_r[i, j] v_j)                 reset gate
    z_t = tanh(b_z + sum_j W_z[i, j] v_j + sum_j W_zr[i, j] r_j,t y_j,t-1)
    c~  = u_t z_t + (1 - u_t) c_{t-1}
    reset: event       c_t = c~ - y_{t-1}                    (the paper; the default)
           threshold   c_t = c~ - theta H(c~ - theta)        (EvNN: subtract theta at once)
    y_t = c~' H(c~' - theta)     the event, carrying the value c (c~' = c before a threshold reset)

W_zr are a population's own recurrent z weights (projections from the population to itself,
one step delayed): as in the paper, each presynaptic unit's reset gate scales its event,
z = tanh(W_z [x_t, r_t * y_{t-1}] + b_z). A unit with no input and no event of its own has
constant gates u* = sigmoid(b_u), z* = tanh(b_z), so k silent steps have the closed form
c_k = z* + (1 - u*)^k (c_0 - z*); the gated engine (simcore/egru) skips such units and predicts
their next threshold crossing from it.

This file only declares the model (the netlist layer reads it); the kernels are in
``simcore/egru`` and run on their own engine, so it defines none of the spiking engine's
kernel names (advance, threshold_terms, apply_input, reset, next_spike).
"""
from __future__ import annotations

from netspec.model_spec import GATED, ModelSpec, Param, Port, StateVar

#: the paper's threshold initialisation: Beta(3m/(1-m), 3), mean m = 0.3
THETA_MEAN = 0.3
THETA_INIT = {"beta": {"a": 3 * THETA_MEAN / (1 - THETA_MEAN), "b": 3.0}}

RESET_FORMS = ("event", "threshold")

MODEL = ModelSpec(
    name="egru",
    kind=GATED,
    doc="event-based gated recurrent unit (EGRU): graded events carrying c, one step per sequence element",
    params={
        "b_u": Param("1", 0.0, "update-gate bias"),
        "b_r": Param("1", 0.0, "reset-gate bias"),
        "b_z": Param("1", 0.0, "candidate bias"),
        "theta": Param("1", THETA_INIT, "threshold; default Beta(9/7, 3) (mean 0.3), as in the paper",
                       min=0, open_min=True),
        "reset": Param("1", "event", "reset form: event (c_t = ... - y_{t-1}, the paper) or threshold "
                                     "(c -= theta at once, EvNN)", choices=RESET_FORMS),
        "gamma": Param("1", 0.7, "training: height of the pseudo-derivative gamma max(0, 1 - beta |c - theta|)",
                       min=0),
        "beta": Param("1", 1.0, "training: steepness of the pseudo-derivative (support |c - theta| < 1/beta)",
                      min=0, open_min=True),
    },
    state={
        "c": StateVar("1", 0.0, doc="internal state"),
        "y": StateVar("1", 0.0, doc="event of the step (c if c crossed theta, else 0); initial: an event at step -1"),
    },
    ports={
        "gates": Port("1", "all three gates: weights drawn independently per gate from the weight distribution"),
        "u": Port("1", "update gate"),
        "r": Port("1", "reset gate"),
        "z": Port("1", "candidate (on a population's own one-step recurrent projection: scaled by the sender's r)"),
    },
    default_port="gates",
    time_modes=("steps", "grid"),
)

#: the order of the parameter columns in simcore/egru
COLUMNS = ("b_u", "b_r", "b_z", "theta", "reset", "gamma", "beta")

BRIAN2 = None  # no Brian2 translation: event-gated units run on evsim's gated engine only
