"""evsim compare: run one netlist on two backends and compare their spikes.

    evsim compare model.yaml --against brian2                 # the event engine vs Brian2, grid mode
    evsim compare model.yaml --against brian2 --dt 0.05ms --json report.json
    evsim compare model.yaml --against brian2 --mode exact    # the exact engine vs Brian2's grid run

Both backends simulate the same expanded arrays (connectivity, weights, delays, source trains).
The comparison runs in grid mode unless --mode exact is given, whatever the netlist's
time.mode: Brian2 simulates on a grid only, and grid mode is where the two agree spike for spike
(docs/semantics.md); an exact-mode netlist without time.dt gets the Brian2 backend's default step.
With --mode exact the exact engine's spike times differ from Brian2's grid times by the grid's
rounding, which accumulates from neuron to neuron, so the automatic verdict is statistical there.
Exit status: 0 the backends agree, 1 they disagree, 2 bad input (or a backend cannot run).
"""
from __future__ import annotations

import json

import sys

import backends
import netspec
from backends import compare as C
from netspec.atomic import write_text
from netspec.units import TIME, UnitError, parse_quantity

from .common import add_netlist_args, load


def add_parser(sub):
    p = sub.add_parser("compare", help="run a netlist on two backends and compare the spikes (exit 1 if they disagree)",
                       description="Runs the netlist on two backends (default: the event engine against Brian2) "
                                   "and prints, per population, spike counts, spikes matched one to one within a "
                                   "tolerance, the first divergence, the van Rossum distance, and mean rates and "
                                   "ISI CVs with 95 %% confidence intervals, then a verdict: spike for spike, or "
                                   "statistical (rates within 5 %%, CVs within 10 %%). --verdict auto picks "
                                   "statistical when a population of more than 100 neurons is on a cycle of "
                                   "projections (possibly chaotic).")
    add_netlist_args(p)
    p.add_argument("--against", default="brian2", choices=sorted(backends.BACKENDS),
                   help="the reference backend (default: brian2)")
    p.add_argument("--with", dest="with_", default="event", choices=sorted(backends.BACKENDS),
                   help="the backend under test (default: event)")
    p.add_argument("--mode", choices=("grid", "exact"),
                   help="time mode of the comparison (default: grid, whatever the netlist's time.mode; exact "
                        "runs the exact engine against Brian2's grid run and compares statistically)")
    p.add_argument("--dt", metavar="TIME", help="override time.dt (e.g. 0.1ms)")
    p.add_argument("--duration", metavar="TIME", help="override time.duration (e.g. 200ms)")
    p.add_argument("--tolerance", metavar="TIME",
                   help="spike matching tolerance (default: dt/2 in grid mode, one grid step in exact mode)")
    p.add_argument("--verdict", choices=("auto", "spikes", "stats"), default="auto",
                   help="spikes: every spike matched; stats: rates and CVs; auto: stats if recurrent and large")
    p.add_argument("--tau", metavar="TIME", default="10ms", help="van Rossum time constant (default: 10ms)")
    p.add_argument("--target", choices=("numpy", "cython", "cpp_standalone"), default=None,
                   help="Brian2 code generation target (default: the backend's, numpy)")
    p.add_argument("--json", metavar="FILE", help="write the full report as JSON")
    p.add_argument("--dt-sweep", metavar="DTS",
                   help="instead of two backends: the exact engine against the grid engine at each of these "
                        "steps (comma-separated, e.g. 0.1ms,0.01ms,0.001ms), showing the spike-time error "
                        "falling with dt (a report: exit 0)")
    p.set_defaults(func=run)


def _time_arg(text: str, what: str) -> float:
    from evsim.cli import UsageError

    try:
        value, dim, has_unit = parse_quantity(str(text))
    except (UnitError, ValueError) as exc:
        raise UsageError(f"{what}: cannot read {text!r} as a time ({exc})") from None
    if has_unit and dim != TIME:   # a plain number is seconds, as in netlists
        raise UsageError(f"{what}: expected a time such as 0.05ms (got {text!r})")
    if not value >= 0:
        raise UsageError(f"{what}: must be >= 0 (got {text!r})")
    return float(value)


