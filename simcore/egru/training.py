"""``evsim train`` for event-gated (EGRU) netlists: surrogate-gradient BPTT (bptt.py) driven by
the spiking trainer's loop (simcore/learning/trainer.py: epochs, sample order, progress bar,
metrics CSV, summary, optimisers and schedules) through a small adapter.

    train:
      task: seq_digits                  # recall | seq_digits (simcore/egru/tasks.py)
      task_params: {order: pixel}
      estimator: surrogate
      params: weights                   # weights, or a list of weights, biases, thresholds
      loss: {kind: cross_entropy, scale: 5, reg_activity: 0.1, label_smoothing: 0}
      epochs: 10
      batch_size: 32
      weights: {optimizer: adam, lr: 0.005, schedule: exponential, lr_decay: 0.9}

Readout: logits = scale * c of the output population (default: the last EGRU population) at the
last step; cross-entropy, against targets smoothed by ``label_smoothing`` eps (eps / K on every
class, 1 - eps more on the true one). ``reg_activity`` adds reg * (mean events per unit and step
of the hidden populations) with the pseudo-derivative as dH/dc. All trained parameters share the
``weights`` group's optimiser and learning rate (and its ``clip_norm``, applied to the norm of
their whole gradient; its ``weight_decay`` shrinks the projections' weights only); thresholds
are kept >= ``THETA_MIN``. With ``dense=True`` (evsim train --dense-gru) the same network trains
as a dense GRU (y = c every step; no threshold, no reset), the baseline of the same size.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

import netspec
from netspec import NetlistError, Problem
from netspec.errors import one_of
from netspec.units import DIMENSIONLESS
from netspec.values import read_quantity

from simcore.learning import optim
from simcore.learning.config import GROUP_DEFAULTS, Group, _Sink
from simcore.learning.tasks import TaskError
from simcore.learning.trainer import Trainer

from . import bptt, tasks
from .network import EGRU, local_index

THETA_MIN = 1e-3
PARAMS = ("weights", "biases", "thresholds")


#: train.loss keys of event-gated networks: default, the values allowed, and how a message words them
LOSS_KEYS = {
    "scale": (5.0, lambda v: v > 0, "> 0"),
    "reg_activity": (0.0, lambda v: v >= 0, ">= 0"),
    "label_smoothing": (0.0, lambda v: 0 <= v < 1, "in [0, 1)"),
}


@dataclass
class GatedConfig:
    task: str
    task_params: dict
    params: tuple
    estimator: str
    projections: tuple
    scale: float
    reg_activity: float
    epochs: int
    batch_size: int
    seed: int
    groups: dict
    input: str
    output: str
    hidden: tuple
    checkpoint: str | None
    locs: dict = field(default_factory=dict, repr=False)
    select: str = "last"
    label_smoothing: float = 0.0

    def loc(self, *path):
        path = tuple(path)
        while path not in self.locs and path:
            path = path[:-1]
        return self.locs.get(path)


def parse(netlist) -> GatedConfig:
    """The checked train section of an event-gated netlist (NetlistError listing every problem)."""
    raw = netlist.train
    locs = dict(netlist.train_locs or {})
    problems = []

    def loc(*path):
        p = tuple(path)
        while p not in locs and p:
            p = p[:-1]
        return locs.get(p, netlist.loc)

    def bad(path, msg):
        problems.append(Problem(loc(*path), msg))

    if raw is None:
        raise NetlistError(Problem(netlist.loc, "the netlist has no train: section (what to train, on which task)"))
    task = raw.get("task")
    if task not in tasks.NAMES:
        bad(("task",) if task else (), f"train.task {task!r} is not a task for event-gated networks "
                                      f"(expected {one_of(tasks.NAMES)})")
    estimator = raw.get("estimator", "surrogate")
    if estimator != "surrogate":
        bad(("estimator",), f"train.estimator {estimator!r}: event-gated networks train with surrogate "
                            f"(BPTT with the pseudo-derivative)")
    params = raw.get("params", "weights")
    params = (params,) if isinstance(params, str) else tuple(params)
    for p in params:
        if p not in PARAMS:
            bad(("params",), f"train.params {p!r} cannot be trained in an event-gated network "
                             f"(expected {one_of(PARAMS)})")
    pops = netlist.populations
    seqs = [n for n, p in pops.items() if p.model == "sequence"]
    egrus = [n for n, p in pops.items() if p.model == "egru"]
    inp = raw.get("input", seqs[0] if len(seqs) == 1 else None)
    if inp is None:
        bad((), f"train.input is missing: name the sequence population ({', '.join(seqs) or 'none'})")
    elif inp not in pops or pops[inp].model != "sequence":
        bad(("input",), f"train.input {inp!r} must be a sequence population")
    out = raw.get("output", egrus[-1] if egrus else None)
    if out is None or out not in pops or pops[out].model != "egru":
        bad(("output",), f"train.output {out!r} must be an egru population")
    hidden = tuple(raw.get("hidden", [n for n in egrus if n != out]))
    for h in hidden:
        if h not in pops or pops[h].model != "egru":
            bad(("hidden",), f"train.hidden: {h!r} is not an egru population")
    lraw = raw.get("loss", "cross_entropy")
    lraw = {"kind": lraw} if isinstance(lraw, str) else lraw
    if lraw.get("kind", "cross_entropy") != "cross_entropy":
        bad(("loss", "kind") if "kind" in lraw else ("loss",),
            f"train.loss {lraw.get('kind')!r}: event-gated networks train with cross_entropy (a readout of the "
            f"output population's c at the last step)")
    vals = {key: default for key, (default, _, _) in LOSS_KEYS.items()}
    for key in lraw:
        if key == "kind":
            continue
        if key not in vals:
            bad(("loss", key), f"train.loss.{key} does not apply to event-gated networks (expected "
                               f"{one_of(tuple(vals))})")
            continue
        sink = _Sink()
        v = read_quantity(lraw[key], DIMENSIONLESS, f"train.loss.{key}", loc("loss", key), sink)
        problems.extend(sink.items)
        if v is not None:
            _, allowed, wording = LOSS_KEYS[key]
            if not allowed(v):
                bad(("loss", key), f"train.loss.{key} must be {wording} (got {v})")
            vals[key] = v
    graw = raw.get("weights", {})
    gv = dict(GROUP_DEFAULTS["weight"])
    for name in graw:
        if name in ("optimizer", "schedule"):
            gv[name] = graw[name]
        elif name == "min_recurrent":
            bad(("weights", name), "min_recurrent applies to delays only")
        else:
            sink = _Sink()
            v = read_quantity(graw[name], DIMENSIONLESS, f"train.weights.{name}", loc("weights", name), sink)
            problems.extend(sink.items)
            if v is not None:
                gv[name] = v
    if "lr_decay" in graw and "schedule" not in graw:
        gv["schedule"] = "exponential"
    if not gv["lr"] > 0:
        bad(("weights", "lr"), f"train.weights.lr must be > 0 (got {gv['lr']})")
    if not 0 < gv["lr_decay"] <= 1:
        bad(("weights", "lr_decay"), f"train.weights.lr_decay must be in (0, 1] (got {gv['lr_decay']})")
    if gv["clip_norm"] is not None and not gv["clip_norm"] > 0:
        bad(("weights", "clip_norm"), f"train.weights.clip_norm must be > 0 (got {gv['clip_norm']})")
    if not 0 <= gv["weight_decay"] < 1:
        bad(("weights", "weight_decay"), f"train.weights.weight_decay must be in [0, 1) (got {gv['weight_decay']})")
    if "delays" in raw:
        bad(("delays",), "event-gated networks have no trainable delays (one step or none)")
    if netlist.time.mode != "steps":
        problems.append(Problem(netlist.time.loc, "train: event-gated networks need time.mode: steps"))
    projs = tuple(raw.get("projections", [p.name for p in netlist.projections]))
    names = {p.name for p in netlist.projections}
    for p in projs:
        if p not in names:
            bad(("projections",), f"train.projections: no projection {p!r}")
    if problems:
        raise NetlistError(problems)
    return GatedConfig(task, dict(raw.get("task_params", {})), params, estimator, projs, vals["scale"],
                       vals["reg_activity"], int(raw.get("epochs", 10)), int(raw.get("batch_size", 32)),
                       int(raw.get("seed", 0)), {"weight": Group("weight", True, **gv)}, inp, out, hidden,
                       raw.get("checkpoint"), locs, raw.get("select", "last"), vals["label_smoothing"])


class EgruTrainer(Trainer):
    """The spiking Trainer's loop (run_epoch, fit, metrics) on an event-gated network: this class
    replaces what touches the network (step, evaluate, checkpoints, export)."""

    def __init__(self, netlist, dense: bool = False, log=None):
        import sys

        self.netlist = netlist
        self.cfg = cfg = parse(netlist)
        self.dense = dense
        self.log = log or (lambda msg: print(msg, file=sys.stderr))
        self.expanded = netspec.expand(netlist)
        self.model = m = bptt.Model(self.expanded)
        gn = m.gn
        self.inp = gn.pop_slice(cfg.input)
        self.out = gn.pop_slice(cfg.output)
        self.hidden = np.concatenate([np.arange(gn.pop_slice(h).start, gn.pop_slice(h).stop) for h in cfg.hidden]) \
            if cfg.hidden else np.zeros(0, np.int64)
        try:
            self.splits = tasks.make(cfg.task, cfg.task_params, self.inp.stop - self.inp.start, cfg.seed)
        except TaskError as exc:
            raise NetlistError(Problem(cfg.loc("task_params") or cfg.loc("task") or netlist.loc,
                                       f"train: {exc}")) from None
        if self.out.stop - self.out.start != self.splits.n_classes:
            raise NetlistError(Problem(netlist.populations[cfg.output].loc,
                                       f"train: the output population {cfg.output!r} has "
                                       f"{self.out.stop - self.out.start} units, the task {cfg.task!r} has "
                                       f"{self.splits.n_classes} classes"))
        self.input_offset = 0
        egru = np.flatnonzero(gn.kinds[gn.unit_pop] == EGRU)
        self.sets = [s for s in m.sets if s.proj in cfg.projections] if "weights" in cfg.params else []
        self.bias_units = egru if "biases" in cfg.params else np.zeros(0, np.int64)
        self.theta_units = egru if "thresholds" in cfg.params and not dense else np.zeros(0, np.int64)
        self.index = {"weight": np.arange(self._flat().size)}
        self._n_weights = sum(s.w.size for s in self.sets)
        g = cfg.groups["weight"]
        self.opt = {"weight": optim.make(g.optimizer, beta1=g.beta1, beta2=g.beta2, eps=g.eps, momentum=g.momentum)}
        self.sched = {w: optim.Schedule(g.lr, g.schedule, g.lr_decay, cfg.epochs, g.lr_final)
                      for w in ("weight", "delay")}
        self.epoch = 0
        self.history = []
        self.best, self.best_epoch = None, 0
        self._batch_epoch, self._batch = -1, 0
        self._constrain()

    # ------------------------------------------------------------------ parameters as one vector
    def _flat(self, grad: bptt.Grad | None = None) -> np.ndarray:
        m = self.model
        if grad is None:
            parts = [s.w for s in self.sets] + [m.b[self.bias_units].ravel(), m.theta[self.theta_units]]
        else:
            parts = [grad.W[s.delay, s.code, s.post, s.pre] for s in self.sets] + \
                    [grad.b[self.bias_units].ravel(), grad.theta[self.theta_units]]
        return np.concatenate(parts) if parts else np.zeros(0)

    def _unflat(self, x: np.ndarray) -> None:
        m = self.model
        k = 0
        for s in self.sets:
            s.w[:] = x[k:k + s.w.size]
            k += s.w.size
        nb = self.bias_units.size * 3
        m.b[self.bias_units] = x[k:k + nb].reshape(-1, 3)
        k += nb
        m.theta[self.theta_units] = x[k:k + self.theta_units.size]

    def _constrain(self):
        g = self.cfg.groups["weight"]
        if g.min is not None or g.max is not None:
            for s in self.sets:
                np.clip(s.w, -np.inf if g.min is None else g.min, np.inf if g.max is None else g.max, out=s.w)
        th = self.model.theta
        th[self.theta_units] = np.maximum(th[self.theta_units], THETA_MIN)

    def _run(self, x, labels, need_grad):
        return bptt.loss_and_grad(self.model, x, labels, self.inp, self.out, self.cfg.scale, self.hidden,
                                  self.cfg.reg_activity, self.dense, need_grad, self.cfg.label_smoothing)

    def step(self, x, labels, epoch: int):
        if self.splits.augment is not None:
            # one stream per (seed, epoch, batch): the same batches as without resuming
            self._batch = self._batch + 1 if self._batch_epoch == epoch else 0
            self._batch_epoch = epoch
            x = self.splits.augment(x, np.random.default_rng([self.cfg.seed, 13, epoch, self._batch]))
        res = self._run(x, labels, True)
        g = optim.clip_norm(np.nan_to_num(self._flat(res.grad), nan=0.0, posinf=0.0, neginf=0.0),
                            self.cfg.groups["weight"].clip_norm)
        p = self._flat()
        sched, lr = self.sched["weight"], self.sched["weight"].at(epoch)
        # decay the projections' weights only (first in _flat): biases and thresholds set the activity
        optim.decay_weights(p[:self._n_weights], self.cfg.groups["weight"].weight_decay, lr, sched.lr)
        self.opt["weight"].step(p, g, lr)
        self._unflat(p)
        self._constrain()
        return SimpleNamespace(loss=res.loss, predictions=res.predictions, hidden_spikes=res.events)

    def evaluate(self, data, batch: int = 256, silent: bool = False):
        """(loss, accuracy, hidden events per sample) on a data set, and with ``silent`` the
        fraction of (step, hidden unit) pairs without an event and each hidden unit's events per
        sample."""
        if data.n == 0:
            return (float("nan"),) * 3 + ((float("nan"), np.full(self.hidden.size, np.nan)) if silent else ())
        per_unit = np.zeros(self.hidden.size)
        loss, correct, quiet = 0.0, 0, 0.0
        for lo in range(0, data.n, batch):
            idx = np.arange(lo, min(lo + batch, data.n))
            res = self._run(data.trials(idx), data.labels[idx], False)
            loss += res.per_sample.sum()
            correct += int(np.sum(res.predictions == data.labels[idx]))
            quiet += res.silent * idx.size
            per_unit += res.unit_events
        out = (loss / data.n, correct / data.n, per_unit.sum() / data.n)
        return out + (quiet / data.n, per_unit / data.n) if silent else out

    def fit(self, out_dir, epochs=None, progress=True, resume=None, checkpoint=None, name=None) -> dict:
        name = name or self.netlist.name
        summary = super().fit(out_dir, epochs, progress, resume, checkpoint, name)
        _, acc, ev, quiet, per_unit = self.evaluate(self.splits.test, silent=True)
        # units without a single event on the test set: a third of them on the pixel digits, most
        # silent from the start (docs/egru.md, training trials)
        summary.update({"estimator": "surrogate (BPTT)", "dense_gru": self.dense, "test_events_per_sample": ev,
                        "test_silent_fraction": quiet, "hidden_units": int(self.hidden.size),
                        "test_hidden_units_without_events": int(np.sum(per_unit == 0)),
                        "reg_activity": self.cfg.reg_activity, "label_smoothing": self.cfg.label_smoothing})
        from netspec.atomic import write_text

        write_text(os.path.join(out_dir, f"{name}_summary.json"), json.dumps(summary, indent=2) + "\n")
        return summary

    # ------------------------------------------------------------------ checkpoints
    def fingerprint(self) -> str:
        train = {k: v for k, v in netspec.dump._thaw(self.netlist.train).items() if k not in ("epochs", "checkpoint")}
        return json.dumps({"netlist": self.netlist.name, "n": self.model.n, "sets": len(self.model.sets),
                           "dense": self.dense, "train": train}, sort_keys=True, default=str)

    def _trained_arrays(self) -> dict:
        m = self.model
        return {"b": m.b, "theta": m.theta, **{f"w/{k}": syn.w for k, syn in enumerate(m.sets)}}

    def _restore_trained(self, z) -> None:
        m = self.model
        m.b[:] = z["b"]
        m.theta[:] = z["theta"]
        for k, syn in enumerate(m.sets):
            syn.w[:] = z[f"w/{k}"]

    # ------------------------------------------------------------------ export
    def export(self, yaml_path: str) -> None:
        """The trained network as a runnable netlist: every projection split per gate (port u, r,
        z; names <projection>, <projection>_r, <projection>_z for a gates projection) with its
        connections and weights in <yaml>_<projection>.npz (connect: file), biases and thresholds
        in <yaml>.npz."""
        import yaml

        from netspec.atomic import replacing, write_text

        base = os.path.splitext(yaml_path)[0]
        folder = os.path.dirname(os.path.abspath(yaml_path))
        data = netspec.to_data(self.netlist, folder)
        m = self.model
        ex = self.expanded
        by_name = {p.name: p for p in ex.projections}
        new_projs = []
        for proj in data.get("projections", []):
            nm = proj["name"]
            sets = [s for s in m.sets if s.proj == nm]
            if not sets:
                new_projs.append(proj)
                continue
            p = by_name[nm]
            pre_loc = local_index(p.pre, p.pre_pops, ex)
            post_loc = local_index(p.post, p.post_pops, ex)
            for s in sets:
                gname = "urz"[s.gate]
                pname = nm if s.gate == sets[0].gate else f"{nm}_{gname}"
                fname = f"{os.path.basename(base)}_{pname}.npz"
                with replacing(os.path.join(folder, fname), "wb") as fh:
                    np.savez(fh, pre=pre_loc, post=post_loc, weight=s.w)
                q = dict(proj)
                q.update(name=pname, port=gname, connect={"file": fname}, weight={"column": "weight"})
                new_projs.append(q)
        data["projections"] = new_projs
        arrays = {}
        for name, pop in data["populations"].items():
            if pop.get("model") != "egru":
                continue
            sl = m.gn.pop_slice(name)
            params = dict(pop.get("params", {}))
            for j, key in enumerate(("b_u", "b_r", "b_z")):
                arrays[f"{name}/{key}"] = m.b[sl, j].copy()
                params[key] = {"file": {"path": os.path.basename(base) + ".npz", "key": f"{name}/{key}"}}
            arrays[f"{name}/theta"] = m.theta[sl].copy()
            params["theta"] = {"file": {"path": os.path.basename(base) + ".npz", "key": f"{name}/theta"}}
            pop["params"] = params
        with replacing(base + ".npz", "wb") as fh:
            np.savez(fh, **arrays)
        data.get("train", {}).pop("checkpoint", None)
        header = (f"# {self.netlist.name}, trained by evsim train ({'dense GRU, ' if self.dense else ''}"
                  f"{', '.join(self.cfg.params)} on {self.cfg.task}, {self.epochs_text()})\n")
        write_text(yaml_path, header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100,
                                                       default_flow_style=None))
        # what was written must build the trained network
        back = bptt.Model(netspec.expand(netspec.load(yaml_path)))
        if not (np.array_equal(back.dense(), m.dense()) and np.array_equal(back.b, m.b)
                and np.array_equal(back.theta, m.theta)):
            raise RuntimeError(f"the trained netlist {yaml_path} does not reproduce the trained network")
