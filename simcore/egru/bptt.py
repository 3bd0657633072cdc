"""Surrogate-gradient back-propagation through time (BPTT) for event-gated (EGRU) networks, in
NumPy, vectorised over a batch of sequences.

The forward pass follows simcore/egru/reference.py (the equations of simcore/models/egru.py)
exactly, for a batch: per step t, and per EGRU population in processing order, for each unit i

    a_g   = b_g + sum_j W0_g[i, j] v_t,j + sum_j W1_g[i, j] y_t-1,j            g = u, r, z
    a_z  += sum_j WZG[i, j] r_t,j y_t-1,j      (own population, one step delayed, sender's r)
    u = sigmoid(a_u),  r = sigmoid(a_r),  z = tanh(a_z)
    c~    = u z + (1 - u) c_t-1 - e y_t-1       e = 1 for the event reset (paper), 0 for threshold
    H     = H(c~ - theta)
    y_t   = c~ H                                 (the event carries c)
    c_t   = c~ - (1 - e) theta H                 (threshold reset: subtract theta)

v_t is this step's value of every unit (sequence inputs, events of populations already updated
this step); W0 are delay-0 synapses, W1 delay-1 ones (a projection onto port ``gates`` is three
synapse sets, one per gate). With ``dense=True`` the same code runs a dense GRU: y_t = c~ every
step, c_t = c~ (no threshold, no reset).

Readout and loss: logits = scale * c_T[output] of the output population at the last step,
cross-entropy (optionally against label-smoothed targets) averaged over the batch, plus an
optional activity regulariser lambda * mean over (batch, steps, regularised units) of H.

Backward, for every step from the last, populations in reverse processing order, with
gy = dL/dy_t and gc = dL/dc_t accumulated from later steps and later populations: the Heaviside's
derivative is replaced by the pseudo-derivative psi = gamma max(0, 1 - beta |c~ - theta|), so

    dy/dc~ = H + c~ psi          dy/dtheta = -c~ psi
    dc/dc~ = 1 - (1 - e) theta psi      dc/dtheta = -(1 - e) (H - theta psi)
    g~ = dL/dc~ = gy (H + c~ psi) + gc (1 - (1 - e) theta psi) + lambda' psi
    dL/dc_t-1 += g~ (1 - u);  dL/dy_t-1 += -e g~
    da_u = g~ (z - c_t-1) u (1 - u);   da_z = g~ u (1 - z^2)
    da_r,j = (sum_i da_z,i WZG[i, j]) y_t-1,j r_j (1 - r_j);  dL/dy_t-1,j += r_j sum_i da_z,i WZG[i, j]
    dW0_g += da_g v_t^T;  dW1_g += da_g y_t-1^T;  dWZG += da_z (r y_t-1)^T;  db_g += da_g
    dL/dv_t += W0_g^T da_g (earlier populations of the same step);  dL/dy_t-1 += W1_g^T da_g

Away from threshold (|c~ - theta| >= 1/beta for every unit and step), psi = 0 and these are the
exact derivatives of the loss with the true Heaviside. Weight gradients are dense (post, pre)
matrices per delay and gate code, read back per synapse (a synapse's gradient is the entry of its
(delay, gate, post, pre)).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from netspec.errors import Problems

from .network import EGRU, PORT_GATES, R, U, Z, ZG, GatedNet, build, drawn_gate_weights, sigmoid


@dataclass
class SynSet:
    """The synapses of one projection onto one gate (what the netlist's weights are)."""

    proj: str
    gate: int            # U, R or Z (the port's gate)
    pre: np.ndarray      # global ids
    post: np.ndarray
    delay: np.ndarray    # int8, 0 or 1 step
    code: np.ndarray     # int8 gate code per synapse: U, R, Z or ZG
    w: np.ndarray        # float64 (trained in place)


class Model:
    """A gated network's trainable parameters: every projection's weights per gate, biases
    (N, 3), thresholds (N,); built from an expanded netlist exactly as simcore/egru/network.py
    builds the engine's arrays (the same drawn weights)."""

    def __init__(self, arrays, gn: GatedNet | None = None):
        self.arrays = arrays
        self.gn = gn if gn is not None else build(arrays)
        gn = self.gn
        net = arrays.netlist
        specs = {p.name: p for p in net.projections}
        problems = Problems()
        self.sets: list[SynSet] = []
        for proj in arrays.projections:
            if proj.size == 0:
                continue
            spec = specs[proj.name]
            d = np.rint(np.asarray(proj.delay, dtype=np.float64) / gn.dt).astype(np.int8)
            pre = proj.pre.astype(np.int64)
            post = proj.post.astype(np.int64)
            same = gn.unit_pop[pre] == gn.unit_pop[post]
            gates = PORT_GATES[proj.port]
            for g in gates:
                w = drawn_gate_weights(proj, spec, g, net.seed, problems)
                code = np.full(proj.size, g, dtype=np.int8)
                if g == Z:
                    code[(d == 1) & same] = ZG
                self.sets.append(SynSet(proj.name, g, pre, post, d, code, w))
        problems.raise_if_any()
        self.b = gn.b.copy()
        self.theta = gn.theta.copy()
        self.egru = [int(k) for k in gn.order if gn.kinds[k] == EGRU]

    @property
    def n(self) -> int:
        return self.gn.n

    def slice(self, k: int) -> slice:
        return slice(int(self.gn.offsets[k]), int(self.gn.offsets[k + 1]))

    def dense(self) -> np.ndarray:
        """W[delay, code, post, pre]: the summed weights (2, 4, N, N)."""
        n = self.n
        W = np.zeros((2, 4, n, n))
        for s in self.sets:
            np.add.at(W, (s.delay, s.code, s.post, s.pre), s.w)
        return W

    def gate_weights(self) -> dict:
        """projection -> {gate: weights}: what network.build takes to use these weights."""
        out: dict = {}
        for s in self.sets:
            out.setdefault(s.proj, {})[s.gate] = s.w.copy()
        return out

    def gated_net(self) -> GatedNet:
        """The engine's arrays with the current weights, biases and thresholds."""
        gn = build(self.arrays, self.gate_weights())
        gn.b[:] = self.b
        gn.theta[:] = self.theta
        return gn


@dataclass
class Tape:
    """What the backward pass needs, every array (T, B, N) (sources: zeros except v)."""

    v: np.ndarray        # value of every unit in each step (inputs, events; dense mode: c)
    c: np.ndarray        # state after the step
    ct: np.ndarray       # c~ (before a threshold reset)
    u: np.ndarray
    r: np.ndarray
    z: np.ndarray
    H: np.ndarray        # 1.0 where an event was sent (dense mode: 1 everywhere)
    c0: np.ndarray       # (B, N) initial state
    y0: np.ndarray
    W: np.ndarray        # the dense weights used
    dense: bool

    @property
    def n_steps(self) -> int:
        return self.v.shape[0]


def forward(model: Model, x: np.ndarray, inp: slice, dense: bool = False) -> Tape:
    """Runs a batch: x (B, T, n_in) the values of the input population ``inp`` (global slice)."""
    gn = model.gn
    B, T, _ = x.shape
    n = model.n
    W = model.dense()
    shape = (T, B, n)
    tape = Tape(*(np.zeros(shape) for _ in range(7)), np.broadcast_to(gn.c0, (B, n)).copy(),
                np.broadcast_to(gn.y0, (B, n)).copy(), W, dense)
    event = gn.mode == 0
    c = tape.c0.copy()
    y_prev = tape.y0
    b, theta = model.b, model.theta
    for t in range(T):
        v = tape.v[t]
        v[:, inp] = x[:, t]
        for k in model.egru:
            sl = model.slice(k)
            a = [b[sl, g] + v @ W[0, g, sl].T + y_prev @ W[1, g, sl].T for g in (U, R, Z)]
            u = sigmoid(a[U])
            r = sigmoid(a[R])
            az = a[Z] + (r * y_prev[:, sl]) @ W[1, ZG, sl, sl].T
            z = np.tanh(az)
            if dense:
                ct = u * z + (1.0 - u) * c[:, sl]
                H = np.ones_like(ct)
                y = ct
                cn = ct
            else:
                ct = u * z + (1.0 - u) * c[:, sl] - np.where(event[sl], y_prev[:, sl], 0.0)
                fire = ct > theta[sl]
                H = fire.astype(np.float64)
                y = np.where(fire, ct, 0.0)
                cn = np.where(fire & ~event[sl], ct - theta[sl], ct)
            c[:, sl] = cn
            v[:, sl] = y
            tape.ct[t, :, sl], tape.u[t, :, sl], tape.r[t, :, sl], tape.z[t, :, sl] = ct, u, r, z
            tape.H[t, :, sl] = H
            tape.c[t, :, sl] = cn
        y_prev = v
    return tape


@dataclass
class Grad:
    W: np.ndarray          # (2, 4, N, N) like Model.dense()
    b: np.ndarray          # (N, 3)
    theta: np.ndarray      # (N,)

    def per_set(self, model: Model) -> list:
        """The gradient of every SynSet's weights (same order and shape)."""
        return [self.W[s.delay, s.code, s.post, s.pre] for s in model.sets]


def pseudo(model: Model, ct: np.ndarray, sl: slice) -> np.ndarray:
    """psi = gamma max(0, 1 - beta |c~ - theta|) of the units ``sl``."""
    gn = model.gn
    return gn.gamma[sl] * np.maximum(0.0, 1.0 - gn.beta[sl] * np.abs(ct - model.theta[sl]))


def backward(model: Model, tape: Tape, gc_last: np.ndarray, reg: float = 0.0,
             reg_units: np.ndarray | None = None) -> Grad:
    """BPTT: gradients of L = loss(c_T) + reg * mean over (batch, steps, reg_units) of H, given
    gc_last = dL/dc_T (B, N) of the loss term."""
    gn = model.gn
    T, B, n = tape.v.shape
    W = tape.W
    gW = np.zeros_like(W)
    gb = np.zeros((n, 3))
    gth = np.zeros(n)
    event = (gn.mode == 0).astype(np.float64)
    reg_w = np.zeros(n)
    if reg and reg_units is not None and reg_units.size:
        reg_w[reg_units] = reg / (B * T * reg_units.size)
    gc = gc_last.copy()                   # dL/dc_t
    gy = np.zeros((B, n))                  # dL/dv_t (events of step t)
    for t in range(T - 1, -1, -1):
        v = tape.v[t]
        y_prev = tape.v[t - 1] if t > 0 else tape.y0
        c_prev = tape.c[t - 1] if t > 0 else tape.c0
        gy_prev = np.zeros((B, n))
        gc_prev = np.zeros((B, n))
        for k in reversed(model.egru):
            sl = model.slice(k)
            ct, u, r, z = tape.ct[t, :, sl], tape.u[t, :, sl], tape.r[t, :, sl], tape.z[t, :, sl]
            if tape.dense:
                g = gy[:, sl] + gc[:, sl]
            else:
                H = tape.H[t, :, sl]
                psi = pseudo(model, ct, sl)
                e = event[sl]
                th = model.theta[sl]
                g = gy[:, sl] * (H + ct * psi) + gc[:, sl] * (1.0 - (1.0 - e) * th * psi) + reg_w[sl] * psi
                gth[sl] += np.sum(-gy[:, sl] * ct * psi - gc[:, sl] * (1.0 - e) * (H - th * psi)
                                  - reg_w[sl] * psi, axis=0)
                gy_prev[:, sl] -= e * g
            gc_prev[:, sl] += g * (1.0 - u)
            da_u = g * (c_prev[:, sl] * -1.0 + z) * u * (1.0 - u)
            da_z = g * u * (1.0 - z * z)
            back_zg = da_z @ W[1, ZG, sl, sl]                     # sum_i da_z,i WZG[i, j]
            da_r = back_zg * y_prev[:, sl] * r * (1.0 - r)
            gy_prev[:, sl] += back_zg * r
            gW[1, ZG, sl, sl] += da_z.T @ (r * y_prev[:, sl])
            for gate, da in ((U, da_u), (R, da_r), (Z, da_z)):
                gb[sl, gate] += da.sum(axis=0)
                gW[0, gate, sl] += da.T @ v
                gW[1, gate, sl] += da.T @ y_prev
                gy += da @ W[0, gate, sl]
                gy_prev += da @ W[1, gate, sl]
        gy = gy_prev
        gc = gc_prev
    return Grad(gW, gb, gth)


def cross_entropy(logits: np.ndarray, labels: np.ndarray, smoothing: float = 0.0):
    """(per-sample loss, dL/dlogits of the batch mean): L = -sum_k q_k log softmax(logits)_k with
    the smoothed target q_k = smoothing / K + (1 - smoothing) [k = label] (Szegedy et al. 2016;
    smoothing 0: the plain cross-entropy), so dL/dlogits = p - q."""
    m = logits.max(axis=1, keepdims=True)
    e = np.exp(logits - m)
    p = e / e.sum(axis=1, keepdims=True)
    rows = np.arange(labels.size)
    q = np.full_like(p, smoothing / p.shape[1])
    q[rows, labels] += 1.0 - smoothing
    logp = np.log(np.maximum(p, 1e-300))
    per = -(q * logp).sum(axis=1)          # q one-hot at smoothing 0: exactly -log p[label]
    return per, (p - q) / labels.size


@dataclass
class Result:
    loss: float              # cross-entropy (batch mean) + regulariser
    per_sample: np.ndarray   # cross-entropy per sample
    predictions: np.ndarray
    events: np.ndarray       # (B,) events of the regularised (hidden) units per sample
    unit_events: np.ndarray  # (hidden units,) events of each over the batch
    silent: float            # fraction of (step, hidden unit) pairs without an event, over the batch
    grad: Grad | None


def loss_and_grad(model: Model, x: np.ndarray, labels: np.ndarray, inp: slice, out: slice, scale: float,
                  hidden: np.ndarray, reg: float = 0.0, dense: bool = False, need_grad: bool = True,
                  smoothing: float = 0.0) -> Result:
    """Forward, readout logits = scale * c_T[out], cross-entropy (with label ``smoothing``),
    activity regulariser on the ``hidden`` units' events (none in the dense GRU: y = c always), and
    (need_grad) the BPTT gradient."""
    tape = forward(model, x, inp, dense)
    logits = scale * tape.c[-1][:, out]
    per, glog = cross_entropy(logits, labels, smoothing)
    H = tape.H[:, :, hidden]
    act = float(H.mean()) if H.size else 0.0
    grad = None
    if need_grad:
        gc = np.zeros((x.shape[0], model.n))
        gc[:, out] = scale * glog
        grad = backward(model, tape, gc, 0.0 if dense else reg, hidden)
    events = H.sum(axis=(0, 2)) if H.size else np.zeros(x.shape[0])
    return Result(float(per.mean() + (0.0 if dense else reg * act)), per, logits.argmax(axis=1), events,
                  H.sum(axis=(0, 1)), 1.0 - act, grad)


__all__ = ["Model", "SynSet", "Tape", "Grad", "Result", "forward", "backward", "cross_entropy", "loss_and_grad",
           "pseudo"]
