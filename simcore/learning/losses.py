"""Losses on the spikes and membrane maxima of a batch of trials, with their exact derivatives
with respect to every spike time (dL/dt_k) and every requested membrane maximum (dL/dv*),
which :func:`simcore.learning.eventprop.backward` turns into weight and delay gradients.

* ``ttfs``: time-to-first-spike cross-entropy with the early-spike term (Yin-Yang form, Göltz
  et al. 2021; genn_eventprop):
  L = -log softmax(-t/tau0)_c + alpha (exp(t_c/tau1) - 1), t the output neurons' first spike
  times (an output that stays silent counts as firing at the end of the trial and gets no
  gradient); the prediction is the earliest output.
* ``max_v``: cross-entropy on the maximum over the trial of each output membrane, divided by
  ``scale`` (outputs should not fire: a neuron that fires reads as v_th with no gradient).
* Regulariser on hidden neurons (exact gradients do not see spikes appear or vanish):
  ``reg_silent`` pulls each silent hidden neuron's membrane maximum towards threshold,
  (v_th - v*)/(v_th - v_reset) per silent neuron, mean over hidden neurons; with ``ttfs`` it also
  pulls a silent correct output. ``reg_upper`` pushes the spikes of a neuron that fired more than
  ``target_spikes`` times towards the end of the trial (where they leave it):
  (count - target) sum_k (T - t_k)/T, counts held fixed (as in mlGeNN's EventProp).
All terms are means over the batch.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .eventprop import Readouts, readout


@dataclass
class Layout:
    """Where the output and hidden neurons are (global ids), and their constants."""

    output: np.ndarray     # global ids of the output neurons, in class order
    hidden: np.ndarray     # global ids of hidden neurons
    v_th: np.ndarray       # (N,)
    v_reset: np.ndarray    # (N,)
    duration: float

    @classmethod
    def of(cls, net, output: str, hidden=()):
        from ..models.lif_exp import V_RESET, V_TH

        out = net.population(output)
        hid = [np.arange(net.population(h).offset, net.population(h).offset + net.population(h).size) for h in hidden]
        return cls(np.arange(out.offset, out.offset + out.size), np.concatenate(hid) if hid else np.zeros(0, np.int64),
                   net.params[:, V_TH].copy(), net.params[:, V_RESET].copy(), net.duration)


@dataclass
class Evaluation:
    loss: float               # batch mean
    per_trial: np.ndarray     # (B,)
    predictions: np.ndarray   # (B,) class, -1 if none
    dl_dt: np.ndarray         # (B, cap)
    readouts: Readouts
    dl_dv: np.ndarray
    hidden_spikes: np.ndarray  # (B,) spikes of hidden neurons
    counts: np.ndarray        # (B, N)


@dataclass
class TrainLoss:
    kind: str = "ttfs"
    tau0: float = 0.5e-3
    tau1: float = 6.4e-3
    alpha: float = 3e-3
    scale: float = 1.0
    reg_silent: float = 0.0
    reg_upper: float = 0.0
    target_spikes: float = 10.0

    KINDS = ("ttfs", "max_v")

    def evaluate(self, net, layout: Layout, spikes, labels, need_grad: bool = True) -> Evaluation:
        B = spikes.batch
        labels = np.asarray(labels, dtype=np.int64)
        ft, fk, counts = spikes.stats(net.n)
        T = layout.duration
        out = layout.output
        C = out.size
        rows = np.arange(B)
        # which membrane maxima are needed
        silent_hidden = counts[:, layout.hidden] == 0 if layout.hidden.size else np.zeros((B, 0), bool)
        req = []
        for b in range(B):
            r = []
            if self.kind == "max_v":
                r.append(out)
            elif self.reg_silent > 0 and counts[b, out[labels[b]]] == 0:
                r.append(out[labels[b]:labels[b] + 1])
            if self.reg_silent > 0 and layout.hidden.size:
                r.append(layout.hidden[silent_hidden[b]])
            req.append(np.concatenate(r) if r else np.zeros(0, np.int64))
        ro = readout(net, spikes, req) if any(len(r) for r in req) else Readouts.empty(B)
        dl_dv = np.zeros(ro.v.size)
        dl_dt = np.zeros_like(spikes.t) if need_grad else None
        per = np.zeros(B)
        if self.kind == "ttfs":
            t = ft[:, out]
            fired = np.isfinite(t)
            te = np.where(fired, t, T)
            z = -te / self.tau0
            zmax = z.max(axis=1, keepdims=True)
            ez = np.exp(z - zmax)
            p = ez / ez.sum(axis=1, keepdims=True)
            logp = (z - zmax) - np.log(ez.sum(axis=1, keepdims=True))
            tc = te[rows, labels]
            early = self.alpha * np.expm1(tc / self.tau1)
            per += -logp[rows, labels] + early
            pred = np.where(fired.any(axis=1), np.argmin(np.where(fired, t, np.inf), axis=1), -1)
            if need_grad:
                g = -p / self.tau0
                g[rows, labels] += 1.0 / self.tau0 + self.alpha / self.tau1 * np.exp(tc / self.tau1)
                kk = fk[:, out]
                bb, cc = np.nonzero(fired)
                dl_dt[bb, kk[bb, cc]] += g[bb, cc] / B
        elif self.kind == "max_v":
            v = np.zeros((B, C))
            for b in range(B):
                v[b] = ro.v[ro.ptr[b]:ro.ptr[b] + C]
            y = v / self.scale
            ymax = y.max(axis=1, keepdims=True)
            ey = np.exp(y - ymax)
            p = ey / ey.sum(axis=1, keepdims=True)
            per += -((y - ymax)[rows, labels] - np.log(ey.sum(axis=1)))
            pred = np.argmax(v, axis=1)
            g = p.copy()
            g[rows, labels] -= 1.0
            for b in range(B):
                dl_dv[ro.ptr[b]:ro.ptr[b] + C] += g[b] / self.scale / B
        else:
            raise ValueError(f"unknown loss {self.kind!r}")
        # regularisers
        nh = max(int(layout.hidden.size), 1)
        if self.reg_silent > 0 and ro.v.size:
            for b in range(B):
                lo, hi = ro.ptr[b], ro.ptr[b + 1]
                first = C if self.kind == "max_v" else 0
                if self.kind == "ttfs" and counts[b, out[labels[b]]] == 0:
                    j = ro.neuron[lo]
                    span = layout.v_th[j] - layout.v_reset[j]
                    per[b] += self.reg_silent * (layout.v_th[j] - ro.v[lo]) / span
                    dl_dv[lo] += -self.reg_silent / span / B
                    first = 1
                js = ro.neuron[lo + first:hi]
                if js.size:
                    span = layout.v_th[js] - layout.v_reset[js]
                    per[b] += self.reg_silent * np.sum((layout.v_th[js] - ro.v[lo + first:hi]) / span) / nh
                    dl_dv[lo + first:hi] += -self.reg_silent / span / nh / B
        if self.reg_upper > 0 and layout.hidden.size:
            cap = spikes.t.shape[1]
            valid = np.arange(cap)[None, :] < spikes.count[:, None]
            is_hidden = np.zeros(net.n, bool)
            is_hidden[layout.hidden] = True
            nid = spikes.n.astype(np.int64)
            excess = np.take_along_axis(counts, nid, axis=1) - self.target_spikes
            m = valid & is_hidden[nid] & (excess > 0)
            per += self.reg_upper * np.sum(np.where(m, excess * (T - spikes.t) / T, 0.0), axis=1) / nh
            if need_grad:
                dl_dt += np.where(m, -self.reg_upper * excess / (T * nh * B), 0.0)
        hidden_spikes = counts[:, layout.hidden].sum(axis=1) if layout.hidden.size else np.zeros(B, np.int64)
        return Evaluation(float(per.mean()), per, pred, dl_dt, ro, dl_dv, hidden_spikes, counts)
