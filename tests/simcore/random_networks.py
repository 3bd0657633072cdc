"""Random small netlists for comparing the compiled engine with the reference engine."""
from __future__ import annotations

import numpy as np

MODELS = ("lif_exp", "lif", "if", "alif")


def _q(x, unit):
    return f"{x:.6g} {unit}"


def neuron_params(rng, model):
    """Parameters that make neurons fire now and then (not silent, not saturated)."""
    if model == "if":
        return {"tau_m": _q(rng.uniform(5, 30), "ms"), "v_th": "1 V", "v_reset": "0 V",
                "t_ref": _q(rng.choice([0.0, rng.uniform(0.5, 3)]), "ms"),
                "i_bias": _q(rng.uniform(-0.2, 0.4), "V")}
    p = {"tau_m": _q(rng.uniform(8, 30), "ms"), "e_l": "0 V", "v_th": "1 V",
         "v_reset": _q(rng.uniform(-0.3, 0.2), "V"), "t_ref": _q(rng.choice([0.0, rng.uniform(0.5, 4)]), "ms"),
         "i_bias": _q(rng.uniform(0.3, 1.3), "V")}
    if model in ("lif_exp", "alif"):
        p["tau_exc"] = _q(rng.uniform(1, 8), "ms")
        p["tau_inh"] = _q(rng.uniform(2, 12), "ms")
    if model == "alif":
        p["tau_a"] = _q(rng.uniform(20, 200), "ms")
        p["beta"] = _q(rng.uniform(0.0, 0.3), "V")
    return p


def random_netlist(seed: int, mode: str = "exact", duration_ms: float = 150.0, max_neurons: int = 12,
                   zero_delays: bool = True) -> str:
    """YAML text of a random network: a source and 1-3 neuron populations, random projections
    (recurrent ones with positive delays; zero delays only feed forward)."""
    rng = np.random.default_rng(seed)
    lines = [f"name: rand{seed}", f"seed: {seed}",
             f"time: {{duration: {duration_ms} ms, mode: {mode}, dt: 0.1 ms}}", "populations:"]
    n_src = int(rng.integers(2, 8))
    if rng.random() < 0.5:
        lines.append(f"  src: {{size: {n_src}, model: poisson, params: {{rate: {rng.uniform(20, 120):.4g} Hz}}}}")
    else:
        times, ids = [], []
        for i in range(n_src):
            t = np.sort(rng.uniform(0, duration_ms, rng.integers(2, 12)))
            if mode == "grid":  # one spike per step at most, as Brian2 requires
                t = np.unique(np.round(t, 1))
            times += [f"{x:.4f} ms" for x in t]
            ids += [i] * len(t)
        lines.append(f"  src: {{size: {n_src}, model: spike_times, spikes: {{times: [{', '.join(times)}], "
                     f"ids: [{', '.join(map(str, ids))}]}}}}")
    pops = []
    for k in range(int(rng.integers(1, 4))):
        model = MODELS[int(rng.integers(len(MODELS)))]
        size = int(rng.integers(1, max_neurons + 1))
        name = f"p{k}"
        pops.append((name, model, size))
        params = ", ".join(f"{a}: {b}" for a, b in neuron_params(rng, model).items())
        lines.append(f"  {name}:\n    size: {size}\n    model: {model}\n    params: {{{params}}}")
        lines.append(f"    init: {{v: {{uniform: [0 V, 0.9 V]}}}}")
    lines.append("projections:")
    # the source drives the first population; then random feed-forward and recurrent projections
    order = ["src"] + [p[0] for p in pops]
    edges = [("src", pops[0][0])]
    for a in order:
        for b, _, _ in pops:
            if (a, b) != ("src", pops[0][0]) and rng.random() < 0.45:
                edges.append((a, b))
    for a, b in edges:
        forward = order.index(a) < order.index(b)
        if zero_delays and forward and rng.random() < 0.3:
            delay = "0 ms"
        elif rng.random() < 0.5:
            delay = _q(rng.uniform(0.2, 5.0) if mode == "exact" else round(rng.uniform(0.2, 5.0), 1), "ms")
        else:
            lo = rng.uniform(0.1, 2.0)
            delay = f"{{uniform: [{lo:.3f} ms, {lo + rng.uniform(0.5, 6):.3f} ms]}}"
        # recurrent excitation is kept moderate: a runaway network says nothing more than a
        # lively one and makes the pure-Python reference crawl
        w_max = 0.8 if a != b else 0.35
        w = rng.uniform(0.1, w_max) * (1 if rng.random() < 0.75 else -1)
        explicit = rng.random() < 0.5
        p = rng.uniform(0.3, 1.0)
        if a == b and w > 0:
            # one spike must not bring on more than 0.8 threshold's worth of input on average,
            # or with t_ref = 0 the activity grows without bound (a branching ratio above 1)
            w = min(w, 0.8 / (p * dict((n, s) for n, _, s in pops)[a]))
        port = "exc" if w > 0 else "inh"
        if explicit:
            weight = _q(w, "V")
        else:
            weight = f"{{uniform: [{min(w, w * 0.5):.4f} V, {max(w, w * 0.5):.4f} V]}}"
        lines.append(f"  - {{from: {a}, to: {b}, connect: {{probability: {p:.3f}}}, "
                     f"weight: {weight}, delay: {delay}, port: {port}}}")
    lines.append("record: {spikes: all}")
    return "\n".join(lines) + "\n"
