"""Training a netlist's weights and/or delays on a task: the engine of ``evsim train``.

    trainer = Trainer(netlist)              # reads netlist.train (simcore/learning/config.py)
    trainer.fit(out_dir)                    # epochs, checkpoints, metrics CSV, trained netlist

Per mini-batch: the forward pass of every trial in parallel (eventprop.py), the loss and its
derivatives (losses.py), the gradient (EventProp's backward pass, or finite differences), one
optimiser step per parameter group (optim.py), then the constraints: delays clipped to
[min, max] (and to at least ``min_recurrent`` on projections that close a cycle), weights to
[min, max] if given. Frozen groups keep the values the netlist drew (random, or ternary with
a ``ternary:`` weight distribution).

The order of samples in epoch e is a permutation drawn from (seed, e) alone, so a run resumed
from the checkpoint of epoch e continues exactly as the uninterrupted run would have.
"""
from __future__ import annotations

import csv
import json
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

import netspec
from netspec import NetlistError, Problem

from . import config as C
from . import eventprop as ep
from . import network, optim, tasks
from .environment import software
from .estimators import eventprop_gradient, fd_gradient
from .losses import Layout

CKPT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or belongs to another run."""
EVAL_BATCH = 256


@dataclass
class Metrics:
    epoch: int
    lr_weight: float
    lr_delay: float
    train_loss: float
    train_acc: float
    train_spikes: float
    val_loss: float
    val_acc: float
    val_spikes: float
    seconds: float

    FIELDS = ("epoch", "lr_weight", "lr_delay", "train_loss", "train_acc", "train_spikes", "val_loss", "val_acc",
              "val_spikes", "seconds")

    def row(self):
        return [getattr(self, f) for f in self.FIELDS]


class Trainer:
    def __init__(self, netlist: netspec.Netlist, cfg: C.TrainConfig | None = None, log=None):
        self.netlist = netlist
        self.cfg = cfg or C.parse(netlist)
        self.log = log or (lambda msg: print(msg, file=sys.stderr))
        cfg = self.cfg
        self.expanded = netspec.expand(netlist)
        self.net = network.build(self.expanded)
        inp = self.net.population(cfg.input)
        if cfg.task is None:
            raise NetlistError(Problem(cfg.loc(), "train.task is missing"))
        try:
            self.splits = tasks.make(cfg.task, cfg.task_params, inp.size, cfg.seed)
        except tasks.TaskError as exc:
            raise NetlistError(Problem(cfg.loc("task_params") if cfg.task_params else cfg.loc("task"),
                                       f"train: {exc}")) from None
        out = self.net.population(cfg.output)
        if out.size != self.splits.n_classes:
            raise NetlistError(Problem(netlist.populations[cfg.output].loc,
                                       f"train: the output population {cfg.output!r} has {out.size} neurons, the "
                                       f"task {cfg.task!r} has {self.splits.n_classes} classes"))
        self.layout = Layout.of(self.net, cfg.output, cfg.hidden)
        self.loss = cfg.loss
        self.input_offset = inp.offset
        # trained synapses, bounds
        self.index = {}
        lo_d = np.full(self.net.n_syn, -np.inf)
        hi_d = np.full(self.net.n_syn, np.inf)
        for name in cfg.projections:
            sl = self.net.slices[name]
            g = cfg.groups["delay"]
            low = g.min if g.min is not None else 0.0
            if self.net.recurrent[name]:
                low = max(low, g.min_recurrent)
            lo_d[sl] = low
            hi_d[sl] = g.max if g.max is not None else np.inf
        self.delay_bounds = (lo_d, hi_d)
        for what in ("weight", "delay"):
            if cfg.groups[what].trained:
                idx = [np.arange(self.net.slices[n].start, self.net.slices[n].stop) for n in cfg.projections]
                self.index[what] = np.concatenate(idx) if idx else np.zeros(0, np.int64)
        self.opt = {w: optim.make(cfg.groups[w].optimizer, beta1=cfg.groups[w].beta1, beta2=cfg.groups[w].beta2,
                                  eps=cfg.groups[w].eps, momentum=cfg.groups[w].momentum) for w in self.index}
        self.sched = {w: optim.Schedule(cfg.groups[w].lr, cfg.groups[w].schedule, cfg.groups[w].lr_decay, cfg.epochs,
                                        cfg.groups[w].lr_final) for w in ("weight", "delay")}
        self.epoch = 0
        self.history: list[Metrics] = []
        self.best, self.best_epoch = None, 0
        self._constrain()

    # ------------------------------------------------------------------ parameters
    def _constrain(self):
        net = self.net
        if "delay" in self.index:
            lo, hi = self.delay_bounds
            i = self.index["delay"]
            net.delay[i] = np.clip(net.delay[i], lo[i], hi[i])
            net.reorder()
        g = self.cfg.groups["weight"]
        if "weight" in self.index and (g.min is not None or g.max is not None):
            i = self.index["weight"]
            net.weight[i] = np.clip(net.weight[i], -np.inf if g.min is None else g.min,
                                    np.inf if g.max is None else g.max)

    def step(self, trials, labels, epoch: int):
        """One mini-batch: gradient and update. Returns the Evaluation of the batch."""
        if self.cfg.estimator == "finite_difference":
            grad = fd_gradient(self.net, self.layout, self.loss, trials, labels,
                               {w: i for w, i in self.index.items()}, max_spikes=self.cfg.max_spikes)
            spikes = ep.forward(self.net, trials, self.cfg.max_spikes)
            ev = self.loss.evaluate(self.net, self.layout, spikes, labels, need_grad=False)
        else:
            grad = eventprop_gradient(self.net, self.layout, self.loss, trials, labels, self.cfg.max_spikes)
            ev = grad.evaluation
        for what, idx in self.index.items():
            g = (grad.weight if what == "weight" else grad.delay)[idx]
            g = optim.clip_norm(np.nan_to_num(g, nan=0.0, posinf=0.0, neginf=0.0), self.cfg.groups[what].clip_norm)
            x = (self.net.weight if what == "weight" else self.net.delay)[idx].copy()
            group, sched = self.cfg.groups[what], self.sched[what]
            optim.decay_weights(x, group.weight_decay, sched.at(epoch), sched.lr)
            self.opt[what].step(x, g, sched.at(epoch))
            (self.net.weight if what == "weight" else self.net.delay)[idx] = x
        self._constrain()
        return ev

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, data: tasks.Dataset, batch: int = EVAL_BATCH):
        """(loss, accuracy, hidden spikes per sample) on a data set."""
        if data.n == 0:
            return float("nan"), float("nan"), float("nan")
        losses, correct, spikes = 0.0, 0, 0
        for lo in range(0, data.n, batch):
            idx = np.arange(lo, min(lo + batch, data.n))
            sp = ep.forward(self.net, data.trials(idx, self.input_offset), self.cfg.max_spikes)
            ev = self.loss.evaluate(self.net, self.layout, sp, data.labels[idx], need_grad=False)
            losses += ev.per_trial.sum()
            correct += int(np.sum(ev.predictions == data.labels[idx]))
            spikes += int(ev.hidden_spikes.sum())
        return losses / data.n, correct / data.n, spikes / data.n

    # ------------------------------------------------------------------ epochs
    def run_epoch(self, bar=None) -> Metrics:
        cfg = self.cfg
        e = self.epoch
        t0 = time.perf_counter()
        train = self.splits.train
        order = np.random.default_rng([cfg.seed, 7, e]).permutation(train.n)
        tot_loss, correct, spikes, seen = 0.0, 0, 0, 0
        for lo in range(0, train.n, cfg.batch_size):
            idx = order[lo:lo + cfg.batch_size]
            labels = train.labels[idx]
            ev = self.step(train.trials(idx, self.input_offset), labels, e)
            tot_loss += ev.loss * idx.size
            correct += int(np.sum(ev.predictions == labels))
            spikes += int(ev.hidden_spikes.sum())
            seen += idx.size
            if bar is not None:
                bar.set_postfix_str(f"loss {tot_loss / seen:.4f}, train {100 * correct / seen:.1f} %, "
                                    f"{spikes / seen:.1f} spikes/sample", refresh=False)
                bar.update(idx.size)
        val_loss, val_acc, val_spikes = self.evaluate(self.splits.val)
        m = Metrics(e + 1, self.sched["weight"].at(e) if "weight" in self.index else 0.0,
                    self.sched["delay"].at(e) if "delay" in self.index else 0.0, tot_loss / seen, correct / seen,
                    spikes / seen, val_loss, val_acc, val_spikes, time.perf_counter() - t0)
        self.epoch += 1
        self.history.append(m)
        return m

    def fit(self, out_dir: str, epochs: int | None = None, progress: bool = True, resume: str | None = None,
            checkpoint: str | None = None, name: str | None = None) -> dict:
        """Trains up to ``epochs`` (default: train.epochs) and writes, in out_dir: the checkpoint
        (every epoch), <name>_metrics.csv, <name>_trained.yaml with <name>_trained.npz, and
        <name>_summary.json (validation and test accuracy). With train.select: best_val the
        network ends with the parameters of the epoch of highest validation accuracy (the
        earliest of equals; kept in the checkpoint too), and those are tested and exported."""
        from tqdm import tqdm

        name = name or self.netlist.name
        os.makedirs(out_dir, exist_ok=True)
        ckpt = checkpoint or self.cfg.checkpoint or os.path.join(out_dir, f"{name}.ckpt.npz")
        if resume:
            self.load_checkpoint(resume)
            self.log(f"resumed from {resume} after epoch {self.epoch}")
        total = epochs or self.cfg.epochs
        metrics_path = os.path.join(out_dir, f"{name}_metrics.csv")
        while self.epoch < total:
            bar = None
            if progress:
                bar = tqdm(total=self.splits.train.n, desc=f"epoch {self.epoch + 1}/{total}", unit="sample",
                           leave=True, file=sys.stderr, dynamic_ncols=True)
            m = self.run_epoch(bar)
            if bar is not None:
                bar.set_postfix_str(f"loss {m.train_loss:.4f}, train {100 * m.train_acc:.1f} %, val "
                                    f"{100 * m.val_acc:.1f} %, {m.train_spikes:.1f} spikes/sample, {m.seconds:.1f} s")
                bar.close()
            else:
                self.log(f"epoch {m.epoch}/{total}: loss {m.train_loss:.4f}, train {100 * m.train_acc:.1f} %, "
                         f"val {100 * m.val_acc:.1f} %, {m.train_spikes:.1f} spikes/sample, {m.seconds:.1f} s")
            if self.cfg.select == "best_val" and (self.best is None or
                                                  m.val_acc > self.history[self.best_epoch - 1].val_acc):
                self.best = {k: np.array(v, copy=True) for k, v in self._trained_arrays().items()}
                self.best_epoch = m.epoch
            self.save_checkpoint(ckpt)
            self.write_metrics(metrics_path)
        if self.best is not None:
            self._restore_trained(self.best)
        test_loss, test_acc, test_spikes = self.evaluate(self.splits.test)
        yaml_path = os.path.join(out_dir, f"{name}_trained.yaml")
        self.export(yaml_path)
        kept = self.history[self.selected_epoch - 1] if self.history else None
        summary = {"netlist": self.netlist.name, "task": self.cfg.task, "params": self.cfg.params,
                   "estimator": self.cfg.estimator, "epochs": self.epoch, "seed": self.cfg.seed,
                   "select": self.cfg.select, "selected_epoch": self.selected_epoch,
                   "val_acc": kept.val_acc if kept else None, "test_acc": test_acc, "test_loss": test_loss,
                   "test_spikes_per_sample": test_spikes,
                   "mean_epoch_seconds": float(np.mean([h.seconds for h in self.history])) if self.history else None,
                   "trained_netlist": yaml_path, "metrics": metrics_path, "checkpoint": ckpt,
                   "software": software()}
        from netspec.atomic import write_text

        write_text(os.path.join(out_dir, f"{name}_summary.json"), json.dumps(summary, indent=2) + "\n")
        return summary

    def write_metrics(self, path: str) -> None:
        from netspec.atomic import replacing

        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with replacing(path, "w") as fh:
            w = csv.writer(fh)
            w.writerow(Metrics.FIELDS)
            for m in self.history:
                w.writerow([f"{x:.6g}" if isinstance(x, float) else x for x in m.row()])

    def epochs_text(self) -> str:
        """'N epochs', and which epoch's parameters were kept when not the last."""
        kept = self.selected_epoch
        return f"{self.epoch} epochs" + (f", the parameters of epoch {kept} (best validation accuracy)"
                                         if kept != self.epoch else "")

    @property
    def selected_epoch(self) -> int:
        """The epoch whose parameters the network holds after fit."""
        return self.best_epoch if self.best is not None else self.epoch

    # ------------------------------------------------------------------ checkpoints
    def fingerprint(self) -> str:
        n = self.net
        train = {k: v for k, v in netspec.dump._thaw(self.netlist.train).items() if k not in ("epochs", "checkpoint")}
        return json.dumps({"netlist": self.netlist.name, "n": n.n, "n_syn": n.n_syn, "train": train},
                          sort_keys=True, default=str)

    def _trained_arrays(self) -> dict:
        """What training changes, as named arrays for the checkpoint."""
        return {"weight": self.net.weight, "delay": self.net.delay}

    def _restore_trained(self, z) -> None:
        self.net.weight[:] = z["weight"]
        self.net.delay[:] = z["delay"]
        self.net.reorder()

    def save_checkpoint(self, path: str) -> None:
        from netspec.atomic import replacing

        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        arrays = {"version": np.asarray(CKPT_VERSION), "epoch": np.asarray(self.epoch),
                  "fingerprint": np.asarray(self.fingerprint()),
                  "history": np.asarray(json.dumps([m.row() for m in self.history])), **self._trained_arrays()}
        if self.best is not None:
            arrays["best_epoch"] = np.asarray(self.best_epoch)
            arrays.update({f"best/{k}": v for k, v in self.best.items()})
        for what, opt in self.opt.items():
            for k, v in opt.state().items():
                arrays[f"opt/{what}/{k}"] = np.asarray(v if v is not None else np.zeros(0))
        with replacing(path, "wb") as fh:
            np.savez(fh, **arrays)

    def load_checkpoint(self, path: str) -> None:
        try:
            z = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"cannot read checkpoint {path} ({exc})") from None
        with z:
            if "fingerprint" not in z.files or str(z["fingerprint"]) != self.fingerprint():
                raise CheckpointError(f"checkpoint {path} belongs to another netlist or train section")
            self._restore_trained(z)
            self.epoch = int(z["epoch"])
            self.history = [Metrics(*r) for r in json.loads(str(z["history"]))]
            if "best_epoch" in z.files:
                self.best_epoch = int(z["best_epoch"])
                self.best = {k[5:]: z[k] for k in z.files if k.startswith("best/")}
            for what, opt in self.opt.items():
                st = {k.split("/")[2]: z[k] for k in z.files if k.startswith(f"opt/{what}/")}
                if st:
                    opt.load(st)

    # ------------------------------------------------------------------ export
    def export(self, yaml_path: str) -> None:
        """The trained network as a runnable netlist: the original with every projection's
        weights and delays read from <yaml>.npz (keys '<projection>/weight', '<projection>/delay')."""
        from netspec.atomic import replacing, write_text

        base = os.path.splitext(yaml_path)[0]
        npz_path = base + ".npz"
        arrays = {}
        data = netspec.to_data(self.netlist, os.path.dirname(os.path.abspath(yaml_path)))
        for proj in data.get("projections", []):
            nm = proj["name"]
            arrays[f"{nm}/weight"] = self.net.get(nm, "weight").copy()
            arrays[f"{nm}/delay"] = self.net.get(nm, "delay").copy()
            proj["weight"] = {"file": {"path": os.path.basename(npz_path), "key": f"{nm}/weight"}}
            proj["delay"] = {"file": {"path": os.path.basename(npz_path), "key": f"{nm}/delay"}}
        data.get("train", {}).pop("checkpoint", None)
        with replacing(npz_path, "wb") as fh:
            np.savez(fh, **arrays)
        import yaml

        header = (f"# {self.netlist.name}, trained by evsim train ({self.cfg.params} on {self.cfg.task}, "
                  f"{self.epochs_text()}); weights and delays in {os.path.basename(npz_path)}\n")
        write_text(yaml_path, header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100,
                                                       default_flow_style=None))
        # what was written must expand to the trained network
        back = netspec.expand(netspec.load(yaml_path))
        for p in back.projections:
            sl = self.net.slices[p.name]
            if not (np.array_equal(p.pre, self.net.pre[sl]) and np.array_equal(p.post, self.net.post[sl])
                    and np.array_equal(p.weight, self.net.weight[sl].astype(p.weight.dtype))
                    and np.array_equal(p.delay, self.net.delay[sl].astype(p.delay.dtype))):
                raise RuntimeError(f"the trained netlist {yaml_path} does not reproduce projection {p.name!r}")
