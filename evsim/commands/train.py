"""evsim train: train a netlist's weights and/or delays on the task of its train: section."""
from __future__ import annotations

import os
import sys

from ..cli import UsageError
from .common import add_netlist_args, load


def add_parser(sub):
    p = sub.add_parser("train", help="train weights and/or delays (EventProp) on a task",
                       description="Trains the netlist's weights and/or delays as its train: section says (task, "
                                   "loss, optimisers; see simcore/learning/config.py), with a progress bar per epoch. "
                                   "Writes to the output directory: a checkpoint every epoch (--resume continues from "
                                   "it), <name>_metrics.csv, the trained network as a runnable netlist "
                                   "<name>_trained.yaml (weights and delays in <name>_trained.npz) and "
                                   "<name>_summary.json with the test accuracy.")
    add_netlist_args(p)
    p.add_argument("-o", "--output", metavar="DIR", default=None,
                   help="output directory (default: train_<netlist name>)")
    p.add_argument("--epochs", type=int, help="number of epochs (overrides train.epochs)")
    p.add_argument("--batch-size", type=int, help="trials per mini-batch (overrides train.batch_size)")
    p.add_argument("--params", choices=("delays", "weights", "both"), help="what to train (overrides train.params)")
    p.add_argument("--estimator", choices=("eventprop", "finite_difference", "surrogate"),
                   help="overrides train.estimator")
    p.add_argument("--dense-gru", action="store_true",
                   help="event-gated netlists: train the same network as a dense GRU (y = c every step, no "
                        "threshold or reset), the baseline for the EGRU's accuracy and sparsity")
    p.add_argument("--seed", type=int, help="training seed: data, sample order (overrides train.seed)")
    p.add_argument("--lr-weights", metavar="LR", help="weights learning rate, e.g. '5 mV' (overrides train.weights.lr)")
    p.add_argument("--lr-delays", metavar="LR", help="delays learning rate, e.g. '0.1 ms' (overrides train.delays.lr)")
    p.add_argument("--resume", metavar="CKPT", help="continue from a checkpoint written by an earlier run")
    p.add_argument("--checkpoint", metavar="FILE", help="where to write the checkpoint (default: in the output directory)")
    p.add_argument("--threads", type=int, help="threads for the batch of trials (default: all cores)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar (one line per epoch)")
    p.set_defaults(func=run)


def overrides_from(args) -> list:
    out = []
    for flag, key in (("epochs", "epochs"), ("batch_size", "batch_size"), ("params", "params"),
                      ("estimator", "estimator"), ("seed", "seed")):
        v = getattr(args, flag)
        if v is not None:
            out.append(f"train.{key}={v}")
    if args.lr_weights:
        out.append(f"train.weights.lr={args.lr_weights}")
    if args.lr_delays:
        out.append(f"train.delays.lr={args.lr_delays}")
    return out


def run(args) -> int:
    if args.threads is not None:
        if args.threads < 1:
            raise UsageError(f"--threads must be >= 1 (got {args.threads})")
        import numba

        numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    if args.resume and not os.path.isfile(args.resume):
        raise UsageError(f"no checkpoint {args.resume!r}")
    net = load(args, overrides_from(args))
    from simcore.learning.eventprop import BufferOverflow
    from simcore.learning.trainer import CheckpointError, Trainer

    out_dir = args.output or f"train_{net.name}"
    from simcore.egru.network import is_gated

    gated = is_gated(net)
    if args.dense_gru and not gated:
        raise UsageError("--dense-gru applies to event-gated (egru) netlists only")
    if gated:
        from simcore.egru.training import EgruTrainer

        trainer = EgruTrainer(net, dense=args.dense_gru)
        cfg = trainer.cfg
        print(f"{net.name}: training {', '.join(cfg.params)} of {', '.join(cfg.projections)} on "
              f"{trainer.splits.description}; {'dense GRU, ' if args.dense_gru else ''}surrogate-gradient BPTT, "
              f"cross-entropy (reg_activity {cfg.reg_activity:g}), {cfg.epochs} epochs of batches of "
              f"{cfg.batch_size}", file=sys.stderr)
    else:
        trainer = Trainer(net)
        cfg = trainer.cfg
        print(f"{net.name}: training {cfg.params} of {', '.join(cfg.projections)} on {trainer.splits.description}; "
              f"estimator {cfg.estimator}, loss {cfg.loss.kind}, {cfg.epochs} epochs of batches of {cfg.batch_size}",
              file=sys.stderr)
    try:
        summary = trainer.fit(out_dir, progress=not args.quiet, resume=args.resume, checkpoint=args.checkpoint)
    except CheckpointError as exc:
        raise UsageError(str(exc)) from None
    except BufferOverflow as exc:
        raise UsageError(str(exc)) from None
    kept = "" if summary["selected_epoch"] == summary["epochs"] else \
        f" (kept: epoch {summary['selected_epoch']}, best validation)"
    print(f"{net.name}: {summary['epochs']} epochs{kept}, validation accuracy {100 * summary['val_acc']:.2f} %, "
          f"test accuracy {100 * summary['test_acc']:.2f} %, {summary['test_spikes_per_sample']:.1f} hidden spikes "
          f"per sample, {summary['mean_epoch_seconds']:.2f} s per epoch")
    print(f"  trained netlist {summary['trained_netlist']}; metrics {summary['metrics']}; "
          f"checkpoint {summary['checkpoint']}")
    if gated:
        print(f"  hidden units silent per step (test): {100 * summary['test_silent_fraction']:.2f} %; "
              f"{summary['test_hidden_units_without_events']} of {summary['hidden_units']} sent no event")
    return 0
