"""evsim gradcheck: compare two gradient estimators, parameter group by parameter group."""
from __future__ import annotations

import sys

import numpy as np

from ..cli import UsageError
from .common import add_netlist_args, load


def add_parser(sub):
    p = sub.add_parser("gradcheck", help="compare two gradient estimators (EventProp, finite differences)",
                       description="Computes the gradient of the train: section's loss on a few samples of its task "
                                   "(or, without a task, on the netlist's own input spikes) with two estimators and "
                                   "prints, per projection and parameter group (weights, delays), the relative error "
                                   "||a - b|| / ||b||. Finite differences skip (and count) parameters whose "
                                   "perturbation makes a spike appear or vanish: there is no derivative there.")
    add_netlist_args(p)
    p.add_argument("--estimators", default="eventprop,finite_difference", metavar="A,B",
                   help="the two estimators (default eventprop,finite_difference)")
    p.add_argument("--backend", default="eventprop", choices=("eventprop", "event", "brian2"),
                   help="where finite differences simulate (default eventprop: its compact forward pass; event: "
                        "the main engine)")
    p.add_argument("--samples", type=int, default=4, help="training samples in the batch (default 4)")
    p.add_argument("--max-params", type=int, default=50,
                   help="finite differences: at most this many synapses per projection and group, chosen at "
                        "random (default 50; 0: all)")
    p.add_argument("--step-weight", type=float, default=None, help="finite-difference step of weights (SI, default 1e-6)")
    p.add_argument("--step-delay", type=float, default=None, help="finite-difference step of delays (s, default 1e-8)")
    p.add_argument("--seed", type=int, default=0, help="choice of samples and parameters")
    p.add_argument("--tol", type=float, default=None, help="exit with status 1 if a relative error is above this")
    p.set_defaults(func=run)


def run(args) -> int:
    names = [s.strip() for s in args.estimators.split(",")]
    from simcore.learning import estimators as E

    if len(names) != 2 or any(n not in E.ESTIMATORS for n in names):
        raise UsageError(f"--estimators takes two of {', '.join(E.ESTIMATORS)} (got {args.estimators!r})")
    if args.samples < 1:
        raise UsageError(f"--samples must be >= 1 (got {args.samples})")
    net_spec = load(args)
    import netspec
    from simcore.learning import config as C
    from simcore.learning import eventprop as ep
    from simcore.learning import network, tasks
    from simcore.learning.losses import Layout

    cfg = C.parse(net_spec)
    net = network.build(netspec.expand(net_spec))
    inp = net.population(cfg.input)
    rng = np.random.default_rng(args.seed)
    if cfg.task:
        try:
            splits = tasks.make(cfg.task, cfg.task_params, inp.size, cfg.seed)
        except tasks.TaskError as exc:
            raise netspec.NetlistError(netspec.Problem(cfg.loc("task_params"), f"train: {exc}")) from None
        idx = rng.choice(splits.train.n, size=min(args.samples, splits.train.n), replace=False)
        trials = splits.train.trials(idx, inp.offset)
        labels = splits.train.labels[idx]
        what = f"{idx.size} samples of {cfg.task}"
    else:
        trials = ep.Trials.from_lists([(inp.spike_times, inp.spike_ids + inp.offset)])
        labels = np.zeros(1, dtype=np.int64)
        what = "the netlist's own input spikes (label 0)"
    layout = Layout.of(net, cfg.output, cfg.hidden)
    chosen = {"weight": [], "delay": []}
    for name in cfg.projections:
        sl = net.slices[name]
        for g in chosen:
            ids = np.arange(sl.start, sl.stop)
            if args.max_params and ids.size > args.max_params:
                ids = np.sort(rng.choice(ids, size=args.max_params, replace=False))
            chosen[g].append(ids)
    idx = {g: np.concatenate(v) if v else np.zeros(0, np.int64) for g, v in chosen.items()}
    steps = {}
    if args.step_weight:
        steps["weight"] = args.step_weight
    if args.step_delay:
        steps["delay"] = args.step_delay
    print(f"{net_spec.name}: gradients of the {cfg.loss.kind} loss on {what}; {names[0]} against {names[1]}"
          + (f" (finite differences on {args.backend})" if "finite_difference" in names else ""), file=sys.stderr)
    grads = []
    for n in names:
        if n == "eventprop":
            grads.append(E.eventprop_gradient(net, layout, cfg.loss, trials, labels, cfg.max_spikes))
        else:
            total = sum(v.size for v in idx.values())
            from tqdm import tqdm

            with tqdm(total=total, desc="finite differences", unit="param", leave=False, file=sys.stderr,
                      delay=1.0) as bar:
                grads.append(E.fd_gradient(net, layout, cfg.loss, trials, labels, idx, args.backend, steps,
                                           cfg.max_spikes, progress=bar.update))
    a, b = grads
    print(f"loss {a.loss:.10g} ({names[0]}), {b.loss:.10g} ({names[1]})")
    print(f"  {'projection':16s} {'group':7s} {'compared':>8s} {'skipped':>8s} {'|' + names[1][:10] + '|':>12s} "
          f"{'rel. error':>11s} {'max abs diff':>13s}")
    worst = 0.0
    for name in cfg.projections:
        sl = net.slices[name]
        for g in ("weight", "delay"):
            sel = idx[g][(idx[g] >= sl.start) & (idx[g] < sl.stop)]
            ga = (a.weight if g == "weight" else a.delay)[sel]
            gb = (b.weight if g == "weight" else b.delay)[sel]
            err, n = E.relative_error(ga, gb)
            ok = np.isfinite(ga) & np.isfinite(gb)
            diff = float(np.max(np.abs(ga[ok] - gb[ok]))) if n else float("nan")
            norm = float(np.linalg.norm(gb[ok])) if n else float("nan")
            worst = max(worst, err) if np.isfinite(err) else worst
            print(f"  {name:16s} {g + 's':7s} {n:8d} {sel.size - n:8d} {norm:12.4g} {err:11.3e} {diff:13.3e}")
    if args.tol is not None and worst > args.tol:
        print(f"gradcheck: relative error {worst:.3e} above {args.tol:g}", file=sys.stderr)
        return 1
    return 0
