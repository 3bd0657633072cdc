"""The ``train:`` section of a netlist, checked for meaning (the shape is checked by netspec's
schema): every problem is a NetlistError with the line it was written on.

    train:
      task: yinyang                     # yinyang | digits | delay_pattern
      task_params: {n_train: 5000}      # see the task's module
      params: weights                   # delays | weights | both
      estimator: eventprop              # eventprop | finite_difference
      loss: {kind: ttfs, tau0: 0.5 ms, tau1: 6.4 ms, alpha: 3e-3, reg_silent: 0.01}
      epochs: 30
      batch_size: 32
      seed: 1
      weights: {optimizer: adam, lr: 5 mV, schedule: exponential, lr_decay: 0.95}
      delays: {optimizer: adam, lr: 0.5 ms, min: 0 ms, max: 20 ms}
      select: last                      # last | best_val: the epoch whose parameters the run keeps
"""
from __future__ import annotations

from dataclasses import dataclass, field

from netspec import NetlistError, Problem
from netspec.errors import Location, did_you_mean, one_of
from netspec.units import TIME, VOLTAGE, DIMENSIONLESS
from netspec.values import read_quantity

from .losses import TrainLoss
from .optim import SCHEDULES

TASKS = ("yinyang", "digits", "delay_pattern")
ESTIMATORS = ("eventprop", "finite_difference")

#: defaults per group (SI): the Yin-Yang settings of genn_eventprop, delays 10x slower than a time constant
GROUP_DEFAULTS = {
    "weight": {"optimizer": "adam", "lr": 5e-3, "schedule": "constant", "lr_decay": 1.0, "lr_final": 0.0,
               "momentum": 0.0, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "min": None, "max": None,
               "clip_norm": None, "weight_decay": 0.0},
    "delay": {"optimizer": "adam", "lr": 1e-4, "schedule": "constant", "lr_decay": 1.0, "lr_final": 0.0,
              "momentum": 0.0, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "min": 0.0, "max": None,
              "clip_norm": None, "min_recurrent": 1e-4},
}


@dataclass
class Group:
    what: str                  # weight | delay
    trained: bool
    optimizer: str
    lr: float
    schedule: str
    lr_decay: float
    lr_final: float
    momentum: float
    beta1: float
    beta2: float
    eps: float
    min: float | None
    max: float | None
    clip_norm: float | None = None     # largest L2 norm of the group's gradient (SI units) per step
    weight_decay: float = 0.0          # decoupled decay per step (optim.decay_weights); weights only
    min_recurrent: float = 1e-4


@dataclass
class TrainConfig:
    task: str
    task_params: dict
    params: str
    estimator: str
    projections: tuple
    loss: TrainLoss
    epochs: int
    batch_size: int
    seed: int
    groups: dict               # 'weight' / 'delay' -> Group
    input: str
    output: str
    hidden: tuple
    checkpoint: str | None
    max_spikes: int
    select: str = "last"
    locs: dict = field(default_factory=dict, repr=False)

    def loc(self, *path) -> Location:
        path = tuple(path)
        while path not in self.locs and path:
            path = path[:-1]
        return self.locs.get(path, Location("<train>"))


