"""evsim plot: a raster plot with population rates, from a results file."""
from __future__ import annotations

import os

import numpy as np

from ..cli import UsageError


def add_parser(sub):
    p = sub.add_parser("plot", help="raster plot and population rates of a results file (PNG)",
                       description="Draws one raster per population (neuron index against time) with its "
                                   "population rate below, from a file written by `evsim run -o`.")
    p.add_argument("results", help="results file (.npz) written by evsim run -o")
    p.add_argument("-o", "--output", metavar="PNG", help="image file (default: the results name with .png)")
    p.add_argument("--bin", default=5.0, type=float, metavar="MS", help="rate histogram bin in ms (default 5)")
    p.add_argument("--max-neurons", default=2000, type=int,
                   help="draw at most this many neurons per population (default 2000)")
    p.set_defaults(func=run)


def run(args) -> int:
    from backends.result import Result

    if not os.path.isfile(args.results):
        raise UsageError(f"{args.results}: file not found")
    try:
        result = Result.load(args.results)
    except (OSError, ValueError, KeyError) as exc:
        raise UsageError(f"{args.results}: not an evsim results file ({exc})") from None
    out = args.output or os.path.splitext(args.results)[0] + ".png"
    draw(result, out, args.bin * 1e-3, args.max_neurons)
    print(f"wrote {out}")
    return 0


def draw(result, path: str, bin_width: float, max_neurons: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from netspec.atomic import replacing

    pops = [p for p in result.spikes]
    if not pops:
        raise UsageError("the results hold no spikes to draw (record.spikes was empty)")
    t_end = result.meta.get("simulated") or result.meta.get("duration") or 1.0
    fig, axes = plt.subplots(2 * len(pops), 1, figsize=(9, 2.6 * len(pops) + 0.6), sharex=True,
                             gridspec_kw={"height_ratios": [3, 1] * len(pops)}, squeeze=False)
    bins = np.arange(0.0, t_end + bin_width, bin_width)
    for k, pop in enumerate(pops):
        times, ids = result.spikes[pop]
        size = int(result.counters.get(pop, {}).get("neurons", (ids.max() + 1) if ids.size else 1))
        shown = ids < max_neurons
        ax = axes[2 * k, 0]
        ax.plot(times[shown] * 1e3, ids[shown], ",k" if times.size > 20000 else ".k", markersize=1.5)
        ax.set_ylabel(f"{pop}\nneuron")
        ax.set_ylim(-0.5, min(size, max_neurons) - 0.5)
        rate = np.histogram(times, bins)[0] / (size * bin_width)
        ax_r = axes[2 * k + 1, 0]
        ax_r.step(bins[:-1] * 1e3, rate, where="post", color="tab:blue")
        ax_r.set_ylabel("Hz")
    axes[-1, 0].set_xlabel("time (ms)")
    axes[-1, 0].set_xlim(0, t_end * 1e3)
    title = f"{result.meta.get('netlist', '')} ({result.backend}, {result.meta.get('mode', '')} mode)"
    if result.partial:
        title += " - partial"
    fig.suptitle(title)
    fig.tight_layout()
    with replacing(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=110)
    plt.close(fig)
