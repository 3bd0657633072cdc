"""evsim run: simulate a netlist and print what happened."""
from __future__ import annotations

import sys
import time

import backends

from ..cli import UsageError
from .common import add_netlist_args, load


def add_parser(sub):
    p = sub.add_parser("run", help="simulate a netlist",
                       description="Simulates a netlist, prints spikes, rates, synaptic events and timings, and "
                                   "writes the results (.npz, see backends/result.py) with -o. Ctrl-C or SIGTERM "
                                   "stops the run and keeps what was simulated (the file is marked partial).")
    add_netlist_args(p)
    p.add_argument("--duration", help="simulated time, e.g. '2 s' (overrides time.duration)")
    p.add_argument("--mode", choices=("exact", "grid", "steps"), help="time mode (overrides time.mode)")
    p.add_argument("--dt", help="grid step, e.g. '0.1 ms' (overrides time.dt)")
    p.add_argument("--seed", type=int, help="seed of every random draw (overrides seed)")
    p.add_argument("--backend", default="event", help="event (default) or brian2")
    p.add_argument("-o", "--output", metavar="FILE", help="write the results to FILE (.npz)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--threads", type=int,
                   help="threads (event backend: default 1, more run the neurons in that many partitions, "
                        "same results; event-gated units: default all cores)")
    p.set_defaults(func=run)


def overrides_from(args) -> list:
    out = []
    if args.duration:
        out.append(f"time.duration={args.duration}")
    if args.mode:
        out.append(f"time.mode={args.mode}")
    if args.dt:
        out.append(f"time.dt={args.dt}")
    if args.seed is not None:
        out.append(f"seed={args.seed}")
    return out


def run(args) -> int:
    if args.backend not in backends.BACKENDS:
        raise UsageError(f"unknown backend {args.backend!r} (available: {', '.join(backends.BACKENDS)})")
    if args.output and not args.output.endswith(".npz"):
        raise UsageError(f"the output file must end in .npz (got {args.output!r})")
    if args.threads is not None and args.threads < 1:
        raise UsageError(f"--threads must be >= 1 (got {args.threads})")
    net = load(args, overrides_from(args))
    t0 = time.perf_counter()
    arrays = backends.as_expanded(net)
    expand_seconds = time.perf_counter() - t0
    bar = None if args.quiet else ProgressBar(net.time.duration, net.time.dt if net.time.mode == "steps" else None)
    try:
        backend = backends.get(args.backend)
        kw = {"progress": bar, "threads": args.threads} if args.backend == "event" else {}
        result = backend.run(arrays, **kw)
    except backends.BackendError as exc:
        raise UsageError(str(exc)) from None
    finally:
        if bar is not None:
            bar.close()
    result.meta["expand_seconds"] = expand_seconds
    if args.output:
        result.save(args.output)
    print(summary(net, arrays, result, args.output))
    return 130 if result.partial else 0


class ProgressBar:
    """A tqdm bar over simulated time with synaptic events per second (synaptic operations, the
    multiply-adds done, for event-gated units: their engine counts those); shown only for runs
    that take longer than a couple of seconds."""

    def __init__(self, duration: float, step: float | None = None):
        from tqdm import tqdm

        # steps mode (event-gated units): counted in steps of `step`, else in ms of simulated time
        self.scale, unit = (1.0 / step, "steps") if step else (1e3, "ms")
        self.rate_unit = "syn. ops/s" if step else "events/s"
        self.bar = tqdm(total=round(duration * self.scale, 6), unit=unit, unit_scale=False, delay=2.0, leave=False,
                        file=sys.stderr, bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} " + unit + " simulated "
                                                    "[{elapsed}<{remaining}{postfix}]")
        self.started = None

    def __call__(self, t, t_end, events, wall):
        if self.started is None:
            # the bar exists since before the engine compiled (or loaded): its elapsed time, ETA and
            # start delay count from the run's start instead, ``wall`` seconds ago
            self.started = self.bar._time() - wall
            self.bar.start_t = self.bar.last_print_t = self.started
        self.bar.set_postfix_str(f"{events / wall:.3g} {self.rate_unit}" if wall > 0 else "", refresh=False)
        self.bar.update(round(t * self.scale, 6) - self.bar.n)   # update() honours the start delay

    def close(self):
        self.bar.close()


