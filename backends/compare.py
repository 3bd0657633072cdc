"""Comparing two Results of the same netlist, population by population.

    report = backends.compare.compare(result_a, result_b, arrays)    # arrays: Expanded or Netlist
    report.passed, print(report.to_text()), report.to_json()

What is measured, per population whose spikes both results hold:

- **counts** of spikes in each result;
- **one-to-one matching** of spikes, neuron by neuron, within a tolerance (default: half a step in
  grid mode; in exact mode one step of the grid run, ``meta["dt"]`` of either result, else 0.1 ms).
  Each neuron's two sorted trains are merged: the earliest remaining spike of either train is
  matched to the earliest remaining spike of the other if they are within the tolerance, else it
  stays unmatched. This greedy merge finds a matching of *maximum size* (exchange argument: the
  earliest spike of both trains can always be matched to the earliest partner in range), in
  O(n_a + n_b). Reported: matched pairs, unmatched spikes of each side, the fraction matched
  ``matched / max(n_a, n_b)`` (1 when both are empty), the largest and mean |dt| of matched pairs,
  and the **first divergence**, the earliest time of an unmatched spike on either side;
- the **van Rossum distance** (tau = 10 ms by default) per neuron,
  ``D^2 = (2/tau) int (f - g)^2 dt`` with f, g the trains convolved with exp(-t/tau): an isolated
  extra spike adds 1 to D^2, so D^2 counts "unmatched spikes" softly. Reported: the mean of D
  over neurons, and ``sum D^2 / (n_a + n_b)`` (0 for identical trains, about 1 when no spike has
  a partner within a few tau);
- **mean rate** (spikes per neuron per second over the compared time) and **mean CV of the
  inter-spike intervals** (over neurons with at least 3 spikes), each with a 95 % confidence
  interval from the normal approximation over neurons: mean +- 1.96 sd / sqrt(n).

Verdicts: ``"spikes"`` (spike for spike) passes when every spike of every compared population is
matched; ``"stats"`` (statistical) passes when every population's mean rate is within 5 % and its
mean CV within 10 % of the reference's (result b; a CV that neither result can compute is not
tested; CVs within 0.01 of each other pass, so that regular firing, CV ~ 0, is not judged on
rounding noise). ``"auto"`` chooses statistical when the network may be chaotic, which is hard to detect:
when some population of more than 100 neurons lies on a cycle of the population graph (recurrent
projections), and spike for spike otherwise; and statistical when an exact-mode netlist's exact
run is compared with a grid run (Brian2's): their spike times differ by the grid's rounding, which
accumulates along chains of neurons. The report says which test was used and why.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

import numpy as np
from numba import njit

from .result import Result

SPIKES, STATS, AUTO = "spikes", "stats", "auto"
VERDICTS = (AUTO, SPIKES, STATS)
NAMES = {SPIKES: "spike-for-spike", STATS: "statistical"}
DEFAULT_TAU = 10e-3
RATE_TOL = 0.05
CV_TOL = 0.10
CV_ABS = 0.01            # CVs this close pass whatever their ratio (regular firing: CV ~ 0 on both sides)
CHAOS_MIN_SIZE = 100     # auto: populations above this size on a cycle count as possibly chaotic
Z95 = 1.959963984540054


# ----------------------------------------------------------------------------- report
@dataclass
class PopulationComparison:
    name: str
    size: int
    source: bool
    n_a: int
    n_b: int
    matched: int
    unmatched_a: int
    unmatched_b: int
    fraction_matched: float
    first_divergence: float | None     # seconds; None if every spike matched
    max_abs_dt: float | None
    mean_abs_dt: float | None
    van_rossum_mean: float
    van_rossum_norm: float
    rate_a: float
    rate_a_ci: tuple
    rate_b: float
    rate_b_ci: tuple
    rate_rel_diff: float
    cv_a: float | None
    cv_a_ci: tuple | None
    cv_b: float | None
    cv_b_ci: tuple | None
    cv_rel_diff: float | None
    cv_neurons_a: int
    cv_neurons_b: int
    spikes_pass: bool
    stats_pass: bool


@dataclass
class Report:
    label_a: str
    label_b: str
    verdict: str                       # "spikes" or "stats": the test used
    reason: str                        # why that test
    tolerance: float
    tau: float
    horizon: float                     # spikes compared in [0, horizon)
    populations: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    meta_a: dict = field(default_factory=dict)
    meta_b: dict = field(default_factory=dict)
    rate_tol: float = RATE_TOL
    cv_tol: float = CV_TOL

    @property
    def passed(self) -> bool:
        key = "spikes_pass" if self.verdict == SPIKES else "stats_pass"
        return all(getattr(p, key) for p in self.populations)

    @property
    def test_name(self) -> str:
        return NAMES[self.verdict]

    def to_dict(self) -> dict:
        """Plain data; infinite relative differences (a silent reference) become None."""
        return _finite({
            "passed": self.passed,
            "verdict": self.verdict,
            "test": self.test_name,
            "reason": self.reason,
            "a": self.label_a,
            "b": self.label_b,
            "tolerance": self.tolerance,
            "tau": self.tau,
            "horizon": self.horizon,
            "rate_tol": self.rate_tol,
            "cv_tol": self.cv_tol,
            "populations": [asdict(p) for p in self.populations],
            "notes": list(self.notes),
            "meta_a": self.meta_a,
            "meta_b": self.meta_b,
        })

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False, default=_jsonable, allow_nan=False)

    def to_text(self) -> str:
        a, b = self.label_a, self.label_b
        lines = [f"{a} vs {b}: {self.test_name} test ({self.reason})",
                 f"tolerance {_ms(self.tolerance)}, van Rossum tau {_ms(self.tau)}, spikes in [0, {_ms(self.horizon)})"]
        head = ["population", "size", f"spikes {a}", f"spikes {b}", "matched", "first diverg.", "max |dt|",
                "vR mean", f"rate {a} (Hz)", f"rate {b} (Hz)", "d rate", f"CV {a}", f"CV {b}", "d CV", "ok"]
        rows = []
        for p in self.populations:
            ok = p.spikes_pass if self.verdict == SPIKES else p.stats_pass
            rows.append([
                p.name + (" (source)" if p.source else ""), str(p.size), str(p.n_a), str(p.n_b),
                f"{100 * p.fraction_matched:.2f} %",
                "-" if p.first_divergence is None else _ms(p.first_divergence),
                "-" if p.max_abs_dt is None else _ms(p.max_abs_dt),
                f"{p.van_rossum_mean:.3g}",
                _ci(p.rate_a, p.rate_a_ci), _ci(p.rate_b, p.rate_b_ci),
                _pct(p.rate_rel_diff),
                "-" if p.cv_a is None else _ci(p.cv_a, p.cv_a_ci, 3),
                "-" if p.cv_b is None else _ci(p.cv_b, p.cv_b_ci, 3),
                "-" if p.cv_rel_diff is None else _pct(p.cv_rel_diff),
                "yes" if ok else "NO",
            ])
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
        fmt = lambda cells: "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))
        lines.append(fmt(head))
        lines.append("  ".join("-" * w for w in widths))
        lines.extend(fmt(r) for r in rows)
        for p in self.populations:
            if p.unmatched_a or p.unmatched_b:
                lines.append(f"{p.name}: {p.unmatched_a} spikes of {a} and {p.unmatched_b} of {b} unmatched; "
                             f"first at {_ms(p.first_divergence)}")
        for note in self.notes:
            lines.append(f"note: {note}")
        if self.verdict == SPIKES:
            crit = "every spike matched within the tolerance"
        else:
            crit = (f"mean rate within {100 * self.rate_tol:g} % and mean CV within {100 * self.cv_tol:g} % of "
                    f"{b}'s (95 % confidence intervals over neurons in brackets)")
        lines.append(f"{'AGREE' if self.passed else 'DISAGREE'} ({crit})")
        return "\n".join(lines)


def _finite(x):
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    if isinstance(x, (float, np.floating)) and not math.isfinite(x):
        return None
    return x


def _ms(t) -> str:
    return "-" if t is None else f"{t * 1e3:.6g} ms"


def _pct(x) -> str:
    return "inf" if x is None or math.isinf(x) else f"{100 * x:.2f} %"


def _ci(m, ci, digits=4) -> str:
    if ci is None:
        return f"{m:.{digits}g}"
    return f"{m:.{digits}g} [{ci[0]:.{digits}g}, {ci[1]:.{digits}g}]"


def _jsonable(x):
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


# ----------------------------------------------------------------------------- compare
def compare(a: Result, b: Result, netlist, *, verdict: str = AUTO, tolerance: float | None = None,
            tau: float = DEFAULT_TAU, populations=None, rate_tol: float = RATE_TOL, cv_tol: float = CV_TOL,
            label_a: str | None = None, label_b: str | None = None) -> Report:
    """Compares Result ``a`` with the reference ``b`` of the same netlist (a netspec.Netlist or
    Expanded); see the module doc. ``populations`` limits the comparison to these names."""
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {', '.join(VERDICTS)} (got {verdict!r})")
    arrays = netlist if hasattr(netlist, "netlist") else None
    net = arrays.netlist if arrays is not None else netlist
    if not tau > 0:
        raise ValueError(f"tau must be > 0 (got {tau!r})")
    notes = []
    tolerance, tol_note = _tolerance(net, a, b, tolerance)
    if tol_note:
        notes.append(tol_note)
    horizon = min(_simulated(a, net), _simulated(b, net))
    for r, lab in ((a, label_a or a.backend), (b, label_b or b.backend)):
        if r.partial:
            notes.append(f"{lab} is partial (stopped at {_ms(_simulated(r, net))}): spikes compared up to "
                         f"{_ms(horizon)}")
    names = [n for n in net.populations if n in a.spikes and n in b.spikes]
    if populations is not None:
        unknown = [n for n in populations if n not in net.populations]
        if unknown:
            raise ValueError(f"unknown population(s): {', '.join(unknown)}")
        names = [n for n in names if n in populations]
    for n in net.populations:
        if (populations is None or n in populations) and (n in a.spikes) != (n in b.spikes):
            notes.append(f"population {n!r}: spikes recorded by only one result, not compared")
    if verdict == AUTO:
        verdict, reason = auto_verdict(net, arrays)
        if verdict == SPIKES and net.time.mode == "exact" and _on_grid(a) != _on_grid(b):
            verdict, reason = STATS, ("an exact-mode run against a grid run: spike times differ by the grid's "
                                      "rounding, which accumulates from neuron to neuron, so compared "
                                      "statistically (compare in grid mode for spike for spike)")
    else:
        reason = "chosen by the caller"
    pops = []
    from netspec.registry import get as get_model

    for name in names:
        pop = net.populations[name]
        is_source = get_model(pop.model).kind == "source"
        pops.append(_compare_population(name, pop.size, is_source, a.spikes[name], b.spikes[name], horizon,
                                        tolerance, tau, rate_tol, cv_tol))
    if not names:
        notes.append("no population's spikes are held by both results: nothing compared")
    return Report(label_a or a.backend, label_b or b.backend, verdict, reason, tolerance, tau, horizon, pops, notes,
                  dict(a.meta), dict(b.meta), rate_tol, cv_tol)


def _on_grid(r: Result) -> bool:
    """Whether a result was simulated on a time grid (Brian2 always is; the event engine in grid mode)."""
    m = r.meta
    return m.get("mode") == "grid" or m.get("backend", r.backend) == "brian2" or "dt_source" in m


def _simulated(r: Result, net) -> float:
    t = r.meta.get("simulated")
    return float(t) if t else float(net.time.duration)


def _tolerance(net, a, b, tolerance):
    dts = [float(r.meta["dt"]) for r in (a, b) if r.meta.get("dt")]
    if tolerance is not None:
        if not tolerance >= 0:
            raise ValueError(f"tolerance must be >= 0 (got {tolerance!r})")
        return float(tolerance), None
    if net.time.mode == "grid":
        return 0.5 * net.time.dt, None
    step = max(dts) if dts else (net.time.dt or 1e-4)
    return step, (f"exact-mode netlist: spikes matched within one step of the grid run ({_ms(step)}); "
                  f"--tolerance changes it")


def auto_verdict(net, arrays=None) -> tuple[str, str]:
    """("stats", why) if some population of more than 100 neurons lies on a cycle of the
    population graph, else ("spikes", why)."""
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(net.populations)
    projs = arrays.projections if arrays is not None else net.projections
    for proj in projs:
        if arrays is not None and proj.size == 0:
            continue
        pre = proj.pre_pops if arrays is not None else proj.pre
        post = proj.post_pops if arrays is not None else proj.post
        for p in pre:
            for q in post:
                g.add_edge(p, q)
    on_cycle = set()
    for comp in nx.strongly_connected_components(g):
        if len(comp) > 1:
            on_cycle |= comp
        else:
            (n,) = comp
            if g.has_edge(n, n):
                on_cycle.add(n)
    big = [n for n in net.populations if n in on_cycle and net.populations[n].size > CHAOS_MIN_SIZE]
    if big:
        desc = ", ".join(f"{n!r} ({net.populations[n].size} neurons)" for n in big)
        return STATS, (f"recurrent: {desc} on a cycle of projections, possibly chaotic, so compared statistically")
    return SPIKES, (f"no population of more than {CHAOS_MIN_SIZE} neurons is on a cycle of projections, "
                    f"so compared spike for spike")


def _trains_csr(spikes, size, horizon):
    """Spike times sorted by (neuron, time) and the neuron bounds, spikes at t < horizon."""
    times, ids = spikes
    times = np.asarray(times, dtype=np.float64)
    ids = np.asarray(ids, dtype=np.int64)
    keep = times < horizon
    times, ids = times[keep], ids[keep]
    if ids.size and (ids.min() < 0 or ids.max() >= size):
        raise ValueError(f"neuron ids out of range (population of {size})")
    order = np.lexsort((times, ids))
    times, ids = times[order], ids[order]
    bounds = np.searchsorted(ids, np.arange(size + 1))
    return np.ascontiguousarray(times), bounds.astype(np.int64)


def _compare_population(name, size, is_source, sa, sb, horizon, tol, tau, rate_tol, cv_tol):
    ta, ba = _trains_csr(sa, size, horizon)
    tb, bb = _trains_csr(sb, size, horizon)
    ma, mb, dmax, dsum = _match(ta, ba, tb, bb, tol)
    matched = int(ma.sum())
    n_a, n_b = int(ta.size), int(tb.size)
    ua, ub = n_a - matched, n_b - matched
    first = None
    if ua or ub:
        first = float(min(ta[~ma].min() if ua else math.inf, tb[~mb].min() if ub else math.inf))
    frac = 1.0 if max(n_a, n_b) == 0 else matched / max(n_a, n_b)
    d2 = _van_rossum_sq(ta, ba, tb, bb, tau)
    vr_mean = float(np.sqrt(d2).mean()) if size else 0.0
    vr_norm = float(d2.sum() / (n_a + n_b)) if n_a + n_b else 0.0
    rate_a, rate_a_ci = _mean_ci(np.diff(ba) / horizon)
    rate_b, rate_b_ci = _mean_ci(np.diff(bb) / horizon)
    cvs_a, cvs_b = _cvs(ta, ba), _cvs(tb, bb)
    cv_a, cv_a_ci = _mean_ci(cvs_a) if cvs_a.size else (None, None)
    cv_b, cv_b_ci = _mean_ci(cvs_b) if cvs_b.size else (None, None)
    rate_rel = _rel(rate_a, rate_b)
    cv_rel = None if cv_a is None and cv_b is None else (math.inf if cv_a is None or cv_b is None else _rel(cv_a, cv_b))
    cv_ok = cv_rel is None or cv_rel <= cv_tol or (cv_a is not None and cv_b is not None and abs(cv_a - cv_b) <= CV_ABS)
    stats_pass = rate_rel <= rate_tol and cv_ok
    return PopulationComparison(
        name, int(size), bool(is_source), n_a, n_b, matched, ua, ub, frac, first,
        float(dmax) if matched else None, float(dsum / matched) if matched else None,
        vr_mean, vr_norm, rate_a, rate_a_ci, rate_b, rate_b_ci, rate_rel,
        cv_a, cv_a_ci, cv_b, cv_b_ci, cv_rel, int(cvs_a.size), int(cvs_b.size),
        ua == 0 and ub == 0, bool(stats_pass))


def _rel(x, ref) -> float:
    if x == ref:
        return 0.0
    if ref == 0:
        return math.inf
    return abs(x - ref) / abs(ref)


def _mean_ci(values: np.ndarray):
    """Mean and its 95 % confidence interval (normal approximation over the values)."""
    n = values.size
    if n == 0:
        return 0.0, (0.0, 0.0)
    m = float(values.mean())
    if n == 1:
        return m, (m, m)
    half = Z95 * float(values.std(ddof=1)) / math.sqrt(n)
    return m, (m - half, m + half)


def _cvs(times, bounds) -> np.ndarray:
    """CV of the inter-spike intervals of every neuron with at least 3 spikes."""
    out = []
    for i in range(bounds.size - 1):
        lo, hi = bounds[i], bounds[i + 1]
        if hi - lo >= 3:
            isi = np.diff(times[lo:hi])
            m = isi.mean()
            if m > 0:
                out.append(isi.std() / m)
    return np.asarray(out, dtype=np.float64)


@njit(cache=True)
def _match(ta, ba, tb, bb, tol):
    """Greedy merge per neuron (maximum matching within tol); matched flags of both sides, the
    largest and the summed |dt| of the matched pairs."""
    ma = np.zeros(ta.size, dtype=np.bool_)
    mb = np.zeros(tb.size, dtype=np.bool_)
    dmax = 0.0
    dsum = 0.0
    for n in range(ba.size - 1):
        i, ie = ba[n], ba[n + 1]
        j, je = bb[n], bb[n + 1]
        while i < ie and j < je:
            d = ta[i] - tb[j]
            if abs(d) <= tol:
                ma[i] = True
                mb[j] = True
                if abs(d) > dmax:
                    dmax = abs(d)
                dsum += abs(d)
                i += 1
                j += 1
            elif d < 0:
                i += 1
            else:
                j += 1
    return ma, mb, dmax, dsum


@njit(cache=True)
def _half_sum(x, xlo, xhi, y, ylo, yhi, tau, strict):
    """sum over y_j of sum over x_i <= y_j (< if strict) of exp(-(y_j - x_i)/tau), x and y sorted."""
    total = 0.0
    acc = 0.0
    t_acc = 0.0
    i = xlo
    for j in range(ylo, yhi):
        while i < xhi and (x[i] < y[j] or (not strict and x[i] == y[j])):
            acc = acc * math.exp(-(x[i] - t_acc) / tau) + 1.0
            t_acc = x[i]
            i += 1
        if acc > 0.0:
            total += acc * math.exp(-(y[j] - t_acc) / tau)
    return total


@njit(cache=True)
def _cross(x, xlo, xhi, y, ylo, yhi, tau):
    """sum_ij exp(-|x_i - y_j|/tau) in O(n_x + n_y)."""
    return _half_sum(x, xlo, xhi, y, ylo, yhi, tau, False) + _half_sum(y, ylo, yhi, x, xlo, xhi, tau, True)


@njit(cache=True)
def _van_rossum_sq(ta, ba, tb, bb, tau):
    """D^2 per neuron, D^2 = (2/tau) int (f - g)^2 dt = S_aa + S_bb - 2 S_ab, S_xy = sum exp(-|x_i - y_j|/tau)."""
    n = ba.size - 1
    out = np.zeros(n)
    for k in range(n):
        saa = _cross(ta, ba[k], ba[k + 1], ta, ba[k], ba[k + 1], tau)
        sbb = _cross(tb, bb[k], bb[k + 1], tb, bb[k], bb[k + 1], tau)
        sab = _cross(ta, ba[k], ba[k + 1], tb, bb[k], bb[k + 1], tau)
        out[k] = max(saa + sbb - 2.0 * sab, 0.0)
    return out


@dataclass
class ConvergenceRow:
    """The grid engine at one dt against the exact engine (all populations together)."""
    dt: float
    n_exact: int
    n_grid: int
    paired: int                        # the k-th spike of a neuron in one run with its k-th in the other
    max_abs_dt: float | None           # over the paired spikes
    mean_abs_dt: float | None
    within_one_step: float             # fraction of paired spikes less than dt apart


def grid_convergence(exact: Result, grids: dict, netlist) -> list:
    """Rows of ``exact`` (an exact-mode result) against grid-mode results {dt: Result} of the same
    netlist. Each neuron's k-th spike in one run is paired with its k-th in the other: a grid run
    records a crossing at the grid point after it, and a neuron's later spikes inherit that delay
    through its reset, so the error can exceed one step but falls in proportion to dt in a network
    that is not chaotic."""
    net = netlist.netlist if hasattr(netlist, "netlist") else netlist
    rows = []
    for dt in sorted(grids, reverse=True):
        horizon = min(_simulated(exact, net), _simulated(grids[dt], net))
        n_e = n_g = paired = close = 0
        dmax, dsum = 0.0, 0.0
        for name, pop in net.populations.items():
            if name not in exact.spikes or name not in grids[dt].spikes:
                continue
            te, be = _trains_csr(exact.spikes[name], pop.size, horizon)
            tg, bg = _trains_csr(grids[dt].spikes[name], pop.size, horizon)
            n_e += int(te.size)
            n_g += int(tg.size)
            k = np.minimum(np.diff(be), np.diff(bg))          # spikes paired per neuron
            rank = np.arange(int(k.sum())) - np.repeat(np.cumsum(k) - k, k)
            d = np.abs(te[np.repeat(be[:-1], k) + rank] - tg[np.repeat(bg[:-1], k) + rank])
            if d.size:
                paired += int(d.size)
                close += int(np.count_nonzero(d < dt))
                dmax = max(dmax, float(d.max()))
                dsum += float(d.sum())
        rows.append(ConvergenceRow(dt, n_e, n_g, paired, dmax if paired else None,
                                   dsum / paired if paired else None, close / paired if paired else 1.0))
    return rows


def convergence_table(rows) -> str:
    """The rows as a text table, times in ms."""
    lines = [f"  {'dt':>10s} {'exact':>8s} {'grid':>8s} {'paired':>8s} {'max |dt|':>14s} {'mean |dt|':>14s} "
             f"{'< 1 step':>9s}"]
    for r in rows:
        lines.append(f"  {_ms(r.dt):>10s} {r.n_exact:8d} {r.n_grid:8d} {r.paired:8d} {_ms(r.max_abs_dt):>14s} "
                     f"{_ms(r.mean_abs_dt):>14s} {_pct(r.within_one_step):>9s}")
    return "\n".join(lines)