def run(args) -> int:
    tolerance = None if args.tolerance is None else _time_arg(args.tolerance, "--tolerance")
    tau = _time_arg(args.tau, "--tau")
    if tau <= 0:
        from evsim.cli import UsageError

        raise UsageError(f"--tau must be > 0 (got {args.tau!r})")
    extra = []
    for key, value in (("mode", args.mode), ("dt", args.dt), ("duration", args.duration)):
        if value is not None:
            extra.append(f"time.{key}={value}")
    mode_note = None
    if args.dt_sweep is not None:
        return _dt_sweep(args, [e for e in extra if not e.startswith(("time.mode=", "time.dt="))])
    probe = netspec.load(args.netlist, overrides=list(args.overrides))
    from simcore.egru.network import is_gated

    if is_gated(probe):
        print(f"evsim compare: {args.netlist}: event-gated units (egru) and sequence inputs run on evsim's gated "
              f"engine only and have no Brian2 (or other backend) translation to compare with; their check is the "
              f"dense step-by-step reference (simcore/egru/reference.py, tests/simcore/test_egru.py)", file=sys.stderr)
        return 2
    if args.mode is None:
        # Brian2 runs on a grid: compare in grid mode, where the backends agree spike for spike
        probe = netspec.load(args.netlist, overrides=list(args.overrides) + extra)
        if probe.time.mode != netspec.GRID:
            extra.append("time.mode=grid")
            if probe.time.dt is None:
                from backends.brian2 import DEFAULT_EXACT_DT

                extra.append(f"time.dt={DEFAULT_EXACT_DT!r}")
            mode_note = "exact-mode netlist compared in grid mode (--mode exact compares the exact engine)"
    net = load(args, extra)
    if mode_note:
        print(f"evsim compare: {mode_note}, dt {net.time.dt * 1e3:g} ms", file=sys.stderr)
    arrays = netspec.expand(net)
    results = {}
    for role, name in (("a", args.with_), ("b", args.against)):
        options = {}
        if name == "brian2" and args.target:
            options["target"] = args.target
        try:
            module = backends.get(name)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith(backends.BACKENDS[name]):
                print(f"evsim compare: the {name} backend is not available ({backends.BACKENDS[name]} is missing)",
                      file=sys.stderr)
                return 2
            raise
        print(f"running {name} ...", file=sys.stderr)
        try:
            results[role] = module.run(arrays, **options)
        except backends.BackendError as exc:
            print(f"evsim compare: {exc}", file=sys.stderr)
            return 2
    label_a, label_b = _labels(args.with_, args.against)
    report = C.compare(results["a"], results["b"], arrays, verdict=args.verdict, tolerance=tolerance, tau=tau,
                       label_a=label_a, label_b=label_b)
    if mode_note:
        report.notes.append(mode_note)
    print(report.to_text())
    for label, r in ((label_a, results["a"]), (label_b, results["b"])):
        m = r.meta
        if "wall_seconds" in m:
            extra_t = f", run {m['run_seconds']:.3g} s" if "run_seconds" in m else ""
            print(f"{label}: wall {m['wall_seconds']:.3g} s{extra_t}", file=sys.stderr)
    if args.json:
        write_text(args.json, report.to_json() + "\n")
    return 0 if report.passed else 1


def _dt_sweep(args, extra) -> int:
    from evsim.cli import UsageError

    texts = [x.strip() for x in args.dt_sweep.split(",") if x.strip()]
    dts = [_time_arg(x, "--dt-sweep") for x in texts]
    if not dts or min(dts) <= 0:
        raise UsageError(f"--dt-sweep: give one or more steps > 0, e.g. 0.1ms,0.01ms (got {args.dt_sweep!r})")
    exact_net = load(args, extra + ["time.mode=exact"])
    from simcore.egru.network import is_gated

    if is_gated(exact_net):
        raise UsageError(f"--dt-sweep: {args.netlist} has event-gated units, which run in steps only")
    if any(p.model == "poisson" for p in exact_net.populations.values()):
        print("evsim compare: Poisson sources draw their spikes differently in exact and grid mode; the sweep "
              "is only meaningful for deterministic inputs", file=sys.stderr)
    exact_arrays = netspec.expand(exact_net)
    print("running event (exact) ...", file=sys.stderr)
    exact = backends.run(exact_arrays)
    grids = {}
    for text, dt in zip(texts, dts):
        print(f"running event (grid, dt {dt * 1e3:g} ms) ...", file=sys.stderr)
        grids[dt] = backends.run(netspec.expand(load(args, extra + ["time.mode=grid", f"time.dt={text}"])))
    rows = C.grid_convergence(exact, grids, exact_arrays)
    print(f"{args.netlist}: the grid engine at each dt against the exact engine; each neuron's k-th spikes "
          f"paired, their time error")
    print(C.convergence_table(rows))
    if args.json:
        from dataclasses import asdict

        write_text(args.json, json.dumps({"netlist": args.netlist, "rows": [asdict(r) for r in rows]}, indent=2) + "\n")
    return 0


def _labels(a: str, b: str) -> tuple[str, str]:
    if a == b:
        return f"{a}(1)", f"{b}(2)"
    return a, b