def summary(net, arrays, result, output) -> str:
    meta = result.meta
    if meta.get("engine") == "gated":
        return gated_summary(net, arrays, result, output)
    lines = []
    state = "PARTIAL (interrupted)" if result.partial else "done"
    lines.append(f"{net.name}: {state}, {meta.get('simulated', 0) * 1e3:g} ms of {net.time.duration * 1e3:g} ms "
                 f"simulated in {net.time.mode} mode" + (f" (dt {net.time.dt * 1e3:g} ms)" if net.time.mode == "grid"
                                                          else "") + f", backend {result.backend}")
    lines.append(f"  {'population':14s} {'neurons':>8s} {'spikes':>10s} {'rate (Hz)':>10s} {'syn. events':>12s}")
    for name, pop in arrays.populations.items():
        c = result.counters.get(name, {})
        lines.append(f"  {name:14s} {pop.size:8d} {c.get('spikes', 0):10d} {c.get('rate_hz', 0.0):10.3f} "
                     f"{c.get('synaptic_events', 0):12d}")
    tot = result.counters.get("total", {})
    wall = meta.get("wall_seconds") or meta.get("run_seconds") or 0.0
    events = tot.get("synaptic_events", 0)
    lines.append(f"  synaptic events {events}, spikes {tot.get('spikes', 0)}, activity sparsity "
                 f"{tot.get('activity_sparsity', 1.0):.4f}")
    rate = f", {events / wall:.3g} events/s" if wall > 0 else ""
    on = f" on {meta['threads']} threads" if meta.get("threads", 1) > 1 else ""
    lines.append(f"  run {wall:.3f} s{on}{rate}; compile {meta.get('compile_seconds', 0.0):.2f} s, "
                 f"expand {meta.get('expand_seconds', 0.0):.2f} s")
    if output:
        lines.append(f"  results written to {output}" + (" (marked partial)" if result.partial else ""))
    return "\n".join(lines)


def gated_summary(net, arrays, result, output) -> str:
    """An event-gated (EGRU) run: events, activity sparsity, and synaptic operations done against
    a dense GRU's multiply-accumulates (simcore/egru/runner.py, counters)."""
    meta = result.meta
    state = "PARTIAL (interrupted)" if result.partial else "done"
    lines = [f"{net.name}: {state}, {meta.get('steps_done', 0)} of {meta.get('steps', 0)} steps simulated "
             f"(steps mode, dt {meta.get('dt', 1.0):g} s), backend {result.backend}, gated engine",
             f"  {'population':14s} {'units':>7s} {'events':>9s} {'ev/step':>8s} {'sparsity':>9s} "
             f"{'syn. ops':>11s} {'dense MACs':>12s} {'reduction':>10s}"]
    for name, pop in arrays.populations.items():
        c = result.counters.get(name, {})
        steps = max(1, meta.get("steps_done", 0))
        line = (f"  {name:14s} {pop.size:7d} {c.get('events', 0):9d} {c.get('events', 0) / steps:8.2f} "
                f"{c.get('activity_sparsity', 1.0):9.4f}")
        if "dense_ops" in c:
            line += f" {c['synaptic_ops']:11d} {int(c['dense_ops']):12d} {c['combined_reduction']:9.2f}x"
        lines.append(line + ("" if "dense_ops" in c else "   (input)"))
    tot = result.counters.get("total", {})
    gated_events = sum(c.get("events", 0) for n, c in result.counters.items() if n != "total" and "dense_ops" in c)
    lines.append(f"  events {gated_events} (event-gated units; {tot.get('events', 0) - gated_events} input values), "
                 f"activity sparsity {tot.get('activity_sparsity', 1.0):.4f}; synaptic ops {tot.get('synaptic_ops', 0)} of {int(tot.get('dense_ops', 0))} "
                 f"dense MACs")
    lines.append(f"  reduction vs dense: activity {tot.get('activity_reduction', 1.0):.2f}x, parameters "
                 f"{tot.get('parameter_reduction', 1.0):.2f}x, combined {tot.get('combined_reduction', 1.0):.2f}x; "
                 f"units computed {tot.get('unit_updates', 0)} of {tot.get('dense_unit_updates', 0)}")
    wall = meta.get("wall_seconds") or 0.0
    lines.append(f"  run {wall:.3f} s; compile {meta.get('compile_seconds', 0.0):.2f} s, "
                 f"expand {meta.get('expand_seconds', 0.0):.2f} s")
    if output:
        lines.append(f"  results written to {output}" + (" (marked partial)" if result.partial else ""))
    return "\n".join(lines)