def parse(netlist) -> TrainConfig:
    """The checked train section of a netlist (NetlistError listing every problem)."""
    raw = netlist.train
    locs = dict(netlist.train_locs or {})
    where = netlist.loc
    problems = []

    def loc(*path):
        p = tuple(path)
        while p not in locs and p:
            p = p[:-1]
        return locs.get(p, where)

    def bad(path, msg):
        problems.append(Problem(loc(*path), msg))

    if raw is None:
        raise NetlistError(Problem(where, "the netlist has no train: section (what to train, on which task)"))
    task = raw.get("task")
    if task is None:
        bad((), "train.task is missing (expected " + one_of(TASKS) + ")")
    elif task not in TASKS:
        bad(("task",), f"unknown train.task {task!r} (expected {one_of(TASKS)})" + did_you_mean(task, TASKS))
    estimator = raw.get("estimator", "eventprop")
    if estimator not in ESTIMATORS:
        bad(("estimator",), f"train.estimator {estimator!r} is not available (available: {', '.join(ESTIMATORS)})")
    params = raw.get("params", "weights")
    pops = netlist.populations
    # populations
    sources = [n for n, p in pops.items() if p.model == "spike_times"]
    neurons = [n for n, p in pops.items() if p.model == "lif_exp"]
    inp = raw.get("input", sources[0] if len(sources) == 1 else None)
    if inp is None:
        bad((), f"train.input is missing: name the input population (spike_times populations: "
                f"{', '.join(sources) or 'none'})")
    elif inp in pops and pops[inp].model != "spike_times":
        bad(("input",), f"train.input {inp!r} must be a spike_times population (got {pops[inp].model})")
    out = raw.get("output", neurons[-1] if neurons else None)
    if out is None:
        bad((), "train.output is missing and the netlist has no lif_exp population")
    elif out in pops and pops[out].model != "lif_exp":
        bad(("output",), f"train.output {out!r} must be a lif_exp population (got {pops[out].model})")
    hidden = tuple(raw.get("hidden", [n for n in neurons if n != out]))
    # loss
    lraw = raw.get("loss", "ttfs")
    if isinstance(lraw, str):
        lraw = {"kind": lraw}
    kind = lraw.get("kind", "ttfs")
    lk = {}
    for key, dim, what in (("tau0", TIME, "time"), ("tau1", TIME, "time"), ("scale", VOLTAGE, "volt"),
                           ("alpha", DIMENSIONLESS, ""), ("reg_silent", DIMENSIONLESS, ""),
                           ("reg_upper", DIMENSIONLESS, ""), ("target_spikes", DIMENSIONLESS, "")):
        if key in lraw:
            sink = _Sink()
            v = read_quantity(lraw[key], dim, f"train.loss.{key}", loc("loss", key), sink)
            problems += sink.items
            if v is None:
                continue
            if key in ("tau0", "tau1", "scale") and not v > 0:
                bad(("loss", key), f"train.loss.{key} must be > 0 (got {lraw[key]})")
            elif key != "alpha" and v < 0:
                bad(("loss", key), f"train.loss.{key} must be >= 0 (got {lraw[key]})")
            lk[key] = v
    # the schema allows these in any train section; ignoring them here would hide a mistake
    for key, instead in (("reg_activity", "; spiking networks use reg_silent and reg_upper"),
                         ("label_smoothing", " (their cross_entropy readout)")):
        if key in lraw:
            bad(("loss", key), f"train.loss.{key} applies to event-gated (egru) networks{instead}")
    loss = TrainLoss(kind=kind, **lk)
    # groups
    groups = {}
    for what, key in (("weight", "weights"), ("delay", "delays")):
        graw = raw.get(key, {})
        vals = dict(GROUP_DEFAULTS[what])
        dim = VOLTAGE if what == "weight" else TIME
        for name in ("lr", "min", "max", "min_recurrent"):
            if name in graw:
                if name == "min_recurrent" and what == "weight":
                    bad((key, name), "min_recurrent applies to delays only")
                    continue
                sink = _Sink()
                v = read_quantity(graw[name], dim if name != "lr" else dim, f"train.{key}.{name}", loc(key, name), sink)
                problems += sink.items
                if v is not None:
                    vals[name] = v
        for name in ("optimizer", "schedule"):
            if name in graw:
                vals[name] = graw[name]
        if "weight_decay" in graw and what == "delay":
            bad((key, "weight_decay"), "weight_decay applies to weights only")
        numbers = ("lr_decay", "lr_final", "momentum", "beta1", "beta2", "eps", "clip_norm")
        for name in numbers + (("weight_decay",) if what == "weight" else ()):
            if name in graw:
                sink = _Sink()
                v = read_quantity(graw[name], DIMENSIONLESS, f"train.{key}.{name}", loc(key, name), sink)
                problems += sink.items
                if v is not None:
                    vals[name] = v
        if vals["schedule"] not in SCHEDULES:
            bad((key, "schedule"), f"unknown schedule {vals['schedule']!r} (expected {one_of(SCHEDULES)})")
        if "lr_decay" in graw and "schedule" not in graw:
            vals["schedule"] = "exponential"
        if not vals["lr"] > 0:
            bad((key, "lr"), f"train.{key}.lr must be > 0 (got {graw.get('lr')})")
        if not 0 < vals["lr_decay"] <= 1:
            bad((key, "lr_decay"), f"train.{key}.lr_decay must be in (0, 1] (got {vals['lr_decay']})")
        if vals["clip_norm"] is not None and not vals["clip_norm"] > 0:
            bad((key, "clip_norm"), f"train.{key}.clip_norm must be > 0 (got {vals['clip_norm']})")
        if not 0 <= vals.get("weight_decay", 0.0) < 1:
            bad((key, "weight_decay"), f"train.{key}.weight_decay must be in [0, 1) (got {vals['weight_decay']})")
        for name in ("beta1", "beta2"):
            if not 0 <= vals[name] < 1:
                bad((key, name), f"train.{key}.{name} must be in [0, 1) (got {vals[name]})")
        if vals["min"] is not None and vals["max"] is not None and vals["min"] >= vals["max"]:
            bad((key, "max"), f"train.{key}: max must be above min (got min {graw.get('min')}, max {graw.get('max')})")
        if what == "delay" and vals["min"] is not None and vals["min"] < 0:
            bad((key, "min"), f"train.delays.min must be >= 0 (got {graw.get('min')})")
        trained = params in ("both", key)
        groups[what] = Group(what, trained, **vals)
    # projections
    projs = tuple(raw.get("projections", [p.name for p in netlist.projections]))
    if netlist.time.mode != "exact" and estimator == "eventprop":
        problems.append(Problem(netlist.time.loc, "train: eventprop needs exact mode (time.mode: exact)"))
    if problems:
        raise NetlistError(problems)
    return TrainConfig(task=task, task_params=dict(raw.get("task_params", {})), params=params, estimator=estimator,
                       projections=projs, loss=loss, epochs=int(raw.get("epochs", 10)),
                       batch_size=int(raw.get("batch_size", 32)), seed=int(raw.get("seed", 0)), groups=groups,
                       input=inp, output=out, hidden=hidden, checkpoint=raw.get("checkpoint"),
                       max_spikes=int(raw.get("max_spikes", 4096)), select=raw.get("select", "last"), locs=locs)


class _Sink:
    """Collects the problems read_quantity reports."""

    def __init__(self):
        self.items = []

    def add(self, loc, msg):
        self.items.append(Problem(loc, msg))
